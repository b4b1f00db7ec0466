//! payops: a terminal dashboard and CLI for payments operations (InstantPay, Cashfree).
//!
//! A core with three front ends over it. Each layer imports only the ones
//! above it in this list (`tests/integration/architecture.rs` holds it so):
//!
//! - the vocabulary: `domain` (with `domain::wire`, the JSON every front end
//!   speaks), `error`, `validate`, `words`, `auth`, `documents`, and
//!   `telemetry` (the metrics' names);
//! - the parts: `providers` (the HTTP clients), `store` (SQLite or
//!   PostgreSQL), `files` (private folders and files), `logging`, `config`
//!   (which reads every part's settings), `sim` (the providers' simulator);
//! - the core: `engine` (provider calls with their bookkeeping, and the
//!   async loop the front ends talk to by messages), and `demo`, which
//!   seeds it against the simulator;
//! - the front ends: `server` (`payops serve`), `client` (team mode's client
//!   of it), `tui` (the dashboard), and `cli`, which parses the command line
//!   and hands each command to the one that runs it.

// The vocabulary.
pub mod auth;
pub mod documents;
pub mod domain;
pub mod error;
pub mod telemetry;
pub mod validate;
pub mod words;

// The parts.
pub mod config;
pub mod files;
pub mod logging;
pub mod providers;
pub mod sim;
pub mod store;

// The core.
pub mod demo;
pub mod engine;

// The front ends.
pub mod cli;
pub mod client;
pub mod server;
pub mod tui;
