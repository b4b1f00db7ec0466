//! Cashfree client against a stub server on loopback.

use std::time::{Duration, Instant};

use crate::harness::stub::{
    Reply, SECRET, Stub, assert_debug_hides_secret, assert_no_secret, assert_outcome_unknown,
    assert_transport, assert_unavailable, assert_user_details, fast_policy, refused_url,
    short_timeout,
};
use payops::domain::{DocumentType, ExternalRef, Provider, SessionStatus, UserFlow};
use payops::error::ProviderError;
use payops::providers::cashfree::CashfreeConfig;
use payops::providers::{CallPolicy, CashfreeClient, CashfreeCreate, CashfreeLookup};
use secrecy::SecretString;

const CLIENT_ID: &str = "CF10000000TESTID";

// Sample bodies copied verbatim from provider-docs.
const CREATE_SAMPLE: &str = r#"{
  "verification_id": "ABC00123",
  "reference_id": 12345,
  "url": "https://verification-test.cashfree.com/dgl/h7562ci7us0",
  "status": "PENDING",
  "document_requested": ["AADHAAR", "PAN", "DRIVING_LICENSE"],
  "redirect_url": "https://www.cashfree.com"
}"#;

const STATUS_SAMPLE: &str = r#"{
  "user_details": {
    "name": "John Doe",
    "dob": "02-02-1995",
    "gender": "M",
    "eaadhaar": "Y",
    "mobile": "9999999999"
  },
  "status": "PENDING",
  "document_requested": [
    "AADHAAR"
  ],
  "document_consent": [
    "AADHAAR"
  ],
  "verification_id": "ABC00123",
  "reference_id": 1234
}"#;

fn config(base_url: url::Url, api_version: Option<&str>) -> CashfreeConfig {
    CashfreeConfig {
        base_url,
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(SECRET),
        api_version: api_version
            .unwrap_or(payops::config::DEFAULT_CASHFREE_API_VERSION)
            .to_string(),
        signing_key: None,
        webhook: Default::default(),
    }
}

fn client_with(stub: &Stub, policy: CallPolicy) -> CashfreeClient {
    CashfreeClient::new(
        &config(stub.url("/verification"), Some("2023-12-18")),
        policy,
    )
    .expect("client")
}

fn client(stub: &Stub) -> CashfreeClient {
    client_with(stub, fast_policy())
}

fn create_request() -> CashfreeCreate {
    CashfreeCreate {
        verification_id: ExternalRef::new_unchecked("ABC00123"),
        documents: DocumentType::ALL.to_vec(),
        redirect_url: Some(url::Url::parse("https://www.cashfree.com").expect("url")),
        flow: Some(UserFlow::Signin),
    }
}

fn error_body(code: &str, message: &str) -> String {
    format!(r#"{{"type":"validation_error","code":"{code}","message":"{message}"}}"#)
}

fn check_no_secret(err: &ProviderError) {
    assert_no_secret(err, &format!("{err}"));
}

/// The error from creating `create_request()` at `stub`, expected as `what`.
async fn create_err(stub: &Stub, what: &str) -> ProviderError {
    client(stub)
        .create_digilocker(&create_request())
        .await
        .expect_err(what)
}

#[tokio::test]
async fn create_sends_exact_headers_and_body_and_parses_the_sample() {
    let stub = Stub::always(Reply::ok(CREATE_SAMPLE)).await;
    let created = client(&stub)
        .create_digilocker(&create_request())
        .await
        .expect("create");
    assert_eq!(created.reference, "12345");
    assert_eq!(
        created.url,
        "https://verification-test.cashfree.com/dgl/h7562ci7us0"
    );
    assert_eq!(created.status, SessionStatus::Pending);
    assert_eq!(created.provider_status, "PENDING");
    assert_eq!(created.documents_requested, DocumentType::ALL.to_vec());
    assert_eq!(created.environment, None);

    let request = stub.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/verification/digilocker");
    assert_eq!(request.header("x-client-id"), Some(CLIENT_ID));
    assert_eq!(request.header("x-client-secret"), Some(SECRET));
    assert_eq!(request.header("x-api-version"), Some("2023-12-18"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        serde_json::json!({
            "verification_id": "ABC00123",
            "document_requested": ["AADHAAR", "PAN", "DRIVING_LICENSE"],
            "redirect_url": "https://www.cashfree.com/",
            "user_flow": "signin",
        })
    );
}

#[tokio::test]
async fn absent_optionals_are_omitted_and_the_default_version_is_sent() {
    let stub = Stub::always(Reply::ok(CREATE_SAMPLE)).await;
    let client = CashfreeClient::new(&config(stub.url("/verification/"), None), fast_policy())
        .expect("client");
    let request = CashfreeCreate {
        documents: vec![DocumentType::Aadhaar],
        redirect_url: None,
        flow: None,
        ..create_request()
    };
    client.create_digilocker(&request).await.expect("create");
    let captured = &stub.requests()[0];
    assert_eq!(captured.path, "/verification/digilocker");
    assert_eq!(captured.header("x-api-version"), Some("2023-12-18"));
    assert_eq!(
        captured.json(),
        serde_json::json!({"verification_id": "ABC00123", "document_requested": ["AADHAAR"]})
    );
}

#[tokio::test]
async fn status_by_either_id_parses_the_sample() {
    let stub = Stub::always(Reply::ok(STATUS_SAMPLE)).await;
    let client = client(&stub);
    let report = client
        .digilocker_status(&CashfreeLookup::VerificationId("ABC00123".into()))
        .await
        .expect("status");
    assert_eq!(report.reference, "1234");
    assert_eq!(report.external_ref.as_deref(), Some("ABC00123"));
    assert_eq!(report.status, SessionStatus::Pending);
    assert_eq!(report.provider_status, "PENDING");
    assert_eq!(report.documents_requested, vec![DocumentType::Aadhaar]);
    assert_eq!(report.documents_consented, vec![DocumentType::Aadhaar]);
    let user = report.user_details.expect("user details");
    assert_user_details(
        &user,
        &[
            ("name", "John Doe"),
            ("dob", "02-02-1995"),
            ("gender", "M"),
            ("eaadhaar", "Y"),
            ("mobile", "9999999999"),
        ],
    );

    client
        .digilocker_status(&CashfreeLookup::ReferenceId(1234))
        .await
        .expect("status");
    let requests = stub.requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/verification/digilocker");
    assert_eq!(
        requests[0].query.as_deref(),
        Some("verification_id=ABC00123")
    );
    assert_eq!(requests[0].header("x-client-secret"), Some(SECRET));
    assert_eq!(requests[1].query.as_deref(), Some("reference_id=1234"));
}

#[tokio::test]
async fn authenticated_and_unknown_document_words() {
    let body = r#"{"status":"AUTHENTICATED","document_requested":["AADHAAR","PASSPORT","PAN"],
        "document_consent":["PAN","VOTER_ID"],"verification_id":"v1","reference_id":"987654321012"}"#;
    let stub = Stub::always(Reply::ok(body)).await;
    let report = client(&stub)
        .digilocker_status(&CashfreeLookup::VerificationId("v1".into()))
        .await
        .expect("status");
    assert_eq!(report.status, SessionStatus::Authenticated);
    assert_eq!(report.reference, "987654321012");
    assert_eq!(
        report.documents_requested,
        vec![DocumentType::Aadhaar, DocumentType::Pan]
    );
    assert_eq!(report.documents_consented, vec![DocumentType::Pan]);
    assert!(report.user_details.is_none());
}

#[tokio::test]
async fn local_validation_sends_nothing() {
    let stub = Stub::always(Reply::ok(CREATE_SAMPLE)).await;
    let client = client(&stub);
    let cases = [
        (
            CashfreeCreate {
                verification_id: ExternalRef::new_unchecked("has space"),
                ..create_request()
            },
            "verification_id",
        ),
        (
            CashfreeCreate {
                verification_id: ExternalRef::new_unchecked("x".repeat(51)),
                ..create_request()
            },
            "verification_id",
        ),
        (
            CashfreeCreate {
                documents: vec![],
                ..create_request()
            },
            "document_requested",
        ),
        (
            CashfreeCreate {
                redirect_url: Some(url::Url::parse("http://example.com").expect("url")),
                ..create_request()
            },
            "redirect_url",
        ),
    ];
    for (request, field) in cases {
        let err = client.create_digilocker(&request).await.expect_err(field);
        assert!(
            matches!(&err, ProviderError::InvalidRequest { field: f, provider_code: None, .. } if f == field),
            "{err:?}"
        );
    }
    let err = client
        .digilocker_status(&CashfreeLookup::VerificationId(String::new()))
        .await
        .expect_err("empty id");
    assert_eq!(err.kind(), "invalid_request");
    assert_eq!(stub.count(), 0);
}

#[tokio::test]
async fn documented_400_examples_map_to_fields_or_auth() {
    let cases = [
        (
            "verification_id_missing",
            "verification_id is missing in the request.",
            Some("verification_id"),
        ),
        (
            "verification_id_value_invalid",
            "verification_id can include only alphanum, dot, hyphen and underscores.",
            Some("verification_id"),
        ),
        (
            "document_requested_missing",
            "document_requested is missing in the request.",
            Some("document_requested"),
        ),
        (
            "invalid_request",
            "Requested Document Type can't be empty",
            Some("document_requested"),
        ),
        (
            "invalid_request",
            "Duplicate Document Type Submitted",
            Some("document_requested"),
        ),
        (
            "redirect_url_value_invalid",
            "redirect_url should start with https.",
            Some("redirect_url"),
        ),
        (
            "x-client-id_missing",
            "x-client-id is missing in the request.",
            None,
        ),
        (
            "x-client-secret_value_invalid",
            "Client secret belongs to test environment",
            None,
        ),
    ];
    for (code, message, field) in cases {
        let stub = Stub::always(Reply::new(400, &error_body(code, message))).await;
        let err = create_err(&stub, code).await;
        match (field, &err) {
            (
                Some(expected),
                ProviderError::InvalidRequest {
                    field,
                    message: m,
                    provider_code,
                },
            ) => {
                assert_eq!(field, expected, "{code}");
                assert_eq!(m, message);
                assert_eq!(provider_code.as_deref(), Some(code));
            }
            (
                None,
                ProviderError::Auth {
                    code: c,
                    message: m,
                    ..
                },
            ) => {
                assert_eq!(c.as_deref(), Some(code));
                assert_eq!(m, message);
            }
            _ => panic!("{code}: unexpected {err:?}"),
        }
        assert_eq!(stub.count(), 1);
        check_no_secret(&err);
    }
}

#[tokio::test]
async fn auth_and_business_errors_by_status() {
    for (status, code, kind) in [
        (401, "authentication_failed", "auth"),
        (403, "ip_validation_failed", "auth"),
        (404, "verification_id_value_invalid", "declined"),
        (409, "verification_id_value_invalid", "declined"),
        (422, "insufficient_balance", "declined"),
    ] {
        let body = format!(
            r#"{{"type":"request_error","code":"{code}","message":"msg {code}","error":{{"ref_id":102}}}}"#
        );
        let stub = Stub::always(Reply::new(status, &body)).await;
        let err = client(&stub)
            .digilocker_status(&CashfreeLookup::ReferenceId(1))
            .await
            .expect_err(code);
        assert_eq!(err.kind(), kind, "{status}: {err:?}");
        assert_eq!(err.provider_code(), Some(code));
        assert!(err.to_string().contains(&format!("msg {code}")), "{err}");
        assert_eq!(stub.count(), 1, "{status} is not retried");
    }
    let stub = Stub::always(Reply::new(
        409,
        &error_body("verification_id_value_invalid", "used"),
    ))
    .await;
    let err = create_err(&stub, "conflict").await;
    assert_eq!(
        err,
        ProviderError::Declined {
            provider: Provider::Cashfree,
            code: "verification_id_value_invalid".into(),
            message: "used".into(),
            actcode: None,
            request_id: None,
        }
    );
}

#[tokio::test]
async fn rate_limits_are_retried_then_reported() {
    let stub = Stub::always(
        Reply::new(
            429,
            &error_body("too_many_requests_per_operation", "slow down"),
        )
        .header("x-ratelimit-limit", "100")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", "30"),
    )
    .await;
    let started = Instant::now();
    let err = client(&stub)
        .digilocker_status(&CashfreeLookup::ReferenceId(1))
        .await
        .expect_err("rate limited");
    assert_eq!(
        err,
        ProviderError::RateLimited {
            provider: Provider::Cashfree,
            retry_after: Some(Duration::from_secs(30)),
            code: Some("too_many_requests_per_operation".into()),
        }
    );
    assert_eq!(stub.count(), 3);
    assert!(started.elapsed() < Duration::from_secs(1));

    // A create that was rate limited was not applied, so it is retried too.
    let stub = Stub::start(|i, _| {
        if i == 0 {
            Reply::new(429, "").header("retry-after", "0")
        } else {
            Reply::ok(CREATE_SAMPLE)
        }
    })
    .await;
    client(&stub)
        .create_digilocker(&create_request())
        .await
        .expect("create after 429");
    assert_eq!(stub.count(), 2);
}

#[tokio::test]
async fn server_errors_retry_reads_but_not_creates() {
    let stub = Stub::start(|i, _| {
        if i == 0 {
            Reply::new(500, &error_body("verification_failed", "try later"))
        } else {
            Reply::ok(STATUS_SAMPLE)
        }
    })
    .await;
    client(&stub)
        .digilocker_status(&CashfreeLookup::ReferenceId(1234))
        .await
        .expect("status after a retry");
    assert_eq!(stub.count(), 2);

    let stub = Stub::always(Reply::html(502)).await;
    let err = client(&stub)
        .digilocker_status(&CashfreeLookup::ReferenceId(1234))
        .await
        .expect_err("down");
    assert_unavailable(&err, 502, None);
    assert_eq!(stub.count(), 3);

    let stub = Stub::always(Reply::new(500, &error_body("verification_failed", "oops"))).await;
    let err = create_err(&stub, "unknown").await;
    assert_eq!(err.kind(), "outcome_unknown");
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn unreadable_bodies_are_malformed() {
    for (status, body) in [
        (200, "<html>ok</html>"),
        (200, r#"{"status":"PEND"#),
        (200, "[]"),
        (200, "{}"),
        (400, "Bad Request"),
    ] {
        let stub = Stub::always(Reply::new(status, body)).await;
        let err = client(&stub)
            .digilocker_status(&CashfreeLookup::VerificationId("ABC00123".into()))
            .await
            .expect_err(body);
        assert!(
            matches!(&err, ProviderError::Malformed { .. }),
            "{body}: {err:?}"
        );
        // A status read is retried (fast_policy: twice); asking again is harmless.
        assert_eq!(stub.count(), 3);
    }
    // On a create the session may exist all the same.
    let stub = Stub::always(Reply::ok("<html>ok</html>")).await;
    let err = create_err(&stub, "unknown").await;
    assert_eq!(err.kind(), "outcome_unknown");
}

#[tokio::test]
async fn timeouts_read_versus_create() {
    let policy = short_timeout(1);
    let stub = Stub::always(Reply::ok(STATUS_SAMPLE).after(Duration::from_secs(10))).await;
    let err = client_with(&stub, policy.clone())
        .digilocker_status(&CashfreeLookup::ReferenceId(1))
        .await
        .expect_err("timeout");
    assert_transport(&err, false);
    assert_eq!(stub.count(), 2);

    let stub = Stub::always(Reply::ok(CREATE_SAMPLE).after(Duration::from_secs(10))).await;
    let err = client_with(&stub, policy)
        .create_digilocker(&create_request())
        .await
        .expect_err("unknown");
    assert_outcome_unknown(&err);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(stub.count(), 1);
    check_no_secret(&err);
}

#[tokio::test]
async fn refused_create_is_retried_then_never_sent() {
    let client = CashfreeClient::new(
        &config(refused_url("/verification").await, None),
        fast_policy(),
    )
    .expect("client");
    let err = client
        .create_digilocker(&create_request())
        .await
        .expect_err("refused");
    assert_transport(&err, true);
    check_no_secret(&err);
}

#[tokio::test]
async fn debug_output_never_shows_the_secret() {
    let stub = Stub::always(Reply::ok(STATUS_SAMPLE)).await;
    let client = client(&stub);
    assert_debug_hides_secret(&client, CLIENT_ID);
    let clone = client.clone();
    let (a, b) = tokio::join!(
        client.digilocker_status(&CashfreeLookup::ReferenceId(1)),
        clone.digilocker_status(&CashfreeLookup::ReferenceId(2)),
    );
    a.expect("a");
    b.expect("b");
}

#[tokio::test]
async fn a_malformed_status_never_quotes_personal_data() {
    let body = STATUS_SAMPLE.replace("\"status\": \"PENDING\",", "");
    let stub = Stub::always(Reply::ok(&body)).await;
    let err = client(&stub)
        .digilocker_status(&CashfreeLookup::ReferenceId(1234))
        .await
        .expect_err("no status");
    assert!(err.to_string().contains("without status"), "{err}");
    for shown in [format!("{err}"), format!("{err:?}")] {
        assert!(
            !shown.contains("John") && !shown.contains("1995"),
            "{shown}"
        );
    }
}
