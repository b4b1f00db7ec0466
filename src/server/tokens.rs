//! Operators' tokens through the API (admin only): made, listed and
//! revoked from any machine with an admin token, so managing them needs no
//! access to the server's store. `payops serve token` uses these whenever
//! a server is configured.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use super::body::Object;
use super::errors::{ApiError, ErrorBody, bad_path};
use super::operator::Operator;
use super::state::AppState;
use crate::auth::{self, Permission, Role};

/// A new token: for whom, and with which role.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// Letters, digits, '.', '_', '-', '@'; unique among active tokens.
    name: String,
    #[schema(value_type = String)]
    role: Role,
}

/// A token just made: the only time it is shown.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MadeToken<'a> {
    name: &'a str,
    role: &'static str,
    token: &'a str,
}

/// A token refused from now on.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Revoked {
    name: String,
    revoked: bool,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "operators", description = "Role: admin. Every token, never the token itself.", responses((status = 200, description = "every token, never the token itself", body = [crate::store::TokenInfo]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
) -> Result<Json<Value>, ApiError> {
    operator.require(Permission::Tokens)?;
    let tokens = state.services.store().list_tokens()?;
    serde_json::to_value(tokens)
        .map(Json)
        .map_err(|e| ApiError::internal(format!("the tokens could not be written: {e}")))
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "operators", description = "Role: admin. The token is in this answer and nowhere else, ever.", request_body = TokenBody, responses((status = 201, description = "name, role and the token", body = MadeToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "an active token has that name", body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Object(body): Object<TokenBody>,
) -> Result<Response, ApiError> {
    operator.require(Permission::Tokens)?;
    let name = auth::operator_name("name", &body.name)?;
    let (token, hash) = auth::new_token();
    state
        .services
        .store()
        .add_token(&name, body.role, &hash, Timestamp::now())?;
    tracing::info!(operator = %name, role = %body.role, by = %operator.name, "token made");
    let made = MadeToken {
        name: &name,
        role: body.role.as_str(),
        token: &token,
    };
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

#[utoipa::path(post, path = "/api/v1/tokens/{name}/revoke", tag = "operators", description = "Role: admin. Refused from the next request on; its open event streams end within seconds.", params(("name" = String, Path)), responses((status = 200, body = Revoked), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "no active token has that name", body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Revoked>, ApiError> {
    let Path(name) = name.map_err(|rejection| bad_path(rejection).field("name"))?;
    operator.require(Permission::Tokens)?;
    let name = name.trim();
    state
        .services
        .store()
        .revoke_token(name, Timestamp::now())?;
    tracing::info!(operator = %name, by = %operator.name, "token revoked");
    Ok(Json(Revoked {
        name: name.to_string(),
        revoked: true,
    }))
}
