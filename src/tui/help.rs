//! The `?` overlay, generated from the keymap.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::app::App;
use super::keymap::{BINDINGS, Context};
use super::ui::{centered, dialog_block};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let dialog = centered(area, area.width.min(120), area.height);
    frame.render_widget(Clear, dialog);
    let block = dialog_block(theme, Span::styled(" Keys · Esc or ? closes ", theme.title));
    let inner = block.inner(dialog);
    frame.render_widget(block, dialog);

    let mut lines: Vec<Line> = Vec::new();
    for context in Context::HELP_ORDER {
        lines.push(Line::styled(
            context.title(),
            theme.title.add_modifier(Modifier::UNDERLINED),
        ));
        for binding in BINDINGS.iter().filter(|b| b.context == context) {
            lines.push(Line::from(vec![
                Span::styled(format!("{:<8}", binding.label), theme.key),
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
