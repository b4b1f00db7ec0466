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
use crate::domain::{AuditEntry, CreateState, Learned, RecentNotifies, SessionRecord};
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
/// How often to look again while a user call waits for a provider's token.
const PRIORITY_RECHECK: Duration = Duration::from_millis(200);
/// A poll asked for that can go within this long is not announced as waiting.
const REFRESH_SOON: Duration = Duration::from_secs(1);
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
    let plan = plan_for(&polling);
    spawn_with_plan(services, polling, plan)
}

/// [`spawn`] with a polling plan of the caller's (benchmarks run a plan
/// scaled to a faster clock).
pub fn spawn_with_plan(services: Services, polling: PollingConfig, plan: Plan) -> Spawned {
    start_engine(services, polling, plan, true, None)
}

/// [`spawn`] for a replica sharing its store with others: it polls and
/// fetches the balance only from `Command::Lead(Some(lease))` (it holds the
/// leader lease) until `Command::Lead(None)`, each write as leader fenced
/// by the lease. Everything asked of it
/// (creates, refreshes, notifies) it does either way.
///
/// `webhook_quiet`, when Cashfree's webhook deliveries are expected: its
/// sessions are polled at the safety net's pace, and at the regular one
/// again while pending sessions go this long without a delivery.
pub fn spawn_replica(
    services: Services,
    polling: PollingConfig,
    plan: Plan,
    webhook_quiet: Option<Duration>,
) -> Spawned {
    start_engine(services, polling, plan, false, webhook_quiet)
}

/// [`spawn`] for the only server on an SQLite file: it always leads, and
/// with `webhook_quiet` relies on Cashfree's deliveries as
/// [`spawn_replica`] does.
pub fn spawn_sole_server(
    services: Services,
    polling: PollingConfig,
    plan: Plan,
    webhook_quiet: Option<Duration>,
) -> Spawned {
    start_engine(services, polling, plan, true, webhook_quiet)
}

/// The polling plan `[polling]` asks for.
pub fn plan_for(polling: &PollingConfig) -> Plan {
    Plan::for_interval(polling.session_interval.max(MIN_SESSION_INTERVAL))
}

fn start_engine(
    services: Services,
    polling: PollingConfig,
    plan: Plan,
    leading: bool,
    webhook_quiet: Option<Duration>,
) -> Spawned {
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (update_tx, update_rx) = mpsc::unbounded_channel();
    let mut engine = Engine::new(services, polling, plan, update_tx);
    engine.leading = leading;
    engine.webhooks = webhooks::WebhookWatch::new(webhook_quiet);
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

mod commands;
mod provider_state;
mod results;
mod watch;
mod webhooks;

use provider_state::{ProviderState, RateReadings};
pub use watch::snapshot;

/// How often the store is checked for other processes' writes.
const STORE_WATCH: Duration = Duration::from_secs(1);
/// After another replica's announcement, the wait for the rest of a burst
/// (a leader's round of polls) before one look covers them all.
const ANNOUNCED_SETTLE: Duration = Duration::from_millis(100);

/// Resolves when another replica announces a commit; never without a signal.
async fn announced_change(signal: Option<&tokio::sync::Notify>) {
    match signal {
        Some(signal) => signal.notified().await,
        None => std::future::pending().await,
    }
}

/// What a task hands back to the loop.
enum Done {
    Balance(Result<BalanceReport, OpsError>),
    Poll(PollDone),
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

/// A poll's answer, and what the loop needs to place it.
struct PollDone {
    id: SessionId,
    provider: Provider,
    /// A scheduled poll (holds a concurrency permit) rather than a user refresh.
    scheduled: bool,
    /// The session was past its expiry when polled: whatever the answer, stop.
    last_check: bool,
    /// When the poll went out: a failure older than an answer is overtaken.
    sent: Instant,
    result: Result<PollOutcome, OpsError>,
}

/// Messages a task sends before it is done.
enum Progress {
    NotifyStarted(AuditEntry),
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
    /// When the newest poll that got an answer was dispatched.
    answered: Option<Instant>,
}

/// The polls of one session out at once: one, or two when the one for a
/// session on screen hangs longer than its interval (a second goes rather
/// than wait out the timeout).
#[derive(Debug, Clone, Copy)]
struct InFlight {
    /// When the newest went out.
    since: Instant,
    polls: u8,
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
    polling_now: HashMap<SessionId, InFlight>,
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
    /// Among replicas, the lease this engine leads under: its polls and
    /// timed balance fetches are written only while it stands.
    lease: Option<crate::store::Lease>,
    /// Whether Cashfree's deliveries are expected, and arriving.
    webhooks: webhooks::WebhookWatch,
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
            polling_now: HashMap::new(),
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
            lease: None,
            webhooks: webhooks::WebhookWatch::new(None),
        }
    }

    async fn run(mut self, mut commands: UnboundedReceiver<Command>) {
        let Some(mut progress) = self.progress_rx.take() else {
            return;
        };
        self.start();
        let mut watch = tokio::time::interval(STORE_WATCH);
        watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let announced = self.services.store().change_signal();
        let mut look_at: Option<Instant> = None;
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
                _ = watch.tick() => {
                    self.watch_store(false);
                    self.check_webhooks();
                }
                // Another replica committed: look shortly, once for a burst.
                () = announced_change(announced.as_deref()), if look_at.is_none() => {
                    look_at = Some(Instant::now() + ANNOUNCED_SETTLE);
                }
                () = tokio::time::sleep_until(look_at.unwrap_or_else(far_future)), if look_at.is_some() => {
                    look_at = None;
                    self.watch_store(false);
                }
                _ = tokio::time::sleep_until(wake.unwrap_or_else(far_future)), if wake.is_some() => {}
            }
        }
        self.stop(&mut progress).await;
    }

    // ---- start and stop ----

    fn start(&mut self) {
        if self.services.store().read_only() {
            // Answers could not be kept: asking would only spend the budget.
            self.leading = false;
            self.problem(words::READ_ONLY_ENGINE.to_string());
        }
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

    // ---- scheduling ----

    fn schedule(&mut self, record: SessionRecord, due: Instant) {
        self.slots.insert(
            record.id.clone(),
            Slot {
                record,
                next_due: due,
                failures: 0,
                last_poll: None,
                answered: None,
            },
        );
    }

    /// Whether `id` may be polled now.
    fn may_poll(&self, id: &SessionId, now: Instant) -> bool {
        self.poll_allowed_from(id, now).is_some_and(|at| at <= now)
    }

    /// From when a poll of `id` may go, given what of it is out: `now`
    /// when nothing is; one on-screen interval after a lone poll of a
    /// session on screen went out (it hangs: a second goes rather than
    /// wait out the timeout); `None` while the polls out must come back.
    fn poll_allowed_from(&self, id: &SessionId, now: Instant) -> Option<Instant> {
        match self.polling_now.get(id) {
            None => Some(now),
            Some(out) if out.polls == 1 && self.on_screen.contains(id) => {
                Some(out.since + self.plan.on_screen)
            }
            Some(_) => None,
        }
    }

    /// A poll of `id` went out.
    fn poll_out(&mut self, id: &SessionId, now: Instant) {
        let out = self.polling_now.entry(id.clone()).or_insert(InFlight {
            since: now,
            polls: 0,
        });
        out.since = now;
        out.polls = out.polls.saturating_add(1);
    }

    /// A poll of `id` came back (or its task ended).
    fn poll_back(&mut self, id: &SessionId) {
        if let Some(out) = self.polling_now.get_mut(id) {
            out.polls = out.polls.saturating_sub(1);
            if out.polls == 0 {
                self.polling_now.remove(id);
            }
        }
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
            webhook_backed: self.webhook_backed(record),
            provider_answers: state.answers_within(self.plan.ceiling, Instant::now()),
        };
        self.plan.wait(&clock, rand::random_range(0.0..=1.0))
    }

    /// Each provider's own rate counter, read once per pass over the
    /// sessions; each budget keeps within the limit it reports.
    fn rate_readings(&self) -> RateReadings {
        let readings = RateReadings {
            instantpay: self.services.rate_headers(Provider::InstantPay),
            cashfree: self.services.rate_headers(Provider::Cashfree),
        };
        for provider in [Provider::InstantPay, Provider::Cashfree] {
            let limit = readings.get(provider).and_then(|headers| headers.limit);
            self.provider(provider).budget.cap_at(limit);
        }
        readings
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
            .filter(|(id, slot)| slot.next_due <= now && self.may_poll(id, now))
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
            // The probe after a 429 holds back what is off screen only.
            if state.blocked_until(now).is_some() || (off_screen && !state.may_dispatch(now)) {
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
            let lease = self.lease.clone();
            let hedge = self.polling_now.contains_key(&id);
            self.poll_out(&id, now);
            debug!(session = %id, provider = provider.as_str(), last_check, hedge, "polling");
            let kind = TaskKind::Poll {
                id: id.clone(),
                provider,
                scheduled: true,
            };
            self.spawn_read(kind, async move {
                let _permit = permit;
                let result = services
                    .poll_session_under(&record, lease.as_ref(), Learned::Poll)
                    .await;
                Done::Poll(PollDone {
                    id,
                    provider,
                    scheduled: true,
                    last_check,
                    sent: now,
                    result,
                })
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
                let Some(allowed) = self.poll_allowed_from(id, now) else {
                    continue;
                };
                let state = self.provider(slot.record.provider);
                let on_screen = self.on_screen.contains(id);
                if !on_screen && !state.may_dispatch(now) {
                    continue;
                }
                let held = rates.hold(slot.record.provider, on_screen, now);
                let at = [state.blocked_until(now), held, Some(allowed)]
                    .into_iter()
                    .flatten()
                    .fold(slot.next_due, Instant::max);
                wake = Some(wake.map_or(at, |w| w.min(at)));
            }
        }
        wake
    }

    // ---- plumbing ----

    fn spawn_read<F>(&mut self, kind: TaskKind, task: F)
    where
        F: Future<Output = Done> + Send + 'static,
    {
        let handle = self.reads.spawn(task);
        self.kinds.insert(handle.id(), kind);
    }

    /// A call the operator asked for (a balance, a lookup, a create): it
    /// goes first in the provider's budget, and a shutdown meanwhile
    /// cancels it.
    fn prioritised<F, Fut>(
        &self,
        kind: TaskKind,
        provider: Provider,
        call: F,
    ) -> impl Future<Output = Done> + Send + 'static
    where
        F: FnOnce(Services) -> Fut + Send + 'static,
        Fut: Future<Output = Done> + Send,
    {
        let services = self.services.clone();
        let budget = self.provider(provider).budget.clone();
        let shutdown = self.shutdown.clone();
        async move {
            tokio::select! {
                _ = shutdown.cancelled() => return Done::Cancelled(kind),
                _ = budget.take_priority() => {}
            }
            call(services).await
        }
    }

    /// A read the operator asked for, prioritised.
    fn spawn_priority_read<F, Fut>(&mut self, kind: TaskKind, provider: Provider, call: F)
    where
        F: FnOnce(Services) -> Fut + Send + 'static,
        Fut: Future<Output = Done> + Send,
    {
        let task = self.prioritised(kind.clone(), provider, call);
        self.spawn_read(kind, task);
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

    fn problem(&mut self, message: String) {
        warn!(%message, "engine problem");
        self.send(Update::Problem(message));
    }
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
