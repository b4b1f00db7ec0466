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
