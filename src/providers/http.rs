//! What every provider call shares: timeouts and the retry policy.
//!
//! Both clients send through [`Http::call`], so the rule "a request with a side
//! effect is never repeated unless it provably did not reach the provider"
//! lives in one place.

use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::domain::{Provider, UserDetails};
use crate::error::{ProviderError, excerpt};

/// Timeouts and retry limits for provider calls.
#[derive(Debug, Clone, PartialEq)]
pub struct CallPolicy {
    /// Whole-request timeout.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt, for reads and polls.
    pub max_retries: usize,
    /// First backoff delay (jittered, doubling).
    pub base_delay: Duration,
    /// Cap of one backoff delay, and of an honoured Retry-After.
    pub max_delay: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_retries: 3,
            base_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// Whether repeating a call is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// Balance, status, tracking: retried on any transient failure.
    Read,
    /// Create, notify: retried only when the provider provably did not act
    /// on it (connect failed, or 429).
    SideEffect,
}

impl CallKind {
    /// Whether the retry loop may try again after `error`.
    pub(crate) fn may_retry(self, error: &ProviderError) -> bool {
        match self {
            CallKind::Read => error.is_transient(),
            CallKind::SideEffect => matches!(
                error,
                ProviderError::Transport {
                    never_sent: true,
                    ..
                } | ProviderError::RateLimited { .. }
            ),
        }
    }
}

/// A provider's answer, read in full, before interpretation.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

/// Admits each request to a provider before it is sent: team mode's
/// budget, shared by the server's engine, its API and (on PostgreSQL) every
/// replica. Solo mode has none; its engine keeps its own budget.
pub trait Gate: Send + Sync {
    /// Resolves when `provider` may be sent one more request.
    fn admit(&self, provider: Provider) -> futures::future::BoxFuture<'_, ()>;
}

/// One provider's HTTP transport: a configured reqwest client plus the policy.
/// Cheap to clone (reqwest's client is reference counted).
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    policy: CallPolicy,
    provider: Provider,
    /// Pulls the provider's request reference out of a body that could not be
    /// used, so an `OutcomeUnknown` still carries it.
    request_id_of: fn(&str) -> Option<String>,
    /// The latest `X-RateLimit-*` reading (shared by clones).
    rate: Arc<Mutex<Option<RateHeaders>>>,
    /// Set once by a server (shared by clones): every attempt waits here.
    gate: Arc<std::sync::OnceLock<Arc<dyn Gate>>>,
}

impl Http {
    /// `headers` are sent on every request; mark secret values sensitive
    /// before passing them in.
    pub(crate) fn new(
        provider: Provider,
        policy: CallPolicy,
        headers: HeaderMap,
        request_id_of: fn(&str) -> Option<String>,
    ) -> Result<Http, ProviderError> {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.connect_timeout)
            // A redirect would carry the credential headers to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("payops/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .build()
            .map_err(|e| ProviderError::Transport {
                provider,
                message: format!("cannot set up the HTTP client: {}", describe(&e)),
                never_sent: true,
            })?;
        Ok(Http {
            client,
            policy,
            provider,
            request_id_of,
            rate: Arc::default(),
            gate: Arc::default(),
        })
    }

    /// From now on every request (each retry too) first passes `gate`. Set
    /// once; a second gate is ignored.
    pub(crate) fn set_gate(&self, gate: Arc<dyn Gate>) {
        let _ = self.gate.set(gate);
    }

    /// The provider's rate counter as its latest answer reported it.
    pub(crate) fn rate_headers(&self) -> Option<RateHeaders> {
        self.rate
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub(crate) fn policy(&self) -> &CallPolicy {
        &self.policy
    }

    /// Sends the request `build` makes (rebuilt for every attempt), reads the
    /// answer and lets `interpret` turn it into a result, retrying as `kind` allows.
    pub(crate) async fn call<T>(
        &self,
        kind: CallKind,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        interpret: impl Fn(&RawResponse) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let max_delay = self.policy.max_delay;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.base_delay)
            .with_max_delay(max_delay)
            .with_max_times(self.policy.max_retries)
            .with_jitter();
        let started = Instant::now();
        // Atomic only because the future must be Send; nothing races here.
        let attempts = std::sync::atomic::AtomicU32::new(0);
        (|| {
            attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.attempt(kind, &build, &interpret)
        })
        .retry(backoff)
        .when(|e| kind.may_retry(e))
        .adjust(|e, delay| {
            // The provider's own wait beats our guess, within our patience.
            delay.map(|d| match e {
                ProviderError::RateLimited {
                    retry_after: Some(wait),
                    ..
                } => (*wait).min(max_delay),
                _ => d,
            })
        })
        .notify(|e, delay| {
            tracing::debug!(
                provider = %self.provider,
                error = e.kind(),
                delay_ms = delay.as_millis() as u64,
                "retrying provider call"
            );
        })
        .await
        .map_err(|error| {
            error.after_attempts(
                attempts.load(std::sync::atomic::Ordering::Relaxed),
                started.elapsed(),
            )
        })
    }

    async fn attempt<T>(
        &self,
        kind: CallKind,
        build: &impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        interpret: &impl Fn(&RawResponse) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let provider = self.provider;
        let request = build(&self.client)
            .build()
            .map_err(|e| ProviderError::InvalidRequest {
                field: "request".into(),
                message: format!("cannot build the request: {}", describe(&e)),
                provider_code: None,
            })?;
        let method = request.method().clone();
        // Path only: queries carry ids, and logs are no place for them.
        let path = request.url().path().to_string();
        if let Some(gate) = self.gate.get() {
            gate.admit(provider).await;
        }
        let started = Instant::now();

        let outcome = match self.client.execute(request).await {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                response.text().await.map(|body| RawResponse {
                    status,
                    headers,
                    body,
                })
            }
            Err(e) => Err(e),
        };
        let latency_ms = started.elapsed().as_millis() as u64;

        let raw = match outcome {
            Ok(raw) => raw,
            Err(e) => {
                let error = self.transport_error(kind, &e);
                crate::telemetry::provider_request(
                    provider.as_str(),
                    &format!("{method} {}", operation(&path)),
                    error.kind(),
                    started.elapsed().as_secs_f64(),
                );
                tracing::info!(
                    provider = provider.as_str(),
                    operation = %format!("{method} {}", operation(&path)),
                    outcome = error.kind(),
                    latency_ms,
                    "provider call"
                );
                return Err(error);
            }
        };
        // The provider's own reference for this request, so a ticket to
        // them can quote it: Cashfree's x-request-id, InstantPay's ipay_uuid.
        let provider_request_id = raw
            .headers
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
            .or_else(|| (self.request_id_of)(&raw.body));
        if let Some(reading) = RateHeaders::read(&raw.headers, Instant::now()) {
            let mut latest = self.rate.lock().unwrap_or_else(|p| p.into_inner());
            *latest = Some(reading);
        }

        let interpreted = interpret(&raw);
        crate::telemetry::provider_request(
            provider.as_str(),
            &format!("{method} {}", operation(&path)),
            interpreted.as_ref().map_or_else(|e| e.kind(), |_| "ok"),
            started.elapsed().as_secs_f64(),
        );
        tracing::info!(
            provider = provider.as_str(),
            operation = %format!("{method} {}", operation(&path)),
            status = raw.status.as_u16(),
            outcome = interpreted.as_ref().map_or_else(|e| e.kind(), |_| "ok"),
            latency_ms,
            provider_request_id = provider_request_id.as_deref().unwrap_or(""),
            "provider call"
        );
        match interpreted {
            Ok(value) => Ok(value),
            Err(error) if kind == CallKind::SideEffect && unreadable_after_send(&raw, &error) => {
                Err(ProviderError::OutcomeUnknown {
                    provider,
                    message: format!("the request was sent but the answer is unusable ({error})"),
                    request_id: error
                        .request_id()
                        .map(str::to_string)
                        .or_else(|| (self.request_id_of)(&raw.body)),
                })
            }
            Err(error) => Err(error),
        }
    }

    fn transport_error(&self, kind: CallKind, e: &reqwest::Error) -> ProviderError {
        let provider = self.provider;
        // A connect failure (refused, DNS, connect timeout, TLS handshake) means
        // no byte of the request reached the provider.
        if e.is_connect() {
            return ProviderError::Transport {
                provider,
                message: describe(e),
                never_sent: true,
            };
        }
        let message = if e.is_timeout() {
            format!(
                "no answer within {}",
                crate::domain::seconds(self.policy.timeout)
            )
        } else {
            describe(e)
        };
        match kind {
            CallKind::Read => ProviderError::Transport {
                provider,
                message,
                never_sent: false,
            },
            CallKind::SideEffect => ProviderError::OutcomeUnknown {
                provider,
                message: format!("the request was sent but {message}"),
                request_id: None,
            },
        }
    }
}

/// A side-effecting request whose answer says nothing trustworthy: a server
/// fault or a body we cannot read. It may have been applied.
fn unreadable_after_send(raw: &RawResponse, error: &ProviderError) -> bool {
    raw.status.is_server_error() || matches!(error, ProviderError::Malformed { .. })
}

/// A request's path as a log and a metric may show it: segments that
/// carry an id (a link id, a reference: any with a digit, or longer than
/// the providers' route words) become `{id}`.
fn operation(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.len() > 12 || segment.chars().any(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A reqwest error in words, without its URL, walking the source chain so
/// "connection refused" is visible.
fn describe(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    let head = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    if parts.is_empty() {
        head.to_string()
    } else {
        format!("{head}: {}", parts.join(": "))
    }
}

/// Adds a configured header; the error names the header, never the value.
pub(crate) fn insert_header(
    headers: &mut HeaderMap,
    name: &'static str,
    value: &str,
    secret: bool,
) -> Result<(), ProviderError> {
    let mut header =
        HeaderValue::from_str(value.trim()).map_err(|_| ProviderError::InvalidRequest {
            field: name.to_string(),
            message: "contains characters an HTTP header cannot carry".to_string(),
            provider_code: None,
        })?;
    header.set_sensitive(secret);
    headers.insert(HeaderName::from_static(name), header);
    Ok(())
}

/// How long a provider asks us to wait: `Retry-After` (delay seconds or an
/// HTTP date), else `X-RateLimit-Reset` (delay seconds, or a Unix time).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(wait) = text("retry-after").and_then(parse_retry_after) {
        return Some(wait);
    }
    reset_wait(text("x-ratelimit-reset")?)
}

/// `X-RateLimit-Reset` as a wait: delay seconds, or a Unix time.
fn reset_wait(reset: &str) -> Option<Duration> {
    let number: u64 = reset.parse().ok()?;
    // Large values can only be a Unix time, not a wait.
    const UNIX_TIME_FLOOR: u64 = 1_000_000_000;
    if number >= UNIX_TIME_FLOOR {
        let now = jiff::Timestamp::now().as_second();
        let now = u64::try_from(now).ok()?;
        Some(Duration::from_secs(number.saturating_sub(now)))
    } else {
        Some(Duration::from_secs(number))
    }
}

/// The provider's own rate counter, read from an answer's `X-RateLimit-*`
/// headers, so the engine can slow down before a 429 rather than after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: Option<u32>,
    pub remaining: u32,
    /// Until the counter resets, from `seen_at`.
    pub reset: Option<Duration>,
    pub seen_at: Instant,
}

impl RateHeaders {
    /// `None` when the answer carries no `X-RateLimit-Remaining`.
    pub fn read(headers: &HeaderMap, seen_at: Instant) -> Option<RateHeaders> {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        Some(RateHeaders {
            remaining: text("x-ratelimit-remaining")?.parse().ok()?,
            limit: text("x-ratelimit-limit").and_then(|l| l.parse().ok()),
            reset: text("x-ratelimit-reset").and_then(reset_wait),
            seen_at,
        })
    }
}

/// `Retry-After` as delay seconds or an HTTP date (a date in the past is no wait).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// A body that must be a JSON object, or `Malformed` saying how it is not.
pub(crate) fn json_object(
    provider: Provider,
    body: &str,
) -> Result<Map<String, Value>, ProviderError> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(malformed(provider, "expected a JSON object", body)),
        Err(e) if e.is_eof() => Err(malformed(
            provider,
            &format!("the JSON is cut short ({e})"),
            body,
        )),
        Err(e) => Err(malformed(
            provider,
            &format!("the body is not JSON ({e})"),
            body,
        )),
    }
}

pub(crate) fn malformed(provider: Provider, message: &str, body: &str) -> ProviderError {
    ProviderError::Malformed {
        provider,
        message: message.to_string(),
        excerpt: excerpt(body),
    }
}

/// A JSON scalar as trimmed, non-empty text (numbers and booleans in their
/// JSON form); `null`, `""`, arrays and objects are absent.
pub(crate) fn scalar_text(value: Option<&Value>) -> Option<String> {
    let s = match value? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// DigiLocker's user details, which both providers send with the same keys
/// (Cashfree as `user_details`, InstantPay as `userDetails`).
pub(crate) fn user_details(value: Option<&Value>) -> Option<UserDetails> {
    let fields = value?.as_object()?;
    Some(UserDetails {
        name: scalar_text(fields.get("name")),
        dob: scalar_text(fields.get("dob")),
        gender: scalar_text(fields.get("gender")),
        eaadhaar: scalar_text(fields.get("eaadhaar")),
        mobile: scalar_text(fields.get("mobile")),
    })
}

/// Where DigiLocker status answers carry name, birth date and mobile.
const PERSONAL_KEYS: [&str; 2] = ["user_details", "userDetails"];
const WITHHELD: &str = "(personal data withheld)";

/// Error messages travel to screens and logs: a `Malformed` excerpt of a
/// DigiLocker status answer must not quote the customer's details.
pub(crate) fn without_personal_data(error: ProviderError, body: &str) -> ProviderError {
    replace_excerpt(error, || excerpt(&scrub_personal(body)))
}

/// A document answer that could not be used: its body is personal data
/// through and through, so no excerpt of it travels in the error.
pub(crate) fn without_document_data(error: ProviderError) -> ProviderError {
    replace_excerpt(error, || WITHHELD.to_string())
}

fn replace_excerpt(error: ProviderError, with: impl FnOnce() -> String) -> ProviderError {
    match error {
        ProviderError::Malformed {
            provider, message, ..
        } => ProviderError::Malformed {
            provider,
            message,
            excerpt: with(),
        },
        other => other,
    }
}

/// A refusal that says the hour after consent (or the URL) has passed.
pub(crate) fn says_expired(message: &str) -> bool {
    message.to_ascii_lowercase().contains("expired")
}

fn scrub_personal(body: &str) -> String {
    if let Ok(mut value) = serde_json::from_str::<Value>(body) {
        scrub_value(&mut value);
        return value.to_string();
    }
    // Unparseable: keep only what comes before the first personal key.
    match PERSONAL_KEYS.iter().filter_map(|k| body.find(k)).min() {
        Some(at) => format!("{}{WITHHELD}", &body[..at]),
        None => body.to_string(),
    }
}

fn scrub_value(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, inner) in fields.iter_mut() {
                if PERSONAL_KEYS.contains(&key.as_str()) {
                    *inner = Value::String(WITHHELD.into());
                } else {
                    scrub_value(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_value),
        _ => {}
    }
}

/// A request or answer header as trimmed text; `None` when absent, empty
/// or not text.
pub fn header_text<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// Shared by both clients' property tests.
#[cfg(test)]
pub(crate) mod test_support {
    use proptest::prelude::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;
    use serde_json::{Value, json};

    use super::RawResponse;

    /// A provider answer with no headers, as a parser sees it.
    pub(crate) fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status: StatusCode::from_u16(status).expect("status"),
            headers: HeaderMap::new(),
            body: body.to_string(),
        }
    }

    /// Arbitrary JSON, biased towards the keys and words a provider's parser
    /// looks for so the interesting branches are reached.
    pub(crate) fn any_json(
        keys: &'static [&'static str],
        words: &'static [&'static str],
    ) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            ".*".prop_map(Value::String),
            prop::sample::select(words).prop_map(|w| Value::String(w.into())),
        ];
        let key = prop_oneof![
            prop::sample::select(keys).prop_map(str::to_string),
            ".*".prop_map(|k: String| k),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(key.clone(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
        let header = jiff::fmt::rfc2822::to_string(&soon.to_zoned(jiff::tz::TimeZone::UTC))
            .expect("formats");
        let wait = parse_retry_after(&header).expect("parses");
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-3"), None);
    }

    #[test]
    fn rate_limit_reset_header() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset", "12".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(12)));
        headers.insert("retry-after", "3".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn personal_data_never_reaches_an_excerpt() {
        let body = r#"{"user_details":{"name":"John Doe","dob":"02-02-1995"},"statu":"x"}"#;
        let error = without_personal_data(malformed(Provider::Cashfree, "m", body), body);
        let ProviderError::Malformed { excerpt, .. } = &error else {
            panic!("{error:?}");
        };
        assert!(
            !excerpt.contains("John") && excerpt.contains("withheld"),
            "{excerpt}"
        );
        let cut = r#"{"data":{"userDetails":{"name":"John Doe""#;
        let error = without_personal_data(malformed(Provider::InstantPay, "m", cut), cut);
        assert!(!error.to_string().contains("John"), "{error}");
        assert_eq!(scrub_personal("<html>"), "<html>");
    }

    #[test]
    fn side_effects_retry_only_when_provably_unsent() {
        let refused = ProviderError::Transport {
            provider: Provider::InstantPay,
            message: String::new(),
            never_sent: true,
        };
        let timed_out = ProviderError::Transport {
            provider: Provider::InstantPay,
            message: String::new(),
            never_sent: false,
        };
        let down = ProviderError::Unavailable {
            provider: Provider::InstantPay,
            status: 503,
            code: None,
            message: String::new(),
        };
        assert!(CallKind::SideEffect.may_retry(&refused));
        assert!(!CallKind::SideEffect.may_retry(&timed_out));
        assert!(!CallKind::SideEffect.may_retry(&down));
        assert!(CallKind::Read.may_retry(&timed_out));
        assert!(CallKind::Read.may_retry(&down));
    }
}
