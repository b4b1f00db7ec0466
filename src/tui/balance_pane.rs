//! The InstantPay wallet balance pane as drawn: the figures, the change
//! since the last reading, and the chart (`balance_chart`) below them.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::{Provider, mask_all_but_last};
use crate::words;

use super::balance::BalanceState;
use super::format::{ago, inr, spinner};
use super::layout::Pane;
use super::view::ViewContext;
use super::widgets::{pane_block, wrapped_height};

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, state: &BalanceState) {
    let theme = ctx.theme;
    let low = state.is_below();
    let mut title = vec![Span::styled(" Balance · InstantPay ", theme.title)];
    if let Some(report) = &state.latest {
        title.push(Span::styled(
            format!("{} ", mask_all_but_last(&report.account, 4)),
            theme.dim,
        ));
    }
    if state.refreshing {
        title.push(Span::styled(
            format!("{} refreshing ", spinner(ctx.now)),
            theme.dim,
        ));
    }
    let mut block = pane_block(ctx, Pane::Balance, Line::from(title));
    if low {
        block = block.border_style(theme.low_balance);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if !ctx.providers.is_configured(Provider::InstantPay) {
        let text = Line::styled(words::not_configured(Provider::InstantPay), theme.warning);
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), inner);
        return;
    }

    let Some(report) = &state.latest else {
        let mut lines = vec![Line::styled("No balance fetched yet.", theme.dim)];
        if let Some(error) = &state.last_error {
            lines.push(Line::styled(format!("✗ {error}"), theme.error));
        } else {
            lines.push(Line::styled("Press r to fetch it now.", theme.dim));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    };

    let amount_style = if low { theme.low_balance } else { theme.amount };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Available ", theme.dim),
            Span::styled(inr(report.available), amount_style),
        ]),
        Line::from(vec![
            Span::styled("Total ", theme.dim),
            Span::raw(inr(report.total)),
            Span::styled(" Lien ", theme.dim),
            Span::raw(inr(report.lien)),
        ]),
    ];
    let stale = state.is_stale(ctx.now);
    let age_style = if stale { theme.stale } else { theme.dim };
    let mut freshness = vec![Span::styled(
        format!("updated {}", ago(ctx.now, report.fetched_at)),
        age_style,
    )];
    if stale {
        freshness.push(Span::raw(" "));
        freshness.push(Span::styled("⚠ stale", theme.stale));
    }
    lines.push(Line::from(freshness));
    if let Some(limit) = state.threshold
        && low
    {
        lines.push(Line::styled(
            format!("▼ below {} threshold", inr(limit)),
            theme.low_balance,
        ));
    }
    if let Some(error) = &state.last_error {
        lines.push(Line::styled(format!("✗ {error}"), theme.error));
    }

    if state.history.len() == 1 {
        // One reading is a point, not a trend.
        lines.push(Line::styled("history draws as readings arrive", theme.dim));
    }
    let text_rows = wrapped_height(&lines, inner.width);
    let [text_area, chart_area] =
        Layout::vertical([Constraint::Length(text_rows), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text_area);
    if chart_area.height > 0 && state.history.len() > 1 {
        super::balance_chart::draw_in_pane(frame, chart_area, ctx, state);
    }
}
