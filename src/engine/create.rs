//! Creating a DigiLocker session: the row first (Sending), then the
//! provider's create, then its answer on the row; and, for the engine, a
//! create the provider refused before acting on it tried again.

use std::time::Duration;

use jiff::Timestamp;

use super::ops::{CreateFailure, OpsError, Services};
use super::rate_limit::Budget;
use crate::domain::{
    CreateState, CreatedSession, ExternalRef, NewSession, Provider, SessionId, SessionRecord,
};
use crate::engine::messages::SessionRequest;
use crate::error::ProviderError;
use crate::providers::{CashfreeCreate, InstantPayCreate};

/// A create the provider refused before acting on it (a 429, a connection
/// never made) is tried again this many times when the caller paces it
/// (the engine; the CLI's clients retry by themselves)...
const CREATE_RETRIES: u32 = 3;
/// ...if the provider asks for no longer a wait than this.
const CREATE_RETRY_PATIENCE: Duration = Duration::from_secs(10);

/// How long to wait before trying a create again after `error`, if at all:
/// the provider's Retry-After when short, else 1, 2, 4 s.
fn create_retry_wait(error: &ProviderError, retries: u32) -> Option<Duration> {
    let backoff = Duration::from_secs(1 << retries.min(4));
    match error {
        ProviderError::RateLimited {
            retry_after: Some(wait),
            ..
        } => (*wait <= CREATE_RETRY_PATIENCE).then_some(*wait),
        ProviderError::RateLimited { .. }
        | ProviderError::Transport {
            never_sent: true, ..
        } => Some(backoff),
        _ => None,
    }
}

impl Services {
    /// Creates a session: the row first (Sending), then the request, then
    /// the answer. A failure also carries the row it left (if any), so the
    /// dashboard can show the failed session.
    pub async fn create_session(
        &self,
        request: &SessionRequest,
    ) -> Result<SessionRecord, CreateFailure> {
        self.create_session_paced(request, None).await
    }

    /// [`Services::create_session`], retrying a create the provider refused
    /// before acting on it (a short Retry-After, a connection never made),
    /// each attempt first in `pace`'s line: for callers whose clients do
    /// not retry by themselves (the engine's, whose budget must see every
    /// request).
    pub async fn create_session_paced(
        &self,
        request: &SessionRequest,
        pace: Option<&Budget>,
    ) -> Result<SessionRecord, CreateFailure> {
        self.create_session_inner(request, pace)
            .await
            .map_err(|(record, error)| CreateFailure { record, error })
    }

    async fn create_session_inner(
        &self,
        request: &SessionRequest,
        pace: Option<&Budget>,
    ) -> Result<SessionRecord, (Option<SessionRecord>, OpsError)> {
        let bare = |error: OpsError| (None, error);
        // Check configuration and the request before writing anything:
        // nothing was attempted.
        let instantpay_redirect = match request.provider {
            Provider::InstantPay => {
                self.instantpay().map_err(bare)?;
                let redirect = request
                    .redirect_url
                    .clone()
                    .ok_or_else(|| bare(missing_instantpay_redirect().into()))?;
                Some(redirect)
            }
            Provider::Cashfree => {
                self.cashfree().map_err(bare)?;
                None
            }
        };
        let new = NewSession {
            id: SessionId::generate(),
            provider: request.provider,
            external_ref: ExternalRef::generate(),
            flow: Some(request.flow),
            documents_requested: match request.provider {
                Provider::InstantPay => Vec::new(),
                Provider::Cashfree => request.documents.clone(),
            },
            redirect_url: request.redirect_url.as_ref().map(url::Url::to_string),
            created_at: Timestamp::now(),
            label: request.label.clone(),
            created_by: Some(self.actor.clone()),
        };
        self.store()
            .begin_session(&new)
            .map_err(|e| bare(e.into()))?;
        let mut retries = 0;
        let answer = loop {
            let answer = self
                .send_create(request, &new, instantpay_redirect.clone())
                .await
                .map_err(bare)?;
            let wait = match (&answer, pace) {
                (Err(error), Some(_)) if retries < CREATE_RETRIES => {
                    create_retry_wait(error, retries)
                }
                _ => None,
            };
            let (Some(wait), Some(budget)) = (wait, pace) else {
                break answer;
            };
            retries += 1;
            tracing::info!(provider = %new.provider, ?wait, retries, "create refused before it was acted on; retrying");
            tokio::time::sleep(wait).await;
            budget.take_priority().await;
        };
        match answer {
            Ok(created) => {
                let activity = self.noted("create", Some(new.id.as_str())).map(|a| {
                    a.detail(match &new.label {
                        Some(label) => format!("{}, label {label}", new.provider),
                        None => new.provider.to_string(),
                    })
                });
                self.store()
                    .complete_session(&new.id, &created, Timestamp::now(), activity.as_ref())
                    .map_err(|e| bare(e.into()))
            }
            Err(error) => {
                let state = match &error {
                    ProviderError::OutcomeUnknown { .. } => {
                        CreateState::OutcomeUnknown(error.to_string())
                    }
                    _ => CreateState::Failed(error.to_string()),
                };
                let record = self
                    .store()
                    .fail_session(&new.id, state, Timestamp::now())
                    .map_err(|e| bare(e.into()))?;
                Err((Some(record), error.into()))
            }
        }
    }

    /// One attempt at the provider's create, for the row `new`.
    async fn send_create(
        &self,
        request: &SessionRequest,
        new: &NewSession,
        instantpay_redirect: Option<url::Url>,
    ) -> Result<Result<CreatedSession, ProviderError>, OpsError> {
        Ok(match (request.provider, instantpay_redirect) {
            (Provider::InstantPay, Some(redirect_url)) => {
                self.instantpay()?
                    .create_digilocker(&InstantPayCreate {
                        external_ref: new.external_ref.clone(),
                        redirect_url,
                        flow: request.flow,
                    })
                    .await
            }
            // Refused before the row was written; kept exhaustive so an
            // InstantPay request can never reach Cashfree.
            (Provider::InstantPay, None) => Err(missing_instantpay_redirect()),
            (Provider::Cashfree, _) => {
                self.cashfree()?
                    .create_digilocker(&CashfreeCreate {
                        verification_id: new.external_ref.clone(),
                        documents: request.documents.clone(),
                        redirect_url: request.redirect_url.clone(),
                        flow: Some(request.flow),
                    })
                    .await
            }
        })
    }
}

/// InstantPay's `redirectionUrl` is required; Cashfree's is optional.
fn missing_instantpay_redirect() -> ProviderError {
    ProviderError::InvalidRequest {
        field: "redirect URL".into(),
        message: "InstantPay requires one (redirectionUrl); Cashfree does not".into(),
        provider_code: None,
    }
}
