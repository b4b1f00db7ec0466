//! The routes: health for anyone, `/api/v1` for operators with a token.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::errors::ApiError;
use crate::auth::{self, Permission, Role};
use crate::cli::output;
use crate::domain::Provider;
use crate::engine::Command;
use crate::engine::ops::OpsError;

/// Who made the request, from their token.
#[derive(Debug, Clone)]
pub struct Operator {
    pub name: String,
    pub role: Role,
}

impl Operator {
    fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.role.may(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.role, permission))
        }
    }
}

pub fn routes(state: AppState) -> Router<AppState> {
    let api = Router::new()
        .route("/whoami", get(whoami))
        .route("/sessions", get(list_sessions))
        .route("/sessions/{id}", get(one_session))
        .route("/sessions/{id}/label", put(set_label))
        .route("/balance/history", get(balance_history))
        .route("/balance/refresh", post(refresh_balance))
        .route_layer(middleware::from_fn_with_state(state, authenticate));
    Router::new()
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
}

async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty());
    let Some(token) = presented else {
        return ApiError::unauthorized(
            "no token: send Authorization: Bearer <token> (make one with `payops serve token add`)",
        )
        .into_response();
    };
    let found = state
        .services
        .store()
        .use_token(&auth::token_hash(token), Timestamp::now());
    match found {
        Ok(Some(info)) => {
            request.extensions_mut().insert(Operator {
                name: info.name,
                role: info.role,
            });
            next.run(request).await
        }
        Ok(None) => ApiError::unauthorized("the token is wrong or revoked").into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let store = match state.services.store().data_version() {
        Ok(_) => "ok".to_string(),
        Err(error) => format!("unreachable: {error}"),
    };
    let provider = |p: Provider| {
        if state.services.is_configured(p) {
            "configured"
        } else {
            "not configured"
        }
    };
    Json(json!({
        "status": if store == "ok" { "ok" } else { "degraded" },
        // One server, one engine: it polls. Replicas come with PostgreSQL.
        "leader": true,
        "store": store,
        "providers": {
            "instantpay": provider(Provider::InstantPay),
            "cashfree": provider(Provider::Cashfree),
        },
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": state.started.elapsed().as_secs(),
    }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.store().data_version() {
        Ok(_) => Json(json!({"ready": true})).into_response(),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false, "store": error.to_string()})),
        )
            .into_response(),
    }
}

async fn whoami(Extension(operator): Extension<Operator>) -> Json<Value> {
    Json(json!({"name": operator.name, "role": operator.role.as_str()}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    all: bool,
}

async fn list_sessions(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let records = state.services.store().list_sessions(query.all)?;
    Ok(Json(Value::Array(
        records
            .iter()
            .map(|record| output::session_json(record, None))
            .collect(),
    )))
}

async fn one_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = state.services.find(&id)?;
    Ok(Json(output::session_json(&record, None)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelBody {
    /// The new label; null or "" removes it.
    label: Option<String>,
}

async fn set_label(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Path(id): Path<String>,
    body: Result<Json<LabelBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    operator.require(Permission::Sessions)?;
    let Json(body) = body.map_err(bad_json)?;
    let label = match body.label.as_deref() {
        Some(raw) => crate::validate::label("label", raw)?,
        None => None,
    };
    let record = state.services.set_label(&id, label.as_deref())?;
    tracing::info!(session = %record.id, by = %operator.name, "label set");
    Ok(Json(output::session_json(&record, None)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    since: Option<String>,
}

async fn balance_history(
    State(state): State<AppState>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(bad_query)?;
    let span = match query.since.as_deref() {
        Some(text) => crate::cli::args::parse_span(text).map_err(|message| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message).field("since")
        })?,
        None => jiff::SignedDuration::from_hours(24),
    };
    let since = Timestamp::now().checked_sub(span).unwrap_or(Timestamp::MIN);
    let snapshots = state.services.store().balance_since(since)?;
    Ok(Json(output::balance_history_json(since, &snapshots)))
}

async fn refresh_balance(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Result<Response, ApiError> {
    operator.require(Permission::Money)?;
    if !state.services.is_configured(Provider::InstantPay) {
        return Err(OpsError::NotConfigured(Provider::InstantPay).into());
    }
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
        Json(json!({"accepted": true, "by": operator.name})),
    )
        .into_response())
}

fn bad_json(rejection: JsonRejection) -> ApiError {
    let status = match &rejection {
        JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, "invalid_body", rejection.body_text())
}

fn bad_query(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        rejection.body_text(),
    )
}
