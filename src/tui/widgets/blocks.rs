//! Frames, dialogs and the sizes they need.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::super::layout::Pane;
use super::super::theme::Theme;
use super::super::view::ViewContext;

/// A pane's frame: thick and accented when focused, so focus shows without colour too.
pub fn pane_block<'a>(ctx: &ViewContext, pane: Pane, title: Line<'a>) -> Block<'a> {
    let focused = ctx.is_focused(pane);
    let style = if focused {
        ctx.theme.border_focused
    } else {
        ctx.theme.border
    };
    Block::bordered()
        .border_type(ctx.theme.border_type(focused))
        .border_style(style)
        .title(title)
}

/// A dialog's frame.
pub fn dialog_block<'a>(theme: &Theme, title: impl Into<Line<'a>>) -> Block<'a> {
    Block::bordered()
        .border_type(theme.border_type(true))
        .border_style(theme.border_focused)
        .title(title)
}

/// Draws `lines` in a titled dialog `width` wide, centred in `area`, as tall
/// as the wrapped lines need.
pub fn draw_dialog(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    title: &str,
    lines: Vec<Line<'_>>,
    theme: &Theme,
) {
    let rows = wrapped_height(&lines, width.saturating_sub(2));
    let dialog = centered(area, width, rows + 2);
    frame.render_widget(Clear, dialog);
    let title = Span::styled(format!(" {title} "), theme.title);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(dialog_block(theme, title)),
        dialog,
    );
}

/// A dialog button; the focused one is marked with arrows as well as style.
pub fn button<'a>(text: &'a str, focused: bool, theme: &Theme) -> Span<'a> {
    if focused {
        Span::styled(format!("▶ {text} ◀"), theme.button_focused)
    } else {
        Span::styled(format!("  {text}  "), theme.button)
    }
}

/// How many rows `lines` take when word-wrapped to `width` columns, as
/// `Paragraph` wraps them: a word that does not fit starts a new row, a word
/// longer than a row is broken across rows.
pub fn wrapped_height(lines: &[Line<'_>], width: u16) -> u16 {
    let width = usize::from(width).max(1);
    let rows: usize = lines
        .iter()
        .map(|line| {
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            let mut rows = 1;
            let mut used = 0;
            for word in text.split(' ') {
                let len = Line::raw(word).width();
                if used > 0 && used + 1 + len <= width {
                    used += 1 + len;
                    continue;
                }
                if used > 0 {
                    rows += 1;
                }
                // A word longer than a row is broken across as many rows as it takes.
                rows += len.saturating_sub(1) / width;
                used = if len == 0 { 0 } else { (len - 1) % width + 1 };
            }
            rows
        })
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_height_wraps_words_like_paragraph() {
        let lines = [Line::raw("verification_id does not exist")];
        assert_eq!(wrapped_height(&lines, 30), 1);
        assert_eq!(
            wrapped_height(&lines, 26),
            2,
            "'exist' moves to a second row"
        );
        assert_eq!(
            wrapped_height(&lines, 10),
            3,
            "verificati|on_id does|not exist"
        );
        assert_eq!(wrapped_height(&[Line::raw("x".repeat(25))], 10), 3);
        assert_eq!(wrapped_height(&[Line::raw(""), Line::raw("a b")], 10), 2);
    }
}
