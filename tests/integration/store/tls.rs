//! PostgreSQL over TLS, as a managed database demands it: `sslmode` read as
//! libpq reads it, against a cluster speaking TLS with certificates made in
//! the test; and each way it can go wrong a clear error naming the database
//! and what failed, never the password.

use super::*;

fn url(host: &str, port: u16, query: &str) -> String {
    format!("postgres://postgres:hunter2-secret@{host}:{port}/postgres?{query}")
}

fn refused(url: &str) -> String {
    match Store::connect(url) {
        Ok(_) => panic!("connected: {url}"),
        Err(error) => {
            let said = error.to_string();
            assert!(!said.contains("hunter2-secret"), "{said}");
            assert!(said.contains("*****"), "names the database: {said}");
            said
        }
    }
}

#[test]
fn tls_to_postgres_verifies_what_sslmode_asks_and_says_why_not() {
    let Some(cluster) = crate::harness::postgres::tls_cluster("tls_to_postgres") else {
        return;
    };
    let ca = cluster.ca_file.display().to_string();
    let other = cluster.other_ca_file.display().to_string();
    let port = cluster.port;

    // verify-full: the chain and the name, as a managed database wants.
    let store = Store::connect(&url(
        "localhost",
        port,
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .expect("verify-full against the authority that signed it");
    store.list_tokens().unwrap();
    // The certificate is not for 127.0.0.1: verify-full refuses, verify-ca
    // (the chain only) takes it.
    let said = refused(&url(
        "127.0.0.1",
        port,
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    assert!(said.contains("not valid for name"), "{said}");
    Store::connect(&url(
        "127.0.0.1",
        port,
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .expect("verify-ca: the chain holds");
    // Someone else's authority vouches for nothing here.
    let said = refused(&url(
        "localhost",
        port,
        &format!("sslmode=verify-full&sslrootcert={other}"),
    ));
    assert!(said.contains("UnknownIssuer"), "{said}");
    // require: encrypted, not checked (libpq's meaning).
    Store::connect(&url("127.0.0.1", port, "sslmode=require")).expect("require");
    // A missing authority file is named before any connection.
    let said = refused(&url(
        "localhost",
        port,
        "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
    ));
    assert!(said.contains("sslrootcert /nonexistent/ca.pem"), "{said}");
}

#[test]
fn require_refuses_a_database_without_tls() {
    // The ordinary test cluster speaks no TLS.
    let Some(plain) = crate::harness::postgres::database("require_refuses_plain") else {
        return;
    };
    let mut url = url::Url::parse(&plain).unwrap();
    let _ = url.set_password(Some("hunter2-secret"));
    url.set_query(Some("sslmode=require"));
    let said = refused(url.as_str());
    assert!(said.contains("TLS"), "{said}");
    // prefer (the default) falls back to plain, as libpq does.
    url.set_query(Some("sslmode=prefer"));
    Store::connect(url.as_str()).expect("prefer falls back");
}

/// `payops config check` reaches the database as serve would, and says
/// why it cannot.
#[test]
fn config_check_reaches_the_database_the_same_way() {
    let Some(cluster) = crate::harness::postgres::tls_cluster("config_check_reaches") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let check = |store_url: String| {
        let env = vec![
            ("HOME".to_string(), home.path().display().to_string()),
            ("PAYOPS_STORE_URL".to_string(), store_url),
        ];
        crate::harness::cli::run_binary(&["config".into(), "check".into()], &env)
    };
    let good = url(
        "localhost",
        cluster.port,
        &format!(
            "sslmode=verify-full&sslrootcert={}",
            cluster.ca_file.display()
        ),
    );
    let reached = check(good);
    reached.assert_code(0);
    assert!(reached.stdout.contains("reached"), "{}", reached.stdout);
    let wrong = url(
        "localhost",
        cluster.port,
        &format!(
            "sslmode=verify-full&sslrootcert={}",
            cluster.other_ca_file.display()
        ),
    );
    check(wrong).assert_clean_failure(2, "store.url");
}
