//! `payops` with no command: the engine and the terminal UI, wired together.

use std::io::IsTerminal;

use super::{Cli, Context, Failure, Output, exit};
use crate::config::Env;
use crate::domain::Provider;
use crate::engine::{Command, run as engine};
use crate::tui::{self, KeyMap, TuiOptions};

pub async fn run(cli: &Cli, env: &Env) -> Result<Option<Output>, Failure> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "the dashboard needs a terminal; in scripts use a command such as `payops balance --json` (see `payops --help`)",
        ));
    }
    // Team mode: the server does the work; no provider credential or local
    // store is touched here.
    if !cli.demo()
        && let Ok(loaded) = crate::config::load(cli.config.as_deref(), env)
        && let Some(server) = loaded.config.server.clone()
    {
        return run_remote(cli, env, loaded.config, &server).await;
    }
    let ctx = Context::open(cli, env, true).await?;
    let keymap = keymap_and_theme(&ctx.config)?;
    let _log_guard = crate::logging::init(&ctx.data_dir);
    tracing::info!(demo = cli.demo(), "dashboard starting");

    let options = TuiOptions {
        demo: ctx.demo.is_some(),
        no_color: ctx.no_color,
        low_balance_threshold: ctx.config.dashboard.low_balance_threshold,
        balance_drop_alert: ctx.config.dashboard.balance_drop_alert,
        desktop_alerts: ctx.config.alerts.desktop,
        balance_interval: ctx
            .config
            .polling
            .balance_interval
            .max(engine::MIN_BALANCE_INTERVAL),
        session_interval: ctx.config.polling.session_interval,
        defaults: ctx.config.defaults.clone(),
        instantpay_configured: ctx.services.is_configured(Provider::InstantPay),
        cashfree_configured: ctx.services.is_configured(Provider::Cashfree),
        keymap,
        theme: ctx.config.theme.clone(),
        team: None,
    };
    let (commands, updates, engine_task) =
        engine::spawn(ctx.services.clone(), ctx.config.polling.clone());
    if ctx.demo.is_some() {
        crate::demo::seed(&ctx.services, &commands);
    }
    let result = tui::run(options, commands.clone(), updates).await;
    let _ = commands.send(Command::Shutdown);
    drop(commands);
    let _ = engine_task.await;
    tracing::info!("dashboard stopped");
    ctx.close().await;
    finished(result)
}

/// Bad [keys] or [theme] stop the start with every problem named, as
/// `config check` would.
fn keymap_and_theme(config: &crate::config::Config) -> Result<KeyMap, Failure> {
    let mut problems = config.theme_problems.clone();
    let keymap = KeyMap::with_overrides(&config.keys).map_err(|keys| problems.extend(keys));
    match keymap {
        Ok(keymap) if problems.is_empty() => Ok(keymap),
        _ => Err(Failure::config(&problems)),
    }
}

/// The dashboard against a payops server, as the operator its token names.
async fn run_remote(
    cli: &Cli,
    env: &Env,
    config: crate::config::Config,
    server: &crate::config::ServerConfig,
) -> Result<Option<Output>, Failure> {
    let keymap = keymap_and_theme(&config)?;
    let client = super::remote::client(server)?;
    // A wrong or revoked token, or no server, stops here, before the
    // terminal is taken over.
    let operator = client.whoami().await?;
    let _log_guard = crate::logging::init(&crate::config::data_dir(env));
    tracing::info!(server = %client.shown(), operator = %operator.name, "team dashboard starting");
    let options = TuiOptions {
        demo: false,
        no_color: cli.no_color || env.get("NO_COLOR").is_some(),
        low_balance_threshold: config.dashboard.low_balance_threshold,
        balance_drop_alert: config.dashboard.balance_drop_alert,
        desktop_alerts: config.alerts.desktop,
        balance_interval: config
            .polling
            .balance_interval
            .max(engine::MIN_BALANCE_INTERVAL),
        session_interval: config.polling.session_interval,
        // The form starts from the server's defaults (what it fills a
        // create in with); what the operator's own config sets wins.
        defaults: {
            let mut defaults = operator.defaults.clone().unwrap_or_default();
            if config.defaults.provider.is_some() {
                defaults.provider = config.defaults.provider;
            }
            if config.defaults.redirect_url.is_some() {
                defaults.redirect_url = config.defaults.redirect_url.clone();
            }
            defaults
        },
        // Until the server's snapshot says how its providers are set up.
        instantpay_configured: true,
        cashfree_configured: true,
        keymap,
        theme: config.theme.clone(),
        team: Some(
            tui::team::TeamState::new(client.shown(), operator.name, operator.role)
                .with_token_expiry(operator.expires_at),
        ),
    };
    let (commands, updates, engine_task) = crate::client::engine::spawn(client);
    let result = tui::run(options, commands.clone(), updates).await;
    let _ = commands.send(Command::Shutdown);
    drop(commands);
    let _ = engine_task.await;
    tracing::info!("team dashboard stopped");
    finished(result)
}

fn finished(result: color_eyre::Result<()>) -> Result<Option<Output>, Failure> {
    match result {
        Ok(()) => Ok(None),
        Err(report) => Err(Failure {
            code: exit::USAGE,
            kind: "terminal",
            message: format!("the dashboard stopped: {report}"),
            provider_code: None,
        }),
    }
}
