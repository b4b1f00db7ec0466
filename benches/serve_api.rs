//! Team mode's API figures (run: `cargo bench --bench serve_api`): the
//! server's router on loopback over a real SQLite store holding 10,000
//! sessions, asked for all of them by an operator with a token.
//!
//! Target (issue 8): a session list of 10,000 answered in under 50 ms.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use payops::auth::{Role, new_token};
use payops::config::{Config, SessionDefaults};
use payops::domain::{
    CreatedSession, DocumentType, ExternalRef, NewSession, Provider, SessionId, SessionStatus,
    UserFlow,
};
use payops::engine::ops::Services;
use payops::server::{AppState, router};
use payops::store::Store;

const SESSIONS: usize = 10_000;

fn main() {
    // `cargo test --benches` runs benches briefly; `cargo bench` passes --bench.
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 50 } else { 3 };
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("payops.db")).expect("store");
    let started = Instant::now();
    for n in 0..SESSIONS {
        let new = NewSession {
            id: SessionId::generate(),
            provider: if n % 2 == 0 {
                Provider::Cashfree
            } else {
                Provider::InstantPay
            },
            external_ref: ExternalRef::generate(),
            flow: Some(UserFlow::Signup),
            documents_requested: vec![DocumentType::Aadhaar],
            redirect_url: Some("https://example.com/done".into()),
            created_at: Timestamp::now(),
            label: Some(format!("TKT-{n}")),
            created_by: Some("asha".into()),
        };
        let record = store.begin_session(&new).expect("insert");
        let created = CreatedSession {
            reference: format!("{:024x}", n),
            url: "https://verification.example/session".into(),
            status: SessionStatus::Pending,
            provider_status: "PENDING".into(),
            documents_requested: Vec::new(),
            environment: None,
            request_id: None,
        };
        store
            .complete_session(&record.id, &created, Timestamp::now())
            .expect("complete");
    }
    println!(
        "serve_api bench: {SESSIONS} sessions stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (token, hash) = new_token();
    store
        .add_token("bench", Role::Viewer, &hash, Timestamp::now())
        .expect("token");
    // Where the time goes: the store's read, the JSON made of it, its bytes.
    let read = Instant::now();
    let records = store.list_sessions(true).expect("list");
    let read = read.elapsed();
    let shaped = Instant::now();
    let values: Vec<payops::cli::output::SessionView> = records
        .iter()
        .map(|r| payops::cli::output::SessionView::of(r, None))
        .collect();
    let shaped = shaped.elapsed();
    let written = Instant::now();
    let text = serde_json::to_vec(&values).expect("json");
    let written = written.elapsed();
    drop(values);
    println!(
        "  in-process: store read {:.1} ms, views {:.1} ms, serialised {:.1} ms ({} bytes)",
        read.as_secs_f64() * 1000.0,
        shaped.as_secs_f64() * 1000.0,
        written.as_secs_f64() * 1000.0,
        text.len()
    );
    let services = Services::new(&Config::default(), store).expect("services");
    let (commands, _updates) = tokio::sync::mpsc::unbounded_channel();
    let quota = governor::Quota::per_minute(std::num::NonZeroU32::new(100_000).expect("non-zero"));
    let state = AppState {
        limiter: std::sync::Arc::new(governor::RateLimiter::keyed(quota)),
        services,
        defaults: SessionDefaults::default(),
        commands,
        started: Instant::now(),
        leading: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
        events: payops::server::events::Events::default(),
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, router(state)).await });
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/api/v1/sessions?all=true");
        let mut times: Vec<Duration> = Vec::new();
        let mut bytes = 0;
        for round in 0..=rounds {
            let asked = Instant::now();
            let response = client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status().as_u16(), 200);
            let body = response.bytes().await.expect("body");
            let took = asked.elapsed();
            bytes = body.len();
            let list: serde_json::Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(list.as_array().map(Vec::len), Some(SESSIONS));
            // The first answer warms the caches; it is not counted.
            if round > 0 {
                times.push(took);
            }
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let median = times[times.len() / 2];
        let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
        let max = *times.last().expect("a time");
        println!(
            "GET /api/v1/sessions?all=true, {SESSIONS} sessions ({:.1} MB of JSON), {} rounds: \
             median {:.1} ms, p95 {:.1} ms, max {:.1} ms (target: under 50 ms)",
            bytes as f64 / 1e6,
            times.len(),
            ms(median),
            ms(p95),
            ms(max),
        );
    });
}
