//! Following the server's event stream: connect, read the snapshot and the
//! changes, and when the connection goes, say so and connect again after a
//! growing, jittered pause.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use reqwest::Method;
use tokio::sync::mpsc::UnboundedSender;

use super::{ServerClient, refusal};
use crate::domain::wire::{CHANGE, KEEP_ALIVE, SERVER_STATE, SNAPSHOT};
use crate::engine::Update;

/// No byte from the server for this long (it sends a comment every
/// `KEEP_ALIVE`) means the connection is gone, even if TCP has not noticed.
const SILENCE: Duration = Duration::from_secs(3 * KEEP_ALIVE.as_secs());

const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(10);

/// What the stream tells the client's engine.
#[derive(Debug)]
pub(crate) enum StreamMessage {
    /// What the server holds now: replaces everything the client had.
    Snapshot(Update),
    Change(Update),
    /// The server's store stopped answering (why), or answers again (None):
    /// the stream is up, but nothing moves meanwhile.
    StoreDown(Option<String>),
    /// The connection is gone (or never came); the next try is in `retry_in`.
    /// `refused`: the server turned the token away.
    Lost {
        reason: String,
        retry_in: Duration,
        refused: bool,
    },
}

fn delays() -> ExponentialBackoff {
    ExponentialBuilder::default()
        .with_min_delay(FIRST_RETRY)
        .with_max_delay(LAST_RETRY)
        .with_jitter()
        .without_max_times()
        .build()
}

/// Follows the stream until `out` is closed (the engine stopped).
pub(crate) async fn follow(client: ServerClient, out: UnboundedSender<StreamMessage>) {
    let mut retries = delays();
    loop {
        let tried = client.replica();
        let reason = match read(&client, &out, &mut retries).await {
            Ok(()) if out.is_closed() => return,
            Ok(()) => "the server closed the event stream".to_string(),
            Err(Lost::Refused(reason)) => {
                // A revoked or expired token stays refused: say so once and
                // stop, rather than knock on the door forever.
                tracing::info!(%reason, "the server refused the token: no more tries");
                let _ = out.send(StreamMessage::Lost {
                    reason,
                    retry_in: Duration::ZERO,
                    refused: true,
                });
                return;
            }
            Err(Lost::Gone(reason)) => {
                // Another replica may answer where this one did not.
                client.next_replica(tried);
                reason
            }
        };
        // Jitter spreads the clients of a restarted server; never past the cap.
        let retry_in = retries.next().unwrap_or(LAST_RETRY).min(LAST_RETRY);
        tracing::info!(%reason, retry_ms = retry_in.as_millis() as u64, "event stream lost");
        let lost = StreamMessage::Lost {
            reason,
            retry_in,
            refused: false,
        };
        if out.send(lost).is_err() {
            return;
        }
        tokio::time::sleep(retry_in).await;
    }
}

/// Why a connection ended.
enum Lost {
    /// The server answered 401 or 403: the token is not (or no longer) good.
    Refused(String),
    Gone(String),
}

impl From<String> for Lost {
    fn from(reason: String) -> Lost {
        Lost::Gone(reason)
    }
}

/// One connection: Ok when it ended cleanly, Err with why otherwise.
async fn read(
    client: &ServerClient,
    out: &UnboundedSender<StreamMessage>,
    retries: &mut ExponentialBackoff,
) -> Result<(), Lost> {
    let url = client.url(&["events"]).map_err(|e| e.to_string())?;
    // The server reads its snapshot before it answers; one that accepts
    // the connection and then says nothing is as gone as one that refuses.
    let response = tokio::time::timeout(
        SILENCE,
        client
            .request(Method::GET, url)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send(),
    )
    .await
    .map_err(|_| format!("no answer from the server in {} s", SILENCE.as_secs()))?
    .map_err(|e| client.unreachable(&e).to_string())?;
    let status = response.status();
    if !status.is_success() {
        let reason = refusal(status, &response.text().await.unwrap_or_default()).to_string();
        return Err(match status.as_u16() {
            401 | 403 => Lost::Refused(reason),
            _ => Lost::Gone(reason),
        });
    }
    let started = Instant::now();
    // Milliseconds since `started` at the last byte: comments count too.
    let last_byte = Arc::new(AtomicU64::new(0));
    let seen = last_byte.clone();
    let mut events = response
        .bytes_stream()
        .inspect(move |_| {
            seen.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        })
        .eventsource();
    let mut check = tokio::time::interval(KEEP_ALIVE);
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            _ = check.tick() => {
                let quiet = (started.elapsed().as_millis() as u64)
                    .saturating_sub(last_byte.load(Ordering::Relaxed));
                if quiet > SILENCE.as_millis() as u64 {
                    return Err(Lost::Gone(format!("no word from the server for {} s", quiet / 1000)));
                }
                continue;
            }
        };
        let Some(event) = event else {
            return Ok(());
        };
        let event = event.map_err(|e| format!("the event stream broke: {e}"))?;
        let message = match event.event.as_str() {
            SNAPSHOT | CHANGE => {
                let update: Update = serde_json::from_str(&event.data).map_err(|e| {
                    format!("the server sent an event this payops cannot read: {e}")
                })?;
                if event.event == SNAPSHOT {
                    // A connection that got this far counts as a success.
                    *retries = delays();
                    StreamMessage::Snapshot(update)
                } else {
                    StreamMessage::Change(update)
                }
            }
            SERVER_STATE => {
                let state: serde_json::Value = serde_json::from_str(&event.data).map_err(|e| {
                    format!("the server sent an event this payops cannot read: {e}")
                })?;
                StreamMessage::StoreDown(state["store"].as_str().map(str::to_string))
            }
            // A newer server's events an older client does not know.
            _ => continue,
        };
        if out.send(message).is_err() {
            return Ok(());
        }
    }
}
