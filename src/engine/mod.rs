//! The engine: provider calls with their store bookkeeping (`ops`, shared with
//! the CLI), and the dashboard's async loop (`run`) speaking `messages`.

pub mod actor;
mod create;
pub mod documents;
pub mod messages;
pub mod ops;
pub mod rate_limit;
pub mod run;
pub mod schedule;

pub use messages::{
    Command, Connection, ProviderHealth, ProviderSetup, RequestInput, SessionRequest, Update,
};
