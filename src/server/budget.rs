//! The team's provider budget: every request the server sends a provider,
//! from its engine's polls or its API's calls, first takes a slot here, so
//! the total stays under `requests_per_minute` however many dashboards are
//! open. On PostgreSQL the slots are counted in the store, so the budget
//! holds across replicas too; on SQLite there is one server, and memory
//! does.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;
use jiff::Timestamp;

use crate::domain::Provider;
use crate::engine::rate_limit::{Budget, split};
use crate::providers::http::Gate;
use crate::store::{Rate, Store};

pub struct TeamBudget {
    rate: Rate,
    /// A connection of its own to the shared store (PostgreSQL), or none.
    shared: Option<Mutex<Store>>,
    /// In memory: the budget itself on SQLite, and what a replica falls
    /// back on while PostgreSQL does not answer.
    instantpay: Budget,
    cashfree: Budget,
    /// Said once, not on every request.
    warned: AtomicBool,
}

impl TeamBudget {
    /// `shared`: a store every replica reaches (PostgreSQL).
    pub fn new(requests_per_minute: u32, shared: Option<Store>) -> TeamBudget {
        let (burst, period) = split(requests_per_minute);
        TeamBudget {
            rate: Rate { burst, period },
            shared: shared.map(Mutex::new),
            instantpay: Budget::new(requests_per_minute),
            cashfree: Budget::new(requests_per_minute),
            warned: AtomicBool::new(false),
        }
    }

    fn local(&self, provider: Provider) -> &Budget {
        match provider {
            Provider::InstantPay => &self.instantpay,
            Provider::Cashfree => &self.cashfree,
        }
    }

    async fn take(&self, provider: Provider) {
        let Some(store) = &self.shared else {
            return self.local(provider).take_priority().await;
        };
        let reserved = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .reserve_budget(provider, self.rate, Timestamp::now());
        match reserved {
            Ok(wait) => tokio::time::sleep(wait).await,
            Err(error) => {
                // This replica alone keeps to the budget meanwhile.
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "the shared provider budget is out of reach; counting this replica's requests alone");
                }
                self.local(provider).take_priority().await
            }
        }
    }
}

impl Gate for TeamBudget {
    fn admit(&self, provider: Provider) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let started = std::time::Instant::now();
            self.take(provider).await;
            crate::telemetry::budget_wait(provider.as_str(), started.elapsed().as_secs_f64());
        })
    }
}
