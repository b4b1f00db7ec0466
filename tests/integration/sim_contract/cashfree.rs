//! The simulator's Cashfree routes against Cashfree's documents: headers,
//! creates refused exactly as documented, and status.

use super::*;

#[tokio::test]
async fn cashfree_headers_are_enforced() -> TestResult {
    let sim = start(options(1, 1.0)).await;
    let c = cf(&sim);
    assert_cf_refusal(
        Cf::send(c.client.post(c.url()).json(&cf_body("A1"))).await,
        StatusCode::BAD_REQUEST,
        [
            "validation_error",
            "x-client-id_missing",
            "x-client-id is missing in the request.",
        ],
    );
    assert_cf_refusal(
        Cf::send(
            c.client
                .get(c.url())
                .header("x-client-id", "demo-cf-client")
                .query(&[("verification_id", "A1")]),
        )
        .await,
        StatusCode::BAD_REQUEST,
        [
            "validation_error",
            "x-client-secret_missing",
            "x-client-secret is missing in the request.",
        ],
    );
    assert_cf_refusal(
        Cf::send(
            c.client
                .post(c.url())
                .header("x-client-id", "demo-cf-client")
                .header("x-client-secret", "wrong")
                .json(&cf_body("A1")),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        [
            "authentication_error",
            "authentication_failed",
            "Invalid clientId and clientSecret combination",
        ],
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

    assert_cf_refusal(
        c.create(&cf_body("ABC00123")).await,
        StatusCode::CONFLICT,
        [
            "validation_error",
            "verification_id_value_invalid",
            "verification_id already exists, please provide new verification_id",
        ],
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
