//! Logs go to a daily file under the data folder, never to the screen: the
//! dashboard owns the terminal and the CLI's stdout belongs to scripts.

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
