//! The simulator as a running thing: its bases, fault and credential
//! parsing, its state file, and JSON for routes it does not serve.

use super::*;

#[tokio::test]
async fn bases_point_at_the_bound_address() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    assert_ne!(sim.addr.port(), 0);
    assert_eq!(
        sim.instantpay_base().as_str(),
        format!("http://{}/", sim.addr)
    );
    assert_eq!(
        sim.cashfree_base().as_str(),
        format!("http://{}/verification", sim.addr)
    );
    Ok(())
}

#[test]
fn faults_parse() {
    assert_eq!(Faults::from_str("").unwrap(), Faults::default());
    assert_eq!(Faults::from_str(" none ").unwrap(), Faults::default());
    assert_eq!(Faults::from_str("NONE").unwrap(), Faults::default());
    assert_eq!(
        Faults::from_str("429=0.05,500=0.05,timeout=0.02,garbage=0.02").unwrap(),
        Faults {
            rate_limit: 0.05,
            server_error: 0.05,
            timeout: 0.02,
            garbage: 0.02,
            ..Faults::default()
        }
    );
    assert_eq!(
        Faults::from_str("garbage=1, 429=0").unwrap(),
        Faults {
            garbage: 1.0,
            ..Faults::default()
        }
    );
    for (input, mentions) in [
        ("429=1.5", "1.5"),
        ("429=-0.1", "429"),
        ("503=0.1", "503"),
        ("timeout", "timeout"),
        ("garbage=abc", "abc"),
        ("500=NaN", "500"),
        ("429=0.1,429=0.2", "twice"),
        ("429=0.1,,500=0.1", "empty"),
    ] {
        let err = Faults::from_str(input).unwrap_err();
        assert!(err.contains(mentions), "{input}: {err}");
    }
}

#[test]
fn credentials_from_env_fall_back_per_value() {
    let (creds, from_env) = SimCredentials::from_env(&Env::default());
    assert_eq!(creds, SimCredentials::demo());
    assert!(!from_env);
    let env = Env::from_pairs([
        ("PAYOPS_CASHFREE_CLIENT_SECRET", "cf-secret-from-env"),
        ("PAYOPS_INSTANTPAY_CLIENT_ID", ""),
    ]);
    let (creds, from_env) = SimCredentials::from_env(&env);
    assert!(from_env);
    assert_eq!(creds.cashfree_client_secret, "cf-secret-from-env");
    assert_eq!(creds.cashfree_client_id, "demo-cf-client");
    assert_eq!(creds.instantpay_client_id, "demo-ipay-client");
}

#[tokio::test]
async fn a_state_file_carries_sessions_and_notifications_across_restarts() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("sim-state.json");
    let with_file = || SimOptions {
        state_file: Some(file.clone()),
        ..options(5, 1.0)
    };
    let first = start(with_file()).await;
    let (s, v) = cf(&first).create(&cf_body("KEEPME1")).await;
    assert_eq!(s, StatusCode::OK);
    let reference = v["reference_id"].as_i64().unwrap_or_default().to_string();
    assert!(first.force_session_status(&reference, payops::domain::SessionStatus::ConsentDenied));
    first.shutdown().await;

    // A new simulator on the same file knows the session, its forced status,
    // and refuses the verification_id as already used.
    let second = start(with_file()).await;
    let (s, v) = cf(&second)
        .status(&[("reference_id", reference.as_str())])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["verification_id"], "KEEPME1");
    assert_eq!(v["status"], "CONSENT_DENIED");
    let (s, _) = cf(&second).create(&cf_body("KEEPME1")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    second.shutdown().await;

    // Without a file, nothing is remembered.
    let third = start(options(5, 1.0)).await;
    let (s, _) = cf(&third).status(&[("verification_id", "KEEPME1")]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    third.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let client = Client::new();
    let (cf_base, ip_base) = (sim.cashfree_base(), sim.instantpay_base());
    let mut answers = Vec::new();
    for (request, status) in [
        (
            client.get(format!("{cf_base}/digilocker/nothing")),
            StatusCode::NOT_FOUND,
        ),
        (
            client.post(format!("{ip_base}accounts/nothing")),
            StatusCode::NOT_FOUND,
        ),
        (
            client.delete(format!("{cf_base}/digilocker")),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let (client, request) = request.build_split();
        let request = request?;
        let what = format!("{} {}", request.method(), request.url());
        let resp = client.execute(request).await?;
        assert_eq!(resp.status(), status, "{what}");
        answers.push(resp.json::<Value>().await?);
    }
    let [cf_nothing, ip_nothing, cf_delete] = &answers[..] else {
        unreachable!("three requests, three answers")
    };
    assert_eq!(keys(cf_nothing), set(&["type", "code", "message"]));
    let message = cf_nothing["message"].as_str().unwrap();
    assert!(
        message.contains("/verification/digilocker/nothing"),
        "{message}"
    );
    assert_eq!(ip_nothing["statuscode"], "ERR");
    assert!(
        cf_delete["message"].as_str().unwrap().contains("DELETE"),
        "{cf_delete}"
    );
    Ok(())
}
