//! InstantPay at the root paths: every answer is the full envelope, the
//! checks run in the order the provider seems to apply them (auth code,
//! credentials, endpoint IP, then the body field by field).

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{MethodRouter, post};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::documents::{self, Refusal};
use super::state::{ALNUM, HEX, Link, SimState, chars_from, hash};
use crate::domain::SessionStatus;
use crate::validate;

/// The simulator is nobody's production, so it says so.
const ENVIRONMENT: &str = "SANDBOX";

#[derive(Serialize)]
struct Envelope {
    statuscode: &'static str,
    actcode: Option<String>,
    status: String,
    data: Value,
    timestamp: String,
    ipay_uuid: String,
    orderid: Option<String>,
    environment: &'static str,
    #[serde(rename = "internalCode")]
    internal_code: Option<String>,
}

/// InstantPay stamps responses in Indian time, `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn ist(ts: jiff::Timestamp) -> String {
    let offset = jiff::tz::Offset::from_seconds(5 * 3_600 + 1_800).unwrap_or(jiff::tz::Offset::UTC);
    ts.to_zoned(jiff::tz::TimeZone::fixed(offset))
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Shaped like the samples: `h000a07c658e-fd48-4732-8a3a-f46485e52380-VCjknIK9YgFD`.
fn ipay_uuid(state: &SimState, sequence: u64) -> String {
    let h = hash(state.seed, &[b"ipay_uuid", &sequence.to_le_bytes()]);
    let hex = chars_from(h, HEX, 29);
    format!(
        "h00{}-{}-{}-{}-{}-{}",
        &hex[0..9],
        &hex[9..13],
        &hex[13..17],
        &hex[17..21],
        chars_from(h ^ 0x5a5a, HEX, 12),
        chars_from(h ^ 0xa5a5, ALNUM, 12),
    )
}

fn envelope(
    state: &SimState,
    http: StatusCode,
    statuscode: &'static str,
    status: impl Into<String>,
    data: Value,
) -> Response {
    let body = Envelope {
        statuscode,
        actcode: None,
        status: status.into(),
        data,
        timestamp: ist(jiff::Timestamp::now()),
        ipay_uuid: ipay_uuid(state, state.next_uuid()),
        orderid: None,
        environment: ENVIRONMENT,
        internal_code: None,
    };
    (http, Json(body)).into_response()
}

/// A refusal: HTTP status, envelope code and the text naming what is wrong.
struct Reject {
    http: StatusCode,
    code: &'static str,
    text: String,
}

impl Reject {
    fn rpi(text: impl Into<String>) -> Reject {
        Reject {
            http: StatusCode::OK,
            code: "RPI",
            text: text.into(),
        }
    }

    fn into_response(self, state: &SimState) -> Response {
        envelope(state, self.http, self.code, self.text, Value::Null)
    }
}

fn authorize(state: &SimState, headers: &HeaderMap) -> Result<(), Reject> {
    let get = |name: &str| crate::providers::http::header_text(headers, name);
    match get("x-ipay-auth-code") {
        None => return Err(Reject::rpi("X-Ipay-Auth-Code header is missing")),
        Some("1") => {}
        Some(_) => {
            return Err(Reject::rpi(
                "X-Ipay-Auth-Code header is invalid; it must be 1",
            ));
        }
    }
    let creds = &state.credentials;
    let id_ok = get("x-ipay-client-id") == Some(creds.instantpay_client_id.as_str());
    let secret_ok = get("x-ipay-client-secret") == Some(creds.instantpay_client_secret.as_str());
    if !(id_ok && secret_ok) {
        return Err(Reject {
            http: StatusCode::UNAUTHORIZED,
            code: "IAC",
            text: "Invalid client credentials: check X-Ipay-Client-Id and X-Ipay-Client-Secret"
                .into(),
        });
    }
    match get("x-ipay-endpoint-ip") {
        None => Err(Reject::rpi("X-Ipay-Endpoint-Ip header is missing")),
        Some(ip) if ip.parse::<IpAddr>().is_err() => Err(Reject::rpi(
            "X-Ipay-Endpoint-Ip header is not a valid IP address",
        )),
        Some(_) => Ok(()),
    }
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, Reject> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Reject::rpi(
            "Invalid request body: expected a JSON object with the request parameters",
        )),
    }
}

fn field<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, Reject> {
    match body.get(name) {
        None | Some(Value::Null) => Err(Reject::rpi(format!("Parameter missing: {name}"))),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(Reject::rpi(format!("Parameter missing: {name}")))
        }
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Reject::rpi(format!("Invalid {name}: must be a string"))),
    }
}

fn external_ref(body: &Map<String, Value>) -> Result<&str, Reject> {
    let value = field(body, "externalRef")?;
    if value.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(value)
    } else {
        Err(Reject::rpi(
            "Invalid externalRef: only alphanumeric characters are allowed",
        ))
    }
}

fn coordinates(body: &Map<String, Value>) -> Result<(), Reject> {
    let lat = field(body, "latitude")?;
    if !(validate::is_wire_coordinate(lat) && validate::latitude("latitude", lat).is_ok()) {
        return Err(Reject::rpi(
            "Invalid latitude: degrees between -90 and 90 with exactly 4 digits after the decimal point",
        ));
    }
    let lon = field(body, "longitude")?;
    if !(validate::is_wire_coordinate(lon) && validate::longitude("longitude", lon).is_ok()) {
        return Err(Reject::rpi(
            "Invalid longitude: degrees between -180 and 180 with exactly 4 digits after the decimal point",
        ));
    }
    Ok(())
}

/// An authorized request's JSON body.
fn request(
    state: &SimState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Map<String, Value>, Reject> {
    authorize(state, headers)?;
    parse_body(body)
}

/// What an endpoint makes of an authorized request's body: the envelope's
/// `data`, or the refusal.
type Answer = fn(&SimState, &Map<String, Value>) -> Result<Value, Reject>;

/// A POST endpoint answering `TXN` with `text` and the data `answer` gives.
fn endpoint(text: &'static str, answer: Answer) -> MethodRouter<Arc<SimState>> {
    post(
        move |State(state): State<Arc<SimState>>, headers: HeaderMap, body: Bytes| async move {
            match request(&state, &headers, &body).and_then(|body| answer(&state, &body)) {
                Ok(data) => envelope(&state, StatusCode::OK, "TXN", text, data),
                Err(reject) => reject.into_response(&state),
            }
        },
    )
}

pub(crate) fn balance() -> MethodRouter<Arc<SimState>> {
    endpoint("Transaction Successful", balance_data)
}

pub(crate) fn digilocker_create() -> MethodRouter<Arc<SimState>> {
    endpoint("Success", create_data)
}

pub(crate) fn digilocker_status() -> MethodRouter<Arc<SimState>> {
    endpoint("Success", status_data)
}

pub(crate) fn digilocker_document() -> MethodRouter<Arc<SimState>> {
    endpoint("Success", document_data)
}

fn money(value: Decimal) -> String {
    let mut v = value;
    v.rescale(2);
    v.to_string()
}

fn balance_data(state: &SimState, body: &Map<String, Value>) -> Result<Value, Reject> {
    if field(body, "bankProfileId")? != "0" {
        return Err(Reject::rpi("Invalid bankProfileId: must be \"0\""));
    }
    let account = field(body, "accountNumber")?;
    if !(account.len() == 10 && account.chars().all(|c| c.is_ascii_digit())) {
        return Err(Reject {
            http: StatusCode::OK,
            code: "IAN",
            text: "Invalid accountNumber: must be the 10-digit InstantPay registered mobile number"
                .into(),
        });
    }
    external_ref(body)?;
    coordinates(body)?;

    let wallet = state.wallet();
    let available = wallet.total - wallet.lien;
    let closing = if wallet.mode == "CR" {
        wallet.opening + wallet.moved
    } else {
        wallet.opening - wallet.moved
    };
    Ok(json!({
        "bankId": "0",
        "bankProfileId": 0,
        "accountNumber": account,
        "accountShortNumber": &account[account.len() - 4..],
        "balance": {
            "total": money(wallet.total),
            "lien": money(wallet.lien),
            "available": money(available),
        },
        "poolReferenceId": "",
        "pool": {
            "account": account,
            "openingBal": money(wallet.opening),
            "mode": wallet.mode,
            "amount": money(wallet.moved),
            "closingBal": money(closing),
        }
    }))
}

fn create_data(state: &SimState, body: &Map<String, Value>) -> Result<Value, Reject> {
    let external_ref = external_ref(body)?;
    let redirection = field(body, "redirectionUrl")?;
    let redirect_ok = url::Url::parse(redirection).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    });
    if !redirect_ok {
        return Err(Reject::rpi(
            "Invalid redirectionUrl: must be a valid http or https URL",
        ));
    }
    let flow = match field(body, "userFlow")? {
        "SIGNUP" => "signup",
        "SIGNIN" => "signin",
        _ => return Err(Reject::rpi("Invalid userFlow: must be SIGNUP or SIGNIN")),
    };
    coordinates(body)?;

    let session = state.create_ip_session(external_ref).ok_or(Reject {
        http: StatusCode::OK,
        code: "DTX",
        text: "Duplicate Transaction: externalRef has already been used".into(),
    })?;
    let reference = &session.reference_id;
    let h = hash(state.seed, &[b"oauth", reference.as_bytes()]);
    let url = format!(
        "https://digilocker.meripehchaan.gov.in/public/oauth2/1/authorize?response_type=code&client_id=CG588133FF&state={state_token}&code_challenge={challenge}&code_challenge_method=S256&redirect_uri=https%3A%2F%2Fapi.instantpay.in%2Fwebhook%2F{reference}&dl_flow={flow}&scope=files.issueddocs+userdetails+email+careof+address+picture",
        state_token = chars_from(h, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 22),
        challenge = chars_from(
            h ^ 1,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            43
        ),
    );
    Ok(json!({
        "referenceId": reference,
        "url": url,
        "status": "PENDING",
    }))
}

/// InstantPay's word for a status.
fn status_word(status: &SessionStatus) -> String {
    match status {
        SessionStatus::Pending => "PENDING".into(),
        SessionStatus::Authenticated => "AUTHORIZED".into(),
        SessionStatus::Expired => "EXPIRED".into(),
        SessionStatus::ConsentDenied => "CONSENT_DENIED".into(),
        SessionStatus::Unknown(raw) => raw.clone(),
    }
}

fn status_data(state: &SimState, body: &Map<String, Value>) -> Result<Value, Reject> {
    let reference = field(body, "referenceId")?;
    let session = state
        .ip_session(reference)
        .ok_or_else(|| Reject::rpi("Invalid referenceId"))?;
    let status = session.life.status(state.now());
    let details = if status == SessionStatus::Authenticated {
        let p = &session.life.person;
        json!({
            "name": p.name,
            "mobile": p.mobile,
            "dob": p.dob_iso(),
            "gender": p.gender,
            "eaadhaar": "Y",
        })
    } else {
        Value::Null
    };
    Ok(json!({
        "status": status_word(&status),
        "referenceId": session.reference_id,
        "externalRef": session.external_ref,
        "userDetails": details,
    }))
}

fn document_data(state: &SimState, body: &Map<String, Value>) -> Result<Value, Reject> {
    let reference = field(body, "referenceId")?;
    let document = field(body, "documentType")?;
    if !["AADHAAR", "PAN", "DRIVING_LICENSE"].contains(&document) {
        return Err(Reject::rpi("Invalid documentType"));
    }
    let session = state
        .ip_session(reference)
        .ok_or_else(|| Reject::rpi("Invalid referenceId"))?;
    match documents::available(&session.life, state.now()) {
        Ok(()) => {}
        Err(Refusal::NoConsent { expired: true }) => {
            return Err(Reject::rpi("Digilocker request URL is expired"));
        }
        Err(Refusal::NoConsent { expired: false }) => {
            return Err(Reject::rpi("Consent not given by the user yet"));
        }
        Err(Refusal::ConsentExpired) => {
            return Err(Reject::rpi("Digilocker consent session expired"));
        }
    }
    Ok(documents::instantpay(document, &session.life, reference))
}

pub(crate) async fn link_notify(
    State(state): State<Arc<SimState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match request(&state, &headers, &body).and_then(|body| notify(&state, &body)) {
        Ok(text) => envelope(&state, StatusCode::OK, "TXN", text, Value::Null),
        Err(reject) => reject.into_response(&state),
    }
}

fn notify(state: &SimState, body: &Map<String, Value>) -> Result<String, Reject> {
    let id = field(body, "linkId")?;
    // Only an issued link is notified; the state records it under one lock.
    let link = state
        .notify_link(id)
        .ok_or_else(|| Reject::rpi("Invalid Link Id"))?;
    if link.status != "ISSUED" {
        return Err(Reject {
            http: StatusCode::OK,
            code: "ERR",
            text: format!(
                "Notification not sent: payout link is {}; only an ISSUED link can be notified",
                link.status
            ),
        });
    }
    Ok(format!(
        "Notification Link Sent To {} and {}",
        link.masked_mobile, link.masked_email
    ))
}

pub(crate) async fn link_track(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = authorize(&state, &headers).and_then(|()| {
        state
            .link(&id)
            .ok_or_else(|| Reject::rpi("Invalid Link Id"))
    });
    match result {
        Ok(link) => envelope(
            &state,
            StatusCode::OK,
            "TXN",
            "Transaction Successful",
            track_data(&id, &link),
        ),
        Err(reject) => reject.into_response(&state),
    }
}

fn track_data(id: &str, link: &Link) -> Value {
    // The provider sends the amount as a JSON number; the conversion happens
    // only here, at the wire, and the amounts have at most one decimal place.
    let amount = link
        .amount
        .to_f64()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number);
    let activity: Vec<Value> = link
        .activity
        .iter()
        .map(|a| {
            json!({
                "status": a.status,
                "activityAt": ist(a.at),
                "remarks": a.remarks,
            })
        })
        .collect();
    json!({
        "linkId": id,
        "status": link.status,
        "amount": amount,
        "linkActivity": activity,
    })
}

pub(crate) fn too_many_requests(state: &SimState, retry_after_secs: u64) -> Response {
    envelope(
        state,
        StatusCode::TOO_MANY_REQUESTS,
        "ERR",
        format!("Too many requests, please retry after {retry_after_secs} second(s)"),
        Value::Null,
    )
}

const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
const INTERNAL_ERROR_HTML: &str = "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// Real outages show up in three shapes; rotate through them so clients meet each.
pub(crate) fn server_error(state: &SimState, nth: u64) -> Response {
    let html = |status: StatusCode, body: &'static str| {
        (status, [(header::CONTENT_TYPE, "text/html")], body).into_response()
    };
    match nth % 3 {
        0 => html(StatusCode::BAD_GATEWAY, BAD_GATEWAY_HTML),
        1 => envelope(
            state,
            StatusCode::INTERNAL_SERVER_ERROR,
            "ISE",
            "System Error: please try again later",
            Value::Null,
        ),
        _ => html(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR_HTML),
    }
}
