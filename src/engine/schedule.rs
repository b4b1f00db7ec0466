//! When to poll a pending DigiLocker session: a pure function of the
//! session's age, whether someone has it on screen, its failures and the
//! provider's pressure. It reads no clock; the engine passes the time in.
//!
//! Why this shape: a session polled every 5 s for its whole 10-minute window
//! costs about 120 calls, and a merchant's budget is 100 a minute. A
//! customer acts mostly in the first minutes after the link is handed over,
//! and an operator watching a session wants its change at once; everything
//! else can wait longer as it ages. One last check at expiry catches the
//! final word; nothing is polled after a final status (the engine drops
//! those sessions).
//!
//! A flaky provider (429s, 500s, timeouts) stretches the waits, but only
//! of what nobody is looking at, and never past a minute while it answers
//! at all: a session on screen keeps its interval through failures and
//! slow-downs (half of it after a first failure; the engine also sends a
//! second poll when one of it hangs longer than the interval). Past that
//! it is the budget, not the wait, that spaces the
//! calls: the engine's own (kept within the limit the provider reports),
//! the provider's counter (`rate_hold`) and its Retry-After. Only a
//! provider that has not answered anything for longer than the ceiling is
//! backed off further, on screen too.

use std::time::{Duration, Instant};

use crate::providers::http::RateHeaders;

/// After the window closes, give the provider this long to say EXPIRED.
pub const EXPIRY_GRACE: Duration = Duration::from_secs(2);
/// Failed polls back off up to 2^this times the interval.
const MAX_FAILURE_DOUBLINGS: u32 = 4;
/// How much jitter may shorten a wait (never lengthen: an on-screen session
/// must stay within one interval of the truth).
const JITTER: f64 = 0.1;

/// The intervals, by need.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// A session someone has open (detail view or selected row).
    pub on_screen: Duration,
    /// Off screen: `(until this age, poll this often)`, youngest first.
    pub phases: Vec<(Duration, Duration)>,
    /// Off screen, older than every phase.
    pub late: Duration,
    /// The minute a `requests_per_minute` budget counts over: 60 s, unless
    /// a benchmark runs the clock faster.
    pub minute: Duration,
    /// With webhook deliveries expected (a team server, `[cashfree]
    /// webhooks = true`): how often a Cashfree session is polled instead,
    /// on screen or not, as a safety net under the deliveries.
    pub webhook_backed: Duration,
    /// The longest wait for a pending session while its provider answers.
    pub ceiling: Duration,
}

/// The safety net's interval: a session pending its whole 10 minutes is
/// polled once or twice in its window (jitter shortens a wait by up to a
/// tenth) plus the last check after it, so with its create it costs at
/// most 3 or 4 calls where the regular plan costs about 30.
pub const WEBHOOK_BACKED: Duration = Duration::from_secs(300);

/// How Cashfree sessions are polled on a team server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookPolling {
    /// Deliveries are not expected: the regular plan.
    Off,
    /// Deliveries are expected and arriving: the webhook-backed interval.
    Slow,
    /// Deliveries are expected but none has come for pending sessions for
    /// longer than the quiet period (`quiet_for`): the regular plan again,
    /// until one does.
    Fallback { quiet_for: Duration },
}

impl WebhookPolling {
    /// Decides from facts alone (the leader's engine and every replica's
    /// /healthz ask the same question of the store). `quiet` is `None`
    /// when deliveries are not expected; `due` is when a delivery was
    /// certainly due with none arriving since (`Store::missed_delivery`).
    /// Once more than `quiet` has passed since then, deliveries are not
    /// reaching the server, and it stays so until one does (which moves
    /// the store's answer on).
    pub fn decide(
        quiet: Option<Duration>,
        due: Option<jiff::Timestamp>,
        now: jiff::Timestamp,
    ) -> WebhookPolling {
        let Some(quiet) = quiet else {
            return WebhookPolling::Off;
        };
        let quiet_for = due
            .and_then(|due| Duration::try_from(now.duration_since(due)).ok())
            .unwrap_or_default();
        if quiet_for > quiet {
            WebhookPolling::Fallback { quiet_for }
        } else {
            WebhookPolling::Slow
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookPolling::Off => "regular",
            WebhookPolling::Slow => "webhook_backed",
            WebhookPolling::Fallback { .. } => "fallback",
        }
    }
}

impl Plan {
    /// The plan for a configured `session_interval` (5 s by default): on
    /// screen at that interval; off screen 2× for the first 2 minutes, 4×
    /// until 5 minutes, then 8×. With 5 s that is 10 s / 20 s / 40 s: about
    /// 30 calls for a session that stays pending its whole 10 minutes. The
    /// ceiling is 12× (a minute).
    pub fn for_interval(interval: Duration) -> Plan {
        Plan {
            on_screen: interval,
            phases: vec![
                (Duration::from_secs(120), interval * 2),
                (Duration::from_secs(300), interval * 4),
            ],
            late: interval * 8,
            minute: crate::engine::rate_limit::MINUTE,
            webhook_backed: WEBHOOK_BACKED,
            ceiling: interval * 12,
        }
    }

    /// Every duration multiplied by `factor` (benchmarks run the clock faster).
    pub fn scaled(&self, factor: f64) -> Plan {
        let scale = |d: Duration| d.mul_f64(factor);
        Plan {
            on_screen: scale(self.on_screen),
            phases: self
                .phases
                .iter()
                .map(|(age, every)| (scale(*age), scale(*every)))
                .collect(),
            late: scale(self.late),
            minute: scale(self.minute),
            webhook_backed: scale(self.webhook_backed),
            ceiling: scale(self.ceiling),
        }
    }

    /// The regular interval for a session of this age.
    pub fn interval(&self, age: Duration, on_screen: bool) -> Duration {
        if on_screen {
            return self.on_screen;
        }
        self.phases
            .iter()
            .find(|(until, _)| age < *until)
            .map_or(self.late, |(_, every)| *every)
    }

    /// How long to wait before the next poll. `jitter` in `0.0..=1.0`
    /// shortens the wait by up to 10 %, so sessions created together do not
    /// poll together. The wait never runs past the window's end (plus
    /// [`EXPIRY_GRACE`]): that is the last check.
    pub fn wait(&self, session: &SessionClock, jitter: f64) -> Duration {
        if session.webhook_backed {
            // Deliveries carry the news; a failed safety-net poll is retried
            // at the regular pace, not slower.
            let wait = if session.failures == 0 {
                self.webhook_backed
            } else {
                self.interval(session.age, session.on_screen)
            };
            return self.jittered_within_window(wait, session, jitter);
        }
        let base = self.interval(session.age, session.on_screen);
        let wait = match (session.on_screen, session.provider_answers) {
            // What someone is looking at comes first: a failure is tried
            // again at half the interval, then at the interval.
            (true, true) if session.failures == 1 => base / 2,
            (true, true) => base,
            (false, true) => self.stretched(base, session).min(self.ceiling),
            (_, false) => self.stretched(base, session),
        };
        self.jittered_within_window(wait, session, jitter)
    }

    /// `base` backed off for the session's failures and the provider's slow-down.
    fn stretched(&self, base: Duration, session: &SessionClock) -> Duration {
        let backoff = 1u32 << session.failures.min(MAX_FAILURE_DOUBLINGS);
        base * session.slow_factor.max(1) * backoff
    }

    fn jittered_within_window(
        &self,
        wait: Duration,
        session: &SessionClock,
        jitter: f64,
    ) -> Duration {
        let wait = wait.mul_f64(1.0 - JITTER * jitter.clamp(0.0, 1.0));
        match session.until_expiry {
            Some(left) => wait.min(left + EXPIRY_GRACE),
            None => wait,
        }
    }

    /// When a session that just came on screen should be polled, given when
    /// it was last asked about: at once if that was longer ago than the
    /// on-screen interval, else when the interval runs out.
    pub fn on_screen_wait(&self, since_last_poll: Option<Duration>) -> Duration {
        since_last_poll.map_or(Duration::ZERO, |ago| self.on_screen.saturating_sub(ago))
    }
}

/// What the plan needs to know about one session, at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionClock {
    /// Since it was created.
    pub age: Duration,
    /// Until its window closes; `None` once closed (or unknown).
    pub until_expiry: Option<Duration>,
    pub on_screen: bool,
    /// Failed polls in a row.
    pub failures: u32,
    /// The provider's slow-down after 429s (1 when none).
    pub slow_factor: u32,
    /// Its status is expected by webhook: polled at the safety net's pace.
    pub webhook_backed: bool,
    /// The provider has answered something (a 429 and a 500 count) within
    /// the ceiling: failures stretch only off-screen waits, up to it.
    pub provider_answers: bool,
}

/// Holds polls back before the provider's own counter runs out, rather than
/// after a 429. With `remaining` at or below a reserve (a tenth of the limit,
/// at least 2), off-screen polls wait for the reset; on-screen ones may spend
/// the reserve; at 0, everything waits. `None`: go ahead.
pub fn rate_hold(headers: &RateHeaders, on_screen: bool, now: Instant) -> Option<Instant> {
    let reset_at = headers.seen_at + headers.reset?;
    if reset_at <= now {
        return None;
    }
    let reserve = headers.limit.map_or(2, |limit| (limit / 10).max(2));
    let hold = if on_screen {
        headers.remaining == 0
    } else {
        headers.remaining <= reserve
    };
    hold.then_some(reset_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;

    fn plan() -> Plan {
        Plan::for_interval(Duration::from_secs(5))
    }

    fn clock(age: u64, left: Option<u64>, on_screen: bool) -> SessionClock {
        SessionClock {
            age: Duration::from_secs(age),
            until_expiry: left.map(Duration::from_secs),
            on_screen,
            failures: 0,
            slow_factor: 1,
            webhook_backed: false,
            provider_answers: true,
        }
    }

    /// Polls over a 10-minute window for a session nobody opens, with the
    /// worst jitter (every wait shortened the most), ending with the check
    /// at expiry.
    fn polls_over_window(plan: &Plan, jitter: f64) -> u32 {
        polls_over_window_as(plan, jitter, false)
    }

    fn polls_over_window_as(plan: &Plan, jitter: f64, webhook_backed: bool) -> u32 {
        let window = Duration::from_secs(10 * MIN);
        let mut t = Duration::ZERO;
        let mut polls = 0;
        loop {
            let left = window.checked_sub(t).filter(|d| !d.is_zero());
            let wait = plan.wait(
                &SessionClock {
                    age: t,
                    until_expiry: left,
                    on_screen: false,
                    failures: 0,
                    slow_factor: 1,
                    webhook_backed,
                    provider_answers: true,
                },
                jitter,
            );
            t += wait;
            polls += 1;
            if t >= window {
                return polls;
            }
        }
    }

    #[test]
    fn a_session_nobody_watches_costs_at_most_40_calls_in_its_window() {
        let worst = polls_over_window(&plan(), 1.0);
        let none = polls_over_window(&plan(), 0.0);
        assert!(worst <= 40, "{worst} calls");
        assert!(none >= 25, "still quick while the customer acts: {none}");
        // The old rule: every 5 s.
        assert!(worst * 3 < 120);
    }

    #[test]
    fn a_webhook_backed_session_costs_at_most_3_polls_in_its_window_and_after() {
        for jitter in [0.0, 0.5, 1.0] {
            let polls = polls_over_window_as(&plan(), jitter, true);
            assert!((2..=3).contains(&polls), "{polls} polls at jitter {jitter}");
        }
        // On screen too: the delivery, not the poll, is what is fast.
        let mut on_screen = clock(30, Some(570), true);
        on_screen.webhook_backed = true;
        assert_eq!(plan().wait(&on_screen, 0.0), WEBHOOK_BACKED);
    }

    #[test]
    fn deliveries_that_stop_bring_the_regular_plan_back() {
        let t = |s: i64| jiff::Timestamp::from_second(1_800_000_000 + s).unwrap();
        let quiet = Some(Duration::from_secs(120));
        let cases = [
            // (quiet, a delivery due since, now, expected)
            (None, Some(t(0)), t(10_000), "regular"),
            (quiet, None, t(10_000), "webhook_backed"),
            (quiet, Some(t(0)), t(119), "webhook_backed"),
            (quiet, Some(t(0)), t(121), "fallback"),
            (quiet, Some(t(500)), t(400), "webhook_backed"),
        ];
        for (quiet, due, now, expected) in cases {
            let decided = WebhookPolling::decide(quiet, due, now);
            assert_eq!(decided.as_str(), expected, "{due:?} {now}");
        }
    }

    #[test]
    fn quick_while_young_slower_as_it_ages() {
        let p = plan();
        assert_eq!(
            p.interval(Duration::from_secs(30), false),
            Duration::from_secs(10)
        );
        assert_eq!(
            p.interval(Duration::from_secs(3 * MIN), false),
            Duration::from_secs(20)
        );
        assert_eq!(
            p.interval(Duration::from_secs(7 * MIN), false),
            Duration::from_secs(40)
        );
        // On screen, always the fastest, whatever the age.
        assert_eq!(
            p.interval(Duration::from_secs(9 * MIN), true),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn jitter_only_shortens() {
        let p = plan();
        let c = clock(0, Some(600), true);
        assert_eq!(p.wait(&c, 0.0), Duration::from_secs(5));
        assert_eq!(p.wait(&c, 1.0), Duration::from_millis(4500));
        assert_eq!(p.wait(&c, 7.0), Duration::from_millis(4500), "clamped");
    }

    #[test]
    fn the_last_check_lands_just_after_expiry() {
        let p = plan();
        let c = clock(9 * MIN + 50, Some(10), false);
        assert_eq!(p.wait(&c, 0.0), Duration::from_secs(10) + EXPIRY_GRACE);
        // Past the window, the plan does not shorten the wait any more (the
        // engine stops after the last check).
        assert_eq!(
            p.wait(&clock(11 * MIN, None, false), 0.0),
            Duration::from_secs(40)
        );
    }

    #[test]
    fn failures_and_slow_downs_stretch_the_wait_within_bounds() {
        let p = plan();
        // (on screen, age, failures, slow factor, provider answers, expected wait)
        let cases = [
            // On screen: the interval, whatever fails, while the provider
            // answers; half of it after a first failure.
            (true, 0, 1, 1, true, 2.5),
            (true, 0, 2, 8, true, 5.0),
            (true, 0, 30, 8, true, 5.0),
            (true, 0, 0, 8, true, 5.0),
            // Off screen: slowed and backed off, up to a minute.
            (false, 0, 0, 4, true, 40.0),
            (false, 0, 1, 8, true, 60.0),
            (false, 7 * MIN, 0, 8, true, 60.0),
            // A provider silent for longer than that: no ceiling, up to 16×.
            (true, 0, 30, 1, false, 80.0),
            (true, 0, 1, 2, false, 20.0),
            (false, 0, 2, 4, false, 160.0),
        ];
        for (on_screen, age, failures, slow_factor, provider_answers, expected) in cases {
            let mut c = clock(age, Some(3600), on_screen);
            c.failures = failures;
            c.slow_factor = slow_factor;
            c.provider_answers = provider_answers;
            assert_eq!(
                p.wait(&c, 0.0),
                Duration::from_secs_f64(expected),
                "on screen {on_screen}, age {age}, {failures} failures, slowed ×{slow_factor}, answers {provider_answers}"
            );
        }
    }

    #[test]
    fn a_failed_safety_net_poll_is_retried_at_the_regular_pace() {
        let p = plan();
        let mut c = clock(30, Some(570), false);
        c.webhook_backed = true;
        c.failures = 1;
        assert_eq!(p.wait(&c, 0.0), Duration::from_secs(10));
    }

    #[test]
    fn coming_on_screen_polls_at_once_unless_just_polled() {
        let p = plan();
        assert_eq!(p.on_screen_wait(None), Duration::ZERO);
        assert_eq!(
            p.on_screen_wait(Some(Duration::from_secs(30))),
            Duration::ZERO
        );
        assert_eq!(
            p.on_screen_wait(Some(Duration::from_secs(2))),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn scaling_keeps_the_shape() {
        let fast = plan().scaled(0.05);
        assert_eq!(fast.on_screen, Duration::from_millis(250));
        assert_eq!(
            fast.phases[0],
            (Duration::from_secs(6), Duration::from_millis(500))
        );
        assert_eq!(fast.late, Duration::from_secs(2));
    }

    #[test]
    fn the_rate_reserve_is_kept_for_what_is_on_screen() {
        let now = Instant::now();
        let headers = |remaining, reset| RateHeaders {
            limit: Some(100),
            remaining,
            reset: Some(Duration::from_secs(reset)),
            seen_at: now,
        };
        let later = now + Duration::from_secs(1);
        // Plenty left: nobody waits.
        assert_eq!(rate_hold(&headers(50, 30), false, later), None);
        // Within the reserve (10 of 100): off-screen polls wait for the reset.
        assert_eq!(
            rate_hold(&headers(10, 30), false, later),
            Some(now + Duration::from_secs(30))
        );
        assert_eq!(rate_hold(&headers(10, 30), true, later), None);
        // Nothing left: everyone waits.
        assert_eq!(
            rate_hold(&headers(0, 30), true, later),
            Some(now + Duration::from_secs(30))
        );
        // A reset already past, or none given: no hold.
        assert_eq!(rate_hold(&headers(0, 0), true, later), None);
        let mut no_reset = headers(0, 0);
        no_reset.reset = None;
        assert_eq!(rate_hold(&no_reset, true, later), None);
    }
}
