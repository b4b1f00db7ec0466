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
    /// How many notices of this kind it stands for (1 = just this one).
    pub count: u32,
}

impl Toast {
    /// The text with its count, `… (×3)`, once it stands for several.
    pub fn line(&self) -> String {
        if self.count > 1 {
            format!("{} (×{})", self.text, self.count)
        } else {
            self.text.clone()
        }
    }
}

/// Notices of one kind differ only in their figures (a retry in 6 s or 5 s,
/// HTTP 502 or 503): those collapse into one toast with a count.
fn same_kind(a: &str, b: &str) -> bool {
    let shape = |text: &str| {
        text.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
    };
    shape(a) == shape(b)
}

#[derive(Debug, Clone, Default)]
pub struct Toasts {
    items: VecDeque<Toast>,
}

impl Toasts {
    pub fn push(&mut self, now: Timestamp, level: Level, text: impl Into<String>) {
        let text = text.into();
        let until = now.checked_add(SHOWN_FOR).unwrap_or(now);
        let count = match self
            .items
            .iter()
            .position(|toast| toast.level == level && same_kind(&toast.text, &text))
        {
            Some(index) => self.items.remove(index).map_or(1, |old| old.count + 1),
            None => 1,
        };
        if self.items.len() == MAX_SHOWN {
            self.items.pop_front();
        }
        self.items.push_back(Toast {
            level,
            text,
            until,
            count,
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

fn level_style(ctx: &ViewContext, level: Level) -> ratatui::style::Style {
    let theme = ctx.theme;
    match level {
        Level::Info => theme.text,
        Level::Success => theme.ok,
        Level::Warning => theme.warning,
        Level::Error => theme.error,
    }
}

/// Toasts in the top-right corner of the panes, when no dialog is open.
pub fn draw(frame: &mut Frame, body: Rect, ctx: &ViewContext, toasts: &Toasts) {
    if toasts.is_empty() {
        return;
    }
    let width = (body.width / 2).clamp(30, 60).min(body.width);
    let lines: Vec<Line> = toasts
        .iter()
        .map(|toast| {
            let style = level_style(ctx, toast.level);
            Line::from(vec![
                Span::styled(toast.level.symbol(), style),
                Span::raw(" "),
                Span::styled(toast.line(), style),
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
            .block(Block::bordered().border_style(ctx.theme.border)),
        area,
    );
}

/// The newest toast on one line (the status bar's), while a dialog is open:
/// a toast must never cover a QR code or a dialog's buttons.
pub fn draw_line(frame: &mut Frame, line: Rect, ctx: &ViewContext, toasts: &Toasts) {
    let Some(newest) = toasts.iter().last() else {
        return;
    };
    let style = level_style(ctx, newest.level);
    let more = (toasts.len() > 1).then(|| {
        Span::styled(
            format!("  (+{} more in the log)", toasts.len() - 1),
            ctx.theme.dim,
        )
    });
    // Cut to fit before what follows it: the log (`a`) has it whole.
    let room = usize::from(line.width).saturating_sub(more.as_ref().map_or(0, Span::width));
    let newest = super::format::clip_line(
        Line::from(vec![
            Span::styled(format!(" {} ", newest.level.symbol()), style),
            Span::styled(newest.line(), style),
        ]),
        room,
    );
    let spans = Line::from(newest.spans.into_iter().chain(more).collect::<Vec<_>>());
    frame.render_widget(Clear, line);
    frame.render_widget(Paragraph::new(spans), line);
}
