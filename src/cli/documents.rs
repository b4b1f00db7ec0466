//! `payops digilocker documents ID`: the consented documents of an
//! AUTHENTICATED session, masked unless `--reveal`; every fetch is logged.
//! Here from the providers, or through a team server: the same words.

use jiff::Timestamp;
use serde_json::Value;

use super::{Context, Failure, Output, exit};
use crate::documents::consented_json;
use crate::engine::documents::DocumentsError;

pub async fn documents(
    ctx: &Context,
    id: &str,
    only: Option<&str>,
    reveal: bool,
) -> Result<Option<Output>, Failure> {
    let record = ctx.services.find(id)?;
    let provider = record.provider;
    let consented = ctx
        .services
        .consented_documents(record, only, reveal, |kind, wait| {
            eprintln!(
                "{kind}: still being prepared by {provider}; asking again in {} s",
                wait.as_secs()
            );
        })
        .await?;
    let json = consented_json(
        consented.record.id.as_str(),
        provider,
        reveal,
        consented.consent_ends,
        &consented.documents,
    );
    // Each document's fields in the provider's order, which JSON objects
    // do not keep.
    let ordered = consented
        .documents
        .iter()
        .map(|document| (document.kind.wire().to_string(), document.view(reveal)))
        .collect();
    let human = human(&json, ordered);
    Ok(Some(Output::ok(json, human)))
}

/// A team server's answer, as people read it.
pub(super) fn output(json: Value) -> Output {
    let documents = json["documents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|document| {
            let fields = document["fields"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(key, value)| (key.clone(), value.as_str().unwrap_or_default().to_string()))
                .collect();
            (
                document["type"].as_str().unwrap_or_default().to_string(),
                fields,
            )
        })
        .collect();
    let human = human(&json, documents);
    Output::ok(json, human)
}

/// Each document's type and its fields as shown.
type Shown = Vec<(String, Vec<(String, String)>)>;

impl From<DocumentsError> for Failure {
    fn from(error: DocumentsError) -> Failure {
        let message = error.to_string();
        let (code, kind) = match error {
            DocumentsError::Ops(error) => return error.into(),
            DocumentsError::NoConsent { .. } | DocumentsError::NotConsented { .. } => {
                (exit::DECLINED, "no_consent")
            }
            DocumentsError::UnknownType(_) => {
                return Failure::usage(format!("--type: {message}"));
            }
            DocumentsError::Expired { .. } => (exit::DECLINED, "documents_expired"),
            DocumentsError::Preparing { .. } => (exit::UNREACHABLE, "documents_preparing"),
        };
        Failure {
            code,
            kind,
            message,
            provider_code: None,
        }
    }
}

fn human(json: &Value, documents: Shown) -> String {
    let reveal = json["revealed"] == true;
    let consent_ends = json["consent_ends_at"]
        .as_str()
        .and_then(|at| at.parse::<Timestamp>().ok());
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
    let provider = json["provider"]
        .as_str()
        .and_then(|word| word.parse::<crate::domain::Provider>().ok())
        .map(|provider| provider.to_string())
        .unwrap_or_default();
    let mut lines = vec![format!(
        "{} ({provider}) · {window}",
        json["session"].as_str().unwrap_or_default()
    )];
    let how = if reveal {
        "in full (this reveal is logged)"
    } else {
        "masked; --reveal shows every field (logged)"
    };
    for (kind, fields) in documents {
        lines.push(String::new());
        lines.push(format!("{kind} — {how}"));
        let width = fields.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
        for (key, value) in fields {
            lines.push(format!("  {key:<width$}  {value}"));
        }
    }
    lines.join("\n")
}
