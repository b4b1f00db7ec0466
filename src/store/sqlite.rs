//! The embedded backend: one SQLite file (WAL) in the data folder.

use std::borrow::Cow;
use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};

use super::StoreError;
use super::db::{Cell, Columns, Db, EachRow, Row, Value, WriteLock};
use super::migrations::{MIGRATIONS, SCHEMA_VERSION};

/// How long a call waits for another payops process holding the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteDb {
    conn: rusqlite::Connection,
    path: String,
    /// Opened for reading only: the file (or its folder) cannot be written.
    read_only: bool,
}

impl SqliteDb {
    /// Opens (creating folders and file if needed) the database at `path`
    /// in WAL mode.
    pub fn open(path: &Path) -> Result<SqliteDb, StoreError> {
        let shown = path.display().to_string();
        let open_err = |message: String| StoreError::Open {
            path: shown.clone(),
            message,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::create_private_dir(parent)
                .map_err(|e| open_err(format!("cannot create folder {}: {e}", parent.display())))?;
        }
        // (the error, whether it says the file cannot be written)
        let writable = crate::files::create_private_file(path)
            .map_err(|e| {
                let unwritable = matches!(
                    e.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
                );
                (
                    open_err(format!("cannot create {}: {e}", path.display())),
                    unwritable,
                )
            })
            .and_then(|()| {
                let described =
                    |e: rusqlite::Error| (open_err(describe_open(&e)), cannot_write(&e));
                let conn = rusqlite::Connection::open(path).map_err(described)?;
                configure(&conn).map_err(described)?;
                Ok(conn)
            });
        match writable {
            // SQLite opens a file it may not write for reading, quietly.
            Ok(conn) => Ok(SqliteDb {
                read_only: conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false),
                conn,
                path: shown,
            }),
            // A file that exists but cannot be written can still be read.
            Err((error, true)) if path.is_file() => {
                SqliteDb::open_read_only(path).map_err(|_| error)
            }
            Err((error, _)) => Err(error),
        }
    }

    /// Opens an existing database that cannot be written, for reading, as
    /// a reader of a WAL database (SQLite makes its shared memory beside
    /// it, so rows not yet checkpointed are read too). Not as an
    /// "immutable" file: that would skip them.
    fn open_read_only(path: &Path) -> Result<SqliteDb, StoreError> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let uri = |extra: &str| {
            let mut url = url::Url::from_file_path(path).map_err(|()| {
                StoreError::Database(format!("{} is not an absolute path", path.display()))
            })?;
            url.set_query(Some(extra));
            Ok::<String, StoreError>(url.to_string())
        };
        let attempt = |extra: &str| -> Result<rusqlite::Connection, StoreError> {
            let conn = rusqlite::Connection::open_with_flags(uri(extra)?, flags)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            // Reading the schema version proves the file can be read.
            let _: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
            Ok(conn)
        };
        let conn = attempt("mode=ro")?;
        Ok(SqliteDb {
            conn,
            path: path.display().to_string(),
            read_only: true,
        })
    }

    /// The refusal of a change to a store opened for reading only.
    fn refuse_write(&self) -> StoreError {
        self.open_error(
            "is read-only, so payops opened it for reading only and cannot change it; \
             make the file and its folder writable (check `ls -l` and `lsattr`)"
                .into(),
        )
    }

    fn open_error(&self, message: String) -> StoreError {
        StoreError::Open {
            path: self.path.clone(),
            message,
        }
    }

    fn user_version(&self) -> rusqlite::Result<i64> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
    }
}

fn configure(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The first statement that reads the file: a non-database fails here.
    let _mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    // FULL: an audit row must be on disk before the notify it guards leaves.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(number) => ToSqlOutput::Borrowed(ValueRef::Integer(*number)),
            Value::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
        })
    }
}

/// A row as SQLite lends it while its statement steps.
struct Lent<'a>(&'a rusqlite::Row<'a>);

impl<'a> Columns<'a> for Lent<'a> {
    fn cell(&mut self, index: usize) -> Result<Cell<'a>, StoreError> {
        Ok(match self.0.get_ref(index)? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(number) => Cell::Int(number),
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Cell::Text(text_of(bytes)),
            ValueRef::Real(number) => Cell::Text(Cow::Owned(number.to_string())),
        })
    }
}

/// Text as stored, borrowed; bytes that are not UTF-8 (written by some
/// other tool) are read with replacement characters rather than lost.
fn text_of(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

impl Db for SqliteDb {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        if self.read_only {
            return Err(self.refuse_write());
        }
        super::db::timed(|| {
            let mut statement = self.conn.prepare_cached(sql)?;
            let changed = statement.execute(rusqlite::params_from_iter(params))?;
            Ok(changed as u64)
        })
    }

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        super::db::timed(|| {
            let mut statement = self.conn.prepare_cached(sql)?;
            let width = statement.column_count();
            let mut rows = statement.query(rusqlite::params_from_iter(params))?;
            let mut owned = Vec::new();
            while let Some(row) = rows.next()? {
                let mut lent = Lent(row);
                let values = (0..width)
                    .map(|index| lent.cell(index).map(Value::from))
                    .collect::<Result<Vec<_>, _>>()?;
                owned.push(Row(values));
            }
            Ok(owned)
        })
    }

    fn query_each(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut EachRow<'_>,
    ) -> Result<(), StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            each(&mut Lent(row))?;
        }
        Ok(())
    }

    fn execute_if_free(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.conn.busy_timeout(Duration::ZERO)?;
        let result = self.execute(sql, params);
        let _ = self.conn.busy_timeout(BUSY_TIMEOUT);
        result
    }

    /// IMMEDIATE for every lock: SQLite has one writer, and in WAL mode a
    /// deferred transaction that later writes fails at once with
    /// SQLITE_BUSY instead of waiting on the busy timeout.
    fn begin(&self, _lock: WriteLock<'_>) -> Result<(), StoreError> {
        if self.read_only {
            return Err(self.refuse_write());
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    fn commit(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    fn rollback(&self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// SQLite's `data_version`: cheap enough to ask every second.
    fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))?)
    }

    fn shared(&self) -> bool {
        false
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn is_unique_violation(&self, error: &StoreError) -> bool {
        matches!(error, StoreError::Sqlite(e)
            if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation))
    }

    fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.user_version()?)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let version = self
            .user_version()
            .map_err(|e| self.open_error(describe_open(&e)))?;
        if version > SCHEMA_VERSION {
            return Err(self.open_error(super::newer_schema(version)));
        }
        if self.read_only {
            return match version {
                SCHEMA_VERSION => Ok(()),
                older => Err(self.open_error(format!(
                    "is read-only, and its schema (version {older}) must first be brought to \
                     version {SCHEMA_VERSION}: make it writable once"
                ))),
            };
        }
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            let target = index as i64 + 1;
            // IMMEDIATE, then re-read the version: two payops starting at once
            // must not both apply the same migration.
            self.begin(WriteLock::All)?;
            let applied = (|| {
                if self.user_version()? >= target {
                    return Ok(());
                }
                self.conn.execute_batch(migration.sqlite).map_err(|e| {
                    self.open_error(format!("schema migration {target} failed: {e}"))
                })?;
                self.conn.pragma_update(None, "user_version", target)?;
                Ok(())
            })();
            match applied {
                Ok(()) => self.commit()?,
                Err(error) => {
                    self.rollback();
                    return Err(error);
                }
            }
        }
        Ok(())
    }
}

/// Whether SQLite failed for want of write access to the file or folder.
fn cannot_write(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::ReadOnly
                | rusqlite::ErrorCode::CannotOpen
                | rusqlite::ErrorCode::PermissionDenied
                | rusqlite::ErrorCode::AuthorizationForStatementDenied
        )
    )
}

/// Turns SQLite's terse open errors into something an operator can act on.
fn describe_open(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            "is not a payops database (not an SQLite file, or damaged); move it aside, or \
             set PAYOPS_DATA_DIR to another folder"
                .into()
        }
        Some(rusqlite::ErrorCode::CannotOpen) => format!("cannot be opened ({e})"),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            format!("is locked by another process ({e})")
        }
        Some(rusqlite::ErrorCode::ReadOnly) => format!("is read-only ({e})"),
        _ => e.to_string(),
    }
}
