//! The balance pane and its alerts.

use super::*;

// ---- balance ----

#[test]
fn a_balance_already_low_at_the_last_reading_does_not_ring_again_at_start() {
    let mut app = loaded_app();
    let mut history = crate::tui::fixtures::balance_history();
    // The last reading on record, newer than any shown, is low.
    if let Some(last) = history.last_mut() {
        last.available = "40000".parse().unwrap();
        last.at = at(-5);
    }
    app.balance.load(&history, false);
    let effects = engine(&mut app, Update::BalanceFetched(balance_report("40000")));
    assert!(alerts(&effects).is_empty(), "{effects:?}");
    // A later crossing (after it rose) still rings.
    engine(&mut app, Update::BalanceFetched(balance_report("60000")));
    let effects = engine(&mut app, Update::BalanceFetched(balance_report("30000")));
    assert_eq!(alerts(&effects), ["Balance below threshold"]);
}

#[test]
fn low_balance_rings_once_when_crossed_downwards() {
    let mut app = loaded_app();
    let fetch = |app: &mut crate::tui::App, amount: &str| {
        alerts(&engine(app, Update::BalanceFetched(balance_report(amount)))).len()
    };
    assert_eq!(fetch(&mut app, "60000"), 0);
    assert_eq!(fetch(&mut app, "40000"), 1);
    assert_eq!(fetch(&mut app, "30000"), 0);
    assert_eq!(fetch(&mut app, "45000"), 0);
    assert_eq!(fetch(&mut app, "70000"), 0);
    // Every new crossing rings again, and the log says by how much it fell.
    let effects = engine(&mut app, Update::BalanceFetched(balance_report("20000")));
    assert_eq!(alerts(&effects), ["Balance below threshold"]);
    let line = &app.activity.latest().unwrap().text;
    assert!(
        line.ends_with("threshold (−₹50,000.00 since the last reading)"),
        "{line}"
    );
}

#[test]
fn a_fall_of_more_than_the_configured_amount_alerts_with_the_change() {
    let mut options = options();
    options.low_balance_threshold = None;
    options.balance_drop_alert = Some(money("10000"));
    let mut app = crate::tui::App::new(options, Theme::colour(), now(), jiff::tz::TimeZone::UTC);
    engine(&mut app, loaded());
    let fetch = |app: &mut crate::tui::App, amount: &str| {
        alerts(&engine(app, Update::BalanceFetched(balance_report(amount)))).len()
    };
    assert_eq!(fetch(&mut app, "120000"), 0, "−₹5,000 from ₹1,25,000");
    assert_eq!(
        fetch(&mut app, "110000"),
        0,
        "exactly the amount is not more"
    );
    assert_eq!(fetch(&mut app, "99999.99"), 1);
    let line = &app.activity.latest().unwrap().text;
    assert_eq!(
        line,
        "balance fell by more than ₹10,000.00: now ₹99,999.99 (−₹10,000.01 since the last reading)"
    );
    assert_eq!(fetch(&mut app, "150000"), 0, "rises never alert");
}

#[test]
fn the_chart_opens_full_screen_and_toggles_between_a_day_and_a_week() {
    let mut app = loaded_app();
    app.focus(Pane::Balance);
    assert_eq!(app.balance.span, crate::tui::balance::ChartSpan::Day);
    update(&mut app, ch('w'));
    assert_eq!(app.balance.span, crate::tui::balance::ChartSpan::Week);
    update(&mut app, key(KeyCode::Enter));
    assert!(matches!(
        app.overlay,
        Some(crate::tui::app::Overlay::BalanceChart)
    ));
    assert_eq!(app.context(), Context::BalanceChart);
    update(&mut app, ch('w'));
    assert_eq!(app.balance.span, crate::tui::balance::ChartSpan::Day);
    // r refreshes from the chart; t and n are not global keys here.
    assert_eq!(
        update(&mut app, ch('r')),
        vec![Effect::Send(Command::RefreshBalance)]
    );
    assert!(update(&mut app, ch('n')).is_empty());
    update(&mut app, key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

#[test]
fn the_chart_keeps_a_week_of_readings() {
    let mut app = loaded_app();
    let old = crate::tui::balance::Reading {
        at: at(-8 * 24 * 3600),
        available: money("1"),
    };
    let recent = app.balance.history.len();
    app.balance.history.insert(0, old);
    engine(&mut app, Update::BalanceFetched(balance_report("126000")));
    assert!(
        app.balance
            .history
            .iter()
            .all(|r| r.at > at(-7 * 24 * 3600 - 60))
    );
    assert_eq!(app.balance.history.len(), recent + 1);
    // The day span shows what the last 24 h hold.
    assert_eq!(app.balance.shown(app.now).len(), recent + 1);
}

#[test]
fn a_rate_limited_balance_refresh_shows_no_generic_code() {
    let mut app = loaded_app();
    engine(
        &mut app,
        Update::BalanceFailed(ProviderError::RateLimited {
            provider: Provider::InstantPay,
            retry_after: None,
            code: Some("ERR".into()),
        }),
    );
    let line = &app.activity.latest().unwrap().text;
    assert!(!line.contains("[code"), "{line}");
}

#[test]
fn balance_refresh_shows_a_spinner_and_failures_keep_the_figure() {
    let mut app = loaded_app();
    engine(&mut app, Update::BalanceRefreshing);
    assert!(app.balance.refreshing);
    engine(&mut app, Update::BalanceFailed(declined("SPD")));
    assert!(!app.balance.refreshing);
    assert_eq!(
        app.balance.latest.as_ref().unwrap().available,
        money("125000")
    );
    assert!(app.balance.is_stale(app.now));
    assert!(app.activity.latest().unwrap().text.contains("SPD"));
    // The next success clears the error.
    engine(&mut app, Update::BalanceFetched(balance_report("126000")));
    assert!(app.balance.last_error.is_none());
}

#[test]
fn balance_goes_stale_past_its_interval() {
    let mut app = loaded_app();
    assert!(!app.balance.is_stale(app.now));
    update(&mut app, Msg::Tick(at(300)));
    assert!(app.balance.is_stale(app.now));
}

#[test]
fn loaded_sets_everything_up() {
    let mut app = app();
    engine(&mut app, loaded());
    assert_eq!(app.sessions.total(), 8);
    assert_eq!(app.balance.history.len(), 10);
    assert_eq!(app.balance.history[0].available, money("180000"));
    assert!(app.balance.from_store);
    assert_eq!(app.notify.audit.len(), 2);
    assert_eq!(app.notify.audit[0].id, 2, "newest first");
    assert_eq!(
        app.providers.cashfree,
        ProviderSetup::Configured {
            environment: Some(ProviderEnvironment::Sandbox)
        }
    );
    engine(&mut app, Update::BalanceFetched(balance_report("125000")));
    assert_eq!(
        app.providers.instantpay,
        ProviderSetup::Configured {
            environment: Some(ProviderEnvironment::Sandbox)
        }
    );
}

#[test]
fn problems_are_toasted_and_logged() {
    let mut app = loaded_app();
    engine(&mut app, Update::Problem("store is read-only".into()));
    assert_eq!(app.activity.latest().unwrap().text, "store is read-only");
    assert!(app.toasts.iter().any(|t| t.text == "store is read-only"));
}
