//! One function per headless command.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use clap::CommandFactory;
use jiff::Timestamp;
use serde_json::Value;

use super::args::{
    BalanceArgs, Cli, Command, ConfigCommand, CreateArgs, DigilockerCommand, NotifyArgs,
};
use super::{Context, Failure, Output, exit, output};
use crate::config::{self, Env};
use crate::domain::{CreateState, Learned, SessionRecord, wire};
use crate::domain::{LinkId, LinkReport, LinkStatus, RecentNotifies, SessionStatus, UserDetails};
use crate::engine::ops::{CreateFailure, OpsError, PollOutcome};
use crate::engine::{RequestInput, SessionRequest};
use crate::error::ProviderError;
use crate::validate;
use crate::words;

pub async fn run(cli: &Cli, command: &Command, env: &Env) -> Result<Option<Output>, Failure> {
    // Commands that need no providers or store.
    match command {
        Command::Sim(args) => return super::sim::run(cli, args, env).await.map(|()| None),
        Command::Config(args) => return run_config(cli, &args.command, env).await.map(Some),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "payops", &mut std::io::stdout());
            return Ok(None);
        }
        _ => {}
    }
    // The server runs the engine, whose calls count against its rate budget.
    let runs_engine = matches!(command, Command::Serve(args) if args.command.is_none());
    let ctx = Context::open(cli, env, runs_engine).await?;
    // The server logs where service managers collect it; the rest to file.
    let _log_guard = match command {
        Command::Serve(args) if args.command.is_none() && !args.log_file => {
            crate::logging::init_stderr(
                args.log_format
                    .or(ctx.config.serve.log_format)
                    .unwrap_or_default(),
            )
        }
        _ => crate::logging::init(&ctx.data_dir),
    };
    let result = match command {
        Command::Balance(args) => balance(&ctx, args).await,
        Command::Digilocker(args) => digilocker(&ctx, &args.command).await,
        Command::Link { link_id, .. } => link(&ctx, link_id).await,
        Command::Notify(args) => notify(&ctx, args).await,
        Command::Audit {
            limit, documents, ..
        } => audit(&ctx, usize::from(*limit), *documents),
        Command::Serve(args) => super::serve::run(&ctx, args).await,
        Command::Whoami { .. } => Ok(Some(super::operators::whoami_solo(&ctx))),
        Command::Activity(args) => super::operators::activity_solo(&ctx, args).map(Some),
        Command::Sim(_) | Command::Config(_) | Command::Completions { .. } => Ok(None),
    };
    ctx.close().await;
    result
}

async fn balance(ctx: &Context, args: &BalanceArgs) -> Result<Option<Output>, Failure> {
    if args.history {
        return balance_history(ctx, args);
    }
    let report = ctx.services.fetch_balance().await?;
    Ok(Some(Output::ok(
        wire::balance_json(&report),
        output::balance_human(&report),
    )))
}

/// A day by default: what the dashboard's chart shows first.
const HISTORY_SPAN: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

fn balance_history(ctx: &Context, args: &BalanceArgs) -> Result<Option<Output>, Failure> {
    if args.csv && ctx.json {
        return Err(Failure::usage("--csv and --json: choose one"));
    }
    let since = Timestamp::now()
        .checked_sub(args.since.unwrap_or(HISTORY_SPAN))
        .unwrap_or(Timestamp::MIN);
    let snapshots = ctx.services.store().balance_since(since)?;
    let human = if args.csv {
        output::balance_history_csv(&snapshots)
            .map_err(|e| Failure::usage(format!("--csv: cannot write: {e}")))?
    } else {
        output::balance_history_human(since, &snapshots)
    };
    Ok(Some(Output::ok(
        wire::balance_history_json(since, &snapshots),
        human,
    )))
}

async fn digilocker(ctx: &Context, command: &DigilockerCommand) -> Result<Option<Output>, Failure> {
    match command {
        DigilockerCommand::Create(args) => create(ctx, args).await,
        DigilockerCommand::Track {
            provider,
            reference,
        } => {
            if reference.trim().is_empty() {
                return Err(Failure::usage("reference: is empty"));
            }
            // Tracking it again is harmless; saying so is the point.
            let before = ctx
                .services
                .find(reference)
                .ok()
                .filter(|known| known.tracks(*provider, reference));
            let outcome = ctx.services.track_session(*provider, reference).await?;
            if let Some(known) = before {
                eprintln!("{}", words::already_tracked_as(reference, &known.id));
            }
            Ok(Some(session_output(
                &outcome.record,
                outcome.user_details.as_ref(),
            )))
        }
        DigilockerCommand::Status { id } => {
            let record = ctx.services.find(id)?;
            let outcome = ctx.services.refresh(&record).await?;
            if let Some(advice) = output::unresolvable_advice(&outcome.record) {
                eprintln!("{advice}");
            }
            let history = ctx.services.store().session_history(&outcome.record.id)?;
            Ok(Some(output::status_output(
                wire::session_json(&outcome.record, outcome.user_details.as_ref()),
                output::session_human(
                    &outcome.record,
                    &output::masked(outcome.user_details.as_ref()),
                ),
                wire::events_json(&history),
            )))
        }
        DigilockerCommand::Watch { id, interval } => watch(ctx, id, *interval).await,
        DigilockerCommand::Documents {
            id,
            document,
            reveal,
        } => super::documents::documents(ctx, id, document.as_deref(), *reveal).await,
        DigilockerCommand::Label { id, label, clear } => {
            let label = super::args::new_label(label.as_deref(), *clear)?;
            let record = ctx.services.set_label(id, label.as_deref())?;
            Ok(Some(session_output(&record, None)))
        }
        DigilockerCommand::List { all } => {
            let records = ctx.services.store().list_sessions(*all)?;
            let json = Value::Array(
                records
                    .iter()
                    .map(|r| wire::session_json(r, None))
                    .collect(),
            );
            Ok(Some(Output::ok(json, output::sessions_human(&records))))
        }
    }
}

fn session_output(record: &SessionRecord, details: Option<&UserDetails>) -> Output {
    Output::ok(
        wire::session_json(record, details),
        output::session_human(record, &output::masked(details)),
    )
}

async fn create(ctx: &Context, args: &CreateArgs) -> Result<Option<Output>, Failure> {
    let request = SessionRequest::from_input(
        &ctx.config.defaults,
        RequestInput {
            provider: args.provider,
            flow: args.flow.map(Into::into),
            documents: args.docs.as_deref(),
            redirect_url: args.redirect_url.as_deref(),
            label: args.label.as_deref(),
        },
        "--",
    )?;
    match ctx.services.create_session(&request).await {
        Ok(record) => Ok(Some(session_output(&record, None))),
        Err(CreateFailure {
            record: Some(record),
            error,
        }) => {
            // The attempt is on record: say where, and, unless the
            // provider plainly refused it, how to check whether it took.
            let refused = matches!(
                &error,
                OpsError::Provider(
                    ProviderError::Declined { .. }
                        | ProviderError::Auth { .. }
                        | ProviderError::InvalidRequest { .. }
                )
            );
            let mut failure = Failure::from(error);
            failure.message = if refused {
                format!(
                    "{}; recorded as {} (refused: nothing was created)",
                    failure.message, record.id
                )
            } else {
                format!(
                    "{}; recorded as {} (check it with `payops digilocker status {}`)",
                    failure.message, record.id, record.id
                )
            };
            Err(failure)
        }
        Err(CreateFailure {
            record: None,
            error,
        }) => Err(error.into()),
    }
}

/// How long `watch` waits after `failures` failed polls in a row: the
/// interval, doubled each time up to a minute, or longer when the provider
/// asked for it.
fn retry_wait(interval: Duration, failures: u32, asked: Option<Duration>) -> Duration {
    let doubled = interval.saturating_mul(2u32.saturating_pow(failures.min(6)));
    doubled
        .min(Duration::from_secs(60))
        .max(asked.unwrap_or_default())
}

async fn watch(ctx: &Context, id: &str, interval: Option<u64>) -> Result<Option<Output>, Failure> {
    let mut record = ctx.services.find(id)?;
    if record.create_state != CreateState::Created {
        return Err(Failure::usage(format!(
            "{}: its create did not complete, so there is nothing to watch",
            record.id
        )));
    }
    let interval = interval
        .map(Duration::from_secs)
        .unwrap_or(ctx.config.polling.session_interval)
        .max(Duration::from_secs(1));
    let mut details = None;
    let mut last_printed: Option<SessionStatus> = None;
    let mut failures: u32 = 0;
    loop {
        let polled = match ctx
            .services
            .poll_session_under(&record, None, Learned::Poll)
            .await
        {
            Ok(polled) => polled,
            // A provider that fails for a while is waited out, as the
            // dashboard does, until the session's window has passed.
            Err(OpsError::Provider(error))
                if error.is_transient() && Timestamp::now() <= record.expires_at =>
            {
                failures += 1;
                let asked = match &error {
                    ProviderError::RateLimited { retry_after, .. } => *retry_after,
                    _ => None,
                };
                let wait = retry_wait(interval, failures, asked);
                eprintln!(
                    "{}  poll failed: {error}; retrying in {} s",
                    Timestamp::now().strftime("%H:%M:%S"),
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        failures = 0;
        let PollOutcome {
            record: polled,
            user_details,
            ..
        } = polled;
        record = polled;
        details = user_details.or(details);
        if !ctx.json && last_printed.as_ref() != Some(&record.status) {
            eprintln!(
                "{}  {} {} ({})",
                Timestamp::now().strftime("%H:%M:%S"),
                record.status.symbol(),
                record.status,
                record.provider_status
            );
            last_printed = Some(record.status.clone());
        }
        // Past the 10-minute window the URL is dead for the customer: this poll was the last check.
        if record.status.is_final() || Timestamp::now() > record.expires_at {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    let mut out = session_output(&record, details.as_ref());
    if record.status != SessionStatus::Authenticated {
        out.code = exit::DECLINED;
        if !record.status.is_final() {
            eprintln!(
                "the session's 10-minute window has passed while it was still {}",
                record.status
            );
        }
    }
    Ok(Some(out))
}

async fn link(ctx: &Context, raw: &str) -> Result<Option<Output>, Failure> {
    let (link, warning) = validate::link_id("link id", raw)?;
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    let (report, _) = ctx.services.lookup_link(&link).await?;
    Ok(Some(Output::ok(
        wire::link_json(&report),
        output::link_human(&report),
    )))
}

async fn notify(ctx: &Context, args: &NotifyArgs) -> Result<Option<Output>, Failure> {
    let (link, warning) = validate::link_id("link id", &args.link_id)?;
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    let (report, recent) = ctx.services.lookup_link(&link).await?;
    if let Some(not_sent) = ask_before_notify(&link, &report, &recent, args)? {
        return Ok(Some(not_sent));
    }
    // The check above told the operator; this one, in the same write
    // transaction as the audit row, holds against another process sending
    // meanwhile. A person who confirmed at the terminal saw the warning.
    let again = args.again || !args.yes;
    let started = match ctx.services.begin_notify_guarded(&link, again).await? {
        Ok(started) => started,
        Err(recent) => {
            let counted =
                words::recent_notifies(&recent, crate::domain::local_time).unwrap_or_default();
            return Err(Failure::usage(format!(
                "link {link} was {counted}; pass --again to send another"
            )));
        }
    };
    let result = ctx.services.finish_notify(&started).await?;
    let mut json = wire::audit_json(&result.entry);
    let human = notify_human(&result.entry, result.error.as_ref());
    let code = match &result.error {
        None => exit::OK,
        Some(error) => {
            if let Some(object) = json.as_object_mut() {
                object.insert(
                    "error".into(),
                    wire::error_json(error.kind(), &error.to_string(), error.provider_code())
                        ["error"]
                        .clone(),
                );
            }
            error.exit_code()
        }
    };
    Ok(Some(Output { json, human, code }))
}

/// What the operator is told and asked before a notify, solo or through a
/// server: the link's state and its recent notifies, then the question
/// (unless `--yes`). `Some` is the answer when it is not to be sent.
pub(super) fn ask_before_notify(
    link: &LinkId,
    report: &LinkReport,
    recent: &RecentNotifies,
    args: &NotifyArgs,
) -> Result<Option<Output>, Failure> {
    let amount = words::amount(report.amount);
    let recent_note = words::recent_notifies(recent, crate::domain::local_time)
        .map(|counted| format!("link {link} was {counted}"));
    // Only a notify that may have reached the recipient asks for --again.
    let reached = recent.last_reaching().is_some();
    if report.status != LinkStatus::Issued {
        eprintln!(
            "warning: link {link} is {}, not ISSUED: its recipient has nothing to claim",
            report.status
        );
    }
    if args.yes {
        if let (Some(note), true, false) = (&recent_note, reached, args.again) {
            return Err(Failure::usage(format!(
                "{note}; pass --again to send another"
            )));
        }
        return Ok(None);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "refusing to send without confirmation: stdin is not a terminal (pass --yes)",
        ));
    }
    if let Some(note) = &recent_note {
        eprintln!("warning: {note}");
    }
    let question = format!(
        "Send the payout-link notification for {link} ({}, {amount}) to its recipient? [y/N] ",
        report.status
    );
    if confirm(&question) {
        Ok(None)
    } else {
        eprintln!("not sent");
        Ok(Some(Output::not_sent()))
    }
}

/// A notify's outcome as both modes print it: its line, and advice when
/// there is any.
pub(super) fn notify_human(
    entry: &crate::domain::AuditEntry,
    error: Option<&ProviderError>,
) -> String {
    let outcome = words::notify_outcome(entry, error);
    match outcome.advice {
        Some(advice) => format!("{}\n{advice}", outcome.line()),
        None => outcome.line(),
    }
}

/// Asks on the terminal; anything but y/yes is no.
fn confirm(question: &str) -> bool {
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{question}");
    let _ = stderr.flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

fn audit(ctx: &Context, limit: usize, documents: bool) -> Result<Option<Output>, Failure> {
    if documents {
        let entries = ctx.services.store().list_document_access(limit)?;
        let json = Value::Array(entries.iter().map(wire::document_access_json).collect());
        return Ok(Some(Output::ok(
            json,
            output::document_access_human(&entries),
        )));
    }
    let entries = ctx.services.store().list_audit(limit)?;
    let json = Value::Array(entries.iter().map(wire::audit_json).collect());
    Ok(Some(Output::ok(json, output::audit_human(&entries))))
}

async fn run_config(cli: &Cli, command: &ConfigCommand, env: &Env) -> Result<Output, Failure> {
    let path = config::config_path(cli.config.as_deref(), env)
        .ok_or_else(|| Failure::usage("no home directory: pass --config PATH"))?;
    match command {
        ConfigCommand::Init => {
            config::write_template(&path)?;
            Ok(Output::ok(
                serde_json::json!({"written": path.display().to_string()}),
                format!(
                    "wrote {} (mode 0600); fill in your credentials",
                    path.display()
                ),
            ))
        }
        ConfigCommand::Check { online } => {
            let loaded = config::load(cli.config.as_deref(), env).map_err(|e| match e {
                config::ConfigError::Invalid(mut problems) => {
                    // Every problem at once: the keys too, though the rest failed.
                    let keys = config::raw_keys(cli.config.as_deref(), env);
                    if let Err(key_problems) = crate::tui::KeyMap::with_overrides(&keys) {
                        problems.extend(key_problems);
                    }
                    Failure::config(&problems)
                }
                other => other.into(),
            })?;
            // The dashboard's look and keys are checked here too: names,
            // keys, conflicts.
            let mut problems = loaded.config.theme_problems.clone();
            if let Err(keys) = crate::tui::KeyMap::with_overrides(&loaded.config.keys) {
                problems.extend(keys);
            }
            if !problems.is_empty() {
                return Err(Failure::config(&problems));
            }
            for warning in &loaded.warnings {
                eprintln!("warning: {warning}");
            }
            let state = |configured: bool| {
                if configured {
                    "configured"
                } else {
                    "not configured"
                }
            };
            let source = loaded
                .source
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(no file; environment only)".into());
            let cashfree = loaded.config.cashfree.as_ref();
            let signing_key = cashfree
                .and_then(|cf| cf.signing_key.as_ref())
                .map(|key| key.path().display().to_string());
            let mut cashfree_text = state(cashfree.is_some()).to_string();
            if let Some(cf) = cashfree {
                cashfree_text.push_str(&format!(" (x-api-version {}", cf.api_version));
                if let Some(path) = &signing_key {
                    cashfree_text.push_str(&format!("; x-cf-signature with {path}"));
                }
                cashfree_text.push(')');
            }
            // A PostgreSQL store is reached now, TLS and all, as serve
            // would reach it (but changed in nothing: no migration): a
            // wrong authority or name fails here.
            let store = match &loaded.config.store_url {
                Some(url) => {
                    use secrecy::ExposeSecret;
                    let shown = crate::store::Location::Postgres(url.clone()).shown();
                    match crate::store::postgres::PgDb::connect(url.expose_secret()) {
                        Ok(_) => Some(format!("{shown}: reached")),
                        Err(error) => {
                            return Err(Failure {
                                code: super::exit::USAGE,
                                kind: "config",
                                message: format!("store.url: {error}"),
                                provider_code: None,
                            });
                        }
                    }
                }
                None => None,
            };
            let store_line = store
                .as_deref()
                .map(|line| format!("\nstore: {line}"))
                .unwrap_or_default();
            let online = if *online {
                Some(super::online::check(&loaded.config).await?)
            } else {
                None
            };
            let online_lines = online
                .iter()
                .flatten()
                .map(|line| format!("\n{line}"))
                .collect::<String>();
            Ok(Output::ok(
                serde_json::json!({
                    "ok": true,
                    "store": store,
                    "source": loaded.source.as_ref().map(|p| p.display().to_string()),
                    "instantpay": loaded.config.instantpay.is_some(),
                    "cashfree": cashfree.is_some(),
                    "cashfree_api_version": cashfree.map(|cf| cf.api_version.clone()),
                    "cashfree_public_key_path": signing_key,
                    "warnings": loaded.warnings,
                    "online": online,
                }),
                format!(
                    "config ok: {source}\ninstantpay: {}\ncashfree: {cashfree_text}{store_line}{online_lines}",
                    state(loaded.config.instantpay.is_some()),
                ),
            ))
        }
        ConfigCommand::Path => {
            let data_dir = config::data_dir(env);
            // The demo keeps its records apart, always in SQLite.
            let (data_dir, db) = if cli.demo() {
                let demo = crate::demo::data_dir(&data_dir);
                let db = demo.join("payops.db").display().to_string();
                (demo, db)
            } else {
                // `[store] url` moves the database to PostgreSQL; shown
                // masked. A broken configuration still gets its paths shown.
                let db = match config::load(cli.config.as_deref(), env) {
                    Ok(loaded) => super::store_location(&loaded.config, &data_dir).shown(),
                    Err(_) => data_dir.join("payops.db").display().to_string(),
                };
                (data_dir, db)
            };
            let logs = crate::logging::log_dir(&data_dir);
            Ok(Output::ok(
                serde_json::json!({
                    "config": path.display().to_string(),
                    "config_exists": path.exists(),
                    "data_dir": data_dir.display().to_string(),
                    "database": db,
                    "logs": logs.display().to_string(),
                }),
                format!(
                    "config:   {}{}\ndata:     {}\ndatabase: {}\nlogs:     {}",
                    path.display(),
                    if path.exists() {
                        ""
                    } else {
                        " (not created yet)"
                    },
                    data_dir.display(),
                    db,
                    logs.display()
                ),
            ))
        }
    }
}
