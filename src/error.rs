//! The one error type provider calls produce, in the categories the UI and CLI act on.

use std::time::Duration;

use crate::domain::Provider;

/// An address refusal is not a credentials problem: say which it is.
fn auth_refusal(code: Option<&str>) -> &'static str {
    match code {
        Some("ip_validation_failed") => "refused this address",
        _ => "rejected the credentials",
    }
}

/// Why a provider call did not give us an answer we can use.
///
/// Messages never carry a secret: clients build them from provider bodies
/// (excerpts are cut short) and their own words, never from request headers.
#[derive(
    Debug,
    Clone,
    PartialEq,
    thiserror::Error,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub enum ProviderError {
    /// The provider understood and said no (InstantPay non-TXN code, Cashfree 4xx business error).
    #[error("{provider} declined: {code}: {message}{}", request_suffix(.request_id))]
    Declined {
        provider: Provider,
        code: String,
        message: String,
        actcode: Option<String>,
        request_id: Option<String>,
    },
    /// Our request was wrong: caught before sending (payops' validators) or
    /// reported by the provider as a validation error naming the field.
    #[error("invalid {field}: {message}")]
    InvalidRequest {
        field: String,
        message: String,
        provider_code: Option<String>,
    },
    /// Credentials rejected or the caller is not allowed (IP not whitelisted).
    #[error("{provider} {}: {message}", auth_refusal(.code.as_deref()))]
    Auth {
        provider: Provider,
        code: Option<String>,
        message: String,
    },
    /// Still rate limited after the retries allowed.
    #[error("{provider} is rate limiting requests{}", retry_suffix(.retry_after))]
    RateLimited {
        provider: Provider,
        /// serde's form of a duration: `{"secs", "nanos"}`.
        #[schema(value_type = Option<Object>)]
        retry_after: Option<Duration>,
        code: Option<String>,
    },
    /// The provider answered with a 5xx (after retries).
    #[error("{provider} is unavailable (HTTP {status}): {message}")]
    Unavailable {
        provider: Provider,
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// No answer: connection refused, DNS, TLS, or a read timeout on a safe call.
    #[error("could not reach {provider}: {message}")]
    Transport {
        provider: Provider,
        message: String,
        /// True when the request provably never left (connect refused/failed).
        never_sent: bool,
    },
    /// An answer we cannot read: not JSON, truncated, or missing required fields.
    #[error("{provider} sent a malformed response: {message} (body starts: {excerpt:?})")]
    Malformed {
        provider: Provider,
        message: String,
        excerpt: String,
    },
    /// A request with a side effect may or may not have been applied (timeout
    /// after sending a notify). Never retried automatically.
    #[error(
        "outcome unknown at {provider}: {message}; check before sending again (request {})",
        .request_id.as_deref().unwrap_or("without reference")
    )]
    OutcomeUnknown {
        provider: Provider,
        message: String,
        request_id: Option<String>,
    },
}

fn request_suffix(request_id: &Option<String>) -> String {
    match request_id {
        Some(id) => format!(" (ipay_uuid {id})"),
        None => String::new(),
    }
}

fn retry_suffix(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!("; retry after {} s", d.as_secs().max(1)),
        None => String::new(),
    }
}

impl ProviderError {
    /// Says how long the call took in all when it was tried more than once,
    /// so "no answer within 15 s" does not hide a minute of retrying.
    pub fn after_attempts(self, attempts: u32, elapsed: Duration) -> ProviderError {
        if attempts < 2 {
            return self;
        }
        let tried = format!(
            " ({attempts} attempts over {})",
            crate::domain::seconds(elapsed)
        );
        match self {
            ProviderError::Transport {
                provider,
                message,
                never_sent,
            } => ProviderError::Transport {
                provider,
                message: message + &tried,
                never_sent,
            },
            ProviderError::Unavailable {
                provider,
                status,
                code,
                message,
            } => ProviderError::Unavailable {
                provider,
                status,
                code,
                message: message + &tried,
            },
            ProviderError::Malformed {
                provider,
                message,
                excerpt,
            } => ProviderError::Malformed {
                provider,
                message: message + &tried,
                excerpt,
            },
            other => other,
        }
    }

    /// A stable machine word for `--json` errors.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderError::Declined { .. } => "declined",
            ProviderError::InvalidRequest { .. } => "invalid_request",
            ProviderError::Auth { .. } => "auth",
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::Unavailable { .. } => "provider_unavailable",
            ProviderError::Transport { .. } => "transport",
            ProviderError::Malformed { .. } => "malformed_response",
            ProviderError::OutcomeUnknown { .. } => "outcome_unknown",
        }
    }

    /// No usable answer came back (no connection, 5xx, timeout, garbage):
    /// the provider is, for now, unreachable. Refusals and rate limits are
    /// answers.
    pub fn is_unanswered(&self) -> bool {
        matches!(
            self,
            ProviderError::Unavailable { .. }
                | ProviderError::Transport { .. }
                | ProviderError::Malformed { .. }
                | ProviderError::OutcomeUnknown { .. }
        )
    }

    /// The provider's own code, where it gave one.
    pub fn provider_code(&self) -> Option<&str> {
        match self {
            ProviderError::Declined { code, .. } => Some(code),
            ProviderError::InvalidRequest { provider_code, .. } => provider_code.as_deref(),
            ProviderError::Auth { code, .. }
            | ProviderError::RateLimited { code, .. }
            | ProviderError::Unavailable { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The provider's request reference (`ipay_uuid`), where it gave one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ProviderError::Declined { request_id, .. }
            | ProviderError::OutcomeUnknown { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The CLI exit code (README: 1 declined, 2 usage/configuration,
    /// 3 unreachable/failing/malformed, 4 outcome unknown).
    pub fn exit_code(&self) -> i32 {
        match self {
            ProviderError::Declined { .. } => 1,
            ProviderError::InvalidRequest { .. } | ProviderError::Auth { .. } => 2,
            ProviderError::RateLimited { .. }
            | ProviderError::Unavailable { .. }
            | ProviderError::Transport { .. }
            | ProviderError::Malformed { .. } => 3,
            ProviderError::OutcomeUnknown { .. } => 4,
        }
    }

    /// Whether a read or poll may be retried after this error. A garbled
    /// answer counts: it is most often a broken proxy or a cut connection,
    /// and asking again costs a read nothing.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Unavailable { .. }
                | ProviderError::Transport { .. }
                | ProviderError::Malformed { .. }
        )
    }
}

/// Cuts a response body to a short, single-line excerpt for error messages.
/// An HTML page (a proxy's or load balancer's error page) is never shown
/// raw: its title, or else its text without tags, stands for it.
pub fn excerpt(body: &str) -> String {
    const MAX: usize = 80;
    let page = html_text(body);
    let body = page.as_deref().unwrap_or(body);
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX)
        .collect();
    if body.chars().count() > MAX {
        format!("{flat}…")
    } else {
        flat
    }
}

/// The words of an HTML page: `an HTML page: <title>`, or its text with
/// the tags and runs of space taken out; `None` for anything else.
fn html_text(body: &str) -> Option<String> {
    let start = body.trim_start_matches('\u{feff}').trim_start();
    let lower: String = start
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    let markup = ["<!doctype html", "<html", "<head", "<body", "<h1", "<title"];
    if !(lower.starts_with('<') && markup.iter().any(|tag| lower.contains(tag))) {
        return None;
    }
    let full = start.to_ascii_lowercase();
    let title = full.find("<title>").and_then(|at| {
        let from = at + "<title>".len();
        let to = from + full[from..].find("</title>")?;
        start.get(from..to)
    });
    let words = match title {
        Some(title) => title.to_string(),
        None => {
            let mut text = String::new();
            let mut in_tag = false;
            for c in start.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        text.push(' ');
                    }
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text
        }
    };
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(format!("an HTML page: {words}"))
}

/// A form field, flag or config key that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<ValidationError> for ProviderError {
    fn from(e: ValidationError) -> Self {
        ProviderError::InvalidRequest {
            field: e.field,
            message: e.message,
            provider_code: None,
        }
    }
}

#[cfg(test)]
mod excerpt_tests {
    use super::excerpt;

    #[test]
    fn an_html_error_page_is_its_title_never_its_markup() {
        let page = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body><center><h1>500 Internal Server Error</h1></center><hr><center>nginx</center></body></html>";
        assert_eq!(excerpt(page), "an HTML page: 500 Internal Server Error");
        let untitled =
            "<!DOCTYPE html><html><body><h1>Bad   gateway</h1><p>upstream down</p></body></html>";
        assert_eq!(excerpt(untitled), "an HTML page: Bad gateway upstream down");
        let prolog = "\u{feff}<?xml version=\"1.0\"?><!DOCTYPE html><html><head><title>502 Bad Gateway</title></head></html>";
        assert_eq!(excerpt(prolog), "an HTML page: 502 Bad Gateway");
        let fragment = format!("<h1>502 Bad Gateway</h1>{}", "é".repeat(600));
        assert!(excerpt(&fragment).starts_with("an HTML page: 502 Bad Gateway"));
        // Anything else is cut as before.
        assert_eq!(excerpt("plain <b>text</b>"), "plain <b>text</b>");
    }
}
