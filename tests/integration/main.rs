//! Every integration test in one binary (one link of the crate instead of
//! nine), a module per area, sharing one harness: simulators that stop when
//! dropped, one CLI runner, one engine rig, the provider stub and the
//! pseudo-terminal driver.

mod harness;

mod architecture;

mod cashfree_signature;
mod cli;
mod config;
mod dashboard_e2e;
mod deploy;
mod documents;
mod engine;
mod providers_cashfree;
mod providers_instantpay;
mod replicas;
mod serve;
mod sim_contract;
mod store;
mod team_client;
mod validate_props;
