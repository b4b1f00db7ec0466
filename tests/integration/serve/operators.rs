//! What the API does for each role when it allows it: reads, labels,
//! creates, polls, tracks, stops, notifies, each as the token's operator,
//! and the tokens' use on record without their secrets.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_name_their_operator_and_are_used_without_being_written() {
    let harness = Harness::start(1.0).await;
    let viewer = add_token(&harness, "vera", "viewer").await;
    let support = add_token(&harness, "asha@ops", "support").await;
    let finance = add_token(&harness, "farid", "finance").await;
    let revoked = add_token(&harness, "gone", "admin").await;
    harness
        .run(&["serve", "token", "revoke", "gone"])
        .await
        .assert_code(0);
    // One active name at a time; a bad role or name is refused.
    harness
        .run(&["serve", "token", "add", "vera", "--role", "viewer"])
        .await
        .assert_clean_failure(2, "already named vera");
    harness
        .run(&["serve", "token", "add", "x y", "--role", "viewer"])
        .await
        .assert_clean_failure(2, "NAME");
    let created = harness
        .run(&["digilocker", "create", "--provider", "cashfree", "--json"])
        .await;
    created.assert_code(0);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let server = start_server(&harness);
    let api = Api::new(&server.base);

    // Health needs no token.
    let (status, health) = api.get("/healthz", None).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["leader"], true);
    assert_eq!(health["providers"]["cashfree"]["state"], "ok", "{health}");
    assert_eq!(api.get("/readyz", None).await.0, 200);

    // A viewer reads; the CLI's session is there.
    let (status, list) = api.get("/api/v1/sessions", Some(&viewer)).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    let (status, me) = api.get("/api/v1/whoami", Some(&support)).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&me["name"], &me["role"]),
        (&json!("asha@ops"), &json!("support"))
    );
    // The server's create defaults, for a dashboard's form.
    assert_eq!(me["defaults"]["redirect_url"], "https://example.com/done");

    // Support labels, trimmed; the CLI reads it back.
    let label = format!("/api/v1/sessions/{id}/label");
    let (status, body) = api
        .put(&label, Some(&support), r#"{"label":" TKT-1 "}"#)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["label"], "TKT-1");
    let shown = harness
        .run(&["digilocker", "status", &id, "--json"])
        .await
        .json();
    assert_eq!(shown["label"], "TKT-1");

    // Finance refreshes the balance: the engine fetches it.
    let (status, body) = api
        .post("/api/v1/balance/refresh", Some(&finance), None)
        .await;
    assert_eq!((status, body["by"].as_str()), (202, Some("farid")));

    // The scheme's case does not matter.
    let lower = api
        .client
        .get(format!("{}/api/v1/whoami", api.base))
        .header("authorization", format!("bearer {viewer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status().as_u16(), 200);

    // The tokens' use is on record; their secrets are not.
    let tokens = harness.run(&["serve", "token", "list", "--json"]).await;
    tokens.assert_code(0);
    let listed = tokens.json();
    let named = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    assert!(named("vera")["last_used_at"].is_string());
    assert!(named("gone")["revoked_at"].is_string());
    let written = String::from_utf8_lossy(&harness.all_written_bytes()).to_string();
    for token in [&viewer, &support, &finance, &revoked] {
        assert!(
            !written.contains(token.as_str()),
            "a token was written somewhere"
        );
    }
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_session_and_notify_call_acts_as_the_tokens_operator() {
    let mut harness = Harness::start(1.0).await;
    // Off-screen sessions are then polled every 2 s.
    harness.set_env("PAYOPS_POLLING_SESSION_INTERVAL_SECS", "1");
    let support = add_token(&harness, "asha", "support").await;
    let finance = add_token(&harness, "farid", "finance").await;
    let finance2 = add_token(&harness, "gita", "finance").await;
    let viewer = add_token(&harness, "vera", "viewer").await;
    let server = start_server(&harness);
    let api = Api::new(&server.base);

    // Create: defaults fill what the body leaves out; the creator is the token's.
    let (status, created) = api
        .post(
            "/api/v1/sessions",
            Some(&support),
            Some(r#"{"provider":"cashfree","label":"TKT-7"}"#),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["created_by"], "asha");
    assert_eq!(created["label"], "TKT-7");
    let id = created["id"].as_str().unwrap().to_string();
    let session = format!("/api/v1/sessions/{id}");
    // The server's own engine polls what its API created.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let (_, now) = api.get(&session, Some(&viewer)).await;
        if now["last_polled_at"].is_string() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never polled: {now}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // Refresh, track by reference, stop tracking.
    let (status, polled) = api
        .post(&format!("{session}/refresh"), Some(&support), None)
        .await;
    assert_eq!(
        (status, polled["id"].as_str()),
        (200, Some(id.as_str())),
        "{polled}"
    );
    let reference = polled["reference"].as_str().unwrap().to_string();
    let track = json!({"provider": "cashfree", "reference": reference}).to_string();
    let (status, tracked) = api
        .post("/api/v1/sessions/track", Some(&support), Some(&track))
        .await;
    assert_eq!(
        (status, tracked["id"].as_str()),
        (200, Some(id.as_str())),
        "{tracked}"
    );
    // Stopping is not a DELETE: the session stays readable.
    let (status, _) = api.send("DELETE", &session, Some(&support), None).await;
    assert_eq!(status, 405);
    let stop = format!("{session}/stop");
    let (status, _) = api.post(&stop, Some(&support), None).await;
    assert_eq!(status, 200);
    let (status, _) = api.get(&session, Some(&viewer)).await;
    assert_eq!(status, 200, "a stopped session is still there");
    let listed = harness.run(&["digilocker", "list", "--json"]).await.json();
    assert!(listed.as_array().unwrap().is_empty(), "stopped: {listed}");
    // ...and the engine stops polling it.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let (_, before) = api.get(&session, Some(&viewer)).await;
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let (_, after) = api.get(&session, Some(&viewer)).await;
    assert_eq!(
        before["last_polled_at"], after["last_polled_at"],
        "polled after it was stopped"
    );

    // A link: looked up, then two operators notify it at the same moment.
    let link = format!("/api/v1/links/{}", crate::harness::cli::SAMPLE_LINK);
    let (status, looked) = api.get(&link, Some(&finance)).await;
    assert_eq!(
        (status, looked["link"]["status"].as_str()),
        (200, Some("ISSUED")),
        "{looked}"
    );
    let notify = format!("{link}/notify");
    let (first, second) = tokio::join!(
        api.post(&notify, Some(&finance), None),
        api.post(&notify, Some(&finance2), None),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{first:?} {second:?}");
    assert_eq!(
        harness.sim.notify_count(crate::harness::cli::SAMPLE_LINK),
        1,
        "one provider request"
    );
    let (sent, refused) = if first.0 == 200 {
        (first.1, second.1)
    } else {
        (second.1, first.1)
    };
    let sender = sent["actor"].as_str().unwrap().to_string();
    assert!(["farid", "gita"].contains(&sender.as_str()));
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("by {sender}")) && message.contains("\"again\": true"),
        "{message}"
    );
    // Again, knowingly.
    let (status, again) = api
        .post(&notify, Some(&finance2), Some(r#"{"again":true}"#))
        .await;
    assert_eq!(
        (status, again["actor"].as_str()),
        (200, Some("gita")),
        "{again}"
    );
    assert_eq!(
        harness.sim.notify_count(crate::harness::cli::SAMPLE_LINK),
        2
    );

    // The audit names the operators from their tokens.
    let (status, audit) = api.get("/api/v1/audit?limit=5", Some(&viewer)).await;
    assert_eq!(status, 200);
    let actors: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors.len(), 2, "the refused notify wrote no row: {audit}");
    assert_eq!(actors[0], "gita");
    drop(server);
}

/// A provider that refuses the server's credentials is a state of its own
/// on /healthz, and the server is degraded until it takes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_credentials_are_a_degraded_state_on_healthz() {
    let mut harness = Harness::start(1.0).await;
    harness.set_env("PAYOPS_INSTANTPAY_CLIENT_SECRET", "not-the-secret");
    let server = start_server(&harness);
    let api = Api::new(&server.base);
    // The leader fetches the balance at start.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let health = loop {
        let (_, health) = api.get("/healthz", None).await;
        if health["providers"]["instantpay"]["state"] == "rejecting_credentials" {
            break health;
        }
        assert!(std::time::Instant::now() < deadline, "{health}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(health["status"], "degraded", "{health}");
    assert_eq!(health["providers"]["cashfree"]["state"], "ok", "{health}");
    let said = health.to_string();
    assert!(!said.contains("not-the-secret"), "{said}");
}
