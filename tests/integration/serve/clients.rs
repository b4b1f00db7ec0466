//! The server's clients: the CLI with a token and no provider credentials,
//! the demo's two lines, the OpenAPI document, and one token's limit.

use super::*;

use crate::harness::server::add_tokens;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_runaway_token_is_slowed_and_the_others_are_not() {
    let harness = Harness::start(1.0).await;
    let [script, person] = add_tokens(&harness, [("script", "viewer"), ("asha", "viewer")]).await;
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
    let api = Api::new(&exports["PAYOPS_SERVER_URL"]);
    let token = exports["PAYOPS_SERVER_TOKEN"].clone();
    let (status, me) = api.get("/api/v1/whoami", Some(&token)).await;
    assert_eq!((status, me["role"].as_str()), (200, Some("admin")));
    // The demo's sessions appear, created through the server's engine.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, list) = api.get("/api/v1/sessions", Some(&token)).await;
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
    assert!(
        doc["info"]["license"]["name"]
            .as_str()
            .is_some_and(|name| !name.is_empty()),
        "{}",
        doc["info"]
    );
    // Every API answer has its schema, not a bare object: generated
    // clients get types (the event stream and health are described in
    // words).
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/")
            || path == "/api/v1/events"
            || path == "/api/v1/openapi.json"
        {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            for status in ["200", "201", "202"] {
                let Some(answer) = operation["responses"].get(status) else {
                    continue;
                };
                let schema = &answer["content"]["application/json"]["schema"];
                let named = schema["$ref"]
                    .as_str()
                    .or_else(|| schema["items"]["$ref"].as_str());
                let Some(named) = named else {
                    panic!("{method} {path} {status}: {schema}");
                };
                let name = named.trim_start_matches("#/components/schemas/");
                assert!(
                    doc["components"]["schemas"][name].is_object(),
                    "{method} {path}: {named} is not in the document"
                );
            }
        }
    }
    // Query parameters are in the query, and optional, as generated
    // clients must see them.
    for (path, name) in [
        ("/api/v1/sessions", "all"),
        ("/api/v1/balance/history", "since"),
        ("/api/v1/audit", "limit"),
    ] {
        let parameters = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let parameter = parameters.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(parameter["in"], "query", "{path} {name}: {parameter}");
        assert_ne!(parameter["required"], true, "{path} {name}: {parameter}");
    }
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
        ("POST", "/api/v1/sessions/{id}/stop"),
        ("GET", "/api/v1/activity"),
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
        ("GET", "/api/v1/tokens"),
        ("GET", "/api/v1/sessions/{id}/documents"),
        ("POST", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens/{name}/rotate"),
        ("POST", "/api/v1/tokens/{name}/revoke"),
        ("GET", "/api/v1/sessions/{id}/events"),
        ("POST", "/api/v1/webhooks/cashfree"),
    ];
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
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
pub(super) fn client_env(base: &str, token: &str, home: &std::path::Path) -> Vec<(String, String)> {
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

pub(super) fn client(env: &[(String, String)], args: &[&str]) -> crate::harness::cli::Run {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    crate::harness::cli::run_binary(&args, env)
}

/// `client`, off the async runtime so the in-process simulator keeps serving.
fn run_client(
    env: Vec<(String, String)>,
    args: Vec<&'static str>,
) -> tokio::task::JoinHandle<crate::harness::cli::Run> {
    tokio::task::spawn_blocking(move || client(&env, &args))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_talks_to_the_server_with_a_token_and_no_provider_credentials() {
    let harness = Harness::start(1.0).await;
    let [support, finance] =
        add_tokens(&harness, [("asha", "support"), ("farid", "finance")]).await;
    let server = start_server(&harness);
    let laptop = tempfile::tempdir().unwrap();
    let asha = client_env(&server.base, &support, laptop.path());
    let farid = client_env(&server.base, &finance, laptop.path());

    let created = run_client(
        asha.clone(),
        vec![
            "digilocker",
            "create",
            "--provider",
            "cashfree",
            "--label",
            "TKT-9",
            "--json",
        ],
    )
    .await
    .unwrap();
    created.assert_code(0);
    let v = created.json();
    assert_eq!(
        (v["created_by"].as_str(), v["label"].as_str()),
        (Some("asha"), Some("TKT-9"))
    );
    let id = v["id"].as_str().unwrap().to_string();

    let listed = run_client(asha.clone(), vec!["digilocker", "list", "--json"])
        .await
        .unwrap();
    listed.assert_code(0);
    assert_eq!(listed.json()[0]["id"], id.as_str());
    let table = run_client(asha.clone(), vec!["digilocker", "list"])
        .await
        .unwrap();
    assert!(
        table.stdout.contains("TKT-9") && table.stdout.contains("asha"),
        "{}",
        table.stdout
    );
    // The role is the server's to enforce, and the refusal names it.
    let refused = run_client(asha.clone(), vec!["balance"]).await.unwrap();
    refused.assert_clean_failure(2, "finance role");
    let balance = run_client(farid.clone(), vec!["balance", "--json"])
        .await
        .unwrap();
    balance.assert_code(0);
    assert_eq!(balance.json()["provider"], "instantpay");
    let sent = run_client(
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
    let twice = run_client(
        farid.clone(),
        vec!["notify", crate::harness::cli::SAMPLE_LINK, "--yes"],
    )
    .await
    .unwrap();
    twice.assert_clean_failure(2, "by farid");
    // The CLI names its own flag, not the API's body.
    assert!(
        twice.stderr.contains("--again") && !twice.stderr.contains("{\"again\""),
        "{}",
        twice.stderr
    );
    let audit = run_client(asha.clone(), vec!["audit", "--json"])
        .await
        .unwrap();
    assert_eq!(audit.json()[0]["actor"], "farid");

    // A wrong token, no token, no server: each says so.
    let wrong = client_env(&server.base, "payops_wrong", laptop.path());
    run_client(wrong, vec!["digilocker", "list"])
        .await
        .unwrap()
        .assert_clean_failure(2, "wrong or revoked");
    let mut none = asha.clone();
    none.retain(|(k, _)| k != "PAYOPS_SERVER_TOKEN");
    run_client(none, vec!["digilocker", "list"])
        .await
        .unwrap()
        .assert_clean_failure(2, "PAYOPS_SERVER_TOKEN");
    let base = server.base.clone();
    drop(server);
    let gone = client_env(&base, &support, laptop.path());
    run_client(gone, vec!["digilocker", "list"])
        .await
        .unwrap()
        .assert_clean_failure(3, "cannot reach the payops server");
    // Nothing of the providers' was needed, and no local store was made.
    assert!(!laptop.path().join("d").join("payops.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_tokens_event_stream_ends_within_seconds() {
    use futures::StreamExt;
    let harness = Harness::start(1.0).await;
    let viewer = add_token(&harness, "vera", "viewer").await;
    let server = start_server(&harness);
    let mut stream = crate::harness::server::events(&server, &viewer).await;
    let first = stream.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("snapshot"));
    harness
        .run(&["serve", "token", "revoke", "vera"])
        .await
        .assert_code(0);
    let revoked = std::time::Instant::now();
    // Keep-alives may come; the stream must end.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its token by 5 s");
    println!(
        "a revoked token's stream ended {} ms after the revocation",
        revoked.elapsed().as_millis()
    );
}

/// `payops serve token` with a server configured manages tokens there, as
/// an admin, from any machine; it never falls back to a store of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_commands_go_through_a_configured_server_and_never_write_locally() {
    let harness = Harness::start(1.0).await;
    let [admin, support] = add_tokens(&harness, [("root", "admin"), ("asha", "support")]).await;
    let server = start_server(&harness);
    let laptop = tempfile::tempdir().unwrap();
    let as_admin = client_env(&server.base, &admin, laptop.path());

    let made = run_client(
        as_admin.clone(),
        vec!["serve", "token", "add", "ravi", "--role", "finance"],
    )
    .await
    .unwrap();
    made.assert_code(0);
    let ravi = made.stdout.trim_end().lines().last().unwrap().to_string();
    let api = Api::new(&server.base);
    let (status, me) = api.get("/api/v1/whoami", Some(&ravi)).await;
    assert_eq!(
        (status, me["role"].as_str()),
        (200, Some("finance")),
        "{me}"
    );
    let listed = run_client(as_admin.clone(), vec!["serve", "token", "list", "--json"])
        .await
        .unwrap();
    listed.assert_code(0);
    assert!(
        listed
            .json()
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "ravi"),
        "{}",
        listed.stdout
    );
    run_client(as_admin.clone(), vec!["serve", "token", "revoke", "ravi"])
        .await
        .unwrap()
        .assert_code(0);
    let (status, _) = api.get("/api/v1/whoami", Some(&ravi)).await;
    assert_eq!(status, 401);

    // Only an admin manages tokens; the refusal names the role.
    run_client(
        client_env(&server.base, &support, laptop.path()),
        vec!["serve", "token", "list"],
    )
    .await
    .unwrap()
    .assert_clean_failure(2, "admin role");
    // A server that does not answer is an error, not a local store.
    let base = server.base.clone();
    drop(server);
    run_client(
        client_env(&base, &admin, laptop.path()),
        vec!["serve", "token", "add", "gita", "--role", "viewer"],
    )
    .await
    .unwrap()
    .assert_clean_failure(3, "cannot reach the payops server");
    assert!(
        !laptop.path().join("d").join("payops.db").exists(),
        "a stray store was made"
    );
}

/// The server's log, as an on-call engineer reads it: on stderr, one JSON
/// object a line; one line per request with its id (a caller's kept and
/// echoed, else made), route template, status, latency and operator; one
/// per provider call with the provider's own request id; never a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_provider_calls_are_one_log_line_each() {
    let harness = Harness::start(1.0).await;
    let finance = add_token(&harness, "farid", "finance").await;
    let (server, lines) =
        crate::harness::server::start_server_logging(&harness, &["--log-format", "json"]);
    let http = reqwest::Client::new();
    let answer = http
        .get(format!("{}/api/v1/balance", server.base))
        .bearer_auth(&finance)
        .header("x-request-id", "ticket-4417")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.headers()["x-request-id"], "ticket-4417");
    let refused = http
        .get(format!("{}/api/v1/sessions/dl-x1", server.base))
        .bearer_auth("payops_wrong")
        .send()
        .await
        .unwrap();
    let made = refused.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!made.is_empty());

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let logged = loop {
        let logged: Vec<Value> = lines
            .lock()
            .unwrap()
            .iter()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
            .collect();
        let requests = logged.iter().filter(|l| l["message"] == "request").count();
        if requests >= 2 || std::time::Instant::now() > deadline {
            break logged;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let request = |id: &str| {
        logged
            .iter()
            .find(|l| l["message"] == "request" && l["request_id"] == id)
            .unwrap_or_else(|| panic!("no line for {id}: {logged:?}"))
            .clone()
    };
    let balance = request("ticket-4417");
    assert_eq!(
        (
            &balance["method"],
            &balance["route"],
            &balance["status"],
            &balance["operator"]
        ),
        (
            &json!("GET"),
            &json!("/api/v1/balance"),
            &json!(200),
            &json!("farid")
        ),
        "{balance}"
    );
    assert!(balance["latency_ms"].is_number(), "{balance}");
    let refused = request(&made);
    assert_eq!(refused["route"], "/api/v1/sessions/{id}", "{refused}");
    assert_eq!(refused["status"], 401, "{refused}");
    assert_eq!(refused["operator"], "(refused token)", "{refused}");
    let call = logged
        .iter()
        .find(|l| l["message"] == "provider call" && l["provider"] == "instantpay")
        .unwrap_or_else(|| panic!("no provider call: {logged:?}"));
    assert_eq!(call["outcome"], "ok", "{call}");
    assert!(
        call["provider_request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{call}"
    );
    let all = lines.lock().unwrap().join("\n");
    assert!(
        !all.contains(&finance) && !all.contains("payops_wrong"),
        "a token was logged"
    );
}

/// Prometheus metrics on their own listener, never on the API's, with
/// every family an operator alerts on, and no id or token in a label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_apart_with_every_family_and_no_ids() {
    let harness = Harness::start(1.0).await;
    let finance = add_token(&harness, "farid", "finance").await;
    let created = harness
        .run(&["digilocker", "create", "--provider", "cashfree", "--json"])
        .await;
    created.assert_code(0);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let metrics_addr = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        free.local_addr().unwrap().to_string()
    };
    let server = start_server_with(&harness, &["--metrics-addr", &metrics_addr]);
    let api = Api::new(&server.base);
    assert_eq!(api.get("/api/v1/balance", Some(&finance)).await.0, 200);
    let notify = format!("/api/v1/links/{}/notify", crate::harness::cli::SAMPLE_LINK);
    assert_eq!(api.post(&notify, Some(&finance), None).await.0, 200);
    assert_eq!(
        api.get("/metrics", Some(&finance)).await.0,
        404,
        "not on the API"
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let text = loop {
        let text = reqwest::get(format!("http://{metrics_addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("payops_sessions{") || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    for family in [
        "payops_provider_requests_total{",
        "payops_provider_request_duration_seconds_bucket{",
        "payops_provider_budget_wait_seconds_bucket{",
        "payops_http_requests_total{",
        "payops_http_request_duration_seconds_bucket{",
        "payops_sessions{",
        "payops_notifies_total{outcome=\"sent\"}",
        "payops_webhook_deliveries_total{",
        "payops_event_stream_clients",
        "payops_leader 1",
        "payops_store_query_duration_seconds_bucket{",
        "payops_wallet_balance_rupees{kind=\"available\"}",
        "payops_build_info{version=",
    ] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
    assert!(
        text.contains("route=\"/api/v1/links/{id}/notify\""),
        "{text}"
    );
    for secret in [
        finance.as_str(),
        id.as_str(),
        crate::harness::cli::SAMPLE_LINK,
    ] {
        assert!(!text.contains(secret), "{secret} in a label");
    }
}
