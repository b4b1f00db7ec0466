//! Team mode's operators: a token's hash, its name and role, never the token.

use jiff::{SignedDuration, Timestamp};

use super::db::{Row, Value, params};
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
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
}

const TOKEN_COLUMNS: &str = "operator, role, created_at, revoked_at, last_used_at";

impl Store {
    /// Stores a new token's hash under `name` (unique among active tokens).
    pub fn add_token(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let added = self.db.execute(
            "INSERT INTO api_tokens (operator, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, role.as_str(), token_hash, ts_text(at)],
        );
        match added {
            Ok(_) => Ok(()),
            Err(e) if self.db.is_unique_violation(&e) => {
                Err(StoreError::TokenNameTaken(name.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    /// Every token, active first, newest first.
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

    /// Revokes the active token named `name`.
    pub fn revoke_token(&self, name: &str, at: Timestamp) -> Result<(), StoreError> {
        let changed = self.db.execute(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE operator = ?1 AND revoked_at IS NULL",
            params![name, ts_text(at)],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchToken(name.to_string()));
        }
        Ok(())
    }

    /// The active token with this hash. Its use is noted at `at` at most once
    /// a minute and only when the database is free at once: a request must
    /// not wait on (or fail for) a bookkeeping write.
    pub fn use_token(
        &self,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<Option<TokenInfo>, StoreError> {
        let a_minute_ago = at.checked_sub(SignedDuration::from_mins(1)).unwrap_or(at);
        let noted = self.db.execute_if_free(
            "UPDATE api_tokens SET last_used_at = ?2
             WHERE token_hash = ?1 AND revoked_at IS NULL
               AND (last_used_at IS NULL OR last_used_at < ?3)",
            params![token_hash, ts_text(at), ts_text(a_minute_ago)],
        );
        if let Err(e) = noted {
            tracing::debug!(error = %e, "token use not noted");
        }
        Ok(self
            .token_rows(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens
                     WHERE token_hash = ?1 AND revoked_at IS NULL"
                ),
                params![token_hash],
            )?
            .into_iter()
            .next())
    }
}
