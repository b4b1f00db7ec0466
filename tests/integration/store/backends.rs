//! What every backend must hold: one provider budget for every connection,
//! other connections' writes seen, unique tokens, migrations, and clear
//! errors for what cannot be opened.

use super::*;

on_both_backends!(
    other_connections_writes_move_the_data_version,
    tokens_are_unique_among_active_ones,
    the_provider_budget_is_one_for_every_connection,
    two_threads_never_share_the_last_slot_of_the_budget,
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
        .track_existing(Provider::Cashfree, "DV1", t(0), None)
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
        .track_existing(Provider::Cashfree, "DV2", t(1), None)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(watcher.data_version().unwrap(), after);
    assert_eq!(writer.list_sessions(true).unwrap().len(), 2);
}

fn tokens_are_unique_among_active_ones(backend: &Backend) {
    use payops::auth::Role;
    use payops::store::{Activity, ActivityFilter, TokenCheck, TokenRefusal};
    let store = backend.open();
    let added = Activity::done("root", "token_add", Some("asha"));
    store
        .add_token(
            &payops::store::NewToken {
                name: "asha",
                role: Role::Support,
                token_hash: "hash-1",
                at: t(0),
                expires_at: None,
            },
            Some(&added),
        )
        .unwrap();
    assert!(matches!(
        store.add_token(
            &payops::store::NewToken {
                name: "asha",
                role: Role::Admin,
                token_hash: "hash-2",
                at: t(1),
                expires_at: None
            },
            Some(&added),
        ),
        Err(StoreError::TokenNameTaken(_))
    ));
    let valid = |hash: &str, at| match store.use_token(hash, at).unwrap() {
        TokenCheck::Valid(info) => Some(info.name),
        _ => None,
    };
    assert_eq!(valid("hash-1", t(2)).as_deref(), Some("asha"));
    store.revoke_token("asha", t(3), None).unwrap();
    assert_eq!(
        store.use_token("hash-1", t(4)).unwrap(),
        TokenCheck::Refused(TokenRefusal::Revoked(t(3)), "asha".into())
    );
    assert_eq!(
        store.use_token("hash-x", t(4)).unwrap(),
        TokenCheck::Unknown
    );
    // Expiring, then rotated with a grace: both work until the grace ends.
    store
        .add_token(
            &payops::store::NewToken {
                name: "asha",
                role: Role::Admin,
                token_hash: "hash-2",
                at: t(5),
                expires_at: Some(t(50)),
            },
            None,
        )
        .unwrap();
    let role = store
        .rotate_token(
            "asha",
            "hash-3",
            t(6),
            payops::store::Lifetime::Until(Some(t(90))),
            jiff::SignedDuration::from_secs(14),
            None,
        )
        .unwrap();
    assert_eq!(role.role, Role::Admin);
    assert_eq!(role.old_until, t(20));
    assert_eq!(valid("hash-2", t(19)).as_deref(), Some("asha"));
    assert_eq!(valid("hash-3", t(19)).as_deref(), Some("asha"));
    assert_eq!(
        store.use_token("hash-2", t(20)).unwrap(),
        TokenCheck::Refused(TokenRefusal::Revoked(t(20)), "asha".into())
    );
    assert_eq!(
        store.use_token("hash-3", t(90)).unwrap(),
        TokenCheck::Refused(TokenRefusal::Expired(t(90)), "asha".into())
    );
    let tokens = store.list_tokens().unwrap();
    assert_eq!(tokens.len(), 3);
    assert_eq!(tokens[0].revoked_at, None);
    assert_eq!(tokens[0].expires_at, Some(t(90)));
    // Only the token add that happened left a row: the refused one rolled back with it.
    let rows = store
        .list_activity(&ActivityFilter {
            limit: 10,
            ..ActivityFilter::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].action, "token_add");
    assert_eq!(rows[0].operator, "root");
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

/// A database that refuses says why, as PostgreSQL put it, with its
/// SQLSTATE (not tokio-postgres' bare "db error"), and never the password.
#[test]
fn a_refusing_postgres_says_why_with_its_sqlstate() {
    let Some(url) = crate::harness::postgres::database("a_refusing_postgres_says_why") else {
        return;
    };
    let mut missing = url::Url::parse(&url).unwrap();
    missing.set_path("/no_such_database");
    let _ = missing.set_password(Some("hunter2-secret"));
    let Err(error) = Store::connect(missing.as_str()) else {
        panic!("connected to a database that does not exist");
    };
    let shown = error.to_string();
    assert!(
        shown.contains("\"no_such_database\" does not exist") && shown.contains("SQLSTATE 3D000"),
        "{shown}"
    );
    assert!(
        !shown.contains("hunter2-secret") && !shown.contains("db error"),
        "{shown}"
    );
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
            assert!(
                message.contains("PAYOPS_DATA_DIR") && !message.contains("--data-dir"),
                "{message}"
            );
            assert!(p.contains("payops.db"));
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("opened a text file"),
    }
}
