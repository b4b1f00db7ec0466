//! Every bad input and every provider failure: one clear line, a distinct
//! exit code, nothing lost and no secret shown.

use super::*;

use test_sim::every_request;

/// `payops balance --json` against a simulator that fails every request with
/// `faults` exits 3 with an error of this `kind`; the harness, for more.
async fn balance_fails_as(faults: Faults, kind: &str) -> Harness {
    let h = Harness::failing(faults).await;
    h.run(&["balance", "--json"])
        .await
        .assert_json_error(3, kind);
    h
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
    h.run(&["link", "a/b", "--json"])
        .await
        .assert_json_error(2, "invalid_input");
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
    // The demo's records are its own: `--demo config path` says where.
    let demo = h3.run(&["--demo", "config", "path", "--json"]).await;
    demo.assert_code(0);
    let data_dir = h3.data_dir().join("demo");
    assert_eq!(demo.json()["data_dir"], data_dir.to_str().unwrap());
    assert_eq!(
        demo.json()["database"],
        data_dir.join("payops.db").to_str().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_credentials_are_configuration_errors() {
    let mut h = Harness::start(1.0).await;
    h.set_env("PAYOPS_INSTANTPAY_CLIENT_SECRET", "");
    let run = h.run(&["balance", "--json"]).await;
    run.assert_json_error(2, "config");
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
    let h = balance_fails_as(every_request(|f| &mut f.garbage), "malformed_response").await;
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
    let h = balance_fails_as(every_request(|f| &mut f.rate_limit), "rate_limited").await;
    let (ipay, _) = h.sim.request_counts();
    assert!(ipay > 1, "retried: {ipay}");
    h.sim.set_faults(every_request(|f| &mut f.server_error));
    let run = h.run(&["link", SAMPLE_LINK, "--json"]).await;
    run.assert_code(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_times_out_with_exit_3() {
    balance_fails_as(every_request(|f| &mut f.timeout), "transport").await;
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
    // Only the dashboard draws: a command that does not goes on, and says
    // what the dashboard will refuse (the demo uses your look too).
    std::fs::write(&path, "[theme]\nname = \"neon\"\n").unwrap();
    for args in [&["--demo", "balance"][..], &["balance"][..]] {
        let run = h.run(args).await;
        run.assert_code(0);
        assert!(
            run.stderr.contains("theme.name")
                && run.stderr.contains("the dashboard will not start"),
            "{args:?}: {}",
            run.stderr
        );
    }
    h.run(&["config", "check"])
        .await
        .assert_clean_failure(2, "theme.name");
    // The dashboard does draw: it refuses, before taking the terminal.
    let env = h.env();
    let mut dashboard = crate::harness::pty::PtyApp::spawn(&["--demo"], &env, 24, 100);
    let status = dashboard.wait_exit(std::time::Duration::from_secs(20));
    assert_eq!(status.exit_code(), 2, "{}", dashboard.text());
    assert!(
        dashboard.text().contains("theme.name"),
        "{}",
        dashboard.text()
    );
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
    h.sim.set_faults(every_request(|f| &mut f.garbage));
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
async fn a_balance_that_times_out_says_how_long_it_waited() {
    let h = Harness::failing(every_request(|f| &mut f.timeout)).await;
    let run = h.run(&["balance"]).await;
    // Reads are retried; the message says the per-call limit and the whole wait.
    run.assert_clean_failure(3, "no answer within 2 s");
    assert!(run.stderr.contains(" attempts over "), "{}", run.stderr);
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

/// Values that read but mean nothing are refused naming the key: an API
/// version that is not one of Cashfree's dates, an amount finer than paise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_that_mean_nothing_are_refused_naming_the_key() {
    // Set from the environment, a problem is named by its variable.
    let refused = [
        (
            "PAYOPS_CASHFREE_API_VERSION",
            "banana",
            "not a Cashfree API version",
        ),
        (
            "PAYOPS_CASHFREE_API_VERSION",
            "2023-13-40",
            "not a Cashfree API version",
        ),
        (
            "PAYOPS_DASHBOARD_LOW_BALANCE_THRESHOLD",
            "5000.001",
            "two decimal places",
        ),
    ];
    for (var, value, why) in refused {
        let mut h = Harness::start(1.0).await;
        h.set_env(var, value);
        let run = h.run(&["config", "check"]).await;
        run.assert_clean_failure(2, var);
        run.assert_clean_failure(2, why);
    }
    let mut fine = Harness::start(1.0).await;
    fine.set_env("PAYOPS_CASHFREE_API_VERSION", "2023-12-18");
    fine.set_env("PAYOPS_DASHBOARD_LOW_BALANCE_THRESHOLD", "5000.50");
    fine.run(&["config", "check"]).await.assert_code(0);
}

/// Makes a file unchangeable, even by root (`chattr +i`), until dropped;
/// `None` where the file system cannot.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: &std::path::Path) -> Option<Immutable> {
        let done = std::process::Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .is_ok_and(|status| status.success());
        done.then(|| Immutable(path.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_be_written_is_read_and_changes_name_the_file() {
    let h = Harness::start(1.0).await;
    let created = h.create_cashfree().await;
    let id = created["id"].as_str().unwrap().to_string();
    let db = h.data_dir().join("payops.db");
    let Some(_immutable) = Immutable::set(&db) else {
        eprintln!("chattr +i is not available here: nothing to check");
        return;
    };
    // Reading works, said once.
    let listed = h.run(&["digilocker", "list"]).await;
    listed.assert_code(0);
    assert!(listed.stdout.contains(&id), "{}", listed.stdout);
    assert_eq!(
        listed.stderr.matches("cannot be written").count(),
        1,
        "{}",
        listed.stderr
    );
    let json = h.run(&["digilocker", "list", "--json"]).await;
    json.assert_code(0);
    assert_eq!(json.json().as_array().map(Vec::len), Some(1));
    h.run(&["audit"]).await.assert_code(0);
    // A change names the file and why, and loses nothing.
    let label = h.run(&["digilocker", "label", &id, "TKT-1"]).await;
    assert_ne!(label.code, 0);
    assert!(!label.stderr.contains("panicked"), "{}", label.stderr);
    assert!(
        label.stderr.contains("payops.db") && label.stderr.contains("read-only"),
        "{}",
        label.stderr
    );
    let again = h.run(&["digilocker", "list", "--json"]).await;
    assert!(again.json()[0]["label"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_online_says_which_provider_answered_and_how_to_fix_one_that_did_not() {
    let mut h = Harness::start(1.0).await;
    let checked = h.run(&["config", "check", "--online"]).await;
    checked.assert_says("instantpay: answered, balance read");
    assert!(
        checked
            .stdout
            .contains("cashfree: answered, credentials accepted"),
        "{}",
        checked.stdout
    );
    // Offline, it asks nobody.
    let before = h.sim.request_counts();
    h.run(&["config", "check"]).await.assert_code(0);
    assert_eq!(h.sim.request_counts(), before);
    h.set_env("PAYOPS_CASHFREE_CLIENT_SECRET", "not-the-secret");
    let refused = h.run(&["config", "check", "--online"]).await;
    refused.assert_clean_failure(2, "client_secret under [cashfree]");
    assert!(
        refused.stderr.contains("instantpay: answered"),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("not-the-secret"),
        "{}",
        refused.stderr
    );
}
