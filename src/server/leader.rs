//! Which `payops serve` polls. On an SQLite file there is one server (a
//! second is refused) and it leads. On PostgreSQL every replica serves
//! clients, but only the one holding the leader advisory lock polls
//! sessions and fetches the balance; when it stops or dies, PostgreSQL
//! drops its lock with its connection and the next replica to ask takes it.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::errors::ServeError;
use crate::engine::Command;
use crate::store::postgres::SessionLock;

/// How often a follower asks for the lock, and the leader checks it still
/// has it: a dead leader is replaced within this (plus one poll's start),
/// well inside the 10 s the team can wait.
pub const LEADER_CHECK: Duration = Duration::from_secs(2);

/// The one leader lock: every replica polls every provider account the
/// server is configured with.
const LEADER_KEY: i32 = 1;

/// Refuses a second `payops serve` on one SQLite file: two engines would
/// both poll and both hold the notify guard only per file lock. The lock
/// is the OS's, so it goes with the process however it ends.
pub fn lock_sqlite(database: &Path) -> Result<File, ServeError> {
    let path = database.with_extension("db.serve-lock");
    let file = File::create(&path)
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

/// Asks for the leader lock every [`LEADER_CHECK`] until `stop`, telling
/// the engine (and `leading`, for /healthz) whenever leadership changes.
pub async fn run(
    url: SecretString,
    commands: UnboundedSender<Command>,
    leading: Arc<AtomicBool>,
    stop: CancellationToken,
) {
    let mut held: Option<Arc<SessionLock>> = None;
    loop {
        let still_held = match held.clone() {
            Some(lock) => tokio::task::spawn_blocking(move || lock.alive())
                .await
                .unwrap_or(false),
            None => false,
        };
        if held.is_some() && !still_held {
            tracing::warn!("lost the leader lock (its connection dropped); polling stops here");
            held = None;
            leading.store(false, Ordering::Relaxed);
            let _ = commands.send(Command::Lead(false));
        }
        if held.is_none() {
            let url = url.clone();
            let taken = tokio::task::spawn_blocking(move || {
                SessionLock::try_take(url.expose_secret(), LEADER_KEY)
            })
            .await;
            match taken {
                Ok(Ok(Some(lock))) => {
                    tracing::info!("took the leader lock: this replica polls");
                    held = Some(Arc::new(lock));
                    leading.store(true, Ordering::Relaxed);
                    let _ = commands.send(Command::Lead(true));
                }
                Ok(Ok(None)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "could not ask for the leader lock"),
                Err(error) => tracing::warn!(%error, "the leader lock check stopped"),
            }
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(LEADER_CHECK) => {}
        }
    }
    // Dropping the lock's connection releases it at once for the next leader.
    drop(held);
    leading.store(false, Ordering::Relaxed);
}
