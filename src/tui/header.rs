//! The top line: product, each provider's environment, DEMO badge, clock.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::ProviderEnvironment;
use crate::engine::ProviderSetup;

use super::app::App;
use super::theme::Theme;

fn environment_label(
    setup: &ProviderSetup,
    reported: Option<&ProviderEnvironment>,
    theme: &Theme,
) -> (String, Style) {
    let environment = match setup {
        ProviderSetup::NotConfigured => return ("not configured".to_string(), theme.dim),
        ProviderSetup::Configured { environment } => reported.or(environment.as_ref()),
    };
    match environment {
        Some(ProviderEnvironment::Live) => ("LIVE".to_string(), theme.live),
        Some(ProviderEnvironment::Sandbox) => ("SANDBOX".to_string(), theme.sandbox),
        Some(other @ ProviderEnvironment::Unknown(_)) => (other.label(), theme.warning),
        None => ("configured".to_string(), theme.dim),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    // A fresh balance carries the environment InstantPay answered from, which
    // is what the credentials really reach.
    let reported = app
        .balance
        .latest
        .as_ref()
        .filter(|_| !app.balance.from_store)
        .and_then(|report| report.environment.as_ref());
    let (instantpay, instantpay_style) = environment_label(&app.instantpay, reported, theme);
    let (cashfree, cashfree_style) = environment_label(&app.cashfree, None, theme);
    let mut spans = vec![
        Span::styled(" payops ", theme.title),
        Span::styled(" InstantPay ", theme.dim),
        Span::styled(instantpay, instantpay_style),
        Span::styled("  Cashfree ", theme.dim),
        Span::styled(cashfree, cashfree_style),
    ];
    if app.options.demo {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(" DEMO ", theme.demo));
    }
    if app.engine_gone {
        spans.push(Span::raw("  "));
        spans.push(Span::styled("engine stopped", theme.error));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!("{} ", app.clock(app.now)),
            theme.title,
        ))
        .alignment(Alignment::Right),
        area,
    );
}
