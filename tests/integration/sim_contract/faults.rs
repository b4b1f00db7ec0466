//! Fates, injected faults and rate limits: what the simulator does to a
//! client on purpose.

use super::*;

/// A simulator in real time with `faults` in their written form, e.g. `"timeout=1.0"`.
async fn start_faulty(seed: u64, faults: &str) -> Result<SimHandle, Box<dyn std::error::Error>> {
    Ok(start(SimOptions {
        faults: faults.parse()?,
        ..options(seed, 1.0)
    })
    .await)
}

#[tokio::test]
async fn same_seed_same_fates_and_scaled_time_finishes_sessions() -> TestResult {
    let (a, b, c) = tokio::join!(
        final_statuses(7, 8),
        final_statuses(7, 8),
        final_statuses(8, 8)
    );
    assert_eq!(a, b);
    assert_ne!(
        a.iter().map(|x| &x.1).collect::<Vec<_>>(),
        c.iter().map(|x| &x.1).collect::<Vec<_>>(),
        "different seeds should tell different stories"
    );
    let words: BTreeSet<&str> = a.iter().chain(&c).map(|x| x.1.as_str()).collect();
    assert!(words.is_subset(&["AUTHORIZED", "AUTHENTICATED", "EXPIRED", "CONSENT_DENIED"].into()));
    for (_, status, details) in a.iter().chain(&c) {
        assert_eq!(
            details.is_null(),
            !status.starts_with("AUTH"),
            "{status} {details}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn injected_rate_limit_and_server_errors() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let (ipc, cfc) = (ip(&sim), cf(&sim));
    sim.set_faults("429=1.0".parse()?);
    let resp = ipc
        .client
        .post(ipc.url("/accounts/balance"))
        .json(&balance_body())
        .send()
        .await?;
    // Faults come before validation: no headers at all and still a 429.
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "1");
    let v: Value = resp.json().await?;
    assert_envelope(&v, "ERR");
    assert!(v["status"].as_str().unwrap().contains("Too many requests"));

    let resp = cfc
        .client
        .post(cfc.url())
        .json(&cf_body("x"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "1");
    for h in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(resp.headers().contains_key(h), "{h}");
    }
    assert_eq!(
        resp.json::<Value>().await?,
        cf_error(
            "rate_limit_error",
            "too_many_requests_per_operation",
            "Too many requests for this operation, rate limit reached"
        )
    );

    sim.set_faults("500=1".parse()?);
    let mut shapes = BTreeSet::new();
    for _ in 0..3 {
        let resp = ipc
            .authed(ipc.client.post(ipc.url("/accounts/balance")))
            .json(&balance_body())
            .send()
            .await?;
        let status = resp.status();
        assert!(status.is_server_error());
        let text = resp.text().await?;
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => {
                assert_envelope(&v, "ISE");
                shapes.insert("envelope");
            }
            Err(_) => {
                assert!(text.contains("<html>"));
                shapes.insert("html");
            }
        }
    }
    assert_eq!(
        shapes.len(),
        2,
        "InstantPay 500s should alternate HTML and envelope"
    );
    assert_cf_refusal(
        cfc.create(&cf_body("x")).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        [
            "internal_error",
            "verification_failed",
            "something went wrong",
        ],
    );

    sim.set_faults(Faults::default());
    let (s, _) = ipc.post("/accounts/balance", &balance_body()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(sim.request_counts(), (5, 2));
    Ok(())
}

#[tokio::test]
async fn garbage_is_never_a_valid_answer() -> TestResult {
    let sim = start_faulty(3, "garbage=1").await?;
    let (ipc, cfc) = (ip(&sim), cf(&sim));
    let mut kinds = BTreeSet::new();
    for i in 0..12 {
        let resp = if i % 2 == 0 {
            ipc.authed(ipc.client.post(ipc.url("/accounts/balance")))
                .json(&balance_body())
                .send()
                .await?
        } else {
            cfc.client
                .get(cfc.url())
                .header("x-client-id", "demo-cf-client")
                .header("x-client-secret", "demo-cf-secret")
                .query(&[("verification_id", "x")])
                .send()
                .await?
        };
        assert_eq!(resp.status(), StatusCode::OK);
        let text = resp.text().await?;
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => {
                assert_eq!(v, json!({}));
                kinds.insert("empty");
            }
            Err(_) if text.contains("<html>") => {
                kinds.insert("html");
            }
            Err(_) => {
                assert!(text.starts_with('{'));
                kinds.insert("truncated");
            }
        }
    }
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    Ok(())
}

#[tokio::test]
async fn timeouts_hang_and_shutdown_does_not_wait_for_them() -> TestResult {
    let sim = start_faulty(1, "timeout=1.0").await?;
    let ipc = ip(&sim);
    let started = Instant::now();
    let err = ipc
        .authed(ipc.client.post(ipc.url("/accounts/balance")))
        .json(&balance_body())
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let url = ipc.url("/accounts/balance");
    let hanging = tokio::spawn(async move {
        Client::new()
            .post(url)
            .header("X-Ipay-Auth-Code", "1")
            .json(&balance_body())
            .send()
            .await
    });
    let deadline = Instant::now() + Duration::from_secs(2);
    while sim.request_counts().0 < 2 {
        assert!(
            Instant::now() < deadline,
            "the hanging request never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    sim.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The client must be let go too, not left waiting two minutes.
    tokio::time::timeout(Duration::from_secs(2), hanging)
        .await??
        .ok();
    Ok(())
}

#[tokio::test]
async fn real_rate_limit_per_provider() -> TestResult {
    let sim = start(SimOptions {
        rate_limit_per_minute: Some(3),
        ..options(1, 1.0)
    })
    .await;
    let (ipc, cfc) = (ip(&sim), cf(&sim));
    for remaining in ["2", "1", "0"] {
        let resp = cfc
            .client
            .get(cfc.url())
            .header("x-client-id", "demo-cf-client")
            .header("x-client-secret", "demo-cf-secret")
            .query(&[("verification_id", "none")])
            .send()
            .await?;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(resp.headers()["x-ratelimit-limit"], "3");
        assert_eq!(resp.headers()["x-ratelimit-remaining"], remaining);
    }
    let resp = cfc.client.get(cfc.url()).send().await?;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"].to_str()?.parse()?;
    assert!((1..=60).contains(&retry));
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(
        resp.json::<Value>().await?["code"],
        "too_many_requests_per_operation"
    );

    // InstantPay has its own window.
    for _ in 0..3 {
        let (s, v) = ipc.post("/accounts/balance", &balance_body()).await;
        assert_eq!((s, v["statuscode"].clone()), (StatusCode::OK, json!("TXN")));
    }
    let resp = ipc
        .authed(ipc.client.post(ipc.url("/accounts/balance")))
        .json(&balance_body())
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    assert_envelope(&resp.json().await?, "ERR");
    assert_eq!(sim.request_counts(), (4, 4));
    Ok(())
}
