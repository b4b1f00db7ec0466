//! The records every layer shares: sessions and their history, notify
//! audit entries, document access, balance snapshots. The store reads and
//! writes them; the engine, the CLI and the dashboard pass them around.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{DocumentType, ExternalRef, LinkId, Provider, SessionId, SessionStatus, UserFlow};

/// Where a session's create request stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", content = "message", rename_all = "snake_case")]
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
    /// The agent's ticket or case reference (validated: at most 64 characters).
    pub label: Option<String>,
    /// The operator who asked for it.
    pub created_by: Option<String>,
}

/// A tracked DigiLocker session as the store holds it (and as team mode's
/// event stream carries it: serde's derived form is that wire format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// signup or signin.
    #[schema(value_type = Option<String>)]
    pub flow: Option<UserFlow>,
    pub redirect_url: Option<String>,
    /// AADHAAR, PAN or DRIVING_LICENSE.
    #[schema(value_type = Vec<String>)]
    pub documents_requested: Vec<DocumentType>,
    #[schema(value_type = Vec<String>)]
    pub documents_consented: Vec<DocumentType>,
    pub create_state: CreateState,
    /// Whether the engine keeps polling it (false after "stop tracking").
    pub tracking: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// created_at + 10 minutes: the DigiLocker URL's validity.
    pub expires_at: Timestamp,
    /// The last good answer to a poll.
    pub last_polled_at: Option<Timestamp>,
    /// The last error met while polling, shown beside the row; cleared by
    /// the next good answer.
    pub last_error: Option<String>,
    /// The agent's ticket or case reference, editable at any time.
    pub label: Option<String>,
    /// The operator who created (or started tracking) it, when known.
    pub created_by: Option<String>,
    /// How the current status was learned, and when it took it (`None` for
    /// sessions from before payops kept them).
    #[serde(default)]
    pub status_learned: Option<super::Learned>,
    #[serde(default)]
    pub status_at: Option<Timestamp>,
}

impl SessionRecord {
    /// The history event the store wrote when the record took its current
    /// status (creates and status changes are written at `updated_at`).
    pub fn status_event(&self) -> StatusEvent {
        StatusEvent {
            at: self.status_at.unwrap_or(self.updated_at),
            status: self.status.clone(),
            provider_status: self.provider_status.clone(),
            learned: self.status_learned,
        }
    }

    /// Created at the provider and in a final status: nothing more will happen.
    pub fn is_finished(&self) -> bool {
        self.create_state == CreateState::Created && self.status.is_final()
    }

    /// Created at the provider and not final: its 10-minute window runs and
    /// it is worth polling.
    pub fn is_live(&self) -> bool {
        self.create_state == CreateState::Created && !self.status.is_final()
    }

    /// Whether this row is the one tracking `reference` at `provider`
    /// (tracking it again finds it).
    pub fn tracks(&self, provider: super::Provider, reference: &str) -> bool {
        self.provider == provider
            && self.tracking
            && self.reference.as_deref() == Some(reference.trim())
    }

    /// The customer can open it and its 10-minute window runs: created, not
    /// final, and with a URL (a session resolved from a status answer, or
    /// tracked by reference, has none to hand over).
    pub fn window_runs(&self) -> bool {
        self.is_live() && self.url.as_deref().is_some_and(|url| !url.is_empty())
    }

    /// The customer's link no longer leads anywhere: its window ran out,
    /// or the customer denied consent. (An authenticated session's link
    /// was used; it stays on record.)
    pub fn link_spent(&self) -> bool {
        matches!(
            self.status,
            super::SessionStatus::Expired | super::SessionStatus::ConsentDenied
        )
    }

    /// The link to hand the customer (copy, open, QR), while it serves.
    pub fn offered_url(&self) -> Option<&str> {
        self.url
            .as_deref()
            .filter(|url| !url.is_empty() && !self.link_spent())
    }

    /// The one spelling of where a session stands, for the CLI, its JSON and
    /// the dashboard alike: the provider's (normalised) status once the
    /// create completed, else where the create stands, so nothing reads as
    /// live that the provider may never have created.
    pub fn status_word(&self) -> String {
        match &self.create_state {
            CreateState::Created => self.status.as_str(),
            CreateState::Sending => "CREATING".into(),
            CreateState::Failed(_) => "CREATE_FAILED".into(),
            CreateState::OutcomeUnknown(_) => "OUTCOME_UNKNOWN".into(),
        }
    }

    /// The symbol beside `status_word`, so a status reads without colour.
    pub fn status_symbol(&self) -> &'static str {
        match &self.create_state {
            CreateState::Created => self.status.symbol(),
            CreateState::Sending => "↑",
            CreateState::Failed(_) => "✗",
            CreateState::OutcomeUnknown(_) => "?",
        }
    }

    /// `status_symbol` and `status_word` together, as tables show them.
    pub fn status_label(&self) -> String {
        format!("{} {}", self.status_symbol(), self.status_word())
    }
}

/// A link's notifies in the repeat window, newest first, whatever their
/// outcome: the confirm dialog and the CLI count them all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecentNotifies(pub Vec<AuditEntry>);

impl RecentNotifies {
    /// The newest that may have reached the recipient (sent, or outcome
    /// unknown); declined and failed ones reached nobody. Sending again
    /// after one of these needs a second confirmation.
    pub fn last_reaching(&self) -> Option<&AuditEntry> {
        self.0
            .iter()
            .find(|e| matches!(e.outcome, NotifyOutcome::Sent | NotifyOutcome::Unknown))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One status change of a session, for the detail view's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusEvent {
    pub at: Timestamp,
    pub status: SessionStatus,
    pub provider_status: String,
    /// How it was learned; `None` for history kept before payops said.
    #[serde(default)]
    pub learned: Option<super::Learned>,
}

/// How a notify ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotifyOutcome {
    Sent,
    /// The provider answered no.
    Declined,
    /// Never reached the provider (connection refused, rate limited, invalid
    /// before sending): nothing went to the recipient.
    Failed,
    /// In flight, crashed mid-request, or timed out after sending.
    Unknown,
}

impl NotifyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyOutcome::Sent => "sent",
            NotifyOutcome::Declined => "declined",
            NotifyOutcome::Failed => "failed",
            NotifyOutcome::Unknown => "unknown",
        }
    }
}

/// A row of the document access log: the fact of a fetch or reveal, never
/// the contents.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentAccess {
    pub at: Timestamp,
    pub actor: String,
    pub session_id: SessionId,
    pub provider: Provider,
    pub document: DocumentType,
    pub revealed: bool,
    /// `ok`, `preparing`, `expired`, or the error kind of a failed fetch.
    pub outcome: String,
}

/// A row of the notify audit trail. The derived serde form has the field
/// names of `audit --json`, so a client reads the API's entries with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// One stored balance reading, for the chart and `balance --history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BalanceSnapshot {
    pub at: Timestamp,
    pub account: String,
    pub available: Decimal,
    pub total: Decimal,
    pub lien: Decimal,
    pub request_id: Option<String>,
}

/// The lowest, highest and latest of a run of readings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BalanceSummary<'a> {
    pub lowest: &'a BalanceSnapshot,
    pub highest: &'a BalanceSnapshot,
    pub latest: &'a BalanceSnapshot,
}

impl<'a> BalanceSummary<'a> {
    /// `None` for no readings. Ties go to the most recent reading.
    pub fn of(snapshots: &'a [BalanceSnapshot]) -> Option<BalanceSummary<'a>> {
        let latest = snapshots.iter().max_by_key(|s| s.at)?;
        let mut lowest = latest;
        let mut highest = latest;
        for snapshot in snapshots {
            let later = snapshot.at >= lowest.at;
            if snapshot.available < lowest.available
                || (snapshot.available == lowest.available && later)
            {
                lowest = snapshot;
            }
            let later = snapshot.at >= highest.at;
            if snapshot.available > highest.available
                || (snapshot.available == highest.available && later)
            {
                highest = snapshot;
            }
        }
        Some(BalanceSummary {
            lowest,
            highest,
            latest,
        })
    }
}
