//! The balance history as a chart: small inside the balance pane, and full
//! screen (Enter on the pane) with a time axis, values, the lowest, highest
//! and latest readings labelled, the threshold as a line, and gaps where
//! there were no readings. The span (24 h / 7 d) lives in `BalanceState`.

use jiff::{SignedDuration, Timestamp};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Clear, Dataset, GraphType, Paragraph, Wrap};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::balance::{BalanceState, ChartSpan, Reading};
use super::format::inr;
use super::keymap::Action;
use super::view::ViewContext;
use super::widgets::dialog_block;

/// However flat the readings, the chart spans at least this share of the
/// highest one: a 9 % drop then fills about a third of the height, instead
/// of the whole of it (which reads as a fall to zero).
const MIN_RANGE_SHARE: Decimal = Decimal::from_parts(25, 0, 0, false, 2);

/// The value axis: from a baseline under the readings to a top over them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub bottom: Decimal,
    pub top: Decimal,
    /// The threshold is within reach of the readings and drawn as a line;
    /// far below them it would flatten the chart, so it is only named.
    pub threshold_drawn: bool,
}

impl Scale {
    pub fn of(readings: &[Reading], threshold: Option<Decimal>) -> Option<Scale> {
        let lowest = readings.iter().map(|r| r.available).min()?;
        let highest = readings.iter().map(|r| r.available).max()?;
        let pad = ((highest - lowest) / Decimal::from(10)).max(Decimal::ONE);
        let mut bottom = (lowest - pad).min(highest - highest.abs() * MIN_RANGE_SHARE);
        if lowest >= Decimal::ZERO {
            bottom = bottom.max(Decimal::ZERO);
        }
        // Headroom, so a flat or rising line is not drawn on the frame.
        let mut top = highest + pad.max((highest - bottom) / Decimal::from(5));
        let threshold_drawn =
            threshold.is_some_and(|limit| limit >= bottom - (top - bottom) / Decimal::TWO);
        if let (true, Some(limit)) = (threshold_drawn, threshold) {
            bottom = bottom.min(limit - pad);
            top = top.max(limit + pad);
        }
        Some(Scale {
            bottom,
            top,
            threshold_drawn,
        })
    }
}

/// Runs of readings with no gap longer than `gap` inside them, as chart
/// points: seconds since `from`, and rupees (f64 only to place them on the
/// screen; every figure shown is formatted from the exact decimal).
pub fn segments(
    readings: &[Reading],
    from: Timestamp,
    gap: SignedDuration,
) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut previous: Option<Timestamp> = None;
    for reading in readings {
        let point = (
            reading.at.duration_since(from).as_secs_f64(),
            reading.available.to_f64().unwrap_or(0.0),
        );
        match (previous, runs.last_mut()) {
            (Some(before), Some(run)) if reading.at.duration_since(before) <= gap => {
                run.push(point)
            }
            _ => runs.push(vec![point]),
        }
        previous = Some(reading.at);
    }
    runs
}

/// Where the time axis starts: the span's start, whatever the first
/// reading, so "last 7 d" means it and hours with no reading show as such.
fn axis_start(ctx: &ViewContext, state: &BalanceState) -> Timestamp {
    ctx.now.checked_sub(state.span.length()).unwrap_or(ctx.now)
}

/// The chart alone: `labelled` adds the time and value axes.
fn chart_widget<'a>(
    ctx: &ViewContext,
    state: &BalanceState,
    from: Timestamp,
    runs: &'a [Vec<(f64, f64)>],
    threshold: &'a [(f64, f64)],
    scale: Scale,
    labelled: bool,
) -> Chart<'a> {
    let theme = ctx.theme;
    let line_style = if state.is_below() {
        theme.low_balance
    } else {
        theme.ok
    };
    let mut datasets: Vec<Dataset<'a>> = runs
        .iter()
        .map(|run| {
            // A lone reading between gaps is a dot; a line needs two.
            let graph = if run.len() == 1 {
                GraphType::Scatter
            } else {
                GraphType::Line
            };
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(graph)
                .style(line_style)
                .data(run)
        })
        .collect();
    if !threshold.is_empty() {
        // Dotted, so it is told from the readings without colour too.
        datasets.insert(
            0,
            Dataset::default()
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(theme.warning)
                .data(threshold),
        );
    }
    let span_secs = ctx.now.duration_since(from).as_secs_f64();
    let bounds_y = [
        scale.bottom.to_f64().unwrap_or(0.0),
        scale.top.to_f64().unwrap_or(0.0),
    ];
    let mut x_axis = Axis::default().bounds([0.0, span_secs]);
    let mut y_axis = Axis::default().bounds(bounds_y);
    if labelled {
        let middle = ctx
            .now
            .checked_sub(SignedDuration::from_secs_f64(span_secs / 2.0))
            .unwrap_or(ctx.now);
        let when = |at: Timestamp| {
            let zoned = at.to_zoned(ctx.tz.clone());
            match state.span {
                ChartSpan::Day => zoned.strftime("%H:%M").to_string(),
                ChartSpan::Week => zoned.strftime("%a %d %b").to_string(),
            }
        };
        x_axis = x_axis
            .style(theme.dim)
            .labels([when(from), when(middle), "now".to_string()]);
        let middle_value = (scale.bottom + scale.top) / Decimal::TWO;
        y_axis = y_axis.style(theme.dim).labels([
            inr(scale.bottom.round_dp(0)),
            inr(middle_value.round_dp(0)),
            inr(scale.top.round_dp(0)),
        ]);
    }
    Chart::new(datasets).x_axis(x_axis).y_axis(y_axis)
}

/// Inside the balance pane: one line of range, then the line itself.
pub fn draw_in_pane(frame: &mut Frame, area: Rect, ctx: &ViewContext, state: &BalanceState) {
    let shown = state.shown(ctx.now);
    let Some(scale) = Scale::of(shown, state.threshold) else {
        return;
    };
    let lowest = shown.iter().map(|r| r.available).min().unwrap_or_default();
    let highest = shown.iter().map(|r| r.available).max().unwrap_or_default();
    // Below three rows the line needs every row it can get; the full-screen
    // chart has the figures.
    let range_rows = u16::from(area.height >= 3);
    let [range_row, chart_area] =
        Layout::vertical([Constraint::Length(range_rows), Constraint::Min(0)]).areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!("{}: {}–{}", state.span.label(), inr(lowest), inr(highest)),
            ctx.theme.dim,
        )),
        range_row,
    );
    if chart_area.height == 0 {
        return;
    }
    draw_chart(frame, chart_area, ctx, state, scale, false);
}

/// The readings of the span (with their gaps) and the threshold line.
fn draw_chart(
    frame: &mut Frame,
    area: Rect,
    ctx: &ViewContext,
    state: &BalanceState,
    scale: Scale,
    labelled: bool,
) {
    let shown = state.shown(ctx.now);
    let from = axis_start(ctx, state);
    let runs = segments(shown, from, state.gap());
    let threshold = threshold_line(state, scale, ctx.now.duration_since(from));
    frame.render_widget(
        chart_widget(ctx, state, from, &runs, &threshold, scale, labelled),
        area,
    );
}

fn threshold_line(state: &BalanceState, scale: Scale, width: SignedDuration) -> Vec<(f64, f64)> {
    match state.threshold {
        Some(limit) if scale.threshold_drawn => {
            let y = limit.to_f64().unwrap_or(0.0);
            vec![(0.0, y), (width.as_secs_f64(), y)]
        }
        _ => Vec::new(),
    }
}

/// Full screen over the panes.
pub fn draw_overlay(frame: &mut Frame, area: Rect, ctx: &ViewContext, state: &BalanceState) {
    let theme = ctx.theme;
    frame.render_widget(Clear, area);
    let key = |action| ctx.key(action).to_string();
    // The keys are on the status bar, as for every other view.
    let title = Span::styled(
        format!(" Balance · InstantPay · last {} ", state.span.label()),
        theme.title,
    );
    let block = dialog_block(theme, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let shown = state.shown(ctx.now);
    let Some(scale) = Scale::of(shown, state.threshold) else {
        let text = format!(
            "No readings in the last {}. {} shows {}; {} fetches one now.",
            state.span.label(),
            key(Action::ToggleSpan),
            state.span.other().label(),
            key(Action::Refresh)
        );
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.dim)).wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let legend = flow(legend(ctx, state, shown, scale), inner.width);
    let rows = super::widgets::wrapped_height(&legend, inner.width);
    let [legend_area, chart_area] =
        Layout::vertical([Constraint::Length(rows), Constraint::Min(0)]).areas(inner);
    frame.render_widget(
        Paragraph::new(legend).wrap(Wrap { trim: true }),
        legend_area,
    );
    draw_chart(frame, chart_area, ctx, state, scale, true);
}

/// Lowest, highest and latest with their times; the threshold; the gaps.
fn legend<'a>(
    ctx: &ViewContext,
    state: &BalanceState,
    shown: &[Reading],
    scale: Scale,
) -> Vec<Vec<Span<'a>>> {
    let theme = ctx.theme;
    let at = |reading: &Reading| {
        let zoned = reading.at.to_zoned(ctx.tz.clone());
        match state.span {
            ChartSpan::Day => zoned.strftime("%H:%M").to_string(),
            ChartSpan::Week => zoned.strftime("%a %H:%M").to_string(),
        }
    };
    // Ties go to the most recent reading, as `balance --history` says.
    let pick = |better: fn(Decimal, Decimal) -> bool| {
        shown.iter().fold(None::<&Reading>, |best, r| match best {
            Some(b) if better(b.available, r.available) => Some(b),
            _ => Some(r),
        })
    };
    let lowest = pick(|kept, new| kept < new);
    let highest = pick(|kept, new| kept > new);
    let latest = shown.last();
    let figure = |label: &'static str, reading: Option<&Reading>, style: Style| {
        reading
            .map(|r| {
                vec![
                    Span::styled(format!("{label} "), theme.dim),
                    Span::styled(inr(r.available), style),
                    Span::styled(format!(" ({})", at(r)), theme.dim),
                ]
            })
            .unwrap_or_default()
    };
    let latest_style = if state.is_below() {
        theme.low_balance
    } else {
        theme.amount
    };
    let mut items = vec![
        figure("latest", latest, latest_style),
        figure("lowest", lowest, theme.text),
        figure("highest", highest, theme.text),
    ];
    if let Some(limit) = state.threshold {
        let place = if scale.threshold_drawn {
            "the dotted line"
        } else {
            "below the chart"
        };
        items.push(vec![Span::styled(
            format!("threshold {} ({place})", inr(limit)),
            theme.warning,
        )]);
    }
    let gaps = segments(shown, axis_start(ctx, state), state.gap())
        .len()
        .saturating_sub(1);
    items.push(vec![Span::styled(
        match gaps {
            0 => format!("{} readings", shown.len()),
            1 => format!("{} readings, 1 gap (no reading for a while)", shown.len()),
            n => format!(
                "{} readings, {n} gaps (no reading for a while)",
                shown.len()
            ),
        },
        theme.dim,
    )]);
    items.retain(|item| !item.is_empty());
    items
}

/// Lays whole items out on lines `width` wide, three spaces apart: a
/// figure and its time are never split across lines.
fn flow<'a>(items: Vec<Vec<Span<'a>>>, width: u16) -> Vec<Line<'a>> {
    const GAP: &str = "   ";
    let mut lines: Vec<Line<'a>> = Vec::new();
    let mut used = 0usize;
    for item in items {
        let size: usize = item.iter().map(Span::width).sum();
        match lines.last_mut() {
            Some(line) if used + GAP.len() + size <= usize::from(width) => {
                line.spans.push(Span::raw(GAP));
                line.spans.extend(item);
                used += GAP.len() + size;
            }
            _ => {
                lines.push(Line::from(item));
                used = size;
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn reading(minutes: i64, rupees: &str) -> Reading {
        Reading {
            at: Timestamp::from_second(1_800_000_000 + minutes * 60).unwrap(),
            available: Decimal::from_str(rupees).unwrap(),
        }
    }

    #[test]
    fn a_nine_percent_drop_is_drawn_from_a_baseline_well_above_zero() {
        let readings = [reading(0, "25000"), reading(5, "22750")];
        let scale = Scale::of(&readings, None).unwrap();
        assert!(scale.bottom > Decimal::ZERO);
        // The drop fills well under the whole height.
        let share = (Decimal::from(2250)) / (scale.top - scale.bottom);
        assert!(share < Decimal::from_str("0.5").unwrap(), "{scale:?}");
        assert!(scale.bottom <= Decimal::from(22750) && scale.top >= Decimal::from(25000));
    }

    #[test]
    fn a_near_threshold_is_drawn_and_a_far_one_only_named() {
        let readings = [reading(0, "25000"), reading(5, "24500")];
        let near = Scale::of(&readings, Some(Decimal::from(24000))).unwrap();
        assert!(near.threshold_drawn);
        assert!(near.bottom < Decimal::from(24000));
        let far = Scale::of(&readings, Some(Decimal::from(10))).unwrap();
        assert!(!far.threshold_drawn);
        assert!(far.bottom > Decimal::from(10_000), "{far:?}");
    }

    #[test]
    fn gaps_split_the_line() {
        let readings = [
            reading(0, "1"),
            reading(5, "2"),
            reading(10, "3"),
            // payops was off for an hour
            reading(70, "4"),
            reading(75, "5"),
        ];
        let from = readings[0].at;
        let runs = segments(&readings, from, SignedDuration::from_mins(15));
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].len(), 3);
        assert_eq!(runs[1], vec![(4200.0, 4.0), (4500.0, 5.0)]);
        assert!(segments(&[], from, SignedDuration::from_mins(15)).is_empty());
    }
}
