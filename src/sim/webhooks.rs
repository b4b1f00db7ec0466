//! Cashfree's webhook, sent as Cashfree sends it: whenever a Cashfree
//! session's status changes (and when a consent's hour runs out), a signed
//! POST of `{event_type, event_time, version: "v1", data}` to the
//! configured URL, `data` being the status object with the customer's
//! `user_details`. Answers other than 2xx, and no answer, are retried with
//! backoff, each attempt signed afresh with its own timestamp and counted
//! in `x-webhook-attempt`. With the `duplicate` and `reorder` faults some
//! deliveries are sent twice, or held back (under a second) so later ones
//! overtake them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::documents::CONSENT_WINDOW_SECS;
use super::state::{CfSession, SimState, hash, lock, unit};
use crate::domain::SessionStatus;
use crate::providers::cashfree_webhook::{
    ATTEMPT_HEADER, EVENT_PREFIX, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign,
};

/// How often the sessions are looked over for changes (real time).
const SCAN: Duration = Duration::from_millis(50);
/// Attempts per delivery before it is given up.
const ATTEMPTS: u32 = 8;
/// The first retry's wait; each next one doubles, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where deliveries go (None: nowhere; settable while running, as a
/// merchant edits it in the dashboard), and what was sent so far.
#[derive(Default)]
pub(crate) struct Webhooks {
    pub url: Mutex<Option<url::Url>>,
    pub stats: Mutex<WebhookStats>,
}

impl Webhooks {
    pub fn to(url: Option<url::Url>) -> Webhooks {
        Webhooks {
            url: Mutex::new(url),
            stats: Mutex::default(),
        }
    }
}

/// What the sender has done, for tests and the benchmark.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookStats {
    /// Events (status changes) sent, each once however many attempts.
    pub events: u64,
    /// Extra copies sent by the `duplicate` fault.
    pub duplicated: u64,
    /// Deliveries held back by the `reorder` fault.
    pub reordered: u64,
    /// POSTs made, retries included.
    pub attempts: u64,
    /// Attempts answered with something other than 2xx.
    pub refused: u64,
    /// Attempts with no answer (connection refused, timeout).
    pub unanswered: u64,
    /// Deliveries given up after every attempt.
    pub given_up: u64,
    /// 2xx answers by their `outcome` (applied, duplicate, stale, untracked).
    pub outcomes: HashMap<String, u64>,
    /// The slowest answer (2xx or not) to an attempt.
    pub slowest_answer: Duration,
}

/// A session's latest event and when (sim seconds) it happened: its
/// outcome once it has one, then its consent's expiry an hour after.
pub(crate) fn changed_at(state: &SimState, session: &CfSession) -> Option<(&'static str, f64)> {
    let now = state.now();
    let life = &session.life;
    let at = life
        .forced_at
        .filter(|_| life.forced.is_some())
        .unwrap_or(life.created_at + life.fate.after);
    match life.status(now) {
        SessionStatus::Authenticated => {
            let consented = life.consented_at(now).unwrap_or(at);
            if now - consented > CONSENT_WINDOW_SECS {
                Some(("CONSENT_EXPIRED", consented + CONSENT_WINDOW_SECS))
            } else {
                Some(("SUCCESS", consented))
            }
        }
        SessionStatus::Expired => Some(("LINK_EXPIRED", at)),
        SessionStatus::ConsentDenied => Some(("CONSENT_DENIED", at)),
        SessionStatus::Pending | SessionStatus::Unknown(_) => None,
    }
}

/// Looks the sessions over until the simulator stops, sending what changed.
pub(crate) async fn run(state: Arc<SimState>) {
    // What each session last announced. Sessions already settled when the
    // sender starts (restored from a state file) are not announced again.
    let mut announced: HashMap<String, &'static str> = state
        .cf_sessions()
        .iter()
        .filter_map(|s| changed_at(&state, s).map(|(event, _)| (s.verification_id.clone(), event)))
        .collect();
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%error, "the simulator cannot send webhooks");
            return;
        }
    };
    let mut ticker = tokio::time::interval(SCAN);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if lock(&state.webhooks.url).is_none() {
            continue;
        }
        for session in state.cf_sessions() {
            let Some((event, at)) = changed_at(&state, &session) else {
                continue;
            };
            if announced.get(&session.verification_id) == Some(&event) {
                continue;
            }
            announced.insert(session.verification_id.clone(), event);
            let body = event_body(&state, &session, event, at);
            lock(&state.webhooks.stats).events += 1;
            let roll = unit(hash(
                state.seed,
                &[
                    b"webhook",
                    session.verification_id.as_bytes(),
                    event.as_bytes(),
                ],
            ));
            let faults = lock(&state.faults).clone();
            let hold = if roll < faults.reorder {
                lock(&state.webhooks.stats).reordered += 1;
                Duration::from_millis(200 + (roll * 1e6) as u64 % 700)
            } else {
                Duration::ZERO
            };
            tokio::spawn(deliver(state.clone(), client.clone(), body.clone(), hold));
            // A second roll, apart from the first, for the copy.
            if unit(hash(
                state.seed,
                &[
                    b"webhook-copy",
                    session.verification_id.as_bytes(),
                    event.as_bytes(),
                ],
            )) < faults.duplicate
            {
                lock(&state.webhooks.stats).duplicated += 1;
                tokio::spawn(deliver(
                    state.clone(),
                    client.clone(),
                    body,
                    hold + Duration::from_millis(200),
                ));
            }
        }
    }
}

/// A delivery's body: `data` is the status object a status call would
/// answer now, `user_details` and all.
fn event_body(state: &SimState, session: &CfSession, event: &str, at: f64) -> Vec<u8> {
    let body = json!({
        "event_type": format!("{EVENT_PREFIX}{event}"),
        "event_time": format!("{:.0}", state.wall_time(at)),
        "version": "v1",
        "data": super::cashfree::status_body(state, session.clone()),
    });
    body.to_string().into_bytes()
}

/// Sends one delivery until it is acknowledged, the URL is unset, or the
/// attempts run out.
async fn deliver(state: Arc<SimState>, client: reqwest::Client, body: Vec<u8>, hold: Duration) {
    if !hold.is_zero() {
        tokio::time::sleep(hold).await;
    }
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let Some(url) = lock(&state.webhooks.url).clone() else {
            return;
        };
        let timestamp = jiff::Timestamp::now().as_millisecond().to_string();
        let signature = sign(&state.credentials.cashfree_client_secret, &timestamp, &body);
        lock(&state.webhooks.stats).attempts += 1;
        let asked = std::time::Instant::now();
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, &timestamp)
            .header(SIGNATURE_HEADER, signature)
            .header(ATTEMPT_HEADER, attempt.to_string())
            .body(body.clone())
            .send()
            .await;
        if sent.is_ok() {
            let took = asked.elapsed();
            let mut stats = lock(&state.webhooks.stats);
            stats.slowest_answer = stats.slowest_answer.max(took);
        }
        match sent {
            Ok(answer) if answer.status().is_success() => {
                let outcome = answer
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["outcome"].as_str().map(str::to_string))
                    .unwrap_or_else(|| "acknowledged".into());
                *lock(&state.webhooks.stats)
                    .outcomes
                    .entry(outcome)
                    .or_default() += 1;
                return;
            }
            Ok(_) => lock(&state.webhooks.stats).refused += 1,
            Err(_) => lock(&state.webhooks.stats).unanswered += 1,
        }
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    lock(&state.webhooks.stats).given_up += 1;
}
