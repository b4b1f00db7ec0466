//! `payops serve`: team mode's server, and `serve token` for its operators.

use jiff::Timestamp;
use serde_json::json;

use super::args::{ServeArgs, ServeCommand, TokenCommand};
use super::table::{Fit, Table};
use super::{Context, Failure, Output, print_banner};
use crate::auth;
use crate::domain::local_time;
use crate::server;
use crate::store::{Activity, Lifetime, TokenInfo, TokenRefusal};
use crate::validate;

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
        clock_scale: 1.0,
    };
    // The demo's simulator sends Cashfree's webhook to this server, so the
    // demo shows status by delivery, with polling as the safety net.
    let mut config = ctx.config.clone();
    if ctx.demo.is_some()
        && let Some(cashfree) = config.cashfree.as_mut()
    {
        cashfree.webhook.expected = true;
    }
    let setup = server::Setup {
        config: &config,
        services: &ctx.services,
        data_dir: &ctx.data_dir,
        demo: ctx.demo.is_some(),
    };
    server::run(setup, &options, |listening| {
        announce(listening);
        if let Some(sim) = &ctx.demo {
            let url = format!("{}{}", listening.url, server::CASHFREE_WEBHOOK_PATH);
            sim.set_cashfree_webhook_url(url::Url::parse(&url).ok());
        }
    })
    .await
    .map_err(Failure::from)
}

/// Where the server listens, and for the demo the two lines that make the
/// rest of team mode one command away.
fn announce(listening: &server::Listening) {
    let url = &listening.url;
    print_banner(&format!("payops serve listening on {url}"));
    match &listening.demo_token {
        Some(token) => {
            print_banner(&format!("export PAYOPS_SERVER_URL={url}"));
            print_banner(&format!("export PAYOPS_SERVER_TOKEN={token}"));
            print_banner(
                "# then: curl -H \"Authorization: Bearer $PAYOPS_SERVER_TOKEN\" \"$PAYOPS_SERVER_URL/api/v1/sessions\"",
            );
        }
        None => print_banner(&format!(
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
/// Each change is an activity row, its operator this host's login user.
fn token(ctx: &Context, command: &TokenCommand) -> Result<Output, Failure> {
    let store = ctx.services.store();
    let now = Timestamp::now();
    let host_user = crate::engine::actor::operator_name(None);
    let activity = |action: &str, name: &str| Activity::done(&host_user, action, Some(name));
    match command {
        TokenCommand::Add {
            name,
            role,
            expires,
        } => {
            let name = auth::operator_name("NAME", name)?;
            let expires_at = validate::expiry(
                "--expires",
                expires,
                now,
                crate::validate::Lifetimes::DatesToo,
            )?;
            let (token, hash) = auth::new_token();
            let noted = activity("token_add", &name).detail(auth::token_detail(*role, expires_at));
            store.add_token(
                &crate::store::NewToken {
                    name: &name,
                    role: *role,
                    token_hash: &hash,
                    at: now,
                    expires_at,
                },
                Some(&noted),
            )?;
            Ok(token_made(&name, *role, &token, expires_at, None))
        }
        TokenCommand::List => tokens_listed(store.list_tokens()?),
        TokenCommand::Rotate {
            name,
            grace,
            expires,
        } => {
            let name = auth::operator_name("NAME", name)?;
            let lifetime = match expires {
                Some(asked) => Lifetime::Until(validate::expiry(
                    "--expires",
                    asked,
                    now,
                    crate::validate::Lifetimes::DatesToo,
                )?),
                None => Lifetime::SameAsOld,
            };
            let grace = validate::parse_grace(grace)
                .map_err(|message| Failure::usage(format!("--grace: {message}")))?;
            let (token, hash) = auth::new_token();
            let noted =
                activity("token_rotate", &name).detail(format!("grace {}s", grace.as_secs()));
            let rotated = store.rotate_token(&name, &hash, now, lifetime, grace, Some(&noted))?;
            Ok(token_made(
                &name,
                rotated.role,
                &token,
                rotated.expires_at,
                Some(rotated.old_until),
            ))
        }
        TokenCommand::Revoke { name } => {
            let name = name.trim();
            store.revoke_token(name, now, Some(&activity("token_revoke", name)))?;
            Ok(token_revoked(name))
        }
    }
}

/// Through the configured server, as an admin: the same words and JSON.
pub(super) async fn remote_token(
    client: &crate::client::ServerClient,
    command: &TokenCommand,
) -> Result<Output, Failure> {
    use reqwest::Method;
    let (made, name) = match command {
        TokenCommand::Add {
            name,
            role,
            expires,
        } => {
            let name = auth::operator_name("NAME", name)?;
            let body = json!({"name": name, "role": role, "expires": lifetime(expires)?});
            let made = client
                .call(Method::POST, &["tokens"], &[], Some(body))
                .await?;
            (made, name)
        }
        TokenCommand::Rotate {
            name,
            grace,
            expires,
        } => {
            let name = auth::operator_name("NAME", name)?;
            validate::parse_grace(grace)
                .map_err(|message| Failure::usage(format!("--grace: {message}")))?;
            let mut body = json!({"grace": grace});
            if let Some(asked) = expires {
                body["expires"] = json!(lifetime(asked)?);
            }
            let made = client
                .call(Method::POST, &["tokens", &name, "rotate"], &[], Some(body))
                .await?;
            (made, name)
        }
        TokenCommand::List => {
            let listed = client.call(Method::GET, &["tokens"], &[], None).await?;
            let tokens: Vec<TokenInfo> = serde_json::from_value(listed).map_err(|e| {
                Failure::usage(format!("the server's token list could not be read: {e}"))
            })?;
            return tokens_listed(tokens);
        }
        TokenCommand::Revoke { name } => {
            let name = name.trim();
            client
                .call(Method::POST, &["tokens", name, "revoke"], &[], None)
                .await?;
            return Ok(token_revoked(name));
        }
    };
    let token = made["token"].as_str().unwrap_or_default();
    let role = made["role"].as_str().and_then(|r| r.parse().ok());
    let (Some(role), true) = (role, token.starts_with("payops_")) else {
        return Err(Failure::usage(
            "the server's answer held no token; list the tokens to see whether it was made",
        ));
    };
    let at = |key: &str| made[key].as_str().and_then(|t| t.parse().ok());
    Ok(token_made(
        &name,
        role,
        token,
        at("expires_at"),
        at("old_token_until"),
    ))
}

/// `--expires` as the API takes it: `never`, or the seconds until the
/// moment asked for (a date means the start of that day here, where the
/// operator is, not where the server runs).
fn lifetime(expires: &str) -> Result<String, Failure> {
    let now = Timestamp::now();
    Ok(
        match validate::expiry(
            "--expires",
            expires,
            now,
            crate::validate::Lifetimes::DatesToo,
        )? {
            // Rounded up: the token must not stop a moment before the time asked.
            Some(at) => {
                let left = now.duration_until(at);
                let whole = left.as_secs() + i64::from(left.subsec_nanos() > 0);
                format!("{}s", whole.max(1))
            }
            None => "never".to_string(),
        },
    )
}

/// A token just made (or rotated to): `old_until` is when a rotated
/// token's predecessor stops working.
fn token_made(
    name: &str,
    role: auth::Role,
    token: &str,
    expires_at: Option<Timestamp>,
    old_until: Option<Timestamp>,
) -> Output {
    let lifetime = match expires_at {
        Some(at) => format!("expires {}", local_time(at)),
        None => "never expires".to_string(),
    };
    let old = match old_until {
        Some(at) if at > Timestamp::now() => {
            format!("; the old token works until {}", local_time(at))
        }
        Some(_) => "; the old token is refused from now on".to_string(),
        None => String::new(),
    };
    Output::ok(
        json!({"name": name, "role": role, "token": token, "expires_at": expires_at,
               "old_token_until": old_until}),
        // The token alone on the last line, for `| tail -1`.
        format!(
            "token for {name} ({role}, {lifetime}{old}); it is shown only now, store it safely:\n{token}"
        ),
    )
}

fn tokens_listed(tokens: Vec<TokenInfo>) -> Result<Output, Failure> {
    let json = serde_json::to_value(&tokens)
        .map_err(|e| Failure::usage(format!("the tokens could not be written: {e}")))?;
    Ok(Output::ok(json, tokens_human(&tokens, Timestamp::now())))
}

fn token_revoked(name: &str) -> Output {
    Output::ok(
        json!({"name": name, "revoked": true}),
        format!("revoked {name}'s token"),
    )
}

fn tokens_human(tokens: &[TokenInfo], now: Timestamp) -> String {
    if tokens.is_empty() {
        return "no tokens yet (make one with `payops serve token add NAME --role ROLE`)".into();
    }
    let mut table = Table::new()
        .column("name", Fit::Whole)
        .column("role", Fit::Whole)
        .column("state", Fit::Whole)
        .column("expires", Fit::Whole)
        .column("last used", Fit::Optional(1))
        .column("created", Fit::Optional(2));
    for t in tokens {
        let state = match (t.refused_at(now), t.revoked_at) {
            (Some(TokenRefusal::Revoked(at)), _) => format!("revoked {}", local_time(at)),
            (Some(TokenRefusal::Expired(_)), _) => "expired".into(),
            (None, Some(until)) => format!("rotated, works until {}", local_time(until)),
            (None, None) => "active".into(),
        };
        table.row(vec![
            t.name.clone(),
            t.role.to_string(),
            state,
            t.expires_at
                .map(local_time)
                .unwrap_or_else(|| "never".into()),
            t.last_used_at
                .map(local_time)
                .unwrap_or_else(|| "never".into()),
            local_time(t.created_at),
        ]);
    }
    table.render()
}
