//! The team backend: one PostgreSQL database shared by every `payops serve`
//! replica, through tokio-postgres.
//!
//! The store's interface is synchronous (the engine and the server call it
//! under a mutex, as with SQLite), so the connections live on a small
//! runtime of their own and a call waits for its answer from there. That
//! keeps a call from any context (a tokio worker, a plain thread, a
//! current-thread test runtime) free of nested-runtime panics.
//!
//! Each connection LISTENs on `payops_changes`, which the schema's triggers
//! notify on every committed change; what other connections announce moves
//! [`Db::data_version`], so replicas see each other's writes the way SQLite
//! processes do.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{AsyncMessage, Client, Statement};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::StoreError;
use super::db::{Columns, Db, Row, Value, WriteLock};
use super::migrations::{MIGRATIONS, SCHEMA_VERSION};

/// The channel the schema's triggers notify.
pub const CHANGES_CHANNEL: &str = "payops_changes";

/// Advisory lock keys (first of the two-key form): payops' own space, so
/// another application's locks in the same database never collide.
const LOCK_SPACE_WRITE: i32 = 0x7061_7900; // "pay\0"
const LOCK_SPACE_LINK: i32 = 0x7061_7901;
const LOCK_SPACE_MIGRATE: i32 = 0x7061_7902;

/// No call waits longer than this for the database; an unreachable server
/// is an error the caller reports, not a hang.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

fn runtime() -> Result<&'static tokio::runtime::Runtime, StoreError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("payops-postgres")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| StoreError::Database(format!("cannot start the PostgreSQL runtime: {e}")))
}

/// Runs `work` on the PostgreSQL runtime and waits for it, at most
/// [`CALL_TIMEOUT`].
///
/// The answer comes back over a plain channel, not by polling the task's
/// join handle: polled from inside another tokio runtime (a server's
/// handler, a bench's `block_on`), a join handle draws on that runtime's
/// cooperative budget, which a long run of calls exhausts for good, and
/// the wait would spin forever.
pub(crate) fn wait<T, F>(work: F) -> Result<T, StoreError>
where
    F: Future<Output = Result<T, StoreError>> + Send + 'static,
    T: Send + 'static,
{
    let (done, answer) = std::sync::mpsc::sync_channel(1);
    runtime()?.spawn(async move {
        let result = match tokio::time::timeout(CALL_TIMEOUT, work).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Database(format!(
                "PostgreSQL did not answer within {} s",
                CALL_TIMEOUT.as_secs()
            ))),
        };
        let _ = done.send(result);
    });
    answer
        .recv()
        .map_err(|_| StoreError::Database("the PostgreSQL call stopped".into()))?
}

/// Parses a `postgres://` URL, with payops' connect timeout unless the URL
/// sets one. The error never repeats the URL (it may hold a password).
/// A database to connect to: tokio-postgres' settings and the TLS the URL
/// asked for.
#[derive(Clone)]
pub struct Target {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
}

/// A connection's driver, TLS or not.
type Driver = tokio_postgres::Connection<
    tokio_postgres::Socket,
    <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>>::Stream,
>;

impl Target {
    async fn connect(&self) -> Result<(Client, Driver), tokio_postgres::Error> {
        self.config.connect(self.tls.clone()).await
    }
}

impl std::fmt::Debug for Target {
    // Never the password: only where it goes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("hosts", &self.config.get_hosts())
            .field("ssl_mode", &self.config.get_ssl_mode())
            .finish_non_exhaustive()
    }
}

/// Reads a `postgres://` URL, TLS settings included (`sslmode`,
/// `sslrootcert`, `sslcert`, `sslkey`, as libpq reads them); the files they
/// name are read now, so a missing one is an error before any connection.
pub fn parse_url(url: &str) -> Result<Target, String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("must start with postgres:// or postgresql://".into());
    }
    let (rest, wanted) = super::pg_tls::split(url);
    let mut config: tokio_postgres::Config = rest
        .parse()
        .map_err(|e: tokio_postgres::Error| format!("is not a PostgreSQL URL ({e})"))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("payops");
    }
    let (mode, tls) = wanted.connector()?;
    config.ssl_mode(mode);
    Ok(Target { config, tls })
}

/// The URL as it may be shown: the password, if any, replaced by `*****`.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("*****"));
            }
            // libpq also takes the password as a parameter.
            if parsed.query_pairs().any(|(key, _)| key == "password") {
                let kept: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(key, value)| {
                        let value = if key == "password" {
                            "*****".into()
                        } else {
                            value
                        };
                        (key.into_owned(), value.into_owned())
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(kept);
            }
            parsed.to_string()
        }
        // Not a URL we can take apart: show nothing of it rather than risk
        // a password.
        Err(_) => "(a PostgreSQL URL)".into(),
    }
}

/// A PostgreSQL error as an operator needs it: the server's own message
/// and SQLSTATE (password authentication failed, no such database, too
/// many connections), or the cause under a connection error ("Connection
/// refused"), where tokio-postgres alone says "db error". Neither carries
/// the password.
pub fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Opens a connection whose notifications on [`CHANGES_CHANNEL`] from other
/// sessions count up `changes`.
async fn connect(
    target: Target,
    changes: Arc<AtomicI64>,
    signal: Arc<tokio::sync::Notify>,
) -> Result<(Client, i32), StoreError> {
    let (client, mut connection) = target.connect().await?;
    let own_pid = Arc::new(AtomicI32::new(0));
    let pid_for_driver = own_pid.clone();
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(note))
                    if note.process_id() != pid_for_driver.load(Ordering::Relaxed) =>
                {
                    changes.fetch_add(1, Ordering::Relaxed);
                    signal.notify_one();
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %describe(&error), "PostgreSQL connection lost");
                    break;
                }
            }
        }
        // A lost connection may have missed announcements: count one, so
        // whoever watches reads everything again.
        changes.fetch_add(1, Ordering::Relaxed);
        signal.notify_one();
    });
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .get(0);
    own_pid.store(pid, Ordering::Relaxed);
    client
        .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
        .await?;
    Ok((client, pid))
}

struct Connection {
    client: Arc<Client>,
    statements: HashMap<String, Statement>,
}

pub struct PgDb {
    config: Target,
    shown: String,
    changes: Arc<AtomicI64>,
    signal: Arc<tokio::sync::Notify>,
    connection: RefCell<Option<Connection>>,
}

impl PgDb {
    /// Connects to `url`. Errors name the URL with its password masked.
    pub fn connect(url: &str) -> Result<PgDb, StoreError> {
        let shown = mask_url(url);
        let config = parse_url(url).map_err(|message| StoreError::Open {
            path: shown.clone(),
            message,
        })?;
        let db = PgDb {
            config,
            shown,
            changes: Arc::new(AtomicI64::new(0)),
            signal: Arc::default(),
            connection: RefCell::new(None),
        };
        db.client().map_err(|e| db.open_error(e.to_string()))?;
        Ok(db)
    }

    fn open_error(&self, message: String) -> StoreError {
        StoreError::Open {
            path: self.shown.clone(),
            message,
        }
    }

    /// The connection, made anew when the last one was lost.
    fn client(&self) -> Result<Arc<Client>, StoreError> {
        let mut slot = self.connection.borrow_mut();
        if let Some(connection) = slot.as_ref().filter(|c| !c.client.is_closed()) {
            return Ok(connection.client.clone());
        }
        let config = self.config.clone();
        let changes = self.changes.clone();
        let (client, _pid) = wait(connect(config, changes, self.signal.clone()))?;
        let client = Arc::new(client);
        *slot = Some(Connection {
            client: client.clone(),
            statements: HashMap::new(),
        });
        Ok(client)
    }

    /// The prepared statement for `sql` (written in SQLite's dialect),
    /// prepared once per connection.
    fn statement(&self, sql: &str) -> Result<(Arc<Client>, Statement), StoreError> {
        let client = self.client()?;
        if let Some(statement) = self
            .connection
            .borrow()
            .as_ref()
            .and_then(|c| c.statements.get(sql))
        {
            return Ok((client, statement.clone()));
        }
        let text = dialect(sql);
        let preparing = client.clone();
        let statement = wait(async move { Ok(preparing.prepare(&text).await?) })?;
        if let Some(connection) = self.connection.borrow_mut().as_mut() {
            connection
                .statements
                .insert(sql.to_string(), statement.clone());
        }
        Ok((client, statement))
    }

    fn batch(&self, sql: String) -> Result<(), StoreError> {
        let client = self.client()?;
        wait(async move { Ok(client.batch_execute(&sql).await?) })
    }
}

/// SQLite's dialect, as the store writes it, in PostgreSQL's: numbered
/// parameters `?1` become `$1`, and `rowid` (insertion order) becomes the
/// `seq` column the PostgreSQL schema keeps for it.
fn dialect(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out.replace("rowid", "seq")
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Text(text) => text.as_str().to_sql(ty, out),
            Value::Int(number) => match *ty {
                Type::INT2 => i16::try_from(*number)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*number)?.to_sql(ty, out),
                Type::BOOL => (*number != 0).to_sql(ty, out),
                _ => number.to_sql(ty, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// The parameters as `tokio_postgres` takes them.
fn param_refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn row_values(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(row.len());
    for (index, column) in row.columns().iter().enumerate() {
        let value = match *column.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map(Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(index)?
                .map(|n| Value::Int(n.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(index)?
                .map(|n| Value::Int(n.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(index)?
                .map(|b| Value::Int(b.into())),
            _ => row.try_get::<_, Option<String>>(index)?.map(Value::Text),
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

impl Db for PgDb {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        super::db::timed(|| {
            let (client, statement) = self.statement(sql)?;
            let params = params.to_vec();
            wait(async move { Ok(client.execute(&statement, &param_refs(&params)).await?) })
        })
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        super::db::timed(|| {
            let (client, statement) = self.statement(sql)?;
            let params = params.to_vec();
            wait(async move {
                let rows = client.query(&statement, &param_refs(&params)).await?;
                rows.iter().map(row_values).collect()
            })
        })
    }

    /// Advisory transaction locks: the whole-store one mirrors SQLite's
    /// single writer; a link's lock lets notifies of different links run
    /// side by side while two of the same link, from any replica, queue.
    fn begin(&self, lock: WriteLock<'_>) -> Result<(), StoreError> {
        self.batch("BEGIN".into())?;
        let locked = match lock {
            WriteLock::All => self.execute(
                "SELECT pg_advisory_xact_lock(?1, 0)",
                &[Value::Int(LOCK_SPACE_WRITE.into())],
            ),
            WriteLock::Link(link) => self.execute(
                "SELECT pg_advisory_xact_lock(?1, hashtext(?2))",
                &[Value::Int(LOCK_SPACE_LINK.into()), Value::from(link)],
            ),
        };
        if let Err(error) = locked {
            self.rollback();
            return Err(error);
        }
        Ok(())
    }

    fn commit(&self) -> Result<(), StoreError> {
        self.batch("COMMIT".into())
    }

    fn rollback(&self) {
        let _ = self.batch("ROLLBACK".into());
    }

    fn data_version(&self) -> Result<i64, StoreError> {
        // Asking makes sure a lost connection is made again, so
        // announcements resume.
        self.client()?;
        Ok(self.changes.load(Ordering::Relaxed))
    }

    fn shared(&self) -> bool {
        true
    }

    fn change_signal(&self) -> Option<Arc<tokio::sync::Notify>> {
        Some(self.signal.clone())
    }

    fn is_unique_violation(&self, error: &StoreError) -> bool {
        matches!(error, StoreError::Postgres(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION))
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        let rows = self.query("SELECT COALESCE(MAX(version), 0) FROM payops_schema", &[])?;
        match super::db::first(rows) {
            Some(mut row) => row.int(0),
            None => Ok(0),
        }
    }

    fn migrate(&self) -> Result<(), StoreError> {
        self.batch("BEGIN".into())
            .map_err(|e| self.open_error(e.to_string()))?;
        let applied = (|| {
            self.execute(
                "SELECT pg_advisory_xact_lock(?1, 0)",
                &[Value::Int(LOCK_SPACE_MIGRATE.into())],
            )?;
            self.batch(
                "CREATE TABLE IF NOT EXISTS payops_schema (version BIGINT NOT NULL)".into(),
            )?;
            let version = self.schema_version()?;
            if version > SCHEMA_VERSION {
                return Err(self.open_error(super::newer_schema(version)));
            }
            for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
                let target = index as i64 + 1;
                self.batch(migration.postgres.to_string()).map_err(|e| {
                    self.open_error(format!("schema migration {target} failed: {e}"))
                })?;
                self.execute(
                    "INSERT INTO payops_schema (version) VALUES (?1)",
                    &[Value::Int(target)],
                )?;
            }
            Ok(())
        })();
        match applied {
            Ok(()) => self.commit(),
            Err(error) => {
                self.rollback();
                Err(error)
            }
        }
    }
}

/// The channel a leader letting its lease go announces on.
pub const LEADER_CHANNEL: &str = "payops_leader";

/// Hears a leader let its lease go (a planned stop), so a follower takes
/// over at once instead of at its next check.
pub struct LeaderListener {
    released: tokio::sync::mpsc::UnboundedReceiver<()>,
    _client: Arc<Client>,
}

impl LeaderListener {
    pub fn connect(url: &str) -> Result<LeaderListener, StoreError> {
        let config = parse_url(url).map_err(|message| StoreError::Open {
            path: mask_url(url),
            message,
        })?;
        let (heard, released) = tokio::sync::mpsc::unbounded_channel();
        let client = wait(async move {
            let (client, mut connection) = config.connect().await?;
            tokio::spawn(async move {
                let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                while let Some(Ok(message)) = messages.next().await {
                    if let AsyncMessage::Notification(_) = message {
                        let _ = heard.send(());
                    }
                }
            });
            client
                .batch_execute(&format!("LISTEN {LEADER_CHANNEL}"))
                .await?;
            Ok(client)
        })?;
        Ok(LeaderListener {
            released,
            _client: Arc::new(client),
        })
    }

    /// Waits for a leader to let its lease go. With the connection lost it
    /// never returns: the follower's regular check takes over then.
    pub async fn released(&mut self) {
        if self.released.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dialect_renumbers_parameters_and_names_insertion_order() {
        assert_eq!(
            dialect("SELECT a FROM t WHERE b = ?1 AND c = ?12 ORDER BY at DESC, rowid DESC"),
            "SELECT a FROM t WHERE b = $1 AND c = $12 ORDER BY at DESC, seq DESC"
        );
    }

    #[test]
    fn a_password_given_as_a_parameter_is_hidden_too() {
        let shown = mask_url("postgres://payops@db/payops?password=hunter2&sslmode=require");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("sslmode=require"), "{shown}");
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            mask_url("postgres://payops:hunter2@db.example:5432/payops"),
            "postgres://payops:*****@db.example:5432/payops"
        );
        assert_eq!(
            mask_url("postgres://db.example/payops"),
            "postgres://db.example/payops"
        );
        assert!(!mask_url("postgres://a:b@[bad").contains('b'));
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        let error = parse_url("mysql://u:secret@h/db").unwrap_err();
        assert!(!error.contains("secret"), "{error}");
        assert!(parse_url("postgres://u:secret@h:notaport/db").is_err());
    }
}
