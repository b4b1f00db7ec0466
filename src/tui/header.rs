//! The top line: product, each provider's environment, DEMO badge, in team
//! mode the server and operator (or that the data is stale), clock.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::{Provider, ProviderEnvironment};
use crate::engine::ProviderSetup;

use super::format::ago_short;
use super::theme::Theme;
use super::view::ViewContext;

fn environment_label(setup: &ProviderSetup, theme: &Theme) -> (String, Style) {
    let environment = match setup {
        ProviderSetup::NotConfigured => return ("not configured".to_string(), theme.dim),
        ProviderSetup::Configured { environment } => environment.as_ref(),
    };
    match environment {
        Some(ProviderEnvironment::Live) => ("LIVE".to_string(), theme.live),
        Some(ProviderEnvironment::Sandbox) => ("SANDBOX".to_string(), theme.sandbox),
        Some(other @ ProviderEnvironment::Unknown(_)) => (other.label(), theme.warning),
        None => ("configured".to_string(), theme.dim),
    }
}

/// ` CREDENTIALS REJECTED 2m` after a provider that refuses ours, or
/// ` UNREACHABLE 2m` after one whose calls have gone unanswered.
fn unreachable_mark(spans: &mut Vec<Span<'static>>, ctx: &ViewContext, provider: Provider) {
    let health = ctx.providers.health(provider);
    if let Some(since) = health.credentials_rejected_since {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!("⚠ CREDENTIALS REJECTED {}", ago_short(ctx.now, since)),
            ctx.theme.error,
        ));
    } else if let Some(since) = health.failing_since {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            format!("⚠ UNREACHABLE {}", ago_short(ctx.now, since)),
            ctx.theme.error,
        ));
    }
}

/// `demo`: talking to the built-in simulator; `engine_gone`: nothing will
/// refresh any more.
pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, demo: bool, engine_gone: bool) {
    let theme = ctx.theme;
    // A fresh balance updates the InstantPay setup with the environment it
    // answered from, which is what the credentials really reach.
    let (instantpay, instantpay_style) = environment_label(&ctx.providers.instantpay, theme);
    let (cashfree, cashfree_style) = environment_label(&ctx.providers.cashfree, theme);
    let mut spans = vec![
        Span::styled(" payops ", theme.title),
        Span::styled(" InstantPay ", theme.dim),
        Span::styled(instantpay, instantpay_style),
    ];
    unreachable_mark(&mut spans, ctx, Provider::InstantPay);
    spans.push(Span::styled("  Cashfree ", theme.dim));
    spans.push(Span::styled(cashfree, cashfree_style));
    unreachable_mark(&mut spans, ctx, Provider::Cashfree);
    if demo {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(" DEMO ", theme.demo));
    }
    if let Some(team) = ctx.team {
        spans.push(Span::raw(" "));
        spans.extend(super::team::header_spans(team, ctx.now, theme));
    }
    if engine_gone {
        spans.push(Span::raw("  "));
        spans.push(Span::styled("engine stopped", theme.error));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!("{} ", ctx.clock(ctx.now)),
            theme.title,
        ))
        .alignment(Alignment::Right),
        area,
    );
}
