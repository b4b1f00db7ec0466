//! The simulator's InstantPay routes against InstantPay's documents: the
//! balance, DigiLocker, and payout links, headers and bodies.

use super::*;

const STATUS: &str = "/identity/digiLocker/status";
const NOTIFY: &str = "/payments/payout/link/notify";

/// What the simulator says of the DigiLocker session `reference`.
async fn status_of(c: &Ip<'_>, reference: &str) -> Value {
    c.post(STATUS, &json!({"referenceId": reference})).await.1
}

async fn notify(c: &Ip<'_>, link: &str) -> (StatusCode, Value) {
    c.post(NOTIFY, &json!({"linkId": link})).await
}

/// `path` refuses an `unknown` id in `field` with `message`, and a body
/// without the field naming it: both RPI envelopes.
async fn assert_refuses_unknown_and_missing(
    c: &Ip<'_>,
    path: &str,
    field: &str,
    unknown: &str,
    message: &str,
) {
    let (_, v) = c.post(path, &json!({ field: unknown })).await;
    assert_envelope(&v, "RPI");
    assert_eq!(v["status"], message, "{path} with {field} {unknown}");
    let (_, v) = c.post(path, &json!({})).await;
    assert_envelope(&v, "RPI");
    assert!(
        v["status"].as_str().unwrap().contains(field),
        "{path} without {field}: {v}"
    );
}

#[tokio::test]
async fn instantpay_balance_matches_the_sample() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let (status, v) = ip(&sim).post("/accounts/balance", &balance_body()).await;
    assert_eq!(status, StatusCode::OK);
    assert_envelope(&v, "TXN");
    let d = &v["data"];
    assert_eq!(
        keys(d),
        set(&[
            "bankId",
            "bankProfileId",
            "accountNumber",
            "accountShortNumber",
            "balance",
            "poolReferenceId",
            "pool"
        ])
    );
    assert_eq!(d["bankId"], json!("0"));
    assert_eq!(d["bankProfileId"], json!(0));
    assert_eq!(d["accountNumber"], "7428585742");
    assert_eq!(d["accountShortNumber"], "5742");
    assert_eq!(keys(&d["balance"]), set(&["total", "lien", "available"]));
    let (total, lien, available) = (
        money(&d["balance"]["total"]),
        money(&d["balance"]["lien"]),
        money(&d["balance"]["available"]),
    );
    assert_eq!(total, available + lien);
    assert_eq!(
        total,
        Decimal::new(2_500_000, 2),
        "fresh wallet opens at 25,000.00"
    );
    assert_eq!(
        keys(&d["pool"]),
        set(&["account", "openingBal", "mode", "amount", "closingBal"])
    );
    for k in ["openingBal", "amount", "closingBal"] {
        money(&d["pool"][k]);
    }
    assert_eq!(d["pool"]["account"], "7428585742");
    Ok(())
}

#[tokio::test]
async fn wallet_walks_with_sim_time_and_never_goes_negative() -> TestResult {
    // 60 000× makes a sim-minute last a real millisecond.
    let sim = start(options(5, 60_000.0)).await;
    let c = ip(&sim);
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut seen = BTreeSet::new();
    while seen.len() < 3 && Instant::now() < deadline {
        let (_, v) = c.post("/accounts/balance", &balance_body()).await;
        let b = &v["data"]["balance"];
        let (total, lien, available) = (
            money(&b["total"]),
            money(&b["lien"]),
            money(&b["available"]),
        );
        assert!(available >= Decimal::ZERO && lien >= Decimal::ZERO);
        assert_eq!(total, available + lien);
        seen.insert(total);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen.len() >= 3, "balance did not move: {seen:?}");
    Ok(())
}

#[tokio::test]
async fn instantpay_headers_are_enforced() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = ip(&sim);
    let url = c.url("/accounts/balance");
    let send = |pairs: Vec<(&'static str, &'static str)>| {
        let mut rb = c.client.post(&url).json(&balance_body());
        for (k, v) in pairs {
            rb = rb.header(k, v);
        }
        async move {
            let r = rb.send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap())
        }
    };
    let full = [
        ("X-Ipay-Auth-Code", "1"),
        ("X-Ipay-Client-Id", "demo-ipay-client"),
        ("X-Ipay-Client-Secret", "demo-ipay-secret"),
        ("X-Ipay-Endpoint-Ip", "14.142.186.142"),
    ];
    let without = |name: &str| {
        full.iter()
            .copied()
            .filter(|(k, _)| *k != name)
            .collect::<Vec<_>>()
    };
    let replace = |name: &str, value: &'static str| {
        full.iter()
            .map(|(k, v)| if *k == name { (*k, value) } else { (*k, *v) })
            .collect::<Vec<_>>()
    };

    let (s, v) = send(without("X-Ipay-Auth-Code")).await;
    assert_eq!(s, StatusCode::OK);
    assert_envelope(&v, "RPI");
    assert!(v["status"].as_str().unwrap().contains("X-Ipay-Auth-Code"));
    let (s, v) = send(replace("X-Ipay-Auth-Code", "2")).await;
    assert_eq!((s, v["statuscode"].clone()), (StatusCode::OK, json!("RPI")));

    for bad in [
        without("X-Ipay-Client-Id"),
        without("X-Ipay-Client-Secret"),
        replace("X-Ipay-Client-Secret", "wrong"),
        replace("X-Ipay-Client-Id", "someone-else"),
    ] {
        let (s, v) = send(bad).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_envelope(&v, "IAC");
        assert!(!v["status"].as_str().unwrap().contains("demo-ipay-secret"));
    }

    for bad in [
        without("X-Ipay-Endpoint-Ip"),
        replace("X-Ipay-Endpoint-Ip", "not-an-ip"),
    ] {
        let (s, v) = send(bad).await;
        assert_eq!(s, StatusCode::OK);
        assert_envelope(&v, "RPI");
        assert!(
            v["status"].as_str().unwrap().contains("X-Ipay-Endpoint-Ip"),
            "{v}"
        );
    }
    let (s, v) = send(replace("X-Ipay-Endpoint-Ip", "2001:db8::1")).await;
    assert_eq!((s, v["statuscode"].clone()), (StatusCode::OK, json!("TXN")));
    Ok(())
}

#[tokio::test]
async fn instantpay_balance_body_is_validated() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = ip(&sim);
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("bankProfileId", json!("1"), "RPI", "bankProfileId"),
        ("bankProfileId", json!(0), "RPI", "bankProfileId"),
        ("accountNumber", json!("12345"), "IAN", "accountNumber"),
        ("accountNumber", json!("74285857a2"), "IAN", "accountNumber"),
        ("externalRef", json!("PROD-1"), "RPI", "externalRef"),
        ("latitude", json!("20.123"), "RPI", "latitude"),
        ("latitude", json!("91.0000"), "RPI", "latitude"),
        ("latitude", json!(20.1236), "RPI", "latitude"),
        ("longitude", json!("78.32281"), "RPI", "longitude"),
        ("longitude", json!("-180.0001"), "RPI", "longitude"),
    ];
    for (field, value, code, named) in cases {
        let mut body = balance_body();
        body[field] = value.clone();
        let (s, v) = c.post("/accounts/balance", &body).await;
        assert_eq!(s, StatusCode::OK, "{field}={value}");
        assert_envelope(&v, code);
        assert!(v["data"].is_null());
        assert!(
            v["status"].as_str().unwrap().contains(named),
            "{field}={value}: {v}"
        );
    }
    for field in [
        "bankProfileId",
        "accountNumber",
        "externalRef",
        "latitude",
        "longitude",
    ] {
        let mut body = balance_body();
        body.as_object_mut().unwrap().remove(field);
        let (_, v) = c.post("/accounts/balance", &body).await;
        assert_envelope(&v, "RPI");
        assert!(v["status"].as_str().unwrap().contains(field), "{v}");
    }
    let resp = c
        .authed(c.client.post(c.url("/accounts/balance")))
        .body("bankProfileId=0")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_envelope(&resp.json().await?, "RPI");
    Ok(())
}

#[tokio::test]
async fn instantpay_digilocker_create_and_status() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = ip(&sim);
    let (s, v) = c
        .post("/identity/digiLocker", &create_body("Eugenia"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_envelope(&v, "TXN");
    assert_eq!(v["status"], "Success");
    assert_eq!(keys(&v["data"]), set(&["referenceId", "url", "status"]));
    assert_eq!(v["data"]["status"], "PENDING");
    let reference = v["data"]["referenceId"].as_str().unwrap().to_string();
    assert!(reference.len() == 24 && reference.chars().all(|c| c.is_ascii_hexdigit()));
    let url = v["data"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://digilocker.meripehchaan.gov.in/"),
        "{url}"
    );
    assert!(
        url.contains(&reference) && url.contains("dl_flow=signup"),
        "{url}"
    );

    let (_, v) = c
        .post("/identity/digiLocker", &create_body("Eugenia"))
        .await;
    assert_envelope(&v, "DTX");

    let mut signin = create_body("Other1");
    signin["userFlow"] = json!("SIGNIN");
    signin["redirectionUrl"] = json!("http://localhost:8080/back");
    let (_, v) = c.post("/identity/digiLocker", &signin).await;
    assert_envelope(&v, "TXN");

    for (field, value) in [
        ("userFlow", json!("signup")),
        ("redirectionUrl", json!("www.instantpay.in")),
        ("redirectionUrl", json!("ftp://files.example.com")),
        ("externalRef", json!("has space")),
        ("latitude", json!("-2.69")),
    ] {
        let mut body = create_body("Fresh1");
        body[field] = value.clone();
        let (s, v) = c.post("/identity/digiLocker", &body).await;
        assert_eq!(s, StatusCode::OK);
        assert_envelope(&v, "RPI");
        assert!(
            v["status"].as_str().unwrap().contains(field),
            "{field}={value}: {v}"
        );
    }

    let v = status_of(&c, &reference).await;
    assert_envelope(&v, "TXN");
    assert_eq!(
        keys(&v["data"]),
        set(&["status", "referenceId", "externalRef", "userDetails"])
    );
    assert_eq!(v["data"]["status"], "PENDING");
    assert_eq!(v["data"]["externalRef"], "Eugenia");
    assert!(v["data"]["userDetails"].is_null());

    assert_refuses_unknown_and_missing(
        &c,
        STATUS,
        "referenceId",
        "000000000000000000000000",
        "Invalid referenceId",
    )
    .await;

    assert!(sim.force_session_status(&reference, SessionStatus::Authenticated));
    let v = status_of(&c, &reference).await;
    assert_eq!(v["data"]["status"], "AUTHORIZED");
    let user = &v["data"]["userDetails"];
    assert_eq!(
        keys(user),
        set(&["name", "mobile", "dob", "gender", "eaadhaar"])
    );
    assert!(jiff::civil::Date::strptime("%Y-%m-%d", user["dob"].as_str().unwrap()).is_ok());
    assert_eq!(user["eaadhaar"], "Y");
    assert_eq!(user["mobile"].as_str().unwrap().len(), 10);

    assert!(sim.force_session_status(&reference, SessionStatus::ConsentDenied));
    let v = status_of(&c, &reference).await;
    assert_eq!(v["data"]["status"], "CONSENT_DENIED");
    assert!(v["data"]["userDetails"].is_null());
    assert!(!sim.force_session_status("nope", SessionStatus::Expired));
    Ok(())
}

#[tokio::test]
async fn instantpay_payout_link_notify() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = ip(&sim);
    let (s, v) = notify(&c, SAMPLE_LINK_ID).await;
    assert_eq!(s, StatusCode::OK);
    assert_envelope(&v, "TXN");
    assert!(v["data"].is_null());
    assert_eq!(
        v["status"],
        "Notification Link Sent To *******742 and ******@instantpay.in"
    );
    assert_eq!(sim.notify_count(SAMPLE_LINK_ID), 1);

    let other_issued = DEMO_LINKS
        .iter()
        .find(|(id, st)| *st == "ISSUED" && *id != SAMPLE_LINK_ID)
        .unwrap()
        .0;
    let (_, v) = notify(&c, other_issued).await;
    assert_envelope(&v, "TXN");
    let text = v["status"].as_str().unwrap();
    assert!(
        text.starts_with("Notification Link Sent To *******"),
        "{text}"
    );
    assert_ne!(
        text,
        "Notification Link Sent To *******742 and ******@instantpay.in"
    );

    let claimed = DEMO_LINKS
        .iter()
        .find(|(_, st)| *st == "CLAIMED")
        .unwrap()
        .0;
    let (s, v) = notify(&c, claimed).await;
    assert_eq!(s, StatusCode::OK);
    assert_envelope(&v, "ERR");
    assert!(v["status"].as_str().unwrap().contains("CLAIMED"));
    assert_eq!(sim.notify_count(claimed), 0);

    assert_refuses_unknown_and_missing(
        &c,
        NOTIFY,
        "linkId",
        "ffffffffffffffffffffffff",
        "Invalid Link Id",
    )
    .await;
    assert_eq!(sim.notify_count(SAMPLE_LINK_ID), 1);
    Ok(())
}

#[tokio::test]
async fn instantpay_payout_link_tracking() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = ip(&sim);
    let statuses: BTreeSet<&str> = DEMO_LINKS.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        statuses,
        ["CANCELLED", "CLAIMED", "EXPIRED", "ISSUED", "PROCESSING"].into()
    );
    assert_eq!(DEMO_LINKS.iter().filter(|(_, s)| *s == "ISSUED").count(), 3);
    for (id, status) in DEMO_LINKS {
        assert!(id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit()));
        let (s, v) = c.track(id).await;
        assert_eq!(s, StatusCode::OK);
        assert_envelope(&v, "TXN");
        let d = &v["data"];
        assert_eq!(
            keys(d),
            set(&["linkId", "status", "amount", "linkActivity"])
        );
        assert_eq!(d["linkId"], *id);
        assert_eq!(d["status"], *status);
        assert!(d["amount"].is_number(), "{d}");
        let activity = d["linkActivity"].as_array().unwrap();
        assert!(!activity.is_empty());
        for a in activity {
            assert_eq!(keys(a), set(&["status", "activityAt", "remarks"]));
            let at = a["activityAt"].as_str().unwrap();
            assert!(jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", at).is_ok());
        }
        assert_eq!(activity.last().unwrap()["status"], *status);
    }
    let (s, v) = c.track("ffffffffffffffffffffffff").await;
    assert_eq!(s, StatusCode::OK);
    assert_envelope(&v, "RPI");

    let resp = c
        .client
        .get(c.url(&format!("/payments/payout/link/track/{SAMPLE_LINK_ID}")))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_envelope(&resp.json().await?, "RPI");
    Ok(())
}
