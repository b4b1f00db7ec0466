//! Per-provider request budget, shared by the engine loop (polls) and its
//! tasks (user-initiated calls).
//!
//! Providers count requests per minute (Cashfree's tiers), so the budget must
//! hold over *any* 60-second window, not just on average. A plain
//! `Quota::per_minute(n)` allows a burst of `n` on top of `n` a minute, which
//! could send `2n` in one window; here the burst is a tenth of the budget and
//! the steady rate the rest, so `burst + rate × 60 s ≤ n`.

use std::num::NonZeroU32;
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// The smallest wait reported, so a caller woken early does not spin.
const MIN_WAIT: Duration = Duration::from_millis(1);

/// A minute of the real clock (benchmarks run a faster one).
pub const MINUTE: Duration = Duration::from_secs(60);

/// The burst and the steady rate a `requests_per_minute` budget is split into.
pub fn split(requests_per_minute: u32) -> (u32, Duration) {
    split_over(requests_per_minute, MINUTE)
}

/// [`split`] for a budget counted over `minute` instead of 60 s.
pub fn split_over(requests_per_minute: u32, minute: Duration) -> (u32, Duration) {
    let rpm = requests_per_minute.max(1);
    let burst = (rpm / 10).max(1);
    let steady = rpm.saturating_sub(burst).max(1);
    // Rounded up so the steady part never exceeds its share of the minute.
    let period_ns = minute.as_nanos().div_ceil(u128::from(steady));
    let period = Duration::from_nanos(u64::try_from(period_ns).unwrap_or(u64::MAX));
    (burst, period)
}

/// The most requests a budget lets through in `window` (for tests and docs):
/// the burst plus one per period, plus one for a request on the window's edge.
pub fn max_requests_in(requests_per_minute: u32, window: Duration) -> u64 {
    let (burst, period) = split(requests_per_minute);
    let steady = window.as_nanos() / period.as_nanos().max(1);
    u64::from(burst) + u64::try_from(steady).unwrap_or(u64::MAX) + 1
}

/// One provider's budget.
pub struct Budget {
    /// The configured `requests_per_minute`, and the minute it counts over.
    configured: u32,
    minute: Duration,
    /// The rate in force (the configured one, or less when the provider
    /// says its limit is lower) and its limiter.
    limiter: RwLock<(u32, DefaultDirectRateLimiter)>,
    /// User-initiated calls waiting for a token; polls stand aside meanwhile.
    priority_waiting: AtomicUsize,
}

fn limiter(requests_per_minute: u32, minute: Duration) -> DefaultDirectRateLimiter {
    let (burst, period) = split_over(requests_per_minute, minute);
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
    RateLimiter::direct(quota)
}

impl Budget {
    pub fn new(requests_per_minute: u32) -> Budget {
        Budget::over(requests_per_minute, MINUTE)
    }

    /// A budget counted over `minute` (a scaled clock's minute).
    pub fn over(requests_per_minute: u32, minute: Duration) -> Budget {
        Budget {
            configured: requests_per_minute,
            minute,
            limiter: RwLock::new((requests_per_minute, limiter(requests_per_minute, minute))),
            priority_waiting: AtomicUsize::new(0),
        }
    }

    /// Keeps within the limit the provider says it counts us against
    /// (`X-RateLimit-Limit`), when that is lower than the configured
    /// budget: a budget above it only buys 429s, whose Retry-After then
    /// holds back even what is on screen. Never above the configured one.
    /// An answer that says no limit leaves the last one in force.
    pub fn cap_at(&self, advertised: Option<u32>) {
        let Some(advertised) = advertised.filter(|limit| *limit > 0) else {
            return;
        };
        let effective = advertised.min(self.configured);
        let current = self.limiter.read().map(|held| held.0).unwrap_or(effective);
        if current == effective {
            return;
        }
        if let Ok(mut held) = self.limiter.write() {
            tracing::info!(
                requests_per_minute = effective,
                configured = self.configured,
                "request budget follows the provider's own limit"
            );
            *held = (effective, limiter(effective, self.minute));
        }
    }

    /// The requests a minute in force.
    pub fn per_minute(&self) -> u32 {
        self.limiter
            .read()
            .map(|held| held.0)
            .unwrap_or(self.configured)
    }

    /// Takes a token now, or says how long until one is free. Never waits.
    pub fn try_take(&self) -> Result<(), Duration> {
        let held = self
            .limiter
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        held.1.check().map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .max(MIN_WAIT)
        })
    }

    /// Waits for a token ahead of any poll: while a caller waits here, the
    /// engine dispatches no polls for this provider, so they cannot starve it.
    pub async fn take_priority(&self) {
        let _waiting = WaitingGuard::enter(&self.priority_waiting);
        while let Err(wait) = self.try_take() {
            tokio::time::sleep(wait).await;
        }
    }

    pub fn priority_waiting(&self) -> bool {
        self.priority_waiting.load(Ordering::SeqCst) > 0
    }
}

/// Counts a waiter for as long as it waits, even if its task is aborted.
struct WaitingGuard<'a>(&'a AtomicUsize);

impl<'a> WaitingGuard<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        WaitingGuard(counter)
    }
}

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_holds_over_a_minute() {
        for rpm in [1, 5, 30, 60, 100, 1000] {
            let (burst, period) = split(rpm);
            let in_minute =
                u128::from(burst) + Duration::from_secs(60).as_nanos() / period.as_nanos();
            assert!(
                in_minute <= u128::from(rpm.max(2)),
                "rpm {rpm}: {in_minute}"
            );
        }
    }

    #[test]
    fn the_providers_lower_limit_is_kept_and_never_a_higher_one() {
        let budget = Budget::new(60);
        budget.cap_at(Some(20));
        assert_eq!(budget.per_minute(), 20);
        let granted = (0..10).filter(|_| budget.try_take().is_ok()).count();
        assert_eq!(granted, 2, "a burst of a tenth of 20");
        budget.cap_at(None);
        assert_eq!(
            budget.per_minute(),
            20,
            "an answer without the header keeps it"
        );
        budget.cap_at(Some(500));
        assert_eq!(budget.per_minute(), 60, "never above the configured");
    }

    #[test]
    fn burst_then_refusal() {
        let budget = Budget::new(30);
        let granted = (0..10).filter(|_| budget.try_take().is_ok()).count();
        assert_eq!(granted, 3);
        assert!(budget.try_take().is_err());
    }
}
