//! Cashfree's DigiLocker webhook, as PROVIDERS.md ("Webhooks") gathers it:
//! the signature both sides compute, and the event a delivery carries.
//! The simulator signs with [`sign`]; `payops serve` checks with
//! [`verify`] and reads with [`parse_event`].
//!
//! A delivery's `data` holds the customer's `user_details` (name, date of
//! birth, gender, mobile): [`Event`] has no field for them, so they are
//! skipped as the body is read and never held, stored, logged or sent on.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::domain::{DocumentType, SessionStatus};

pub const TIMESTAMP_HEADER: &str = "x-webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";
pub const ATTEMPT_HEADER: &str = "x-webhook-attempt";

/// The event types of DigiLocker deliveries.
pub const EVENT_PREFIX: &str = "DIGILOCKER_VERIFICATION_";

type HmacSha256 = Hmac<Sha256>;

/// base64(HMAC-SHA256(key = the client secret, message = timestamp + raw body)).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    STANDARD.encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// Whether `signature` is `sign(secret, timestamp, body)` for one of
/// `secrets`, compared in constant time.
pub fn verify<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    timestamp: &str,
    body: &[u8],
    signature: &str,
) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    secrets
        .into_iter()
        .any(|secret| mac(secret, timestamp, body).verify_slice(&given).is_ok())
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length: `new_from_slice` cannot fail.
    let keyed = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes());
    let mac = keyed.unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.chain_update(timestamp.as_bytes()).chain_update(body)
}

/// A DigiLocker delivery, without its personal data: `ids` are
/// `(verification_id, reference_id)`, at least one of them given; `status`
/// is normalised with the provider's raw word beside it, as a status
/// answer gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_type: String,
    pub ids: (Option<String>, Option<String>),
    pub status: SessionStatus,
    pub provider_status: String,
    pub documents_consented: Vec<DocumentType>,
}

/// Why a verified body is not a DigiLocker event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct NotAnEvent(pub String);

#[derive(Deserialize)]
struct Body {
    event_type: Option<String>,
    data: Option<Data>,
}

/// `data`: the status object. `user_details` is deliberately absent.
#[derive(Deserialize)]
struct Data {
    verification_id: Option<serde_json::Value>,
    reference_id: Option<serde_json::Value>,
    status: Option<String>,
    document_consent: Option<Vec<serde_json::Value>>,
}

/// Reads a delivery's body. The raw word is `data.status`, except for a
/// consent expiry, whose event is the news (its `data.status` may still
/// say AUTHENTICATED); with no `data.status`, the event type stands in.
pub fn parse_event(body: &[u8]) -> Result<Event, NotAnEvent> {
    // serde's own words may quote the body's values (personal data among
    // them): only where the reading stopped is said.
    let body: Body = serde_json::from_slice(body).map_err(|e| {
        NotAnEvent(format!(
            "the body is not a DigiLocker event (unreadable at line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let event_type = body
        .event_type
        .map(|t| t.trim().to_string())
        .filter(|t| t.starts_with(EVENT_PREFIX))
        .ok_or_else(|| {
            NotAnEvent(format!(
                "event_type: not a DigiLocker event (expected {EVENT_PREFIX}…)"
            ))
        })?;
    let data = body
        .data
        .ok_or_else(|| NotAnEvent("data: missing (expected the status object)".into()))?;
    let verification_id = data.verification_id.as_ref().and_then(id_text);
    let reference_id = data.reference_id.as_ref().and_then(id_text);
    if verification_id.is_none() && reference_id.is_none() {
        return Err(NotAnEvent(
            "data: neither verification_id nor reference_id".into(),
        ));
    }
    let outcome = &event_type[EVENT_PREFIX.len()..];
    let provider_status = if outcome == crate::domain::CONSENT_EXPIRED {
        outcome.to_string()
    } else {
        match data
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(status) => status.to_string(),
            None => match outcome {
                "SUCCESS" => "AUTHENTICATED".to_string(),
                "LINK_EXPIRED" => "EXPIRED".to_string(),
                other => other.to_string(),
            },
        }
    };
    let documents_consented = data
        .document_consent
        .unwrap_or_default()
        .iter()
        .filter_map(serde_json::Value::as_str)
        .filter_map(DocumentType::parse)
        .collect();
    Ok(Event {
        status: SessionStatus::from_provider(crate::domain::Provider::Cashfree, &provider_status),
        event_type,
        ids: (verification_id, reference_id),
        provider_status,
        documents_consented,
    })
}

/// An id as text: Cashfree's `reference_id` is an int64, a string is
/// taken as is.
fn id_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(text) => Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_signature_verifies_with_its_secret_only_and_is_44_characters() {
        let body = br#"{"event_type":"DIGILOCKER_VERIFICATION_SUCCESS"}"#;
        let signature = sign("secret-now", "1746427759733", body);
        assert_eq!(signature.len(), 44);
        assert!(verify(["secret-now"], "1746427759733", body, &signature));
        assert!(verify(
            ["old", "secret-now"],
            "1746427759733",
            body,
            &signature
        ));
        assert!(!verify(["old"], "1746427759733", body, &signature));
        assert!(!verify(["secret-now"], "1746427759734", body, &signature));
        assert!(!verify(["secret-now"], "1746427759733", b"{}", &signature));
        assert!(!verify(
            ["secret-now"],
            "1746427759733",
            body,
            "not base64!"
        ));
    }

    #[test]
    fn events_read_as_a_status_answer_would() {
        let cases = [
            (
                "SUCCESS",
                Some("AUTHENTICATED"),
                "AUTHENTICATED",
                SessionStatus::Authenticated,
            ),
            (
                "LINK_EXPIRED",
                Some("EXPIRED"),
                "EXPIRED",
                SessionStatus::Expired,
            ),
            ("LINK_EXPIRED", None, "EXPIRED", SessionStatus::Expired),
            (
                "CONSENT_DENIED",
                Some("CONSENT_DENIED"),
                "CONSENT_DENIED",
                SessionStatus::ConsentDenied,
            ),
            (
                "CONSENT_EXPIRED",
                Some("AUTHENTICATED"),
                "CONSENT_EXPIRED",
                SessionStatus::Authenticated,
            ),
            (
                "FAILURE",
                None,
                "FAILURE",
                SessionStatus::Unknown("FAILURE".into()),
            ),
        ];
        for (outcome, status, raw, normalised) in cases {
            let body = json!({
                "event_type": format!("{EVENT_PREFIX}{outcome}"),
                "event_time": "2026-12-04T10:00:00Z",
                "version": "v1",
                "data": {
                    "verification_id": "v-1", "reference_id": 12345678, "status": status,
                    "document_consent": ["AADHAAR", "SOMETHING_NEW"],
                    "user_details": {"name": "Ishita Banerjee", "mobile": "9876543210"}
                }
            });
            let event = parse_event(body.to_string().as_bytes()).unwrap();
            assert_eq!(event.provider_status, raw, "{outcome}");
            assert_eq!(event.status, normalised, "{outcome}");
            assert_eq!(event.ids.1.as_deref(), Some("12345678"));
            assert_eq!(event.documents_consented, vec![DocumentType::Aadhaar]);
            assert!(
                !format!("{event:?}").contains("Ishita"),
                "no personal data is held"
            );
        }
    }

    #[test]
    fn what_is_not_a_digilocker_event_says_why() {
        let cases = [
            (json!([1, 2]), "not a DigiLocker event"),
            (
                json!({"event_type": "PAYMENT_SUCCESS", "data": {}}),
                "event_type",
            ),
            (
                json!({"event_type": "DIGILOCKER_VERIFICATION_SUCCESS"}),
                "data: missing",
            ),
            (
                json!({"event_type": "DIGILOCKER_VERIFICATION_SUCCESS", "data": {"status": "AUTHENTICATED"}}),
                "neither",
            ),
        ];
        for (body, says) in cases {
            let error = parse_event(body.to_string().as_bytes()).unwrap_err();
            assert!(error.0.contains(says), "{body}: {error}");
        }
        assert!(parse_event(b"not json").is_err());
        // A value of the wrong type is not quoted back.
        let wrong = json!({"event_type": "DIGILOCKER_VERIFICATION_SUCCESS",
            "data": {"verification_id": "v", "status": {"name": "Ishita Banerjee"}}});
        let error = parse_event(wrong.to_string().as_bytes()).unwrap_err();
        assert!(!error.0.contains("Ishita"), "{error}");
    }
}
