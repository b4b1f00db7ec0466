//! Focus, quit and help; ticks, resize and mouse; toasts: the dashboard
//! around the features.

use super::*;

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
fn form_without_default_redirect() -> crate::tui::App {
    let mut options = options();
    options.defaults.redirect_url = None;
    let mut app = app_with(options, crate::tui::Theme::colour());
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
        vec![&create_command(
            Provider::Cashfree,
            UserFlow::Signup,
            &[DocumentType::Aadhaar],
            None,
            None
        )]
    );
    assert!(app.overlay.is_none());
}

#[test]
fn after_a_lookup_single_keys_are_commands_again() {
    let mut app = at_notify_confirm(Vec::new());
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
    options.keymap = crate::tui::KeyMap::with_overrides(&keys).unwrap();
    let mut app = app_with(options, crate::tui::Theme::colour());
    engine(&mut app, loaded());
    update(&mut app, key(KeyCode::Enter));
    let text = buffer_text(&render(&sized(app, 160, 48), 160, 48));
    assert!(text.contains("URL (c copies, o opens)"), "{text}");
}

/// Opens the detail of the session whose id matches `filter`.
fn open_detail_of(app: &mut crate::tui::App, filter: &str) {
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

// ---- text cut to fit ----

#[test]
fn text_cut_to_fit_ends_in_an_ellipsis_and_the_log_shows_it_whole() {
    let mut app = sized(loaded_app(), 80, 24);
    let long = "could not reach InstantPay to check dl-pend0002 (no answer in time; retrying in 15 s); \
                the advice goes on past any pane's edge: outcome unknown, check before creating again";
    app.activity.push(at(0), Level::Warning, long);
    let screen = buffer_text(&render(&app, 80, 24));
    // The activity pane, the notify pane's recent sends: cut, with `…`.
    let activity = screen
        .lines()
        .find(|line| line.contains("could not reach InstantPay"))
        .expect("the line is in the pane");
    assert!(
        activity.trim_end_matches(['│', ' ']).ends_with('…'),
        "{activity}"
    );
    let recent = screen
        .lines()
        .find(|line| line.contains("657aa984… sent"))
        .expect("a recent send");
    assert!(
        recent.contains('…') && !recent.contains("sent Notificat│"),
        "{recent}"
    );
    // A heading is a whole word.
    assert!(screen.contains("Left  Poll"), "{screen}");

    // `a` reads every line in full, wrapped; Esc closes.
    update(&mut app, ch('a'));
    assert!(matches!(app.overlay, Some(Overlay::Activity(_))));
    let log = buffer_text(&render(&app, 80, 24));
    let joined: String = log
        .lines()
        .map(|line| line.trim_matches(['│', ' ']))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        joined.contains("check before creating again"),
        "the whole line:\n{log}"
    );
    update(&mut app, key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

#[test]
fn the_activity_log_opens_on_the_newest_and_scrolls_back_to_the_oldest() {
    let mut app = sized(loaded_app(), 80, 24);
    for n in 0..60 {
        app.activity
            .push(at(n), Level::Info, format!("event number {n:02}"));
    }
    update(&mut app, ch('a'));
    let newest = buffer_text(&render(&app, 80, 24));
    assert!(newest.contains("event number 59"), "{newest}");
    assert!(!newest.contains("event number 10"), "{newest}");
    for _ in 0..10 {
        update(&mut app, key(KeyCode::PageUp));
    }
    let oldest = buffer_text(&render(&app, 80, 24));
    assert!(oldest.contains("loaded 8 sessions"), "{oldest}");
    assert!(!oldest.contains("event number 59"), "{oldest}");
    // Up at the oldest stays there; one Down moves at once.
    let Some(Overlay::Activity(view)) = app.overlay else {
        panic!("the log closed");
    };
    update(&mut app, key(KeyCode::Up));
    update(&mut app, key(KeyCode::Down));
    let Some(Overlay::Activity(after)) = app.overlay else {
        panic!("the log closed");
    };
    assert_eq!(after.back, view.back - 1);
}
