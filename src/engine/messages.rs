//! The only things the UI and the engine share: commands in, updates out.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;
use url::Url;

use crate::config::SessionDefaults;
use crate::documents::Document;
use crate::domain::{AuditEntry, BalanceSnapshot, RecentNotifies, SessionRecord, StatusEvent};
use crate::domain::{
    BalanceReport, DocumentType, LinkId, LinkReport, Provider, ProviderEnvironment, SessionId,
    SessionStatus, UserDetails, UserFlow,
};
use crate::error::{ProviderError, ValidationError};

/// A validated request to create a DigiLocker session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRequest {
    pub provider: Provider,
    /// InstantPay needs a flow; Cashfree takes it optionally.
    pub flow: UserFlow,
    /// Cashfree only (InstantPay ignores it).
    pub documents: Vec<DocumentType>,
    /// Where the customer lands afterwards: InstantPay requires one
    /// (`redirectionUrl`), Cashfree takes it optionally.
    pub redirect_url: Option<Url>,
    /// The agent's ticket or case reference (validated), kept with the session.
    pub label: Option<String>,
}

/// A create request as a person typed it (flags, a JSON body), before the
/// defaults fill it in and the validators check it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestInput<'a> {
    pub provider: Option<Provider>,
    pub flow: Option<UserFlow>,
    pub documents: Option<&'a str>,
    pub redirect_url: Option<&'a str>,
    pub label: Option<&'a str>,
}

impl SessionRequest {
    /// The request `input` and `defaults` make, or the first problem, named
    /// as the caller spells fields (`prefix` "--" gives `--redirect-url`).
    pub fn from_input(
        defaults: &SessionDefaults,
        input: RequestInput<'_>,
        prefix: &str,
    ) -> Result<SessionRequest, ValidationError> {
        // Flags are `--docs`, `--redirect-url`; JSON bodies say
        // `documents`, `redirect_url`.
        let name = |flag: &str| {
            if prefix.is_empty() {
                match flag {
                    "docs" => "documents".to_string(),
                    other => other.replace('-', "_"),
                }
            } else {
                format!("{prefix}{flag}")
            }
        };
        let provider = input.provider.or(defaults.provider).ok_or_else(|| {
            ValidationError::new(
                name("provider"),
                "which provider? instantpay or cashfree (or set provider in the [defaults] config section)",
            )
        })?;
        let documents = match (input.documents, provider) {
            (Some(_), Provider::InstantPay) => {
                return Err(ValidationError::new(
                    name("docs"),
                    "InstantPay DigiLocker sessions do not take a document list (Cashfree only)",
                ));
            }
            (Some(raw), Provider::Cashfree) => crate::validate::documents(&name("docs"), raw)?,
            (None, Provider::Cashfree) => defaults.documents.clone(),
            (None, Provider::InstantPay) => Vec::new(),
        };
        let redirect_url = match (input.redirect_url, &defaults.redirect_url, provider) {
            (Some(raw), _, _) => Some(crate::validate::redirect_url(&name("redirect-url"), raw)?),
            (None, Some(url), _) => Some(url.clone()),
            // Cashfree's redirect_url is optional: leave it out.
            (None, None, Provider::Cashfree) => None,
            (None, None, Provider::InstantPay) => {
                return Err(ValidationError::new(
                    name("redirect-url"),
                    "InstantPay requires one (or set redirect_url in the [defaults] config section)",
                ));
            }
        };
        let label = match input.label {
            Some(raw) => crate::validate::label(&name("label"), raw)?,
            None => None,
        };
        Ok(SessionRequest {
            provider,
            flow: input.flow.unwrap_or(defaults.flow),
            documents,
            redirect_url,
            label,
        })
    }
}

/// What the UI asks the engine to do. Never blocks the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Fetch the balance now (the engine debounces repeats).
    RefreshBalance,
    CreateSession(SessionRequest),
    /// Start tracking a session created elsewhere (a customer's id pasted by an agent).
    TrackSession {
        provider: Provider,
        reference: String,
    },
    /// Poll one session now.
    RefreshSession(SessionId),
    StopTracking(SessionId),
    /// Someone in this process wrote to the store behind the engine's back
    /// (team mode's API): re-read it now.
    StoreChanged,
    /// Set (or with None clear) a session's label: already validated.
    SetLabel {
        id: SessionId,
        label: Option<String>,
    },
    /// Fetch the consented documents of an AUTHENTICATED session (each
    /// fetch is logged; the contents come back in `Update::Documents` only).
    FetchDocuments(SessionId),
    /// The operator revealed these documents in full: log it.
    LogReveal {
        id: SessionId,
        documents: Vec<DocumentType>,
    },
    /// The sessions someone has open on screen now (the detail view's, the
    /// selected row's): polled fastest and first. Replaces the last set.
    OnScreen(Vec<SessionId>),
    /// Look a payout link up (status, amount) before confirming a notify.
    LookupLink(LinkId),
    /// Send the notification. The UI has already confirmed with the operator.
    SendNotify(LinkId),
    /// A replica took the leader lease (`Some`, with its epoch) or lost it
    /// (`None`): only the leader polls and fetches the balance on its own,
    /// and each such write is fenced by the lease.
    Lead(Option<crate::store::Lease>),
    Shutdown,
}

/// How a provider is set up, for the header.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub enum ProviderSetup {
    NotConfigured,
    /// Configured; the environment the provider last reported (InstantPay), or
    /// the one implied by the base URL (Cashfree sandbox/production).
    Configured {
        environment: Option<ProviderEnvironment>,
    },
}

/// Whether a provider answers, and whether polling is slowed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProviderHealth {
    /// Since when its calls have gone unanswered (no connection, 5xx,
    /// timeouts, unreadable answers); None while it answers.
    pub failing_since: Option<Timestamp>,
    /// The last failure, in words.
    pub last_failure: Option<String>,
    /// Polling runs this many times slower than planned (rate limits), until
    /// `slowed_until`; 1 when not slowed.
    pub slow_factor: u32,
    pub slowed_until: Option<Timestamp>,
    /// While failing: no connection at all (refused, timed out), rather
    /// than answers that were errors or unreadable.
    #[serde(default)]
    pub unreachable: bool,
    /// Since when the provider has refused our credentials; None while it
    /// takes them.
    #[serde(default)]
    pub credentials_rejected_since: Option<Timestamp>,
}

/// Answering, at the planned pace.
impl Default for ProviderHealth {
    fn default() -> Self {
        ProviderHealth {
            failing_since: None,
            last_failure: None,
            slow_factor: 1,
            slowed_until: None,
            unreachable: false,
            credentials_rejected_since: None,
        }
    }
}

impl ProviderHealth {
    pub fn is_failing(&self) -> bool {
        self.failing_since.is_some()
    }

    /// The state as monitoring names it, and since when: `ok`,
    /// `rejecting_credentials`, `unreachable` or `failing`.
    pub fn state(&self) -> (&'static str, Option<Timestamp>) {
        if let Some(since) = self.credentials_rejected_since {
            ("rejecting_credentials", Some(since))
        } else if let Some(since) = self.failing_since {
            (
                if self.unreachable {
                    "unreachable"
                } else {
                    "failing"
                },
                Some(since),
            )
        } else {
            ("ok", None)
        }
    }

    /// The slow-down still in force at `now`, if any.
    pub fn slowed_at(&self, now: Timestamp) -> Option<u32> {
        (self.slow_factor > 1 && self.slowed_until.is_some_and(|until| until > now))
            .then_some(self.slow_factor)
    }
}

/// What the engine tells the UI.
///
/// Team mode's event stream carries the variants that are the same for
/// every operator (serde's derived form: `type` and `data`); the skipped ones
/// answer one dashboard's own request, or hold personal data, and never
/// leave the process.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Update {
    /// The consented documents of a session (personal data: memory only).
    #[serde(skip)]
    Documents {
        id: SessionId,
        documents: Vec<Document>,
    },
    /// The documents could not be fetched: why, in words.
    #[serde(skip)]
    DocumentsFailed {
        id: SessionId,
        message: String,
    },
    /// Sent once at start: what the store holds and how providers are set up.
    Loaded {
        sessions: Vec<SessionRecord>,
        /// Each loaded session's status changes, oldest first.
        #[schema(value_type = HashMap<String, Vec<StatusEvent>>)]
        histories: HashMap<SessionId, Vec<StatusEvent>>,
        balance_history: Vec<BalanceSnapshot>,
        audit: Vec<AuditEntry>,
        instantpay: ProviderSetup,
        cashfree: ProviderSetup,
    },
    /// A balance refresh started (for the spinner).
    BalanceRefreshing,
    BalanceFetched(BalanceReport),
    BalanceFailed(ProviderError),
    /// A session was created, tracked, polled or changed. `previous` is set only
    /// when the normalised status changed; `event` is the history entry the
    /// change wrote, so views never ask the engine back for history.
    SessionChanged {
        record: SessionRecord,
        previous: Option<SessionStatus>,
        event: Option<StatusEvent>,
    },
    /// Personal data from an authenticated session: held in memory, masked on screen.
    #[serde(skip)]
    SessionUserDetails {
        id: SessionId,
        details: UserDetails,
    },
    /// A create failed (the row, if one was written, came in `SessionChanged`
    /// with its create state). `id` is None when no row exists.
    #[serde(skip)]
    CreateFailed {
        id: Option<SessionId>,
        provider: Provider,
        error: ProviderError,
    },
    /// A track asked for has its row (sent after the row's change):
    /// `already` when that reference was being tracked before, so the
    /// dashboard says so rather than nothing.
    #[serde(skip)]
    Tracked {
        id: SessionId,
        reference: String,
        already: bool,
    },
    /// Tracking a session by reference failed; nothing was written. The
    /// reference comes back so the form can be offered again as typed.
    #[serde(skip)]
    TrackFailed {
        provider: Provider,
        reference: String,
        error: ProviderError,
    },
    /// A poll failed: the session keeps its last good status. `record`
    /// carries the error as the store wrote it; `retry_in` is when the engine
    /// polls it again (None when it will not: the last check failed).
    PollFailed {
        record: SessionRecord,
        error: ProviderError,
        /// serde's form of a duration: `{"secs", "nanos"}`.
        #[schema(value_type = Option<Object>)]
        retry_in: Option<Duration>,
    },
    /// A poll asked for (`r`) waits for the provider's rate limit or the
    /// budget: it goes at `at`, by itself.
    #[serde(skip)]
    PollWaits {
        id: SessionId,
        at: Timestamp,
    },
    /// How a provider's calls are going, sent when it changes.
    Health {
        provider: Provider,
        health: ProviderHealth,
    },
    SessionUntracked(SessionId),
    #[serde(skip)]
    LinkLooked {
        report: LinkReport,
        /// Every notify for this link in the last 10 minutes, newest first.
        recent: RecentNotifies,
    },
    #[serde(skip)]
    LinkFailed {
        link: LinkId,
        error: ProviderError,
    },
    /// A notify audit row written by another process (the CLI, a second
    /// dashboard) on the same data folder, new or completed.
    AuditChanged(AuditEntry),
    /// A notify's audit row was written and the request is in flight.
    #[serde(skip)]
    NotifyStarted(AuditEntry),
    /// The notify finished: `entry.outcome` says sent/declined/unknown; `error`
    /// carries the failure, if any.
    #[serde(skip)]
    NotifyFinished {
        entry: AuditEntry,
        error: Option<ProviderError>,
    },
    /// Something the user should see that is not a provider answer (a store
    /// failure, a provider that is not configured).
    #[serde(skip)]
    Problem(String),
    /// Team mode: the server (or the client, while not connected) refused a
    /// command; nothing was done. The command comes back so what waited on
    /// it can stop waiting.
    #[serde(skip)]
    Refused {
        command: Command,
        message: String,
    },
    /// Team mode: the connection to the server came or went.
    #[serde(skip)]
    Connection(Connection),
}

/// Team mode's link to the server, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    /// Connected and in step. After a reconnect, `changed` counts the
    /// sessions that changed while the client was away.
    Up { changed: Option<usize> },
    /// Not connected: what is shown is stale. The next try is in `retry_in`.
    /// `refused`: the server answered, but not to this token (revoked?).
    Down {
        reason: String,
        retry_in: Duration,
        refused: bool,
    },
    /// Connected, but the server's own store does not answer (why): its
    /// calls fail and nothing moves until it does.
    StoreDown { reason: String },
}
