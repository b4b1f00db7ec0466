//! Cashfree public-key 2FA: the client signs every call, the simulator
//! demands a valid, fresh signature, and a bad key file is a configuration
//! error. Key pairs are generated here, at run time; none is committed.

use std::path::{Path, PathBuf};

use payops::domain::{DocumentType, ExternalRef};
use payops::providers::cashfree::CashfreeConfig;
use payops::providers::signature::{HEADER, SigningKey, VerifyingKey};
use payops::providers::{CashfreeClient, CashfreeCreate, CashfreeLookup};
use rsa::RsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use secrecy::SecretString;

use crate::harness::cli::{Harness, credentials};
use crate::harness::sim;
use crate::harness::stub::{Reply, Stub, fast_policy};

/// A fresh key pair written as the merchant would have it: the public key
/// from the dashboard, the private key (the provider's half) for the simulator.
struct KeyPair {
    dir: tempfile::TempDir,
    private: RsaPrivateKey,
}

impl KeyPair {
    fn generate() -> KeyPair {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("keygen");
        let dir = tempfile::tempdir().expect("tempdir");
        let public = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("public pem");
        std::fs::write(dir.path().join("public.pem"), public).expect("write public");
        let secret = private.to_pkcs8_pem(LineEnding::LF).expect("private pem");
        std::fs::write(dir.path().join("private.pem"), secret.as_bytes()).expect("write private");
        KeyPair { dir, private }
    }

    fn public_path(&self) -> PathBuf {
        self.dir.path().join("public.pem")
    }

    fn private_path(&self) -> PathBuf {
        self.dir.path().join("private.pem")
    }

    fn verifier(&self) -> VerifyingKey {
        VerifyingKey::from_private(self.private.clone())
    }
}

fn config(base_url: url::Url, key: Option<&Path>) -> CashfreeConfig {
    let creds = credentials();
    CashfreeConfig {
        base_url,
        client_id: creds.cashfree_client_id,
        client_secret: SecretString::from(creds.cashfree_client_secret),
        api_version: payops::config::DEFAULT_CASHFREE_API_VERSION.into(),
        signing_key: key.map(|path| SigningKey::load(path).expect("public key")),
        webhook: Default::default(),
    }
}

fn create(id: &str) -> CashfreeCreate {
    CashfreeCreate {
        verification_id: ExternalRef::new_unchecked(id),
        documents: vec![DocumentType::Aadhaar],
        redirect_url: None,
        flow: None,
    }
}

/// Options for a simulator (seed `seed`) that demands signatures by `keys`.
fn demanding(keys: &KeyPair, seed: u64) -> payops::sim::SimOptions {
    payops::sim::SimOptions {
        cashfree_signature_key: Some(keys.verifier()),
        ..sim::options(seed, 1.0, credentials())
    }
}

/// A client of the Cashfree at `base_url`, signing with the public key at `key`.
fn client(base_url: url::Url, key: Option<&Path>) -> CashfreeClient {
    CashfreeClient::new(&config(base_url, key), fast_policy()).expect("client")
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[tokio::test]
async fn signed_calls_pass_and_unsigned_ones_get_403_ip_validation_failed() {
    let keys = KeyPair::generate();
    let sim = sim::start(demanding(&keys, 1)).await;

    let signed = client(sim.cashfree_base(), Some(&keys.public_path()));
    let created = signed.create_digilocker(&create("SIGNED1")).await;
    let created = created.expect("a signed create passes");
    let status = signed
        .digilocker_status(&CashfreeLookup::VerificationId("SIGNED1".into()))
        .await
        .expect("a signed status call passes");
    assert_eq!(status.reference, created.reference);

    let unsigned = client(sim.cashfree_base(), None);
    let error = unsigned
        .digilocker_status(&CashfreeLookup::VerificationId("SIGNED1".into()))
        .await
        .expect_err("an unsigned call is refused");
    assert_eq!(error.kind(), "auth");
    assert_eq!(error.provider_code(), Some("ip_validation_failed"));
    let text = error.to_string();
    assert!(text.contains("public_key_path"), "says the way in: {text}");

    // Another merchant's key does not open.
    let other = KeyPair::generate();
    let foreign = client(sim.cashfree_base(), Some(&other.public_path()));
    let error = foreign
        .create_digilocker(&create("FOREIGN1"))
        .await
        .expect_err("a signature from another key is refused");
    assert_eq!(error.provider_code(), Some("ip_validation_failed"));
}

#[tokio::test]
async fn a_stale_signature_is_refused_by_the_simulator() {
    let keys = KeyPair::generate();
    let sim = sim::start(demanding(&keys, 1)).await;
    let signer = SigningKey::load(&keys.public_path()).expect("key");
    let creds = credentials();
    let call = |signature: String| {
        let url = format!("{}/digilocker?verification_id=NOPE1", sim.cashfree_base());
        let client = reqwest::Client::new();
        let (id, secret) = (
            creds.cashfree_client_id.clone(),
            creds.cashfree_client_secret.clone(),
        );
        async move {
            let response = client
                .get(url)
                .header("x-client-id", id)
                .header("x-client-secret", secret)
                .header(HEADER, signature)
                .send()
                .await
                .expect("answer");
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.expect("json body");
            (status, body)
        }
    };
    let client_id = &creds.cashfree_client_id;
    let (status, body) = call(signer.sign(client_id, now() - 6 * 60).expect("sign")).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "ip_validation_failed");
    assert_eq!(body["type"], "authentication_error");
    // Four minutes old is still fresh: the unknown id is what is wrong now.
    let (status, body) = call(signer.sign(client_id, now() - 4 * 60).expect("sign")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["message"], "Please enter a valid verification_id");
}

#[tokio::test]
async fn every_attempt_carries_its_own_signature() {
    let keys = KeyPair::generate();
    let stub = Stub::always(Reply::new(
        500,
        r#"{"type":"api_error","code":"verification_failed","message":"x"}"#,
    ))
    .await;
    let _ = client(stub.url("/verification"), Some(&keys.public_path()))
        .digilocker_status(&CashfreeLookup::VerificationId("RETRY1".into()))
        .await;
    let requests = stub.requests();
    assert!(requests.len() >= 2, "the read was retried");
    let signatures: Vec<&str> = requests
        .iter()
        .map(|r| r.header(HEADER).expect("every attempt is signed"))
        .collect();
    let verifier = keys.verifier();
    for signature in &signatures {
        assert_eq!(
            verifier.verify(Some(signature), &credentials().cashfree_client_id, now()),
            Ok(())
        );
    }
    assert_ne!(signatures[0], signatures[1], "a retry signs afresh");
}

#[tokio::test]
async fn the_cli_signs_with_the_configured_key_and_bad_key_files_are_config_errors() {
    let keys = KeyPair::generate();
    let mut h = Harness::start_with(demanding(&keys, 42)).await;
    let create = [
        "digilocker",
        "create",
        "--provider",
        "cashfree",
        "--docs",
        "aadhaar",
        "--json",
    ];
    // Without the key, the simulator refuses as production refuses an unknown address.
    let run = h.run(&create).await;
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("public_key_path"), "{}", run.stderr);

    let public = keys.public_path();
    h.set_env(
        "PAYOPS_CASHFREE_PUBLIC_KEY_PATH",
        public.to_str().expect("utf-8 path"),
    );
    let run = h.run(&create).await;
    run.assert_code(0);
    assert_eq!(run.json()["status"], "PENDING");
    let check = h.run(&["config", "check"]).await;
    check.assert_code(0);
    assert!(
        check
            .stdout
            .contains(&format!("x-cf-signature with {}", public.display())),
        "{}",
        check.stdout
    );

    // A missing file, and a private key where the public one belongs: each
    // named with its key and path, found by `config check`, never a panic.
    let missing = keys.dir.path().join("missing.pem");
    h.set_env(
        "PAYOPS_CASHFREE_PUBLIC_KEY_PATH",
        missing.to_str().expect("utf-8"),
    );
    let run = h.run(&["config", "check"]).await;
    run.assert_code(2);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(all.contains("PAYOPS_CASHFREE_PUBLIC_KEY_PATH"), "{all}");
    assert!(all.contains("missing.pem: no such file"), "{all}");

    let private = keys.private_path();
    h.set_env(
        "PAYOPS_CASHFREE_PUBLIC_KEY_PATH",
        private.to_str().expect("utf-8"),
    );
    let run = h.run(&create).await;
    run.assert_clean_failure(2, "holds a private key");
    assert!(
        !run.stderr.contains("MII"),
        "no key material: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn a_relative_key_path_in_the_file_is_read_from_the_files_folder() {
    let keys = KeyPair::generate();
    let file = keys.dir.path().join("config.toml");
    std::fs::write(
        &file,
        "[cashfree]\nclient_id = \"id\"\nclient_secret = \"secret\"\npublic_key_path = \"public.pem\"\n",
    )
    .expect("write config");
    let env = payops::config::Env::default();
    let loaded = payops::config::load_from(Some(&file), true, &env).expect("loads");
    let cashfree = loaded.config.cashfree.expect("cashfree configured");
    let key = cashfree.signing_key.expect("key read");
    assert_eq!(key.path(), keys.public_path());
}
