//! `payops link`, `notify` and `audit`: a notify sent, declined or refused,
//! and the audit trail that keeps every attempt.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_notify_and_audit() {
    let mut h = Harness::start(1.0).await;
    h.set_env("PAYOPS_OPERATOR_NAME", "asha");
    let link = h.run(&["link", SAMPLE_LINK, "--json"]).await;
    link.assert_code(0);
    let l = link.json();
    assert_eq!(l["link_id"], SAMPLE_LINK);
    assert_eq!(l["status"], "ISSUED");
    let amount = text(&l, "amount");
    assert!(amount.parse::<rust_decimal::Decimal>().is_ok(), "{amount}");
    assert!(l["activity"].is_array());

    // no terminal and no --yes: refused, nothing sent
    let refused = h.run(&["notify", SAMPLE_LINK]).await;
    refused.assert_clean_failure(2, "--yes");
    assert_eq!(h.sim.notify_count(SAMPLE_LINK), 0);

    let sent = h.run(&["notify", SAMPLE_LINK, "--yes", "--json"]).await;
    sent.assert_code(0);
    let n = sent.json();
    assert_eq!(n["outcome"], "sent");
    let message = text(&n, "message");
    assert!(message.contains("Notification Link Sent"), "{message}");
    assert!(!text(&n, "request_id").is_empty());
    assert!(text(&n, "at").parse::<jiff::Timestamp>().is_ok(), "{n}");
    assert_eq!(h.sim.notify_count(SAMPLE_LINK), 1);

    // a second one within 10 minutes needs --again, and says who sent the first
    let twice = h.run(&["notify", SAMPLE_LINK, "--yes"]).await;
    twice.assert_clean_failure(2, "--again");
    assert!(
        twice
            .stderr
            .contains("was sent once in the last 10 minutes, last at"),
        "{}",
        twice.stderr
    );
    assert!(twice.stderr.contains("by asha"), "{}", twice.stderr);
    assert_eq!(h.sim.notify_count(SAMPLE_LINK), 1);
    let again = h
        .run(&["notify", SAMPLE_LINK, "--yes", "--again", "--json"])
        .await;
    again.assert_code(0);
    assert_eq!(h.sim.notify_count(SAMPLE_LINK), 2);

    let audit = h.run(&["audit", "--json"]).await;
    audit.assert_code(0);
    let entries = audit.json();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let first: jiff::Timestamp = entries[0]["at"].as_str().unwrap().parse().unwrap();
    let second: jiff::Timestamp = entries[1]["at"].as_str().unwrap().parse().unwrap();
    assert!(first >= second, "newest first");
    assert!(entries.iter().all(|e| e["outcome"] == "sent"));
    assert!(entries.iter().all(|e| e["actor"] == "asha"), "{entries:?}");
    let table = h.run(&["audit"]).await;
    assert!(table.stdout.contains(SAMPLE_LINK));
    assert!(table.stdout.contains("asha"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_on_a_claimed_link_is_declined_with_exit_1() {
    let h = Harness::start(1.0).await;
    let claimed = sim::DEMO_LINKS
        .iter()
        .find(|(_, status)| *status == "CLAIMED")
        .map(|(id, _)| *id)
        .unwrap();
    let run = h.run(&["notify", claimed, "--yes", "--json"]).await;
    run.assert_code(1);
    let v = run.json();
    assert_eq!(v["outcome"], "declined");
    assert!(v["error"]["provider_code"].is_string(), "{v}");
    assert!(run.stderr.contains("not ISSUED"), "warned: {}", run.stderr);
    let audit = h.run(&["audit", "--json"]).await.json();
    assert_eq!(audit[0]["outcome"], "declined");
    // A declined attempt reached nobody: trying again needs no --again.
    h.run(&["notify", claimed, "--yes"]).await.assert_code(1);
}

/// "n" at the notify prompt sends nothing, records nothing, and says so
/// with its own exit status (5), which a script can tell from success.
#[test]
fn no_at_the_prompt_is_not_sent_with_its_own_status() {
    use crate::harness::pty::{PtyApp, fresh_home};
    let home = tempfile::tempdir().unwrap();
    let env = fresh_home(home.path());
    let mut app = PtyApp::spawn(&["--demo", "notify", SAMPLE_LINK], &env, 24, 100);
    app.wait_for("[y/N]", std::time::Duration::from_secs(20));
    app.keys(b"n\r");
    let status = app.wait_exit(std::time::Duration::from_secs(10));
    assert_eq!(status.exit_code(), 5, "{}", app.text());
    assert!(app.text().contains("not sent"), "{}", app.text());
    let audit = PtyApp::spawn(&["--demo", "audit", "--json"], &env, 24, 100);
    let listed = audit.wait_for("]", std::time::Duration::from_secs(20));
    assert!(listed.contains("[]"), "nothing recorded: {listed}");
}

/// `--limit 0` is refused naming the flag, not answered "none yet".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_limit_out_of_range_is_refused() {
    let h = Harness::start(1.0).await;
    for limit in ["0", "1001"] {
        h.run(&["audit", "--limit", limit])
            .await
            .assert_clean_failure(2, "--limit");
    }
}

/// `watch` waits out a provider that fails for a while, saying so, and
/// still ends with the session's fate (exit 0 or 1, never 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_waits_out_a_failing_provider() {
    let h = Harness::start(100.0).await;
    let created = h.create_cashfree().await;
    let id = text(&created, "id").to_string();
    h.sim.set_faults(payops::sim::Faults {
        server_error: 1.0,
        ..payops::sim::Faults::none()
    });
    let args = ["digilocker", "watch", &id, "--interval", "1", "--json"];
    let (watched, ()) = tokio::join!(h.run(&args), async {
        // Longer than the client's own retries of one poll.
        tokio::time::sleep(std::time::Duration::from_secs(8)).await;
        h.sim.set_faults(payops::sim::Faults::none());
    });
    assert!(
        watched.stderr.contains("retrying in"),
        "{} {} {}",
        watched.code,
        watched.stdout,
        watched.stderr
    );
    assert!(
        [0, 1].contains(&watched.code),
        "{} {}",
        watched.code,
        watched.stderr
    );
    let status = watched.json()["status"].as_str().unwrap().to_string();
    assert!(
        ["AUTHENTICATED", "EXPIRED", "CONSENT_DENIED"].contains(&status.as_str()),
        "{status}"
    );
}
