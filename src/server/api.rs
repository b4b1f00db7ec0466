//! The routes: health for anyone, `/api/v1` for operators with a token.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::answers::{Accepted, Defaults, LinkLookup, Stopped, Whoami};
use super::body::Object;
use super::errors::{ApiError, ErrorBody, ErrorDetail, bad_path, bad_query, invalid};
use super::listing::ListingError;
use super::openapi::{BearerAuth, DocumentWord, FlowWord, StandardResponses};
use super::operator::{Operator, authenticate};
use super::state::AppState;
use crate::auth::Permission;
use crate::domain::wire::{
    self, AuditView, BalanceView, EventView, HistoryView, LinkView, SessionView,
};
use crate::domain::{DocumentType, LinkId, NotifyOutcome, Provider, UserFlow};
use crate::engine::ops::{CreateFailure, OpsError};
use crate::engine::{Command, RequestInput, SessionRequest};
use crate::error::ProviderError;

pub fn routes(state: AppState) -> Router<AppState> {
    let api = Router::new()
        .route("/whoami", get(whoami))
        .route("/events", get(super::stream::stream))
        .route("/sessions", get(list_sessions).post(create_session))
        .route("/sessions/track", post(track_session))
        .route("/sessions/{id}", get(one_session))
        .route("/sessions/{id}/stop", post(stop_tracking))
        .route("/sessions/{id}/events", get(session_events))
        .route("/sessions/{id}/refresh", post(refresh_session))
        .route("/sessions/{id}/label", put(set_label))
        .route("/sessions/{id}/documents", get(super::documents::documents))
        .route("/links/{id}", get(look_up_link))
        .route("/links/{id}/notify", post(notify_link))
        .route("/audit", get(audit))
        .route("/balance", get(fetch_balance))
        .route("/balance/history", get(balance_history))
        .route("/balance/refresh", post(refresh_balance))
        .route("/activity", get(super::activity::list))
        .route("/tokens", get(super::tokens::list).post(super::tokens::add))
        .route("/tokens/{name}/rotate", post(super::tokens::rotate))
        .route("/tokens/{name}/revoke", post(super::tokens::revoke))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        // Outside authentication, so refused tokens are recorded too.
        .layer(middleware::from_fn_with_state(
            state,
            super::activity::record_refusals,
        ));
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_document))
        // The signature is its authentication: Cashfree sends no token.
        .route(
            super::webhooks::CASHFREE_WEBHOOK_PATH,
            post(super::webhooks::cashfree).layer(DefaultBodyLimit::disable()),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest("/api/v1", api)
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(middleware::from_fn(super::request_log::log))
}

#[utoipa::path(get, path = "/healthz", tag = "health", security(()), responses((status = 200, description = "status (ok, or degraded while the store or a configured provider is down), leader, lease_epoch, store, each provider's state (ok, failing, unreachable, rejecting_credentials, not_configured) and since when, version", body = Object)))]
async fn healthz(State(state): State<AppState>) -> Json<Value> {
    // The cause stays in the log: without a token, none of the database's
    // words (hosts, users, names) are given out.
    let store = match state.services.store().data_version() {
        Ok(_) => "ok".to_string(),
        Err(error) => {
            tracing::debug!(%error, "healthz: the store does not answer");
            "unreachable".to_string()
        }
    };
    let known = super::events::lock(&state.events.provider_health).clone();
    let mut degraded = store != "ok";
    let mut providers = serde_json::Map::new();
    for provider in Provider::ALL {
        let shown = if state.services.is_configured(provider) {
            let health = known.get(&provider).cloned().unwrap_or_default();
            let (word, since) = health.state();
            degraded |= word != "ok";
            json!({
                "state": word,
                "since": since.map(|at| at.to_string()),
                "last_failure": health.last_failure.as_deref().filter(|_| word != "ok"),
                "slowed": health.slowed_at(jiff::Timestamp::now()),
            })
        } else {
            json!({"state": "not_configured"})
        };
        providers.insert(provider.as_str().to_string(), shown);
    }
    Json(json!({
        "status": if degraded { "degraded" } else { "ok" },
        // Whether this replica's engine polls (holds the leader lease).
        "leader": state.leading.load(std::sync::atomic::Ordering::Relaxed),
        // The leader lease's epoch this replica last held (PostgreSQL), to
        // match with a session's `polled_epoch` in the store.
        "lease_epoch": state.lease_epoch.load(std::sync::atomic::Ordering::Relaxed),
        "store": store,
        // Each provider as the leading engine last found it, on every replica.
        "providers": providers,
        "webhooks": webhooks_health(&state),
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": state.started.elapsed().as_secs(),
    }))
}

/// Whether Cashfree's deliveries are expected, when the last verified one
/// arrived (at any replica), and how Cashfree sessions are polled because
/// of it: as the leader's engine decides, from the same facts.
fn webhooks_health(state: &AppState) -> Value {
    let Some(keys) = state.webhooks.as_deref() else {
        return json!({"cashfree": {"expected": false, "polling": "regular"}});
    };
    let (last, due) = state
        .services
        .store()
        .delivery_facts(Provider::Cashfree, state.started_at)
        .unwrap_or_default();
    let polling =
        crate::engine::schedule::WebhookPolling::decide(keys.quiet, due, jiff::Timestamp::now());
    let quiet_for = match polling {
        crate::engine::schedule::WebhookPolling::Fallback { quiet_for } => {
            Some(quiet_for.as_secs())
        }
        _ => None,
    };
    json!({"cashfree": {
        "expected": keys.quiet.is_some(),
        "last_delivery": last.map(|at| at.to_string()),
        // regular (not expected), webhook_backed, or fallback (a delivery
        // was due more than the quiet period ago and none has arrived).
        "polling": polling.as_str(),
        "quiet_secs": quiet_for,
    }})
}

#[utoipa::path(get, path = "/readyz", tag = "health", security(()), responses((status = 200, description = "the store answers", body = Object), (status = 503, description = "the store does not answer, or the server is stopping", body = Object)))]
async fn readyz(State(state): State<AppState>) -> Response {
    if state.stopping.load(std::sync::atomic::Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false, "stopping": true})),
        )
            .into_response();
    }
    match state.services.store().data_version() {
        Ok(_) => Json(json!({"ready": true})).into_response(),
        Err(error) => {
            tracing::debug!(%error, "readyz: the store does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"ready": false, "store": "unreachable"})),
            )
                .into_response()
        }
    }
}

#[utoipa::path(get, path = "/api/v1/whoami", tag = "operators", responses((status = 200, description = "the token's operator and role, and the server's create defaults", body = Whoami), (status = 401, body = ErrorBody)))]
async fn whoami(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Json<Value> {
    let defaults = &state.defaults;
    answer(&Whoami {
        name: &operator.name,
        role: operator.role.as_str(),
        expires_at: operator.expires_at,
        defaults: Defaults {
            provider: defaults.provider.map(|p| p.as_str()),
            flow: defaults.flow.cashfree_word(),
            documents: &defaults.documents,
            redirect_url: defaults.redirect_url.as_ref().map(|url| url.as_str()),
        },
    })
}

fn answer(body: &impl serde::Serialize) -> Json<Value> {
    Json(wire::to_value(body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Include final and untracked sessions.
    #[serde(default)]
    all: bool,
}

#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(ListQuery), responses((status = 200, description = "sessions, as `digilocker list --json`", body = [SessionView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_sessions(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let body = state
        .sessions_json
        .list(&state.services.store(), query.all)
        .map_err(|error| match error {
            ListingError::Store(error) => ApiError::from(error),
            ListingError::Json { .. } => ApiError::internal(error.to_string()),
        })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = String, Path, description = "our id, the provider reference or our external ref")), responses((status = 200, description = "a session", body = SessionView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn one_session(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(wire::session_json(&named(&state, id)?, None)))
}

/// The session a path's `{id}` names (our id, the provider's reference or
/// our external ref).
fn named(
    state: &AppState,
    id: Result<Path<String>, PathRejection>,
) -> Result<crate::domain::SessionRecord, ApiError> {
    let Path(id) = id.map_err(bad_path)?;
    Ok(state.services.find(&id)?)
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/events", tag = "sessions", description = "Every status change of the session, oldest first, with how each was learned.", params(("id" = String, Path, description = "our id, the provider reference or our external ref")), responses((status = 200, description = "the session's status history", body = [EventView]), (status = 404, body = ErrorBody)))]
async fn session_events(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let record = named(&state, id)?;
    let history = state.services.store().session_history(&record.id)?;
    Ok(Json(wire::events_json(&history)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelBody {
    /// The new label (at most 64 characters); null or "" removes it. Required,
    /// so a body that forgot it does not clear the label by accident.
    #[schema(value_type = Option<String>, required = true, max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]*$")]
    label: Value,
}

#[utoipa::path(put, path = "/api/v1/sessions/{id}/label", tag = "sessions", description = "Role: support.", params(("id" = String, Path)), request_body = LabelBody, responses((status = 200, description = "the session", body = SessionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn set_label(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    id: Result<Path<String>, PathRejection>,
    Object(body): Object<LabelBody>,
) -> Result<Json<Value>, ApiError> {
    let record = session_to_work(&state, &operator, id)?;
    let label = match &body.label {
        Value::String(raw) => crate::validate::label("label", raw)?,
        Value::Null => None,
        _ => return Err(invalid("label", "must be a string or null")),
    };
    let activity = operator
        .activity("label", Some(record.id.as_str()))
        .detail(match &label {
            Some(label) => format!("label {label}"),
            None => "label removed".to_string(),
        });
    let record = state
        .services
        .store()
        .set_label(&record.id, label.as_deref(), Some(&activity))?;
    state.store_changed();
    tracing::info!(session = %record.id, by = %operator.name, "label set");
    Ok(Json(wire::session_json(&record, None)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// Hours or days, e.g. 24h (the default) or 7d.
    #[param(pattern = r"^\s*([1-9][0-9]{0,3}h|[1-9][0-9]{0,2}d)\s*$")]
    since: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/balance/history", tag = "balance", params(HistoryQuery), responses((status = 200, description = "as `balance --history --json`", body = HistoryView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn balance_history(
    State(state): State<AppState>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let span = match query.since.as_deref() {
        Some(text) => crate::validate::parse_span(text).map_err(|message| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message).field("since")
        })?,
        None => jiff::SignedDuration::from_hours(24),
    };
    let since = Timestamp::now().checked_sub(span).unwrap_or(Timestamp::MIN);
    let snapshots = state.services.store().balance_since(since)?;
    Ok(Json(wire::balance_history_json(since, &snapshots)))
}

#[utoipa::path(get, path = "/api/v1/balance", tag = "balance", description = "Role: finance. Fetches the wallet balance from InstantPay now and records it.", responses((status = 200, description = "as `balance --json`", body = BalanceView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn fetch_balance(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Result<Json<Value>, ApiError> {
    operator.require(Permission::Money)?;
    let report = state.announced(state.services.fetch_balance().await)?;
    Ok(Json(wire::balance_json(&report)))
}

#[utoipa::path(post, path = "/api/v1/balance/refresh", tag = "balance", description = "Role: finance. The engine fetches it; the history shows it.", responses((status = 202, body = Accepted), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "InstantPay is not configured", body = ErrorBody)))]
async fn refresh_balance(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Result<Response, ApiError> {
    operator.require(Permission::Money)?;
    if !state.services.is_configured(Provider::InstantPay) {
        return Err(OpsError::NotConfigured(Provider::InstantPay).into());
    }
    // Asking changes nothing in the store yet: the row stands alone, and
    // goes first, so an ask that is made is never one without its row.
    state
        .services
        .store()
        .record_activity(&operator.activity("balance_refresh", None))?;
    if state.commands.send(Command::RefreshBalance).is_err() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "engine_stopped",
            "the server's engine has stopped",
        ));
    }
    tracing::info!(by = %operator.name, "balance refresh asked");
    Ok((
        StatusCode::ACCEPTED,
        answer(&Accepted {
            accepted: true,
            by: &operator.name,
        }),
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    provider: Option<Provider>,
    flow: Option<FlowWord>,
    /// Cashfree's documents to ask consent for, e.g. ["AADHAAR", "PAN"].
    #[schema(min_items = 1)]
    documents: Option<Vec<DocumentWord>>,
    /// Where the customer lands afterwards: https only.
    #[schema(
        pattern = r"^https://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,4})?(/[A-Za-z0-9._~/-]*)?$"
    )]
    redirect_url: Option<String>,
    /// The ticket or case reference (64 characters at most).
    #[schema(
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]*$"
    )]
    label: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", description = "Role: support. Fields left out come from the server's [defaults].", request_body = CreateBody, responses((status = 201, description = "the session", body = SessionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 502, description = "the provider refused or failed", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_session(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Object(body): Object<CreateBody>,
) -> Result<Response, ApiError> {
    operator.require(Permission::Sessions)?;
    let provider = body.provider;
    let flow = body.flow.map(UserFlow::from);
    let documents = body.documents.as_ref().map(|words| {
        let names: Vec<&str> = words
            .iter()
            .map(|w| DocumentType::from(*w).wire())
            .collect();
        names.join(",")
    });
    let request = SessionRequest::from_input(
        &state.defaults,
        RequestInput {
            provider,
            flow,
            documents: documents.as_deref(),
            redirect_url: body.redirect_url.as_deref(),
            label: body.label.as_deref(),
        },
        "",
    )?;
    let services = state
        .services
        .in_request(&operator.name, operator.request_id.as_deref());
    match state.announced(services.create_session(&request).await) {
        Ok(record) => {
            Ok((StatusCode::CREATED, Json(wire::session_json(&record, None))).into_response())
        }
        Err(CreateFailure { record, error }) => {
            let mut refusal = ApiError::from(error);
            if let Some(record) = record {
                // The attempt is on record: say where, so it can be checked.
                refusal.message = format!(
                    "{}; recorded as {}{}",
                    refusal.message,
                    record.id,
                    wire::refresh_hint(record.id.as_str())
                );
            }
            Err(refusal)
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackBody {
    provider: Provider,
    /// The provider's reference for the session.
    #[schema(pattern = r"^\s*[A-Za-z0-9._-]{1,50}\s*$")]
    reference: String,
}

#[utoipa::path(post, path = "/api/v1/sessions/track", tag = "sessions", description = "Role: support.", request_body = TrackBody, responses((status = 200, description = "the session", body = SessionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 502, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn track_session(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Object(body): Object<TrackBody>,
) -> Result<Json<Value>, ApiError> {
    operator.require(Permission::Sessions)?;
    let provider = body.provider;
    // Both providers' references are of these characters; anything else is
    // refused here rather than sent.
    crate::validate::verification_id("reference", &body.reference)?;
    let services = state
        .services
        .in_request(&operator.name, operator.request_id.as_deref());
    let tracked = services.track_session(provider, &body.reference).await;
    let outcome = state
        .announced(tracked)
        .map_err(|error| unknown_at_instantpay(error, "session", &body.reference))?;
    Ok(polled_json(&outcome))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/refresh", tag = "sessions", description = "Role: support. Polls now, or asks whether an unanswered create took effect.", params(("id" = String, Path)), responses((status = 200, description = "the session", body = SessionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn refresh_session(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let record = session_to_work(&state, &operator, id)?;
    let outcome = state.announced(state.services.refresh(&record).await)?;
    // A refresh asks the provider; what it learned is the poll's to write,
    // so its row stands alone, after it.
    state.services.store().record_activity(
        &operator
            .activity("refresh", Some(record.id.as_str()))
            .detail(format!("status {}", outcome.record.status.as_str())),
    )?;
    Ok(polled_json(&outcome))
}

#[utoipa::path(post, path = "/api/v1/sessions/{id}/stop", tag = "sessions", description = "Role: support. Stops tracking: the session is no longer polled and stays readable.", params(("id" = String, Path)), responses((status = 200, body = Stopped), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn stop_tracking(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let record = session_to_work(&state, &operator, id)?;
    let activity = operator.activity("stop", Some(record.id.as_str()));
    state
        .services
        .store()
        .set_tracking(&record.id, false, Some(&activity))?;
    state.store_changed();
    tracing::info!(session = %record.id, by = %operator.name, "stopped tracking");
    Ok(answer(&Stopped {
        id: record.id.as_str(),
        tracking: false,
    }))
}

/// The session a path names, for an operator whose role works sessions.
fn session_to_work(
    state: &AppState,
    operator: &Operator,
    id: Result<Path<String>, PathRejection>,
) -> Result<crate::domain::SessionRecord, ApiError> {
    let Path(id) = id.map_err(bad_path)?;
    operator.require(Permission::Sessions)?;
    Ok(state.services.find(&id)?)
}

/// A session as a poll (or a track) left it, with the personal data it
/// brought, masked as the CLI shows it.
fn polled_json(outcome: &crate::engine::ops::PollOutcome) -> Json<Value> {
    Json(wire::session_json(
        &outcome.record,
        outcome.user_details.as_ref(),
    ))
}

/// InstantPay answers an id it does not know with `RPI` (its only
/// parameter is invalid): for the caller, no such link or session.
fn unknown_at_instantpay(error: OpsError, what: &str, id: &str) -> ApiError {
    match &error {
        OpsError::Provider(ProviderError::Declined { code, .. }) if code == "RPI" => {
            ApiError::not_found(format!("InstantPay knows no {what} {}", id.trim()))
        }
        _ => error.into(),
    }
}

fn link_id(raw: &str) -> Result<LinkId, ApiError> {
    Ok(crate::validate::link_id("link_id", raw)?.0)
}

#[utoipa::path(get, path = "/api/v1/links/{id}", tag = "links", description = "Role: finance.", params(("id" = String, Path, description = "the payout link id", pattern = r"^\s*[A-Za-z0-9_-]{1,64}\s*$")), responses((status = 200, description = "the link and its notifies in the last 10 minutes", body = LinkLookup), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 502, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn look_up_link(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    raw: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(raw) = raw.map_err(bad_path)?;
    operator.require(Permission::Money)?;
    let link = link_id(&raw)?;
    let (report, recent) = state
        .services
        .lookup_link(&link)
        .await
        .map_err(|error| unknown_at_instantpay(error, "payout link", link.as_str()))?;
    Ok(answer(&LinkLookup {
        link: LinkView::of(&report),
        recent_notifies: recent.0.iter().map(AuditView::of).collect(),
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyBody {
    /// Send although the link was notified within the last 10 minutes.
    #[serde(default)]
    again: bool,
}

#[utoipa::path(post, path = "/api/v1/links/{id}/notify", tag = "links", description = "Role: finance. Within 10 minutes of a notify that may have reached the recipient, 409 unless again is true.", params(("id" = String, Path, description = "the payout link id", pattern = r"^\s*[A-Za-z0-9_-]{1,64}\s*$")), request_body(content = Option<NotifyBody>, description = "optional"), responses((status = 200, description = "sent: the audit entry", body = AuditView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn notify_link(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    raw: Result<Path<String>, PathRejection>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let Path(raw) = raw.map_err(bad_path)?;
    operator.require(Permission::Money)?;
    let link = link_id(&raw)?;
    // No body is a plain notify; any body must be the JSON object.
    let again = super::body::optional_object::<NotifyBody>(&headers, &body)?.again;
    let services = state
        .services
        .in_request(&operator.name, operator.request_id.as_deref());
    let started = match services.begin_notify_guarded(&link, again).await? {
        Ok(started) => started,
        Err(recent) => {
            let counted = crate::words::recent_notifies(&recent, crate::domain::local_time)
                .unwrap_or_default();
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "recently_notified",
                format!("link {link} was {counted}{}", wire::AGAIN_HINT),
            ));
        }
    };
    // Every dashboard sees the attempt in flight, then its outcome.
    state.store_changed();
    let result = state.announced(services.finish_notify(&started).await)?;
    if let Some(error) = &result.error {
        return Err(notify_refusal(&result.entry, error).noted());
    }
    Ok(answer(&AuditView::of(&result.entry)))
}

/// A notify that did not go: 422 when InstantPay declined it, 429 when it
/// was rate limited, 502 when it failed or its outcome is unknown; the
/// audit row named, since it holds the whole story.
fn notify_refusal(entry: &crate::domain::AuditEntry, error: &ProviderError) -> ApiError {
    let status = match (entry.outcome, error) {
        (_, ProviderError::RateLimited { .. }) => StatusCode::TOO_MANY_REQUESTS,
        // InstantPay's answer to a link id it does not know.
        (_, ProviderError::Declined { code, .. }) if code == "RPI" => StatusCode::NOT_FOUND,
        (NotifyOutcome::Declined, _) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::BAD_GATEWAY,
    };
    let kind = match entry.outcome {
        NotifyOutcome::Unknown => "outcome_unknown",
        _ => error.kind(),
    };
    ApiError::new(
        status,
        kind,
        format!("not sent: {error} (audit row {})", entry.id),
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "links", params(AuditQuery), responses((status = 200, description = "the notify audit, newest first", body = [AuditView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn audit(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("limit", "must be 1 to 1000"));
    }
    let entries = state.services.store().list_audit(limit)?;
    Ok(Json(Value::Array(
        entries.iter().map(wire::audit_json).collect(),
    )))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "payops team API", description = "payops serve: sessions, balance and payout-link notifies for operators with a bearer token.", license(name = "Proprietary: payops' own use")),
    paths(
        healthz, readyz, whoami, list_sessions, one_session, create_session, track_session,
        refresh_session, stop_tracking, set_label, fetch_balance, balance_history, refresh_balance,
        look_up_link, notify_link, audit, super::stream::stream, super::tokens::list,
        super::tokens::add, super::tokens::rotate, super::tokens::revoke,
        super::documents::documents, super::activity::list, session_events,
        super::webhooks::cashfree
    ),
    components(schemas(
        CreateBody, TrackBody, LabelBody, NotifyBody, ErrorBody, ErrorDetail,
        FlowWord, DocumentWord, super::openapi::DocumentKind, Provider, crate::auth::Role,
        super::tokens::TokenBody, super::tokens::RotateBody, crate::domain::Learned,
        EventView, super::webhooks::WebhookAnswer
    )),
    modifiers(&BearerAuth, &StandardResponses),
    security(("bearer" = []))
)]
pub struct ApiDoc;

/// The OpenAPI document, from the same types and routes the server uses.
async fn openapi_document() -> Json<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi;
    Json(ApiDoc::openapi())
}
