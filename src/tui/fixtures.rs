//! Fixed data and a fixed clock for update and rendering tests.

use std::str::FromStr;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::text::Span;
use rust_decimal::Decimal;

use crate::config::SessionDefaults;
use crate::domain::{
    AuditEntry, BalanceSnapshot, CreateState, NotifyOutcome, SessionRecord, StatusEvent,
};
use crate::domain::{
    BalanceReport, DocumentType, ExternalRef, LinkId, LinkReport, LinkStatus, Provider,
    ProviderEnvironment, SessionId, SessionStatus, UserFlow,
};
use crate::engine::{Command, ProviderSetup, Update};

use super::app::App;
use super::theme::Theme;
use super::update::{Effect, Msg, update};
use super::{TuiOptions, draw};

pub fn now() -> Timestamp {
    Timestamp::from_str("2025-01-15T06:30:00Z").unwrap()
}

pub fn at(seconds_from_now: i64) -> Timestamp {
    now()
        .checked_add(SignedDuration::from_secs(seconds_from_now))
        .unwrap()
}

pub fn money(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

pub fn options() -> TuiOptions {
    TuiOptions {
        demo: true,
        no_color: false,
        low_balance_threshold: Some(money("50000")),
        balance_interval: Duration::from_secs(300),
        session_interval: Duration::from_secs(5),
        defaults: SessionDefaults {
            redirect_url: url::Url::parse("https://example.com/kyc-done").ok(),
            ..SessionDefaults::default()
        },
        instantpay_configured: true,
        cashfree_configured: true,
        ..TuiOptions::default()
    }
}

pub fn app_with(options: TuiOptions, theme: Theme) -> App {
    App::new(options, theme, now(), TimeZone::UTC)
}

pub fn app() -> App {
    app_with(options(), Theme::colour())
}

pub const CASHFREE_URL: &str = "https://verification.cashfree.com/dgl?shortCode=Xy7Pq2Rs";
pub const INSTANTPAY_URL: &str = "https://api.digitallocker.gov.in/public/oauth2/1/authorize?response_type=code&client_id=IP12345&state=PO20250115062730ABCD2345&redirect_uri=https%3A%2F%2Fexample.com%2Fkyc-done";

pub fn session(id: &str, provider: Provider, status: SessionStatus, created: i64) -> SessionRecord {
    let created_at = at(created);
    let provider_status = match (&status, provider) {
        (SessionStatus::Authenticated, Provider::InstantPay) => "AUTHORIZED".to_string(),
        (SessionStatus::Unknown(raw), _) => raw.clone(),
        (other, _) => other.as_str(),
    };
    SessionRecord {
        id: SessionId::new_unchecked(id),
        provider,
        external_ref: ExternalRef::new_unchecked(format!("PO20250115{}", &id[3..])),
        reference: Some(format!(
            "50{:08}",
            id.bytes().map(u64::from).sum::<u64>() * 7919
        )),
        status,
        provider_status,
        url: Some(match provider {
            Provider::Cashfree => CASHFREE_URL.to_string(),
            Provider::InstantPay => INSTANTPAY_URL.to_string(),
        }),
        flow: Some(UserFlow::Signup),
        redirect_url: Some("https://example.com/kyc-done".to_string()),
        documents_requested: match provider {
            Provider::Cashfree => vec![DocumentType::Aadhaar, DocumentType::Pan],
            Provider::InstantPay => vec![],
        },
        documents_consented: vec![],
        create_state: CreateState::Created,
        tracking: true,
        created_at,
        updated_at: created_at,
        expires_at: created_at
            .checked_add(SignedDuration::from_secs(600))
            .unwrap(),
        last_polled_at: Some(at(-8)),
        last_error: None,
        label: None,
        created_by: Some("asha".into()),
        status_learned: Some(crate::domain::Learned::Webhook),
        status_at: Some(at(-200)),
    }
}

pub fn sessions() -> Vec<SessionRecord> {
    use Provider::{Cashfree, InstantPay};
    use SessionStatus::{Authenticated, ConsentDenied, Expired, Pending, Unknown};
    let mut authenticated = session("dl-auth0001", Cashfree, Authenticated, -300);
    authenticated.reference = Some("5012345678".into());
    authenticated.documents_consented = vec![DocumentType::Aadhaar, DocumentType::Pan];
    authenticated.label = Some("TKT-4417".into());
    let mut pending = session("dl-pend0002", InstantPay, Pending, -150);
    pending.reference = Some("IPDL8842917731".into());
    pending.last_polled_at = Some(at(-3));
    pending.label = Some("case 88 · refund dispute".into());
    let denied = session("dl-deny0003", Cashfree, ConsentDenied, -540);
    let expired = session("dl-expd0004", InstantPay, Expired, -2400);
    let mut unknown = session("dl-unkn0005", Cashfree, Unknown("REVIEW_HOLD".into()), -60);
    unknown.last_error = Some("Cashfree is rate limiting requests".into());
    let mut sending = session("dl-send0006", InstantPay, Pending, -5);
    not_created(&mut sending, CreateState::Sending);
    sending.provider_status = String::new();
    let mut unknown_outcome = session("dl-oops0007", Cashfree, Pending, -180);
    not_created(
        &mut unknown_outcome,
        CreateState::OutcomeUnknown("timed out after sending".into()),
    );
    let mut failed = session("dl-fail0008", Cashfree, Pending, -1200);
    not_created(
        &mut failed,
        CreateState::Failed("Cashfree declined: verification_id_value_invalid".into()),
    );
    vec![
        authenticated,
        pending,
        denied,
        expired,
        unknown,
        sending,
        unknown_outcome,
        failed,
    ]
}

/// A session the provider did not (or not knowingly) create, in `state`:
/// no reference, no URL, never polled.
fn not_created(record: &mut SessionRecord, state: CreateState) {
    record.create_state = state;
    record.reference = None;
    record.url = None;
    record.last_polled_at = None;
}

pub fn balance_report(available: &str) -> BalanceReport {
    BalanceReport {
        account: "9876543210".into(),
        available: money(available),
        total: money(available) + money("5000"),
        lien: money("5000"),
        environment: Some(ProviderEnvironment::Sandbox),
        fetched_at: at(-12),
        request_id: Some("IPAY7788".into()),
    }
}

pub fn balance_history() -> Vec<BalanceSnapshot> {
    [
        "180000", "172500", "160000", "151000", "149999.5", "138000", "131500", "129000", "127250",
        "125000",
    ]
    .iter()
    .enumerate()
    .map(|(index, available)| BalanceSnapshot {
        at: at(-3600 + index as i64 * 300),
        account: "9876543210".into(),
        available: money(available),
        total: money(available) + money("5000"),
        lien: money("5000"),
        request_id: None,
    })
    .collect()
}

pub const LINK: &str = "657aa9841b8d3897ff0a84fb";

pub fn link() -> LinkId {
    LinkId::new_unchecked(LINK)
}

pub fn link_report(status: LinkStatus) -> LinkReport {
    LinkReport {
        link_id: link(),
        status,
        amount: Some(money("1500")),
        activity: vec![],
        request_id: Some("IPAYLINK1".into()),
    }
}

pub fn audit_entry(id: i64, outcome: NotifyOutcome, seconds_from_now: i64) -> AuditEntry {
    let (message, code, request) = match outcome {
        NotifyOutcome::Sent => (
            "Notification Link Sent To *******742 and ******@instantpay.in".to_string(),
            None,
            Some("1a2b3c4d".to_string()),
        ),
        NotifyOutcome::Declined => (
            "Request parameters invalid".to_string(),
            Some("RPI".to_string()),
            Some("9f8e7d6c".to_string()),
        ),
        NotifyOutcome::Failed => ("connection refused".to_string(), None, None),
        NotifyOutcome::Unknown => ("timed out after sending".to_string(), None, None),
    };
    AuditEntry {
        id,
        link_id: link(),
        actor: "operator".into(),
        at: at(seconds_from_now),
        outcome,
        message,
        provider_code: code,
        request_id: request,
        completed: true,
    }
}

pub fn loaded() -> Update {
    let auth = SessionId::new_unchecked("dl-auth0001");
    let history = vec![
        StatusEvent {
            at: at(-300),
            status: SessionStatus::Pending,
            provider_status: "PENDING".into(),
            learned: Some(crate::domain::Learned::Create),
        },
        StatusEvent {
            at: at(-200),
            status: SessionStatus::Authenticated,
            provider_status: "AUTHENTICATED".into(),
            learned: Some(crate::domain::Learned::Webhook),
        },
    ];
    Update::Loaded {
        sessions: sessions(),
        histories: [(auth, history)].into_iter().collect(),
        balance_history: balance_history(),
        audit: vec![
            audit_entry(1, NotifyOutcome::Declined, -3600),
            audit_entry(2, NotifyOutcome::Sent, -1500),
        ],
        instantpay: ProviderSetup::Configured { environment: None },
        cashfree: ProviderSetup::Configured {
            environment: Some(ProviderEnvironment::Sandbox),
        },
    }
}

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// Each of `keys` in turn.
pub fn press(app: &mut App, keys: impl IntoIterator<Item = Msg>) {
    for key in keys {
        update(app, key);
    }
}

pub fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| update(app, ch(c))).collect()
}

/// The app as the operator sees it a few seconds after start.
pub fn loaded_app() -> App {
    let mut app = app();
    update(&mut app, Msg::Engine(loaded()));
    balance_fetched(&mut app, "125000");
    app
}

/// The engine reports a balance fetched, with `available` rupees.
pub fn balance_fetched(app: &mut App, available: &str) -> Vec<Effect> {
    update(
        app,
        Msg::Engine(Update::BalanceFetched(balance_report(available))),
    )
}

pub fn sized(mut app: App, width: u16, height: u16) -> App {
    update(&mut app, Msg::Resize(width, height));
    app
}

pub fn render(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| draw::draw(frame, app)).unwrap();
    terminal.backend().buffer().clone()
}

/// Visible cells of each row, skipping the filler cell after a wide character.
fn row_cells(buffer: &Buffer, y: u16) -> Vec<(u16, String)> {
    let mut cells = Vec::new();
    let mut skip = 0;
    for x in 0..buffer.area.width {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        let symbol = buffer[(x, y)].symbol().to_string();
        skip = Span::raw(symbol.as_str()).width().saturating_sub(1);
        cells.push((x, symbol));
    }
    cells
}

pub fn buffer_text(buffer: &Buffer) -> String {
    (0..buffer.area.height)
        .map(|y| {
            let line: String = row_cells(buffer, y).into_iter().map(|(_, s)| s).collect();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where `needle` starts on screen.
pub fn find(buffer: &Buffer, needle: &str) -> Option<(u16, u16)> {
    for y in 0..buffer.area.height {
        let cells = row_cells(buffer, y);
        let mut text = String::new();
        let mut starts = Vec::new();
        for (x, symbol) in &cells {
            starts.push((text.len(), *x));
            text.push_str(symbol);
        }
        if let Some(byte) = text.find(needle) {
            let x = starts
                .iter()
                .rev()
                .find(|(offset, _)| *offset <= byte)
                .map(|(_, x)| *x)?;
            return Some((x, y));
        }
    }
    None
}

/// The commands among `effects`.
pub fn sent(effects: &[Effect]) -> Vec<&Command> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Send(command) => Some(command),
            _ => None,
        })
        .collect()
}
