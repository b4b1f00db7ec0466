//! Who is asking: the bearer token turned into an operator and role, and
//! each token's share of the API.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::errors::ApiError;
use super::state::AppState;
use crate::auth::{self, Permission, Role};

/// Who made the request, from their token.
#[derive(Debug, Clone)]
pub struct Operator {
    pub name: String,
    pub role: Role,
}

impl Operator {
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.role.may(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.role, permission))
        }
    }
}

/// Finds the token's operator, or refuses the request (401, or 429 past
/// the token's request limit).
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty());
    let Some(token) = presented else {
        if let Some(who) = request.extensions().get::<super::request_log::Who>() {
            who.is("(no token)");
        }
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
            if let Err(not_until) = state.limiter.check_key(&info.name) {
                use governor::clock::{Clock, DefaultClock};
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let seconds = wait.as_secs().max(1);
                let mut response = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!("this token is over its request limit; retry in {seconds} s"),
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, seconds.into());
                return response;
            }
            if let Some(who) = request.extensions().get::<super::request_log::Who>() {
                who.is(info.name.clone());
            }
            request.extensions_mut().insert(Operator {
                name: info.name,
                role: info.role,
            });
            next.run(request).await
        }
        Ok(None) => {
            if let Some(who) = request.extensions().get::<super::request_log::Who>() {
                who.is("(refused token)");
            }
            ApiError::unauthorized("the token is wrong or revoked").into_response()
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}
