//! The event stream's source (`stream` serves it as `GET /api/v1/events`,
//! server-sent events): each client gets a snapshot of what a dashboard
//! starts from when it connects, then every change the server's engine
//! reports, as it reports it.
//!
//! The engine sees what every replica and every API call writes (its store
//! watch, woken by PostgreSQL's notifications or by the API itself), so one
//! stream per replica carries the whole team's changes. A client that
//! reconnects gets a fresh snapshot: that is its resynchronisation, and
//! nothing it missed while away is lost. One that falls too far behind is
//! sent a fresh snapshot in the same way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use jiff::Timestamp;
use tokio::sync::broadcast;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::errors::ApiError;
use crate::domain::Provider;
use crate::domain::wire::{CHANGE, SERVER_STATE, SNAPSHOT};
use crate::engine::ops::Services;
use crate::engine::{ProviderHealth, Update};

/// Changes held for a slow client before it is resynchronised instead.
const BACKLOG: usize = 4096;

/// A snapshot is shared by the clients that connect while nothing changed,
/// for at most this long (which sessions count as recent moves with time).
const SNAPSHOT_REUSE: Duration = Duration::from_secs(5);

/// One server-sent event, encoded once and shared by every client's stream
/// (a snapshot of 10,000 sessions is megabytes: fifty clients must not
/// each hold a copy).
fn frame(event: &str, json: &str) -> Bytes {
    // serde_json writes no raw newline, so the data is one `data:` line.
    Bytes::from(format!("event: {event}\ndata: {json}\n\n"))
}

/// The server's side of the stream: the engine's changes, broadcast.
#[derive(Clone)]
pub struct Events {
    pub(super) sender: broadcast::Sender<Bytes>,
    /// Changes sent so far: a snapshot built at one count is current while
    /// the count stays.
    sent: Arc<AtomicU64>,
    /// Each provider's latest health, which a snapshot does not carry: as
    /// sent, and as /healthz reads it.
    pub(super) health: Arc<Mutex<HashMap<Provider, Bytes>>>,
    pub(super) provider_health: Arc<Mutex<HashMap<Provider, ProviderHealth>>>,
    /// While the store is down, the frame that says so, for clients that
    /// connect meanwhile.
    pub(super) server: Arc<Mutex<Option<Bytes>>>,
    /// The last snapshot. Held while one is built, so clients connecting at
    /// once wait for one build rather than each make their own.
    cached: Arc<Mutex<Option<Cached>>>,
    /// Cancelled when the server stops: streams end, so a graceful shutdown
    /// does not wait on clients that never hang up.
    pub(super) closing: CancellationToken,
    /// Counts up whenever a token is added, re-roled or revoked on any
    /// replica (`stream::watch_tokens`): each open stream then checks its own.
    pub(super) tokens: Arc<tokio::sync::watch::Sender<u64>>,
}

/// A snapshot frame, with the change count and the time it was built at.
struct Cached {
    count: u64,
    built: Instant,
    frame: Bytes,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            sender: broadcast::channel(BACKLOG).0,
            sent: Arc::default(),
            health: Arc::default(),
            provider_health: Arc::default(),
            server: Arc::default(),
            cached: Arc::default(),
            closing: CancellationToken::new(),
            tokens: Arc::new(tokio::sync::watch::channel(0).0),
        }
    }
}

/// What of the engine's updates goes to every operator. A notify's progress
/// becomes the audit row it is; the engine's own start, a dashboard's
/// requests and personal data stay in the process.
pub fn shared(update: Update) -> Option<Update> {
    match update {
        Update::NotifyStarted(entry) | Update::NotifyFinished { entry, .. } => {
            Some(Update::AuditChanged(entry))
        }
        update @ (Update::BalanceRefreshing
        | Update::BalanceFetched(_)
        | Update::BalanceFailed(_)
        | Update::SessionChanged { .. }
        | Update::PollFailed { .. }
        | Update::Health { .. }
        | Update::SessionUntracked(_)
        | Update::AuditChanged(_)) => Some(update),
        _ => None,
    }
}

impl Events {
    /// Ends every client's stream (the server is stopping).
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// Sends the engine's updates on until the engine stops.
    pub async fn forward(self, mut updates: UnboundedReceiver<Update>) {
        while let Some(update) = updates.recv().await {
            let Some(update) = shared(update) else {
                continue;
            };
            let json = match serde_json::to_string(&update) {
                Ok(json) => json,
                Err(error) => {
                    tracing::warn!(%error, "an update could not be written for the stream");
                    continue;
                }
            };
            let frame = frame(CHANGE, &json);
            if let Update::Health { provider, health } = &update {
                lock(&self.health).insert(*provider, frame.clone());
                lock(&self.provider_health).insert(*provider, health.clone());
            }
            // Counted first: a client that subscribes between the two must
            // not be handed a snapshot from before this change.
            self.sent.fetch_add(1, Ordering::SeqCst);
            // No client connected is not an error.
            let _ = self.sender.send(frame);
        }
    }

    /// Tells every client whether the server's store answers (`None`) or
    /// why not; a client connecting later learns it with its snapshot.
    pub(super) fn server_state(&self, store_down: Option<String>) {
        let json = serde_json::json!({ "store": store_down }).to_string();
        let frame = frame(SERVER_STATE, &json);
        *lock(&self.server) = store_down.is_some().then(|| frame.clone());
        self.sent.fetch_add(1, Ordering::SeqCst);
        let _ = self.sender.send(frame);
    }

    /// The snapshot frame, built anew only when something changed since the
    /// last one.
    pub(super) fn snapshot(&self, services: &Services) -> Result<Bytes, ApiError> {
        let count = self.sent.load(Ordering::SeqCst);
        let mut cached = lock(&self.cached);
        if let Some(current) = cached.as_ref()
            && current.count == count
            && current.built.elapsed() < SNAPSHOT_REUSE
        {
            return Ok(current.frame.clone());
        }
        // The old one goes before the new one is built: one at a time in memory.
        *cached = None;
        let loaded = {
            let store = services.store();
            crate::engine::run::snapshot(services, &store, Timestamp::now())?
        };
        // Written straight into the frame: no second copy of megabytes.
        let mut buffer = format!("event: {SNAPSHOT}\ndata: ").into_bytes();
        serde_json::to_writer(&mut buffer, &loaded).map_err(|e| {
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "snapshot",
                format!("the snapshot could not be written: {e}"),
            )
        })?;
        drop(loaded);
        buffer.extend_from_slice(b"\n\n");
        let frame = Bytes::from(buffer);
        *cached = Some(Cached {
            count,
            built: Instant::now(),
            frame: frame.clone(),
        });
        Ok(frame)
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
