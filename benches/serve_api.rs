//! Team mode's API figures (run: `cargo bench --bench serve_api`): the
//! server's router on loopback over a real SQLite store holding 10,000
//! sessions, asked for all of them by an operator with a token.
//!
//! Target (issue 8): a session list of 10,000 answered in under 50 ms.
//! Measured with rows unchanged between lists and with 100 rows changed
//! before each (the server keeps each row's JSON until its row changes).
//!
//! `PAYOPS_BENCH_TELEMETRY=1` runs it as `payops serve --metrics-addr …`
//! does: the Prometheus recorder installed and every request logged (to a
//! sink), to measure their cost against a run without (target: within 5 %).

use std::time::{Duration, Instant};

use jiff::Timestamp;
use payops::auth::{Role, new_token};
use payops::config::{Config, SessionDefaults};
use payops::domain::wire::SessionView;
use payops::domain::{
    CreatedSession, DocumentType, ExternalRef, NewSession, Provider, SessionId, SessionStatus,
    UserFlow,
};
use payops::engine::ops::Services;
use payops::server::listing::SessionsJson;
use payops::server::{AppState, router};
use payops::store::Store;

const SESSIONS: usize = 10_000;
/// Sessions relabelled before each request of the second series: their
/// rows must be read and written again.
const CHANGED: usize = 100;

fn main() {
    // `cargo test --benches` runs benches briefly; `cargo bench` passes --bench.
    let full = std::env::args().any(|a| a == "--bench");
    let rounds = if full { 50 } else { 3 };
    let telemetry = std::env::var("PAYOPS_BENCH_TELEMETRY").is_ok_and(|v| v == "1");
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
            .complete_session(&record.id, &created, Timestamp::now(), None)
            .expect("complete");
    }
    println!(
        "serve_api bench: {SESSIONS} sessions stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (token, hash) = new_token();
    store
        .add_token(
            &payops::store::NewToken {
                name: "bench",
                role: Role::Viewer,
                token_hash: &hash,
                at: Timestamp::now(),
                expires_at: None,
            },
            None,
        )
        .expect("token");
    // In process: the list as the handler writes it, first with nothing
    // kept (a server's first list), then with every row's JSON kept. Both
    // must equal, byte for byte, the records written plainly.
    let plain = {
        let records = store.list_sessions(true).expect("list");
        let views: Vec<SessionView> = records.iter().map(|r| SessionView::of(r, None)).collect();
        serde_json::to_vec(&views).expect("json")
    };
    let listing = SessionsJson::default();
    let timed = |listing: &SessionsJson| {
        let started = Instant::now();
        let body = listing.list(&store, true).expect("list");
        let took = started.elapsed();
        assert!(body == plain, "the kept list differs from the plain one");
        took
    };
    let cold = timed(&listing);
    let warm = timed(&listing);
    println!(
        "  in-process: nothing kept (a start's preparation) {:.1} ms, every row kept {:.1} ms ({} bytes)",
        ms(cold),
        ms(warm),
        plain.len()
    );
    drop(listing);
    let ids: Vec<SessionId> = store
        .session_versions(true)
        .expect("versions")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let services = Services::new(&Config::default(), store).expect("services");
    let (commands, _updates) = tokio::sync::mpsc::unbounded_channel();
    let quota = governor::Quota::per_minute(std::num::NonZeroU32::new(100_000).expect("non-zero"));
    let state = AppState {
        limiter: std::sync::Arc::new(governor::RateLimiter::keyed(quota)),
        services: services.clone(),
        defaults: SessionDefaults::default(),
        commands,
        started: Instant::now(),
        leading: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
        lease_epoch: std::sync::Arc::default(),
        stopping: std::sync::Arc::default(),
        events: payops::server::events::Events::default(),
        sessions_json: SessionsJson::default(),
        webhooks: None,
        started_at: jiff::Timestamp::now(),
    };
    let prepared = state.clone();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _logging = telemetry.then(|| {
        runtime.block_on(async {
            let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            let addr = free.local_addr().expect("addr");
            drop(free);
            payops::telemetry::install(addr).expect("metrics");
        });
        // Formatted and written as serve does, to nowhere.
        let (writer, guard) = tracing_appender::non_blocking(std::io::sink());
        tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false)
            .json()
            .try_init()
            .expect("subscriber");
        guard
    });
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, router(state)).await });
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/api/v1/sessions?all=true");
        let ask = || async {
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
            // Checked as JSON without building a tree of it: the client
            // shares this process's allocator with the server it measures.
            let list: Vec<serde::de::IgnoredAny> = serde_json::from_slice(&body).expect("json");
            assert_eq!(list.len(), SESSIONS);
            (took, body.len())
        };
        // What `payops serve` does at start, before anyone asks.
        prepared.prepare_session_list();
        let (first, bytes) = ask().await;
        let mut unchanged = Vec::new();
        for _ in 0..rounds {
            unchanged.push(ask().await.0);
        }
        // As a busy team's server sees it: rows changed between lists.
        let mut changed = Vec::new();
        for round in 0..rounds {
            for (n, id) in ids.iter().skip(round * CHANGED).take(CHANGED).enumerate() {
                let label = format!("TKT-{round}-{n}");
                services
                    .store()
                    .set_label(id, Some(&label), None)
                    .expect("label");
            }
            changed.push(ask().await.0);
        }
        println!(
            "GET /api/v1/sessions?all=true, {SESSIONS} sessions ({:.1} MB of JSON), \
             {rounds} rounds each (target: under 50 ms), metrics and request log {}:",
            bytes as f64 / 1e6,
            if telemetry { "on" } else { "off" },
        );
        println!(
            "  first after the preparation a start makes: {:.1} ms",
            ms(first)
        );
        println!("  rows unchanged: {}", spread(unchanged));
        println!("  {CHANGED} rows changed before each: {}", spread(changed));
    });
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn spread(mut times: Vec<Duration>) -> String {
    times.sort();
    let median = times[times.len() / 2];
    let p95 = times[(times.len() * 95 / 100).min(times.len() - 1)];
    let max = *times.last().expect("a time");
    format!(
        "median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(median),
        ms(p95),
        ms(max)
    )
}
