//! The notify audit trail, its guard against a second notify, and the
//! document access log: rows written before a request and completed after.

use jiff::Timestamp;

use super::db::{self, Columns, WriteLock, first, params};
use super::rows::*;
use super::*;

/// How a notify ended, for its audit row.
#[derive(Debug, Clone, Copy)]
pub struct NotifyCompletion<'a> {
    pub outcome: NotifyOutcome,
    pub message: &'a str,
    pub provider_code: Option<&'a str>,
    /// The provider's reference for the request.
    pub request_id: Option<&'a str>,
    pub at: Timestamp,
}

impl Store {
    /// Writes an audit row (outcome unknown, not completed) before the notify is sent.
    pub fn begin_notify(
        &self,
        link: &LinkId,
        actor: &str,
        at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        let id = self.insert_audit(link, actor, at)?;
        self.audit_by_id(id)
    }

    fn insert_audit(&self, link: &LinkId, actor: &str, at: Timestamp) -> Result<i64, StoreError> {
        let row = first(self.db.query(
            "INSERT INTO notify_audit (link_id, actor, at, outcome, message, completed)
             VALUES (?1, ?2, ?3, 'unknown', '', 0) RETURNING id",
            params![link.as_str(), actor, ts_text(at)],
        )?);
        row.ok_or_else(|| StoreError::Database("an insert returned no id".into()))?
            .int(0)
    }

    /// `begin_notify`, unless a notify of `link` begun at or after `since`
    /// may have reached the recipient (sent, or outcome unknown): then those
    /// notifies instead. Check and write are one transaction holding the
    /// link's write lock, so two callers asking at once begin one, from two
    /// processes on one file or two replicas on one PostgreSQL.
    pub fn begin_notify_unless_recent(
        &self,
        link: &LinkId,
        actor: &str,
        at: Timestamp,
        since: Timestamp,
    ) -> Result<Result<AuditEntry, RecentNotifies>, StoreError> {
        let begun = self.write(WriteLock::Link(link.as_str()), || {
            let recent = RecentNotifies(self.notifies_since(link, since)?);
            if recent.last_reaching().is_some() {
                return Ok(Err(recent));
            }
            Ok(Ok(self.insert_audit(link, actor, at)?))
        })?;
        match begun {
            Ok(id) => Ok(Ok(self.audit_by_id(id)?)),
            Err(recent) => Ok(Err(recent)),
        }
    }

    /// Completes an audit row with the outcome. `at` is kept as the completion
    /// time; the entry's `at` stays the moment the notify was begun, which is
    /// what the double-send guard (`RecentNotifies`) needs.
    pub fn finish_notify(
        &self,
        audit_id: i64,
        outcome: NotifyOutcome,
        message: &str,
        provider_code: Option<&str>,
        request_id: Option<&str>,
        at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        let completion = NotifyCompletion {
            outcome,
            message,
            provider_code,
            request_id,
            at,
        };
        self.finish_notify_noting(audit_id, &completion, None)
    }

    /// `finish_notify`, with `activity` written in the same transaction.
    pub fn finish_notify_noting(
        &self,
        audit_id: i64,
        done: &NotifyCompletion<'_>,
        activity: Option<&Activity>,
    ) -> Result<AuditEntry, StoreError> {
        self.write_noting(WriteLock::All, activity, || {
            let changed = self.db.execute(
                "UPDATE notify_audit SET outcome = ?2, message = ?3, provider_code = ?4,
                     request_id = ?5, completed = 1, completed_at = ?6
                 WHERE id = ?1",
                params![
                    audit_id,
                    done.outcome.as_str(),
                    done.message,
                    done.provider_code,
                    done.request_id,
                    ts_text(done.at),
                ],
            )?;
            if changed == 0 {
                return Err(StoreError::NoSuchAudit(audit_id));
            }
            Ok(())
        })?;
        self.audit_by_id(audit_id)
    }

    /// The audit trail, newest first.
    pub fn list_audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let sql =
            format!("SELECT {AUDIT_COLUMNS} FROM notify_audit ORDER BY at DESC, id DESC LIMIT ?1");
        self.audit_rows(&sql, params![sql_limit(limit)])
    }

    /// Records one fetch or reveal of a consented document: who, when, which
    /// session and document, revealed or not, and how the fetch went.
    pub fn log_document_access(&self, access: &DocumentAccess) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO document_access (at, actor, session_id, provider, document, revealed, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                ts_text(access.at),
                access.actor.as_str(),
                access.session_id.as_str(),
                access.provider.as_str(),
                access.document.wire(),
                access.revealed,
                access.outcome.as_str(),
            ],
        )?;
        Ok(())
    }

    /// The newest document accesses first.
    pub fn list_document_access(&self, limit: usize) -> Result<Vec<DocumentAccess>, StoreError> {
        let rows = self.db.query(
            "SELECT at, actor, session_id, provider, document, revealed, outcome
               FROM document_access ORDER BY at DESC, id DESC LIMIT ?1",
            params![sql_limit(limit)],
        )?;
        rows.into_iter()
            .map(|mut row| {
                let document = row.text(4)?;
                Ok(DocumentAccess {
                    at: parse_ts("document_access.at", &row.text(0)?)?,
                    actor: row.text(1)?.into_owned(),
                    session_id: SessionId::new_unchecked(row.text(2)?.into_owned()),
                    provider: parse_provider("document_access.provider", &row.text(3)?)?,
                    document: DocumentType::parse(&document)
                        .ok_or_else(|| corrupt("document_access.document", &document))?,
                    revealed: row.flag(5)?,
                    outcome: row.text(6)?.into_owned(),
                })
            })
            .collect()
    }

    /// Every notify for a link at or after `since`, newest first, whatever
    /// its outcome.
    pub fn notifies_since(
        &self,
        link: &LinkId,
        since: Timestamp,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM notify_audit WHERE link_id = ?1 AND at >= ?2
             ORDER BY at DESC, id DESC"
        );
        self.audit_rows(&sql, params![link.as_str(), ts_text(since)])
    }

    /// The audit rows an `AUDIT_COLUMNS` query selects, in its order.
    fn audit_rows(&self, sql: &str, params: &[db::Value]) -> Result<Vec<AuditEntry>, StoreError> {
        self.db
            .query(sql, params)?
            .into_iter()
            .map(|row| RawAudit::from_row(row)?.into_entry())
            .collect()
    }

    fn audit_by_id(&self, id: i64) -> Result<AuditEntry, StoreError> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM notify_audit WHERE id = ?1");
        self.audit_rows(&sql, params![id])?
            .into_iter()
            .next()
            .ok_or(StoreError::NoSuchAudit(id))
    }
}
