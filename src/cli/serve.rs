//! `payops serve`: team mode's server, and `serve token` for its operators.

use jiff::Timestamp;
use serde_json::json;

use super::args::{ServeArgs, ServeCommand, TokenCommand};
use super::table::{Fit, Table};
use super::{Context, Failure, Output, print_stdout};
use crate::auth;
use crate::domain::local_time;
use crate::server;
use crate::store::TokenInfo;

pub async fn run(ctx: &Context, args: &ServeArgs) -> Result<Option<Output>, Failure> {
    match &args.command {
        Some(ServeCommand::Token(args)) => token(ctx, &args.command).map(Some),
        None => serve(ctx, args).await.map(|()| None),
    }
}

async fn serve(ctx: &Context, args: &ServeArgs) -> Result<(), Failure> {
    let options = server::ServeOptions {
        addr: args.addr,
        requests_per_minute: args.requests_per_minute,
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        allow_plain_http: args.allow_plain_http,
        metrics_addr: args.metrics_addr.or(ctx.config.serve.metrics_addr),
    };
    let setup = server::Setup {
        config: &ctx.config,
        services: &ctx.services,
        data_dir: &ctx.data_dir,
        demo: ctx.demo.is_some(),
    };
    server::run(setup, &options, announce)
        .await
        .map_err(Failure::from)
}

/// Where the server listens, and for the demo the two lines that make the
/// rest of team mode one command away.
fn announce(listening: &server::Listening) {
    let url = &listening.url;
    print_stdout(&format!("payops serve listening on {url}"));
    match &listening.demo_token {
        Some(token) => {
            print_stdout(&format!("export PAYOPS_SERVER_URL={url}"));
            print_stdout(&format!("export PAYOPS_SERVER_TOKEN={token}"));
            print_stdout(
                "# then: curl -H \"Authorization: Bearer $PAYOPS_SERVER_TOKEN\" \"$PAYOPS_SERVER_URL/api/v1/sessions\"",
            );
        }
        None => print_stdout(&format!(
            "# operators: a token from `payops serve token add NAME --role ROLE`, \
             then Authorization: Bearer <token> on {url}/api/v1"
        )),
    }
}

impl From<server::ServeError> for Failure {
    fn from(error: server::ServeError) -> Failure {
        match error {
            server::ServeError::Setup(message) => Failure::usage(message),
            server::ServeError::Store(error) => error.into(),
        }
    }
}

/// On the server's host, without a server configured: the store itself.
fn token(ctx: &Context, command: &TokenCommand) -> Result<Output, Failure> {
    let store = ctx.services.store();
    match command {
        TokenCommand::Add { name, role } => {
            let name = auth::operator_name("NAME", name)?;
            let (token, hash) = auth::new_token();
            store.add_token(&name, *role, &hash, Timestamp::now())?;
            Ok(token_added(&name, *role, &token))
        }
        TokenCommand::List => tokens_listed(store.list_tokens()?),
        TokenCommand::Revoke { name } => {
            store.revoke_token(name.trim(), Timestamp::now())?;
            Ok(token_revoked(name.trim()))
        }
    }
}

/// Through the configured server, as an admin: the same words and JSON.
pub(super) async fn remote_token(
    client: &crate::client::ServerClient,
    command: &TokenCommand,
) -> Result<Output, Failure> {
    use reqwest::Method;
    match command {
        TokenCommand::Add { name, role } => {
            let name = auth::operator_name("NAME", name)?;
            let body = json!({"name": name, "role": role});
            let made = client
                .call(Method::POST, &["tokens"], &[], Some(body))
                .await?;
            let token = made["token"].as_str().unwrap_or_default();
            if !token.starts_with("payops_") {
                return Err(Failure::usage(
                    "the server's answer held no token; list the tokens to see whether it was made",
                ));
            }
            Ok(token_added(&name, *role, token))
        }
        TokenCommand::List => {
            let listed = client.call(Method::GET, &["tokens"], &[], None).await?;
            let tokens: Vec<TokenInfo> = serde_json::from_value(listed).map_err(|e| {
                Failure::usage(format!("the server's token list could not be read: {e}"))
            })?;
            tokens_listed(tokens)
        }
        TokenCommand::Revoke { name } => {
            let name = name.trim();
            client
                .call(Method::POST, &["tokens", name, "revoke"], &[], None)
                .await?;
            Ok(token_revoked(name))
        }
    }
}

fn token_added(name: &str, role: auth::Role, token: &str) -> Output {
    Output::ok(
        json!({"name": name, "role": role, "token": token}),
        // The token alone on the last line, for `| tail -1`.
        format!("token for {name} ({role}); it is shown only now, store it safely:\n{token}"),
    )
}

fn tokens_listed(tokens: Vec<TokenInfo>) -> Result<Output, Failure> {
    let json = serde_json::to_value(&tokens)
        .map_err(|e| Failure::usage(format!("the tokens could not be written: {e}")))?;
    Ok(Output::ok(json, tokens_human(&tokens)))
}

fn token_revoked(name: &str) -> Output {
    Output::ok(
        json!({"name": name, "revoked": true}),
        format!("revoked {name}'s token"),
    )
}

fn tokens_human(tokens: &[TokenInfo]) -> String {
    if tokens.is_empty() {
        return "no tokens yet (make one with `payops serve token add NAME --role ROLE`)".into();
    }
    let mut table = Table::new()
        .column("name", Fit::Whole)
        .column("role", Fit::Whole)
        .column("state", Fit::Whole)
        .column("last used", Fit::Optional(1))
        .column("created", Fit::Optional(2));
    for t in tokens {
        table.row(vec![
            t.name.clone(),
            t.role.to_string(),
            match t.revoked_at {
                Some(at) => format!("revoked {}", local_time(at)),
                None => "active".into(),
            },
            t.last_used_at
                .map(local_time)
                .unwrap_or_else(|| "never".into()),
            local_time(t.created_at),
        ]);
    }
    table.render()
}
