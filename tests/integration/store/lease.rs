//! The leader lease: taken only when free (never taken, lapsed, or its
//! holder's connection gone), renewed only by its holder, and a fence on
//! every write as leader, so a leader that lost it writes nothing as one.

use std::time::Duration;

use payops::store::{ProviderWord, StoreError};

use super::*;

on_both_backends!(the_leader_lease_changes_hands_only_when_free_and_fences_the_old_leader,);

fn poll_as(store: &Store, lease: &payops::store::Lease, id: &SessionId) -> Result<(), StoreError> {
    store
        .record_poll(
            Some(lease),
            id,
            &ProviderWord::poll(&SessionStatus::Pending, "PENDING", &[]),
            Timestamp::now(),
        )
        .map(|_| ())
}

fn the_leader_lease_changes_hands_only_when_free_and_fences_the_old_leader(backend: &Backend) {
    let long = Duration::from_secs(60);
    let (a, b) = (backend.open(), backend.open());
    if let Backend::Sqlite(_) = backend {
        // One server on a file: it leads, and there is no lease to take.
        assert!(matches!(
            a.take_lease("a", long),
            Err(StoreError::NotShared(_))
        ));
        return;
    }
    let session = new_session(Provider::Cashfree, t(0));
    a.begin_session(&session).unwrap();

    // A takes it; B cannot while A's stands and A's connection lives.
    let first = a
        .take_lease("a", Duration::from_millis(1500))
        .unwrap()
        .unwrap();
    assert!(b.take_lease("b", long).unwrap().is_none());
    assert!(a.renew_lease(&first, Duration::from_millis(1500)).unwrap());
    assert!(a.lease_holds(&first).unwrap());
    poll_as(&a, &first, &session.id).unwrap();
    assert_eq!(
        backend.raw_texts("SELECT CAST(polled_epoch AS TEXT) FROM sessions"),
        [first.epoch.to_string()]
    );

    // A stops renewing (paused): once its lease lapses B takes it, with a
    // new epoch, and A can neither renew nor write as leader.
    std::thread::sleep(Duration::from_millis(1700));
    let second = b
        .take_lease("b", long)
        .unwrap()
        .expect("lapsed: B takes it");
    assert!(second.epoch > first.epoch);
    assert!(!a.lease_holds(&first).unwrap());
    assert!(!a.renew_lease(&first, long).unwrap());
    let refused = poll_as(&a, &first, &session.id);
    assert!(
        matches!(refused, Err(StoreError::NotLeader(epoch)) if epoch == first.epoch),
        "{refused:?}"
    );
    poll_as(&b, &second, &session.id).unwrap();
    assert_eq!(
        backend.raw_texts("SELECT CAST(polled_epoch AS TEXT) FROM sessions"),
        [second.epoch.to_string()],
        "the refused write left nothing"
    );

    // B's process dies (its connection goes): A takes over at once, though
    // B's lease had a minute to run.
    drop(b);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let third = loop {
        if let Some(lease) = a.take_lease("a2", long).unwrap() {
            break lease;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a dead holder kept it"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(third.epoch > second.epoch);

    // A planned stop lets it go at once.
    a.release_lease(&third).unwrap();
    let c = backend.open();
    let fourth = c.take_lease("c", long).unwrap().expect("released");
    assert!(fourth.epoch > third.epoch);
}
