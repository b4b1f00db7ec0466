//! `payops config check --online`: one cheap authenticated call per
//! configured provider, so a wrong secret or a missing whitelisting shows
//! before the first real request. InstantPay is asked its balance (a read);
//! Cashfree the status of a verification id nobody uses, which it answers
//! "no such verification" only once it has accepted the credentials.

use super::{Failure, exit};
use crate::config::Config;
use crate::domain::Provider;
use crate::error::ProviderError;
use crate::providers::{CallPolicy, CashfreeClient, CashfreeLookup, InstantPayClient};
use crate::words;

/// The verification id Cashfree is asked about: never one payops makes.
const NOBODYS_VERIFICATION: &str = "payops-config-check";

/// A line per configured provider saying it answered; a failure naming
/// each that did not, and its fix.
pub async fn check(config: &Config) -> Result<Vec<String>, Failure> {
    let policy = CallPolicy {
        max_retries: 0,
        ..CallPolicy::default()
    };
    let mut results = Vec::new();
    if let Some(instantpay) = &config.instantpay {
        let asked = match InstantPayClient::new(instantpay, policy.clone()) {
            Ok(client) => client
                .balance()
                .await
                .map(|report| match report.environment {
                    Some(environment) => format!("balance read ({})", environment.label()),
                    None => "balance read".to_string(),
                }),
            Err(error) => Err(error),
        };
        results.push((Provider::InstantPay, asked));
    }
    if let Some(cashfree) = &config.cashfree {
        let lookup = CashfreeLookup::VerificationId(NOBODYS_VERIFICATION.into());
        let asked = match CashfreeClient::new(cashfree, policy) {
            Ok(client) => match client.digilocker_status(&lookup).await {
                Ok(_) => Ok("status read".to_string()),
                // "No such verification" (404): the credentials were taken.
                Err(error @ ProviderError::Declined { .. }) => Ok(format!(
                    "credentials accepted ({})",
                    words::describe_error(&error)
                )),
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        results.push((Provider::Cashfree, asked));
    }
    if results.is_empty() {
        return Err(Failure {
            code: exit::USAGE,
            kind: "config",
            message: "no provider is configured: add [instantpay] or [cashfree] (`payops config init` writes a template)".into(),
            provider_code: None,
        });
    }
    let mut lines = Vec::new();
    let mut code = exit::OK;
    for (provider, asked) in results {
        let line = match asked {
            Ok(what) => format!("{}: answered, {what}", provider.as_str()),
            // Refused for where we call from: the error says how to fix that.
            Err(error) if words::is_address_refusal(&error) => {
                code = code.max(exit::USAGE);
                format!("{}: {}", provider.as_str(), words::describe_error(&error))
            }
            Err(ProviderError::Auth { .. }) => {
                code = code.max(exit::USAGE);
                format!(
                    "{}: {}",
                    provider.as_str(),
                    words::credentials_rejected(provider)
                )
            }
            Err(error) if error.is_transient() => {
                code = code.max(exit::UNREACHABLE);
                format!(
                    "{}: did not answer: {}",
                    provider.as_str(),
                    words::describe_error(&error)
                )
            }
            Err(error) => {
                code = code.max(exit::USAGE);
                format!(
                    "{}: answered, but refused the call: {}",
                    provider.as_str(),
                    words::describe_error(&error)
                )
            }
        };
        lines.push(line);
    }
    if code == exit::OK {
        Ok(lines)
    } else {
        Err(Failure {
            code,
            kind: "config",
            message: lines.join("; "),
            provider_code: None,
        })
    }
}
