//! Several `payops serve` replicas on one PostgreSQL, as real processes over
//! loopback against the simulator: one leads (polls), another takes over
//! when it is killed, and the notify guard holds across them. And the one
//! case without PostgreSQL: a second server on one SQLite file is refused.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::cli::{Harness, SAMPLE_LINK};
use crate::harness::server::{
    Server, add_token, add_tokens, call, consent_delivered, events, start_server_with,
};
use crate::harness::sim::every_request;

async fn health(client: &reqwest::Client, server: &Server) -> Value {
    client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until exactly one of `servers` says it leads; returns its index.
async fn leader_among(client: &reqwest::Client, servers: &[&Server], within: Duration) -> usize {
    let deadline = Instant::now() + within;
    loop {
        let mut leading = Vec::new();
        for (index, server) in servers.iter().enumerate() {
            if health(client, server).await["leader"] == true {
                leading.push(index);
            }
        }
        if leading.len() == 1 {
            return leading[0];
        }
        assert!(
            Instant::now() < deadline,
            "no single leader within {within:?}: {leading:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn every_session(client: &reqwest::Client, server: &Server, token: &str) -> Value {
    let url = format!("{}/api/v1/sessions?all=true", server.base);
    call(client, reqwest::Method::GET, url, Some(token), None)
        .await
        .1
}

/// A harness whose CLI and servers share a fresh PostgreSQL database.
async fn team(test: &str) -> Option<Harness> {
    Some(team_with_url(test).await?.0)
}

/// `team`, and the database's URL.
async fn team_with_url(test: &str) -> Option<(Harness, String)> {
    let url = crate::harness::postgres::database(test)?;
    let mut harness = Harness::start(1.0).await;
    harness.set_env("PAYOPS_STORE_URL", &url);
    harness.set_env("PAYOPS_POLLING_SESSION_INTERVAL_SECS", "1");
    Some((harness, url))
}

/// Two replicas on `harness`, once one of them leads (within `within`):
/// a client, the leader and the follower.
async fn two_replicas(harness: &Harness, within: Duration) -> (reqwest::Client, Server, Server) {
    let first = start_server_with(harness, &[]);
    let second = start_server_with(harness, &[]);
    let client = reqwest::Client::new();
    let leader = leader_among(&client, &[&first, &second], within).await;
    let (leader, follower) = if leader == 0 {
        (first, second)
    } else {
        (second, first)
    };
    (client, leader, follower)
}

/// Creates a session through `server` from the JSON `body`; the session.
async fn create_session(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    body: &str,
) -> Value {
    let url = format!("{}/api/v1/sessions", server.base);
    let (status, created) = call(client, reqwest::Method::POST, url, Some(token), Some(body)).await;
    assert_eq!(status, 201, "{body} through {}: {created}", server.base);
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leader_is_replaced_within_ten_seconds_and_no_session_is_lost() {
    let Some(harness) = team("a_killed_leader_is_replaced_within_ten_seconds").await else {
        return;
    };
    let [support, viewer] = add_tokens(&harness, [("asha", "support"), ("vera", "viewer")]).await;
    let (client, mut leader, follower) = two_replicas(&harness, Duration::from_secs(10)).await;
    assert_eq!(health(&client, &follower).await["leader"], false);

    // Sessions created through both replicas.
    let mut ids = Vec::new();
    for (n, server) in [&leader, &follower, &leader, &follower, &leader]
        .iter()
        .enumerate()
    {
        let body = format!(r#"{{"provider":"cashfree","label":"TKT-{n}"}}"#);
        let created = create_session(&client, server, &support, &body).await;
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    // The leader polls them all, those the follower created included.
    let polled_by_now = |sessions: Vec<Value>| {
        sessions
            .iter()
            .filter(|s| s["last_polled_at"].is_string())
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let body = every_session(&client, &follower, &viewer).await;
        let sessions = body.as_array().cloned().unwrap_or_default();
        if polled_by_now(sessions) == ids.len() {
            break;
        }
        assert!(Instant::now() < deadline, "not all polled: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // SIGKILL: no goodbye, its lock goes with its connection.
    let killed_at = jiff::Timestamp::now();
    leader.child.kill().unwrap();
    leader.child.wait().unwrap();
    let took_over = Instant::now();
    leader_among(&client, &[&follower], Duration::from_secs(10)).await;
    let takeover = took_over.elapsed();
    assert!(takeover < Duration::from_secs(10), "{takeover:?}");
    println!(
        "the follower led {} ms after the leader was killed",
        takeover.as_millis()
    );

    // Every session is still there and polled again, by the new leader.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let body = every_session(&client, &follower, &viewer).await;
        let sessions = body.as_array().cloned().unwrap_or_default();
        let ours: Vec<&Value> = sessions
            .iter()
            .filter(|s| ids.iter().any(|id| s["id"] == id.as_str()))
            .collect();
        assert_eq!(ours.len(), ids.len(), "a session was lost: {body}");
        let repolled = ours
            .iter()
            .filter(|s| {
                s["status"]
                    .as_str()
                    .is_some_and(|st| st != "PENDING" && st != "IN_PROGRESS")
                    || s["last_polled_at"]
                        .as_str()
                        .and_then(|at| at.parse::<jiff::Timestamp>().ok())
                        .is_some_and(|at| at > killed_at)
            })
            .count();
        if repolled == ids.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not polled after the takeover: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sends `signal` (STOP, CONT) to a server process, as an operator's
/// `kill -STOP` would.
fn signal(server: &Server, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([format!("-{signal}"), server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal}");
}

/// Every session's `polled_epoch` and `last_polled_at`, read from the store
/// behind the servers' backs.
async fn polled_epochs(url: &str) -> Vec<(Option<i64>, Option<jiff::Timestamp>)> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .query("SELECT polled_epoch, last_polled_at FROM sessions", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let at: Option<String> = row.get(1);
            (row.get(0), at.and_then(|at| at.parse().ok()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_leader_is_replaced_and_once_woken_writes_nothing_as_leader() {
    let Some((harness, url)) = team_with_url("a_frozen_leader_is_replaced").await else {
        return;
    };
    let support = add_token(&harness, "asha", "support").await;
    // Generous bounds: the test proves the takeover and the fencing; the
    // time is a figure to print (the lease lapses after 10 s unrenewed,
    // and a follower asks every 2 s), not a race against a loaded machine.
    let (client, frozen, other) = two_replicas(&harness, Duration::from_secs(30)).await;
    let (frozen, other) = (&frozen, &other);
    for n in 0..3 {
        let body = format!(r#"{{"provider":"cashfree","label":"TKT-{n}"}}"#);
        create_session(&client, other, &support, &body).await;
    }
    let old_epoch = health(&client, frozen).await["lease_epoch"]
        .as_i64()
        .unwrap();
    // The leader polls under its epoch.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !polled_epochs(&url)
        .await
        .iter()
        .any(|(epoch, _)| *epoch == Some(old_epoch))
    {
        assert!(Instant::now() < deadline, "the leader never polled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Frozen: its connections stay open, so only the lease's lapse tells.
    signal(frozen, "STOP");
    let stopped_at = jiff::Timestamp::now();
    let stopped = Instant::now();
    leader_among(&client, &[other], Duration::from_secs(30)).await;
    let takeover = stopped.elapsed();
    println!(
        "the follower led {} ms after the leader was frozen",
        takeover.as_millis()
    );
    let new_epoch = health(&client, other).await["lease_epoch"]
        .as_i64()
        .unwrap();
    assert!(new_epoch > old_epoch, "{new_epoch} after {old_epoch}");

    // Woken, the old leader finds its lease gone: it stops leading, and
    // nothing it had in hand is written as leader.
    signal(frozen, "CONT");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(health(&client, frozen).await["leader"], false);
    let epochs = polled_epochs(&url).await;
    for (epoch, at) in &epochs {
        if *epoch == Some(old_epoch) {
            assert!(
                at.is_some_and(|at| at <= stopped_at),
                "written under the lost lease after the freeze: {epochs:?}"
            );
        }
    }
    assert!(
        epochs.iter().any(|(epoch, _)| *epoch == Some(new_epoch)),
        "the new leader polls: {epochs:?}"
    );
}

/// Waits until `server`'s /healthz says `provider` is in `state`.
async fn provider_state(
    client: &reqwest::Client,
    server: &Server,
    provider: &str,
    state: &str,
    within: Duration,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let health = health(client, server).await;
        if health["providers"][provider]["state"] == state {
            return health;
        }
        assert!(
            Instant::now() < deadline,
            "not {state} within {within:?}: {health}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A provider outage shows on every replica's /healthz, the follower's too
/// (it polls nothing itself), as degraded; and so does the recovery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_outage_is_degraded_on_every_replica_until_it_ends() {
    let Some(harness) = team("a_provider_outage_is_degraded_on_every_replica").await else {
        return;
    };
    let support = add_token(&harness, "asha", "support").await;
    let (client, leader, follower) = two_replicas(&harness, Duration::from_secs(10)).await;
    create_session(&client, &follower, &support, r#"{"provider":"cashfree"}"#).await;
    for server in [&leader, &follower] {
        assert_eq!(health(&client, server).await["status"], "ok");
    }

    harness
        .sim
        .set_faults(every_request(|f| &mut f.server_error));
    for server in [&leader, &follower] {
        let down = provider_state(
            &client,
            server,
            "cashfree",
            "failing",
            Duration::from_secs(20),
        )
        .await;
        assert_eq!(down["status"], "degraded", "{down}");
        assert!(down["providers"]["cashfree"]["since"].is_string(), "{down}");
        assert_eq!(down["providers"]["instantpay"]["state"], "ok", "{down}");
    }

    harness.sim.set_faults(payops::sim::Faults::default());
    for server in [&leader, &follower] {
        let up = provider_state(&client, server, "cashfree", "ok", Duration::from_secs(30)).await;
        assert_eq!(up["status"], "ok", "{up}");
    }
}

/// Asks `server` to notify the sample link, as `token`.
async fn notify(client: &reqwest::Client, server: &Server, token: &str) -> (u16, Value) {
    let url = format!("{}/api/v1/links/{SAMPLE_LINK}/notify", server.base);
    call(client, reqwest::Method::POST, url, Some(token), None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_on_two_replicas_notifying_one_link_send_once() {
    let Some(harness) = team("two_operators_on_two_replicas_notifying_one_link").await else {
        return;
    };
    let [farid, gita, support] = add_tokens(
        &harness,
        [
            ("farid", "finance"),
            ("gita", "finance"),
            ("asha", "support"),
        ],
    )
    .await;
    let first = start_server_with(&harness, &[]);
    let second = start_server_with(&harness, &[]);
    let client = reqwest::Client::new();

    // A support token may not notify: refused, nothing sent.
    let (status, body) = notify(&client, &first, &support).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("finance"),
        "{body}"
    );
    assert_eq!(harness.sim.notify_count(SAMPLE_LINK), 0);

    let (a, b) = tokio::join!(
        notify(&client, &first, &farid),
        notify(&client, &second, &gita)
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.1, b.1);
    assert_eq!(harness.sim.notify_count(SAMPLE_LINK), 1);
    let refused = if a.0 == 409 { &a.1 } else { &b.1 };
    let sender = if a.0 == 200 { "farid" } else { "gita" };
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(sender),
        "the refusal names who sent it: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_one_sqlite_file_is_refused() {
    let harness = Harness::start(1.0).await;
    let _first = start_server_with(&harness, &[]);
    let second = harness.run(&["serve", "--addr", "127.0.0.1:0"]).await;
    second.assert_clean_failure(2, "another payops serve is already running");
}

/// Twenty finance operators fetching the balance at once through two
/// replicas: the provider sees the team's budget, not twenty requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_budget_holds_across_replicas() {
    let Some(mut harness) = team("the_provider_budget_holds_across_replicas").await else {
        return;
    };
    // 30 a minute: a burst of 3, then one every 2.2 s.
    harness.set_env("PAYOPS_POLLING_REQUESTS_PER_MINUTE", "30");
    let finance = add_token(&harness, "fiona", "finance").await;
    let (client, leader, follower) = two_replicas(&harness, Duration::from_secs(10)).await;
    // Let the leader's own first balance fetch happen and settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (before, _) = harness.sim.request_counts();
    let started = Instant::now();
    let mut calls = Vec::new();
    for n in 0..20 {
        let server = if n % 2 == 0 { &leader } else { &follower };
        let url = format!("{}/api/v1/balance", server.base);
        let client = client.clone();
        let token = finance.clone();
        calls.push(tokio::spawn(async move {
            let _ = client.get(url).bearer_auth(token).send().await;
        }));
    }
    let window = Duration::from_secs(6);
    tokio::time::sleep(window.saturating_sub(started.elapsed())).await;
    let (after, _) = harness.sim.request_counts();
    let sent = after - before;
    let allowed = payops::engine::rate_limit::max_requests_in(30, window);
    println!(
        "{sent} InstantPay requests in {window:?} from 20 calls on 2 replicas (budget allows {allowed})"
    );
    assert!(sent >= 1, "nothing was sent");
    assert!(sent <= allowed, "{sent} > {allowed}");
    for call in calls {
        call.abort();
    }
}

/// The server's store goes away while a dashboard's stream is open: the
/// stream stays, and says the store is down, then that it answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_says_when_the_servers_store_is_down_and_back() {
    use futures::StreamExt;
    let Some(harness) = team("a_stream_says_when_the_servers_store_is_down").await else {
        return;
    };
    let url = harness
        .env()
        .into_iter()
        .find(|(key, _)| key == "PAYOPS_STORE_URL")
        .map(|(_, url)| url)
        .unwrap();
    let mut admin = url::Url::parse(&url).unwrap();
    let database = admin.path().trim_start_matches('/').to_string();
    admin.set_path("/postgres");
    let (db, connection) = tokio_postgres::connect(admin.as_str(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);

    let viewer = add_token(&harness, "vera", "viewer").await;
    let server = start_server_with(&harness, &[]);
    let mut stream = events(&server, &viewer).await;
    // Reads until an event named `server` arrives; returns its data.
    async fn next_server_event(
        stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    ) -> Value {
        let mut text = String::new();
        let found = tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(Ok(chunk)) = stream.next().await {
                text.push_str(&String::from_utf8_lossy(&chunk));
                if let Some(at) = text.find("event: server\ndata: ") {
                    let rest = &text[at + "event: server\ndata: ".len()..];
                    if let Some(line) = rest.split('\n').next().filter(|_| rest.contains('\n')) {
                        return serde_json::from_str::<Value>(line).unwrap();
                    }
                }
            }
            panic!("the stream ended: {text}");
        })
        .await;
        found.expect("no server event within 20 s")
    }

    db.batch_execute(&format!(
        "ALTER DATABASE {database} ALLOW_CONNECTIONS false;
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}';"
    ))
    .await
    .unwrap();
    let down = next_server_event(&mut stream).await;
    assert!(down["store"].is_string(), "{down}");

    db.batch_execute(&format!("ALTER DATABASE {database} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let up = next_server_event(&mut stream).await;
    assert!(up["store"].is_null(), "{up}");
}

/// A planned stop (SIGTERM, as systemd or docker sends it) hands the lead
/// over at once: the leader lets its lease go and says so, and a follower
/// listening takes it without waiting for its next check; the stopped
/// replica exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_stop_hands_the_lead_over_at_once() {
    let Some(harness) = team("a_planned_stop_hands_the_lead_over").await else {
        return;
    };
    let (client, mut leading, follower) = two_replicas(&harness, Duration::from_secs(10)).await;
    signal(&leading, "TERM");
    let stopped = Instant::now();
    leader_among(&client, &[&follower], Duration::from_secs(10)).await;
    let handover = stopped.elapsed();
    println!(
        "the follower led {} ms after the leader was sent SIGTERM",
        handover.as_millis()
    );
    assert!(handover < Duration::from_secs(2), "{handover:?}");
    let exit = leading.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

/// Cashfree's delivery may reach any replica behind the load balancer: one
/// received by the follower reaches a client connected to the leader
/// within a second, and is applied once however often it is repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_delivery_at_the_follower_reaches_a_client_of_the_leader_within_a_second() {
    let Some(mut harness) = team("a_webhook_delivery_at_the_follower").await else {
        return;
    };
    harness.set_env("PAYOPS_CASHFREE_WEBHOOKS", "true");
    let [support, viewer] = add_tokens(&harness, [("asha", "support"), ("vera", "viewer")]).await;
    let (client, leader, follower) = two_replicas(&harness, Duration::from_secs(10)).await;
    let created = create_session(&client, &leader, &support, r#"{"provider":"cashfree"}"#).await;
    let id = created["id"].as_str().unwrap().to_string();
    let verification_id = created["external_ref"].as_str().unwrap().to_string();
    // The simulator delivers to the follower alone.
    let session = (id.as_str(), verification_id.as_str());
    let delivered = consent_delivered(&harness, &leader, &viewer, &follower, session);
    let (arrived, _) = delivered.await;
    println!(
        "delivered to the follower, heard by the leader's client {} ms after the change",
        arrived.as_millis()
    );
    assert!(arrived < Duration::from_secs(1), "{arrived:?}");
    assert_eq!(
        harness.sim.webhook_stats().outcomes.get("applied"),
        Some(&1)
    );
}
