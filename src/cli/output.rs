//! What the CLI prints: one JSON object (or array) for scripts, or a tidy table.
//! Field names here are a contract (README); money is a decimal string, times RFC 3339.

use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::domain::{
    BalanceReport, LinkReport, UserDetails, format_inr, local_time, mask_all_but_last,
};
use crate::store::{AuditEntry, CreateState, DocumentAccess, SessionRecord};

pub fn balance_json(report: &BalanceReport) -> Value {
    json!({
        "provider": "instantpay",
        "account": report.account,
        "available": report.available.to_string(),
        "total": report.total.to_string(),
        "lien": report.lien.to_string(),
        "environment": report.environment.as_ref().map(|e| e.label()),
        "fetched_at": report.fetched_at.to_string(),
        "request_id": report.request_id,
    })
}

pub fn balance_human(report: &BalanceReport) -> String {
    let mut table = table(&["", ""]);
    table.add_row(vec!["available".to_string(), format_inr(report.available)]);
    table.add_row(vec!["total".to_string(), format_inr(report.total)]);
    table.add_row(vec!["lien".to_string(), format_inr(report.lien)]);
    table.add_row(vec![
        "account".to_string(),
        mask_all_but_last(&report.account, 4),
    ]);
    if let Some(env) = &report.environment {
        table.add_row(vec!["environment".to_string(), env.label()]);
    }
    table.add_row(vec!["fetched".to_string(), local_time(report.fetched_at)]);
    if let Some(id) = &report.request_id {
        table.add_row(vec!["ipay_uuid".to_string(), id.clone()]);
    }
    table.to_string()
}

fn create_state_word(state: &CreateState) -> (&'static str, Option<&str>) {
    match state {
        CreateState::Sending => ("sending", None),
        CreateState::Created => ("created", None),
        CreateState::Failed(m) => ("failed", Some(m)),
        CreateState::OutcomeUnknown(m) => ("outcome_unknown", Some(m)),
    }
}

pub fn session_json(record: &SessionRecord, details: Option<&UserDetails>) -> Value {
    let (create_state, create_message) = create_state_word(&record.create_state);
    let mut value = json!({
        "id": record.id,
        "provider": record.provider.as_str(),
        "external_ref": record.external_ref,
        "reference": record.reference,
        "status": record.status_word(),
        "provider_status": record.provider_status,
        "url": record.url.as_deref().filter(|u| !u.is_empty()),
        "flow": record.flow.map(|f| f.cashfree_word()),
        "redirect_url": record.redirect_url,
        "created_at": record.created_at.to_string(),
        "updated_at": record.updated_at.to_string(),
        "expires_at": record.expires_at.to_string(),
        "last_polled_at": record.last_polled_at.map(|t| t.to_string()),
        "documents_requested": record.documents_requested,
        "documents_consented": record.documents_consented,
        "create_state": create_state,
        "create_message": create_message,
        "tracking": record.tracking,
        "last_error": record.last_error,
    });
    if let (Some(details), Some(object)) = (details, value.as_object_mut()) {
        let masked: serde_json::Map<String, Value> = details
            .masked()
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect();
        object.insert("user_details".into(), Value::Object(masked));
    }
    value
}

fn time_left(record: &SessionRecord, now: Timestamp) -> String {
    if !record.is_live() {
        return "—".into();
    }
    let left = record.expires_at.duration_since(now).as_secs();
    if left <= 0 {
        "expired".into()
    } else {
        format!("{}:{:02}", left / 60, left % 60)
    }
}

pub fn session_human(record: &SessionRecord, details: Option<&UserDetails>) -> String {
    let mut table = table(&["", ""]);
    let docs = |d: &[crate::domain::DocumentType]| {
        d.iter().map(|d| d.wire()).collect::<Vec<_>>().join(", ")
    };
    let rows: Vec<(&str, String)> = vec![
        ("id", record.id.to_string()),
        ("provider", record.provider.display_name().to_string()),
        ("status", record.status_label()),
        ("provider status", record.provider_status.clone()),
        ("reference", record.reference.clone().unwrap_or_default()),
        ("external ref", record.external_ref.to_string()),
        ("created", local_time(record.created_at)),
        ("time left", time_left(record, Timestamp::now())),
        ("requested", docs(&record.documents_requested)),
        ("consented", docs(&record.documents_consented)),
    ];
    for (k, v) in rows {
        if !v.is_empty() {
            table.add_row(vec![k.to_string(), v]);
        }
    }
    if let CreateState::Failed(m) | CreateState::OutcomeUnknown(m) = &record.create_state {
        table.add_row(vec!["create".to_string(), m.clone()]);
    }
    if let Some(error) = &record.last_error {
        table.add_row(vec!["last error".to_string(), error.clone()]);
    }
    if let Some(details) = details {
        for (k, v) in details.masked() {
            table.add_row(vec![k.to_string(), v]);
        }
    }
    // The URL goes on a line of its own so it copies whole, however long.
    match record.url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => format!("{table}\nurl: {url}"),
        None => table.to_string(),
    }
}

pub fn sessions_human(records: &[SessionRecord]) -> String {
    if records.is_empty() {
        return "no sessions (create one with `payops digilocker create --provider cashfree`)"
            .into();
    }
    let now = Timestamp::now();
    let mut table = table(&[
        "id",
        "provider",
        "status",
        "reference",
        "time left",
        "created",
    ]);
    for r in records {
        table.add_row(vec![
            r.id.to_string(),
            r.provider.as_str().to_string(),
            r.status_label(),
            r.reference.clone().unwrap_or_default(),
            time_left(r, now),
            local_time(r.created_at),
        ]);
    }
    table.to_string()
}

pub fn link_json(report: &LinkReport) -> Value {
    json!({
        "link_id": report.link_id,
        "status": report.status.as_str(),
        // The provider sends a JSON number (1500.5); money is always shown with paise.
        "amount": report.amount.map(|a| format!("{:.2}", a.round_dp(2))),
        "activity": report.activity,
        "request_id": report.request_id,
    })
}

pub fn link_human(report: &LinkReport) -> String {
    let mut table = table(&["", ""]);
    table.add_row(vec!["link".to_string(), report.link_id.to_string()]);
    table.add_row(vec!["status".to_string(), report.status.as_str()]);
    table.add_row(vec![
        "amount".to_string(),
        report.amount.map(format_inr).unwrap_or_else(|| "—".into()),
    ]);
    for activity in &report.activity {
        table.add_row(vec![
            "activity".to_string(),
            format!(
                "{} {}",
                activity.at.as_deref().unwrap_or(""),
                activity.status
            ),
        ]);
    }
    table.to_string()
}

pub fn audit_json(entry: &AuditEntry) -> Value {
    json!({
        "link_id": entry.link_id,
        "outcome": entry.outcome.as_str(),
        "message": entry.message,
        "provider_code": entry.provider_code,
        "request_id": entry.request_id,
        "at": entry.at.to_string(),
        "actor": entry.actor,
        "completed": entry.completed,
    })
}

pub fn audit_human(entries: &[AuditEntry]) -> String {
    if entries.is_empty() {
        return "no notifications sent yet".into();
    }
    let mut table = table(&["at", "link", "outcome", "by", "message"]);
    for e in entries {
        table.add_row(vec![
            local_time(e.at),
            e.link_id.to_string(),
            e.outcome.as_str().to_string(),
            e.actor.clone(),
            e.message.clone(),
        ]);
    }
    if entries
        .iter()
        .any(|e| e.actor == crate::engine::ops::UNKNOWN_OPERATOR)
    {
        return format!(
            "{table}\n\"unknown\": no operator name was known when it was sent; \
             set [operator] name in the config (or PAYOPS_OPERATOR_NAME)"
        );
    }
    table.to_string()
}

pub fn document_access_json(entry: &DocumentAccess) -> Value {
    json!({
        "at": entry.at.to_string(),
        "actor": entry.actor,
        "session": entry.session_id.as_str(),
        "provider": entry.provider.as_str(),
        "document": entry.document.wire(),
        "revealed": entry.revealed,
        "outcome": entry.outcome,
    })
}

pub fn document_access_human(entries: &[DocumentAccess]) -> String {
    if entries.is_empty() {
        return "no documents fetched yet".into();
    }
    let mut table = table(&["at", "by", "session", "document", "shown", "outcome"]);
    for e in entries {
        table.add_row(vec![
            local_time(e.at),
            e.actor.clone(),
            e.session_id.to_string(),
            e.document.wire().to_string(),
            if e.revealed { "revealed" } else { "masked" }.to_string(),
            e.outcome.clone(),
        ]);
    }
    table.to_string()
}

pub fn error_json(kind: &str, message: &str, provider_code: Option<&str>) -> Value {
    json!({"error": {"kind": kind, "message": message, "provider_code": provider_code}})
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_BORDERS_ONLY);
    // Fit the terminal when there is one; in a pipe, never wrap (scripts grep lines).
    if table.width().is_some() {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    if header.iter().any(|h| !h.is_empty()) {
        table.set_header(header.to_vec());
    }
    table
}
