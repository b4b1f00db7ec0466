//! `payops serve`: team mode's server, and `serve token` for its operators.

use jiff::Timestamp;
use serde_json::{Value, json};

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

fn token(ctx: &Context, command: &TokenCommand) -> Result<Output, Failure> {
    let store = ctx.services.store();
    match command {
        TokenCommand::Add { name, role } => {
            let name = auth::operator_name("NAME", name)?;
            let (token, hash) = auth::new_token();
            store.add_token(&name, *role, &hash, Timestamp::now())?;
            Ok(Output::ok(
                json!({"name": name, "role": role.as_str(), "token": token}),
                // The token alone on the last line, for `| tail -1`.
                format!(
                    "token for {name} ({role}); it is shown only now, store it safely:\n{token}"
                ),
            ))
        }
        TokenCommand::List => {
            let tokens = store.list_tokens()?;
            let json = Value::Array(tokens.iter().map(token_json).collect());
            Ok(Output::ok(json, tokens_human(&tokens)))
        }
        TokenCommand::Revoke { name } => {
            store.revoke_token(name.trim(), Timestamp::now())?;
            Ok(Output::ok(
                json!({"name": name.trim(), "revoked": true}),
                format!("revoked {}'s token", name.trim()),
            ))
        }
    }
}

fn token_json(info: &TokenInfo) -> Value {
    json!({
        "name": info.name,
        "role": info.role.as_str(),
        "created_at": info.created_at.to_string(),
        "last_used_at": info.last_used_at.map(|t| t.to_string()),
        "revoked_at": info.revoked_at.map(|t| t.to_string()),
    })
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
