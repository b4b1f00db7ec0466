//! The store: tracked DigiLocker sessions with their status history, the
//! payout-link notify audit, balance snapshots and team tokens. Its queries
//! are written once, over [`db::Db`]; the backends are an SQLite file (WAL),
//! the embedded default, and PostgreSQL, shared by `payops serve` replicas.
//!
//! Crash safety: rows for a session create or a notify are written *before*
//! the request is sent and completed after, so a crash mid-request leaves a
//! visible "outcome unknown" record. Personal data (`user_details`) is never stored.

mod activity;
mod audit;
mod balance;
mod budget;
pub(crate) mod db;
mod health;
mod lease;
mod migrations;
mod pg_tls;
pub mod postgres;
mod rows;
mod sqlite;
mod tokens;
mod webhooks;

use std::collections::HashMap;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use crate::domain::{
    AuditEntry, BalanceReport, BalanceSnapshot, CreateState, CreatedSession, DocumentAccess,
    DocumentType, Learned, LinkId, NewSession, NotifyOutcome, Provider, RecentNotifies, SessionId,
    SessionRecord, SessionStatus, StatusEvent, Verdict,
};
pub use activity::{Activity, ActivityFilter, Outcome};
pub use audit::NotifyCompletion;
pub use budget::Rate;
use db::{Columns, Db, WriteLock, first, params};
pub use lease::Lease;
pub use migrations::SCHEMA_VERSION;
use rows::{
    RawSession, create_state_parts, documents_text, flow_word, parse_status, parse_ts,
    placeholder_ref, ts_text,
};
pub use tokens::{Lifetime, NewToken, Rotated, TokenCheck, TokenInfo, TokenRefusal};
pub use webhooks::{Delivery, DeliveryTarget};

/// A provider's word on a session, as a poll, a refresh or a webhook
/// delivery brings it.
#[derive(Debug, Clone, Copy)]
pub struct ProviderWord<'a> {
    pub status: &'a SessionStatus,
    pub provider_status: &'a str,
    /// Empty: the answer did not say (the consented list is kept).
    pub documents_consented: &'a [DocumentType],
    pub learned: Learned,
}

impl<'a> ProviderWord<'a> {
    /// A scheduled poll's answer.
    pub fn poll(
        status: &'a SessionStatus,
        provider_status: &'a str,
        documents_consented: &'a [DocumentType],
    ) -> ProviderWord<'a> {
        ProviderWord {
            status,
            provider_status,
            documents_consented,
            learned: Learned::Poll,
        }
    }
}

/// What `apply_word` did: the status before, the rule's verdict, and the
/// history row written when the word was news.
struct Applied {
    previous: SessionStatus,
    verdict: Verdict,
    event: Option<StatusEvent>,
}

impl Applied {
    /// The status the session left, if the word changed it (a stale or
    /// repeated word wrote nothing, whatever it said).
    fn changed_from(&self) -> Option<SessionStatus> {
        self.event
            .as_ref()
            .filter(|event| event.status != self.previous)
            .map(|_| self.previous.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {message}")]
    Open { path: String, message: String },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {}", postgres::describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("database error: {0}")]
    Database(String),
    #[error("database holds an unreadable value in {column}: {value:?}")]
    Corrupt { column: String, value: String },
    #[error("no tracked session {0}")]
    NoSuchSession(String),
    #[error("no notify audit row {0}")]
    NoSuchAudit(i64),
    #[error("an active token is already named {0}; revoke it first or choose another name")]
    TokenNameTaken(String),
    #[error("no active token named {0}")]
    NoSuchToken(String),
    /// A write only the leader may make, refused because this replica's
    /// lease lapsed or passed to another (it was paused, or cut off).
    #[error("this replica no longer holds the leader lease (epoch {0}); the write was not made")]
    NotLeader(i64),
    #[error("{0} needs a shared (PostgreSQL) store")]
    NotShared(&'static str),
}

/// Balance snapshots younger than this are all kept; older ones are
/// thinned to one an hour.
pub const BALANCE_FULL_DETAIL: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 7);

/// Where the store lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// An SQLite file (the embedded default).
    File(std::path::PathBuf),
    /// A PostgreSQL URL; a secret, since it may carry a password.
    Postgres(secrecy::SecretString),
}

impl Location {
    /// How the location may be shown: a file's path, or the URL with its
    /// password masked.
    pub fn shown(&self) -> String {
        match self {
            Location::File(path) => path.display().to_string(),
            Location::Postgres(url) => {
                postgres::mask_url(secrecy::ExposeSecret::expose_secret(url))
            }
        }
    }
}

pub struct Store {
    db: Box<dyn Db>,
}

// The engine moves the store into a blocking task; keep that possible.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Store>();
};

/// How long a DigiLocker URL stays usable after creation (both providers).
const SESSION_VALIDITY_MINUTES: i64 = 10;

/// On a shared database, how old an in-flight row must be before a
/// starting replica calls it interrupted: older than any call can take
/// (retries included), so another replica's request still in flight is
/// never relabelled.
const SHARED_INTERRUPTED_AFTER: SignedDuration = SignedDuration::from_mins(5);

/// The message `mark_interrupted` leaves on rows a previous process never finished.
pub const INTERRUPTED_MESSAGE: &str =
    "payops stopped before the provider answered; check the provider before retrying";

/// Prefix of the placeholder external ref given to sessions adopted with
/// `track_existing`: `tracked:<provider>:<reference>`. The `:` cannot occur in
/// a real external ref (both providers refuse it), so a placeholder never
/// collides with one we generated, and it is unique per provider reference,
/// which the `UNIQUE` constraint on `external_ref` needs.
pub const TRACKED_REF_PREFIX: &str = "tracked:";

const SESSION_COLUMNS: &str = "id, provider, external_ref, reference, status, provider_status, \
     url, flow, redirect_url, documents_requested, documents_consented, create_state, \
     create_message, tracking, created_at, updated_at, expires_at, last_polled_at, last_error, \
     label, created_by, status_learned, status_at";

/// How many columns `SESSION_COLUMNS` names: the index of any selected after them.
const SESSION_COLUMN_COUNT: usize = 23;

/// Which rows a session list shows (see `list_sessions`).
fn list_filter(include_final: bool) -> String {
    if include_final {
        return String::new();
    }
    format!(
        "WHERE create_state IN ('sending', 'outcome_unknown')
            OR (create_state = 'created' AND tracking = 1 AND status NOT IN {})",
        final_statuses_sql()
    )
}

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

fn newer_schema(version: i64) -> String {
    format!(
        "was written by a newer payops (schema version {version}; this build knows up \
         to {SCHEMA_VERSION}); upgrade payops or use another store"
    )
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path`, in WAL
    /// mode, and applies pending schema migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::over(Box::new(sqlite::SqliteDb::open(path)?))
    }

    /// Connects to the PostgreSQL database at `url` and applies pending
    /// schema migrations. Errors show the URL with its password masked.
    pub fn connect(url: &str) -> Result<Store, StoreError> {
        Store::over(Box::new(postgres::PgDb::connect(url)?))
    }

    /// Opens the store wherever it lives.
    pub fn at(location: &Location) -> Result<Store, StoreError> {
        match location {
            Location::File(path) => Store::open(path),
            Location::Postgres(url) => Store::connect(secrecy::ExposeSecret::expose_secret(url)),
        }
    }

    fn over(db: Box<dyn Db>) -> Result<Store, StoreError> {
        db.migrate()?;
        Ok(Store { db })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.db.schema_version()
    }

    /// Whether replicas share this store (PostgreSQL) rather than one
    /// operator's processes (an SQLite file).
    pub fn shared(&self) -> bool {
        self.db.shared()
    }

    /// Opened for reading only, as a file that cannot be written is:
    /// reading works, every change is refused naming the file.
    pub fn read_only(&self) -> bool {
        self.db.read_only()
    }

    /// Runs `work` in a write transaction holding `lock`; rolls back on error.
    fn write<T>(
        &self,
        lock: WriteLock<'_>,
        work: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.begin(lock)?;
        match work() {
            Ok(value) => {
                self.db.commit()?;
                Ok(value)
            }
            Err(error) => {
                self.db.rollback();
                Err(error)
            }
        }
    }

    /// Turns what a previous process left in flight into "outcome unknown":
    /// session creates still `Sending` and notify audit rows not completed.
    /// Returns how many rows changed. Call once at start-up, before any request.
    ///
    /// On an SQLite file, a second payops process running at the same time
    /// would see its own in-flight rows relabelled; its later
    /// `complete_session`/`finish_notify` still records the real answer over
    /// them. On a shared store only rows older than any call can take are
    /// touched, so a replica starting never relabels another's requests.
    pub fn mark_interrupted(&self) -> Result<usize, StoreError> {
        // A store nobody can write holds nothing this process left in flight.
        if self.read_only() {
            return Ok(0);
        }
        let before = if self.db.shared() {
            Timestamp::now()
                .checked_sub(SHARED_INTERRUPTED_AFTER)
                .unwrap_or_else(|_| Timestamp::now())
        } else {
            Timestamp::MAX
        };
        self.write(WriteLock::All, || {
            let sessions = self.db.execute(
                "UPDATE sessions SET create_state = 'outcome_unknown', create_message = ?1
                 WHERE create_state = 'sending' AND created_at < ?2",
                params![INTERRUPTED_MESSAGE, ts_text(before)],
            )?;
            let audits = self.db.execute(
                "UPDATE notify_audit SET outcome = 'unknown', message = ?1, completed = 1
                 WHERE completed = 0 AND at < ?2",
                params![INTERRUPTED_MESSAGE, ts_text(before)],
            )?;
            Ok((sessions + audits) as usize)
        })
    }

    // ---- sessions ----

    /// Writes a session row in state `Sending` before its create request leaves:
    /// status `PENDING`, provider status "", expiring 10 minutes after `created_at`.
    pub fn begin_session(&self, new: &NewSession) -> Result<SessionRecord, StoreError> {
        let expires_at = new
            .created_at
            .saturating_add(SignedDuration::from_mins(SESSION_VALIDITY_MINUTES))
            .unwrap_or(new.created_at);
        self.db.execute(
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
                new.redirect_url.as_deref(),
                documents_text(&new.documents_requested),
                ts_text(new.created_at),
                ts_text(expires_at),
                new.label.as_deref(),
                new.created_by.as_deref(),
            ],
        )?;
        self.session_by_id(&new.id)
    }

    /// Sets (or with `None` clears) a session's label; the label is the
    /// agent's, so it changes nothing else, not even `updated_at`.
    /// `activity`, when given, is written in the same transaction.
    pub fn set_label(
        &self,
        id: &SessionId,
        label: Option<&str>,
        activity: Option<&Activity>,
    ) -> Result<SessionRecord, StoreError> {
        self.write_noting(WriteLock::All, activity, || {
            self.one_row_changed(
                id,
                "UPDATE sessions SET label = ?2 WHERE id = ?1",
                params![id.as_str(), label],
            )
        })?;
        self.session_by_id(id)
    }

    /// Runs an update of session `id`, which must exist.
    fn one_row_changed(
        &self,
        id: &SessionId,
        sql: &str,
        params: &[db::Value],
    ) -> Result<(), StoreError> {
        if self.db.execute(sql, params)? == 0 {
            return Err(StoreError::NoSuchSession(id.to_string()));
        }
        Ok(())
    }

    /// Records the provider's answer to a create: reference, url, status, raw
    /// word and (when the provider lists them) the documents requested; state
    /// `Created`, and the first status event. Also overrides an
    /// `OutcomeUnknown` left by `mark_interrupted`: the answer is the truth.
    /// `activity`, when given, is written in the same transaction.
    pub fn complete_session(
        &self,
        id: &SessionId,
        created: &CreatedSession,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<SessionRecord, StoreError> {
        let documents = (!created.documents_requested.is_empty())
            .then(|| documents_text(&created.documents_requested));
        self.write_noting(WriteLock::All, activity, || {
            let changed = self.db.execute(
                "UPDATE sessions SET reference = ?2, url = ?3, status = ?4, provider_status = ?5,
                     documents_requested = COALESCE(?6, documents_requested),
                     create_state = 'created', create_message = NULL, updated_at = ?7,
                     status_learned = 'create', status_at = ?7
                 WHERE id = ?1",
                params![
                    id.as_str(),
                    created.reference.trim(),
                    created.url.as_str(),
                    created.status.as_str(),
                    created.provider_status.as_str(),
                    documents,
                    ts_text(at),
                ],
            )?;
            if changed == 0 {
                return Err(StoreError::NoSuchSession(id.to_string()));
            }
            self.insert_event(
                id,
                &StatusEvent {
                    at,
                    status: created.status.clone(),
                    provider_status: created.provider_status.clone(),
                    learned: Some(Learned::Create),
                },
            )
        })?;
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
        let changed = self.db.execute(
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
    /// `activity`, when given, is written in the same transaction (its
    /// target, when empty, becomes the session's id).
    pub fn track_existing(
        &self,
        provider: Provider,
        reference: &str,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<SessionRecord, StoreError> {
        let reference = reference.trim();
        if reference.is_empty() {
            return Err(StoreError::NoSuchSession(
                "(empty provider reference)".into(),
            ));
        }
        let id = self.write(WriteLock::All, || {
            let id = self.track_row(provider, reference, at)?;
            if let Some(activity) = activity {
                let mut activity = activity.clone();
                activity.target.get_or_insert_with(|| id.to_string());
                self.insert_activity(&activity)?;
            }
            Ok(id)
        })?;
        self.session_by_id(&id)
    }

    /// The row tracking `reference` at `provider`: an existing one, tracked
    /// again, or a new one.
    fn track_row(
        &self,
        provider: Provider,
        reference: &str,
        at: Timestamp,
    ) -> Result<SessionId, StoreError> {
        {
            let existing = first(self.db.query(
                "SELECT id FROM sessions WHERE provider = ?1 AND reference = ?2
                 ORDER BY created_at DESC, rowid DESC LIMIT 1",
                params![provider.as_str(), reference],
            )?);
            match existing {
                Some(mut row) => {
                    let id = row.text(0)?.into_owned();
                    self.db.execute(
                        "UPDATE sessions SET tracking = 1 WHERE id = ?1",
                        params![id.as_str()],
                    )?;
                    Ok(SessionId::new_unchecked(id))
                }
                None => {
                    let id = SessionId::generate();
                    let expires_at = at
                        .saturating_add(SignedDuration::from_mins(SESSION_VALIDITY_MINUTES))
                        .unwrap_or(at);
                    self.db.execute(
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
                    Ok(id)
                }
            }
        }
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
            self.db.execute(
                "UPDATE sessions SET external_ref = ?2
                 WHERE id = ?1 AND external_ref LIKE 'tracked:%'
                   AND NOT EXISTS (SELECT 1 FROM sessions WHERE external_ref = ?2)",
                params![id.as_str(), external_ref],
            )?;
        }
        self.session_by_id(id)
    }

    /// Records a provider's word on a session (a poll's answer, a refresh,
    /// a webhook delivery), as [`crate::domain::verdict`] rules: a change
    /// is written with a history row saying how it was `learned`; the same
    /// word again only marks the session asked; a stale one (anything after
    /// a final status but its one later event) changes no status. Clears
    /// `last_error`. Returns the record, the previous status if the
    /// normalised status changed, and the history row written, if any.
    /// By a leader (`lease`): written only while `lease` stands, and
    /// marked with its epoch.
    pub fn record_poll(
        &self,
        lease: Option<&Lease>,
        id: &SessionId,
        word: &ProviderWord<'_>,
        at: Timestamp,
    ) -> Result<(SessionRecord, Option<SessionStatus>, Option<StatusEvent>), StoreError> {
        let applied = self.write(WriteLock::All, || {
            self.fence(lease)?;
            let applied = self.apply_word(id, word, at)?;
            // Asked, and answered, even when nothing is new.
            self.db.execute(
                "UPDATE sessions SET last_polled_at = ?2, last_error = NULL, polled_epoch = ?3
                 WHERE id = ?1",
                params![id.as_str(), ts_text(at), lease.map(|lease| lease.epoch)],
            )?;
            Ok(applied)
        })?;
        let record = self.session_by_id(id)?;
        let changed = applied.changed_from();
        Ok((record, changed, applied.event))
    }

    /// Writes `word` to session `id` if the rule lets it (inside the
    /// caller's transaction).
    fn apply_word(
        &self,
        id: &SessionId,
        word: &ProviderWord<'_>,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        let Some(mut previous) = first(self.db.query(
            "SELECT status, provider_status FROM sessions WHERE id = ?1",
            params![id.as_str()],
        )?) else {
            return Err(StoreError::NoSuchSession(id.to_string()));
        };
        let previous_status = parse_status(&previous.text(0)?)?;
        let previous_raw = previous.text(1)?.into_owned();
        let verdict = crate::domain::verdict(
            &previous_status,
            &previous_raw,
            word.status,
            word.provider_status,
        );
        if verdict != Verdict::Apply {
            return Ok(Applied {
                previous: previous_status,
                verdict,
                event: None,
            });
        }
        let event = StatusEvent {
            at,
            status: word.status.clone(),
            provider_status: word.provider_status.to_string(),
            learned: Some(word.learned),
        };
        self.db.execute(
            "UPDATE sessions SET status = ?2, provider_status = ?3,
                 documents_consented = CASE WHEN ?4 = '' THEN documents_consented ELSE ?4 END,
                 updated_at = ?5, status_at = ?5, status_learned = ?6
             WHERE id = ?1",
            params![
                id.as_str(),
                word.status.as_str(),
                word.provider_status,
                documents_text(word.documents_consented),
                ts_text(at),
                word.learned.as_str(),
            ],
        )?;
        self.insert_event(id, &event)?;
        Ok(Applied {
            previous: previous_status,
            verdict,
            event: Some(event),
        })
    }

    /// Records a failed poll. The last good status and `last_polled_at` (the
    /// last good answer) stay as they were.
    /// By a leader (`lease`): written only while `lease` stands.
    pub fn record_poll_error(
        &self,
        lease: Option<&Lease>,
        id: &SessionId,
        message: &str,
    ) -> Result<SessionRecord, StoreError> {
        let changed = self.write(WriteLock::All, || {
            self.fence(lease)?;
            self.db.execute(
                "UPDATE sessions SET last_error = ?2 WHERE id = ?1",
                params![id.as_str(), message],
            )
        })?;
        if changed == 0 {
            return Err(StoreError::NoSuchSession(id.to_string()));
        }
        self.session_by_id(id)
    }

    /// Takes back a poll's error that a newer answer had already made
    /// stale (a poll that hung while a second one got through).
    pub fn clear_poll_error(
        &self,
        lease: Option<&Lease>,
        id: &SessionId,
    ) -> Result<(), StoreError> {
        self.write(WriteLock::All, || {
            self.fence(lease)?;
            self.db.execute(
                "UPDATE sessions SET last_error = NULL WHERE id = ?1",
                params![id.as_str()],
            )
        })?;
        Ok(())
    }

    /// Starts or stops polling a session; `activity`, when given, is
    /// written in the same transaction.
    pub fn set_tracking(
        &self,
        id: &SessionId,
        tracking: bool,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError> {
        self.write_noting(WriteLock::All, activity, || {
            self.one_row_changed(
                id,
                "UPDATE sessions SET tracking = ?2 WHERE id = ?1",
                params![id.as_str(), tracking],
            )
        })
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
        first(self.db.query(&sql, params![needle])?)
            .map(|mut row| RawSession::from_row(&mut row)?.into_record())
            .transpose()
    }

    /// Changes whenever another connection (the CLI, a second dashboard,
    /// another replica) commits, never for this one's own writes. Cheap
    /// enough to ask every second.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        self.db.data_version()
    }

    /// Woken when another replica commits (PostgreSQL), so a change made
    /// there reaches this replica's clients at once rather than at the
    /// next look; `None` on SQLite.
    pub fn change_signal(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        self.db.change_signal()
    }

    /// Sessions newest first. With `include_final == false`: those still being
    /// tracked and not final, plus every row whose create is `Sending` or
    /// `OutcomeUnknown` (tracked or not) so an unresolved create stays in
    /// sight. Failed creates appear only with `include_final`.
    pub fn list_sessions(&self, include_final: bool) -> Result<Vec<SessionRecord>, StoreError> {
        let mut records = Vec::new();
        self.each_listed_session(include_final, |record, _| records.push(record))?;
        Ok(records)
    }

    /// `list_sessions`, handing over each record with its row version as it
    /// is read, so a caller that only passes them on never holds them all.
    pub fn each_listed_session(
        &self,
        include_final: bool,
        mut each: impl FnMut(SessionRecord, i64),
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS}, version FROM sessions {}
             ORDER BY created_at DESC, rowid DESC",
            list_filter(include_final)
        );
        self.db.query_each(&sql, &[], &mut |row| {
            let record = RawSession::from_row(row)?.into_record()?;
            each(record, row.int(SESSION_COLUMN_COUNT)?);
            Ok(())
        })
    }

    /// The sessions `list_sessions` would return, as ids and row versions
    /// only: each row's version goes up with every change made to it, so a
    /// caller that kept what it made of a row knows whether it still holds.
    pub fn session_versions(
        &self,
        include_final: bool,
    ) -> Result<Vec<(SessionId, i64)>, StoreError> {
        let sql = format!(
            "SELECT id, version FROM sessions {} ORDER BY created_at DESC, rowid DESC",
            list_filter(include_final)
        );
        let mut versions = Vec::new();
        self.db.query_each(&sql, &[], &mut |row| {
            let id = SessionId::new_unchecked(row.text(0)?.into_owned());
            versions.push((id, row.int(1)?));
            Ok(())
        })?;
        Ok(versions)
    }

    /// These sessions, each with its row version, in no particular order;
    /// an id with no row is skipped.
    pub fn sessions_by_id(
        &self,
        ids: &[SessionId],
        mut each: impl FnMut(SessionRecord, i64),
    ) -> Result<(), StoreError> {
        // Well under SQLite's limit on parameters, few enough round trips.
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("?{n}")).collect();
            let sql = format!(
                "SELECT {SESSION_COLUMNS}, version FROM sessions WHERE id IN ({})",
                marks.join(", ")
            );
            let params: Vec<db::Value> = chunk.iter().map(|id| id.as_str().into()).collect();
            self.db.query_each(&sql, &params, &mut |row| {
                let record = RawSession::from_row(row)?.into_record()?;
                each(record, row.int(SESSION_COLUMN_COUNT)?);
                Ok(())
            })?;
        }
        Ok(())
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
            &[],
        )
    }

    fn events_where(
        &self,
        condition: &str,
        params: &[db::Value],
    ) -> Result<HashMap<SessionId, Vec<StatusEvent>>, StoreError> {
        let rows = self.db.query(
            &format!(
                "SELECT session_id, at, status, provider_status, source FROM session_events
                 WHERE {condition} ORDER BY id"
            ),
            params,
        )?;
        let mut histories: HashMap<SessionId, Vec<StatusEvent>> = HashMap::new();
        for mut row in rows {
            histories
                .entry(SessionId::new_unchecked(row.text(0)?.into_owned()))
                .or_default()
                .push(StatusEvent {
                    at: parse_ts("session_events.at", &row.text(1)?)?,
                    status: parse_status(&row.text(2)?)?,
                    provider_status: row.text(3)?.into_owned(),
                    learned: row.opt_text(4)?.as_deref().and_then(Learned::parse),
                });
        }
        Ok(histories)
    }

    fn session_by_id(&self, id: &SessionId) -> Result<SessionRecord, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
        match first(self.db.query(&sql, params![id.as_str()])?) {
            Some(mut row) => RawSession::from_row(&mut row)?.into_record(),
            None => Err(StoreError::NoSuchSession(id.to_string())),
        }
    }

    fn insert_event(&self, id: &SessionId, event: &StatusEvent) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO session_events (session_id, at, status, provider_status, source)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id.as_str(),
                ts_text(event.at),
                event.status.as_str(),
                event.provider_status.as_str(),
                event.learned.map(Learned::as_str),
            ],
        )?;
        Ok(())
    }
}
