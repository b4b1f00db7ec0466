//! A provider that fails a share of calls (429s, 500s): polling slows, but
//! what is on screen keeps its pace, `r` says when it can go, and a create
//! from the form rides out a short 429.

use super::*;

/// The moments each poll of `id` was answered or failed.
fn poll_times(updates: &[(Instant, Update)], id: &SessionId) -> Vec<Instant> {
    updates
        .iter()
        .filter(|(_, u)| match u {
            Update::SessionChanged { record, .. } | Update::PollFailed { record, .. } => {
                &record.id == id
            }
            _ => false,
        })
        .map(|(at, _)| *at)
        .collect()
}

fn longest_gap(times: &[Instant]) -> Duration {
    times
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .max()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_on_screen_session_keeps_its_pace_while_the_provider_rate_limits() {
    let rig = rig(SimOptions::default()).await;
    let seeded = seed_sessions(&rig, 3).await;
    // One call in four refused with 429 (Retry-After 1 s), one in ten a 500:
    // the provider stays slowed (×8) the whole time.
    rig.sim
        .set_faults("429=0.25,500=0.1".parse().expect("faults"));
    let mut engine = Running::start(&rig, polling(300, 6000));
    engine.loaded().await;
    let watched = seeded[0].id.clone();
    engine.send(Command::OnScreen(vec![watched.clone()]));
    let updates = engine.drain_timed(Duration::from_secs(8)).await;
    assert!(
        updates.iter().any(|(_, u)| is_rate_limited(u)),
        "the provider rate limited us"
    );
    // On screen: every 300 ms, 900 ms at most after failures, or the
    // provider's 1 s pause (15 or 16 polls, 1.0 s apart at most). Slowed
    // with the rest, as before, it was 9 or 10 polls up to 2.1 s apart.
    let watched_polls = poll_times(&updates, &watched);
    let gap = longest_gap(&watched_polls);
    assert!(
        watched_polls.len() >= 13 && gap <= Duration::from_millis(1500),
        "{} polls of the session on screen, longest gap {gap:?}",
        watched_polls.len()
    );
    // Off screen: slowed, but within the ceiling (12 × 300 ms) and a pause.
    for other in &seeded[1..] {
        let polls = poll_times(&updates, &other.id);
        let gap = longest_gap(&polls);
        assert!(
            polls.len() >= 2 && gap <= Duration::from_millis(5500),
            "{} polls of {}, longest gap {gap:?}",
            polls.len(),
            other.id
        );
    }
    engine.stop().await;
}

#[tokio::test]
async fn poll_now_says_when_the_rate_limit_lets_it_go() {
    // The provider allows 3 a minute and says so in its headers.
    let rig = rig_limited(3).await;
    let made = seed_sessions(&rig, 1).await.remove(0);
    let mut engine = Running::start(&rig, polling(60_000, 6000));
    engine.loaded().await;
    engine.send(Command::OnScreen(vec![made.id.clone()]));
    // The on-screen poll spends what the counter has left.
    next_change(&mut engine, WAIT, "the poll on screen", &made.id).await;
    engine.send(Command::RefreshSession(made.id.clone()));
    engine.drain(Duration::from_millis(500)).await;
    // The counter is at 0: the next `r` waits for its reset, and says until when.
    let sent = cashfree_count(&rig.sim);
    let asked = Timestamp::now();
    engine.send(Command::RefreshSession(made.id.clone()));
    let Update::PollWaits { id, at } = engine
        .expect(WAIT, "the poll's wait told", |u| {
            matches!(u, Update::PollWaits { .. })
        })
        .await
    else {
        unreachable!()
    };
    assert_eq!(id, made.id);
    let wait = at.duration_since(asked);
    assert!(
        wait > SignedDuration::from_secs(5) && wait <= SignedDuration::from_secs(61),
        "told it goes in {wait:?}"
    );
    engine.drain(Duration::from_millis(500)).await;
    assert_eq!(cashfree_count(&rig.sim), sent, "nothing sent meanwhile");
    engine.stop().await;
}

#[tokio::test]
async fn a_create_from_the_form_rides_out_a_short_429() {
    let (rig, mut engine) = started(polling(60_000, 6000)).await;
    rig.sim.set_faults(every_request(|f| &mut f.rate_limit));
    engine.send(Command::CreateSession(request(Provider::Cashfree)));
    // The 429s say Retry-After 1 s; the storm passes within that.
    tokio::time::sleep(Duration::from_millis(600)).await;
    rig.sim.set_faults(Faults::default());
    let created = engine
        .expect(Duration::from_secs(8), "the create, retried", |u| {
            matches!(u, Update::SessionChanged { record, .. } if record.create_state == CreateState::Created)
                || matches!(u, Update::CreateFailed { .. })
        })
        .await;
    assert!(
        matches!(created, Update::SessionChanged { .. }),
        "{created:?}"
    );
    // One row, not a failed one beside the created one.
    let rows = Store::open(&rig.db)
        .expect("store")
        .list_sessions(true)
        .expect("rows");
    assert_eq!(rows.len(), 1, "{rows:?}");
    engine.stop().await;
}

#[tokio::test]
async fn a_hung_poll_of_the_session_on_screen_gets_a_second_one_after_its_interval() {
    let rig = rig(SimOptions::default()).await;
    let made = seed_sessions(&rig, 1).await.remove(0);
    // Polls time out after 2 s; on screen, one goes every 300 ms.
    let mut engine = Running::start(&rig, polling(300, 6000));
    engine.loaded().await;
    engine.drain(Duration::from_millis(700)).await;
    // The next poll hangs (the simulator never answers it)...
    rig.sim.set_faults(every_request(|f| &mut f.timeout));
    let before = cashfree_count(&rig.sim);
    let opened = Instant::now();
    engine.send(Command::OnScreen(vec![made.id.clone()]));
    while cashfree_count(&rig.sim) == before {
        assert!(opened.elapsed() < WAIT, "no poll went");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...while the customer consents and the provider recovers.
    force(&rig, &made, SessionStatus::Authenticated);
    rig.sim.set_faults(Faults::default());
    let seen = engine
        .expect(WAIT, "the consent", |u| {
            matches!(u, Update::SessionChanged { record, .. }
                if record.id == made.id && record.status == SessionStatus::Authenticated)
        })
        .await;
    let took = opened.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "seen after {took:?}: the second poll went before the first timed out"
    );
    drop(seen);
    // The hung poll's timeout, when it comes, is old news: not told, and
    // not left on the row.
    let late = engine.drain(Duration::from_millis(2500)).await;
    assert!(
        !late
            .iter()
            .any(|u| matches!(u, Update::PollFailed { record, .. } if record.id == made.id)),
        "{late:?}"
    );
    let row = Store::open(&rig.db)
        .expect("store")
        .find_session(made.id.as_str())
        .expect("read")
        .expect("the row");
    assert_eq!(row.last_error, None);
    engine.stop().await;
}

#[tokio::test]
async fn a_provider_that_answers_only_429s_still_answers() {
    let rig = rig(SimOptions::default()).await;
    let made = seed_sessions(&rig, 1).await.remove(0);
    let mut engine = Running::start(&rig, polling(300, 6000));
    engine.loaded().await;
    engine.send(Command::OnScreen(vec![made.id.clone()]));
    // A 500 marks the provider failing; then, for longer than the ceiling
    // (12 × 300 ms), nothing but 429s (Retry-After 1 s): it is there.
    rig.sim.set_faults(every_request(|f| &mut f.server_error));
    engine
        .expect(WAIT, "a 500", |u| {
            matches!(
                u,
                Update::PollFailed {
                    error: ProviderError::Unavailable { .. },
                    ..
                }
            )
        })
        .await;
    rig.sim.set_faults(every_request(|f| &mut f.rate_limit));
    engine.drain(Duration::from_secs(4)).await;
    let updates = engine.drain_timed(Duration::from_secs(5)).await;
    let polls = poll_times(&updates, &made.id);
    let gap = longest_gap(&polls);
    // Each 429 pauses the provider 1 s; the session on screen goes again
    // then. Counted as silent, it waited 300 ms × 8 × 2 = 4.8 s.
    assert!(
        polls.len() >= 3 && gap <= Duration::from_millis(2500),
        "{} polls, longest gap {gap:?}",
        polls.len()
    );
    engine.stop().await;
}
