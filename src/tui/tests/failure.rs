//! Honest under failure: what the dashboard says when things go wrong.

use super::*;

/// The engine tells `app` of a provider's health.
fn told_health(
    app: &mut crate::tui::App,
    provider: Provider,
    health: crate::engine::ProviderHealth,
) {
    engine(app, Update::Health { provider, health });
}

// ---- honest under failure ----

fn rate_limited() -> ProviderError {
    ProviderError::RateLimited {
        provider: Provider::Cashfree,
        retry_after: Some(std::time::Duration::from_secs(6)),
        code: None,
    }
}

fn poll_failed(app: &mut crate::tui::App, id: &str) -> Vec<Effect> {
    let mut record = app
        .sessions
        .get(&SessionId::new_unchecked(id))
        .unwrap()
        .clone();
    record.last_error = Some(rate_limited().to_string());
    engine(
        app,
        Update::PollFailed {
            record,
            error: rate_limited(),
            retry_in: Some(std::time::Duration::from_secs(6)),
        },
    )
}

#[test]
fn rejected_credentials_are_marked_in_the_header_with_the_fix_until_they_pass() {
    let health = |failing: bool, rejected: bool| crate::engine::ProviderHealth {
        failing_since: failing.then(|| at(-300)),
        credentials_rejected_since: rejected.then(|| at(-120)),
        ..crate::engine::ProviderHealth::default()
    };
    let mut app = loaded_app();
    // It was unreachable before: its refusal is no "answers again".
    told_health(&mut app, Provider::InstantPay, health(true, false));
    told_health(&mut app, Provider::InstantPay, health(false, true));
    let said = last_toast(&app);
    assert!(
        said.contains("client_secret under [instantpay]") && !said.contains("answers again"),
        "{said}"
    );
    assert_eq!(app.toasts.iter().last().unwrap().level, Level::Error);
    let text = buffer_text(&render(&sized(app.clone(), 160, 48), 160, 48));
    assert!(text.contains("⚠ CREDENTIALS REJECTED 2m"), "{text}");
    told_health(&mut app, Provider::InstantPay, health(false, false));
    assert!(last_toast(&app).contains("takes our credentials again"));
    let text = buffer_text(&render(&sized(app, 160, 48), 160, 48));
    assert!(!text.contains("CREDENTIALS REJECTED"), "{text}");
}

#[test]
fn a_failed_poll_marks_the_row_and_logs_but_does_not_toast() {
    let mut app = loaded_app();
    let toasts = app.toasts.len();
    poll_failed(&mut app, "dl-pend0002");
    assert_eq!(app.toasts.len(), toasts, "no toast per failed poll");
    let line = &app.activity.latest().unwrap().text;
    assert_eq!(
        line,
        "could not reach InstantPay to check dl-pend0002 (rate limited; retrying in 6 s)"
    );
    let record = app
        .sessions
        .get(&SessionId::new_unchecked("dl-pend0002"))
        .unwrap();
    assert_eq!(record.status, SessionStatus::Pending, "the status stays");
    assert!(record.last_error.is_some());
    assert!(app.sessions.troubles.contains_key(&record.id));
    // The next good answer clears the mark.
    let mut good = record.clone();
    good.last_error = None;
    changed(&mut app, good, None);
    assert!(app.sessions.troubles.is_empty());
}

#[test]
fn the_detail_view_says_the_last_error_and_when_the_next_poll_is() {
    let mut app = loaded_app();
    poll_failed(&mut app, "dl-pend0002");
    let record = app
        .sessions
        .get(&SessionId::new_unchecked("dl-pend0002"))
        .unwrap();
    app.overlay = Some(Overlay::Detail(crate::tui::detail::DetailView::open(
        record,
    )));
    let text = buffer_text(&render(&sized(app, 120, 40), 120, 40));
    assert!(
        text.contains("Last error    could not reach InstantPay to check"),
        "{text}"
    );
    assert!(text.contains("Next poll     in 00:06"), "{text}");
}

#[test]
fn a_poll_asked_for_under_the_rate_limit_says_exactly_when_it_goes() {
    let mut app = loaded_app();
    poll_failed(&mut app, "dl-pend0002");
    let id = SessionId::new_unchecked("dl-pend0002");
    engine(
        &mut app,
        Update::PollWaits {
            id: id.clone(),
            at: at(42),
        },
    );
    let clock = crate::tui::format::clock(at(42), &app.tz);
    assert_eq!(
        last_toast(&app),
        format!(
            "dl-pend0002: the rate limit allows its poll at {clock} (in 42 s); it goes by itself then"
        )
    );
    assert_eq!(app.sessions.troubles[&id].next_poll, Some(at(42)));
    let record = app.sessions.get(&id).unwrap();
    app.overlay = Some(Overlay::Detail(crate::tui::detail::DetailView::open(
        record,
    )));
    let text = buffer_text(&render(&sized(app, 120, 40), 120, 40));
    assert!(text.contains("Next poll     in 00:42"), "{text}");
}

#[test]
fn an_unreachable_provider_shows_in_the_header_until_it_answers() {
    let mut app = loaded_app();
    let health = crate::engine::ProviderHealth {
        failing_since: Some(at(-30)),
        last_failure: Some("Cashfree is unavailable (HTTP 503): down".into()),
        slow_factor: 4,
        slowed_until: Some(at(60)),
        ..Default::default()
    };
    told_health(&mut app, Provider::Cashfree, health);
    assert_eq!(app.toasts.iter().last().unwrap().level, Level::Error);
    let text = buffer_text(&render(&sized(app.clone(), 160, 48), 160, 48));
    assert!(
        text.contains("Cashfree SANDBOX ⚠ UNREACHABLE 30s"),
        "{text}"
    );
    assert!(
        text.contains("Cashfree polling slowed ×4 (rate limited)"),
        "{text}"
    );
    told_health(
        &mut app,
        Provider::Cashfree,
        crate::engine::ProviderHealth::default(),
    );
    assert!(
        app.activity
            .latest()
            .unwrap()
            .text
            .contains("answers again")
    );
    let text = buffer_text(&render(&sized(app, 160, 48), 160, 48));
    assert!(
        !text.contains("UNREACHABLE") && !text.contains("slowed"),
        "{text}"
    );
}

#[test]
fn a_failed_track_brings_the_form_back_as_typed() {
    let mut app = loaded_app();
    engine(
        &mut app,
        Update::TrackFailed {
            provider: Provider::Cashfree,
            reference: "5012345999".into(),
            error: rate_limited(),
        },
    );
    let Some(Overlay::Track(form)) = &app.overlay else {
        panic!("the track form is back: {:?}", app.overlay);
    };
    assert_eq!(form.reference.value(), "5012345999");
    assert_eq!(form.provider, Provider::Cashfree);
    assert!(
        form.failure
            .as_deref()
            .is_some_and(|f| f.starts_with("could not track Cashfree session 5012345999")),
        "{:?}",
        form.failure
    );
    // Enter tries again with what was typed.
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(
        sent(&effects),
        vec![&Command::TrackSession {
            provider: Provider::Cashfree,
            reference: "5012345999".into()
        }]
    );
}

#[test]
fn a_failed_create_says_it_could_not_create() {
    let mut app = loaded_app();
    engine(
        &mut app,
        Update::CreateFailed {
            id: Some(SessionId::new_unchecked("dl-fail0008")),
            provider: Provider::Cashfree,
            error: rate_limited(),
        },
    );
    let line = &app.activity.latest().unwrap().text;
    assert!(
        line.starts_with("could not create the Cashfree session dl-fail0008"),
        "{line}"
    );
}
