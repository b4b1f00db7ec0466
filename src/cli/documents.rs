//! `payops digilocker documents ID`: the consented documents of an
//! AUTHENTICATED session, masked unless `--reveal`; every fetch is logged.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::{Context, Failure, Output, exit};
use crate::documents::{CONSENT_WINDOW, Document, DocumentFetch, to_fetch};
use crate::domain::SessionRecord;
use crate::domain::{DocumentType, SessionStatus};
use crate::engine::ops::PREPARING_ATTEMPTS;

pub async fn documents(
    ctx: &Context,
    id: &str,
    only: Option<&str>,
    reveal: bool,
) -> Result<Option<Output>, Failure> {
    let record = ctx.services.find(id)?;
    if record.status != SessionStatus::Authenticated {
        return Err(Failure {
            code: exit::DECLINED,
            kind: "no_consent",
            message: format!(
                "session {} is {}: documents can be fetched only after the customer consents (AUTHENTICATED)",
                record.id, record.status
            ),
            provider_code: None,
        });
    }
    let kinds = match only {
        Some(word) => vec![DocumentType::parse(word).ok_or_else(|| {
            Failure::usage(format!(
                "--type: '{word}' is not a document; use aadhaar, pan or driving_license"
            ))
        })?],
        None => to_fetch(&record.documents_consented, &record.documents_requested),
    };
    let consent_ends = consented_at(ctx, &record)?.map(|at| at + CONSENT_WINDOW);
    let mut fetched = Vec::new();
    for kind in kinds {
        fetched.push(fetch_one(ctx, &record, kind, reveal).await?);
    }
    let json = json!({
        "session": record.id.as_str(),
        "revealed": reveal,
        "consent_ends_at": consent_ends.map(|t| t.to_string()),
        "documents": fetched.iter().map(|d| document_json(d, reveal)).collect::<Vec<_>>(),
    });
    Ok(Some(Output::ok(
        json,
        human(&record, &fetched, reveal, consent_ends),
    )))
}

/// When payops first saw the session AUTHENTICATED (the hour counts from
/// the consent, which came at most one poll earlier).
fn consented_at(ctx: &Context, record: &SessionRecord) -> Result<Option<Timestamp>, Failure> {
    let history = ctx.services.store().session_history(&record.id)?;
    Ok(history
        .iter()
        .find(|event| event.status == SessionStatus::Authenticated)
        .map(|event| event.at))
}

async fn fetch_one(
    ctx: &Context,
    record: &SessionRecord,
    kind: DocumentType,
    reveal: bool,
) -> Result<Document, Failure> {
    let provider = record.provider;
    let fetch = ctx
        .services
        .fetch_document_patiently(record, kind, reveal, |kind, wait| {
            eprintln!(
                "{kind}: still being prepared by {provider}; asking again in {} s",
                wait.as_secs()
            );
        })
        .await?;
    match fetch {
        DocumentFetch::Ready(document) => Ok(document),
        DocumentFetch::Expired { message } => Err(Failure {
            code: exit::DECLINED,
            kind: "documents_expired",
            message: format!(
                "the documents of {} can no longer be fetched ({message}): they are served for one hour after consent; create a new session",
                record.id
            ),
            provider_code: None,
        }),
        DocumentFetch::Preparing => Err(Failure {
            code: exit::UNREACHABLE,
            kind: "documents_preparing",
            message: format!(
                "{kind} of {} was still being prepared after {PREPARING_ATTEMPTS} tries; try again in a minute",
                record.id
            ),
            provider_code: None,
        }),
    }
}

fn document_json(document: &Document, reveal: bool) -> Value {
    let fields: Map<String, Value> = document
        .view(reveal)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    json!({"type": document.kind.wire(), "fields": fields})
}

fn human(
    record: &SessionRecord,
    documents: &[Document],
    reveal: bool,
    consent_ends: Option<Timestamp>,
) -> String {
    let mut lines = Vec::new();
    let window = match consent_ends {
        Some(end) => {
            let left = end.duration_since(Timestamp::now());
            if left.is_negative() {
                "the consent hour has passed".to_string()
            } else {
                format!(
                    "consent window: about {} min left (until {})",
                    left.as_secs() / 60 + 1,
                    crate::domain::local_time(end)
                )
            }
        }
        None => "consent window: unknown (payops did not see the consent)".to_string(),
    };
    lines.push(format!("{} ({}) · {window}", record.id, record.provider));
    for document in documents {
        let how = if reveal {
            "in full (this reveal is logged)"
        } else {
            "masked; --reveal shows every field (logged)"
        };
        lines.push(String::new());
        lines.push(format!("{} — {how}", document.kind.wire()));
        let view = document.view(reveal);
        let width = view.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (key, value) in view {
            lines.push(format!("  {key:<width$}  {value}"));
        }
    }
    lines.join("\n")
}
