//! The provider simulator (`payops sim`): InstantPay at the root paths and
//! Cashfree under `/verification`, strict where the providers are, stateful,
//! deterministic from a seed, with injectable faults.

mod cashfree;
mod documents;
mod faults;
mod instantpay;
mod persist;
mod state;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::task::JoinHandle;
use url::Url;

use crate::config::Env;
use crate::domain::SessionStatus;
use crate::providers::signature::VerifyingKey;
use state::{SimState, lock};

pub use faults::Faults;
pub use webhooks::WebhookStats;

/// The link id in InstantPay's notify sample.
pub const SAMPLE_LINK_ID: &str = "657aa9841b8d3897ff0a84fb";

/// The payout links the simulator knows, `(linkId, status)`, so the CLI and
/// README can point people at one in each state.
pub const DEMO_LINKS: &[(&str, &str)] = &[
    (SAMPLE_LINK_ID, "ISSUED"),
    ("65b2f1c04e9a7d3186c2a5e1", "ISSUED"),
    ("65c81d2a9f03b7e45d1c6a08", "ISSUED"),
    ("6601a7e3c52d94b8f07e3d92", "CLAIMED"),
    ("660e4b9d17a3c8f25e6b0c47", "CANCELLED"),
    ("661c3f08a9e27d5b4c81f6a3", "PROCESSING"),
    ("65a0d6e2b3f14c7a98e5d210", "EXPIRED"),
];

/// Environment variables the simulator reads credentials from (the client reads the same).
pub const ENV_INSTANTPAY_CLIENT_ID: &str = "PAYOPS_INSTANTPAY_CLIENT_ID";
pub const ENV_INSTANTPAY_CLIENT_SECRET: &str = "PAYOPS_INSTANTPAY_CLIENT_SECRET";
pub const ENV_CASHFREE_CLIENT_ID: &str = "PAYOPS_CASHFREE_CLIENT_ID";
pub const ENV_CASHFREE_CLIENT_SECRET: &str = "PAYOPS_CASHFREE_CLIENT_SECRET";

/// The credentials the simulator accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct SimCredentials {
    pub instantpay_client_id: String,
    pub instantpay_client_secret: String,
    pub cashfree_client_id: String,
    pub cashfree_client_secret: String,
}

impl SimCredentials {
    /// Fixed demo credentials (printed by `payops sim` when nothing is configured).
    pub fn demo() -> SimCredentials {
        SimCredentials {
            instantpay_client_id: "demo-ipay-client".into(),
            instantpay_client_secret: "demo-ipay-secret".into(),
            cashfree_client_id: "demo-cf-client".into(),
            cashfree_client_secret: "demo-cf-secret".into(),
        }
    }

    /// The same `PAYOPS_*` variables the client reads, falling back to `demo()`
    /// per value. Returns whether any value came from the environment.
    pub fn from_env(env: &Env) -> (SimCredentials, bool) {
        let demo = SimCredentials::demo();
        let mut any = false;
        let mut pick = |key: &str, fallback: String| match env.get(key) {
            Some(value) => {
                any = true;
                value.to_string()
            }
            None => fallback,
        };
        let credentials = SimCredentials {
            instantpay_client_id: pick(ENV_INSTANTPAY_CLIENT_ID, demo.instantpay_client_id),
            instantpay_client_secret: pick(
                ENV_INSTANTPAY_CLIENT_SECRET,
                demo.instantpay_client_secret,
            ),
            cashfree_client_id: pick(ENV_CASHFREE_CLIENT_ID, demo.cashfree_client_id),
            cashfree_client_secret: pick(ENV_CASHFREE_CLIENT_SECRET, demo.cashfree_client_secret),
        };
        (credentials, any)
    }
}

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub seed: u64,
    /// How much faster than real time the simulated clock runs (1.0 = real time).
    pub time_scale: f64,
    pub faults: Faults,
    pub credentials: SimCredentials,
    /// A real per-provider requests-per-minute limit answered with 429, like
    /// Cashfree's tiers (None: unlimited). The minute is simulated: with a
    /// faster clock the window shrinks with it.
    pub rate_limit_per_minute: Option<u32>,
    /// Where to keep sessions and link state between runs (the CLI's `--demo`
    /// starts a new simulator per command). None: memory only.
    pub state_file: Option<std::path::PathBuf>,
    /// Demand Cashfree's public-key 2FA: calls without a valid signature made
    /// within 5 minutes get 403 `ip_validation_failed`, as production answers
    /// an address it does not know.
    pub cashfree_signature_key: Option<VerifyingKey>,
    /// Where to POST Cashfree's signed webhook deliveries whenever a
    /// Cashfree session's status changes (None: none are sent).
    pub cashfree_webhook_url: Option<Url>,
}

impl Default for SimOptions {
    /// Seed 42, real time, no faults, demo credentials, no rate limit.
    fn default() -> Self {
        SimOptions {
            seed: 42,
            time_scale: 1.0,
            faults: Faults::default(),
            credentials: SimCredentials::demo(),
            rate_limit_per_minute: None,
            state_file: None,
            cashfree_signature_key: None,
            cashfree_webhook_url: None,
        }
    }
}

/// A running simulator. `shutdown` stops it gracefully; dropping the handle
/// stops it too, so a test that fails half-way never leaves one running.
pub struct SimHandle {
    pub addr: SocketAddr,
    state: Arc<SimState>,
    /// Taken by `shutdown`; aborted on drop otherwise.
    server: Option<JoinHandle<()>>,
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.state.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

impl SimHandle {
    /// `http://ADDR`
    pub fn instantpay_base(&self) -> Url {
        base(self.addr, "")
    }

    /// `http://ADDR/verification`
    pub fn cashfree_base(&self) -> Url {
        base(self.addr, "/verification")
    }

    /// While set, Cashfree creates answer 422 `insufficient_balance`, as
    /// production does when the merchant's verification balance runs out.
    pub fn set_cashfree_insufficient_balance(&self, on: bool) {
        self.state
            .cashfree_insufficient_balance
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Sets (or with `None` lifts) the per-provider limit per simulated minute.
    pub fn set_rate_limit(&self, per_minute: Option<u32>) {
        self.state.rate_limit_per_minute.store(
            per_minute.unwrap_or(0),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Replaces the fault probabilities (tests turn faults on and off).
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.state.faults) = faults;
    }

    /// Forces a session (by provider reference) to a status now.
    ///
    /// `reference` is an InstantPay `referenceId`, a Cashfree `reference_id`
    /// or a Cashfree `verification_id`; false when no session matches. The
    /// forced status sticks (the scheduled fate no longer applies);
    /// `Unknown(word)` makes the provider answer with that raw word.
    pub fn force_session_status(&self, reference: &str, status: SessionStatus) -> bool {
        self.state.force(reference, &status)
    }

    /// Where Cashfree's webhook deliveries go from now on (None: stop
    /// sending; those being retried give up).
    pub fn set_cashfree_webhook_url(&self, url: Option<Url>) {
        *lock(&self.state.webhooks.url) = url;
    }

    /// What the webhook sender has done so far.
    pub fn webhook_stats(&self) -> WebhookStats {
        lock(&self.state.webhooks.stats).clone()
    }

    /// When a Cashfree session took its current status, by the simulated
    /// clock made wall-clock time (`None`: no such session, or pending).
    pub fn cashfree_status_changed_at(&self, verification_id: &str) -> Option<jiff::Timestamp> {
        let session = self.state.cf_session_by_verification_id(verification_id)?;
        webhooks::changed_at(&self.state, &session).map(|(_, at)| self.state.wall_time(at))
    }

    /// Requests served so far per provider: (instantpay, cashfree).
    pub fn request_counts(&self) -> (u64, u64) {
        self.state.request_counts()
    }

    /// Successful notifications of a payout link so far (0 for an unknown id).
    pub fn notify_count(&self, link_id: &str) -> u64 {
        self.state.notify_count(link_id)
    }

    /// Simulated seconds since start (real elapsed × `time_scale`).
    pub fn sim_elapsed(&self) -> Duration {
        Duration::from_secs_f64(self.state.now())
    }

    /// Stops accepting, cuts any hanging "timeout" fault short and returns
    /// within about a second even if a client keeps a connection busy.
    pub async fn shutdown(mut self) {
        self.state.shutdown.cancel();
        let Some(mut server) = self.server.take() else {
            return;
        };
        if tokio::time::timeout(Duration::from_millis(500), &mut server)
            .await
            .is_err()
        {
            server.abort();
            let _ = server.await;
        }
    }
}

fn base(addr: SocketAddr, path: &str) -> Url {
    // Not request-influenced: a socket address always forms a valid http URL.
    Url::parse(&format!("http://{addr}{path}")).expect("socket address forms a URL")
}

fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/accounts/balance", instantpay::balance())
        .route("/identity/digiLocker", instantpay::digilocker_create())
        .route(
            "/identity/digiLocker/status",
            instantpay::digilocker_status(),
        )
        .route(
            "/identity/digiLocker/document",
            instantpay::digilocker_document(),
        )
        .route(
            "/payments/payout/link/notify",
            post(instantpay::link_notify),
        )
        .route(
            "/payments/payout/link/track/{link_id}",
            get(instantpay::link_track),
        )
        .route(
            "/verification/digilocker",
            post(cashfree::create).get(cashfree::status),
        )
        .route(
            "/verification/digilocker/document/{document}",
            get(cashfree::document),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::gate,
        ))
        .with_state(state)
}

/// A path neither provider serves: a JSON error in that provider's shape,
/// never an empty 404, so a client's error handling sees what production shows.
async fn unknown_route(method: Method, uri: Uri) -> Response {
    route_error(StatusCode::NOT_FOUND, &method, &uri, "no such route")
}

async fn wrong_method(method: Method, uri: Uri) -> Response {
    route_error(
        StatusCode::METHOD_NOT_ALLOWED,
        &method,
        &uri,
        "method not allowed for this route",
    )
}

fn route_error(status: StatusCode, method: &Method, uri: &Uri, what: &str) -> Response {
    let message = format!("{what}: {method} {}", uri.path());
    let body = if uri.path().starts_with("/verification") {
        serde_json::json!({"type": "invalid_request_error", "code": "request_invalid", "message": message})
    } else {
        serde_json::json!({"statuscode": "ERR", "actcode": null, "status": message, "data": null})
    };
    (status, axum::Json(body)).into_response()
}

/// Binds `addr` (port 0 allowed) and serves until `shutdown`.
pub async fn start(addr: SocketAddr, options: SimOptions) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(SimState::new(options));
    let app = router(state.clone());
    let stop = state.shutdown.clone();
    tokio::spawn(webhooks::run(state.clone()));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
    });
    Ok(SimHandle {
        addr,
        state,
        server: Some(server),
    })
}
