//! The provider simulator (`payops sim`): InstantPay at the root paths and
//! Cashfree under `/verification`, strict where the providers are, stateful,
//! deterministic from a seed, with injectable faults.

use std::net::SocketAddr;
use std::str::FromStr;

use url::Url;

use crate::config::Env;
use crate::domain::SessionStatus;

/// Probabilities (0..=1) of each injected fault per request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// 429 with Retry-After.
    pub rate_limit: f64,
    /// 500 (InstantPay: non-JSON or envelope; Cashfree: `verification_failed`).
    pub server_error: f64,
    /// Hang without answering (the client's timeout fires).
    pub timeout: f64,
    /// A 200 whose body is not JSON, or JSON cut short.
    pub garbage: f64,
}

impl FromStr for Faults {
    type Err = String;
    /// `429=0.05,500=0.05,timeout=0.02,garbage=0.02` (any subset; `none` or "" for none).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let _ = s;
        todo!()
    }
}

/// The credentials the simulator accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCredentials {
    pub instantpay_client_id: String,
    pub instantpay_client_secret: String,
    pub cashfree_client_id: String,
    pub cashfree_client_secret: String,
}

impl SimCredentials {
    /// Fixed demo credentials (printed by `payops sim` when nothing is configured).
    pub fn demo() -> SimCredentials {
        todo!()
    }

    /// The same `PAYOPS_*` variables the client reads, falling back to `demo()`
    /// per value. Returns whether any value came from the environment.
    pub fn from_env(env: &Env) -> (SimCredentials, bool) {
        let _ = env;
        todo!()
    }
}

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub seed: u64,
    /// How much faster than real time the simulated clock runs (1.0 = real time).
    pub time_scale: f64,
    pub faults: Faults,
    pub credentials: SimCredentials,
    /// A real per-provider requests-per-minute limit answered with 429, like
    /// Cashfree's tiers (None: unlimited).
    pub rate_limit_per_minute: Option<u32>,
    /// Where to keep sessions and link state between runs (the CLI's `--demo`
    /// starts a new simulator per command). None: memory only.
    pub state_file: Option<std::path::PathBuf>,
}

/// A running simulator. Dropping it does not stop it; call `shutdown`.
pub struct SimHandle {
    pub addr: SocketAddr,
}

impl SimHandle {
    /// `http://ADDR`
    pub fn instantpay_base(&self) -> Url {
        todo!()
    }

    /// `http://ADDR/verification`
    pub fn cashfree_base(&self) -> Url {
        todo!()
    }

    /// Replaces the fault probabilities (tests turn faults on and off).
    pub fn set_faults(&self, faults: Faults) {
        let _ = faults;
        todo!()
    }

    /// Forces a session (by provider reference) to a status now.
    pub fn force_session_status(&self, reference: &str, status: SessionStatus) -> bool {
        let _ = (reference, status);
        todo!()
    }

    /// Requests served so far per provider: (instantpay, cashfree).
    pub fn request_counts(&self) -> (u64, u64) {
        todo!()
    }

    pub async fn shutdown(self) {
        todo!()
    }
}

/// Binds `addr` (port 0 allowed) and serves until `shutdown`.
pub async fn start(addr: SocketAddr, options: SimOptions) -> std::io::Result<SimHandle> {
    let _ = (addr, options);
    todo!()
}
