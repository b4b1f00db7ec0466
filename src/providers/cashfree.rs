//! Cashfree Verification client: DigiLocker create URL and status.

use crate::config::CashfreeConfig;
use crate::domain::{CreatedSession, DocumentType, ExternalRef, SessionStatusReport, UserFlow};
use crate::error::ProviderError;
use crate::providers::CallPolicy;

/// A DigiLocker create-URL request.
#[derive(Debug, Clone)]
pub struct CashfreeCreate {
    /// Sent as `verification_id`.
    pub verification_id: ExternalRef,
    pub documents: Vec<DocumentType>,
    pub redirect_url: Option<url::Url>,
    pub flow: Option<UserFlow>,
}

/// How to look a session up: by our `verification_id` or Cashfree's `reference_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CashfreeLookup {
    VerificationId(String),
    ReferenceId(i64),
}

#[derive(Clone)]
pub struct CashfreeClient {}

impl CashfreeClient {
    pub fn new(config: &CashfreeConfig, policy: CallPolicy) -> Result<Self, ProviderError> {
        let _ = (config, policy);
        todo!()
    }

    /// `POST /digilocker`. A timeout is `OutcomeUnknown` (not retried).
    pub async fn create_digilocker(
        &self,
        request: &CashfreeCreate,
    ) -> Result<CreatedSession, ProviderError> {
        let _ = request;
        todo!()
    }

    /// `GET /digilocker?verification_id=…|reference_id=…` (retried when safe).
    pub async fn digilocker_status(
        &self,
        lookup: &CashfreeLookup,
    ) -> Result<SessionStatusReport, ProviderError> {
        let _ = lookup;
        todo!()
    }
}
