//! The command-line interface: headless commands for scripts over the same
//! ops the dashboard's engine uses, and the entry to the dashboard itself.

pub mod args;
mod commands;
mod dashboard;
mod documents;
mod online;
mod operators;
pub mod output;
mod remote;
mod serve;
mod sim;
mod table;

use std::io::Write;
use std::path::PathBuf;

use crate::config::{self, ConfigError, Env};
use crate::engine::ops::{OpsError, Services};
use crate::error::{ProviderError, ValidationError};
use crate::store::{Store, StoreError};

pub use args::Cli;

/// Exit codes (README).
pub mod exit {
    pub const OK: i32 = 0;
    pub const DECLINED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const UNREACHABLE: i32 = 3;
    pub const OUTCOME_UNKNOWN: i32 = 4;
    /// The operator answered no at a confirmation: nothing was sent.
    pub const NOT_SENT: i32 = 5;
}

impl Output {
    /// The answer "no" at a confirmation: nothing sent, and a status that
    /// says so to a script.
    pub fn not_sent() -> Output {
        Output {
            json: serde_json::json!({"sent": false, "reason": "not confirmed"}),
            human: String::new(),
            code: exit::NOT_SENT,
        }
    }
}

/// Why a command did not succeed: a one-line message, its exit code, and
/// the words `--json` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: i32,
    pub kind: &'static str,
    pub message: String,
    pub provider_code: Option<String>,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::usage_of("usage", message)
    }

    /// A usage error (exit 2) of a kind of its own, for `--json`.
    fn usage_of(kind: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            code: exit::USAGE,
            kind,
            message: message.into(),
            provider_code: None,
        }
    }

    /// Configuration problems, one per line, each naming its key.
    pub fn config(problems: &[crate::config::ConfigProblem]) -> Failure {
        Failure {
            code: exit::USAGE,
            kind: "config",
            message: problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            provider_code: None,
        }
    }
}

impl From<OpsError> for Failure {
    fn from(e: OpsError) -> Self {
        Failure {
            code: e.exit_code(),
            kind: e.kind(),
            message: e.to_string(),
            provider_code: e.provider_code().map(str::to_string),
        }
    }
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        OpsError::from(e).into()
    }
}

impl From<ValidationError> for Failure {
    fn from(e: ValidationError) -> Self {
        Failure::usage_of("invalid_input", e.to_string())
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        OpsError::from(e).into()
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::usage_of("config", e.to_string())
    }
}

/// What a successful command prints, and its exit code (`watch` may succeed
/// at printing yet exit 1).
pub struct Output {
    pub json: serde_json::Value,
    pub human: String,
    pub code: i32,
}

impl Output {
    pub fn ok(json: serde_json::Value, human: String) -> Output {
        Output {
            json,
            human,
            code: exit::OK,
        }
    }
}

/// Everything a command needs: configuration, the data folder, the services,
/// and the demo simulator when `--demo` runs one.
pub struct Context {
    pub config: config::Config,
    pub data_dir: PathBuf,
    pub services: Services,
    pub demo: Option<crate::sim::SimHandle>,
    pub json: bool,
    pub no_color: bool,
}

/// `[theme]` and `[keys]`: the parts of a configuration the demo uses.
fn is_look_or_keys(key: &str) -> bool {
    key.starts_with("theme.") || key.starts_with("keys.")
}

impl Context {
    /// `for_dashboard`: the engine counts every provider call against its rate
    /// budget, so clients must not retry behind its back.
    pub async fn open(cli: &Cli, env: &Env, for_dashboard: bool) -> Result<Context, Failure> {
        let base_data_dir = config::data_dir(env);
        let (config, data_dir, demo) = if cli.demo() {
            let mut demo = crate::demo::start(&base_data_dir, 1.0)
                .await
                .map_err(|e| Failure::usage(format!("cannot start the demo simulator: {e}")))?;
            // The demo brings its own providers, but an operator's look and
            // keys are theirs wherever they run.
            match config::load(cli.config.as_deref(), env) {
                Ok(loaded) => {
                    demo.config.theme = loaded.config.theme;
                    demo.config.theme_problems = loaded.config.theme_problems;
                    demo.config.keys = loaded.config.keys;
                    // Who you are and how you want to be told stay yours too.
                    demo.config.operator = loaded.config.operator;
                    demo.config.alerts = loaded.config.alerts;
                }
                // The demo uses your look and keys: a broken one is refused,
                // as without --demo, rather than silently replaced.
                Err(config::ConfigError::Invalid(problems))
                    if problems.iter().any(|p| is_look_or_keys(&p.key)) =>
                {
                    let ours: Vec<_> = problems
                        .into_iter()
                        .filter(|p| is_look_or_keys(&p.key))
                        .collect();
                    return Err(Failure::config(&ours));
                }
                Err(error) => {
                    eprintln!("warning: your configuration is not used by the demo: {error}")
                }
            }
            (demo.config, demo.data_dir, Some(demo.sim))
        } else {
            let loaded = config::load(cli.config.as_deref(), env)?;
            for warning in &loaded.warnings {
                eprintln!("warning: {warning}");
            }
            (loaded.config, base_data_dir, None)
        };
        // Only the dashboard draws: it refuses a broken [theme] (as it does
        // broken [keys]); every other command says so and carries on.
        if cli.command.is_some() {
            for problem in &config.theme_problems {
                eprintln!("warning: {problem} (the dashboard will not start until it is fixed)");
            }
        }
        let location = store_location(&config, &data_dir);
        let store = Store::at(&location)?;
        if let crate::store::Location::File(_) = &location {
            warn_if_exposed(&data_dir);
        }
        // The dashboard says it in its own window.
        if store.read_only() && !for_dashboard {
            eprintln!("note: {}", crate::words::read_only_store(&location.shown()));
        }
        // Rows a crashed run left in flight become visible as "outcome unknown".
        // A row another payops process still has in flight is overwritten by
        // its real answer when that arrives.
        store.mark_interrupted()?;
        let services = if for_dashboard {
            let policy = crate::engine::run::call_policy(&config.polling);
            Services::with_policy(&config, store, policy)?
        } else {
            Services::new(&config, store)?
        };
        Ok(Context {
            config,
            data_dir,
            services,
            demo,
            json: cli.json(),
            no_color: cli.no_color || env.get("NO_COLOR").is_some(),
        })
    }

    pub async fn close(self) {
        if let Some(sim) = self.demo {
            sim.shutdown().await;
        }
    }
}

/// Says once, at start, which of payops' files other users could read:
/// the data folder and the store, its WAL and shared memory in it, and
/// the logs.
fn warn_if_exposed(data_dir: &std::path::Path) {
    let paths = [data_dir.to_path_buf(), crate::logging::log_dir(data_dir)];
    for (path, mode) in crate::files::exposed(&paths) {
        let warning = crate::files::warning(&path, mode);
        tracing::warn!("{warning}");
        eprintln!("warning: {warning}");
    }
}

/// Where the store lives: `[store] url` (PostgreSQL) when set, otherwise the
/// SQLite file in the data folder.
pub(crate) fn store_location(
    config: &crate::config::Config,
    data_dir: &std::path::Path,
) -> crate::store::Location {
    match &config.store_url {
        Some(url) => crate::store::Location::Postgres(url.clone()),
        None => crate::store::Location::File(data_dir.join("payops.db")),
    }
}

/// Runs the parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let env = match cli.server() {
        Some(url) => Env::from_process().with("PAYOPS_SERVER_URL", &url),
        None => Env::from_process(),
    };
    let json = cli.json();
    let result = match &cli.command {
        None => dashboard::run(&cli, &env).await,
        Some(command) => match team_server(&cli, command, &env) {
            Some(server) => remote::run(command, &server, json).await,
            None => commands::run(&cli, command, &env).await,
        },
    };
    match result {
        Ok(Some(output)) => {
            if json {
                print_stdout(&output.json.to_string());
            } else if !output.human.is_empty() {
                print_stdout(&output.human);
            }
            output.code
        }
        Ok(None) => exit::OK,
        Err(failure) => {
            if json {
                print_stdout(
                    &crate::domain::wire::error_json(
                        failure.kind,
                        &failure.message,
                        failure.provider_code.as_deref(),
                    )
                    .to_string(),
                );
            }
            eprintln!("error: {}", failure.message);
            failure.code
        }
    }
}

/// Team mode: with a server configured, commands that reach the providers
/// go there, and no provider credential or local store is touched.
fn team_server(cli: &Cli, command: &args::Command, env: &Env) -> Option<config::ServerConfig> {
    use args::Command::*;
    let reaches = matches!(
        command,
        Balance(_)
            | Digilocker(_)
            | Link { .. }
            | Notify(_)
            | Audit { .. }
            | Whoami { .. }
            | Activity(_)
    ) || matches!(command, Serve(args) if args.command.is_some());
    if !reaches || cli.demo() {
        return None;
    }
    config::load(cli.config.as_deref(), env)
        .ok()
        .and_then(|loaded| loaded.config.server)
}

/// Prints a line. A closed pipe (`payops ... | head`) ends the output and
/// the process, quietly, as it ends `ls | head`.
pub fn print_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let written = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
    if let Err(error) = written
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        exit_on_closed_pipe();
    }
}

/// Prints a line for whoever may read it, and carries on when nobody
/// does: a server's announcement must not stop the server when the pipe
/// it was started with closes.
pub(crate) fn print_banner(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}

/// The exit status of a process whose reader went away (128 + SIGPIPE), as
/// a shell reports `ls | head`'s.
pub const CLOSED_PIPE: i32 = 141;

/// Ends the process at once without a word: whoever read its output has
/// gone, and an error message would have nowhere to go either.
pub fn exit_on_closed_pipe() -> ! {
    std::process::exit(CLOSED_PIPE)
}
