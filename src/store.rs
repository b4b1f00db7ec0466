//! The local SQLite store (WAL): tracked DigiLocker sessions with their status
//! history, the payout-link notify audit, and balance snapshots.
//!
//! Crash safety: rows for a session create or a notify are written *before*
//! the request is sent and completed after, so a crash mid-request leaves a
//! visible "outcome unknown" record. Personal data (`user_details`) is never stored.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use rust_decimal::Decimal;

use crate::auth::Role;
use crate::domain::{
    AuditEntry, BalanceReport, BalanceSnapshot, CreateState, CreatedSession, DocumentAccess,
    DocumentType, ExternalRef, LinkId, NewSession, NotifyOutcome, Provider, RecentNotifies,
    SessionId, SessionRecord, SessionStatus, StatusEvent, UserFlow,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {message}")]
    Open { path: String, message: String },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database holds an unreadable value in {column}: {value:?}")]
    Corrupt { column: String, value: String },
    #[error("no tracked session {0}")]
    NoSuchSession(String),
    #[error("an active token is already named {0}; revoke it first or choose another name")]
    TokenNameTaken(String),
    #[error("no active token named {0}")]
    NoSuchToken(String),
}

/// A token as `token list` shows it: never the token itself.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

/// Balance snapshots younger than this are all kept; older ones are
/// thinned to one an hour.
pub const BALANCE_FULL_DETAIL: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 7);

pub struct Store {
    conn: rusqlite::Connection,
}

// The engine moves the store into a blocking task; keep that possible.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Store>();
};

/// How long a call waits for another payops process holding the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a DigiLocker URL stays usable after creation (both providers).
const SESSION_VALIDITY_MINUTES: i64 = 10;

/// The message `mark_interrupted` leaves on rows a previous process never finished.
pub const INTERRUPTED_MESSAGE: &str =
    "payops stopped before the provider answered; check the provider before retrying";

/// Prefix of the placeholder external ref given to sessions adopted with
/// `track_existing`: `tracked:<provider>:<reference>`. The `:` cannot occur in
/// a real external ref (both providers refuse it), so a placeholder never
/// collides with one we generated, and it is unique per provider reference,
/// which the `UNIQUE` constraint on `external_ref` needs.
pub const TRACKED_REF_PREFIX: &str = "tracked:";

/// Schema migrations, applied in order; `PRAGMA user_version` counts how many
/// ran. Never edit a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema.
    "CREATE TABLE sessions (
        id                  TEXT PRIMARY KEY NOT NULL,
        provider            TEXT NOT NULL,
        external_ref        TEXT NOT NULL UNIQUE,
        reference           TEXT,
        status              TEXT NOT NULL,
        provider_status     TEXT NOT NULL DEFAULT '',
        url                 TEXT,
        flow                TEXT,
        redirect_url        TEXT,
        documents_requested TEXT NOT NULL DEFAULT '',
        documents_consented TEXT NOT NULL DEFAULT '',
        create_state        TEXT NOT NULL,
        create_message      TEXT,
        tracking            INTEGER NOT NULL DEFAULT 1,
        created_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL,
        expires_at          TEXT NOT NULL,
        last_polled_at      TEXT,
        last_error          TEXT
    );
    CREATE INDEX sessions_reference ON sessions (reference);
    CREATE INDEX sessions_created_at ON sessions (created_at);
    CREATE TABLE session_events (
        id              INTEGER PRIMARY KEY,
        session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        at              TEXT NOT NULL,
        status          TEXT NOT NULL,
        provider_status TEXT NOT NULL
    );
    CREATE INDEX session_events_session ON session_events (session_id, id);
    CREATE TABLE notify_audit (
        id            INTEGER PRIMARY KEY,
        link_id       TEXT NOT NULL,
        actor         TEXT NOT NULL,
        at            TEXT NOT NULL,
        outcome       TEXT NOT NULL,
        message       TEXT NOT NULL DEFAULT '',
        provider_code TEXT,
        request_id    TEXT,
        completed     INTEGER NOT NULL DEFAULT 0,
        completed_at  TEXT
    );
    CREATE INDEX notify_audit_link ON notify_audit (link_id, at);
    CREATE TABLE balance_snapshots (
        id         INTEGER PRIMARY KEY,
        at         TEXT NOT NULL,
        account    TEXT NOT NULL,
        available  TEXT NOT NULL,
        total      TEXT NOT NULL,
        lien       TEXT NOT NULL,
        request_id TEXT
    );
    CREATE INDEX balance_snapshots_at ON balance_snapshots (at);",
    // 2: who fetched or revealed which consented document (never its contents).
    "CREATE TABLE document_access (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        session_id  TEXT NOT NULL,
        provider    TEXT NOT NULL,
        document    TEXT NOT NULL,
        revealed    INTEGER NOT NULL,
        outcome     TEXT NOT NULL
    );
    CREATE INDEX document_access_at ON document_access (at);",
    // 3: the agent's label (ticket or case reference) and who created it.
    "ALTER TABLE sessions ADD COLUMN label TEXT;
    ALTER TABLE sessions ADD COLUMN created_by TEXT;",
    // 4: team mode's operators: a token's hash, never the token.
    "CREATE TABLE api_tokens (
        id           INTEGER PRIMARY KEY,
        operator     TEXT NOT NULL,
        role         TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL,
        revoked_at   TEXT,
        last_used_at TEXT
    );
    CREATE UNIQUE INDEX api_tokens_active_operator ON api_tokens (operator)
        WHERE revoked_at IS NULL;",
    // 5: lists come newest first; with the index they are read in that order
    // instead of sorted every time.
    "CREATE INDEX sessions_created ON sessions (created_at);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const SESSION_COLUMNS: &str = "id, provider, external_ref, reference, status, provider_status, \
     url, flow, redirect_url, documents_requested, documents_consented, create_state, \
     create_message, tracking, created_at, updated_at, expires_at, last_polled_at, last_error, \
     label, created_by";

const TOKEN_COLUMNS: &str = "operator, role, created_at, revoked_at, last_used_at";

const AUDIT_COLUMNS: &str =
    "id, link_id, actor, at, outcome, message, provider_code, request_id, completed";

/// `('AUTHENTICATED', …)`: the final statuses as an SQL list, from the one
/// list in the domain.
fn final_statuses_sql() -> String {
    let words: Vec<String> = SessionStatus::FINAL
        .iter()
        .map(|status| format!("'{}'", status.as_str()))
        .collect();
    format!("({})", words.join(", "))
}

impl Store {
    /// Opens (creating if needed) the database at `path`, in WAL mode, and
    /// applies pending schema migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| open_err(format!("cannot create folder {}: {e}", parent.display())))?;
        }
        let conn = rusqlite::Connection::open(path).map_err(|e| open_err(describe_open(&e)))?;
        let store = Store { conn };
        store.configure().map_err(|e| open_err(describe_open(&e)))?;
        store.migrate(path)?;
        Ok(store)
    }

    fn configure(&self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        // The first statement that reads the file: a non-database fails here.
        let _mode: String =
            self.conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        // FULL: an audit row must be on disk before the notify it guards leaves.
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    fn migrate(&self, path: &Path) -> Result<(), StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        let version = self
            .user_version()
            .map_err(|e| open_err(describe_open(&e)))?;
        if version > SCHEMA_VERSION {
            return Err(open_err(format!(
                "was written by a newer payops (schema version {version}; this build knows up \
                 to {SCHEMA_VERSION}); upgrade payops or use another --data-dir"
            )));
        }
        for (index, sql) in MIGRATIONS.iter().enumerate() {
            let target = index as i64 + 1;
            // IMMEDIATE, then re-read the version: two payops starting at once
            // must not both apply the same migration.
            let tx = self.immediate()?;
            if self.user_version()? >= target {
                continue;
            }
            tx.execute_batch(sql)
                .map_err(|e| open_err(format!("schema migration {target} failed: {e}")))?;
            tx.pragma_update(None, "user_version", target)?;
            tx.commit()?;
        }
        Ok(())
    }

    fn user_version(&self) -> rusqlite::Result<i64> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.user_version()?)
    }

    /// Read-modify-write transactions take the write lock up front: in WAL
    /// mode a deferred one that later writes fails at once with SQLITE_BUSY
    /// instead of waiting on the busy timeout.
    fn immediate(&self) -> rusqlite::Result<Transaction<'_>> {
        Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
    }

    /// Turns what a previous process left in flight into "outcome unknown":
    /// session creates still `Sending` and notify audit rows not completed.
    /// Returns how many rows changed. Call once at start-up, before any request.
    ///
    /// A second payops process running at the same time would see its own
    /// in-flight rows relabelled; its later `complete_session`/`finish_notify`
    /// still records the real answer over them.
    pub fn mark_interrupted(&self) -> Result<usize, StoreError> {
        let tx = self.immediate()?;
        let sessions = tx.execute(
            "UPDATE sessions SET create_state = 'outcome_unknown', create_message = ?1
             WHERE create_state = 'sending'",
            params![INTERRUPTED_MESSAGE],
        )?;
        let audits = tx.execute(
            "UPDATE notify_audit SET outcome = 'unknown', message = ?1, completed = 1
             WHERE completed = 0",
            params![INTERRUPTED_MESSAGE],
        )?;
        tx.commit()?;
        Ok(sessions + audits)
    }

    // ---- sessions ----

    /// Writes a session row in state `Sending` before its create request leaves:
    /// status `PENDING`, provider status "", expiring 10 minutes after `created_at`.
    pub fn begin_session(&self, new: &NewSession) -> Result<SessionRecord, StoreError> {
        let expires_at = new
            .created_at
            .saturating_add(SignedDuration::from_mins(SESSION_VALIDITY_MINUTES))
            .unwrap_or(new.created_at);
        self.conn.execute(
            "INSERT INTO sessions (id, provider, external_ref, reference, status, provider_status,
                 url, flow, redirect_url, documents_requested, documents_consented, create_state,
                 create_message, tracking, created_at, updated_at, expires_at, label, created_by)
             VALUES (?1, ?2, ?3, NULL, ?4, '', NULL, ?5, ?6, ?7, '', 'sending', NULL, 1, ?8, ?8, ?9,
                 ?10, ?11)",
            params![
                new.id.as_str(),
                new.provider.as_str(),
                new.external_ref.as_str(),
                SessionStatus::Pending.as_str(),
                new.flow.map(flow_word),
                new.redirect_url,
                documents_text(&new.documents_requested),
                ts_text(new.created_at),
                ts_text(expires_at),
                new.label,
                new.created_by,
            ],
        )?;
        self.session_by_id(&new.id)
    }

    /// Sets (or with `None` clears) a session's label; the label is the
    /// agent's, so it changes nothing else, not even `updated_at`.
    pub fn set_label(
        &self,
        id: &SessionId,
        label: Option<&str>,
    ) -> Result<SessionRecord, StoreError> {
        let changed = self.conn.execute(
            "UPDATE sessions SET label = ?2 WHERE id = ?1",
            params![id.as_str(), label],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchSession(id.to_string()));
        }
        self.session_by_id(id)
    }

    /// Records the provider's answer to a create: reference, url, status, raw
    /// word and (when the provider lists them) the documents requested; state
    /// `Created`, and the first status event. Also overrides an
    /// `OutcomeUnknown` left by `mark_interrupted`: the answer is the truth.
    pub fn complete_session(
        &self,
        id: &SessionId,
        created: &CreatedSession,
        at: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let tx = self.immediate()?;
        let documents = (!created.documents_requested.is_empty())
            .then(|| documents_text(&created.documents_requested));
        let changed = tx.execute(
            "UPDATE sessions SET reference = ?2, url = ?3, status = ?4, provider_status = ?5,
                 documents_requested = COALESCE(?6, documents_requested),
                 create_state = 'created', create_message = NULL, updated_at = ?7
             WHERE id = ?1",
            params![
                id.as_str(),
                created.reference.trim(),
                created.url,
                created.status.as_str(),
                created.provider_status,
                documents,
                ts_text(at),
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchSession(id.to_string()));
        }
        insert_event(&tx, id, at, &created.status, &created.provider_status)?;
        tx.commit()?;
        self.session_by_id(id)
    }

    /// Records that a create failed (`Failed`) or may have applied
    /// (`OutcomeUnknown`), with its message. The state is stored as given.
    pub fn fail_session(
        &self,
        id: &SessionId,
        state: CreateState,
        at: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let (word, message) = create_state_parts(&state);
        let changed = self.conn.execute(
            "UPDATE sessions SET create_state = ?2, create_message = ?3, updated_at = ?4
             WHERE id = ?1",
            params![id.as_str(), word, message, ts_text(at)],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchSession(id.to_string()));
        }
        self.session_by_id(id)
    }

    /// Starts tracking a session created elsewhere, known by its provider reference.
    /// Returns the existing record if that reference is already tracked.
    ///
    /// The new row gets a fresh `SessionId`, state `Created`, status `PENDING`
    /// and the placeholder external ref `tracked:<provider>:<reference>` (see
    /// [`TRACKED_REF_PREFIX`]) until [`Store::learn_external_ref`] records the
    /// real one. An existing row for the same provider and reference (ours or
    /// adopted earlier) is returned instead, with tracking switched back on.
    pub fn track_existing(
        &self,
        provider: Provider,
        reference: &str,
        at: Timestamp,
    ) -> Result<SessionRecord, StoreError> {
        let reference = reference.trim();
        if reference.is_empty() {
            return Err(StoreError::NoSuchSession(
                "(empty provider reference)".into(),
            ));
        }
        let tx = self.immediate()?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT id FROM sessions WHERE provider = ?1 AND reference = ?2
                 ORDER BY created_at DESC, rowid DESC LIMIT 1",
                params![provider.as_str(), reference],
                |row| row.get(0),
            )
            .optional()?;
        let id = match existing {
            Some(id) => {
                tx.execute(
                    "UPDATE sessions SET tracking = 1 WHERE id = ?1",
                    params![id],
                )?;
                SessionId::new_unchecked(id)
            }
            None => {
                let id = SessionId::generate();
                let expires_at = at
                    .saturating_add(SignedDuration::from_mins(SESSION_VALIDITY_MINUTES))
                    .unwrap_or(at);
                tx.execute(
                    "INSERT INTO sessions (id, provider, external_ref, reference, status,
                         provider_status, create_state, tracking, created_at, updated_at,
                         expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, '', 'created', 1, ?6, ?6, ?7)",
                    params![
                        id.as_str(),
                        provider.as_str(),
                        placeholder_ref(provider, reference),
                        reference,
                        SessionStatus::Pending.as_str(),
                        ts_text(at),
                        ts_text(expires_at),
                    ],
                )?;
                id
            }
        };
        tx.commit()?;
        self.session_by_id(&id)
    }

    /// Replaces an adopted session's placeholder external ref with the one the
    /// provider echoed in a status answer. Does nothing when the row already
    /// has a real external ref, or when another row holds that ref (a create
    /// of ours whose answer was lost: both rows stay, for the operator to see).
    pub fn learn_external_ref(
        &self,
        id: &SessionId,
        external_ref: &str,
    ) -> Result<SessionRecord, StoreError> {
        let external_ref = external_ref.trim();
        if !external_ref.is_empty() && !external_ref.starts_with(TRACKED_REF_PREFIX) {
            self.conn.execute(
                "UPDATE sessions SET external_ref = ?2
                 WHERE id = ?1 AND external_ref LIKE 'tracked:%'
                   AND NOT EXISTS (SELECT 1 FROM sessions WHERE external_ref = ?2)",
                params![id.as_str(), external_ref],
            )?;
        }
        self.session_by_id(id)
    }

    /// Records a poll's answer. Appends to the status history when the status
    /// (or raw word) changed. Returns the updated record and the previous status
    /// if the normalised status changed. Clears `last_error`.
    pub fn record_poll(
        &self,
        id: &SessionId,
        status: &SessionStatus,
        provider_status: &str,
        documents_consented: &[DocumentType],
        at: Timestamp,
    ) -> Result<(SessionRecord, Option<SessionStatus>, Option<StatusEvent>), StoreError> {
        let tx = self.immediate()?;
        let previous: Option<(String, String)> = tx
            .query_row(
                "SELECT status, provider_status FROM sessions WHERE id = ?1",
                params![id.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let Some((previous_word, previous_raw)) = previous else {
            return Err(StoreError::NoSuchSession(id.to_string()));
        };
        let previous_status = parse_status(&previous_word)?;
        tx.execute(
            "UPDATE sessions SET status = ?2, provider_status = ?3, documents_consented = ?4,
                 last_polled_at = ?5, updated_at = ?5, last_error = NULL
             WHERE id = ?1",
            params![
                id.as_str(),
                status.as_str(),
                provider_status,
                documents_text(documents_consented),
                ts_text(at),
            ],
        )?;
        let event =
            (previous_status != *status || previous_raw != provider_status).then(|| StatusEvent {
                at,
                status: status.clone(),
                provider_status: provider_status.to_string(),
            });
        if let Some(event) = &event {
            insert_event(&tx, id, event.at, &event.status, &event.provider_status)?;
        }
        tx.commit()?;
        let record = self.session_by_id(id)?;
        let changed = (previous_status != *status).then_some(previous_status);
        Ok((record, changed, event))
    }

    /// Records a failed poll. The last good status and `last_polled_at` (the
    /// last good answer) stay as they were.
    pub fn record_poll_error(
        &self,
        id: &SessionId,
        message: &str,
    ) -> Result<SessionRecord, StoreError> {
        let changed = self.conn.execute(
            "UPDATE sessions SET last_error = ?2 WHERE id = ?1",
            params![id.as_str(), message],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchSession(id.to_string()));
        }
        self.session_by_id(id)
    }

    pub fn set_tracking(&self, id: &SessionId, tracking: bool) -> Result<(), StoreError> {
        let changed = self.conn.execute(
            "UPDATE sessions SET tracking = ?2 WHERE id = ?1",
            params![id.as_str(), tracking],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchSession(id.to_string()));
        }
        Ok(())
    }

    /// Finds a session by our id, the provider reference or our external ref
    /// (exact match after trimming). When a reference is shared by both
    /// providers, the newest session wins.
    pub fn find_session(&self, needle: &str) -> Result<Option<SessionRecord>, StoreError> {
        let needle = needle.trim();
        if needle.is_empty() {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions
             WHERE id = ?1 OR reference = ?1 OR external_ref = ?1
             ORDER BY (id = ?1) DESC, created_at DESC, rowid DESC LIMIT 1"
        );
        let raw = self
            .conn
            .query_row(&sql, params![needle], RawSession::from_row)
            .optional()?;
        raw.map(RawSession::into_record).transpose()
    }

    /// Sessions newest first. With `include_final == false`: those still being
    /// tracked and not final, plus every row whose create is `Sending` or
    /// `OutcomeUnknown` (tracked or not) so an unresolved create stays in
    /// sight. Failed creates appear only with `include_final`.
    /// SQLite's `data_version`: it changes when another connection (the
    /// CLI, a second dashboard) commits to the file, never for this one's
    /// own writes. Cheap enough to ask every second.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))?)
    }

    pub fn list_sessions(&self, include_final: bool) -> Result<Vec<SessionRecord>, StoreError> {
        let filter = if include_final {
            String::new()
        } else {
            format!(
                "WHERE create_state IN ('sending', 'outcome_unknown')
                    OR (create_state = 'created' AND tracking = 1
                        AND status NOT IN {})",
                final_statuses_sql()
            )
        };
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions {filter}
             ORDER BY created_at DESC, rowid DESC"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let raws = stmt
            .query_map([], RawSession::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(RawSession::into_record).collect()
    }

    /// A session's status changes, oldest first.
    pub fn session_history(&self, id: &SessionId) -> Result<Vec<StatusEvent>, StoreError> {
        let mut histories = self.events_where("session_id = ?1", params![id.as_str()])?;
        Ok(histories.remove(id).unwrap_or_default())
    }

    /// The status changes of every tracked session, oldest first: one query
    /// at start instead of one per session.
    pub fn tracked_histories(&self) -> Result<HashMap<SessionId, Vec<StatusEvent>>, StoreError> {
        self.events_where(
            "session_id IN (SELECT id FROM sessions WHERE tracking = 1)",
            params![],
        )
    }

    fn events_where(
        &self,
        condition: &str,
        params: impl rusqlite::Params,
    ) -> Result<HashMap<SessionId, Vec<StatusEvent>>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT session_id, at, status, provider_status FROM session_events
             WHERE {condition} ORDER BY id"
        ))?;
        let rows = stmt
            .query_map(params, |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut histories: HashMap<SessionId, Vec<StatusEvent>> = HashMap::new();
        for (id, at, status, provider_status) in rows {
            histories
                .entry(SessionId::new_unchecked(id))
                .or_default()
                .push(StatusEvent {
                    at: parse_ts("session_events.at", &at)?,
                    status: parse_status(&status)?,
                    provider_status,
                });
        }
        Ok(histories)
    }

    fn session_by_id(&self, id: &SessionId) -> Result<SessionRecord, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
        match self
            .conn
            .query_row(&sql, params![id.as_str()], RawSession::from_row)
            .optional()?
        {
            Some(raw) => raw.into_record(),
            None => Err(StoreError::NoSuchSession(id.to_string())),
        }
    }

    // ---- notify audit ----

    /// Writes an audit row (outcome unknown, not completed) before the notify is sent.
    pub fn begin_notify(
        &self,
        link: &LinkId,
        actor: &str,
        at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        self.conn.execute(
            "INSERT INTO notify_audit (link_id, actor, at, outcome, message, completed)
             VALUES (?1, ?2, ?3, 'unknown', '', 0)",
            params![link.as_str(), actor, ts_text(at)],
        )?;
        let id = self.conn.last_insert_rowid();
        self.audit_by_id(id)
    }

    /// `begin_notify`, unless a notify of `link` begun at or after `since`
    /// may have reached the recipient (sent, or outcome unknown): then those
    /// notifies instead. Check and write are one write transaction, so two
    /// callers asking at once begin one, even from two processes on one file.
    pub fn begin_notify_unless_recent(
        &self,
        link: &LinkId,
        actor: &str,
        at: Timestamp,
        since: Timestamp,
    ) -> Result<Result<AuditEntry, RecentNotifies>, StoreError> {
        let tx = self.immediate()?;
        let recent = RecentNotifies(self.notifies_since(link, since)?);
        if recent.last_reaching().is_some() {
            return Ok(Err(recent));
        }
        tx.execute(
            "INSERT INTO notify_audit (link_id, actor, at, outcome, message, completed)
             VALUES (?1, ?2, ?3, 'unknown', '', 0)",
            params![link.as_str(), actor, ts_text(at)],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Ok(self.audit_by_id(id)?))
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
        let changed = self.conn.execute(
            "UPDATE notify_audit SET outcome = ?2, message = ?3, provider_code = ?4,
                 request_id = ?5, completed = 1, completed_at = ?6
             WHERE id = ?1",
            params![
                audit_id,
                outcome.as_str(),
                message,
                provider_code,
                request_id,
                ts_text(at),
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows));
        }
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
        self.conn.execute(
            "INSERT INTO document_access (at, actor, session_id, provider, document, revealed, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                ts_text(access.at),
                access.actor,
                access.session_id.as_str(),
                access.provider.as_str(),
                access.document.wire(),
                access.revealed,
                access.outcome,
            ],
        )?;
        Ok(())
    }

    /// The newest document accesses first.
    pub fn list_document_access(&self, limit: usize) -> Result<Vec<DocumentAccess>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, actor, session_id, provider, document, revealed, outcome
               FROM document_access ORDER BY at DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt
            .query_map(params![sql_limit(limit)], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, bool>(5)?,
                    row.get::<_, String>(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(
                |(at, actor, session, provider, document, revealed, outcome)| {
                    Ok(DocumentAccess {
                        at: parse_ts("document_access.at", &at)?,
                        actor,
                        session_id: SessionId::new_unchecked(session),
                        provider: parse_provider("document_access.provider", &provider)?,
                        document: DocumentType::parse(&document)
                            .ok_or_else(|| corrupt("document_access.document", &document))?,
                        revealed,
                        outcome,
                    })
                },
            )
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
    fn audit_rows(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let mut statement = self.conn.prepare(sql)?;
        let rows = statement.query_map(params, RawAudit::from_row)?;
        rows.map(|row| row?.into_entry()).collect()
    }

    fn audit_by_id(&self, id: i64) -> Result<AuditEntry, StoreError> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM notify_audit WHERE id = ?1");
        self.conn
            .query_row(&sql, params![id], RawAudit::from_row)?
            .into_entry()
    }

    // ---- balance ----

    /// Stores a reading and thins what is older than [`BALANCE_FULL_DETAIL`]
    /// before it to the first reading of each hour, so the table stays
    /// bounded however long payops runs.
    pub fn insert_balance(&self, report: &BalanceReport) -> Result<(), StoreError> {
        let tx = self.immediate()?;
        tx.execute(
            "INSERT INTO balance_snapshots (at, account, available, total, lien, request_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                ts_text(report.fetched_at),
                report.account,
                report.available.to_string(),
                report.total.to_string(),
                report.lien.to_string(),
                report.request_id,
            ],
        )?;
        let cutoff = report
            .fetched_at
            .checked_sub(BALANCE_FULL_DETAIL)
            .unwrap_or(report.fetched_at);
        // Times are stored as fixed-width UTC text, so the first 13
        // characters (2026-11-23T10) name the hour.
        tx.execute(
            "DELETE FROM balance_snapshots
             WHERE at < ?1
               AND id NOT IN (
                   SELECT MIN(id) FROM balance_snapshots WHERE at < ?1
                   GROUP BY account, substr(at, 1, 13)
               )",
            params![ts_text(cutoff)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every snapshot taken at or after `since`, oldest first.
    pub fn balance_since(&self, since: Timestamp) -> Result<Vec<BalanceSnapshot>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT at, account, available, total, lien, request_id
             FROM balance_snapshots WHERE at >= ?1 ORDER BY at, id",
        )?;
        let rows = stmt
            .query_map(params![ts_text(since)], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, Option<String>>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(at, account, available, total, lien, request_id)| {
                Ok(BalanceSnapshot {
                    at: parse_ts("balance_snapshots.at", &at)?,
                    account,
                    available: parse_decimal("balance_snapshots.available", &available)?,
                    total: parse_decimal("balance_snapshots.total", &total)?,
                    lien: parse_decimal("balance_snapshots.lien", &lien)?,
                    request_id,
                })
            })
            .collect()
    }

    // ---- team mode: tokens ----

    /// Stores a new token's hash under `name` (unique among active tokens).
    pub fn add_token(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let added = self.conn.execute(
            "INSERT INTO api_tokens (operator, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, role.as_str(), token_hash, ts_text(at)],
        );
        match added {
            Ok(_) => Ok(()),
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                Err(StoreError::TokenNameTaken(name.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every token, active first, newest first.
    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens
             ORDER BY revoked_at IS NOT NULL, created_at DESC, id DESC"
        ))?;
        let rows = stmt
            .query_map([], RawToken::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(RawToken::into_info).collect()
    }

    /// Revokes the active token named `name`.
    pub fn revoke_token(&self, name: &str, at: Timestamp) -> Result<(), StoreError> {
        let changed = self.conn.execute(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE operator = ?1 AND revoked_at IS NULL",
            params![name, ts_text(at)],
        )?;
        if changed == 0 {
            return Err(StoreError::NoSuchToken(name.to_string()));
        }
        Ok(())
    }

    /// The active token with this hash. Its use is noted at `at` at most once
    /// a minute and only when the database is free at once: a request must
    /// not wait on (or fail for) a bookkeeping write.
    pub fn use_token(
        &self,
        token_hash: &str,
        at: Timestamp,
    ) -> Result<Option<TokenInfo>, StoreError> {
        let a_minute_ago = at.checked_sub(SignedDuration::from_mins(1)).unwrap_or(at);
        let noted = self.conn.busy_timeout(Duration::ZERO).and_then(|()| {
            self.conn.execute(
                "UPDATE api_tokens SET last_used_at = ?2
                 WHERE token_hash = ?1 AND revoked_at IS NULL
                   AND (last_used_at IS NULL OR last_used_at < ?3)",
                params![token_hash, ts_text(at), ts_text(a_minute_ago)],
            )
        });
        let _ = self.conn.busy_timeout(BUSY_TIMEOUT);
        if let Err(e) = noted {
            tracing::debug!(error = %e, "token use not noted");
        }
        self.conn
            .query_row(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens
                     WHERE token_hash = ?1 AND revoked_at IS NULL"
                ),
                params![token_hash],
                RawToken::from_row,
            )
            .optional()?
            .map(RawToken::into_info)
            .transpose()
    }
}

/// Turns SQLite's terse open errors into something an operator can act on.
fn describe_open(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            "is not a payops database (not an SQLite file, or damaged); move it aside or \
             choose another --data-dir"
                .into()
        }
        Some(rusqlite::ErrorCode::CannotOpen) => format!("cannot be opened ({e})"),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            format!("is locked by another process ({e})")
        }
        Some(rusqlite::ErrorCode::ReadOnly) => format!("is read-only ({e})"),
        _ => e.to_string(),
    }
}

fn insert_event(
    conn: &rusqlite::Connection,
    id: &SessionId,
    at: Timestamp,
    status: &SessionStatus,
    provider_status: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO session_events (session_id, at, status, provider_status)
         VALUES (?1, ?2, ?3, ?4)",
        params![id.as_str(), ts_text(at), status.as_str(), provider_status],
    )?;
    Ok(())
}

fn placeholder_ref(provider: Provider, reference: &str) -> String {
    format!("{TRACKED_REF_PREFIX}{}:{reference}", provider.as_str())
}

fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Fixed nine-digit fractions so timestamps compare correctly as text
/// (`…:00Z` would otherwise sort after `…:00.5Z`).
fn ts_text(at: Timestamp) -> String {
    format!("{at:.9}")
}

fn parse_ts(column: &str, text: &str) -> Result<Timestamp, StoreError> {
    text.parse().map_err(|_| corrupt(column, text))
}

fn parse_opt_ts(column: &str, text: Option<String>) -> Result<Option<Timestamp>, StoreError> {
    text.map(|t| parse_ts(column, &t)).transpose()
}

fn parse_decimal(column: &str, text: &str) -> Result<Decimal, StoreError> {
    Decimal::from_str(text).map_err(|_| corrupt(column, text))
}

fn parse_provider(column: &str, word: &str) -> Result<Provider, StoreError> {
    match word {
        "instantpay" => Ok(Provider::InstantPay),
        "cashfree" => Ok(Provider::Cashfree),
        other => Err(corrupt(column, other)),
    }
}

fn parse_status(word: &str) -> Result<SessionStatus, StoreError> {
    if word.trim().is_empty() {
        return Err(corrupt("sessions.status", word));
    }
    Ok(SessionStatus::from_normalised(word))
}

fn corrupt(column: &str, value: &str) -> StoreError {
    StoreError::Corrupt {
        column: column.into(),
        value: value.into(),
    }
}

fn flow_word(flow: UserFlow) -> &'static str {
    flow.cashfree_word()
}

fn documents_text(documents: &[DocumentType]) -> String {
    documents
        .iter()
        .map(|d| d.wire())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_documents(column: &str, text: &str) -> Result<Vec<DocumentType>, StoreError> {
    text.split(',')
        .filter(|w| !w.is_empty())
        .map(|w| DocumentType::parse(w).ok_or_else(|| corrupt(column, text)))
        .collect()
}

fn create_state_parts(state: &CreateState) -> (&'static str, Option<&str>) {
    match state {
        CreateState::Sending => ("sending", None),
        CreateState::Created => ("created", None),
        CreateState::Failed(message) => ("failed", Some(message)),
        CreateState::OutcomeUnknown(message) => ("outcome_unknown", Some(message)),
    }
}

fn parse_create_state(word: &str, message: Option<String>) -> Result<CreateState, StoreError> {
    let message = message.unwrap_or_default();
    match word {
        "sending" => Ok(CreateState::Sending),
        "created" => Ok(CreateState::Created),
        "failed" => Ok(CreateState::Failed(message)),
        "outcome_unknown" => Ok(CreateState::OutcomeUnknown(message)),
        other => Err(corrupt("sessions.create_state", other)),
    }
}

/// A session row as SQLite returns it, before the checks that may find it corrupt.
struct RawSession {
    id: String,
    provider: String,
    external_ref: String,
    reference: Option<String>,
    status: String,
    provider_status: String,
    url: Option<String>,
    flow: Option<String>,
    redirect_url: Option<String>,
    documents_requested: String,
    documents_consented: String,
    create_state: String,
    create_message: Option<String>,
    tracking: bool,
    created_at: String,
    updated_at: String,
    expires_at: String,
    last_polled_at: Option<String>,
    last_error: Option<String>,
    label: Option<String>,
    created_by: Option<String>,
}

impl RawSession {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawSession> {
        Ok(RawSession {
            id: row.get(0)?,
            provider: row.get(1)?,
            external_ref: row.get(2)?,
            reference: row.get(3)?,
            status: row.get(4)?,
            provider_status: row.get(5)?,
            url: row.get(6)?,
            flow: row.get(7)?,
            redirect_url: row.get(8)?,
            documents_requested: row.get(9)?,
            documents_consented: row.get(10)?,
            create_state: row.get(11)?,
            create_message: row.get(12)?,
            tracking: row.get(13)?,
            created_at: row.get(14)?,
            updated_at: row.get(15)?,
            expires_at: row.get(16)?,
            last_polled_at: row.get(17)?,
            last_error: row.get(18)?,
            label: row.get(19)?,
            created_by: row.get(20)?,
        })
    }

    fn into_record(self) -> Result<SessionRecord, StoreError> {
        let provider = parse_provider("sessions.provider", &self.provider)?;
        let flow = self
            .flow
            .map(|w| UserFlow::parse(&w).ok_or_else(|| corrupt("sessions.flow", &w)))
            .transpose()?;
        Ok(SessionRecord {
            id: SessionId::new_unchecked(self.id),
            provider,
            external_ref: ExternalRef::new_unchecked(self.external_ref),
            reference: self.reference,
            status: parse_status(&self.status)?,
            provider_status: self.provider_status,
            url: self.url,
            flow,
            redirect_url: self.redirect_url,
            documents_requested: parse_documents(
                "sessions.documents_requested",
                &self.documents_requested,
            )?,
            documents_consented: parse_documents(
                "sessions.documents_consented",
                &self.documents_consented,
            )?,
            create_state: parse_create_state(&self.create_state, self.create_message)?,
            tracking: self.tracking,
            created_at: parse_ts("sessions.created_at", &self.created_at)?,
            updated_at: parse_ts("sessions.updated_at", &self.updated_at)?,
            expires_at: parse_ts("sessions.expires_at", &self.expires_at)?,
            last_polled_at: parse_opt_ts("sessions.last_polled_at", self.last_polled_at)?,
            last_error: self.last_error,
            label: self.label,
            created_by: self.created_by,
        })
    }
}

/// An audit row as SQLite returns it.
struct RawAudit {
    id: i64,
    link_id: String,
    actor: String,
    at: String,
    outcome: String,
    message: String,
    provider_code: Option<String>,
    request_id: Option<String>,
    completed: bool,
}

impl RawAudit {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawAudit> {
        Ok(RawAudit {
            id: row.get(0)?,
            link_id: row.get(1)?,
            actor: row.get(2)?,
            at: row.get(3)?,
            outcome: row.get(4)?,
            message: row.get(5)?,
            provider_code: row.get(6)?,
            request_id: row.get(7)?,
            completed: row.get(8)?,
        })
    }

    fn into_entry(self) -> Result<AuditEntry, StoreError> {
        let outcome = match self.outcome.as_str() {
            "sent" => NotifyOutcome::Sent,
            "declined" => NotifyOutcome::Declined,
            "failed" => NotifyOutcome::Failed,
            "unknown" => NotifyOutcome::Unknown,
            other => return Err(corrupt("notify_audit.outcome", other)),
        };
        Ok(AuditEntry {
            id: self.id,
            link_id: LinkId::new_unchecked(self.link_id),
            actor: self.actor,
            at: parse_ts("notify_audit.at", &self.at)?,
            outcome,
            message: self.message,
            provider_code: self.provider_code,
            request_id: self.request_id,
            completed: self.completed,
        })
    }
}

/// A token row as SQLite returns it.
struct RawToken {
    name: String,
    role: String,
    created_at: String,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
}

impl RawToken {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawToken> {
        Ok(RawToken {
            name: row.get(0)?,
            role: row.get(1)?,
            created_at: row.get(2)?,
            revoked_at: row.get(3)?,
            last_used_at: row.get(4)?,
        })
    }

    fn into_info(self) -> Result<TokenInfo, StoreError> {
        Ok(TokenInfo {
            role: self
                .role
                .parse()
                .map_err(|_| corrupt("api_tokens.role", &self.role))?,
            name: self.name,
            created_at: parse_ts("api_tokens.created_at", &self.created_at)?,
            revoked_at: parse_opt_ts("api_tokens.revoked_at", self.revoked_at)?,
            last_used_at: parse_opt_ts("api_tokens.last_used_at", self.last_used_at)?,
        })
    }
}
