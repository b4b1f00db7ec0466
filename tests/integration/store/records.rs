//! The other records: the notify audit and its guard, balance readings,
//! labels, and what a corrupt or personal value must never become.

use super::*;

on_both_backends!(
    notify_audit_lifecycle,
    balances_round_trip_exactly_and_are_read_from_a_time_on,
    labels_and_creators_round_trip_and_labels_change_nothing_else,
    two_processes_notifying_one_link_at_once_begin_one_notify,
    balance_snapshots_older_than_a_week_are_thinned_to_one_an_hour,
    corrupt_values_are_errors_not_panics,
    schema_has_no_place_for_personal_data,
);

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
    let labelled = store.set_label(&created.id, Some("case 88"), None).unwrap();
    assert_eq!(labelled.label.as_deref(), Some("case 88"));
    assert_eq!(
        SessionRecord {
            label: created.label.clone(),
            ..labelled.clone()
        },
        created,
        "only the label changed"
    );
    let cleared = store.set_label(&created.id, None, None).unwrap();
    assert_eq!(cleared.label, None);
    assert!(matches!(
        store.set_label(&SessionId::new_unchecked("dl-none"), Some("x"), None),
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
        .track_existing(Provider::Cashfree, "C1", t(0), None)
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
