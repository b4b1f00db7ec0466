//! The engine on a simulator and a real SQLite file: one rig for every
//! engine test, and a driver that waits for the updates a test expects.

use std::path::PathBuf;
use std::time::Duration;

use rust_decimal::Decimal;
use secrecy::SecretString;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

use payops::config::{Config, PollingConfig};
use payops::domain::SessionRecord;
use payops::engine::ops::Services;
use payops::engine::run::{self, call_policy};
use payops::engine::{Command, Update};
use payops::providers::cashfree::CashfreeConfig;
use payops::providers::instantpay::InstantPayConfig;
use payops::sim::{SimCredentials, SimHandle, SimOptions};
use payops::store::Store;

pub const WAIT: Duration = Duration::from_secs(5);

pub struct Rig {
    pub sim: SimHandle,
    pub _dir: tempfile::TempDir,
    pub db: PathBuf,
    pub config: Config,
}

pub async fn rig(options: SimOptions) -> Rig {
    let sim = super::sim::start(options).await;
    let credentials = SimCredentials::demo();
    let config = Config {
        instantpay: Some(InstantPayConfig {
            base_url: sim.instantpay_base(),
            client_id: credentials.instantpay_client_id.clone(),
            client_secret: SecretString::from(credentials.instantpay_client_secret.clone()),
            endpoint_ip: "127.0.0.1".into(),
            account_number: "7428585742".into(),
            latitude: Decimal::new(286_139, 4),
            longitude: Decimal::new(772_090, 4),
        }),
        cashfree: Some(CashfreeConfig {
            base_url: sim.cashfree_base(),
            client_id: credentials.cashfree_client_id.clone(),
            client_secret: SecretString::from(credentials.cashfree_client_secret.clone()),
            api_version: "2023-12-18".into(),
            signing_key: None,
            webhook: Default::default(),
        }),
        ..Config::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("payops.db");
    Rig {
        sim,
        _dir: dir,
        db,
        config,
    }
}

pub fn polling(interval_ms: u64, requests_per_minute: u32) -> PollingConfig {
    PollingConfig {
        session_interval: Duration::from_millis(interval_ms),
        balance_interval: Duration::from_secs(300),
        requests_per_minute,
        max_concurrent_polls: 4,
        request_timeout: Duration::from_secs(2),
    }
}

pub fn services(rig: &Rig, polling: &PollingConfig) -> Services {
    let store = Store::open(&rig.db).expect("store opens");
    Services::with_policy(&rig.config, store, call_policy(polling)).expect("services")
}

pub struct Running {
    pub commands: UnboundedSender<Command>,
    pub updates: UnboundedReceiver<Update>,
    pub task: JoinHandle<()>,
}

impl Running {
    pub fn start(rig: &Rig, polling: PollingConfig) -> Running {
        let (commands, updates, task) = run::spawn(services(rig, &polling), polling);
        Running {
            commands,
            updates,
            task,
        }
    }

    pub fn send(&self, command: Command) {
        self.commands.send(command).expect("engine is running");
    }

    /// The next update matching `pred`, skipping others; fails after `within`.
    pub async fn expect(
        &mut self,
        within: Duration,
        what: &str,
        mut pred: impl FnMut(&Update) -> bool,
    ) -> Update {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.updates.recv()).await {
                Ok(Some(update)) if pred(&update) => return update,
                Ok(Some(_)) => {}
                Ok(None) => panic!("engine stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }

    pub async fn loaded(&mut self) -> Vec<SessionRecord> {
        match self
            .expect(WAIT, "Loaded", |u| matches!(u, Update::Loaded { .. }))
            .await
        {
            Update::Loaded { sessions, .. } => sessions,
            _ => unreachable!(),
        }
    }

    /// Every update that arrives within `window`.
    pub async fn drain(&mut self, window: Duration) -> Vec<Update> {
        self.drain_timed(window)
            .await
            .into_iter()
            .map(|(_, update)| update)
            .collect()
    }

    /// Every update for `window`, with when it came.
    pub async fn drain_timed(&mut self, window: Duration) -> Vec<(Instant, Update)> {
        let deadline = Instant::now() + window;
        let mut seen = Vec::new();
        while let Ok(Some(update)) = timeout(
            deadline.saturating_duration_since(Instant::now()),
            self.updates.recv(),
        )
        .await
        {
            seen.push((Instant::now(), update));
        }
        seen
    }

    pub async fn stop(self) {
        let _ = self.commands.send(Command::Shutdown);
        timeout(WAIT, self.task)
            .await
            .expect("engine stops promptly")
            .expect("engine task does not panic");
    }
}
