//! The local SQLite store (WAL): tracked DigiLocker sessions with their status
//! history, the payout-link notify audit, and balance snapshots.
//!
//! Crash safety: rows for a session create or a notify are written *before*
//! the request is sent and completed after, so a crash mid-request leaves a
//! visible "outcome unknown" record. Personal data (`user_details`) is never stored.

use std::path::Path;

use jiff::Timestamp;
use rust_decimal::Decimal;

use crate::domain::{
    BalanceReport, CreatedSession, DocumentType, ExternalRef, LinkId, Provider, SessionId,
    SessionStatus, UserFlow,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {message}")]
    Open { path: String, message: String },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database holds an unreadable value in {column}: {value:?}")]
    Corrupt { column: String, value: String },
    #[error("no tracked session {0}")]
    NoSuchSession(String),
}

/// Where a session's create request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateState {
    /// Row written, request sent, no answer recorded yet. Seen after a crash,
    /// this is "outcome unknown": the provider may have created the session.
    Sending,
    /// The provider answered with a reference and URL.
    Created,
    /// The provider refused (or we never reached it); the message says why.
    Failed(String),
    /// The request may have been applied; we do not know.
    OutcomeUnknown(String),
}

/// A new session, written before the create request is sent.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub provider: Provider,
    pub external_ref: ExternalRef,
    pub flow: Option<UserFlow>,
    pub documents_requested: Vec<DocumentType>,
    pub redirect_url: Option<String>,
    pub created_at: Timestamp,
}

/// A tracked DigiLocker session as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub provider: Provider,
    pub external_ref: ExternalRef,
    /// The provider's reference, once known.
    pub reference: Option<String>,
    pub status: SessionStatus,
    /// The provider's raw status word ("" until the first answer).
    pub provider_status: String,
    pub url: Option<String>,
    pub flow: Option<UserFlow>,
    pub redirect_url: Option<String>,
    pub documents_requested: Vec<DocumentType>,
    pub documents_consented: Vec<DocumentType>,
    pub create_state: CreateState,
    /// Whether the engine keeps polling it (false after "stop tracking").
    pub tracking: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// created_at + 10 minutes: the DigiLocker URL's validity.
    pub expires_at: Timestamp,
    pub last_polled_at: Option<Timestamp>,
    /// The last error met while polling, shown beside the row.
    pub last_error: Option<String>,
}

/// One status change of a session, for the detail view's history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEvent {
    pub at: Timestamp,
    pub status: SessionStatus,
    pub provider_status: String,
}

/// How a notify ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyOutcome {
    Sent,
    Declined,
    /// In flight, crashed mid-request, or timed out after sending.
    Unknown,
}

impl NotifyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyOutcome::Sent => "sent",
            NotifyOutcome::Declined => "declined",
            NotifyOutcome::Unknown => "unknown",
        }
    }
}

/// A row of the notify audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub link_id: LinkId,
    /// Who sent it (the OS user name).
    pub actor: String,
    pub at: Timestamp,
    pub outcome: NotifyOutcome,
    /// The provider's message (masked recipient) or the error.
    pub message: String,
    pub provider_code: Option<String>,
    pub request_id: Option<String>,
    /// False while the request is in flight (or was when payops stopped).
    pub completed: bool,
}

/// One stored balance reading, for the sparkline.
#[derive(Debug, Clone, PartialEq)]
pub struct BalanceSnapshot {
    pub at: Timestamp,
    pub account: String,
    pub available: Decimal,
    pub total: Decimal,
    pub lien: Decimal,
    pub request_id: Option<String>,
}

pub struct Store {
    conn: rusqlite::Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, in WAL mode, and
    /// applies pending schema migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let _ = path;
        todo!()
    }

    // ---- sessions ----

    /// Writes a session row in state `Sending` before its create request leaves.
    pub fn begin_session(&self, new: &NewSession) -> Result<SessionRecord, StoreError> {
        let _ = new;
        todo!()
    }

    /// Records the provider's answer to a create: reference, url, status; `Created`.
    pub fn complete_session(
        &self,
        id: &SessionId,
        created: &CreatedSession,
        at: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let _ = (id, created, at);
        todo!()
    }

    /// Records that a create failed (`Failed`) or may have applied (`OutcomeUnknown`).
    pub fn fail_session(
        &self,
        id: &SessionId,
        state: CreateState,
        at: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let _ = (id, state, at);
        todo!()
    }

    /// Starts tracking a session created elsewhere, known by its provider reference.
    /// Returns the existing record if that reference is already tracked.
    pub fn track_existing(
        &self,
        provider: Provider,
        reference: &str,
        at: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let _ = (provider, reference, at);
        todo!()
    }

    /// Records a poll's answer. Appends to the status history when the status
    /// (or raw word) changed. Returns the updated record and the previous status
    /// if it changed.
    pub fn record_poll(
        &self,
        id: &SessionId,
        status: &SessionStatus,
        provider_status: &str,
        documents_consented: &[DocumentType],
        at: Timestamp,
    ) -> Result<(SessionRecord, Option<SessionStatus>), StoreError> {
        let _ = (id, status, provider_status, documents_consented, at);
        todo!()
    }

    /// Records a failed poll (keeps the last good status).
    pub fn record_poll_error(
        &self,
        id: &SessionId,
        message: &str,
        at: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let _ = (id, message, at);
        todo!()
    }

    pub fn set_tracking(&self, id: &SessionId, tracking: bool) -> Result<(), StoreError> {
        let _ = (id, tracking);
        todo!()
    }

    /// Finds a session by our id, the provider reference or our external ref.
    pub fn find_session(&self, needle: &str) -> Result<Option<SessionRecord>, StoreError> {
        let _ = needle;
        todo!()
    }

    /// Sessions newest first; with `include_final == false`, only those not final
    /// (pending, unknown, or whose create did not complete).
    pub fn list_sessions(&self, include_final: bool) -> Result<Vec<SessionRecord>, StoreError> {
        let _ = include_final;
        todo!()
    }

    pub fn session_history(&self, id: &SessionId) -> Result<Vec<StatusEvent>, StoreError> {
        let _ = id;
        todo!()
    }

    // ---- notify audit ----

    /// Writes an audit row (outcome unknown, not completed) before the notify is sent.
    pub fn begin_notify(
        &self,
        link: &LinkId,
        actor: &str,
        at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        let _ = (link, actor, at);
        todo!()
    }

    /// Completes an audit row with the outcome.
    pub fn finish_notify(
        &self,
        audit_id: i64,
        outcome: NotifyOutcome,
        message: &str,
        provider_code: Option<&str>,
        request_id: Option<&str>,
        at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        let _ = (audit_id, outcome, message, provider_code, request_id, at);
        todo!()
    }

    /// The audit trail, newest first.
    pub fn list_audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let _ = limit;
        todo!()
    }

    /// The newest notify for a link at or after `since` (any outcome).
    pub fn last_notify(
        &self,
        link: &LinkId,
        since: Timestamp,
    ) -> Result<Option<AuditEntry>, StoreError> {
        let _ = (link, since);
        todo!()
    }

    // ---- balance ----

    pub fn insert_balance(&self, report: &BalanceReport) -> Result<(), StoreError> {
        let _ = report;
        todo!()
    }

    /// The newest `limit` snapshots, oldest first (ready for a sparkline).
    pub fn balance_history(&self, limit: usize) -> Result<Vec<BalanceSnapshot>, StoreError> {
        let _ = limit;
        todo!()
    }
}
