//! Team mode's CLI: with a server configured (`[server] url`,
//! `PAYOPS_SERVER_URL`), commands go to it with the operator's token
//! instead of to the providers. No provider credential is read here.

use std::io::IsTerminal;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::args::{BalanceArgs, Command, DigilockerCommand, NotifyArgs};
use super::table::{Fit, Table};
use super::{Failure, Output, exit};
use crate::client::{ServerClient, ServerError};
use crate::config::ServerConfig;

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

pub async fn run(command: &Command, server: &ServerConfig) -> Result<Option<Output>, Failure> {
    let remote = Remote(client(server)?);
    let result = answer(&remote, command).await;
    // Whether the command went well or not: a token about to stop working
    // is worth knowing either way.
    if let Some(warning) =
        crate::client::expiry_warning(remote.0.token_expires_at(), jiff::Timestamp::now())
    {
        eprintln!("warning: {warning}");
    }
    result.map(Some)
}

async fn answer(remote: &Remote, command: &Command) -> Result<Output, Failure> {
    let output = match command {
        Command::Balance(args) => balance(remote, args).await?,
        Command::Digilocker(args) => digilocker(remote, &args.command).await?,
        Command::Link { link_id, .. } => {
            let value = remote.call(Method::GET, &["links", link_id], None).await?;
            pairs_output(value["link"].clone())
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
            rows_output(value, &["at", "link_id", "outcome", "actor", "message"])
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

async fn balance(remote: &Remote, args: &BalanceArgs) -> Result<Output, Failure> {
    if !args.history {
        return Ok(pairs_output(
            remote.call(Method::GET, &["balance"], None).await?,
        ));
    }
    if args.csv {
        return Err(not_yet("balance --history --csv"));
    }
    let since = args
        .since
        .map(|span| format!("{}h", span.as_hours()))
        .unwrap_or_else(|| "24h".into());
    let value = remote
        .get(&["balance", "history"], &[("since", since)])
        .await?;
    let readings = value["readings"].clone();
    let mut output = rows_output(readings, &["at", "available", "total", "lien"]);
    output.json = value;
    Ok(output)
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
            let body = json!({"provider": provider.as_str(), "reference": reference});
            remote
                .call(Method::POST, &["sessions", "track"], Some(body))
                .await?
        }
        DigilockerCommand::Status { id } => {
            let session = remote
                .call(Method::POST, &["sessions", id, "refresh"], None)
                .await?;
            let events = remote.get(&["sessions", id, "events"], &[]).await?;
            let text = pairs_output(session.clone()).human;
            return Ok(super::output::status_output(session, text, events));
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
            return Ok(rows_output(
                value,
                &[
                    "id",
                    "provider",
                    "status",
                    "reference",
                    "label",
                    "created_by",
                ],
            ));
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
    Ok(pairs_output(session))
}

async fn notify(remote: &Remote, args: &NotifyArgs) -> Result<Output, Failure> {
    if !args.yes {
        // The confirmation a person gives at the terminal happens here, in
        // front of them; the server only ever receives a decided notify.
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage(
                "refusing to send without confirmation: stdin is not a terminal (pass --yes)",
            ));
        }
        let looked = remote
            .call(Method::GET, &["links", &args.link_id], None)
            .await?;
        let question = format!(
            "Send the payout-link notification for {} ({}) to its recipient? [y/N] ",
            args.link_id,
            looked["link"]["status"].as_str().unwrap_or("?")
        );
        eprint!("{question}");
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("not sent");
            return Ok(Output::not_sent());
        }
    }
    let value = remote
        .call(
            Method::POST,
            &["links", &args.link_id, "notify"],
            Some(json!({"again": args.again})),
        )
        .await?;
    Ok(pairs_output(value))
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One object as `key  value` lines (the JSON is printed as it came).
fn pairs_output(value: Value) -> Output {
    let mut table = Table::pairs();
    if let Some(object) = value.as_object() {
        for (key, field) in object {
            table.pair(key, text(field));
        }
    }
    Output::ok(value.clone(), table.render())
}

/// An array of objects as a table of `columns`.
fn rows_output(value: Value, columns: &[&'static str]) -> Output {
    let rows = value.as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        return Output::ok(value, "none".into());
    }
    let mut table = Table::new();
    for column in columns {
        table = table.column(
            column,
            if *column == "message" {
                Fit::Words
            } else {
                Fit::Whole
            },
        );
    }
    for row in &rows {
        table.row(columns.iter().map(|c| text(&row[*c])).collect());
    }
    Output::ok(value, table.render())
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
