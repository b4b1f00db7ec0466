//! The JSON a script sees, defined once: `payops … --json`, the team API
//! (`payops serve`) and its clients read and write these shapes, so the two
//! cannot drift apart. Field names are a contract (README); money is a
//! decimal string, times RFC 3339.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{
    AuditEntry, BalanceReport, BalanceSnapshot, BalanceSummary, CreateState, DocumentAccess,
    LinkReport, SessionRecord, UserDetails,
};

/// The `event:` name of the event stream's first message and of a
/// resynchronisation.
pub const SNAPSHOT: &str = "snapshot";
/// The `event:` name of a change.
pub const CHANGE: &str = "change";
/// The `event:` name of the server's own state: `{"store": null}` while its
/// store answers, `{"store": "why not"}` while it does not.
pub const SERVER_STATE: &str = "server";
/// What the API tells its callers to do next, where a client (the CLI,
/// the dashboard) says it in its own words: one definition, so a client
/// can always find the API's and replace it.
pub const AGAIN_HINT: &str = "; send {\"again\": true} to send another";

/// Where an unanswered create's row can be checked, as the API says it.
pub fn refresh_hint(id: &str) -> String {
    format!(" (POST /api/v1/sessions/{id}/refresh checks it)")
}

/// A comment line this often keeps proxies from closing an idle stream, and
/// lets a client tell a quiet server from a dead one.
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(10);

/// A balance fetched now, as `balance --json` and `GET /api/v1/balance`
/// give it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BalanceView<'a> {
    /// Always `instantpay`.
    provider: &'static str,
    account: &'a str,
    /// Rupees as a decimal string (`"16.82"`), as are `total` and `lien`.
    available: String,
    total: String,
    lien: String,
    /// `PRODUCTION` or `UAT`, when InstantPay said.
    environment: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    fetched_at: Timestamp,
    /// InstantPay's `ipay_uuid`.
    request_id: Option<&'a str>,
}

pub fn balance_json(report: &BalanceReport) -> Value {
    to_value(&BalanceView {
        provider: "instantpay",
        account: &report.account,
        available: report.available.to_string(),
        total: report.total.to_string(),
        lien: report.lien.to_string(),
        environment: report.environment.as_ref().map(|e| e.label()),
        fetched_at: report.fetched_at,
        request_id: report.request_id.as_deref(),
    })
}

/// One reading on record.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReadingView<'a> {
    #[schema(value_type = String, format = DateTime)]
    at: Timestamp,
    account: &'a str,
    available: String,
    total: String,
    lien: String,
    request_id: Option<&'a str>,
}

impl<'a> ReadingView<'a> {
    fn of(snapshot: &'a BalanceSnapshot) -> ReadingView<'a> {
        ReadingView {
            at: snapshot.at,
            account: &snapshot.account,
            available: snapshot.available.to_string(),
            total: snapshot.total.to_string(),
            lien: snapshot.lien.to_string(),
            request_id: snapshot.request_id.as_deref(),
        }
    }
}

pub fn snapshot_json(snapshot: &BalanceSnapshot) -> Value {
    to_value(&ReadingView::of(snapshot))
}

/// The readings since a time, with their low, high and latest, as
/// `balance --history --json` and `GET /api/v1/balance/history` give them.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HistoryView<'a> {
    #[schema(value_type = String, format = DateTime)]
    since: Timestamp,
    readings: Vec<ReadingView<'a>>,
    lowest: Option<ReadingView<'a>>,
    highest: Option<ReadingView<'a>>,
    latest: Option<ReadingView<'a>>,
}

pub fn balance_history_json(since: Timestamp, snapshots: &[BalanceSnapshot]) -> Value {
    let summary = BalanceSummary::of(snapshots);
    to_value(&HistoryView {
        since,
        readings: snapshots.iter().map(ReadingView::of).collect(),
        lowest: summary.map(|s| ReadingView::of(s.lowest)),
        highest: summary.map(|s| ReadingView::of(s.highest)),
        latest: summary.map(|s| ReadingView::of(s.latest)),
    })
}

/// A view as JSON: plain fields of strings, numbers and maps with string
/// keys always convert.
pub fn to_value(view: &impl serde::Serialize) -> Value {
    serde_json::to_value(view).unwrap_or_default()
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
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionView<'a> {
    #[schema(value_type = String)]
    id: &'a super::SessionId,
    provider: &'static str,
    #[schema(value_type = String)]
    external_ref: &'a super::ExternalRef,
    reference: Option<&'a str>,
    status: String,
    provider_status: &'a str,
    url: Option<&'a str>,
    flow: Option<&'static str>,
    redirect_url: Option<&'a str>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    last_polled_at: Option<Timestamp>,
    #[schema(value_type = Vec<String>)]
    documents_requested: &'a [super::DocumentType],
    #[schema(value_type = Vec<String>)]
    documents_consented: &'a [super::DocumentType],
    create_state: &'static str,
    create_message: Option<&'a str>,
    tracking: bool,
    last_error: Option<&'a str>,
    label: Option<&'a str>,
    created_by: Option<&'a str>,
    /// How the current status was learned (create, poll, webhook,
    /// refresh), and when the session took it; null for sessions from
    /// before payops kept them.
    status_learned: Option<super::Learned>,
    #[schema(value_type = Option<String>, format = DateTime)]
    status_at: Option<Timestamp>,
    /// Masked; only once authenticated and only when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
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
            status_learned: record.status_learned,
            status_at: record.status_at,
            user_details: details.map(|d| d.masked().into_iter().collect()),
        }
    }
}

pub fn session_json(record: &SessionRecord, details: Option<&UserDetails>) -> Value {
    to_value(&SessionView::of(record, details))
}

/// One status change of a session, as `GET /api/v1/sessions/{id}/events`
/// and `digilocker status --json` give it.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EventView {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// payops' word (`AUTHENTICATED`, `UNKNOWN(raw)`).
    pub status: String,
    /// The provider's own word.
    pub provider_status: String,
    /// create, poll, webhook or refresh; null for history kept before
    /// payops said.
    pub learned: Option<super::Learned>,
}

impl EventView {
    pub fn of(event: &super::StatusEvent) -> EventView {
        EventView {
            at: event.at,
            status: event.status.as_str(),
            provider_status: event.provider_status.clone(),
            learned: event.learned,
        }
    }
}

pub fn events_json(events: &[super::StatusEvent]) -> Value {
    to_value(&events.iter().map(EventView::of).collect::<Vec<_>>())
}

/// A payout link as `link --json` and the team API give it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LinkView<'a> {
    #[schema(value_type = String)]
    link_id: &'a super::LinkId,
    /// `ISSUED`, `CLAIMED`, `EXPIRED`, … as InstantPay says.
    status: String,
    /// Rupees with paise (`"1500.50"`); the provider sends a JSON number.
    amount: Option<String>,
    #[schema(value_type = Vec<Object>)]
    activity: &'a [super::LinkActivity],
    request_id: Option<&'a str>,
}

impl<'a> LinkView<'a> {
    pub fn of(report: &'a LinkReport) -> LinkView<'a> {
        LinkView {
            link_id: &report.link_id,
            status: report.status.as_str(),
            amount: report.amount.map(|a| format!("{:.2}", a.round_dp(2))),
            activity: &report.activity,
            request_id: report.request_id.as_deref(),
        }
    }
}

pub fn link_json(report: &LinkReport) -> Value {
    to_value(&LinkView::of(report))
}

/// A row of the notify audit, as `audit --json` and the team API give it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AuditView<'a> {
    id: i64,
    #[schema(value_type = String)]
    link_id: &'a super::LinkId,
    /// `sent`, `declined`, `failed` or `unknown`.
    outcome: &'static str,
    message: &'a str,
    provider_code: Option<&'a str>,
    request_id: Option<&'a str>,
    #[schema(value_type = String, format = DateTime)]
    at: Timestamp,
    /// Who sent it.
    actor: &'a str,
    /// False while the request is in flight.
    completed: bool,
}

impl<'a> AuditView<'a> {
    pub fn of(entry: &'a AuditEntry) -> AuditView<'a> {
        AuditView {
            id: entry.id,
            link_id: &entry.link_id,
            outcome: entry.outcome.as_str(),
            message: &entry.message,
            provider_code: entry.provider_code.as_deref(),
            request_id: entry.request_id.as_deref(),
            at: entry.at,
            actor: &entry.actor,
            completed: entry.completed,
        }
    }
}

pub fn audit_json(entry: &AuditEntry) -> Value {
    to_value(&AuditView::of(entry))
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

/// A refusal or failure: `{"error": {kind, message, provider_code}}`.
pub fn error_json(kind: &str, message: &str, provider_code: Option<&str>) -> Value {
    json!({"error": {"kind": kind, "message": message, "provider_code": provider_code}})
}

/// The views above read back: what a client of the team API (the CLI)
/// turns the server's JSON into, so it prints with the same code as solo
/// mode does. Each reader is the inverse of its writer; a field missing or
/// of the wrong kind is named.
pub mod read {
    use std::str::FromStr;

    use jiff::Timestamp;
    use rust_decimal::Decimal;
    use serde_json::Value;

    use crate::domain::{
        AuditEntry, BalanceReport, BalanceSnapshot, CreateState, ExternalRef, LinkReport, Provider,
        ProviderEnvironment, SessionId, SessionRecord, SessionStatus, UserDetails, UserFlow,
    };

    /// A field of the answer that is missing or not what the contract says.
    #[derive(Debug, Clone, PartialEq, thiserror::Error)]
    #[error("the server's answer could not be read: {field} {problem}")]
    pub struct Unreadable {
        pub field: String,
        pub problem: String,
    }

    fn unreadable(field: &str, problem: impl std::fmt::Display) -> Unreadable {
        Unreadable {
            field: field.to_string(),
            problem: problem.to_string(),
        }
    }

    /// One object's fields, read by name.
    struct Fields<'a>(&'a Value);

    impl Fields<'_> {
        fn text(&self, name: &str) -> Result<String, Unreadable> {
            self.maybe_text(name)?
                .ok_or_else(|| unreadable(name, "is missing"))
        }

        fn maybe_text(&self, name: &str) -> Result<Option<String>, Unreadable> {
            match &self.0[name] {
                Value::Null => Ok(None),
                Value::String(text) => Ok(Some(text.clone())),
                _ => Err(unreadable(name, "is not a string")),
            }
        }

        fn parsed<T: FromStr>(&self, name: &str) -> Result<T, Unreadable>
        where
            T::Err: std::fmt::Display,
        {
            self.text(name)?
                .parse()
                .map_err(|e| unreadable(name, format_args!("is not valid: {e}")))
        }

        fn maybe_time(&self, name: &str) -> Result<Option<Timestamp>, Unreadable> {
            self.maybe_text(name)?
                .map(|text| {
                    text.parse()
                        .map_err(|e| unreadable(name, format_args!("is not a time: {e}")))
                })
                .transpose()
        }

        fn serde<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, Unreadable> {
            derived(&self.0[name], name)
        }
    }

    /// A value that is one of the derived serde forms (`AuditEntry`,
    /// `LinkReport`, `BalanceSnapshot` share their view's field names).
    pub fn derived<T: serde::de::DeserializeOwned>(
        value: &Value,
        what: &str,
    ) -> Result<T, Unreadable> {
        serde_json::from_value(value.clone()).map_err(|e| unreadable(what, e))
    }

    pub fn audit(value: &Value) -> Result<AuditEntry, Unreadable> {
        derived(value, "audit row")
    }

    pub fn link(value: &Value) -> Result<LinkReport, Unreadable> {
        derived(value, "link")
    }

    /// `GET /balance/history`: since when, and the readings.
    pub fn balance_history(value: &Value) -> Result<(Timestamp, Vec<BalanceSnapshot>), Unreadable> {
        let fields = Fields(value);
        let since = fields
            .maybe_time("since")?
            .ok_or_else(|| unreadable("since", "is missing"))?;
        Ok((since, fields.serde("readings")?))
    }

    pub fn balance(value: &Value) -> Result<BalanceReport, Unreadable> {
        let fields = Fields(value);
        Ok(BalanceReport {
            account: fields.text("account")?,
            available: fields.parsed::<Decimal>("available")?,
            total: fields.parsed::<Decimal>("total")?,
            lien: fields.parsed::<Decimal>("lien")?,
            environment: fields
                .maybe_text("environment")?
                .map(|label| ProviderEnvironment::from_provider(&label)),
            fetched_at: fields
                .maybe_time("fetched_at")?
                .ok_or_else(|| unreadable("fetched_at", "is missing"))?,
            request_id: fields.maybe_text("request_id")?,
        })
    }

    /// A session and its masked user details (as `UserDetails::masked`
    /// orders them).
    pub fn session(value: &Value) -> Result<(SessionRecord, Vec<(String, String)>), Unreadable> {
        let fields = Fields(value);
        let time = |name: &str| {
            fields
                .maybe_time(name)?
                .ok_or_else(|| unreadable(name, "is missing"))
        };
        let message =
            || Ok::<_, Unreadable>(fields.maybe_text("create_message")?.unwrap_or_default());
        let create_state = match fields.text("create_state")?.as_str() {
            "sending" => CreateState::Sending,
            "created" => CreateState::Created,
            "failed" => CreateState::Failed(message()?),
            "outcome_unknown" => CreateState::OutcomeUnknown(message()?),
            other => {
                return Err(unreadable(
                    "create_state",
                    format_args!("'{other}' is not one of its words"),
                ));
            }
        };
        // Until the create completes, the word is where the create stands.
        let status = match create_state {
            CreateState::Created => SessionStatus::from_normalised(&fields.text("status")?),
            _ => SessionStatus::Pending,
        };
        let flow = match fields.maybe_text("flow")? {
            Some(word) => Some(
                UserFlow::parse(&word)
                    .ok_or_else(|| unreadable("flow", format_args!("'{word}' is not a flow")))?,
            ),
            None => None,
        };
        let record = SessionRecord {
            id: SessionId::new_unchecked(fields.text("id")?),
            provider: fields.parsed::<Provider>("provider")?,
            external_ref: ExternalRef::new_unchecked(fields.text("external_ref")?),
            reference: fields.maybe_text("reference")?,
            status,
            provider_status: fields.text("provider_status")?,
            url: fields.maybe_text("url")?,
            flow,
            redirect_url: fields.maybe_text("redirect_url")?,
            documents_requested: fields.serde("documents_requested")?,
            documents_consented: fields.serde("documents_consented")?,
            create_state,
            tracking: fields.serde("tracking")?,
            created_at: time("created_at")?,
            updated_at: time("updated_at")?,
            expires_at: time("expires_at")?,
            last_polled_at: fields.maybe_time("last_polled_at")?,
            last_error: fields.maybe_text("last_error")?,
            label: fields.maybe_text("label")?,
            created_by: fields.maybe_text("created_by")?,
            status_learned: fields.serde("status_learned")?,
            status_at: fields.maybe_time("status_at")?,
        };
        let mut details: Vec<(String, String)> = match &value["user_details"] {
            Value::Object(map) => map
                .iter()
                .map(|(key, shown)| (key.clone(), shown.as_str().unwrap_or_default().to_string()))
                .collect(),
            _ => Vec::new(),
        };
        details.sort_by_key(|(key, _)| {
            UserDetails::FIELDS
                .iter()
                .position(|field| field == key)
                .unwrap_or(usize::MAX)
        });
        Ok((record, details))
    }
}
