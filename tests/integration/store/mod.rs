//! The store against both backends: SQLite files in temporary folders and
//! a real PostgreSQL (see `harness::postgres`). Behaviour tests are plain
//! functions of a [`Backend`]; `on_both_backends!` runs each against both.

use std::path::PathBuf;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use payops::domain::{
    BalanceReport, CreatedSession, DocumentType, ExternalRef, LinkId, Provider, SessionId,
    SessionStatus, UserFlow,
};
use payops::domain::{CreateState, NewSession, NotifyOutcome, RecentNotifies, SessionRecord};
use payops::store::{INTERRUPTED_MESSAGE, SCHEMA_VERSION, Store, StoreError, TRACKED_REF_PREFIX};
use rust_decimal::Decimal;
use tempfile::TempDir;

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("nested").join("folder").join("payops.db")
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + secs).unwrap()
}

fn new_session(provider: Provider, at: Timestamp) -> NewSession {
    NewSession {
        id: SessionId::generate(),
        provider,
        external_ref: ExternalRef::generate(),
        flow: Some(UserFlow::Signin),
        documents_requested: vec![DocumentType::Aadhaar, DocumentType::Pan],
        redirect_url: Some("https://example.com/done".into()),
        created_at: at,
        label: None,
        created_by: None,
    }
}

fn created(reference: &str) -> CreatedSession {
    CreatedSession {
        reference: reference.into(),
        url: format!("https://digilocker.example/{reference}"),
        status: SessionStatus::Pending,
        provider_status: "PENDING".into(),
        documents_requested: vec![DocumentType::Aadhaar, DocumentType::Pan],
        environment: None,
        request_id: Some("req-1".into()),
    }
}

fn raw_conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// Where a behaviour test's store lives.
#[derive(Clone)]
enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    /// A new connection, as another process or replica would have.
    fn open(&self) -> Store {
        match self {
            Backend::Sqlite(path) => Store::open(path).unwrap(),
            Backend::Postgres(url) => Store::connect(url).unwrap(),
        }
    }

    /// Runs a statement behind the store's back.
    fn raw(&self, sql: &str) {
        match self {
            Backend::Sqlite(path) => {
                raw_conn(path).execute_batch(sql).unwrap();
            }
            Backend::Postgres(url) => pg_raw(url, sql),
        }
    }

    /// The first column of every row a query returns, as text.
    fn raw_texts(&self, sql: &str) -> Vec<String> {
        match self {
            Backend::Sqlite(path) => {
                let conn = raw_conn(path);
                let mut statement = conn.prepare(sql).unwrap();
                statement
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            Backend::Postgres(url) => {
                let url = url.clone();
                let sql = sql.to_string();
                pg_block(async move {
                    let client = pg_client(&url).await;
                    client
                        .query(&sql, &[])
                        .await
                        .unwrap()
                        .iter()
                        .map(|row| row.get::<_, String>(0))
                        .collect()
                })
            }
        }
    }
}

fn pg_block<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(work)
}

async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

fn pg_raw(url: &str, sql: &str) {
    let (url, sql) = (url.to_string(), sql.to_string());
    pg_block(async move { pg_client(&url).await.batch_execute(&sql).await.unwrap() });
}

/// For each named behaviour test, a `sqlite::` test on a fresh file and a
/// `postgres::` test on a fresh database (skipped, saying so, without
/// PostgreSQL unless it is required).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::TempDir::new().unwrap();
                    super::$name(&super::Backend::Sqlite(super::db_path(&dir)));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(url) = crate::harness::postgres::database(stringify!($name)) {
                        super::$name(&super::Backend::Postgres(url));
                    }
                }
            )*
        }
    };
}

mod backends;
mod lease;
mod records;
mod sessions;
mod tls;

fn report(at: Timestamp, available: &str) -> BalanceReport {
    BalanceReport {
        account: "9999999999".into(),
        available: Decimal::from_str(available).unwrap(),
        total: Decimal::from_str("16.82").unwrap(),
        lien: Decimal::from_str("0.00").unwrap(),
        environment: None,
        fetched_at: at,
        request_id: Some(format!("uuid-{available}")),
    }
}

/// The newest notify since `since` that may have reached the recipient.
fn reaching(store: &Store, link: &LinkId, since: Timestamp) -> Option<i64> {
    RecentNotifies(store.notifies_since(link, since).unwrap())
        .last_reaching()
        .map(|e| e.id)
}
