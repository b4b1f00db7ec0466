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
use crate::config::ServerConfig;

struct Remote {
    client: reqwest::Client,
    base: url::Url,
    token: String,
}

pub async fn run(command: &Command, server: &ServerConfig) -> Result<Option<Output>, Failure> {
    let token = server
        .token
        .as_ref()
        .map(|token| token.expose_secret().trim().to_string())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            Failure::usage(
                "server.token: not set; put your token in PAYOPS_SERVER_TOKEN (or [server] token), \
                 never on the command line",
            )
        })?;
    let remote = Remote {
        client: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .map_err(|e| Failure::usage(format!("cannot make an HTTP client: {e}")))?,
        base: server.url.clone(),
        token,
    };
    let output = match command {
        Command::Balance(args) => balance(&remote, args).await?,
        Command::Digilocker(sub) => digilocker(&remote, sub).await?,
        Command::Link { link_id } => {
            let value = remote.call(Method::GET, &["links", link_id], None).await?;
            pairs_output(value["link"].clone())
        }
        Command::Notify(args) => notify(&remote, args).await?,
        Command::Audit { limit, documents } => {
            if *documents {
                return Err(not_yet("audit --documents"));
            }
            let value = remote
                .call_query(
                    Method::GET,
                    &["audit"],
                    &[("limit", limit.to_string())],
                    None,
                )
                .await?;
            rows_output(value, &["at", "link_id", "outcome", "actor", "message"])
        }
        _ => return Err(not_yet("this command")),
    };
    Ok(Some(output))
}

fn not_yet(what: &str) -> Failure {
    Failure::usage(format!(
        "{what} does not go through a payops server yet; unset PAYOPS_SERVER_URL to run it here"
    ))
}

impl Remote {
    async fn call(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<Value>,
    ) -> Result<Value, Failure> {
        self.call_query(method, segments, &[], body).await
    }

    async fn call_query(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value, Failure> {
        let mut url = self.base.clone();
        // Each segment escaped, so an id cannot reach another route.
        url.path_segments_mut()
            .map_err(|()| Failure::usage("server.url: cannot carry a path"))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self.client.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| Failure {
            code: exit::UNREACHABLE,
            kind: "server_unreachable",
            message: format!("cannot reach the payops server at {}: {e}", self.base),
            provider_code: None,
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let message = value["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("the server answered HTTP {status}"));
        let kind = value["error"]["kind"].as_str().unwrap_or("server_error");
        let field = value["error"]["field"].as_str();
        Err(Failure {
            code: match status.as_u16() {
                401 | 403 | 400 | 404 | 409 | 413 => exit::USAGE,
                _ => exit::UNREACHABLE,
            },
            kind: match kind {
                "unauthorized" => "unauthorized",
                "forbidden" => "forbidden",
                "recently_notified" => "usage",
                _ => "server",
            },
            message: match field {
                Some(field) => format!("{field}: {message}"),
                None => message,
            },
            provider_code: None,
        })
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
        .call_query(
            Method::GET,
            &["balance", "history"],
            &[("since", since)],
            None,
        )
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
                "documents": args.docs,
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
            remote
                .call(Method::POST, &["sessions", id, "refresh"], None)
                .await?
        }
        DigilockerCommand::Label { id, label, clear } => {
            let label = super::commands::new_label(label.as_deref(), *clear)?;
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
                .call_query(
                    Method::GET,
                    &["sessions"],
                    &[("all", all.to_string())],
                    None,
                )
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
        DigilockerCommand::Documents { .. } => return Err(not_yet("digilocker documents")),
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
            return Ok(Output::ok(Value::Null, String::new()));
        }
    }
    let value = remote
        .call(
            Method::POST,
            &["links", &args.link_id, "notify"],
            Some(json!({"again": args.again})),
        )
        .await?;
    let code = if value["error"].is_object() {
        exit::DECLINED
    } else {
        exit::OK
    };
    let mut output = pairs_output(value);
    output.code = code;
    Ok(output)
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
