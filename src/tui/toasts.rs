//! Short-lived notices in the top-right corner (status changes, failures).

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::feedback::Level;
use super::view::ViewContext;
use super::widgets::wrapped_height;

const SHOWN_FOR: SignedDuration = SignedDuration::from_secs(6);
const MAX_SHOWN: usize = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub level: Level,
    pub text: String,
    pub until: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct Toasts {
    items: VecDeque<Toast>,
}

impl Toasts {
    pub fn push(&mut self, now: Timestamp, level: Level, text: impl Into<String>) {
        if self.items.len() == MAX_SHOWN {
            self.items.pop_front();
        }
        let until = now.checked_add(SHOWN_FOR).unwrap_or(now);
        self.items.push_back(Toast {
            level,
            text: text.into(),
            until,
        });
    }

    /// Drops expired toasts; true when any went (the screen changed).
    pub fn expire(&mut self, now: Timestamp) -> bool {
        let before = self.items.len();
        self.items.retain(|toast| toast.until > now);
        self.items.len() != before
    }

    pub fn iter(&self) -> impl Iterator<Item = &Toast> {
        self.items.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

pub fn draw(frame: &mut Frame, body: Rect, ctx: &ViewContext, toasts: &Toasts) {
    if toasts.is_empty() {
        return;
    }
    let theme = ctx.theme;
    let width = (body.width / 2).clamp(30, 60).min(body.width);
    let lines: Vec<Line> = toasts
        .iter()
        .map(|toast| {
            let style = match toast.level {
                Level::Info => theme.text,
                Level::Success => theme.ok,
                Level::Warning => theme.warning,
                Level::Error => theme.error,
            };
            Line::from(vec![
                Span::styled(toast.level.symbol(), style),
                Span::raw(" "),
                Span::styled(toast.text.as_str(), style),
            ])
        })
        .collect();
    let text_rows = wrapped_height(&lines, width.saturating_sub(2));
    let height = (text_rows + 2).min(body.height);
    let area = Rect {
        x: body.right().saturating_sub(width + 1),
        y: body.y + 1,
        width,
        height,
    }
    .intersection(body);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().border_style(theme.border)),
        area,
    );
}
