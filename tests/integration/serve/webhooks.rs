//! Cashfree's webhook on a real server, delivered by the real simulator or
//! by hand (signed as Cashfree signs): a genuine delivery moves a session
//! and reaches an open event stream; a forged, unsigned, stale, oversized
//! or malformed one changes nothing; repeats and late words leave one
//! history row per change; personal data is kept nowhere; and when
//! deliveries stop, polling takes over again.

use std::time::{Duration, Instant};

use payops::domain::SessionStatus;
use payops::providers::cashfree_webhook::sign;

use super::*;
use crate::harness::cli::credentials;
use crate::harness::server::{Server, start_server_logging};

const PATH: &str = "/api/v1/webhooks/cashfree";

/// A server that expects deliveries (so it polls Cashfree only as a
/// safety net), with the simulator sending them to it.
async fn expecting(extra_env: &[(&str, &str)]) -> (Harness, Server, String) {
    let mut harness = Harness::start(1.0).await;
    harness.set_env("PAYOPS_CASHFREE_WEBHOOKS", "true");
    for (key, value) in extra_env {
        harness.set_env(key, value);
    }
    let token = add_token(&harness, "asha", "admin").await;
    let server = start_server(&harness);
    (harness, server, token)
}

/// A Cashfree session made through the API: (our id, verification_id).
async fn create(api: &Api, token: &str) -> (String, String) {
    let (status, made) = api
        .post(
            "/api/v1/sessions",
            Some(token),
            Some(r#"{"provider": "cashfree", "documents": ["AADHAAR"]}"#),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    (
        made["id"].as_str().unwrap().to_string(),
        made["external_ref"].as_str().unwrap().to_string(),
    )
}

/// A session's history once created, then consented by delivery.
fn consented_by_webhook() -> Vec<(String, String, String)> {
    [
        ("PENDING", "PENDING", "create"),
        ("AUTHENTICATED", "AUTHENTICATED", "webhook"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .to_vec()
}

/// A delivery as Cashfree sends it, for `verification_id`.
fn event(verification_id: &str, outcome: &str, status: &str) -> Value {
    json!({
        "event_type": format!("DIGILOCKER_VERIFICATION_{outcome}"),
        "event_time": "2026-12-04T10:00:00Z",
        "version": "v1",
        "data": {
            "verification_id": verification_id,
            "reference_id": 12345678,
            "status": status,
            "document_requested": ["AADHAAR"],
            "document_consent": ["AADHAAR"],
            "user_details": {
                "name": "Zorawar Quennell", "dob": "17-03-1991", "gender": "M",
                "eaadhaar": "Y", "mobile": "9123498765"
            }
        }
    })
}

fn now_ms() -> String {
    jiff::Timestamp::now().as_millisecond().to_string()
}

/// POSTs `body` with these headers; the answer's status and JSON.
async fn post_raw(api: &Api, headers: &[(&str, String)], body: Vec<u8>) -> (u16, Value) {
    let mut request = api
        .client
        .post(format!("{}{PATH}", api.base))
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A correctly signed delivery of `body`, attempt 1.
async fn deliver(api: &Api, body: &Value) -> (u16, Value) {
    let bytes = body.to_string().into_bytes();
    let timestamp = now_ms();
    let signature = sign(&credentials().cashfree_client_secret, &timestamp, &bytes);
    post_raw(
        api,
        &[
            ("x-webhook-timestamp", timestamp),
            ("x-webhook-signature", signature),
            ("x-webhook-attempt", "1".into()),
        ],
        bytes,
    )
    .await
}

async fn history(api: &Api, token: &str, id: &str) -> Vec<(String, String, String)> {
    let (status, events) = api
        .get(&format!("/api/v1/sessions/{id}/events"), Some(token))
        .await;
    assert_eq!(status, 200, "{events}");
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap().to_string(),
                e["provider_status"].as_str().unwrap().to_string(),
                e["learned"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_delivery_moves_the_session_and_reaches_an_open_stream_within_a_second() {
    let (harness, server, token) = expecting(&[]).await;
    let api = Api::new(&server.base);
    let (id, verification_id) = create(&api, &token).await;
    let (arrived, seen) = crate::harness::server::consent_delivered(
        &harness,
        &server,
        &token,
        &server,
        (&id, &verification_id),
    )
    .await;
    println!("status change to stream: {} ms", arrived.as_millis());
    assert!(arrived < Duration::from_secs(1), "{arrived:?}");
    assert!(seen.contains("\"webhook\""), "{seen}");
    let (_, session) = api
        .get(&format!("/api/v1/sessions/{id}"), Some(&token))
        .await;
    assert_eq!(session["status"], "AUTHENTICATED");
    assert_eq!(session["status_learned"], "webhook");
    assert_eq!(history(&api, &token, &id).await, consented_by_webhook());
    let stats = harness.sim.webhook_stats();
    assert_eq!(stats.outcomes.get("applied"), Some(&1), "{stats:?}");
    // The CLI's status shows the same history, and how each was learned.
    let status = harness.run(&["digilocker", "status", &id]).await;
    status.assert_code(0);
    assert!(status.stdout.contains("webhook"), "{}", status.stdout);
    // The delivery is in the activity log, naming the session.
    let (_, rows) = api
        .get("/api/v1/activity?action=webhook", Some(&token))
        .await;
    assert_eq!(rows[0]["target"], id.as_str(), "{rows}");
    assert_eq!(rows[0]["outcome"], "done");
}

/// What is wrong, the headers, the body, and the status and kind it gets.
type Refusal<'a> = (&'a str, Vec<(&'a str, String)>, Vec<u8>, u16, &'a str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_unsigned_stale_oversized_and_malformed_deliveries_change_nothing() {
    let (_harness, server, token) = expecting(&[]).await;
    let api = Api::new(&server.base);
    let (id, verification_id) = create(&api, &token).await;
    let good = event(&verification_id, "SUCCESS", "AUTHENTICATED");
    let bytes = good.to_string().into_bytes();
    let secret = credentials().cashfree_client_secret;
    // Both headers, signed with `secret` over `ts` and `signed_body`.
    let headers = |ts: &str, signed_body: &[u8], secret: &str| {
        vec![
            ("x-webhook-timestamp", ts.to_string()),
            ("x-webhook-signature", sign(secret, ts, signed_body)),
        ]
    };
    let ts = now_ms();
    let stale = (jiff::Timestamp::now().as_millisecond() - 6 * 60 * 1000).to_string();
    let not_digilocker = json!({"event_type": "PAYMENT_SUCCESS", "data": {"order_id": "1"}})
        .to_string()
        .into_bytes();
    let huge = vec![b' '; 65 * 1024];
    let mut no_timestamp = headers(&ts, &bytes, &secret);
    no_timestamp.remove(0);
    #[rustfmt::skip]
    let cases: Vec<Refusal> = vec![
        ("unsigned", vec![], bytes.clone(), 401, "signature_missing"),
        ("no timestamp", no_timestamp, bytes.clone(), 401, "signature_missing"),
        ("signed with another secret", headers(&ts, &bytes, "not-the-secret"), bytes.clone(), 401, "bad_signature"),
        ("signature of another body", headers(&ts, b"{}", &secret), bytes.clone(), 401, "bad_signature"),
        ("a replay six minutes old", headers(&stale, &bytes, &secret), bytes.clone(), 401, "stale_delivery"),
        ("over 64 KiB", headers(&ts, &huge, &secret), huge.clone(), 413, "payload_too_large"),
        ("signed, but not a DigiLocker event", headers(&ts, &not_digilocker, &secret), not_digilocker.clone(), 400, "not_a_digilocker_event"),
        ("signed, but not JSON", headers(&ts, b"not json", &secret), b"not json".to_vec(), 400, "not_a_digilocker_event"),
    ];
    for (what, headers, body, status, kind) in cases {
        let (got, answer) = post_raw(&api, &headers, body).await;
        assert_eq!(
            (got, error_kind(&answer)),
            (status, kind),
            "{what}: {answer}"
        );
    }
    let (_, session) = api
        .get(&format!("/api/v1/sessions/{id}"), Some(&token))
        .await;
    assert_eq!(session["status"], "PENDING", "{session}");
    assert_eq!(history(&api, &token, &id).await.len(), 1);
    // Each refusal is a row, refused and saying why; none names the session.
    let (_, rows) = api
        .get("/api/v1/activity?action=webhook", Some(&token))
        .await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 8, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["outcome"] == "refused" && r["target"].is_null())
    );
    // The same delivery, signed with the previous secret after a rotation,
    // is refused until `previous_client_secret` says it was ours.
    let ts = now_ms();
    let (got, _) = post_raw(&api, &headers(&ts, &bytes, "the-old-secret"), bytes.clone()).await;
    assert_eq!(got, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_still_verifies_while_it_is_the_previous_one() {
    let (_harness, server, token) =
        expecting(&[("PAYOPS_CASHFREE_PREVIOUS_CLIENT_SECRET", "the-old-secret")]).await;
    let api = Api::new(&server.base);
    let (id, verification_id) = create(&api, &token).await;
    let bytes = event(&verification_id, "SUCCESS", "AUTHENTICATED")
        .to_string()
        .into_bytes();
    let ts = now_ms();
    let (got, answer) = post_raw(
        &api,
        &[
            ("x-webhook-timestamp", ts.clone()),
            ("x-webhook-signature", sign("the-old-secret", &ts, &bytes)),
        ],
        bytes,
    )
    .await;
    assert_eq!(
        (got, answer["outcome"].as_str()),
        (200, Some("applied")),
        "{answer}"
    );
    assert_eq!(answer["session"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_and_late_words_leave_one_history_row_per_change() {
    let (_harness, server, token) = expecting(&[]).await;
    let api = Api::new(&server.base);
    let (id, verification_id) = create(&api, &token).await;
    let v = verification_id.as_str();
    // (delivery, what it does)
    let cases = [
        (event(v, "SUCCESS", "AUTHENTICATED"), "applied"),
        (event(v, "SUCCESS", "AUTHENTICATED"), "duplicate"),
        // The link's window closing after consent is no news.
        (event(v, "LINK_EXPIRED", "EXPIRED"), "stale"),
        // The consent's hour running out is.
        (event(v, "CONSENT_EXPIRED", "AUTHENTICATED"), "applied"),
        (event(v, "CONSENT_EXPIRED", "AUTHENTICATED"), "duplicate"),
        // A success overtaken by the expiry arrives last: stale.
        (event(v, "SUCCESS", "AUTHENTICATED"), "stale"),
        (
            event("never-ours-1", "SUCCESS", "AUTHENTICATED"),
            "untracked",
        ),
    ];
    for (body, outcome) in cases {
        let (status, answer) = deliver(&api, &body).await;
        assert_eq!(
            (status, answer["outcome"].as_str()),
            (200, Some(outcome)),
            "{body}: {answer}"
        );
    }
    let mut expected = consented_by_webhook();
    expected.push((
        "AUTHENTICATED".into(),
        "CONSENT_EXPIRED".into(),
        "webhook".into(),
    ));
    assert_eq!(history(&api, &token, &id).await, expected);
    let (_, session) = api
        .get(&format!("/api/v1/sessions/{id}"), Some(&token))
        .await;
    assert_eq!(session["status"], "AUTHENTICATED");
    assert_eq!(session["provider_status"], "CONSENT_EXPIRED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_in_a_delivery_is_found_nowhere() {
    let harness = {
        let mut harness = Harness::start(1.0).await;
        harness.set_env("PAYOPS_CASHFREE_WEBHOOKS", "true");
        harness
    };
    let token = add_token(&harness, "asha", "admin").await;
    let (server, log) = start_server_logging(&harness, &[]);
    let api = Api::new(&server.base);
    let (id, verification_id) = create(&api, &token).await;
    let mut answers = String::new();
    for body in [
        event(&verification_id, "SUCCESS", "AUTHENTICATED"),
        event("never-ours-2", "SUCCESS", "AUTHENTICATED"),
    ] {
        let (status, answer) = deliver(&api, &body).await;
        assert_eq!(status, 200);
        answers.push_str(&answer.to_string());
    }
    for path in [
        format!("/api/v1/sessions/{id}"),
        format!("/api/v1/sessions/{id}/events"),
        "/api/v1/sessions".to_string(),
        "/api/v1/activity".to_string(),
    ] {
        answers.push_str(&api.get(&path, Some(&token)).await.1.to_string());
    }
    drop(server);
    let mut written = harness.all_written_bytes();
    written.extend(log.lock().unwrap().join("\n").into_bytes());
    written.extend(answers.into_bytes());
    let written = String::from_utf8_lossy(&written);
    for personal in ["Zorawar", "Quennell", "9123498765", "17-03-1991"] {
        assert!(!written.contains(personal), "{personal} was kept somewhere");
    }
}

/// Polls `id` until it says AUTHENTICATED; how long that took.
async fn learned_within(api: &Api, token: &str, id: &str, within: Duration) -> (Duration, Value) {
    let started = Instant::now();
    loop {
        let (_, session) = api
            .get(&format!("/api/v1/sessions/{id}"), Some(token))
            .await;
        if session["status"] == "AUTHENTICATED" {
            return (started.elapsed(), session);
        }
        assert!(started.elapsed() < within, "not learned: {session}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn webhook_health(api: &Api) -> Value {
    api.get("/healthz", None).await.1["webhooks"]["cashfree"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_deliveries_stop_sessions_are_polled_as_usual_until_one_arrives() {
    let (harness, server, token) = expecting(&[("PAYOPS_CASHFREE_WEBHOOK_QUIET", "5s")]).await;
    let api = Api::new(&server.base);
    let health = webhook_health(&api).await;
    assert_eq!(
        (health["expected"].as_bool(), health["polling"].as_str()),
        (Some(true), Some("webhook_backed")),
        "{health}"
    );
    // No URL is registered at the simulator: nothing will be delivered.
    // An operator's refresh learns an outcome no delivery brought...
    let (first, first_ref) = create(&api, &token).await;
    assert!(
        harness
            .sim
            .force_session_status(&first_ref, SessionStatus::Authenticated)
    );
    let (status, _) = api
        .post(
            &format!("/api/v1/sessions/{first}/refresh"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    // ...and once the quiet period has passed without one, the server says
    // deliveries are missing.
    let started = Instant::now();
    let health = loop {
        let health = webhook_health(&api).await;
        if health["polling"] == "fallback" {
            break health;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{health}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(health["quiet_secs"].as_u64().unwrap() >= 5, "{health}");
    assert!(health["last_delivery"].is_null());
    // Sessions are polled at the regular pace again: a change is learned
    // by poll within seconds, not the safety net's minutes.
    let (second, second_ref) = create(&api, &token).await;
    assert!(
        harness
            .sim
            .force_session_status(&second_ref, SessionStatus::Authenticated)
    );
    let (took, session) = learned_within(&api, &token, &second, Duration::from_secs(20)).await;
    println!(
        "in fallback, learned by polling {} ms after the change",
        took.as_millis()
    );
    assert_eq!(session["status_learned"], "poll", "{session}");
    // A delivery (even for a session this server does not know) says they
    // arrive again.
    let (status, _) = deliver(&api, &event("never-ours-3", "SUCCESS", "AUTHENTICATED")).await;
    assert_eq!(status, 200);
    let health = webhook_health(&api).await;
    assert_eq!(health["polling"], "webhook_backed", "{health}");
    assert!(health["last_delivery"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_tracking_stopped_is_not_changed_by_a_delivery() {
    let (_harness, server, token) = expecting(&[]).await;
    let api = Api::new(&server.base);
    let (id, verification_id) = create(&api, &token).await;
    let (status, _) = api
        .post(&format!("/api/v1/sessions/{id}/stop"), Some(&token), None)
        .await;
    assert_eq!(status, 200);
    let (status, answer) =
        deliver(&api, &event(&verification_id, "SUCCESS", "AUTHENTICATED")).await;
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (200, Some("untracked")),
        "{answer}"
    );
    let (_, session) = api
        .get(&format!("/api/v1/sessions/{id}"), Some(&token))
        .await;
    assert_eq!(session["status"], "PENDING", "{session}");
}
