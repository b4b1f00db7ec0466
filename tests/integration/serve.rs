//! `payops serve` as a real process over loopback: tokens made by the CLI,
//! the API's checks (token, role, input), against the simulator and a real
//! SQLite file shared with the CLI.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::harness::cli::Harness;

/// The server, stopped when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(harness: &Harness) -> Server {
    start_server_with(harness, &[])
}

pub(crate) fn start_server_with(harness: &Harness, extra: &[&str]) -> Server {
    let server = start_server_with_addr(harness, "127.0.0.1:0", extra);
    assert!(
        server.base.starts_with("http://127.0.0.1:"),
        "{}",
        server.base
    );
    server
}

pub(crate) fn start_server_with_addr(harness: &Harness, addr: &str, extra: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payops"));
    cmd.args(["serve", "--addr", addr])
        .args(extra)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in harness.env() {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    let stdout = child.stdout.take().unwrap();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .unwrap();
    let base = first.trim().rsplit(' ').next().unwrap().to_string();
    Server { child, base }
}

pub(crate) async fn add_token(harness: &Harness, name: &str, role: &str) -> String {
    let run = harness
        .run(&["serve", "token", "add", name, "--role", role])
        .await;
    run.assert_code(0);
    // Alone on the last line of stdout.
    let token = run.stdout.trim_end().lines().last().unwrap().to_string();
    assert!(token.starts_with("payops_"), "{}", run.stdout);
    token
}

pub(crate) async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, value)
}

fn error_kind(value: &Value) -> &str {
    value["error"]["kind"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_roles_and_bad_requests_over_real_http() {
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
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let get = reqwest::Method::GET;
    let put = reqwest::Method::PUT;
    let post = reqwest::Method::POST;

    // Health needs no token.
    let (status, health) = call(&client, get.clone(), format!("{base}/healthz"), None, None).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["leader"], true);
    assert_eq!(health["providers"]["cashfree"], "configured");
    let (status, _) = call(&client, get.clone(), format!("{base}/readyz"), None, None).await;
    assert_eq!(status, 200);

    // No token, a wrong one, a revoked one: 401, saying which.
    let sessions = format!("{base}/api/v1/sessions");
    let (status, body) = call(&client, get.clone(), sessions.clone(), None, None).await;
    assert_eq!((status, error_kind(&body)), (401, "unauthorized"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
    let (status, _) = call(
        &client,
        get.clone(),
        sessions.clone(),
        Some("payops_nope"),
        None,
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = call(&client, get.clone(), sessions.clone(), Some(&revoked), None).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );

    // A viewer reads; the CLI's session is there.
    let (status, list) = call(&client, get.clone(), sessions.clone(), Some(&viewer), None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    let (status, me) = call(
        &client,
        get.clone(),
        format!("{base}/api/v1/whoami"),
        Some(&support),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&me["name"], &me["role"]),
        (&json!("asha@ops"), &json!("support"))
    );
    // The server's create defaults, for a dashboard's form.
    assert_eq!(me["defaults"]["redirect_url"], "https://example.com/done");

    // Labelling needs support: the refusal names the role.
    let label_url = format!("{base}/api/v1/sessions/{id}/label");
    let (status, body) = call(
        &client,
        put.clone(),
        label_url.clone(),
        Some(&viewer),
        Some(r#"{"label":"TKT-1"}"#),
    )
    .await;
    assert_eq!((status, error_kind(&body)), (403, "forbidden"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("support role"),
        "{body}"
    );
    let (status, body) = call(
        &client,
        put.clone(),
        label_url.clone(),
        Some(&support),
        Some(r#"{"label":" TKT-1 "}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["label"], "TKT-1");
    // Bad input: each a 4xx naming what is wrong, and nothing written.
    let long = format!(r#"{{"label":"{}"}}"#, "x".repeat(65));
    let (status, body) = call(
        &client,
        put.clone(),
        label_url.clone(),
        Some(&support),
        Some(&long),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("label")),
        "{body}"
    );
    let (status, body) = call(
        &client,
        put.clone(),
        label_url.clone(),
        Some(&support),
        Some(r#"{"lable":"x"}"#),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("lable"),
        "{body}"
    );
    let (status, _) = call(
        &client,
        put.clone(),
        label_url.clone(),
        Some(&support),
        Some("{not json"),
    )
    .await;
    assert_eq!(status, 400);
    let huge = format!(r#"{{"label":"{}"}}"#, "x".repeat(100_000));
    let (status, _) = call(
        &client,
        put.clone(),
        label_url.clone(),
        Some(&support),
        Some(&huge),
    )
    .await;
    assert_eq!(status, 413);
    let (status, body) = call(
        &client,
        put.clone(),
        format!("{base}/api/v1/sessions/dl-nothere/label"),
        Some(&support),
        Some(r#"{"label":"x"}"#),
    )
    .await;
    assert_eq!((status, error_kind(&body)), (404, "not_tracked"));
    let shown = harness
        .run(&["digilocker", "status", &id, "--json"])
        .await
        .json();
    assert_eq!(shown["label"], "TKT-1", "only the good request was written");

    // Money needs finance.
    let refresh = format!("{base}/api/v1/balance/refresh");
    let (status, body) = call(&client, post.clone(), refresh.clone(), Some(&support), None).await;
    assert_eq!(status, 403);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("finance role")
    );
    let (status, body) = call(&client, post.clone(), refresh.clone(), Some(&finance), None).await;
    assert_eq!((status, body["by"].as_str()), (202, Some("farid")));
    let (status, body) = call(
        &client,
        get.clone(),
        format!("{base}/api/v1/balance/history?since=3x"),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("since"))
    );
    let (status, body) = call(
        &client,
        get.clone(),
        format!("{base}/api/v1/sessions?all=maybe"),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!((status, error_kind(&body)), (400, "invalid_query"));

    // The scheme's case does not matter; a broken id is a JSON 400.
    let lower = client
        .get(format!("{base}/api/v1/whoami"))
        .header("authorization", format!("bearer {viewer}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status().as_u16(), 200);
    let (status, body) = call(
        &client,
        get.clone(),
        format!("{base}/api/v1/sessions/%FF"),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("id")),
        "{body}"
    );
    // A body without the label does not clear it.
    let (status, body) = call(
        &client,
        put.clone(),
        label_url.clone(),
        Some(&support),
        Some("{}"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("label")),
        "{body}"
    );
    let (status, body) = call(
        &client,
        put.clone(),
        label_url.clone(),
        Some(&support),
        Some(r#"{"label":5}"#),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("label")),
        "{body}"
    );
    // An unknown body field is named.
    let (_, body) = call(
        &client,
        put.clone(),
        label_url.clone(),
        Some(&support),
        Some(r#"{"lable":"x"}"#),
    )
    .await;
    assert_eq!(body["error"]["field"], "lable", "{body}");

    // Unknown routes and methods: JSON too.
    let (status, body) = call(
        &client,
        get.clone(),
        format!("{base}/api/v1/nothing"),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!((status, error_kind(&body)), (404, "not_found"));
    let (status, body) = call(
        &client,
        reqwest::Method::DELETE,
        sessions.clone(),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!((status, error_kind(&body)), (405, "method_not_allowed"));

    // The tokens' use is on record; their secrets are not.
    let tokens = harness.run(&["serve", "token", "list", "--json"]).await;
    tokens.assert_code(0);
    let listed = tokens.json();
    let vera = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "vera")
        .unwrap();
    assert!(vera["last_used_at"].is_string());
    let gone = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "gone")
        .unwrap();
    assert!(gone["revoked_at"].is_string());
    let written = String::from_utf8_lossy(&harness.all_written_bytes()).to_string();
    for token in [&viewer, &support, &finance, &revoked] {
        assert!(
            !written.contains(token.as_str()),
            "a token was written somewhere"
        );
    }
    drop(server);
}

#[test]
fn serve_refuses_a_public_address_without_tls() {
    let run = crate::harness::cli::run_binary(
        &["serve".into(), "--addr".into(), "0.0.0.0:0".into()],
        &[],
    );
    run.assert_clean_failure(2, "--tls-cert");
}

/// A certificate for 127.0.0.1 made now, written beside the harness.
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert_pem = made.cert.pem();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (cert, key, cert_pem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_speaks_https_with_a_certificate_and_refuses_bad_ones() {
    let harness = Harness::start(1.0).await;
    let (cert, key, cert_pem) = self_signed(harness.home.path());
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = start_server_with_addr(
        &harness,
        "127.0.0.1:0",
        &["--tls-cert", cert, "--tls-key", key],
    );
    let base = server.base.clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let health: Value = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["leader"], true, "{health}");
    // Plain HTTP to the TLS port gets no answer it could mistake for one.
    let plain = reqwest::get(base.replace("https://", "http://") + "/healthz").await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    // A client that does not trust the certificate refuses it.
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
    drop(server);

    let garbage = harness.home.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file").unwrap();
    let missing = harness.home.path().join("missing.pem");
    let (garbage, missing) = (garbage.to_str().unwrap(), missing.to_str().unwrap());
    for (args, needle) in [
        (vec!["--tls-cert", missing, "--tls-key", key], "--tls-cert"),
        (vec!["--tls-cert", garbage, "--tls-key", key], "--tls-cert"),
        (vec!["--tls-cert", cert, "--tls-key", garbage], "--tls-key"),
        (vec!["--tls-cert", cert], "--tls-key"),
    ] {
        let mut all = vec!["serve", "--addr", "127.0.0.1:0"];
        all.extend(args);
        harness.run(&all).await.assert_clean_failure(2, needle);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_on_a_public_address_needs_saying_so() {
    let harness = Harness::start(1.0).await;
    let server = start_server_with_addr(&harness, "0.0.0.0:0", &["--allow-plain-http"]);
    assert!(
        server.base.starts_with("http://0.0.0.0:"),
        "{}",
        server.base
    );
    let port = server.base.rsplit(':').next().unwrap();
    let health: Value = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");
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
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;

    // Create: defaults fill what the body leaves out; the creator is the token's.
    let sessions = format!("{base}/api/v1/sessions");
    let (status, created) = call(
        &client,
        post.clone(),
        sessions.clone(),
        Some(&support),
        Some(r#"{"provider":"cashfree","label":"TKT-7"}"#),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["created_by"], "asha");
    assert_eq!(created["label"], "TKT-7");
    let id = created["id"].as_str().unwrap().to_string();
    // The server's own engine polls what its API created.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let (_, now) = call(
            &client,
            get.clone(),
            format!("{sessions}/{id}"),
            Some(&viewer),
            None,
        )
        .await;
        if now["last_polled_at"].is_string() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never polled: {now}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (status, body) = call(
        &client,
        post.clone(),
        sessions.clone(),
        Some(&support),
        Some(r#"{"provider":"paypal"}"#),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("provider")),
        "{body}"
    );
    let (status, body) = call(
        &client,
        post.clone(),
        sessions.clone(),
        Some(&support),
        Some(r#"{"provider":"instantpay","documents":"pan"}"#),
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("documents")),
        "{body}"
    );
    let (status, _) = call(
        &client,
        post.clone(),
        sessions.clone(),
        Some(&viewer),
        Some(r#"{"provider":"cashfree"}"#),
    )
    .await;
    assert_eq!(status, 403);

    // Refresh, track by reference, stop tracking.
    let (status, polled) = call(
        &client,
        post.clone(),
        format!("{sessions}/{id}/refresh"),
        Some(&support),
        None,
    )
    .await;
    assert_eq!(
        (status, polled["id"].as_str()),
        (200, Some(id.as_str())),
        "{polled}"
    );
    let reference = polled["reference"].as_str().unwrap().to_string();
    let (status, tracked) = call(
        &client,
        post.clone(),
        format!("{sessions}/track"),
        Some(&support),
        Some(&json!({"provider": "cashfree", "reference": reference}).to_string()),
    )
    .await;
    assert_eq!(
        (status, tracked["id"].as_str()),
        (200, Some(id.as_str())),
        "{tracked}"
    );
    let (status, _) = call(
        &client,
        reqwest::Method::DELETE,
        format!("{sessions}/{id}"),
        Some(&support),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let listed = harness.run(&["digilocker", "list", "--json"]).await.json();
    assert!(listed.as_array().unwrap().is_empty(), "stopped: {listed}");
    // ...and the engine stops polling it.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let (_, before) = call(
        &client,
        get.clone(),
        format!("{sessions}/{id}"),
        Some(&viewer),
        None,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let (_, after) = call(
        &client,
        get.clone(),
        format!("{sessions}/{id}"),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(
        before["last_polled_at"], after["last_polled_at"],
        "polled after it was stopped"
    );

    // A link: looked up, then two operators notify it at the same moment.
    let link = format!("{base}/api/v1/links/{}", crate::harness::cli::SAMPLE_LINK);
    let (status, looked) = call(&client, get.clone(), link.clone(), Some(&finance), None).await;
    assert_eq!(
        (status, looked["link"]["status"].as_str()),
        (200, Some("ISSUED")),
        "{looked}"
    );
    let (status, _) = call(&client, get.clone(), link.clone(), Some(&support), None).await;
    assert_eq!(status, 403);
    let notify = format!("{link}/notify");
    let (first, second) = tokio::join!(
        call(&client, post.clone(), notify.clone(), Some(&finance), None),
        call(&client, post.clone(), notify.clone(), Some(&finance2), None),
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
    let (status, again) = call(
        &client,
        post.clone(),
        notify.clone(),
        Some(&finance2),
        Some(r#"{"again":true}"#),
    )
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
    let (status, audit) = call(
        &client,
        get.clone(),
        format!("{base}/api/v1/audit?limit=5"),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let actors: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(actors.len(), 2, "the refused notify wrote no row: {audit}");
    assert_eq!(actors[0], "gita");
    let (status, body) = call(
        &client,
        get.clone(),
        format!("{base}/api/v1/audit?limit=0"),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (400, Some("limit"))
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_runaway_token_is_slowed_and_the_others_are_not() {
    let harness = Harness::start(1.0).await;
    let script = add_token(&harness, "script", "viewer").await;
    let person = add_token(&harness, "asha", "viewer").await;
    let server = start_server_with(&harness, &["--requests-per-minute", "3"]);
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/whoami", server.base);
    for _ in 0..3 {
        let (status, _) = call(
            &client,
            reqwest::Method::GET,
            url.clone(),
            Some(&script),
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
    let response = client
        .get(url.clone())
        .bearer_auth(&script)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_kind(&body), "rate_limited");
    let (status, _) = call(&client, reqwest::Method::GET, url, Some(&person), None).await;
    assert_eq!(status, 200, "another token is not held back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_demo_prints_the_two_lines_a_newcomer_pastes() {
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_payops"))
        .args(["serve", "--demo", "--addr", "127.0.0.1:0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("PAYOPS_DATA_DIR", home.path().join("data"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut exports = std::collections::HashMap::new();
    for _ in 0..4 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if let Some((key, value)) = line
            .trim()
            .strip_prefix("export ")
            .and_then(|l| l.split_once('='))
        {
            exports.insert(key.to_string(), value.to_string());
        }
    }
    let url = exports["PAYOPS_SERVER_URL"].clone();
    let token = exports["PAYOPS_SERVER_TOKEN"].clone();
    let client = reqwest::Client::new();
    let (status, me) = call(
        &client,
        reqwest::Method::GET,
        format!("{url}/api/v1/whoami"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((status, me["role"].as_str()), (200, Some("admin")));
    // The demo's sessions appear, created through the server's engine.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, list) = call(
            &client,
            reqwest::Method::GET,
            format!("{url}/api/v1/sessions"),
            Some(&token),
            None,
        )
        .await;
        if list.as_array().is_some_and(|sessions| sessions.len() >= 4) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no demo sessions: {list}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_what_the_server_serves() {
    let harness = Harness::start(1.0).await;
    let server = start_server(&harness);
    let client = reqwest::Client::new();
    let (status, doc) = call(
        &client,
        reqwest::Method::GET,
        format!("{}/api/v1/openapi.json", server.base),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The bodies the server refuses unknown fields in say so.
    for body in ["CreateBody", "TrackBody", "LabelBody", "NotifyBody"] {
        assert_eq!(
            doc["components"]["schemas"][body]["additionalProperties"], false,
            "{body}: {}",
            doc["components"]["schemas"][body]
        );
    }
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    operations.sort();
    let expected = [
        ("DELETE", "/api/v1/sessions/{id}"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/balance"),
        ("GET", "/api/v1/balance/history"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/links/{id}"),
        ("GET", "/api/v1/sessions"),
        ("GET", "/api/v1/sessions/{id}"),
        ("GET", "/api/v1/whoami"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("POST", "/api/v1/balance/refresh"),
        ("POST", "/api/v1/links/{id}/notify"),
        ("POST", "/api/v1/sessions"),
        ("POST", "/api/v1/sessions/track"),
        ("POST", "/api/v1/sessions/{id}/refresh"),
        ("PUT", "/api/v1/sessions/{id}/label"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(operations, expected);
    // Each documented operation exists: without a token an API route says
    // 401 (not 404 or 405), and health answers.
    for (method, path) in &operations {
        let url = format!("{}{}", server.base, path.replace("{id}", "x1"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, _) = call(&client, method.clone(), url, None, None).await;
        let wanted = if path.starts_with("/api/v1/") {
            401
        } else {
            200
        };
        assert_eq!(status, wanted, "{method} {path}");
    }
}

/// The CLI on an operator's machine: no provider credentials, only the
/// server's address and a token.
fn client_env(base: &str, token: &str, home: &std::path::Path) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), home.display().to_string()),
        (
            "XDG_CONFIG_HOME".into(),
            home.join("c").display().to_string(),
        ),
        (
            "PAYOPS_DATA_DIR".into(),
            home.join("d").display().to_string(),
        ),
        ("PAYOPS_SERVER_URL".into(), base.to_string()),
        ("PAYOPS_SERVER_TOKEN".into(), token.to_string()),
    ]
}

fn client(env: &[(String, String)], args: &[&str]) -> crate::harness::cli::Run {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    crate::harness::cli::run_binary(&args, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_talks_to_the_server_with_a_token_and_no_provider_credentials() {
    let harness = Harness::start(1.0).await;
    let support = add_token(&harness, "asha", "support").await;
    let finance = add_token(&harness, "farid", "finance").await;
    let server = start_server(&harness);
    let laptop = tempfile::tempdir().unwrap();
    let asha = client_env(&server.base, &support, laptop.path());
    let farid = client_env(&server.base, &finance, laptop.path());

    let created = tokio::task::spawn_blocking({
        let asha = asha.clone();
        move || {
            client(
                &asha,
                &[
                    "digilocker",
                    "create",
                    "--provider",
                    "cashfree",
                    "--label",
                    "TKT-9",
                    "--json",
                ],
            )
        }
    })
    .await
    .unwrap();
    created.assert_code(0);
    let v = created.json();
    assert_eq!(
        (v["created_by"].as_str(), v["label"].as_str()),
        (Some("asha"), Some("TKT-9"))
    );
    let id = v["id"].as_str().unwrap().to_string();

    let run = |env: Vec<(String, String)>, args: Vec<&'static str>| {
        tokio::task::spawn_blocking(move || client(&env, &args))
    };
    let listed = run(asha.clone(), vec!["digilocker", "list", "--json"])
        .await
        .unwrap();
    listed.assert_code(0);
    assert_eq!(listed.json()[0]["id"], id.as_str());
    let table = run(asha.clone(), vec!["digilocker", "list"]).await.unwrap();
    assert!(
        table.stdout.contains("TKT-9") && table.stdout.contains("asha"),
        "{}",
        table.stdout
    );
    // The role is the server's to enforce, and the refusal names it.
    let refused = run(asha.clone(), vec!["balance"]).await.unwrap();
    refused.assert_clean_failure(2, "finance role");
    let balance = run(farid.clone(), vec!["balance", "--json"]).await.unwrap();
    balance.assert_code(0);
    assert_eq!(balance.json()["provider"], "instantpay");
    let sent = run(
        farid.clone(),
        vec![
            "notify",
            crate::harness::cli::SAMPLE_LINK,
            "--yes",
            "--json",
        ],
    )
    .await
    .unwrap();
    sent.assert_code(0);
    assert_eq!(
        (
            sent.json()["outcome"].as_str(),
            sent.json()["actor"].as_str()
        ),
        (Some("sent"), Some("farid"))
    );
    let twice = run(
        farid.clone(),
        vec!["notify", crate::harness::cli::SAMPLE_LINK, "--yes"],
    )
    .await
    .unwrap();
    twice.assert_clean_failure(2, "by farid");
    let audit = run(asha.clone(), vec!["audit", "--json"]).await.unwrap();
    assert_eq!(audit.json()[0]["actor"], "farid");

    // A wrong token, no token, no server: each says so.
    let wrong = client_env(&server.base, "payops_wrong", laptop.path());
    run(wrong, vec!["digilocker", "list"])
        .await
        .unwrap()
        .assert_clean_failure(2, "wrong or revoked");
    let mut none = asha.clone();
    none.retain(|(k, _)| k != "PAYOPS_SERVER_TOKEN");
    run(none, vec!["digilocker", "list"])
        .await
        .unwrap()
        .assert_clean_failure(2, "PAYOPS_SERVER_TOKEN");
    let base = server.base.clone();
    drop(server);
    let gone = client_env(&base, &support, laptop.path());
    run(gone, vec!["digilocker", "list"])
        .await
        .unwrap()
        .assert_clean_failure(3, "cannot reach the payops server");
    // Nothing of the providers' was needed, and no local store was made.
    assert!(!laptop.path().join("d").join("payops.db").exists());
}
