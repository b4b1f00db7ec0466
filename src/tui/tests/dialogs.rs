//! The new-session and track forms, the detail view and the hand-off of a
//! session's URL to the customer.

use super::*;

// ---- new session form ----

#[test]
fn new_session_form_is_prefilled_and_sends_the_exact_request() {
    let mut app = loaded_app();
    update(&mut app, ch('n'));
    let form = new_session_form(&app);
    assert_eq!(form.provider, Provider::InstantPay);
    assert_eq!(form.redirect_url.value(), "https://example.com/kyc-done");
    // Provider → Cashfree, flow → signin, documents: add PAN (AADHAAR is the default).
    press(
        &mut app,
        [
            key(KeyCode::Right),
            key(KeyCode::Tab),
            key(KeyCode::Right),
            key(KeyCode::Tab),
            key(KeyCode::Right),
            ch(' '),
        ],
    );
    // Past the redirect URL to the label: the agent's ticket.
    press(&mut app, [key(KeyCode::Tab), key(KeyCode::Tab)]);
    type_text(&mut app, "  TKT-9921 ");
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Send(create_command(
            Provider::Cashfree,
            UserFlow::Signin,
            &[DocumentType::Aadhaar, DocumentType::Pan],
            Some("https://example.com/kyc-done"),
            Some("TKT-9921")
        ))]
    );
    assert!(app.overlay.is_none());
}

#[test]
fn instantpay_requests_carry_no_documents() {
    let mut app = loaded_app();
    update(&mut app, ch('n'));
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(
        sent(&effects),
        vec![&create_command(
            Provider::InstantPay,
            UserFlow::Signup,
            &[],
            Some("https://example.com/kyc-done"),
            None
        )]
    );
}

#[test]
fn bad_redirect_url_is_flagged_on_the_field_and_nothing_is_sent() {
    let mut app = loaded_app();
    update(&mut app, ch('n'));
    // Back past the label to the redirect URL.
    press(&mut app, [key(KeyCode::BackTab), key(KeyCode::BackTab)]);
    // Replace the URL with plain http.
    update(&mut app, ctrl('u'));
    type_text(&mut app, "http://example.com/done");
    let message = new_session_form(&app).redirect_error.clone().unwrap();
    assert!(message.contains("https://"), "{message}");
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::NewSession(_))));
}

#[test]
fn cashfree_without_documents_is_refused() {
    let mut app = loaded_app();
    update(&mut app, ch('n'));
    press(
        &mut app,
        [
            key(KeyCode::Right),
            key(KeyCode::Down),
            key(KeyCode::Down),
            ch(' '),
        ],
    );
    let form = new_session_form(&app);
    assert!(form.documents.is_empty());
    assert!(form.documents_error.is_some());
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
}

#[test]
fn an_unconfigured_provider_is_shown_and_refused() {
    let mut options = options();
    options.cashfree_configured = false;
    let mut app = app_with(options, Theme::colour());
    update(&mut app, ch('n'));
    update(&mut app, key(KeyCode::Right));
    let form = new_session_form(&app);
    assert_eq!(form.provider, Provider::Cashfree);
    assert!(
        form.provider_error
            .as_deref()
            .unwrap()
            .contains("not configured")
    );
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    update(&mut app, key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

// ---- track form ----

#[test]
fn track_form_validates_and_sends_track_session() {
    let mut app = loaded_app();
    update(&mut app, ch('t'));
    // Empty: flagged on submit, nothing sent.
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    let Some(Overlay::Track(form)) = &app.overlay else {
        panic!("form not open");
    };
    assert!(form.reference_error.is_some());
    // Cashfree verification ids are checked unless all digits.
    update(&mut app, key(KeyCode::Up));
    update(&mut app, key(KeyCode::Right));
    update(&mut app, key(KeyCode::Tab));
    type_text(&mut app, "bad id!");
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    update(&mut app, ctrl('u'));
    type_text(&mut app, "  1234567890 ");
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        vec![Effect::Send(Command::TrackSession {
            provider: Provider::Cashfree,
            reference: "1234567890".into(),
        })]
    );
    assert!(app.overlay.is_none());
}

// ---- detail ----

#[test]
fn an_expired_or_denied_session_offers_no_link_and_says_why() {
    for (id, says) in [
        ("dl-deny0003", "denied consent"),
        ("dl-expd0004", "link expired"),
    ] {
        let mut app = loaded_app();
        app.sessions.select_id(&SessionId::new_unchecked(id));
        update(&mut app, key(KeyCode::Enter));
        let Some(Overlay::Detail(view)) = &app.overlay else {
            panic!("detail closed");
        };
        assert!(view.qr.is_none(), "{id}: no QR code for a spent link");
        for press in ['y', 'o'] {
            assert!(
                update(&mut app, ch(press)).is_empty(),
                "{id}: {press} does nothing"
            );
            let toast = last_toast(&app);
            assert!(toast.contains(says), "{id}: {toast}");
        }
    }
}

#[test]
fn detail_copies_opens_refreshes_and_stops() {
    let mut app = loaded_app();
    // Select the authenticated Cashfree session.
    filter_to(&mut app, "auth0001");
    let id = SessionId::new_unchecked("dl-auth0001");
    // The history came with the sessions: opening asks the engine nothing.
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    assert_eq!(app.context(), Context::Detail);
    assert_eq!(
        update(&mut app, ch('y')),
        vec![Effect::Copy(CASHFREE_URL.into())]
    );
    assert_eq!(
        update(&mut app, ch('o')),
        vec![Effect::OpenUrl(CASHFREE_URL.into())]
    );
    assert_eq!(
        update(&mut app, ch('r')),
        vec![Effect::Send(Command::RefreshSession(id.clone()))]
    );
    assert!(update(&mut app, ch('r')).is_empty(), "debounced");
    // x asks first; n keeps tracking.
    assert!(update(&mut app, ch('x')).is_empty());
    assert_eq!(app.context(), Context::ConfirmStop);
    assert!(update(&mut app, ch('n')).is_empty());
    assert_eq!(app.context(), Context::Detail);
    update(&mut app, ch('x'));
    assert_eq!(
        update(&mut app, ch('y')),
        vec![Effect::Send(Command::StopTracking(id.clone()))]
    );
    // The engine confirms: the row goes and the detail closes.
    engine(&mut app, Update::SessionUntracked(id.clone()));
    assert!(app.overlay.is_none());
    assert!(app.sessions.get(&id).is_none());
    assert_eq!(app.sessions.total(), 7);
}

#[test]
fn detail_keeps_history_and_user_details() {
    let mut app = loaded_app();
    let id = SessionId::new_unchecked("dl-auth0001");
    let before = app.sessions.histories[&id].len();
    let record = app.sessions.get(&id).unwrap().clone();
    engine(
        &mut app,
        Update::SessionChanged {
            record,
            previous: None,
            event: Some(StatusEvent {
                at: at(-100),
                status: SessionStatus::Authenticated,
                provider_status: "AUTHORIZED".into(),
                learned: None,
            }),
        },
    );
    engine(
        &mut app,
        Update::SessionUserDetails {
            id: id.clone(),
            details: UserDetails {
                name: Some("Asha Verma".into()),
                mobile: Some("9876543210".into()),
                ..Default::default()
            },
        },
    );
    assert_eq!(app.sessions.histories[&id].len(), before + 1);
    assert!(app.sessions.user_details.contains_key(&id));
    // Personal data never reaches the activity log.
    assert!(!app.activity.last(100).any(|e| e.text.contains("Asha")));
}

#[test]
fn closing_detail_with_esc() {
    let mut app = loaded_app();
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(app.context(), Context::Detail);
    update(&mut app, key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

// ---- hand-off to the customer ----

#[test]
fn at_start_the_top_row_is_selected_and_reported_on_screen() {
    let mut app = app();
    let effects = update(&mut app, Msg::Engine(loaded()));
    assert_eq!(selected_id(&app), "dl-send0006");
    assert!(
        sent(&effects).contains(&&Command::OnScreen(vec![SessionId::new_unchecked(
            "dl-send0006"
        )]))
    );
}

#[test]
fn a_created_session_is_selected_and_its_detail_opens() {
    let mut app = loaded_app();
    update(&mut app, ch('n'));
    update(&mut app, key(KeyCode::Enter));
    assert!(app.overlay.is_none());
    // Another session changing first does not steal the hand-off.
    let other = app
        .sessions
        .get(&SessionId::new_unchecked("dl-pend0002"))
        .unwrap()
        .clone();
    changed(&mut app, other, None);
    assert!(app.overlay.is_none());
    let created = session(
        "dl-new00001",
        Provider::InstantPay,
        SessionStatus::Pending,
        0,
    );
    changed(&mut app, created, None);
    assert_eq!(selected_id(&app), "dl-new00001");
    let Some(Overlay::Detail(view)) = &app.overlay else {
        panic!("detail not open: {:?}", app.overlay);
    };
    assert_eq!(view.id.as_str(), "dl-new00001");
    // y copies the URL straight away.
    let effects = update(&mut app, ch('y'));
    assert!(
        effects.contains(&Effect::Copy(INSTANTPAY_URL.into())),
        "{effects:?}"
    );
}

#[test]
fn the_detail_view_copies_our_id_and_the_provider_reference() {
    let mut app = loaded_app();
    filter_to(&mut app, "auth0001");
    update(&mut app, key(KeyCode::Enter));
    assert!(update(&mut app, ch('i')).contains(&Effect::Copy("dl-auth0001".into())));
    assert!(update(&mut app, ch('p')).contains(&Effect::Copy("5012345678".into())));
    assert_eq!(
        app.toasts.iter().last().unwrap().text,
        "provider reference copied to the clipboard"
    );
}
