//! What the store needs of a database, so its queries and row mapping are
//! written once for SQLite and PostgreSQL alike.
//!
//! The store's SQL is written in SQLite's dialect with numbered parameters
//! (`?1`); the PostgreSQL backend rewrites the few differences (see
//! `postgres::dialect`). Values cross as text or integers only: times are
//! fixed-width UTC text and money is decimal text in both, so what one
//! backend stores the other reads back identically.

use std::borrow::Cow;

use super::StoreError;

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Value {
        Value::Int(number)
    }
}

impl From<bool> for Value {
    fn from(flag: bool) -> Value {
        Value::Int(i64::from(flag))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Value {
        value.map_or(Value::Null, Into::into)
    }
}

/// `params![a, b]`: a parameter list for [`Db`].
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::store::db::Value::from($value)),*] as &[$crate::store::db::Value]
    };
}
pub(crate) use params;

/// One result row, owned, its columns in the order the query selected them.
#[derive(Debug)]
pub struct Row(pub Vec<Value>);

/// A column's value as a row lends it: text borrowed from the database's
/// own buffer where it can be, so a list of thousands copies only the
/// strings its records keep.
#[derive(Debug)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Text(Cow<'a, str>),
}

/// Reading a row's columns, each once, in any order. Implemented by an
/// owned [`Row`] and by the row a backend lends while its query runs.
pub trait Columns<'a> {
    fn cell(&mut self, index: usize) -> Result<Cell<'a>, StoreError>;

    fn text(&mut self, index: usize) -> Result<Cow<'a, str>, StoreError> {
        match self.cell(index)? {
            Cell::Text(text) => Ok(text),
            other => Err(wrong_type(index, &other)),
        }
    }

    fn opt_text(&mut self, index: usize) -> Result<Option<Cow<'a, str>>, StoreError> {
        match self.cell(index)? {
            Cell::Null => Ok(None),
            Cell::Text(text) => Ok(Some(text)),
            other => Err(wrong_type(index, &other)),
        }
    }

    fn int(&mut self, index: usize) -> Result<i64, StoreError> {
        match self.cell(index)? {
            Cell::Int(number) => Ok(number),
            other => Err(wrong_type(index, &other)),
        }
    }

    fn flag(&mut self, index: usize) -> Result<bool, StoreError> {
        Ok(self.int(index)? != 0)
    }
}

/// Reading a column moves its value out, so each string is allocated once.
impl Columns<'static> for Row {
    fn cell(&mut self, index: usize) -> Result<Cell<'static>, StoreError> {
        let value = self
            .0
            .get_mut(index)
            .map(|value| std::mem::replace(value, Value::Null))
            .ok_or_else(|| StoreError::Corrupt {
                column: format!("column {index}"),
                value: "(missing)".into(),
            })?;
        Ok(match value {
            Value::Null => Cell::Null,
            Value::Int(number) => Cell::Int(number),
            Value::Text(text) => Cell::Text(Cow::Owned(text)),
        })
    }
}

impl From<Cell<'_>> for Value {
    fn from(cell: Cell<'_>) -> Value {
        match cell {
            Cell::Null => Value::Null,
            Cell::Int(number) => Value::Int(number),
            Cell::Text(text) => Value::Text(text.into_owned()),
        }
    }
}

fn wrong_type(index: usize, cell: &Cell<'_>) -> StoreError {
    StoreError::Corrupt {
        column: format!("column {index}"),
        value: format!("{cell:?}"),
    }
}

/// What `Db::query_each` hands each row to.
pub type EachRow<'f> = dyn for<'r> FnMut(&mut dyn Columns<'r>) -> Result<(), StoreError> + 'f;

/// What a write transaction must exclude while it runs.
#[derive(Debug, Clone, Copy)]
pub enum WriteLock<'a> {
    /// Every other write transaction (SQLite's one writer, in both backends).
    All,
    /// Other write transactions on this payout link: the notify guard.
    Link(&'a str),
}

/// A connection to the store's database. Calls block the caller; the engine
/// and the server hold the store behind a mutex and keep each call short.
pub trait Db: Send {
    fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;

    fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;

    /// `query`, lending each row to `each` as it is read rather than
    /// collecting them: for the long lists, where copying every column of
    /// every row first would cost more than the query.
    fn query_each(
        &self,
        sql: &str,
        params: &[Value],
        each: &mut EachRow<'_>,
    ) -> Result<(), StoreError> {
        for mut row in self.query(sql, params)? {
            each(&mut row)?;
        }
        Ok(())
    }

    /// `execute`, but give up at once rather than wait for a lock: for
    /// bookkeeping a request must not wait on.
    fn execute_if_free(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.execute(sql, params)
    }

    /// Begins a write transaction holding `lock` until commit or rollback.
    fn begin(&self, lock: WriteLock<'_>) -> Result<(), StoreError>;

    fn commit(&self) -> Result<(), StoreError>;

    fn rollback(&self);

    /// Changes whenever another connection (another process, another
    /// replica) commits, never for this connection's own writes.
    fn data_version(&self) -> Result<i64, StoreError>;

    /// Whether several processes share this database as one team (replicas
    /// on PostgreSQL) rather than one operator's file.
    fn shared(&self) -> bool;

    /// Woken when another connection announces a commit, for a watcher
    /// that should not wait for its next look (`None`: look on a timer).
    fn change_signal(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        None
    }

    /// Opened for reading only (a file that cannot be written): every
    /// change is refused, naming the file and why.
    fn read_only(&self) -> bool {
        false
    }

    /// Whether a failed statement broke a uniqueness rule.
    fn is_unique_violation(&self, error: &StoreError) -> bool;

    /// The applied schema version.
    fn schema_version(&self) -> Result<i64, StoreError>;

    /// Applies the pending migrations, each once however many processes
    /// start at the same moment.
    fn migrate(&self) -> Result<(), StoreError>;
}

/// The first row of a query, if any.
pub fn first(rows: Vec<Row>) -> Option<Row> {
    rows.into_iter().next()
}

/// A duration as whole microseconds, the unit the store keeps times in
/// (saturating: an absurdly long one reads as the longest there is).
pub fn micros(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// Runs one statement's `work`, counting how long it took.
pub(crate) fn timed<T>(work: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let answer = work();
    crate::telemetry::store_query(started.elapsed().as_secs_f64());
    answer
}
