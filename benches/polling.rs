//! Polling figures (run: `cargo bench --bench polling`), against the
//! simulator over loopback with the clock scaled: `PAYOPS_BENCH_SCALE`
//! (default 10) simulated seconds pass per real second, and the engine's
//! plan and rate budget are scaled with it, so every figure below is in
//! simulated (provider) time.
//!
//! 1. One session that stays PENDING for its whole 10-minute window while
//!    nobody has it on screen: status calls (target at most 40).
//! 2. 200 sessions pending at once under a 100-a-minute budget (the
//!    simulator enforces it and sends `X-RateLimit-*`): 429 answers (target
//!    0); for a session on screen, time from its change at the provider to
//!    the engine's report (target at most 6 s); the same for the rest
//!    (median reported).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use payops::config::{Config, PollingConfig};
use payops::domain::SessionRecord;
use payops::domain::{DocumentType, Provider, SessionId, SessionStatus, UserFlow};
use payops::engine::ops::Services;
use payops::engine::run::{call_policy, spawn_with_plan};
use payops::engine::schedule::Plan;
use payops::engine::{Command, SessionRequest, Update};
use payops::error::ProviderError;
use payops::sim::{self, SimCredentials, SimHandle, SimOptions};
use payops::store::Store;
use rand::{RngExt, SeedableRng};

const WINDOW: Duration = Duration::from_secs(600);
const INTERVAL: Duration = Duration::from_secs(5);
const BUDGET: u32 = 100;
const SESSIONS: usize = 200;
/// Sessions in scenario 2 whose customer acts (the rest let the window run out).
const ACTING: f64 = 0.75;
/// On-screen sessions measured in scenario 2, one at a time.
const WATCHED: usize = 12;

struct World {
    sim: Arc<SimHandle>,
    config: Config,
    polling: PollingConfig,
    scale: f64,
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
}

impl World {
    async fn start(scale: f64) -> World {
        let sim = sim::start(
            "127.0.0.1:0".parse().expect("loopback"),
            SimOptions {
                time_scale: scale,
                ..SimOptions::default()
            },
        )
        .await
        .expect("simulator starts");
        let mut config = payops::demo::config_for(&sim, &SimCredentials::demo());
        // Cashfree only: the balance has its own schedule and provider.
        config.instantpay = None;
        let dir = tempfile::tempdir().expect("tempdir");
        World {
            sim: Arc::new(sim),
            config,
            polling: PollingConfig {
                session_interval: INTERVAL,
                requests_per_minute: BUDGET,
                request_timeout: Duration::from_secs(2),
                ..PollingConfig::default()
            },
            scale,
            db: dir.path().join("payops.db"),
            _dir: dir,
        }
    }

    fn services(&self) -> Services {
        let store = Store::open(&self.db).expect("store opens");
        Services::with_policy(&self.config, store, call_policy(&self.polling)).expect("services")
    }

    /// Creates `n` sessions and pins them PENDING (the simulator's own fates
    /// off: this bench decides when each customer acts).
    async fn seed(&self, n: usize) -> Vec<SessionRecord> {
        let services = self.services();
        let mut records = Vec::new();
        for _ in 0..n {
            let record = services
                .create_session(&SessionRequest {
                    provider: Provider::Cashfree,
                    flow: UserFlow::Signup,
                    documents: vec![DocumentType::Aadhaar],
                    redirect_url: None,
                    label: None,
                })
                .await
                .expect("create");
            let reference = record.reference.clone().expect("a reference");
            assert!(
                self.sim
                    .force_session_status(&reference, SessionStatus::Pending)
            );
            records.push(record);
        }
        records
    }

    fn engine(
        &self,
    ) -> (
        tokio::sync::mpsc::UnboundedSender<Command>,
        tokio::sync::mpsc::UnboundedReceiver<Update>,
        tokio::task::JoinHandle<()>,
    ) {
        let plan = Plan::for_interval(INTERVAL).scaled(1.0 / self.scale);
        spawn_with_plan(self.services(), self.polling.clone(), plan)
    }

    /// Real time for a simulated duration.
    fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }

    /// Simulated seconds for a real duration.
    fn simulated(&self, real: Duration) -> f64 {
        real.as_secs_f64() * self.scale
    }
}

/// A poll answered or failed for `id`: one status call.
fn call_of(update: &Update) -> Option<&SessionId> {
    match update {
        Update::SessionChanged { record, .. } => Some(&record.id),
        Update::PollFailed { record, .. } => Some(&record.id),
        _ => None,
    }
}

async fn one_unseen_session(scale: f64) -> usize {
    let world = World::start(scale).await;
    let record = world.seed(1).await.remove(0);
    let (commands, mut updates, task) = world.engine();
    let started = Instant::now();
    let end = started + world.real(WINDOW);
    let mut calls = 0;
    loop {
        let update = tokio::select! {
            u = updates.recv() => u,
            () = tokio::time::sleep_until(end.into()) => break,
        };
        if update.as_ref().and_then(call_of) == Some(&record.id) {
            calls += 1;
        }
    }
    // The window closes: the provider now says EXPIRED, and the next call hears it.
    let reference = record.reference.clone().unwrap_or_default();
    world
        .sim
        .force_session_status(&reference, SessionStatus::Expired);
    let give_up = Instant::now() + world.real(Duration::from_secs(120));
    while let Ok(Some(update)) = tokio::time::timeout_at(give_up.into(), updates.recv()).await {
        if call_of(&update) == Some(&record.id) {
            calls += 1;
            if matches!(&update, Update::SessionChanged { record: r, .. } if r.status == SessionStatus::Expired)
            {
                break;
            }
        }
    }
    let _ = commands.send(Command::Shutdown);
    let _ = task.await;
    calls
}

/// At a simulated second: put a session on screen, or make its customer act.
type Event = (f64, Option<SessionId>, Option<(SessionId, String)>);

struct Crowd {
    rate_limited: usize,
    watched: Vec<f64>,
    others: Vec<f64>,
    undetected: usize,
    calls: usize,
    minutes: f64,
}

async fn crowd(scale: f64) -> Crowd {
    let world = World::start(scale).await;
    let records = world.seed(SESSIONS).await;
    world.sim.set_rate_limit(Some(BUDGET));
    let (commands, mut updates, task) = world.engine();
    let started = Instant::now();

    // Who acts when (simulated seconds after start), and who is watched.
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut acts: Vec<(f64, SessionId, String)> = Vec::new();
    for record in &records {
        if rng.random_bool(ACTING) {
            let at = rng.random_range(30.0..540.0);
            let reference = record.reference.clone().unwrap_or_default();
            acts.push((at, record.id.clone(), reference));
        }
    }
    acts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut watched: Vec<SessionId> = Vec::new();
    let mut last_watch = f64::NEG_INFINITY;
    for (at, id, _) in &acts {
        if watched.len() < WATCHED && *at - last_watch >= 40.0 {
            watched.push(id.clone());
            last_watch = *at;
        }
    }
    let acting = acts.len();
    let forced: Arc<Mutex<HashMap<SessionId, Instant>>> = Arc::default();

    // The customers (and the operator who opens a session 15 s before its
    // customer acts), on the simulated clock.
    let actors = {
        let sim = world.sim.clone();
        let forced = forced.clone();
        let commands = commands.clone();
        let watched = watched.clone();
        let scale = world.scale;
        tokio::spawn(async move {
            let at = |secs: f64| started + Duration::from_secs_f64(secs.max(0.0) / scale);
            let mut events: Vec<Event> = Vec::new();
            for (when, id, reference) in acts {
                if watched.contains(&id) {
                    events.push((when - 15.0, Some(id.clone()), None));
                }
                events.push((when, None, Some((id, reference))));
            }
            events.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (when, watch, act) in events {
                tokio::time::sleep_until(at(when).into()).await;
                if let Some(id) = watch {
                    let _ = commands.send(Command::OnScreen(vec![id]));
                }
                if let Some((id, reference)) = act {
                    sim.force_session_status(&reference, SessionStatus::Authenticated);
                    forced.lock().expect("lock").insert(id, Instant::now());
                }
            }
        })
    };

    let mut detected: HashMap<SessionId, f64> = HashMap::new();
    let mut rate_limited = 0;
    let mut calls = 0;
    let deadline = started + world.real(WINDOW);
    while let Ok(Some(update)) = tokio::time::timeout_at(deadline.into(), updates.recv()).await {
        if call_of(&update).is_some() {
            calls += 1;
        }
        match &update {
            Update::PollFailed {
                error: ProviderError::RateLimited { .. },
                ..
            } => rate_limited += 1,
            Update::SessionChanged { record, .. }
                if record.status == SessionStatus::Authenticated
                    && !detected.contains_key(&record.id) =>
            {
                let at = forced.lock().expect("lock").get(&record.id).copied();
                if let Some(at) = at {
                    detected.insert(record.id.clone(), world.simulated(at.elapsed()));
                }
            }
            _ => {}
        }
    }
    let minutes = world.simulated(started.elapsed()) / 60.0;
    let _ = actors.await;
    let _ = commands.send(Command::Shutdown);
    let _ = task.await;

    let mut watched_figures = Vec::new();
    let mut others = Vec::new();
    for (id, secs) in &detected {
        if watched.contains(id) {
            watched_figures.push(*secs);
        } else {
            others.push(*secs);
        }
    }
    Crowd {
        rate_limited,
        undetected: acting - detected.len(),
        watched: watched_figures,
        others,
        calls,
        minutes,
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((values.len() - 1) as f64 * p).round() as usize;
    values[rank]
}

fn main() {
    // `cargo test --benches` runs benches briefly; `cargo bench` passes --bench.
    let full = std::env::args().any(|a| a == "--bench");
    let scale: f64 = std::env::var("PAYOPS_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| s.is_finite() && *s > 0.0)
        .unwrap_or(if full { 10.0 } else { 100.0 });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!("polling bench: clock x{scale} (figures in simulated time)");

    let calls = runtime.block_on(one_unseen_session(scale));
    println!(
        "1. one session PENDING for 10 min, never on screen: {calls} status calls (target <= 40; every 5 s would be ~120)"
    );

    let mut crowd = runtime.block_on(crowd(scale));
    let rate = crowd.calls as f64 / crowd.minutes.max(f64::EPSILON);
    println!(
        "2. {SESSIONS} sessions pending, budget {BUDGET}/min: {} answers 429 (target 0); {} status calls in {:.1} min = {rate:.0}/min",
        crowd.rate_limited, crowd.calls, crowd.minutes
    );
    println!(
        "   on screen ({} measured): change reaches the engine in max {:.1} s, median {:.1} s (target <= 6 s)",
        crowd.watched.len(),
        percentile(&mut crowd.watched, 1.0),
        percentile(&mut crowd.watched, 0.5),
    );
    println!(
        "   off screen ({} detected, {} not within the window): median {:.0} s, p90 {:.0} s, max {:.0} s",
        crowd.others.len(),
        crowd.undetected,
        percentile(&mut crowd.others, 0.5),
        percentile(&mut crowd.others, 0.9),
        percentile(&mut crowd.others, 1.0),
    );
}
