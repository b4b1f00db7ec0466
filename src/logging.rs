//! Logs go to a daily file under the data folder, never to the screen: the
//! dashboard owns the terminal and the CLI's stdout belongs to scripts.
//! `payops serve` is the exception: it logs to stderr, where systemd,
//! Docker and Kubernetes collect it, as text or one JSON object a line.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// The folder log files are written to.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

/// Starts file logging at `PAYOPS_LOG` (an `EnvFilter` directive, default
/// `info`). Keep the guard alive until exit so buffered lines are flushed.
/// Logging is best effort: if the folder cannot be created, payops runs without it.
pub fn init(data_dir: &Path) -> Option<WorkerGuard> {
    let dir = log_dir(data_dir);
    crate::files::create_private_dir(&dir).ok()?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("payops")
        .filename_suffix("log")
        .max_log_files(14)
        .build(&dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("PAYOPS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}

/// How `payops serve` writes its log lines to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Lines for people (`journalctl`, `docker logs`).
    #[default]
    Text,
    /// One JSON object a line, for a log pipeline.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<LogFormat, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!(
                "'{text}' is not a log format; expected text or json"
            )),
        }
    }
}

/// Starts logging to stderr at `PAYOPS_LOG` (default `info`), never in
/// colour (it is collected, not watched). Keep the guard until exit.
pub fn init_stderr(format: LogFormat) -> Option<WorkerGuard> {
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let filter = EnvFilter::try_from_env("PAYOPS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.ok()?;
    Some(guard)
}
