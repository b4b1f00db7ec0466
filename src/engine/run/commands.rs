//! The engine's answers to what the UI asks: each command starts its work
//! (a task for anything that calls a provider) and says so at once.

use super::*;

impl Engine {
    pub(super) fn handle(&mut self, command: Command) {
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
            Command::Lead(lease) => self.lead(lease),
            // Handled by the loop before it gets here.
            Command::Shutdown => {}
        }
    }

    pub(super) fn lead(&mut self, lease: Option<crate::store::Lease>) {
        if lease == self.lease {
            return;
        }
        let leading = lease.is_some();
        info!(
            leading,
            epoch = lease.as_ref().map(|l| l.epoch),
            "leadership changed"
        );
        self.lease = lease;
        if leading == self.leading {
            return;
        }
        self.leading = leading;
        if leading {
            // What the last leader wrote is the starting point.
            self.watch_store(true);
            if self.services.is_configured(Provider::InstantPay) && !self.balance.in_flight {
                self.balance.next_auto = Some(Instant::now());
            }
        }
    }

    pub(super) fn start_balance(&mut self, manual: bool) {
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
        // The timed fetch is the leader's, fenced by its lease; one asked
        // for is anyone's.
        let lease = if manual { None } else { self.lease.clone() };
        self.spawn_priority_read(
            TaskKind::Balance,
            Provider::InstantPay,
            |services| async move {
                Done::Balance(services.fetch_balance_under(lease.as_ref()).await)
            },
        );
    }

    pub(super) fn create(&mut self, request: SessionRequest) {
        let provider = request.provider;
        if !self.services.is_configured(provider) {
            self.problem(OpsError::NotConfigured(provider).to_string());
            return;
        }
        let budget = self.provider(provider).budget.clone();
        let task = self.prioritised(TaskKind::Other, provider, move |services| async move {
            let result = services.create_session_paced(&request, Some(&budget)).await;
            Done::Created { provider, result }
        });
        let handle = self.side_effects.spawn(task);
        self.kinds.insert(handle.id(), TaskKind::Other);
    }

    pub(super) fn track(&mut self, provider: Provider, reference: String) {
        if !self.services.is_configured(provider) {
            self.problem(OpsError::NotConfigured(provider).to_string());
            return;
        }
        self.spawn_priority_read(TaskKind::Other, provider, move |services| async move {
            let result = services.track_session(provider, &reference).await;
            Done::Tracked {
                provider,
                reference,
                result,
            }
        });
    }

    pub(super) fn refresh(&mut self, id: SessionId) {
        if self.polling_now.contains_key(&id) {
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
                self.problem(words::unresolvable_create(&id, "(n)"));
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
        let now = Instant::now();
        // Now, unless the provider asked us to wait (Retry-After, or its
        // counter at 0) or the budget has no token: then as soon as they
        // allow, and the operator is told exactly when.
        let state = self.provider(provider);
        let budget = state.budget.clone();
        let provider_hold = [
            state.paused_until,
            self.rate_readings().hold(provider, true, now),
        ]
        .into_iter()
        .flatten()
        .filter(|at| *at > now)
        .max();
        // A token is taken now only for a poll that goes now: one taken
        // before a hold would count in the wrong minute.
        let token = match provider_hold {
            Some(_) => Err(Duration::ZERO),
            None => budget.try_take(),
        };
        let ready = [provider_hold, token.err().map(|wait| now + wait)]
            .into_iter()
            .flatten()
            .max();
        if let Some(at) = ready.filter(|at| *at > now + REFRESH_SOON) {
            self.send(Update::PollWaits {
                id: id.clone(),
                at: timestamp_in(at - now),
            });
        }
        let sent = ready.unwrap_or(now).max(now);
        if let Some(slot) = self.slots.get_mut(&id) {
            slot.last_poll = Some(sent);
        }
        let services = self.services.clone();
        let shutdown = self.shutdown.clone();
        let kind = TaskKind::Poll {
            id: id.clone(),
            provider,
            scheduled: false,
        };
        // Out from when it goes: a refresh that waits is no hung poll.
        self.poll_out(&id, sent);
        self.spawn_read(kind.clone(), async move {
            let wait = async {
                if let Some(at) = provider_hold {
                    tokio::time::sleep_until(at).await;
                }
                if token.is_err() {
                    budget.take_priority().await;
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return Done::Cancelled(kind),
                () = wait => {}
            }
            // A create that never answered is resolved by asking whether it
            // took effect; a created session is polled.
            let result = if resolve {
                services.reconcile_create(&record).await
            } else {
                services.poll_session(&record).await
            };
            Done::Poll(PollDone {
                id,
                provider,
                scheduled: false,
                last_check,
                sent,
                result,
            })
        });
    }

    pub(super) fn session_record(&self, id: &SessionId) -> Option<SessionRecord> {
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
    pub(super) fn fetch_documents(&mut self, id: SessionId) {
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

    pub(super) fn log_reveal(&mut self, id: &SessionId, documents: &[DocumentType]) {
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
    pub(super) fn on_screen(&mut self, ids: Vec<SessionId>) {
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

    pub(super) fn stop_tracking(&mut self, id: SessionId) {
        let stopped = self.services.store().set_tracking(&id, false, None);
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

    pub(super) fn set_label(&mut self, id: SessionId, label: Option<String>) {
        let labelled = self.services.store().set_label(&id, label.as_deref(), None);
        match labelled {
            Ok(record) => self.send(Update::SessionChanged {
                record,
                previous: None,
                event: None,
            }),
            Err(e) => self.problem(format!("could not label {id}: {e}")),
        }
    }

    pub(super) fn lookup(&mut self, link: LinkId) {
        if !self.services.is_configured(Provider::InstantPay) {
            self.problem(OpsError::NotConfigured(Provider::InstantPay).to_string());
            return;
        }
        self.spawn_priority_read(
            TaskKind::Other,
            Provider::InstantPay,
            |services| async move {
                let result = services.lookup_link(&link).await;
                Done::Link { link, result }
            },
        );
    }

    pub(super) fn notify(&mut self, link: LinkId) {
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
}
