//! Simulators for the tests: on 127.0.0.1:0, stopped when their handle drops.

use payops::sim::{self, Faults, SimCredentials, SimHandle, SimOptions};

pub fn options(seed: u64, time_scale: f64, credentials: SimCredentials) -> SimOptions {
    SimOptions {
        seed,
        time_scale,
        faults: Faults::default(),
        credentials,
        rate_limit_per_minute: None,
        state_file: None,
        cashfree_signature_key: None,
        cashfree_webhook_url: None,
    }
}

pub async fn start(options: SimOptions) -> SimHandle {
    sim::start("127.0.0.1:0".parse().expect("loopback address"), options)
        .await
        .expect("the simulator starts")
}

/// Faults that fail every request the one way `kind` picks, e.g.
/// `every_request(|f| &mut f.timeout)`.
pub fn every_request(kind: impl FnOnce(&mut Faults) -> &mut f64) -> Faults {
    let mut faults = Faults::default();
    *kind(&mut faults) = 1.0;
    faults
}
