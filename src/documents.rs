//! Consented DigiLocker documents: what a fetch brings back, read leniently,
//! and how it is shown: masked by default, in full only when asked.
//!
//! Document contents are personal data. They live in memory for as long as
//! someone looks at them: never in the store, the logs, snapshots or a
//! `Debug` print. Only the fact of each fetch and reveal is recorded.

use std::fmt;

use serde_json::{Map, Value};

use crate::domain::DocumentType;
use crate::domain::masking;

/// How long after consent the provider serves the documents.
pub const CONSENT_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// Which documents to fetch for a session: what the customer consented to;
/// what was asked for when the provider does not say (InstantPay); Aadhaar
/// when neither is known.
pub fn to_fetch(consented: &[DocumentType], requested: &[DocumentType]) -> Vec<DocumentType> {
    [consented, requested]
        .into_iter()
        .find(|list| !list.is_empty())
        .map(<[DocumentType]>::to_vec)
        .unwrap_or_else(|| vec![DocumentType::Aadhaar])
}

/// One field as the provider sent it. `key` is the path (`split_address.dist`).
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentField {
    pub key: String,
    pub value: String,
}

/// One consented document, every field kept in the provider's order
/// (unknown ones too: support agents read what is there).
#[derive(Clone, PartialEq, Eq)]
pub struct Document {
    pub kind: DocumentType,
    pub fields: Vec<DocumentField>,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("kind", &self.kind)
            .field("fields", &self.fields.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for DocumentField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: [personal data]", self.key)
    }
}

/// What asking for a document gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentFetch {
    Ready(Document),
    /// The provider is still preparing it (Cashfree's 202): ask again shortly.
    Preparing,
    /// The window has passed (or the URL expired unused): a new session is needed.
    Expired {
        message: String,
    },
}

impl DocumentFetch {
    /// For the access log: `ok`, `preparing`, `expired`.
    pub fn outcome(&self) -> &'static str {
        match self {
            DocumentFetch::Ready(_) => "ok",
            DocumentFetch::Preparing => "preparing",
            DocumentFetch::Expired { .. } => "expired",
        }
    }
}

/// Keys that are the session's ids, not the document's contents.
const ID_KEYS: [&str; 4] = [
    "reference_id",
    "verification_id",
    "referenceId",
    "externalRef",
];
/// Keys whose value is an image in base64: shown as a size, never as text.
const IMAGE_KEYS: [&str; 4] = ["photo_link", "photo", "base64File", "image"];

impl Document {
    /// Reads a provider's document object: nested objects flatten to dotted
    /// keys, arrays of words join with commas, nulls are absent.
    pub fn from_json(kind: DocumentType, object: &Map<String, Value>) -> Document {
        let mut fields = Vec::new();
        flatten("", object, &mut fields);
        Document { kind, fields }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }

    /// The fields to show: everything when `reveal`, else as `masking`
    /// says, with the address folded to district and state.
    pub fn view(&self, reveal: bool) -> Vec<(String, String)> {
        if reveal {
            return self
                .fields
                .iter()
                .map(|f| (f.key.clone(), f.value.clone()))
                .collect();
        }
        let mut shown = Vec::new();
        let mut address_done = false;
        for field in &self.fields {
            let leaf = field.key.rsplit('.').next().unwrap_or(&field.key);
            if is_address(&field.key) {
                if !address_done {
                    address_done = true;
                    shown.push(("address".to_string(), self.district_and_state()));
                }
                continue;
            }
            shown.push((field.key.clone(), masking::field(leaf, &field.value)));
        }
        shown
    }

    fn district_and_state(&self) -> String {
        let part = |leaf: &str| {
            self.fields
                .iter()
                .find(|f| is_address(&f.key) && f.key.rsplit('.').next() == Some(leaf))
                .map(|f| f.value.clone())
        };
        match (part("dist"), part("state")) {
            (Some(d), Some(s)) => format!("{d}, {s}"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => masking::HIDDEN.into(),
        }
    }
}

fn is_address(key: &str) -> bool {
    key.starts_with("split_address.") || key.starts_with("address.") || key == "address"
}

fn flatten(prefix: &str, object: &Map<String, Value>, into: &mut Vec<DocumentField>) {
    for (key, value) in object {
        if prefix.is_empty() && ID_KEYS.contains(&key.as_str()) {
            continue;
        }
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let text = match value {
            Value::Null => continue,
            Value::Object(inner) => {
                flatten(&path, inner, into);
                continue;
            }
            Value::String(s) if IMAGE_KEYS.contains(&key.as_str()) => {
                format!("(image, {} KB)", s.len().div_ceil(1024))
            }
            Value::String(s) => s.trim().to_string(),
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        if !text.is_empty() {
            into.push(DocumentField {
                key: path,
                value: text,
            });
        }
    }
}

/// Consented documents, as `digilocker documents --json` and the team
/// API give them: every field masked unless `revealed`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ConsentedView<'a> {
    session: &'a str,
    provider: &'static str,
    revealed: bool,
    /// One hour after payops first saw the consent.
    #[schema(value_type = Option<String>, format = DateTime)]
    consent_ends_at: Option<jiff::Timestamp>,
    documents: Vec<DocumentView>,
}

/// One document's fields as shown.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    /// AADHAAR, PAN or DRIVING_LICENSE.
    #[serde(rename = "type")]
    kind: &'static str,
    #[schema(value_type = Object)]
    fields: Map<String, Value>,
}

/// [`ConsentedView`] as JSON.
pub fn consented_json(
    session: &str,
    provider: crate::domain::Provider,
    reveal: bool,
    consent_ends: Option<jiff::Timestamp>,
    documents: &[Document],
) -> Value {
    let documents = documents
        .iter()
        .map(|document| DocumentView {
            kind: document.kind.wire(),
            fields: document
                .view(reveal)
                .into_iter()
                .map(|(key, value)| (key, Value::String(value)))
                .collect(),
        })
        .collect();
    let view = ConsentedView {
        session,
        provider: provider.as_str(),
        revealed: reveal,
        consent_ends_at: consent_ends,
        documents,
    };
    crate::domain::wire::to_value(&view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn aadhaar() -> Document {
        let value = json!({
            "reference_id": 12345,
            "verification_id": "V1",
            "status": "SUCCESS",
            "uid": "XXXXXXXX4321",
            "name": "Priya Nair",
            "dob": "07-03-1991",
            "care_of": "D/O: Someone",
            "photo_link": "a".repeat(3000),
            "split_address": {"dist": "Chennai", "state": "Tamil Nadu", "house": "12/4", "pincode": "600042"},
            "new_field": ["x", 1],
            "nothing": null,
        });
        Document::from_json(DocumentType::Aadhaar, value.as_object().expect("object"))
    }

    #[test]
    fn masked_by_default_whole_when_revealed() {
        let doc = aadhaar();
        let masked = doc.view(false);
        let get = |k: &str| {
            masked
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("uid"),
            Some("XXXXXXXX4321"),
            "as the provider masked it"
        );
        assert_eq!(get("dob"), Some("**-**-1991"));
        assert_eq!(get("address"), Some("Chennai, Tamil Nadu"));
        assert_eq!(get("split_address.house"), None);
        assert_eq!(get("care_of"), Some("(hidden; reveal to see)"));
        assert_eq!(get("photo_link"), Some("(image, 3 KB)"));
        assert_eq!(get("new_field"), Some("x, 1"), "unknown fields are kept");
        assert_eq!(get("reference_id"), None, "ids are not contents");
        assert_eq!(get("nothing"), None, "absent, not 'null'");
        let full = doc.view(true);
        assert!(full.contains(&("split_address.house".into(), "12/4".into())));
        assert!(full.contains(&("dob".into(), "07-03-1991".into())));
    }

    #[test]
    fn debug_never_prints_contents() {
        let text = format!("{:?}", aadhaar());
        assert!(!text.contains("Priya"), "{text}");
        assert!(!text.contains("4321"), "{text}");
    }
}
