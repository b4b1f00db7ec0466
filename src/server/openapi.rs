//! The OpenAPI document's shared parts: the bearer scheme, the refusals
//! every route can answer (so no route's list can forget one), and the
//! words a request body takes, read as the schema enumerates them.

use crate::domain::{DocumentType, UserFlow};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

/// A flow as the API takes it: exactly these words.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FlowWord {
    Signup,
    Signin,
}

impl From<FlowWord> for UserFlow {
    fn from(word: FlowWord) -> UserFlow {
        match word {
            FlowWord::Signup => UserFlow::Signup,
            FlowWord::Signin => UserFlow::Signin,
        }
    }
}

/// A Cashfree document as the API takes it: exactly these words.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DocumentWord {
    Aadhaar,
    Pan,
    DrivingLicense,
}

/// A document as the documents route's `type` names it: the CLI's words.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Aadhaar,
    Pan,
    DrivingLicense,
}

impl From<DocumentKind> for DocumentType {
    fn from(kind: DocumentKind) -> DocumentType {
        match kind {
            DocumentKind::Aadhaar => DocumentType::Aadhaar,
            DocumentKind::Pan => DocumentType::Pan,
            DocumentKind::DrivingLicense => DocumentType::DrivingLicense,
        }
    }
}

impl From<DocumentWord> for DocumentType {
    fn from(word: DocumentWord) -> DocumentType {
        match word {
            DocumentWord::Aadhaar => DocumentType::Aadhaar,
            DocumentWord::Pan => DocumentType::Pan,
            DocumentWord::DrivingLicense => DocumentType::DrivingLicense,
        }
    }
}

/// Adds to each operation the refusals every route of its kind can give:
/// any `/api/v1` route 401 (no or a bad token), 429 (the token's request
/// limit) and 503 (the store does not answer); one with parameters 400;
/// one with a body 400, 413 and 415.
pub struct StandardResponses;

impl utoipa::Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let api = path.starts_with("/api/v1/") && path != "/api/v1/openapi.json";
            // Signed by the provider, not a token's: no per-token limit,
            // and the body is read whatever its content type.
            let webhook = path.starts_with("/api/v1/webhooks/");
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let with_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let with_body = operation.request_body.is_some();
                let mut add = |status: &str, why: &str| add_refusal(operation, status, why);
                if api && !webhook {
                    add("401", "no token, or one that is wrong, expired or revoked");
                    add(
                        "429",
                        "over this token's request limit (Retry-After says when)",
                    );
                    add("503", "the store does not answer");
                }
                if with_parameters {
                    add(
                        "400",
                        "a parameter is out of its range (the refusal names it)",
                    );
                }
                if with_body && !webhook {
                    add(
                        "400",
                        "the body is not the object described (the refusal names the field)",
                    );
                    add("413", "the body is over 64 KiB");
                    add("415", "the body is not sent as application/json");
                }
            }
        }
    }
}

fn add_refusal(operation: &mut Operation, status: &str, why: &str) {
    let responses = &mut operation.responses.responses;
    if responses.contains_key(status) {
        return;
    }
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    let response = ResponseBuilder::new()
        .description(why)
        .content("application/json", content)
        .build();
    responses.insert(status.to_string(), RefOr::T(response));
}

pub struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("a token from `payops serve token add`"))
                    .build(),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    /// The patterns the document gives are the ones the validators hold to.
    #[test]
    fn the_documents_patterns_are_the_validators() {
        let doc = serde_json::to_string(&super::super::api::ApiDoc::openapi()).unwrap();
        for pattern in [
            crate::validate::DURATION_PATTERN,
            crate::validate::SPAN_PATTERN,
            crate::validate::EXPIRY_PATTERN,
            crate::validate::GRACE_PATTERN,
        ] {
            let quoted = serde_json::to_string(pattern).unwrap();
            assert!(doc.contains(&quoted), "the document lacks {pattern}");
        }
    }
}
