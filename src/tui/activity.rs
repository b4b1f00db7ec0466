//! The activity log: the last events and errors, with times.

use std::collections::VecDeque;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::feedback::Level;
use super::view::ViewContext;

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

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, log: &ActivityLog) {
    let theme = ctx.theme;
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Span::styled(" Activity ", theme.title));
    let rows = block.inner(area).height as usize;
    let lines: Vec<Line> = if log.is_empty() {
        vec![Line::styled("Nothing yet.", theme.dim)]
    } else {
        log.last(rows)
            .map(|entry| {
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
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
