//! Team mode's operators: a token's hash, its name, role and lifetime,
//! never the token.
//!
//! A token is usable until its `expires_at` (none: never) and its
//! `revoked_at`. Revoking sets `revoked_at` to now; rotating sets the old
//! token's to the end of its grace, so both work until then, and only one
//! token per operator is without a `revoked_at` (the database's unique index).

use jiff::{SignedDuration, Timestamp};

use super::activity::Activity;
use super::db::{Row, Value, WriteLock, first, params};
use super::rows::{RawToken, ts_text};
use super::{Store, StoreError};
use crate::auth::Role;

/// A token as `token list` shows it: never the token itself. Its serde
/// form is the JSON of `token list --json` and `GET /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub name: String,
    /// viewer, support, finance or admin.
    #[schema(value_type = String)]
    pub role: Role,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it stops working; null: never.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// When it was (or, rotated with a grace, will be) refused from.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
}

impl TokenInfo {
    /// When it stops working, whichever comes first: its expiry, or the
    /// end of its grace once rotated. `None`: never.
    pub fn usable_until(&self) -> Option<Timestamp> {
        match (self.expires_at, self.revoked_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether it is refused at `now`, and why.
    pub fn refused_at(&self, now: Timestamp) -> Option<TokenRefusal> {
        if let Some(at) = self.revoked_at.filter(|at| *at <= now) {
            return Some(TokenRefusal::Revoked(at));
        }
        self.expires_at
            .filter(|at| *at <= now)
            .map(TokenRefusal::Expired)
    }
}

/// A token to store: never the token itself, only its hash.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub token_hash: &'a str,
    pub at: Timestamp,
    /// `None`: never.
    pub expires_at: Option<Timestamp>,
}

/// A rotated token's lifetime.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lifetime {
    /// As long as the old one was made to last (never, if it never expired).
    SameAsOld,
    /// Until then; `None`: never.
    Until(Option<Timestamp>),
}

/// What a rotation made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotated {
    pub role: Role,
    pub expires_at: Option<Timestamp>,
    /// When the old token stops working (now, without a grace).
    pub old_until: Timestamp,
}

/// Why a token that exists is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    Expired(Timestamp),
    Revoked(Timestamp),
}

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenCheck {
    Valid(TokenInfo),
    /// Refused, and whose it was.
    Refused(TokenRefusal, String),
    Unknown,
}

const TOKEN_COLUMNS: &str = "operator, role, created_at, revoked_at, last_used_at, expires_at";

impl Store {
    /// Stores a new token's hash under its name (unique among active
    /// tokens), and `activity` with it.
    pub fn add_token(
        &self,
        token: &NewToken<'_>,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        self.write_noting(WriteLock::All, activity, || self.insert_token(token))
    }

    fn insert_token(&self, token: &NewToken<'_>) -> Result<(), StoreError> {
        let NewToken {
            name,
            role,
            token_hash,
            at,
            expires_at,
        } = *token;
        let added = self.db.execute(
            "INSERT INTO api_tokens (operator, role, token_hash, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                name,
                role.as_str(),
                token_hash,
                ts_text(at),
                expires_at.map(ts_text)
            ],
        );
        match added {
            Ok(_) => Ok(()),
            Err(e) if self.db.is_unique_violation(&e) => {
                Err(StoreError::TokenNameTaken(name.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    /// A new token for the operator of the active token `name`, with its
    /// role; the old one keeps working for `grace` (but never past its own
    /// expiry), then is refused.
    pub fn rotate_token(
        &self,
        name: &str,
        token_hash: &str,
        at: Timestamp,
        lifetime: Lifetime,
        grace: SignedDuration,
        activity: Option<&Activity>,
    ) -> Result<Rotated, StoreError> {
        self.write_noting(WriteLock::All, activity, || {
            let Some(row) = first(self.db.query(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE operator = ?1 AND revoked_at IS NULL"
                ),
                params![name],
            )?) else {
                return Err(StoreError::NoSuchToken(name.to_string()));
            };
            let old = RawToken::from_row(row)?.into_info()?;
            let expires_at = match lifetime {
                Lifetime::SameAsOld => old
                    .expires_at
                    .map(|end| {
                        at.saturating_add(old.created_at.duration_until(end))
                            .unwrap_or(Timestamp::MAX)
                    }),
                Lifetime::Until(end) => end,
            };
            let grace_end = at.saturating_add(grace).unwrap_or(at);
            let old_until = old.expires_at.map_or(grace_end, |end| end.min(grace_end));
            self.db.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE operator = ?1 AND revoked_at IS NULL",
                params![name, ts_text(old_until)],
            )?;
            self.insert_token(&NewToken {
                name,
                role: old.role,
                token_hash,
                at,
                expires_at,
            })?;
            Ok(Rotated {
                role: old.role,
                expires_at,
                old_until,
            })
        })
    }

    /// Every token, usable first, newest first.
    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        self.token_rows(
            &format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens
                 ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC"
            ),
            &[],
        )
    }

    fn token_rows(&self, sql: &str, params: &[Value]) -> Result<Vec<TokenInfo>, StoreError> {
        self.db
            .query(sql, params)?
            .into_iter()
            .map(|row: Row| RawToken::from_row(row)?.into_info())
            .collect()
    }

    /// Refuses `name`'s tokens from now on, a rotated one in its grace too.
    pub fn revoke_token(
        &self,
        name: &str,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        let now = ts_text(at);
        self.write_noting(WriteLock::All, activity, || {
            let changed = self.db.execute(
                "UPDATE api_tokens SET revoked_at = ?2
                 WHERE operator = ?1 AND (revoked_at IS NULL OR revoked_at > ?2)",
                params![name, now.as_str()],
            )?;
            if changed == 0 {
                return Err(StoreError::NoSuchToken(name.to_string()));
            }
            Ok(())
        })
    }

    /// The token with this hash, and whether it may be used at `at`. A
    /// usable token's use is noted at most once a minute and only when the
    /// database is free at once: a request must not wait on (or fail for)
    /// a bookkeeping write.
    pub fn use_token(&self, token_hash: &str, at: Timestamp) -> Result<TokenCheck, StoreError> {
        let found = self
            .token_rows(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?1"),
                params![token_hash],
            )?
            .into_iter()
            .next();
        let Some(info) = found else {
            return Ok(TokenCheck::Unknown);
        };
        if let Some(refusal) = info.refused_at(at) {
            return Ok(TokenCheck::Refused(refusal, info.name));
        }
        let a_minute_ago = at.checked_sub(SignedDuration::from_mins(1)).unwrap_or(at);
        let noted = self.db.execute_if_free(
            "UPDATE api_tokens SET last_used_at = ?2
             WHERE token_hash = ?1 AND (last_used_at IS NULL OR last_used_at < ?3)",
            params![token_hash, ts_text(at), ts_text(a_minute_ago)],
        );
        if let Err(e) = noted {
            tracing::debug!(error = %e, "token use not noted");
        }
        Ok(TokenCheck::Valid(info))
    }
}
