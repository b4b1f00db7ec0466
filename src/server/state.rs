//! What every request handler shares: the services, the engine's command
//! channel, the event stream and the kept session list.

use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use super::events;
use super::listing;
use crate::engine::Command;
use crate::engine::ops::Services;

#[derive(Clone)]
pub struct AppState {
    /// Each token's share of the API, by operator name.
    pub limiter: std::sync::Arc<governor::DefaultKeyedRateLimiter<String>>,
    pub services: Services,
    /// What a create leaves out is filled from the server's `[defaults]`.
    pub defaults: crate::config::SessionDefaults,
    pub commands: UnboundedSender<Command>,
    pub started: Instant,
    /// Whether this replica's engine polls (it holds the leader lock).
    pub leading: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The epoch of the leader lease this replica last took (0: none yet).
    pub lease_epoch: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// Set when shutdown begins: /readyz answers 503 from then on.
    pub stopping: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The engine's changes, for the event stream.
    pub events: events::Events,
    /// Each session's JSON as the list last wrote it.
    pub sessions_json: listing::SessionsJson,
    /// What Cashfree's webhook deliveries are checked with; `None` without
    /// Cashfree.
    pub webhooks: Option<std::sync::Arc<super::webhooks::WebhookKeys>>,
    /// When this server started, as /healthz's webhook quiet clock reads it.
    pub started_at: jiff::Timestamp,
}

impl AppState {
    /// The API wrote to the store on the engine's own connection, which
    /// SQLite's change counter does not show it: tell it.
    pub fn store_changed(&self) {
        let _ = self.commands.send(Command::StoreChanged);
    }

    /// Writes every session's JSON for the list, as a start does so that
    /// the first list is as quick as the next.
    pub fn prepare_session_list(&self) {
        let listed = self.sessions_json.list(&self.services.store(), true);
        if let Err(error) = listed {
            tracing::warn!(%error, "the session list was not prepared");
        }
    }

    /// `store_changed`, then `outcome` as it was: a call that failed may
    /// have written too (an attempt on record), so every outcome is told.
    pub fn announced<T>(&self, outcome: T) -> T {
        self.store_changed();
        outcome
    }
}
