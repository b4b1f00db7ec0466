//! The activity log: one row for every change made through the server
//! (and every token change made on its host), allowed or refused. A row
//! for a change is written in the change's own transaction, so neither
//! stands without the other; payops never updates or deletes one.

use jiff::Timestamp;

use super::db::{Row, Value, WriteLock};
use super::rows::{parse_ts, ts_text};
use super::{Store, StoreError};

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The change was made.
    Done,
    /// We refused it: the caller's token, role or request (the reason says which).
    Refused,
    /// It was allowed but a provider or the store failed it.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Outcome> {
        [Outcome::Done, Outcome::Refused, Outcome::Failed]
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
    }
}

/// One row of the activity log. Its serde form is the JSON of
/// `GET /api/v1/activity` and `payops activity --json`. Nothing secret and
/// no personal data: targets are ids, details are labels, providers, roles.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Activity {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The token's operator; for a token change on the server's host, that
    /// host's login user; `(no token)` for a request without a valid one.
    pub operator: String,
    /// create, track, label, refresh, stop, notify, balance_refresh,
    /// token_add, token_rotate, token_revoke.
    pub action: String,
    /// The session, link or token name acted on.
    pub target: Option<String>,
    /// What changed: the new label, the provider, the role.
    pub detail: Option<String>,
    #[schema(value_type = String)]
    pub outcome: Outcome,
    /// Why it was refused or failed.
    pub reason: Option<String>,
    /// The request's `x-request-id`, to match with the server's log.
    pub request_id: Option<String>,
}

impl Activity {
    /// A change made now by `operator`.
    pub fn done(operator: &str, action: &str, target: Option<&str>) -> Activity {
        Activity {
            at: Timestamp::now(),
            operator: operator.to_string(),
            action: action.to_string(),
            target: target.map(str::to_string),
            detail: None,
            outcome: Outcome::Done,
            reason: None,
            request_id: None,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Activity {
        self.detail = Some(detail.into());
        self
    }

    pub fn request(mut self, request_id: Option<&str>) -> Activity {
        self.request_id = request_id.map(str::to_string);
        self
    }

    pub fn ended(mut self, outcome: Outcome, reason: impl Into<String>) -> Activity {
        self.outcome = outcome;
        self.reason = Some(reason.into());
        self
    }
}

/// Which rows `GET /api/v1/activity` and `payops activity` want.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub operator: Option<String>,
    pub action: Option<String>,
    pub since: Option<Timestamp>,
    /// At most this many, newest first.
    pub limit: usize,
}

const COLUMNS: &str = "at, operator, action, target, detail, outcome, reason, request_id";

impl Store {
    /// Writes `activity` alone: an attempt that changed nothing.
    pub fn record_activity(&self, activity: &Activity) -> Result<(), StoreError> {
        self.insert_activity(activity)
    }

    /// Runs a write transaction and, when given, writes `activity` in it:
    /// the change and its row commit together or not at all.
    pub(super) fn write_noting<T>(
        &self,
        lock: WriteLock<'_>,
        activity: Option<&Activity>,
        work: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write(lock, || {
            let value = work()?;
            if let Some(activity) = activity {
                self.insert_activity(activity)?;
            }
            Ok(value)
        })
    }

    pub(super) fn insert_activity(&self, a: &Activity) -> Result<(), StoreError> {
        self.db.execute(
            &format!("INSERT INTO activity ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            &[
                Value::from(ts_text(a.at)),
                Value::from(a.operator.as_str()),
                Value::from(a.action.as_str()),
                Value::from(a.target.as_deref()),
                Value::from(a.detail.as_deref()),
                Value::from(a.outcome.as_str()),
                Value::from(a.reason.as_deref()),
                Value::from(a.request_id.as_deref()),
            ],
        )?;
        Ok(())
    }

    /// The activity log, newest first, as `filter` narrows it.
    pub fn list_activity(&self, filter: &ActivityFilter) -> Result<Vec<Activity>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM activity WHERE 1 = 1");
        let mut params: Vec<Value> = Vec::new();
        let mut narrow = |column: &str, op: &str, value: Value| {
            params.push(value);
            sql.push_str(&format!(" AND {column} {op} ?{}", params.len()));
        };
        if let Some(operator) = &filter.operator {
            narrow("operator", "=", Value::from(operator.as_str()));
        }
        if let Some(action) = &filter.action {
            narrow("action", "=", Value::from(action.as_str()));
        }
        if let Some(since) = filter.since {
            narrow("at", ">=", Value::from(ts_text(since)));
        }
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        sql.push_str(&format!(" ORDER BY at DESC, id DESC LIMIT {limit}"));
        self.db
            .query(&sql, &params)?
            .into_iter()
            .map(activity_from_row)
            .collect()
    }
}

fn activity_from_row(mut row: Row) -> Result<Activity, StoreError> {
    use super::db::Columns;
    let at = parse_ts("activity.at", &row.text(0)?)?;
    let outcome_text = row.text(5)?.into_owned();
    Ok(Activity {
        at,
        operator: row.text(1)?.into_owned(),
        action: row.text(2)?.into_owned(),
        target: row.opt_text(3)?.map(|t| t.into_owned()),
        detail: row.opt_text(4)?.map(|t| t.into_owned()),
        outcome: Outcome::parse(&outcome_text)
            .ok_or_else(|| super::rows::corrupt("activity.outcome", &outcome_text))?,
        reason: row.opt_text(6)?.map(|t| t.into_owned()),
        request_id: row.opt_text(7)?.map(|t| t.into_owned()),
    })
}
