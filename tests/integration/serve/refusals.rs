//! Every refusal of the team API, from a table (`refusals.toml`): each
//! request, the status, the error's kind, the field it names and what its
//! message says; and that none of them changed anything.

use serde::Deserialize;

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Refusal {
    what: String,
    /// `METHOD /path?query`; `{id}` is the test's session.
    request: String,
    /// A role (`viewer`, `support`, `finance`), `revoked`, or a literal token.
    token: Option<String>,
    body: Option<String>,
    /// The body is `{"label": "xxx…"}` with this many characters.
    label_of_length: Option<usize>,
    status: u16,
    kind: Option<String>,
    field: Option<String>,
    says: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    refusal: Vec<Refusal>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_in_the_table_is_answered_as_written_and_changes_nothing() {
    let table: Table = toml::from_str(include_str!("refusals.toml")).unwrap();
    let harness = Harness::start(1.0).await;
    let mut tokens = std::collections::HashMap::new();
    for (name, role) in [
        ("vera", "viewer"),
        ("asha", "support"),
        ("farid", "finance"),
        ("gone", "admin"),
    ] {
        tokens.insert(role, add_token(&harness, name, role).await);
    }
    tokens.insert("revoked", tokens["admin"].clone());
    harness
        .run(&["serve", "token", "revoke", "gone"])
        .await
        .assert_code(0);
    let created = harness
        .run(&["digilocker", "create", "--provider", "cashfree", "--json"])
        .await;
    created.assert_code(0);
    let id = created.json()["id"].as_str().unwrap().to_string();
    harness
        .run(&["digilocker", "label", &id, "TKT-1"])
        .await
        .assert_code(0);
    let server = start_server(&harness);
    let api = Api::new(&server.base);

    for case in &table.refusal {
        let (method, path) = case.request.split_once(' ').unwrap();
        let path = path.replace("{id}", &id);
        let token = case
            .token
            .as_deref()
            .map(|token| tokens.get(token).map_or(token, String::as_str));
        let body = match case.label_of_length {
            Some(length) => Some(format!(r#"{{"label":"{}"}}"#, "x".repeat(length))),
            None => case.body.clone(),
        };
        let (status, answer) = api.send(method, &path, token, body.as_deref()).await;
        let what = &case.what;
        assert_eq!(status, case.status, "{what}: {answer}");
        if let Some(kind) = &case.kind {
            assert_eq!(error_kind(&answer), kind, "{what}: {answer}");
        }
        if let Some(field) = &case.field {
            assert_eq!(
                error_field(&answer),
                Some(field.as_str()),
                "{what}: {answer}"
            );
        }
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        if let Some(words) = &case.says {
            assert!(message.contains(words.as_str()), "{what}: {answer}");
        }
        // A refusal speaks of the request, never of the server's own types.
        assert!(
            !message.contains("struct ") && !message.contains("Body"),
            "{what}: {answer}"
        );
    }

    // A 401 names the scheme it wants (RFC 6750).
    let unauthorised = api
        .client
        .get(format!("{}/api/v1/sessions", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status().as_u16(), 401);
    assert_eq!(
        unauthorised.headers()["www-authenticate"],
        "Bearer realm=\"payops\""
    );

    // Nothing was written: one session, its label as it was, no notify.
    let listed = harness.run(&["digilocker", "list", "--json"]).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["label"], "TKT-1", "{listed}");
    assert_eq!(
        harness.sim.notify_count(crate::harness::cli::SAMPLE_LINK),
        0
    );
    drop(server);
}
