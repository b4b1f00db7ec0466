//! What a security review asks of the server: tokens that expire and
//! rotate and say so, whoami, and an activity row for every change made
//! through it, allowed or refused, naming the operator and the request.

use super::clients::{client, client_env};
use super::*;
use crate::harness::server::{Server, add_tokens};

/// A request with our own request id, so its activity row can be found.
async fn act(
    api: &Api,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
    id: &str,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = api
        .client
        .request(method, format!("{}{path}", api.base))
        .bearer_auth(token)
        .header("x-request-id", id);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// method, path, token, body, request id, the status it must get.
type Attempt<'a> = (&'a str, String, &'a str, Option<Value>, &'a str, u16);

/// `payops ARGS` through the server with `token`, off the async runtime.
async fn through(
    server: &Server,
    token: &str,
    home: &std::path::Path,
    args: &[&str],
) -> crate::harness::cli::Run {
    let env = client_env(&server.base, token, home);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        client(&env, &args)
    })
    .await
    .unwrap()
}

/// `payops` through one server from one laptop, with a token of choice.
struct Laptop<'a> {
    server: &'a Server,
    home: &'a std::path::Path,
}

impl Laptop<'_> {
    async fn run(&self, token: &str, args: &[&str]) -> crate::harness::cli::Run {
        through(self.server, token, self.home, args).await
    }
}

/// `serve token add NAME --role ROLE --expires LIFETIME` on the host: the
/// token, once the command said when it expires.
async fn token_lasting(harness: &Harness, name: &str, role: &str, lifetime: &str) -> String {
    let args = [
        "serve",
        "token",
        "add",
        name,
        "--role",
        role,
        "--expires",
        lifetime,
    ];
    let made = harness.run(&args).await;
    made.assert_code(0);
    assert!(made.stdout.contains("expires"), "{}", made.stdout);
    last_line(&made)
}

fn last_line(run: &crate::harness::cli::Run) -> String {
    run.stdout
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_expire_and_rotate_and_the_refusal_says_so() {
    let harness = Harness::start(1.0).await;
    let home = tempfile::tempdir().unwrap();
    let brief = token_lasting(&harness, "brief", "viewer", "2s").await;
    let [root, asha] = add_tokens(&harness, [("root", "admin"), ("asha", "support")]).await;
    let server = start_server(&harness);
    let cli = Laptop {
        server: &server,
        home: home.path(),
    };
    let api = Api::new(&server.base);

    let (status, me) = api.get("/api/v1/whoami", Some(&brief)).await;
    assert_eq!(status, 200, "{me}");
    assert!(me["expires_at"].is_string(), "{me}");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, refused) = api.get("/api/v1/sessions", Some(&brief)).await;
    assert_eq!(
        (status, error_kind(&refused)),
        (401, "token_expired"),
        "{refused}"
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired at"),
        "{refused}"
    );
    cli.run(&brief, &["digilocker", "list"])
        .await
        .assert_clean_failure(2, "expired at");

    // Rotated without a grace: the old token is refused at once, the new
    // one is the same operator with the same role.
    let rotated = cli.run(&root, &["serve", "token", "rotate", "asha"]).await;
    rotated.assert_code(0);
    assert!(
        rotated
            .stdout
            .contains("the old token is refused from now on"),
        "{}",
        rotated.stdout
    );
    let asha2 = last_line(&rotated);
    assert_eq!(api.get("/api/v1/whoami", Some(&asha)).await.0, 401);
    let (status, me) = api.get("/api/v1/whoami", Some(&asha2)).await;
    assert_eq!(
        (status, me["name"].as_str(), me["role"].as_str()),
        (200, Some("asha"), Some("support")),
        "{me}"
    );

    // With a grace, both work until it ends.
    let rotated = cli
        .run(
            &root,
            &["serve", "token", "rotate", "asha", "--grace", "3s"],
        )
        .await;
    rotated.assert_code(0);
    assert!(
        rotated.stdout.contains("the old token works until"),
        "{}",
        rotated.stdout
    );
    let asha3 = last_line(&rotated);
    assert_eq!(
        api.get("/api/v1/whoami", Some(&asha2)).await.0,
        200,
        "in its grace"
    );
    assert_eq!(api.get("/api/v1/whoami", Some(&asha3)).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    assert_eq!(
        api.get("/api/v1/whoami", Some(&asha2)).await.0,
        401,
        "after its grace"
    );
    assert_eq!(api.get("/api/v1/whoami", Some(&asha3)).await.0, 200);

    // A rotated token lasts as long as the old one was made to; a grace
    // longer than a week is refused.
    token_lasting(&harness, "day", "viewer", "1d").await;
    let rotated = cli
        .run(&root, &["serve", "token", "rotate", "day", "--json"])
        .await;
    rotated.assert_code(0);
    let expires: jiff::Timestamp = rotated.json()["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let hours = jiff::Timestamp::now().duration_until(expires).as_hours();
    assert!((23..=24).contains(&hours), "{}", rotated.stdout);
    cli.run(&root, &["serve", "token", "rotate", "day", "--grace", "8d"])
        .await
        .assert_clean_failure(2, "--grace");

    // The list says which is which; a new token lives 90 days unless asked.
    let listed = cli.run(&root, &["serve", "token", "list", "--json"]).await;
    listed.assert_code(0);
    let tokens = listed.json();
    let rows = tokens.as_array().unwrap();
    let root_row = rows.iter().find(|t| t["name"] == "root").unwrap();
    let expires: jiff::Timestamp = root_row["expires_at"].as_str().unwrap().parse().unwrap();
    let days = jiff::Timestamp::now().duration_until(expires).as_hours() / 24;
    assert!((89..=90).contains(&days), "{root_row}");
    assert_eq!(
        rows.iter().filter(|t| t["name"] == "asha").count(),
        3,
        "{tokens}"
    );
    let human = cli.run(&root, &["serve", "token", "list"]).await;
    for needle in ["expires", "expired", "revoked", "last_used"] {
        assert!(human.stdout.contains(needle), "{needle}: {}", human.stdout);
    }
    // A lifetime that is not one is refused naming the flag.
    cli.run(
        &root,
        &[
            "serve",
            "token",
            "add",
            "x",
            "--role",
            "viewer",
            "--expires",
            "soon",
        ],
    )
    .await
    .assert_clean_failure(2, "--expires");
    let (status, refused) = api
        .post(
            "/api/v1/tokens",
            Some(&root),
            Some(r#"{"name":"y","role":"viewer","expires":"2026-01-01"}"#),
        )
        .await;
    assert_eq!(
        (status, error_field(&refused)),
        (400, Some("expires")),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoami_in_both_forms_and_a_warning_before_the_token_expires() {
    let harness = Harness::start(1.0).await;
    let home = tempfile::tempdir().unwrap();
    let soon = token_lasting(&harness, "sunita", "finance", "2d").await;
    let lasting = token_lasting(&harness, "lata", "viewer", "never").await;
    let server = start_server(&harness);
    let cli = Laptop {
        server: &server,
        home: home.path(),
    };

    let human = cli.run(&soon, &["whoami"]).await;
    human.assert_code(0);
    for needle in ["server", "sunita", "finance", "token expires", "127.0.0.1"] {
        assert!(human.stdout.contains(needle), "{needle}: {}", human.stdout);
    }
    assert!(
        human.stderr.contains("warning: your token expires in"),
        "{}",
        human.stderr
    );
    let json = cli.run(&soon, &["whoami", "--json"]).await.json();
    assert_eq!(
        (json["operator"].as_str(), json["role"].as_str()),
        (Some("sunita"), Some("finance")),
        "{json}"
    );
    assert!(
        json["expires_at"].is_string() && json["server"].is_string(),
        "{json}"
    );

    let never = cli.run(&lasting, &["whoami"]).await;
    assert!(never.stdout.contains("never"), "{}", never.stdout);
    assert!(!never.stderr.contains("warning"), "{}", never.stderr);
    let json = cli.run(&lasting, &["whoami", "--json"]).await.json();
    assert!(json["expires_at"].is_null(), "{json}");

    // Without a server there is no token to ask about: it says so.
    let solo = harness.run(&["whoami"]).await;
    solo.assert_code(0);
    assert!(solo.stdout.contains("solo mode"), "{}", solo.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_allowed_or_refused_leaves_one_activity_row() {
    let harness = Harness::start(1.0).await;
    let home = tempfile::tempdir().unwrap();
    let [asha, farid, vera, root] = add_tokens(
        &harness,
        [
            ("asha", "support"),
            ("farid", "finance"),
            ("vera", "viewer"),
            ("root", "admin"),
        ],
    )
    .await;
    let server = start_server(&harness);
    let cli = Laptop {
        server: &server,
        home: home.path(),
    };
    let api = Api::new(&server.base);

    let create = json!({"provider": "cashfree", "documents": ["AADHAAR"], "label": "T-1"});
    let (status, session) = act(
        &api,
        "POST",
        "/api/v1/sessions",
        &asha,
        Some(create),
        "r-create",
    )
    .await;
    assert_eq!(status, 201, "{session}");
    let id = session["id"].as_str().unwrap().to_string();
    let reference = session["reference"].as_str().unwrap().to_string();
    let on = |tail: &str| format!("/api/v1/sessions/{id}{tail}");
    let link = payops::sim::SAMPLE_LINK_ID;
    let attempts: Vec<Attempt> = vec![
        (
            "PUT",
            on("/label"),
            &asha,
            Some(json!({"label": "T-2"})),
            "r-label",
            200,
        ),
        ("POST", on("/refresh"), &asha, None, "r-refresh", 200),
        (
            "POST",
            "/api/v1/sessions/track".into(),
            &asha,
            Some(json!({"provider": "cashfree", "reference": reference})),
            "r-track",
            200,
        ),
        ("POST", on("/stop"), &asha, None, "r-stop", 200),
        (
            "POST",
            format!("/api/v1/links/{link}/notify"),
            &farid,
            None,
            "r-notify",
            200,
        ),
        (
            "POST",
            "/api/v1/balance/refresh".into(),
            &farid,
            None,
            "r-balance_refresh",
            202,
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            &root,
            Some(json!({"name": "neha", "role": "viewer"})),
            "r-token_add",
            201,
        ),
        (
            "POST",
            "/api/v1/tokens/neha/rotate".into(),
            &root,
            Some(json!({"grace": "1h"})),
            "r-token_rotate",
            201,
        ),
        (
            "POST",
            "/api/v1/tokens/neha/revoke".into(),
            &root,
            None,
            "r-token_revoke",
            200,
        ),
        // Refused: a role without the right, a token that is not one, a
        // body that is not the object described.
        (
            "POST",
            "/api/v1/sessions".into(),
            &vera,
            Some(json!({"provider": "cashfree"})),
            "r-no-role",
            403,
        ),
        (
            "POST",
            on("/stop"),
            "payops_not-a-token",
            None,
            "r-no-token",
            401,
        ),
        (
            "PUT",
            on("/label"),
            &asha,
            Some(json!({"label": 7})),
            "r-bad-body",
            400,
        ),
    ];
    for (method, path, token, body, request, expected) in &attempts {
        let (status, answer) = act(&api, method, path, token, body.clone(), request).await;
        assert_eq!(status, *expected, "{method} {path}: {answer}");
    }

    let (status, rows) = api.get("/api/v1/activity?limit=1000", Some(&root)).await;
    assert_eq!(status, 200, "{rows}");
    let text = rows.to_string();
    for secret in [&asha, &farid, &vera, &root] {
        assert!(
            !text.contains(secret.as_str()),
            "a token in the activity log"
        );
    }
    assert!(
        !text.contains("payops_"),
        "a token in the activity log: {text}"
    );
    let row = |request: &str| -> Value {
        let matching: Vec<&Value> = rows
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["request_id"] == request)
            .collect();
        assert_eq!(matching.len(), 1, "one row for {request}: {rows}");
        matching[0].clone()
    };
    let is = |found: &Value, operator: &str, action: &str, outcome: &str| {
        assert_eq!(
            (
                found["operator"].as_str(),
                found["action"].as_str(),
                found["outcome"].as_str()
            ),
            (Some(operator), Some(action), Some(outcome)),
            "{found}"
        );
    };
    // Each change made, under its request id `r-ACTION`.
    let sessions = ["create", "label", "refresh", "track", "stop"];
    let money = ["notify", "balance_refresh"];
    let tokens = ["token_add", "token_rotate", "token_revoke"];
    for (operator, actions) in [
        ("asha", &sessions[..]),
        ("farid", &money),
        ("root", &tokens),
    ] {
        for action in actions {
            is(&row(&format!("r-{action}")), operator, action, "done");
        }
    }
    is(&row("r-no-role"), "vera", "create", "refused");
    is(&row("r-no-token"), "(refused token)", "stop", "refused");
    is(&row("r-bad-body"), "asha", "label", "refused");
    assert_eq!(row("r-label")["detail"], "label T-2");
    assert_eq!(row("r-create")["target"], id.as_str());
    assert_eq!(row("r-track")["target"], id.as_str());
    assert_eq!(row("r-notify")["target"], link);
    assert!(
        row("r-no-role")["reason"]
            .as_str()
            .unwrap()
            .starts_with("403"),
        "{rows}"
    );
    // A refused attempt names what it was aimed at, too.
    assert_eq!(row("r-no-token")["target"], id.as_str());
    assert_eq!(row("r-bad-body")["target"], id.as_str());
    assert!(row("r-no-role")["target"].is_null(), "{rows}");

    // Narrowed, and refused to anyone but an admin.
    let (_, labels) = api.get("/api/v1/activity?action=label", Some(&root)).await;
    assert!(
        labels
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "label"),
        "{labels}"
    );
    let (_, farids) = api
        .get("/api/v1/activity?operator=farid&since=1h", Some(&root))
        .await;
    assert_eq!(farids.as_array().unwrap().len(), 2, "{farids}");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("since=banana", "since"),
        ("all=1", "all"),
    ] {
        let (status, refused) = api
            .get(&format!("/api/v1/activity?{query}"), Some(&root))
            .await;
        assert_eq!(
            (status, error_field(&refused)),
            (400, Some(field)),
            "{query}: {refused}"
        );
    }
    for token in [&asha, &vera] {
        assert_eq!(api.get("/api/v1/activity", Some(token)).await.0, 403);
    }

    // What a caller sends cannot become a formula in an auditor's
    // spreadsheet: a request id that is not plain is replaced, a target
    // that looks like a formula is made text.
    let (status, _) = act(
        &api,
        "POST",
        "/api/v1/sessions/=1+1/stop",
        &asha,
        None,
        "=HYPERLINK(1)",
    )
    .await;
    assert_eq!(status, 404);
    let (_, latest) = api.get("/api/v1/activity?limit=1", Some(&root)).await;
    assert_eq!(latest[0]["target"], "=1+1", "{latest}");
    assert_ne!(latest[0]["request_id"], "=HYPERLINK(1)", "{latest}");

    // For an auditor, and as a table.
    let csv = cli
        .run(&root, &["activity", "--since", "24h", "--csv"])
        .await;
    csv.assert_code(0);
    assert!(
        csv.stdout
            .starts_with("at,operator,action,target,detail,outcome,reason,request_id\n"),
        "{}",
        csv.stdout
    );
    assert!(csv.stdout.contains(",r-create\n"), "{}", csv.stdout);
    assert!(csv.stdout.contains(",'=1+1,"), "{}", csv.stdout);
    let table = cli.run(&root, &["activity", "--operator", "vera"]).await;
    assert!(table.stdout.contains("refused: 403"), "{}", table.stdout);
    cli.run(&asha, &["activity"])
        .await
        .assert_clean_failure(2, "admin");

    // A token made on the server's host, without the API, is a row too.
    drop(server);
    harness
        .run(&["serve", "token", "add", "hari", "--role", "viewer"])
        .await
        .assert_code(0);
    let local = harness
        .run(&["activity", "--action", "token_add", "--json"])
        .await;
    local.assert_code(0);
    let rows = local.json();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["target"] == "hari" && r["request_id"].is_null()),
        "{rows}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_event_stream_ends_when_its_token_expires() {
    use futures::StreamExt;
    let harness = Harness::start(1.0).await;
    let brief = token_lasting(&harness, "brief", "viewer", "3s").await;
    let server = start_server(&harness);
    let mut stream = crate::harness::server::events(&server, &brief).await;
    let opened = std::time::Instant::now();
    // Keep-alives may come; past the expiry the stream must end, within a
    // keep-alive period.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream outlived its token's expiry by 17 s"
    );
    let lasted = opened.elapsed();
    assert!(
        lasted >= std::time::Duration::from_millis(2500),
        "ended early: {lasted:?}"
    );
    println!("a 3 s token's stream ended after {lasted:.1?}");
}
