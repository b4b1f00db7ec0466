//! How payops learned a session's status, and the one rule for whether a
//! later word from a provider changes what it learned before.
//!
//! Words arrive from several places and in any order: the create's answer,
//! scheduled polls, an operator's refresh, and (on a team server) Cashfree's
//! webhook deliveries, which repeat and may overtake each other. Whatever
//! the source, the word goes through [`verdict`] before it is written.

use serde::{Deserialize, Serialize};

use super::SessionStatus;

/// Where a status came from, kept beside each history row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Learned {
    /// The provider's answer to the create.
    Create,
    /// A poll on the engine's schedule (or `digilocker watch`).
    Poll,
    /// A verified webhook delivery.
    Webhook,
    /// An operator asked: refresh, status, track.
    Refresh,
}

impl Learned {
    pub const ALL: [Learned; 4] = [
        Learned::Create,
        Learned::Poll,
        Learned::Webhook,
        Learned::Refresh,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Learned::Create => "create",
            Learned::Poll => "poll",
            Learned::Webhook => "webhook",
            Learned::Refresh => "refresh",
        }
    }

    /// As the store writes it; `None` for a word it does not know (rows
    /// from before the source was kept).
    pub fn parse(word: &str) -> Option<Learned> {
        Learned::ALL.into_iter().find(|l| l.as_str() == word)
    }
}

/// What a provider's word does to a session that holds `current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A change: written, with a history row.
    Apply,
    /// What the session already says (a repeated delivery, a poll with
    /// nothing new): nothing to write beyond "asked at".
    Same,
    /// Older than what the session says: a final status is never moved.
    Stale,
}

/// The rule, from the status table in PROVIDERS.md:
///
/// - While a session is not final (PENDING, or a word neither provider
///   documents), any different word is a change, but PENDING itself: it is
///   where every session starts, and nothing goes back to it.
/// - A final status (AUTHENTICATED, EXPIRED, CONSENT_DENIED) is never
///   replaced by another status: a `LINK_EXPIRED` or `PENDING` that arrives
///   after `AUTHENTICATED` is a delivery that was overtaken, not news.
/// - The one later event of a final session is Cashfree's consent expiry
///   (an hour after consent; normalised AUTHENTICATED, raw
///   `CONSENT_EXPIRED`): it follows `AUTHENTICATED` and is recorded, while
///   a late `AUTHENTICATED` after it is stale.
pub fn verdict(
    current: &SessionStatus,
    current_raw: &str,
    incoming: &SessionStatus,
    incoming_raw: &str,
) -> Verdict {
    let same_word = current == incoming && current_raw.eq_ignore_ascii_case(incoming_raw.trim());
    if same_word {
        return Verdict::Same;
    }
    // PENDING is where a session starts: no provider goes back to it, so a
    // PENDING after any other word was overtaken on its way.
    if *incoming == SessionStatus::Pending && *current != SessionStatus::Pending {
        return Verdict::Stale;
    }
    if !current.is_final() {
        return Verdict::Apply;
    }
    if current == incoming && rank(incoming_raw) > rank(current_raw) {
        Verdict::Apply
    } else {
        Verdict::Stale
    }
}

/// Within one final status, which raw word comes later in a session's life.
fn rank(raw: &str) -> u8 {
    match raw.trim().to_ascii_uppercase().as_str() {
        CONSENT_EXPIRED => 1,
        _ => 0,
    }
}

/// Cashfree's word for a consent whose hour of document access has passed.
pub const CONSENT_EXPIRED: &str = "CONSENT_EXPIRED";

#[cfg(test)]
mod tests {
    use super::*;
    use SessionStatus::*;

    #[test]
    fn the_rule_as_a_table() {
        let unknown = || Unknown("FAILURE".into());
        let cases: &[(SessionStatus, &str, SessionStatus, &str, Verdict)] = &[
            (Pending, "PENDING", Pending, "PENDING", Verdict::Same),
            (Pending, "", Pending, "PENDING", Verdict::Apply),
            (
                Pending,
                "PENDING",
                Authenticated,
                "AUTHENTICATED",
                Verdict::Apply,
            ),
            (Pending, "PENDING", Expired, "EXPIRED", Verdict::Apply),
            (Pending, "PENDING", unknown(), "FAILURE", Verdict::Apply),
            (unknown(), "FAILURE", Pending, "PENDING", Verdict::Stale),
            (unknown(), "FAILURE", unknown(), "FAILURE", Verdict::Same),
            (
                unknown(),
                "FAILURE",
                Authenticated,
                "AUTHENTICATED",
                Verdict::Apply,
            ),
            (
                Authenticated,
                "AUTHENTICATED",
                Authenticated,
                "AUTHENTICATED",
                Verdict::Same,
            ),
            (
                Authenticated,
                "AUTHENTICATED",
                Expired,
                "EXPIRED",
                Verdict::Stale,
            ),
            (
                Authenticated,
                "AUTHENTICATED",
                Pending,
                "PENDING",
                Verdict::Stale,
            ),
            (
                Authenticated,
                "AUTHENTICATED",
                Authenticated,
                CONSENT_EXPIRED,
                Verdict::Apply,
            ),
            (
                Authenticated,
                CONSENT_EXPIRED,
                Authenticated,
                "AUTHENTICATED",
                Verdict::Stale,
            ),
            (
                Authenticated,
                CONSENT_EXPIRED,
                Authenticated,
                CONSENT_EXPIRED,
                Verdict::Same,
            ),
            (
                Expired,
                "EXPIRED",
                Authenticated,
                "AUTHENTICATED",
                Verdict::Stale,
            ),
            (
                ConsentDenied,
                "CONSENT_DENIED",
                Expired,
                "EXPIRED",
                Verdict::Stale,
            ),
            (
                Authenticated,
                "AUTHORIZED",
                Authenticated,
                "AUTHORIZED",
                Verdict::Same,
            ),
        ];
        for (current, raw, incoming, incoming_raw, expected) in cases {
            assert_eq!(
                verdict(current, raw, incoming, incoming_raw),
                *expected,
                "{raw} then {incoming_raw}"
            );
        }
    }

    #[test]
    fn sources_read_back() {
        for learned in Learned::ALL {
            assert_eq!(Learned::parse(learned.as_str()), Some(learned));
        }
        assert_eq!(Learned::parse(""), None);
    }
}
