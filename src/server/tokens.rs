//! Operators' tokens through the API (admin only): made, listed and
//! revoked from any machine with an admin token, so managing them needs no
//! access to the server's store. `payops serve token` uses these whenever
//! a server is configured.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use super::body::Object;
use super::errors::{ApiError, ErrorBody, bad_path, invalid};
use super::operator::Operator;
use super::state::AppState;
use crate::auth::{self, Permission, Role};
use crate::store::Lifetime;

/// A new token: for whom, with which role, and for how long.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// Letters, digits, '.', '_', '-', '@'; unique among active tokens.
    #[schema(pattern = r"^\s*[A-Za-z0-9._@-]{1,64}\s*$")]
    name: String,
    role: Role,
    /// A length of time (2s, 12h, 90d, 2w) or "never"; 90 days when left
    /// out. (The CLI turns a date into seconds.)
    #[schema(
        pattern = r"^\s*(never|[1-9][0-9]{0,9}s|[1-9][0-9]{0,5}m|[1-9][0-9]{0,3}h|[1-9][0-9]{0,2}d|[1-9][0-9]?w)\s*$"
    )]
    expires: Option<String>,
}

/// A token's replacement: how long the old one still works, and the new
/// one's lifetime.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// How long the old token keeps working (30m, 1h, 7d at most; 0);
    /// none when left out.
    #[schema(pattern = r"^\s*(0|[1-9][0-9]{0,4}s|[1-9][0-9]{0,3}m|[1-9][0-9]?h|[1-7]d|1w)\s*$")]
    grace: Option<String>,
    /// As for a new token; as long as the old one was made to last when
    /// left out.
    #[schema(
        pattern = r"^\s*(never|[1-9][0-9]{0,9}s|[1-9][0-9]{0,5}m|[1-9][0-9]{0,3}h|[1-9][0-9]{0,2}d|[1-9][0-9]?w)\s*$"
    )]
    expires: Option<String>,
}

/// A token just made: the only time it is shown.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MadeToken<'a> {
    name: &'a str,
    role: &'static str,
    token: &'a str,
    /// Null: never.
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Timestamp>,
    /// Rotated: when the old token stops working.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(skip_serializing_if = "Option::is_none")]
    old_token_until: Option<Timestamp>,
}

/// A token's lifetime as asked, or the default.
pub fn expiry(asked: Option<&str>, now: Timestamp) -> Result<Option<Timestamp>, ApiError> {
    let asked = asked.unwrap_or(auth::DEFAULT_TOKEN_LIFETIME);
    Ok(crate::validate::expiry(
        "expires",
        asked,
        now,
        crate::validate::Lifetimes::Lengths,
    )?)
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

#[utoipa::path(post, path = "/api/v1/tokens", tag = "operators", description = "Role: admin. The token is in this answer and nowhere else, ever.", request_body = TokenBody, responses((status = 201, description = "name, role, the token and its expiry", body = MadeToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "an active token has that name", body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    Object(body): Object<TokenBody>,
) -> Result<Response, ApiError> {
    operator.require(Permission::Tokens)?;
    let name = auth::operator_name("name", &body.name)?;
    let now = Timestamp::now();
    let expires_at = expiry(body.expires.as_deref(), now)?;
    let (token, hash) = auth::new_token();
    let activity = operator
        .activity("token_add", Some(&name))
        .detail(auth::token_detail(body.role, expires_at));
    state.services.store().add_token(
        &crate::store::NewToken {
            name: &name,
            role: body.role,
            token_hash: &hash,
            at: now,
            expires_at,
        },
        Some(&activity),
    )?;
    tracing::info!(operator = %name, role = %body.role, by = %operator.name, "token made");
    let made = MadeToken {
        name: &name,
        role: body.role.as_str(),
        token: &token,
        expires_at,
        old_token_until: None,
    };
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

#[utoipa::path(post, path = "/api/v1/tokens/{name}/rotate", tag = "operators", description = "Role: admin. A new token for the same operator and role; the old one is refused after the grace (at once without one).", params(("name" = String, Path, pattern = r"^\s*[A-Za-z0-9._@-]{1,64}\s*$")), request_body(content = Option<RotateBody>, description = "optional"), responses((status = 201, description = "the new token", body = MadeToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "no active token has that name", body = ErrorBody), (status = 409, description = "rotated by another request at the same moment", body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn rotate(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    name: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let name = token_name(name)?;
    operator.require(Permission::Tokens)?;
    let body: RotateBody = super::body::optional_object(&headers, &body)?;
    let now = Timestamp::now();
    let lifetime = match body.expires.as_deref() {
        Some(asked) => Lifetime::Until(crate::validate::expiry(
            "expires",
            asked,
            now,
            crate::validate::Lifetimes::Lengths,
        )?),
        None => Lifetime::SameAsOld,
    };
    let grace = match body.grace.as_deref() {
        Some(text) => crate::validate::parse_grace(text).map_err(|m| invalid("grace", m))?,
        None => jiff::SignedDuration::ZERO,
    };
    let (token, hash) = auth::new_token();
    let activity = operator
        .activity("token_rotate", Some(&name))
        .detail(format!("grace {}s", grace.as_secs()));
    let rotated =
        state
            .services
            .store()
            .rotate_token(&name, &hash, now, lifetime, grace, Some(&activity))?;
    tracing::info!(operator = %name, by = %operator.name, "token rotated");
    let made = MadeToken {
        name: &name,
        role: rotated.role.as_str(),
        token: &token,
        expires_at: rotated.expires_at,
        old_token_until: Some(rotated.old_until),
    };
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// The `{name}` of a token route: a name a token could have (400 otherwise).
fn token_name(name: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(name) = name.map_err(|rejection| bad_path(rejection).field("name"))?;
    Ok(auth::operator_name("name", &name)?)
}

#[utoipa::path(post, path = "/api/v1/tokens/{name}/revoke", tag = "operators", description = "Role: admin. Refused from the next request on (a rotated one in its grace too); its open event streams end within seconds.", params(("name" = String, Path, pattern = r"^\s*[A-Za-z0-9._@-]{1,64}\s*$")), responses((status = 200, body = Revoked), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "no active token has that name", body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Revoked>, ApiError> {
    let name = token_name(name)?;
    operator.require(Permission::Tokens)?;
    let name = name.as_str();
    let activity = operator.activity("token_revoke", Some(name));
    state
        .services
        .store()
        .revoke_token(name, Timestamp::now(), Some(&activity))?;
    tracing::info!(operator = %name, by = %operator.name, "token revoked");
    Ok(Json(Revoked {
        name: name.to_string(),
        revoked: true,
    }))
}
