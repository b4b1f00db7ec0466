//! One log line per API request, for whoever is on call: its request id
//! (a caller's `x-request-id` kept when it is short and plain, else one
//! made here, and echoed in the answer), method, route template (never an
//! id), status, latency, and the token's operator or that it was refused.
//! Never a token, a body or a query.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The header a request id travels in.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a caller.
const MAX_ID: usize = 64;

/// Who made a request, filled in by authentication for the log line.
#[derive(Clone, Default)]
pub struct Who(Arc<Mutex<Option<String>>>);

impl Who {
    pub fn is(&self, who: impl Into<String>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(who.into());
    }

    pub fn said(&self) -> String {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| "-".into())
    }
}

/// The request's id, for the handlers' activity rows.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The request id a request carries, or a new one.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            // Letters, digits and a few marks: an id lands in logs, the
            // activity log and auditors' spreadsheets, so nothing that a
            // terminal or a spreadsheet would act on.
            !id.is_empty()
                && id.len() <= MAX_ID
                && id.starts_with(|c: char| c.is_ascii_alphanumeric())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c))
        })
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:016x}", rand::random::<u64>()))
}

pub async fn log(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&request);
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "(no route)".into());
    let who = Who::default();
    request.extensions_mut().insert(who.clone());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    let status = response.status().as_u16();
    crate::telemetry::http_request(
        &route,
        method.as_str(),
        status,
        started.elapsed().as_secs_f64(),
    );
    tracing::info!(
        request_id = %id,
        %method,
        route = %route,
        status,
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        operator = %who.said(),
        "request"
    );
    response
}
