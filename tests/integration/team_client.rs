//! The dashboard's team-mode engine against `payops serve` as a real
//! process: a headless dashboard (the real `App` and `update`, no terminal)
//! follows the server's event stream, sees other operators' changes, marks
//! its data stale when the server goes, refuses commands meanwhile, and
//! after the server restarts shows every change it missed, once.

use std::time::{Duration, Instant};

use payops::client::ServerClient;
use payops::domain::{SessionId, SessionStatus};
use payops::engine::{Command, Update};
use payops::store::Store;
use payops::tui::TuiOptions;
use payops::tui::app::App;
use payops::tui::team::{Link, TeamState};
use payops::tui::theme::Theme;
use payops::tui::update::{Msg, update};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use crate::harness::cli::Harness;
use crate::harness::server::{
    Server, add_token, add_tokens, call, start_server_with, start_server_with_addr,
};

/// A dashboard without a terminal: every update goes through the real
/// `update`, as the terminal loop would send it.
struct Headless {
    app: App,
    updates: UnboundedReceiver<Update>,
    /// The refusals seen, for the test to look at.
    refused: Vec<String>,
}

impl Headless {
    fn new(updates: UnboundedReceiver<Update>, operator: &str) -> Headless {
        let options = TuiOptions {
            team: Some(TeamState::new(
                "server".into(),
                operator.into(),
                payops::auth::Role::Admin,
            )),
            ..TuiOptions::default()
        };
        Headless {
            app: App::new(
                options,
                Theme::colour(),
                jiff::Timestamp::now(),
                jiff::tz::TimeZone::UTC,
            ),
            updates,
            refused: Vec::new(),
        }
    }

    /// Applies updates until `done` holds, or fails after `within`.
    async fn until(&mut self, what: &str, within: Duration, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + within;
        while !done(&self.app) {
            self.apply_next(what, deadline).await;
        }
    }

    /// Applies updates until one is a refusal, and returns its message.
    async fn next_refusal(&mut self, within: Duration) -> String {
        let seen = self.refused.len();
        let deadline = Instant::now() + within;
        while self.refused.len() == seen {
            self.apply_next("a refusal", deadline).await;
        }
        self.refused[seen].clone()
    }

    /// Waits for the next update (failing at `deadline`) and applies it.
    async fn apply_next(&mut self, what: &str, deadline: Instant) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, self.updates.recv()).await {
            Ok(Some(update)) => {
                if let Update::Refused { message, .. } = &update {
                    self.refused.push(message.clone());
                }
                update_app(&mut self.app, update);
            }
            Ok(None) => panic!("the engine stopped while waiting for {what}"),
            Err(_) => panic!("no {what} in time"),
        }
    }
}

/// A headless dashboard for `operator` on an engine that follows `client`,
/// once the first snapshot is in; with the engine's commands and task.
async fn dashboard_on(
    client: ServerClient,
    operator: &str,
) -> (UnboundedSender<Command>, Headless, JoinHandle<()>) {
    let (commands, updates, task) = payops::client::engine::spawn(client);
    let mut dashboard = Headless::new(updates, operator);
    dashboard
        .until("the first snapshot", Duration::from_secs(10), |app| {
            link(app) == Some(&Link::Up)
        })
        .await;
    (commands, dashboard, task)
}

/// A client of the one server at `base`, with `token`.
fn client_of(base: &str, token: &str) -> ServerClient {
    ServerClient::new(
        url::Url::parse(base).unwrap(),
        SecretString::from(token.to_string()),
    )
    .unwrap()
}

/// Skips updates until one `wanted` holds for; fails as `what` after `within`.
async fn wait_for(
    updates: &mut UnboundedReceiver<Update>,
    within: Duration,
    what: &str,
    wanted: impl Fn(&Update) -> bool,
) {
    let deadline = Instant::now() + within;
    loop {
        let update = tokio::time::timeout_at(deadline.into(), updates.recv())
            .await
            .expect(what)
            .unwrap();
        if wanted(&update) {
            return;
        }
    }
}

fn update_app(app: &mut App, message: Update) {
    update(app, Msg::Engine(message));
}

fn link(app: &App) -> Option<&Link> {
    app.team.as_ref().map(|team| &team.link)
}

fn session<'a>(app: &'a App, id: &str) -> Option<&'a payops::domain::SessionRecord> {
    app.sessions.get(&SessionId::new_unchecked(id))
}

async fn create(base: &str, token: &str, label: &str) -> Value {
    let (status, value) = call(
        &reqwest::Client::new(),
        reqwest::Method::POST,
        format!("{base}/api/v1/sessions"),
        Some(token),
        Some(&json!({"provider": "cashfree", "label": label}).to_string()),
    )
    .await;
    assert_eq!(status, 201, "{value}");
    value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reconnecting_after_a_server_restart_sees_every_change_it_missed() {
    let mut harness = Harness::start(1.0).await;
    harness.set_env("PAYOPS_POLLING_SESSION_INTERVAL_SECS", "1");
    let server = start_server_with(&harness, &[]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let [asha, ravi] = add_tokens(&harness, [("asha", "admin"), ("ravi", "support")]).await;

    let (commands, mut dashboard, task) =
        dashboard_on(client_of(&server.base, &asha), "asha").await;

    // Another operator's sessions reach this dashboard through the stream.
    let created_at = Instant::now();
    let a = create(&server.base, &ravi, "TKT-1").await;
    let b = create(&server.base, &ravi, "TKT-2").await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    dashboard
        .until("ravi's sessions", Duration::from_secs(5), |app| {
            session(app, a_id).is_some() && session(app, b_id).is_some()
        })
        .await;
    println!(
        "another operator's create reached the client {} ms after the request started",
        created_at.elapsed().as_millis()
    );
    assert_eq!(
        session(&dashboard.app, a_id).unwrap().created_by.as_deref(),
        Some("ravi")
    );
    // The server's poll sees the customer's consent, and so does the client.
    assert!(harness.sim.force_session_status(
        a["reference"].as_str().unwrap(),
        SessionStatus::Authenticated
    ));
    dashboard
        .until("the status change", Duration::from_secs(15), |app| {
            session(app, a_id).is_some_and(|r| r.status == SessionStatus::Authenticated)
        })
        .await;

    // The server goes away: the data stays, marked stale; commands are refused.
    drop(server);
    dashboard
        .until("the lost connection", Duration::from_secs(10), |app| {
            matches!(link(app), Some(Link::Down { .. }))
        })
        .await;
    assert!(session(&dashboard.app, b_id).is_some());
    commands
        .send(Command::StopTracking(SessionId::new_unchecked(a_id)))
        .unwrap();
    let refusal = dashboard.next_refusal(Duration::from_secs(5)).await;
    assert!(refusal.contains("not sent: not connected to"), "{refusal}");
    assert!(session(&dashboard.app, a_id).is_some(), "nothing was done");

    // While it is down, the store changes behind everyone's back.
    {
        let store = Store::open(&harness.data_dir().join("payops.db")).unwrap();
        store
            .set_label(
                &SessionId::new_unchecked(a_id),
                Some("TKT-1 escalated"),
                None,
            )
            .unwrap();
        store
            .set_tracking(&SessionId::new_unchecked(b_id), false, None)
            .unwrap();
    }

    // Back on the same address: the client reconnects on its own and the
    // snapshot shows both changes.
    let server = start_server_with_addr(&harness, &addr, &[]);
    dashboard
        .until("the reconnect", Duration::from_secs(20), |app| {
            link(app) == Some(&Link::Up)
        })
        .await;
    let app = &dashboard.app;
    assert_eq!(
        session(app, a_id).unwrap().label.as_deref(),
        Some("TKT-1 escalated")
    );
    assert!(session(app, b_id).is_none(), "untracked while away");
    assert_eq!(app.sessions.total(), 1, "nothing shown twice");
    // Each status change of A once in its history.
    let history = &app.sessions.histories[&SessionId::new_unchecked(a_id)];
    let mut statuses: Vec<_> = history.iter().map(|e| (e.at, e.status.clone())).collect();
    statuses.dedup();
    assert_eq!(statuses.len(), history.len(), "{history:?}");
    let toasts: Vec<_> = app.toasts.iter().map(|t| t.text.clone()).collect();
    assert!(
        toasts
            .iter()
            .any(|t| t.contains("2 sessions changed while away")),
        "{toasts:?}"
    );

    // And the stream flows again.
    let (status, _) = call(
        &reqwest::Client::new(),
        reqwest::Method::PUT,
        format!("{}/api/v1/sessions/{a_id}/label", server.base),
        Some(&ravi),
        Some(r#"{"label": "TKT-1 closed"}"#),
    )
    .await;
    assert_eq!(status, 200);
    dashboard
        .until("the label change", Duration::from_secs(5), |app| {
            session(app, a_id).and_then(|r| r.label.as_deref()) == Some("TKT-1 closed")
        })
        .await;

    commands.send(Command::Shutdown).unwrap();
    task.await.unwrap();
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_told_before_anything_starts() {
    let harness = Harness::start(1.0).await;
    let server: Server = start_server_with(&harness, &[]);
    let client = client_of(&server.base, "payops_not-a-token");
    let error = client.whoami().await.unwrap_err();
    assert!(error.to_string().contains("wrong or revoked"), "{error}");
}

/// The real dashboard binary in a pseudo-terminal, pointed at a server: no
/// provider credential on the client, the operator in the header, another
/// operator's session live on screen, a role's limit told, the server's
/// loss shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_binary_works_through_a_server() {
    let harness = Harness::start(1.0).await;
    let server = start_server_with(&harness, &[]);
    let [asha, ravi] = add_tokens(&harness, [("asha", "support"), ("ravi", "support")]).await;

    let home = tempfile::tempdir().unwrap();
    let mut env = crate::harness::pty::fresh_home(home.path());
    env.push(("PAYOPS_SERVER_URL", server.base.clone().into()));
    env.push(("PAYOPS_SERVER_TOKEN", asha.clone().into()));
    let mut app = crate::harness::pty::PtyApp::spawn(&[], &env, 40, 160);
    app.wait_for("as asha (support)", Duration::from_secs(30));

    let created = create(&server.base, &ravi, "TKT-77").await;
    let id = created["id"].as_str().unwrap();
    let screen = app.wait_for(id, Duration::from_secs(10));
    assert!(screen.contains("TKT-77"), "{screen}");
    assert!(screen.contains("ravi"), "{screen}");

    // Notify is finance's: refused on the spot, nothing sent.
    app.keys(b"l");
    app.wait_for("needs the finance role", Duration::from_secs(5));

    // The server goes: the last data stays, marked stale.
    drop(server);
    let screen = app.wait_for("STALE", Duration::from_secs(10));
    assert!(screen.contains(id), "{screen}");
    assert_eq!(
        harness.sim.notify_count(crate::harness::cli::SAMPLE_LINK),
        0
    );

    app.keys(b"q");
    let status = app.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    // Nothing was stored on the client: the server holds the data.
    assert!(!home.path().join("data").join("payops.db").exists());
}

/// Two finance operators' dashboards look the same link up; one sends. The
/// other's send, confirmed against a lookup that showed nothing, is refused
/// by the server's guard (its dashboard heard of the first send), and the
/// customer gets one message. Both dashboards show the audit row, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notify_through_the_server_reaches_every_dashboard_and_is_not_repeated() {
    use payops::domain::{LinkId, NotifyOutcome};
    let harness = Harness::start(1.0).await;
    let server = start_server_with(&harness, &[]);
    let mut dashboards = Vec::new();
    for name in ["fiona", "farid"] {
        let token = add_token(&harness, name, "finance").await;
        let (commands, dashboard, _task) =
            dashboard_on(client_of(&server.base, &token), name).await;
        dashboards.push((commands, dashboard));
    }
    let sample = LinkId::new_unchecked(crate::harness::cli::SAMPLE_LINK);
    // Each looks the link up as the pane would, and sees the confirm dialog.
    for (commands, dashboard) in &mut dashboards {
        dashboard.app.notify.phase = payops::tui::notify::NotifyPhase::LookingUp(sample.clone());
        commands.send(Command::LookupLink(sample.clone())).unwrap();
        dashboard
            .until("the confirm dialog", Duration::from_secs(10), |app| {
                matches!(
                    app.overlay,
                    Some(payops::tui::app::Overlay::ConfirmNotify(_))
                )
            })
            .await;
    }
    let sent_at = Instant::now();
    dashboards[0]
        .0
        .send(Command::SendNotify(sample.clone()))
        .unwrap();
    let sent_by_fiona = |app: &App| {
        app.notify
            .audit
            .iter()
            .any(|e| e.actor == "fiona" && e.outcome == NotifyOutcome::Sent)
    };
    dashboards[0]
        .1
        .until("fiona's notify", Duration::from_secs(10), sent_by_fiona)
        .await;
    dashboards[1]
        .1
        .until(
            "fiona's notify on farid's dashboard",
            Duration::from_secs(5),
            sent_by_fiona,
        )
        .await;
    println!(
        "a notify reached the other dashboard {} ms after it was asked for",
        sent_at.elapsed().as_millis()
    );
    // Farid confirmed against his own lookup, which showed no notify.
    dashboards[1]
        .0
        .send(Command::SendNotify(sample.clone()))
        .unwrap();
    let refusal = dashboards[1].1.next_refusal(Duration::from_secs(10)).await;
    assert!(refusal.contains("look the link up again"), "{refusal}");
    assert_eq!(
        harness.sim.notify_count(crate::harness::cli::SAMPLE_LINK),
        1
    );
    for (_, dashboard) in &dashboards {
        let rows = dashboard
            .app
            .notify
            .audit
            .iter()
            .filter(|e| e.link_id == sample)
            .count();
        assert_eq!(rows, 1, "{:?}", dashboard.app.notify.audit);
    }
}

/// A dashboard given two replicas' addresses follows the other when the
/// one it was on dies, and sees what is done through it; a CLI given a
/// dead address first goes on to the live one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_given_two_replicas_follows_the_other_when_one_dies() {
    let Some(url) = crate::harness::postgres::database("a_client_given_two_replicas") else {
        return;
    };
    let mut harness = Harness::start(1.0).await;
    harness.set_env("PAYOPS_STORE_URL", &url);
    let [asha, ravi] = add_tokens(&harness, [("asha", "admin"), ("ravi", "support")]).await;
    let mut first = start_server_with(&harness, &[]);
    let second = start_server_with(&harness, &[]);
    let client = ServerClient::trusting(
        vec![
            url::Url::parse(&first.base).unwrap(),
            url::Url::parse(&second.base).unwrap(),
        ],
        SecretString::from(asha.clone()),
        None,
    )
    .unwrap();
    let (commands, mut dashboard, task) = dashboard_on(client, "asha").await;

    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let created = create(&second.base, &ravi, "TKT-5").await;
    let id = created["id"].as_str().unwrap().to_string();
    dashboard
        .until(
            "the other replica's session",
            Duration::from_secs(30),
            |app| link(app) == Some(&Link::Up) && session(app, &id).is_some(),
        )
        .await;
    commands.send(Command::Shutdown).unwrap();
    task.await.unwrap();

    // The CLI: the dead address first, then the live one.
    let laptop = tempfile::tempdir().unwrap();
    let env = vec![
        ("HOME".to_string(), laptop.path().display().to_string()),
        (
            "PAYOPS_SERVER_URL".to_string(),
            format!("{},{}", first.base, second.base),
        ),
        ("PAYOPS_SERVER_TOKEN".to_string(), asha),
    ];
    let listed = tokio::task::spawn_blocking(move || {
        crate::harness::cli::run_binary(
            &["digilocker".into(), "list".into(), "--json".into()],
            &env,
        )
    })
    .await
    .unwrap();
    listed.assert_code(0);
    assert!(listed.stdout.contains(&id), "{}", listed.stdout);
}

/// A dashboard whose token is revoked hears it once and stops: it says
/// the server refuses the token, and does not knock again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_dashboard_says_so_once_and_stops_retrying() {
    let harness = Harness::start(1.0).await;
    let server = start_server_with(&harness, &[]);
    let asha = add_token(&harness, "asha", "support").await;
    let client = client_of(&server.base, &asha);
    let (commands, mut updates, task) = payops::client::engine::spawn(client);
    wait_for(
        &mut updates,
        Duration::from_secs(10),
        "connected in time",
        |u| matches!(u, Update::Connection(payops::engine::Connection::Up { .. })),
    )
    .await;
    harness
        .run(&["serve", "token", "revoke", "asha"])
        .await
        .assert_code(0);
    // The stream ends within about a second; the next try is refused.
    wait_for(
        &mut updates,
        Duration::from_secs(15),
        "the refusal in time",
        |u| {
            matches!(
                u,
                Update::Connection(payops::engine::Connection::Down { refused: true, .. })
            )
        },
    )
    .await;
    // And then nothing: no reconnecting forever.
    let after = tokio::time::timeout(Duration::from_secs(4), async {
        loop {
            if let Some(Update::Connection(connection)) = updates.recv().await {
                return connection;
            }
        }
    })
    .await;
    assert!(after.is_err(), "it tried again: {after:?}");
    commands.send(Command::Shutdown).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_a_session_already_tracked_says_so_through_a_server() {
    let harness = Harness::start(1.0).await;
    let token = add_token(&harness, "asha", "support").await;
    let server = start_server_with(&harness, &[]);
    let made = create(&server.base, &token, "TKT-1").await;
    let reference = made["reference"].as_str().unwrap().to_string();
    let (commands, mut dashboard, task) =
        dashboard_on(client_of(&server.base, &token), "asha").await;
    dashboard
        .until("the session", Duration::from_secs(10), |app| {
            session(app, made["id"].as_str().unwrap()).is_some()
        })
        .await;
    commands
        .send(Command::TrackSession {
            provider: payops::domain::Provider::Cashfree,
            reference: reference.clone(),
        })
        .unwrap();
    wait_for(
        &mut dashboard.updates,
        Duration::from_secs(10),
        "the track's answer",
        |update| {
            matches!(update, Update::Tracked { id, already: true, .. }
                if id.as_str() == made["id"].as_str().unwrap())
        },
    )
    .await;
    let _ = commands.send(Command::Shutdown);
    let _ = task.await;
}
