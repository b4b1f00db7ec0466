use clap::Parser;

fn main() -> std::process::ExitCode {
    // Panics and eyre reports print readably; the dashboard restores the terminal first.
    let _ = color_eyre::install();
    let cli = payops::cli::Cli::parse();
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
