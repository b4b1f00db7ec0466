//! The InstantPay wallet balance pane's data: its readings and how it
//! reacts to the engine's balance updates. `balance_pane` draws it.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;

use crate::domain::BalanceSnapshot;
use crate::domain::{BalanceReport, Provider};
use crate::error::ProviderError;
use crate::words;

use super::feedback::{Alert, Debounce, Effect, Feedback, Level};
use super::format::{inr, signed_duration, signed_inr};

/// The chart's two spans, toggled with one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChartSpan {
    #[default]
    Day,
    Week,
}

impl ChartSpan {
    pub fn length(self) -> SignedDuration {
        match self {
            ChartSpan::Day => SignedDuration::from_hours(24),
            ChartSpan::Week => SignedDuration::from_hours(24 * 7),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChartSpan::Day => "24 h",
            ChartSpan::Week => "7 d",
        }
    }

    pub fn other(self) -> ChartSpan {
        match self {
            ChartSpan::Day => ChartSpan::Week,
            ChartSpan::Week => ChartSpan::Day,
        }
    }
}

/// One reading on the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub at: Timestamp,
    pub available: Decimal,
}

#[derive(Debug, Clone, Default)]
pub struct BalanceState {
    /// Below this the pane turns red; every new crossing rings.
    pub threshold: Option<Decimal>,
    /// A fall of more than this between two readings rings and is logged.
    pub drop_alert: Option<Decimal>,
    /// Past this age the figure is marked stale.
    pub interval: Duration,
    pub latest: Option<BalanceReport>,
    /// `latest` is the stored reading from an earlier run, not a fresh fetch.
    pub from_store: bool,
    /// The readings of the longest span, oldest first.
    pub history: Vec<Reading>,
    /// What the chart shows.
    pub span: ChartSpan,
    pub refreshing: bool,
    /// Why the last refresh failed; cleared by the next success.
    pub last_error: Option<String>,
    /// The last fetched figure was below the threshold (for ringing once).
    pub low: bool,
}

impl BalanceState {
    pub fn new(
        threshold: Option<Decimal>,
        drop_alert: Option<Decimal>,
        interval: Duration,
    ) -> BalanceState {
        BalanceState {
            threshold,
            drop_alert,
            interval,
            ..BalanceState::default()
        }
    }

    /// The readings on record. From this machine's store they are a
    /// previous run's, shown as stale until refreshed; from a team server
    /// (`live`) they are its current ones, stale only by their age.
    pub fn load(&mut self, snapshots: &[BalanceSnapshot], live: bool) {
        let mut ordered: Vec<&BalanceSnapshot> = snapshots.iter().collect();
        ordered.sort_by_key(|snapshot| snapshot.at);
        self.history = ordered
            .iter()
            .map(|s| Reading {
                at: s.at,
                available: s.available,
            })
            .collect();
        self.trim_history();
        // A resynchronisation (team mode) may bring a newer reading than
        // the one shown; never an older one.
        self.refreshing = false;
        if let Some(last) = ordered.last()
            && self
                .latest
                .as_ref()
                .is_none_or(|shown| shown.fetched_at < last.at)
        {
            // Already low at the last reading: the next low one is no crossing.
            self.low = self.threshold.is_some_and(|limit| last.available < limit);
            self.latest = Some(BalanceReport {
                account: last.account.clone(),
                available: last.available,
                total: last.total,
                lien: last.lien,
                environment: None,
                fetched_at: last.at,
                request_id: last.request_id.clone(),
            });
            self.from_store = !live;
        }
    }

    /// `r` on the pane: a refresh, or why there can be none (said at once,
    /// without spending the debounce).
    pub fn refresh(
        &self,
        configured: bool,
        debounce: &mut Debounce,
        now: Timestamp,
        feedback: &mut Feedback,
    ) {
        if !configured {
            feedback.alert(Level::Warning, words::not_configured(Provider::InstantPay));
        } else if debounce.allow(now) {
            feedback.send(crate::engine::Command::RefreshBalance);
        }
    }

    /// The chart between 24 hours and 7 days.
    pub fn toggle_span(&mut self) {
        self.span = self.span.other();
    }

    /// A fresh reading. Every new crossing below the threshold, and every
    /// fall of more than the configured amount since the last reading, is
    /// logged with the change and alerts (bell, desktop).
    pub fn on_fetched(&mut self, report: BalanceReport, feedback: &mut Feedback) {
        let available = report.available;
        let before = self.latest.as_ref().map(|latest| latest.available);
        let since_last = |before: Decimal| {
            format!(
                " ({} since the last reading)",
                signed_inr(available - before)
            )
        };
        let crossed = self.fetched(report);
        if crossed && let Some(limit) = self.threshold {
            let text = format!(
                "balance {} is below the {} threshold{}",
                inr(available),
                inr(limit),
                before.map(since_last).unwrap_or_default()
            );
            feedback.alert(Level::Warning, text.clone());
            feedback.effect(Effect::Alert(Alert::new("Balance below threshold", text)));
        } else if let (Some(before), Some(limit)) = (before, self.drop_alert)
            && before - available > limit
        {
            let text = format!(
                "balance fell by more than {}: now {}{}",
                inr(limit),
                inr(available),
                since_last(before)
            );
            feedback.alert(Level::Warning, text.clone());
            feedback.effect(Effect::Alert(Alert::new("Balance fell", text)));
        }
    }

    pub fn on_failed(&mut self, error: &ProviderError, feedback: &mut Feedback) {
        let text = words::describe_error(error);
        self.failed(text.clone());
        feedback.alert(Level::Error, format!("balance refresh failed: {text}"));
    }

    /// Records a fresh reading. True when it crossed below the threshold:
    /// the crossing alerts, not every low reading after it.
    pub fn fetched(&mut self, report: BalanceReport) -> bool {
        self.history.push(Reading {
            at: report.fetched_at,
            available: report.available,
        });
        self.trim_history();
        let now_low = self.threshold.is_some_and(|limit| report.available < limit);
        let crossed = now_low && !self.low;
        self.low = now_low;
        self.latest = Some(report);
        self.from_store = false;
        self.refreshing = false;
        self.last_error = None;
        crossed
    }

    pub fn failed(&mut self, message: String) {
        self.refreshing = false;
        self.last_error = Some(message);
    }

    /// Old, from a previous run, or the last refresh failed: the figure may
    /// no longer be true.
    pub fn is_stale(&self, now: Timestamp) -> bool {
        match &self.latest {
            None => false,
            Some(report) => {
                self.from_store
                    || self.last_error.is_some()
                    || now.duration_since(report.fetched_at) > signed_duration(self.interval)
            }
        }
    }

    pub fn is_below(&self) -> bool {
        match (&self.latest, self.threshold) {
            (Some(report), Some(limit)) => report.available < limit,
            _ => false,
        }
    }

    /// The readings the chart's span covers, up to `now`.
    pub fn shown(&self, now: Timestamp) -> &[Reading] {
        let from = now
            .checked_sub(self.span.length())
            .unwrap_or(Timestamp::MIN);
        let first = self.history.partition_point(|r| r.at < from);
        &self.history[first..]
    }

    /// Readings further apart than this are drawn with a gap between them:
    /// payops was not running, or the provider did not answer.
    pub fn gap(&self) -> SignedDuration {
        signed_duration(self.interval * GAP_INTERVALS).max(MIN_GAP)
    }

    /// Only the longest span is kept; readings arrive in time order, but a
    /// loaded history and a fresh one may interleave, so sort first.
    fn trim_history(&mut self) {
        self.history.sort_by_key(|r| r.at);
        if let Some(newest) = self.history.last().map(|r| r.at) {
            let from = newest
                .checked_sub(ChartSpan::Week.length())
                .unwrap_or(Timestamp::MIN);
            self.history.retain(|r| r.at >= from);
        }
    }
}

/// A missed refresh or two is not a gap; three are.
const GAP_INTERVALS: u32 = 3;
const MIN_GAP: SignedDuration = SignedDuration::from_mins(15);
