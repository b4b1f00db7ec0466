//! The real `payops` binary run against a simulator, with its own HOME and
//! data folder in a temp dir: one runner for every CLI test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use payops::sim::{SimCredentials, SimHandle};
use serde_json::Value;

pub const SECRET_IP: &str = "ipay-very-secret-7f3a9";
pub const SECRET_CF: &str = "cf-very-secret-2b8c1";
pub const SAMPLE_LINK: &str = "657aa9841b8d3897ff0a84fb";

pub fn credentials() -> SimCredentials {
    SimCredentials {
        instantpay_client_id: "test-ipay-client".into(),
        instantpay_client_secret: SECRET_IP.into(),
        cashfree_client_id: "test-cf-client".into(),
        cashfree_client_secret: SECRET_CF.into(),
    }
}

pub struct Harness {
    pub sim: SimHandle,
    pub home: tempfile::TempDir,
    pub extra_env: Vec<(String, String)>,
}

impl Harness {
    pub async fn start(time_scale: f64) -> Harness {
        Harness::start_with(super::sim::options(42, time_scale, credentials())).await
    }

    /// A harness over a simulator with these options (credentials must be
    /// [`credentials()`]).
    pub async fn start_with(options: payops::sim::SimOptions) -> Harness {
        let sim = super::sim::start(options).await;
        Harness {
            sim,
            home: tempfile::tempdir().unwrap(),
            extra_env: Vec::new(),
        }
    }

    /// A harness whose simulator answers every request with `faults`.
    pub async fn failing(faults: payops::sim::Faults) -> Harness {
        let h = Harness::start(1.0).await;
        h.sim.set_faults(faults);
        h
    }

    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let creds = credentials();
        let mut env: Vec<(String, String)> = vec![
            ("HOME", self.home.path().to_str().unwrap().to_string()),
            (
                "XDG_CONFIG_HOME",
                self.home
                    .path()
                    .join("config")
                    .to_str()
                    .unwrap()
                    .to_string(),
            ),
            (
                "PAYOPS_DATA_DIR",
                self.data_dir().to_str().unwrap().to_string(),
            ),
            ("PAYOPS_LOG", "debug".to_string()),
            (
                "PAYOPS_DEFAULTS_REDIRECT_URL",
                "https://example.com/done".to_string(),
            ),
            ("PAYOPS_POLLING_REQUEST_TIMEOUT_SECS", "2".to_string()),
        ]
        .into_iter()
        .chain(payops::demo::client_env(&self.sim, &creds))
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (key, value) in &self.extra_env {
            env.retain(|(k, _)| k != key);
            if !value.is_empty() {
                env.push((key.clone(), value.clone()));
            }
        }
        env
    }

    /// Overrides (or with an empty value, removes) an environment variable.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.to_string(), value.to_string()));
    }

    /// Runs the binary off the async runtime so the in-process simulator keeps serving.
    pub async fn run(&self, args: &[&str]) -> Run {
        let env = self.env();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || run_binary(&args, &env))
            .await
            .unwrap()
    }

    /// Each command line is refused with exit 2 and one clear line that
    /// mentions its needle.
    /// `digilocker create --provider cashfree --json`, which must succeed:
    /// the session.
    pub async fn create_cashfree(&self) -> Value {
        let created = self
            .run(&["digilocker", "create", "--provider", "cashfree", "--json"])
            .await;
        created.assert_code(0);
        created.json()
    }

    pub async fn assert_refused(&self, cases: &[(&[&str], &str)]) {
        for (args, needle) in cases {
            self.run(args).await.assert_clean_failure(2, needle);
        }
    }

    /// Every byte payops wrote: database, logs, config.
    pub fn all_written_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        collect_files(self.home.path(), &mut bytes);
        bytes
    }
}

/// The string at `key` of a JSON object; fails naming the key if it is not one.
pub fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string: {value}"))
}

pub fn collect_files(dir: &Path, into: &mut Vec<u8>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, into);
        } else if let Ok(bytes) = std::fs::read(&path) {
            into.extend(bytes);
        }
    }
}

pub struct Run {
    /// The command line, for assert messages.
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit code of payops {:?}\nstdout: {}\nstderr: {}",
            self.args, self.stdout, self.stderr
        );
        self
    }

    /// A `--json` failure: exit `code` and an error object of this `kind`.
    pub fn assert_json_error(&self, code: i32, kind: &str) {
        self.assert_code(code);
        assert_eq!(
            self.json()["error"]["kind"],
            kind,
            "payops {:?}: {}",
            self.args,
            self.stderr
        );
    }

    /// A failure is one clear line on stderr, never a panic.
    /// Exit 0, and `needle` on stdout.
    pub fn assert_says(&self, needle: &str) -> &Run {
        self.assert_code(0);
        assert!(
            self.stdout.contains(needle),
            "stdout of payops {:?} should say {needle:?}: {}",
            self.args,
            self.stdout
        );
        self
    }

    pub fn assert_clean_failure(&self, code: i32, needle: &str) {
        self.assert_code(code);
        let args = &self.args;
        assert!(
            !self.stderr.contains("panicked"),
            "panic in payops {args:?}: {}",
            self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr of payops {args:?} should mention {needle:?}: {}",
            self.stderr
        );
        let error_lines = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count();
        assert_eq!(
            error_lines, 1,
            "one error line from payops {args:?}: {}",
            self.stderr
        );
    }
}

pub fn run_binary(args: &[String], env: &[(String, String)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payops"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    Run {
        args: args.to_vec(),
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}
