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
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use jiff::Timestamp;
use tokio::sync::broadcast;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::AppState;
use super::api::Operator;
use super::errors::ApiError;
use crate::domain::Provider;
use crate::engine::Update;
use crate::engine::ops::Services;

/// Changes held for a slow client before it is resynchronised instead.
const BACKLOG: usize = 4096;

/// A comment line this often keeps proxies from closing an idle stream, and
/// lets a client tell a quiet server from a dead one.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// A snapshot is shared by the clients that connect while nothing changed,
/// for at most this long (which sessions count as recent moves with time).
const SNAPSHOT_REUSE: Duration = Duration::from_secs(5);

/// How often an open stream checks that its token still stands: a revoked
/// (or re-roled) operator stops hearing within this.
const TOKEN_RECHECK: Duration = Duration::from_secs(30);

/// The `event:` name of the first message and of a resynchronisation.
pub const SNAPSHOT: &str = "snapshot";
/// The `event:` name of a change.
pub const CHANGE: &str = "change";

/// The server's side of the stream: the engine's changes, broadcast.
#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<Arc<str>>,
    /// Changes sent so far: a snapshot built at one count is current while
    /// the count stays.
    sent: Arc<AtomicU64>,
    /// Each provider's latest health, which a snapshot does not carry.
    health: Arc<Mutex<HashMap<Provider, Arc<str>>>>,
    /// The last snapshot, with the count it was built at.
    cached: Arc<Mutex<Option<Cached>>>,
    /// Cancelled when the server stops: streams end, so a graceful shutdown
    /// does not wait on clients that never hang up.
    closing: CancellationToken,
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
            let json: Arc<str> = match serde_json::to_string(&update) {
                Ok(json) => json.into(),
                Err(error) => {
                    tracing::warn!(%error, "an update could not be written for the stream");
                    continue;
                }
            };
            if let Update::Health { provider, .. } = &update {
                lock(&self.health).insert(*provider, json.clone());
            }
            // Counted first: a client that subscribes between the two must
            // not be handed a snapshot from before this change.
            self.sent.fetch_add(1, Ordering::SeqCst);
            // No client connected is not an error.
            let _ = self.sender.send(json);
        }
    }

    /// The snapshot as the stream sends it, built anew only when something
    /// changed since the last one.
    fn snapshot(&self, services: &Services) -> Result<Arc<str>, ApiError> {
        let count = self.sent.load(Ordering::SeqCst);
        if let Some((at, built, json)) = lock(&self.cached).as_ref()
            && *at == count
            && built.elapsed() < SNAPSHOT_REUSE
        {
            return Ok(json.clone());
        }
        let loaded = {
            let store = services.store();
            crate::engine::run::snapshot(services, &store, Timestamp::now())?
        };
        let json: Arc<str> = serde_json::to_string(&loaded)
            .map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "snapshot",
                    format!("the snapshot could not be written: {e}"),
                )
            })?
            .into();
        *lock(&self.cached) = Some((count, Instant::now(), json.clone()));
        Ok(json)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A snapshot as sent: the change count and the time it was built at.
type Cached = (u64, Instant, Arc<str>);

/// Where one client's stream stands.
struct Client {
    /// Messages to send before waiting for changes: the snapshot and the
    /// providers' health.
    queued: Vec<Event>,
    receiver: broadcast::Receiver<Arc<str>>,
    state: AppState,
    operator: Operator,
    recheck: tokio::time::Interval,
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
    fn opening(state: &AppState) -> Result<Vec<Event>, ApiError> {
        let snapshot = state.events.snapshot(&state.services)?;
        let mut queued = vec![Event::default().event(SNAPSHOT).data(&*snapshot)];
        queued.extend(
            lock(&state.events.health)
                .values()
                .map(|json| Event::default().event(CHANGE).data(&**json)),
        );
        // Sent in order by popping from the end.
        queued.reverse();
        Ok(queued)
    }
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", description = "Any role. Server-sent events: first `snapshot` (what a dashboard starts from: sessions, histories, balance history, audit, providers), then a `change` for every session, audit row, balance reading and provider health change, each `{\"type\", \"data\"}`. A client that reconnects, or falls too far behind, is sent a fresh `snapshot`. A comment every 10 s keeps the stream alive.", responses((status = 200, description = "text/event-stream", content_type = "text/event-stream", body = String), (status = 401, body = super::api::ErrorBody), (status = 503, body = super::api::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribed before the snapshot is read: a change made in between comes
    // twice (clients keep the newer), never not at all.
    let receiver = state.events.sender.subscribe();
    let queued = Client::opening(&state)?;
    let mut recheck = tokio::time::interval(TOKEN_RECHECK);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let client = Client {
        queued,
        receiver,
        state,
        operator,
        recheck,
    };
    let events = futures::stream::unfold(client, |mut client| async move {
        if let Some(event) = client.queued.pop() {
            return Some((Ok(event), client));
        }
        let closing = client.state.events.closing.clone();
        let received = loop {
            tokio::select! {
                _ = closing.cancelled() => return None,
                _ = client.recheck.tick() => {
                    if !client.still_allowed() {
                        tracing::info!(operator = %client.operator.name, "token revoked: its event stream ends");
                        return None;
                    }
                }
                received = client.receiver.recv() => break received,
            }
        };
        match received {
            Ok(json) => Some((Ok(Event::default().event(CHANGE).data(&*json)), client)),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::info!(missed, "a client fell behind; sending it a fresh snapshot");
                client.receiver = client.receiver.resubscribe();
                // On failure the stream ends: the client reconnects, and is
                // resynchronised then.
                let mut queued = Client::opening(&client.state).ok()?;
                let event = queued.pop()?;
                client.queued = queued;
                Some((Ok(event), client))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
