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
