//! InstantPay client against a stub server on loopback.

use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::harness::stub::{
    Reply, SECRET, Stub, assert_debug_hides_secret, assert_no_secret, assert_outcome_unknown,
    assert_transport, assert_unavailable, assert_user_details, fast_policy, refused_url,
    short_timeout,
};
use payops::domain::{
    ExternalRef, LinkId, LinkStatus, NotifyReceipt, ProviderEnvironment, SessionStatus, UserFlow,
};
use payops::error::ProviderError;
use payops::providers::instantpay::InstantPayConfig;
use payops::providers::{CallPolicy, InstantPayClient, InstantPayCreate};
use rust_decimal::Decimal;
use secrecy::SecretString;

const CLIENT_ID: &str = "YWY3OTAzYzNlM2ExZTJlOfh549Gzt+5IEcETrD5Yx+Q=";

// Sample responses copied verbatim from provider-docs.
const BALANCE_SAMPLE: &str = r#"{
"statuscode": "TXN",
"actcode": null,
"status": "Transaction Successful",
"data": {
"bankId": "0",
"bankProfileId": 0,
"accountNumber": "7428585742",
"accountShortNumber": "5742",
"balance": {
"total": "16.82",
"lien": "0.00",
"available": "16.82"
},
"poolReferenceId": "",
"pool": {
"account": "7428585742",
"openingBal": "16.82",
"mode": "DR",
"amount": "0.00",
"closingBal": "16.82"
}
},
"timestamp": "2022-03-21 10:20:36",
"ipay_uuid": "h00695deb945-3def-42ba-8857-2ff7bac93fe6",
"orderid": null,
"environment": "LIVE",
"internalCode": null
}"#;

const CREATE_SAMPLE: &str = r#"{
"statuscode": "TXN",
"actcode": null,
"status": "Success",
"data": {
"referenceId": "692d11fa5c461321af0c2b24",
"url": "https://digilocker.meripehchaan.gov.in/public/oauth2/1/authorize?response_type=code&client_id=CG588133FF&state=6ZNRGW02YVLRZZQ8189590&code_challenge=iT3YRzzReBvRltA5X-wPufW_wsF21VdxG0z_W60a5ss&code_challenge_method=S256&redirect_uri=https%3A%2F%2Fapi.instantpay.in%2Fwebhook%2F1d482482-c9ee-11f0-884b-0a6bb253fa0b&dl_flow=signup&scope=files.issueddocs+userdetails+email+careof+address+picture",
"status": "PENDING"
},
"timestamp": "2025-12-01 09:26:42",
"ipay_uuid": "h000a07c658e-fd48-4732-8a3a-f46485e52380-VCjknIK9YgFD",
"orderid": null,
"environment": "LIVE",
"internalCode": null
}"#;

const NOTIFY_SAMPLE: &str = r#"{
"statuscode": "TXN",
"actcode": null,
"status": "Notification Link Sent To *******742 and ******@instantpay.in",
"data": null,
"timestamp": "2023-12-14 15:27:40",
"ipay_uuid": "h0009ad88809-ebd1-49ef-80cf-d2686d11072a-lcvrH7edHrIt",
"orderid": null,
"environment": "PRODUCTION",
"internalCode": null
}"#;

// Shapes from InstantPay's public reference (PROVIDERS.md), not the five documents.
const STATUS_SAMPLE: &str = r#"{
"statuscode": "TXN",
"actcode": null,
"status": "Transaction Successful",
"data": {
"status": "AUTHORIZED",
"referenceId": "692d11fa5c461321af0c2b24",
"externalRef": "PO20251201092642ABCDEFGH",
"userDetails": {"name": "John Doe", "mobile": "9999999999", "dob": "1995-02-02", "gender": "M", "eaadhaar": "Y"}
},
"timestamp": "2025-12-01 09:30:00",
"ipay_uuid": "h000status-uuid",
"orderid": "",
"environment": "SANDBOX"
}"#;

const TRACK_SAMPLE: &str = r#"{
"statuscode": "TXN",
"actcode": null,
"status": "Transaction Successful",
"data": {
"status": "ISSUED",
"amount": 1500.5,
"linkActivity": [
{"status": "ISSUED", "activityAt": "2023-12-14 15:20:00", "channel": "SMS"},
{"status": "NOTIFIED", "activityAt": "2023-12-14 15:27:40"}
]
},
"timestamp": "2023-12-14 15:30:00",
"ipay_uuid": "h000track-uuid",
"orderid": null,
"environment": "LIVE",
"internalCode": null
}"#;

const LINK: &str = "657aa9841b8d3897ff0a84fb";

fn config(base_url: url::Url) -> InstantPayConfig {
    InstantPayConfig {
        base_url,
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(SECRET),
        endpoint_ip: "14.142.186.142".into(),
        account_number: "7428585742".into(),
        latitude: Decimal::from_str("20.12361").expect("decimal"),
        longitude: Decimal::from_str("-168.6495").expect("decimal"),
    }
}

fn client_with(stub: &Stub, policy: CallPolicy) -> InstantPayClient {
    InstantPayClient::new(&config(stub.url("")), policy).expect("client")
}

fn client(stub: &Stub) -> InstantPayClient {
    client_with(stub, fast_policy())
}

fn link() -> LinkId {
    LinkId::new_unchecked(LINK)
}

/// A stub that always answers `reply`, and what notifying `link()` through it gave.
async fn notify_at(reply: Reply) -> (Stub, Result<NotifyReceipt, ProviderError>) {
    let stub = Stub::always(reply).await;
    let result = client(&stub).notify_link(&link()).await;
    (stub, result)
}

fn envelope(code: &str, status: &str) -> String {
    format!(
        r#"{{"statuscode":"{code}","actcode":"A7","status":"{status}","data":null,"timestamp":"2024-01-01 00:00:00","ipay_uuid":"h000-failure-uuid","orderid":"","environment":"LIVE"}}"#
    )
}

fn check_no_secret(err: &ProviderError) {
    assert_no_secret(err, &format!("{err}"));
}

/// A create for a fresh reference that comes back to example.com.
fn create_request(flow: UserFlow) -> InstantPayCreate {
    InstantPayCreate {
        external_ref: ExternalRef::generate(),
        redirect_url: url::Url::parse("https://example.com/done").expect("url"),
        flow,
    }
}

/// Creating `request` at `stub` leaves the outcome unknown after one request,
/// naming the failure envelope's uuid.
async fn assert_create_outcome_unknown(stub: &Stub, request: &InstantPayCreate, what: &str) {
    let err = client(stub)
        .create_digilocker(request)
        .await
        .expect_err(what);
    assert!(
        matches!(&err, ProviderError::OutcomeUnknown { request_id: Some(id), .. } if id == "h000-failure-uuid"),
        "{what}: {err:?}"
    );
    assert_eq!(stub.count(), 1, "{what}: not retried");
}

#[tokio::test]
async fn balance_sends_exact_headers_and_body_and_parses_the_sample() {
    let stub = Stub::always(Reply::ok(BALANCE_SAMPLE)).await;
    let client = client(&stub);
    let report = client.balance().await.expect("balance");

    assert_eq!(report.account, "7428585742");
    assert_eq!(report.available, Decimal::from_str("16.82").expect("d"));
    assert_eq!(report.total, Decimal::from_str("16.82").expect("d"));
    assert_eq!(report.lien, Decimal::ZERO);
    assert_eq!(report.environment, Some(ProviderEnvironment::Live));
    assert_eq!(
        report.request_id.as_deref(),
        Some("h00695deb945-3def-42ba-8857-2ff7bac93fe6")
    );

    client.balance().await.expect("second balance");
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, "/accounts/balance");
    assert_eq!(first.header("x-ipay-auth-code"), Some("1"));
    assert_eq!(first.header("x-ipay-client-id"), Some(CLIENT_ID));
    assert_eq!(first.header("x-ipay-client-secret"), Some(SECRET));
    assert_eq!(first.header("x-ipay-endpoint-ip"), Some("14.142.186.142"));
    assert_eq!(first.header("content-type"), Some("application/json"));

    let body = first.json();
    assert_eq!(body["bankProfileId"], "0");
    assert_eq!(body["accountNumber"], "7428585742");
    assert_eq!(body["latitude"], "20.1236");
    assert_eq!(body["longitude"], "-168.6495");
    let refs: Vec<String> = requests
        .iter()
        .map(|r| {
            r.json()["externalRef"]
                .as_str()
                .expect("externalRef")
                .to_string()
        })
        .collect();
    for r in &refs {
        assert!(
            !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric()),
            "{r}"
        );
    }
    assert_ne!(refs[0], refs[1], "externalRef must be unique per call");
    assert_eq!(body.as_object().expect("object").len(), 5);
}

#[tokio::test]
async fn base_url_with_or_without_slash_or_prefix() {
    let stub = Stub::always(Reply::ok(BALANCE_SAMPLE)).await;
    for (base, expected) in [
        ("/", "/accounts/balance"),
        ("", "/accounts/balance"),
        ("/ipay", "/ipay/accounts/balance"),
        ("/ipay/", "/ipay/accounts/balance"),
    ] {
        let client = InstantPayClient::new(&config(stub.url(base)), fast_policy()).expect("client");
        client.balance().await.expect("balance");
        let last = stub.requests().pop().expect("request");
        assert_eq!(last.path, expected, "base {base:?}");
    }
}

#[tokio::test]
async fn balance_accepts_numbers_and_falls_back_to_the_configured_account() {
    let body = r#"{"statuscode":"TXN","status":"ok","data":{"balance":{"total":100.25,"lien":0,"available":"100.25"}},"ipay_uuid":"u"}"#;
    let stub = Stub::always(Reply::ok(body)).await;
    let report = client(&stub).balance().await.expect("balance");
    assert_eq!(report.total, Decimal::from_str("100.25").expect("d"));
    assert_eq!(report.lien, Decimal::ZERO);
    assert_eq!(report.account, "7428585742");
    assert_eq!(report.environment, None);
}

#[tokio::test]
async fn create_digilocker_sends_the_documented_body() {
    let stub = Stub::always(Reply::ok(CREATE_SAMPLE)).await;
    let request = InstantPayCreate {
        external_ref: ExternalRef::new_unchecked("PO20251201ABC"),
        redirect_url: url::Url::parse("https://www.instantpay.in").expect("url"),
        flow: UserFlow::Signup,
    };
    let created = client(&stub)
        .create_digilocker(&request)
        .await
        .expect("create");
    assert_eq!(created.reference, "692d11fa5c461321af0c2b24");
    assert!(
        created
            .url
            .starts_with("https://digilocker.meripehchaan.gov.in/public/oauth2/1/authorize?")
    );
    assert_eq!(created.status, SessionStatus::Pending);
    assert_eq!(created.provider_status, "PENDING");
    assert!(created.documents_requested.is_empty());
    assert_eq!(created.environment, Some(ProviderEnvironment::Live));
    assert_eq!(
        created.request_id.as_deref(),
        Some("h000a07c658e-fd48-4732-8a3a-f46485e52380-VCjknIK9YgFD")
    );

    let request = stub.only_request();
    assert_eq!(request.path, "/identity/digiLocker");
    assert_eq!(request.header("x-ipay-client-secret"), Some(SECRET));
    assert_eq!(
        request.json(),
        serde_json::json!({
            "externalRef": "PO20251201ABC",
            "redirectionUrl": "https://www.instantpay.in/",
            "userFlow": "SIGNUP",
            "latitude": "20.1236",
            "longitude": "-168.6495",
        })
    );
}

#[tokio::test]
async fn create_under_process_is_success_with_a_url_else_outcome_unknown() {
    let with_url = CREATE_SAMPLE.replace("\"TXN\"", "\"TUP\"");
    let stub = Stub::always(Reply::ok(&with_url)).await;
    let request = create_request(UserFlow::Signin);
    let created = client(&stub)
        .create_digilocker(&request)
        .await
        .expect("create");
    assert_eq!(created.reference, "692d11fa5c461321af0c2b24");
    assert_eq!(stub.requests()[0].json()["userFlow"], "SIGNIN");

    let stub = Stub::always(Reply::ok(&envelope("TUP", "Under process"))).await;
    assert_create_outcome_unknown(&stub, &request, "pending").await;
}

#[tokio::test]
async fn create_with_a_server_error_is_outcome_unknown_and_not_retried() {
    let stub = Stub::always(Reply::new(500, &envelope("ERR", "Something went wrong"))).await;
    assert_create_outcome_unknown(&stub, &create_request(UserFlow::Signup), "5xx").await;
}

#[tokio::test]
async fn status_maps_authorized_and_keeps_the_raw_word() {
    let stub = Stub::always(Reply::ok(STATUS_SAMPLE)).await;
    let report = client(&stub)
        .digilocker_status("692d11fa5c461321af0c2b24")
        .await
        .expect("status");
    assert_eq!(report.status, SessionStatus::Authenticated);
    assert_eq!(report.provider_status, "AUTHORIZED");
    assert_eq!(report.reference, "692d11fa5c461321af0c2b24");
    assert_eq!(
        report.external_ref.as_deref(),
        Some("PO20251201092642ABCDEFGH")
    );
    assert!(report.documents_requested.is_empty());
    assert!(report.documents_consented.is_empty());
    let user = report.user_details.expect("user details");
    assert_user_details(
        &user,
        &[
            ("name", "John Doe"),
            ("mobile", "9999999999"),
            ("dob", "1995-02-02"),
            ("eaadhaar", "Y"),
        ],
    );
    assert_eq!(report.request_id.as_deref(), Some("h000status-uuid"));

    let request = &stub.requests()[0];
    assert_eq!(request.path, "/identity/digiLocker/status");
    assert_eq!(
        request.json(),
        serde_json::json!({"referenceId": "692d11fa5c461321af0c2b24"})
    );
}

#[tokio::test]
async fn status_under_process_is_retried_then_transient() {
    let stub = Stub::always(Reply::ok(&envelope("TUP", "Under process"))).await;
    let err = client(&stub)
        .digilocker_status("r1")
        .await
        .expect_err("pending");
    assert!(
        matches!(&err, ProviderError::Unavailable { code: Some(c), .. } if c == "TUP"),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(stub.count(), 3);
}

#[tokio::test]
async fn notify_parses_the_sample_and_sends_the_link_id() {
    let (stub, receipt) = notify_at(Reply::ok(NOTIFY_SAMPLE)).await;
    let receipt = receipt.expect("notify");
    assert_eq!(
        receipt.message,
        "Notification Link Sent To *******742 and ******@instantpay.in"
    );
    assert!(!receipt.pending);
    assert_eq!(receipt.actcode, None);
    assert_eq!(
        receipt.request_id.as_deref(),
        Some("h0009ad88809-ebd1-49ef-80cf-d2686d11072a-lcvrH7edHrIt")
    );
    let request = stub.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/payments/payout/link/notify");
    assert_eq!(request.json(), serde_json::json!({"linkId": LINK}));
    assert_eq!(request.header("x-ipay-auth-code"), Some("1"));
}

#[tokio::test]
async fn notify_under_process_is_a_pending_receipt() {
    let (stub, receipt) = notify_at(Reply::ok(&envelope("TUP", "Request under process"))).await;
    let receipt = receipt.expect("pending notify");
    assert!(receipt.pending);
    assert_eq!(receipt.message, "Request under process");
    assert_eq!(receipt.actcode.as_deref(), Some("A7"));
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn track_is_a_get_with_an_encoded_link_id() {
    let stub = Stub::always(Reply::ok(TRACK_SAMPLE)).await;
    let client = client(&stub);
    let report = client.track_link(&link()).await.expect("track");
    assert_eq!(report.link_id, link());
    assert_eq!(report.status, LinkStatus::Issued);
    assert_eq!(
        report.amount,
        Some(Decimal::from_str("1500.50").expect("d"))
    );
    assert_eq!(report.activity.len(), 2);
    assert_eq!(report.activity[1].status, "NOTIFIED");
    // InstantPay's IST wall-clock time, as RFC 3339.
    assert_eq!(
        report.activity[0].at.as_deref(),
        Some("2023-12-14T09:50:00Z")
    );
    assert_eq!(report.request_id.as_deref(), Some("h000track-uuid"));

    let request = &stub.requests()[0];
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, format!("/payments/payout/link/track/{LINK}"));
    assert_eq!(request.header("x-ipay-client-id"), Some(CLIENT_ID));

    // Ids are validated elsewhere; the path segment is encoded regardless.
    let odd = LinkId::new_unchecked("a/b c");
    client.track_link(&odd).await.expect("track");
    assert_eq!(
        stub.requests()[1].path,
        "/payments/payout/link/track/a%2Fb%20c"
    );
}

#[tokio::test]
async fn track_amount_as_string() {
    let body = TRACK_SAMPLE.replace("1500.5", "\"1500.50\"");
    let stub = Stub::always(Reply::ok(&body)).await;
    let report = client(&stub).track_link(&link()).await.expect("track");
    assert_eq!(report.amount, Some(Decimal::new(150050, 2)));
}

#[tokio::test]
async fn non_txn_with_http_200_is_declined_with_code_status_and_uuid() {
    let (stub, err) = notify_at(Reply::ok(&envelope("IAB", "Insufficent wallet balance"))).await;
    let err = err.expect_err("declined");
    assert_eq!(
        err,
        ProviderError::Declined {
            provider: payops::domain::Provider::InstantPay,
            code: "IAB".into(),
            message: "Insufficent wallet balance".into(),
            actcode: Some("A7".into()),
            request_id: Some("h000-failure-uuid".into()),
        }
    );
    let shown = err.to_string();
    assert!(
        shown.contains("IAB") && shown.contains("h000-failure-uuid"),
        "{shown}"
    );
    assert_eq!(stub.count(), 1);
    check_no_secret(&err);
}

#[tokio::test]
async fn failure_envelope_under_an_error_status_uses_the_envelope_code() {
    let stub = Stub::always(Reply::new(
        400,
        &envelope("RPI", "Request parameters invalid"),
    ))
    .await;
    let err = client(&stub).balance().await.expect_err("declined");
    assert!(
        matches!(&err, ProviderError::Declined { code, .. } if code == "RPI"),
        "{err:?}"
    );
    assert_eq!(stub.count(), 1, "a decline is not retried");
}

#[tokio::test]
async fn auth_codes_and_bare_401_are_auth() {
    let stub = Stub::always(Reply::ok(&envelope("IAT", "Invalid access token"))).await;
    let err = client(&stub).balance().await.expect_err("auth");
    assert!(
        matches!(&err, ProviderError::Auth { code: Some(c), .. } if c == "IAT"),
        "{err:?}"
    );

    let stub = Stub::always(Reply::new(401, "Unauthorized")).await;
    let err = client(&stub).balance().await.expect_err("auth");
    assert!(
        matches!(&err, ProviderError::Auth { code: None, .. }),
        "{err:?}"
    );
    assert_eq!(stub.count(), 1);
    check_no_secret(&err);

    let (_stub, err) = notify_at(Reply::html(403)).await;
    let err = err.expect_err("auth");
    assert_eq!(err.kind(), "auth");
}

#[tokio::test]
async fn unreadable_success_bodies_are_malformed() {
    for (body, needle) in [
        ("<html><body>Gateway</body></html>", "not JSON"),
        ("{}", "statuscode"),
        (r#"{"statuscode":"TXN","data":{"bala"#, "cut short"),
        (
            r#"{"status":"Transaction Successful","data":null}"#,
            "statuscode",
        ),
    ] {
        let stub = Stub::always(Reply::ok(body)).await;
        let err = client(&stub).balance().await.expect_err(body);
        match &err {
            ProviderError::Malformed {
                message, excerpt, ..
            } => {
                assert!(message.contains(needle), "{message}");
                assert_eq!(excerpt, &payops::error::excerpt(body));
            }
            other => panic!("{body}: expected Malformed, got {other:?}"),
        }
        // Retried as reads are (fast_policy: two retries), and said so.
        assert_eq!(stub.count(), 3, "malformed reads are retried");
        assert!(err.to_string().contains("(3 attempts over "), "{err}");
        check_no_secret(&err);
    }
}

#[tokio::test]
async fn success_without_required_fields_names_the_field() {
    let body = r#"{"statuscode":"TXN","status":"ok","data":{"balance":{"total":"1.00","available":"1.00"}}}"#;
    let stub = Stub::always(Reply::ok(body)).await;
    let err = client(&stub).balance().await.expect_err("malformed");
    assert_eq!(err.kind(), "malformed_response");
    assert!(err.to_string().contains("data.balance.lien"), "{err}");

    let body = r#"{"statuscode":"TXN","status":"ok","data":{"referenceId":"r"}}"#;
    let stub = Stub::always(Reply::ok(body)).await;
    let err = client(&stub)
        .digilocker_status("r")
        .await
        .expect_err("malformed");
    assert!(err.to_string().contains("data.status"), "{err}");
}

#[tokio::test]
async fn rate_limit_storm_honours_retry_after_up_to_the_cap_then_gives_up() {
    let stub = Stub::always(Reply::new(429, "").header("retry-after", "1")).await;
    let started = Instant::now();
    let err = client(&stub).balance().await.expect_err("rate limited");
    assert_eq!(
        err,
        ProviderError::RateLimited {
            provider: payops::domain::Provider::InstantPay,
            retry_after: Some(Duration::from_secs(1)),
            code: None,
        }
    );
    assert_eq!(stub.count(), 3, "first attempt + max_retries");
    // Retry-After: 1 is capped at max_delay (40 ms) per wait.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limited_notify_is_retried_because_it_was_not_applied() {
    let stub = Stub::start(|i, _| {
        if i == 0 {
            Reply::new(429, &envelope("TRL", "Too many requests")).header("retry-after", "0")
        } else {
            Reply::ok(NOTIFY_SAMPLE)
        }
    })
    .await;
    let receipt = client(&stub).notify_link(&link()).await.expect("notify");
    assert!(!receipt.pending);
    assert_eq!(stub.count(), 2);
}

#[tokio::test]
async fn server_errors_are_retried_for_reads() {
    let stub = Stub::start(|i, _| {
        if i < 2 {
            Reply::html(502)
        } else {
            Reply::ok(BALANCE_SAMPLE)
        }
    })
    .await;
    let report = client(&stub)
        .balance()
        .await
        .expect("balance after retries");
    assert_eq!(report.available, Decimal::new(1682, 2));
    assert_eq!(stub.count(), 3);

    let stub = Stub::always(Reply::new(503, &envelope("SPD", "Provider downtime"))).await;
    let err = client(&stub).track_link(&link()).await.expect_err("down");
    assert_unavailable(&err, 503, Some("SPD"));
    assert_eq!(stub.count(), 3);

    let stub = Stub::always(Reply::html(500)).await;
    let err = client(&stub)
        .digilocker_status("r")
        .await
        .expect_err("down");
    assert_unavailable(&err, 500, None);
}

#[tokio::test]
async fn maintenance_code_with_http_200_is_unavailable() {
    let stub = Stub::always(Reply::ok(&envelope("USM", "Scheduled maintenance"))).await;
    let err = client(&stub).balance().await.expect_err("maintenance");
    assert_unavailable(&err, 200, Some("USM"));
}

#[tokio::test]
async fn notify_with_a_server_error_is_outcome_unknown_not_retried() {
    let (stub, err) = notify_at(Reply::html(502)).await;
    let err = err.expect_err("unknown");
    assert_eq!(err.kind(), "outcome_unknown");
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn a_hanging_read_times_out() {
    let stub = Stub::always(Reply::ok(BALANCE_SAMPLE).after(Duration::from_secs(10))).await;
    let policy = short_timeout(1);
    let started = Instant::now();
    let err = client_with(&stub, policy)
        .balance()
        .await
        .expect_err("timeout");
    assert_transport(&err, false);
    assert!(err.to_string().contains("no answer within 150 ms"), "{err}");
    // Retried once: the message says how long it waited in all.
    assert!(err.to_string().contains(" (2 attempts over "), "{err}");
    assert_eq!(stub.count(), 2);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_notify_timeout_is_outcome_unknown_after_exactly_one_request() {
    let stub = Stub::always(Reply::ok(NOTIFY_SAMPLE).after(Duration::from_secs(10))).await;
    // fast_policy's two retries, which a notify must not use.
    let policy = short_timeout(2);
    let err = client_with(&stub, policy)
        .notify_link(&link())
        .await
        .expect_err("unknown");
    assert_outcome_unknown(&err);
    assert_eq!(err.exit_code(), 4);
    // Give a wrongly scheduled retry time to show up.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(stub.count(), 1);
    check_no_secret(&err);
}

#[tokio::test]
async fn a_refused_notify_is_retried_then_never_sent() {
    let config = config(refused_url("").await);
    let client = InstantPayClient::new(&config, fast_policy()).expect("client");
    let started = Instant::now();
    let err = client.notify_link(&link()).await.expect_err("refused");
    assert_transport(&err, true);
    // Two backoff waits (10 ms, then 20 ms, jitter only adds) prove the retries.
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "{:?}",
        started.elapsed()
    );
    check_no_secret(&err);
}

#[tokio::test]
async fn clients_are_clone_and_concurrent() {
    let stub = Stub::always(Reply::ok(STATUS_SAMPLE)).await;
    let client = client(&stub);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.digilocker_status(&format!("ref{i}")).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("join").expect("status");
    }
    assert_eq!(stub.count(), 8);
}

#[tokio::test]
async fn debug_output_never_shows_the_secret() {
    let stub = Stub::always(Reply::ok(BALANCE_SAMPLE)).await;
    let client = client(&stub);
    assert_debug_hides_secret(&client, "redacted");
    let bad = InstantPayConfig {
        client_secret: SecretString::from(format!("{SECRET}\u{7f}")),
        ..config(stub.url(""))
    };
    let err = InstantPayClient::new(&bad, fast_policy()).expect_err("bad header");
    assert_eq!(err.kind(), "invalid_request");
    check_no_secret(&err);
}
