//! Who is asking: the bearer token turned into an operator and role, and
//! each token's share of the API.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::errors::ApiError;
use super::state::AppState;
use crate::auth::{self, Permission, Role};
use crate::store::{Activity, TokenCheck, TokenRefusal};

/// Who made the request, from their token.
#[derive(Debug, Clone)]
pub struct Operator {
    pub name: String,
    pub role: Role,
    /// When the token stops working (its expiry, or the end of a rotated
    /// token's grace); `None`: never.
    pub expires_at: Option<Timestamp>,
    /// The token's hash, to check it again while a stream stays open.
    pub token_hash: TokenHash,
    /// The request's id, for its activity row.
    pub request_id: Option<String>,
}

/// A token's SHA-256: not the token, but kept out of debug output all the same.
#[derive(Clone)]
pub struct TokenHash(pub String);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(…)")
    }
}

/// Sent with every answer to a token that expires, so a client can warn
/// its operator before it does.
pub static TOKEN_EXPIRES: HeaderName = HeaderName::from_static("x-payops-token-expires");

impl Operator {
    /// An activity row for a change this operator made in this request.
    pub fn activity(&self, action: &str, target: Option<&str>) -> Activity {
        Activity::done(&self.name, action, target).request(self.request_id.as_deref())
    }

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
    let refused = |word: String| {
        if let Some(who) = request.extensions().get::<super::request_log::Who>() {
            who.is(word);
        }
    };
    let Some(token) = presented else {
        refused("(no token)".into());
        return ApiError::unauthorized(
            "no token: send Authorization: Bearer <token> (make one with `payops serve token add`)",
        )
        .into_response();
    };
    let hash = auth::token_hash(token);
    let found = state.services.store().use_token(&hash, Timestamp::now());
    let info = match found {
        Ok(TokenCheck::Valid(info)) => info,
        Ok(TokenCheck::Refused(TokenRefusal::Expired(at), name)) => {
            refused(format!("{name} (expired token)"));
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "token_expired",
                format!(
                    "the token expired at {at:.0}; ask an admin for a new one \
                     (`payops serve token rotate NAME`)"
                ),
            )
            .into_response();
        }
        Ok(TokenCheck::Refused(TokenRefusal::Revoked(at), name)) => {
            refused(format!("{name} (revoked token)"));
            return ApiError::unauthorized(&format!(
                "the token was revoked (or replaced by a rotation) at {at:.0}"
            ))
            .into_response();
        }
        Ok(TokenCheck::Unknown) => {
            refused("(refused token)".into());
            return ApiError::unauthorized("the token is wrong or revoked").into_response();
        }
        Err(error) => return ApiError::from(error).into_response(),
    };
    if let Some(who) = request.extensions().get::<super::request_log::Who>() {
        who.is(info.name.clone());
    }
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
    let request_id = request
        .extensions()
        .get::<super::request_log::RequestId>()
        .map(|id| id.0.clone());
    let expires_at = info.usable_until();
    request.extensions_mut().insert(Operator {
        name: info.name,
        role: info.role,
        expires_at,
        token_hash: TokenHash(hash),
        request_id,
    });
    let mut response = next.run(request).await;
    if let Some(value) = expires_at.and_then(|at| HeaderValue::from_str(&format!("{at:.0}")).ok()) {
        response.headers_mut().insert(TOKEN_EXPIRES.clone(), value);
    }
    response
}
