//! `payops serve` as a real process over loopback: tokens made by the CLI,
//! the API's checks (token, role, input) from a table, what each role may
//! do, TLS, and the clients, against the simulator and a real SQLite file
//! shared with the CLI.

use std::io::BufRead;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::harness::cli::Harness;
use crate::harness::server::{
    Api, add_token, call, error_field, error_kind, start_server, start_server_with,
    start_server_with_addr,
};

mod clients;
mod contract;
mod operators;
mod refusals;
mod same_output;
mod security;
mod tls;
mod webhooks;
