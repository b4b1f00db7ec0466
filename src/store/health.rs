//! Each provider's health as the leading engine last saw it, kept where
//! every replica reads it. The store keeps the engine's JSON as it is: the
//! engine owns its meaning.

use jiff::Timestamp;

use super::db::{Columns, WriteLock, params};
use super::lease::Lease;
use super::rows::{parse_provider, ts_text};
use super::{Store, StoreError};
use crate::domain::Provider;

impl Store {
    /// Replaces `provider`'s health with `json`, the leader's word: only
    /// while `lease` stands (None: the one server on an SQLite file).
    pub fn record_provider_health(
        &self,
        lease: Option<&Lease>,
        provider: Provider,
        json: &str,
    ) -> Result<(), StoreError> {
        self.write(WriteLock::All, || {
            self.fence(lease)?;
            self.db.execute(
                "INSERT INTO provider_health (provider, health, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (provider) DO UPDATE
                    SET health = excluded.health, updated_at = excluded.updated_at",
                params![provider.as_str(), json, ts_text(Timestamp::now())],
            )
        })?;
        Ok(())
    }

    /// How many tracked sessions each provider has in each status.
    pub fn session_counts(&self) -> Result<Vec<(Provider, String, i64)>, StoreError> {
        self.db
            .query(
                "SELECT provider, status, COUNT(*) FROM sessions WHERE tracking = 1
                 GROUP BY provider, status",
                params![],
            )?
            .into_iter()
            .map(|mut row| {
                let provider = parse_provider("sessions.provider", &row.text(0)?)?;
                Ok((provider, row.text(1)?.into_owned(), row.int(2)?))
            })
            .collect()
    }

    /// Every provider's health on record, as JSON.
    pub fn provider_healths(&self) -> Result<Vec<(Provider, String)>, StoreError> {
        self.db
            .query("SELECT provider, health FROM provider_health", params![])?
            .into_iter()
            .map(|mut row| {
                let provider = parse_provider("provider_health.provider", &row.text(0)?)?;
                Ok((provider, row.text(1)?.into_owned()))
            })
            .collect()
    }
}
