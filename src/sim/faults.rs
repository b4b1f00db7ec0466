//! Fault injection and the front gate every request passes: count it, apply
//! the real rate limit, then maybe misbehave, all before any validation.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::state::{Admission, SimState, hash, lock, unit};
use super::{cashfree, instantpay};
use crate::domain::Provider;

/// Probabilities (0..=1) of each injected fault per request.
///
/// One roll per request picks at most one fault: the probabilities stack in
/// the order 429, 500, timeout, garbage, so if they add up to more than 1
/// the later ones happen less often than asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// 429 with Retry-After.
    pub rate_limit: f64,
    /// 500 (InstantPay: non-JSON or envelope; Cashfree: `verification_failed`).
    pub server_error: f64,
    /// Hang without answering (the client's timeout fires).
    pub timeout: f64,
    /// A 200 whose body is not JSON, or JSON cut short.
    pub garbage: f64,
    /// A webhook delivery sent twice.
    pub duplicate: f64,
    /// A webhook delivery held back 0.2 to 0.9 s, so deliveries sent after
    /// it arrive first.
    pub reorder: f64,
}

impl Faults {
    pub fn none() -> Faults {
        Faults::default()
    }

    pub fn is_none(&self) -> bool {
        *self == Faults::default()
    }

    fn pick(&self, roll: f64) -> Option<Fault> {
        let mut edge = 0.0;
        for (p, fault) in [
            (self.rate_limit, Fault::RateLimit),
            (self.server_error, Fault::ServerError),
            (self.timeout, Fault::Timeout),
            (self.garbage, Fault::Garbage),
        ] {
            edge += p;
            if p > 0.0 && roll < edge {
                return Some(fault);
            }
        }
        None
    }
}

impl FromStr for Faults {
    type Err = String;
    /// `429=0.05,500=0.05,timeout=0.02,garbage=0.02,duplicate=0.1,reorder=0.1`
    /// (any subset; `none` or "" for none).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let mut faults = Faults::default();
        if text.is_empty() || text.eq_ignore_ascii_case("none") {
            return Ok(faults);
        }
        let mut seen: Vec<String> = Vec::new();
        for entry in text.split(',').map(str::trim) {
            if entry.is_empty() {
                return Err(format!(
                    "empty entry in '{text}'; expected KEY=PROBABILITY pairs separated by commas"
                ));
            }
            let (key, value) = entry.split_once('=').ok_or_else(|| {
                format!(
                    "fault '{entry}' has no probability; expected KEY=PROBABILITY, e.g. 500=0.05"
                )
            })?;
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            let slot = match key.as_str() {
                "429" => &mut faults.rate_limit,
                "500" => &mut faults.server_error,
                "timeout" => &mut faults.timeout,
                "garbage" => &mut faults.garbage,
                "duplicate" => &mut faults.duplicate,
                "reorder" => &mut faults.reorder,
                _ => {
                    return Err(format!(
                        "unknown fault '{key}'; expected 429, 500, timeout, garbage, duplicate or reorder"
                    ));
                }
            };
            if seen.contains(&key) {
                return Err(format!("fault '{key}' is given twice"));
            }
            let p: f64 = value.parse().map_err(|_| {
                format!("fault '{key}' has probability '{value}', which is not a number")
            })?;
            if !(0.0..=1.0).contains(&p) {
                return Err(format!(
                    "fault '{key}' has probability {value}; it must be between 0 and 1"
                ));
            }
            *slot = p;
            seen.push(key);
        }
        Ok(faults)
    }
}

impl fmt::Display for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            ("429", self.rate_limit),
            ("500", self.server_error),
            ("timeout", self.timeout),
            ("garbage", self.garbage),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ]
        .iter()
        .filter(|(_, p)| *p > 0.0)
        .map(|(k, p)| format!("{k}={p}"))
        .collect();
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    RateLimit,
    ServerError,
    Timeout,
    Garbage,
}

/// How long a "timeout" fault holds the request: far beyond any sane client timeout.
const HANG: Duration = Duration::from_secs(120);

pub(crate) fn provider_of(path: &str) -> Provider {
    if path == "/verification" || path.starts_with("/verification/") {
        Provider::Cashfree
    } else {
        Provider::InstantPay
    }
}

/// The middleware in front of both providers.
pub(crate) async fn gate(State(state): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let provider = provider_of(req.uri().path());
    state.count_request(provider);
    let sequence = state.next_sequence();

    if let Some(limit) = state.rate_limit() {
        let slot = match provider {
            Provider::InstantPay => 0,
            Provider::Cashfree => 1,
        };
        let admission =
            lock(&state.rate_windows)[slot].admit(limit, Instant::now(), state.minute());
        match admission {
            Admission::Limited { retry_after_secs } => {
                return too_many(&state, provider, limit, 0, retry_after_secs);
            }
            Admission::Allowed {
                remaining,
                reset_secs,
            } => {
                let mut response = run_with_faults(&state, provider, sequence, req, next).await;
                if provider == Provider::Cashfree
                    && response.status() != StatusCode::TOO_MANY_REQUESTS
                {
                    add_rate_headers(&mut response, limit, remaining, reset_secs);
                }
                return response;
            }
        }
    }
    run_with_faults(&state, provider, sequence, req, next).await
}

async fn run_with_faults(
    state: &Arc<SimState>,
    provider: Provider,
    sequence: u64,
    req: Request,
    next: Next,
) -> Response {
    let faults = lock(&state.faults).clone();
    let roll = unit(hash(state.seed, &[b"fault", &sequence.to_le_bytes()]));
    match faults.pick(roll) {
        None => next.run(req).await,
        Some(Fault::RateLimit) => {
            let limit = state.rate_limit().unwrap_or(100);
            too_many(state, provider, limit, 0, 1)
        }
        Some(Fault::ServerError) => match provider {
            Provider::InstantPay => instantpay::server_error(state, state.next_server_error()),
            Provider::Cashfree => cashfree::server_error(),
        },
        Some(Fault::Timeout) => {
            tokio::select! {
                () = tokio::time::sleep(HANG) => next.run(req).await,
                () = state.shutdown.cancelled() => {
                    (StatusCode::SERVICE_UNAVAILABLE, "simulator shutting down").into_response()
                }
            }
        }
        Some(Fault::Garbage) => garbage(state, provider, sequence),
    }
}

fn too_many(
    state: &SimState,
    provider: Provider,
    limit: u32,
    remaining: u32,
    retry_after_secs: u64,
) -> Response {
    let mut response = match provider {
        Provider::InstantPay => instantpay::too_many_requests(state, retry_after_secs),
        Provider::Cashfree => {
            let mut r = cashfree::too_many_requests();
            add_rate_headers(&mut r, limit, remaining, retry_after_secs);
            r
        }
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

fn add_rate_headers(response: &mut Response, limit: u32, remaining: u32, reset_secs: u64) {
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset_secs));
}

const GARBAGE_HTML: &str = "<!DOCTYPE html>\n<html><head><title>Service Temporarily Unavailable</title></head>\n<body><h1>Service Temporarily Unavailable</h1><p>The server is temporarily unable to service your request. Please try again later.</p></body></html>\n";

fn garbage(state: &SimState, provider: Provider, sequence: u64) -> Response {
    let kind = hash(state.seed, &[b"garbage", &sequence.to_le_bytes()]) % 3;
    let json = |body: String| {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    };
    match kind {
        0 => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
            GARBAGE_HTML,
        )
            .into_response(),
        1 => json("{}".to_string()),
        _ => {
            let full = match provider {
                Provider::InstantPay => {
                    "{\"statuscode\":\"TXN\",\"actcode\":null,\"status\":\"Transaction Successful\",\"data\":{\"referenceId\":\""
                }
                Provider::Cashfree => "{\"verification_id\":\"",
            };
            json(full.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_in_stacking_order() {
        let f: Faults = "429=0.25,500=0.25,timeout=0.25,garbage=0.25"
            .parse()
            .unwrap();
        assert_eq!(f.pick(0.1), Some(Fault::RateLimit));
        assert_eq!(f.pick(0.3), Some(Fault::ServerError));
        assert_eq!(f.pick(0.6), Some(Fault::Timeout));
        assert_eq!(f.pick(0.9), Some(Fault::Garbage));
        assert_eq!(Faults::none().pick(0.0), None);
        let only_garbage: Faults = "garbage=1".parse().unwrap();
        assert_eq!(only_garbage.pick(0.0), Some(Fault::Garbage));
        assert_eq!(only_garbage.pick(0.999), Some(Fault::Garbage));
    }

    #[test]
    fn display_round_trips() {
        let f: Faults = "garbage=0.02,429=0.05".parse().unwrap();
        assert_eq!(f.to_string(), "429=0.05,garbage=0.02");
        assert_eq!(f.to_string().parse::<Faults>().unwrap(), f);
        assert_eq!(Faults::none().to_string(), "none");
    }
}
