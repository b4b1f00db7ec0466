//! The API does what its OpenAPI document says: Schemathesis generates
//! requests from the document (valid ones, and ones just outside each
//! documented range) against a real server on the simulator, and checks
//! every answer's status, content type, headers and body against it.

use super::*;
use crate::harness::fuzzer::schemathesis;

/// Rules the document states in words but JSON Schema cannot: a create's
/// fields depend on the provider (InstantPay takes no document list) and
/// on the server's `[defaults]`, so a well-formed body may still be
/// refused, 400, naming the field. The sample link gives the link routes
/// something the simulator knows, and the token routes a token to turn.
const CONFIG: &str = r#"
[[operations]]
include-path = "/api/v1/sessions"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", 400, 401, 403, 404, 409, 422, 429, "5xx"]

[[operations]]
include-path-regex = "^/api/v1/links/"
parameters = { id = "657aa9841b8d3897ff0a84fb" }

[[operations]]
include-path-regex = "^/api/v1/tokens/"
parameters = { name = "target" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fuzzer_driven_by_the_openapi_document_finds_nothing() {
    let fuzzer = schemathesis();
    let harness = Harness::start(1.0).await;
    let server = start_server_with(&harness, &["--requests-per-minute", "100000"]);
    let config = harness.data_dir().join("schemathesis.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let seed = std::env::var("PAYOPS_FUZZ_SEED").unwrap_or_else(|_| "1".into());
    let document = format!("{}/api/v1/openapi.json", server.base);
    // Every route but the event stream (it never ends: tests of its own
    // cover it); a token's rotation and revocation run last, with a token
    // of their own, since they may end the one they use.
    let passes: [(&str, &[&str]); 2] = [
        (
            "root",
            &[
                "--exclude-path",
                "/api/v1/events",
                "--exclude-path-regex",
                "/tokens/\\{name\\}/",
            ],
        ),
        ("keys", &["--include-path-regex", "/tokens/\\{name\\}/"]),
    ];
    add_token(&harness, "target", "viewer").await;
    for (admin, narrowing) in passes {
        let token = add_token(&harness, admin, "admin").await;
        let started = std::time::Instant::now();
        let output = Command::new(&fuzzer)
            .arg("--no-color")
            .arg("--config-file")
            .arg(&config)
            .args(["run", &document, "--checks", "all", "--max-examples", "10"])
            .args(["--workers", "2", "--seed", &seed])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args(narrowing)
            .current_dir(harness.data_dir())
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&output.stdout);
        let summary: Vec<&str> = report
            .lines()
            .filter(|line| line.contains("generated") || line.contains("Seed:"))
            .collect();
        println!(
            "fuzzer pass {narrowing:?}: {} in {:.0?}",
            summary.join(" / ").trim(),
            started.elapsed()
        );
        assert!(
            output.status.success(),
            "the fuzzer found the API doing other than its document says \
             (replay with PAYOPS_FUZZ_SEED={seed}):\n{report}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if std::env::var("PAYOPS_FUZZ_REPORT").is_ok() {
            println!("{report}");
        }
        assert!(!report.contains(&token), "the report shows the token");
    }
}

/// Checks each frame's data against the document's schema, with the
/// JSON Schema validator the fuzzer brings.
const VALIDATE: &str = r##"
import json, sys
import jsonschema_rs
doc = json.load(open(sys.argv[1]))
frames = json.load(open(sys.argv[2]))
update = jsonschema_rs.validator_for({"$ref": "#/components/schemas/Update", "components": doc["components"]})
wrong = []
for event, data in frames:
    if event in ("snapshot", "change"):
        errors = [e.message for e in update.iter_errors(data)]
        if errors:
            wrong.append({"event": event, "type": data.get("type"), "errors": errors[:3]})
print(json.dumps(wrong))
sys.exit(1 if wrong else 0)
"##;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_streams_frames_match_their_documented_schemas() {
    use futures::StreamExt;
    let python = schemathesis().with_file_name("python3");
    let harness = Harness::start(1.0).await;
    let [asha, farid] =
        crate::harness::server::add_tokens(&harness, [("asha", "support"), ("farid", "finance")])
            .await;
    let server = start_server(&harness);
    let api = Api::new(&server.base);
    let mut stream = crate::harness::server::events(&server, &asha).await;
    // Changes of every kind the stream carries: a session, a balance
    // reading, a notify's audit row, a session untracked.
    let (status, session) = api
        .post(
            "/api/v1/sessions",
            Some(&asha),
            Some(r#"{"provider":"cashfree"}"#),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let id = session["id"].as_str().unwrap();
    // A balance fetched now is announced at once (a refresh may be
    // debounced behind the engine's own first reading).
    assert_eq!(api.get("/api/v1/balance", Some(&farid)).await.0, 200);
    for (path, token, expected) in [
        (format!("/api/v1/sessions/{id}/refresh"), &asha, 200),
        (
            format!("/api/v1/links/{}/notify", payops::sim::SAMPLE_LINK_ID),
            &farid,
            200,
        ),
        (format!("/api/v1/sessions/{id}/stop"), &asha, 200),
    ] {
        assert_eq!(
            api.post(&path, Some(token), None).await.0,
            expected,
            "{path}"
        );
    }
    let mut text = String::new();
    let mut frames: Vec<(String, Value)> = Vec::new();
    let seen =
        |frames: &[(String, Value)], kind: &str| frames.iter().any(|(_, d)| d["type"] == kind);
    // Generous: the changes pass through the engine's store watch, which
    // a loaded machine slows.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while ![
        "loaded",
        "session_changed",
        "balance_fetched",
        "audit_changed",
        "session_untracked",
    ]
    .iter()
    .all(|kind| seen(&frames, kind))
    {
        let Ok(chunk) = tokio::time::timeout_at(deadline, stream.next()).await else {
            let kinds: Vec<&Value> = frames.iter().map(|(_, data)| &data["type"]).collect();
            panic!("not every kind of event within 60 s; seen: {kinds:?}");
        };
        let chunk = chunk.unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let event = block.lines().find_map(|l| l.strip_prefix("event: "));
            let data = block.lines().find_map(|l| l.strip_prefix("data: "));
            if let (Some(event), Some(data)) = (event, data) {
                frames.push((event.to_string(), serde_json::from_str(data).unwrap()));
            }
        }
    }
    let doc = reqwest::get(format!("{}/api/v1/openapi.json", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (doc_path, frames_path) = (
        dir.path().join("openapi.json"),
        dir.path().join("frames.json"),
    );
    std::fs::write(&doc_path, doc).unwrap();
    std::fs::write(&frames_path, serde_json::to_string(&frames).unwrap()).unwrap();
    let checked = Command::new(python)
        .args(["-c", VALIDATE])
        .arg(&doc_path)
        .arg(&frames_path)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{} frames, some not as documented: {}{}",
        frames.len(),
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}
