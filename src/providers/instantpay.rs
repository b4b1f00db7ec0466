//! InstantPay client: wallet balance, DigiLocker create/status, payout-link notify/track.

use crate::config::InstantPayConfig;
use crate::domain::{
    BalanceReport, CreatedSession, ExternalRef, LinkId, LinkReport, NotifyReceipt,
    SessionStatusReport, UserFlow,
};
use crate::error::ProviderError;
use crate::providers::CallPolicy;

/// A DigiLocker create request (InstantPay `externalRef`, `redirectionUrl`, `userFlow`).
#[derive(Debug, Clone)]
pub struct InstantPayCreate {
    pub external_ref: ExternalRef,
    pub redirect_url: url::Url,
    pub flow: UserFlow,
}

#[derive(Clone)]
pub struct InstantPayClient {}

impl InstantPayClient {
    pub fn new(config: &InstantPayConfig, policy: CallPolicy) -> Result<Self, ProviderError> {
        let _ = (config, policy);
        todo!()
    }

    /// `POST /accounts/balance` (retried when safe).
    pub async fn balance(&self) -> Result<BalanceReport, ProviderError> {
        todo!()
    }

    /// `POST /identity/digiLocker`. Not retried after the request may have
    /// left: a timeout is `OutcomeUnknown`.
    pub async fn create_digilocker(
        &self,
        request: &InstantPayCreate,
    ) -> Result<CreatedSession, ProviderError> {
        let _ = request;
        todo!()
    }

    /// `POST /identity/digiLocker/status` (retried when safe).
    pub async fn digilocker_status(
        &self,
        reference: &str,
    ) -> Result<SessionStatusReport, ProviderError> {
        let _ = reference;
        todo!()
    }

    /// `POST /payments/payout/link/notify`. Retried only when the request
    /// provably never left; a timeout is `OutcomeUnknown`.
    pub async fn notify_link(&self, link: &LinkId) -> Result<NotifyReceipt, ProviderError> {
        let _ = link;
        todo!()
    }

    /// `GET /payments/payout/link/track/{linkId}` (retried when safe).
    pub async fn track_link(&self, link: &LinkId) -> Result<LinkReport, ProviderError> {
        let _ = link;
        todo!()
    }
}
