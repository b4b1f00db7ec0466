//! The dashboard's engine loop: one task that owns `Services`, takes
//! `Command`s from the UI and answers with `Update`s.
//!
//! The loop never awaits the network: every provider call runs in a spawned
//! task whose result comes back through a `JoinSet`, so a slow provider never
//! holds up a keystroke. Calls with a side effect (create, notify) live in
//! their own set so shutdown can let them finish writing their rows.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::config::PollingConfig;
use crate::documents::{Document, DocumentFetch, to_fetch};
use crate::domain::{AuditEntry, CreateState, RecentNotifies, SessionRecord};
use crate::domain::{BalanceReport, DocumentType, LinkId, LinkReport, Provider, SessionId};
use crate::engine::messages::{Command, ProviderHealth, SessionRequest, Update};
use crate::engine::ops::{CreateFailure, NotifyResult, OpsError, PollOutcome, Services};
use crate::engine::rate_limit::Budget;
use crate::engine::schedule::{self, Plan, SessionClock};
use crate::error::ProviderError;
use crate::providers::CallPolicy;
use crate::providers::http::RateHeaders;
use crate::store::{Store, StoreError};
use crate::words;

/// The balance is never fetched by itself more often than this (InstantPay
/// asks integrators to sync rarely).
pub const MIN_BALANCE_INTERVAL: Duration = Duration::from_secs(30);
/// A manual refresh this soon after the last fetch started is ignored.
pub const BALANCE_DEBOUNCE: Duration = Duration::from_secs(2);
/// Below this a poll interval would busy-loop the engine.
const MIN_SESSION_INTERVAL: Duration = Duration::from_millis(50);
/// Final sessions older than this are not shown at start.
const RECENT_FINAL: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);
/// The balance chart's longest span (its 7-day view).
const BALANCE_HISTORY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 7);
const AUDIT_HISTORY: usize = 50;
/// How long a provider stays slowed after its last 429.
const SLOW_FOR: Duration = Duration::from_secs(120);
const MAX_SLOW_FACTOR: u32 = 8;
/// Pause after a 429 without Retry-After; doubles per 429 up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A Retry-After beyond this is treated as this (a typo must not freeze polling).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
const MIN_RETRY_AFTER: Duration = Duration::from_millis(500);
/// How often to look again while a user call waits for a provider's token.
const PRIORITY_RECHECK: Duration = Duration::from_millis(200);
/// Extra time, beyond one request timeout, that shutdown gives side effects.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The call policy the dashboard's `Services` should be built with: the
/// engine does its own retrying (the next poll, backoff after a 429), and
/// retries inside a client would be requests the budget cannot see.
pub fn call_policy(polling: &PollingConfig) -> CallPolicy {
    CallPolicy {
        timeout: polling.request_timeout,
        max_retries: 0,
        ..CallPolicy::default()
    }
}

/// A running engine: where to send commands, where its updates arrive, and
/// its task.
pub type Spawned = (
    UnboundedSender<Command>,
    UnboundedReceiver<Update>,
    JoinHandle<()>,
);

/// Starts the engine on the current tokio runtime.
///
/// Returns the command sender, the update receiver, and the task. Send
/// `Command::Shutdown` (or drop the sender) and await the task to stop: it
/// returns once in-flight creates and notifies have recorded their outcome
/// (bounded by the request timeout).
///
/// Every provider call is counted against `polling.requests_per_minute` per
/// provider; build `services` with [`call_policy`] so client-side retries do
/// not add uncounted requests.
pub fn spawn(services: Services, polling: PollingConfig) -> Spawned {
    let plan = default_plan(&polling);
    spawn_with_plan(services, polling, plan)
}

/// [`spawn`] with a polling plan of the caller's (benchmarks run a plan
/// scaled to a faster clock).
pub fn spawn_with_plan(services: Services, polling: PollingConfig, plan: Plan) -> Spawned {
    start_engine(services, polling, plan, true)
}

/// [`spawn`] for a replica sharing its store with others: it polls and
/// fetches the balance only from `Command::Lead(true)` (it holds the
/// leader lock) until `Command::Lead(false)`. Everything asked of it
/// (creates, refreshes, notifies) it does either way.
pub fn spawn_replica(services: Services, polling: PollingConfig) -> Spawned {
    let plan = default_plan(&polling);
    start_engine(services, polling, plan, false)
}

fn default_plan(polling: &PollingConfig) -> Plan {
    Plan::for_interval(polling.session_interval.max(MIN_SESSION_INTERVAL))
}

fn start_engine(services: Services, polling: PollingConfig, plan: Plan, leading: bool) -> Spawned {
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (update_tx, update_rx) = mpsc::unbounded_channel();
    let mut engine = Engine::new(services, polling, plan, update_tx);
    engine.leading = leading;
    let task = tokio::spawn(engine.run(command_rx));
    (command_tx, update_rx, task)
}

/// The wall-clock time `after` from now, for the UI (which has no Instants).
fn timestamp_in(after: Duration) -> Timestamp {
    let now = Timestamp::now();
    jiff::SignedDuration::try_from(after)
        .ok()
        .and_then(|after| now.checked_add(after).ok())
        .unwrap_or(now)
}

/// How often the store is checked for other processes' writes.
const STORE_WATCH: Duration = Duration::from_secs(1);

/// What a task hands back to the loop.
enum Done {
    Balance(Result<BalanceReport, OpsError>),
    Poll {
        id: SessionId,
        provider: Provider,
        /// A scheduled poll (holds a concurrency permit) rather than a user refresh.
        scheduled: bool,
        /// The session was past its expiry when polled: whatever the answer, stop.
        last_check: bool,
        result: Result<PollOutcome, OpsError>,
    },
    Created {
        provider: Provider,
        result: Result<SessionRecord, CreateFailure>,
    },
    Tracked {
        provider: Provider,
        reference: String,
        result: Result<PollOutcome, OpsError>,
    },
    Link {
        link: LinkId,
        result: Result<(LinkReport, RecentNotifies), OpsError>,
    },
    Notify {
        link: LinkId,
        result: Result<NotifyResult, OpsError>,
    },
    /// The documents fetched, and why the rest were not (if any were not).
    Documents {
        id: SessionId,
        documents: Vec<Document>,
        failure: Option<String>,
    },
    /// Shutdown came before the request left; nothing was sent or written.
    Cancelled(TaskKind),
}

/// Messages a task sends before it is done.
enum Progress {
    NotifyStarted(AuditEntry),
}

/// The providers' rate counters as their latest answers reported them.
struct RateReadings {
    instantpay: Option<RateHeaders>,
    cashfree: Option<RateHeaders>,
}

impl RateReadings {
    /// When the provider's own counter says off-screen (or all) polls wait.
    fn hold(&self, provider: Provider, on_screen: bool, now: Instant) -> Option<Instant> {
        let headers = match provider {
            Provider::InstantPay => self.instantpay.as_ref(),
            Provider::Cashfree => self.cashfree.as_ref(),
        }?;
        schedule::rate_hold(headers, on_screen, now.into_std()).map(Instant::from_std)
    }
}

/// What a task was for, to clean up after it if it panics.
#[derive(Debug, Clone)]
enum TaskKind {
    Balance,
    Poll {
        id: SessionId,
        provider: Provider,
        scheduled: bool,
    },
    Notify(LinkId),
    Other,
}

/// A session under the scheduler.
struct Slot {
    record: SessionRecord,
    next_due: Instant,
    failures: u32,
    /// When the last poll of it was dispatched.
    last_poll: Option<Instant>,
}

/// One provider's share of the loop's state.
struct ProviderState {
    budget: Arc<Budget>,
    /// No polls before this (a 429's Retry-After).
    paused_until: Option<Instant>,
    /// No polls before this (the budget has no token yet; a user call waits).
    hold_until: Option<Instant>,
    slow_until: Option<Instant>,
    slow_factor: u32,
    backoff: Duration,
    polls_in_flight: usize,
    /// Since when calls have gone unanswered, and the last such failure.
    failing_since: Option<Timestamp>,
    last_failure: Option<String>,
    /// What the UI was last told, so it hears only of changes.
    reported: ProviderHealth,
}

impl ProviderState {
    fn health(&self, now: Instant) -> ProviderHealth {
        let slowed = self.slowed(now);
        ProviderHealth {
            failing_since: self.failing_since,
            last_failure: self.last_failure.clone(),
            slow_factor: if slowed { self.slow_factor } else { 1 },
            slowed_until: self
                .slow_until
                .filter(|_| slowed)
                .map(|until| timestamp_in(until.saturating_duration_since(now))),
        }
    }

    fn new(requests_per_minute: u32, minute: Duration) -> Self {
        ProviderState {
            budget: Arc::new(Budget::over(requests_per_minute, minute)),
            paused_until: None,
            hold_until: None,
            slow_until: None,
            slow_factor: 1,
            backoff: FIRST_BACKOFF,
            polls_in_flight: 0,
            failing_since: None,
            last_failure: None,
            reported: ProviderHealth::default(),
        }
    }

    /// When polls may go again, if not now.
    fn blocked_until(&self, now: Instant) -> Option<Instant> {
        [self.paused_until, self.hold_until]
            .into_iter()
            .flatten()
            .filter(|at| *at > now)
            .max()
    }

    fn slowed(&self, now: Instant) -> bool {
        self.slow_until.is_some_and(|until| until > now)
    }

    /// While slowed, one poll at a time probes whether the provider recovered,
    /// instead of a volley that would all meet the same 429.
    fn may_dispatch(&self, now: Instant) -> bool {
        !(self.slowed(now) && self.polls_in_flight > 0)
    }

    fn rate_limited(&mut self, retry_after: Option<Duration>, now: Instant) {
        let pause = retry_after
            .map(|d| d.clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER))
            .unwrap_or(self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        let until = now + pause;
        self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
        self.slow_factor = (self.slow_factor * 2).min(MAX_SLOW_FACTOR);
        self.slow_until = Some(now + SLOW_FOR);
    }

    /// The provider gave an answer (a refusal counts): it is reachable.
    fn reached(&mut self) {
        self.failing_since = None;
        self.last_failure = None;
    }

    fn answered(&mut self, now: Instant) {
        self.reached();
        if !self.slowed(now) {
            self.slow_factor = 1;
            self.slow_until = None;
            self.backoff = FIRST_BACKOFF;
        }
    }
}

#[derive(Default)]
struct BalanceState {
    in_flight: bool,
    last_start: Option<Instant>,
    /// The next automatic fetch; None while one runs or without InstantPay.
    next_auto: Option<Instant>,
}

struct Engine {
    services: Services,
    polling: PollingConfig,
    plan: Plan,
    /// Sessions someone has open on screen: polled at the fastest interval
    /// and first in line for the budget.
    on_screen: HashSet<SessionId>,
    updates: UnboundedSender<Update>,
    instantpay: ProviderState,
    cashfree: ProviderState,
    /// Bounds scheduled polls in flight; user calls do not take a permit.
    poll_permits: Arc<Semaphore>,
    slots: HashMap<SessionId, Slot>,
    /// Sessions with a poll in flight (scheduled or refresh).
    polling_now: HashSet<SessionId>,
    /// Sessions untracked in this run: late answers for them are dropped.
    untracked: HashSet<SessionId>,
    /// Links with a notify in flight: a second send is refused.
    notifying: HashSet<LinkId>,
    balance: BalanceState,
    reads: JoinSet<Done>,
    side_effects: JoinSet<Done>,
    kinds: HashMap<tokio::task::Id, TaskKind>,
    progress_tx: UnboundedSender<Progress>,
    progress_rx: Option<UnboundedReceiver<Progress>>,
    shutdown: CancellationToken,
    /// What the UI was last told of each session and audit row, so changes
    /// other processes make to the store can be told apart and sent on.
    known_sessions: HashMap<SessionId, SessionRecord>,
    known_audit: HashMap<i64, AuditEntry>,
    /// The newest balance reading the UI was told of: readings another
    /// replica (or a CLI) stored after it are sent on.
    balance_seen: Option<Timestamp>,
    /// The store's `data_version` when last looked at.
    data_version: Option<i64>,
    /// Whether this engine polls sessions and fetches the balance on its
    /// own: always in solo mode; among replicas, only the leader's.
    leading: bool,
}

impl Engine {
    fn new(
        services: Services,
        polling: PollingConfig,
        plan: Plan,
        updates: UnboundedSender<Update>,
    ) -> Self {
        let (progress_tx, progress_rx) = mpsc::unbounded_channel();
        Engine {
            instantpay: ProviderState::new(polling.requests_per_minute, plan.minute),
            cashfree: ProviderState::new(polling.requests_per_minute, plan.minute),
            poll_permits: Arc::new(Semaphore::new(polling.max_concurrent_polls.max(1))),
            services,
            polling,
            plan,
            on_screen: HashSet::new(),
            updates,
            slots: HashMap::new(),
            polling_now: HashSet::new(),
            untracked: HashSet::new(),
            notifying: HashSet::new(),
            balance: BalanceState::default(),
            reads: JoinSet::new(),
            side_effects: JoinSet::new(),
            kinds: HashMap::new(),
            progress_tx,
            progress_rx: Some(progress_rx),
            shutdown: CancellationToken::new(),
            known_sessions: HashMap::new(),
            known_audit: HashMap::new(),
            balance_seen: None,
            data_version: None,
            leading: true,
        }
    }

    async fn run(mut self, mut commands: UnboundedReceiver<Command>) {
        let Some(mut progress) = self.progress_rx.take() else {
            return;
        };
        self.start();
        let mut watch = tokio::time::interval(STORE_WATCH);
        watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            self.dispatch_due();
            let wake = self.next_wake();
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    None | Some(Command::Shutdown) => break,
                    Some(command) => self.handle(command),
                },
                // Before task results, so NotifyStarted precedes NotifyFinished.
                Some(message) = progress.recv() => self.on_progress(message),
                Some(joined) = self.side_effects.join_next_with_id(), if !self.side_effects.is_empty() => {
                    self.on_joined(joined);
                }
                Some(joined) = self.reads.join_next_with_id(), if !self.reads.is_empty() => {
                    self.on_joined(joined);
                }
                _ = watch.tick() => self.watch_store(false),
                _ = tokio::time::sleep_until(wake.unwrap_or_else(far_future)), if wake.is_some() => {}
            }
        }
        self.stop(&mut progress).await;
    }

    // ---- start and stop ----

    fn start(&mut self) {
        let interrupted = self.services.store().mark_interrupted();
        match interrupted {
            Ok(0) => {}
            Ok(count) => info!(
                count,
                "rows left in flight by the last run marked outcome-unknown"
            ),
            Err(e) => self.problem(format!("could not check for interrupted requests: {e}")),
        }
        // Read under one lock, reported after it is let go. Changes other
        // processes make from here on are picked up by `watch_store`.
        let loaded = {
            let store = self.services.store();
            self.data_version = store.data_version().ok();
            snapshot(&self.services, &store, Timestamp::now())
        };
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                // The dashboard starts with nothing rather than not at all.
                self.problem(format!("could not load the store: {e}"));
                Update::Loaded {
                    sessions: Vec::new(),
                    histories: HashMap::new(),
                    balance_history: Vec::new(),
                    audit: Vec::new(),
                    instantpay: self.services.setup(Provider::InstantPay),
                    cashfree: self.services.setup(Provider::Cashfree),
                }
            }
        };
        let Update::Loaded { sessions, .. } = &loaded else {
            return;
        };
        let now = Instant::now();
        for record in sessions {
            if pollable(record) {
                self.schedule(record.clone(), now);
            }
        }
        info!(
            sessions = sessions.len(),
            resumed = self.slots.len(),
            "engine started"
        );
        self.send(loaded);
        if self.services.is_configured(Provider::InstantPay) {
            self.balance.next_auto = Some(now);
        }
    }

    /// Stops polling at once; lets creates and notifies already sent record
    /// their outcome, within one request timeout.
    async fn stop(&mut self, progress: &mut UnboundedReceiver<Progress>) {
        self.shutdown.cancel();
        self.reads.abort_all();
        let pending = self.side_effects.len();
        if pending > 0 {
            info!(pending, "waiting for sends in flight to finish");
        }
        let grace = self.polling.request_timeout + SHUTDOWN_GRACE;
        let finished = tokio::time::timeout(grace, async {
            while let Some(joined) = self.side_effects.join_next_with_id().await {
                while let Ok(message) = progress.try_recv() {
                    self.on_progress(message);
                }
                self.on_joined(joined);
            }
        })
        .await;
        if finished.is_err() {
            warn!(
                left = self.side_effects.len(),
                "sends still in flight at shutdown; they will show as outcome unknown"
            );
            self.side_effects.abort_all();
        }
        while let Ok(message) = progress.try_recv() {
            self.on_progress(message);
        }
        info!("engine stopped");
    }

    // ---- commands ----

    fn handle(&mut self, command: Command) {
        match command {
            Command::RefreshBalance => self.start_balance(true),
            Command::CreateSession(request) => self.create(request),
            Command::TrackSession {
                provider,
                reference,
            } => self.track(provider, reference),
            Command::RefreshSession(id) => self.refresh(id),
            Command::StopTracking(id) => self.stop_tracking(id),
            Command::SetLabel { id, label } => self.set_label(id, label),
            // SQLite's data_version does not move for writes on this process's
            // own connection (the server's API): look anyway.
            Command::StoreChanged => self.watch_store(true),
            Command::OnScreen(ids) => self.on_screen(ids),
            Command::FetchDocuments(id) => self.fetch_documents(id),
            Command::LogReveal { id, documents } => self.log_reveal(&id, &documents),
            Command::LookupLink(link) => self.lookup(link),
            Command::SendNotify(link) => self.notify(link),
            Command::Lead(leading) => self.lead(leading),
            // Handled by the loop before it gets here.
            Command::Shutdown => {}
        }
    }

    fn lead(&mut self, leading: bool) {
        if leading == self.leading {
            return;
        }
        info!(leading, "leadership changed");
        self.leading = leading;
        if leading {
            // What the last leader wrote is the starting point.
            self.watch_store(true);
            if self.services.is_configured(Provider::InstantPay) && !self.balance.in_flight {
                self.balance.next_auto = Some(Instant::now());
            }
        }
    }

    fn start_balance(&mut self, manual: bool) {
        if !self.services.is_configured(Provider::InstantPay) {
            if manual {
                self.problem(OpsError::NotConfigured(Provider::InstantPay).to_string());
            }
            self.balance.next_auto = None;
            return;
        }
        let now = Instant::now();
        if self.balance.in_flight {
            debug!("balance refresh ignored: one is in flight");
            return;
        }
        if manual
            && self
                .balance
                .last_start
                .is_some_and(|at| now.duration_since(at) < BALANCE_DEBOUNCE)
        {
            debug!("balance refresh ignored: debounced");
            return;
        }
        self.balance.in_flight = true;
        self.balance.last_start = Some(now);
        self.balance.next_auto = None;
        self.send(Update::BalanceRefreshing);
        let services = self.services.clone();
        let budget = self.provider(Provider::InstantPay).budget.clone();
        let shutdown = self.shutdown.clone();
        self.spawn_read(TaskKind::Balance, async move {
            tokio::select! {
                _ = shutdown.cancelled() => return Done::Cancelled(TaskKind::Balance),
                _ = budget.take_priority() => {}
            }
            Done::Balance(services.fetch_balance().await)
        });
    }

    fn create(&mut self, request: SessionRequest) {
        let provider = request.provider;
        if !self.services.is_configured(provider) {
            self.problem(OpsError::NotConfigured(provider).to_string());
            return;
        }
        let services = self.services.clone();
        let budget = self.provider(provider).budget.clone();
        let shutdown = self.shutdown.clone();
        let kind = TaskKind::Other;
        let task = async move {
            tokio::select! {
                _ = shutdown.cancelled() => return Done::Cancelled(TaskKind::Other),
                _ = budget.take_priority() => {}
            }
            let result = services.create_session_keeping_row(&request).await;
            Done::Created { provider, result }
        };
        let handle = self.side_effects.spawn(task);
        self.kinds.insert(handle.id(), kind);
    }

    fn track(&mut self, provider: Provider, reference: String) {
        if !self.services.is_configured(provider) {
            self.problem(OpsError::NotConfigured(provider).to_string());
            return;
        }
        let services = self.services.clone();
        let budget = self.provider(provider).budget.clone();
        let shutdown = self.shutdown.clone();
        self.spawn_read(TaskKind::Other, async move {
            tokio::select! {
                _ = shutdown.cancelled() => return Done::Cancelled(TaskKind::Other),
                _ = budget.take_priority() => {}
            }
            let result = services.track_session(provider, &reference).await;
            Done::Tracked {
                provider,
                reference,
                result,
            }
        });
    }

    fn refresh(&mut self, id: SessionId) {
        if self.polling_now.contains(&id) {
            debug!(session = %id, "refresh ignored: a poll is in flight");
            return;
        }
        let record = match self.slots.get(&id) {
            Some(slot) => slot.record.clone(),
            None => {
                let found = self.services.store().find_session(id.as_str());
                match found {
                    Ok(Some(record)) => record,
                    Ok(None) => {
                        self.problem(format!("no tracked session {id}"));
                        return;
                    }
                    Err(e) => {
                        self.problem(format!("could not read session {id}: {e}"));
                        return;
                    }
                }
            }
        };
        let resolve = match &record.create_state {
            CreateState::Created => false,
            CreateState::Sending | CreateState::OutcomeUnknown(_)
                if record.provider == Provider::Cashfree =>
            {
                true
            }
            CreateState::Sending | CreateState::OutcomeUnknown(_) => {
                self.problem(words::unresolvable_create(&id));
                return;
            }
            CreateState::Failed(_) => {
                self.problem(format!(
                    "{id} was never created at {}: nothing to refresh (n creates a new session)",
                    record.provider
                ));
                return;
            }
        };
        self.untracked.remove(&id);
        let provider = record.provider;
        let last_check = expired(&record);
        let budget = self.provider(provider).budget.clone();
        let services = self.services.clone();
        let shutdown = self.shutdown.clone();
        let kind = TaskKind::Poll {
            id: id.clone(),
            provider,
            scheduled: false,
        };
        self.polling_now.insert(id.clone());
        self.spawn_read(kind.clone(), async move {
            tokio::select! {
                _ = shutdown.cancelled() => return Done::Cancelled(kind),
                _ = budget.take_priority() => {}
            }
            // A create that never answered is resolved by asking whether it
            // took effect; a created session is polled.
            let result = if resolve {
                services.reconcile_create(&record).await
            } else {
                services.poll_session(&record).await
            };
            Done::Poll {
                id,
                provider,
                scheduled: false,
                last_check,
                result,
            }
        });
    }

    fn session_record(&self, id: &SessionId) -> Option<SessionRecord> {
        if let Some(slot) = self.slots.get(id) {
            return Some(slot.record.clone());
        }
        self.services
            .store()
            .find_session(id.as_str())
            .ok()
            .flatten()
    }

    /// Fetches every consented document in a task (waiting out "still being
    /// prepared"); the contents go to the UI only.
    fn fetch_documents(&mut self, id: SessionId) {
        let Some(record) = self.session_record(&id) else {
            self.send(Update::DocumentsFailed {
                id,
                message: "payops no longer tracks this session".into(),
            });
            return;
        };
        let budget = self.provider(record.provider).budget.clone();
        let services = self.services.clone();
        self.spawn_read(TaskKind::Other, async move {
            let mut documents = Vec::new();
            let mut failure = None;
            for kind in to_fetch(&record.documents_consented, &record.documents_requested) {
                budget.take_priority().await;
                let fetched = services
                    .fetch_document_patiently(&record, kind, false, |_, _| {})
                    .await;
                failure = match fetched {
                    Ok(DocumentFetch::Ready(document)) => {
                        documents.push(document);
                        continue;
                    }
                    Ok(DocumentFetch::Expired { message }) => Some(format!(
                        "{kind}: no longer served ({message}); the hour after consent has passed"
                    )),
                    Ok(DocumentFetch::Preparing) => {
                        Some(format!("{kind}: still being prepared; d asks again"))
                    }
                    Err(error) => Some(format!("{kind}: {error}")),
                };
                break;
            }
            Done::Documents {
                id: record.id.clone(),
                documents,
                failure,
            }
        });
    }

    fn log_reveal(&mut self, id: &SessionId, documents: &[DocumentType]) {
        let Some(record) = self.session_record(id) else {
            return;
        };
        for document in documents {
            if let Err(e) = self
                .services
                .log_document_access(&record, *document, true, "ok")
            {
                self.problem(format!(
                    "could not log the reveal of {document} for {id}: {e}"
                ));
            }
        }
    }

    /// A session that comes on screen is asked about at once, unless it was
    /// just polled; one that leaves keeps its due time and slows from then on.
    fn on_screen(&mut self, ids: Vec<SessionId>) {
        let now = Instant::now();
        let shown: HashSet<SessionId> = ids.into_iter().collect();
        for id in shown.difference(&self.on_screen) {
            if let Some(slot) = self.slots.get_mut(id) {
                let ago = slot.last_poll.map(|at| now.duration_since(at));
                slot.next_due = slot.next_due.min(now + self.plan.on_screen_wait(ago));
            }
        }
        debug!(on_screen = shown.len(), "sessions on screen");
        self.on_screen = shown;
    }

    fn stop_tracking(&mut self, id: SessionId) {
        let stopped = self.services.store().set_tracking(&id, false);
        match stopped {
            Ok(()) => {
                self.slots.remove(&id);
                self.untracked.insert(id.clone());
                info!(session = %id, "stopped tracking");
                self.send(Update::SessionUntracked(id));
            }
            Err(e) => self.problem(format!("could not stop tracking {id}: {e}")),
        }
    }

    fn set_label(&mut self, id: SessionId, label: Option<String>) {
        let labelled = self.services.store().set_label(&id, label.as_deref());
        match labelled {
            Ok(record) => self.send(Update::SessionChanged {
                record,
                previous: None,
                event: None,
            }),
            Err(e) => self.problem(format!("could not label {id}: {e}")),
        }
    }

    fn lookup(&mut self, link: LinkId) {
        if !self.services.is_configured(Provider::InstantPay) {
            self.problem(OpsError::NotConfigured(Provider::InstantPay).to_string());
            return;
        }
        let services = self.services.clone();
        let budget = self.provider(Provider::InstantPay).budget.clone();
        let shutdown = self.shutdown.clone();
        self.spawn_read(TaskKind::Other, async move {
            tokio::select! {
                _ = shutdown.cancelled() => return Done::Cancelled(TaskKind::Other),
                _ = budget.take_priority() => {}
            }
            let result = services.lookup_link(&link).await;
            Done::Link { link, result }
        });
    }

    fn notify(&mut self, link: LinkId) {
        if !self.services.is_configured(Provider::InstantPay) {
            self.problem(OpsError::NotConfigured(Provider::InstantPay).to_string());
            return;
        }
        if !self.notifying.insert(link.clone()) {
            info!(link = %link, "second notify refused while the first is in flight");
            self.problem(format!("a notification for {link} is already being sent"));
            return;
        }
        let services = self.services.clone();
        let budget = self.provider(Provider::InstantPay).budget.clone();
        let shutdown = self.shutdown.clone();
        let progress = self.progress_tx.clone();
        let kind = TaskKind::Notify(link.clone());
        let task = async move {
            // Shutdown before the token means nothing was written or sent.
            tokio::select! {
                _ = shutdown.cancelled() => return Done::Cancelled(TaskKind::Notify(link)),
                _ = budget.take_priority() => {}
            }
            let started = match services.begin_notify(&link).await {
                Ok(started) => started,
                Err(e) => {
                    return Done::Notify {
                        link,
                        result: Err(e),
                    };
                }
            };
            // The loop may be gone at shutdown; the row is written either way.
            let _ = progress.send(Progress::NotifyStarted(started.clone()));
            let result = services.finish_notify(&started).await;
            Done::Notify { link, result }
        };
        let handle = self.side_effects.spawn(task);
        self.kinds.insert(handle.id(), kind);
    }

    // ---- scheduling ----

    fn schedule(&mut self, record: SessionRecord, due: Instant) {
        self.slots.insert(
            record.id.clone(),
            Slot {
                record,
                next_due: due,
                failures: 0,
                last_poll: None,
            },
        );
    }

    /// How long until `record` should be polled again, by the plan: its age,
    /// whether it is on screen, its failures and the provider's slow-down.
    fn wait(&self, record: &SessionRecord, failures: u32) -> Duration {
        let state = self.provider(record.provider);
        let now = Timestamp::now();
        let clock = SessionClock {
            age: Duration::try_from(now.duration_since(record.created_at)).unwrap_or_default(),
            until_expiry: Duration::try_from(record.expires_at.duration_since(now))
                .ok()
                .filter(|left| !left.is_zero()),
            on_screen: self.on_screen.contains(&record.id),
            failures,
            slow_factor: if state.slowed(Instant::now()) {
                state.slow_factor
            } else {
                1
            },
        };
        self.plan.wait(&clock, rand::random_range(0.0..=1.0))
    }

    /// Each provider's own rate counter, read once per pass over the sessions.
    fn rate_readings(&self) -> RateReadings {
        RateReadings {
            instantpay: self.services.rate_headers(Provider::InstantPay),
            cashfree: self.services.rate_headers(Provider::Cashfree),
        }
    }

    /// Starts every poll that is due and allowed: a concurrency permit and a
    /// token from the provider's budget, most overdue first.
    fn dispatch_due(&mut self) {
        if !self.leading {
            return;
        }
        let now = Instant::now();
        if self.balance.next_auto.is_some_and(|at| at <= now) && !self.balance.in_flight {
            self.start_balance(false);
        }
        // On-screen sessions first, then the most overdue.
        let mut due: Vec<(bool, Instant, SessionId)> = self
            .slots
            .iter()
            .filter(|(id, slot)| slot.next_due <= now && !self.polling_now.contains(*id))
            .map(|(id, slot)| (!self.on_screen.contains(id), slot.next_due, id.clone()))
            .collect();
        due.sort();
        let rates = self.rate_readings();
        for (off_screen, _, id) in due {
            let Some(slot) = self.slots.get(&id) else {
                continue;
            };
            let provider = slot.record.provider;
            let record = slot.record.clone();
            if rates.hold(provider, !off_screen, now).is_some() {
                continue;
            }
            let state = self.provider_mut(provider);
            if state.blocked_until(now).is_some() || !state.may_dispatch(now) {
                continue;
            }
            if state.budget.priority_waiting() {
                state.hold_until = Some(now + PRIORITY_RECHECK);
                continue;
            }
            let Ok(permit) = self.poll_permits.clone().try_acquire_owned() else {
                // A finishing poll frees a permit and wakes the loop.
                break;
            };
            let state = self.provider_mut(provider);
            if let Err(wait) = state.budget.try_take() {
                debug!(provider = provider.as_str(), ?wait, "poll budget exhausted");
                state.hold_until = Some(now + wait);
                continue;
            }
            state.polls_in_flight += 1;
            if let Some(slot) = self.slots.get_mut(&id) {
                slot.last_poll = Some(now);
            }
            let last_check = expired(&record);
            let services = self.services.clone();
            self.polling_now.insert(id.clone());
            debug!(session = %id, provider = provider.as_str(), last_check, "polling");
            let kind = TaskKind::Poll {
                id: id.clone(),
                provider,
                scheduled: true,
            };
            self.spawn_read(kind, async move {
                let _permit = permit;
                let result = services.poll_session(&record).await;
                Done::Poll {
                    id,
                    provider,
                    scheduled: true,
                    last_check,
                    result,
                }
            });
        }
    }

    /// When the loop must wake by itself: the next due poll that could be
    /// dispatched then, or the next automatic balance fetch.
    fn next_wake(&self) -> Option<Instant> {
        if !self.leading {
            return None;
        }
        let now = Instant::now();
        let mut wake = if self.balance.in_flight {
            None
        } else {
            self.balance.next_auto
        };
        // With every permit taken, a finishing poll wakes the loop instead.
        if self.poll_permits.available_permits() > 0 {
            let rates = self.rate_readings();
            for (id, slot) in &self.slots {
                if self.polling_now.contains(id) {
                    continue;
                }
                let state = self.provider(slot.record.provider);
                if !state.may_dispatch(now) {
                    continue;
                }
                let held = rates.hold(slot.record.provider, self.on_screen.contains(id), now);
                let at = [state.blocked_until(now), held]
                    .into_iter()
                    .flatten()
                    .fold(slot.next_due, Instant::max);
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
        }
        wake
    }

    // ---- results ----

    fn on_progress(&mut self, message: Progress) {
        match message {
            Progress::NotifyStarted(entry) => {
                info!(link = %entry.link_id, audit = entry.id, "notify sending");
                self.send(Update::NotifyStarted(entry));
            }
        }
    }

    fn on_joined(&mut self, joined: Result<(tokio::task::Id, Done), tokio::task::JoinError>) {
        match joined {
            Ok((task, done)) => {
                self.kinds.remove(&task);
                self.on_done(done);
            }
            Err(e) => {
                let kind = self.kinds.remove(&e.id()).unwrap_or(TaskKind::Other);
                if e.is_panic() {
                    warn!(?kind, "engine task panicked");
                    self.problem("internal error: a background task failed".to_string());
                }
                self.release(&kind);
            }
        }
    }

    /// Clears what a task held when it ends without an answer.
    fn release(&mut self, kind: &TaskKind) {
        match kind {
            TaskKind::Balance => self.balance_finished(false),
            TaskKind::Poll {
                id,
                provider,
                scheduled,
            } => {
                self.polling_now.remove(id);
                if *scheduled {
                    let state = self.provider_mut(*provider);
                    state.polls_in_flight = state.polls_in_flight.saturating_sub(1);
                }
                let retry = self.slots.get(id).map(|slot| self.wait(&slot.record, 1));
                if let (Some(slot), Some(retry)) = (self.slots.get_mut(id), retry) {
                    slot.next_due = Instant::now() + retry;
                }
            }
            TaskKind::Notify(link) => {
                self.notifying.remove(link);
            }
            TaskKind::Other => {}
        }
    }

    /// Schedules the next automatic fetch: the configured interval after a
    /// success, but no later than `MIN_BALANCE_INTERVAL` after a failure, so a
    /// passing fault does not leave the operator on a stale figure for long.
    fn balance_finished(&mut self, succeeded: bool) {
        self.balance.in_flight = false;
        if self.services.is_configured(Provider::InstantPay) {
            let every = self.polling.balance_interval.max(MIN_BALANCE_INTERVAL);
            let next = if succeeded {
                every
            } else {
                every.min(MIN_BALANCE_INTERVAL)
            };
            self.balance.next_auto = Some(Instant::now() + next);
        }
    }

    fn on_done(&mut self, done: Done) {
        match done {
            Done::Balance(result) => {
                self.balance_finished(result.is_ok());
                match result {
                    Ok(report) => {
                        self.answered(Provider::InstantPay);
                        debug!("balance fetched");
                        self.send(Update::BalanceFetched(report));
                    }
                    Err(OpsError::Provider(e)) => {
                        self.provider_failed(Provider::InstantPay, &e);
                        info!(kind = e.kind(), "balance fetch failed");
                        self.send(Update::BalanceFailed(e));
                    }
                    Err(e) => self.problem(format!("balance: {e}")),
                }
            }
            Done::Poll {
                id,
                provider,
                scheduled,
                last_check,
                result,
            } => self.on_poll(id, provider, scheduled, last_check, result),
            Done::Created { provider, result } => match result {
                Ok(record) => {
                    self.answered(provider);
                    info!(session = %record.id, provider = provider.as_str(), "session created");
                    if pollable(&record) {
                        let due = Instant::now() + self.wait(&record, 0);
                        self.schedule(record.clone(), due);
                    }
                    let event = Some(record.status_event());
                    self.send(Update::SessionChanged {
                        record,
                        previous: None,
                        event,
                    });
                }
                Err(CreateFailure { record, error }) => {
                    let id = record.as_ref().map(|r| r.id.clone());
                    if let Some(record) = record {
                        self.send(Update::SessionChanged {
                            record,
                            previous: None,
                            event: None,
                        });
                    }
                    match error {
                        OpsError::Provider(error) => {
                            self.provider_failed(provider, &error);
                            info!(
                                provider = provider.as_str(),
                                kind = error.kind(),
                                "create failed"
                            );
                            self.send(Update::CreateFailed {
                                id,
                                provider,
                                error,
                            });
                        }
                        other => self.problem(format!("creating a {provider} session: {other}")),
                    }
                }
            },
            Done::Tracked {
                provider,
                reference,
                result,
            } => match result {
                Ok(outcome) => {
                    self.answered(provider);
                    let id = outcome.record.id.clone();
                    info!(session = %id, provider = provider.as_str(), "tracking session");
                    self.untracked.remove(&id);
                    if pollable(&outcome.record) && !expired(&outcome.record) {
                        let due = Instant::now() + self.wait(&outcome.record, 0);
                        self.schedule(outcome.record.clone(), due);
                    }
                    self.send_outcome(outcome);
                }
                Err(OpsError::Provider(error)) => {
                    self.provider_failed(provider, &error);
                    self.send(Update::TrackFailed {
                        provider,
                        reference,
                        error,
                    });
                }
                Err(e) => self.problem(format!("tracking a {provider} session: {e}")),
            },
            Done::Link { link, result } => match result {
                Ok((report, recent)) => {
                    self.answered(Provider::InstantPay);
                    self.send(Update::LinkLooked { report, recent });
                }
                Err(OpsError::Provider(error)) => {
                    self.provider_failed(Provider::InstantPay, &error);
                    self.send(Update::LinkFailed { link, error });
                }
                Err(e) => self.problem(format!("looking up {link}: {e}")),
            },
            Done::Notify { link, result } => {
                self.notifying.remove(&link);
                match result {
                    Ok(NotifyResult { entry, error }) => {
                        match &error {
                            Some(error) => self.provider_failed(Provider::InstantPay, error),
                            None => self.answered(Provider::InstantPay),
                        }
                        info!(
                            link = %link,
                            audit = entry.id,
                            outcome = entry.outcome.as_str(),
                            "notify finished"
                        );
                        self.send(Update::NotifyFinished { entry, error });
                    }
                    Err(e) => self.problem(format!("notify for {link}: {e}")),
                }
            }
            Done::Documents {
                id,
                documents,
                failure,
            } => {
                if !documents.is_empty() {
                    self.send(Update::Documents {
                        id: id.clone(),
                        documents,
                    });
                }
                if let Some(message) = failure {
                    self.send(Update::DocumentsFailed { id, message });
                }
            }
            Done::Cancelled(kind) => self.release(&kind),
        }
    }

    fn on_poll(
        &mut self,
        id: SessionId,
        provider: Provider,
        scheduled: bool,
        last_check: bool,
        result: Result<PollOutcome, OpsError>,
    ) {
        self.polling_now.remove(&id);
        let now = Instant::now();
        if scheduled {
            let state = self.provider_mut(provider);
            state.polls_in_flight = state.polls_in_flight.saturating_sub(1);
        }
        if self.untracked.contains(&id) {
            debug!(session = %id, "answer for an untracked session dropped");
            return;
        }
        match result {
            Ok(outcome) => {
                self.answered(provider);
                let record = &outcome.record;
                let keep = pollable(record) && !last_check;
                if keep {
                    let next = now + self.wait(record, 0);
                    match self.slots.get_mut(&id) {
                        Some(slot) => {
                            slot.record = record.clone();
                            slot.failures = 0;
                            slot.next_due = next;
                        }
                        None => self.schedule(record.clone(), next),
                    }
                } else if self.slots.remove(&id).is_some() {
                    debug!(
                        session = %id,
                        status = %record.status,
                        last_check,
                        "polling stopped"
                    );
                }
                if outcome.previous.is_some() {
                    info!(session = %id, status = %record.status, "session status changed");
                }
                self.send_outcome(outcome);
            }
            Err(OpsError::Provider(error)) => {
                let rate_limited = matches!(error, ProviderError::RateLimited { .. });
                self.provider_failed(provider, &error);
                debug!(session = %id, kind = error.kind(), "poll failed");
                // A 429 is not an answer: an expired session still gets its last check.
                let mut retry_in = None;
                if last_check && !rate_limited {
                    self.slots.remove(&id);
                } else if let Some(slot) = self.slots.get(&id) {
                    let failures = slot.failures + u32::from(!rate_limited);
                    let wait = self.wait(&slot.record, failures);
                    let paused = self
                        .provider(provider)
                        .blocked_until(now)
                        .map(|until| until - now);
                    retry_in = Some(paused.map_or(wait, |paused| paused.max(wait)));
                    if let Some(slot) = self.slots.get_mut(&id) {
                        slot.failures = failures;
                        slot.next_due = now + wait;
                    }
                }
                // The store wrote the error on the row; the UI's copy gets it too.
                match self.session_record(&id) {
                    Some(mut record) => {
                        record.last_error = Some(error.to_string());
                        if let Some(slot) = self.slots.get_mut(&id) {
                            slot.record.last_error = record.last_error.clone();
                        }
                        self.send(Update::PollFailed {
                            record,
                            error,
                            retry_in,
                        });
                    }
                    None => {
                        self.problem(format!("session {id}: {}", words::describe_error(&error)))
                    }
                }
            }
            Err(e @ (OpsError::NotConfigured(_) | OpsError::NotTracked(_))) => {
                self.slots.remove(&id);
                self.problem(format!("session {id}: {e}"));
            }
            Err(e) => {
                let next = self
                    .slots
                    .get(&id)
                    .map(|slot| now + self.wait(&slot.record, 0));
                if let (Some(slot), Some(next)) = (self.slots.get_mut(&id), next) {
                    slot.next_due = next;
                }
                self.problem(format!("session {id}: {e}"));
            }
        }
    }

    fn send_outcome(&mut self, outcome: PollOutcome) {
        let PollOutcome {
            record,
            previous,
            event,
            user_details,
        } = outcome;
        let id = record.id.clone();
        self.send(Update::SessionChanged {
            record,
            previous,
            event,
        });
        if let Some(details) = user_details {
            self.send(Update::SessionUserDetails { id, details });
        }
    }

    fn answered(&mut self, provider: Provider) {
        self.provider_mut(provider).answered(Instant::now());
        self.report_health(provider);
    }

    fn provider_failed(&mut self, provider: Provider, error: &ProviderError) {
        if error.is_unanswered() {
            let state = self.provider_mut(provider);
            state.failing_since.get_or_insert_with(Timestamp::now);
            state.last_failure = Some(words::describe_error(error));
        } else if !matches!(error, ProviderError::RateLimited { .. }) {
            self.provider_mut(provider).reached();
        }
        if let ProviderError::RateLimited { retry_after, .. } = error {
            let state = self.provider_mut(provider);
            state.rate_limited(*retry_after, Instant::now());
            info!(
                provider = provider.as_str(),
                ?retry_after,
                slow_factor = state.slow_factor,
                "rate limited: polling paused and slowed"
            );
        }
        self.report_health(provider);
    }

    /// Tells the UI how a provider's calls go, when that changed.
    fn report_health(&mut self, provider: Provider) {
        let state = self.provider_mut(provider);
        let health = state.health(Instant::now());
        if health != state.reported {
            state.reported = health.clone();
            self.send(Update::Health { provider, health });
        }
    }

    // ---- plumbing ----

    fn spawn_read<F>(&mut self, kind: TaskKind, task: F)
    where
        F: Future<Output = Done> + Send + 'static,
    {
        let handle = self.reads.spawn(task);
        self.kinds.insert(handle.id(), kind);
    }

    fn provider(&self, provider: Provider) -> &ProviderState {
        match provider {
            Provider::InstantPay => &self.instantpay,
            Provider::Cashfree => &self.cashfree,
        }
    }

    fn provider_mut(&mut self, provider: Provider) -> &mut ProviderState {
        match provider {
            Provider::InstantPay => &mut self.instantpay,
            Provider::Cashfree => &mut self.cashfree,
        }
    }

    fn send(&mut self, update: Update) {
        match &update {
            Update::SessionChanged { record, .. } | Update::PollFailed { record, .. } => {
                self.known_sessions
                    .insert(record.id.clone(), record.clone());
            }
            Update::SessionUntracked(id) => {
                self.known_sessions.remove(id);
            }
            Update::NotifyStarted(entry)
            | Update::NotifyFinished { entry, .. }
            | Update::AuditChanged(entry) => {
                self.known_audit.insert(entry.id, entry.clone());
            }
            Update::BalanceFetched(report) => {
                self.balance_seen = self.balance_seen.max(Some(report.fetched_at));
            }
            Update::Loaded {
                sessions,
                audit,
                balance_history,
                ..
            } => {
                self.balance_seen = balance_history.iter().map(|s| s.at).max();
                self.known_sessions = sessions
                    .iter()
                    .map(|record| (record.id.clone(), record.clone()))
                    .collect();
                self.known_audit = audit.iter().map(|e| (e.id, e.clone())).collect();
            }
            _ => {}
        }
        // The UI may have gone first at shutdown; nothing to tell then.
        let _ = self.updates.send(update);
    }

    /// Picks up what other processes wrote to the store (a session created
    /// or polled by the CLI, a notify sent from a second dashboard) and
    /// tells the UI, so every window shows one truth within a second or two.
    fn watch_store(&mut self, force: bool) {
        let version = match self.services.store().data_version() {
            Ok(version) => version,
            Err(e) => {
                debug!(error = %e, "could not read the store's data_version");
                return;
            }
        };
        if self.data_version.replace(version) == Some(version) && !force {
            return;
        }
        let old_final = Timestamp::now()
            .checked_sub(RECENT_FINAL)
            .unwrap_or(Timestamp::MIN);
        let sessions = self.services.store().list_sessions(true);
        let audit = self.services.store().list_audit(AUDIT_HISTORY);
        let (sessions, audit) = match (sessions, audit) {
            (Ok(sessions), Ok(audit)) => (sessions, audit),
            (Err(e), _) | (_, Err(e)) => {
                debug!(error = %e, "could not re-read the store");
                return;
            }
        };
        for record in sessions {
            // Our own work in flight reports itself when it is done.
            if self.polling_now.contains(&record.id)
                || record.create_state == CreateState::Sending
                || self.untracked.contains(&record.id)
            {
                continue;
            }
            let known = self.known_sessions.get(&record.id);
            // Unchanged, or long finished and never shown (as at start).
            if known == Some(&record)
                || (known.is_none() && record.is_finished() && record.updated_at < old_final)
            {
                continue;
            }
            if !record.tracking {
                if known.is_some() {
                    self.slots.remove(&record.id);
                    self.send(Update::SessionUntracked(record.id));
                }
                continue;
            }
            let previous = known
                .filter(|old| old.status != record.status)
                .map(|old| old.status.clone());
            let event = (known.is_none() || previous.is_some()).then(|| record.status_event());
            match self.slots.get_mut(&record.id) {
                Some(slot) => slot.record = record.clone(),
                None if pollable(&record) && !expired(&record) => {
                    let due = Instant::now() + self.wait(&record, 0);
                    self.schedule(record.clone(), due);
                }
                None => {}
            }
            debug!(session = %record.id, "changed by another process");
            self.send(Update::SessionChanged {
                record,
                previous,
                event,
            });
        }
        for entry in audit {
            if self.known_audit.get(&entry.id) != Some(&entry) {
                self.send(Update::AuditChanged(entry));
            }
        }
        self.watch_balance();
    }

    /// Balance readings stored by someone else since the last one shown.
    fn watch_balance(&mut self) {
        let since = match self.balance_seen {
            Some(seen) => seen
                .checked_add(SignedDuration::from_micros(1))
                .unwrap_or(seen),
            None => Timestamp::now()
                .checked_sub(BALANCE_HISTORY)
                .unwrap_or(Timestamp::MIN),
        };
        let readings = match self.services.store().balance_since(since) {
            Ok(readings) => readings,
            Err(e) => {
                debug!(error = %e, "could not read new balance readings");
                return;
            }
        };
        for reading in readings {
            if self.balance_seen.is_some_and(|seen| reading.at <= seen) {
                continue;
            }
            self.send(Update::BalanceFetched(BalanceReport {
                account: reading.account,
                available: reading.available,
                total: reading.total,
                lien: reading.lien,
                environment: None,
                fetched_at: reading.at,
                request_id: reading.request_id,
            }));
        }
    }

    fn problem(&mut self, message: String) {
        warn!(%message, "engine problem");
        self.send(Update::Problem(message));
    }
}

/// What a dashboard starts from, as `Update::Loaded`: the tracked sessions
/// worth showing (not final, or final within the last hour) with their
/// histories, the balance history and the recent notify audit. The engine
/// sends it at start; team mode's server sends it to every client that
/// connects, and again to one that fell behind.
pub fn snapshot(services: &Services, store: &Store, now: Timestamp) -> Result<Update, StoreError> {
    let since = now.checked_sub(RECENT_FINAL).unwrap_or(Timestamp::MIN);
    let sessions: Vec<SessionRecord> = store
        .list_sessions(true)?
        .into_iter()
        .filter(|r| r.tracking && (!r.status.is_final() || r.updated_at >= since))
        .collect();
    let mut histories = store.tracked_histories()?;
    let shown: HashSet<&SessionId> = sessions.iter().map(|record| &record.id).collect();
    histories.retain(|id, _| shown.contains(id));
    Ok(Update::Loaded {
        histories,
        balance_history: store
            .balance_since(now.checked_sub(BALANCE_HISTORY).unwrap_or(Timestamp::MIN))?,
        audit: store.list_audit(AUDIT_HISTORY)?,
        sessions,
        instantpay: services.setup(Provider::InstantPay),
        cashfree: services.setup(Provider::Cashfree),
    })
}

/// A session the scheduler should poll: created, tracked, not final.
fn pollable(record: &SessionRecord) -> bool {
    record.tracking && record.is_live()
}

/// Past the 10-minute window: one last check, then no more polls.
fn expired(record: &SessionRecord) -> bool {
    record.expires_at <= Timestamp::now()
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}
