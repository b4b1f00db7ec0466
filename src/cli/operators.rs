//! `payops whoami` and `payops activity`: who the server takes you for,
//! and what everyone changed through it. Both read the same JSON a script
//! gets from `GET /api/v1/whoami` and `GET /api/v1/activity`.

use jiff::Timestamp;
use serde_json::json;

use super::args::ActivityArgs;
use super::table::{Fit, Table};
use super::{Context, Failure, Output};
use crate::client::ServerClient;
use crate::domain::local_time;
use crate::store::{Activity, ActivityFilter};

/// Without a server there is no token and no role: say whose name this
/// machine's changes carry, and how to reach a server.
pub fn whoami_solo(ctx: &Context) -> Output {
    let operator = crate::engine::actor::operator_name(ctx.config.operator.as_deref());
    Output::ok(
        json!({"mode": "solo", "server": null, "operator": operator, "role": null,
               "expires_at": null}),
        format!(
            "solo mode: no server configured (PAYOPS_SERVER_URL or [server] url); \
             changes made here carry the name {operator}"
        ),
    )
}

pub async fn whoami_remote(client: &ServerClient) -> Result<Output, Failure> {
    let operator = client.whoami().await?;
    let mut table = Table::pairs();
    table.pair("server", client.shown());
    table.pair("operator", operator.name.as_str());
    table.pair("role", operator.role.as_str());
    table.pair(
        "token expires",
        match operator.expires_at {
            Some(at) => local_time(at),
            None => "never".into(),
        },
    );
    Ok(Output::ok(
        json!({"mode": "team", "server": client.shown(), "operator": operator.name,
               "role": operator.role, "expires_at": operator.expires_at}),
        table.render(),
    ))
}

/// The store's own log: on the server's host, the token changes made there
/// (and, on the server's store, everything).
pub fn activity_solo(ctx: &Context, args: &ActivityArgs) -> Result<Output, Failure> {
    check_form(args)?;
    let filter = ActivityFilter {
        operator: args.operator.clone(),
        action: args.action.clone(),
        since: args
            .since
            .map(|span| Timestamp::now().checked_sub(span).unwrap_or(Timestamp::MIN)),
        limit: usize::from(args.limit),
    };
    let rows = ctx.services.store().list_activity(&filter)?;
    shown(&rows, args)
}

pub async fn activity_remote(
    client: &ServerClient,
    args: &ActivityArgs,
) -> Result<Output, Failure> {
    check_form(args)?;
    let mut query = vec![("limit", args.limit.to_string())];
    query.extend(args.operator.clone().map(|o| ("operator", o)));
    query.extend(args.action.clone().map(|a| ("action", a)));
    query.extend(args.since.map(|s| ("since", format!("{}s", s.as_secs()))));
    let value = client
        .call(reqwest::Method::GET, &["activity"], &query, None)
        .await?;
    let rows: Vec<Activity> = serde_json::from_value(value)
        .map_err(|e| Failure::usage(format!("the server's activity log could not be read: {e}")))?;
    shown(&rows, args)
}

fn check_form(args: &ActivityArgs) -> Result<(), Failure> {
    if args.csv && args.reach.json {
        return Err(Failure::usage("--csv and --json: choose one"));
    }
    Ok(())
}

fn shown(rows: &[Activity], args: &ActivityArgs) -> Result<Output, Failure> {
    let json = serde_json::to_value(rows)
        .map_err(|e| Failure::usage(format!("the activity log could not be written: {e}")))?;
    let human = if args.csv {
        csv_of(rows).map_err(|e| Failure::usage(format!("--csv: cannot write: {e}")))?
    } else {
        table_of(rows)
    };
    Ok(Output::ok(json, human))
}

fn table_of(rows: &[Activity]) -> String {
    if rows.is_empty() {
        return "no activity recorded (that matches)".into();
    }
    let mut table = Table::new()
        .column("at", Fit::Whole)
        .column("operator", Fit::Whole)
        .column("action", Fit::Whole)
        .column("target", Fit::Optional(2))
        .column("outcome", Fit::Whole)
        .column("detail", Fit::Words)
        .column("request", Fit::Optional(1));
    for row in rows {
        let outcome = match &row.reason {
            Some(reason) => format!("{}: {reason}", row.outcome.as_str()),
            None => row.outcome.as_str().to_string(),
        };
        table.row(vec![
            local_time(row.at),
            row.operator.clone(),
            row.action.clone(),
            row.target.clone().unwrap_or_default(),
            outcome,
            row.detail.clone().unwrap_or_default(),
            row.request_id.clone().unwrap_or_default(),
        ]);
    }
    table.render()
}

/// A cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a
/// tab or a return first), made plain text with a leading `'`: targets
/// and reasons can hold what a caller sent.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// One row a change, every field, times in UTC (RFC 3339) as the API gives
/// them: for an auditor's spreadsheet.
fn csv_of(rows: &[Activity]) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "at",
            "operator",
            "action",
            "target",
            "detail",
            "outcome",
            "reason",
            "request_id",
        ])
        .map_err(|e| e.to_string())?;
    for row in rows {
        let cells = [
            row.at.to_string(),
            row.operator.clone(),
            row.action.clone(),
            row.target.clone().unwrap_or_default(),
            row.detail.clone().unwrap_or_default(),
            row.outcome.as_str().to_string(),
            row.reason.clone().unwrap_or_default(),
            row.request_id.clone().unwrap_or_default(),
        ];
        writer
            .write_record(cells.iter().map(|cell| inert(cell).into_owned()))
            .map_err(|e| e.to_string())?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}
