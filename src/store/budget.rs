//! The team's provider budget, kept in the store so that every replica
//! draws on one: GCRA (the generic cell rate algorithm, as `governor` runs it
//! in memory) over one row per provider.

use std::time::Duration;

use jiff::Timestamp;

use super::db::{first, params};
use super::{Store, StoreError};
use crate::domain::Provider;

/// A budget of `burst` requests at once, then one per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub period: Duration,
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

impl Store {
    /// Takes one request from `provider`'s budget at `now`, or says how long
    /// until one is free. One statement: concurrent callers on any replica
    /// are serialised by the row, and only one of them gets the last slot.
    ///
    /// Times come from the callers' clocks, so replicas are assumed to keep
    /// time (NTP); a skew of a few milliseconds moves a slot by as much.
    pub fn take_budget(
        &self,
        provider: Provider,
        rate: Rate,
        now: Timestamp,
    ) -> Result<Result<(), Duration>, StoreError> {
        let now_us = now.as_microsecond();
        let period = micros(rate.period);
        // How far ahead of now the arrival time may run: the burst.
        let tolerance = period.saturating_mul(i64::from(rate.burst.max(1)));
        let admitted = self.db.execute(
            // The casts tell PostgreSQL the parameters' type (SQLite reads
            // BIGINT as INTEGER).
            "INSERT INTO provider_budget (provider, tat_us)
                VALUES (?1, CAST(?2 AS BIGINT) + CAST(?3 AS BIGINT))
             ON CONFLICT (provider) DO UPDATE
                SET tat_us = (CASE WHEN provider_budget.tat_us > CAST(?2 AS BIGINT)
                              THEN provider_budget.tat_us ELSE CAST(?2 AS BIGINT) END)
                             + CAST(?3 AS BIGINT)
                WHERE (CASE WHEN provider_budget.tat_us > CAST(?2 AS BIGINT)
                       THEN provider_budget.tat_us ELSE CAST(?2 AS BIGINT) END)
                      + CAST(?3 AS BIGINT) - CAST(?4 AS BIGINT) <= CAST(?2 AS BIGINT)",
            params![provider.as_str(), now_us, period, tolerance],
        )?;
        if admitted > 0 {
            return Ok(Ok(()));
        }
        let tat = match first(self.db.query(
            "SELECT tat_us FROM provider_budget WHERE provider = ?1",
            params![provider.as_str()],
        )?) {
            Some(mut row) => row.int(0)?,
            // Refused, yet no row: someone reset the budget meanwhile.
            None => return Ok(Err(Duration::from_millis(1))),
        };
        let wait_us = tat.saturating_add(period).saturating_sub(tolerance) - now_us;
        let wait = Duration::from_micros(u64::try_from(wait_us).unwrap_or(0));
        Ok(Err(wait.max(Duration::from_millis(1))))
    }
}
