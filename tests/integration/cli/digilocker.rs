//! `payops balance` and `payops digilocker`: readings and sessions as a
//! script sees them, both providers, labels, tracking and unanswered creates.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_json_has_the_documented_fields() {
    let h = Harness::start(1.0).await;
    let run = h.run(&["balance", "--json"]).await;
    run.assert_code(0);
    let v = run.json();
    assert_eq!(v["provider"], "instantpay");
    assert_eq!(v["account"], "7428585742");
    for field in ["available", "total", "lien"] {
        let s = text(&v, field);
        assert!(s.parse::<rust_decimal::Decimal>().is_ok(), "{field} = {s}");
        assert!(s.contains('.'), "{field} keeps its paise: {s}");
    }
    let fetched_at = text(&v, "fetched_at");
    assert!(
        fetched_at.parse::<jiff::Timestamp>().is_ok(),
        "{fetched_at}"
    );
    assert!(!text(&v, "request_id").is_empty());
    // Human output: a table with the masked account.
    let human = h.run(&["balance"]).await;
    human.assert_code(0);
    assert!(human.stdout.contains("available"));
    assert!(human.stdout.contains("******5742"));
    assert!(!human.stdout.contains("7428585742"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digilocker_create_status_list_watch_for_both_providers() {
    let h = Harness::start(1000.0).await;
    for provider in ["cashfree", "instantpay"] {
        let mut args = vec!["digilocker", "create", "--provider", provider, "--json"];
        if provider == "cashfree" {
            args.extend(["--docs", "aadhaar,pan"]);
        } else {
            args.extend(["--flow", "signin"]);
        }
        let created = h.run(&args).await;
        created.assert_code(0);
        let s = created.json();
        for field in [
            "id",
            "provider",
            "external_ref",
            "reference",
            "status",
            "provider_status",
            "url",
            "created_at",
            "expires_at",
            "documents_requested",
            "documents_consented",
        ] {
            assert!(s.get(field).is_some(), "{field} missing: {s}");
        }
        assert_eq!(s["provider"], provider);
        assert_eq!(s["status"], "PENDING");
        let id = s["id"].as_str().unwrap().to_string();
        let reference = s["reference"].as_str().unwrap().to_string();
        assert!(s["url"].as_str().unwrap().starts_with("https://"));
        let created_at: jiff::Timestamp = s["created_at"].as_str().unwrap().parse().unwrap();
        let expires_at: jiff::Timestamp = s["expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(expires_at.duration_since(created_at).as_secs(), 600);
        if provider == "cashfree" {
            assert_eq!(
                s["documents_requested"],
                serde_json::json!(["AADHAAR", "PAN"])
            );
        }

        // status by our id and by the provider's reference
        for needle in [&id, &reference] {
            let status = h.run(&["digilocker", "status", needle, "--json"]).await;
            status.assert_code(0);
            assert_eq!(status.json()["id"], id.as_str());
        }

        // watch until final: the sim runs 1000x, so the fate arrives in under a second
        let watched = h
            .run(&["digilocker", "watch", &id, "--interval", "1", "--json"])
            .await;
        let w = watched.json();
        let status = w["status"].as_str().unwrap();
        assert!(
            ["AUTHENTICATED", "EXPIRED", "CONSENT_DENIED"].contains(&status),
            "final: {w}"
        );
        assert_eq!(watched.code, if status == "AUTHENTICATED" { 0 } else { 1 });
        if provider == "instantpay" && status == "AUTHENTICATED" {
            assert_eq!(w["provider_status"], "AUTHORIZED");
        }
        if status == "AUTHENTICATED" {
            // user details come back masked, never in the clear
            let mobile = w["user_details"]["mobile"].as_str().unwrap();
            assert!(mobile.starts_with("XXXXXX"), "masked mobile: {mobile}");
        }
    }
    let all = h.run(&["digilocker", "list", "--all", "--json"]).await;
    all.assert_code(0);
    assert_eq!(all.json().as_array().unwrap().len(), 2);
    let active = h.run(&["digilocker", "list", "--json"]).await;
    assert_eq!(
        active.json().as_array().unwrap().len(),
        0,
        "final sessions are not active"
    );
    let table = h.run(&["digilocker", "list", "--all"]).await;
    assert!(table.stdout.contains("cashfree") && table.stdout.contains("instantpay"));
    // In a pipe: a header and one tab-separated, unpadded line a session.
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", table.stdout);
    assert_eq!(
        lines[0],
        "id\tprovider\tstatus\treference\ttime_left\tcreated\tby\tlabel"
    );
    for line in &lines {
        assert_eq!(line.split('\t').count(), 8, "{line}");
        assert!(
            !line.ends_with(' ') && !line.contains("  "),
            "padded: {line:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_history_prints_the_readings_on_record() {
    let h = Harness::start(1.0).await;
    let empty = h.run(&["balance", "--history"]).await;
    empty.assert_code(0);
    assert!(
        empty.stdout.contains("no balance readings since"),
        "{}",
        empty.stdout
    );
    for _ in 0..3 {
        h.run(&["balance"]).await.assert_code(0);
    }
    let json = h.run(&["balance", "--history", "--json"]).await;
    json.assert_code(0);
    let v = json.json();
    let readings = v["readings"].as_array().unwrap();
    assert_eq!(readings.len(), 3, "{v}");
    let at = |r: &serde_json::Value| {
        r["at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    assert!(at(&readings[0]) <= at(&readings[2]), "oldest first");
    assert_eq!(v["latest"], readings[2]);
    for key in ["lowest", "highest"] {
        assert!(readings.contains(&v[key]), "{key}: {v}");
    }
    assert!(readings[0]["available"].as_str().unwrap().contains('.'));

    let csv = h
        .run(&["balance", "--history", "--csv", "--since", "7d"])
        .await;
    csv.assert_code(0);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines[0], "at,account,available,total,lien,request_id");
    assert_eq!(lines.len(), 4, "{}", csv.stdout);
    assert_eq!(lines[1].split(',').count(), 6);

    // Piped, the rows alone (the summary is for people, and in --json).
    let piped = h.run(&["balance", "--history", "--since", "24h"]).await;
    piped.assert_code(0);
    let lines: Vec<&str> = piped.stdout.lines().collect();
    assert_eq!(lines[0], "at\tavailable\ttotal\tlien", "{}", piped.stdout);
    assert_eq!(lines.len(), 4, "{}", piped.stdout);
    assert!(lines[1].contains("\t₹25,000.00\t"), "{}", piped.stdout);

    h.assert_refused(&[
        (&["balance", "--history", "--since", "3x"], "--since"),
        (&["balance", "--history", "--since", "0h"], "not a span"),
        (&["balance", "--since", "7d"], "--history"),
        (&["balance", "--history", "--csv", "--json"], "choose one"),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_carry_a_label_and_who_created_them() {
    let mut h = Harness::start(1.0).await;
    h.set_env("PAYOPS_OPERATOR_NAME", "asha");
    let created = h
        .run(&[
            "digilocker",
            "create",
            "--provider",
            "cashfree",
            "--label",
            "  TKT-4417 ",
            "--json",
        ])
        .await;
    created.assert_code(0);
    let v = created.json();
    assert_eq!(v["label"], "TKT-4417");
    assert_eq!(v["created_by"], "asha");
    let id = v["id"].as_str().unwrap().to_string();

    // Found by our id, changed, shown in the list, cleared.
    let changed = h
        .run(&["digilocker", "label", &id, "case 88 · refund", "--json"])
        .await;
    changed.assert_code(0);
    assert_eq!(changed.json()["label"], "case 88 · refund");
    let list = h.run(&["digilocker", "list"]).await;
    assert!(
        list.stdout.lines().next().unwrap().ends_with("\tlabel"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout.contains("\tcase 88 · refund"),
        "{}",
        list.stdout
    );
    let cleared = h
        .run(&["digilocker", "label", &id, "--clear", "--json"])
        .await;
    cleared.assert_code(0);
    assert!(cleared.json()["label"].is_null());

    // Bad labels are refused before anything is written.
    let long = "x".repeat(65);
    h.run(&[
        "digilocker",
        "create",
        "--provider",
        "cashfree",
        "--label",
        &long,
    ])
    .await
    .assert_clean_failure(2, "--label: is 65 characters; at most 64 allowed");
    assert_eq!(
        h.run(&["digilocker", "list", "--all", "--json"])
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    h.assert_refused(&[
        (&["digilocker", "label", &id, " "], "--clear"),
        (&["digilocker", "label", &id], "--clear"),
        (&["digilocker", "label", "dl-nothere", "x"], "dl-nothere"),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_takes_the_provider_from_the_defaults() {
    let mut h = Harness::start(1.0).await;
    let missing = h.run(&["digilocker", "create"]).await;
    missing.assert_clean_failure(2, "[defaults]");
    h.set_env("PAYOPS_DEFAULTS_PROVIDER", "cashfree");
    let created = h.run(&["digilocker", "create", "--json"]).await;
    created.assert_code(0);
    assert_eq!(created.json()["provider"], "cashfree");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_a_session_created_elsewhere() {
    let h = Harness::start(1.0).await;
    // Create straight against the provider (another system did it), then track by reference.
    let created = h.create_cashfree().await;
    let reference = text(&created, "reference").to_string();
    let other = Harness {
        sim: test_sim::start(test_sim::options(1, 1.0, credentials())).await,
        home: tempfile::tempdir().unwrap(),
        extra_env: vec![
            (
                "PAYOPS_CASHFREE_BASE_URL".into(),
                h.sim.cashfree_base().to_string(),
            ),
            (
                "PAYOPS_INSTANTPAY_BASE_URL".into(),
                h.sim.instantpay_base().to_string(),
            ),
        ],
    };
    let tracked = other
        .run(&[
            "digilocker",
            "track",
            "--provider",
            "cashfree",
            &reference,
            "--json",
        ])
        .await;
    tracked.assert_code(0);
    assert_eq!(tracked.json()["reference"], reference.as_str());
    assert!(!tracked.stderr.contains("already"), "{}", tracked.stderr);
    // Again: the same row, and it says so.
    let again = other
        .run(&["digilocker", "track", "--provider", "cashfree", &reference])
        .await;
    again.assert_code(0);
    let id = tracked.json()["id"].as_str().unwrap().to_string();
    assert!(
        again
            .stderr
            .contains(&format!("{reference} was already tracked, as {id}")),
        "{}",
        again.stderr
    );
    let unknown = other
        .run(&["digilocker", "track", "--provider", "cashfree", "999999999"])
        .await;
    unknown.assert_clean_failure(1, "declined");
    let list = other.run(&["digilocker", "list", "--json"]).await.json();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "an unknown id adds no row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cashfree_creates_without_a_redirect_url_instantpay_does_not() {
    let mut h = Harness::start(1.0).await;
    h.set_env("PAYOPS_DEFAULTS_REDIRECT_URL", "");
    let session = h.create_cashfree().await;
    assert_eq!(session["status"], "PENDING");
    assert!(session["redirect_url"].is_null(), "{session}");
    h.run(&["digilocker", "create", "--provider", "instantpay"])
        .await
        .assert_clean_failure(2, "InstantPay requires one");

    // A merchant out of verification balance: declined, the row says so.
    h.sim.set_cashfree_insufficient_balance(true);
    let refused = h
        .run(&["digilocker", "create", "--provider", "cashfree"])
        .await;
    refused.assert_clean_failure(1, "Insufficient balance");
    // Definitely refused: nothing to check at the provider.
    assert!(
        refused.stderr.contains("refused: nothing was created")
            && !refused.stderr.contains("check it with"),
        "{}",
        refused.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_create_is_named_and_can_be_checked_later() {
    let (h, id) = unanswered_create("cashfree").await;
    // The provider is back: asking about the row settles it. The hung request
    // never reached the simulator's handler, so Cashfree has no such session.
    let status = h.run(&["digilocker", "status", &id, "--json"]).await;
    status.assert_code(0);
    let v = status.json();
    assert_eq!(v["status"], "CREATE_FAILED", "{v}");
    assert!(
        v["create_message"]
            .as_str()
            .unwrap()
            .contains("never took effect")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numeric_verification_id_can_be_tracked() {
    let h = Harness::start(1.0).await;
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/digilocker", h.sim.cashfree_base()))
        .header("x-client-id", "test-cf-client")
        .header("x-client-secret", SECRET_CF)
        .json(&serde_json::json!({
            "verification_id": "98765432101",
            "document_requested": ["AADHAAR"],
        }))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let tracked = h
        .run(&[
            "digilocker",
            "track",
            "--provider",
            "cashfree",
            "98765432101",
            "--json",
        ])
        .await;
    tracked.assert_code(0);
    assert_eq!(tracked.json()["external_ref"], "98765432101");
}

/// With no USER or LOGNAME (a service, `env -i`), a session is still
/// created by someone: the account's login name from the system.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_user_in_the_environment_the_actor_is_the_accounts_login_name() {
    let h = Harness::start(1.0).await;
    let env = h.env();
    assert!(
        env.iter().all(|(k, _)| k != "USER" && k != "LOGNAME"),
        "the harness runs payops with a cleared environment"
    );
    let login = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let login = String::from_utf8_lossy(&login.stdout).trim().to_string();
    let created = h.create_cashfree().await;
    assert_eq!(created["created_by"], login.as_str(), "{created}");
}

/// An InstantPay create that never answered cannot be asked about (its
/// status needs a reference it never got): `status` says what to do, as
/// the dashboard does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_an_unanswerable_instantpay_create_gives_the_advice() {
    let (h, id) = unanswered_create("instantpay").await;
    let status = h.run(&["digilocker", "status", &id]).await;
    status.assert_code(0);
    assert!(
        status
            .stderr
            .contains("Ask the customer whether a DigiLocker link arrived")
            && status.stderr.contains("payops digilocker create"),
        "{}",
        status.stderr
    );
}

/// A create at `provider` that got no answer (every request hangs): named
/// as recorded, listed as OUTCOME_UNKNOWN, never as live. Returns the
/// harness with the provider answering again, and the row's id.
async fn unanswered_create(provider: &str) -> (Harness, String) {
    let h = Harness::failing(test_sim::every_request(|f| &mut f.timeout)).await;
    h.run(&["digilocker", "create", "--provider", provider])
        .await
        .assert_clean_failure(4, "recorded as dl-");
    let list = h.run(&["digilocker", "list", "--json"]).await.json();
    let row = &list[0];
    assert_eq!(
        row["status"], "OUTCOME_UNKNOWN",
        "never shown as live: {row}"
    );
    let id = text(row, "id").to_string();
    h.sim.set_faults(Faults::default());
    (h, id)
}

/// A session still PENDING past its window was never heard to expire:
/// the list says so rather than state it as fact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_past_its_window_unconfirmed_says_so() {
    let h = Harness::start(1.0).await;
    let created = h.create_cashfree().await;
    let conn = rusqlite::Connection::open(h.data_dir().join("payops.db")).unwrap();
    conn.execute(
        "UPDATE sessions SET expires_at = '2026-01-01T00:00:00.000000000Z' WHERE id = ?1",
        [created["id"].as_str().unwrap()],
    )
    .unwrap();
    drop(conn);
    h.run(&["digilocker", "list"])
        .await
        .assert_says("expired, never confirmed");
}
