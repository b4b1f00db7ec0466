//! The team API's own answers (besides the shapes `domain::wire` shares
//! with the CLI): each serialised from its struct, so the OpenAPI document
//! shows what is sent.

use serde::Serialize;

use crate::domain::wire::{AuditView, LinkView};

/// `GET /api/v1/whoami`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Whoami<'a> {
    pub name: &'a str,
    /// viewer, support, finance or admin.
    pub role: &'static str,
    /// When the token stops working; null: never.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<jiff::Timestamp>,
    /// What a create leaves out is filled from these: a dashboard prefills
    /// its form with them.
    pub defaults: Defaults<'a>,
}

/// The server's `[defaults]`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Defaults<'a> {
    pub provider: Option<&'static str>,
    pub flow: &'static str,
    #[schema(value_type = Vec<String>)]
    pub documents: &'a [crate::domain::DocumentType],
    pub redirect_url: Option<&'a str>,
}

/// `POST /api/v1/balance/refresh`: the engine fetches it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted<'a> {
    pub accepted: bool,
    pub by: &'a str,
}

/// `POST /api/v1/sessions/{id}/stop`: no longer polled, still readable.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stopped<'a> {
    pub id: &'a str,
    pub tracking: bool,
}

/// `GET /api/v1/links/{id}`: the link, and its notifies in the repeat window.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LinkLookup<'a> {
    pub link: LinkView<'a>,
    pub recent_notifies: Vec<AuditView<'a>>,
}
