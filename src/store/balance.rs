//! Wallet balance readings: stored exactly, thinned to one an hour once
//! older than a week, read back from a time on.

use jiff::Timestamp;

use super::db::{Columns, WriteLock, params};
use super::lease::Lease;
use super::rows::*;
use super::*;

impl Store {
    /// Stores a reading and thins what is older than [`BALANCE_FULL_DETAIL`]
    /// before it to the first reading of each hour, so the table stays
    /// bounded however long payops runs.
    pub fn insert_balance(&self, report: &BalanceReport) -> Result<(), StoreError> {
        self.insert_balance_under(None, report)
    }

    /// `insert_balance` by a leader (its own timed fetch): written only
    /// while `lease` stands.
    pub fn insert_balance_under(
        &self,
        lease: Option<&Lease>,
        report: &BalanceReport,
    ) -> Result<(), StoreError> {
        let cutoff = report
            .fetched_at
            .checked_sub(BALANCE_FULL_DETAIL)
            .unwrap_or(report.fetched_at);
        self.write(WriteLock::All, || {
            self.fence(lease)?;
            self.db.execute(
                "INSERT INTO balance_snapshots (at, account, available, total, lien, request_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    ts_text(report.fetched_at),
                    report.account.as_str(),
                    report.available.to_string(),
                    report.total.to_string(),
                    report.lien.to_string(),
                    report.request_id.as_deref(),
                ],
            )?;
            // Times are stored as fixed-width UTC text, so the first 13
            // characters (2026-11-23T10) name the hour.
            self.db.execute(
                "DELETE FROM balance_snapshots
                 WHERE at < ?1
                   AND id NOT IN (
                       SELECT MIN(id) FROM balance_snapshots WHERE at < ?1
                       GROUP BY account, substr(at, 1, 13)
                   )",
                params![ts_text(cutoff)],
            )?;
            Ok(())
        })
    }

    /// Every snapshot taken at or after `since`, oldest first.
    pub fn balance_since(&self, since: Timestamp) -> Result<Vec<BalanceSnapshot>, StoreError> {
        let rows = self.db.query(
            "SELECT at, account, available, total, lien, request_id
             FROM balance_snapshots WHERE at >= ?1 ORDER BY at, id",
            params![ts_text(since)],
        )?;
        rows.into_iter()
            .map(|mut row| {
                Ok(BalanceSnapshot {
                    at: parse_ts("balance_snapshots.at", &row.text(0)?)?,
                    account: row.text(1)?.into_owned(),
                    available: parse_decimal("balance_snapshots.available", &row.text(2)?)?,
                    total: parse_decimal("balance_snapshots.total", &row.text(3)?)?,
                    lien: parse_decimal("balance_snapshots.lien", &row.text(4)?)?,
                    request_id: row.opt_text(5)?.map(std::borrow::Cow::into_owned),
                })
            })
            .collect()
    }
}
