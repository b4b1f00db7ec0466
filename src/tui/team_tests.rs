//! The dashboard in team mode: the header, the stale banner, what a role
//! greys out and refuses, commands refused while disconnected, the
//! reconnect, and "mine / everyone".

use std::time::Duration;

use crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};

use crate::auth::Role;
use crate::domain::{LinkStatus, RecentNotifies};
use crate::engine::{Command, Connection, Update};

use super::App;
use super::fixtures::*;
use super::notify::NotifyPhase;
use super::team::{Link, TeamState};
use super::theme::Theme;
use super::update::{Msg, update};

fn team_app(role: Role) -> App {
    let mut options = options();
    options.demo = false;
    options.team = Some(TeamState::new(
        "ops.example:8788".into(),
        "asha".into(),
        role,
    ));
    let mut app = app_with(options, Theme::colour());
    update(&mut app, Msg::Engine(loaded()));
    connection(&mut app, Connection::Up { changed: None });
    app
}

/// The engine reports the connection to the server as `connection`.
fn connection(app: &mut App, connection: Connection) {
    update(app, Msg::Engine(Update::Connection(connection)));
}

fn down(app: &mut App) {
    lost(app, "connection refused", 4, false);
}

/// The engine lost the server for `reason` (a refusal of the token when
/// `refused`), retrying in `retry_secs`.
fn lost(app: &mut App, reason: &str, retry_secs: u64, refused: bool) {
    connection(
        app,
        Connection::Down {
            reason: reason.into(),
            retry_in: Duration::from_secs(retry_secs),
            refused,
        },
    );
}

/// A new pending session created by `who` arrives from the server.
fn arrives(app: &mut App, id: &str, who: &str) {
    let mut record = session(
        id,
        crate::domain::Provider::Cashfree,
        crate::domain::SessionStatus::Pending,
        -1,
    );
    record.created_by = Some(who.into());
    update(
        app,
        Msg::Engine(Update::SessionChanged {
            record,
            previous: None,
            event: None,
        }),
    );
}

/// Some toast on screen satisfies `wanted` (all of them are shown if not).
fn assert_toast(app: &App, wanted: impl Fn(&str) -> bool) {
    let texts = toast_texts(app);
    assert!(texts.iter().any(|t| wanted(t)), "{texts:?}");
}

fn toast_texts(app: &App) -> Vec<String> {
    app.toasts.iter().map(|toast| toast.text.clone()).collect()
}

#[test]
fn the_header_names_the_server_and_the_operator() {
    let app = sized(team_app(Role::Finance), 160, 48);
    let text = buffer_text(&render(&app, 160, 48));
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("ops.example:8788 as asha (finance)"),
        "{header}"
    );
    insta::assert_snapshot!("team_main_160x48", text);
}

#[test]
fn a_lost_connection_marks_the_data_stale_and_keeps_it() {
    let mut app = team_app(Role::Finance);
    let before = app.sessions.total();
    down(&mut app);
    assert_toast(&app, |t| {
        t.contains("lost the payops server at ops.example:8788")
    });
    update(&mut app, Msg::Tick(at(12)));
    let app = sized(app, 160, 48);
    let buffer = render(&app, 160, 48);
    let text = buffer_text(&buffer);
    assert!(text.contains("⚠ STALE since 12s"), "{text}");
    assert!(text.contains("ops.example:8788 unreachable"), "{text}");
    let (x, y) = find(&buffer, "⚠ STALE").unwrap();
    assert_eq!(buffer[(x, y)].fg, Color::Red);
    assert!(buffer[(x, y)].modifier.contains(Modifier::REVERSED));
    // The last data stays on screen.
    assert_eq!(app.sessions.total(), before);
    insta::assert_snapshot!("team_stale_160x48", text);
}

#[test]
fn commands_typed_while_disconnected_are_refused_not_queued() {
    let mut app = team_app(Role::Admin);
    down(&mut app);
    // `r` on the balance pane would refresh it.
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Tab));
    let effects = update(&mut app, ch('r'));
    assert!(sent(&effects).is_empty(), "{effects:?}");
    assert!(!app.balance.refreshing);
    assert_toast(&app, |t| {
        t.contains("balance refresh not sent: not connected to ops.example:8788")
    });
}

#[test]
fn a_notify_refused_while_disconnected_unlocks_the_pane() {
    let mut app = team_app(Role::Finance);
    app.notify.phase = NotifyPhase::LookingUp(link());
    update(
        &mut app,
        Msg::Engine(Update::LinkLooked {
            report: link_report(LinkStatus::Issued),
            recent: RecentNotifies::default(),
        }),
    );
    assert!(matches!(
        app.overlay,
        Some(super::app::Overlay::ConfirmNotify(_))
    ));
    down(&mut app);
    // The confirm dialog is open: confirm sends.
    let effects = update(&mut app, ch('y'));
    assert!(
        !sent(&effects)
            .iter()
            .any(|c| matches!(c, Command::SendNotify(_))),
        "{effects:?}"
    );
    assert!(!app.notify.phase.is_busy(), "{:?}", app.notify.phase);
    assert_toast(&app, |t| t.contains("notify not sent"));
}

#[test]
fn a_role_greys_out_what_it_cannot_do_and_refuses_it() {
    let mut app = sized(team_app(Role::Support), 160, 48);
    // `l` (payout notify) needs finance.
    let effects = update(&mut app, ch('l'));
    assert!(sent(&effects).is_empty());
    assert!(!app.notify.editing);
    assert_toast(&app, |t| {
        t == "notify: needs the finance role (you are support)"
    });
    // On the notify pane, its keys are listed greyed out.
    update(&mut app, key(KeyCode::Tab));
    let buffer = render(&app, 160, 48);
    let last = buffer.area.height - 1;
    let bar: String = (0..buffer.area.width)
        .map(|x| buffer[(x, last)].symbol().to_string())
        .collect();
    let cell_of = |text: &str| {
        let x = bar
            .find(text)
            .unwrap_or_else(|| panic!("{text} not on {bar}")) as u16;
        buffer[(x, last)].clone()
    };
    let theme = Theme::colour();
    let greyed = cell_of("Enter look up");
    assert_eq!(greyed.fg, theme.dim.fg.unwrap_or(Color::Reset), "{bar}");
    assert!(greyed.modifier.contains(theme.dim.add_modifier), "{bar}");
    // What the role may do keeps the key colour.
    assert_eq!(
        cell_of("Tab pane").fg,
        theme.key.fg.unwrap_or(Color::Reset),
        "{bar}"
    );

    // A support agent may create.
    let mut support = team_app(Role::Support);
    update(&mut support, ch('n'));
    assert!(matches!(
        support.overlay,
        Some(super::app::Overlay::NewSession(_))
    ));
    // A viewer may not.
    let mut viewer = team_app(Role::Viewer);
    update(&mut viewer, ch('n'));
    assert!(viewer.overlay.is_none());
}

#[test]
fn a_server_refusal_is_a_toast_and_ends_the_wait() {
    let mut app = team_app(Role::Finance);
    app.notify.phase = NotifyPhase::InFlight {
        link: link(),
        amount: None,
    };
    update(
        &mut app,
        Msg::Engine(Update::Refused {
            command: Command::SendNotify(link()),
            message: "link was notified 1 minute ago by ravi".into(),
        }),
    );
    assert!(matches!(app.notify.phase, NotifyPhase::Idle));
    assert_toast(&app, |t| {
        t == "notify refused: link was notified 1 minute ago by ravi"
    });
}

#[test]
fn reconnecting_says_what_changed_while_away() {
    let mut app = team_app(Role::Viewer);
    down(&mut app);
    connection(&mut app, Connection::Up { changed: Some(3) });
    assert_eq!(app.team.as_ref().map(|t| &t.link), Some(&Link::Up));
    assert_toast(&app, |t| {
        t == "reconnected to ops.example:8788: 3 sessions changed while away"
    });
}

#[test]
fn mine_shows_only_the_operators_sessions() {
    let mut app = team_app(Role::Support);
    arrives(&mut app, "dl-ravi0001", "ravi");
    let everyone = app.sessions.len();
    update(&mut app, ch('m'));
    assert_eq!(app.sessions.len(), everyone - 1);
    let app2 = sized(app.clone(), 160, 48);
    let text = buffer_text(&render(&app2, 160, 48));
    assert!(text.contains("asha's only"), "{text}");
    assert!(!text.contains("Cashfree   dl-ravi0001"), "{text}");
    update(&mut app, ch('m'));
    assert_eq!(app.sessions.len(), everyone);
    // Searching by who created it works too.
    update(&mut app, ch('/'));
    for c in "ravi".chars() {
        update(&mut app, ch(c));
    }
    assert_eq!(app.sessions.len(), 1);
}

#[test]
fn a_resync_keeps_the_selection_on_its_session() {
    let mut app = team_app(Role::Support);
    update(&mut app, key(KeyCode::Down));
    update(&mut app, key(KeyCode::Down));
    let chosen = app.sessions.selected_record().map(|r| r.id.clone());
    // The snapshot after a reconnect: one session fewer, ahead of it.
    let mut snapshot = loaded();
    let Update::Loaded { sessions, .. } = &mut snapshot else {
        unreachable!()
    };
    sessions.retain(|record| Some(&record.id) != app.sessions.window(0, 1).next().map(|r| &r.id));
    update(&mut app, Msg::Engine(snapshot));
    assert_eq!(app.sessions.selected_record().map(|r| r.id.clone()), chosen);
}

#[test]
fn a_colleagues_new_session_is_not_opened_as_mine() {
    let mut app = team_app(Role::Support);
    app.awaiting_creates = 1;
    arrives(&mut app, "dl-ravi0002", "ravi");
    assert!(app.overlay.is_none(), "{:?}", app.overlay);
    arrives(&mut app, "dl-asha0002", "asha");
    assert!(matches!(
        &app.overlay,
        Some(super::app::Overlay::Detail(view)) if view.id.as_str() == "dl-asha0002"
    ));
}

#[test]
fn a_refused_token_is_not_called_an_unreachable_server() {
    let mut app = team_app(Role::Viewer);
    lost(&mut app, "the token is wrong or revoked", 10, true);
    let text = buffer_text(&render(&sized(app.clone(), 160, 48), 160, 48));
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("ops.example:8788 refuses asha's token"),
        "{header}"
    );
    assert!(!header.contains("unreachable"), "{header}");
    assert_toast(&app, |t| {
        t.contains("refused asha's token (the token is wrong or revoked)")
    });
}

#[test]
fn refresh_is_greyed_where_the_role_cannot_refresh() {
    // A viewer's `r` on the sessions pane would poll: refused on the spot.
    let mut app = team_app(Role::Viewer);
    update(&mut app, ch('r'));
    assert_toast(&app, |t| {
        t == "refresh: needs the support role (you are viewer)"
    });
    // Support may poll sessions, not refresh the balance.
    let mut support = team_app(Role::Support);
    let effects = update(&mut support, ch('r'));
    assert!(toast_texts(&support).iter().all(|t| !t.contains("needs")));
    let _ = effects;
    update(&mut support, key(KeyCode::Tab));
    update(&mut support, key(KeyCode::Tab));
    update(&mut support, ch('r'));
    assert_toast(&support, |t| {
        t == "refresh: needs the finance role (you are support)"
    });
}

/// The server's snapshot is its current state, not a previous run's: a
/// fresh reading in it is not stale (it was, before); from this machine's
/// own store the same reading is.
#[test]
fn a_fresh_balance_from_the_servers_snapshot_is_not_stale() {
    let fresh = || {
        let mut snapshot = loaded();
        let Update::Loaded {
            balance_history, ..
        } = &mut snapshot
        else {
            unreachable!("the fixture is a Loaded")
        };
        if let Some(last) = balance_history.last_mut() {
            last.at = at(-60);
        }
        Msg::Engine(snapshot)
    };
    let mut team = team_app(Role::Viewer);
    update(&mut team, fresh());
    assert!(!team.balance.is_stale(team.now));
    let mut solo = app();
    update(&mut solo, fresh());
    assert!(solo.balance.is_stale(solo.now), "a previous run's reading");
}

/// Connected, but the server cannot reach its store: the header says so
/// (not "connected", not "unreachable"), sends are held, and it clears.
#[test]
fn a_server_whose_store_is_down_is_shown_stale_and_holds_sends() {
    let mut app = team_app(Role::Finance);
    connection(
        &mut app,
        Connection::StoreDown {
            reason: "database error: connection refused".into(),
        },
    );
    let screen = buffer_text(&render(&app, 160, 48));
    assert!(screen.contains("store is down"), "{screen}");
    assert!(!screen.contains("connected"), "{screen}");
    let refused = app
        .team
        .as_ref()
        .and_then(|team| team.refusal(&Command::RefreshBalance))
        .unwrap_or_default();
    assert!(refused.contains("cannot reach its store"), "{refused}");
    connection(&mut app, Connection::Up { changed: None });
    assert_eq!(app.team.as_ref().map(|t| &t.link), Some(&Link::Up));
}

fn header_text(team: &TeamState, now: jiff::Timestamp) -> String {
    let theme = Theme::colour();
    super::team::header_spans(team, now, &theme)
        .iter()
        .map(|span| span.content.to_string())
        .collect()
}

#[test]
fn the_header_warns_within_a_week_of_the_tokens_expiry() {
    let now: jiff::Timestamp = "2026-12-04T10:00:00Z".parse().unwrap();
    let up = |expires: Option<&str>| TeamState {
        link: Link::Up,
        ..TeamState::new("payops.internal:8788".into(), "asha".into(), Role::Support)
            .with_token_expiry(expires.map(|at| at.parse().unwrap()))
    };
    for (expires, shown) in [
        (None, None),
        (Some("2027-03-04T10:00:00Z"), None),
        (Some("2026-12-07T11:00:00Z"), Some("token expires in 3 d")),
        (Some("2026-12-04T15:30:00Z"), Some("token expires in 5 h")),
        (Some("2026-12-04T10:20:00Z"), Some("token expires in 1 h")),
    ] {
        let text = header_text(&up(expires), now);
        match shown {
            Some(note) => assert!(text.contains(note), "{expires:?}: {text}"),
            None => assert!(!text.contains("expires"), "{expires:?}: {text}"),
        }
    }
}
