//! The event stream, `GET /api/v1/events` (server-sent events): each client
//! gets a snapshot of what a dashboard starts from when it connects, then
//! every change the server's engine reports, as it reports it.
//!
//! The engine sees what every replica and every API call writes (its store
//! watch, woken by PostgreSQL's notifications or by the API itself), so one
//! stream per replica carries the whole team's changes. A client that
//! reconnects gets a fresh snapshot: that is its resynchronisation, and
//! nothing it missed while away is lost. One that falls too far behind is
//! sent a fresh snapshot in the same way.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use tokio::sync::broadcast;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::errors::ApiError;
use super::operator::Operator;
use super::state::AppState;
use crate::domain::Provider;
use crate::domain::wire::{CHANGE, KEEP_ALIVE, SNAPSHOT};
use crate::engine::Update;
use crate::engine::ops::Services;

/// Changes held for a slow client before it is resynchronised instead.
const BACKLOG: usize = 4096;

/// A snapshot is shared by the clients that connect while nothing changed,
/// for at most this long (which sessions count as recent moves with time).
const SNAPSHOT_REUSE: Duration = Duration::from_secs(5);

/// How often an open stream checks that its token still stands: a revoked
/// (or re-roled) operator stops hearing within this.
const TOKEN_RECHECK: Duration = Duration::from_secs(30);

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
    sender: broadcast::Sender<Bytes>,
    /// Changes sent so far: a snapshot built at one count is current while
    /// the count stays.
    sent: Arc<AtomicU64>,
    /// Each provider's latest health, which a snapshot does not carry.
    health: Arc<Mutex<HashMap<Provider, Bytes>>>,
    /// The last snapshot. Held while one is built, so clients connecting at
    /// once wait for one build rather than each make their own.
    cached: Arc<Mutex<Option<Cached>>>,
    /// Cancelled when the server stops: streams end, so a graceful shutdown
    /// does not wait on clients that never hang up.
    closing: CancellationToken,
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
            cached: Arc::default(),
            closing: CancellationToken::new(),
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
            if let Update::Health { provider, .. } = &update {
                lock(&self.health).insert(*provider, frame.clone());
            }
            // Counted first: a client that subscribes between the two must
            // not be handed a snapshot from before this change.
            self.sent.fetch_add(1, Ordering::SeqCst);
            // No client connected is not an error.
            let _ = self.sender.send(frame);
        }
    }

    /// The snapshot frame, built anew only when something changed since the
    /// last one.
    fn snapshot(&self, services: &Services) -> Result<Bytes, ApiError> {
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where one client's stream stands.
struct Client {
    /// Frames to send before waiting for changes: the snapshot and the
    /// providers' health, in order.
    queued: std::collections::VecDeque<Bytes>,
    receiver: broadcast::Receiver<Bytes>,
    state: AppState,
    operator: Operator,
    recheck: tokio::time::Interval,
    keep_alive: tokio::time::Interval,
}

impl Client {
    /// Whether the operator still holds an active token with this role (a
    /// store that does not answer is given the benefit of the doubt).
    fn still_allowed(&self) -> bool {
        match self.state.services.store().list_tokens() {
            Ok(tokens) => tokens.iter().any(|token| {
                token.name == self.operator.name
                    && token.role == self.operator.role
                    && token.revoked_at.is_none()
            }),
            Err(_) => true,
        }
    }

    /// The snapshot and the latest health, to send first.
    fn opening(state: &AppState) -> Result<std::collections::VecDeque<Bytes>, ApiError> {
        let mut queued =
            std::collections::VecDeque::from([state.events.snapshot(&state.services)?]);
        queued.extend(lock(&state.events.health).values().cloned());
        Ok(queued)
    }

    /// The next frame to send, or None when the stream ends.
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(frame) = self.queued.pop_front() {
            return Some(frame);
        }
        let closing = self.state.events.closing.clone();
        let received = loop {
            tokio::select! {
                _ = closing.cancelled() => return None,
                _ = self.keep_alive.tick() => return Some(Bytes::from_static(b": keep-alive\n\n")),
                _ = self.recheck.tick() => {
                    if !self.still_allowed() {
                        tracing::info!(operator = %self.operator.name, "token revoked: its event stream ends");
                        return None;
                    }
                }
                received = self.receiver.recv() => break received,
            }
        };
        match received {
            Ok(frame) => Some(frame),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::info!(missed, "a client fell behind; sending it a fresh snapshot");
                self.receiver = self.receiver.resubscribe();
                // On failure the stream ends: the client reconnects, and is
                // resynchronised then.
                self.queued = Client::opening(&self.state).ok()?;
                self.queued.pop_front()
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", description = "Any role. Server-sent events: first `snapshot` (what a dashboard starts from: sessions, histories, balance history, audit, providers), then a `change` for every session, audit row, balance reading and provider health change, each `{\"type\", \"data\"}`. A client that reconnects, or falls too far behind, is sent a fresh `snapshot`. A comment every 10 s keeps the stream alive; a revoked token's stream ends within 30 s.", responses((status = 200, description = "text/event-stream", content_type = "text/event-stream", body = String), (status = 401, body = super::errors::ErrorBody), (status = 503, body = super::errors::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Result<Response, ApiError> {
    // Subscribed before the snapshot is read: a change made in between comes
    // twice (clients keep the newer), never not at all.
    let receiver = state.events.sender.subscribe();
    let queued = Client::opening(&state)?;
    let interval = |period: Duration| {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    };
    let client = Client {
        queued,
        receiver,
        state,
        operator,
        recheck: interval(TOKEN_RECHECK),
        keep_alive: interval(KEEP_ALIVE),
    };
    let frames = futures::stream::unfold(client, |mut client| async move {
        let frame = client.next().await?;
        Some((Ok::<_, Infallible>(frame), client))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            // A proxy in front (nginx) must not hold events back.
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(frames),
    )
        .into_response())
}
