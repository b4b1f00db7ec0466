//! Which `payops serve` polls. On an SQLite file there is one server (a
//! second is refused) and it leads. On PostgreSQL every replica serves
//! clients, but only the one holding the leader lease (`store::lease`)
//! polls sessions and fetches the balance. The leader renews the lease
//! every [`LEADER_CHECK`]; a follower takes it over once it lapses
//! ([`LEASE_TTL`]: a leader paused or cut off), or at once when the
//! holder's connection is gone (a leader killed). Its epoch fences every
//! write the leader makes as leader, so one that wakes after losing the
//! lease writes nothing as leader.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::errors::ServeError;
use crate::engine::Command;
use crate::store::postgres::LeaderListener;
use crate::store::{Lease, Store};

/// How often a follower asks for the lease, and the leader renews it.
pub const LEADER_CHECK: Duration = Duration::from_secs(2);

/// How long a lease runs unrenewed: a paused leader is replaced within
/// this and one [`LEADER_CHECK`] (12 s), and a leader that misses a few
/// renewals through a slow database keeps it.
pub const LEASE_TTL: Duration = Duration::from_secs(10);

/// Refuses a second `payops serve` on one SQLite file: two engines would
/// both poll and both hold the notify guard only per file lock. The lock
/// is the OS's, so it goes with the process however it ends.
pub fn lock_sqlite(database: &Path) -> Result<File, ServeError> {
    let path = database.with_extension("db.serve-lock");
    crate::files::create_private_file(&path)
        .map_err(|e| ServeError::Setup(format!("cannot create {}: {e}", path.display())))?;
    let file = File::options()
        .write(true)
        .open(&path)
        .map_err(|e| ServeError::Setup(format!("cannot create {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ServeError::Setup(format!(
            "another payops serve is already running on {}: one server per SQLite file; for \
             several replicas, share a PostgreSQL store ([store] url or PAYOPS_STORE_URL)",
            database.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(ServeError::Setup(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// This process, as the lease names its holder: the host, the process id
/// and a random part, so a restarted process is never taken for its
/// predecessor.
pub fn holder_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}/{}/{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Asks for the leader lease every [`LEADER_CHECK`] until `stop`, renewing
/// it while held, and tells the engine (and `leading`, for /healthz)
/// whenever leadership changes. On `stop` the lease is let go at once, so
/// a follower takes over at its next check.
pub async fn run(
    store: Store,
    mut listener: Option<LeaderListener>,
    commands: UnboundedSender<Command>,
    leading: Arc<AtomicBool>,
    epoch: Arc<AtomicI64>,
    stop: CancellationToken,
) {
    let store = Arc::new(std::sync::Mutex::new(store));
    let holder = holder_name();
    let mut held: Option<Lease> = None;
    loop {
        let asked = held.clone();
        let answer = {
            let store = store.clone();
            let holder = holder.clone();
            tokio::task::spawn_blocking(move || {
                let store = store
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                match asked {
                    Some(lease) => store
                        .renew_lease(&lease, LEASE_TTL)
                        .map(|renewed| renewed.then_some(lease)),
                    None => store.take_lease(&holder, LEASE_TTL),
                }
            })
            .await
        };
        match (held.is_some(), answer) {
            (_, Ok(Ok(Some(lease)))) => {
                if held.is_none() {
                    tracing::info!(
                        epoch = lease.epoch,
                        "took the leader lease: this replica polls"
                    );
                    leading.store(true, Ordering::Relaxed);
                    crate::telemetry::leader(true);
                    epoch.store(lease.epoch, Ordering::Relaxed);
                    let _ = commands.send(Command::Lead(Some(lease.clone())));
                }
                held = Some(lease);
            }
            (true, Ok(Ok(None))) => {
                tracing::warn!(
                    "the leader lease passed to another replica (this one was paused or cut                      off); polling stops here"
                );
                held = None;
                leading.store(false, Ordering::Relaxed);
                crate::telemetry::leader(false);
                let _ = commands.send(Command::Lead(None));
            }
            (false, Ok(Ok(None))) => {}
            // The database did not answer: a leader keeps polling until its
            // lease lapses, when its writes are refused anyway.
            (_, Ok(Err(error))) => tracing::warn!(%error, "could not reach the leader lease"),
            (_, Err(error)) => tracing::warn!(%error, "the leader lease check stopped"),
        }
        let released = async {
            match listener.as_mut() {
                // The leader's own release comes back to it too: it leads
                // on, renewing at its next check.
                Some(listener) if held.is_none() => listener.released().await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(LEADER_CHECK) => {}
            _ = released => tracing::debug!("the leader let the lease go: asking now"),
        }
    }
    leading.store(false, Ordering::Relaxed);
    crate::telemetry::leader(false);
    if let Some(lease) = held {
        let _ = commands.send(Command::Lead(None));
        let released = tokio::task::spawn_blocking(move || {
            let store = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            store.release_lease(&lease)
        })
        .await;
        match released {
            Ok(Ok(())) => tracing::info!("let the leader lease go: a follower takes over"),
            Ok(Err(error)) => tracing::warn!(%error, "could not let the leader lease go"),
            Err(error) => tracing::warn!(%error, "could not let the leader lease go"),
        }
    }
}
