//! `GET /api/v1/sessions/{id}/documents`: a support agent's view of the
//! consented documents, through the server: masked unless `reveal=true`,
//! every fetch in the access log under the operator's name, and only in
//! the hour after consent.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::errors::{ApiError, ErrorBody, bad_path, bad_query};
use super::operator::Operator;
use super::state::AppState;
use crate::auth::Permission;
use crate::documents::consented_json;
use crate::domain::DocumentType;
use crate::engine::documents::DocumentsError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DocumentsQuery {
    /// One document only: aadhaar, pan or driving_license (default: every
    /// consented one).
    #[serde(rename = "type")]
    kind: Option<super::openapi::DocumentKind>,
    /// Every field in full; logged as a reveal.
    #[serde(default)]
    reveal: bool,
}

#[utoipa::path(get, path = "/api/v1/sessions/{id}/documents", tag = "sessions", description = "Role: support. The consented documents of an AUTHENTICATED session, masked unless reveal=true; every fetch is logged under the operator's name. Served for one hour after consent.", params(("id" = String, Path), DocumentsQuery), responses((status = 200, description = "the documents", body = crate::documents::ConsentedView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "not AUTHENTICATED, or that document not consented to: no consent", body = ErrorBody), (status = 410, description = "the consent hour has passed", body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, description = "still being prepared; Retry-After says when to ask again", body = ErrorBody)))]
pub async fn documents(
    State(state): State<AppState>,
    Extension(operator): Extension<Operator>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<DocumentsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(bad_path)?;
    let Query(query) = query.map_err(bad_query)?;
    operator.require(Permission::Sessions)?;
    let services = state.services.as_operator(&operator.name);
    let record = services.find(&id)?;
    let provider = record.provider;
    let answer = services
        .consented_documents(
            record,
            query.kind.map(|kind| DocumentType::from(kind).wire()),
            query.reveal,
            |_, _| {},
        )
        .await;
    // The access log moved, whatever the outcome.
    let consented = match state.announced(answer) {
        Ok(consented) => consented,
        Err(error) => return Ok(refusal(error)),
    };
    let json = consented_json(
        consented.record.id.as_str(),
        provider,
        query.reveal,
        consented.consent_ends,
        &consented.documents,
    );
    Ok(Json(json).into_response())
}

fn refusal(error: DocumentsError) -> Response {
    let message = error.to_string();
    let refusal = match error {
        DocumentsError::Ops(error) => ApiError::from(error),
        DocumentsError::NoConsent { .. } | DocumentsError::NotConsented { .. } => {
            ApiError::new(StatusCode::CONFLICT, "no_consent", message)
        }
        DocumentsError::UnknownType(_) => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", message).field("type")
        }
        DocumentsError::Expired { .. } => {
            ApiError::new(StatusCode::GONE, "documents_expired", message)
        }
        DocumentsError::Preparing { .. } => {
            let mut response = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "documents_preparing",
                message,
            )
            .into_response();
            // The provider needs a minute or so more.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            return response;
        }
    };
    refusal.into_response()
}
