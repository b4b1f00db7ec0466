//! `POST /api/v1/webhooks/cashfree`: Cashfree's DigiLocker outcomes, pushed
//! the moment they happen. No bearer token (Cashfree cannot send one): the
//! signature is the authentication, checked over the raw bytes before
//! anything else is read. A verified delivery is the provider's word,
//! applied as a poll's answer is (`Store::record_delivery`, under the rule
//! in `domain::learned`), then acknowledged: after the store write, never
//! after a provider call. Refusals change nothing, are logged without the
//! body, and counted.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};

use super::errors::{ApiError, ErrorBody};
use super::request_log::RequestId;
use super::state::AppState;
use crate::domain::Provider;
use crate::providers::cashfree::CashfreeConfig;
use crate::providers::cashfree_webhook::{
    self as contract, ATTEMPT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use crate::store::{Activity, Delivery, DeliveryTarget, Outcome, ProviderWord};

/// Where Cashfree's webhook deliveries are received.
pub const CASHFREE_WEBHOOK_PATH: &str = "/api/v1/webhooks/cashfree";

/// A delivery larger than this is refused unread (Cashfree's are a few
/// hundred bytes).
pub const DELIVERY_LIMIT: usize = 64 * 1024;

/// Who the activity log says made a delivery's change.
const SENDER: &str = "cashfree (webhook)";

/// What the receiver checks deliveries with, from `[cashfree]`.
pub struct WebhookKeys {
    /// The client secret, then the previous one while a rotation settles.
    secrets: Vec<SecretString>,
    tolerance: Duration,
    /// The quiet period, when deliveries are expected (`webhooks = true`).
    pub quiet: Option<Duration>,
}

impl WebhookKeys {
    pub fn of(cashfree: &CashfreeConfig) -> WebhookKeys {
        let webhook = &cashfree.webhook;
        WebhookKeys {
            secrets: std::iter::once(cashfree.client_secret.clone())
                .chain(webhook.previous_client_secret.clone())
                .collect(),
            tolerance: webhook.tolerance,
            quiet: webhook.expected.then_some(webhook.quiet),
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks/cashfree",
    tag = "webhooks",
    security(()),
    description = "Cashfree's DigiLocker webhook (register this URL, over HTTPS, in Cashfree's merchant dashboard: Developers, Webhooks, Secure ID). No bearer token: `x-webhook-signature` must be base64(HMAC-SHA256(key = the Cashfree client secret, or `previous_client_secret`, message = `x-webhook-timestamp` + the raw body)). Personal data in `data.user_details` is dropped unread.",
    params(
        ("x-webhook-timestamp" = String, Header, description = "milliseconds since the epoch; within `[cashfree] webhook_tolerance` (5 minutes) of the server's clock"),
        ("x-webhook-signature" = String, Header, description = "base64 HMAC-SHA256"),
        ("x-webhook-attempt" = Option<String>, Header, description = "Cashfree's delivery attempt, from 1"),
    ),
    request_body(content = Object, description = "`{event_type: DIGILOCKER_VERIFICATION_…, event_time, version: \"v1\", data: {verification_id, reference_id, status, document_consent, …}}`", content_type = "application/json"),
    responses(
        (status = 200, description = "acknowledged", body = WebhookAnswer),
        (status = 400, description = "verified, but not a DigiLocker event", body = ErrorBody),
        (status = 401, description = "signature missing or wrong, or the timestamp too far from the server's clock", body = ErrorBody),
        (status = 404, description = "Cashfree is not configured on this server", body = ErrorBody),
        (status = 413, description = "over 64 KiB", body = ErrorBody),
        (status = 503, description = "the store does not answer: Cashfree retries", body = ErrorBody),
    )
)]
pub async fn cashfree(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<WebhookAnswer>, ApiError> {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone());
    let (parts, body) = request.into_parts();
    match receive(&state, &parts.headers, body, request_id.as_deref()).await {
        Ok(answer) => Ok(Json(answer)),
        Err(refusal) => {
            crate::telemetry::webhook_delivery(Provider::Cashfree.as_str(), refusal.kind);
            tracing::warn!(
                kind = refusal.kind,
                status = refusal.status.as_u16(),
                reason = %refusal.message,
                "a Cashfree webhook delivery refused"
            );
            note_refusal(&state, &refusal, request_id.as_deref());
            Err(refusal)
        }
    }
}

async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    request_id: Option<&str>,
) -> Result<WebhookAnswer, ApiError> {
    let Some(keys) = state.webhooks.as_deref() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_configured",
            "Cashfree is not configured on this server",
        ));
    };
    let body = axum::body::to_bytes(body, DELIVERY_LIMIT)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("a delivery is at most {} KiB", DELIVERY_LIMIT / 1024),
            )
        })?;
    let header = |name: &str| crate::providers::http::header_text(headers, name);
    let (Some(timestamp), Some(signature)) = (header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER))
    else {
        return Err(unauthorized(
            "signature_missing",
            format!("{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required"),
        ));
    };
    let secrets = keys.secrets.iter().map(|s| s.expose_secret());
    if !contract::verify(secrets, timestamp, &body, signature) {
        return Err(unauthorized(
            "bad_signature",
            format!("{SIGNATURE_HEADER} does not match the body"),
        ));
    }
    check_fresh(timestamp, keys.tolerance)?;
    let event = contract::parse_event(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "not_a_digilocker_event", e.0))?;
    let attempt = header(ATTEMPT_HEADER)
        .and_then(|a| a.parse::<u32>().ok())
        .unwrap_or(1);
    let word = ProviderWord {
        status: &event.status,
        provider_status: &event.provider_status,
        documents_consented: &event.documents_consented,
        learned: crate::domain::Learned::Webhook,
    };
    let target = DeliveryTarget {
        provider: Provider::Cashfree,
        verification_id: event.ids.0.as_deref(),
        reference: event.ids.1.as_deref(),
    };
    let activity = Activity::done(SENDER, "webhook", None)
        .detail(format!(
            "{} {} (attempt {attempt})",
            event.event_type, event.provider_status
        ))
        .request(request_id);
    let delivery =
        state
            .services
            .store()
            .record_delivery(target, &word, Timestamp::now(), &activity)?;
    let outcome = delivery.as_str();
    crate::telemetry::webhook_delivery(Provider::Cashfree.as_str(), outcome);
    let session = match &delivery {
        Delivery::Applied(id) | Delivery::Same(id) | Delivery::Stale(id) => Some(id.to_string()),
        Delivery::Untracked => None,
    };
    match &delivery {
        Delivery::Untracked => tracing::info!(
            event = %event.event_type,
            attempt,
            "a Cashfree webhook delivery for a verification this server does not track: acknowledged"
        ),
        _ => tracing::info!(
            event = %event.event_type,
            session = session.as_deref().unwrap_or_default(),
            outcome,
            attempt,
            "Cashfree webhook delivery"
        ),
    }
    if matches!(delivery, Delivery::Applied(_)) {
        state.store_changed();
    }
    Ok(WebhookAnswer {
        outcome: outcome.to_string(),
        session,
    })
}

/// What a verified delivery did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct WebhookAnswer {
    /// applied (news), duplicate (already known), stale (overtaken by a
    /// later word; nothing moves a final status back) or untracked (no
    /// session of ours: acknowledged so Cashfree stops retrying).
    #[schema(pattern = "^(applied|duplicate|stale|untracked)$")]
    pub outcome: String,
    /// Our id of the session it spoke of.
    pub session: Option<String>,
}

fn unauthorized(kind: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, kind, message)
}

/// Replay protection: a delivery signed too long ago (or too far ahead)
/// is refused even with a good signature.
fn check_fresh(timestamp: &str, tolerance: Duration) -> Result<(), ApiError> {
    let sent = timestamp
        .parse::<i64>()
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .ok_or_else(|| {
            unauthorized(
                "bad_timestamp",
                format!("{TIMESTAMP_HEADER} must be milliseconds since the epoch"),
            )
        })?;
    let off = Timestamp::now().duration_since(sent).unsigned_abs();
    if off > tolerance {
        return Err(unauthorized(
            "stale_delivery",
            format!(
                "{TIMESTAMP_HEADER} is {} s from the server's clock (at most {} s)",
                off.as_secs(),
                tolerance.as_secs()
            ),
        ));
    }
    Ok(())
}

/// A refusal's activity row: anyone can send one, so they are written at
/// most as often as other unauthenticated refusals.
fn note_refusal(state: &AppState, refusal: &ApiError, request_id: Option<&str>) {
    if !super::activity::may_record_unauthenticated() {
        return;
    }
    let activity = Activity::done(SENDER, "webhook", None)
        .request(request_id)
        .ended(
            Outcome::Refused,
            format!("{}: {}", refusal.status.as_u16(), refusal.message),
        );
    if let Err(error) = state.services.store().record_activity(&activity) {
        tracing::error!(%error, "the refused delivery's activity row could not be written");
    }
}
