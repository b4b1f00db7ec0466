//! What the store needs of a database, so its queries and row mapping are
//! written once for SQLite and PostgreSQL alike.
//!
//! The store's SQL is written in SQLite's dialect with numbered parameters
//! (`?1`); the PostgreSQL backend rewrites the few differences (see
//! `postgres::dialect`). Values cross as text or integers only: times are
//! fixed-width UTC text and money is decimal text in both, so what one
//! backend stores the other reads back identically.

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

/// One result row, its columns in the order the query selected them.
#[derive(Debug)]
pub struct Row(pub Vec<Value>);

/// Reading a column moves its value out (lists of thousands of rows are
/// read without copying each string twice); each column is read once.
impl Row {
    fn take(&mut self, index: usize) -> Result<Value, StoreError> {
        self.0
            .get_mut(index)
            .map(|value| std::mem::replace(value, Value::Null))
            .ok_or_else(|| StoreError::Corrupt {
                column: format!("column {index}"),
                value: "(missing)".into(),
            })
    }

    pub fn text(&mut self, index: usize) -> Result<String, StoreError> {
        match self.take(index)? {
            Value::Text(text) => Ok(text),
            other => Err(wrong_type(index, &other)),
        }
    }

    pub fn opt_text(&mut self, index: usize) -> Result<Option<String>, StoreError> {
        match self.take(index)? {
            Value::Null => Ok(None),
            Value::Text(text) => Ok(Some(text)),
            other => Err(wrong_type(index, &other)),
        }
    }

    pub fn int(&mut self, index: usize) -> Result<i64, StoreError> {
        match self.take(index)? {
            Value::Int(number) => Ok(number),
            other => Err(wrong_type(index, &other)),
        }
    }

    pub fn flag(&mut self, index: usize) -> Result<bool, StoreError> {
        Ok(self.int(index)? != 0)
    }
}

fn wrong_type(index: usize, value: &Value) -> StoreError {
    StoreError::Corrupt {
        column: format!("column {index}"),
        value: format!("{value:?}"),
    }
}

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
