//! Form fields shared by the new-session and track forms (and the notify
//! pane's link field): labels, choices, text inputs and error lines.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use tui_input::Input;

use crate::domain::Provider;

use super::super::theme::Theme;
use super::super::view::ViewContext;

pub const LABEL_WIDTH: usize = 11;

/// What a form's key handling asks of its owner.
pub enum FormOutcome<T> {
    Continue,
    Cancel,
    Submit(T),
}

impl<T> FormOutcome<T> {
    /// Hands a submitted value to `submit` (which sends it on); the owner
    /// then only needs to know whether the form is done.
    pub fn submitted_with(self, submit: impl FnOnce(T)) -> FormOutcome<()> {
        match self {
            FormOutcome::Submit(value) => {
                submit(value);
                FormOutcome::Submit(())
            }
            FormOutcome::Cancel => FormOutcome::Cancel,
            FormOutcome::Continue => FormOutcome::Continue,
        }
    }
}

pub fn label<'a>(text: &str, focused: bool, theme: &Theme) -> Span<'a> {
    let marker = if focused { "▸" } else { " " };
    let style = if focused {
        theme.field_focused
    } else {
        theme.dim
    };
    Span::styled(
        format!("{marker}{text:<width$}", width = LABEL_WIDTH - 1),
        style,
    )
}

pub fn choice<'a>(text: String, focused: bool, theme: &Theme) -> Vec<Span<'a>> {
    let style = if focused {
        theme.field_focused
    } else {
        theme.text
    };
    vec![
        Span::styled("◀ ", theme.dim),
        Span::styled(text, style),
        Span::styled(" ▶", theme.dim),
    ]
}

/// The provider choice of a form, marked when that provider is not configured,
/// with its error under it.
pub fn provider_rows(
    lines: &mut Vec<Line<'_>>,
    provider: Provider,
    focused: bool,
    error: Option<&str>,
    ctx: &ViewContext,
) {
    let theme = ctx.theme;
    let mut row = vec![label("Provider", focused, theme)];
    row.extend(choice(provider.display_name().to_string(), focused, theme));
    if !ctx.providers.is_configured(provider) {
        row.push(Span::styled("  (not configured)", theme.warning));
    }
    lines.push(Line::from(row));
    if let Some(error) = error {
        lines.push(error_line(error, theme));
    }
}

pub fn error_line<'a>(message: &str, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::raw(" ".repeat(LABEL_WIDTH)),
        Span::styled(format!("✗ {message}"), theme.error),
    ])
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
