use clap::Parser;

fn main() -> std::process::ExitCode {
    // Whatever payops makes (the store, its WAL, logs, lock files) holds
    // token hashes, the audit and customers' sessions: none of it is for
    // other users, whatever umask the shell or service manager set.
    #[cfg(unix)]
    // SAFETY: umask only sets this process's file-creation mask; nothing
    // else runs yet.
    unsafe {
        libc::umask(0o077);
    }
    install_panic_report();
    let cli = match payops::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(3);
        }
    };
    let code = runtime.block_on(payops::cli::run(cli));
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Panics and eyre reports print readably (the dashboard restores the
/// terminal first): in colour on a terminal, plain into a file or a pipe.
/// A print to a closed pipe is no panic worth reporting: the reader has
/// gone, so the process ends quietly, as `ls | head` does.
fn install_panic_report() {
    use std::io::IsTerminal;
    let theme = if std::io::stderr().is_terminal() {
        color_eyre::config::Theme::dark()
    } else {
        color_eyre::config::Theme::new()
    };
    let _ = color_eyre::config::HookBuilder::default()
        .theme(theme)
        .install();
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            payops::cli::exit_on_closed_pipe();
        }
        report(info);
    }));
}

/// A command line clap cannot parse. With `--json` anywhere on it, scripts
/// get the same error object as every other failure; otherwise clap's own
/// report (and `--help` / `--version` print as usual).
fn usage_error(error: clap::Error) -> std::process::ExitCode {
    let wants_json = std::env::args().any(|arg| arg == "--json");
    if !wants_json || !error.use_stderr() {
        error.exit();
    }
    let rendered = error.render().to_string();
    let message = rendered
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let message = message
        .strip_prefix("error: ")
        .unwrap_or(&message)
        .to_string();
    payops::cli::print_stdout(
        &payops::domain::wire::error_json("usage", &message, None).to_string(),
    );
    eprintln!("error: {message}");
    std::process::ExitCode::from(2)
}
