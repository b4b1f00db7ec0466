//! The activity log through the API: `GET /api/v1/activity` for admins,
//! and the row for every change request the server refused or that
//! failed. A change that is made writes its own row, in its own
//! transaction (the handlers pass `Operator::activity` down to the store);
//! this layer writes the rest, so no attempt goes unrecorded.

use axum::extract::rejection::QueryRejection;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::Deserialize;

use super::errors::{ApiError, ErrorBody, Noted, bad_query, invalid};
use super::operator::Operator;
use super::request_log::{RequestId, Who};
use super::state::AppState;
use crate::auth::Permission;
use crate::store::{Activity, ActivityFilter, Outcome};

/// Error bodies are small; a larger one is not read for its reason.
const REASON_BODY_LIMIT: usize = 16 * 1024;

/// The action a change request is, from its method and route; `None` for
/// reads.
pub fn action_of(method: &Method, route: &str) -> Option<&'static str> {
    let action = match (method.as_str(), route) {
        ("POST", "/api/v1/sessions") => "create",
        ("POST", "/api/v1/sessions/track") => "track",
        ("PUT", "/api/v1/sessions/{id}/label") => "label",
        ("POST", "/api/v1/sessions/{id}/refresh") => "refresh",
        ("POST", "/api/v1/sessions/{id}/stop") => "stop",
        ("POST", "/api/v1/links/{id}/notify") => "notify",
        ("POST", "/api/v1/balance/refresh") => "balance_refresh",
        ("POST", "/api/v1/tokens") => "token_add",
        ("POST", "/api/v1/tokens/{name}/rotate") => "token_rotate",
        ("POST", "/api/v1/tokens/{name}/revoke") => "token_revoke",
        _ => return None,
    };
    Some(action)
}

/// The id or name a change request's path names: the segment where its
/// route has `{id}` or `{name}`, decoded, without control characters (it
/// reaches an admin's terminal), at most 64 characters.
fn target_of(route: &str, path: &str) -> Option<String> {
    let route = route.trim_start_matches("/api/v1");
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let at = route
        .split('/')
        .position(|segment| segment == "{id}" || segment == "{name}")?;
    let raw = path.split('/').nth(at)?;
    let target: String = percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .chars()
        .filter(|c| !c.is_control())
        .take(64)
        .collect();
    (!target.is_empty()).then_some(target)
}

/// Refused attempts without a usable token written a minute, at most:
/// anyone can make them, and they must not fill the store. Past it they
/// are counted and logged, not written.
const UNAUTHENTICATED_ROWS_A_MINUTE: u32 = 120;

fn unauthenticated_rows() -> &'static governor::DefaultDirectRateLimiter {
    static LIMITER: std::sync::OnceLock<governor::DefaultDirectRateLimiter> =
        std::sync::OnceLock::new();
    LIMITER.get_or_init(|| {
        let per_minute = std::num::NonZeroU32::new(UNAUTHENTICATED_ROWS_A_MINUTE)
            .unwrap_or(std::num::NonZeroU32::MIN);
        governor::RateLimiter::direct(governor::Quota::per_minute(per_minute))
    })
}

/// Whether a refusal nobody authenticated may be written now; when not, it
/// is counted and logged instead.
pub(super) fn may_record_unauthenticated() -> bool {
    if unauthenticated_rows().check().is_ok() {
        return true;
    }
    crate::telemetry::activity_unrecorded();
    tracing::warn!("a refused request without a usable token: not recorded (over the limit)");
    false
}

/// Writes the row of a change request that ended without its change: the
/// operator (or that the token was missing or refused), the action, the
/// target, why, and the request id.
pub async fn record_refusals(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string());
    let action = route
        .as_deref()
        .and_then(|route| action_of(request.method(), route));
    let Some(action) = action else {
        return next.run(request).await;
    };
    let target = route
        .as_deref()
        .and_then(|route| target_of(route, request.uri().path()));
    let who = request.extensions().get::<Who>().cloned();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone());
    let response = next.run(request).await;
    let status = response.status();
    if status.is_success() || response.extensions().get::<Noted>().is_some() {
        return response;
    }
    let (parts, body) = response.into_parts();
    // A refusal's body is small JSON, read for its reason; anything larger
    // is passed on unread, its status the reason.
    let small = axum::body::HttpBody::size_hint(&body)
        .upper()
        .is_some_and(|size| size <= REASON_BODY_LIMIT as u64);
    let (body, reason) = if small {
        let bytes = axum::body::to_bytes(body, REASON_BODY_LIMIT)
            .await
            .unwrap_or_default();
        let reason = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string));
        (axum::body::Body::from(bytes), reason)
    } else {
        (body, None)
    };
    let reason = reason.unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let outcome = if status.is_client_error() {
        Outcome::Refused
    } else {
        Outcome::Failed
    };
    let operator = who.map(|who| who.said()).unwrap_or_else(|| "-".into());
    if status == axum::http::StatusCode::UNAUTHORIZED && !may_record_unauthenticated() {
        return Response::from_parts(parts, body);
    }
    let activity = Activity::done(&operator, action, target.as_deref())
        .request(request_id.as_deref())
        .ended(outcome, format!("{}: {reason}", status.as_u16()));
    if let Err(error) = state.services.store().record_activity(&activity) {
        tracing::error!(%error, action, "an activity row could not be written");
    }
    Response::from_parts(parts, body)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ActivityQuery {
    /// Only this operator's rows.
    operator: Option<String>,
    /// Only this action (create, track, label, refresh, stop, notify,
    /// balance_refresh, token_add, token_rotate, token_revoke).
    action: Option<String>,
    /// How far back: a length such as 30m, 24h or 7d.
    #[param(
        pattern = r"^\s*(0|[1-9][0-9]{0,7}s|[1-9][0-9]{0,5}m|[1-9][0-9]{0,3}h|[1-9][0-9]{0,2}d|[1-9][0-9]?w)\s*$"
    )]
    since: Option<String>,
    /// 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/activity", tag = "operators", description = "Role: admin. Every change made through the server, allowed or refused, newest first.", params(ActivityQuery), responses((status = 200, description = "the activity log, newest first", body = [Activity]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    query: Result<Query<ActivityQuery>, QueryRejection>,
) -> Result<Json<Vec<Activity>>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    operator.require(Permission::Tokens)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("limit", "must be 1 to 1000"));
    }
    let since = match query.since.as_deref() {
        Some(text) => {
            let span = crate::validate::parse_duration(text).map_err(|m| invalid("since", m))?;
            Some(Timestamp::now().checked_sub(span).unwrap_or(Timestamp::MIN))
        }
        None => None,
    };
    let filter = ActivityFilter {
        operator: query.operator.map(|o| o.trim().to_string()),
        action: query.action.map(|a| a.trim().to_string()),
        since,
        limit: usize::try_from(limit).unwrap_or(100),
    };
    Ok(Json(state.services.store().list_activity(&filter)?))
}
