//! The `?` overlay, generated from the keymap in force (the user's keys).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::keymap::{Action, Context, KeyMap};
use super::view::ViewContext;
use super::widgets::{centered, dialog_block};

/// How far the help is scrolled, in lines: on a small terminal it does not
/// fit, and a cut description helps nobody.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HelpView {
    pub scroll: usize,
}

impl HelpView {
    /// True when the key closes help. `limits` says how far it scrolls and
    /// by how much a page ([`scroll_limits`]).
    pub fn handle_key(&mut self, action: Option<Action>, limits: ScrollLimits) -> bool {
        scroll_key(&mut self.scroll, action, limits)
    }
}

/// A scrolled overlay's keys: `position` (lines from the start) moves by a
/// line or a page, within `limits`; true when the key closes it.
pub fn scroll_key(position: &mut usize, action: Option<Action>, limits: ScrollLimits) -> bool {
    match action {
        Some(Action::Close) => return true,
        Some(Action::Down) => *position += 1,
        Some(Action::Up) => *position = position.saturating_sub(1),
        Some(Action::PageDown) => *position += limits.page,
        Some(Action::PageUp) => *position = position.saturating_sub(limits.page),
        _ => {}
    }
    *position = (*position).min(limits.furthest);
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrollLimits {
    /// The last scroll that still fills the screen.
    pub furthest: usize,
    /// What one screen shows, less a line kept for context.
    pub page: usize,
}

/// Every context's keys, one line each, under the context's name.
fn help_lines<'a>(ctx: &ViewContext, keymap: &'a KeyMap) -> Vec<Line<'a>> {
    let theme = ctx.theme;
    let mut lines: Vec<Line> = Vec::new();
    for context in Context::ALL {
        let mut bindings = keymap
            .bindings()
            .filter(|b| b.context == context && (ctx.team.is_some() || !b.action.team_only()))
            .peekable();
        if bindings.peek().is_none() {
            continue;
        }
        lines.push(Line::styled(
            context.title(),
            theme.title.add_modifier(Modifier::UNDERLINED),
        ));
        for binding in bindings {
            lines.push(Line::from(vec![
                // Keys in a column, and never run into their description.
                Span::styled(format!("{:<8}  ", binding.label), theme.key),
                Span::raw(binding.help),
            ]));
        }
    }
    lines
}

/// Columns and rows of lines that fit in `dialog`: as many whole columns as
/// fit, each as wide as the longest line.
fn geometry(lines: &[Line], dialog: Rect) -> (usize, usize) {
    let widest = lines.iter().map(Line::width).max().unwrap_or(1);
    let inner_width = usize::from(dialog.width.saturating_sub(2)).max(1);
    let columns = ((inner_width + 1) / (widest + 1)).max(1);
    let rows = usize::from(dialog.height.saturating_sub(2)).max(1);
    (columns, rows)
}

fn dialog_area(area: Rect) -> Rect {
    centered(area, area.width.min(120), area.height)
}

/// How the help scrolls on a screen `area` large.
pub fn scroll_limits(ctx: &ViewContext, keymap: &KeyMap, area: Rect) -> ScrollLimits {
    let lines = help_lines(ctx, keymap);
    let (columns, rows) = geometry(&lines, dialog_area(area));
    ScrollLimits {
        furthest: lines.len().saturating_sub(columns * rows),
        page: (columns * rows).saturating_sub(1).max(1),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, keymap: &KeyMap, view: HelpView) {
    let theme = ctx.theme;
    let dialog = dialog_area(area);
    frame.render_widget(Clear, dialog);
    let lines = help_lines(ctx, keymap);
    let (columns, rows) = geometry(&lines, dialog);
    let fits = rows * columns;
    let last_start = lines.len().saturating_sub(fits);
    let start = view.scroll.min(last_start);
    let hidden = lines.len().saturating_sub(start + fits);
    let mut title = vec![Span::styled(" Keys · Esc or ? closes ", theme.title)];
    if last_start > 0 {
        let keys = |action| ctx.key(action).to_string();
        title.push(Span::styled(
            format!(
                "· {} {} {} {} scroll ({} above, {hidden} below) ",
                keys(Action::Down),
                keys(Action::Up),
                keys(Action::PageDown),
                keys(Action::PageUp),
                start
            ),
            theme.dim,
        ));
    }
    let block = dialog_block(theme, Line::from(title));
    let inner = block.inner(dialog);
    frame.render_widget(block, dialog);
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns])
        .spacing(1)
        .split(inner);
    let shown = &lines[start..(start + fits).min(lines.len())];
    for (chunk, column_area) in shown.chunks(rows).zip(areas.iter()) {
        frame.render_widget(Paragraph::new(chunk.to_vec()), *column_area);
    }
}
