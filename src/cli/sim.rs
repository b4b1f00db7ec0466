//! `payops sim`: the provider simulator on a port, and everything a client
//! needs to use it, ready to paste.

use secrecy::ExposeSecret;

use super::args::{Cli, SimArgs};
use super::{Failure, print_stdout};
use crate::config::{self, Env};
use crate::providers::signature::VerifyingKey;
use crate::sim::{self, Faults, SimCredentials, SimHandle, SimOptions};

pub async fn run(cli: &Cli, args: &SimArgs, env: &Env) -> Result<(), Failure> {
    if cli.demo || args.demo {
        return Err(Failure::usage(
            "--demo: the demo runs its own simulator; run `payops --demo` instead",
        ));
    }
    let faults: Faults = args
        .faults
        .parse()
        .map_err(|e: String| Failure::usage(format!("--faults: {e}")))?;
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        return Err(Failure::usage("--time-scale: must be a positive number"));
    }
    let (mut credentials, _) = SimCredentials::from_env(env);
    // One configuration serves both sides: the simulator accepts the
    // credentials the client would send (the file's, with env overrides).
    match config::load(cli.config.as_deref(), env) {
        Ok(loaded) => {
            if let Some(ip) = &loaded.config.instantpay {
                credentials.instantpay_client_id = ip.client_id.clone();
                credentials.instantpay_client_secret = ip.client_secret.expose_secret().to_string();
            }
            if let Some(cf) = &loaded.config.cashfree {
                credentials.cashfree_client_id = cf.client_id.clone();
                credentials.cashfree_client_secret = cf.client_secret.expose_secret().to_string();
            }
        }
        Err(error) => eprintln!("warning: configuration not used by the simulator: {error}"),
    }
    let cashfree_signature_key = match &args.cashfree_signature_key {
        Some(path) => Some(VerifyingKey::load(path).map_err(|message| {
            Failure::usage(format!(
                "--cashfree-signature-key {}: {message}",
                path.display()
            ))
        })?),
        None => None,
    };
    let options = SimOptions {
        seed: args.seed,
        time_scale: args.time_scale,
        faults,
        credentials: credentials.clone(),
        rate_limit_per_minute: args.rate_limit,
        state_file: None,
        cashfree_signature_key,
        cashfree_webhook_url: args.cashfree_webhook_url.clone(),
    };
    let handle = sim::start(args.addr, options)
        .await
        .map_err(|e| Failure::usage(format!("--addr {}: cannot listen: {e}", args.addr)))?;
    handle.set_cashfree_insufficient_balance(args.cashfree_insufficient_balance);
    print_stdout(&format!("payops sim listening on {}", handle.addr));
    print_stdout("# To use it, paste into the shell that runs payops:");
    for line in client_lines(&handle, &credentials) {
        print_stdout(&line);
    }
    if args.cashfree_signature_key.is_some() {
        print_stdout(
            "# Cashfree calls must carry x-cf-signature: also export PAYOPS_CASHFREE_PUBLIC_KEY_PATH=<the matching public key .pem>",
        );
    }
    if let Some(url) = &args.cashfree_webhook_url {
        print_stdout(&format!(
            "# Cashfree webhook deliveries go to {url}, signed with the Cashfree client secret"
        ));
    }
    print_stdout("# Ctrl-C stops the simulator.");
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    Ok(())
}

/// Every `PAYOPS_*` variable a client needs to talk to this simulator. The
/// demo secrets are public and printed; a secret that came from the
/// configuration never is (the client reads it from the same place).
fn client_lines(handle: &SimHandle, credentials: &SimCredentials) -> Vec<String> {
    let demo = SimCredentials::demo();
    let demo_secrets = [demo.instantpay_client_secret, demo.cashfree_client_secret];
    crate::demo::client_env(handle, credentials)
        .into_iter()
        .map(|(name, value)| {
            if name.ends_with("_SECRET") && !demo_secrets.contains(&value) {
                format!(
                    "# {name}: the configured one (never printed; payops reads it where the simulator did)"
                )
            } else {
                format!("export {name}={}", shell_word(&value))
            }
        })
        .collect()
}

/// `value` as one word for a POSIX shell: as it is when plain, else in
/// single quotes (a quote inside written as '\'').
fn shell_word(value: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-:/@%+=,".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn values_paste_as_one_shell_word() {
        for (value, word) in [
            ("http://127.0.0.1:8787/", "http://127.0.0.1:8787/"),
            ("my client", "'my client'"),
            ("it's", "'it'\\''s'"),
            ("$HOME;rm", "'$HOME;rm'"),
            ("", "''"),
        ] {
            assert_eq!(shell_word(value), word, "{value}");
        }
    }
}
