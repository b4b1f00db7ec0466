//! Sessions in the store: created, failed, tracked, polled, found, listed
//! and versioned, on both backends.

use super::*;
use payops::domain::StatusEvent;
use payops::store::ProviderWord;

/// `store.record_poll` of a scheduled poll's `(status, raw word, documents)`.
fn polled(
    store: &Store,
    id: &SessionId,
    (status, raw, documents): (&SessionStatus, &str, &[DocumentType]),
    at: Timestamp,
) -> (SessionRecord, Option<SessionStatus>, Option<StatusEvent>) {
    store
        .record_poll(None, id, &ProviderWord::poll(status, raw, documents), at)
        .unwrap()
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
    every_change_to_a_session_moves_its_version,
);

/// The ids `list_sessions(all)` gives, in its order.
fn listed_ids(store: &Store, all: bool) -> Vec<SessionId> {
    store
        .list_sessions(all)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// An InstantPay session begun at `at` whose create ended as `state` at `failed_at`.
fn failed_session(
    store: &Store,
    at: Timestamp,
    state: CreateState,
    failed_at: Timestamp,
) -> NewSession {
    let new = new_session(Provider::InstantPay, at);
    store.begin_session(&new).unwrap();
    store.fail_session(&new.id, state, failed_at).unwrap();
    new
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
        .complete_session(&new.id, &created("12345"), t(2), None)
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
        store.complete_session(&missing, &created("1"), t(3), None),
        Err(StoreError::NoSuchSession(_))
    ));
}

fn fail_session_records_state_and_message(backend: &Backend) {
    let store = backend.open();
    let a = new_session(Provider::InstantPay, t(0));
    let b = new_session(Provider::InstantPay, t(1));
    store.begin_session(&a).unwrap();
    store.begin_session(&b).unwrap();
    for (session, state, at) in [
        (&a, CreateState::Failed("RPI: bad params".into()), t(5)),
        (&b, CreateState::OutcomeUnknown("timed out".into()), t(6)),
    ] {
        let failed = store.fail_session(&session.id, state.clone(), at).unwrap();
        assert_eq!(failed.create_state, state);
    }
    // A late answer still wins over "outcome unknown".
    let done = store
        .complete_session(&b.id, &created("REF-B"), t(7), None)
        .unwrap();
    assert_eq!(done.create_state, CreateState::Created);
}

fn track_existing_adopts_once_and_reenables_tracking(backend: &Backend) {
    let store = backend.open();
    let adopted = store
        .track_existing(Provider::Cashfree, " 98765 ", t(0), None)
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

    store.set_tracking(&adopted.id, false, None).unwrap();
    let again = store
        .track_existing(Provider::Cashfree, "98765", t(10), None)
        .unwrap();
    assert_eq!(again.id, adopted.id);
    assert!(again.tracking);

    // The same reference at the other provider is another session.
    let other = store
        .track_existing(Provider::InstantPay, "98765", t(11), None)
        .unwrap();
    assert_ne!(other.id, adopted.id);

    // A session we created ourselves is found by its reference, not duplicated.
    let ours = new_session(Provider::InstantPay, t(20));
    store.begin_session(&ours).unwrap();
    store
        .complete_session(&ours.id, &created("IPREF1"), t(21), None)
        .unwrap();
    let found = store
        .track_existing(Provider::InstantPay, "IPREF1", t(22), None)
        .unwrap();
    assert_eq!(found.id, ours.id);
    assert_eq!(found.external_ref, ours.external_ref);

    assert!(
        store
            .track_existing(Provider::Cashfree, "  ", t(0), None)
            .is_err()
    );
}

fn learn_external_ref_replaces_only_placeholders(backend: &Backend) {
    let store = backend.open();
    let adopted = store
        .track_existing(Provider::Cashfree, "555", t(0), None)
        .unwrap();
    let learned = store.learn_external_ref(&adopted.id, "VERIF-1").unwrap();
    assert_eq!(learned.external_ref.as_str(), "VERIF-1");
    // Now real: not replaced again.
    let kept = store.learn_external_ref(&adopted.id, "VERIF-2").unwrap();
    assert_eq!(kept.external_ref.as_str(), "VERIF-1");
    // A ref another row holds is not stolen.
    let other = store
        .track_existing(Provider::Cashfree, "556", t(1), None)
        .unwrap();
    let unchanged = store.learn_external_ref(&other.id, "VERIF-1").unwrap();
    assert_eq!(unchanged.external_ref, other.external_ref);
}

fn record_poll_tracks_changes_and_history(backend: &Backend) {
    let store = backend.open();
    let s = store
        .track_existing(Provider::InstantPay, "REF9", t(0), None)
        .unwrap();
    store.record_poll_error(None, &s.id, "timeout").unwrap();
    let pending = (&SessionStatus::Pending, "PENDING", &[][..]);

    // First answer: raw word learnt, normalised status unchanged.
    let (rec, change, _) = polled(&store, &s.id, pending, t(5));
    assert_eq!(change, None);
    assert_eq!(rec.provider_status, "PENDING");
    assert_eq!(rec.last_polled_at, Some(t(5)));
    assert_eq!(rec.updated_at, t(5));
    assert_eq!(rec.last_error, None, "a good poll clears the error");
    assert_eq!(store.session_history(&s.id).unwrap().len(), 1);

    // Same answer again: no new event.
    let (_, change, _) = polled(&store, &s.id, pending, t(10));
    assert_eq!(change, None);
    assert_eq!(store.session_history(&s.id).unwrap().len(), 1);

    // Authorised.
    let (rec, change, _) = polled(
        &store,
        &s.id,
        (
            &SessionStatus::Authenticated,
            "AUTHORIZED",
            &[DocumentType::Aadhaar],
        ),
        t(15),
    );
    assert_eq!(change, Some(SessionStatus::Pending));
    assert_eq!(rec.status, SessionStatus::Authenticated);
    assert_eq!(rec.documents_consented, vec![DocumentType::Aadhaar]);

    let history = store.session_history(&s.id).unwrap();
    let words: Vec<_> = history.iter().map(|e| e.provider_status.as_str()).collect();
    assert_eq!(words, ["PENDING", "AUTHORIZED"]);
    assert_eq!(history[1].at, t(15));

    // A poll error keeps the last good status.
    let rec = store.record_poll_error(None, &s.id, "HTTP 503").unwrap();
    assert_eq!(rec.status, SessionStatus::Authenticated);
    assert_eq!(rec.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(
        rec.last_polled_at,
        Some(t(15)),
        "last_polled_at stays the last good answer"
    );

    // A late answer (a poll sent before a delivery said AUTHORIZED) moves
    // nothing back and reports no change.
    let (rec, change, event) = polled(
        &store,
        &s.id,
        (&SessionStatus::Pending, "PENDING", &[]),
        t(20),
    );
    assert_eq!((change, event), (None, None));
    assert_eq!(rec.status, SessionStatus::Authenticated);
    assert_eq!(store.session_history(&s.id).unwrap().len(), 2);
}

fn unknown_statuses_round_trip_and_raw_changes_are_recorded(backend: &Backend) {
    let store = backend.open();
    let s = store
        .track_existing(Provider::Cashfree, "1", t(0), None)
        .unwrap();
    let weird = SessionStatus::Unknown("IN_PROGRESS".into());
    let (rec, change, _) = polled(&store, &s.id, (&weird, "IN_PROGRESS", &[]), t(1));
    assert_eq!(rec.status, weird);
    assert_eq!(change, Some(SessionStatus::Pending));
    let events = store.session_history(&s.id).unwrap();
    assert_eq!(events[0].status, weird);
}

fn set_tracking_and_missing_sessions(backend: &Backend) {
    let store = backend.open();
    let s = store
        .track_existing(Provider::Cashfree, "1", t(0), None)
        .unwrap();
    store.set_tracking(&s.id, false, None).unwrap();
    assert!(!store.find_session("1").unwrap().unwrap().tracking);
    let ghost = SessionId::new_unchecked("dl-ghost");
    assert!(matches!(
        store.set_tracking(&ghost, true, None),
        Err(StoreError::NoSuchSession(_))
    ));
    assert!(matches!(
        store.record_poll(
            None,
            &ghost,
            &ProviderWord::poll(&SessionStatus::Pending, "PENDING", &[]),
            t(1)
        ),
        Err(StoreError::NoSuchSession(_))
    ));
    assert!(matches!(
        store.record_poll_error(None, &ghost, "x"),
        Err(StoreError::NoSuchSession(_))
    ));
}

fn find_session_by_id_reference_or_external_ref(backend: &Backend) {
    let store = backend.open();
    let new = new_session(Provider::Cashfree, t(0));
    store.begin_session(&new).unwrap();
    store
        .complete_session(&new.id, &created("424242"), t(1), None)
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

    let pending = store
        .track_existing(Provider::Cashfree, "P", t(0), None)
        .unwrap();
    let done = store
        .track_existing(Provider::Cashfree, "D", t(1), None)
        .unwrap();
    polled(
        &store,
        &done.id,
        (&SessionStatus::Expired, "EXPIRED", &[]),
        t(2),
    );
    let untracked = store
        .track_existing(Provider::Cashfree, "U", t(3), None)
        .unwrap();
    store.set_tracking(&untracked.id, false, None).unwrap();
    let sending = new_session(Provider::InstantPay, t(4));
    store.begin_session(&sending).unwrap();
    let unknown = failed_session(
        &store,
        t(5),
        CreateState::OutcomeUnknown("timeout".into()),
        t(6),
    );
    store.set_tracking(&unknown.id, false, None).unwrap();
    let failed = failed_session(&store, t(7), CreateState::Failed("IAC".into()), t(8));

    assert_eq!(
        listed_ids(&store, false),
        vec![unknown.id.clone(), sending.id.clone(), pending.id.clone()]
    );

    assert_eq!(
        listed_ids(&store, true),
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
    let untouched = store
        .track_existing(Provider::Cashfree, "U", t(0), None)
        .unwrap();
    let untouched_version = version(&untouched.id);
    let id = store
        .begin_session(&new_session(Provider::Cashfree, t(1)))
        .unwrap()
        .id;
    let mut seen = vec![version(&id)];
    let changes: Vec<Box<dyn Fn()>> = vec![
        Box::new(|| {
            drop(
                store
                    .complete_session(&id, &created("R1"), t(2), None)
                    .unwrap(),
            )
        }),
        Box::new(|| drop(store.set_label(&id, Some("TKT-1"), None).unwrap())),
        Box::new(|| drop(other.set_label(&id, Some("TKT-1"), None).unwrap())),
        Box::new(|| other.set_tracking(&id, false, None).unwrap()),
        Box::new(|| {
            drop(polled(
                &other,
                &id,
                (&SessionStatus::Authenticated, "AUTHENTICATED", &[]),
                t(3),
            ))
        }),
        Box::new(|| drop(store.record_poll_error(None, &id, "timed out").unwrap())),
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
        .track_existing(Provider::Cashfree, "A", later, None)
        .unwrap();
    let b = store
        .track_existing(Provider::Cashfree, "B", whole, None)
        .unwrap();
    assert_eq!(listed_ids(&store, true), vec![a.id.clone(), b.id]);
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
