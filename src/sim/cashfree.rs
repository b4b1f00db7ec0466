//! Cashfree Verification under `/verification`: `{type, code, message}` errors
//! with the documented HTTP statuses and, where the documents give one, the
//! documented text word for word.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::documents::{self, Refusal};
use super::state::{CfSession, SimState, chars_from, hash};
use crate::domain::SessionStatus;
use crate::providers::signature;

const DOCUMENTS: [&str; 3] = ["AADHAAR", "PAN", "DRIVING_LICENSE"];

#[derive(Serialize)]
struct ErrorBody {
    #[serde(rename = "type")]
    kind: &'static str,
    code: &'static str,
    message: String,
}

/// A Cashfree error before it becomes a response (kept small so `Result`s stay cheap).
struct CfError {
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: &'static str,
}

impl IntoResponse for CfError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            kind: self.kind,
            code: self.code,
            message: self.message.to_string(),
        };
        (self.status, Json(body)).into_response()
    }
}

fn error(
    status: StatusCode,
    kind: &'static str,
    code: &'static str,
    message: &'static str,
) -> CfError {
    CfError {
        status,
        kind,
        code,
        message,
    }
}

fn invalid(code: &'static str, message: &'static str) -> CfError {
    error(StatusCode::BAD_REQUEST, "validation_error", code, message)
}

fn authorize(state: &SimState, headers: &HeaderMap) -> Result<(), CfError> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
    };
    let id = get("x-client-id").ok_or_else(|| {
        invalid(
            "x-client-id_missing",
            "x-client-id is missing in the request.",
        )
    })?;
    let secret = get("x-client-secret").ok_or_else(|| {
        invalid(
            "x-client-secret_missing",
            "x-client-secret is missing in the request.",
        )
    })?;
    let creds = &state.credentials;
    if id != creds.cashfree_client_id || secret != creds.cashfree_client_secret {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "authentication_failed",
            "Invalid clientId and clientSecret combination",
        ));
    }
    // Loopback is never on a merchant's whitelist: with 2FA demanded, only a
    // signature lets the call through, exactly as production treats an
    // unknown address.
    if let Some(key) = &state.cashfree_signature_key {
        let now = jiff::Timestamp::now().as_second();
        if let Err(refusal) = key.verify(get(signature::HEADER), id, now) {
            tracing::debug!(?refusal, "simulator refused x-cf-signature");
            return Err(error(
                StatusCode::FORBIDDEN,
                "authentication_error",
                "ip_validation_failed",
                "IP not whitelisted. For IP whitelisting assistance, visit our guide at https://www.cashfree.com/docs/secure-id/get-started/integration/ip-whitelisting-verification",
            ));
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Created {
    verification_id: String,
    reference_id: i64,
    url: String,
    status: &'static str,
    document_requested: Vec<String>,
    redirect_url: String,
}

pub(crate) async fn create(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match create_inner(&state, &headers, &body) {
        Ok(created) => (StatusCode::OK, Json(created)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn create_inner(state: &SimState, headers: &HeaderMap, body: &Bytes) -> Result<Created, CfError> {
    authorize(state, headers)?;
    let body: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(invalid(
                "invalid_request",
                "Request body is not a valid JSON object",
            ));
        }
    };

    let verification_id = match body.get("verification_id") {
        None | Some(Value::Null) => {
            return Err(invalid(
                "verification_id_missing",
                "verification_id is missing in the request.",
            ));
        }
        Some(Value::String(s)) if s.is_empty() => {
            return Err(invalid(
                "verification_id_missing",
                "verification_id is missing in the request.",
            ));
        }
        Some(Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(invalid(
                "verification_id_value_invalid",
                "verification_id should be a string.",
            ));
        }
    };
    if !verification_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(invalid(
            "verification_id_value_invalid",
            "verification_id can include only alphanum, dot, hyphen and underscores.",
        ));
    }
    if verification_id.chars().count() > crate::validate::VERIFICATION_ID_MAX {
        return Err(invalid(
            "verification_id_value_invalid",
            "verification_id length should be less than or equal to 50 characters.",
        ));
    }

    let documents = documents(&body)?;

    let redirect_url = match body.get("redirect_url") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => {
            if !s.starts_with("https") {
                return Err(invalid(
                    "redirect_url_value_invalid",
                    "redirect_url should start with https.",
                ));
            }
            let valid = url::Url::parse(s).is_ok_and(|u| {
                u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty())
            });
            if !valid {
                return Err(invalid(
                    "redirect_url_value_invalid",
                    "redirect_url should be valid url.",
                ));
            }
            s.clone()
        }
        Some(_) => {
            return Err(invalid(
                "redirect_url_value_invalid",
                "redirect_url should be valid url.",
            ));
        }
    };

    match body.get("user_flow") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "signup" || s == "signin" => {}
        Some(_) => {
            return Err(invalid(
                "user_flow_value_invalid",
                "user_flow should be either signup or signin.",
            ));
        }
    }

    // A valid request the merchant cannot pay for: nothing is created.
    if state
        .cashfree_insufficient_balance
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        return Err(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            "insufficient_balance",
            "Insufficient balance to process this request",
        ));
    }
    let session = state
        .create_cf_session(verification_id, documents.clone())
        .ok_or_else(|| {
            error(
                StatusCode::CONFLICT,
                "validation_error",
                "verification_id_value_invalid",
                "verification_id already exists, please provide new verification_id",
            )
        })?;
    let h = hash(state.seed, &[b"cf-url", verification_id.as_bytes()]);
    Ok(Created {
        verification_id: session.verification_id,
        reference_id: session.reference_id,
        url: format!(
            "https://verification-test.cashfree.com/dgl/{}",
            chars_from(h, b"abcdefghijklmnopqrstuvwxyz0123456789", 11)
        ),
        status: "PENDING",
        document_requested: documents,
        redirect_url,
    })
}

fn documents(body: &Map<String, Value>) -> Result<Vec<String>, CfError> {
    let list = match body.get("document_requested") {
        None | Some(Value::Null) => {
            return Err(invalid(
                "document_requested_missing",
                "document_requested is missing in the request.",
            ));
        }
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(invalid(
                "invalid_request",
                "Invalid Document Type Submitted",
            ));
        }
    };
    if list.is_empty() {
        return Err(invalid(
            "invalid_request",
            "Requested Document Type can't be empty",
        ));
    }
    let mut seen = HashSet::new();
    let mut documents = Vec::with_capacity(list.len());
    for item in list {
        let word = item
            .as_str()
            .filter(|w| DOCUMENTS.contains(w))
            .ok_or_else(|| invalid("invalid_request", "Invalid Document Type Submitted"))?;
        if !seen.insert(word) {
            return Err(invalid(
                "invalid_request",
                "Duplicate Document Type Submitted",
            ));
        }
        documents.push(word.to_string());
    }
    Ok(documents)
}

#[derive(Serialize)]
pub(crate) struct StatusBody {
    verification_id: String,
    reference_id: i64,
    status: String,
    user_details: Value,
    document_requested: Vec<String>,
    document_consent: Vec<String>,
}

pub(crate) async fn status(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match status_inner(&state, &headers, query.as_deref().unwrap_or("")) {
        Ok(body) => (StatusCode::OK, Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn status_inner(state: &SimState, headers: &HeaderMap, query: &str) -> Result<StatusBody, CfError> {
    authorize(state, headers)?;
    let session = find_session(state, query)?;
    Ok(status_body(state, session))
}

/// The session a `verification_id` / `reference_id` query names.
fn find_session(state: &SimState, query: &str) -> Result<CfSession, CfError> {
    let mut verification_id = None;
    let mut reference_id = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if value.is_empty() {
            continue;
        }
        match key.as_ref() {
            "verification_id" => verification_id = Some(value.into_owned()),
            "reference_id" => reference_id = Some(value.into_owned()),
            _ => {}
        }
    }
    let reference_id = match reference_id {
        None => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
            invalid(
                "reference_id_value_invalid",
                "reference_id should be a valid integer.",
            )
        })?),
    };
    // The words of Cashfree's own error table, naming the id that was asked by.
    let not_found = || {
        let message = if verification_id.is_some() {
            "Please enter a valid verification_id"
        } else {
            "Please enter a valid reference_id"
        };
        error(
            StatusCode::NOT_FOUND,
            "validation_error",
            "verification_id_value_invalid",
            message,
        )
    };
    match (&verification_id, reference_id) {
        (None, None) => {
            return Err(invalid(
                "verification_id_missing",
                "Please provide verification_id or reference_id",
            ));
        }
        (Some(v), r) => state
            .cf_session_by_verification_id(v)
            .filter(|s| r.is_none_or(|r| r == s.reference_id)),
        (None, Some(r)) => state.cf_session_by_reference(r),
    }
    .ok_or_else(not_found)
}

pub(crate) async fn document(
    State(state): State<Arc<SimState>>,
    Path(document): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match document_inner(&state, &document, &headers, query.as_deref().unwrap_or("")) {
        Ok(Some(body)) => (StatusCode::OK, Json(body)).into_response(),
        Ok(None) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "status": "PROCESSING",
                "message": "Document is being fetched from DigiLocker. Please retry after a few seconds",
            })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `None`: the first fetch of this document, still being prepared (202).
fn document_inner(
    state: &SimState,
    document: &str,
    headers: &HeaderMap,
    query: &str,
) -> Result<Option<Value>, CfError> {
    authorize(state, headers)?;
    if !DOCUMENTS.contains(&document) {
        return Err(invalid(
            "document_type_value_invalid",
            "document_type should be one of AADHAAR, PAN, DRIVING_LICENSE",
        ));
    }
    let session = find_session(state, query)?;
    match documents::available(&session.life, state.now()) {
        Ok(()) => {}
        Err(Refusal::NoConsent { expired: true }) => {
            return Err(invalid(
                "invalid_request",
                "Digilocker request URL is expired",
            ));
        }
        Err(Refusal::NoConsent { expired: false }) => {
            return Err(invalid(
                "invalid_request",
                "User has not given consent for the documents yet",
            ));
        }
        Err(Refusal::ConsentExpired) => {
            return Err(invalid(
                "invalid_request",
                "Digilocker consent session expired",
            ));
        }
    }
    if !session.documents.iter().any(|d| d == document) {
        return Err(invalid(
            "invalid_request",
            "The requested document was not consented by the user",
        ));
    }
    if state.first_document_fetch(&session.verification_id, document) {
        return Ok(None);
    }
    Ok(Some(documents::cashfree(
        document,
        &session.life,
        &session.verification_id,
        session.reference_id,
    )))
}

pub(crate) fn status_body(state: &SimState, session: CfSession) -> StatusBody {
    let status = session.life.status(state.now());
    let authenticated = status == SessionStatus::Authenticated;
    let user_details = if authenticated {
        let p = &session.life.person;
        json!({
            "name": p.name,
            "dob": p.dob_dmy(),
            "gender": p.gender,
            "eaadhaar": "Y",
            "mobile": p.mobile,
        })
    } else {
        Value::Null
    };
    let status = match status {
        SessionStatus::Unknown(raw) => raw,
        known => known.as_str(),
    };
    StatusBody {
        verification_id: session.verification_id,
        reference_id: session.reference_id,
        status,
        user_details,
        document_consent: if authenticated {
            session.documents.clone()
        } else {
            Vec::new()
        },
        document_requested: session.documents,
    }
}

pub(crate) fn too_many_requests() -> Response {
    let e = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_error",
        "too_many_requests_per_operation",
        "Too many requests for this operation, rate limit reached",
    );
    e.into_response()
}

pub(crate) fn server_error() -> Response {
    let e = error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "verification_failed",
        "something went wrong",
    );
    e.into_response()
}
