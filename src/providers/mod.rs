//! Provider clients: one file per provider, plus the shared HTTP policy
//! (timeouts, retries with backoff for safe calls).

pub mod cashfree;
pub mod cashfree_webhook;
pub mod http;
pub mod instantpay;
pub mod signature;

pub use cashfree::{CashfreeClient, CashfreeCreate, CashfreeLookup};
pub use http::CallPolicy;
pub use instantpay::{InstantPayClient, InstantPayCreate};
