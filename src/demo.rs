//! `--demo`: an in-process simulator with demo credentials and a separate
//! `demo/` data folder, so anyone can try payops with no credentials and no network.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_decimal::Decimal;
use secrecy::SecretString;

use crate::config::{Config, DashboardConfig, PollingConfig, SessionDefaults};
use crate::domain::{DocumentType, Provider, UserFlow};
use crate::engine::SessionRequest;
use crate::providers::cashfree::CashfreeConfig;
use crate::providers::instantpay::InstantPayConfig;
use crate::sim::{self, Faults, SimCredentials, SimHandle, SimOptions};

/// The demo's registered mobile number (the provider docs' sample account).
pub const DEMO_ACCOUNT: &str = "7428585742";
/// Where demo sessions send the customer afterwards.
pub const DEMO_REDIRECT: &str = "https://example.com/kyc-done";

/// A running demo: the simulator and the configuration pointing at it.
pub struct Demo {
    pub sim: SimHandle,
    pub config: Config,
    pub data_dir: PathBuf,
}

/// The demo's data folder beside the real one, so demo records never mix with real ones.
pub fn data_dir(base: &Path) -> PathBuf {
    base.join("demo")
}

/// Starts the simulator on a free loopback port. `time_scale` speeds its clock
/// so sessions visibly move in the dashboard.
pub async fn start(base_data_dir: &Path, time_scale: f64) -> std::io::Result<Demo> {
    let data_dir = data_dir(base_data_dir);
    std::fs::create_dir_all(&data_dir)?;
    let credentials = SimCredentials::demo();
    let options = SimOptions {
        seed: 7,
        time_scale,
        faults: Faults::default(),
        credentials: credentials.clone(),
        rate_limit_per_minute: None,
        state_file: Some(data_dir.join("sim-state.json")),
        cashfree_signature_key: None,
        // `serve --demo` points it at itself once it listens.
        cashfree_webhook_url: None,
    };
    let addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    let sim = sim::start(addr, options).await?;
    let config = config_for(&sim, &credentials);
    Ok(Demo {
        sim,
        config,
        data_dir,
    })
}

/// A configuration that points both providers at a simulator.
pub fn config_for(sim: &SimHandle, credentials: &SimCredentials) -> Config {
    Config {
        instantpay: Some(InstantPayConfig {
            base_url: sim.instantpay_base(),
            client_id: credentials.instantpay_client_id.clone(),
            client_secret: SecretString::from(credentials.instantpay_client_secret.clone()),
            endpoint_ip: "127.0.0.1".to_string(),
            account_number: DEMO_ACCOUNT.to_string(),
            latitude: Decimal::new(286139, 4),
            longitude: Decimal::new(772090, 4),
        }),
        cashfree: Some(CashfreeConfig {
            base_url: sim.cashfree_base(),
            client_id: credentials.cashfree_client_id.clone(),
            client_secret: SecretString::from(credentials.cashfree_client_secret.clone()),
            api_version: crate::config::DEFAULT_CASHFREE_API_VERSION.to_string(),
            signing_key: None,
            webhook: Default::default(),
        }),
        polling: PollingConfig {
            balance_interval: Duration::from_secs(30),
            ..PollingConfig::default()
        },
        // Near the simulated wallet's opening ₹25,000, and under its largest
        // debits (₹2,500), so both alerts can be seen.
        dashboard: DashboardConfig {
            low_balance_threshold: Some(Decimal::new(2_400_000, 2)),
            balance_drop_alert: Some(Decimal::new(200_000, 2)),
        },
        defaults: SessionDefaults {
            provider: Some(Provider::Cashfree),
            redirect_url: url::Url::parse(DEMO_REDIRECT).ok(),
            ..SessionDefaults::default()
        },
        ..Config::default()
    }
}

/// The environment a payops process needs to use a simulator with these
/// credentials: each provider's `PAYOPS_*` keys, as `payops sim` prints
/// them. The secrets are in it: print them only when they are the demo's.
pub fn client_env(sim: &SimHandle, credentials: &SimCredentials) -> Vec<(&'static str, String)> {
    let config = config_for(sim, credentials);
    let mut env = Vec::new();
    if let Some(ip) = &config.instantpay {
        env.extend([
            ("PAYOPS_INSTANTPAY_BASE_URL", ip.base_url.to_string()),
            ("PAYOPS_INSTANTPAY_CLIENT_ID", ip.client_id.clone()),
            (
                "PAYOPS_INSTANTPAY_CLIENT_SECRET",
                credentials.instantpay_client_secret.clone(),
            ),
            ("PAYOPS_INSTANTPAY_ENDPOINT_IP", ip.endpoint_ip.clone()),
            (
                "PAYOPS_INSTANTPAY_ACCOUNT_NUMBER",
                ip.account_number.clone(),
            ),
            ("PAYOPS_INSTANTPAY_LATITUDE", ip.latitude.to_string()),
            ("PAYOPS_INSTANTPAY_LONGITUDE", ip.longitude.to_string()),
        ]);
    }
    if let Some(cf) = &config.cashfree {
        env.extend([
            ("PAYOPS_CASHFREE_BASE_URL", cf.base_url.to_string()),
            ("PAYOPS_CASHFREE_CLIENT_ID", cf.client_id.clone()),
            (
                "PAYOPS_CASHFREE_CLIENT_SECRET",
                credentials.cashfree_client_secret.clone(),
            ),
        ]);
    }
    env
}

/// Asks `engine` to create the demo's sessions, so a newcomer sees sessions
/// moving rather than an empty table (unless the demo store has some in
/// flight already). The dashboard and `serve --demo` both start so.
pub fn seed(
    services: &crate::engine::ops::Services,
    engine: &tokio::sync::mpsc::UnboundedSender<crate::engine::Command>,
) {
    let active = services
        .store()
        .list_sessions(false)
        .map_or(0, |sessions| sessions.len());
    for request in seed_requests(active) {
        let _ = engine.send(crate::engine::Command::CreateSession(request));
    }
}

/// Sessions to put in flight so a newcomer sees a living screen, unless the
/// demo store already has `active` sessions in flight.
pub fn seed_requests(active: usize) -> Vec<SessionRequest> {
    if active >= 3 {
        return Vec::new();
    }
    let Ok(redirect) = url::Url::parse(DEMO_REDIRECT) else {
        return Vec::new();
    };
    let seeds = [
        (
            Provider::Cashfree,
            UserFlow::Signup,
            vec![DocumentType::Aadhaar, DocumentType::Pan],
        ),
        (Provider::InstantPay, UserFlow::Signup, vec![]),
        (
            Provider::Cashfree,
            UserFlow::Signin,
            vec![DocumentType::Aadhaar],
        ),
        (Provider::InstantPay, UserFlow::Signin, vec![]),
    ];
    seeds
        .into_iter()
        .zip(4101..)
        .map(|((provider, flow, documents), ticket)| SessionRequest {
            provider,
            flow,
            documents,
            redirect_url: Some(redirect.clone()),
            // As an agent would: the support ticket the customer called about.
            label: Some(format!("TKT-{ticket}")),
        })
        .collect()
}
