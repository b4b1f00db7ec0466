//! What the engine's tasks bring back: polls, creates, lookups, notifies and
//! the balance, written into the schedule and the providers' state, and told
//! to the UI.

use super::*;

impl Engine {
    pub(super) fn on_progress(&mut self, message: Progress) {
        match message {
            Progress::NotifyStarted(entry) => {
                info!(link = %entry.link_id, audit = entry.id, "notify sending");
                self.send(Update::NotifyStarted(entry));
            }
        }
    }

    pub(super) fn on_joined(
        &mut self,
        joined: Result<(tokio::task::Id, Done), tokio::task::JoinError>,
    ) {
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
    pub(super) fn release(&mut self, kind: &TaskKind) {
        match kind {
            TaskKind::Balance => self.balance_finished(false),
            TaskKind::Poll {
                id,
                provider,
                scheduled,
            } => {
                self.poll_back(id);
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
    pub(super) fn balance_finished(&mut self, succeeded: bool) {
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

    pub(super) fn on_done(&mut self, done: Done) {
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
                    Err(OpsError::Store(StoreError::NotLeader(epoch))) => self.fenced(epoch),
                    Err(e) => self.problem(format!("balance: {e}")),
                }
            }
            Done::Poll(done) => self.on_poll(done),
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
                        other => self.problem(format!(
                            "creating {} session: {other}",
                            words::a_provider(provider)
                        )),
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
                    let already = self.known_sessions.get(&id).is_some_and(|r| r.tracking)
                        && !self.untracked.contains(&id);
                    info!(session = %id, provider = provider.as_str(), already, "tracking session");
                    self.untracked.remove(&id);
                    if pollable(&outcome.record) && !expired(&outcome.record) {
                        let due = Instant::now() + self.wait(&outcome.record, 0);
                        self.schedule(outcome.record.clone(), due);
                    }
                    self.send_outcome(outcome);
                    self.send(Update::Tracked {
                        id,
                        reference,
                        already,
                    });
                }
                Err(OpsError::Provider(error)) => {
                    self.provider_failed(provider, &error);
                    self.send(Update::TrackFailed {
                        provider,
                        reference,
                        error,
                    });
                }
                Err(e) => self.problem(format!(
                    "tracking {} session: {e}",
                    words::a_provider(provider)
                )),
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

    pub(super) fn on_poll(&mut self, done: PollDone) {
        let PollDone {
            id,
            provider,
            scheduled,
            last_check,
            sent,
            result,
        } = done;
        self.poll_back(&id);
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
                    let next = self.due_after(&id, self.wait(record, 0), now);
                    match self.slots.get_mut(&id) {
                        Some(slot) => {
                            slot.record = record.clone();
                            slot.failures = 0;
                            slot.next_due = next;
                            slot.answered = slot.answered.max(Some(sent));
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
            // A poll that hung while a second one got the answer (one that
            // may have ended the session's polling): nothing to tell.
            Err(OpsError::Provider(error))
                if match self.slots.get(&id) {
                    Some(slot) => slot.answered.is_some_and(|answered| answered > sent),
                    None => scheduled,
                } =>
            {
                debug!(session = %id, kind = error.kind(), "failure of an overtaken poll dropped");
                // Its error went on the row after the newer answer cleared
                // it: clear it again. A 429 still paces what follows.
                if let Err(e) = self
                    .services
                    .store()
                    .clear_poll_error(self.lease.as_ref(), &id)
                {
                    debug!(session = %id, error = %e, "overtaken poll's error not cleared");
                }
                if matches!(error, ProviderError::RateLimited { .. }) {
                    self.provider_failed(provider, &error);
                }
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
                    let next = self.due_after(&id, self.wait(&slot.record, failures), now);
                    let paused = self.provider(provider).blocked_until(now);
                    retry_in = Some(paused.map_or(next, |paused| paused.max(next)) - now);
                    if let Some(slot) = self.slots.get_mut(&id) {
                        slot.failures = failures;
                        slot.next_due = next;
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
            Err(OpsError::Store(StoreError::NotLeader(epoch))) => self.fenced(epoch),
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

    /// When a session waiting `wait` is next due: counted from when its
    /// last poll was sent, not from the answer, so a poll that hung until
    /// its timeout does not push the next one a whole interval further.
    fn due_after(&self, id: &SessionId, wait: Duration, now: Instant) -> Instant {
        self.slots
            .get(id)
            .and_then(|slot| slot.last_poll)
            .map_or(now + wait, |sent| (sent + wait).max(now))
    }

    /// A write as leader was refused: the lease it was made under lapsed
    /// or passed on (this replica was paused, or cut off from the
    /// database). Stop leading at once rather than at the lease's next
    /// renewal; the leader task says so too when it next tries.
    fn fenced(&mut self, epoch: i64) {
        if self
            .lease
            .as_ref()
            .is_some_and(|lease| lease.epoch == epoch)
        {
            warn!(
                epoch,
                "the leader lease passed on while this replica was away: it stops polling"
            );
            self.lead(None);
        }
    }

    pub(super) fn send_outcome(&mut self, outcome: PollOutcome) {
        let PollOutcome {
            record,
            mut previous,
            mut event,
            user_details,
        } = outcome;
        let id = record.id.clone();
        // Another writer (a webhook delivery, another replica) may have
        // written the change while this poll was out: the poll then finds
        // nothing new, but the UI has not been told yet.
        if previous.is_none()
            && let Some(told) = self.known_sessions.get(&id)
            && told.status != record.status
        {
            previous = Some(told.status.clone());
            event = event.or_else(|| Some(record.status_event()));
        }
        self.send(Update::SessionChanged {
            record,
            previous,
            event,
        });
        if let Some(details) = user_details {
            self.send(Update::SessionUserDetails { id, details });
        }
    }

    pub(super) fn answered(&mut self, provider: Provider) {
        let now = Instant::now();
        let was_silent = !self
            .provider(provider)
            .answers_within(self.plan.ceiling, now);
        self.provider_mut(provider).answered(now);
        if was_silent {
            self.catch_up(provider, now);
        }
        self.report_health(provider);
    }

    /// The provider answers again after a silence: waits set while it was
    /// silent (up to 16× the interval) come back within the plan, what is
    /// on screen at once.
    fn catch_up(&mut self, provider: Provider, now: Instant) {
        let (on_screen, ceiling) = (self.plan.on_screen, self.plan.ceiling);
        for (id, slot) in &mut self.slots {
            if slot.record.provider != provider {
                continue;
            }
            let within = if self.on_screen.contains(id) {
                on_screen
            } else {
                ceiling
            };
            slot.next_due = slot.next_due.min(now + within);
        }
    }

    pub(super) fn provider_failed(&mut self, provider: Provider, error: &ProviderError) {
        // Anything but a lost connection or a timeout is the provider answering.
        if !matches!(
            error,
            ProviderError::Transport { .. } | ProviderError::OutcomeUnknown { .. }
        ) {
            self.provider_mut(provider).heard(Instant::now());
        }
        if error.is_unanswered() {
            let state = self.provider_mut(provider);
            state.failing_since.get_or_insert_with(Timestamp::now);
            state.last_failure = Some(words::describe_error(error));
            state.unreachable = matches!(error, ProviderError::Transport { .. });
        } else if !matches!(error, ProviderError::RateLimited { .. }) {
            let state = self.provider_mut(provider);
            let rejected = state.rejected_since;
            state.reached();
            if matches!(error, ProviderError::Auth { .. }) {
                state.rejected_since = Some(rejected.unwrap_or_else(Timestamp::now));
                state.last_failure = Some(words::describe_error(error));
            }
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

    /// Tells the UI how a provider's calls go, when that changed; the log
    /// gets one line for each outage and each recovery, and the leader
    /// keeps it in the store for every replica and monitor.
    pub(super) fn report_health(&mut self, provider: Provider) {
        let state = self.provider_mut(provider);
        let health = state.health(Instant::now());
        let changed = health != state.reported;
        if self.leading && changed {
            self.share_health(provider, &health);
        }
        self.adopt_health(provider, health);
    }

    /// Takes `health` as `provider`'s (this engine's own finding, or the
    /// leader's read from the store), telling the log and the UI when it
    /// changed.
    pub(super) fn adopt_health(&mut self, provider: Provider, health: ProviderHealth) {
        let state = self.provider_mut(provider);
        if health == state.reported {
            return;
        }
        let previous = std::mem::replace(&mut state.reported, health.clone());
        log_health_change(provider, &previous, &health);
        self.send(Update::Health { provider, health });
    }

    /// Keeps the leader's view of `provider` in the store, where the other
    /// replicas (and their dashboards and /healthz) read it.
    fn share_health(&self, provider: Provider, health: &ProviderHealth) {
        let written = serde_json::to_string(health)
            .map_err(|e| e.to_string())
            .and_then(|json| {
                self.services
                    .store()
                    .record_provider_health(self.lease.as_ref(), provider, &json)
                    .map_err(|e| e.to_string())
            });
        if let Err(error) = written {
            debug!(%error, "provider health not shared");
        }
    }
}

/// One line when a provider goes down or comes back, and when it starts or
/// stops refusing our credentials.
fn log_health_change(provider: Provider, before: &ProviderHealth, now: &ProviderHealth) {
    let name = provider.display_name();
    let (was, _) = before.state();
    let (is, since) = now.state();
    if was == is {
        return;
    }
    let failure = now.last_failure.as_deref().unwrap_or("");
    match is {
        "ok" => info!(provider = provider.as_str(), was, "{name} answers again"),
        _ => warn!(
            provider = provider.as_str(),
            state = is,
            since = %since.map(|at| at.to_string()).unwrap_or_default(),
            "{name} {}: {failure}",
            is.replace('_', " ")
        ),
    }
}
