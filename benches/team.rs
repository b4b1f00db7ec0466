//! Team mode under load (run: `cargo bench --bench team`): two `payops
//! serve` replicas on a throwaway PostgreSQL, against the simulator with
//! 20 % injected faults (429, 500, hangs, garbage: 5 % each), followed by
//! headless dashboards (the real client engine and the real `update`, no
//! terminal). Sessions are created through both replicas while the
//! simulator's customers consent or refuse; finance operators race notifies
//! on the issued links; the leader is killed with SIGKILL halfway and
//! started again. Printed against the issue's targets:
//! - provider calls in any 60 s window, per provider, against the budget;
//! - a status change to every client, beyond the poll that saw it (the
//!   record's `updated_at`): median, p95, max;
//! - sessions lost, double notifies, audit rows missing (all must be 0);
//! - then one replica holding 10,000 sessions with 50 clients: its RSS.
//!
//! `PAYOPS_BENCH_CLIENTS` (default 20) and `PAYOPS_BENCH_SESSIONS` (default
//! 500) change the load; `PAYOPS_BENCH_PHASE=load` or `rss` runs one part. Without `--bench` (as `cargo test --benches` runs
//! it) the run is a small one.

#[allow(dead_code)]
#[path = "../tests/integration/harness/postgres.rs"]
mod postgres;

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use payops::client::ServerClient;
use payops::domain::{Provider, SessionStatus};
use payops::engine::Update;
use payops::sim::{self, Faults, SimCredentials, SimHandle, SimOptions};
use payops::tui::TuiOptions;
use payops::tui::app::App;
use payops::tui::update::{Msg, update};
use secrecy::SecretString;
use serde_json::{Value, json};

const BUDGET_PER_MINUTE: u32 = 600;
const ISSUED_LINKS: [&str; 3] = [
    "657aa9841b8d3897ff0a84fb",
    "65b2f1c04e9a7d3186c2a5e1",
    "65c81d2a9f03b7e45d1c6a08",
];

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let setting = |name: &str, full: usize, small: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if quick { small } else { full })
    };
    let clients = setting("PAYOPS_BENCH_CLIENTS", 20, 3);
    let sessions = setting("PAYOPS_BENCH_SESSIONS", 500, 20);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let phase = std::env::var("PAYOPS_BENCH_PHASE").unwrap_or_default();
        if phase.is_empty() || phase == "load" {
            let Some(url) = postgres::database("bench_team") else {
                println!("team bench skipped: no PostgreSQL");
                return;
            };
            load(&url, clients, sessions).await;
        }
        if phase.is_empty() || phase == "rss" {
            let Some(url) = postgres::database("bench_team_rss") else {
                println!("team bench skipped: no PostgreSQL");
                return;
            };
            let size = if quick { (1_000, 5) } else { (10_000, 50) };
            rss(&url, size.0, size.1).await;
        }
    });
}

/// A replica, killed when dropped.
struct Replica {
    child: Child,
    base: String,
    addr: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Team {
    sim: Arc<SimHandle>,
    home: tempfile::TempDir,
    store_url: String,
}

impl Team {
    async fn start(store_url: &str, faults: Faults) -> Team {
        let options = SimOptions {
            faults,
            credentials: SimCredentials::demo(),
            ..SimOptions::default()
        };
        let sim = sim::start("127.0.0.1:0".parse().expect("an address"), options)
            .await
            .expect("the simulator");
        Team {
            sim: Arc::new(sim),
            home: tempfile::tempdir().expect("a temp dir"),
            store_url: store_url.to_string(),
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        let creds = SimCredentials::demo();
        let home = self.home.path();
        [
            ("HOME", home.display().to_string()),
            ("XDG_CONFIG_HOME", home.join("config").display().to_string()),
            ("PAYOPS_DATA_DIR", home.join("data").display().to_string()),
            ("PAYOPS_STORE_URL", self.store_url.clone()),
            ("PAYOPS_LOG", "info".into()),
            (
                "PAYOPS_DEFAULTS_REDIRECT_URL",
                "https://example.com/done".into(),
            ),
            ("PAYOPS_POLLING_REQUEST_TIMEOUT_SECS", "2".into()),
            ("PAYOPS_POLLING_SESSION_INTERVAL_SECS", "2".into()),
            (
                "PAYOPS_POLLING_REQUESTS_PER_MINUTE",
                BUDGET_PER_MINUTE.to_string(),
            ),
        ]
        .into_iter()
        .chain(payops::demo::client_env(&self.sim, &creds))
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn payops(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_payops"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env());
        command
    }

    fn token(&self, name: &str, role: &str) -> String {
        let out = self
            .payops(&["serve", "token", "add", name, "--role", role])
            .output()
            .expect("token add");
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .to_string()
    }

    fn replica(&self, addr: &str) -> Replica {
        let mut child = self
            .payops(&["serve", "--addr", addr, "--requests-per-minute", "100000"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("payops serve");
        let mut first = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = std::io::BufReader::new(stdout).read_line(&mut first);
        }
        let base = first
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string();
        let addr = base.trim_start_matches("http://").to_string();
        Replica { child, base, addr }
    }
}

async fn is_leader(http: &reqwest::Client, replica: &Replica) -> bool {
    match http.get(format!("{}/healthz", replica.base)).send().await {
        Ok(response) => response
            .json::<Value>()
            .await
            .is_ok_and(|health| health["leader"] == true),
        Err(_) => false,
    }
}

/// What the headless dashboards saw.
#[derive(Default)]
struct Seen {
    /// Status change to client, beyond the record's `updated_at`.
    latencies: Vec<Duration>,
    snapshots: usize,
}

/// A dashboard without a terminal: the real client engine feeding the real
/// `App` through `update`.
fn dashboard(base: &str, token: &str, seen: Arc<Mutex<Seen>>) -> tokio::task::JoinHandle<App> {
    let client = ServerClient::new(
        url::Url::parse(base).expect("a URL"),
        SecretString::from(token.to_string()),
    )
    .expect("a client");
    let (commands, mut updates, _engine) = payops::client::engine::spawn(client);
    tokio::spawn(async move {
        let _commands = commands;
        let mut app = App::new(
            TuiOptions::default(),
            payops::tui::theme::Theme::colour(),
            jiff::Timestamp::now(),
            jiff::tz::TimeZone::UTC,
        );
        while let Some(message) = updates.recv().await {
            match &message {
                Update::SessionChanged {
                    record,
                    previous: Some(_),
                    ..
                } => {
                    let late = jiff::Timestamp::now().duration_since(record.updated_at);
                    let late = Duration::try_from(late).unwrap_or_default();
                    lock(&seen).latencies.push(late);
                }
                Update::Loaded { .. } => lock(&seen).snapshots += 1,
                _ => {}
            }
            update(&mut app, Msg::Engine(message));
        }
        app
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> Option<(u16, Value)> {
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let value = response.json::<Value>().await.unwrap_or(Value::Null);
    Some((status, value))
}

/// The JSON answer to a GET of the API's `path` on `replica`; the benchmark
/// stops if there is none.
async fn get(http: &reqwest::Client, replica: &Replica, path: &str, token: &str) -> Value {
    let url = format!("{}/api/v1/{path}", replica.base);
    let response = http.get(&url).bearer_auth(token).send().await;
    let response = response.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    response.json().await.expect("JSON")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn load(store_url: &str, clients: usize, sessions: usize) {
    let faults = Faults {
        rate_limit: 0.05,
        server_error: 0.05,
        timeout: 0.05,
        garbage: 0.05,
        ..Faults::default()
    };
    let team = Team::start(store_url, faults).await;
    let support = team.token("sam", "support");
    let finance: Vec<String> = (0..4)
        .map(|n| team.token(&format!("fin{n}"), "finance"))
        .collect();
    let viewer = team.token("vera", "viewer");
    let mut replicas = vec![team.replica("127.0.0.1:0"), team.replica("127.0.0.1:0")];
    let http = reqwest::Client::new();
    let started = Instant::now();

    // Provider calls, sampled each second, for the busiest 60 s window.
    let counts = Arc::new(Mutex::new(Vec::<(Instant, u64, u64)>::new()));
    let sampler = {
        let counts = counts.clone();
        let sim = team.sim.clone();
        tokio::spawn(async move {
            loop {
                let (ip, cf) = sim.request_counts();
                lock(&counts).push((Instant::now(), ip, cf));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };

    let seen = Arc::new(Mutex::new(Seen::default()));
    let apps: Vec<_> = (0..clients)
        .map(|n| dashboard(&replicas[n % 2].base, &viewer, seen.clone()))
        .collect();

    // Sessions over the run, through both replicas; each customer answers
    // a few seconds later.
    let mut created: Vec<(String, Provider)> = Vec::new();
    // Labels of creates a server answered with a refusal (a provider fault).
    let mut answered: HashSet<String> = HashSet::new();
    let mut answers = Vec::new();
    let pace = Duration::from_millis(200);
    let mut killed = false;
    for n in 0..sessions {
        if !killed && n == sessions / 2 {
            killed = true;
            // SIGKILL the leader mid-poll; start it again on its address.
            let leader = if is_leader(&http, &replicas[0]).await {
                0
            } else {
                1
            };
            let addr = replicas[leader].addr.clone();
            let _ = replicas[leader].child.kill();
            let _ = replicas[leader].child.wait();
            tokio::time::sleep(Duration::from_secs(1)).await;
            replicas[leader] = team.replica(&addr);
            println!(
                "killed the leader (replica {leader}) at {:?} and started it again",
                started.elapsed()
            );
        }
        let provider = if n % 2 == 0 { "cashfree" } else { "instantpay" };
        let mut done = None;
        for attempt in 0..4 {
            let base = &replicas[(n + attempt) % 2].base;
            match post(
                &http,
                format!("{base}/api/v1/sessions"),
                &support,
                json!({"provider": provider, "label": format!("BENCH-{n}")}),
            )
            .await
            {
                Some((201, value)) => {
                    done = Some(value);
                    break;
                }
                // A server took it: whatever the provider did, a row must say so.
                Some(_) => {
                    answered.insert(format!("BENCH-{n}"));
                }
                None => {}
            }
        }
        if let Some(value) = done {
            let id = value["id"].as_str().unwrap_or_default().to_string();
            let reference = value["reference"].as_str().unwrap_or_default().to_string();
            created.push((id, provider.parse().unwrap_or(Provider::Cashfree)));
            let sim = team.sim.clone();
            answers.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(2_000 + (n as u64 * 7_919) % 8_000)).await;
                let status = if n % 5 == 0 {
                    SessionStatus::ConsentDenied
                } else {
                    SessionStatus::Authenticated
                };
                sim.force_session_status(&reference, status);
            }));
        }
        if n % 50 == 25 {
            race_notifies(&http, &replicas, &finance, n / 50).await;
        }
        tokio::time::sleep(pace).await;
    }
    for answer in answers {
        let _ = answer.await;
    }
    // Let the last polls land (the budget paces them) and reach everyone.
    tokio::time::sleep(Duration::from_secs(20)).await;
    sampler.abort();

    // What the store holds, through a replica.
    let all = get(&http, &replicas[0], "sessions?all=true", &viewer).await;
    let rows = all.as_array().cloned().unwrap_or_default();
    let stored: HashSet<String> = rows
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect();
    let labels: HashSet<String> = rows
        .iter()
        .filter_map(|r| r["label"].as_str().map(str::to_string))
        .collect();
    let unrecorded = answered
        .iter()
        .filter(|label| !labels.contains(*label))
        .count();
    let lost = created
        .iter()
        .filter(|(id, _)| !stored.contains(id))
        .count();
    let audit = get(&http, &replicas[1], "audit?limit=1000", &viewer).await;
    let mut reaching_rows: HashMap<String, u64> = HashMap::new();
    for row in audit.as_array().into_iter().flatten() {
        if matches!(row["outcome"].as_str(), Some("sent" | "unknown")) {
            *reaching_rows
                .entry(row["link_id"].as_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
    let mut double = 0;
    let mut missing = 0;
    let mut delivered = 0;
    for link in ISSUED_LINKS {
        let count = team.sim.notify_count(link);
        delivered += count;
        double += count.saturating_sub(1);
        missing += count.saturating_sub(*reaching_rows.get(link).unwrap_or(&0));
    }

    let budget =
        payops::engine::rate_limit::max_requests_in(BUDGET_PER_MINUTE, Duration::from_secs(60));
    let samples = lock(&counts).clone();
    let busiest = |pick: fn(&(Instant, u64, u64)) -> u64| {
        let mut most = 0;
        for (i, start) in samples.iter().enumerate() {
            let end = samples[i..]
                .iter()
                .take_while(|s| s.0.duration_since(start.0) <= Duration::from_secs(60))
                .last()
                .unwrap_or(start);
            most = most.max(pick(end) - pick(start));
        }
        most
    };
    let (ip_busiest, cf_busiest) = (busiest(|s| s.1), busiest(|s| s.2));

    let mut latencies = std::mem::take(&mut lock(&seen).latencies);
    latencies.sort();
    let snapshots = lock(&seen).snapshots;
    for app in apps {
        app.abort();
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let verdict = |ok: bool| if ok { "meets target" } else { "MISSES target" };
    println!(
        "team load: {} sessions created through 2 replicas over {:.0} s, {clients} headless dashboards, 20 % faults",
        created.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "provider calls in the busiest 60 s: InstantPay {ip_busiest}, Cashfree {cf_busiest} (budget {BUDGET_PER_MINUTE}/min, at most {budget} in any 60 s): {}",
        verdict(ip_busiest <= budget && cf_busiest <= budget)
    );
    println!(
        "status change to every client, beyond the poll that saw it: median {:.0} ms, p95 {:.0} ms, max {:.0} ms over {} deliveries ({} snapshots, reconnects included): {}",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.95)),
        ms(latencies.last().copied().unwrap_or_default()),
        latencies.len(),
        snapshots,
        verdict(percentile(&latencies, 0.5) < Duration::from_secs(1))
    );
    println!(
        "sessions lost: {lost} of {} created, {unrecorded} of {} refused creates without a row: {}",
        created.len(),
        answered.len(),
        verdict(lost == 0 && unrecorded == 0)
    );
    println!(
        "double notifies: {double} ({delivered} delivered over {} links): {}",
        ISSUED_LINKS.len(),
        verdict(double == 0)
    );
    println!("audit rows missing: {missing}: {}", verdict(missing == 0));
}

/// Two finance operators on two replicas notify the same link at once,
/// without `again`: the guard must let one through.
async fn race_notifies(
    http: &reqwest::Client,
    replicas: &[Replica],
    finance: &[String],
    round: usize,
) {
    let link = ISSUED_LINKS[round % ISSUED_LINKS.len()];
    let calls: Vec<_> = (0..2)
        .map(|n| {
            let url = format!("{}/api/v1/links/{link}/notify", replicas[n % 2].base);
            let token = finance[(round + n) % finance.len()].clone();
            let http = http.clone();
            tokio::spawn(async move { post(&http, url, &token, json!({"again": false})).await })
        })
        .collect();
    for call in calls {
        let _ = call.await;
    }
}

/// One replica with `sessions` sessions and `clients` dashboards connected:
/// its peak RSS.
async fn rss(store_url: &str, sessions: usize, clients: usize) {
    let team = Team::start(store_url, Faults::none()).await;
    {
        let store = payops::store::Store::connect(store_url).expect("the store");
        let now = jiff::Timestamp::now();
        for n in 0..sessions {
            let session = payops::domain::NewSession {
                id: payops::domain::SessionId::generate(),
                provider: Provider::Cashfree,
                external_ref: payops::domain::ExternalRef::generate(),
                flow: None,
                documents_requested: Vec::new(),
                redirect_url: None,
                created_at: now,
                label: Some(format!("LOAD-{n}")),
                created_by: Some("sam".into()),
            };
            let Ok(record) = store.begin_session(&session) else {
                continue;
            };
            let created = payops::domain::CreatedSession {
                reference: format!("{}", 7_000_000_000u64 + n as u64),
                url: "https://verification.cashfree.com/dgl?shortCode=LOAD".into(),
                status: SessionStatus::Pending,
                provider_status: "PENDING".into(),
                documents_requested: Vec::new(),
                environment: None,
                request_id: None,
            };
            let _ = store.complete_session(&record.id, &created, now, None);
        }
    }
    let viewer = team.token("vera", "viewer");
    let replica = team.replica("127.0.0.1:0");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (alone, _) = memory(&replica);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let apps: Vec<_> = (0..clients)
        .map(|_| dashboard(&replica.base, &viewer, seen.clone()))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while lock(&seen).snapshots < clients && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (rss, peak) = memory(&replica);
    println!(
        "replica with {sessions} sessions: RSS {:.1} MB before any client; with {clients} connected dashboards ({} snapshots delivered): RSS {:.1} MB, peak {:.1} MB (target < 100 MB): {}",
        alone as f64 / 1024.0,
        lock(&seen).snapshots,
        rss as f64 / 1024.0,
        peak as f64 / 1024.0,
        if peak < 100 * 1024 {
            "meets target"
        } else {
            "MISSES target"
        }
    );
    for app in apps {
        app.abort();
    }
}

/// A process's resident and peak resident memory, in KiB (Linux).
fn memory(replica: &Replica) -> (u64, u64) {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", replica.child.id())).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
