//! Schemathesis, the property-based API fuzzer, driven by the server's own
//! OpenAPI document. Installed from PyPI into a virtual environment under
//! the target folder on first use (a pinned version), as PostgreSQL is
//! started by the tests that need it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

/// The version the contract test was written against.
const VERSION: &str = "4.32.5";

static INSTALLING: Mutex<()> = Mutex::new(());

/// The `schemathesis` command, installed if need be. Panics saying why
/// when it cannot be: the contract test must not pass by not running.
pub fn schemathesis() -> PathBuf {
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(|p| p.into_inner());
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("schemathesis-{VERSION}"));
    let command = venv.join("bin").join("schemathesis");
    let installed = venv.join("installed");
    if installed.exists() {
        return command;
    }
    let run = |program: &str, args: &[&str]| {
        let output = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} (python3 is needed for the API fuzzer): {e}")
            });
        assert!(
            output.status.success(),
            "{program} {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let venv_text = venv.to_string_lossy().to_string();
    run("python3", &["-m", "venv", "--clear", &venv_text]);
    let pip = venv.join("bin").join("pip").to_string_lossy().to_string();
    let wanted = format!("schemathesis=={VERSION}");
    run(
        &pip,
        &["install", "--quiet", "--disable-pip-version-check", &wanted],
    );
    std::fs::write(&installed, VERSION).unwrap();
    command
}
