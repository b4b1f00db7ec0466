//! What others write to the store (another process on the same SQLite
//! file, another replica, the server's own API), picked up and told to the
//! UI; and the snapshot a dashboard starts from.

use super::*;

/// Final sessions older than this are not shown at start.
const RECENT_FINAL: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);
/// The balance chart's longest span (its 7-day view).
const BALANCE_HISTORY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 7);
const AUDIT_HISTORY: usize = 50;

impl Engine {
    /// A follower's providers are as healthy as the leader last found them:
    /// it polls nothing itself, and its dashboards and /healthz should not
    /// say "ok" through an outage.
    fn follow_health(&mut self) {
        let healths = match self.services.store().provider_healths() {
            Ok(healths) => healths,
            Err(e) => {
                debug!(error = %e, "could not read the providers' health");
                return;
            }
        };
        for (provider, json) in healths {
            let Ok(health) = serde_json::from_str::<ProviderHealth>(&json) else {
                debug!(
                    provider = provider.as_str(),
                    "unreadable provider health skipped"
                );
                continue;
            };
            self.adopt_health(provider, health);
        }
    }

    /// Picks up what other processes wrote to the store (a session created
    /// or polled by the CLI, a notify sent from a second dashboard) and
    /// tells the UI, so every window shows one truth within a second or two.
    pub(super) fn watch_store(&mut self, force: bool) {
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
        if !self.leading {
            self.follow_health();
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
            if self.polling_now.contains_key(&record.id)
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
            // A later word of the same status (a consent expiring) is a
            // history row too.
            let reworded = known.is_some_and(|old| old.provider_status != record.provider_status);
            let event =
                (known.is_none() || previous.is_some() || reworded).then(|| record.status_event());
            match self.slots.get_mut(&record.id) {
                // Final by someone else's word (a webhook delivery): no more polls.
                Some(_) if !pollable(&record) => {
                    self.slots.remove(&record.id);
                }
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
    pub(super) fn watch_balance(&mut self) {
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
}

/// What a dashboard starts from, as `Update::Loaded`: the tracked sessions
/// worth showing (not final, or final within the last day) with their
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
