//! Team mode's CLI: with a server configured (`[server] url`,
//! `PAYOPS_SERVER_URL`), commands go to it with the operator's token
//! instead of to the providers. No provider credential is read here.

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::args::{BalanceArgs, Command, DigilockerCommand, NotifyArgs};
use super::{Failure, Output, exit, output};
use crate::client::{ServerClient, ServerError};
use crate::config::ServerConfig;
use crate::domain::wire::read;

/// The server client with the CLI's way of calling: errors as `Failure`.
pub(crate) struct Remote(ServerClient);

/// The operator's token from `[server] token` / `PAYOPS_SERVER_TOKEN`.
pub(crate) fn client(server: &ServerConfig) -> Result<ServerClient, Failure> {
    let token = server
        .token
        .as_ref()
        .filter(|token| !token.expose_secret().trim().is_empty())
        .cloned()
        .ok_or_else(|| {
            Failure::usage(
                "server.token: not set; put your token in PAYOPS_SERVER_TOKEN (or [server] token), \
                 never on the command line",
            )
        })?;
    Ok(ServerClient::trusting(
        server.urls.clone(),
        token,
        server.ca_pem.as_deref(),
    )?)
}

/// Runs `command` through the server; `json` as `--json` asks, so the
/// answer prints as solo mode's would.
pub async fn run(
    command: &Command,
    server: &ServerConfig,
    json: bool,
) -> Result<Option<Output>, Failure> {
    let remote = Remote(client(server)?);
    let result = answer(&remote, command, json).await;
    // Whether the command went well or not: a token about to stop working
    // is worth knowing either way.
    if let Some(warning) =
        crate::client::expiry_warning(remote.0.token_expires_at(), jiff::Timestamp::now())
    {
        eprintln!("warning: {warning}");
    }
    result.map(Some)
}

async fn answer(remote: &Remote, command: &Command, json: bool) -> Result<Output, Failure> {
    let output = match command {
        Command::Balance(args) => balance(remote, args, json).await?,
        Command::Digilocker(args) => digilocker(remote, &args.command).await?,
        Command::Link { link_id, .. } => {
            let value = remote.call(Method::GET, &["links", link_id], None).await?;
            let link = value["link"].clone();
            let report = read::link(&link)?;
            Output::ok(link, output::link_human(&report))
        }
        Command::Notify(args) => notify(remote, args).await?,
        Command::Audit {
            limit, documents, ..
        } => {
            if *documents {
                return Err(not_yet("audit --documents"));
            }
            let value = remote
                .get(&["audit"], &[("limit", limit.to_string())])
                .await?;
            let entries = each(&value, read::audit)?;
            Output::ok(value, output::audit_human(&entries))
        }
        Command::Serve(args) => match &args.command {
            Some(super::args::ServeCommand::Token(token)) => {
                super::serve::remote_token(&remote.0, &token.command).await?
            }
            None => return Err(not_yet("serve")),
        },
        Command::Whoami { .. } => super::operators::whoami_remote(&remote.0).await?,
        Command::Activity(args) => super::operators::activity_remote(&remote.0, args).await?,
        _ => return Err(not_yet("this command")),
    };
    Ok(output)
}

/// The API's advice ("send {"again": true}", "POST …/refresh checks it")
/// as the CLI's own flags and commands.
fn in_the_clis_words(message: &str) -> String {
    let mut message = message.replace(
        crate::domain::wire::AGAIN_HINT,
        "; add --again (with --yes) to send another",
    );
    if let Some(start) = message.find(" (POST /api/v1/sessions/")
        && let Some(id) = message[start..]
            .strip_prefix(" (POST /api/v1/sessions/")
            .and_then(|rest| rest.split('/').next())
            .map(str::to_string)
    {
        let api = crate::domain::wire::refresh_hint(&id);
        message = message.replace(
            &api,
            &format!(" (`payops digilocker status {id}` checks it)"),
        );
    }
    message
}

fn not_yet(what: &str) -> Failure {
    Failure::usage(format!(
        "{what} does not go through a payops server yet; unset PAYOPS_SERVER_URL to run it here"
    ))
}

impl From<read::Unreadable> for Failure {
    fn from(error: read::Unreadable) -> Failure {
        Failure {
            code: exit::UNREACHABLE,
            kind: "server",
            message: error.to_string(),
            provider_code: None,
        }
    }
}

impl From<ServerError> for Failure {
    fn from(error: ServerError) -> Failure {
        let message = in_the_clis_words(&error.to_string());
        match error {
            ServerError::Unreachable { .. } => Failure {
                code: exit::UNREACHABLE,
                kind: "server_unreachable",
                message,
                provider_code: None,
            },
            ServerError::Refused { status, kind, .. } => Failure {
                code: match (status, kind.as_str()) {
                    // As the same command says it here: declined, not misused.
                    (_, "no_consent" | "documents_expired") | (422, _) => exit::DECLINED,
                    (_, "outcome_unknown") => exit::OUTCOME_UNKNOWN,
                    (400..=499, _) => exit::USAGE,
                    _ => exit::UNREACHABLE,
                },
                kind: match kind.as_str() {
                    "unauthorized" => "unauthorized",
                    "token_expired" => "token_expired",
                    "outcome_unknown" => "outcome_unknown",
                    "declined" => "declined",
                    "forbidden" => "forbidden",
                    "recently_notified" => "usage",
                    "no_consent" => "no_consent",
                    "documents_expired" => "documents_expired",
                    "documents_preparing" => "documents_preparing",
                    "config" => "config",
                    _ => "server",
                },
                message,
                provider_code: None,
            },
        }
    }
}

impl Remote {
    async fn call(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<Value>,
    ) -> Result<Value, Failure> {
        Ok(self.0.call(method, segments, &[], body).await?)
    }

    /// A read with a query.
    async fn get(&self, segments: &[&str], query: &[(&str, String)]) -> Result<Value, Failure> {
        Ok(self.0.call(Method::GET, segments, query, None).await?)
    }
}

async fn balance(remote: &Remote, args: &BalanceArgs, json: bool) -> Result<Output, Failure> {
    if !args.history {
        let value = remote.call(Method::GET, &["balance"], None).await?;
        let report = read::balance(&value)?;
        return Ok(Output::ok(value, output::balance_human(&report)));
    }
    if args.csv && json {
        return Err(Failure::usage("--csv and --json: choose one"));
    }
    let since = args
        .since
        .map(|span| format!("{}h", span.as_hours()))
        .unwrap_or_else(|| "24h".into());
    let value = remote
        .get(&["balance", "history"], &[("since", since)])
        .await?;
    let (since, snapshots) = read::balance_history(&value)?;
    let human = if args.csv {
        output::balance_history_csv(&snapshots)
            .map_err(|e| Failure::usage(format!("--csv: cannot write: {e}")))?
    } else {
        output::balance_history_human(since, &snapshots)
    };
    Ok(Output::ok(value, human))
}

/// A session as solo mode prints it.
fn session_output(value: Value) -> Result<Output, Failure> {
    let (record, details) = read::session(&value)?;
    let human = output::session_human(&record, &details);
    Ok(Output::ok(value, human))
}

/// Every element of an array answer, read.
fn each<T>(
    value: &Value,
    read: impl Fn(&Value) -> Result<T, read::Unreadable>,
) -> Result<Vec<T>, Failure> {
    match value {
        Value::Array(items) => Ok(items.iter().map(read).collect::<Result<_, _>>()?),
        _ => Err(read::Unreadable {
            field: "the answer".into(),
            problem: "is not a list".into(),
        }
        .into()),
    }
}

async fn digilocker(remote: &Remote, command: &DigilockerCommand) -> Result<Output, Failure> {
    let session = match command {
        DigilockerCommand::Create(args) => {
            let body = json!({
                "provider": args.provider.map(|p| p.as_str()),
                "flow": args.flow.map(|f| crate::domain::UserFlow::from(f).cashfree_word()),
                "documents": args.docs.as_deref().map(|docs| {
                    docs.split(',').map(str::trim).filter(|d| !d.is_empty()).collect::<Vec<_>>()
                }),
                "redirect_url": args.redirect_url,
                "label": args.label,
            });
            remote.call(Method::POST, &["sessions"], Some(body)).await?
        }
        DigilockerCommand::Track {
            provider,
            reference,
        } => {
            // Tracking it again is harmless; saying so is the point (as solo).
            let known = remote
                .get(&["sessions", reference.trim()], &[])
                .await
                .ok()
                .and_then(|value| read::session(&value).ok())
                .map(|(record, _)| record)
                .filter(|known| known.tracks(*provider, reference));
            let body = json!({"provider": provider.as_str(), "reference": reference});
            let tracked = remote
                .call(Method::POST, &["sessions", "track"], Some(body))
                .await?;
            if let Some(known) = known {
                eprintln!("{}", crate::words::already_tracked_as(reference, &known.id));
            }
            tracked
        }
        DigilockerCommand::Status { id } => {
            let session = remote
                .call(Method::POST, &["sessions", id, "refresh"], None)
                .await?;
            let events = remote.get(&["sessions", id, "events"], &[]).await?;
            let (record, details) = read::session(&session)?;
            if let Some(advice) = output::unresolvable_advice(&record) {
                eprintln!("{advice}");
            }
            let text = output::session_human(&record, &details);
            return Ok(output::status_output(session, text, events));
        }
        DigilockerCommand::Label { id, label, clear } => {
            let label = super::args::new_label(label.as_deref(), *clear)?;
            remote
                .call(
                    Method::PUT,
                    &["sessions", id, "label"],
                    Some(json!({"label": label})),
                )
                .await?
        }
        DigilockerCommand::List { all } => {
            let value = remote
                .get(&["sessions"], &[("all", all.to_string())])
                .await?;
            let records = each(&value, |item| read::session(item).map(|(record, _)| record))?;
            return Ok(Output::ok(value, output::sessions_human(&records)));
        }
        DigilockerCommand::Watch { .. } => return Err(not_yet("digilocker watch")),
        DigilockerCommand::Documents {
            id,
            document,
            reveal,
        } => {
            let mut query = vec![("reveal", reveal.to_string())];
            if let Some(kind) = document {
                // The API takes exactly its lowercase words; the CLI forgives.
                let word = crate::domain::DocumentType::parse(kind)
                    .map(|d| d.wire().to_ascii_lowercase())
                    .unwrap_or_else(|| kind.clone());
                query.push(("type", word));
            }
            let answer = remote.get(&["sessions", id, "documents"], &query).await?;
            return Ok(super::documents::output(answer));
        }
    };
    session_output(session)
}

async fn notify(remote: &Remote, args: &NotifyArgs) -> Result<Output, Failure> {
    let (link, warning) = crate::validate::link_id("link id", &args.link_id)?;
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    // Told and asked as solo mode does it, in front of the operator; the
    // server only ever receives a decided notify (and checks again).
    let looked = remote
        .call(Method::GET, &["links", link.as_str()], None)
        .await?;
    let report = read::link(&looked["link"])?;
    let recent = crate::domain::RecentNotifies(each(&looked["recent_notifies"], read::audit)?);
    if let Some(not_sent) = super::commands::ask_before_notify(&link, &report, &recent, args)? {
        return Ok(not_sent);
    }
    let value = remote
        .call(
            Method::POST,
            &["links", link.as_str(), "notify"],
            // A person who confirmed at the terminal saw the warning.
            Some(json!({"again": args.again || !args.yes})),
        )
        .await?;
    let entry = read::audit(&value)?;
    Ok(Output::ok(
        value,
        super::commands::notify_human(&entry, None),
    ))
}

#[cfg(test)]
mod tests {
    use super::in_the_clis_words;
    use crate::domain::wire;

    #[test]
    fn the_apis_advice_becomes_the_clis() {
        let notify = format!("link L was sent 2 min ago by farid{}", wire::AGAIN_HINT);
        assert_eq!(
            in_the_clis_words(&notify),
            "link L was sent 2 min ago by farid; add --again (with --yes) to send another"
        );
        let create = format!("no answer; recorded as dl-1{}", wire::refresh_hint("dl-1"));
        assert_eq!(
            in_the_clis_words(&create),
            "no answer; recorded as dl-1 (`payops digilocker status dl-1` checks it)"
        );
        assert_eq!(in_the_clis_words("plain"), "plain");
    }
}
