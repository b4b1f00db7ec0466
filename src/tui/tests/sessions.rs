//! The sessions table, labels and status changes.

use super::*;

// ---- labels ----

#[test]
fn a_label_is_set_in_the_detail_view_and_found_by_the_filter() {
    let mut app = loaded_app();
    edit_label_of(&mut app, "dl-deny0003");
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
    changed(&mut app, record, None);
    update(&mut app, key(KeyCode::Esc));
    update(&mut app, ch('/'));
    type_text(&mut app, "tkt-5150");
    assert_eq!(app.sessions.len(), 1);
    assert_eq!(selected_id(&app), "dl-deny0003");
}

#[test]
fn esc_leaves_the_label_as_it_was_and_empty_removes_it() {
    let mut app = loaded_app();
    edit_label_of(&mut app, "dl-auth0001");
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
    // The row of `id` on screen as the app draws it now.
    let row = |app: &crate::tui::App, id: &str| {
        let screen = buffer_text(&render(app, 160, 48));
        screen
            .lines()
            .find(|line| line.contains(id))
            .unwrap()
            .to_string()
    };
    // dl-pend0002 was created 150 s ago: 450 s of its 600 s window left.
    let pending = row(&app, "dl-pend0002");
    assert!(pending.contains("07:30"), "{pending}");
    update(&mut app, Msg::Tick(at(61)));
    let pending = row(&app, "dl-pend0002");
    assert!(pending.contains("06:29"), "{pending}");
    let final_row = row(&app, "dl-auth0001");
    assert!(final_row.contains('—'), "{final_row}");
    // Past the window, a pending row shows 00:00 rather than a negative time.
    update(&mut app, Msg::Tick(at(3600)));
    let pending = row(&app, "dl-pend0002");
    assert!(pending.contains("00:00"), "{pending}");
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

// ---- status changes ----

#[test]
fn authenticated_change_toasts_and_rings() {
    let mut app = loaded_app();
    let mut record = sessions()[1].clone();
    record.status = SessionStatus::Authenticated;
    record.provider_status = "AUTHORIZED".into();
    let effects = changed(&mut app, record, Some(SessionStatus::Pending));
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
    let effects = changed(&mut app, record, Some(SessionStatus::Pending));
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
    let effects = changed(&mut app, record.clone(), Some(SessionStatus::Pending));
    assert!(effects.is_empty());
    assert_eq!(app.toasts.len(), toasts_before + 1);
    // Polled again, no change: no toast.
    record.last_polled_at = Some(at(0));
    changed(&mut app, record, None);
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
    changed(&mut app, record, None);
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

#[test]
fn tracking_a_tracked_session_says_so_and_selects_it() {
    let mut app = loaded_app();
    let id = SessionId::new_unchecked("dl-deny0003");
    engine(
        &mut app,
        Update::Tracked {
            id: id.clone(),
            reference: "REF-3".into(),
            already: true,
        },
    );
    assert_eq!(app.sessions.selected_record().map(|r| &r.id), Some(&id));
    let toast = last_toast(&app);
    assert!(toast.contains("REF-3 is already tracked"), "{toast}");
}
