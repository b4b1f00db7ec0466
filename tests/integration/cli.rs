//! The real `payops` binary against the real simulator over loopback HTTP,
//! with a real SQLite file in a temp dir: every command and every bad input.

use std::process::{Command, Stdio};

use payops::sim::{self, Faults};

use crate::harness::cli::*;
use crate::harness::sim as test_sim;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balance_json_has_the_documented_fields() {
    let h = Harness::start(1.0).await;
    let run = h.run(&["balance", "--json"]).await;
    run.assert_code(0);
    let v = run.json();
    assert_eq!(v["provider"], "instantpay");
    assert_eq!(v["account"], "7428585742");
    for field in ["available", "total", "lien"] {
        let s = v[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is a string: {v}"));
        assert!(s.parse::<rust_decimal::Decimal>().is_ok(), "{field} = {s}");
        assert!(s.contains('.'), "{field} keeps its paise: {s}");
    }
    assert!(
        v["fetched_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .is_ok()
    );
    assert!(!v["request_id"].as_str().unwrap().is_empty());
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
            assert!(mobile.starts_with('*'), "masked mobile: {mobile}");
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
        "id\tprovider\tstatus\treference\ttime_left\tcreated\tlabel"
    );
    for line in &lines {
        assert_eq!(line.split('\t').count(), 7, "{line}");
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

    h.run(&["balance", "--history", "--since", "3x"])
        .await
        .assert_clean_failure(2, "--since");
    h.run(&["balance", "--history", "--since", "0h"])
        .await
        .assert_clean_failure(2, "out of range");
    h.run(&["balance", "--since", "7d"])
        .await
        .assert_clean_failure(2, "--history");
    h.run(&["balance", "--history", "--csv", "--json"])
        .await
        .assert_clean_failure(2, "choose one");
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
    h.run(&["digilocker", "label", &id, " "])
        .await
        .assert_clean_failure(2, "--clear");
    h.run(&["digilocker", "label", &id])
        .await
        .assert_clean_failure(2, "--clear");
    h.run(&["digilocker", "label", "dl-nothere", "x"])
        .await
        .assert_clean_failure(2, "dl-nothere");
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
    let created = h
        .run(&["digilocker", "create", "--provider", "cashfree", "--json"])
        .await;
    let reference = created.json()["reference"].as_str().unwrap().to_string();
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
async fn link_notify_and_audit() {
    let mut h = Harness::start(1.0).await;
    h.set_env("PAYOPS_OPERATOR_NAME", "asha");
    let link = h.run(&["link", SAMPLE_LINK, "--json"]).await;
    link.assert_code(0);
    let l = link.json();
    assert_eq!(l["link_id"], SAMPLE_LINK);
    assert_eq!(l["status"], "ISSUED");
    assert!(
        l["amount"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .is_ok()
    );
    assert!(l["activity"].is_array());

    // no terminal and no --yes: refused, nothing sent
    let refused = h.run(&["notify", SAMPLE_LINK]).await;
    refused.assert_clean_failure(2, "--yes");
    assert_eq!(h.sim.notify_count(SAMPLE_LINK), 0);

    let sent = h.run(&["notify", SAMPLE_LINK, "--yes", "--json"]).await;
    sent.assert_code(0);
    let n = sent.json();
    assert_eq!(n["outcome"], "sent");
    assert!(
        n["message"]
            .as_str()
            .unwrap()
            .contains("Notification Link Sent")
    );
    assert!(!n["request_id"].as_str().unwrap().is_empty());
    assert!(n["at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_one_clear_line_and_exit_2() {
    let h = Harness::start(1.0).await;
    let long_link = "a".repeat(65);
    let long_vid = "v".repeat(51);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["link", ""], "link id"),
        (vec!["link", "abc/def"], "link id"),
        (vec!["notify", "   ", "--yes"], "link id"),
        (vec!["link", &long_link], "link id"),
        (
            vec!["digilocker", "track", "--provider", "cashfree", &long_vid],
            "verification_id",
        ),
        (
            vec!["digilocker", "track", "--provider", "cashfree", "bad id!"],
            "verification_id",
        ),
        (
            vec![
                "digilocker",
                "create",
                "--provider",
                "cashfree",
                "--redirect-url",
                "http://example.com",
            ],
            "--redirect-url",
        ),
        (
            vec![
                "digilocker",
                "create",
                "--provider",
                "cashfree",
                "--docs",
                "passport",
            ],
            "--docs",
        ),
        (
            vec![
                "digilocker",
                "create",
                "--provider",
                "instantpay",
                "--docs",
                "pan",
            ],
            "--docs",
        ),
        (
            vec!["digilocker", "status", "dl-doesnotexist"],
            "does not track",
        ),
    ];
    for (args, needle) in cases {
        let run = h.run(&args).await;
        run.assert_clean_failure(2, needle);
    }
    // --json errors are one object on stdout with the same exit code
    let run = h.run(&["link", "a/b", "--json"]).await;
    run.assert_code(2);
    assert_eq!(run.json()["error"]["kind"], "invalid_input");
    // nothing was sent and nothing half-written
    assert_eq!(h.sim.notify_count(SAMPLE_LINK), 0);
    let list = h.run(&["digilocker", "list", "--all", "--json"]).await;
    assert_eq!(list.json().as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_problems_name_the_key() {
    let mut h = Harness::start(1.0).await;
    h.set_env("PAYOPS_INSTANTPAY_LATITUDE", "91.5");
    h.set_env("PAYOPS_CASHFREE_CLIENT_SECRET", "");
    let run = h.run(&["balance"]).await;
    run.assert_code(2);
    let lower = run.stderr.to_ascii_lowercase();
    assert!(lower.contains("latitude"), "{}", run.stderr);
    assert!(lower.contains("client_secret"), "{}", run.stderr);
    h.run(&["config", "check"]).await.assert_code(2);

    // a TOML syntax error names its line
    let mut h2 = Harness::start(1.0).await;
    let path = h2.home.path().join("bad.toml");
    std::fs::write(
        &path,
        "[instantpay]\nclient_id = \"x\"\nclient_secret = = \"y\"\n",
    )
    .unwrap();
    h2.set_env("PAYOPS_CONFIG", path.to_str().unwrap());
    let run = h2.run(&["config", "check"]).await;
    run.assert_clean_failure(2, "line 3");

    // init writes a 0600 template that checks clean; path prints the paths
    let mut h3 = Harness::start(1.0).await;
    let target = h3.home.path().join("fresh").join("config.toml");
    h3.set_env("PAYOPS_CONFIG", target.to_str().unwrap());
    h3.run(&["config", "init"]).await.assert_code(0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    h3.run(&["config", "init"]).await.assert_code(2);
    let paths = h3.run(&["config", "path", "--json"]).await;
    paths.assert_code(0);
    assert_eq!(paths.json()["config"], target.to_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_credentials_are_configuration_errors() {
    let mut h = Harness::start(1.0).await;
    h.set_env("PAYOPS_INSTANTPAY_CLIENT_SECRET", "");
    let run = h.run(&["balance", "--json"]).await;
    run.assert_code(2);
    assert_eq!(run.json()["error"]["kind"], "config");
    assert!(
        run.stderr.contains("instantpay.client_secret"),
        "{}",
        run.stderr
    );

    // wrong credentials: the provider says so, payops says it is a configuration problem
    let mut h2 = Harness::start(1.0).await;
    h2.set_env("PAYOPS_CASHFREE_CLIENT_SECRET", "wrong-secret-value");
    let run = h2
        .run(&["digilocker", "create", "--provider", "cashfree"])
        .await;
    run.assert_clean_failure(2, "credentials");
    assert!(!run.stderr.contains("wrong-secret-value"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_answers_exit_3_and_lose_nothing() {
    let h = Harness::start(1.0).await;
    h.sim.set_faults(Faults {
        garbage: 1.0,
        ..Faults::default()
    });
    let run = h.run(&["balance", "--json"]).await;
    run.assert_code(3);
    assert_eq!(run.json()["error"]["kind"], "malformed_response");
    // a create whose answer is garbage may have been applied: the row stays, marked
    let run = h
        .run(&["digilocker", "create", "--provider", "cashfree"])
        .await;
    assert!(
        run.code == 3 || run.code == 4,
        "{} {}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
    let list = h
        .run(&["digilocker", "list", "--all", "--json"])
        .await
        .json();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 1, "the attempt is on record");
    assert_ne!(rows[0]["create_state"], "created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_and_a_5xx_storm_exit_3() {
    let h = Harness::start(1.0).await;
    h.sim.set_faults(Faults {
        rate_limit: 1.0,
        ..Faults::default()
    });
    let run = h.run(&["balance", "--json"]).await;
    run.assert_code(3);
    assert_eq!(run.json()["error"]["kind"], "rate_limited");
    let (ipay, _) = h.sim.request_counts();
    assert!(ipay > 1, "retried: {ipay}");
    h.sim.set_faults(Faults {
        server_error: 1.0,
        ..Faults::default()
    });
    let run = h.run(&["link", SAMPLE_LINK, "--json"]).await;
    run.assert_code(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_times_out_with_exit_3() {
    let h = Harness::start(1.0).await;
    h.sim.set_faults(Faults {
        timeout: 1.0,
        ..Faults::default()
    });
    let run = h.run(&["balance", "--json"]).await;
    run.assert_code(3);
    assert_eq!(run.json()["error"]["kind"], "transport");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cashfree_creates_without_a_redirect_url_instantpay_does_not() {
    let mut h = Harness::start(1.0).await;
    h.set_env("PAYOPS_DEFAULTS_REDIRECT_URL", "");
    let run = h
        .run(&["digilocker", "create", "--provider", "cashfree", "--json"])
        .await;
    run.assert_code(0);
    let session = run.json();
    assert_eq!(session["status"], "PENDING");
    assert!(session["redirect_url"].is_null(), "{session}");
    h.run(&["digilocker", "create", "--provider", "instantpay"])
        .await
        .assert_clean_failure(2, "InstantPay requires one");

    // A merchant out of verification balance: declined, the row says so.
    h.sim.set_cashfree_insufficient_balance(true);
    h.run(&["digilocker", "create", "--provider", "cashfree"])
        .await
        .assert_clean_failure(1, "Insufficient balance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_names_key_conflicts_and_bad_themes() {
    let mut h = Harness::start(1.0).await;
    let path = h.home.path().join("keys.toml");
    h.set_env("PAYOPS_CONFIG", path.to_str().unwrap());

    // Rebinding is fine; a key doing two things in one place is not.
    std::fs::write(
        &path,
        "[keys]\ncopy_url = \"c\"\n[theme]\nname = \"light\"\nok = \"#00aa00\"\n",
    )
    .unwrap();
    h.run(&["config", "check"]).await.assert_code(0);
    std::fs::write(&path, "[keys]\nnew_session = \"t\"\nquit = \"banana\"\n").unwrap();
    let run = h.run(&["config", "check"]).await;
    run.assert_code(2);
    assert!(
        run.stderr.contains("keys.new_session") && run.stderr.contains("keys.track_session"),
        "both actions named: {}",
        run.stderr
    );
    assert!(run.stderr.contains("'banana'"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);

    std::fs::write(
        &path,
        "[theme]\nname = \"neon\"\nmuted = \"not-a-colour\"\n[keys]\nquit = \"banana\"\n",
    )
    .unwrap();
    let run = h.run(&["config", "check"]).await;
    run.assert_code(2);
    assert!(run.stderr.contains("theme.name"), "{}", run.stderr);
    assert!(run.stderr.contains("theme.muted"), "{}", run.stderr);
    assert!(
        run.stderr.contains("keys.quit"),
        "key problems too, all at once: {}",
        run.stderr
    );
    // The demo uses your theme and keys: a broken one is refused there too.
    let run = h.run(&["--demo", "balance"]).await;
    run.assert_code(2);
    assert!(run.stderr.contains("theme.name"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_output_logs_or_the_database() {
    let h = Harness::start(1000.0).await;
    let mut all_output = String::new();
    for args in [
        vec!["balance", "--json"],
        vec!["digilocker", "create", "--provider", "cashfree"],
        vec!["digilocker", "list", "--all"],
        vec!["link", SAMPLE_LINK],
        vec!["notify", SAMPLE_LINK, "--yes"],
        vec!["audit"],
        vec!["config", "check"],
    ] {
        let run = h.run(&args).await;
        all_output.push_str(&run.stdout);
        all_output.push_str(&run.stderr);
    }
    h.sim.set_faults(Faults {
        garbage: 1.0,
        ..Faults::default()
    });
    let run = h.run(&["balance"]).await;
    all_output.push_str(&run.stderr);
    let written = String::from_utf8_lossy(&h.all_written_bytes()).into_owned();
    for secret in [SECRET_IP, SECRET_CF] {
        assert!(!all_output.contains(secret), "secret in output");
        assert!(!written.contains(secret), "secret in a written file");
    }
    assert!(h.data_dir().join("payops.db").exists());
    assert!(h.data_dir().join("logs").is_dir(), "logs go to a file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_works_with_no_configuration() {
    let home = tempfile::tempdir().unwrap();
    let env: Vec<(String, String)> = vec![
        ("HOME".into(), home.path().to_str().unwrap().into()),
        (
            "XDG_CONFIG_HOME".into(),
            home.path().join("c").to_str().unwrap().into(),
        ),
        (
            "PAYOPS_DATA_DIR".into(),
            home.path().join("d").to_str().unwrap().into(),
        ),
    ];
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env = env.clone();
        tokio::task::spawn_blocking(move || run_binary(&args, &env))
    };
    let balance = run(&["--demo", "balance", "--json"]).await.unwrap();
    balance.assert_code(0);
    assert_eq!(balance.json()["provider"], "instantpay");
    let created = run(&[
        "--demo",
        "digilocker",
        "create",
        "--provider",
        "cashfree",
        "--json",
    ])
    .await
    .unwrap();
    created.assert_code(0);
    let id = created.json()["id"].as_str().unwrap().to_string();
    // a later command starts a new simulator, which remembers the session
    let status = run(&["--demo", "digilocker", "status", &id, "--json"])
        .await
        .unwrap();
    status.assert_code(0);
    let listed = run(&["--demo", "digilocker", "list", "--json"])
        .await
        .unwrap();
    listed.assert_code(0);
    assert!(!listed.json().as_array().unwrap().is_empty());
    run(&["--demo", "link", SAMPLE_LINK])
        .await
        .unwrap()
        .assert_code(0);
    run(&["--demo", "notify", SAMPLE_LINK, "--yes"])
        .await
        .unwrap()
        .assert_code(0);
    let audit = run(&["--demo", "audit", "--json"]).await.unwrap();
    assert_eq!(audit.json().as_array().unwrap().len(), 1);
    // demo records live apart from real ones
    assert!(
        home.path()
            .join("d")
            .join("demo")
            .join("payops.db")
            .exists()
    );
    assert!(!home.path().join("d").join("payops.db").exists());
}

/// Starts `payops sim` on a free port and reads what it prints up to its
/// last line.
fn start_sim(env: &[(&str, String)]) -> (std::process::Child, Vec<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payops"));
    cmd.args(["sim", "--addr", "127.0.0.1:0", "--time-scale", "10"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = read_until_ready(std::io::BufReader::new(stdout));
    (child, lines)
}

fn read_until_ready(mut reader: impl std::io::BufRead) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).unwrap();
        assert!(read > 0, "sim stopped early: {lines:?}");
        let line = line.trim_end().to_string();
        let last = line.starts_with("# Ctrl-C");
        lines.push(line);
        if last {
            return lines;
        }
    }
}

#[test]
fn sim_command_prints_everything_a_client_needs_and_serves() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, lines) = start_sim(&[]);
    let addr = lines[0].rsplit(' ').next().unwrap().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{lines:?}");
    assert!(std::net::TcpStream::connect(&addr).is_ok());
    // Paste the export lines, and nothing else, into a client's environment.
    let mut env: Vec<(String, String)> = lines
        .iter()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(env.len(), 10, "{lines:?}");
    env.push(("HOME".into(), home.path().display().to_string()));
    env.push((
        "XDG_CONFIG_HOME".into(),
        home.path().join("c").display().to_string(),
    ));
    env.push((
        "PAYOPS_DATA_DIR".into(),
        home.path().join("d").display().to_string(),
    ));
    run_binary(&["balance".into()], &env).assert_code(0);
    run_binary(
        &[
            "digilocker".into(),
            "create".into(),
            "--provider".into(),
            "cashfree".into(),
        ],
        &env,
    )
    .assert_code(0);
    child.kill().unwrap();
    let _ = child.wait();

    let bad_faults = run_binary(&["sim".into(), "--faults".into(), "429=2".into()], &[]);
    bad_faults.assert_clean_failure(2, "--faults");
    let demo = run_binary(&["sim".into(), "--demo".into()], &[]);
    demo.assert_clean_failure(2, "payops --demo");
}

/// Each command's `--help` lists its own options and none it would ignore.
#[test]
fn each_commands_help_lists_only_its_own_options() {
    const ALL: [&str; 4] = ["--demo", "--json", "--no-color", "--server"];
    let cases: &[(&[&str], &[&str])] = &[
        (&[], &["--config", "--demo", "--no-color", "--server"]),
        (
            &["sim"],
            &["--config", "--addr", "--seed", "--faults", "--rate-limit"],
        ),
        (&["serve"], &["--config", "--addr", "--tls-cert", "--demo"]),
        (
            &["serve", "token", "add"],
            &["--config", "--role", "--json", "--demo"],
        ),
        (
            &["balance"],
            &["--config", "--history", "--demo", "--json", "--server"],
        ),
        (
            &["digilocker", "list"],
            &["--config", "--all", "--demo", "--json", "--server"],
        ),
        (&["link"], &["--config", "--demo", "--json", "--server"]),
        (
            &["notify"],
            &["--config", "--yes", "--demo", "--json", "--server"],
        ),
        (
            &["audit"],
            &["--config", "--limit", "--demo", "--json", "--server"],
        ),
        (&["config", "check"], &["--config", "--json"]),
        (&["completions"], &["--config"]),
    ];
    for (command, own) in cases {
        let mut args: Vec<String> = command.iter().map(|a| a.to_string()).collect();
        args.push("--help".into());
        let help = run_binary(&args, &[]);
        help.assert_code(0);
        for flag in *own {
            assert!(
                help.stdout.contains(flag),
                "{command:?} {flag}: {}",
                help.stdout
            );
        }
        for foreign in ALL.iter().filter(|flag| !own.contains(flag)) {
            assert!(
                !help.stdout.contains(foreign),
                "{command:?} offers {foreign}: {}",
                help.stdout
            );
        }
    }
    // Given anyway, they are refused, not ignored.
    for (args, flag) in [
        (["sim", "--json"], "--json"),
        (["balance", "--no-color"], "--no-color"),
    ] {
        let run = run_binary(&args.map(String::from), &[]);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains(flag), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let run = run_binary(&["completions".into(), shell.into()], &[]);
        run.assert_code(0);
        assert!(run.stdout.contains("payops"), "{shell}: {}", run.stdout);
        assert!(
            run.stdout.contains("digilocker"),
            "{shell} completes subcommands"
        );
    }
    let bad = run_binary(&["completions".into(), "cmd.exe".into()], &[]);
    assert_eq!(bad.code, 2, "clap usage errors exit 2");
}

#[test]
fn the_simulator_accepts_the_configured_credentials_and_never_prints_them() {
    let home = tempfile::tempdir().unwrap();
    let (mut child, lines) = start_sim(&[
        ("HOME", home.path().display().to_string()),
        (
            "XDG_CONFIG_HOME",
            home.path().join("c").display().to_string(),
        ),
        ("PAYOPS_CASHFREE_CLIENT_ID", "configured-client".into()),
        ("PAYOPS_CASHFREE_CLIENT_SECRET", SECRET_CF.into()),
    ]);
    child.kill().unwrap();
    let _ = child.wait();
    let text = lines.join("\n");
    assert!(
        text.contains("export PAYOPS_CASHFREE_CLIENT_ID=configured-client"),
        "{text}"
    );
    assert!(
        text.contains("# PAYOPS_CASHFREE_CLIENT_SECRET: the configured one (never printed"),
        "{text}"
    );
    assert!(!text.contains(SECRET_CF), "the secret is never printed");
    // The demo InstantPay secret is public: printed to paste.
    assert!(text.contains("export PAYOPS_INSTANTPAY_CLIENT_SECRET=demo-ipay-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_balance_that_times_out_says_how_long_it_waited() {
    let h = Harness::start(1.0).await;
    h.sim.set_faults(Faults {
        timeout: 1.0,
        ..Faults::default()
    });
    let run = h.run(&["balance"]).await;
    // Reads are retried; the message says the per-call limit and the whole wait.
    run.assert_clean_failure(3, "no answer within 2 s");
    assert!(run.stderr.contains(" attempts over "), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_create_is_named_and_can_be_checked_later() {
    let h = Harness::start(1.0).await;
    h.sim.set_faults(Faults {
        timeout: 1.0,
        ..Faults::default()
    });
    let run = h
        .run(&["digilocker", "create", "--provider", "cashfree"])
        .await;
    run.assert_clean_failure(4, "recorded as dl-");
    let list = h.run(&["digilocker", "list", "--json"]).await.json();
    let row = &list[0];
    assert_eq!(
        row["status"], "OUTCOME_UNKNOWN",
        "never shown as live: {row}"
    );
    let id = row["id"].as_str().unwrap().to_string();

    // The provider is back: asking about the row settles it. The hung request
    // never reached the simulator's handler, so Cashfree has no such session.
    h.sim.set_faults(Faults::default());
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

#[test]
fn unparseable_command_lines_answer_json_when_asked() {
    let run = run_binary(
        &[
            "digilocker".into(),
            "create".into(),
            "--provider".into(),
            "paytm".into(),
            "--json".into(),
        ],
        &[],
    );
    run.assert_clean_failure(2, "paytm");
    assert_eq!(run.json()["error"]["kind"], "usage");
    let missing = run_binary(
        &["digilocker".into(), "create".into(), "--json".into()],
        &[],
    );
    missing.assert_clean_failure(2, "--provider");
}
