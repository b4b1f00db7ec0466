//! What the CLI prints for people: tidy tables. What it prints for scripts
//! (`--json`) is `domain::wire`, the same JSON the team API answers.

use jiff::Timestamp;
use serde_json::Value;

use crate::domain::{
    AuditEntry, BalanceReport, BalanceSnapshot, BalanceSummary, CreateState, DocumentAccess,
    LinkReport, SessionRecord, UserDetails, format_inr, local_time, mask_all_but_last,
};

use super::table::{Fit, Table};

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
    balance_history_for(since, snapshots, Table::width())
}

/// `balance_history_human` for a terminal `width` wide (`None`: a pipe).
fn balance_history_for(
    since: Timestamp,
    snapshots: &[BalanceSnapshot],
    width: Option<usize>,
) -> String {
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
        .figures_if_room("total", 1)
        .figures_if_room("lien", 2);
    for s in snapshots {
        table.row(vec![
            local_time(s.at),
            format_inr(s.available),
            format_inr(s.total),
            format_inr(s.lien),
        ]);
    }
    let Some(width) = width else {
        // Scripts get the rows alone; --json has the summary.
        return table.render_for(None);
    };
    let summary = format!(
        "{} since {}\nlowest  {}\nhighest {}\nlatest  {}",
        match snapshots.len() {
            1 => "1 reading".to_string(),
            n => format!("{n} readings"),
        },
        local_time(since),
        reading(summary.lowest),
        reading(summary.highest),
        reading(summary.latest),
    );
    let summary = summary
        .lines()
        .flat_map(|line| textwrap::wrap(line, width))
        .collect::<Vec<_>>()
        .join("\n");
    format!("{}\n{summary}", table.render_for(Some(width)))
}

fn time_left(record: &SessionRecord, now: Timestamp) -> String {
    if !record.is_live() {
        return "—".into();
    }
    let left = record.expires_at.duration_since(now).as_secs();
    if left <= 0 {
        // Still PENDING past its window: nobody has heard the provider say
        // EXPIRED (a poll, a webhook), so it is not said as fact.
        "expired, never confirmed".into()
    } else {
        format!("{}:{:02}", left / 60, left % 60)
    }
}

/// A session as `key  value` lines, solo or through a server: `masked`
/// are its user details as every view shows them (`UserDetails::masked`,
/// or the API's `user_details`, in `UserDetails::FIELDS` order).
/// What `session_human` shows of `details`.
pub fn masked(details: Option<&UserDetails>) -> Vec<(&'static str, String)> {
    details.map(UserDetails::masked).unwrap_or_default()
}

pub fn session_human<K: AsRef<str>>(record: &SessionRecord, masked: &[(K, String)]) -> String {
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
    for (key, shown) in masked {
        table.pair(key.as_ref(), shown.clone());
    }
    // The URL goes on a line of its own so it copies whole, however long.
    // Only while it leads anywhere: an expired or denied link is spent.
    if let Some(url) = record.offered_url() {
        table.trailer("url", url.to_string());
    }
    table.render()
}

/// The dashboard's advice for a create nobody can ask about (InstantPay's
/// status needs the reference its unanswered create never gave).
pub fn unresolvable_advice(record: &SessionRecord) -> Option<String> {
    (record.provider == crate::domain::Provider::InstantPay
        && matches!(
            record.create_state,
            CreateState::Sending | CreateState::OutcomeUnknown(_)
        ))
    .then(|| crate::words::unresolvable_create(&record.id, "(`payops digilocker create`)"))
}

/// A session's status history, oldest first, and how each was learned:
/// the lines `digilocker status` prints under the session, solo or through
/// a server.
pub fn history_human(events: &[crate::domain::wire::EventView]) -> String {
    let mut table = Table::new()
        .column("when", Fit::Whole)
        .column("status", Fit::Whole)
        .column("provider's word", Fit::Optional(1))
        .column("learned by", Fit::Whole);
    for event in events {
        let learned = event.learned.map_or("—", |l| l.as_str());
        let when = local_time(event.at);
        table.row(vec![
            when,
            event.status.clone(),
            event.provider_status.clone(),
            learned.into(),
        ]);
    }
    table.render()
}

/// A session with its history, as `digilocker status` gives it: the
/// session's JSON with `events` added, and both tables.
pub fn status_output(session: Value, session_text: String, events: Value) -> super::Output {
    let parsed: Vec<crate::domain::wire::EventView> =
        serde_json::from_value(events.clone()).unwrap_or_default();
    let mut json = session;
    if let Some(object) = json.as_object_mut() {
        object.insert("events".into(), events);
    }
    let text = format!("{session_text}\n{}", history_human(&parsed));
    super::Output::ok(json, text)
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
        .column("by", Fit::Optional(4))
        .column("label", Fit::Words);
    for r in records {
        table.row(vec![
            r.id.to_string(),
            r.provider.as_str().to_string(),
            r.status_label(),
            r.reference.clone().unwrap_or_default(),
            time_left(r, now),
            local_time(r.created_at),
            r.created_by.clone().unwrap_or_default(),
            r.label.clone().unwrap_or_default(),
        ]);
    }
    table
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

pub fn audit_human(entries: &[AuditEntry]) -> String {
    if entries.is_empty() {
        return "no notifications sent yet".into();
    }
    let mut table = audit_table(entries).render();
    if super::table::for_people()
        && entries
            .iter()
            .any(|e| e.actor == crate::engine::actor::UNKNOWN_OPERATOR)
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
        .column("by", Fit::Optional(1))
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

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr;

    fn reading(minutes: i64, available: i64) -> BalanceSnapshot {
        BalanceSnapshot {
            at: Timestamp::from_second(1_800_000_000 + minutes * 60).unwrap(),
            account: "9876543210".into(),
            available: rust_decimal::Decimal::new(available, 0),
            total: rust_decimal::Decimal::new(available + 5_000, 0),
            lien: rust_decimal::Decimal::new(5_000, 0),
            request_id: None,
        }
    }

    #[test]
    fn the_balance_history_fits_narrow_terminals() {
        let readings = [reading(0, 25_000), reading(5, 19_193), reading(10, 123_456)];
        let since = Timestamp::from_second(1_799_990_000).unwrap();
        for width in [40, 50, 61, 80] {
            let text = balance_history_for(since, &readings, Some(width));
            let widest = text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0);
            assert!(widest <= width, "{width}: {widest}\n{text}");
            assert!(text.contains("₹19,193.00"), "{width}: {text}");
        }
        // Wide enough: every column.
        let text = balance_history_for(since, &readings, Some(100));
        assert!(text.contains("lien") && text.contains("total"), "{text}");
    }
}
