//! Team mode's HTTP server (`payops serve`): one engine, on the server's
//! store and with the server's provider credentials, and a JSON API that
//! operators reach with their own bearer token and role.
//!
//! One server on an SQLite file, or replicas sharing PostgreSQL of which
//! the leader polls (see `leader`); HTTPS with `--tls-cert`/`--tls-key`.
//! A call for each CLI command but `watch` and `documents`, and an event
//! stream (`events`) that keeps every connected dashboard current.

pub(crate) mod activity;
mod answers;
mod api;
mod body;
mod budget;
mod documents;
mod errors;
pub mod events;
pub mod leader;
pub mod listing;
mod openapi;
mod operator;
mod request_log;
mod state;
mod stream;
mod tls;
mod tokens;
mod webhooks;

pub use errors::ServeError;
pub use state::AppState;
pub use webhooks::CASHFREE_WEBHOOK_PATH;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::engine::ops::Services;
use crate::engine::{self, Command};

/// How `payops serve` listens: its flags.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    /// Each token's share of the API.
    pub requests_per_minute: u32,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Plain HTTP on a non-loopback address, behind a proxy that terminates TLS.
    pub allow_plain_http: bool,
    /// Prometheus metrics on a listener of their own.
    pub metrics_addr: Option<SocketAddr>,
    /// How much faster than real time the polling schedule runs: 1.0, but
    /// for a benchmark against a simulator whose clock runs faster too.
    pub clock_scale: f64,
}

/// What the server runs on: the configuration, the services built from
/// it, the data folder (for SQLite's lock file), and whether it is the demo.
pub struct Setup<'a> {
    pub config: &'a Config,
    pub services: &'a Services,
    pub data_dir: &'a Path,
    pub demo: bool,
}

/// Told to whoever started the server once it listens.
#[derive(Debug, Clone)]
pub struct Listening {
    /// `http://127.0.0.1:8788`, or `https://…` with TLS.
    pub url: String,
    /// The demo's admin token, made afresh each run.
    pub demo_token: Option<String>,
}

/// Requests larger than this are refused (413) before they are read.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    api::routes(state.clone())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The demo's admin token, made afresh each run (the last one is revoked).
const DEMO_ADMIN: &str = "demo-admin";

fn demo_admin_token(services: &Services) -> Result<String, ServeError> {
    let store = services.store();
    let now = jiff::Timestamp::now();
    match store.revoke_token(DEMO_ADMIN, now, None) {
        Ok(()) | Err(crate::store::StoreError::NoSuchToken(_)) => {}
        Err(error) => return Err(error.into()),
    }
    let (token, hash) = crate::auth::new_token();
    // Never expiring: it is revoked when the next demo starts instead.
    store.add_token(
        &crate::store::NewToken {
            name: DEMO_ADMIN,
            role: crate::auth::Role::Admin,
            token_hash: &hash,
            at: now,
            expires_at: None,
        },
        None,
    )?;
    Ok(token)
}

/// Runs the server until Ctrl-C or SIGTERM, with the engine polling for
/// everyone; `listening` hears where once it does.
pub async fn run(
    setup: Setup<'_>,
    args: &ServeOptions,
    listening: impl FnOnce(&Listening),
) -> Result<(), ServeError> {
    let Setup {
        config,
        services,
        data_dir,
        demo,
    } = setup;
    let addr = args.addr;
    let per_minute = args.requests_per_minute;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(tls::load(cert, key)?),
        _ => None,
    };
    if tls.is_none() && !addr.ip().is_loopback() && !args.allow_plain_http {
        return Err(ServeError::Setup(format!(
            "--addr {addr}: tokens would cross the network in clear; give --tls-cert and \
             --tls-key, or --allow-plain-http behind a proxy that terminates TLS"
        )));
    }
    if let Some(metrics) = args.metrics_addr {
        crate::telemetry::install(metrics).map_err(ServeError::Setup)?;
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ServeError::Setup(format!("--addr {addr}: cannot listen: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| ServeError::Setup(format!("--addr {addr}: {e}")))?;
    // Every provider request, the engine's and the API's, takes a slot of
    // the team's budget first; on PostgreSQL every replica draws on one.
    let shared_budget = match (services.store().shared(), &config.store_url) {
        (true, Some(url)) => Some(crate::store::Store::connect(url.expose_secret())?),
        _ => None,
    };
    services.set_gate(std::sync::Arc::new(budget::TeamBudget::new(
        config.polling.requests_per_minute,
        shared_budget,
    )));
    let webhooks = config
        .cashfree
        .as_ref()
        .map(|cashfree| std::sync::Arc::new(webhooks::WebhookKeys::of(cashfree)));
    let webhook_quiet = webhooks.as_ref().and_then(|keys| keys.quiet);
    let scale = if args.clock_scale.is_finite() && args.clock_scale > 0.0 {
        args.clock_scale
    } else {
        1.0
    };
    let plan = engine::run::plan_for(&config.polling).scaled(1.0 / scale);
    // One engine polls: the only server on an SQLite file, or the replica
    // holding the leader lease on PostgreSQL.
    let stop_leading = tokio_util::sync::CancellationToken::new();
    let leading = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lease_epoch = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
    let (_file_lock, (commands, updates, engine_task), leader_task) = match services
        .store()
        .shared()
        .then(|| config.store_url.clone())
        .flatten()
    {
        Some(url) => {
            // The lease's own connection: its holder's, for as long as it runs.
            let lease_store = crate::store::Store::connect(url.expose_secret())?;
            // Without it, a planned handover waits for the next check.
            let listener = crate::store::postgres::LeaderListener::connect(url.expose_secret())
                .map_err(|error| tracing::warn!(%error, "not listening for leader handovers"))
                .ok();
            let engine = engine::run::spawn_replica(
                services.clone(),
                config.polling.clone(),
                plan.clone(),
                webhook_quiet,
            );
            let task = tokio::spawn(leader::run(
                lease_store,
                listener,
                engine.0.clone(),
                leading.clone(),
                lease_epoch.clone(),
                stop_leading.clone(),
            ));
            (None, engine, Some(task))
        }
        None => {
            let lock = leader::lock_sqlite(&data_dir.join("payops.db"))?;
            leading.store(true, std::sync::atomic::Ordering::Relaxed);
            crate::telemetry::leader(true);
            let engine = engine::run::spawn_sole_server(
                services.clone(),
                config.polling.clone(),
                plan,
                webhook_quiet,
            );
            (Some(lock), engine, None)
        }
    };
    // The engine's updates go to every client's event stream.
    let events = events::Events::default();
    let forward = tokio::spawn(events.clone().forward(updates));
    if demo {
        crate::demo::seed(services, &commands);
    }
    let quota = governor::Quota::per_minute(
        std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN),
    );
    let state = AppState {
        limiter: std::sync::Arc::new(governor::RateLimiter::keyed(quota)),
        services: services.clone(),
        defaults: config.defaults.clone(),
        commands: commands.clone(),
        started: Instant::now(),
        leading,
        lease_epoch,
        stopping: std::sync::Arc::default(),
        events,
        sessions_json: listing::SessionsJson::default(),
        webhooks,
        started_at: jiff::Timestamp::now(),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let demo_token = if demo {
        Some(demo_admin_token(services)?)
    } else {
        None
    };
    listening(&Listening {
        url: format!("{scheme}://{bound}"),
        demo_token,
    });
    tracing::info!(%bound, "serve started");
    // The first list would otherwise write every session's JSON while its
    // caller waits; write them now, before anyone asks.
    let token_watch = stream::watch_tokens(state.clone());
    let counting = args.metrics_addr.map(|_| count_sessions(state.clone()));
    let preparing = state.clone();
    tokio::task::spawn_blocking(move || preparing.prepare_session_list());
    let events = state.events.clone();
    let unready = state.stopping.clone();
    let handing_over = stop_leading.clone();
    let app = router(state);
    // On Ctrl-C or SIGTERM: unready at once (a load balancer stops sending
    // here), leadership handed over at once (the lease let go and
    // announced), the event streams ended (or the graceful shutdown would
    // wait for dashboards that never hang up); then what is in flight
    // finishes.
    let stopping = async move {
        stop_signal().await;
        tracing::info!("stopping: unready, handing over, finishing what is in flight");
        unready.store(true, std::sync::atomic::Ordering::Relaxed);
        handing_over.cancel();
        events.close();
    };
    let served = match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(stopping)
                .await
        }
        Some(config) => serve_tls(listener, config, app, stopping).await,
    };
    stop_leading.cancel();
    if let Some(task) = leader_task {
        let _ = task.await;
    }
    let _ = commands.send(Command::Shutdown);
    let _ = engine_task.await;
    let _ = forward.await;
    let _ = token_watch.await;
    if let Some(counting) = counting {
        counting.abort();
    }
    tracing::info!("serve stopped");
    served.map_err(|e| ServeError::Setup(format!("the server stopped: {e}")))
}

/// Keeps the sessions gauge current: how many in each status, every 15 s.
fn count_sessions(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = std::collections::HashSet::new();
        loop {
            let services = state.services.clone();
            let counted =
                tokio::task::spawn_blocking(move || services.store().session_counts()).await;
            if let Ok(Ok(counts)) = counted {
                // A status nobody is in any more reads 0, not its last count.
                let now: std::collections::HashSet<_> = counts
                    .iter()
                    .map(|(provider, status, _)| (*provider, status.clone()))
                    .collect();
                for (provider, status) in seen.difference(&now) {
                    crate::telemetry::sessions(provider.as_str(), status.clone(), 0.0);
                }
                for (provider, status, count) in counts {
                    crate::telemetry::sessions(provider.as_str(), status, count as f64);
                }
                seen = now;
            }
            tokio::time::sleep(std::time::Duration::from_secs(15)).await;
        }
    })
}

/// Ctrl-C, or SIGTERM as a service manager (systemd, docker stop) sends it.
async fn stop_signal() {
    // A signal source that fails or ends is no request to stop: only a
    // signal that arrives is.
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = async {
            let arrived = match signal(SignalKind::terminate()) {
                Ok(mut term) => term.recv().await.is_some(),
                Err(_) => false,
            };
            if !arrived {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = ctrl_c => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: axum_server::tls_rustls::RustlsConfig,
    app: Router,
    stopping: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    let graceful = handle.clone();
    tokio::spawn(async move {
        stopping.await;
        graceful.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
    });
    axum_server::from_tcp_rustls(listener.into_std()?, config)?
        .handle(handle)
        .serve(app.into_make_service())
        .await
}
