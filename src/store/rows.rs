//! Rows as the database returns them, and the checks that turn them into
//! the domain's records (or find them corrupt): the same for both backends.

use std::borrow::Cow;
use std::str::FromStr;

use jiff::Timestamp;
use rust_decimal::Decimal;

use super::db::{Columns, Row};
use super::{StoreError, TRACKED_REF_PREFIX, TokenInfo};
use crate::domain::{
    AuditEntry, CreateState, DocumentType, ExternalRef, Learned, LinkId, NotifyOutcome, Provider,
    SessionId, SessionRecord, SessionStatus, UserFlow,
};

pub fn placeholder_ref(provider: Provider, reference: &str) -> String {
    format!("{TRACKED_REF_PREFIX}{}:{reference}", provider.as_str())
}

pub fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Fixed nine-digit fractions so timestamps compare correctly as text
/// (`…:00Z` would otherwise sort after `…:00.5Z`).
pub fn ts_text(at: Timestamp) -> String {
    format!("{at:.9}")
}

pub fn parse_ts(column: &str, text: &str) -> Result<Timestamp, StoreError> {
    text.parse().map_err(|_| corrupt(column, text))
}

pub fn parse_opt_ts(
    column: &str,
    text: Option<impl AsRef<str>>,
) -> Result<Option<Timestamp>, StoreError> {
    text.map(|t| parse_ts(column, t.as_ref())).transpose()
}

pub fn parse_decimal(column: &str, text: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(text).map_err(|_| corrupt(column, text))
}

pub fn parse_provider(column: &str, word: &str) -> Result<Provider, StoreError> {
    match word {
        "instantpay" => Ok(Provider::InstantPay),
        "cashfree" => Ok(Provider::Cashfree),
        other => Err(corrupt(column, other)),
    }
}

pub fn parse_status(word: &str) -> Result<SessionStatus, StoreError> {
    if word.trim().is_empty() {
        return Err(corrupt("sessions.status", word));
    }
    Ok(SessionStatus::from_normalised(word))
}

pub fn corrupt(column: &str, value: &str) -> StoreError {
    StoreError::Corrupt {
        column: column.into(),
        value: value.into(),
    }
}

pub fn flow_word(flow: UserFlow) -> &'static str {
    flow.cashfree_word()
}

pub fn documents_text(documents: &[DocumentType]) -> String {
    documents
        .iter()
        .map(|d| d.wire())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn parse_documents(column: &str, text: &str) -> Result<Vec<DocumentType>, StoreError> {
    text.split(',')
        .filter(|w| !w.is_empty())
        .map(|w| DocumentType::parse(w).ok_or_else(|| corrupt(column, text)))
        .collect()
}

pub fn create_state_parts(state: &CreateState) -> (&'static str, Option<&str>) {
    match state {
        CreateState::Sending => ("sending", None),
        CreateState::Created => ("created", None),
        CreateState::Failed(message) => ("failed", Some(message)),
        CreateState::OutcomeUnknown(message) => ("outcome_unknown", Some(message)),
    }
}

pub fn parse_create_state(word: &str, message: Option<String>) -> Result<CreateState, StoreError> {
    let message = message.unwrap_or_default();
    match word {
        "sending" => Ok(CreateState::Sending),
        "created" => Ok(CreateState::Created),
        "failed" => Ok(CreateState::Failed(message)),
        "outcome_unknown" => Ok(CreateState::OutcomeUnknown(message)),
        other => Err(corrupt("sessions.create_state", other)),
    }
}

/// A session row as the database lends it, before the checks that may find
/// it corrupt. Columns that are only parsed are never copied.
pub struct RawSession<'a> {
    id: Cow<'a, str>,
    provider: Cow<'a, str>,
    external_ref: Cow<'a, str>,
    reference: Option<Cow<'a, str>>,
    status: Cow<'a, str>,
    provider_status: Cow<'a, str>,
    url: Option<Cow<'a, str>>,
    flow: Option<Cow<'a, str>>,
    redirect_url: Option<Cow<'a, str>>,
    documents_requested: Cow<'a, str>,
    documents_consented: Cow<'a, str>,
    create_state: Cow<'a, str>,
    create_message: Option<Cow<'a, str>>,
    tracking: bool,
    created_at: Cow<'a, str>,
    updated_at: Cow<'a, str>,
    expires_at: Cow<'a, str>,
    last_polled_at: Option<Cow<'a, str>>,
    last_error: Option<Cow<'a, str>>,
    label: Option<Cow<'a, str>>,
    created_by: Option<Cow<'a, str>>,
    status_learned: Option<Cow<'a, str>>,
    status_at: Option<Cow<'a, str>>,
}

impl<'a> RawSession<'a> {
    pub fn from_row(row: &mut (impl Columns<'a> + ?Sized)) -> Result<RawSession<'a>, StoreError> {
        Ok(RawSession {
            id: row.text(0)?,
            provider: row.text(1)?,
            external_ref: row.text(2)?,
            reference: row.opt_text(3)?,
            status: row.text(4)?,
            provider_status: row.text(5)?,
            url: row.opt_text(6)?,
            flow: row.opt_text(7)?,
            redirect_url: row.opt_text(8)?,
            documents_requested: row.text(9)?,
            documents_consented: row.text(10)?,
            create_state: row.text(11)?,
            create_message: row.opt_text(12)?,
            tracking: row.flag(13)?,
            created_at: row.text(14)?,
            updated_at: row.text(15)?,
            expires_at: row.text(16)?,
            last_polled_at: row.opt_text(17)?,
            last_error: row.opt_text(18)?,
            label: row.opt_text(19)?,
            created_by: row.opt_text(20)?,
            status_learned: row.opt_text(21)?,
            status_at: row.opt_text(22)?,
        })
    }

    pub fn into_record(self) -> Result<SessionRecord, StoreError> {
        let provider = parse_provider("sessions.provider", &self.provider)?;
        let flow = self
            .flow
            .map(|w| UserFlow::parse(&w).ok_or_else(|| corrupt("sessions.flow", &w)))
            .transpose()?;
        Ok(SessionRecord {
            id: SessionId::new_unchecked(self.id.into_owned()),
            provider,
            external_ref: ExternalRef::new_unchecked(self.external_ref.into_owned()),
            reference: self.reference.map(Cow::into_owned),
            status: parse_status(&self.status)?,
            provider_status: self.provider_status.into_owned(),
            url: self.url.map(Cow::into_owned),
            flow,
            redirect_url: self.redirect_url.map(Cow::into_owned),
            documents_requested: parse_documents(
                "sessions.documents_requested",
                &self.documents_requested,
            )?,
            documents_consented: parse_documents(
                "sessions.documents_consented",
                &self.documents_consented,
            )?,
            create_state: parse_create_state(
                &self.create_state,
                self.create_message.map(Cow::into_owned),
            )?,
            tracking: self.tracking,
            created_at: parse_ts("sessions.created_at", &self.created_at)?,
            updated_at: parse_ts("sessions.updated_at", &self.updated_at)?,
            expires_at: parse_ts("sessions.expires_at", &self.expires_at)?,
            last_polled_at: parse_opt_ts("sessions.last_polled_at", self.last_polled_at)?,
            last_error: self.last_error.map(Cow::into_owned),
            label: self.label.map(Cow::into_owned),
            created_by: self.created_by.map(Cow::into_owned),
            status_learned: self.status_learned.as_deref().and_then(Learned::parse),
            status_at: parse_opt_ts("sessions.status_at", self.status_at)?,
        })
    }
}

/// An audit row as the database returns it.
pub struct RawAudit {
    id: i64,
    link_id: String,
    actor: String,
    at: String,
    outcome: String,
    message: String,
    provider_code: Option<String>,
    request_id: Option<String>,
    completed: bool,
}

impl RawAudit {
    pub fn from_row(mut row: Row) -> Result<RawAudit, StoreError> {
        Ok(RawAudit {
            id: row.int(0)?,
            link_id: row.text(1)?.into_owned(),
            actor: row.text(2)?.into_owned(),
            at: row.text(3)?.into_owned(),
            outcome: row.text(4)?.into_owned(),
            message: row.text(5)?.into_owned(),
            provider_code: row.opt_text(6)?.map(Cow::into_owned),
            request_id: row.opt_text(7)?.map(Cow::into_owned),
            completed: row.flag(8)?,
        })
    }

    pub fn into_entry(self) -> Result<AuditEntry, StoreError> {
        let outcome = match self.outcome.as_str() {
            "sent" => NotifyOutcome::Sent,
            "declined" => NotifyOutcome::Declined,
            "failed" => NotifyOutcome::Failed,
            "unknown" => NotifyOutcome::Unknown,
            other => return Err(corrupt("notify_audit.outcome", other)),
        };
        Ok(AuditEntry {
            id: self.id,
            link_id: LinkId::new_unchecked(self.link_id),
            actor: self.actor,
            at: parse_ts("notify_audit.at", &self.at)?,
            outcome,
            message: self.message,
            provider_code: self.provider_code,
            request_id: self.request_id,
            completed: self.completed,
        })
    }
}

/// A token row as the database returns it.
pub struct RawToken {
    name: String,
    role: String,
    created_at: String,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
    expires_at: Option<String>,
}

impl RawToken {
    pub fn from_row(mut row: Row) -> Result<RawToken, StoreError> {
        Ok(RawToken {
            name: row.text(0)?.into_owned(),
            role: row.text(1)?.into_owned(),
            created_at: row.text(2)?.into_owned(),
            revoked_at: row.opt_text(3)?.map(Cow::into_owned),
            last_used_at: row.opt_text(4)?.map(Cow::into_owned),
            expires_at: row.opt_text(5)?.map(Cow::into_owned),
        })
    }

    pub fn into_info(self) -> Result<TokenInfo, StoreError> {
        Ok(TokenInfo {
            role: self
                .role
                .parse()
                .map_err(|_| corrupt("api_tokens.role", &self.role))?,
            name: self.name,
            created_at: parse_ts("api_tokens.created_at", &self.created_at)?,
            revoked_at: parse_opt_ts("api_tokens.revoked_at", self.revoked_at)?,
            last_used_at: parse_opt_ts("api_tokens.last_used_at", self.last_used_at)?,
            expires_at: parse_opt_ts("api_tokens.expires_at", self.expires_at)?,
        })
    }
}
