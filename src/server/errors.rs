//! Every refusal the API makes, as `{"error": {"kind", "message", "field"}}`:
//! a 4xx for the caller's request, 502 when a provider failed it, 503 when
//! the store cannot answer; a 500 only for a fault of our own, and then
//! still JSON; never an HTML page.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::{Permission, Role};
use crate::engine::ops::OpsError;

/// Marks an answer whose activity row the change itself wrote, so the
/// activity layer writes none.
#[derive(Clone, Copy, Debug)]
pub struct Noted;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// The change wrote its own activity row: the log layer adds none.
    pub noted: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            field: None,
            noted: false,
        }
    }

    pub fn noted(mut self) -> ApiError {
        self.noted = true;
        self
    }

    pub fn field(mut self, field: &str) -> ApiError {
        self.field = Some(field.to_string());
        self
    }

    pub fn unauthorized(message: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(role: Role, permission: Permission) -> ApiError {
        let needed = match Role::needed_for(permission) {
            Role::Admin => "the admin role".to_string(),
            needed => format!("the {needed} role (or admin)"),
        };
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs {needed}; your token's role is {role}"),
        )
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// Our own fault, not the request's: still JSON, still naming what failed.
    pub fn internal(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", what)
    }
}

impl From<OpsError> for ApiError {
    fn from(error: OpsError) -> ApiError {
        // Our own check of the request (or the provider's, naming a field):
        // the caller's input, not the provider's failing.
        if let OpsError::Provider(crate::error::ProviderError::InvalidRequest {
            field,
            message,
            ..
        }) = &error
        {
            return ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message.clone())
                .field(field);
        }
        use crate::error::ProviderError;
        let status = match &error {
            OpsError::NotTracked(_) => StatusCode::NOT_FOUND,
            OpsError::NotConfigured(_) => StatusCode::CONFLICT,
            // The provider knows no such session.
            OpsError::Provider(ProviderError::Declined { code, .. })
                if code == "verification_id_value_invalid" =>
            {
                StatusCode::NOT_FOUND
            }
            // It understood the request and said no: not its failure.
            OpsError::Provider(ProviderError::Declined { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            OpsError::Provider(ProviderError::RateLimited { .. }) => StatusCode::TOO_MANY_REQUESTS,
            OpsError::Provider(_) => StatusCode::BAD_GATEWAY,
            OpsError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, error.kind(), error.to_string())
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> ApiError {
        use crate::store::StoreError;
        match &error {
            StoreError::TokenNameTaken(_) => {
                ApiError::new(StatusCode::CONFLICT, "name_taken", error.to_string()).field("name")
            }
            StoreError::NoSuchToken(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", error.to_string())
            }
            _ => OpsError::from(error).into(),
        }
    }
}

impl From<crate::error::ValidationError> for ApiError {
    fn from(error: crate::error::ValidationError) -> ApiError {
        let field = error.field.clone();
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", error.message).field(&field)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "kind": self.kind,
            "message": self.message,
            "field": self.field,
        }});
        let mut response = (self.status, Json(body)).into_response();
        if self.noted {
            response.extensions_mut().insert(Noted);
        }
        // RFC 6750: a 401 names the scheme it wants.
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"payops\""),
            );
        }
        response
    }
}

pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message).field(field)
}

pub fn bad_json(rejection: JsonRejection) -> ApiError {
    let status = match &rejection {
        JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    unreadable(status, "invalid_body", rejection.body_text())
}

/// A body or query the server could not read, naming the field serde named.
pub fn unreadable(status: StatusCode, kind: &'static str, text: String) -> ApiError {
    let field = named_field(&text);
    let error = ApiError::new(status, kind, text);
    match field {
        Some(field) => error.field(&field),
        None => error,
    }
}

/// The field in serde's "unknown field `x`" / "missing field `x`" /
/// "x: invalid type" messages, so the refusal can name it.
fn named_field(text: &str) -> Option<String> {
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = text.split(marker).nth(1) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    // "Failed to deserialize query string: all: provided string was not …"
    if let Some((field, _)) = text
        .split("query string: ")
        .nth(1)
        .and_then(|rest| rest.split_once(':'))
        && !field.is_empty()
        && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Some(field.to_string());
    }
    // "… target type: label: invalid type …", "… could not be read: label: invalid type …"
    let at = text
        .find(": invalid")
        .or_else(|| text.find(": unknown variant"))?;
    let field = text[..at].rsplit(' ').next()?;
    (!field.is_empty() && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| field.to_string())
}

pub fn bad_path(rejection: PathRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_path",
        rejection.body_text(),
    )
    .field("id")
}

pub fn bad_query(rejection: QueryRejection) -> ApiError {
    unreadable(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        rejection.body_text(),
    )
}

/// The refusal every error status carries, as the OpenAPI document shows it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable word: unauthorized, forbidden, invalid_input, invalid_body, …
    pub kind: String,
    pub message: String,
    /// The request field at fault, when one is.
    pub field: Option<String>,
}

/// Why `payops serve` could not start, or stopped: the CLI turns it into
/// an exit code.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A flag or setting the server cannot run with; the message names it.
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
