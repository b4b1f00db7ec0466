//! The team's provider budget, kept in the store so that every replica
//! draws on one: GCRA (the generic cell rate algorithm, as `governor` runs it
//! in memory) over one row per provider.

use std::time::Duration;

use jiff::Timestamp;

use super::db::{Columns, first, micros, params};
use super::{Store, StoreError};
use crate::domain::Provider;

/// A budget of `burst` requests at once, then one per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub period: Duration,
}

impl Store {
    /// Reserves the next request in `provider`'s budget at `now` and says
    /// how long to wait before sending it (zero: at once). One statement:
    /// concurrent callers on any replica are serialised by the row, and
    /// each gets a slot of its own, in the order they asked.
    ///
    /// A reservation, not a refusal to retry later: a caller told to wait
    /// has its slot, so callers arriving while it sleeps cannot take it
    /// and starve it. A reserved slot left unused (its caller gave up) is
    /// spent all the same, which errs on the budget's side.
    ///
    /// Times come from the callers' clocks, so replicas are assumed to keep
    /// time (NTP); a skew of a few milliseconds moves a slot by as much.
    pub fn reserve_budget(
        &self,
        provider: Provider,
        rate: Rate,
        now: Timestamp,
    ) -> Result<Duration, StoreError> {
        let now_us = now.as_microsecond();
        let period = micros(rate.period);
        // How far ahead of now the arrival time may run: the burst.
        let tolerance = period.saturating_mul(i64::from(rate.burst.max(1)));
        let reserved = first(self.db.query(
            // The casts tell PostgreSQL the parameters' type (SQLite reads
            // BIGINT as INTEGER).
            "INSERT INTO provider_budget (provider, tat_us)
                VALUES (?1, CAST(?2 AS BIGINT) + CAST(?3 AS BIGINT))
             ON CONFLICT (provider) DO UPDATE
                SET tat_us = (CASE WHEN provider_budget.tat_us > CAST(?2 AS BIGINT)
                              THEN provider_budget.tat_us ELSE CAST(?2 AS BIGINT) END)
                             + CAST(?3 AS BIGINT)
             RETURNING tat_us",
            params![provider.as_str(), now_us, period],
        )?);
        let Some(mut row) = reserved else {
            return Err(StoreError::Database(
                "the budget's upsert returned no row".into(),
            ));
        };
        // GCRA: the request conforms once the arrival time it set is no
        // more than the burst ahead.
        let wait_us = row.int(0)?.saturating_sub(tolerance).saturating_sub(now_us);
        Ok(Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)))
    }
}
