//! Webhook deliveries: a verified delivery's word applied to the session it
//! names, its activity row, and the time of the last one, all in one
//! transaction, so a delivery is either wholly recorded or not at all (and
//! the provider, getting no 2xx, sends it again).

use jiff::Timestamp;

use super::db::{Columns, WriteLock, first, params};
use super::rows::{parse_ts, ts_text};
use super::{Activity, ProviderWord, Store, StoreError};
use crate::domain::{Provider, SessionId, Verdict};

/// Which session a delivery speaks of, as the provider names it.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryTarget<'a> {
    pub provider: Provider,
    /// Our `verification_id` (the session's external ref).
    pub verification_id: Option<&'a str>,
    /// The provider's own reference.
    pub reference: Option<&'a str>,
}

/// What a verified delivery did, to which of our sessions. Those who show
/// the change learn it from the store, as they learn any other writer's.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// News: the status changed (or took its one later word).
    Applied(SessionId),
    /// The session already says this (a repeated delivery, or a poll got
    /// there first).
    Same(SessionId),
    /// Older than what the session says (an overtaken delivery).
    Stale(SessionId),
    /// No session we track has these ids (none does, or tracking it stopped).
    Untracked,
}

impl Delivery {
    /// The word for logs, metrics and the answer.
    pub fn as_str(&self) -> &'static str {
        match self {
            Delivery::Applied(_) => "applied",
            Delivery::Same(_) => "duplicate",
            Delivery::Stale(_) => "stale",
            Delivery::Untracked => "untracked",
        }
    }
}

impl Store {
    /// Applies a verified delivery: the word goes through the same rule as
    /// a poll's answer (`record_poll`), with `activity` (its target set to
    /// the session) and the provider's last-delivery time written with it.
    /// Not fenced: any replica may receive a delivery, and the rule makes
    /// the order of writers irrelevant.
    pub fn record_delivery(
        &self,
        target: DeliveryTarget<'_>,
        word: &ProviderWord<'_>,
        at: Timestamp,
        activity: &Activity,
    ) -> Result<Delivery, StoreError> {
        let found = self.write(WriteLock::All, || {
            self.db.execute(
                "INSERT INTO webhook_receipts (provider, last_at) VALUES (?1, ?2)
                 ON CONFLICT (provider) DO UPDATE SET last_at = excluded.last_at",
                params![target.provider.as_str(), ts_text(at)],
            )?;
            let Some(id) = self.delivery_session(target)? else {
                self.insert_activity(activity)?;
                return Ok(None);
            };
            let applied = self.apply_word(&id, word, at)?;
            let mut activity = activity.clone();
            activity.target = Some(id.to_string());
            self.insert_activity(&activity)?;
            Ok(Some((id, applied)))
        })?;
        let Some((id, applied)) = found else {
            return Ok(Delivery::Untracked);
        };
        Ok(match (applied.event, applied.verdict) {
            (Some(_), _) => Delivery::Applied(id),
            (None, Verdict::Same) => Delivery::Same(id),
            (None, _) => Delivery::Stale(id),
        })
    }

    fn delivery_session(
        &self,
        target: DeliveryTarget<'_>,
    ) -> Result<Option<SessionId>, StoreError> {
        let provider = target.provider.as_str();
        let by_ref = target
            .verification_id
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(verification_id) = by_ref
            && let Some(mut row) = first(self.db.query(
                "SELECT id FROM sessions WHERE provider = ?1 AND external_ref = ?2 AND tracking = 1",
                params![provider, verification_id],
            )?)
        {
            return Ok(Some(SessionId::new_unchecked(row.text(0)?.into_owned())));
        }
        let reference = target.reference.map(str::trim).filter(|r| !r.is_empty());
        let Some(reference) = reference else {
            return Ok(None);
        };
        first(self.db.query(
            "SELECT id FROM sessions WHERE provider = ?1 AND reference = ?2 AND tracking = 1
             ORDER BY created_at DESC, rowid DESC LIMIT 1",
            params![provider, reference],
        )?)
        .map(|mut row| {
            row.text(0)
                .map(|id| SessionId::new_unchecked(id.into_owned()))
        })
        .transpose()
    }

    /// When the last verified delivery from `provider` arrived, and when
    /// one was certainly due with none arriving since (`missed_delivery`,
    /// counted from the later of that delivery and `started`, the
    /// server's start): the facts the leader's engine and every /healthz
    /// decide the polling pace from.
    pub fn delivery_facts(
        &self,
        provider: Provider,
        started: Timestamp,
    ) -> Result<(Option<Timestamp>, Option<Timestamp>), StoreError> {
        let last = self.last_delivery(provider)?;
        let since = last.map_or(started, |last| last.max(started));
        Ok((last, self.missed_delivery(provider, since)?))
    }

    /// When a delivery from `provider` was certainly due, with none having
    /// arrived since `since` (the last delivery, or the server's start):
    /// the end of the window of a session created since then (every
    /// session is sent its outcome by then, expiry included), or the time
    /// a poll or a refresh learned an outcome first (its delivery, if deliveries
    /// arrive, follows within seconds and moves `since` past it). `None`:
    /// nothing says deliveries are missing.
    pub fn missed_delivery(
        &self,
        provider: Provider,
        since: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let finals: Vec<String> = crate::domain::SessionStatus::FINAL
            .iter()
            .map(|status| format!("'{}'", status.as_str()))
            .collect();
        let sql = format!(
            "SELECT MIN(due) FROM (
                 SELECT expires_at AS due FROM sessions
                 WHERE provider = ?1 AND create_state = 'created' AND created_at > ?2
                 UNION ALL
                 SELECT status_at AS due FROM sessions
                 WHERE provider = ?1 AND status_learned IN ('poll', 'refresh') AND status_at > ?2
                   AND status IN ({})
             ) AS due_times",
            finals.join(", ")
        );
        let row = first(
            self.db
                .query(&sql, params![provider.as_str(), ts_text(since)])?,
        );
        match row {
            Some(mut row) => row
                .opt_text(0)?
                .map(|text| parse_ts("sessions.due", &text))
                .transpose(),
            None => Ok(None),
        }
    }

    /// When the last verified delivery from `provider` arrived, at any replica.
    pub fn last_delivery(&self, provider: Provider) -> Result<Option<Timestamp>, StoreError> {
        first(self.db.query(
            "SELECT last_at FROM webhook_receipts WHERE provider = ?1",
            params![provider.as_str()],
        )?)
        .map(|mut row| parse_ts("webhook_receipts.last_at", &row.text(0)?))
        .transpose()
    }
}
