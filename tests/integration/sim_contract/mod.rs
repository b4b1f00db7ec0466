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

mod cashfree;
mod faults;
mod instantpay;
mod running;

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

/// A Cashfree refusal as documented: this status, and exactly this body.
#[track_caller]
fn assert_cf_refusal(answer: (StatusCode, Value), status: StatusCode, refusal: [&str; 3]) {
    let (s, v) = answer;
    assert_eq!(s, status, "{v}");
    assert_eq!(v, cf_error(refusal[0], refusal[1], refusal[2]));
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
