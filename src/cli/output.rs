//! What the CLI prints: one JSON object (or array) for scripts, or a tidy table.
//! Field names here are a contract (README); money is a decimal string, times RFC 3339.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::domain::{
    AuditEntry, BalanceSnapshot, BalanceSummary, CreateState, DocumentAccess, SessionRecord,
};
use crate::domain::{
    BalanceReport, LinkReport, UserDetails, format_inr, local_time, mask_all_but_last,
};

use super::table::{Fit, Table};

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
    let mut table = Table::pairs();
    table.pair("available", format_inr(report.available));
    table.pair("total", format_inr(report.total));
    table.pair("lien", format_inr(report.lien));
    table.pair("account", mask_all_but_last(&report.account, 4));
    if let Some(env) = &report.environment {
        table.pair("environment", env.label());
    }
    table.pair("fetched", local_time(report.fetched_at));
    if let Some(id) = &report.request_id {
        table.pair("ipay_uuid", id.clone());
    }
    table.render()
}

fn snapshot_json(snapshot: &BalanceSnapshot) -> Value {
    json!({
        "at": snapshot.at.to_string(),
        "account": snapshot.account,
        "available": snapshot.available.to_string(),
        "total": snapshot.total.to_string(),
        "lien": snapshot.lien.to_string(),
        "request_id": snapshot.request_id,
    })
}

pub fn balance_history_json(since: Timestamp, snapshots: &[BalanceSnapshot]) -> Value {
    let summary = BalanceSummary::of(snapshots);
    json!({
        "since": since.to_string(),
        "readings": snapshots.iter().map(snapshot_json).collect::<Vec<_>>(),
        "lowest": summary.map(|s| snapshot_json(s.lowest)),
        "highest": summary.map(|s| snapshot_json(s.highest)),
        "latest": summary.map(|s| snapshot_json(s.latest)),
    })
}

/// RFC 4180 with a header row; money as plain decimals for spreadsheets.
pub fn balance_history_csv(snapshots: &[BalanceSnapshot]) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut write = |record: [&str; 6]| writer.write_record(record).map_err(|e| e.to_string());
    write(["at", "account", "available", "total", "lien", "request_id"])?;
    for s in snapshots {
        write([
            &s.at.to_string(),
            &s.account,
            &s.available.to_string(),
            &s.total.to_string(),
            &s.lien.to_string(),
            s.request_id.as_deref().unwrap_or(""),
        ])?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
    // The caller prints a line; the writer's last line break would double it.
    Ok(text.trim_end_matches('\n').to_string())
}

pub fn balance_history_human(since: Timestamp, snapshots: &[BalanceSnapshot]) -> String {
    let Some(summary) = BalanceSummary::of(snapshots) else {
        return format!(
            "no balance readings since {} (each dashboard refresh and `payops balance` records one)",
            local_time(since)
        );
    };
    let reading =
        |s: &BalanceSnapshot| format!("{} at {}", format_inr(s.available), local_time(s.at));
    let mut table = Table::new()
        .column("at", Fit::Whole)
        .figures("available")
        .figures("total")
        .figures("lien");
    for s in snapshots {
        table.row(vec![
            local_time(s.at),
            format_inr(s.available),
            format_inr(s.total),
            format_inr(s.lien),
        ]);
    }
    if !super::table::for_people() {
        // Scripts get the rows alone; --json has the summary.
        return table.render();
    }
    format!(
        "{}\n{} since {}\nlowest  {}\nhighest {}\nlatest  {}",
        table.render(),
        match snapshots.len() {
            1 => "1 reading".to_string(),
            n => format!("{n} readings"),
        },
        local_time(since),
        reading(summary.lowest),
        reading(summary.highest),
        reading(summary.latest),
    )
}

fn create_state_word(state: &CreateState) -> (&'static str, Option<&str>) {
    match state {
        CreateState::Sending => ("sending", None),
        CreateState::Created => ("created", None),
        CreateState::Failed(m) => ("failed", Some(m)),
        CreateState::OutcomeUnknown(m) => ("outcome_unknown", Some(m)),
    }
}

/// A session as the JSON contract spells it (README), borrowed from the
/// record: serialised as it is, a list of thousands needs no tree of values.
#[derive(Debug, serde::Serialize)]
pub struct SessionView<'a> {
    id: &'a crate::domain::SessionId,
    provider: &'static str,
    external_ref: &'a crate::domain::ExternalRef,
    reference: Option<&'a str>,
    status: String,
    provider_status: &'a str,
    url: Option<&'a str>,
    flow: Option<&'static str>,
    redirect_url: Option<&'a str>,
    created_at: Timestamp,
    updated_at: Timestamp,
    expires_at: Timestamp,
    last_polled_at: Option<Timestamp>,
    documents_requested: &'a [crate::domain::DocumentType],
    documents_consented: &'a [crate::domain::DocumentType],
    create_state: &'static str,
    create_message: Option<&'a str>,
    tracking: bool,
    last_error: Option<&'a str>,
    label: Option<&'a str>,
    created_by: Option<&'a str>,
    /// Masked; only once authenticated and only when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_details: Option<std::collections::BTreeMap<&'static str, String>>,
}

impl<'a> SessionView<'a> {
    pub fn of(record: &'a SessionRecord, details: Option<&UserDetails>) -> SessionView<'a> {
        let (create_state, create_message) = create_state_word(&record.create_state);
        SessionView {
            id: &record.id,
            provider: record.provider.as_str(),
            external_ref: &record.external_ref,
            reference: record.reference.as_deref(),
            status: record.status_word(),
            provider_status: &record.provider_status,
            url: record.url.as_deref().filter(|u| !u.is_empty()),
            flow: record.flow.map(|f| f.cashfree_word()),
            redirect_url: record.redirect_url.as_deref(),
            created_at: record.created_at,
            updated_at: record.updated_at,
            expires_at: record.expires_at,
            last_polled_at: record.last_polled_at,
            documents_requested: &record.documents_requested,
            documents_consented: &record.documents_consented,
            create_state,
            create_message,
            tracking: record.tracking,
            last_error: record.last_error.as_deref(),
            label: record.label.as_deref(),
            created_by: record.created_by.as_deref(),
            user_details: details.map(|d| d.masked().into_iter().collect()),
        }
    }
}

pub fn session_json(record: &SessionRecord, details: Option<&UserDetails>) -> Value {
    // A struct of strings, numbers and string-keyed maps always converts.
    serde_json::to_value(SessionView::of(record, details)).unwrap_or_default()
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
    let mut table = Table::pairs();
    let docs = |d: &[crate::domain::DocumentType]| {
        d.iter().map(|d| d.wire()).collect::<Vec<_>>().join(", ")
    };
    table.pair("id", record.id.to_string());
    table.pair("label", record.label.clone().unwrap_or_default());
    table.pair("provider", record.provider.display_name());
    table.pair("status", record.status_label());
    table.pair("provider status", record.provider_status.clone());
    table.pair("reference", record.reference.clone().unwrap_or_default());
    table.pair("external ref", record.external_ref.to_string());
    table.pair("created", local_time(record.created_at));
    table.pair("created by", record.created_by.clone().unwrap_or_default());
    table.pair("time left", time_left(record, Timestamp::now()));
    table.pair("requested", docs(&record.documents_requested));
    table.pair("consented", docs(&record.documents_consented));
    if let CreateState::Failed(m) | CreateState::OutcomeUnknown(m) = &record.create_state {
        table.pair("create", m.clone());
    }
    if let Some(error) = &record.last_error {
        table.pair("last error", error.clone());
    }
    if let Some(details) = details {
        for (k, v) in details.masked() {
            table.pair(k, v);
        }
    }
    // The URL goes on a line of its own so it copies whole, however long.
    if let Some(url) = record.url.as_deref().filter(|u| !u.is_empty()) {
        table.trailer("url", url.to_string());
    }
    table.render()
}

pub fn sessions_human(records: &[SessionRecord]) -> String {
    if records.is_empty() {
        return "no sessions (create one with `payops digilocker create --provider cashfree`)"
            .into();
    }
    sessions_table(records, Timestamp::now()).render()
}

fn sessions_table(records: &[SessionRecord], now: Timestamp) -> Table {
    let mut table = Table::new()
        .column("id", Fit::Whole)
        .column("provider", Fit::Optional(2))
        .column("status", Fit::Whole)
        .column("reference", Fit::Whole)
        .column("time left", Fit::Optional(1))
        .column("created", Fit::Optional(3))
        .column("label", Fit::Words);
    for r in records {
        table.row(vec![
            r.id.to_string(),
            r.provider.as_str().to_string(),
            r.status_label(),
            r.reference.clone().unwrap_or_default(),
            time_left(r, now),
            local_time(r.created_at),
            r.label.clone().unwrap_or_default(),
        ]);
    }
    table
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
    let mut table = Table::pairs();
    table.pair("link", report.link_id.to_string());
    table.pair("status", report.status.as_str());
    table.pair(
        "amount",
        report.amount.map(format_inr).unwrap_or_else(|| "—".into()),
    );
    for activity in &report.activity {
        table.pair(
            "activity",
            format!(
                "{} {}",
                activity.at.as_deref().unwrap_or(""),
                activity.status
            ),
        );
    }
    table.render()
}

pub fn audit_json(entry: &AuditEntry) -> Value {
    json!({
        "id": entry.id,
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
    let mut table = audit_table(entries).render();
    if super::table::for_people()
        && entries
            .iter()
            .any(|e| e.actor == crate::engine::ops::UNKNOWN_OPERATOR)
    {
        table.push_str(
            "\n\"unknown\": no operator name was set; set [operator] name\n\
             in the config (or PAYOPS_OPERATOR_NAME) to say who sends",
        );
    }
    table
}

fn audit_table(entries: &[AuditEntry]) -> Table {
    let mut table = Table::new()
        .column("at", Fit::Whole)
        .column("link", Fit::Whole)
        .column("outcome", Fit::Whole)
        .column("by", Fit::Whole)
        .column("message", Fit::Words);
    for e in entries {
        table.row(vec![
            local_time(e.at),
            e.link_id.to_string(),
            e.outcome.as_str().to_string(),
            e.actor.clone(),
            e.message.clone(),
        ]);
    }
    table
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
    let mut table = Table::new()
        .column("at", Fit::Whole)
        .column("by", Fit::Optional(1))
        .column("session", Fit::Whole)
        .column("document", Fit::Whole)
        .column("shown", Fit::Whole)
        .column("outcome", Fit::Words);
    for e in entries {
        table.row(vec![
            local_time(e.at),
            e.actor.clone(),
            e.session_id.to_string(),
            e.document.wire().to_string(),
            if e.revealed { "revealed" } else { "masked" }.to_string(),
            e.outcome.clone(),
        ]);
    }
    table.render()
}

pub fn error_json(kind: &str, message: &str, provider_code: Option<&str>) -> Value {
    json!({"error": {"kind": kind, "message": message, "provider_code": provider_code}})
}
