//! Provider calls wrapped in their store bookkeeping. The CLI calls these
//! directly; the dashboard's engine loop calls them from its tasks.
//!
//! Every call with a side effect writes its row first and completes it after,
//! so a crash mid-request leaves a visible "outcome unknown" record.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;

use crate::config::Config;
use crate::documents::DocumentFetch;
use crate::domain::DocumentAccess;
use crate::domain::{
    AuditEntry, CreateState, NotifyOutcome, RecentNotifies, SessionRecord, StatusEvent,
};
use crate::domain::{
    BalanceReport, CreatedSession, ExternalRef, LinkId, LinkReport, Provider, ProviderEnvironment,
    SessionId, SessionStatus, UserDetails,
};
use crate::domain::{DocumentType, Learned};
use crate::engine::messages::ProviderSetup;
use crate::error::ProviderError;
use crate::providers::http::RateHeaders;
use crate::providers::{CallPolicy, CashfreeClient, CashfreeLookup, InstantPayClient};
use crate::store::{
    Activity, Lease, NotifyCompletion, Outcome, ProviderWord, Store, StoreError, TRACKED_REF_PREFIX,
};

/// How often, and how many times, to ask for a document being prepared.
const PREPARING_RETRY: Duration = Duration::from_secs(2);
pub const PREPARING_ATTEMPTS: u32 = 10;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{}", crate::words::not_configured(*.0))]
    NotConfigured(Provider),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("payops does not track a session '{0}' (see `payops digilocker list --all`)")]
    NotTracked(String),
}

impl OpsError {
    /// The CLI exit code (README).
    pub fn exit_code(&self) -> i32 {
        match self {
            OpsError::Provider(e) => e.exit_code(),
            OpsError::NotConfigured(_) | OpsError::NotTracked(_) => 2,
            // A store failure is local and not the provider's: treat like a configuration problem.
            OpsError::Store(_) => 2,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            OpsError::NotConfigured(_) => "not_configured",
            OpsError::Provider(e) => e.kind(),
            OpsError::Store(_) => "store",
            OpsError::NotTracked(_) => "not_tracked",
        }
    }

    pub fn provider_code(&self) -> Option<&str> {
        match self {
            OpsError::Provider(e) => e.provider_code(),
            _ => None,
        }
    }
}

/// The answer to a poll: the updated record, the previous status when it
/// changed, and personal data when the provider sent some (never stored).
#[derive(Debug, Clone)]
pub struct PollOutcome {
    pub record: SessionRecord,
    pub previous: Option<SessionStatus>,
    /// The history event this answer wrote, if its status changed.
    pub event: Option<StatusEvent>,
    pub user_details: Option<UserDetails>,
}

/// A create that failed, with the row it left behind (None when nothing was
/// written, e.g. the provider is not configured).
#[derive(Debug)]
pub struct CreateFailure {
    pub record: Option<SessionRecord>,
    pub error: OpsError,
}

/// A finished notify: its completed audit row, and the failure if there was one.
#[derive(Debug, Clone)]
pub struct NotifyResult {
    pub entry: AuditEntry,
    pub error: Option<ProviderError>,
}

/// The provider clients and the store, shared by the CLI and the engine.
#[derive(Clone)]
pub struct Services {
    pub instantpay: Option<InstantPayClient>,
    pub cashfree: Option<CashfreeClient>,
    store: Arc<Mutex<Store>>,
    pub(super) actor: String,
    /// Team mode: the request these services act in, whose changes each
    /// write an activity row in their own transaction.
    request_id: Option<String>,
    /// Cashfree's environment is chosen by its host (InstantPay's follows the
    /// credentials and is learned from its answers).
    cashfree_environment: Option<ProviderEnvironment>,
}

impl Services {
    pub fn new(config: &Config, store: Store) -> Result<Services, ProviderError> {
        let policy = CallPolicy {
            timeout: config.polling.request_timeout,
            ..CallPolicy::default()
        };
        Self::with_policy(config, store, policy)
    }

    pub fn with_policy(
        config: &Config,
        store: Store,
        policy: CallPolicy,
    ) -> Result<Services, ProviderError> {
        let instantpay = config
            .instantpay
            .as_ref()
            .map(|c| InstantPayClient::new(c, policy.clone()))
            .transpose()?;
        let cashfree = config
            .cashfree
            .as_ref()
            .map(|c| CashfreeClient::new(c, policy.clone()))
            .transpose()?;
        Ok(Services {
            instantpay,
            cashfree,
            store: Arc::new(Mutex::new(store)),
            actor: super::actor::operator_name(config.operator.as_deref()),
            request_id: None,
            cashfree_environment: config
                .cashfree
                .as_ref()
                .map(|c| cashfree_environment(&c.base_url)),
        })
    }

    /// Puts every provider request from these services (and their clones)
    /// behind `gate`: team mode's budget.
    pub fn set_gate(&self, gate: std::sync::Arc<dyn crate::providers::http::Gate>) {
        if let Some(client) = &self.instantpay {
            client.set_gate(gate.clone());
        }
        if let Some(client) = &self.cashfree {
            client.set_gate(gate);
        }
    }

    /// The store, for reads. A poisoned lock only means another task panicked
    /// mid-write; SQLite kept its own consistency, so carry on.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn setup(&self, provider: Provider) -> ProviderSetup {
        let configured = match provider {
            Provider::InstantPay => self.instantpay.is_some(),
            Provider::Cashfree => self.cashfree.is_some(),
        };
        if configured {
            let environment = match provider {
                Provider::InstantPay => None,
                Provider::Cashfree => self.cashfree_environment.clone(),
            };
            ProviderSetup::Configured { environment }
        } else {
            ProviderSetup::NotConfigured
        }
    }

    pub(super) fn instantpay(&self) -> Result<&InstantPayClient, OpsError> {
        self.instantpay
            .as_ref()
            .ok_or(OpsError::NotConfigured(Provider::InstantPay))
    }

    pub(super) fn cashfree(&self) -> Result<&CashfreeClient, OpsError> {
        self.cashfree
            .as_ref()
            .ok_or(OpsError::NotConfigured(Provider::Cashfree))
    }

    pub fn is_configured(&self, provider: Provider) -> bool {
        matches!(self.setup(provider), ProviderSetup::Configured { .. })
    }

    /// The provider's own rate counter, from its latest answer.
    pub fn rate_headers(&self, provider: Provider) -> Option<RateHeaders> {
        match provider {
            Provider::InstantPay => self.instantpay.as_ref()?.rate_headers(),
            Provider::Cashfree => self.cashfree.as_ref()?.rate_headers(),
        }
    }

    /// Fetches the wallet balance and keeps a snapshot for the history.
    pub async fn fetch_balance(&self) -> Result<BalanceReport, OpsError> {
        self.fetch_balance_under(None).await
    }

    /// `fetch_balance` by a leader on its own schedule: recorded only while
    /// `lease` stands, and not asked for at all once it does not.
    pub async fn fetch_balance_under(
        &self,
        lease: Option<&Lease>,
    ) -> Result<BalanceReport, OpsError> {
        self.still_leading(lease)?;
        let report = self.instantpay()?.balance().await?;
        // A store that cannot be written still shows the balance; the
        // reading just is not kept.
        if !self.store().read_only() {
            self.store().insert_balance_under(lease, &report)?;
        }
        {
            use rust_decimal::prelude::ToPrimitive;
            let rupees = |amount: rust_decimal::Decimal| amount.to_f64().unwrap_or(f64::NAN);
            crate::telemetry::wallet(
                rupees(report.available),
                rupees(report.total),
                rupees(report.lien),
            );
        }
        Ok(report)
    }

    /// Starts tracking a session created elsewhere and polls it once.
    pub async fn track_session(
        &self,
        provider: Provider,
        reference: &str,
    ) -> Result<PollOutcome, OpsError> {
        let reference = reference.trim();
        match provider {
            Provider::InstantPay => {
                self.instantpay()?;
            }
            Provider::Cashfree => {
                self.cashfree()?;
            }
        }
        // Ask the provider first: an id it does not know is not worth a row.
        let probe = SessionRecord::probe(provider, reference);
        let report = self.fetch_status(&probe).await?;
        // Its target is the session's id, once the store knows it.
        let activity = self
            .noted("track", None)
            .map(|a| a.detail(format!("{provider} {}", report.reference)));
        let record = self.store().track_existing(
            provider,
            &report.reference,
            Timestamp::now(),
            activity.as_ref(),
        )?;
        self.apply_report(&record, report, None, Learned::Refresh)
    }

    /// Asks the provider about a session whose create never got an answer.
    /// Cashfree can be asked by our `verification_id`: a session it knows is
    /// completed from its status (a status answer carries no URL); one it does
    /// not know never took effect and is marked failed. InstantPay's status
    /// needs the provider's reference, which such a row lacks, so it stays
    /// outcome unknown.
    pub async fn reconcile_create(&self, record: &SessionRecord) -> Result<PollOutcome, OpsError> {
        let unchanged = || PollOutcome {
            record: record.clone(),
            previous: None,
            event: None,
            user_details: None,
        };
        if record.provider != Provider::Cashfree
            || !matches!(
                record.create_state,
                CreateState::Sending | CreateState::OutcomeUnknown(_)
            )
        {
            return Ok(unchanged());
        }
        let lookup = CashfreeLookup::VerificationId(record.external_ref.to_string());
        match self.cashfree()?.digilocker_status(&lookup).await {
            Ok(report) => {
                let created = CreatedSession {
                    reference: report.reference.clone(),
                    url: String::new(),
                    status: report.status.clone(),
                    provider_status: report.provider_status.clone(),
                    documents_requested: if report.documents_requested.is_empty() {
                        record.documents_requested.clone()
                    } else {
                        report.documents_requested.clone()
                    },
                    environment: None,
                    request_id: report.request_id.clone(),
                };
                let completed =
                    self.store()
                        .complete_session(&record.id, &created, Timestamp::now(), None)?;
                let mut outcome = self.apply_report(&completed, report, None, Learned::Refresh)?;
                // The create's own event, unless the status answer wrote a newer one.
                outcome.event = outcome.event.or_else(|| Some(completed.status_event()));
                Ok(outcome)
            }
            // Cashfree answers an unknown verification_id with 404 and this code.
            Err(ProviderError::Declined { code, .. })
                if code == "verification_id_value_invalid" =>
            {
                let state = CreateState::Failed(format!(
                    "Cashfree has no session {}: the create never took effect",
                    record.external_ref
                ));
                let record = self
                    .store()
                    .fail_session(&record.id, state, Timestamp::now())?;
                Ok(PollOutcome {
                    record,
                    previous: None,
                    event: None,
                    user_details: None,
                })
            }
            Err(error) => Err(error.into()),
        }
    }

    /// An operator's refresh: polls one session and records the answer
    /// (or the failure).
    pub async fn poll_session(&self, record: &SessionRecord) -> Result<PollOutcome, OpsError> {
        self.poll_session_under(record, None, Learned::Refresh)
            .await
    }

    /// `poll_session` by a leader on its own schedule: the provider is not
    /// asked once `lease` no longer stands, and the answer is recorded only
    /// while it does.
    pub async fn poll_session_under(
        &self,
        record: &SessionRecord,
        lease: Option<&Lease>,
        learned: Learned,
    ) -> Result<PollOutcome, OpsError> {
        self.still_leading(lease)?;
        match self.fetch_status(record).await {
            Ok(report) => self.apply_report(record, report, lease, learned),
            Err(error) => {
                self.store()
                    .record_poll_error(lease, &record.id, &error.to_string())?;
                Err(error)
            }
        }
    }

    /// Refuses leader-only work once `lease` no longer stands.
    fn still_leading(&self, lease: Option<&Lease>) -> Result<(), OpsError> {
        match lease {
            Some(lease) if !self.store().lease_holds(lease)? => {
                Err(StoreError::NotLeader(lease.epoch).into())
            }
            _ => Ok(()),
        }
    }

    fn apply_report(
        &self,
        record: &SessionRecord,
        report: crate::domain::SessionStatusReport,
        lease: Option<&Lease>,
        learned: Learned,
    ) -> Result<PollOutcome, OpsError> {
        let store = self.store();
        // A leader whose lease passed on writes nothing, this either.
        if let Some(lease) = lease
            && !store.lease_holds(lease)?
        {
            return Err(StoreError::NotLeader(lease.epoch).into());
        }
        // A session adopted by reference learns our-side ref from the provider's echo.
        if record.external_ref.as_str().starts_with(TRACKED_REF_PREFIX)
            && let Some(external_ref) = report.external_ref.as_deref()
        {
            store.learn_external_ref(&record.id, external_ref)?;
        }
        let word = ProviderWord {
            status: &report.status,
            provider_status: &report.provider_status,
            documents_consented: &report.documents_consented,
            learned,
        };
        let (record, previous, event) =
            store.record_poll(lease, &record.id, &word, Timestamp::now())?;
        Ok(PollOutcome {
            record,
            previous,
            event,
            user_details: report.user_details,
        })
    }

    async fn fetch_status(
        &self,
        record: &SessionRecord,
    ) -> Result<crate::domain::SessionStatusReport, OpsError> {
        match record.provider {
            Provider::InstantPay => {
                let reference = record
                    .reference
                    .as_deref()
                    .ok_or_else(|| OpsError::NotTracked(record.id.to_string()))?;
                Ok(self.instantpay()?.digilocker_status(reference).await?)
            }
            Provider::Cashfree => {
                let cashfree = self.cashfree()?;
                let Some(reference) = record.reference.as_deref() else {
                    let lookup = CashfreeLookup::VerificationId(record.external_ref.to_string());
                    return Ok(cashfree.digilocker_status(&lookup).await?);
                };
                let by_verification_id = CashfreeLookup::VerificationId(reference.to_string());
                let Ok(number) = reference.parse::<i64>() else {
                    return Ok(cashfree.digilocker_status(&by_verification_id).await?);
                };
                // All digits: Cashfree's reference_id, or a merchant's numeric
                // verification_id (the rule allows one). Try the first, then the second.
                match cashfree
                    .digilocker_status(&CashfreeLookup::ReferenceId(number))
                    .await
                {
                    Err(ProviderError::Declined { code, .. })
                        if code == "verification_id_value_invalid" =>
                    {
                        Ok(cashfree.digilocker_status(&by_verification_id).await?)
                    }
                    answer => Ok(answer?),
                }
            }
        }
    }

    /// Fetches one consented document of an AUTHENTICATED session and logs the
    /// access (who, when, which, revealed or not; never the contents),
    /// whatever the outcome. The contents go to the caller only.
    pub async fn fetch_document(
        &self,
        record: &SessionRecord,
        document: DocumentType,
        reveal: bool,
    ) -> Result<DocumentFetch, OpsError> {
        let fetched = self.ask_document(record, document).await;
        let outcome = match &fetched {
            Ok(fetch) => fetch.outcome(),
            Err(error) => error.kind(),
        };
        self.log_document_access(record, document, reveal, outcome)?;
        fetched
    }

    /// [`fetch_document`](Self::fetch_document), asking again while the
    /// provider prepares it (`waiting` hears of each wait). Still
    /// `Preparing` after every try means: come back in a minute.
    pub async fn fetch_document_patiently(
        &self,
        record: &SessionRecord,
        document: DocumentType,
        reveal: bool,
        mut waiting: impl FnMut(DocumentType, Duration),
    ) -> Result<DocumentFetch, OpsError> {
        let mut tries = 1;
        loop {
            let fetch = self.fetch_document(record, document, reveal).await?;
            if fetch != DocumentFetch::Preparing || tries == PREPARING_ATTEMPTS {
                return Ok(fetch);
            }
            waiting(document, PREPARING_RETRY);
            tokio::time::sleep(PREPARING_RETRY).await;
            tries += 1;
        }
    }

    /// Records that an operator revealed a document already fetched.
    pub fn log_document_access(
        &self,
        record: &SessionRecord,
        document: DocumentType,
        revealed: bool,
        outcome: &str,
    ) -> Result<(), OpsError> {
        self.store().log_document_access(&DocumentAccess {
            at: Timestamp::now(),
            actor: self.actor.clone(),
            session_id: record.id.clone(),
            provider: record.provider,
            document,
            revealed,
            outcome: outcome.to_string(),
        })?;
        Ok(())
    }

    async fn ask_document(
        &self,
        record: &SessionRecord,
        document: DocumentType,
    ) -> Result<DocumentFetch, OpsError> {
        let reference = record
            .reference
            .as_deref()
            .filter(|_| record.create_state == CreateState::Created)
            .ok_or_else(|| OpsError::NotTracked(record.id.to_string()))?;
        match record.provider {
            Provider::InstantPay => Ok(self
                .instantpay()?
                .digilocker_document(reference, document)
                .await?),
            Provider::Cashfree => {
                let lookup = match reference.parse::<i64>() {
                    Ok(number) => CashfreeLookup::ReferenceId(number),
                    Err(_) => CashfreeLookup::VerificationId(reference.to_string()),
                };
                Ok(self
                    .cashfree()?
                    .digilocker_document(&lookup, document)
                    .await?)
            }
        }
    }

    /// `digilocker status`: poll a created session now, or ask the provider
    /// whether a create that never got an answer took effect.
    pub async fn refresh(&self, record: &SessionRecord) -> Result<PollOutcome, OpsError> {
        if record.create_state == CreateState::Created {
            self.poll_session(record).await
        } else {
            self.reconcile_create(record).await
        }
    }

    /// Sets (or with None clears) the label of the session `needle` names.
    pub fn set_label(&self, needle: &str, label: Option<&str>) -> Result<SessionRecord, OpsError> {
        let record = self.find(needle)?;
        Ok(self.store().set_label(&record.id, label, None)?)
    }

    /// Finds a tracked session by our id, the provider reference or our external ref.
    pub fn find(&self, needle: &str) -> Result<SessionRecord, OpsError> {
        self.store()
            .find_session(needle)?
            .ok_or_else(|| OpsError::NotTracked(needle.trim().to_string()))
    }

    /// Looks a payout link up, with its notifies in the repeat window.
    pub async fn lookup_link(
        &self,
        link: &LinkId,
    ) -> Result<(LinkReport, RecentNotifies), OpsError> {
        let report = self.instantpay()?.track_link(link).await?;
        let recent = self.recent_notifies(link)?;
        Ok((report, recent))
    }

    /// Every notify for `link` within the repeat window, newest first.
    pub fn recent_notifies(&self, link: &LinkId) -> Result<RecentNotifies, OpsError> {
        let since = Timestamp::now()
            .checked_sub(crate::domain::NOTIFY_REPEAT_WINDOW)
            .unwrap_or(Timestamp::MIN);
        Ok(RecentNotifies(self.store().notifies_since(link, since)?))
    }

    /// Writes the audit row, then sends the notify, then completes the row.
    /// The caller must already have the operator's confirmation.
    pub async fn begin_notify(&self, link: &LinkId) -> Result<AuditEntry, OpsError> {
        self.instantpay()?;
        Ok(self
            .store()
            .begin_notify(link, &self.actor, Timestamp::now())?)
    }

    /// `begin_notify`, unless the link was notified (sent or unknown) within
    /// the repeat window and `again` is false: then who sent it and when.
    pub async fn begin_notify_guarded(
        &self,
        link: &LinkId,
        again: bool,
    ) -> Result<Result<AuditEntry, RecentNotifies>, OpsError> {
        self.instantpay()?;
        let now = Timestamp::now();
        let store = self.store();
        if again {
            return Ok(Ok(store.begin_notify(link, &self.actor, now)?));
        }
        let since = now
            .checked_sub(crate::domain::NOTIFY_REPEAT_WINDOW)
            .unwrap_or(Timestamp::MIN);
        Ok(store.begin_notify_unless_recent(link, &self.actor, now, since)?)
    }

    /// The same services acting for `operator`: the audit and new sessions
    /// carry that name (team mode: the name on the caller's token).
    pub fn as_operator(&self, operator: &str) -> Services {
        Services {
            actor: operator.to_string(),
            ..self.clone()
        }
    }

    /// `as_operator` within an API request: each change these services
    /// make also writes its activity row, naming the request.
    pub fn in_request(&self, operator: &str, request_id: Option<&str>) -> Services {
        Services {
            actor: operator.to_string(),
            request_id: Some(request_id.unwrap_or("-").to_string()),
            ..self.clone()
        }
    }

    /// The activity row for a change made now, in a request; none outside one.
    pub(super) fn noted(&self, action: &str, target: Option<&str>) -> Option<Activity> {
        self.request_id
            .as_deref()
            .map(|request_id| Activity::done(&self.actor, action, target).request(Some(request_id)))
    }

    /// Sends the notify for an audit row from `begin_notify` and completes it.
    pub async fn finish_notify(&self, started: &AuditEntry) -> Result<NotifyResult, OpsError> {
        let answer = self.instantpay()?.notify_link(&started.link_id).await;
        let (outcome, message, code, request_id, error) = match answer {
            Ok(receipt) => {
                let message = if receipt.pending {
                    format!("{} (provider is still processing)", receipt.message)
                } else {
                    receipt.message
                };
                (NotifyOutcome::Sent, message, None, receipt.request_id, None)
            }
            Err(error) => {
                let outcome = match &error {
                    ProviderError::Declined { .. } | ProviderError::Auth { .. } => {
                        NotifyOutcome::Declined
                    }
                    ProviderError::InvalidRequest { .. }
                    | ProviderError::RateLimited { .. }
                    | ProviderError::Transport {
                        never_sent: true, ..
                    } => NotifyOutcome::Failed,
                    // Anything that may have been applied is unknown, never "failed".
                    ProviderError::OutcomeUnknown { .. }
                    | ProviderError::Transport { .. }
                    | ProviderError::Unavailable { .. }
                    | ProviderError::Malformed { .. } => NotifyOutcome::Unknown,
                };
                (
                    outcome,
                    error.to_string(),
                    error.provider_code().map(str::to_string),
                    error.request_id().map(str::to_string),
                    Some(error),
                )
            }
        };
        let activity = self
            .noted("notify", Some(started.link_id.as_str()))
            .map(|activity| match outcome {
                NotifyOutcome::Sent => activity,
                _ => activity.ended(Outcome::Failed, format!("{}: {message}", outcome.as_str())),
            });
        let completion = NotifyCompletion {
            outcome,
            message: &message,
            provider_code: code.as_deref(),
            request_id: request_id.as_deref(),
            at: Timestamp::now(),
        };
        let entry =
            self.store()
                .finish_notify_noting(started.id, &completion, activity.as_ref())?;
        crate::telemetry::notify(entry.outcome.as_str());
        Ok(NotifyResult { entry, error })
    }

    /// `begin_notify` and `finish_notify` in one.
    pub async fn send_notify(&self, link: &LinkId) -> Result<NotifyResult, OpsError> {
        let started = self.begin_notify(link).await?;
        self.finish_notify(&started).await
    }
}

impl SessionRecord {
    /// A stand-in record for polling a session payops does not track yet.
    fn probe(provider: Provider, reference: &str) -> SessionRecord {
        let now = Timestamp::now();
        SessionRecord {
            id: SessionId::new_unchecked(""),
            provider,
            external_ref: ExternalRef::new_unchecked(reference),
            reference: Some(reference.to_string()),
            status: SessionStatus::Pending,
            provider_status: String::new(),
            url: None,
            flow: None,
            redirect_url: None,
            documents_requested: Vec::new(),
            documents_consented: Vec::new(),
            create_state: CreateState::Created,
            tracking: true,
            created_at: now,
            updated_at: now,
            expires_at: now,
            last_polled_at: None,
            last_error: None,
            label: None,
            created_by: None,
            status_learned: None,
            status_at: None,
        }
    }
}

/// Cashfree's documented hosts: `sandbox.cashfree.com` and `api.cashfree.com`;
/// anything on loopback is the simulator.
fn cashfree_environment(base_url: &url::Url) -> ProviderEnvironment {
    match base_url.host_str().unwrap_or_default() {
        "api.cashfree.com" => ProviderEnvironment::Live,
        "sandbox.cashfree.com" => ProviderEnvironment::Sandbox,
        host if host == "localhost" || host.starts_with("127.") || host == "[::1]" => {
            ProviderEnvironment::Unknown("simulator".into())
        }
        other => ProviderEnvironment::Unknown(other.to_string()),
    }
}
