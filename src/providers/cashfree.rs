//! Cashfree Verification client: DigiLocker create URL and status.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use url::Url;

use crate::documents::{Document, DocumentFetch};
use crate::domain::{
    CreatedSession, DocumentType, ExternalRef, Provider, SessionStatus, SessionStatusReport,
    UserFlow,
};
use crate::error::{ProviderError, excerpt};
use crate::providers::CallPolicy;
use crate::providers::http::{
    self, CallKind, Http, RateHeaders, RawResponse, insert_header, json_object, retry_after,
    scalar_text as text, without_personal_data,
};
use crate::providers::signature::{self, SigningKey};

const PROVIDER: Provider = Provider::Cashfree;

/// `[cashfree]`: where and as whom the client calls.
#[derive(Debug, Clone)]
pub struct CashfreeConfig {
    /// Sandbox by default; production is `https://api.cashfree.com/verification`.
    pub base_url: Url,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Sent as `x-api-version` on every call; defaults to the version of
    /// the OpenAPI document payops follows.
    pub api_version: String,
    /// The merchant's public key for `x-cf-signature` (two-factor
    /// authentication instead of IP whitelisting); read and checked at load.
    pub signing_key: Option<SigningKey>,
    pub webhook: WebhookConfig,
}

/// Validation codes that are really about the credentials, not the request.
const AUTH_VALIDATION_CODES: [&str; 3] = [
    "x-client-id_missing",
    "x-client-secret_missing",
    "x-client-secret_value_invalid",
];

/// `[cashfree]`'s webhook keys: what `payops serve` verifies deliveries
/// with, and whether it relies on them to poll slowly.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// `webhooks = true`: deliveries are expected, so Cashfree sessions
    /// are polled slowly, as a safety net.
    pub expected: bool,
    /// Deliveries are signed with the secret active when they were sent:
    /// after a rotation, the old one still verifies until this is removed.
    pub previous_client_secret: Option<SecretString>,
    /// How far a delivery's timestamp may be from the server's clock.
    pub tolerance: Duration,
    /// With deliveries expected, how long after one was certainly due
    /// (`Store::missed_delivery`) the server waits for any before it polls
    /// at the regular pace again.
    pub quiet: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            expected: false,
            previous_client_secret: None,
            tolerance: Duration::from_secs(300),
            quiet: Duration::from_secs(180),
        }
    }
}

/// A DigiLocker create-URL request.
#[derive(Debug, Clone)]
pub struct CashfreeCreate {
    /// Sent as `verification_id`.
    pub verification_id: ExternalRef,
    pub documents: Vec<DocumentType>,
    pub redirect_url: Option<url::Url>,
    pub flow: Option<UserFlow>,
}

/// How to look a session up: by our `verification_id` or Cashfree's `reference_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CashfreeLookup {
    VerificationId(String),
    ReferenceId(i64),
}

#[derive(Clone)]
pub struct CashfreeClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    base_url: Url,
    client_id: String,
    api_version: String,
    signing_key: Option<SigningKey>,
}

impl fmt::Debug for CashfreeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CashfreeClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &"[redacted]")
            .field("api_version", &self.inner.api_version)
            .field("signing_key", &self.inner.signing_key)
            .field("policy", self.inner.http.policy())
            .finish_non_exhaustive()
    }
}

impl CashfreeClient {
    /// Every request from now on waits for `gate` (team mode's budget).
    pub fn set_gate(&self, gate: Arc<dyn crate::providers::http::Gate>) {
        self.inner.http.set_gate(gate);
    }

    pub fn new(config: &CashfreeConfig, policy: CallPolicy) -> Result<Self, ProviderError> {
        if config.base_url.cannot_be_a_base() {
            return Err(invalid("base_url", "is not a base URL".into()));
        }
        let mut headers = HeaderMap::new();
        insert_header(&mut headers, "x-client-id", &config.client_id, false)?;
        insert_header(
            &mut headers,
            "x-client-secret",
            config.client_secret.expose_secret(),
            true,
        )?;
        insert_header(&mut headers, "x-api-version", &config.api_version, false)?;
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = Http::new(PROVIDER, policy, headers, |_| None)?;
        Ok(CashfreeClient {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url.clone(),
                client_id: config.client_id.clone(),
                api_version: config.api_version.clone(),
                signing_key: config.signing_key.clone(),
            }),
        })
    }

    /// `POST /digilocker`. A timeout is `OutcomeUnknown` (not retried).
    pub async fn create_digilocker(
        &self,
        request: &CashfreeCreate,
    ) -> Result<CreatedSession, ProviderError> {
        let body = create_body(request)?;
        let url = self.digilocker_url();
        self.inner
            .http
            .call(
                CallKind::SideEffect,
                |client| self.signed(client.post(url.clone()).json(&body)),
                parse_created,
            )
            .await
    }

    /// `GET /digilocker?verification_id=…|reference_id=…` (retried when safe).
    pub async fn digilocker_status(
        &self,
        lookup: &CashfreeLookup,
    ) -> Result<SessionStatusReport, ProviderError> {
        let mut url = self.digilocker_url();
        add_lookup(&mut url, lookup)?;
        self.signed_get(url, |raw| {
            parse_status(raw, lookup).map_err(|e| without_personal_data(e, &raw.body))
        })
        .await
    }

    /// A signed GET, retried when safe.
    async fn signed_get<T>(
        &self,
        url: Url,
        interpret: impl Fn(&RawResponse) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        self.inner
            .http
            .call(
                CallKind::Read,
                |client| self.signed(client.get(url.clone())),
                interpret,
            )
            .await
    }

    /// The provider's rate counter as its latest answer reported it.
    pub fn rate_headers(&self) -> Option<RateHeaders> {
        self.inner.http.rate_headers()
    }

    /// `GET /digilocker/document/{TYPE}?verification_id=…|reference_id=…`:
    /// 202 is "still being prepared", a 400 about expiry is the window gone.
    pub async fn digilocker_document(
        &self,
        lookup: &CashfreeLookup,
        document: DocumentType,
    ) -> Result<DocumentFetch, ProviderError> {
        let mut url = self.digilocker_url();
        if let Ok(mut path) = url.path_segments_mut() {
            path.push("document").push(document.wire());
        }
        add_lookup(&mut url, lookup)?;
        self.signed_get(url, |raw| {
            parse_document(raw, document).map_err(http::without_document_data)
        })
        .await
    }

    /// Adds a fresh `x-cf-signature` when the merchant uses public-key 2FA.
    /// Called for every attempt, so a retry never reuses an old signature.
    fn signed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let Some(key) = &self.inner.signing_key else {
            return request;
        };
        let now = jiff::Timestamp::now().as_second();
        match key.sign(&self.inner.client_id, now) {
            Ok(signature) => match HeaderValue::from_str(&signature) {
                Ok(mut value) => {
                    value.set_sensitive(true);
                    request.header(signature::HEADER, value)
                }
                Err(_) => request,
            },
            // The configuration check signed once with this key and client id,
            // so this cannot happen short of a broken RNG; the provider will
            // then refuse the call with 403, which says what went wrong.
            Err(message) => {
                tracing::warn!(%message, "cannot sign a Cashfree request");
                request
            }
        }
    }

    /// `{base_url}/digilocker`, keeping the base's own path (`/verification`).
    fn digilocker_url(&self) -> Url {
        let mut url = self.inner.base_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("digilocker");
        }
        url
    }
}

/// `?verification_id=…` (checked first) or `?reference_id=…`.
fn add_lookup(url: &mut Url, lookup: &CashfreeLookup) -> Result<(), ProviderError> {
    match lookup {
        CashfreeLookup::VerificationId(raw) => {
            let id = crate::validate::verification_id("verification_id", raw)?;
            url.query_pairs_mut().append_pair("verification_id", &id);
        }
        CashfreeLookup::ReferenceId(id) => {
            url.query_pairs_mut()
                .append_pair("reference_id", &id.to_string());
        }
    }
    Ok(())
}

fn invalid(field: &str, message: String) -> ProviderError {
    ProviderError::InvalidRequest {
        field: field.into(),
        message,
        provider_code: None,
    }
}

/// Checks what Cashfree would reject and builds the body, omitting absent optionals.
fn create_body(request: &CashfreeCreate) -> Result<Value, ProviderError> {
    let verification_id =
        crate::validate::verification_id("verification_id", request.verification_id.as_str())?;
    if request.documents.is_empty() {
        return Err(invalid(
            "document_requested",
            "is empty; choose from AADHAAR, PAN, DRIVING_LICENSE".into(),
        ));
    }
    for (i, doc) in request.documents.iter().enumerate() {
        if request.documents[..i].contains(doc) {
            return Err(invalid(
                "document_requested",
                format!("{doc} is listed twice"),
            ));
        }
    }
    let mut body = Map::new();
    body.insert("verification_id".into(), verification_id.into());
    body.insert(
        "document_requested".into(),
        request
            .documents
            .iter()
            .map(|d| Value::from(d.wire()))
            .collect(),
    );
    if let Some(redirect) = &request.redirect_url {
        if redirect.scheme() != "https" {
            return Err(invalid(
                "redirect_url",
                format!("must start with https:// (got {}://)", redirect.scheme()),
            ));
        }
        body.insert("redirect_url".into(), redirect.as_str().into());
    }
    if let Some(flow) = request.flow {
        body.insert("user_flow".into(), flow.cashfree_word().into());
    }
    Ok(Value::Object(body))
}

/// Cashfree's error body, read leniently: `code`/`message` at the top level
/// or inside `error`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorBody {
    pub kind: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Reads an error body; `None` when it is not a JSON object.
pub fn parse_error_body(body: &str) -> Option<ErrorBody> {
    let value: Value = serde_json::from_str(body).ok()?;
    let top = value.as_object()?;
    let nested = top.get("error").and_then(Value::as_object);
    let field = |name: &str| text(top.get(name)).or_else(|| nested.and_then(|n| text(n.get(name))));
    Some(ErrorBody {
        kind: field("type"),
        code: field("code"),
        message: field("message"),
    })
}

/// The request field a 400 code is about: `redirect_url_value_invalid` →
/// `redirect_url`. `invalid_request` is what Cashfree says about the document
/// list (empty, unknown or duplicate documents).
pub fn field_of_code(code: &str) -> String {
    if code == "invalid_request" {
        return "document_requested".into();
    }
    ["_value_invalid", "_missing", "_invalid"]
        .iter()
        .find_map(|suffix| code.strip_suffix(suffix))
        .filter(|field| !field.is_empty())
        .unwrap_or("request")
        .to_string()
}

fn malformed(message: &str, body: &str) -> ProviderError {
    http::malformed(PROVIDER, message, body)
}

/// The success object, or the error the HTTP status and body stand for.
fn success_object(raw: &RawResponse) -> Result<Map<String, Value>, ProviderError> {
    if raw.status.is_success() {
        return json_object(PROVIDER, &raw.body);
    }
    Err(error_for(raw))
}

fn error_for(raw: &RawResponse) -> ProviderError {
    let status = raw.status;
    let parsed = parse_error_body(&raw.body);
    let code = parsed.as_ref().and_then(|e| e.code.clone());
    let message = parsed
        .as_ref()
        .and_then(|e| e.message.clone())
        .unwrap_or_else(|| format!("HTTP {}: {}", status.as_u16(), excerpt(&raw.body)));

    if status == StatusCode::TOO_MANY_REQUESTS {
        return ProviderError::RateLimited {
            provider: PROVIDER,
            retry_after: retry_after(&raw.headers),
            code,
        };
    }
    if status.is_server_error() {
        return ProviderError::Unavailable {
            provider: PROVIDER,
            status: status.as_u16(),
            code,
            message,
        };
    }
    // A 401/403 is a credentials or IP-whitelist answer even when a gateway
    // sent it without Cashfree's JSON.
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        // Cashfree's own text only says "IP not whitelisted"; the operator also
        // needs to know the other way in.
        let message = if code.as_deref() == Some("ip_validation_failed") {
            format!(
                "{message} (this address is not whitelisted and the call carried no valid \
                 x-cf-signature: whitelist the server's IP in the Cashfree dashboard, or set \
                 [cashfree] public_key_path for public-key two-factor authentication)"
            )
        } else {
            message
        };
        return ProviderError::Auth {
            provider: PROVIDER,
            code,
            message,
        };
    }
    let Some(code) = code else {
        return malformed(
            &format!("HTTP {} without a Cashfree error code", status.as_u16()),
            &raw.body,
        );
    };
    if status == StatusCode::BAD_REQUEST {
        if AUTH_VALIDATION_CODES.contains(&code.as_str()) {
            return ProviderError::Auth {
                provider: PROVIDER,
                code: Some(code),
                message,
            };
        }
        return ProviderError::InvalidRequest {
            field: field_of_code(&code),
            message,
            provider_code: Some(code),
        };
    }
    // 404 unknown verification, 409 id reused, 422 balance, and whatever else
    // Cashfree refuses with a code of its own.
    ProviderError::Declined {
        provider: PROVIDER,
        code,
        message,
        actcode: None,
        request_id: None,
    }
}

fn parse_document(
    raw: &RawResponse,
    document: DocumentType,
) -> Result<DocumentFetch, ProviderError> {
    if raw.status == StatusCode::ACCEPTED {
        return Ok(DocumentFetch::Preparing);
    }
    if raw.status == StatusCode::BAD_REQUEST {
        let message = parse_error_body(&raw.body).and_then(|e| e.message);
        if let Some(message) = message.filter(|m| http::says_expired(m)) {
            return Ok(DocumentFetch::Expired { message });
        }
    }
    let object = success_object(raw)?;
    Ok(DocumentFetch::Ready(Document::from_json(document, &object)))
}

/// `reference_id` is an int64 on the wire; a string is taken as is.
fn reference_of(fields: &Map<String, Value>) -> Option<String> {
    text(fields.get("reference_id"))
}

/// Known document words; unknown ones are skipped so a new Cashfree document
/// type does not break status polling.
fn documents(value: Option<&Value>) -> Vec<DocumentType> {
    value
        .and_then(Value::as_array)
        .map(|words| {
            words
                .iter()
                .filter_map(Value::as_str)
                .filter_map(DocumentType::parse)
                .collect()
        })
        .unwrap_or_default()
}

fn parse_created(raw: &RawResponse) -> Result<CreatedSession, ProviderError> {
    let fields = success_object(raw)?;
    let reference = reference_of(&fields)
        .ok_or_else(|| malformed("success without reference_id", &raw.body))?;
    let url = text(fields.get("url")).ok_or_else(|| malformed("success without url", &raw.body))?;
    let provider_status = text(fields.get("status")).unwrap_or_else(|| "PENDING".to_string());
    Ok(CreatedSession {
        reference,
        url,
        status: SessionStatus::from_provider(PROVIDER, &provider_status),
        provider_status,
        documents_requested: documents(fields.get("document_requested")),
        environment: None,
        request_id: None,
    })
}

fn parse_status(
    raw: &RawResponse,
    lookup: &CashfreeLookup,
) -> Result<SessionStatusReport, ProviderError> {
    let fields = success_object(raw)?;
    let provider_status =
        text(fields.get("status")).ok_or_else(|| malformed("success without status", &raw.body))?;
    let reference = match (reference_of(&fields), lookup) {
        (Some(reference), _) => reference,
        (None, CashfreeLookup::ReferenceId(id)) => id.to_string(),
        (None, CashfreeLookup::VerificationId(_)) => {
            return Err(malformed("success without reference_id", &raw.body));
        }
    };
    let user_details = http::user_details(fields.get("user_details"));
    Ok(SessionStatusReport {
        reference,
        external_ref: text(fields.get("verification_id")),
        status: SessionStatus::from_provider(PROVIDER, &provider_status),
        provider_status,
        documents_requested: documents(fields.get("document_requested")),
        documents_consented: documents(fields.get("document_consent")),
        user_details,
        request_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::http::test_support::{any_json, raw};
    use proptest::prelude::*;
    use serde_json::json;

    const KEYS: &[&str] = &[
        "reference_id",
        "status",
        "url",
        "document_requested",
        "document_consent",
        "user_details",
        "code",
        "message",
        "error",
    ];
    const WORDS: &[&str] = &["PENDING", "AUTHENTICATED", "AADHAAR", "PAN"];

    #[test]
    fn fields_from_codes() {
        for (code, field) in [
            ("verification_id_value_invalid", "verification_id"),
            ("verification_id_missing", "verification_id"),
            ("document_requested_missing", "document_requested"),
            ("redirect_url_value_invalid", "redirect_url"),
            ("invalid_request", "document_requested"),
            ("something_else", "request"),
            ("_missing", "request"),
        ] {
            assert_eq!(field_of_code(code), field, "{code}");
        }
    }

    #[test]
    fn error_bodies_top_level_or_nested() {
        let e = parse_error_body(
            r#"{"type":"validation_error","code":"c","message":"m","error":{"ref_id":102}}"#,
        )
        .expect("object");
        assert_eq!(e.code.as_deref(), Some("c"));
        assert_eq!(e.message.as_deref(), Some("m"));
        let e = parse_error_body(r#"{"error":{"code":"c2","message":"m2"}}"#).expect("object");
        assert_eq!(e.code.as_deref(), Some("c2"));
        assert_eq!(parse_error_body("<html>"), None);
        assert_eq!(parse_error_body("[1]"), None);
    }

    #[test]
    fn status_mapping() {
        let body = |code: &str| format!(r#"{{"type":"t","code":"{code}","message":"msg"}}"#);
        let err = error_for(&raw(400, &body("x-client-secret_value_invalid")));
        assert_eq!(err.kind(), "auth");
        let err = error_for(&raw(400, &body("redirect_url_value_invalid")));
        assert_eq!(
            err,
            ProviderError::InvalidRequest {
                field: "redirect_url".into(),
                message: "msg".into(),
                provider_code: Some("redirect_url_value_invalid".into()),
            }
        );
        assert_eq!(
            error_for(&raw(401, &body("authentication_failed"))).kind(),
            "auth"
        );
        assert_eq!(error_for(&raw(403, "<html>")).kind(), "auth");
        for status in [404, 409, 422] {
            assert_eq!(error_for(&raw(status, &body("x"))).kind(), "declined");
        }
        assert_eq!(error_for(&raw(429, "")).kind(), "rate_limited");
        assert_eq!(
            error_for(&raw(500, &body("verification_failed"))).kind(),
            "provider_unavailable"
        );
        assert_eq!(
            error_for(&raw(502, "<html>")).kind(),
            "provider_unavailable"
        );
        assert_eq!(error_for(&raw(400, "<html>")).kind(), "malformed_response");
        assert_eq!(error_for(&raw(409, "{}")).kind(), "malformed_response");
    }

    #[test]
    fn local_validation() {
        let mut request = CashfreeCreate {
            verification_id: ExternalRef::new_unchecked("ABC00123"),
            documents: vec![DocumentType::Aadhaar],
            redirect_url: None,
            flow: None,
        };
        assert_eq!(
            create_body(&request).expect("valid"),
            json!({"verification_id": "ABC00123", "document_requested": ["AADHAAR"]})
        );
        request.documents.clear();
        assert_eq!(
            create_body(&request).expect_err("empty").kind(),
            "invalid_request"
        );
        request.documents = vec![DocumentType::Pan, DocumentType::Pan];
        assert!(
            create_body(&request)
                .expect_err("dup")
                .to_string()
                .contains("twice")
        );
        request.documents = vec![DocumentType::Pan];
        request.redirect_url = Some(Url::parse("http://example.com").expect("url"));
        assert!(create_body(&request).is_err());
        request.redirect_url = None;
        request.verification_id = ExternalRef::new_unchecked("a b");
        assert!(create_body(&request).is_err());
    }

    fn parse_everything(status: u16, body: &str) {
        let r = raw(status, body);
        let _ = parse_error_body(body);
        let _ = parse_created(&r);
        let _ = parse_status(&r, &CashfreeLookup::ReferenceId(1));
        let _ = parse_status(&r, &CashfreeLookup::VerificationId("v".into()));
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_json_never_panics(
            value in any_json(KEYS, WORDS),
            status in prop_oneof![Just(200u16), Just(400), Just(429), Just(500), 100u16..600],
        ) {
            parse_everything(status, &value.to_string());
        }

        #[test]
        fn parsing_arbitrary_strings_never_panics(body in ".*", status in 100u16..600) {
            parse_everything(status, &body);
        }
    }
}
