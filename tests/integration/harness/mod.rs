//! What the integration tests share.

pub mod cli;
pub mod engine;
pub mod fuzzer;
pub mod server;
// The live-dashboard bench includes the pty driver too and uses other parts of it.
pub mod postgres;
#[allow(dead_code)]
pub mod pty;
pub mod sim;
pub mod stub;
