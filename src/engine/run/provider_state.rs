//! One provider's share of the loop's state: its request budget, pauses and
//! slow-downs after rate limits, backoff after failures, and the health the
//! UI is told of; and the rate counters providers report.

use super::*;

/// How long a provider stays slowed after its last 429.
const SLOW_FOR: Duration = Duration::from_secs(120);
const MAX_SLOW_FACTOR: u32 = 8;
/// Pause after a 429 without Retry-After; doubles per 429 up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A Retry-After beyond this is treated as this (a typo must not freeze polling).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
const MIN_RETRY_AFTER: Duration = Duration::from_millis(500);

/// The providers' rate counters as their latest answers reported them.
pub(super) struct RateReadings {
    pub(super) instantpay: Option<RateHeaders>,
    pub(super) cashfree: Option<RateHeaders>,
}

impl RateReadings {
    /// When the provider's own counter says off-screen (or all) polls wait.
    pub(super) fn hold(
        &self,
        provider: Provider,
        on_screen: bool,
        now: Instant,
    ) -> Option<Instant> {
        let headers = self.get(provider)?;
        schedule::rate_hold(headers, on_screen, now.into_std()).map(Instant::from_std)
    }

    pub(super) fn get(&self, provider: Provider) -> Option<&RateHeaders> {
        match provider {
            Provider::InstantPay => self.instantpay.as_ref(),
            Provider::Cashfree => self.cashfree.as_ref(),
        }
    }
}

/// One provider's share of the loop's state.
pub(super) struct ProviderState {
    pub(super) budget: Arc<Budget>,
    /// No polls before this (a 429's Retry-After).
    pub(super) paused_until: Option<Instant>,
    /// No polls before this (the budget has no token yet; a user call waits).
    pub(super) hold_until: Option<Instant>,
    pub(super) slow_until: Option<Instant>,
    pub(super) slow_factor: u32,
    pub(super) backoff: Duration,
    pub(super) polls_in_flight: usize,
    /// Since when calls have gone unanswered, and the last such failure.
    pub(super) failing_since: Option<Timestamp>,
    /// When the provider last sent any answer at all, good or not.
    pub(super) heard_at: Option<Instant>,
    pub(super) last_failure: Option<String>,
    /// The failing calls got no connection at all.
    pub(super) unreachable: bool,
    /// Since when the provider has refused our credentials.
    pub(super) rejected_since: Option<Timestamp>,
    /// What the UI was last told, so it hears only of changes.
    pub(super) reported: ProviderHealth,
}

impl ProviderState {
    pub(super) fn health(&self, now: Instant) -> ProviderHealth {
        let slowed = self.slowed(now);
        ProviderHealth {
            failing_since: self.failing_since,
            last_failure: self.last_failure.clone(),
            unreachable: self.failing_since.is_some() && self.unreachable,
            credentials_rejected_since: self.rejected_since,
            slow_factor: if slowed { self.slow_factor } else { 1 },
            slowed_until: self
                .slow_until
                .filter(|_| slowed)
                .map(|until| timestamp_in(until.saturating_duration_since(now)))
                // To the second: health is told when it changes, and the
                // moment recomputed from a monotonic clock moves a little
                // each time.
                .and_then(|at| at.round(jiff::Unit::Second).ok()),
        }
    }

    pub(super) fn new(requests_per_minute: u32, minute: Duration) -> Self {
        ProviderState {
            budget: Arc::new(Budget::over(requests_per_minute, minute)),
            paused_until: None,
            hold_until: None,
            slow_until: None,
            slow_factor: 1,
            backoff: FIRST_BACKOFF,
            polls_in_flight: 0,
            failing_since: None,
            heard_at: None,
            last_failure: None,
            unreachable: false,
            rejected_since: None,
            reported: ProviderHealth::default(),
        }
    }

    /// When polls may go again, if not now.
    pub(super) fn blocked_until(&self, now: Instant) -> Option<Instant> {
        [self.paused_until, self.hold_until]
            .into_iter()
            .flatten()
            .filter(|at| *at > now)
            .max()
    }

    pub(super) fn slowed(&self, now: Instant) -> bool {
        self.slow_until.is_some_and(|until| until > now)
    }

    /// Whether the provider has answered anything within `within` (a
    /// refusal, a 429, a 500 and garbage count: calls fail, but it is
    /// there), or has not failed at all.
    pub(super) fn answers_within(&self, within: Duration, now: Instant) -> bool {
        self.failing_since.is_none()
            || self
                .heard_at
                .is_some_and(|heard| now.saturating_duration_since(heard) <= within)
    }

    /// Any answer came back (not a lost connection or a timeout).
    pub(super) fn heard(&mut self, now: Instant) {
        self.heard_at = Some(now);
    }

    /// While slowed, one poll at a time probes whether the provider
    /// recovered, instead of a volley that would all meet the same 429 (a
    /// session on screen does not wait for the probe).
    pub(super) fn may_dispatch(&self, now: Instant) -> bool {
        !(self.slowed(now) && self.polls_in_flight > 0)
    }

    pub(super) fn rate_limited(&mut self, retry_after: Option<Duration>, now: Instant) {
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
    pub(super) fn reached(&mut self) {
        self.failing_since = None;
        self.last_failure = None;
        self.unreachable = false;
        self.rejected_since = None;
    }

    pub(super) fn answered(&mut self, now: Instant) {
        self.reached();
        self.heard(now);
        if !self.slowed(now) {
            self.slow_factor = 1;
            self.slow_until = None;
            self.backoff = FIRST_BACKOFF;
        }
    }
}
