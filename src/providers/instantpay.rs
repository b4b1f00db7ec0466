//! InstantPay client: wallet balance, DigiLocker create/status, payout-link notify/track.

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use url::Url;

use crate::documents::{Document, DocumentFetch};
use crate::domain::{
    BalanceReport, CreatedSession, DocumentType, ExternalRef, LinkActivity, LinkId, LinkReport,
    LinkStatus, NotifyReceipt, Provider, ProviderEnvironment, SessionStatus, SessionStatusReport,
    UserFlow,
};
use crate::error::{ProviderError, excerpt};
use crate::providers::CallPolicy;
use crate::providers::http::{
    self, CallKind, Http, RateHeaders, RawResponse, insert_header, json_object, retry_after,
    scalar_text as text, without_personal_data,
};
use crate::validate::format_coordinate;

const PROVIDER: Provider = Provider::InstantPay;

/// `[instantpay]`: where and as whom the client calls.
#[derive(Debug, Clone)]
pub struct InstantPayConfig {
    pub base_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    pub endpoint_ip: String,
    /// The InstantPay registered mobile number (`accountNumber`).
    pub account_number: String,
    pub latitude: Decimal,
    pub longitude: Decimal,
}

/// Codes meaning our credentials or access were refused.
const AUTH_CODES: [&str; 3] = ["IAC", "IAT", "UAD"];
/// Codes meaning InstantPay (or its upstream) is down for now: worth retrying a read.
const UNAVAILABLE_CODES: [&str; 6] = ["SPD", "USM", "SNA", "ISE", "SPE", "TSU"];

/// A DigiLocker create request (InstantPay `externalRef`, `redirectionUrl`, `userFlow`).
#[derive(Debug, Clone)]
pub struct InstantPayCreate {
    pub external_ref: ExternalRef,
    pub redirect_url: url::Url,
    pub flow: UserFlow,
}

#[derive(Clone)]
pub struct InstantPayClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    base_url: Url,
    client_id: String,
    account_number: String,
    latitude: String,
    longitude: String,
}

impl fmt::Debug for InstantPayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstantPayClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &"[redacted]")
            .field("policy", self.inner.http.policy())
            .finish_non_exhaustive()
    }
}

impl InstantPayClient {
    /// Every request from now on waits for `gate` (team mode's budget).
    pub fn set_gate(&self, gate: Arc<dyn crate::providers::http::Gate>) {
        self.inner.http.set_gate(gate);
    }

    pub fn new(config: &InstantPayConfig, policy: CallPolicy) -> Result<Self, ProviderError> {
        if config.base_url.cannot_be_a_base() {
            return Err(invalid("base_url", "is not a base URL"));
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-ipay-auth-code", HeaderValue::from_static("1"));
        insert_header(&mut headers, "x-ipay-client-id", &config.client_id, false)?;
        insert_header(
            &mut headers,
            "x-ipay-client-secret",
            config.client_secret.expose_secret(),
            true,
        )?;
        insert_header(
            &mut headers,
            "x-ipay-endpoint-ip",
            &config.endpoint_ip,
            false,
        )?;
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = Http::new(PROVIDER, policy, headers, request_id_of)?;
        Ok(InstantPayClient {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url.clone(),
                client_id: config.client_id.clone(),
                account_number: config.account_number.clone(),
                latitude: format_coordinate(config.latitude),
                longitude: format_coordinate(config.longitude),
            }),
        })
    }

    /// The provider's rate counter as its latest answer reported it.
    pub fn rate_headers(&self) -> Option<RateHeaders> {
        self.inner.http.rate_headers()
    }

    /// `POST /accounts/balance` (retried when safe).
    pub async fn balance(&self) -> Result<BalanceReport, ProviderError> {
        let url = self.endpoint(&["accounts", "balance"]);
        let inner = &self.inner;
        inner
            .http
            .call(
                CallKind::Read,
                |client| {
                    // A fresh reference per attempt: InstantPay wants every one unique.
                    let body = json!({
                        "bankProfileId": "0",
                        "accountNumber": inner.account_number,
                        "externalRef": ExternalRef::generate().as_str(),
                        "latitude": inner.latitude,
                        "longitude": inner.longitude,
                    });
                    client.post(url.clone()).json(&body)
                },
                |raw| parse_balance(raw, &inner.account_number),
            )
            .await
    }

    /// `POST /identity/digiLocker`. Not retried after the request may have
    /// left: a timeout is `OutcomeUnknown`.
    pub async fn create_digilocker(
        &self,
        request: &InstantPayCreate,
    ) -> Result<CreatedSession, ProviderError> {
        let external_ref =
            crate::validate::external_ref("externalRef", request.external_ref.as_str())?;
        let body = json!({
            "externalRef": external_ref,
            "redirectionUrl": request.redirect_url.as_str(),
            "userFlow": request.flow.instantpay_word(),
            "latitude": self.inner.latitude,
            "longitude": self.inner.longitude,
        });
        self.post(
            CallKind::SideEffect,
            &["identity", "digiLocker"],
            body,
            parse_created,
        )
        .await
    }

    /// `POST /identity/digiLocker/status` (retried when safe).
    pub async fn digilocker_status(
        &self,
        reference: &str,
    ) -> Result<SessionStatusReport, ProviderError> {
        let reference = reference.trim();
        if reference.is_empty() {
            return Err(invalid("referenceId", "is empty"));
        }
        let body = json!({ "referenceId": reference });
        self.post(
            CallKind::Read,
            &["identity", "digiLocker", "status"],
            body,
            |raw| {
                parse_session_status(raw, reference)
                    .map_err(|e| without_personal_data(e, &raw.body))
            },
        )
        .await
    }

    /// `POST /identity/digiLocker/document` with `{referenceId, documentType}`.
    pub async fn digilocker_document(
        &self,
        reference: &str,
        document: DocumentType,
    ) -> Result<DocumentFetch, ProviderError> {
        let reference = reference.trim();
        if reference.is_empty() {
            return Err(invalid("referenceId", "is empty"));
        }
        let body = json!({ "referenceId": reference, "documentType": document.wire() });
        self.post(
            CallKind::Read,
            &["identity", "digiLocker", "document"],
            body,
            |raw| parse_document(raw, document).map_err(http::without_document_data),
        )
        .await
    }

    /// `POST /payments/payout/link/notify`. Retried only when the request
    /// provably never left; a timeout is `OutcomeUnknown`.
    pub async fn notify_link(&self, link: &LinkId) -> Result<NotifyReceipt, ProviderError> {
        let link = non_empty_link(link)?;
        let body = json!({ "linkId": link });
        self.post(
            CallKind::SideEffect,
            &["payments", "payout", "link", "notify"],
            body,
            parse_notify,
        )
        .await
    }

    /// `GET /payments/payout/link/track/{linkId}` (retried when safe).
    pub async fn track_link(&self, link: &LinkId) -> Result<LinkReport, ProviderError> {
        let id = non_empty_link(link)?;
        let url = self.endpoint(&["payments", "payout", "link", "track", id]);
        self.inner
            .http
            .call(
                CallKind::Read,
                |client| client.get(url.clone()),
                |raw| parse_track(raw, link),
            )
            .await
    }

    /// `POST` of the JSON `body` to the endpoint at `segments` (the same
    /// body for every attempt), its answer read by `interpret`.
    async fn post<T>(
        &self,
        kind: CallKind,
        segments: &[&str],
        body: Value,
        interpret: impl Fn(&RawResponse) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let url = self.endpoint(segments);
        self.inner
            .http
            .call(
                kind,
                |client| client.post(url.clone()).json(&body),
                interpret,
            )
            .await
    }

    /// `base_url` plus path segments, each percent-encoded, whether or not the
    /// base ends in a slash.
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

fn invalid(field: &str, message: &str) -> ProviderError {
    ProviderError::InvalidRequest {
        field: field.into(),
        message: message.into(),
        provider_code: None,
    }
}

fn non_empty_link(link: &LinkId) -> Result<&str, ProviderError> {
    let id = link.as_str().trim();
    if id.is_empty() {
        return Err(invalid("linkId", "is empty"));
    }
    Ok(id)
}

/// InstantPay's response envelope, read leniently.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Upper-cased and trimmed: `TXN`, `TUP`, or a failure code.
    pub statuscode: String,
    pub actcode: Option<String>,
    /// Free text for display only.
    pub status: String,
    /// Anything: object, null, array, number, "".
    pub data: Value,
    pub timestamp: Option<String>,
    pub ipay_uuid: Option<String>,
    pub orderid: Option<String>,
    pub environment: Option<ProviderEnvironment>,
    pub internal_code: Option<String>,
}

impl Envelope {
    /// The outcome `statuscode` decides; `status` text is never consulted.
    pub fn outcome(&self) -> EnvelopeOutcome {
        match self.statuscode.as_str() {
            "TXN" => EnvelopeOutcome::Success,
            "TUP" => EnvelopeOutcome::Pending,
            _ => EnvelopeOutcome::Failure,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeOutcome {
    Success,
    Pending,
    Failure,
}

/// Parses an InstantPay body into its envelope. Anything that is not a JSON
/// object with a `statuscode` is `Malformed`.
pub fn parse_envelope(body: &str) -> Result<Envelope, ProviderError> {
    let mut fields = json_object(PROVIDER, body)?;
    let statuscode = text(fields.get("statuscode"))
        .map(|c| c.to_ascii_uppercase())
        .ok_or_else(|| malformed("missing statuscode", body))?;
    Ok(Envelope {
        statuscode,
        actcode: text(fields.get("actcode")),
        status: text(fields.get("status")).unwrap_or_default(),
        data: fields.remove("data").unwrap_or(Value::Null),
        timestamp: text(fields.get("timestamp")),
        ipay_uuid: text(fields.get("ipay_uuid")),
        orderid: text(fields.get("orderid")),
        environment: text(fields.get("environment"))
            .map(|e| ProviderEnvironment::from_provider(&e)),
        internal_code: text(fields.get("internalCode")),
    })
}

fn request_id_of(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    text(value.get("ipay_uuid"))
}

/// A money amount from a decimal string or a JSON number, never via f64
/// arithmetic: numbers are parsed from their printed form.
fn decimal(value: Option<&Value>) -> Option<Decimal> {
    let s = match value? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    s.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&s).ok())
}

fn malformed(message: &str, body: &str) -> ProviderError {
    http::malformed(PROVIDER, message, body)
}

fn missing(field: &str, body: &str) -> ProviderError {
    malformed(&format!("success without {field}"), body)
}

/// Reads the envelope whatever the HTTP status, mapping answers that carry
/// none to the error their HTTP status implies.
fn read_envelope(raw: &RawResponse) -> Result<Envelope, ProviderError> {
    let status = raw.status;
    let parsed = parse_envelope(&raw.body);
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(ProviderError::RateLimited {
            provider: PROVIDER,
            retry_after: retry_after(&raw.headers),
            code: parsed.ok().map(|e| e.statuscode),
        });
    }
    match parsed {
        Ok(envelope) if status.is_success() || envelope.outcome() == EnvelopeOutcome::Failure => {
            Ok(envelope)
        }
        // A success code under an error status: trust neither, say what came.
        Ok(envelope) => Err(without_envelope(
            raw,
            &format!("statuscode {}", envelope.statuscode),
        )),
        Err(malformed) if status.is_success() => Err(malformed),
        Err(_) => Err(without_envelope(raw, "no InstantPay envelope")),
    }
}

fn without_envelope(raw: &RawResponse, what: &str) -> ProviderError {
    let status = raw.status.as_u16();
    let message = format!("HTTP {status} with {what}");
    if matches!(raw.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        ProviderError::Auth {
            provider: PROVIDER,
            code: None,
            message,
        }
    } else if raw.status.is_server_error() {
        ProviderError::Unavailable {
            provider: PROVIDER,
            status,
            code: None,
            // The status is already in the error's own words.
            message: format!("{what}: {}", excerpt(&raw.body)),
        }
    } else {
        malformed(&message, &raw.body)
    }
}

/// The error a non-TXN, non-TUP envelope stands for.
fn failure(envelope: &Envelope, http: StatusCode) -> ProviderError {
    let code = envelope.statuscode.clone();
    let message = if envelope.status.is_empty() {
        "(no status text)".to_string()
    } else {
        envelope.status.clone()
    };
    if AUTH_CODES.contains(&code.as_str()) {
        ProviderError::Auth {
            provider: PROVIDER,
            code: Some(code),
            message,
        }
    } else if UNAVAILABLE_CODES.contains(&code.as_str()) {
        ProviderError::Unavailable {
            provider: PROVIDER,
            status: http.as_u16(),
            code: Some(code),
            message,
        }
    } else {
        ProviderError::Declined {
            provider: PROVIDER,
            code,
            message,
            actcode: envelope.actcode.clone(),
            request_id: envelope.ipay_uuid.clone(),
        }
    }
}

/// On a read, "under process" is a transient state worth asking again about.
fn pending_read(envelope: &Envelope, http: StatusCode) -> ProviderError {
    ProviderError::Unavailable {
        provider: PROVIDER,
        status: http.as_u16(),
        code: Some(envelope.statuscode.clone()),
        message: if envelope.status.is_empty() {
            "under process".to_string()
        } else {
            envelope.status.clone()
        },
    }
}

/// The `data` object of a successful read, or the matching error.
fn success_data<'a>(
    raw: &RawResponse,
    envelope: &'a Envelope,
) -> Result<&'a Map<String, Value>, ProviderError> {
    match envelope.outcome() {
        EnvelopeOutcome::Success => envelope
            .data
            .as_object()
            .ok_or_else(|| missing("a data object", &raw.body)),
        EnvelopeOutcome::Pending => Err(pending_read(envelope, raw.status)),
        EnvelopeOutcome::Failure => Err(failure(envelope, raw.status)),
    }
}

/// A read's envelope and `data` object when it succeeded; otherwise the
/// matching error.
fn read_success(raw: &RawResponse) -> Result<(Envelope, Map<String, Value>), ProviderError> {
    let envelope = read_envelope(raw)?;
    let data = success_data(raw, &envelope)?.clone();
    Ok((envelope, data))
}

fn parse_balance(
    raw: &RawResponse,
    configured_account: &str,
) -> Result<BalanceReport, ProviderError> {
    let (envelope, data) = read_success(raw)?;
    let balance = data
        .get("balance")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("data.balance", &raw.body))?;
    let amount = |field: &str| {
        decimal(balance.get(field))
            .ok_or_else(|| missing(&format!("data.balance.{field}"), &raw.body))
    };
    Ok(BalanceReport {
        account: text(data.get("accountNumber")).unwrap_or_else(|| configured_account.to_string()),
        available: amount("available")?,
        total: amount("total")?,
        lien: amount("lien")?,
        environment: envelope.environment.clone(),
        fetched_at: Timestamp::now(),
        request_id: envelope.ipay_uuid.clone(),
    })
}

fn parse_created(raw: &RawResponse) -> Result<CreatedSession, ProviderError> {
    let envelope = read_envelope(raw)?;
    let data = envelope.data.as_object();
    let field = |name: &str| data.and_then(|d| text(d.get(name)));
    let (reference, url) = match (envelope.outcome(), field("referenceId"), field("url")) {
        (EnvelopeOutcome::Failure, _, _) => return Err(failure(&envelope, raw.status)),
        (_, Some(reference), Some(url)) => (reference, url),
        (EnvelopeOutcome::Success, reference, _) => {
            let absent = if reference.is_none() {
                "data.referenceId"
            } else {
                "data.url"
            };
            return Err(missing(absent, &raw.body));
        }
        // Under process without a session to show: it may yet be created.
        (EnvelopeOutcome::Pending, _, _) => {
            return Err(ProviderError::OutcomeUnknown {
                provider: PROVIDER,
                message: "InstantPay is still processing the session (TUP) and gave no URL yet"
                    .into(),
                request_id: envelope.ipay_uuid.clone(),
            });
        }
    };
    let provider_status = field("status").unwrap_or_else(|| "PENDING".to_string());
    Ok(CreatedSession {
        reference,
        url,
        status: SessionStatus::from_provider(PROVIDER, &provider_status),
        provider_status,
        documents_requested: Vec::new(),
        environment: envelope.environment.clone(),
        request_id: envelope.ipay_uuid.clone(),
    })
}

fn parse_session_status(
    raw: &RawResponse,
    asked_reference: &str,
) -> Result<SessionStatusReport, ProviderError> {
    let (envelope, data) = read_success(raw)?;
    let provider_status =
        text(data.get("status")).ok_or_else(|| missing("data.status", &raw.body))?;
    let user_details = http::user_details(data.get("userDetails"));
    Ok(SessionStatusReport {
        reference: text(data.get("referenceId")).unwrap_or_else(|| asked_reference.to_string()),
        external_ref: text(data.get("externalRef")),
        status: SessionStatus::from_provider(PROVIDER, &provider_status),
        provider_status,
        documents_requested: Vec::new(),
        documents_consented: Vec::new(),
        user_details,
        request_id: envelope.ipay_uuid.clone(),
    })
}

fn parse_document(
    raw: &RawResponse,
    document: DocumentType,
) -> Result<DocumentFetch, ProviderError> {
    let envelope = read_envelope(raw)?;
    if envelope.outcome() == EnvelopeOutcome::Failure && http::says_expired(&envelope.status) {
        return Ok(DocumentFetch::Expired {
            message: envelope.status.clone(),
        });
    }
    let data = success_data(raw, &envelope)?;
    Ok(DocumentFetch::Ready(Document::from_json(document, data)))
}

fn parse_notify(raw: &RawResponse) -> Result<NotifyReceipt, ProviderError> {
    let envelope = read_envelope(raw)?;
    let pending = match envelope.outcome() {
        EnvelopeOutcome::Success => false,
        EnvelopeOutcome::Pending => true,
        EnvelopeOutcome::Failure => return Err(failure(&envelope, raw.status)),
    };
    Ok(NotifyReceipt {
        message: envelope.status.clone(),
        actcode: envelope.actcode.clone(),
        request_id: envelope.ipay_uuid.clone(),
        pending,
    })
}

fn parse_track(raw: &RawResponse, link: &LinkId) -> Result<LinkReport, ProviderError> {
    let (envelope, data) = read_success(raw)?;
    let status = text(data.get("status")).ok_or_else(|| missing("data.status", &raw.body))?;
    let amount = match data.get("amount") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(value) => Some(
            decimal(Some(value))
                .ok_or_else(|| malformed("data.amount is not a decimal amount", &raw.body))?,
        ),
    };
    let activity = data
        .get("linkActivity")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(Value::as_object)
                .map(|entry| LinkActivity {
                    status: text(entry.get("status")).unwrap_or_default(),
                    at: text(entry.get("activityAt")).map(|raw| ist_to_rfc3339(&raw)),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(LinkReport {
        link_id: link.clone(),
        status: LinkStatus::from_provider(&status),
        amount,
        activity,
        request_id: envelope.ipay_uuid.clone(),
    })
}

/// InstantPay writes times as India Standard Time wall clock
/// (`2023-12-14 15:27:40`); payops speaks RFC 3339. A time in another shape
/// is kept as the provider wrote it rather than dropped.
fn ist_to_rfc3339(raw: &str) -> String {
    const IST_SECONDS: i32 = 5 * 3600 + 30 * 60;
    let parsed = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", raw.trim())
        .ok()
        .and_then(|civil| {
            let ist = jiff::tz::Offset::from_seconds(IST_SECONDS).ok()?;
            civil.to_zoned(jiff::tz::TimeZone::fixed(ist)).ok()
        });
    match parsed {
        Some(zoned) => zoned.timestamp().to_string(),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_times_are_ist_and_become_rfc3339() {
        assert_eq!(
            ist_to_rfc3339("2023-12-14 15:27:40"),
            "2023-12-14T09:57:40Z"
        );
        assert_eq!(ist_to_rfc3339("yesterday"), "yesterday");
    }
    use crate::providers::http::test_support::{any_json, raw};
    use proptest::prelude::*;

    const KEYS: &[&str] = &[
        "statuscode",
        "data",
        "status",
        "ipay_uuid",
        "balance",
        "available",
        "total",
        "lien",
        "amount",
        "linkActivity",
        "userDetails",
        "referenceId",
        "url",
    ];
    const WORDS: &[&str] = &["TXN", "TUP", "ERR", "IAT", "SPD", "AUTHORIZED"];

    #[test]
    fn envelope_fields_are_read_leniently() {
        let env = parse_envelope(
            r#"{"statuscode":" txn ","actcode":"","status":"ok","data":"","orderid":"",
                "environment":"PRODUCTION","ipay_uuid":"u1"}"#,
        )
        .expect("parses");
        assert_eq!(env.statuscode, "TXN");
        assert_eq!(env.outcome(), EnvelopeOutcome::Success);
        assert_eq!(env.actcode, None);
        assert_eq!(env.orderid, None);
        assert_eq!(env.internal_code, None);
        assert_eq!(env.data, Value::String(String::new()));
        assert_eq!(env.environment, Some(ProviderEnvironment::Live));
        assert_eq!(env.ipay_uuid.as_deref(), Some("u1"));

        let env =
            parse_envelope(r#"{"statuscode":"TUP","data":[1,2],"actcode":7}"#).expect("parses");
        assert_eq!(env.outcome(), EnvelopeOutcome::Pending);
        assert_eq!(env.actcode.as_deref(), Some("7"));
        assert_eq!(env.status, "");

        let env = parse_envelope(r#"{"statuscode":"XYZ","data":42}"#).expect("parses");
        assert_eq!(env.outcome(), EnvelopeOutcome::Failure);
    }

    #[test]
    fn bodies_without_an_envelope_are_malformed() {
        for body in [
            "",
            "{}",
            "[]",
            "null",
            "<html>",
            r#"{"statuscode":"TX"#,
            r#"{"statuscode":null}"#,
            r#"{"statuscode":""}"#,
        ] {
            let err = parse_envelope(body).expect_err(body);
            assert_eq!(err.kind(), "malformed_response", "{body}");
        }
        let err = parse_envelope(r#"{"statuscode":"TX"#).expect_err("truncated");
        assert!(err.to_string().contains("cut short"), "{err}");
    }

    #[test]
    fn amounts_never_go_through_floats() {
        assert_eq!(decimal(Some(&json!("16.82"))), Some(Decimal::new(1682, 2)));
        assert_eq!(decimal(Some(&json!(16.82))), Some(Decimal::new(1682, 2)));
        assert_eq!(decimal(Some(&json!(100))), Some(Decimal::from(100)));
        assert_eq!(decimal(Some(&json!(1e3))), Some(Decimal::from(1000)));
        assert_eq!(decimal(Some(&json!("abc"))), None);
        assert_eq!(decimal(Some(&json!(null))), None);
    }

    #[test]
    fn failure_codes_map_to_categories() {
        let body = |code: &str| {
            format!(r#"{{"statuscode":"{code}","status":"nope","ipay_uuid":"u9","actcode":"A1"}}"#)
        };
        let err = parse_notify(&raw(200, &body("IAB"))).expect_err("declined");
        assert_eq!(
            err,
            ProviderError::Declined {
                provider: PROVIDER,
                code: "IAB".into(),
                message: "nope".into(),
                actcode: Some("A1".into()),
                request_id: Some("u9".into()),
            }
        );
        assert_eq!(
            parse_notify(&raw(200, &body("IAT")))
                .expect_err("auth")
                .kind(),
            "auth"
        );
        let err = parse_balance(&raw(503, &body("SPD")), "1").expect_err("down");
        assert!(
            matches!(err, ProviderError::Unavailable { status: 503, code: Some(ref c), .. } if c == "SPD")
        );
        let err = parse_balance(&raw(200, &body("TUP")), "1").expect_err("pending read");
        assert!(matches!(err, ProviderError::Unavailable { code: Some(ref c), .. } if c == "TUP"));
        assert!(err.is_transient());
        let receipt = parse_notify(&raw(200, &body("TUP"))).expect("pending notify");
        assert!(receipt.pending);
    }

    #[test]
    fn http_status_without_envelope() {
        let kind = |status, body| parse_notify(&raw(status, body)).expect_err(body).kind();
        assert_eq!(kind(401, "denied"), "auth");
        assert_eq!(kind(403, ""), "auth");
        assert_eq!(kind(502, "<html>"), "provider_unavailable");
        assert_eq!(kind(200, "<html>"), "malformed_response");
        assert_eq!(kind(404, "nothing"), "malformed_response");
        assert_eq!(kind(429, ""), "rate_limited");
    }

    #[test]
    fn success_missing_fields_names_them() {
        let err = parse_balance(
            &raw(
                200,
                r#"{"statuscode":"TXN","data":{"balance":{"total":"1","lien":"0"}}}"#,
            ),
            "1",
        )
        .expect_err("missing available");
        assert!(err.to_string().contains("data.balance.available"), "{err}");
        let err = parse_created(&raw(
            200,
            r#"{"statuscode":"TXN","data":{"url":"https://x"}}"#,
        ))
        .expect_err("missing reference");
        assert!(err.to_string().contains("data.referenceId"), "{err}");
        let err = parse_track(
            &raw(200, r#"{"statuscode":"TXN","data":null}"#),
            &LinkId::new_unchecked("a"),
        )
        .expect_err("no data");
        assert_eq!(err.kind(), "malformed_response");
    }

    fn parse_everything(status: u16, body: &str) {
        let r = raw(status, body);
        let link = LinkId::new_unchecked("657aa9841b8d3897ff0a84fb");
        let _ = parse_envelope(body);
        let _ = parse_balance(&r, "1");
        let _ = parse_created(&r);
        let _ = parse_session_status(&r, "ref");
        let _ = parse_notify(&r);
        let _ = parse_track(&r, &link);
        let _ = request_id_of(body);
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_json_never_panics(
            value in any_json(KEYS, WORDS),
            status in prop_oneof![Just(200u16), Just(401), Just(429), Just(500), 100u16..600],
        ) {
            parse_everything(status, &value.to_string());
            // The same value wrapped as a success, so data parsing sees it too.
            let wrapped = json!({"statuscode": "TXN", "data": value});
            parse_everything(status, &wrapped.to_string());
        }

        #[test]
        fn parsing_arbitrary_strings_never_panics(body in ".*", status in 100u16..600) {
            parse_everything(status, &body);
        }
    }
}
