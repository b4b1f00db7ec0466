//! The `?` overlay, generated from the keymap in force (the user's keys).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::keymap::{Action, Context, KeyMap};
use super::view::ViewContext;
use super::widgets::{centered, dialog_block};

/// True when the key closes help; every other key is ignored while it is open.
pub fn handle_key(action: Option<Action>) -> bool {
    matches!(action, Some(Action::Close))
}

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, keymap: &KeyMap) {
    let theme = ctx.theme;
    let dialog = centered(area, area.width.min(120), area.height);
    frame.render_widget(Clear, dialog);
    let block = dialog_block(theme, Span::styled(" Keys · Esc or ? closes ", theme.title));
    let inner = block.inner(dialog);
    frame.render_widget(block, dialog);

    let mut lines: Vec<Line> = Vec::new();
    for context in Context::ALL {
        let mut bindings = keymap
            .bindings()
            .filter(|b| b.context == context)
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
                Span::styled(format!("{:<8} ", binding.label), theme.key),
                Span::raw(binding.help),
            ]));
        }
    }
    let rows = (inner.height as usize).max(1);
    let columns = lines.len().div_ceil(rows).max(1);
    let areas = Layout::horizontal(vec![Constraint::Ratio(1, columns as u32); columns])
        .spacing(1)
        .split(inner);
    for (chunk, column_area) in lines.chunks(rows).zip(areas.iter()) {
        frame.render_widget(Paragraph::new(chunk.to_vec()), *column_area);
    }
}
