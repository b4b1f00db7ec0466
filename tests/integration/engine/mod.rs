//! The engine loop against the simulator over real HTTP, with a real SQLite
//! file: polling to final, the per-provider budget, 429 storms, restart,
//! notify de-duplication, balance debounce and expiry.

use std::collections::HashSet;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::time::{Instant, timeout};
use url::Url;

use payops::domain::{
    CreatedSession, DocumentType, ExternalRef, LinkId, Provider, SessionId, SessionStatus, UserFlow,
};
use payops::engine::rate_limit::max_requests_in;
use payops::engine::run;
use payops::engine::{Command, SessionRequest, Update};
use payops::error::ProviderError;
use payops::providers::{CallPolicy, CashfreeClient, CashfreeCreate};
use payops::sim::{self, Faults, SimHandle, SimOptions};

use crate::harness::engine::*;
use crate::harness::sim::every_request;
use payops::config::PollingConfig;
use payops::domain::{CreateState, NewSession, NotifyOutcome, SessionRecord};
use payops::store::{ProviderWord, Store};

fn request(provider: Provider) -> SessionRequest {
    SessionRequest {
        provider,
        flow: UserFlow::Signup,
        documents: vec![DocumentType::Aadhaar],
        redirect_url: Some(Url::parse("https://example.com/kyc/done").expect("url")),
        label: None,
    }
}

async fn create_via_engine(engine: &mut Running, provider: Provider) -> SessionRecord {
    engine.send(Command::CreateSession(request(provider)));
    match engine
        .expect(WAIT, "created session", |u| {
            matches!(u, Update::SessionChanged { record, .. }
                if record.provider == provider && record.create_state == CreateState::Created)
        })
        .await
    {
        Update::SessionChanged { record, .. } => record,
        _ => unreachable!(),
    }
}

fn reference(record: &SessionRecord) -> String {
    record
        .reference
        .clone()
        .expect("created session has a reference")
}

fn cashfree_count(sim: &SimHandle) -> u64 {
    sim.request_counts().1
}

/// A rig on the default simulator and an engine on it that has loaded.
async fn started(polling: PollingConfig) -> (Rig, Running) {
    let rig = rig(SimOptions::default()).await;
    let mut engine = Running::start(&rig, polling);
    engine.loaded().await;
    (rig, engine)
}

/// A rig whose simulator allows `per_minute` calls and says so in
/// `X-RateLimit-*` headers.
async fn rig_limited(per_minute: u32) -> Rig {
    rig(SimOptions {
        rate_limit_per_minute: Some(per_minute),
        ..SimOptions::default()
    })
    .await
}

/// `started`, with a Cashfree session created through the engine.
async fn started_with_session(polling: PollingConfig) -> (Rig, Running, SessionRecord) {
    let (rig, mut engine) = started(polling).await;
    let made = create_via_engine(&mut engine, Provider::Cashfree).await;
    (rig, engine, made)
}

/// The next change to session `id`, waited for within `within` as `what`.
async fn next_change(
    engine: &mut Running,
    within: Duration,
    what: &str,
    id: &SessionId,
) -> SessionRecord {
    match engine
        .expect(
            within,
            what,
            |u| matches!(u, Update::SessionChanged { record, .. } if &record.id == id),
        )
        .await
    {
        Update::SessionChanged { record, .. } => record,
        _ => unreachable!(),
    }
}

/// Has the simulator give `record` the status `status`.
fn force(rig: &Rig, record: &SessionRecord, status: SessionStatus) {
    assert!(
        rig.sim
            .force_session_status(&reference(record), status.clone()),
        "the simulator knows {:?} to make it {status:?}",
        record.id
    );
}

fn is_rate_limited(update: &Update) -> bool {
    matches!(
        update,
        Update::PollFailed {
            error: ProviderError::RateLimited { .. },
            ..
        }
    )
}

/// Lets any poll already in flight land, then asserts that within `window`
/// no more requests go out (as `count` counts them); returns what came.
async fn nothing_sent_after<T: PartialEq + std::fmt::Debug>(
    engine: &mut Running,
    rig: &Rig,
    window: Duration,
    count: impl Fn(&SimHandle) -> T,
    what: &str,
) -> Vec<Update> {
    engine.drain(Duration::from_millis(300)).await;
    let before = count(&rig.sim);
    let late = engine.drain(window).await;
    assert_eq!(count(&rig.sim), before, "{what}");
    late
}

/// A session row as payops writes it before asking a provider: signup, for
/// Aadhaar, no redirect, created now.
fn pending_row(id: &str, provider: Provider) -> NewSession {
    NewSession {
        id: SessionId::new_unchecked(id),
        provider,
        external_ref: ExternalRef::generate(),
        flow: Some(UserFlow::Signup),
        documents_requested: vec![DocumentType::Aadhaar],
        redirect_url: None,
        created_at: Timestamp::now(),
        label: None,
        created_by: None,
    }
}

/// Creates a session at the Cashfree simulator directly, not through payops.
async fn create_at_cashfree(
    rig: &Rig,
    verification_id: ExternalRef,
    flow: Option<UserFlow>,
) -> CreatedSession {
    let client = CashfreeClient::new(
        rig.config.cashfree.as_ref().expect("cashfree"),
        CallPolicy::default(),
    )
    .expect("client");
    client
        .create_digilocker(&CashfreeCreate {
            verification_id,
            documents: vec![DocumentType::Aadhaar],
            redirect_url: None,
            flow,
        })
        .await
        .expect("sim creates")
}

#[tokio::test]
async fn sessions_reach_final_status_and_polling_stops() {
    let (rig, mut engine) = started(polling(100, 6000)).await;
    let ip = create_via_engine(&mut engine, Provider::InstantPay).await;
    let cf = create_via_engine(&mut engine, Provider::Cashfree).await;
    // Polled at least once while still pending.
    for id in [&ip.id, &cf.id] {
        engine
            .expect(WAIT, "a poll", |u| {
                matches!(u, Update::SessionChanged { record, .. }
                    if &record.id == id && record.last_polled_at.is_some())
            })
            .await;
    }
    force(&rig, &ip, SessionStatus::Authenticated);
    force(&rig, &cf, SessionStatus::ConsentDenied);
    let mut finals = HashSet::new();
    let mut details = false;
    let deadline = Instant::now() + WAIT;
    while finals.len() < 2 || !details {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, engine.updates.recv()).await {
            Ok(Some(Update::SessionChanged {
                record, previous, ..
            })) if record.status.is_final() => {
                if finals.insert(record.id.clone()) {
                    assert_eq!(previous, Some(SessionStatus::Pending));
                }
            }
            Ok(Some(Update::SessionUserDetails { id, .. })) => {
                assert_eq!(id, ip.id);
                details = true;
            }
            Ok(Some(_)) => {}
            other => panic!("no final statuses ({finals:?}, details {details}): {other:?}"),
        }
    }
    // Let any poll already in flight land, then nothing more may go out.
    let late = nothing_sent_after(
        &mut engine,
        &rig,
        Duration::from_millis(700),
        SimHandle::request_counts,
        "final sessions were polled again",
    )
    .await;
    assert!(
        !late
            .iter()
            .any(|u| matches!(u, Update::SessionChanged { .. })),
        "no session updates after final: {late:?}"
    );
    engine.stop().await;
}

/// Creates `n` Cashfree sessions without the engine (so its budget starts fresh).
async fn seed_sessions(rig: &Rig, n: usize) -> Vec<SessionRecord> {
    let services = services(rig, &polling(100, 6000));
    let mut created = Vec::new();
    for _ in 0..n {
        created.push(
            services
                .create_session(&request(Provider::Cashfree))
                .await
                .expect("create"),
        );
    }
    created
}

#[tokio::test]
async fn per_provider_budget_holds_with_many_pending_sessions() {
    let rig = rig(SimOptions::default()).await;
    let seeded = seed_sessions(&rig, 20).await;
    let before = cashfree_count(&rig.sim);
    let started = Instant::now();
    let mut engine = Running::start(&rig, polling(100, 30));
    let loaded = engine.loaded().await;
    assert_eq!(loaded.len(), 20);
    let updates = engine.drain(Duration::from_secs(3)).await;
    let sent = cashfree_count(&rig.sim) - before;
    let bound = max_requests_in(30, started.elapsed());
    assert!(
        sent <= bound,
        "{sent} Cashfree requests in {:?}, budget {bound}",
        started.elapsed()
    );
    let polled: HashSet<_> = updates
        .iter()
        .filter_map(|u| match u {
            Update::SessionChanged { record, .. } => Some(record.id.clone()),
            _ => None,
        })
        .collect();
    assert!(polled.len() >= 3, "the burst is used: {polled:?}");

    // A user refresh is not starved by the queue of overdue polls.
    let target = seeded
        .iter()
        .find(|r| !polled.contains(&r.id))
        .map(|r| r.id.clone())
        .expect("an unpolled session");
    engine.send(Command::RefreshSession(target.clone()));
    next_change(
        &mut engine,
        Duration::from_secs(4),
        "refreshed session",
        &target,
    )
    .await;
    let sent = cashfree_count(&rig.sim) - before;
    let bound = max_requests_in(30, started.elapsed());
    assert!(sent <= bound, "{sent} requests, budget {bound}");
    engine.stop().await;
}

#[tokio::test]
async fn rate_limit_storm_slows_polling_within_budget() {
    let rig = rig(SimOptions::default()).await;
    seed_sessions(&rig, 5).await;
    rig.sim.set_faults(every_request(|f| &mut f.rate_limit));
    let before = cashfree_count(&rig.sim);
    let started = Instant::now();
    // A budget far above what 5 sessions at 100 ms want, so only the 429s slow it.
    let mut engine = Running::start(&rig, polling(100, 600));
    engine.loaded().await;
    engine
        .expect(WAIT, "a rate-limited poll", is_rate_limited)
        .await;
    engine
        .drain(Duration::from_secs(3).saturating_sub(started.elapsed()))
        .await;
    let sent = cashfree_count(&rig.sim) - before;
    let elapsed = started.elapsed();
    // Unthrottled, 5 sessions every 100 ms is ~150 requests in 3 s.
    assert!(
        sent <= 12,
        "{sent} requests in {elapsed:?} during a 429 storm"
    );
    assert!(sent <= max_requests_in(600, elapsed));

    // When the storm passes, polling resumes.
    rig.sim.set_faults(Faults::default());
    engine
        .expect(
            WAIT,
            "a successful poll after the storm",
            |u| matches!(u, Update::SessionChanged { record, .. } if record.last_error.is_none()),
        )
        .await;
    engine.stop().await;
}

/// Polls (answers) per session in `updates`.
fn polls_of(updates: &[Update], id: &SessionId) -> usize {
    updates
        .iter()
        .filter(|u| matches!(u, Update::SessionChanged { record, .. } if &record.id == id))
        .count()
}

#[tokio::test]
async fn a_session_on_screen_is_polled_fastest_and_at_once() {
    let rig = rig(SimOptions::default()).await;
    let seeded = seed_sessions(&rig, 2).await;
    let (watched, unseen) = (seeded[0].id.clone(), seeded[1].id.clone());
    let mut engine = Running::start(&rig, polling(200, 6000));
    engine.loaded().await;
    // Both are polled at start; then one comes on screen.
    engine.drain(Duration::from_millis(300)).await;
    engine.send(Command::OnScreen(vec![watched.clone()]));
    let updates = engine.drain(Duration::from_secs(3)).await;
    let (fast, slow) = (polls_of(&updates, &watched), polls_of(&updates, &unseen));
    // On screen every 200 ms (≈15 in 3 s); off screen, young, every 400 ms (≈7).
    assert!(fast >= 10, "on screen: {fast} polls");
    assert!((4..=9).contains(&slow), "off screen: {slow} polls");
    assert!(fast as f64 >= slow as f64 * 1.5, "{fast} vs {slow}");
    engine.stop().await;
}

#[tokio::test]
async fn polling_slows_before_the_provider_counter_runs_out() {
    // The provider allows 12 a minute and says so in X-RateLimit-* headers;
    // our own budget would allow far more.
    let rig = rig_limited(12).await;
    // Another process (this test) spends 8 of the provider's 12 first.
    let services = services(&rig, &polling(100, 6000));
    let mut made = Vec::new();
    for _ in 0..8 {
        made.push(
            services
                .create_session(&request(Provider::Cashfree))
                .await
                .expect("create"),
        );
    }
    let first = made.remove(0);
    // One poll at a time, so the first answer's counter is read before the next.
    let one_at_a_time = PollingConfig {
        max_concurrent_polls: 1,
        ..polling(100, 6000)
    };
    let mut engine = Running::start(&rig, one_at_a_time);
    engine.loaded().await;
    let updates = engine.drain(Duration::from_secs(3)).await;
    let limited = updates.iter().filter(|u| is_rate_limited(u)).count();
    assert_eq!(limited, 0, "slowed before a 429, not after");
    // The engine's polls stop where only the reserve (2) is left.
    let sent = cashfree_count(&rig.sim);
    assert!((9..=10).contains(&sent), "{sent} Cashfree requests");
    // The reserve is for what someone is looking at.
    engine.send(Command::OnScreen(vec![first.id.clone()]));
    next_change(
        &mut engine,
        WAIT,
        "an on-screen poll from the reserve",
        &first.id,
    )
    .await;
    assert!(cashfree_count(&rig.sim) <= 12);
    engine.stop().await;
}

#[tokio::test]
async fn restart_resumes_polling_from_the_store() {
    let (rig, mut first) = started(polling(100, 6000)).await;
    let a = create_via_engine(&mut first, Provider::Cashfree).await;
    let b = create_via_engine(&mut first, Provider::InstantPay).await;
    first.stop().await;

    // A create that was in flight when payops died.
    {
        let store = Store::open(&rig.db).expect("store");
        store
            .begin_session(&pending_row("dl-crashed1", Provider::Cashfree))
            .expect("row");
    }

    let mut second = Running::start(&rig, polling(100, 6000));
    let loaded = second.loaded().await;
    let ids: HashSet<_> = loaded.iter().map(|r| r.id.clone()).collect();
    assert!(ids.contains(&a.id) && ids.contains(&b.id), "{ids:?}");
    let crashed = loaded
        .iter()
        .find(|r| r.id.as_str() == "dl-crashed1")
        .expect("interrupted row is shown");
    assert!(matches!(
        crashed.create_state,
        CreateState::OutcomeUnknown(_)
    ));

    force(&rig, &a, SessionStatus::Expired);
    force(&rig, &b, SessionStatus::Authenticated);
    let mut finals = HashSet::new();
    while finals.len() < 2 {
        if let Update::SessionChanged { record, .. } = second
            .expect(
                WAIT,
                "final status after restart",
                |u| matches!(u, Update::SessionChanged { record, .. } if record.status.is_final()),
            )
            .await
        {
            finals.insert(record.id);
        }
    }
    assert_eq!(finals, HashSet::from([a.id.clone(), b.id.clone()]));
    second.stop().await;
}

#[tokio::test]
async fn notify_is_sent_once_when_asked_twice() {
    let (rig, mut engine) = started(polling(100, 6000)).await;
    let link = LinkId::new_unchecked(sim::SAMPLE_LINK_ID);
    engine.send(Command::SendNotify(link.clone()));
    engine.send(Command::SendNotify(link.clone()));
    let mut refused = 0;
    let mut started = 0;
    let finished = loop {
        match timeout(WAIT, engine.updates.recv()).await {
            Ok(Some(Update::Problem(message))) => {
                assert!(message.contains("already being sent"), "{message}");
                assert!(message.contains(sim::SAMPLE_LINK_ID));
                refused += 1;
            }
            Ok(Some(Update::NotifyStarted(entry))) => {
                assert_eq!(entry.link_id, link);
                started += 1;
            }
            Ok(Some(Update::NotifyFinished { entry, error })) => break (entry, error),
            Ok(Some(_)) => {}
            other => panic!("no notify result: {other:?}"),
        }
    };
    assert_eq!((refused, started), (1, 1));
    assert_eq!(finished.0.outcome, NotifyOutcome::Sent, "{:?}", finished.1);
    assert!(finished.0.completed);
    assert_eq!(rig.sim.notify_count(sim::SAMPLE_LINK_ID), 1);
    engine.stop().await;
}

#[tokio::test]
async fn shutdown_lets_a_notify_in_flight_record_its_outcome() {
    let (rig, engine) = started(polling(100, 6000)).await;
    let link = LinkId::new_unchecked(sim::SAMPLE_LINK_ID);
    engine.send(Command::SendNotify(link.clone()));
    engine.send(Command::Shutdown);
    timeout(WAIT, engine.task)
        .await
        .expect("engine stops")
        .expect("no panic");
    let store = Store::open(&rig.db).expect("store");
    let audit = store.list_audit(10).expect("audit");
    // Either the send finished and was recorded, or it never left.
    for entry in &audit {
        assert!(entry.completed, "{entry:?}");
    }
    assert_eq!(
        rig.sim.notify_count(sim::SAMPLE_LINK_ID),
        audit.len() as u64
    );
}

#[tokio::test]
async fn balance_refresh_is_debounced() {
    let (rig, mut engine) = started(polling(100, 6000)).await;
    let started = Instant::now();
    // The automatic fetch at start.
    engine
        .expect(WAIT, "refreshing", |u| {
            matches!(u, Update::BalanceRefreshing)
        })
        .await;
    // Asked while one is in flight or just after: ignored.
    engine.send(Command::RefreshBalance);
    engine.send(Command::RefreshBalance);
    engine
        .expect(WAIT, "balance", |u| matches!(u, Update::BalanceFetched(_)))
        .await;
    engine.send(Command::RefreshBalance);
    let until_debounce_ends =
        (started + Duration::from_millis(1700)).saturating_duration_since(Instant::now());
    let quiet = engine.drain(until_debounce_ends).await;
    assert!(
        !quiet.iter().any(|u| matches!(u, Update::BalanceRefreshing)),
        "{quiet:?}"
    );
    assert_eq!(rig.sim.request_counts().0, 1);

    // After the debounce window a manual refresh goes through.
    tokio::time::sleep((started + run::BALANCE_DEBOUNCE).saturating_duration_since(Instant::now()))
        .await;
    engine.send(Command::RefreshBalance);
    engine
        .expect(WAIT, "refreshing again", |u| {
            matches!(u, Update::BalanceRefreshing)
        })
        .await;
    engine
        .expect(WAIT, "balance again", |u| {
            matches!(u, Update::BalanceFetched(_))
        })
        .await;
    assert_eq!(rig.sim.request_counts().0, 2);
    engine.stop().await;
}

#[tokio::test]
async fn expired_session_gets_one_last_check() {
    let rig = rig(SimOptions::default()).await;
    // A session created 11 minutes ago (by our clock) that the provider still
    // calls pending.
    let id = SessionId::new_unchecked("dl-expired1");
    {
        let store = Store::open(&rig.db).expect("store");
        let row = NewSession {
            created_at: Timestamp::now() - SignedDuration::from_mins(11),
            ..pending_row(id.as_str(), Provider::Cashfree)
        };
        store.begin_session(&row).expect("row");
        let created =
            create_at_cashfree(&rig, row.external_ref.clone(), Some(UserFlow::Signup)).await;
        store
            .complete_session(&id, &created, Timestamp::now(), None)
            .expect("complete");
    }
    let before = cashfree_count(&rig.sim);
    let mut engine = Running::start(&rig, polling(100, 6000));
    let loaded = engine.loaded().await;
    assert!(loaded.iter().any(|r| r.id == id));
    let record = next_change(&mut engine, WAIT, "the last check", &id).await;
    assert_eq!(record.status, SessionStatus::Pending);
    let late = engine.drain(Duration::from_millis(800)).await;
    assert_eq!(
        cashfree_count(&rig.sim) - before,
        1,
        "polled after expiry: {late:?}"
    );
    engine.stop().await;
}

#[tokio::test]
async fn failed_create_shows_its_row_and_tracking_can_start_and_stop() {
    let (rig, mut engine) = started(polling(100, 6000)).await;

    rig.sim.set_faults(every_request(|f| &mut f.server_error));
    engine.send(Command::CreateSession(request(Provider::Cashfree)));
    let row = match engine
        .expect(WAIT, "the failed row", |u| {
            matches!(u, Update::SessionChanged { .. })
        })
        .await
    {
        Update::SessionChanged { record, .. } => record,
        _ => unreachable!(),
    };
    // A 500 after the request left may or may not have created it.
    assert!(
        matches!(
            row.create_state,
            CreateState::Failed(_) | CreateState::OutcomeUnknown(_)
        ),
        "{row:?}"
    );
    match engine
        .expect(WAIT, "the failure", |u| {
            matches!(u, Update::CreateFailed { .. })
        })
        .await
    {
        Update::CreateFailed { id, provider, .. } => {
            assert_eq!(id, Some(row.id.clone()));
            assert_eq!(provider, Provider::Cashfree);
        }
        _ => unreachable!(),
    }
    rig.sim.set_faults(Faults::default());

    // A session created elsewhere, pasted in by reference.
    let outside = create_at_cashfree(&rig, ExternalRef::generate(), None).await;
    engine.send(Command::TrackSession {
        provider: Provider::Cashfree,
        reference: outside.reference.clone(),
    });
    let (tracked, first_event) = match engine
        .expect(WAIT, "the tracked session", |u| {
            matches!(u, Update::SessionChanged { record, .. }
                if record.reference.as_deref() == Some(outside.reference.as_str()))
        })
        .await
    {
        Update::SessionChanged { record, event, .. } => (record, event),
        _ => unreachable!(),
    };
    // Its first answer is a history entry, carried with the change: views
    // never ask the engine back for history.
    let first_event = first_event.expect("the first status is an event");
    assert_eq!(first_event.status, tracked.status);
    let tracked_id = tracked.id.clone();
    let is_tracked = move |already: bool| {
        let tracked_id = tracked_id.clone();
        move |u: &Update| matches!(u, Update::Tracked { id, already: a, .. } if *a == already && *id == tracked_id)
    };
    engine
        .expect(WAIT, "told it is tracked", is_tracked(false))
        .await;
    // Tracking it again says so, naming the row to select.
    engine.send(Command::TrackSession {
        provider: Provider::Cashfree,
        reference: outside.reference.clone(),
    });
    engine
        .expect(WAIT, "told it was tracked already", is_tracked(true))
        .await;
    // It is polled on schedule.
    let first_poll = tracked.last_polled_at;
    engine
        .expect(WAIT, "a scheduled poll", |u| {
            matches!(u, Update::SessionChanged { record, .. }
                if record.id == tracked.id && record.last_polled_at != first_poll)
        })
        .await;

    engine.send(Command::StopTracking(tracked.id.clone()));
    engine
        .expect(
            WAIT,
            "untracked",
            |u| matches!(u, Update::SessionUntracked(id) if *id == tracked.id),
        )
        .await;
    let late = nothing_sent_after(
        &mut engine,
        &rig,
        Duration::from_millis(600),
        cashfree_count,
        "polled after untracking",
    )
    .await;
    assert!(
        !late
            .iter()
            .any(|u| matches!(u, Update::SessionChanged { record, .. } if record.id == tracked.id)),
        "{late:?}"
    );

    let stored = Store::open(&rig.db)
        .expect("store")
        .session_history(&tracked.id)
        .expect("history");
    assert_eq!(
        stored.first(),
        Some(&first_event),
        "the same event the store wrote"
    );
    engine.stop().await;
}

#[tokio::test]
async fn refresh_resolves_a_create_whose_outcome_is_unknown() {
    let (rig, first, made) = started_with_session(polling(100, 6000)).await;
    first.stop().await;
    let new_row = |id: &str, provider| NewSession {
        redirect_url: Some("https://example.com/done".into()),
        ..pending_row(id, provider)
    };
    {
        let store = Store::open(&rig.db).expect("store");
        // Created at Cashfree, but payops never saw the answer.
        store
            .fail_session(
                &made.id,
                CreateState::OutcomeUnknown("timed out".into()),
                Timestamp::now(),
            )
            .expect("mark unknown");
        // Never reached either provider.
        store
            .begin_session(&new_row("dl-ghost0001", Provider::Cashfree))
            .expect("row");
        store
            .begin_session(&new_row("dl-ghost0002", Provider::InstantPay))
            .expect("row");
    }

    let mut engine = Running::start(&rig, polling(100, 6000));
    engine.loaded().await;
    engine.send(Command::RefreshSession(made.id.clone()));
    let record = next_change(&mut engine, WAIT, "the created session", &made.id).await;
    assert_eq!(record.create_state, CreateState::Created);
    assert_eq!(record.status_word(), "PENDING");
    assert!(!record.window_runs(), "no URL came back: no countdown");

    let ghost = SessionId::new_unchecked("dl-ghost0001");
    engine.send(Command::RefreshSession(ghost.clone()));
    let record = next_change(&mut engine, WAIT, "the failed session", &ghost).await;
    assert_eq!(record.status_word(), "CREATE_FAILED");

    engine.send(Command::RefreshSession(SessionId::new_unchecked(
        "dl-ghost0002",
    )));
    let Update::Problem(text) = engine
        .expect(WAIT, "InstantPay cannot be asked", |u| {
            matches!(u, Update::Problem(_))
        })
        .await
    else {
        unreachable!()
    };
    assert!(
        text.contains("InstantPay cannot be asked about dl-ghost0002"),
        "{text}"
    );
    engine.stop().await;
}

#[tokio::test]
async fn failing_polls_say_when_they_retry_and_mark_the_provider_unreachable() {
    let (rig, mut engine, made) = started_with_session(polling(100, 6000)).await;
    rig.sim.set_faults(every_request(|f| &mut f.server_error));
    // The provider is marked first, then the poll that found it out.
    engine
        .expect(WAIT, "Cashfree unreachable", |u| {
            matches!(u, Update::Health { provider: Provider::Cashfree, health } if health.is_failing())
        })
        .await;
    let Update::PollFailed {
        record, retry_in, ..
    } = engine
        .expect(
            WAIT,
            "a failed poll",
            |u| matches!(u, Update::PollFailed { record, .. } if record.id == made.id),
        )
        .await
    else {
        unreachable!()
    };
    assert!(record.last_error.is_some());
    assert_eq!(
        record.status,
        SessionStatus::Pending,
        "last good status kept"
    );
    assert!(retry_in.is_some_and(|wait| wait > Duration::ZERO));
    rig.sim.set_faults(Faults::default());
    engine
        .expect(WAIT, "Cashfree answers again", |u| {
            matches!(u, Update::Health { provider: Provider::Cashfree, health } if !health.is_failing())
        })
        .await;
    engine.stop().await;
}

#[tokio::test]
async fn what_another_process_writes_reaches_the_ui_within_two_seconds() {
    let (rig, mut engine, ours) = started_with_session(polling(60_000, 6000)).await;

    // The CLI, say, on the same data folder: its own connection.
    let other = Store::open(&rig.db).expect("second connection");
    let id = SessionId::new_unchecked("dl-cli00001");
    other
        .begin_session(&NewSession {
            documents_requested: vec![],
            redirect_url: Some("https://example.com/done".into()),
            ..pending_row(id.as_str(), Provider::InstantPay)
        })
        .expect("row");
    other
        .complete_session(
            &id,
            &CreatedSession {
                reference: "IPDL-CLI-1".into(),
                url: "https://example.com/dl".into(),
                status: SessionStatus::Pending,
                provider_status: "PENDING".into(),
                documents_requested: vec![],
                environment: None,
                request_id: None,
            },
            Timestamp::now(),
            None,
        )
        .expect("complete");
    other
        .record_poll(
            None,
            &ours.id,
            &ProviderWord::poll(
                &SessionStatus::Authenticated,
                "AUTHENTICATED",
                &[DocumentType::Aadhaar],
            ),
            Timestamp::now(),
        )
        .expect("poll");
    let link = LinkId::new_unchecked("657aa9841b8d3897ff0a84fb");
    let begun = other
        .begin_notify(&link, "ravi", Timestamp::now())
        .expect("audit");
    other
        .finish_notify(
            begun.id,
            NotifyOutcome::Sent,
            "sent",
            None,
            None,
            Timestamp::now(),
        )
        .expect("finish");
    let written = Instant::now();

    let (mut created, mut changed, mut audited) = (false, false, false);
    while !(created && changed && audited) {
        match engine
            .expect(Duration::from_secs(2), "the other process's writes", |u| {
                matches!(u, Update::SessionChanged { .. } | Update::AuditChanged(_))
            })
            .await
        {
            Update::SessionChanged { record, .. } if record.id == id => {
                assert_eq!(record.url.as_deref(), Some("https://example.com/dl"));
                created = true;
            }
            Update::SessionChanged {
                record, previous, ..
            } if record.id == ours.id && record.status == SessionStatus::Authenticated => {
                assert_eq!(previous, Some(SessionStatus::Pending));
                changed = true;
            }
            Update::AuditChanged(entry) if entry.completed => {
                assert_eq!(entry.actor, "ravi");
                audited = true;
            }
            _ => {}
        }
    }
    assert!(
        written.elapsed() < Duration::from_secs(2),
        "{:?}",
        written.elapsed()
    );
    engine.stop().await;
}

mod flaky;
