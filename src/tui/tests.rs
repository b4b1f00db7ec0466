//! `update` for every key path and every engine update.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};
use url::Url;

use crate::domain::{
    DocumentType, LinkStatus, Provider, ProviderEnvironment, SessionId, SessionStatus, UserDetails,
    UserFlow,
};
use crate::domain::{NotifyOutcome, RecentNotifies, StatusEvent};
use crate::engine::{Command, ProviderSetup, SessionRequest, Update};
use crate::error::ProviderError;

use super::app::Overlay;
use super::feedback::Level;
use super::fixtures::*;
use super::keymap::Context;
use super::notify::NotifyPhase;
use super::notify::confirm::Choice;
use super::sessions::SortOrder;
use super::theme::Theme;
use super::update::{Effect, Msg, update};
use super::view::Pane;

fn engine(app: &mut super::App, message: Update) -> Vec<Effect> {
    update(app, Msg::Engine(message))
}

/// The titles of the alerts (bell, desktop) among `effects`.
fn alerts(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Alert(alert) => Some(alert.title.as_str()),
            _ => None,
        })
        .collect()
}

fn selected_id(app: &super::App) -> String {
    app.sessions
        .selected_record()
        .map(|record| record.id.to_string())
        .unwrap_or_default()
}

fn declined(code: &str) -> ProviderError {
    ProviderError::Declined {
        provider: Provider::InstantPay,
        code: code.into(),
        message: "Insufficient wallet balance".into(),
        actcode: None,
        request_id: Some("ipay-42".into()),
    }
}

// ---- focus, quit, help ----

#[test]
fn tab_and_shift_tab_cycle_the_panes() {
    let mut app = loaded_app();
    assert_eq!(app.focus, Pane::Sessions);
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Notify);
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Balance);
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Sessions);
    update(&mut app, key(KeyCode::BackTab));
    assert_eq!(app.focus, Pane::Balance);
    update(&mut app, ch('l'));
    assert_eq!(app.focus, Pane::Notify);
    assert_eq!(app.context(), Context::NotifyField);
}

#[test]
fn q_and_ctrl_c_shut_the_engine_down_then_quit() {
    let mut app = loaded_app();
    let expected = vec![Effect::Send(Command::Shutdown), Effect::Quit];
    assert_eq!(update(&mut app, ch('q')), expected);
    assert_eq!(update(&mut app, ctrl('c')), expected);
    // While typing, q is a letter, but Ctrl-C still quits.
    update(&mut app, ch('/'));
    let typed = update(&mut app, ch('q'));
    assert!(
        !typed.contains(&Effect::Quit) && !sent(&typed).contains(&&Command::Shutdown),
        "{typed:?}"
    );
    assert_eq!(app.sessions.filter.value(), "q");
    update(&mut app, ch('n'));
    assert_eq!(update(&mut app, ctrl('c')), expected);
}

#[test]
fn the_engine_hears_which_sessions_are_on_screen() {
    let mut app = loaded_app();
    // Loading reported the selected row.
    let ids = app.reported_on_screen.clone();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].as_str(), selected_id(&app));
    let now = app.now;
    // Nothing changed: nothing said.
    assert!(sent(&update(&mut app, Msg::Tick(now))).is_empty());
    // Moving the selection reports the new row.
    let moved = update(&mut app, key(KeyCode::Down));
    assert_eq!(
        sent(&moved),
        vec![&Command::OnScreen(vec![payops_id(&selected_id(&app))])]
    );
}

fn payops_id(text: &str) -> crate::domain::SessionId {
    crate::domain::SessionId::new_unchecked(text)
}

#[test]
fn key_releases_are_ignored() {
    let mut app = loaded_app();
    app.dirty = false;
    let release = KeyEvent {
        code: KeyCode::Char('q'),
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Release,
        state: KeyEventState::NONE,
    };
    assert!(update(&mut app, Msg::Key(release)).is_empty());
    assert!(!app.dirty);
}

#[test]
fn help_opens_and_closes() {
    let mut app = loaded_app();
    update(&mut app, ch('?'));
    assert!(matches!(app.overlay, Some(Overlay::Help(_))));
    // Other keys do nothing while help is open.
    assert!(update(&mut app, ch('n')).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::Help(_))));
    update(&mut app, key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

#[test]
fn help_scrolls_where_it_does_not_fit_and_stops_at_the_end() {
    let mut app = sized(loaded_app(), 80, 24);
    update(&mut app, ch('?'));
    let first = buffer_text(&render(&app, 80, 24));
    assert!(first.contains("(0 above,"), "{first}");
    for _ in 0..30 {
        update(&mut app, key(KeyCode::PageDown));
    }
    let Some(Overlay::Help(view)) = &app.overlay else {
        panic!("help closed");
    };
    let furthest = view.scroll;
    let last = buffer_text(&render(&app, 80, 24));
    assert!(last.contains(", 0 below)"), "{last}");
    assert!(
        last.contains("close help"),
        "the last key is reachable:\n{last}"
    );
    // Down at the end stays there; one Up moves at once.
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Up));
    let Some(Overlay::Help(view)) = &app.overlay else {
        panic!("help closed");
    };
    assert_eq!(view.scroll, furthest - 1);
    // Large enough, nothing scrolls.
    let mut wide = sized(loaded_app(), 160, 48);
    update(&mut wide, ch('?'));
    assert!(!buffer_text(&render(&wide, 160, 48)).contains("scroll ("));
}

// ---- labels ----

#[test]
fn a_label_is_set_in_the_detail_view_and_found_by_the_filter() {
    let mut app = loaded_app();
    app.sessions
        .select_id(&SessionId::new_unchecked("dl-deny0003"));
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, ch('e'));
    assert_eq!(app.context(), Context::EditLabel);
    // Typing goes to the label, not to the detail's keys ('x' stops tracking there).
    type_text(&mut app, "x".repeat(65).as_str());
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    let Some(Overlay::Detail(view)) = &app.overlay else {
        panic!("detail closed");
    };
    let error = view.label_edit.as_ref().and_then(|e| e.error.clone());
    assert_eq!(
        error.as_deref(),
        Some("is 65 characters; at most 64 allowed")
    );
    update(&mut app, ctrl('u'));
    type_text(&mut app, "TKT-5150");
    assert_eq!(
        sent(&update(&mut app, key(KeyCode::Enter))),
        vec![&Command::SetLabel {
            id: SessionId::new_unchecked("dl-deny0003"),
            label: Some("TKT-5150".into()),
        }]
    );
    assert_eq!(app.context(), Context::Detail);
    // The engine's answer updates the row; the filter finds it by label.
    let mut record = sessions()[2].clone();
    record.label = Some("TKT-5150".into());
    engine(
        &mut app,
        Update::SessionChanged {
            record,
            previous: None,
            event: None,
        },
    );
    update(&mut app, key(KeyCode::Esc));
    update(&mut app, ch('/'));
    type_text(&mut app, "tkt-5150");
    assert_eq!(app.sessions.len(), 1);
    assert_eq!(selected_id(&app), "dl-deny0003");
}

#[test]
fn esc_leaves_the_label_as_it_was_and_empty_removes_it() {
    let mut app = loaded_app();
    app.sessions
        .select_id(&SessionId::new_unchecked("dl-auth0001"));
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, ch('e'));
    update(&mut app, ctrl('u'));
    assert!(update(&mut app, key(KeyCode::Esc)).is_empty());
    assert_eq!(app.context(), Context::Detail);
    update(&mut app, ch('e'));
    update(&mut app, ctrl('u'));
    assert_eq!(
        sent(&update(&mut app, key(KeyCode::Enter))),
        vec![&Command::SetLabel {
            id: SessionId::new_unchecked("dl-auth0001"),
            label: None,
        }]
    );
}

// ---- sessions table ----

#[test]
fn arrows_and_paging_move_the_selection() {
    let mut app = sized(loaded_app(), 80, 24);
    // Newest first: the row created 5 s ago leads.
    assert_eq!(selected_id(&app), "dl-send0006");
    update(&mut app, ch('j'));
    assert_eq!(selected_id(&app), "dl-unkn0005");
    update(&mut app, key(KeyCode::Down));
    assert_eq!(selected_id(&app), "dl-pend0002");
    update(&mut app, ch('k'));
    assert_eq!(selected_id(&app), "dl-unkn0005");
    update(&mut app, key(KeyCode::End));
    assert_eq!(selected_id(&app), "dl-expd0004");
    update(&mut app, key(KeyCode::Home));
    assert_eq!(selected_id(&app), "dl-send0006");
    update(&mut app, key(KeyCode::PageDown));
    assert_eq!(
        app.sessions.selected_index(),
        7.min(app.sessions.page_rows())
    );
    update(&mut app, key(KeyCode::PageUp));
    assert_eq!(app.sessions.selected_index(), 0);
    update(&mut app, key(KeyCode::Up));
    assert_eq!(app.sessions.selected_index(), 0);
}

#[test]
fn s_toggles_the_sort_and_keeps_the_selected_session() {
    let mut app = loaded_app();
    update(&mut app, ch('j'));
    let before = selected_id(&app);
    update(&mut app, ch('s'));
    assert_eq!(app.sessions.sort, SortOrder::Status);
    assert_eq!(selected_id(&app), before);
    let order: Vec<String> = app
        .sessions
        .ids_in_view()
        .map(|id| id.to_string())
        .collect();
    assert_eq!(
        order,
        [
            "dl-oops0007",
            "dl-send0006",
            "dl-fail0008",
            "dl-unkn0005",
            "dl-pend0002",
            "dl-auth0001",
            "dl-deny0003",
            "dl-expd0004"
        ]
    );
    update(&mut app, ch('s'));
    assert_eq!(app.sessions.sort, SortOrder::Newest);
}

#[test]
fn slash_filters_by_any_text_and_esc_clears() {
    let mut app = loaded_app();
    update(&mut app, ch('/'));
    assert_eq!(app.context(), Context::Filter);
    type_text(&mut app, "cashfree");
    assert_eq!(app.sessions.len(), 5);
    // Several words must all match; status words and references count.
    type_text(&mut app, " denied");
    assert_eq!(app.sessions.len(), 1);
    assert_eq!(selected_id(&app), "dl-deny0003");
    update(&mut app, key(KeyCode::Enter));
    assert_eq!(app.context(), Context::Sessions);
    assert_eq!(app.sessions.len(), 1);
    update(&mut app, ch('/'));
    update(&mut app, key(KeyCode::Esc));
    assert_eq!(app.sessions.len(), 8);
    assert_eq!(app.sessions.filter.value(), "");
    update(&mut app, ch('/'));
    type_text(&mut app, "IPDL884");
    assert_eq!(app.sessions.len(), 1);
    update(&mut app, key(KeyCode::Backspace));
    assert_eq!(app.sessions.filter.value(), "IPDL88");
}

#[test]
fn f_hides_and_shows_final_sessions() {
    let mut app = loaded_app();
    update(&mut app, ch('f'));
    assert!(app.sessions.hide_final);
    let shown: Vec<String> = app
        .sessions
        .ids_in_view()
        .map(|id| id.to_string())
        .collect();
    assert_eq!(shown.len(), 5);
    assert!(
        !shown
            .iter()
            .any(|id| id == "dl-auth0001" || id == "dl-expd0004")
    );
    update(&mut app, ch('f'));
    assert_eq!(app.sessions.len(), 8);
}

#[test]
fn countdown_runs_from_now_and_stops_at_final() {
    let mut app = sized(loaded_app(), 160, 48);
    // dl-pend0002 was created 150 s ago: 450 s of its 600 s window left.
    let screen = buffer_text(&render(&app, 160, 48));
    let row = screen
        .lines()
        .find(|line| line.contains("dl-pend0002"))
        .unwrap()
        .to_string();
    assert!(row.contains("07:30"), "{row}");
    update(&mut app, Msg::Tick(at(61)));
    let screen = buffer_text(&render(&app, 160, 48));
    let row = screen
        .lines()
        .find(|line| line.contains("dl-pend0002"))
        .unwrap();
    assert!(row.contains("06:29"), "{row}");
    let final_row = screen
        .lines()
        .find(|line| line.contains("dl-auth0001"))
        .unwrap();
    assert!(final_row.contains('—'), "{final_row}");
    // Past the window, a pending row shows 00:00 rather than a negative time.
    update(&mut app, Msg::Tick(at(3600)));
    let screen = buffer_text(&render(&app, 160, 48));
    let row = screen
        .lines()
        .find(|line| line.contains("dl-pend0002"))
        .unwrap();
    assert!(row.contains("00:00"), "{row}");
}

#[test]
fn r_refreshes_the_focused_thing_debounced() {
    let mut app = loaded_app();
    update(&mut app, key(KeyCode::BackTab));
    assert_eq!(app.focus, Pane::Balance);
    assert_eq!(
        update(&mut app, ch('r')),
        vec![Effect::Send(Command::RefreshBalance)]
    );
    assert!(update(&mut app, ch('r')).is_empty());
    update(&mut app, Msg::Tick(at(1)));
    assert!(update(&mut app, ch('r')).is_empty());
    update(&mut app, Msg::Tick(at(2)));
    assert_eq!(
        update(&mut app, ch('r')),
        vec![Effect::Send(Command::RefreshBalance)]
    );
    // On the sessions pane, r polls the selected session.
    update(&mut app, Msg::Tick(at(5)));
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(
        update(&mut app, ch('r')),
        vec![Effect::Send(Command::RefreshSession(
            SessionId::new_unchecked("dl-send0006")
        ))]
    );
}

#[test]
fn refreshing_an_unconfigured_balance_explains_instead() {
    let mut options = options();
    options.instantpay_configured = false;
    let mut app = app_with(options, Theme::colour());
    update(&mut app, key(KeyCode::BackTab));
    assert!(update(&mut app, ch('r')).is_empty());
    assert!(app.toasts.iter().any(|t| t.text.contains("[instantpay]")));
}

// ---- new session form ----

#[test]
fn new_session_form_is_prefilled_and_sends_the_exact_request() {
    let mut app = loaded_app();
    update(&mut app, ch('n'));
    let Some(Overlay::NewSession(form)) = &app.overlay else {
        panic!("form not open");
    };
    assert_eq!(form.provider, Provider::InstantPay);
    assert_eq!(form.redirect_url.value(), "https://example.com/kyc-done");
    // Provider → Cashfree, flow → signin, documents: add PAN (AADHAAR is the default).
    update(&mut app, key(KeyCode::Right));
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Right));
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Right));
    update(&mut app, ch(' '));
    // Past the redirect URL to the label: the agent's ticket.
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Tab));
    type_text(&mut app, "  TKT-9921 ");
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Send(Command::CreateSession(SessionRequest {
            provider: Provider::Cashfree,
            flow: UserFlow::Signin,
            documents: vec![DocumentType::Aadhaar, DocumentType::Pan],
            redirect_url: Some(Url::parse("https://example.com/kyc-done").unwrap()),
            label: Some("TKT-9921".into()),
        }))]
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
        vec![&Command::CreateSession(SessionRequest {
            provider: Provider::InstantPay,
            flow: UserFlow::Signup,
            documents: vec![],
            redirect_url: Some(Url::parse("https://example.com/kyc-done").unwrap()),
            label: None,
        })]
    );
}

#[test]
fn bad_redirect_url_is_flagged_on_the_field_and_nothing_is_sent() {
    let mut app = loaded_app();
    update(&mut app, ch('n'));
    // Back past the label to the redirect URL.
    update(&mut app, key(KeyCode::BackTab));
    update(&mut app, key(KeyCode::BackTab));
    // Replace the URL with plain http.
    update(&mut app, ctrl('u'));
    type_text(&mut app, "http://example.com/done");
    let Some(Overlay::NewSession(form)) = &app.overlay else {
        panic!("form not open");
    };
    let message = form.redirect_error.clone().unwrap();
    assert!(message.contains("https://"), "{message}");
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::NewSession(_))));
}

#[test]
fn cashfree_without_documents_is_refused() {
    let mut app = loaded_app();
    update(&mut app, ch('n'));
    update(&mut app, key(KeyCode::Right));
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Down));
    update(&mut app, ch(' '));
    let Some(Overlay::NewSession(form)) = &app.overlay else {
        panic!("form not open");
    };
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
    let Some(Overlay::NewSession(form)) = &app.overlay else {
        panic!("form not open");
    };
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
fn detail_copies_opens_refreshes_and_stops() {
    let mut app = loaded_app();
    // Select the authenticated Cashfree session.
    update(&mut app, ch('/'));
    type_text(&mut app, "auth0001");
    update(&mut app, key(KeyCode::Enter));
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

// ---- status changes ----

#[test]
fn authenticated_change_toasts_and_rings() {
    let mut app = loaded_app();
    let mut record = sessions()[1].clone();
    record.status = SessionStatus::Authenticated;
    record.provider_status = "AUTHORIZED".into();
    let effects = engine(
        &mut app,
        Update::SessionChanged {
            record,
            previous: Some(SessionStatus::Pending),
            event: None,
        },
    );
    assert_eq!(alerts(&effects), ["Session authenticated"]);
    assert_eq!(effects.len(), 1);
    let toast = app.toasts.iter().last().unwrap();
    assert!(
        toast.text.contains("PENDING → ✓ AUTHENTICATED"),
        "{}",
        toast.text
    );
    assert_eq!(toast.level, Level::Success);
}

#[test]
fn consent_denied_alerts_too() {
    let mut app = loaded_app();
    let mut record = sessions()[1].clone();
    record.status = SessionStatus::ConsentDenied;
    let effects = engine(
        &mut app,
        Update::SessionChanged {
            record,
            previous: Some(SessionStatus::Pending),
            event: None,
        },
    );
    let Some(Effect::Alert(alert)) = effects.first() else {
        panic!("{effects:?}");
    };
    assert_eq!(alert.title, "Consent denied");
    assert!(
        alert.body.contains("PENDING → ✗ CONSENT_DENIED"),
        "{}",
        alert.body
    );
}

#[test]
fn other_changes_toast_without_bell_and_polls_only_update_the_row() {
    let mut app = loaded_app();
    let toasts_before = app.toasts.len();
    let mut record = sessions()[1].clone();
    record.status = SessionStatus::Expired;
    let effects = engine(
        &mut app,
        Update::SessionChanged {
            record: record.clone(),
            previous: Some(SessionStatus::Pending),
            event: None,
        },
    );
    assert!(effects.is_empty());
    assert_eq!(app.toasts.len(), toasts_before + 1);
    // Polled again, no change: no toast.
    record.last_polled_at = Some(at(0));
    engine(
        &mut app,
        Update::SessionChanged {
            record,
            previous: None,
            event: None,
        },
    );
    assert_eq!(app.toasts.len(), toasts_before + 1);
    assert_eq!(
        app.sessions
            .get(&SessionId::new_unchecked("dl-pend0002"))
            .unwrap()
            .last_polled_at,
        Some(at(0))
    );
}

#[test]
fn a_change_carries_its_history_event_to_the_open_detail() {
    let mut app = loaded_app();
    update(&mut app, ch('j'));
    update(&mut app, ch('j'));
    update(&mut app, key(KeyCode::Enter));
    let mut record = sessions()[1].clone();
    record.status = SessionStatus::ConsentDenied;
    let event = record.status_event();
    let effects = engine(
        &mut app,
        Update::SessionChanged {
            record,
            previous: Some(SessionStatus::Pending),
            event: Some(event.clone()),
        },
    );
    assert!(sent(&effects).is_empty(), "nothing to ask the engine back");
    let id = SessionId::new_unchecked("dl-pend0002");
    assert_eq!(app.sessions.histories[&id].last(), Some(&event));
    let text = buffer_text(&render(&sized(app, 160, 48), 160, 48));
    assert!(
        text.contains("✗ CONSENT_DENIED (CONSENT_DENIED)") || text.contains("CONSENT_DENIED"),
        "{text}"
    );
}

#[test]
fn new_sessions_appear_in_the_table() {
    let mut app = loaded_app();
    let mut record = sessions()[0].clone();
    record.id = SessionId::new_unchecked("dl-new00009");
    record.created_at = at(0);
    engine(
        &mut app,
        Update::SessionChanged {
            record,
            previous: None,
            event: None,
        },
    );
    assert_eq!(app.sessions.total(), 9);
    assert!(app.activity.latest().unwrap().text.contains("dl-new00009"));
}

#[test]
fn session_failures_toast_with_code_and_request() {
    let mut app = loaded_app();
    engine(
        &mut app,
        Update::CreateFailed {
            id: None,
            provider: Provider::InstantPay,
            error: declined("IAB"),
        },
    );
    let line = &app.activity.latest().unwrap().text;
    assert!(line.contains("IAB") && line.contains("ipay-42"), "{line}");
    assert_eq!(app.toasts.iter().last().unwrap().level, Level::Error);
}

// ---- balance ----

#[test]
fn low_balance_rings_once_when_crossed_downwards() {
    let mut app = loaded_app();
    let fetch = |app: &mut super::App, amount: &str| {
        alerts(&engine(app, Update::BalanceFetched(balance_report(amount)))).len()
    };
    assert_eq!(fetch(&mut app, "60000"), 0);
    assert_eq!(fetch(&mut app, "40000"), 1);
    assert_eq!(fetch(&mut app, "30000"), 0);
    assert_eq!(fetch(&mut app, "45000"), 0);
    assert_eq!(fetch(&mut app, "70000"), 0);
    // Every new crossing rings again, and the log says by how much it fell.
    let effects = engine(&mut app, Update::BalanceFetched(balance_report("20000")));
    assert_eq!(alerts(&effects), ["Balance below threshold"]);
    let line = &app.activity.latest().unwrap().text;
    assert!(
        line.ends_with("threshold (−₹50,000.00 since the last reading)"),
        "{line}"
    );
}

#[test]
fn a_fall_of_more_than_the_configured_amount_alerts_with_the_change() {
    let mut options = options();
    options.low_balance_threshold = None;
    options.balance_drop_alert = Some(money("10000"));
    let mut app = super::App::new(options, Theme::colour(), now(), jiff::tz::TimeZone::UTC);
    engine(&mut app, loaded());
    let fetch = |app: &mut super::App, amount: &str| {
        alerts(&engine(app, Update::BalanceFetched(balance_report(amount)))).len()
    };
    assert_eq!(fetch(&mut app, "120000"), 0, "−₹5,000 from ₹1,25,000");
    assert_eq!(
        fetch(&mut app, "110000"),
        0,
        "exactly the amount is not more"
    );
    assert_eq!(fetch(&mut app, "99999.99"), 1);
    let line = &app.activity.latest().unwrap().text;
    assert_eq!(
        line,
        "balance fell by more than ₹10,000.00: now ₹99,999.99 (−₹10,000.01 since the last reading)"
    );
    assert_eq!(fetch(&mut app, "150000"), 0, "rises never alert");
}

#[test]
fn the_chart_opens_full_screen_and_toggles_between_a_day_and_a_week() {
    let mut app = loaded_app();
    app.focus(Pane::Balance);
    assert_eq!(app.balance.span, super::balance::ChartSpan::Day);
    update(&mut app, ch('w'));
    assert_eq!(app.balance.span, super::balance::ChartSpan::Week);
    update(&mut app, key(KeyCode::Enter));
    assert!(matches!(
        app.overlay,
        Some(super::app::Overlay::BalanceChart)
    ));
    assert_eq!(app.context(), Context::BalanceChart);
    update(&mut app, ch('w'));
    assert_eq!(app.balance.span, super::balance::ChartSpan::Day);
    // r refreshes from the chart; t and n are not global keys here.
    assert_eq!(
        update(&mut app, ch('r')),
        vec![Effect::Send(Command::RefreshBalance)]
    );
    assert!(update(&mut app, ch('n')).is_empty());
    update(&mut app, key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

#[test]
fn the_chart_keeps_a_week_of_readings() {
    let mut app = loaded_app();
    let old = super::balance::Reading {
        at: at(-8 * 24 * 3600),
        available: money("1"),
    };
    let recent = app.balance.history.len();
    app.balance.history.insert(0, old);
    engine(&mut app, Update::BalanceFetched(balance_report("126000")));
    assert!(
        app.balance
            .history
            .iter()
            .all(|r| r.at > at(-7 * 24 * 3600 - 60))
    );
    assert_eq!(app.balance.history.len(), recent + 1);
    // The day span shows what the last 24 h hold.
    assert_eq!(app.balance.shown(app.now).len(), recent + 1);
}

#[test]
fn a_rate_limited_balance_refresh_shows_no_generic_code() {
    let mut app = loaded_app();
    engine(
        &mut app,
        Update::BalanceFailed(ProviderError::RateLimited {
            provider: Provider::InstantPay,
            retry_after: None,
            code: Some("ERR".into()),
        }),
    );
    let line = &app.activity.latest().unwrap().text;
    assert!(!line.contains("[code"), "{line}");
}

#[test]
fn balance_refresh_shows_a_spinner_and_failures_keep_the_figure() {
    let mut app = loaded_app();
    engine(&mut app, Update::BalanceRefreshing);
    assert!(app.balance.refreshing);
    engine(&mut app, Update::BalanceFailed(declined("SPD")));
    assert!(!app.balance.refreshing);
    assert_eq!(
        app.balance.latest.as_ref().unwrap().available,
        money("125000")
    );
    assert!(app.balance.is_stale(app.now));
    assert!(app.activity.latest().unwrap().text.contains("SPD"));
    // The next success clears the error.
    engine(&mut app, Update::BalanceFetched(balance_report("126000")));
    assert!(app.balance.last_error.is_none());
}

#[test]
fn balance_goes_stale_past_its_interval() {
    let mut app = loaded_app();
    assert!(!app.balance.is_stale(app.now));
    update(&mut app, Msg::Tick(at(300)));
    assert!(app.balance.is_stale(app.now));
}

#[test]
fn loaded_sets_everything_up() {
    let mut app = app();
    engine(&mut app, loaded());
    assert_eq!(app.sessions.total(), 8);
    assert_eq!(app.balance.history.len(), 10);
    assert_eq!(app.balance.history[0].available, money("180000"));
    assert!(app.balance.from_store);
    assert_eq!(app.notify.audit.len(), 2);
    assert_eq!(app.notify.audit[0].id, 2, "newest first");
    assert_eq!(
        app.providers.cashfree,
        ProviderSetup::Configured {
            environment: Some(ProviderEnvironment::Sandbox)
        }
    );
    engine(&mut app, Update::BalanceFetched(balance_report("125000")));
    assert_eq!(
        app.providers.instantpay,
        ProviderSetup::Configured {
            environment: Some(ProviderEnvironment::Sandbox)
        }
    );
}

#[test]
fn problems_are_toasted_and_logged() {
    let mut app = loaded_app();
    engine(&mut app, Update::Problem("store is read-only".into()));
    assert_eq!(app.activity.latest().unwrap().text, "store is read-only");
    assert!(app.toasts.iter().any(|t| t.text == "store is read-only"));
}

// ---- notify ----

fn start_lookup(app: &mut super::App) -> Vec<Effect> {
    update(app, ch('l'));
    type_text(app, LINK);
    update(app, key(KeyCode::Enter))
}

#[test]
fn notify_lookup_then_cancel_is_focused_and_enter_cancels() {
    let mut app = loaded_app();
    assert_eq!(
        start_lookup(&mut app),
        vec![Effect::Send(Command::LookupLink(link()))]
    );
    assert!(matches!(app.notify.phase, NotifyPhase::LookingUp(_)));
    engine(
        &mut app,
        Update::LinkLooked {
            report: link_report(LinkStatus::Issued),
            recent: RecentNotifies::default(),
        },
    );
    let Some(Overlay::ConfirmNotify(dialog)) = &app.overlay else {
        panic!("no confirmation dialog");
    };
    assert_eq!(dialog.choice, Choice::Cancel);
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    assert!(app.overlay.is_none());
    assert!(matches!(app.notify.phase, NotifyPhase::Cancelled { .. }));
}

#[test]
fn notify_confirm_sends_exactly_once_and_locks_while_in_flight() {
    let mut app = loaded_app();
    start_lookup(&mut app);
    engine(
        &mut app,
        Update::LinkLooked {
            report: link_report(LinkStatus::Issued),
            recent: RecentNotifies::default(),
        },
    );
    assert_eq!(
        update(&mut app, ch('y')),
        vec![Effect::Send(Command::SendNotify(link()))]
    );
    assert!(matches!(app.notify.phase, NotifyPhase::InFlight { .. }));
    // In flight: Enter and typing do nothing.
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    assert!(update(&mut app, ch('y')).is_empty());
    assert_eq!(app.notify.input.value(), LINK);
    engine(
        &mut app,
        Update::NotifyStarted({
            let mut entry = audit_entry(3, NotifyOutcome::Unknown, 0);
            entry.completed = false;
            entry
        }),
    );
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    engine(
        &mut app,
        Update::NotifyFinished {
            entry: audit_entry(3, NotifyOutcome::Sent, 0),
            error: None,
        },
    );
    assert!(matches!(app.notify.phase, NotifyPhase::Finished { .. }));
    assert_eq!(app.notify.audit[0].id, 3);
    assert_eq!(app.notify.audit[0].outcome, NotifyOutcome::Sent);
    assert_eq!(app.toasts.iter().last().unwrap().level, Level::Success);
    // Unlocked again: Enter looks the link up afresh.
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        vec![Effect::Send(Command::LookupLink(link()))]
    );
}

#[test]
fn arrows_move_confirm_focus_and_enter_on_send_sends() {
    let mut app = loaded_app();
    start_lookup(&mut app);
    engine(
        &mut app,
        Update::LinkLooked {
            report: link_report(LinkStatus::Issued),
            recent: RecentNotifies::default(),
        },
    );
    update(&mut app, key(KeyCode::Right));
    update(&mut app, key(KeyCode::Left));
    update(&mut app, key(KeyCode::Tab));
    let Some(Overlay::ConfirmNotify(dialog)) = &app.overlay else {
        panic!("no dialog");
    };
    assert_eq!(dialog.choice, Choice::Confirm);
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        vec![Effect::Send(Command::SendNotify(link()))]
    );
}

#[test]
fn n_and_esc_cancel_the_notify() {
    for cancel in [ch('n'), key(KeyCode::Esc)] {
        let mut app = loaded_app();
        start_lookup(&mut app);
        engine(
            &mut app,
            Update::LinkLooked {
                report: link_report(LinkStatus::Issued),
                recent: RecentNotifies::default(),
            },
        );
        update(&mut app, key(KeyCode::Right));
        assert!(update(&mut app, cancel).is_empty());
        assert!(app.overlay.is_none());
    }
}

#[test]
fn a_recent_notify_asks_again_explicitly() {
    let mut app = loaded_app();
    start_lookup(&mut app);
    engine(
        &mut app,
        Update::LinkLooked {
            report: link_report(LinkStatus::Issued),
            recent: RecentNotifies(vec![audit_entry(2, NotifyOutcome::Sent, -300)]),
        },
    );
    assert!(update(&mut app, ch('y')).is_empty());
    let Some(Overlay::ConfirmNotify(dialog)) = &app.overlay else {
        panic!("dialog closed too early");
    };
    assert!(dialog.asking_again);
    assert_eq!(dialog.choice, Choice::Cancel);
    // Enter on the re-focused Cancel cancels.
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    assert!(app.overlay.is_none());
    // Second attempt: y, y sends exactly once.
    update(&mut app, key(KeyCode::Enter));
    engine(
        &mut app,
        Update::LinkLooked {
            report: link_report(LinkStatus::Issued),
            recent: RecentNotifies(vec![audit_entry(2, NotifyOutcome::Sent, -300)]),
        },
    );
    assert!(update(&mut app, ch('y')).is_empty());
    assert_eq!(
        update(&mut app, ch('y')),
        vec![Effect::Send(Command::SendNotify(link()))]
    );
}

#[test]
fn invalid_link_ids_are_flagged_and_unusual_ones_warned() {
    let mut app = loaded_app();
    update(&mut app, ch('l'));
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    assert!(app.notify.field_error.as_deref().unwrap().contains("empty"));
    type_text(&mut app, "abc/def");
    assert!(app.notify.field_error.as_deref().unwrap().contains("'/'"));
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    update(&mut app, ctrl('u'));
    type_text(&mut app, "LINK_42");
    assert!(app.notify.field_error.is_none());
    assert!(app.notify.field_warning.is_some());
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        vec![Effect::Send(Command::LookupLink(
            crate::domain::LinkId::new_unchecked("LINK_42")
        ))]
    );
}

#[test]
fn declined_and_unknown_notifies_say_so() {
    for (outcome, error, expected) in [
        (NotifyOutcome::Declined, Some(declined("RPI")), "RPI"),
        (NotifyOutcome::Unknown, None, "outcome unknown"),
    ] {
        let mut app = loaded_app();
        start_lookup(&mut app);
        engine(
            &mut app,
            Update::LinkLooked {
                report: link_report(LinkStatus::Issued),
                recent: RecentNotifies::default(),
            },
        );
        update(&mut app, ch('y'));
        engine(
            &mut app,
            Update::NotifyFinished {
                entry: audit_entry(5, outcome, 0),
                error,
            },
        );
        let line = &app.activity.latest().unwrap().text;
        assert!(line.contains(expected), "{line}");
        assert!(matches!(app.notify.phase, NotifyPhase::Finished { .. }));
    }
}

#[test]
fn lookup_failures_are_shown_and_unlock_the_field() {
    let mut app = loaded_app();
    start_lookup(&mut app);
    engine(
        &mut app,
        Update::LinkFailed {
            link: link(),
            error: declined("ANF"),
        },
    );
    assert!(matches!(app.notify.phase, NotifyPhase::LookupFailed { .. }));
    assert!(app.toasts.iter().any(|t| t.text.contains("ANF")));
    assert_eq!(
        update(&mut app, key(KeyCode::Enter)),
        vec![Effect::Send(Command::LookupLink(link()))]
    );
}

#[test]
fn a_stale_lookup_answer_opens_no_dialog() {
    let mut app = loaded_app();
    engine(
        &mut app,
        Update::LinkLooked {
            report: link_report(LinkStatus::Issued),
            recent: RecentNotifies::default(),
        },
    );
    assert!(app.overlay.is_none());
}

// ---- ticks, resize, mouse ----

#[test]
fn ticks_redraw_only_when_the_second_changes() {
    let mut app = loaded_app();
    app.dirty = false;
    update(&mut app, Msg::Tick(now()));
    assert!(!app.dirty);
    update(&mut app, Msg::Tick(at(1)));
    assert!(app.dirty);
}

#[test]
fn toasts_expire() {
    let mut app = loaded_app();
    engine(&mut app, Update::Problem("x".into()));
    assert!(!app.toasts.is_empty());
    update(&mut app, Msg::Tick(at(10)));
    assert!(app.toasts.is_empty());
}

#[test]
fn mouse_clicks_focus_panes_and_select_rows_and_the_wheel_scrolls() {
    let mut app = sized(loaded_app(), 80, 24);
    let click = |column, row| {
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    update(&mut app, click(5, 3));
    assert_eq!(app.focus, Pane::Balance);
    update(&mut app, click(5, 12));
    assert_eq!(app.focus, Pane::Notify);
    // Sessions pane starts at x 36, y 1: border, heading, then rows from y 3.
    update(&mut app, click(50, 5));
    assert_eq!(app.focus, Pane::Sessions);
    assert_eq!(app.sessions.selected_index(), 2);
    update(
        &mut app,
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 50,
            row: 5,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(app.sessions.selected_index(), 5);
}

#[test]
fn resize_keeps_the_selection_on_screen() {
    let mut app = sized(loaded_app(), 160, 48);
    update(&mut app, key(KeyCode::End));
    update(&mut app, Msg::Resize(80, 24));
    let rows = app.sessions.page_rows();
    assert!(app.sessions.selected_index() < app.sessions.offset() + rows);
}

/// The new-session form opened with no `[defaults] redirect_url`.
fn form_without_default_redirect() -> super::App {
    let mut options = options();
    options.defaults.redirect_url = None;
    let mut app = app_with(options, super::Theme::colour());
    engine(&mut app, loaded());
    update(&mut app, ch('n'));
    app
}

#[test]
fn with_no_configured_redirect_the_form_asks_for_one() {
    let mut app = form_without_default_redirect();
    let Some(Overlay::NewSession(form)) = &app.overlay else {
        panic!("form not open");
    };
    assert_eq!(form.redirect_url.value(), "", "no made-up redirect URL");
    assert!(sent(&update(&mut app, key(KeyCode::Enter))).is_empty());
    let Some(Overlay::NewSession(form)) = &app.overlay else {
        panic!("an invalid form stays open");
    };
    assert!(
        form.redirect_error.is_some(),
        "the field says what is wrong"
    );
}

#[test]
fn cashfree_needs_no_redirect_url_but_instantpay_does() {
    let mut app = form_without_default_redirect();
    let Some(Overlay::NewSession(form)) = &app.overlay else {
        panic!("form not open");
    };
    assert_eq!(form.provider, Provider::InstantPay);
    // Switch to Cashfree: an empty redirect is fine and is left out.
    update(&mut app, key(KeyCode::Right));
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(
        sent(&effects),
        vec![&Command::CreateSession(SessionRequest {
            provider: Provider::Cashfree,
            flow: UserFlow::Signup,
            documents: vec![DocumentType::Aadhaar],
            redirect_url: None,
            label: None,
        })]
    );
    assert!(app.overlay.is_none());
}

#[test]
fn after_a_lookup_single_keys_are_commands_again() {
    let mut app = loaded_app();
    start_lookup(&mut app);
    engine(
        &mut app,
        Update::LinkLooked {
            report: link_report(LinkStatus::Issued),
            recent: RecentNotifies::default(),
        },
    );
    // Cancel the dialog: q now quits instead of typing into the link id.
    update(&mut app, key(KeyCode::Esc));
    assert!(app.overlay.is_none());
    let effects = update(&mut app, ch('q'));
    assert!(effects.contains(&Effect::Quit), "{effects:?}");
    assert_eq!(app.notify.input.value(), link().as_str());
}

#[test]
fn a_notify_that_never_left_says_not_sent() {
    let mut app = loaded_app();
    let effects = engine(
        &mut app,
        Update::NotifyFinished {
            entry: audit_entry(9, NotifyOutcome::Failed, 0),
            error: Some(crate::error::ProviderError::Transport {
                provider: Provider::InstantPay,
                message: "connection refused".into(),
                never_sent: true,
            }),
        },
    );
    assert!(effects.is_empty());
    assert!(
        app.toasts.iter().any(|t| t.text.contains("not sent")),
        "the operator is told nothing went out"
    );
}

#[test]
fn hints_in_the_detail_name_the_rebound_keys() {
    let mut options = options();
    let keys = [("copy_url".to_string(), vec!["c".to_string()])]
        .into_iter()
        .collect();
    options.keymap = super::KeyMap::with_overrides(&keys).unwrap();
    let mut app = app_with(options, super::Theme::colour());
    engine(&mut app, loaded());
    update(&mut app, key(KeyCode::Enter));
    let text = buffer_text(&render(&sized(app, 160, 48), 160, 48));
    assert!(text.contains("URL (c copies, o opens)"), "{text}");
}

/// Opens the detail of the session whose id matches `filter`.
fn open_detail_of(app: &mut super::App, filter: &str) {
    update(app, ch('/'));
    type_text(app, filter);
    update(app, key(KeyCode::Enter));
    update(app, key(KeyCode::Enter));
    assert_eq!(app.context(), Context::Detail);
}

#[test]
fn documents_are_fetched_masked_revealed_on_purpose_and_dropped_on_close() {
    use crate::documents::Document;
    let mut app = loaded_app();
    open_detail_of(&mut app, "dl-auth0001");
    let asked = update(&mut app, ch('d'));
    assert!(sent(&asked).contains(&&Command::FetchDocuments(payops_id("dl-auth0001"))));
    // A second d while fetching does not ask twice.
    assert!(
        !sent(&update(&mut app, ch('d')))
            .iter()
            .any(|c| matches!(c, Command::FetchDocuments(_)))
    );

    let value = serde_json::json!({
        "uid": "XXXXXXXX4321", "name": "Priya Nair", "dob": "07-03-1991",
        "split_address": {"house": "12/4", "dist": "Chennai", "state": "Tamil Nadu"},
    });
    let document = Document::from_json(
        crate::domain::DocumentType::Aadhaar,
        value.as_object().expect("object"),
    );
    update(
        &mut app,
        Msg::Engine(Update::Documents {
            id: payops_id("dl-auth0001"),
            documents: vec![document],
        }),
    );
    let screen = buffer_text(&render(&app, 160, 60));
    assert!(screen.contains("Chennai, Tamil Nadu"), "{screen}");
    assert!(screen.contains("**-**-1991"));
    assert!(!screen.contains("12/4"), "masked by default");

    let revealed = update(&mut app, ch('m'));
    assert!(
        sent(&revealed)
            .iter()
            .any(|c| matches!(c, Command::LogReveal { .. })),
        "the reveal is logged"
    );
    let screen = buffer_text(&render(&app, 160, 60));
    assert!(screen.contains("12/4"), "{screen}");

    // Closing the view lets the documents go.
    update(&mut app, key(KeyCode::Esc));
    update(&mut app, key(KeyCode::Enter));
    let screen = buffer_text(&render(&app, 160, 60));
    assert!(!screen.contains("Priya"), "{screen}");
}

#[test]
fn documents_wait_for_consent() {
    let mut app = loaded_app();
    open_detail_of(&mut app, "dl-pend0002");
    let effects = update(&mut app, ch('d'));
    assert!(
        sent(&effects)
            .iter()
            .all(|c| !matches!(c, Command::FetchDocuments(_)))
    );
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text.contains("after the customer consents"))
    );
}

// ---- honest under failure ----

fn rate_limited() -> ProviderError {
    ProviderError::RateLimited {
        provider: Provider::Cashfree,
        retry_after: Some(std::time::Duration::from_secs(6)),
        code: None,
    }
}

fn poll_failed(app: &mut super::App, id: &str) -> Vec<Effect> {
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
    engine(
        &mut app,
        Update::SessionChanged {
            record: good,
            previous: None,
            event: None,
        },
    );
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
    app.overlay = Some(Overlay::Detail(super::detail::DetailView::open(record)));
    let text = buffer_text(&render(&sized(app, 120, 40), 120, 40));
    assert!(
        text.contains("Last error    could not reach InstantPay to check"),
        "{text}"
    );
    assert!(text.contains("Next poll     in 00:06"), "{text}");
}

#[test]
fn an_unreachable_provider_shows_in_the_header_until_it_answers() {
    let mut app = loaded_app();
    let health = crate::engine::ProviderHealth {
        failing_since: Some(at(-30)),
        last_failure: Some("Cashfree is unavailable (HTTP 503): down".into()),
        slow_factor: 4,
        slowed_until: Some(at(60)),
    };
    engine(
        &mut app,
        Update::Health {
            provider: Provider::Cashfree,
            health,
        },
    );
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
    engine(
        &mut app,
        Update::Health {
            provider: Provider::Cashfree,
            health: crate::engine::ProviderHealth::default(),
        },
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

// ---- toasts ----

#[test]
fn repeated_failures_of_one_kind_collapse_into_one_toast_with_a_count() {
    let mut app = loaded_app();
    for seconds in [6, 5, 4] {
        update(
            &mut app,
            Msg::Local(
                Level::Warning,
                format!("Cashfree is rate limiting requests; retry after {seconds} s"),
            ),
        );
    }
    update(&mut app, Msg::Local(Level::Error, "something else".into()));
    let toasts: Vec<String> = app.toasts.iter().map(|t| t.line()).collect();
    assert_eq!(
        toasts,
        [
            "Cashfree is rate limiting requests; retry after 4 s (×3)",
            "something else"
        ]
    );
}

#[test]
fn toasts_never_cover_a_dialog_the_help_or_the_qr_code() {
    let mut app = sized(loaded_app(), 160, 48);
    update(&mut app, Msg::Local(Level::Warning, "a toast".into()));
    let main = buffer_text(&render(&app, 160, 48));
    assert!(main.contains("! a toast"), "{main}");
    // The detail view (QR beside the details): the toast takes the status line.
    update(&mut app, key(KeyCode::Enter));
    let buffer = render(&app, 160, 48);
    let (_, y) = find(&buffer, "! a toast").expect("toast on screen");
    assert_eq!(y, 47, "on the status line, not over the QR code");
    // The QR code alone and the help: no toast at all.
    update(&mut app, ch('v'));
    assert!(find(&render(&app, 160, 48), "a toast").is_none());
    update(&mut app, key(KeyCode::Esc));
    update(&mut app, key(KeyCode::Esc));
    update(&mut app, ch('?'));
    // (At 120 columns the help covers the activity log, where the line stays.)
    assert!(find(&render(&sized(app, 120, 40), 120, 40), "a toast").is_none());
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
    engine(
        &mut app,
        Update::SessionChanged {
            record: other,
            previous: None,
            event: None,
        },
    );
    assert!(app.overlay.is_none());
    let created = session(
        "dl-new00001",
        Provider::InstantPay,
        SessionStatus::Pending,
        0,
    );
    engine(
        &mut app,
        Update::SessionChanged {
            record: created,
            previous: None,
            event: None,
        },
    );
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
    update(&mut app, ch('/'));
    type_text(&mut app, "auth0001");
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, key(KeyCode::Enter));
    assert!(update(&mut app, ch('i')).contains(&Effect::Copy("dl-auth0001".into())));
    assert!(update(&mut app, ch('p')).contains(&Effect::Copy("5012345678".into())));
    assert_eq!(
        app.toasts.iter().last().unwrap().text,
        "provider reference copied to the clipboard"
    );
}
