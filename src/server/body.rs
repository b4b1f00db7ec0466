//! Request bodies: a JSON object and nothing else. serde would read a
//! struct from a positional array too (`["cashfree", "signup", ...]` made a
//! session) and name our own types in its complaints; the API takes the
//! object its document describes, and refuses anything else naming the
//! field at fault.

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::errors::{ApiError, bad_json, unreadable};

/// A body read as `T` from a JSON object.
pub struct Object<T>(pub T);

impl<T, S> FromRequest<S> for Object<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<Value>::from_request(request, state)
            .await
            .map_err(bad_json)?;
        from_object(value).map(Object)
    }
}

/// `bytes` as `T`, from a JSON object.
pub fn object_from<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("not JSON: {e}"),
        )
    })?;
    from_object(value)
}

/// `bytes` as `T` from a JSON object, or `T::default()` when there are none:
/// for routes whose body is optional.
pub fn optional_object<T: DeserializeOwned + Default>(
    headers: &axum::http::HeaderMap,
    bytes: &[u8],
) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Ok(T::default());
    }
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_body",
            "Expected request with `Content-Type: application/json`",
        ));
    }
    object_from(bytes)
}

fn from_object<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body must be a JSON object of named fields",
        ));
    }
    // The path to the value at fault comes first ("label: invalid type"),
    // as the refusal's field.
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner().to_string();
        let text = if path == "." {
            inner
        } else {
            format!("{path}: {inner}")
        };
        unreadable(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("the body could not be read: {text}"),
        )
    })
}
