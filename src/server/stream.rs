//! `GET /api/v1/events`: one client's server-sent event stream, fed by
//! `events`: the snapshot first, then each change, until the server stops
//! or the token no longer stands.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast;

use super::errors::ApiError;
use super::events::lock;
use super::operator::Operator;
use super::state::AppState;
use crate::domain::wire::KEEP_ALIVE;
use crate::store::TokenCheck;

/// How often the server looks for token changes (one query for all its
/// streams): a revoked or re-roled operator stops hearing within this.
const TOKEN_WATCH: Duration = Duration::from_secs(1);

/// Watches the tokens, whichever replica or command changed them, and tells
/// every open stream when they change, until the server stops; and tells
/// every client when the store stops answering, and when it answers again
/// (the stream stays open, but nothing it shows can be trusted meanwhile).
pub fn watch_tokens(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = None;
        let mut store_down = false;
        loop {
            let services = state.services.clone();
            let listed = tokio::task::spawn_blocking(move || {
                services.store().list_tokens().map(|tokens| {
                    tokens
                        .into_iter()
                        .map(|t| (t.name, t.role, t.revoked_at))
                        .collect::<Vec<_>>()
                })
            })
            .await;
            match listed {
                Ok(Ok(now)) => {
                    if last.as_ref().is_some_and(|last| *last != now) {
                        state.events.tokens.send_modify(|changes| *changes += 1);
                    }
                    last = Some(now);
                    if std::mem::replace(&mut store_down, false) {
                        tracing::info!("the store answers again");
                        state.events.server_state(None);
                    }
                }
                // Tokens stand as they were: streams carry on, told why
                // nothing moves.
                Ok(Err(error)) => {
                    if !std::mem::replace(&mut store_down, true) {
                        tracing::warn!(%error, "the store does not answer");
                        // Its cause stays in the log: clients are told only that.
                        state
                            .events
                            .server_state(Some("the store does not answer".into()));
                    }
                }
                Err(_) => {}
            }
            tokio::select! {
                _ = state.events.closing.cancelled() => break,
                _ = tokio::time::sleep(TOKEN_WATCH) => {}
            }
        }
    })
}

/// Where one client's stream stands.
struct Client {
    /// Frames to send before waiting for changes: the snapshot and the
    /// providers' health, in order.
    queued: std::collections::VecDeque<Bytes>,
    receiver: broadcast::Receiver<Bytes>,
    state: AppState,
    operator: Operator,
    /// Moves when any token changed: then this stream checks its own.
    tokens: tokio::sync::watch::Receiver<u64>,
    keep_alive: tokio::time::Interval,
}

impl Drop for Client {
    fn drop(&mut self) {
        crate::telemetry::stream_clients(-1.0);
    }
}

impl Client {
    /// Whether the token the stream was opened with still works, with the
    /// same operator and role: not revoked, not expired, not past a
    /// rotation's grace (a store that does not answer is given the benefit
    /// of the doubt).
    fn still_allowed(&self) -> bool {
        let checked = self
            .state
            .services
            .store()
            .use_token(&self.operator.token_hash.0, jiff::Timestamp::now());
        match checked {
            Ok(TokenCheck::Valid(info)) => {
                info.name == self.operator.name && info.role == self.operator.role
            }
            Ok(_) => false,
            Err(_) => true,
        }
    }

    /// The snapshot and the latest health, to send first.
    fn opening(state: &AppState) -> Result<std::collections::VecDeque<Bytes>, ApiError> {
        let mut queued =
            std::collections::VecDeque::from([state.events.snapshot(&state.services)?]);
        queued.extend(lock(&state.events.health).values().cloned());
        queued.extend(lock(&state.events.server).clone());
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
                // Time alone ends a token (its expiry, a rotation's grace):
                // checked with each keep-alive, so within its period.
                _ = self.keep_alive.tick() => {
                    if !self.still_allowed() {
                        tracing::info!(operator = %self.operator.name, "token expired: its event stream ends");
                        return None;
                    }
                    return Some(Bytes::from_static(b": keep-alive\n\n"));
                }
                Ok(()) = self.tokens.changed() => {
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

#[utoipa::path(get, path = "/api/v1/events", tag = "events", description = "Any role. Server-sent events: first `snapshot` (what a dashboard starts from: sessions, histories, balance history, audit, providers), then a `change` for every session, audit row, balance reading and provider health change, each `{\"type\", \"data\"}`. A client that reconnects, or falls too far behind, is sent a fresh `snapshot`. A comment every 10 s keeps the stream alive; a revoked or re-roled token's stream ends within a second or two.", responses((status = 200, description = "text/event-stream: frames `event: NAME` and `data: JSON`. A `snapshot` or `change` event's data is an Update (a snapshot's type is `loaded`); a `server` event's data is `{\"store\": null or \"unreachable\"}`.", content_type = "text/event-stream", body = crate::engine::Update), (status = 401, body = super::errors::ErrorBody), (status = 503, body = super::errors::ErrorBody)))]
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
        tokens: state.events.tokens.subscribe(),
        state,
        operator,
        keep_alive: interval(KEEP_ALIVE),
    };
    crate::telemetry::stream_clients(1.0);
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
