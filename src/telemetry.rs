//! What `payops serve` counts for Prometheus, every name in one place. The
//! calls are cheap no-ops until `install` (solo mode never installs). No
//! label ever holds a token, a secret, an id or personal data: providers,
//! operations with ids as `{id}`, route templates, statuses and outcomes.

use std::net::SocketAddr;

use metrics::{counter, gauge, histogram};

const PROVIDER_REQUESTS: &str = "payops_provider_requests_total";
const PROVIDER_DURATION: &str = "payops_provider_request_duration_seconds";
const BUDGET_WAIT: &str = "payops_provider_budget_wait_seconds";
const HTTP_REQUESTS: &str = "payops_http_requests_total";
const HTTP_DURATION: &str = "payops_http_request_duration_seconds";
const SESSIONS: &str = "payops_sessions";
const NOTIFIES: &str = "payops_notifies_total";
const WEBHOOK_DELIVERIES: &str = "payops_webhook_deliveries_total";
const STREAM_CLIENTS: &str = "payops_event_stream_clients";
const ACTIVITY_UNRECORDED: &str = "payops_activity_unrecorded_total";
const LEADER: &str = "payops_leader";
const STORE_QUERY: &str = "payops_store_query_duration_seconds";
const WALLET: &str = "payops_wallet_balance_rupees";
const BUILD_INFO: &str = "payops_build_info";

/// Buckets for every duration, in seconds: a store query's milliseconds to
/// a provider's patience.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Serves the metrics on `addr` (any path), apart from the API.
pub fn install(addr: SocketAddr) -> Result<(), String> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(&BUCKETS)
        .map_err(|e| e.to_string())?
        .install()
        .map_err(|e| format!("--metrics-addr {addr}: {e}"))?;
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    // Families that may see nothing for a while are there from the start.
    counter!(WEBHOOK_DELIVERIES, "provider" => "cashfree", "outcome" => "applied").absolute(0);
    gauge!(STREAM_CLIENTS).set(0.0);
    Ok(())
}

/// One provider request: `operation` is a method and path with ids as `{id}`.
pub fn provider_request(
    provider: &'static str,
    operation: &str,
    outcome: &'static str,
    seconds: f64,
) {
    let operation = operation.to_string();
    counter!(PROVIDER_REQUESTS, "provider" => provider, "operation" => operation.clone(), "outcome" => outcome)
        .increment(1);
    histogram!(PROVIDER_DURATION, "provider" => provider, "operation" => operation).record(seconds);
}

/// How long a provider request waited for a slot of the team's budget.
pub fn budget_wait(provider: &'static str, seconds: f64) {
    histogram!(BUDGET_WAIT, "provider" => provider).record(seconds);
}

/// One API request, by route template.
pub fn http_request(route: &str, method: &str, status: u16, seconds: f64) {
    let (route, method) = (route.to_string(), method.to_string());
    counter!(HTTP_REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status.to_string())
        .increment(1);
    histogram!(HTTP_DURATION, "route" => route, "method" => method).record(seconds);
}

/// How many sessions are in each status now.
pub fn sessions(provider: &'static str, status: String, count: f64) {
    gauge!(SESSIONS, "provider" => provider, "status" => status).set(count);
}

/// A notify's outcome: sent, declined, failed or unknown.
pub fn notify(outcome: &'static str) {
    counter!(NOTIFIES, "outcome" => outcome).increment(1);
}

/// A refused request without a usable token that the activity log did not
/// take (past its limit a minute).
pub fn activity_unrecorded() {
    counter!(ACTIVITY_UNRECORDED).increment(1);
}

/// A webhook delivery and what came of it (applied, duplicate, stale,
/// untracked, or the refusal's kind).
pub fn webhook_delivery(provider: &'static str, outcome: &'static str) {
    counter!(WEBHOOK_DELIVERIES, "provider" => provider, "outcome" => outcome).increment(1);
}

/// An event stream opened (+1) or closed (-1).
pub fn stream_clients(change: f64) {
    gauge!(STREAM_CLIENTS).increment(change);
}

/// Whether this replica leads.
pub fn leader(leading: bool) {
    gauge!(LEADER).set(if leading { 1.0 } else { 0.0 });
}

/// One store statement.
pub fn store_query(seconds: f64) {
    histogram!(STORE_QUERY).record(seconds);
}

/// The wallet's balance as last read, in rupees (a gauge for alerting, not
/// for accounts).
pub fn wallet(available: f64, total: f64, lien: f64) {
    for (kind, rupees) in [("available", available), ("total", total), ("lien", lien)] {
        gauge!(WALLET, "kind" => kind).set(rupees);
    }
}
