//! The consented documents of an AUTHENTICATED session, fetched patiently
//! and logged, for whichever front end asks (the CLI on this machine, the
//! team server for its operators): one rule for when they can be had.

use std::time::Duration;

use jiff::Timestamp;

use super::ops::{OpsError, PREPARING_ATTEMPTS, Services};
use crate::documents::{CONSENT_WINDOW, Document, DocumentFetch, to_fetch};
use crate::domain::{DocumentType, SessionRecord, SessionStatus};
use crate::error::ProviderError;

/// The documents, and the hour they are served in.
#[derive(Debug)]
pub struct Consented {
    pub record: SessionRecord,
    pub documents: Vec<Document>,
    /// One hour after payops first saw the consent; None if it never did.
    pub consent_ends: Option<Timestamp>,
}

/// Why no documents came.
#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    #[error(
        "session {id} is {status}: documents can be fetched only after the customer consents (AUTHENTICATED)"
    )]
    NoConsent { id: String, status: SessionStatus },
    #[error("'{0}' is not a document; use aadhaar, pan or driving_license")]
    UnknownType(String),
    #[error("the customer did not consent to share {kind} in session {id}; {consented}")]
    NotConsented {
        id: String,
        kind: DocumentType,
        /// What was consented to, in words.
        consented: String,
    },
    #[error(
        "the documents of {id} can no longer be fetched ({message}): they are served for one hour after consent; create a new session"
    )]
    Expired { id: String, message: String },
    #[error(
        "{kind} of {id} was still being prepared after {PREPARING_ATTEMPTS} tries; try again in a minute"
    )]
    Preparing { id: String, kind: DocumentType },
    #[error(transparent)]
    Ops(#[from] OpsError),
}

impl Services {
    /// Every consented document of `record` (or `only` the one named),
    /// masked unless `reveal`; each fetch is in the access log whatever
    /// its outcome. `waiting` hears of each pause while one is prepared.
    pub async fn consented_documents(
        &self,
        record: SessionRecord,
        only: Option<&str>,
        reveal: bool,
        mut waiting: impl FnMut(DocumentType, Duration),
    ) -> Result<Consented, DocumentsError> {
        if record.status != SessionStatus::Authenticated {
            return Err(DocumentsError::NoConsent {
                id: record.id.to_string(),
                status: record.status.clone(),
            });
        }
        let kinds = match only {
            Some(word) => vec![
                DocumentType::parse(word)
                    .ok_or_else(|| DocumentsError::UnknownType(word.to_string()))?,
            ],
            None => to_fetch(&record.documents_consented, &record.documents_requested),
        };
        let not_consented = |kind: DocumentType| DocumentsError::NotConsented {
            id: record.id.to_string(),
            kind,
            consented: match record.documents_consented.as_slice() {
                [] => "the provider did not say what was".to_string(),
                some => format!(
                    "consented: {}",
                    some.iter().map(|d| d.wire()).collect::<Vec<_>>().join(", ")
                ),
            },
        };
        // A document the customer did not consent to is not asked for.
        if let Some(kind) = kinds.iter().find(|kind| {
            !record.documents_consented.is_empty() && !record.documents_consented.contains(kind)
        }) {
            return Err(not_consented(*kind));
        }
        // The hour counts from the consent, which came at most one poll
        // before payops saw it.
        let consent_ends = self
            .store()
            .session_history(&record.id)
            .map_err(OpsError::from)?
            .iter()
            .find(|event| event.status == SessionStatus::Authenticated)
            .map(|event| event.at + CONSENT_WINDOW);
        let mut documents = Vec::new();
        for kind in kinds {
            let fetch = match self
                .fetch_document_patiently(&record, kind, reveal, &mut waiting)
                .await
            {
                // The provider's word for the same, when we did not know.
                Err(OpsError::Provider(ProviderError::InvalidRequest { field, .. }))
                    if field == "document_requested" =>
                {
                    return Err(not_consented(kind));
                }
                other => other?,
            };
            match fetch {
                DocumentFetch::Ready(document) => documents.push(document),
                DocumentFetch::Expired { message } => {
                    return Err(DocumentsError::Expired {
                        id: record.id.to_string(),
                        message,
                    });
                }
                DocumentFetch::Preparing => {
                    return Err(DocumentsError::Preparing {
                        id: record.id.to_string(),
                        kind,
                    });
                }
            }
        }
        Ok(Consented {
            record,
            documents,
            consent_ends,
        })
    }
}
