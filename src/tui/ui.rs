//! Screen layout and the top-level draw. Drawing reads `&App` only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use tui_input::Input;

use super::app::{App, Overlay, Pane};
use super::theme::Theme;
use super::{
    activity, balance, detail, header, help, new_session, notify, sessions, status_bar, toast,
    track,
};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Where everything goes. `update` uses it too, to map mouse clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenLayout {
    pub header: Rect,
    /// Between the header and the status bar: where full overlays go.
    pub main: Rect,
    /// The panes (main without the activity log): where toasts go.
    pub body: Rect,
    pub balance: Rect,
    pub sessions: Rect,
    pub notify: Rect,
    pub activity: Rect,
    pub status_bar: Rect,
}

/// None below 80x24, where only a "too small" message is drawn.
pub fn screen_layout(area: Rect) -> Option<ScreenLayout> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let activity_height = if area.height >= 40 { 7 } else { 4 };
    let [header, main, status_bar] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let [body, activity] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(activity_height)]).areas(main);
    let left_width = if area.width >= 140 { 50 } else { 36 };
    let [left, sessions] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Min(0)]).areas(body);
    let balance_height = if body.height >= 30 { 12 } else { 8 };
    let [balance, notify] =
        Layout::vertical([Constraint::Length(balance_height), Constraint::Min(0)]).areas(left);
    Some(ScreenLayout {
        header,
        main,
        body,
        balance,
        sessions,
        notify,
        activity,
        status_bar,
    })
}

/// Table rows on screen (borders and the heading row excluded).
pub fn session_rows(width: u16, height: u16) -> usize {
    screen_layout(Rect::new(0, 0, width, height))
        .map(|layout| layout.sessions.height.saturating_sub(3) as usize)
        .unwrap_or(1)
        .max(1)
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let Some(layout) = screen_layout(area) else {
        draw_too_small(frame, area, app);
        return;
    };
    header::draw(frame, layout.header, app);
    balance::draw(frame, layout.balance, app);
    sessions::draw(frame, layout.sessions, app);
    notify::draw(frame, layout.notify, app);
    activity::draw(frame, layout.activity, app);
    status_bar::draw(frame, layout.status_bar, app);
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => help::draw(frame, area, app),
        Some(Overlay::NewSession(form)) => new_session::draw(frame, layout.main, app, form),
        Some(Overlay::Track(form)) => track::draw(frame, layout.main, app, form),
        Some(Overlay::Detail(view)) => detail::draw(frame, layout.main, app, view),
        Some(Overlay::ConfirmNotify(dialog)) => {
            notify::draw_confirm(frame, layout.main, app, dialog)
        }
    }
    // Last, so feedback (a copied URL, a status change) shows over any dialog.
    toast::draw(frame, layout.body, app);
}

fn draw_too_small(frame: &mut Frame, area: Rect, app: &App) {
    let message = format!(
        "terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{})",
        area.width, area.height
    );
    let width = (message.chars().count() as u16).min(area.width);
    let target = centered(area, width, 1);
    frame.render_widget(
        Paragraph::new(Line::styled(message, app.theme.warning)),
        target,
    );
}

/// A pane's frame: thick and accented when focused, so focus shows without colour too.
pub fn pane_block<'a>(app: &App, pane: Pane, title: Line<'a>) -> Block<'a> {
    let focused = app.focus == pane;
    let style = if focused {
        app.theme.border_focused
    } else {
        app.theme.border
    };
    Block::bordered()
        .border_type(app.theme.border_type(focused))
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

/// A text input drawn in `width` cells, scrolled to keep the cursor in view;
/// the cursor is a reversed cell so it shows in any terminal and in tests.
pub fn input_spans<'a>(input: &Input, width: usize, focused: bool, theme: &Theme) -> Vec<Span<'a>> {
    let width = width.max(2);
    let scroll = input.visual_scroll(width.saturating_sub(1));
    let chars: Vec<char> = input.value().chars().collect();
    let cursor = input.cursor().min(chars.len());
    let start = scroll.min(chars.len());
    let end = (start + width).min(chars.len());
    if !focused {
        return vec![Span::raw(chars[start..end].iter().collect::<String>())];
    }
    let before: String = chars[start..cursor.max(start)].iter().collect();
    let at: String = chars
        .get(cursor)
        .map(|c| c.to_string())
        .unwrap_or_else(|| " ".to_string());
    let after: String = chars
        .get(cursor + 1..end.max(cursor + 1))
        .map(|rest| rest.iter().collect())
        .unwrap_or_default();
    vec![
        Span::raw(before),
        Span::styled(at, theme.text.add_modifier(Modifier::REVERSED)),
        Span::raw(after),
    ]
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
