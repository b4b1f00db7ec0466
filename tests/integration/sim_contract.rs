//! The simulator against the provider documents, over real HTTP on 127.0.0.1.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::{Duration, Instant};

use payops::config::Env;
use payops::domain::SessionStatus;
use payops::sim::{DEMO_LINKS, Faults, SAMPLE_LINK_ID, SimCredentials, SimHandle, SimOptions};
use reqwest::{Client, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::harness::sim::{self as test_sim, start};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn options(seed: u64, time_scale: f64) -> SimOptions {
    test_sim::options(seed, time_scale, SimCredentials::demo())
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|w| w.to_string()).collect()
}

const ENVELOPE: &[&str] = &[
    "statuscode",
    "actcode",
    "status",
    "data",
    "timestamp",
    "ipay_uuid",
    "orderid",
    "environment",
    "internalCode",
];

struct Ip<'a> {
    client: Client,
    sim: &'a SimHandle,
}

impl Ip<'_> {
    fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.sim.instantpay_base().as_str().trim_end_matches('/'),
            path
        )
    }

    fn authed(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.header("X-Ipay-Auth-Code", "1")
            .header("X-Ipay-Client-Id", "demo-ipay-client")
            .header("X-Ipay-Client-Secret", "demo-ipay-secret")
            .header("X-Ipay-Endpoint-Ip", "14.142.186.142")
    }

    async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let resp = self
            .authed(self.client.post(self.url(path)))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    async fn track(&self, link: &str) -> (StatusCode, Value) {
        let resp = self
            .authed(
                self.client
                    .get(self.url(&format!("/payments/payout/link/track/{link}"))),
            )
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }
}

fn ip(sim: &SimHandle) -> Ip<'_> {
    Ip {
        client: Client::new(),
        sim,
    }
}

fn assert_envelope(v: &Value, code: &str) {
    assert_eq!(keys(v), set(ENVELOPE), "{v}");
    assert_eq!(v["statuscode"], code, "{v}");
    let ts = v["timestamp"].as_str().unwrap();
    assert!(
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", ts).is_ok(),
        "timestamp {ts}"
    );
    let uuid = v["ipay_uuid"].as_str().unwrap();
    let parts: Vec<&str> = uuid.split('-').collect();
    assert_eq!(parts.len(), 6, "{uuid}");
    assert!(
        parts[0].starts_with("h00") && parts[0].len() == 12,
        "{uuid}"
    );
    assert_eq!(
        parts[1..].iter().map(|p| p.len()).collect::<Vec<_>>(),
        [4, 4, 4, 12, 12]
    );
    assert!(v["actcode"].is_null() && v["orderid"].is_null());
    assert!(v["status"].is_string());
    assert!(["LIVE", "PRODUCTION", "SANDBOX"].contains(&v["environment"].as_str().unwrap()));
}

fn balance_body() -> Value {
    json!({
        "bankProfileId": "0",
        "accountNumber": "7428585742",
        "externalRef": "PROD1",
        "latitude": "20.1236",
        "longitude": "78.3228"
    })
}

fn create_body(external_ref: &str) -> Value {
    json!({
        "externalRef": external_ref,
        "userFlow": "SIGNUP",
        "redirectionUrl": "https://www.instantpay.in",
        "latitude": "-2.6971",
        "longitude": "-168.6495"
    })
}

fn money(v: &Value) -> Decimal {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    let (_, frac) = s.split_once('.').unwrap();
    assert_eq!(frac.len(), 2, "{s}");
    s.parse().unwrap()
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

    let (_, v) = c
        .post(
            "/identity/digiLocker/status",
            &json!({"referenceId": reference}),
        )
        .await;
    assert_envelope(&v, "TXN");
    assert_eq!(
        keys(&v["data"]),
        set(&["status", "referenceId", "externalRef", "userDetails"])
    );
    assert_eq!(v["data"]["status"], "PENDING");
    assert_eq!(v["data"]["externalRef"], "Eugenia");
    assert!(v["data"]["userDetails"].is_null());

    let (_, v) = c
        .post(
            "/identity/digiLocker/status",
            &json!({"referenceId": "000000000000000000000000"}),
        )
        .await;
    assert_envelope(&v, "RPI");
    assert_eq!(v["status"], "Invalid referenceId");
    let (_, v) = c.post("/identity/digiLocker/status", &json!({})).await;
    assert_envelope(&v, "RPI");
    assert!(v["status"].as_str().unwrap().contains("referenceId"));

    assert!(sim.force_session_status(&reference, SessionStatus::Authenticated));
    let (_, v) = c
        .post(
            "/identity/digiLocker/status",
            &json!({"referenceId": reference}),
        )
        .await;
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
    let (_, v) = c
        .post(
            "/identity/digiLocker/status",
            &json!({"referenceId": reference}),
        )
        .await;
    assert_eq!(v["data"]["status"], "CONSENT_DENIED");
    assert!(v["data"]["userDetails"].is_null());
    assert!(!sim.force_session_status("nope", SessionStatus::Expired));
    Ok(())
}

#[tokio::test]
async fn instantpay_payout_link_notify() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = ip(&sim);
    let (s, v) = c
        .post(
            "/payments/payout/link/notify",
            &json!({"linkId": SAMPLE_LINK_ID}),
        )
        .await;
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
    let (_, v) = c
        .post(
            "/payments/payout/link/notify",
            &json!({"linkId": other_issued}),
        )
        .await;
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
    let (s, v) = c
        .post("/payments/payout/link/notify", &json!({"linkId": claimed}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_envelope(&v, "ERR");
    assert!(v["status"].as_str().unwrap().contains("CLAIMED"));
    assert_eq!(sim.notify_count(claimed), 0);

    let (_, v) = c
        .post(
            "/payments/payout/link/notify",
            &json!({"linkId": "ffffffffffffffffffffffff"}),
        )
        .await;
    assert_envelope(&v, "RPI");
    assert_eq!(v["status"], "Invalid Link Id");
    let (_, v) = c.post("/payments/payout/link/notify", &json!({})).await;
    assert_envelope(&v, "RPI");
    assert!(v["status"].as_str().unwrap().contains("linkId"));
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

struct Cf<'a> {
    client: Client,
    sim: &'a SimHandle,
}

impl Cf<'_> {
    fn url(&self) -> String {
        format!("{}/digilocker", self.sim.cashfree_base())
    }

    async fn send(rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    async fn create(&self, body: &Value) -> (StatusCode, Value) {
        Self::send(
            self.client
                .post(self.url())
                .header("x-client-id", "demo-cf-client")
                .header("x-client-secret", "demo-cf-secret")
                .header("x-api-version", "2023-12-18")
                .json(body),
        )
        .await
    }

    async fn status(&self, query: &[(&str, &str)]) -> (StatusCode, Value) {
        Self::send(
            self.client
                .get(self.url())
                .header("x-client-id", "demo-cf-client")
                .header("x-client-secret", "demo-cf-secret")
                .query(query),
        )
        .await
    }
}

fn cf(sim: &SimHandle) -> Cf<'_> {
    Cf {
        client: Client::new(),
        sim,
    }
}

fn cf_body(verification_id: &str) -> Value {
    json!({
        "verification_id": verification_id,
        "document_requested": ["AADHAAR", "PAN", "DRIVING_LICENSE"],
        "redirect_url": "https://www.cashfree.com"
    })
}

fn cf_error(kind: &str, code: &str, message: &str) -> Value {
    json!({"type": kind, "code": code, "message": message})
}

#[tokio::test]
async fn cashfree_headers_are_enforced() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = cf(&sim);
    let (s, v) = Cf::send(c.client.post(c.url()).json(&cf_body("A1"))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        v,
        cf_error(
            "validation_error",
            "x-client-id_missing",
            "x-client-id is missing in the request."
        )
    );
    let (s, v) = Cf::send(
        c.client
            .get(c.url())
            .header("x-client-id", "demo-cf-client")
            .query(&[("verification_id", "A1")]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        v,
        cf_error(
            "validation_error",
            "x-client-secret_missing",
            "x-client-secret is missing in the request."
        )
    );
    let (s, v) = Cf::send(
        c.client
            .post(c.url())
            .header("x-client-id", "demo-cf-client")
            .header("x-client-secret", "wrong")
            .json(&cf_body("A1")),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v,
        cf_error(
            "authentication_error",
            "authentication_failed",
            "Invalid clientId and clientSecret combination"
        )
    );
    Ok(())
}

#[tokio::test]
async fn cashfree_create_rejects_exactly_as_documented() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = cf(&sim);
    let bad = |field: &str, value: Option<Value>| {
        let mut body = cf_body("ABC00123");
        match value {
            Some(v) => body[field] = v,
            None => {
                body.as_object_mut().unwrap().remove(field);
            }
        }
        body
    };
    let cases = vec![
        (
            bad("verification_id", None),
            cf_error(
                "validation_error",
                "verification_id_missing",
                "verification_id is missing in the request.",
            ),
        ),
        (
            bad("verification_id", Some(json!("ABC@123"))),
            cf_error(
                "validation_error",
                "verification_id_value_invalid",
                "verification_id can include only alphanum, dot, hyphen and underscores.",
            ),
        ),
        (
            bad("document_requested", None),
            cf_error(
                "validation_error",
                "document_requested_missing",
                "document_requested is missing in the request.",
            ),
        ),
        (
            bad("document_requested", Some(json!([]))),
            cf_error(
                "validation_error",
                "invalid_request",
                "Requested Document Type can't be empty",
            ),
        ),
        (
            bad("document_requested", Some(json!(["AADHAAR", "PASSPORT"]))),
            cf_error(
                "validation_error",
                "invalid_request",
                "Invalid Document Type Submitted",
            ),
        ),
        (
            bad("document_requested", Some(json!(["PAN", "PAN"]))),
            cf_error(
                "validation_error",
                "invalid_request",
                "Duplicate Document Type Submitted",
            ),
        ),
        (
            bad("redirect_url", Some(json!("http://www.cashfree.com"))),
            cf_error(
                "validation_error",
                "redirect_url_value_invalid",
                "redirect_url should start with https.",
            ),
        ),
        (
            bad("redirect_url", Some(json!("https//www.cashfree"))),
            cf_error(
                "validation_error",
                "redirect_url_value_invalid",
                "redirect_url should be valid url.",
            ),
        ),
    ];
    for (body, expected) in cases {
        let (s, v) = c.create(&body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(v, expected, "{body}");
    }
    let (s, v) = c
        .create(&bad("verification_id", Some(json!("a".repeat(51)))))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], "verification_id_value_invalid");
    let (s, v) = c.create(&bad("user_flow", Some(json!("SIGNUP")))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(keys(&v), set(&["type", "code", "message"]));
    assert!(v["message"].as_str().unwrap().contains("user_flow"));
    // A merchant out of verification balance: 422 as documented, nothing created.
    sim.set_cashfree_insufficient_balance(true);
    let (s, v) = c.create(&cf_body("ABC00123")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        v,
        json!({
            "type": "validation_error",
            "code": "insufficient_balance",
            "message": "Insufficient balance to process this request"
        })
    );
    sim.set_cashfree_insufficient_balance(false);
    // Nothing above may have created the session.
    let (s, _) = c.create(&cf_body("ABC00123")).await;
    assert_eq!(s, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn cashfree_create_and_status() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = cf(&sim);
    let mut body = cf_body("ABC00123");
    body["user_flow"] = json!("signin");
    let (s, v) = c.create(&body).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        keys(&v),
        set(&[
            "verification_id",
            "reference_id",
            "url",
            "status",
            "document_requested",
            "redirect_url"
        ])
    );
    assert_eq!(v["verification_id"], "ABC00123");
    assert!(v["reference_id"].is_i64());
    assert_eq!(v["status"], "PENDING");
    assert_eq!(
        v["document_requested"],
        json!(["AADHAAR", "PAN", "DRIVING_LICENSE"])
    );
    assert_eq!(v["redirect_url"], "https://www.cashfree.com");
    assert!(
        v["url"]
            .as_str()
            .unwrap()
            .starts_with("https://verification-test.cashfree.com/dgl/")
    );
    let reference = v["reference_id"].as_i64().unwrap().to_string();

    let (s, v) = c.create(&cf_body("ABC00123")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        v,
        cf_error(
            "validation_error",
            "verification_id_value_invalid",
            "verification_id already exists, please provide new verification_id"
        )
    );

    let status_keys = set(&[
        "verification_id",
        "reference_id",
        "status",
        "user_details",
        "document_requested",
        "document_consent",
    ]);
    for query in [
        vec![("verification_id", "ABC00123")],
        vec![("reference_id", reference.as_str())],
    ] {
        let (s, v) = c.status(&query).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(keys(&v), status_keys);
        assert_eq!(v["status"], "PENDING");
        assert_eq!(v["reference_id"].as_i64().unwrap().to_string(), reference);
        assert!(v["user_details"].is_null());
        assert_eq!(v["document_consent"], json!([]));
        assert_eq!(
            v["document_requested"],
            json!(["AADHAAR", "PAN", "DRIVING_LICENSE"])
        );
    }

    // The messages of Cashfree's own error table.
    let (s, v) = c.status(&[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["code"], "verification_id_missing");
    assert_eq!(
        v["message"],
        "Please provide verification_id or reference_id"
    );
    let (s, v) = c.status(&[("verification_id", "NOPE")]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["code"], "verification_id_value_invalid");
    assert_eq!(v["message"], "Please enter a valid verification_id");
    let (_, v) = c.status(&[("reference_id", "1")]).await;
    assert_eq!(v["message"], "Please enter a valid reference_id");
    let (s, _) = c.status(&[("reference_id", "1")]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    assert!(sim.force_session_status(&reference, SessionStatus::Authenticated));
    let (_, v) = c.status(&[("verification_id", "ABC00123")]).await;
    assert_eq!(v["status"], "AUTHENTICATED");
    let user = &v["user_details"];
    assert_eq!(
        keys(user),
        set(&["name", "dob", "gender", "eaadhaar", "mobile"])
    );
    assert!(jiff::civil::Date::strptime("%d-%m-%Y", user["dob"].as_str().unwrap()).is_ok());
    assert_eq!(v["document_consent"], v["document_requested"]);

    assert!(sim.force_session_status("ABC00123", SessionStatus::Expired));
    let (_, v) = c.status(&[("reference_id", reference.as_str())]).await;
    assert_eq!(v["status"], "EXPIRED");
    assert!(v["user_details"].is_null());

    let (s, v) = c
        .create(&json!({"verification_id": "NoRedirect", "document_requested": ["AADHAAR"]}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    Ok(())
}

/// Creates `n` sessions at each provider and polls until all are final.
async fn final_statuses(seed: u64, n: usize) -> Vec<(String, String, Value)> {
    let sim = start(options(seed, 1_000.0)).await;
    let (ipc, cfc) = (ip(&sim), cf(&sim));
    let mut sessions = Vec::new();
    for i in 0..n {
        let (_, v) = ipc
            .post("/identity/digiLocker", &create_body(&format!("DET{i}")))
            .await;
        sessions.push(("ip", v["data"]["referenceId"].as_str().unwrap().to_string()));
        let (_, v) = cfc.create(&cf_body(&format!("det-{i}"))).await;
        sessions.push(("cf", v["verification_id"].as_str().unwrap().to_string()));
    }
    // 600 sim-seconds is 0.6 s at 1000×; allow generous slack.
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let mut out = Vec::new();
        for (kind, id) in &sessions {
            let (status, details) = if *kind == "ip" {
                let (_, v) = ipc
                    .post("/identity/digiLocker/status", &json!({"referenceId": id}))
                    .await;
                (
                    v["data"]["status"].as_str().unwrap().to_string(),
                    v["data"]["userDetails"].clone(),
                )
            } else {
                let (_, v) = cfc.status(&[("verification_id", id.as_str())]).await;
                (
                    v["status"].as_str().unwrap().to_string(),
                    v["user_details"].clone(),
                )
            };
            out.push((id.clone(), status, details));
        }
        if out.iter().all(|(_, s, _)| s != "PENDING") {
            return out;
        }
        assert!(Instant::now() < deadline, "sessions still pending: {out:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
    let (s, v) = cfc.create(&cf_body("x")).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        v,
        cf_error(
            "internal_error",
            "verification_failed",
            "something went wrong"
        )
    );

    sim.set_faults(Faults::default());
    let (s, _) = ipc.post("/accounts/balance", &balance_body()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(sim.request_counts(), (5, 2));
    Ok(())
}

#[tokio::test]
async fn garbage_is_never_a_valid_answer() -> TestResult {
    let sim = start(SimOptions {
        faults: "garbage=1".parse()?,
        ..options(3, 1.0)
    })
    .await;
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
    let sim = start(SimOptions {
        faults: "timeout=1.0".parse()?,
        ..options(1, 1.0)
    })
    .await;
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
            garbage: 0.02
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
    let resp = client
        .get(format!("{}/digilocker/nothing", sim.cashfree_base()))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let v: Value = resp.json().await?;
    assert_eq!(keys(&v), set(&["type", "code", "message"]));
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("/verification/digilocker/nothing")
    );
    let resp = client
        .post(format!("{}accounts/nothing", sim.instantpay_base()))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let v: Value = resp.json().await?;
    assert_eq!(v["statuscode"], "ERR");
    let resp = client
        .delete(format!("{}/digilocker", sim.cashfree_base()))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let v: Value = resp.json().await?;
    assert!(v["message"].as_str().unwrap().contains("DELETE"));
    Ok(())
}
