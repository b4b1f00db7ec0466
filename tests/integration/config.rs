//! The config loader against real files in temporary folders.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use payops::config::{
    ConfigError, ConfigProblem, Env, LoadedConfig, config_path, data_dir, load, load_from,
    template, write_template,
};
use payops::domain::{DocumentType, Provider, UserFlow};
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use tempfile::TempDir;

const IPAY_SECRET: &str = "ipay-SECRET-value-123";
const CF_SECRET: &str = "cf-SECRET-value-456";

fn full_file() -> String {
    format!(
        r#"
[instantpay]
base_url = "https://api.instantpay.in"
client_id = "ipay-id"
client_secret = "{IPAY_SECRET}"
endpoint_ip = "203.0.113.7"
account_number = "7428585742"
latitude = "28.6139"
longitude = 77.209

[cashfree]
base_url = "https://api.cashfree.com/verification"
client_id = "cf-id"
client_secret = "{CF_SECRET}"
api_version = "2023-12-18"

[polling]
session_interval_secs = 3
balance_interval_secs = 600
requests_per_minute = 90
max_concurrent_polls = 8
request_timeout_secs = 20

[dashboard]
low_balance_threshold = "5000.00"

[defaults]
provider = "instantpay"
flow = "signin"
documents = ["aadhaar", "pan"]
redirect_url = "https://example.com/kyc-done"
"#
    )
}

/// Writes `text` as a private config file and returns its path.
fn write(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

fn load_file(path: &Path, env: &Env) -> Result<LoadedConfig, ConfigError> {
    load(Some(path), env)
}

fn problems(result: Result<LoadedConfig, ConfigError>) -> Vec<ConfigProblem> {
    match result {
        Err(ConfigError::Invalid(problems)) => problems,
        Err(other) => panic!("expected problems, got {other}"),
        Ok(loaded) => panic!("expected problems, loaded {:?}", loaded.config),
    }
}

/// `text` written as the config file in `dir`, loaded with no environment.
fn load_text(dir: &TempDir, text: &str) -> Result<LoadedConfig, ConfigError> {
    load_file(&write(dir, text), &Env::default())
}

fn keys(problems: &[ConfigProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.key.as_str()).collect()
}

#[test]
fn full_file_loads() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, &full_file());
    let loaded = load_file(&path, &Env::default()).unwrap();
    assert_eq!(loaded.source.as_deref(), Some(path.as_path()));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;

    let ipay = c.instantpay.unwrap();
    assert_eq!(ipay.base_url.as_str(), "https://api.instantpay.in/");
    assert_eq!(ipay.client_id, "ipay-id");
    assert_eq!(ipay.client_secret.expose_secret(), IPAY_SECRET);
    assert_eq!(ipay.endpoint_ip, "203.0.113.7");
    assert_eq!(ipay.account_number, "7428585742");
    assert_eq!(ipay.latitude, Decimal::from_str("28.6139").unwrap());
    assert_eq!(ipay.longitude, Decimal::from_str("77.209").unwrap());

    let cf = c.cashfree.unwrap();
    assert_eq!(
        cf.base_url.as_str(),
        "https://api.cashfree.com/verification"
    );
    assert_eq!(cf.client_secret.expose_secret(), CF_SECRET);
    assert_eq!(cf.api_version, "2023-12-18");

    assert_eq!(c.polling.session_interval, Duration::from_secs(3));
    assert_eq!(c.polling.balance_interval, Duration::from_secs(600));
    assert_eq!(c.polling.requests_per_minute, 90);
    assert_eq!(c.polling.max_concurrent_polls, 8);
    assert_eq!(c.polling.request_timeout, Duration::from_secs(20));
    assert_eq!(
        c.dashboard.low_balance_threshold,
        Some(Decimal::from_str("5000.00").unwrap())
    );
    assert_eq!(c.defaults.provider, Some(Provider::InstantPay));
    assert_eq!(c.defaults.flow, UserFlow::Signin);
    assert_eq!(
        c.defaults.documents,
        vec![DocumentType::Aadhaar, DocumentType::Pan]
    );
    assert_eq!(
        c.defaults.redirect_url.map(|u| u.to_string()),
        Some("https://example.com/kyc-done".into())
    );
}

#[test]
fn environment_alone_configures_payops() {
    let env = Env::from_pairs([
        ("PAYOPS_CASHFREE_CLIENT_ID", "cf-id"),
        ("PAYOPS_CASHFREE_CLIENT_SECRET", CF_SECRET),
        ("PAYOPS_POLLING_BALANCE_INTERVAL_SECS", "45"),
        ("PAYOPS_DEFAULTS_DOCUMENTS", "pan, driving_license"),
        ("PAYOPS_DASHBOARD_LOW_BALANCE_THRESHOLD", "100.5"),
    ]);
    let loaded = load_from(None, false, &env).unwrap();
    assert_eq!(loaded.source, None);
    let c = loaded.config;
    assert!(c.instantpay.is_none());
    let cf = c.cashfree.unwrap();
    assert_eq!(
        cf.base_url.as_str(),
        "https://sandbox.cashfree.com/verification"
    );
    assert!(cf.signing_key.is_none(), "no 2FA unless asked for");
    assert_eq!(cf.client_id, "cf-id");
    assert_eq!(cf.api_version, "2023-12-18", "the default version");
    assert_eq!(c.polling.balance_interval, Duration::from_secs(45));
    assert_eq!(c.polling.session_interval, Duration::from_secs(5));
    assert_eq!(
        c.defaults.documents,
        vec![DocumentType::Pan, DocumentType::DrivingLicense]
    );
    assert_eq!(
        c.dashboard.low_balance_threshold,
        Some(Decimal::from_str("100.5").unwrap())
    );
}

#[test]
fn missing_default_file_is_fine_but_missing_chosen_file_is_not() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("nope.toml");
    let loaded = load_from(Some(&missing), false, &Env::default()).unwrap();
    assert_eq!(loaded.source, None);
    assert!(loaded.config.cashfree.is_none());

    assert!(matches!(
        load(Some(&missing), &Env::default()),
        Err(ConfigError::Read { .. })
    ));
    let env = Env::from_pairs([("PAYOPS_CONFIG", missing.to_str().unwrap())]);
    match load(None, &env) {
        Err(ConfigError::Read { path, message }) => {
            assert_eq!(path, missing);
            assert!(message.contains("no such file"), "{message}");
        }
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn environment_overrides_the_file() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, &full_file());
    let env = Env::from_pairs([
        ("PAYOPS_CASHFREE_CLIENT_SECRET", "from-env"),
        ("PAYOPS_INSTANTPAY_BASE_URL", "http://127.0.0.1:8787"),
        ("PAYOPS_POLLING_REQUESTS_PER_MINUTE", "30"),
        ("PAYOPS_DEFAULTS_FLOW", "signup"),
        // Empty counts as unset: the file's value stays.
        ("PAYOPS_CASHFREE_CLIENT_ID", ""),
    ]);
    let c = load_file(&path, &env).unwrap().config;
    let cf = c.cashfree.unwrap();
    assert_eq!(cf.client_secret.expose_secret(), "from-env");
    assert_eq!(cf.client_id, "cf-id");
    assert_eq!(
        c.instantpay.unwrap().base_url.as_str(),
        "http://127.0.0.1:8787/"
    );
    assert_eq!(c.polling.requests_per_minute, 30);
    assert_eq!(c.defaults.flow, UserFlow::Signup);
}

#[test]
fn a_provider_without_section_is_absent() {
    let dir = TempDir::new().unwrap();
    let c = load_text(
        &dir,
        &format!("[cashfree]\nclient_id = \"a\"\nclient_secret = \"{CF_SECRET}\"\n"),
    )
    .unwrap()
    .config;
    assert!(c.instantpay.is_none());
    assert!(c.cashfree.is_some());
    assert_eq!(c.polling, Default::default());
    assert_eq!(c.defaults, Default::default());
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = TempDir::new().unwrap();
    let path = write(
        &dir,
        r#"
[instantpay]
client_id = 42
endpoint_ip = "not-an-ip"
account_number = "12345"
latitude = "91.5"
longitude = "-180.01"

[cashfree]
client_id = "cf"
client_secert = "oops"

[polling]
balance_interval_secs = 10
requests_per_minute = 0
max_concurrent_polls = 65
request_timeout_secs = "fast"
session_interval_secs = 0

[dashboard]
low_balance_threshold = "-1"

[defaults]
provider = "paypal"
flow = "login"
documents = ["aadhaar", "passport"]
redirect_url = "http://example.com"

[polling_extra]
x = 1
"#,
    );
    let env = Env::from_pairs([("PAYOPS_CASHFREE_CLIENTSECRET", "x")]);
    let found = problems(load_file(&path, &env));
    let found_keys = keys(&found);
    for key in [
        "polling_extra",
        "cashfree.client_secert",
        "PAYOPS_CASHFREE_CLIENTSECRET",
        "instantpay.client_id",
        "instantpay.client_secret",
        "instantpay.endpoint_ip",
        "instantpay.account_number",
        "instantpay.latitude",
        "instantpay.longitude",
        "cashfree.client_secret",
        "polling.balance_interval_secs",
        "polling.requests_per_minute",
        "polling.max_concurrent_polls",
        "polling.request_timeout_secs",
        "polling.session_interval_secs",
        "dashboard.low_balance_threshold",
        "defaults.provider",
        "defaults.flow",
        "defaults.documents",
        "defaults.redirect_url",
    ] {
        assert!(found_keys.contains(&key), "{key} missing from {found:#?}");
    }
    assert_eq!(found.len(), 20, "{found:#?}");

    let message = |key: &str| {
        found
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.message.clone())
            .unwrap()
    };
    assert!(message("instantpay.client_id").contains("expected a string, found an integer"));
    assert!(message("cashfree.client_secert").contains("did you mean `client_secret`"));
    assert!(message("cashfree.client_secret").contains("PAYOPS_CASHFREE_CLIENT_SECRET"));
    assert!(message("polling.request_timeout_secs").contains("expected a whole number"));
    assert!(message("polling.balance_interval_secs").contains("minimum 30"));
    assert!(message("instantpay.endpoint_ip").contains("not an IP address"));
    assert!(message("instantpay.latitude").contains("out of range"));
    assert!(message("defaults.redirect_url").contains("https"));

    // The error's one-line form names every key too.
    let text = ConfigError::Invalid(found.clone()).to_string();
    assert!(text.contains("polling.max_concurrent_polls"));
}

#[test]
fn env_problems_name_the_variable() {
    let env = Env::from_pairs([
        ("PAYOPS_POLLING_BALANCE_INTERVAL_SECS", "10"),
        ("PAYOPS_POLLING_SESSION_INTERVAL_SECS", "soon"),
        ("PAYOPS_INSTANTPAY_ENDPOINT_IP", "300.1.1.1"),
    ]);
    let found = problems(load_from(None, false, &env));
    let found_keys = keys(&found);
    assert!(found_keys.contains(&"PAYOPS_POLLING_BALANCE_INTERVAL_SECS"));
    assert!(found_keys.contains(&"PAYOPS_POLLING_SESSION_INTERVAL_SECS"));
    assert!(found_keys.contains(&"PAYOPS_INSTANTPAY_ENDPOINT_IP"));
    // Setting one InstantPay variable configures InstantPay: the rest are required.
    assert!(found_keys.contains(&"instantpay.client_secret"));
    assert!(found_keys.contains(&"instantpay.latitude"));
}

#[test]
fn syntax_errors_give_the_line() {
    let dir = TempDir::new().unwrap();
    match load_text(
        &dir,
        &format!(
            "# comment\n[cashfree]\nclient_id = \"a\"\nclient_secret = {CF_SECRET}\n[polling]\n"
        ),
    ) {
        Err(err @ ConfigError::Syntax { .. }) => {
            let ConfigError::Syntax { line, message, .. } = &err else {
                unreachable!()
            };
            assert_eq!(*line, 4, "{message}");
            assert!(!message.is_empty());
            assert!(!err.to_string().contains(CF_SECRET), "{err}");
            assert!(!format!("{err:?}").contains(CF_SECRET));
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }

    match load_text(&dir, "[polling]\nsession_interval_secs = 5\n\n[polling]\n") {
        Err(ConfigError::Syntax { line, .. }) => assert_eq!(line, 4),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn base_urls_must_be_https_unless_loopback() {
    let dir = TempDir::new().unwrap();
    let file = |base: &str| {
        format!(
            "[cashfree]\nbase_url = \"{base}\"\nclient_id = \"a\"\nclient_secret = \"{CF_SECRET}\"\n"
        )
    };
    let found = problems(load_text(
        &dir,
        &file("http://api.cashfree.com/verification"),
    ));
    assert_eq!(keys(&found), ["cashfree.base_url"]);
    assert!(found[0].message.contains("https"));

    for ok in [
        "http://127.0.0.1:8787/verification",
        "http://localhost:9000/verification",
        "http://[::1]:9000/verification",
    ] {
        let c = load_text(&dir, &file(ok)).unwrap().config;
        assert_eq!(c.cashfree.unwrap().base_url.scheme(), "http");
    }

    assert_eq!(
        keys(&problems(load_text(&dir, &file("ftp://example.com")))),
        ["cashfree.base_url"]
    );
}

#[test]
fn secrets_never_appear_in_errors_or_debug() {
    let dir = TempDir::new().unwrap();
    // A secret under a misspelled key, a secret of the wrong type, and a valid one.
    let path = write(
        &dir,
        &format!(
            r#"
[instantpay]
client_id = "id"
client_secret = ["{IPAY_SECRET}"]
[cashfree]
client_id = "id"
client_secret = "{CF_SECRET}"
clientsecret = "{CF_SECRET}"
"#
        ),
    );
    let env = Env::from_pairs([("PAYOPS_INSTANTPAY_CLIENT_SECRETT", IPAY_SECRET)]);
    let err = load_file(&path, &env).unwrap_err();
    for text in [err.to_string(), format!("{err:?}"), format!("{env:?}")] {
        assert!(!text.contains(IPAY_SECRET), "{text}");
        assert!(!text.contains(CF_SECRET), "{text}");
    }

    let path = write(&dir, &full_file());
    let env = Env::from_pairs([("PAYOPS_CASHFREE_CLIENT_SECRET", CF_SECRET)]);
    let loaded = load_file(&path, &env).unwrap();
    let debug = format!("{loaded:?}");
    assert!(debug.contains("client_id"));
    assert!(!debug.contains(IPAY_SECRET), "{debug}");
    assert!(!debug.contains(CF_SECRET), "{debug}");
    assert!(!format!("{env:?}").contains(CF_SECRET));
}

#[cfg(unix)]
#[test]
fn a_file_others_can_read_is_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let path = write(&dir, &full_file());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let loaded = load_file(&path, &Env::default()).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].contains("readable by others"));
    assert!(loaded.warnings[0].contains("chmod 600"));
}

#[test]
fn template_loads_as_nothing_configured() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("deep").join("er").join("config.toml");
    write_template(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), template());
    let loaded = load_file(&path, &Env::default()).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert!(loaded.config.instantpay.is_none());
    assert!(loaded.config.cashfree.is_none());
    assert_eq!(loaded.config.polling, Default::default());
    assert_eq!(loaded.config.defaults, Default::default());
    assert_eq!(loaded.config.dashboard, Default::default());
}

#[test]
fn template_documents_every_key_correctly() {
    // Uncommenting every key line must give a valid, complete configuration
    // whose values are the documented defaults.
    let uncommented: String = template()
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with('[')
                    || rest.split_once(" = ").is_some_and(|(k, _)| {
                        k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }) =>
            {
                rest.to_string()
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = TempDir::new().unwrap();
    let path = write(&dir, &uncommented);
    // The template's public_key_path is relative to the file's folder.
    write_public_key(&dir.path().join("cashfree_public_key.pem"));
    let c = load_file(&path, &Env::default())
        .unwrap_or_else(|e| panic!("{e}\n{uncommented}"))
        .config;
    let ipay = c.instantpay.unwrap();
    assert_eq!(ipay.base_url.as_str(), "https://api.instantpay.in/");
    let cf = c.cashfree.unwrap();
    assert_eq!(
        cf.base_url.as_str(),
        "https://sandbox.cashfree.com/verification"
    );
    assert!(cf.signing_key.is_some(), "public_key_path is read");
    assert_eq!(c.polling, Default::default());
    assert_eq!(c.defaults.flow, UserFlow::Signup);
    assert_eq!(c.defaults.documents, vec![DocumentType::Aadhaar]);
}

#[cfg(unix)]
#[test]
fn write_template_is_private_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("config.toml");
    write_template(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    std::fs::write(&path, "# mine\n").unwrap();
    match write_template(&path) {
        Err(err @ ConfigError::Write { .. }) => {
            assert!(err.to_string().contains("already exists"), "{err}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
}

#[test]
fn paths_follow_flag_then_env_then_platform() {
    let explicit = PathBuf::from("/tmp/explicit.toml");
    let env = Env::from_pairs([
        ("PAYOPS_CONFIG", "/tmp/from-env.toml"),
        ("PAYOPS_DATA_DIR", "/tmp/payops-data"),
    ]);
    assert_eq!(config_path(Some(&explicit), &env), Some(explicit.clone()));
    assert_eq!(
        config_path(None, &env),
        Some(PathBuf::from("/tmp/from-env.toml"))
    );
    assert_eq!(data_dir(&env), PathBuf::from("/tmp/payops-data"));
    if let Some(default) = config_path(None, &Env::default()) {
        assert!(default.ends_with("config.toml"));
    }
    assert!(!data_dir(&Env::default()).as_os_str().is_empty());
}

#[test]
fn documents_may_be_a_comma_string_and_thresholds_a_number() {
    let dir = TempDir::new().unwrap();
    let text = "[defaults]\ndocuments = \"aadhaar,driving_license\"\n[dashboard]\nlow_balance_threshold = 2500\n";
    let c = load_text(&dir, text).unwrap().config;
    assert_eq!(
        c.defaults.documents,
        vec![DocumentType::Aadhaar, DocumentType::DrivingLicense]
    );
    assert_eq!(c.dashboard.low_balance_threshold, Some(Decimal::from(2500)));
}

#[test]
fn a_section_that_is_not_a_table_is_a_problem() {
    let dir = TempDir::new().unwrap();
    let found = problems(load_text(&dir, "polling = 5\n"));
    assert_eq!(keys(&found), ["polling"]);
}

fn write_public_key(path: &std::path::Path) {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let pem = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    std::fs::write(path, pem).unwrap();
}

#[test]
fn balance_alerts_and_desktop_notifications_are_configured_and_checked() {
    let dir = TempDir::new().unwrap();
    let c = load_text(
        &dir,
        "[dashboard]\nbalance_drop_alert = \"50000.00\"\n[alerts]\ndesktop = true\n",
    )
    .unwrap()
    .config;
    assert_eq!(
        c.dashboard.balance_drop_alert,
        Some(Decimal::from_str("50000.00").unwrap())
    );
    assert!(c.alerts.desktop);
    // Off unless asked for.
    let empty = write(&dir, "");
    assert!(
        !load_file(&empty, &Env::default())
            .unwrap()
            .config
            .alerts
            .desktop
    );
    // The environment may say yes/no/1/0 too.
    let env = Env::from_pairs([("PAYOPS_ALERTS_DESKTOP", "yes")]);
    assert!(load_file(&empty, &env).unwrap().config.alerts.desktop);

    let bad = write(
        &dir,
        "[dashboard]\nbalance_drop_alert = \"-5\"\n[alerts]\ndesktop = \"sometimes\"\n",
    );
    let found = problems(load_file(&bad, &Env::default()));
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["dashboard.balance_drop_alert", "alerts.desktop"],
        "{found:?}"
    );
    assert!(found[1].message.contains("true or false"), "{found:?}");
    let env = Env::from_pairs([("PAYOPS_ALERTS_DESKTOP", "maybe")]);
    let found = problems(load_file(&write(&dir, ""), &env));
    assert_eq!(found[0].key, "PAYOPS_ALERTS_DESKTOP");
    assert!(found[0].message.contains("'maybe'"), "{found:?}");
}
