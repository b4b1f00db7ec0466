//! The activity log: the last events and errors, with times.

use std::collections::VecDeque;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::feedback::Level;
use super::format::clip_line;
use super::help::{ScrollLimits, scroll_key};
use super::keymap::Action;
use super::view::ViewContext;
use super::widgets::{centered, dialog_block, wrapped_height};

const KEEP: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityEntry {
    pub at: Timestamp,
    pub level: Level,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct ActivityLog {
    entries: VecDeque<ActivityEntry>,
}

impl ActivityLog {
    pub fn push(&mut self, at: Timestamp, level: Level, text: impl Into<String>) {
        if self.entries.len() == KEEP {
            self.entries.pop_front();
        }
        self.entries.push_back(ActivityEntry {
            at,
            level,
            text: text.into(),
        });
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn latest(&self) -> Option<&ActivityEntry> {
        self.entries.back()
    }

    /// The newest `count` entries, oldest first.
    pub fn last(&self, count: usize) -> impl Iterator<Item = &ActivityEntry> {
        self.entries
            .iter()
            .skip(self.entries.len().saturating_sub(count))
    }
}

fn entry_line<'a>(ctx: &ViewContext, entry: &'a ActivityEntry) -> Line<'a> {
    let theme = ctx.theme;
    let style = match entry.level {
        Level::Info => theme.text,
        Level::Success => theme.ok,
        Level::Warning => theme.warning,
        Level::Error => theme.error,
    };
    Line::from(vec![
        Span::styled(ctx.clock(entry.at), theme.dim),
        Span::raw(" "),
        Span::styled(entry.level.symbol(), style),
        Span::raw(" "),
        Span::styled(entry.text.as_str(), style),
    ])
}

/// The pane: the newest lines, each on one row, cut with `…` where the
/// pane is narrower (the key in its title shows them whole).
pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, log: &ActivityLog) {
    let theme = ctx.theme;
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Line::from(vec![
            Span::styled(" Activity ", theme.title),
            Span::styled(
                format!("· {} every line in full ", ctx.key(Action::ShowActivity)),
                theme.dim,
            ),
        ]));
    let inner = block.inner(area);
    let lines: Vec<Line> = if log.is_empty() {
        vec![Line::styled("Nothing yet.", theme.dim)]
    } else {
        log.last(usize::from(inner.height))
            .map(|entry| clip_line(entry_line(ctx, entry), usize::from(inner.width)))
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// The `a` overlay: the whole log (the last 500 lines), every line in
/// full, wrapped; it opens on the newest, and scrolls back from there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivityView {
    /// Rows scrolled back from the newest.
    pub back: usize,
}

impl ActivityView {
    /// True when the key closes the log; `limits` as [`scroll_limits`] says.
    pub fn handle_key(&mut self, action: Option<Action>, limits: ScrollLimits) -> bool {
        // Counted back from the newest: up goes further.
        let backwards = action.map(|action| match action {
            Action::Up => Action::Down,
            Action::Down => Action::Up,
            Action::PageUp => Action::PageDown,
            Action::PageDown => Action::PageUp,
            other => other,
        });
        scroll_key(&mut self.back, backwards, limits)
    }
}

fn overlay_area(area: Rect) -> Rect {
    centered(area, area.width.min(120), area.height)
}

fn wrapped<'a>(ctx: &ViewContext, log: &'a ActivityLog) -> Vec<Line<'a>> {
    log.last(KEEP).map(|entry| entry_line(ctx, entry)).collect()
}

/// How far the log scrolls back on a screen `area` large, and by how much a page.
pub fn scroll_limits(ctx: &ViewContext, log: &ActivityLog, area: Rect) -> ScrollLimits {
    let inner = overlay_area(area).inner(ratatui::layout::Margin::new(1, 1));
    let rows = usize::from(wrapped_height(&wrapped(ctx, log), inner.width));
    let page = usize::from(inner.height).max(1);
    ScrollLimits {
        furthest: rows.saturating_sub(page),
        page: page.saturating_sub(1).max(1),
    }
}

pub fn draw_overlay(
    frame: &mut Frame,
    area: Rect,
    ctx: &ViewContext,
    log: &ActivityLog,
    view: ActivityView,
) {
    let theme = ctx.theme;
    let dialog = overlay_area(area);
    frame.render_widget(Clear, dialog);
    let limits = scroll_limits(ctx, log, area);
    let back = view.back.min(limits.furthest);
    let title = Line::from(vec![
        Span::styled(
            format!(" Activity log · {} closes ", ctx.key(Action::Close)),
            theme.title,
        ),
        Span::styled(
            format!(
                "· {} {} older, {} newer ",
                ctx.key(Action::Up),
                ctx.key(Action::PageUp),
                ctx.key(Action::Down)
            ),
            theme.dim,
        ),
    ]);
    let block = dialog_block(theme, title);
    let lines = if log.is_empty() {
        vec![Line::styled("Nothing yet.", theme.dim)]
    } else {
        wrapped(ctx, log)
    };
    let top = limits.furthest - back;
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .scroll((u16::try_from(top).unwrap_or(u16::MAX), 0))
            .block(block),
        dialog,
    );
}
