//! Words the CLI and the dashboard both say. Written once here so a notify
//! outcome, a "not configured" hint or a provider reference reads the same
//! wherever an operator meets it.

use rust_decimal::Decimal;

use std::time::Duration;

use crate::domain::NOTIFY_REPEAT_WINDOW;
use crate::domain::{AuditEntry, NotifyOutcome, RecentNotifies};
use crate::domain::{Provider, SessionId, format_inr};
use crate::error::ProviderError;

/// "Cashfree is not configured: add a [cashfree] section or PAYOPS_CASHFREE_*
/// variables (payops config init)".
pub fn not_configured(provider: Provider) -> String {
    let section = provider.as_str();
    format!(
        "{provider} is not configured: add a [{section}] section or PAYOPS_{}_* variables (payops config init)",
        section.to_ascii_uppercase()
    )
}

/// An amount in rupees, or "amount unknown" when the provider did not say.
pub fn amount(amount: Option<Decimal>) -> String {
    amount
        .map(format_inr)
        .unwrap_or_else(|| "amount unknown".to_string())
}

/// ` [code X] [ipay_uuid Y]`: what support staff quote to the provider.
/// Parts already present in `text` are not repeated.
pub fn provider_refs(text: &str, code: Option<&str>, request_id: Option<&str>) -> String {
    let mut suffix = String::new();
    if let Some(code) = code.filter(|code| !text.contains(code)) {
        suffix.push_str(&format!(" [code {code}]"));
    }
    if let Some(request) = request_id.filter(|request| !text.contains(request)) {
        suffix.push_str(&format!(" [ipay_uuid {request}]"));
    }
    suffix
}

/// The error as a person reads it, with the provider's code and request
/// reference appended when its message does not already carry them.
pub fn describe_error(error: &ProviderError) -> String {
    let text = error.to_string();
    // A rate limit's envelope code (InstantPay sends a generic "ERR") adds
    // nothing to "is rate limiting requests".
    let code = match error {
        ProviderError::RateLimited { .. } => None,
        _ => error.provider_code(),
    };
    let refs = provider_refs(&text, code, error.request_id());
    format!("{text}{refs}")
}

/// An audit row's message with its provider code and request reference.
pub fn audit_detail(entry: &AuditEntry) -> String {
    let refs = provider_refs(
        &entry.message,
        entry.provider_code.as_deref(),
        entry.request_id.as_deref(),
    );
    format!("{}{refs}", entry.message)
}

/// How a finished notify reads: a word for the outcome, what happened, and
/// what the operator should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyOutcomeText {
    /// `sent`, `declined`, `not sent`, `outcome unknown`.
    pub headline: &'static str,
    /// The provider's message (or the error), with code and request reference.
    pub detail: String,
    /// What the operator should do next, where there is something to say.
    pub advice: Option<&'static str>,
}

impl NotifyOutcomeText {
    /// `headline: detail`, as one line.
    pub fn line(&self) -> String {
        format!("{}: {}", self.headline, self.detail)
    }
}

pub fn notify_outcome(entry: &AuditEntry, error: Option<&ProviderError>) -> NotifyOutcomeText {
    // The row's message is the provider's words (or the error's); the code
    // and request reference come from the row, else from the error.
    let code = entry
        .provider_code
        .as_deref()
        .or_else(|| error.and_then(ProviderError::provider_code));
    let request = entry
        .request_id
        .as_deref()
        .or_else(|| error.and_then(ProviderError::request_id));
    let detail = format!(
        "{}{}",
        entry.message,
        provider_refs(&entry.message, code, request)
    );
    let (headline, advice) = match entry.outcome {
        NotifyOutcome::Sent => ("sent", None),
        NotifyOutcome::Declined => ("declined", None),
        NotifyOutcome::Failed => ("not sent", Some("nothing reached the recipient")),
        NotifyOutcome::Unknown => (
            "outcome unknown",
            Some(
                "it may have reached the recipient: check the link's status and activity before sending again",
            ),
        ),
    };
    NotifyOutcomeText {
        headline,
        detail,
        advice,
    }
}

/// A refresh of an InstantPay create that never answered: InstantPay can
/// only be asked by its own reference, which such a row never got.
/// `create_how` names the way to create one where it is read: `(n)`.
pub fn unresolvable_create(id: &SessionId, create_how: &str) -> String {
    format!(
        "InstantPay cannot be asked about {id}: its create never answered with a reference. \
         Ask the customer whether a DigiLocker link arrived; if not, create a new session {create_how}."
    )
}

/// Why a poll got no answer, in a few words ("rate limited", "HTTP 503").
fn unanswered_reason(error: &ProviderError) -> Option<String> {
    Some(match error {
        ProviderError::RateLimited { .. } => "rate limited".into(),
        ProviderError::Unavailable { status, .. } => format!("HTTP {status}"),
        ProviderError::Transport { message, .. } => message.clone(),
        ProviderError::Malformed { .. } => "its answer was unreadable".into(),
        ProviderError::OutcomeUnknown { .. } => "no answer in time".into(),
        ProviderError::Declined { .. }
        | ProviderError::InvalidRequest { .. }
        | ProviderError::Auth { .. } => return None,
    })
}

/// A failed poll, worded so it cannot be read as a failed session: "could
/// not reach Cashfree to check dl-… (rate limited; retrying in 6 s)".
pub fn poll_failure(
    id: &SessionId,
    provider: Provider,
    error: &ProviderError,
    retry_in: Option<Duration>,
) -> String {
    let retry = match retry_in {
        Some(wait) => format!("retrying in {} s", wait.as_secs().max(1)),
        None => "no more checks: its window has closed".into(),
    };
    match unanswered_reason(error) {
        Some(reason) => format!("could not reach {provider} to check {id} ({reason}; {retry})"),
        None => format!(
            "{provider} would not give the status of {id}: {} ({retry})",
            describe_error(error)
        ),
    }
}

/// `r` asked for a poll the rate limit holds back: when it goes.
pub fn poll_waits(id: &SessionId, clock: &str, wait: jiff::SignedDuration) -> String {
    let secs = wait.as_secs().max(1);
    format!("{id}: the rate limit allows its poll at {clock} (in {secs} s); it goes by itself then")
}

/// Every recent notify of a link, counted with its outcome: "sent 3 times
/// in the last 10 minutes, last at 07:29 by asha", or with the outcomes
/// told apart when they differ. `clock` writes a time as the reader's.
pub fn recent_notifies(
    recent: &RecentNotifies,
    clock: impl Fn(jiff::Timestamp) -> String,
) -> Option<String> {
    let newest = recent.0.first()?;
    let window = NOTIFY_REPEAT_WINDOW.as_mins();
    let count = recent.0.len();
    let times = if count == 1 {
        "once".to_string()
    } else {
        format!("{count} times")
    };
    let last = format!("last at {} by {}", clock(newest.at), newest.actor);
    if recent.0.iter().all(|e| e.outcome == NotifyOutcome::Sent) {
        return Some(format!("sent {times} in the last {window} minutes, {last}"));
    }
    let mut outcomes: Vec<(&str, usize)> = Vec::new();
    for entry in &recent.0 {
        let word = notify_outcome(entry, None).headline;
        match outcomes.iter_mut().find(|(w, _)| *w == word) {
            Some((_, n)) => *n += 1,
            None => outcomes.push((word, 1)),
        }
    }
    let outcomes = outcomes
        .iter()
        .map(|(word, n)| format!("{n} {word}"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "notified {times} in the last {window} minutes ({outcomes}), {last} ({})",
        notify_outcome(newest, None).headline
    ))
}

/// Shown over a notify of a link nobody is waiting on.
pub fn link_not_issued(report: &crate::domain::LinkReport) -> Option<String> {
    (!report.status.is_notifiable()).then(|| {
        format!(
            "⚠ link is {}, not ISSUED: nobody is waiting for this notification",
            report.status
        )
    })
}

/// `count` and the noun, singular for one: "1 session", "3 sessions".
pub fn counted(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// Whether an auth refusal is about where we call from (Cashfree's
/// whitelisting) rather than the credentials themselves.
pub fn is_address_refusal(error: &ProviderError) -> bool {
    matches!(error, ProviderError::Auth { code: Some(code), .. } if code == "ip_validation_failed")
}

/// A provider that refuses our credentials, and the fix: which keys, and
/// where the file is found.
pub fn credentials_rejected(provider: Provider) -> String {
    let section = provider.as_str();
    let env = section.to_ascii_uppercase();
    format!(
        "{provider} rejects the credentials: check client_id and client_secret under \
         [{section}] in the config file (`payops config path` shows it), or \
         PAYOPS_{env}_CLIENT_ID and PAYOPS_{env}_CLIENT_SECRET"
    )
}

/// A track of a reference payops already tracks.
pub fn already_tracked(reference: &str) -> String {
    format!("{reference} is already tracked (its row is selected when shown)")
}

/// The CLI's word for tracking what was already tracked (solo or through a server).
pub fn already_tracked_as(reference: &str, id: &SessionId) -> String {
    format!("{} was already tracked, as {id}", reference.trim())
}

/// "a Cashfree", "an InstantPay": the article a provider's name takes.
pub fn a_provider(provider: Provider) -> &'static str {
    match provider {
        Provider::InstantPay => "an InstantPay",
        Provider::Cashfree => "a Cashfree",
    }
}

/// The dashboard's word for a store opened for reading only.
pub const READ_ONLY_ENGINE: &str = "the store cannot be written: showing it as it is; nothing is \
     polled, and creates, notifies and labels are refused";

/// Said once when the store could be opened only for reading.
pub fn read_only_store(shown: &str) -> String {
    format!(
        "{shown} cannot be written: it is open for reading only, and anything that would \
         change it is refused"
    )
}

/// Why a session's link is no longer offered (`SessionRecord::link_spent`).
pub fn spent_link(status: &crate::domain::SessionStatus) -> &'static str {
    match status {
        crate::domain::SessionStatus::ConsentDenied => {
            "the customer denied consent: the link is spent (create a new session)"
        }
        _ => "the link expired with its 10-minute window (create a new session)",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_provider_takes_its_article() {
        use crate::domain::Provider;
        assert_eq!(
            format!(
                "creating {} session",
                super::a_provider(Provider::InstantPay)
            ),
            "creating an InstantPay session"
        );
        assert_eq!(super::a_provider(Provider::Cashfree), "a Cashfree");
    }

    use super::*;
    use crate::domain::LinkId;
    use jiff::Timestamp;

    #[test]
    fn counts_are_singular_for_one() {
        assert_eq!(
            counted(1, "notify record", "notify records"),
            "1 notify record"
        );
        assert_eq!(counted(0, "session", "sessions"), "0 sessions");
        assert_eq!(counted(3, "session", "sessions"), "3 sessions");
    }

    fn entry(outcome: NotifyOutcome, message: &str) -> AuditEntry {
        AuditEntry {
            id: 1,
            link_id: LinkId::new_unchecked("657aa9841b8d3897ff0a84fb"),
            actor: "asha".into(),
            at: Timestamp::UNIX_EPOCH,
            outcome,
            message: message.into(),
            provider_code: Some("RPI".into()),
            request_id: Some("u-9".into()),
            completed: true,
        }
    }

    #[test]
    fn refs_are_appended_once() {
        assert_eq!(
            provider_refs("bad", Some("RPI"), Some("u-9")),
            " [code RPI] [ipay_uuid u-9]"
        );
        assert_eq!(
            provider_refs("RPI: bad (u-9)", Some("RPI"), Some("u-9")),
            ""
        );
    }

    #[test]
    fn every_outcome_has_a_headline_and_unsent_ones_advice() {
        let sent = notify_outcome(&entry(NotifyOutcome::Sent, "Sent to ***742"), None);
        assert_eq!(
            sent.line(),
            "sent: Sent to ***742 [code RPI] [ipay_uuid u-9]"
        );
        assert_eq!(sent.advice, None);
        let unknown = notify_outcome(&entry(NotifyOutcome::Unknown, "timed out"), None);
        assert_eq!(unknown.headline, "outcome unknown");
        assert!(unknown.advice.unwrap().contains("before sending again"));
        let failed = notify_outcome(&entry(NotifyOutcome::Failed, "refused"), None);
        assert_eq!(failed.headline, "not sent");
    }

    #[test]
    fn amounts_and_configuration() {
        assert_eq!(amount(None), "amount unknown");
        assert_eq!(amount(Some(Decimal::new(1682, 2))), "₹16.82");
        assert!(not_configured(Provider::Cashfree).contains("PAYOPS_CASHFREE_*"));
    }

    #[test]
    fn recent_notifies_are_counted_with_who_sent_the_last() {
        let clock = |_| "07:29".to_string();
        let sent = || entry(NotifyOutcome::Sent, "ok");
        assert_eq!(recent_notifies(&RecentNotifies::default(), clock), None);
        assert_eq!(
            recent_notifies(&RecentNotifies(vec![sent(), sent(), sent()]), clock).unwrap(),
            "sent 3 times in the last 10 minutes, last at 07:29 by asha"
        );
        let mixed = RecentNotifies(vec![entry(NotifyOutcome::Unknown, "timeout"), sent()]);
        assert_eq!(
            recent_notifies(&mixed, clock).unwrap(),
            "notified 2 times in the last 10 minutes (1 outcome unknown, 1 sent), \
             last at 07:29 by asha (outcome unknown)"
        );
        assert!(mixed.last_reaching().is_some());
        let failed = RecentNotifies(vec![entry(NotifyOutcome::Failed, "refused")]);
        assert!(
            failed.last_reaching().is_none(),
            "a failed notify reached nobody"
        );
    }
}
