//! On a team server that expects Cashfree's webhook deliveries, Cashfree
//! sessions are polled at the safety net's pace; when deliveries stop
//! arriving for pending sessions, at the regular pace again until one
//! comes. Only the leader polls, so only its engine decides; /healthz on
//! any replica asks the same question of the same facts.

use super::*;
use crate::engine::schedule::WebhookPolling;

/// How often the leader looks for the team's last delivery.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// What the engine keeps to decide.
pub(super) struct WebhookWatch {
    /// The quiet period, when deliveries are expected.
    pub quiet: Option<Duration>,
    pub started: Timestamp,
    pub polling: WebhookPolling,
    pub checked: Option<Instant>,
}

impl WebhookWatch {
    pub fn new(quiet: Option<Duration>) -> Self {
        WebhookWatch {
            quiet,
            started: Timestamp::now(),
            polling: if quiet.is_some() {
                WebhookPolling::Slow
            } else {
                WebhookPolling::Off
            },
            checked: None,
        }
    }
}

impl Engine {
    /// Whether `record` waits for a delivery rather than a regular poll.
    pub(super) fn webhook_backed(&self, record: &SessionRecord) -> bool {
        record.provider == Provider::Cashfree && self.webhooks.polling == WebhookPolling::Slow
    }

    /// Looks again (every few seconds, as leader) whether deliveries are
    /// arriving; when they have stopped, Cashfree's sessions go back to
    /// the regular plan at once.
    pub(super) fn check_webhooks(&mut self) {
        if self.webhooks.quiet.is_none() || !self.leading {
            return;
        }
        let now = Instant::now();
        if self
            .webhooks
            .checked
            .is_some_and(|at| now.duration_since(at) < CHECK_EVERY)
        {
            return;
        }
        self.webhooks.checked = Some(now);
        let due = self
            .services
            .store()
            .delivery_facts(Provider::Cashfree, self.webhooks.started)
            .map(|(_, due)| due);
        let due = match due {
            Ok(due) => due,
            Err(e) => {
                debug!(error = %e, "could not read the webhook deliveries");
                return;
            }
        };
        let decided = WebhookPolling::decide(self.webhooks.quiet, due, Timestamp::now());
        let before = std::mem::replace(&mut self.webhooks.polling, decided);
        match (before, decided) {
            (WebhookPolling::Slow, WebhookPolling::Fallback { quiet_for }) => {
                warn!(
                    quiet_secs = quiet_for.as_secs(),
                    "a Cashfree webhook delivery was due and none arrived: polling Cashfree sessions at the regular pace until one does"
                );
                let due: Vec<(SessionId, SessionRecord)> = self
                    .slots
                    .iter()
                    .filter(|(_, slot)| slot.record.provider == Provider::Cashfree)
                    .map(|(id, slot)| (id.clone(), slot.record.clone()))
                    .collect();
                for (id, record) in due {
                    let wait = self.wait(&record, 0);
                    if let Some(slot) = self.slots.get_mut(&id) {
                        slot.next_due = slot.next_due.min(now + wait);
                    }
                }
            }
            (WebhookPolling::Fallback { .. }, WebhookPolling::Slow) => {
                info!("a Cashfree webhook delivery arrived: polling as a safety net only again");
            }
            _ => {}
        }
    }
}
