//! Which replica leads, as a lease in the store: one row, held by one
//! replica until it lapses, timed by the database's clock so that no
//! replica's own clock (or a replica frozen mid-sentence) decides it.
//!
//! The leader renews the lease every few seconds. A follower takes it when
//! it has lapsed, or at once when its holder's connection is gone (a killed
//! process: PostgreSQL drops the connection, and `pg_stat_activity` no
//! longer lists it). Each change of hands moves the epoch, and every write
//! only a leader may make checks, in its own transaction, that its epoch
//! still holds (`FOR SHARE`, so a takeover waits for that write to commit):
//! a leader that wakes after its lease passed on cannot write as leader.
//!
//! PostgreSQL only: on an SQLite file there is one server, and it leads.

use std::time::Duration;

use super::db::{Columns, first, micros, params};
use super::{Store, StoreError};

/// The database's clock, in microseconds since the epoch.
const NOW_US: &str = "CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS BIGINT)";

/// A replica's hold on leadership: who took it, and the epoch it was
/// taken at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    pub epoch: i64,
}

impl Store {
    fn lease_store(&self, what: &'static str) -> Result<(), StoreError> {
        if self.db.shared() {
            Ok(())
        } else {
            Err(StoreError::NotShared(what))
        }
    }

    /// Takes the lease for `holder`, to run `ttl` from now, when nobody
    /// holds it: never taken, lapsed, or its holder's connection is gone.
    /// `None` while another holds it. The holder's connection is this
    /// store's, so keep the store open as long as the lease.
    pub fn take_lease(&self, holder: &str, ttl: Duration) -> Result<Option<Lease>, StoreError> {
        self.lease_store("a leader lease")?;
        let taken = first(self.db.query(
            &format!(
                "INSERT INTO leader_lease (id, holder, holder_pid, epoch, expires_us)
                    VALUES (1, ?1, pg_backend_pid(), 1, {NOW_US} + CAST(?2 AS BIGINT))
                 ON CONFLICT (id) DO UPDATE
                    SET holder = excluded.holder, holder_pid = excluded.holder_pid,
                        epoch = leader_lease.epoch + 1, expires_us = excluded.expires_us
                    WHERE leader_lease.expires_us <= {NOW_US}
                       OR NOT EXISTS (SELECT 1 FROM pg_stat_activity
                                      WHERE pid = leader_lease.holder_pid)
                 RETURNING epoch"
            ),
            params![holder, micros(ttl)],
        )?);
        match taken {
            Some(mut row) => Ok(Some(Lease {
                holder: holder.to_string(),
                epoch: row.int(0)?,
            })),
            None => Ok(None),
        }
    }

    /// Extends `lease` to `ttl` from now while it still stands (not lapsed,
    /// no other replica took it); false otherwise, and then the leader
    /// takes it anew with a new epoch, so that writes fenced by the old one
    /// (refused while it was lapsed) are not taken for its own.
    pub fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<bool, StoreError> {
        self.lease_store("a leader lease")?;
        let renewed = self.db.execute(
            &format!(
                "UPDATE leader_lease
                    SET expires_us = {NOW_US} + CAST(?3 AS BIGINT), holder_pid = pg_backend_pid()
                  WHERE id = 1 AND holder = ?1 AND epoch = ?2 AND expires_us > {NOW_US}"
            ),
            params![lease.holder.as_str(), lease.epoch, micros(ttl)],
        )?;
        Ok(renewed == 1)
    }

    /// Lets `lease` lapse now and says so on the leader channel, so that a
    /// follower takes over at once (a planned stop).
    pub fn release_lease(&self, lease: &Lease) -> Result<(), StoreError> {
        self.lease_store("a leader lease")?;
        self.db.execute(
            &format!(
                "UPDATE leader_lease SET expires_us = {NOW_US}
                  WHERE id = 1 AND holder = ?1 AND epoch = ?2"
            ),
            params![lease.holder.as_str(), lease.epoch],
        )?;
        self.db.execute(
            "SELECT pg_notify(?1, '')",
            params![super::postgres::LEADER_CHANNEL],
        )?;
        Ok(())
    }

    /// Whether `lease` still stands by the database's clock.
    pub fn lease_holds(&self, lease: &Lease) -> Result<bool, StoreError> {
        self.lease_store("a leader lease")?;
        Ok(first(self.db.query(
            &format!(
                "SELECT 1 FROM leader_lease
                  WHERE id = 1 AND holder = ?1 AND epoch = ?2 AND expires_us > {NOW_US}"
            ),
            params![lease.holder.as_str(), lease.epoch],
        )?)
        .is_some())
    }

    /// Inside a write transaction: refuses the write unless `lease` still
    /// stands, and holds the lease row until the transaction ends so that
    /// no takeover slips in between the check and the commit.
    pub(super) fn fence(&self, lease: Option<&Lease>) -> Result<(), StoreError> {
        let Some(lease) = lease else {
            return Ok(());
        };
        self.lease_store("a write as leader")?;
        let holds = first(self.db.query(
            &format!(
                "SELECT 1 FROM leader_lease
                  WHERE id = 1 AND holder = ?1 AND epoch = ?2 AND expires_us > {NOW_US}
                  FOR SHARE"
            ),
            params![lease.holder.as_str(), lease.epoch],
        )?)
        .is_some();
        if holds {
            Ok(())
        } else {
            Err(StoreError::NotLeader(lease.epoch))
        }
    }
}
