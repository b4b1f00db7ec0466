//! The simulator's shared state: the scaled clock, sessions and their fates,
//! payout links, the wallet's random walk and the per-provider rate windows.
//!
//! Everything random is derived by hashing (seed, label, key) so two
//! simulators with the same seed tell the same story whatever the order or
//! timing of requests.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rust_decimal::Decimal;
use tokio_util::sync::CancellationToken;

use super::persist;
use super::{DEMO_LINKS, Faults, SimCredentials, SimOptions};
use crate::domain::{Provider, SessionStatus};
use crate::providers::signature::VerifyingKey;

/// A DigiLocker URL is valid for ten minutes at both providers.
pub(crate) const SESSION_WINDOW_SECS: f64 = 600.0;
/// The wallet opens at ₹25,000.00.
const OPENING_BALANCE_PAISE: i64 = 2_500_000;

/// FNV-1a over the parts (separated so `("ab","c")` differs from `("a","bc")`),
/// then mixed with the seed through splitmix64's finaliser.
pub(crate) fn hash(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(std::iter::once(&0xff)) {
            h ^= u64::from(*byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    splitmix(h ^ splitmix(seed))
}

pub(crate) fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform value in [0, 1) from a hash.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// `len` characters of `alphabet`, drawn from a stream seeded by `h`.
pub(crate) fn chars_from(h: u64, alphabet: &[u8], len: usize) -> String {
    let mut x = h;
    (0..len)
        .map(|_| {
            x = splitmix(x);
            let i = (x % alphabet.len() as u64) as usize;
            char::from(alphabet[i])
        })
        .collect()
}

pub(crate) const HEX: &[u8] = b"0123456789abcdef";
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Poisoning only means another request panicked mid-update; the maps are
/// still usable, and a simulator that stops answering helps nobody.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How a session ends if nobody forces it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Outcome {
    Authenticated,
    ConsentDenied,
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fate {
    pub outcome: Outcome,
    /// Sim seconds after creation.
    pub after: f64,
}

impl Fate {
    pub fn from_hash(h: u64) -> Fate {
        let roll = unit(h);
        let when = 20.0 + unit(splitmix(h)) * 220.0;
        if roll < 0.55 {
            Fate {
                outcome: Outcome::Authenticated,
                after: when,
            }
        } else if roll < 0.70 {
            Fate {
                outcome: Outcome::ConsentDenied,
                after: when,
            }
        } else {
            Fate {
                outcome: Outcome::Expired,
                after: SESSION_WINDOW_SECS,
            }
        }
    }
}

/// The made-up customer behind a session (personal data: never logged).
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub name: &'static str,
    pub gender: &'static str,
    pub mobile: String,
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

const PEOPLE: &[(&str, &str)] = &[
    ("Aarav Sharma", "M"),
    ("Priya Nair", "F"),
    ("Rohan Iyer", "M"),
    ("Ananya Reddy", "F"),
    ("Vikram Singh", "M"),
    ("Meera Joshi", "F"),
    ("Arjun Menon", "M"),
    ("Kavya Patel", "F"),
    ("Siddharth Rao", "M"),
    ("Ishita Banerjee", "F"),
    ("Rahul Verma", "M"),
    ("Sneha Kulkarni", "F"),
];

impl Person {
    pub fn from_hash(h: u64) -> Person {
        let (name, gender) = PEOPLE[(h % PEOPLE.len() as u64) as usize];
        let x = splitmix(h);
        let first = ["9", "8", "7", "6"][(x % 4) as usize];
        let mobile = format!("{first}{}", chars_from(x, b"0123456789", 9));
        let y = splitmix(x);
        Person {
            name,
            gender,
            mobile,
            year: 1965 + (y % 40) as u32,
            month: 1 + ((y >> 8) % 12) as u32,
            day: 1 + ((y >> 16) % 28) as u32,
        }
    }

    /// InstantPay's `YYYY-MM-DD`.
    pub fn dob_iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Cashfree's `DD-MM-YYYY`.
    pub fn dob_dmy(&self) -> String {
        format!("{:02}-{:02}-{:04}", self.day, self.month, self.year)
    }
}

/// What both providers' sessions share: when, how it ends, any override.
#[derive(Debug, Clone)]
pub(crate) struct Lifecycle {
    pub created_at: f64,
    pub fate: Fate,
    pub forced: Option<SessionStatus>,
    /// Sim seconds when `forced` was set (None after a restart: then the
    /// creation time stands in).
    pub forced_at: Option<f64>,
    pub person: Person,
}

impl Lifecycle {
    /// When the customer consented (sim seconds), for an AUTHENTICATED session.
    pub fn consented_at(&self, now: f64) -> Option<f64> {
        if self.status(now) != SessionStatus::Authenticated {
            return None;
        }
        Some(match &self.forced {
            Some(_) => self.forced_at.unwrap_or(self.created_at),
            None => self.created_at + self.fate.after,
        })
    }

    pub fn status(&self, now: f64) -> SessionStatus {
        if let Some(forced) = &self.forced {
            return forced.clone();
        }
        if now - self.created_at < self.fate.after {
            return SessionStatus::Pending;
        }
        match self.fate.outcome {
            Outcome::Authenticated => SessionStatus::Authenticated,
            Outcome::ConsentDenied => SessionStatus::ConsentDenied,
            Outcome::Expired => SessionStatus::Expired,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct IpSession {
    pub reference_id: String,
    pub external_ref: String,
    pub life: Lifecycle,
}

#[derive(Debug, Clone)]
pub(crate) struct CfSession {
    pub verification_id: String,
    pub reference_id: i64,
    pub documents: Vec<String>,
    pub life: Lifecycle,
}

#[derive(Debug, Clone)]
pub(crate) struct Activity {
    pub status: String,
    pub at: Timestamp,
    pub remarks: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub status: &'static str,
    pub amount: Decimal,
    pub masked_mobile: String,
    pub masked_email: String,
    pub activity: Vec<Activity>,
    pub notifications: u64,
}

/// The wallet after some whole number of sim-minutes.
#[derive(Debug, Clone)]
pub(crate) struct Wallet {
    pub minute: u64,
    pub total: Decimal,
    pub lien: Decimal,
    /// The last movement, for the `pool` block.
    pub opening: Decimal,
    pub moved: Decimal,
    pub mode: &'static str,
}

#[derive(Default)]
struct Inner {
    ip_sessions: HashMap<String, IpSession>,
    ip_external_refs: HashMap<String, String>,
    cf_sessions: HashMap<String, CfSession>,
    cf_by_reference: HashMap<i64, String>,
    links: HashMap<String, Link>,
    /// Document fetches so far, by `session key/TYPE` (the first one is 202).
    document_fetches: HashMap<String, u32>,
}

impl Inner {
    /// Files an InstantPay session under its reference and its `externalRef`.
    fn add_ip(&mut self, session: IpSession) {
        self.ip_external_refs
            .insert(session.external_ref.clone(), session.reference_id.clone());
        self.ip_sessions
            .insert(session.reference_id.clone(), session);
    }

    /// Files a Cashfree session under its `verification_id` and its reference.
    fn add_cf(&mut self, session: CfSession) {
        self.cf_by_reference
            .insert(session.reference_id, session.verification_id.clone());
        self.cf_sessions
            .insert(session.verification_id.clone(), session);
    }
}

/// A per-provider sliding window of one simulated minute (with a faster
/// clock the provider's per-minute budget holds per simulated minute, so a
/// scaled benchmark meets the limits production would).
#[derive(Default)]
pub(crate) struct RateWindow {
    hits: VecDeque<Instant>,
}

pub(crate) enum Admission {
    Allowed { remaining: u32, reset_secs: u64 },
    Limited { retry_after_secs: u64 },
}

impl RateWindow {
    /// `window` is one simulated minute in real time.
    pub fn admit(&mut self, limit: u32, now: Instant, window: Duration) -> Admission {
        while self
            .hits
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.hits.pop_front();
        }
        let until_free = |oldest: Option<&Instant>| {
            oldest.map_or(60, |t| {
                let left = window.saturating_sub(now.duration_since(*t));
                left.as_secs() + u64::from(left.subsec_nanos() > 0)
            })
        };
        if self.hits.len() >= limit as usize {
            return Admission::Limited {
                retry_after_secs: until_free(self.hits.front()).max(1),
            };
        }
        self.hits.push_back(now);
        Admission::Allowed {
            remaining: limit.saturating_sub(self.hits.len() as u32),
            reset_secs: until_free(self.hits.front()),
        }
    }
}

pub(crate) struct SimState {
    pub seed: u64,
    time_scale: f64,
    pub credentials: SimCredentials,
    /// Requests a provider accepts per simulated minute; 0: unlimited.
    /// Settable while running (benchmarks seed sessions first).
    pub rate_limit_per_minute: AtomicU32,
    /// Wall-clock origin of the simulated clock (restored from the state file,
    /// so sessions keep ageing across runs).
    origin: Timestamp,
    state_file: Option<PathBuf>,
    pub shutdown: CancellationToken,
    pub faults: Mutex<Faults>,
    /// Cashfree creates answer 422 `insufficient_balance` while set.
    pub cashfree_insufficient_balance: AtomicBool,
    /// When set, every Cashfree call needs a valid, fresh `x-cf-signature`.
    pub cashfree_signature_key: Option<VerifyingKey>,
    pub instantpay_requests: AtomicU64,
    pub cashfree_requests: AtomicU64,
    sequence: AtomicU64,
    uuids: AtomicU64,
    server_errors: AtomicU64,
    pub rate_windows: Mutex<[RateWindow; 2]>,
    wallet: Mutex<Wallet>,
    inner: Mutex<Inner>,
    pub webhooks: super::webhooks::Webhooks,
}

impl SimState {
    /// The per-minute limit in force, if any.
    pub fn rate_limit(&self) -> Option<u32> {
        Some(self.rate_limit_per_minute.load(Ordering::Relaxed)).filter(|n| *n > 0)
    }

    /// One simulated minute of real time: rate limits count over it, so a
    /// faster clock keeps the provider's budget per simulated minute.
    pub fn minute(&self) -> Duration {
        Duration::from_secs_f64(60.0 / self.time_scale)
    }

    pub fn new(options: SimOptions) -> SimState {
        let started_wall = Timestamp::now();
        let scale = if options.time_scale.is_finite() && options.time_scale > 0.0 {
            options.time_scale
        } else {
            1.0
        };
        let opening = Decimal::new(OPENING_BALANCE_PAISE, 2);
        let links = DEMO_LINKS
            .iter()
            .map(|(id, status)| ((*id).to_string(), demo_link(id, status, started_wall)))
            .collect();
        let saved = options
            .state_file
            .as_deref()
            .map(persist::load)
            .unwrap_or_default();
        let first_uuid = if options.state_file.is_some() {
            u64::try_from(started_wall.as_microsecond()).unwrap_or(0)
        } else {
            0
        };
        let state = SimState {
            seed: options.seed,
            time_scale: scale,
            credentials: options.credentials,
            rate_limit_per_minute: AtomicU32::new(options.rate_limit_per_minute.unwrap_or(0)),
            origin: saved.origin.unwrap_or(started_wall),
            state_file: options.state_file,
            shutdown: CancellationToken::new(),
            faults: Mutex::new(options.faults),
            cashfree_insufficient_balance: AtomicBool::new(false),
            cashfree_signature_key: options.cashfree_signature_key,
            instantpay_requests: AtomicU64::new(0),
            cashfree_requests: AtomicU64::new(0),
            sequence: AtomicU64::new(0),
            // A simulator that resumes a saved story must not repeat the
            // `ipay_uuid`s of earlier runs: continue from the clock instead of 0.
            uuids: AtomicU64::new(first_uuid),
            server_errors: AtomicU64::new(0),
            rate_windows: Mutex::new([RateWindow::default(), RateWindow::default()]),
            wallet: Mutex::new(Wallet {
                minute: 0,
                total: opening,
                lien: Decimal::ZERO,
                opening,
                moved: Decimal::ZERO,
                mode: "DR",
            }),
            inner: Mutex::new(Inner {
                links,
                ..Inner::default()
            }),
            webhooks: super::webhooks::Webhooks::to(options.cashfree_webhook_url),
        };
        state.restore(saved);
        state
    }

    fn restore(&self, saved: persist::Saved) {
        let mut inner = lock(&self.inner);
        let forced = |word: Option<String>| word.map(|w| SessionStatus::from_normalised(&w));
        // A saved session's life: made again from its key, as saved.
        let life = |key: &str, created_at, forced_word| {
            let mut life = self.lifecycle(key);
            life.created_at = created_at;
            life.forced = forced(forced_word);
            life
        };
        for s in saved.instantpay {
            inner.add_ip(IpSession {
                life: life(&s.external_ref, s.created_at, s.forced),
                reference_id: s.reference_id,
                external_ref: s.external_ref,
            });
        }
        for s in saved.cashfree {
            inner.add_cf(CfSession {
                life: life(&s.verification_id, s.created_at, s.forced),
                verification_id: s.verification_id,
                reference_id: s.reference_id,
                documents: s.documents,
            });
        }
        for (id, count) in saved.notifications {
            if let Some(link) = inner.links.get_mut(&id) {
                link.notifications = count;
            }
        }
    }

    /// Saves what requests changed, when a state file was asked for.
    fn persist(&self, inner: &Inner) {
        let Some(path) = &self.state_file else {
            return;
        };
        let saved = persist::Saved {
            origin: Some(self.origin),
            instantpay: inner
                .ip_sessions
                .values()
                .map(|s| persist::SavedInstantPay {
                    reference_id: s.reference_id.clone(),
                    external_ref: s.external_ref.clone(),
                    created_at: s.life.created_at,
                    forced: s.life.forced.as_ref().map(SessionStatus::as_str),
                })
                .collect(),
            cashfree: inner
                .cf_sessions
                .values()
                .map(|s| persist::SavedCashfree {
                    verification_id: s.verification_id.clone(),
                    reference_id: s.reference_id,
                    documents: s.documents.clone(),
                    created_at: s.life.created_at,
                    forced: s.life.forced.as_ref().map(SessionStatus::as_str),
                })
                .collect(),
            notifications: inner
                .links
                .iter()
                .filter(|(_, l)| l.notifications > 0)
                .map(|(id, l)| (id.clone(), l.notifications))
                .collect(),
        };
        // Best effort: a simulator that cannot save still answers.
        let _ = persist::save(path, &saved);
    }

    /// Sim seconds since start.
    pub fn now(&self) -> f64 {
        let elapsed = Timestamp::now().duration_since(self.origin).as_secs_f64();
        elapsed.max(0.0) * self.time_scale
    }

    /// A fresh per-request number; feeds fault rolls and `ipay_uuid`s.
    pub fn next_sequence(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed)
    }

    /// Kept apart from `sequence` so answering does not shift later fault rolls.
    pub fn next_uuid(&self) -> u64 {
        self.uuids.fetch_add(1, Ordering::Relaxed)
    }

    pub fn next_server_error(&self) -> u64 {
        self.server_errors.fetch_add(1, Ordering::Relaxed)
    }

    pub fn count_request(&self, provider: Provider) {
        let counter = match provider {
            Provider::InstantPay => &self.instantpay_requests,
            Provider::Cashfree => &self.cashfree_requests,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn request_counts(&self) -> (u64, u64) {
        (
            self.instantpay_requests.load(Ordering::Relaxed),
            self.cashfree_requests.load(Ordering::Relaxed),
        )
    }

    pub fn lifecycle(&self, key: &str) -> Lifecycle {
        Lifecycle {
            created_at: self.now(),
            fate: Fate::from_hash(hash(self.seed, &[b"fate", key.as_bytes()])),
            forced: None,
            forced_at: None,
            person: Person::from_hash(hash(self.seed, &[b"person", key.as_bytes()])),
        }
    }

    /// The first reference `free` makes of a hash of the seed, `tag` and
    /// `key` (salted 0, 1, … in turn), `free` turning down the ones already
    /// handed out: the same one for the same seed, and never a repeat.
    fn fresh_reference<T>(&self, tag: &[u8], key: &str, free: impl Fn(u64) -> Option<T>) -> T {
        (0u64..)
            .find_map(|salt| free(hash(self.seed, &[tag, key.as_bytes(), &salt.to_le_bytes()])))
            .expect("an unused reference among 2^64 salts")
    }

    /// Registers an InstantPay session; `None` when `externalRef` was used before.
    pub fn create_ip_session(&self, external_ref: &str) -> Option<IpSession> {
        let mut inner = lock(&self.inner);
        if inner.ip_external_refs.contains_key(external_ref) {
            return None;
        }
        let reference_id = self.fresh_reference(b"ip-ref", external_ref, |h| {
            Some(chars_from(h, HEX, 24)).filter(|id| !inner.ip_sessions.contains_key(id))
        });
        let session = IpSession {
            reference_id,
            external_ref: external_ref.to_string(),
            life: self.lifecycle(external_ref),
        };
        inner.add_ip(session.clone());
        self.persist(&inner);
        Some(session)
    }

    pub fn ip_session(&self, reference_id: &str) -> Option<IpSession> {
        lock(&self.inner).ip_sessions.get(reference_id).cloned()
    }

    /// Registers a Cashfree session; `None` when `verification_id` was used before.
    pub fn create_cf_session(
        &self,
        verification_id: &str,
        documents: Vec<String>,
    ) -> Option<CfSession> {
        let mut inner = lock(&self.inner);
        if inner.cf_sessions.contains_key(verification_id) {
            return None;
        }
        // Eight digits, like the ids Cashfree hands out.
        let reference_id = self.fresh_reference(b"cf-ref", verification_id, |h| {
            Some(10_000_000 + (h % 90_000_000) as i64)
                .filter(|id| !inner.cf_by_reference.contains_key(id))
        });
        let session = CfSession {
            verification_id: verification_id.to_string(),
            reference_id,
            documents,
            life: self.lifecycle(verification_id),
        };
        inner.add_cf(session.clone());
        self.persist(&inner);
        Some(session)
    }

    pub fn cf_session_by_verification_id(&self, verification_id: &str) -> Option<CfSession> {
        lock(&self.inner).cf_sessions.get(verification_id).cloned()
    }

    /// Every Cashfree session, in no particular order.
    pub fn cf_sessions(&self) -> Vec<CfSession> {
        lock(&self.inner).cf_sessions.values().cloned().collect()
    }

    /// The wall-clock time of a moment of the simulated clock.
    pub fn wall_time(&self, sim_seconds: f64) -> Timestamp {
        let real = jiff::SignedDuration::from_secs_f64(sim_seconds.max(0.0) / self.time_scale);
        self.origin.checked_add(real).unwrap_or(self.origin)
    }

    pub fn cf_session_by_reference(&self, reference_id: i64) -> Option<CfSession> {
        let inner = lock(&self.inner);
        let verification_id = inner.cf_by_reference.get(&reference_id)?;
        inner.cf_sessions.get(verification_id).cloned()
    }

    /// Overrides every session the reference names (InstantPay `referenceId`,
    /// Cashfree `reference_id` or `verification_id`).
    pub fn force(&self, reference: &str, status: &SessionStatus) -> bool {
        let now = self.now();
        let mut inner = lock(&self.inner);
        let mut found = false;
        if let Some(s) = inner.ip_sessions.get_mut(reference) {
            s.life.forced = Some(status.clone());
            s.life.forced_at = Some(now);
            found = true;
        }
        let by_reference = reference
            .parse::<i64>()
            .ok()
            .and_then(|r| inner.cf_by_reference.get(&r).cloned());
        for key in by_reference.into_iter().chain([reference.to_string()]) {
            if let Some(s) = inner.cf_sessions.get_mut(&key) {
                s.life.forced = Some(status.clone());
                s.life.forced_at = Some(now);
                found = true;
            }
        }
        if found {
            self.persist(&inner);
        }
        found
    }

    /// Counts a fetch of one document of one session; true for the first
    /// (which the provider answers "still being prepared").
    pub fn first_document_fetch(&self, session_key: &str, document: &str) -> bool {
        let mut inner = lock(&self.inner);
        let count = inner
            .document_fetches
            .entry(format!("{session_key}/{document}"))
            .or_insert(0);
        *count += 1;
        *count == 1
    }

    pub fn link(&self, id: &str) -> Option<Link> {
        lock(&self.inner).links.get(id).cloned()
    }

    /// Records a notification of an issued link; returns the link as it now is.
    pub fn notify_link(&self, id: &str) -> Option<Link> {
        let mut inner = lock(&self.inner);
        let link = inner.links.get_mut(id)?;
        if link.status == "ISSUED" {
            link.notifications += 1;
            let remarks = format!(
                "Notification re-sent to {} and {}",
                link.masked_mobile, link.masked_email
            );
            link.activity.push(Activity {
                status: "ISSUED".into(),
                at: Timestamp::now(),
                remarks,
            });
        }
        let link = link.clone();
        self.persist(&inner);
        Some(link)
    }

    pub fn notify_count(&self, id: &str) -> u64 {
        lock(&self.inner)
            .links
            .get(id)
            .map_or(0, |l| l.notifications)
    }

    /// The wallet at the current sim-minute, walking forward from the last
    /// minute computed (each step depends only on the seed and the minute).
    pub fn wallet(&self) -> Wallet {
        let target = (self.now() / 60.0) as u64;
        let mut wallet = lock(&self.wallet);
        while wallet.minute < target {
            wallet.minute += 1;
            step_wallet(self.seed, &mut wallet);
        }
        wallet.clone()
    }
}

fn step_wallet(seed: u64, w: &mut Wallet) {
    let minute = w.minute.to_le_bytes();
    let h = hash(seed, &[b"wallet", &minute]);
    let roll = unit(h);
    let low = w.total < Decimal::new(200_000, 2);
    let amount_h = splitmix(h);
    if low && roll < 0.30 {
        // Operations top the wallet up when it runs low.
        let credit = Decimal::new(1_000_000 + (amount_h % 2_000_000) as i64, 2);
        w.opening = w.total;
        w.moved = credit;
        w.mode = "CR";
        w.total += credit;
    } else if roll < 0.12 {
        let wanted = Decimal::new(1_000 + (amount_h % 250_000) as i64, 2);
        let debit = wanted.min(w.total);
        w.opening = w.total;
        w.moved = debit;
        w.mode = "DR";
        w.total -= debit;
    }
    let lien_h = hash(seed, &[b"lien", &minute]);
    w.lien = if unit(lien_h) < 0.05 {
        Decimal::new(10_000 + (splitmix(lien_h) % 90_000) as i64, 2).min(w.total)
    } else {
        Decimal::ZERO
    };
}

fn demo_link(id: &str, status: &'static str, started: Timestamp) -> Link {
    const DOMAINS: &[&str] = &["gmail.com", "yahoo.co.in", "outlook.com", "rediffmail.com"];
    // Link details are fixed per id (not per seed) so the README can quote them.
    let h = hash(0, &[b"link", id.as_bytes()]);
    let (mobile_tail, domain) = if id == super::SAMPLE_LINK_ID {
        ("742".to_string(), "instantpay.in")
    } else {
        (
            chars_from(h, b"0123456789", 3),
            DOMAINS[(splitmix(h) % DOMAINS.len() as u64) as usize],
        )
    };
    // Whole rupees or a single decimal place, like the provider's samples (1500.5).
    let amount =
        Decimal::new(500 + (h % 9_500) as i64, 0) + Decimal::new(((h >> 20) % 2 * 5) as i64, 1);
    let back = |secs: i64| Timestamp::from_second(started.as_second() - secs).unwrap_or(started);
    let hours_ago = 3_600 * (2 + (h >> 32) % 60) as i64;
    let issued_at = if status == "EXPIRED" {
        back(9 * 86_400)
    } else {
        back(hours_ago)
    };
    let later =
        |secs: i64| Timestamp::from_second(issued_at.as_second() + secs).unwrap_or(issued_at);
    let mut activity = vec![Activity {
        status: "ISSUED".into(),
        at: issued_at,
        remarks: "Payout link generated".into(),
    }];
    let mut add = |status: &str, at: Timestamp, remarks: &str| {
        activity.push(Activity {
            status: status.into(),
            at,
            remarks: remarks.into(),
        })
    };
    match status {
        "CLAIMED" => {
            add(
                "CLAIMED",
                later(2_700),
                "Claimed by recipient to bank account",
            );
        }
        "PROCESSING" => {
            add("CLAIMED", later(1_200), "Claimed by recipient to UPI");
            add("PROCESSING", later(1_260), "Payout initiated with bank");
        }
        "CANCELLED" => add("CANCELLED", later(5_400), "Cancelled by merchant"),
        "EXPIRED" => add("EXPIRED", later(7 * 86_400), "Link validity ended"),
        _ => {}
    }
    Link {
        status,
        amount,
        masked_mobile: format!("*******{mobile_tail}"),
        masked_email: format!("******@{domain}"),
        activity,
        notifications: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fates_are_spread_like_the_brief() {
        let mut counts = [0u32; 3];
        for i in 0..10_000u32 {
            let fate = Fate::from_hash(hash(7, &[b"fate", &i.to_le_bytes()]));
            match fate.outcome {
                Outcome::Authenticated => counts[0] += 1,
                Outcome::ConsentDenied => counts[1] += 1,
                Outcome::Expired => counts[2] += 1,
            }
            match fate.outcome {
                Outcome::Expired => assert_eq!(fate.after, SESSION_WINDOW_SECS),
                _ => assert!((20.0..=240.0).contains(&fate.after)),
            }
        }
        assert!((5_200..5_800).contains(&counts[0]), "{counts:?}");
        assert!((1_300..1_700).contains(&counts[1]), "{counts:?}");
        assert!((2_700..3_300).contains(&counts[2]), "{counts:?}");
    }

    #[test]
    fn wallet_never_goes_negative_and_totals_add_up() {
        let mut w = Wallet {
            minute: 0,
            total: Decimal::new(OPENING_BALANCE_PAISE, 2),
            lien: Decimal::ZERO,
            opening: Decimal::ZERO,
            moved: Decimal::ZERO,
            mode: "DR",
        };
        let mut moved = false;
        for _ in 0..20_000 {
            w.minute += 1;
            step_wallet(3, &mut w);
            assert!(w.total >= Decimal::ZERO);
            assert!(w.lien >= Decimal::ZERO && w.lien <= w.total);
            assert_eq!(w.total.scale(), 2);
            moved |= w.total != Decimal::new(OPENING_BALANCE_PAISE, 2);
        }
        assert!(moved);
    }

    #[test]
    fn rate_window_slides() {
        const MINUTE: Duration = Duration::from_secs(60);
        let mut window = RateWindow::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(matches!(
                window.admit(3, t0, MINUTE),
                Admission::Allowed { .. }
            ));
        }
        match window.admit(3, t0 + Duration::from_secs(10), MINUTE) {
            Admission::Limited { retry_after_secs } => assert_eq!(retry_after_secs, 50),
            Admission::Allowed { .. } => panic!("fourth request in a minute was allowed"),
        }
        assert!(matches!(
            window.admit(3, t0 + Duration::from_secs(60), MINUTE),
            Admission::Allowed { remaining: 2, .. }
        ));
    }
}
