//! The payout-link notify pane and its confirmation.

use super::*;

// ---- notify ----

#[test]
fn notify_lookup_then_cancel_is_focused_and_enter_cancels() {
    let mut app = loaded_app();
    assert_eq!(
        start_lookup(&mut app),
        vec![Effect::Send(Command::LookupLink(link()))]
    );
    assert!(matches!(app.notify.phase, NotifyPhase::LookingUp(_)));
    issued_link_looked_up(&mut app, Vec::new());
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
    let mut app = at_notify_confirm(Vec::new());
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
    let mut app = at_notify_confirm(Vec::new());
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
        let mut app = at_notify_confirm(Vec::new());
        update(&mut app, key(KeyCode::Right));
        assert!(update(&mut app, cancel).is_empty());
        assert!(app.overlay.is_none());
    }
}

#[test]
fn a_recent_notify_asks_again_explicitly() {
    let mut app = at_notify_confirm(vec![audit_entry(2, NotifyOutcome::Sent, -300)]);
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
    issued_link_looked_up(&mut app, vec![audit_entry(2, NotifyOutcome::Sent, -300)]);
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
        let mut app = at_notify_confirm(Vec::new());
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
    issued_link_looked_up(&mut app, Vec::new());
    assert!(app.overlay.is_none());
}
