//! HTTPS with `--tls-cert`/`--tls-key`, and the refusal to serve tokens in
//! clear on a public address unless told a proxy terminates TLS.

use super::*;

#[test]
fn serve_refuses_a_public_address_without_tls() {
    let run = crate::harness::cli::run_binary(
        &["serve".into(), "--addr".into(), "0.0.0.0:0".into()],
        &[],
    );
    run.assert_clean_failure(2, "--tls-cert");
}

/// A certificate for 127.0.0.1 made now, written beside the harness.
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert_pem = made.cert.pem();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (cert, key, cert_pem)
}

/// A server on loopback speaking HTTPS with a fresh self-signed
/// certificate; with the certificate's and key's paths, and its PEM.
fn https_server(harness: &Harness) -> (crate::harness::server::Server, String, String, String) {
    let (cert, key, cert_pem) = self_signed(harness.home.path());
    let (cert, key) = (
        cert.to_str().unwrap().to_string(),
        key.to_str().unwrap().to_string(),
    );
    let server = start_server_with_addr(
        harness,
        "127.0.0.1:0",
        &["--tls-cert", &cert, "--tls-key", &key],
    );
    (server, cert, key, cert_pem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_speaks_https_with_a_certificate_and_refuses_bad_ones() {
    let harness = Harness::start(1.0).await;
    let (server, cert, key, cert_pem) = https_server(&harness);
    let (cert, key) = (cert.as_str(), key.as_str());
    let base = server.base.clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let health: Value = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["leader"], true, "{health}");
    // Plain HTTP to the TLS port gets no answer it could mistake for one.
    let plain = reqwest::get(base.replace("https://", "http://") + "/healthz").await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    // A client that does not trust the certificate refuses it.
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
    drop(server);

    let garbage = harness.home.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file").unwrap();
    let missing = harness.home.path().join("missing.pem");
    let (garbage, missing) = (garbage.to_str().unwrap(), missing.to_str().unwrap());
    for (args, needle) in [
        (vec!["--tls-cert", missing, "--tls-key", key], "--tls-cert"),
        (vec!["--tls-cert", garbage, "--tls-key", key], "--tls-cert"),
        (vec!["--tls-cert", cert, "--tls-key", garbage], "--tls-key"),
        (vec!["--tls-cert", cert], "--tls-key"),
    ] {
        let mut all = vec!["serve", "--addr", "127.0.0.1:0"];
        all.extend(args);
        harness.run(&all).await.assert_clean_failure(2, needle);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_on_a_public_address_needs_saying_so() {
    let harness = Harness::start(1.0).await;
    let server = start_server_with_addr(&harness, "0.0.0.0:0", &["--allow-plain-http"]);
    assert!(
        server.base.starts_with("http://0.0.0.0:"),
        "{}",
        server.base
    );
    let port = server.base.rsplit(':').next().unwrap();
    let health: Value = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok", "{health}");
}

/// Against a server whose certificate the public roots do not vouch for
/// (an internal authority's), the CLI says what to set; with
/// PAYOPS_SERVER_CA_FILE naming the authority it works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_trusts_an_internal_authority_it_is_given() {
    let harness = Harness::start(1.0).await;
    let token = add_token(&harness, "vera", "viewer").await;
    let (server, cert, _, _) = https_server(&harness);
    let laptop = tempfile::tempdir().unwrap();
    let mut env = super::clients::client_env(&server.base, &token, laptop.path());
    let list = |env: Vec<(String, String)>| {
        tokio::task::spawn_blocking(move || super::clients::client(&env, &["digilocker", "list"]))
    };
    let untrusted = list(env.clone()).await.unwrap();
    untrusted.assert_clean_failure(3, "PAYOPS_SERVER_CA_FILE");
    env.push(("PAYOPS_SERVER_CA_FILE".into(), cert));
    list(env.clone()).await.unwrap().assert_code(0);
    env.retain(|(k, _)| k != "PAYOPS_SERVER_CA_FILE");
    env.push(("PAYOPS_SERVER_CA_FILE".into(), "/nonexistent/ca.pem".into()));
    list(env)
        .await
        .unwrap()
        .assert_clean_failure(2, "PAYOPS_SERVER_CA_FILE: cannot read /nonexistent/ca.pem");
}
