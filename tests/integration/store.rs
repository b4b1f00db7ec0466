//! The store against both backends: SQLite files in temporary folders and
//! a real PostgreSQL (see `harness::postgres`). Behaviour tests are plain
//! functions of a [`Backend`]; `on_both_backends!` runs each against both.

use std::path::PathBuf;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use payops::domain::{
    BalanceReport, CreatedSession, DocumentType, ExternalRef, LinkId, Provider, SessionId,
    SessionStatus, UserFlow,
};
use payops::domain::{CreateState, NewSession, NotifyOutcome, RecentNotifies, SessionRecord};
use payops::store::{INTERRUPTED_MESSAGE, SCHEMA_VERSION, Store, StoreError, TRACKED_REF_PREFIX};
use rust_decimal::Decimal;
use tempfile::TempDir;

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("nested").join("folder").join("payops.db")
}

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + secs).unwrap()
}

fn new_session(provider: Provider, at: Timestamp) -> NewSession {
    NewSession {
        id: SessionId::generate(),
        provider,
        external_ref: ExternalRef::generate(),
        flow: Some(UserFlow::Signin),
        documents_requested: vec![DocumentType::Aadhaar, DocumentType::Pan],
        redirect_url: Some("https://example.com/done".into()),
        created_at: at,
        label: None,
        created_by: None,
    }
}

fn created(reference: &str) -> CreatedSession {
    CreatedSession {
        reference: reference.into(),
        url: format!("https://digilocker.example/{reference}"),
        status: SessionStatus::Pending,
        provider_status: "PENDING".into(),
        documents_requested: vec![DocumentType::Aadhaar, DocumentType::Pan],
        environment: None,
        request_id: Some("req-1".into()),
    }
}

fn raw_conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// Where a behaviour test's store lives.
#[derive(Clone)]
enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    /// A new connection, as another process or replica would have.
    fn open(&self) -> Store {
        match self {
            Backend::Sqlite(path) => Store::open(path).unwrap(),
            Backend::Postgres(url) => Store::connect(url).unwrap(),
        }
    }

    /// Runs a statement behind the store's back.
    fn raw(&self, sql: &str) {
        match self {
            Backend::Sqlite(path) => {
                raw_conn(path).execute_batch(sql).unwrap();
            }
            Backend::Postgres(url) => pg_raw(url, sql),
        }
    }

    /// The first column of every row a query returns, as text.
    fn raw_texts(&self, sql: &str) -> Vec<String> {
        match self {
            Backend::Sqlite(path) => {
                let conn = raw_conn(path);
                let mut statement = conn.prepare(sql).unwrap();
                statement
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            Backend::Postgres(url) => {
                let url = url.clone();
                let sql = sql.to_string();
                pg_block(async move {
                    let client = pg_client(&url).await;
                    client
                        .query(&sql, &[])
                        .await
                        .unwrap()
                        .iter()
                        .map(|row| row.get::<_, String>(0))
                        .collect()
                })
            }
        }
    }
}

fn pg_block<T>(work: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(work)
}

async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

fn pg_raw(url: &str, sql: &str) {
    let (url, sql) = (url.to_string(), sql.to_string());
    pg_block(async move { pg_client(&url).await.batch_execute(&sql).await.unwrap() });
}

/// For each named behaviour test, a `sqlite::` test on a fresh file and a
/// `postgres::` test on a fresh database (skipped, saying so, without
/// PostgreSQL unless it is required).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let dir = tempfile::TempDir::new().unwrap();
                    super::$name(&super::Backend::Sqlite(super::db_path(&dir)));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(url) = crate::harness::postgres::database(stringify!($name)) {
                        super::$name(&super::Backend::Postgres(url));
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    begin_then_complete_session,
    fail_session_records_state_and_message,
    track_existing_adopts_once_and_reenables_tracking,
    learn_external_ref_replaces_only_placeholders,
    record_poll_tracks_changes_and_history,
    unknown_statuses_round_trip_and_raw_changes_are_recorded,
    set_tracking_and_missing_sessions,
    find_session_by_id_reference_or_external_ref,
    list_sessions_filters_and_orders,
    timestamps_with_fractions_sort_correctly,
    crash_during_create_reads_back_as_outcome_unknown,
    notify_audit_lifecycle,
    balances_round_trip_exactly_and_are_read_from_a_time_on,
    labels_and_creators_round_trip_and_labels_change_nothing_else,
    two_processes_notifying_one_link_at_once_begin_one_notify,
    balance_snapshots_older_than_a_week_are_thinned_to_one_an_hour,
    corrupt_values_are_errors_not_panics,
    schema_has_no_place_for_personal_data,
    other_connections_writes_move_the_data_version,
    tokens_are_unique_among_active_ones,
    the_provider_budget_is_one_for_every_connection,
    two_threads_never_share_the_last_slot_of_the_budget,
    every_change_to_a_session_moves_its_version,
);

/// Replicas each hold a connection; the budget they draw on is one: a burst
/// at once, then one request per period, counted across all of them, and
/// each provider apart. A caller told to wait holds its slot.
fn the_provider_budget_is_one_for_every_connection(backend: &Backend) {
    use payops::store::Rate;
    use std::time::Duration;
    let (a, b) = (backend.open(), backend.open());
    let rate = Rate {
        burst: 3,
        period: Duration::from_secs(1),
    };
    let now = t(0);
    let waits: Vec<Duration> = (0..5)
        .map(|i| if i % 2 == 0 { &a } else { &b })
        .map(|store| store.reserve_budget(Provider::Cashfree, rate, now).unwrap())
        .collect();
    let secs = Duration::from_secs;
    assert_eq!(
        waits,
        [secs(0), secs(0), secs(0), secs(1), secs(2)],
        "the burst at once, then one a period, in the order asked, across both connections"
    );
    // InstantPay's budget is its own.
    assert_eq!(
        a.reserve_budget(Provider::InstantPay, rate, now).unwrap(),
        secs(0)
    );
    // The slots reserved above are spent: a second later, the next is the
    // fourth second's.
    assert_eq!(
        b.reserve_budget(Provider::Cashfree, rate, t(1)).unwrap(),
        secs(2)
    );
    // Over a long quiet spell the burst comes back, no more.
    let much_later = t(600);
    let at_once = (0..10)
        .filter(|_| {
            a.reserve_budget(Provider::Cashfree, rate, much_later)
                .unwrap()
                == secs(0)
        })
        .count();
    assert_eq!(at_once, 3);
}

/// Racing callers (replicas at the same instant) get exactly the burst at
/// once and every other a slot of its own: no two share one.
fn two_threads_never_share_the_last_slot_of_the_budget(backend: &Backend) {
    use payops::store::Rate;
    let rate = Rate {
        burst: 5,
        period: std::time::Duration::from_secs(60),
    };
    let mut waits: Vec<std::time::Duration> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..4)
            .map(|_| {
                let store = backend.open();
                scope.spawn(move || {
                    (0..10)
                        .map(|_| {
                            store
                                .reserve_budget(Provider::InstantPay, rate, t(0))
                                .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        racers.into_iter().flat_map(|r| r.join().unwrap()).collect()
    });
    waits.sort();
    let expected: Vec<std::time::Duration> = (0..40u64)
        .map(|n| rate.period * u32::try_from(n.saturating_sub(4)).unwrap())
        .collect();
    assert_eq!(waits, expected);
}

/// Another connection's commit moves this one's data version (how the
/// engine and replicas notice each other's writes); this one's own do not.
fn other_connections_writes_move_the_data_version(backend: &Backend) {
    let watcher = backend.open();
    let writer = backend.open();
    let before = watcher.data_version().unwrap();
    writer
        .track_existing(Provider::Cashfree, "DV1", t(0))
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while watcher.data_version().unwrap() == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the watcher never heard of the other connection's write"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let after = watcher.data_version().unwrap();
    watcher
        .track_existing(Provider::Cashfree, "DV2", t(1))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(watcher.data_version().unwrap(), after);
    assert_eq!(writer.list_sessions(true).unwrap().len(), 2);
}

fn tokens_are_unique_among_active_ones(backend: &Backend) {
    let store = backend.open();
    store
        .add_token("asha", payops::auth::Role::Support, "hash-1", t(0))
        .unwrap();
    assert!(matches!(
        store.add_token("asha", payops::auth::Role::Admin, "hash-2", t(1)),
        Err(StoreError::TokenNameTaken(_))
    ));
    assert_eq!(
        store.use_token("hash-1", t(2)).unwrap().unwrap().name,
        "asha"
    );
    store.revoke_token("asha", t(3)).unwrap();
    assert!(store.use_token("hash-1", t(4)).unwrap().is_none());
    store
        .add_token("asha", payops::auth::Role::Admin, "hash-2", t(5))
        .unwrap();
    let tokens = store.list_tokens().unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0].revoked_at, None);
    assert_eq!(tokens[1].revoked_at, Some(t(3)));
}

#[test]
fn postgres_replicas_starting_at_once_migrate_once() {
    let Some(url) =
        crate::harness::postgres::database("postgres_replicas_starting_at_once_migrate_once")
    else {
        return;
    };
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || Store::connect(&url).map(|s| s.schema_version().unwrap()))
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
    let versions =
        Backend::Postgres(url.clone()).raw_texts("SELECT version::text FROM payops_schema");
    assert_eq!(versions.len() as i64, SCHEMA_VERSION, "{versions:?}");
    pg_raw(
        &url,
        &format!("INSERT INTO payops_schema VALUES ({})", SCHEMA_VERSION + 3),
    );
    match Store::connect(&url) {
        Err(StoreError::Open { message, .. }) => {
            assert!(message.contains("newer payops"), "{message}")
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("opened a database from the future"),
    }
}

#[test]
fn an_unreachable_postgres_is_an_open_error_that_never_shows_the_password() {
    // Port 1 on loopback: nothing listens there.
    let url = "postgres://payops:hunter2-secret@127.0.0.1:1/payops";
    match Store::connect(url) {
        Err(error @ StoreError::Open { .. }) => {
            let shown = error.to_string();
            assert!(!shown.contains("hunter2-secret"), "{shown}");
            assert!(
                shown.contains("postgres://payops:*****@127.0.0.1:1/payops"),
                "{shown}"
            );
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("connected to nothing"),
    }
    match Store::connect("postgres://payops:hunter2-secret@127.0.0.1:notaport/x") {
        Err(error) => assert!(!error.to_string().contains("hunter2-secret"), "{error}"),
        Ok(_) => panic!("a bad URL connected"),
    }
}

/// The store is synchronous and called from async code (the server's
/// handlers, the engine): a long run of PostgreSQL calls within one poll of
/// a task must not exhaust tokio's cooperative budget and spin (it did).
#[test]
fn many_postgres_calls_in_one_task_poll_do_not_hang() {
    let Some(url) = crate::harness::postgres::database("many_postgres_calls_in_one_poll") else {
        return;
    };
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = Store::connect(&url).unwrap();
            for _ in 0..500 {
                store.find_session("dl-nothere1").unwrap();
            }
        });
        let _ = done.send(());
    });
    assert!(
        finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_ok(),
        "500 calls did not finish in 60 s"
    );
}

#[test]
fn open_creates_folders_migrates_and_reopens() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    let new = new_session(Provider::Cashfree, t(0));
    {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        store.begin_session(&new).unwrap();
    }
    let store = Store::open(&path).unwrap();
    let found = store.find_session(new.id.as_str()).unwrap().unwrap();
    assert_eq!(found.external_ref, new.external_ref);

    let conn = raw_conn(&path);
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn newer_schema_is_refused_clearly() {
    let dir = TempDir::new().unwrap();
    let path = db_path(&dir);
    drop(Store::open(&path).unwrap());
    raw_conn(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 5)
        .unwrap();
    match Store::open(&path) {
        Err(StoreError::Open { message, .. }) => assert!(message.contains("newer payops")),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("opened a database from the future"),
    }
}

#[test]
fn a_file_that_is_not_a_database_is_an_open_error() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("payops.db");
    std::fs::write(&path, "this is a text file, not SQLite. ".repeat(200)).unwrap();
    match Store::open(&path) {
        Err(StoreError::Open { message, path: p }) => {
            assert!(message.contains("not a payops database"), "{message}");
            assert!(p.contains("payops.db"));
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("opened a text file"),
    }
}

fn begin_then_complete_session(backend: &Backend) {
    let store = backend.open();
    let new = new_session(Provider::Cashfree, t(0));
    let begun = store.begin_session(&new).unwrap();
    assert_eq!(begun.create_state, CreateState::Sending);
    assert_eq!(begun.status, SessionStatus::Pending);
    assert_eq!(begun.provider_status, "");
    assert_eq!(begun.reference, None);
    assert_eq!(begun.expires_at, t(600));
    assert_eq!(begun.flow, Some(UserFlow::Signin));
    assert_eq!(
        begun.redirect_url.as_deref(),
        Some("https://example.com/done")
    );
    assert!(begun.tracking);
    assert!(store.session_history(&new.id).unwrap().is_empty());

    let done = store
        .complete_session(&new.id, &created("12345"), t(2))
        .unwrap();
    assert_eq!(done.create_state, CreateState::Created);
    assert_eq!(done.reference.as_deref(), Some("12345"));
    assert_eq!(
        done.url.as_deref(),
        Some("https://digilocker.example/12345")
    );
    assert_eq!(done.provider_status, "PENDING");
    assert_eq!(done.updated_at, t(2));
    assert_eq!(done.created_at, t(0));
    assert_eq!(
        done.documents_requested,
        vec![DocumentType::Aadhaar, DocumentType::Pan]
    );
    let history = store.session_history(&new.id).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].at, t(2));
    assert_eq!(history[0].status, SessionStatus::Pending);

    let missing = SessionId::new_unchecked("dl-missing");
    assert!(matches!(
        store.complete_session(&missing, &created("1"), t(3)),
        Err(StoreError::NoSuchSession(_))
    ));
}

fn fail_session_records_state_and_message(backend: &Backend) {
    let store = backend.open();
    let a = new_session(Provider::InstantPay, t(0));
    let b = new_session(Provider::InstantPay, t(1));
    store.begin_session(&a).unwrap();
    store.begin_session(&b).unwrap();
    let failed = store
        .fail_session(&a.id, CreateState::Failed("RPI: bad params".into()), t(5))
        .unwrap();
    assert_eq!(
        failed.create_state,
        CreateState::Failed("RPI: bad params".into())
    );
    let unknown = store
        .fail_session(&b.id, CreateState::OutcomeUnknown("timed out".into()), t(6))
        .unwrap();
    assert_eq!(
        unknown.create_state,
        CreateState::OutcomeUnknown("timed out".into())
    );
    // A late answer still wins over "outcome unknown".
    let done = store
        .complete_session(&b.id, &created("REF-B"), t(7))
        .unwrap();
    assert_eq!(done.create_state, CreateState::Created);
}

fn track_existing_adopts_once_and_reenables_tracking(backend: &Backend) {
    let store = backend.open();
    let adopted = store
        .track_existing(Provider::Cashfree, " 98765 ", t(0))
        .unwrap();
    assert_eq!(adopted.reference.as_deref(), Some("98765"));
    assert_eq!(adopted.create_state, CreateState::Created);
    assert_eq!(adopted.status, SessionStatus::Pending);
    assert!(adopted.tracking);
    assert!(
        adopted
            .external_ref
            .as_str()
            .starts_with(TRACKED_REF_PREFIX)
    );

    store.set_tracking(&adopted.id, false).unwrap();
    let again = store
        .track_existing(Provider::Cashfree, "98765", t(10))
        .unwrap();
    assert_eq!(again.id, adopted.id);
    assert!(again.tracking);

    // The same reference at the other provider is another session.
    let other = store
        .track_existing(Provider::InstantPay, "98765", t(11))
        .unwrap();
    assert_ne!(other.id, adopted.id);

    // A session we created ourselves is found by its reference, not duplicated.
    let ours = new_session(Provider::InstantPay, t(20));
    store.begin_session(&ours).unwrap();
    store
        .complete_session(&ours.id, &created("IPREF1"), t(21))
        .unwrap();
    let found = store
        .track_existing(Provider::InstantPay, "IPREF1", t(22))
        .unwrap();
    assert_eq!(found.id, ours.id);
    assert_eq!(found.external_ref, ours.external_ref);

    assert!(
        store
            .track_existing(Provider::Cashfree, "  ", t(0))
            .is_err()
    );
}

fn learn_external_ref_replaces_only_placeholders(backend: &Backend) {
    let store = backend.open();
    let adopted = store
        .track_existing(Provider::Cashfree, "555", t(0))
        .unwrap();
    let learned = store.learn_external_ref(&adopted.id, "VERIF-1").unwrap();
    assert_eq!(learned.external_ref.as_str(), "VERIF-1");
    // Now real: not replaced again.
    let kept = store.learn_external_ref(&adopted.id, "VERIF-2").unwrap();
    assert_eq!(kept.external_ref.as_str(), "VERIF-1");
    // A ref another row holds is not stolen.
    let other = store
        .track_existing(Provider::Cashfree, "556", t(1))
        .unwrap();
    let unchanged = store.learn_external_ref(&other.id, "VERIF-1").unwrap();
    assert_eq!(unchanged.external_ref, other.external_ref);
}

fn record_poll_tracks_changes_and_history(backend: &Backend) {
    let store = backend.open();
    let s = store
        .track_existing(Provider::InstantPay, "REF9", t(0))
        .unwrap();
    store.record_poll_error(&s.id, "timeout").unwrap();

    // First answer: raw word learnt, normalised status unchanged.
    let (rec, change, _) = store
        .record_poll(&s.id, &SessionStatus::Pending, "PENDING", &[], t(5))
        .unwrap();
    assert_eq!(change, None);
    assert_eq!(rec.provider_status, "PENDING");
    assert_eq!(rec.last_polled_at, Some(t(5)));
    assert_eq!(rec.updated_at, t(5));
    assert_eq!(rec.last_error, None, "a good poll clears the error");
    assert_eq!(store.session_history(&s.id).unwrap().len(), 1);

    // Same answer again: no new event.
    let (_, change, _) = store
        .record_poll(&s.id, &SessionStatus::Pending, "PENDING", &[], t(10))
        .unwrap();
    assert_eq!(change, None);
    assert_eq!(store.session_history(&s.id).unwrap().len(), 1);

    // Authorised.
    let (rec, change, _) = store
        .record_poll(
            &s.id,
            &SessionStatus::Authenticated,
            "AUTHORIZED",
            &[DocumentType::Aadhaar],
            t(15),
        )
        .unwrap();
    assert_eq!(change, Some(SessionStatus::Pending));
    assert_eq!(rec.status, SessionStatus::Authenticated);
    assert_eq!(rec.documents_consented, vec![DocumentType::Aadhaar]);

    let history = store.session_history(&s.id).unwrap();
    let words: Vec<_> = history.iter().map(|e| e.provider_status.as_str()).collect();
    assert_eq!(words, ["PENDING", "AUTHORIZED"]);
    assert_eq!(history[1].at, t(15));

    // A poll error keeps the last good status.
    let rec = store.record_poll_error(&s.id, "HTTP 503").unwrap();
    assert_eq!(rec.status, SessionStatus::Authenticated);
    assert_eq!(rec.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(
        rec.last_polled_at,
        Some(t(15)),
        "last_polled_at stays the last good answer"
    );
}

fn unknown_statuses_round_trip_and_raw_changes_are_recorded(backend: &Backend) {
    let store = backend.open();
    let s = store.track_existing(Provider::Cashfree, "1", t(0)).unwrap();
    let weird = SessionStatus::Unknown("IN_PROGRESS".into());
    let (rec, change, _) = store
        .record_poll(&s.id, &weird, "IN_PROGRESS", &[], t(1))
        .unwrap();
    assert_eq!(rec.status, weird);
    assert_eq!(change, Some(SessionStatus::Pending));
    let events = store.session_history(&s.id).unwrap();
    assert_eq!(events[0].status, weird);
}

fn set_tracking_and_missing_sessions(backend: &Backend) {
    let store = backend.open();
    let s = store.track_existing(Provider::Cashfree, "1", t(0)).unwrap();
    store.set_tracking(&s.id, false).unwrap();
    assert!(!store.find_session("1").unwrap().unwrap().tracking);
    let ghost = SessionId::new_unchecked("dl-ghost");
    assert!(matches!(
        store.set_tracking(&ghost, true),
        Err(StoreError::NoSuchSession(_))
    ));
    assert!(matches!(
        store.record_poll(&ghost, &SessionStatus::Pending, "PENDING", &[], t(1)),
        Err(StoreError::NoSuchSession(_))
    ));
    assert!(matches!(
        store.record_poll_error(&ghost, "x"),
        Err(StoreError::NoSuchSession(_))
    ));
}

fn find_session_by_id_reference_or_external_ref(backend: &Backend) {
    let store = backend.open();
    let new = new_session(Provider::Cashfree, t(0));
    store.begin_session(&new).unwrap();
    store
        .complete_session(&new.id, &created("424242"), t(1))
        .unwrap();
    for needle in [
        new.id.as_str().to_string(),
        "424242".to_string(),
        format!("  {}  ", new.external_ref),
    ] {
        let found = store.find_session(&needle).unwrap();
        assert_eq!(found.map(|r| r.id), Some(new.id.clone()), "{needle}");
    }
    assert!(store.find_session("4242").unwrap().is_none(), "exact only");
    assert!(store.find_session("").unwrap().is_none());
}

fn list_sessions_filters_and_orders(backend: &Backend) {
    let store = backend.open();

    let pending = store.track_existing(Provider::Cashfree, "P", t(0)).unwrap();
    let done = store.track_existing(Provider::Cashfree, "D", t(1)).unwrap();
    store
        .record_poll(&done.id, &SessionStatus::Expired, "EXPIRED", &[], t(2))
        .unwrap();
    let untracked = store.track_existing(Provider::Cashfree, "U", t(3)).unwrap();
    store.set_tracking(&untracked.id, false).unwrap();
    let sending = new_session(Provider::InstantPay, t(4));
    store.begin_session(&sending).unwrap();
    let unknown = new_session(Provider::InstantPay, t(5));
    store.begin_session(&unknown).unwrap();
    store
        .fail_session(
            &unknown.id,
            CreateState::OutcomeUnknown("timeout".into()),
            t(6),
        )
        .unwrap();
    store.set_tracking(&unknown.id, false).unwrap();
    let failed = new_session(Provider::InstantPay, t(7));
    store.begin_session(&failed).unwrap();
    store
        .fail_session(&failed.id, CreateState::Failed("IAC".into()), t(8))
        .unwrap();

    let active: Vec<_> = store
        .list_sessions(false)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        active,
        vec![unknown.id.clone(), sending.id.clone(), pending.id.clone()]
    );

    let all: Vec<_> = store
        .list_sessions(true)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        all,
        vec![
            failed.id,
            unknown.id,
            sending.id,
            untracked.id,
            done.id,
            pending.id
        ]
    );
}

/// A row's version goes up with every change to it, whichever statement
/// and whichever connection made it (the database counts, not the store's
/// code), and never for another row's change. The list, the lookup by id
/// and the full read report the same versions.
fn every_change_to_a_session_moves_its_version(backend: &Backend) {
    let store = backend.open();
    let other = backend.open();
    let version = |id: &SessionId| {
        store
            .session_versions(true)
            .unwrap()
            .into_iter()
            .find(|(listed, _)| listed == id)
            .map(|(_, version)| version)
            .unwrap()
    };
    let untouched = store.track_existing(Provider::Cashfree, "U", t(0)).unwrap();
    let untouched_version = version(&untouched.id);
    let id = store
        .begin_session(&new_session(Provider::Cashfree, t(1)))
        .unwrap()
        .id;
    let mut seen = vec![version(&id)];
    let changes: Vec<Box<dyn Fn()>> = vec![
        Box::new(|| drop(store.complete_session(&id, &created("R1"), t(2)).unwrap())),
        Box::new(|| drop(store.set_label(&id, Some("TKT-1")).unwrap())),
        Box::new(|| drop(other.set_label(&id, Some("TKT-1")).unwrap())),
        Box::new(|| other.set_tracking(&id, false).unwrap()),
        Box::new(|| {
            drop(
                other
                    .record_poll(
                        &id,
                        &SessionStatus::Authenticated,
                        "AUTHENTICATED",
                        &[],
                        t(3),
                    )
                    .unwrap(),
            )
        }),
        Box::new(|| drop(store.record_poll_error(&id, "timed out").unwrap())),
        Box::new(|| backend.raw("UPDATE sessions SET last_error = NULL WHERE reference = 'R1'")),
    ];
    for change in &changes {
        change();
        seen.push(version(&id));
    }
    assert!(
        seen.windows(2).all(|pair| pair[0] < pair[1]),
        "versions {seen:?}"
    );
    assert_eq!(version(&untouched.id), untouched_version);

    let mut looked_up = Vec::new();
    let asked = [
        id.clone(),
        SessionId::new_unchecked("no-such-session"),
        untouched.id.clone(),
    ];
    store
        .sessions_by_id(&asked, |record, version| {
            looked_up.push((record.id, version))
        })
        .unwrap();
    looked_up.sort();
    let mut listed = store.session_versions(true).unwrap();
    listed.sort();
    assert_eq!(looked_up, listed);

    let mut read = Vec::new();
    store
        .each_listed_session(true, |record, version| read.push((record.id, version)))
        .unwrap();
    assert_eq!(read, store.session_versions(true).unwrap());
    assert_eq!(read[0].0, id, "newest first");
}

fn timestamps_with_fractions_sort_correctly(backend: &Backend) {
    let store = backend.open();
    let whole = t(0);
    let later = whole.checked_add(SignedDuration::from_millis(500)).unwrap();
    let a = store
        .track_existing(Provider::Cashfree, "A", later)
        .unwrap();
    let b = store
        .track_existing(Provider::Cashfree, "B", whole)
        .unwrap();
    let ids: Vec<_> = store
        .list_sessions(true)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec![a.id.clone(), b.id]);
    assert_eq!(store.find_session("A").unwrap().unwrap().created_at, later);
}

fn crash_during_create_reads_back_as_outcome_unknown(backend: &Backend) {
    let new = new_session(Provider::Cashfree, t(0));
    let link = LinkId::new_unchecked("657aa9841b8d3897ff0a84fb");
    let audit_id;
    {
        let store = backend.open();
        store.begin_session(&new).unwrap();
        audit_id = store.begin_notify(&link, "ops", t(1)).unwrap().id;
        // Dropped without completing: payops died mid-request.
    }
    let store = backend.open();
    let seen = store.find_session(new.id.as_str()).unwrap().unwrap();
    assert_eq!(seen.create_state, CreateState::Sending);
    assert_eq!(store.mark_interrupted().unwrap(), 2);
    let seen = store.find_session(new.id.as_str()).unwrap().unwrap();
    assert_eq!(
        seen.create_state,
        CreateState::OutcomeUnknown(INTERRUPTED_MESSAGE.into())
    );
    // Still listed among the active sessions so the operator sees it.
    assert!(
        store
            .list_sessions(false)
            .unwrap()
            .iter()
            .any(|r| r.id == new.id)
    );
    let audit = store.list_audit(10).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].id, audit_id);
    assert_eq!(audit[0].outcome, NotifyOutcome::Unknown);
    assert!(audit[0].completed);
    assert_eq!(audit[0].message, INTERRUPTED_MESSAGE);
    // Nothing left to mark.
    assert_eq!(store.mark_interrupted().unwrap(), 0);
}

fn notify_audit_lifecycle(backend: &Backend) {
    let store = backend.open();
    let link = LinkId::new_unchecked("657aa9841b8d3897ff0a84fb");
    let other = LinkId::new_unchecked("aaaaaaaaaaaaaaaaaaaaaaaa");

    let begun = store.begin_notify(&link, "asha", t(0)).unwrap();
    assert_eq!(begun.outcome, NotifyOutcome::Unknown);
    assert!(!begun.completed);
    assert_eq!(begun.actor, "asha");
    assert_eq!(begun.at, t(0));

    let done = store
        .finish_notify(
            begun.id,
            NotifyOutcome::Sent,
            "Notification Link Sent To *******742",
            None,
            Some("1f0c-uuid"),
            t(2),
        )
        .unwrap();
    assert_eq!(done.outcome, NotifyOutcome::Sent);
    assert!(done.completed);
    assert_eq!(done.at, t(0), "the entry keeps the time it was sent");
    assert_eq!(done.request_id.as_deref(), Some("1f0c-uuid"));

    let second = store.begin_notify(&other, "asha", t(10)).unwrap();
    store
        .finish_notify(
            second.id,
            NotifyOutcome::Declined,
            "link not issued",
            Some("ERR"),
            None,
            t(11),
        )
        .unwrap();
    let third = store.begin_notify(&link, "ravi", t(20)).unwrap();

    let ids: Vec<_> = store.list_audit(10).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![third.id, second.id, begun.id]);
    assert_eq!(store.list_audit(1).unwrap().len(), 1);
    let declined = &store.list_audit(10).unwrap()[1];
    assert_eq!(declined.provider_code.as_deref(), Some("ERR"));

    assert_eq!(reaching(&store, &link, t(0)), Some(third.id));
    assert_eq!(reaching(&store, &link, t(21)), None);
    // A declined notify reached nobody, so it does not count as "recently sent".
    assert_eq!(reaching(&store, &other, t(10)), None);
    let fourth = store.begin_notify(&other, "asha", t(30)).unwrap();
    store
        .finish_notify(
            fourth.id,
            NotifyOutcome::Failed,
            "connection refused",
            None,
            None,
            t(31),
        )
        .unwrap();
    assert_eq!(reaching(&store, &other, t(10)), None);
    assert_eq!(
        store.list_audit(1).unwrap()[0].outcome,
        NotifyOutcome::Failed
    );
    assert!(
        store
            .finish_notify(9999, NotifyOutcome::Sent, "", None, None, t(1))
            .is_err()
    );
}

fn report(at: Timestamp, available: &str) -> BalanceReport {
    BalanceReport {
        account: "9999999999".into(),
        available: Decimal::from_str(available).unwrap(),
        total: Decimal::from_str("16.82").unwrap(),
        lien: Decimal::from_str("0.00").unwrap(),
        environment: None,
        fetched_at: at,
        request_id: Some(format!("uuid-{available}")),
    }
}

fn balances_round_trip_exactly_and_are_read_from_a_time_on(backend: &Backend) {
    let store = backend.open();
    for (i, amount) in ["16.82", "0.10", "123456789012.345", "16.820"]
        .iter()
        .enumerate()
    {
        store.insert_balance(&report(t(i as i64), amount)).unwrap();
    }
    let history = store.balance_since(t(1)).unwrap();
    let amounts: Vec<String> = history.iter().map(|s| s.available.to_string()).collect();
    assert_eq!(amounts, ["0.10", "123456789012.345", "16.820"]);
    assert_eq!(history[0].at, t(1));
    assert_eq!(history[0].total.to_string(), "16.82");
    assert_eq!(history[0].lien.to_string(), "0.00");
    assert_eq!(history[0].request_id.as_deref(), Some("uuid-0.10"));
    assert_eq!(store.balance_since(t(0)).unwrap().len(), 4);
    assert!(store.balance_since(t(4)).unwrap().is_empty());

    // Stored as decimal text, never REAL.
    let type_of = match backend {
        Backend::Sqlite(_) => "typeof(available)",
        Backend::Postgres(_) => "pg_typeof(available)::text",
    };
    let row = backend.raw_texts(&format!(
        "SELECT {type_of} || ' ' || available FROM balance_snapshots ORDER BY id LIMIT 1"
    ));
    assert_eq!(row, ["text 16.82"]);
}

fn labels_and_creators_round_trip_and_labels_change_nothing_else(backend: &Backend) {
    let store = backend.open();
    let mut new = new_session(Provider::Cashfree, t(0));
    new.label = Some("TKT-4417".into());
    new.created_by = Some("asha".into());
    let created = store.begin_session(&new).unwrap();
    assert_eq!(created.label.as_deref(), Some("TKT-4417"));
    assert_eq!(created.created_by.as_deref(), Some("asha"));
    let labelled = store.set_label(&created.id, Some("case 88")).unwrap();
    assert_eq!(labelled.label.as_deref(), Some("case 88"));
    assert_eq!(
        SessionRecord {
            label: created.label.clone(),
            ..labelled.clone()
        },
        created,
        "only the label changed"
    );
    let cleared = store.set_label(&created.id, None).unwrap();
    assert_eq!(cleared.label, None);
    assert!(matches!(
        store.set_label(&SessionId::new_unchecked("dl-none"), Some("x")),
        Err(StoreError::NoSuchSession(_))
    ));
}

fn two_processes_notifying_one_link_at_once_begin_one_notify(backend: &Backend) {
    drop(backend.open());
    let link = LinkId::new_unchecked("657aa9841b8d3897ff0a84fb");
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
    let begun: Vec<bool> = (0..8)
        .map(|n| {
            let (backend, link, barrier) = (backend.clone(), link.clone(), barrier.clone());
            std::thread::spawn(move || {
                // Each its own connection, as separate processes would have.
                let store = backend.open();
                barrier.wait();
                let now = Timestamp::now();
                let since = now
                    .checked_sub(jiff::SignedDuration::from_mins(10))
                    .unwrap();
                let result = store
                    .begin_notify_unless_recent(&link, &format!("op{n}"), now, since)
                    .unwrap();
                result.is_ok()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    assert_eq!(begun.iter().filter(|b| **b).count(), 1, "{begun:?}");
    let store = backend.open();
    assert_eq!(store.list_audit(10).unwrap().len(), 1);
}

fn balance_snapshots_older_than_a_week_are_thinned_to_one_an_hour(backend: &Backend) {
    let store = backend.open();
    let minute = 60;
    let day = 24 * 60 * minute;
    // Ten days of readings every 10 minutes: 1440 inserts.
    let last = 10 * day;
    let mut at = 0;
    while at <= last {
        store
            .insert_balance(&report(t(at), &format!("{}.00", 1000 + at / minute)))
            .unwrap();
        at += 10 * minute;
    }
    let kept = store.balance_since(t(-1)).unwrap();
    let week_ago = t(last - 7 * day);
    let (old, recent): (Vec<_>, Vec<_>) = kept.iter().partition(|s| s.at < week_ago);
    // The last week whole: 7 days of 6 an hour, plus the reading at the cut.
    assert_eq!(recent.len(), 7 * 24 * 6 + 1);
    // Before it, the first reading of each of the 72 hours.
    assert_eq!(old.len(), 3 * 24);
    for pair in old.windows(2) {
        assert_eq!(pair[1].at.as_second() - pair[0].at.as_second(), 3600);
    }
    assert_eq!(old[0].at, t(0));
    assert_eq!(old[0].available.to_string(), "1000.00");
}

fn corrupt_values_are_errors_not_panics(backend: &Backend) {
    let store = backend.open();
    let s = store
        .track_existing(Provider::Cashfree, "C1", t(0))
        .unwrap();
    store.insert_balance(&report(t(0), "1.00")).unwrap();
    let link = LinkId::new_unchecked("l1");
    store.begin_notify(&link, "ops", t(0)).unwrap();

    backend.raw("UPDATE sessions SET created_at = 'yesterday'");
    match store.find_session(s.id.as_str()) {
        Err(StoreError::Corrupt { column, value }) => {
            assert_eq!(column, "sessions.created_at");
            assert_eq!(value, "yesterday");
        }
        other => panic!("expected corrupt, got {other:?}"),
    }
    backend.raw("UPDATE sessions SET created_at = '2025-01-01T00:00:00Z', provider = 'paypal'");
    assert!(matches!(
        store.list_sessions(true),
        Err(StoreError::Corrupt { .. })
    ));
    backend.raw("UPDATE sessions SET provider = 'cashfree', documents_requested = 'PASSPORT'");
    assert!(matches!(
        store.find_session("C1"),
        Err(StoreError::Corrupt { .. })
    ));
    backend.raw("UPDATE balance_snapshots SET available = '1,00'");
    assert!(matches!(
        store.balance_since(t(-1)),
        Err(StoreError::Corrupt { .. })
    ));
    backend.raw("UPDATE notify_audit SET outcome = 'maybe'");
    assert!(matches!(
        store.list_audit(5),
        Err(StoreError::Corrupt { .. })
    ));
}

fn schema_has_no_place_for_personal_data(backend: &Backend) {
    drop(backend.open());
    let columns = backend.raw_texts(match backend {
        Backend::Sqlite(_) => {
            "SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table'"
        }
        Backend::Postgres(_) => {
            "SELECT table_name || '.' || column_name FROM information_schema.columns
             WHERE table_schema = 'public'"
        }
    });
    assert!(columns.len() > 20, "{columns:?}");
    for forbidden in [
        "user", "name", "dob", "birth", "gender", "mobile", "aadhaar", "details",
    ] {
        for column in &columns {
            let field = column.split('.').nth(1).unwrap();
            assert!(
                !field.contains(forbidden),
                "column {column} looks like personal data ({forbidden})"
            );
        }
    }
}

#[test]
fn store_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Store>();
}

/// The newest notify since `since` that may have reached the recipient.
fn reaching(store: &Store, link: &LinkId, since: Timestamp) -> Option<i64> {
    RecentNotifies(store.notifies_since(link, since).unwrap())
        .last_reaching()
        .map(|e| e.id)
}
