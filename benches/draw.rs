//! Drawing a full 200x50 frame and filtering, both with 10,000 tracked sessions.
//! Target: under 1 ms per frame.

use std::hint::black_box;
use std::str::FromStr;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use payops::domain::{
    BalanceReport, DocumentType, ExternalRef, Provider, ProviderEnvironment, SessionId,
    SessionStatus, UserFlow,
};
use payops::domain::{BalanceSnapshot, CreateState, SessionRecord};
use payops::engine::{ProviderSetup, Update};
use payops::tui::{App, Msg, Theme, TuiOptions, draw, update};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rust_decimal::Decimal;

const SESSIONS: usize = 10_000;

fn now() -> Timestamp {
    Timestamp::from_str("2025-01-15T06:30:00Z").expect("fixed timestamp")
}

fn record(index: usize) -> SessionRecord {
    let provider = if index.is_multiple_of(3) {
        Provider::InstantPay
    } else {
        Provider::Cashfree
    };
    let status = match index % 7 {
        0 => SessionStatus::Authenticated,
        1 => SessionStatus::Expired,
        2 => SessionStatus::ConsentDenied,
        3 => SessionStatus::Unknown("REVIEW".into()),
        _ => SessionStatus::Pending,
    };
    let created_at = now() - SignedDuration::from_secs(index as i64 * 7);
    SessionRecord {
        id: SessionId::new_unchecked(format!("dl-{index:08}")),
        provider,
        external_ref: ExternalRef::new_unchecked(format!("PO2025011506{index:08}")),
        reference: Some(format!("{}", 5_000_000_000u64 + index as u64)),
        provider_status: status.as_str(),
        status,
        url: Some(format!(
            "https://verification.cashfree.com/dgl?shortCode={index:08}"
        )),
        flow: Some(UserFlow::Signup),
        redirect_url: Some("https://example.com/kyc-done".into()),
        documents_requested: vec![DocumentType::Aadhaar, DocumentType::Pan],
        documents_consented: vec![DocumentType::Aadhaar],
        create_state: CreateState::Created,
        tracking: true,
        created_at,
        updated_at: created_at,
        expires_at: created_at + SignedDuration::from_secs(600),
        last_polled_at: Some(now() - SignedDuration::from_secs(3)),
        last_error: None,
        label: Some(format!("TKT-{index}")),
        created_by: Some("asha".into()),
        status_learned: None,
        status_at: None,
    }
}

fn loaded_app() -> App {
    let options = TuiOptions {
        demo: true,
        low_balance_threshold: Some(Decimal::from(50_000)),
        instantpay_configured: true,
        cashfree_configured: true,
        ..TuiOptions::default()
    };
    let mut app = App::new(options, Theme::colour(), now(), TimeZone::UTC);
    update(&mut app, Msg::Resize(200, 50));
    let history = (0..200)
        .map(|i| BalanceSnapshot {
            at: now() - SignedDuration::from_secs(300 * (200 - i)),
            account: "9876543210".into(),
            available: Decimal::from(100_000 + (i * 37 % 5000)),
            total: Decimal::from(105_000),
            lien: Decimal::from(5_000),
            request_id: None,
        })
        .collect();
    update(
        &mut app,
        Msg::Engine(Update::Loaded {
            histories: Default::default(),
            sessions: (0..SESSIONS).map(record).collect(),
            balance_history: history,
            audit: vec![],
            instantpay: ProviderSetup::Configured { environment: None },
            cashfree: ProviderSetup::Configured {
                environment: Some(ProviderEnvironment::Sandbox),
            },
        }),
    );
    update(
        &mut app,
        Msg::Engine(Update::BalanceFetched(BalanceReport {
            account: "9876543210".into(),
            available: Decimal::from(125_000),
            total: Decimal::from(130_000),
            lien: Decimal::from(5_000),
            environment: Some(ProviderEnvironment::Sandbox),
            fetched_at: now(),
            request_id: None,
        })),
    );
    app
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn bench_draw(c: &mut Criterion) {
    let mut app = loaded_app();
    // Somewhere in the middle of the table, as an operator would be.
    for _ in 0..3 {
        update(&mut app, key(KeyCode::PageDown));
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    c.bench_function("draw 200x50, 10k sessions", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| draw::draw(frame, black_box(&app)))
                .expect("draw");
        })
    });
}

fn bench_filter_keystroke(c: &mut Criterion) {
    let mut app = loaded_app();
    update(&mut app, key(KeyCode::Char('/')));
    update(&mut app, key(KeyCode::Char('c')));
    // Each iteration types one character and deletes it: two recomputes.
    c.bench_function("filter keystroke + backspace, 10k sessions", |b| {
        b.iter(|| {
            black_box(update(&mut app, key(KeyCode::Char('a'))));
            black_box(update(&mut app, key(KeyCode::Backspace)));
        })
    });
}

criterion_group!(benches, bench_draw, bench_filter_keystroke);
criterion_main!(benches);
