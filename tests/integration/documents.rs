//! Consented documents end to end: the simulator serves them (202 first,
//! expiry after the hour), the CLI masks them unless asked, and only the
//! fact of each fetch and reveal reaches the store.

use payops::domain::SessionStatus;

use crate::harness::cli::Harness;

/// Creates a session with `args`, makes its customer consent at the
/// simulator, and lets payops see it. Returns our id.
async fn consented_session(h: &Harness, args: &[&str]) -> String {
    let mut create = vec!["digilocker", "create"];
    create.extend_from_slice(args);
    create.push("--json");
    let run = h.run(&create).await;
    run.assert_code(0);
    let created = run.json();
    let id = created["id"].as_str().expect("id").to_string();
    let reference = created["reference"]
        .as_str()
        .expect("reference")
        .to_string();
    assert!(
        h.sim
            .force_session_status(&reference, SessionStatus::Authenticated)
    );
    let status = h.run(&["digilocker", "status", &id, "--json"]).await;
    status.assert_code(0);
    assert_eq!(status.json()["status"], "AUTHENTICATED");
    id
}

#[tokio::test]
async fn cashfree_documents_are_masked_logged_and_never_stored() {
    let h = Harness::start(1.0).await;
    let id = consented_session(&h, &["--provider", "cashfree", "--docs", "aadhaar,pan"]).await;

    // The first fetch of each document is "still being prepared"; the CLI asks again.
    let run = h.run(&["digilocker", "documents", &id, "--json"]).await;
    run.assert_code(0);
    assert!(
        run.stderr.contains("still being prepared"),
        "{}",
        run.stderr
    );
    let body = run.json();
    assert_eq!(body["revealed"], false);
    assert!(body["consent_ends_at"].is_string());
    let docs = body["documents"].as_array().expect("documents");
    assert_eq!(docs.len(), 2);
    // A document the customer did not share is refused as such, not asked for.
    h.run(&["digilocker", "documents", &id, "--type", "driving_license"])
        .await
        .assert_clean_failure(1, "did not consent to share DRIVING_LICENSE");
    let aadhaar = &docs[0]["fields"];
    assert_eq!(docs[0]["type"], "AADHAAR");
    let uid = aadhaar["uid"].as_str().expect("uid");
    assert!(
        uid.starts_with("XXXXXXXX"),
        "as the provider masked it: {uid}"
    );
    let address = aadhaar["address"].as_str().expect("address");
    assert_eq!(
        address.matches(", ").count(),
        1,
        "district and state: {address}"
    );
    assert!(aadhaar.get("split_address.house").is_none());
    assert!(aadhaar["dob"].as_str().expect("dob").starts_with("**-**-"));
    let pan = docs[1]["fields"]["pan"].as_str().expect("pan");
    assert!(pan.starts_with("XXXXXX"), "{pan}");

    // Revealed in full, one document.
    let run = h
        .run(&[
            "digilocker",
            "documents",
            &id,
            "--type",
            "aadhaar",
            "--reveal",
            "--json",
        ])
        .await;
    run.assert_code(0);
    let fields = &run.json()["documents"][0]["fields"];
    let house = fields["split_address.house"]
        .as_str()
        .expect("house")
        .to_string();
    let name = fields["name"].as_str().expect("name").to_string();
    assert!(
        fields["dob"]
            .as_str()
            .expect("dob")
            .chars()
            .next()
            .unwrap()
            .is_ascii_digit()
    );

    // The access log: who, which, revealed or not, no contents.
    let audit = h.run(&["audit", "--documents", "--json"]).await;
    audit.assert_code(0);
    let rows = audit.json();
    let rows = rows.as_array().expect("rows");
    let outcomes: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["document"].as_str().unwrap_or_default(),
                r["outcome"].as_str().unwrap_or_default(),
                r["revealed"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("AADHAAR", "ok", true),
            ("PAN", "ok", false),
            ("PAN", "preparing", false),
            ("AADHAAR", "ok", false),
            ("AADHAAR", "preparing", false),
        ]
    );
    assert!(rows.iter().all(|r| r["session"] == id.as_str()));
    let human = h.run(&["audit", "--documents"]).await;
    assert!(human.stdout.contains("revealed"), "{}", human.stdout);

    // Personal data never reaches the disk: database, logs, config.
    let written = String::from_utf8_lossy(&h.all_written_bytes()).into_owned();
    assert!(!written.contains(&house), "the address is not stored");
    assert!(!written.contains(&name), "the name is not stored");
}

#[tokio::test]
async fn instantpay_documents_and_refusals() {
    let h = Harness::start(1.0).await;
    let id = consented_session(&h, &["--provider", "instantpay"]).await;
    let run = h
        .run(&["digilocker", "documents", &id, "--type", "pan", "--json"])
        .await;
    run.assert_code(0);
    let fields = &run.json()["documents"][0]["fields"];
    assert!(fields["pan"].as_str().expect("pan").starts_with("XXXXXX"));
    assert_eq!(fields["panType"], "Individual", "unknown fields are kept");
    assert!(
        fields["base64File"]
            .as_str()
            .expect("file")
            .starts_with("(image")
    );

    // A pending session has nothing to show, and a bad --type is named.
    let run = h
        .run(&["digilocker", "create", "--provider", "cashfree", "--json"])
        .await;
    let pending = run.json()["id"].as_str().expect("id").to_string();
    h.run(&["digilocker", "documents", &pending])
        .await
        .assert_clean_failure(1, "only after the customer consents");
    h.run(&["digilocker", "documents", &id, "--type", "passport"])
        .await
        .assert_clean_failure(2, "--type: 'passport'");
}

#[tokio::test]
async fn after_the_consent_hour_the_documents_are_gone() {
    // One simulated hour passes in about a second.
    let h = Harness::start(3600.0).await;
    let id = consented_session(&h, &["--provider", "cashfree", "--docs", "aadhaar"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let run = h.run(&["digilocker", "documents", &id]).await;
    run.assert_clean_failure(1, "one hour after consent");
    assert!(
        run.stderr.contains("Digilocker consent session expired"),
        "{}",
        run.stderr
    );
    let audit = h.run(&["audit", "--documents", "--json"]).await.json();
    assert_eq!(audit[0]["outcome"], "expired");
}

/// Through a team server: a support agent gets the documents masked, the
/// fetch is logged under their name, a viewer is refused, and a session
/// without consent is declined as it is here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_support_agent_gets_the_documents_through_the_server() {
    let h = Harness::start(1.0).await;
    let id = consented_session(&h, &["--provider", "cashfree", "--docs", "aadhaar"]).await;
    let pending = h
        .run(&["digilocker", "create", "--provider", "cashfree", "--json"])
        .await
        .json();
    let support = crate::harness::server::add_token(&h, "asha", "support").await;
    let viewer = crate::harness::server::add_token(&h, "vera", "viewer").await;
    let server = crate::harness::server::start_server(&h);
    let laptop = tempfile::tempdir().unwrap();
    let run = |token: &str, args: Vec<String>| {
        let env = vec![
            ("HOME".to_string(), laptop.path().display().to_string()),
            ("PAYOPS_SERVER_URL".to_string(), server.base.clone()),
            ("PAYOPS_SERVER_TOKEN".to_string(), token.to_string()),
        ];
        tokio::task::spawn_blocking(move || crate::harness::cli::run_binary(&args, &env))
    };
    let args = |id: &str| -> Vec<String> {
        ["digilocker", "documents", id, "--json"]
            .iter()
            .map(|a| a.to_string())
            .collect()
    };

    let fetched = run(&support, args(&id)).await.unwrap();
    fetched.assert_code(0);
    let body = fetched.json();
    assert_eq!(body["revealed"], false, "{body}");
    let uid = body["documents"][0]["fields"]["uid"].as_str().unwrap();
    assert!(uid.starts_with("XXXXXXXX"), "masked: {uid}");
    let log = h.run(&["audit", "--documents", "--json"]).await.json();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["actor"] == "asha" && entry["session"] == id.as_str()),
        "{log}"
    );

    run(&viewer, args(&id))
        .await
        .unwrap()
        .assert_clean_failure(2, "support role");
    run(&support, args(pending["id"].as_str().unwrap()))
        .await
        .unwrap()
        .assert_clean_failure(1, "only after the customer consents");
}
