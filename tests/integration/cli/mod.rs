//! The real `payops` binary against the real simulator over loopback HTTP,
//! with a real SQLite file in a temp dir: every command and every bad input.

use std::process::{Command, Stdio};

use payops::sim::{self, Faults};

use crate::harness::cli::*;
use crate::harness::sim as test_sim;

mod digilocker;
mod failures;
mod notify;
mod running;

/// Starts `payops sim` on a free port and reads what it prints up to its
/// last line.
fn start_sim(env: &[(&str, String)]) -> (std::process::Child, Vec<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payops"));
    cmd.args(["sim", "--addr", "127.0.0.1:0", "--time-scale", "10"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = read_until_ready(std::io::BufReader::new(stdout));
    (child, lines)
}

fn read_until_ready(mut reader: impl std::io::BufRead) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let read = reader.read_line(&mut line).unwrap();
        assert!(read > 0, "sim stopped early: {lines:?}");
        let line = line.trim_end().to_string();
        let last = line.starts_with("# Ctrl-C");
        lines.push(line);
        if last {
            return lines;
        }
    }
}
