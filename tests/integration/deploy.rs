//! `assets/payops-serve.service`, the systemd unit a team installs: what
//! `systemd-analyze` says of it.

use std::path::Path;
use std::process::Command;

fn unit() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/payops-serve.service")
}

/// `systemd-analyze`, or None (saying so) on a machine without it.
fn analyze(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("systemd-analyze").args(args).output() {
        Ok(output) => Some(output),
        Err(error) => {
            eprintln!("SKIPPED: no systemd-analyze ({error})");
            None
        }
    }
}

#[test]
fn the_unit_verifies_with_the_real_binary() {
    // As installed: the unit names /usr/local/bin/payops; here, the one built.
    let text = std::fs::read_to_string(unit()).unwrap();
    assert!(text.contains("ExecStart=/usr/local/bin/payops serve"));
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("payops-serve.service");
    std::fs::write(
        &copy,
        text.replace("/usr/local/bin/payops", env!("CARGO_BIN_EXE_payops")),
    )
    .unwrap();
    let Some(verified) = analyze(&["verify", copy.to_str().unwrap()]) else {
        return;
    };
    let said = String::from_utf8_lossy(&verified.stderr);
    assert!(verified.status.success(), "{said}");
    assert!(!said.contains("Unknown"), "{said}");
}

#[test]
fn the_unit_is_rated_at_exposure_two_or_lower() {
    let Some(rated) = analyze(&["security", "--offline=yes", unit().to_str().unwrap()]) else {
        return;
    };
    let said = String::from_utf8_lossy(&rated.stdout).to_string();
    let exposure: f64 = said
        .lines()
        .find_map(|line| {
            line.split("Overall exposure level for payops-serve.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|figure| figure.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{said}"));
    println!("systemd-analyze security: exposure {exposure}");
    assert!(exposure <= 2.0, "exposure {exposure}:\n{said}");
}

#[test]
fn the_unit_holds_no_secret() {
    let text = std::fs::read_to_string(unit()).unwrap();
    for secret in ["CLIENT_SECRET=", "STORE_URL=", "postgres://", "TOKEN="] {
        assert!(!text.contains(secret), "{secret} in the unit");
    }
    assert!(text.contains("EnvironmentFile=/etc/payops/payops.env"));
}
