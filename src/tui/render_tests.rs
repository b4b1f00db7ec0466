//! What the screen looks like: insta snapshots of every pane and dialog at
//! 80x24 and 160x48, from fixed data and a fixed clock, plus style checks on
//! cells (colours carry meaning and must not be the only carrier).

use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use crate::domain::LinkStatus;
use crate::domain::{NotifyOutcome, RecentNotifies};
use crate::engine::Update;
use crate::error::ProviderError;

use super::App;
use super::fixtures::*;
use super::theme::Theme;
use super::update::{Msg, update};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn snapshot_at_both_sizes(name: &str, app: &App) {
    for (width, height) in SIZES {
        let app = sized(app.clone(), width, height);
        let text = buffer_text(&render(&app, width, height));
        insta::assert_snapshot!(format!("{name}_{width}x{height}"), text);
    }
}

fn with_overlay_keys(keys: &[Msg]) -> App {
    let mut app = loaded_app();
    for key in keys {
        update(&mut app, key.clone());
    }
    app
}

#[test]
fn main_screen() {
    snapshot_at_both_sizes("main", &loaded_app());
}

#[test]
fn new_session_form_with_an_error() {
    let mut app = with_overlay_keys(&[
        ch('n'),
        key(KeyCode::Right),
        key(KeyCode::BackTab),
        key(KeyCode::BackTab),
    ]);
    update(&mut app, ctrl('u'));
    type_text(&mut app, "http://example.com/done");
    snapshot_at_both_sizes("new_session_error", &app);
}

#[test]
fn track_form() {
    let mut app = with_overlay_keys(&[ch('t')]);
    type_text(&mut app, "IPDL8842917731");
    snapshot_at_both_sizes("track", &app);
}

#[test]
fn detail_with_qr() {
    // The Cashfree session: short URL, so the QR fits at 160x48 but not 80x24.
    let mut app = with_overlay_keys(&[ch('/')]);
    type_text(&mut app, "auth0001");
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, key(KeyCode::Enter));
    update(
        &mut app,
        Msg::Engine(Update::SessionUserDetails {
            id: crate::domain::SessionId::new_unchecked("dl-auth0001"),
            details: crate::domain::UserDetails {
                name: Some("Asha Verma".into()),
                dob: Some("1990-04-12".into()),
                gender: Some("F".into()),
                eaadhaar: Some("Y".into()),
                mobile: Some("9876543210".into()),
            },
        }),
    );
    snapshot_at_both_sizes("detail", &app);
    let screen = buffer_text(&render(&sized(app.clone(), 160, 48), 160, 48));
    assert!(screen.contains('▀') || screen.contains('▄'), "no QR drawn");
    // Masked by the one rule: the name to check the customer by, the
    // year of birth, the mobile's last four.
    assert!(screen.contains("Asha Verma"), "{screen}");
    assert!(!screen.contains("1990-04-12") && screen.contains("1990-**-**"));
    assert!(!screen.contains("9876543210") && screen.contains("XXXXXX3210"));
    let small = buffer_text(&render(&sized(app.clone(), 80, 24), 80, 24));
    assert!(
        small.contains(
            "The QR code needs a 88x25 terminal beside these details, or 41x22 alone (v)"
        ),
        "{small}"
    );

    // v: the QR code alone fits even 80x24, for the customer to scan; Esc comes back.
    let mut qr_only = app;
    update(&mut qr_only, ch('v'));
    snapshot_at_both_sizes("detail_qr_only", &qr_only);
    let screen = buffer_text(&render(&sized(qr_only.clone(), 80, 24), 80, 24));
    assert!(
        screen.contains('▀') || screen.contains('▄'),
        "no QR drawn at 80x24"
    );
    assert!(screen.contains("scan to open"));
    update(&mut qr_only, key(KeyCode::Esc));
    let back = buffer_text(&render(&sized(qr_only, 80, 24), 80, 24));
    assert!(
        back.contains("Session dl-auth0001"),
        "Esc returns to the detail"
    );
}

#[test]
fn help_overlay() {
    snapshot_at_both_sizes("help", &with_overlay_keys(&[ch('?')]));
}

#[test]
fn the_label_field_shows_a_whole_label_while_typed() {
    let mut app = with_overlay_keys(&[key(KeyCode::Enter), ch('e')]);
    update(&mut app, ctrl('u'));
    let label = format!("TKT-{}", "7".repeat(crate::validate::LABEL_MAX - 5));
    type_text(&mut app, &format!("{label}Z"));
    // 64 characters: the longest a label may be, all on screen.
    let text = buffer_text(&render(&sized(app, 160, 48), 160, 48));
    assert!(text.contains(&format!("{label}Z")), "{text}");
}

#[test]
fn solo_help_leaves_out_team_keys() {
    let text = buffer_text(&render(&with_overlay_keys(&[ch('?')]), 160, 48));
    assert!(text.contains("Sessions"), "{text}");
    assert!(!text.contains("team mode"), "{text}");
}

fn confirm_app(status: LinkStatus, recent: bool) -> App {
    let mut app = with_overlay_keys(&[ch('l')]);
    type_text(&mut app, LINK);
    update(&mut app, key(KeyCode::Enter));
    update(
        &mut app,
        Msg::Engine(Update::LinkLooked {
            report: link_report(status),
            recent: RecentNotifies(if recent {
                vec![
                    audit_entry(2, NotifyOutcome::Sent, -300),
                    audit_entry(3, NotifyOutcome::Sent, -420),
                    audit_entry(4, NotifyOutcome::Failed, -480),
                ]
            } else {
                vec![]
            }),
        }),
    );
    app
}

#[test]
fn notify_confirm() {
    snapshot_at_both_sizes("notify_confirm", &confirm_app(LinkStatus::Issued, false));
    snapshot_at_both_sizes(
        "notify_confirm_recent_claimed",
        &confirm_app(LinkStatus::Claimed, true),
    );
}

#[test]
fn notify_results() {
    let outcomes = [
        ("sent", NotifyOutcome::Sent, None),
        (
            "declined",
            NotifyOutcome::Declined,
            Some(ProviderError::Declined {
                provider: crate::domain::Provider::InstantPay,
                code: "RPI".into(),
                message: "Request parameters invalid".into(),
                actcode: None,
                request_id: Some("9f8e7d6c".into()),
            }),
        ),
        (
            "unknown",
            NotifyOutcome::Unknown,
            Some(ProviderError::OutcomeUnknown {
                provider: crate::domain::Provider::InstantPay,
                message: "timed out after sending".into(),
                request_id: None,
            }),
        ),
    ];
    for (name, outcome, error) in outcomes {
        let mut app = confirm_app(LinkStatus::Issued, false);
        update(&mut app, ch('y'));
        update(
            &mut app,
            Msg::Engine(Update::NotifyFinished {
                entry: audit_entry(3, outcome, 0),
                error,
            }),
        );
        // Let the toasts go so the pane itself is visible.
        update(&mut app, Msg::Tick(at(10)));
        snapshot_at_both_sizes(&format!("notify_result_{name}"), &app);
    }
}

#[test]
fn notify_in_flight() {
    let mut app = confirm_app(LinkStatus::Issued, false);
    update(&mut app, ch('y'));
    snapshot_at_both_sizes("notify_in_flight", &app);
}

#[test]
fn too_small() {
    let app = loaded_app();
    for (width, height) in [(79, 24), (100, 23)] {
        let text = buffer_text(&render(&sized(app.clone(), width, height), width, height));
        insta::assert_snapshot!(format!("too_small_{width}x{height}"), text);
        assert!(text.contains(&format!("have {width}x{height}")));
    }
}

#[test]
fn balance_states() {
    // Stale after a failed refresh, below the threshold, with the error shown.
    let mut app = loaded_app();
    balance_fetched(&mut app, "42000.5");
    update(&mut app, Msg::Engine(Update::BalanceRefreshing));
    update(
        &mut app,
        Msg::Engine(Update::BalanceFailed(ProviderError::Unavailable {
            provider: crate::domain::Provider::InstantPay,
            status: 503,
            code: Some("SPD".into()),
            message: "provider downtime".into(),
        })),
    );
    update(&mut app, Msg::Tick(at(10)));
    snapshot_at_both_sizes("balance_low_stale", &app);

    let mut options = options();
    options.instantpay_configured = false;
    options.demo = false;
    let unconfigured = App::new(options, Theme::colour(), now(), jiff::tz::TimeZone::UTC);
    snapshot_at_both_sizes("balance_unconfigured", &unconfigured);
}

/// Twenty hours of readings every 5 minutes (the refresh interval) falling
/// from ₹1,80,000 towards ₹1,25,000, four hours missing (a gap), and the
/// threshold close enough to draw.
fn chart_app() -> App {
    let mut app = loaded_app();
    app.balance.threshold = Some(money("130000"));
    app.balance.history = (0..240)
        .filter(|step| !(96..144).contains(step))
        .map(|step| super::balance::Reading {
            at: at(-20 * 3600 + step * 300),
            available: money("180000") - money("225") * rust_decimal::Decimal::from(step),
        })
        .collect();
    app.focus(super::layout::Pane::Balance);
    update(&mut app, key(KeyCode::Enter));
    app
}

#[test]
fn balance_chart_full_screen() {
    let app = chart_app();
    snapshot_at_both_sizes("balance_chart", &app);
    let mut week = app.clone();
    update(&mut week, ch('w'));
    let text = buffer_text(&render(&sized(week, 160, 48), 160, 48));
    assert!(text.contains("last 7 d"), "{text}");
    let mut empty = loaded_app();
    empty.balance.history.clear();
    empty.focus(super::layout::Pane::Balance);
    update(&mut empty, key(KeyCode::Enter));
    let text = buffer_text(&render(&sized(empty, 80, 24), 80, 24));
    assert!(text.contains("No readings in the last 24 h"), "{text}");
}

#[test]
fn the_chart_marks_its_figures_threshold_and_gaps() {
    let buffer = render(&sized(chart_app(), 160, 48), 160, 48);
    let text = buffer_text(&buffer);
    for label in [
        "latest ₹1,26,225.00 (06:25)",
        "lowest ₹1,26,225.00 (06:25)",
        "highest ₹1,80,000.00 (10:30)",
        "threshold ₹1,30,000.00 (the dotted line)",
        "192 readings, 1 gap (no reading for a while)",
        "now",
    ] {
        assert!(text.contains(label), "{label}:\n{text}");
    }
    // The readings in the calm colour, the threshold dotted in the warning one.
    let dots: Vec<_> = buffer
        .content
        .iter()
        .filter(|cell| cell.symbol() == "•")
        .collect();
    assert!(dots.len() > 20, "a dotted threshold line");
    assert!(dots.iter().all(|cell| cell.fg == Color::Yellow));
    let braille = buffer
        .content
        .iter()
        .filter(|cell| {
            cell.symbol()
                .chars()
                .all(|c| ('\u{2801}'..='\u{28ff}').contains(&c))
        })
        .collect::<Vec<_>>();
    assert!(!braille.is_empty());
    // Below the threshold, the readings take the low-balance colour.
    let low = Theme::colour().low_balance.fg.unwrap_or_default();
    assert!(
        braille.iter().all(|cell| cell.fg == low),
        "readings drawn in the low colour"
    );
    // A gap is a gap: no column between the two runs carries the line.
    let area = buffer.area;
    let columns: Vec<u16> = (area.x..area.x + area.width)
        .filter(|&x| {
            (area.y..area.y + area.height).any(|y| {
                let symbol = buffer[(x, y)].symbol();
                symbol
                    .chars()
                    .all(|c| ('\u{2801}'..='\u{28ff}').contains(&c))
            })
        })
        .collect();
    let widest_hole = columns.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    assert!(widest_hole > 10, "no gap in {columns:?}");
}

#[test]
fn a_single_balance_reading_draws_no_trend() {
    let mut app = app();
    balance_fetched(&mut app, "125000");
    let text = buffer_text(&render(&sized(app, 160, 48), 160, 48));
    assert!(text.contains("history draws as readings arrive"), "{text}");
    assert!(
        !text.contains('█'),
        "no sparkline from one reading:\n{text}"
    );
}

// ---- styles ----

fn fg_at(buffer: &Buffer, text: &str) -> Color {
    let (x, y) = find(buffer, text).unwrap_or_else(|| panic!("'{text}' not on screen"));
    buffer[(x, y)].fg
}

#[test]
fn statuses_have_their_colours() {
    let app = sized(loaded_app(), 160, 48);
    let buffer = render(&app, 160, 48);
    assert_eq!(fg_at(&buffer, "✓ AUTHENTICATED"), Color::Green);
    assert_eq!(fg_at(&buffer, "✗ CONSENT_DENIED"), Color::Red);
    assert_eq!(fg_at(&buffer, "⌛ EXPIRED"), Color::Red);
    assert_eq!(fg_at(&buffer, "○ PENDING"), Color::Yellow);
    assert_eq!(fg_at(&buffer, "? UNKNOWN(REVIEW…"), Color::Magenta);
}

#[test]
fn stale_marker_is_styled() {
    let mut app = loaded_app();
    update(&mut app, Msg::Tick(at(400)));
    let buffer = render(&sized(app, 80, 24), 80, 24);
    let (x, y) = find(&buffer, "⚠ stale").unwrap();
    let cell = &buffer[(x, y)];
    assert_eq!(cell.fg, Color::Magenta);
    assert!(cell.modifier.contains(Modifier::BOLD));

    let mut mono = app_with(options(), Theme::monochrome());
    update(&mut mono, Msg::Engine(loaded()));
    let buffer = render(&sized(mono, 80, 24), 80, 24);
    let (x, y) = find(&buffer, "⚠ stale").unwrap();
    assert!(buffer[(x, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn a_failing_poll_marks_its_row() {
    let app = sized(loaded_app(), 160, 48);
    let buffer = render(&app, 160, 48);
    // dl-unkn0005's latest poll failed; the mark and the age of its last
    // good answer are in the warning colour.
    assert_eq!(fg_at(&buffer, "⚠ 8 s ago"), Color::Yellow);
    let narrow = render(&sized(loaded_app(), 80, 24), 80, 24);
    assert_eq!(fg_at(&narrow, "⚠8s"), Color::Yellow);
}

#[test]
fn the_focused_pane_border_is_accented() {
    let app = sized(loaded_app(), 80, 24);
    let buffer = render(&app, 80, 24);
    // Sessions is focused: its top-left corner is thick and blue.
    let corner = &buffer[(35, 1)];
    assert_eq!(corner.symbol(), "┏");
    assert_eq!(corner.fg, Color::Blue);
    assert!(corner.modifier.contains(Modifier::BOLD));
    let balance_corner = &buffer[(0, 1)];
    assert_eq!(balance_corner.symbol(), "┌");
    assert_eq!(balance_corner.fg, Color::Reset);
}

#[test]
fn no_color_output_has_no_colours() {
    let mut options = options();
    options.no_color = true;
    let mut app = app_with(
        options.clone(),
        Theme::for_options(&options.theme, options.no_color),
    );
    update(&mut app, Msg::Engine(loaded()));
    balance_fetched(&mut app, "42000");
    for keys in [
        vec![],
        vec![ch('?')],
        vec![key(KeyCode::Enter)],
        vec![ch('n')],
    ] {
        let mut app = sized(app.clone(), 160, 48);
        for key in keys {
            update(&mut app, key);
        }
        let buffer = render(&app, 160, 48);
        for cell in buffer.content() {
            // The QR code alone is dark on light whatever the terminal's colours.
            if (cell.fg, cell.bg) == (Color::Black, Color::White)
                && [" ", "█", "▀", "▄"].contains(&cell.symbol())
            {
                continue;
            }
            assert_eq!(cell.fg, Color::Reset, "coloured '{}'", cell.symbol());
            assert_eq!(cell.bg, Color::Reset, "coloured '{}'", cell.symbol());
        }
    }
}

#[test]
fn colour_theme_never_uses_white_or_bright_text_on_the_default_background() {
    let app = sized(loaded_app(), 160, 48);
    let buffer = render(&app, 160, 48);
    for cell in buffer.content() {
        if cell.bg == Color::Reset {
            assert!(
                !matches!(
                    cell.fg,
                    Color::White
                        | Color::Gray
                        | Color::LightYellow
                        | Color::LightCyan
                        | Color::LightGreen
                ),
                "'{}' is {:?} on the default background",
                cell.symbol(),
                cell.fg
            );
        }
    }
}
