//! payops: a terminal dashboard and CLI for payments operations (InstantPay, Cashfree).

pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod demo;
pub mod documents;
pub mod domain;
pub mod engine;
pub mod error;
pub mod logging;
pub mod providers;
pub mod server;
pub mod sim;
pub mod store;
pub mod tui;
pub mod validate;
pub mod words;
