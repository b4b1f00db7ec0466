//! Form fields shared by the new-session and track forms (and the notify
//! pane's link field): labels, choices, text inputs and error lines.

use crossterm::event::KeyEvent;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use tui_input::Input;

use crate::domain::Provider;
use crate::engine::Command;

use super::super::feedback::{Feedback, Level};
use super::super::keymap::Action;
use super::super::theme::Theme;
use super::super::view::{Providers, ViewContext};

pub const LABEL_WIDTH: usize = 11;

/// What a form's key handling asks of its owner.
pub enum FormOutcome<T> {
    Continue,
    Cancel,
    Submit(T),
}

/// A dialog's form: keys edit its fields until a valid submit, whose
/// command goes to the engine and closes the form.
pub trait Form {
    /// What the fields make once all are valid.
    type Valid;

    /// Refreshes every field's message; what the fields make when all are
    /// valid.
    fn validate(&mut self, providers: &Providers) -> Option<Self::Valid>;

    /// A submit is about to be checked.
    fn submitting(&mut self) {}

    /// After a refused submit: the keyboard to the first field in error.
    fn focus_first_error(&mut self);

    /// To the next field (`step` 1) or the previous one (-1).
    fn move_focus(&mut self, step: isize);

    /// Any other key, for the focused field.
    fn edit_focused(&mut self, key: &KeyEvent, action: Option<Action>);

    /// The command a valid form sends, and the line the log gets about it.
    fn command(valid: Self::Valid) -> (Command, String);

    /// A key for the form; a valid submit goes to the engine and closes it.
    fn handle_key(
        &mut self,
        key: &KeyEvent,
        action: Option<Action>,
        providers: &Providers,
        feedback: &mut Feedback,
    ) -> FormOutcome<()> {
        match action {
            Some(Action::Cancel) => return FormOutcome::Cancel,
            Some(Action::Submit) => {
                self.submitting();
                let Some(valid) = self.validate(providers) else {
                    self.focus_first_error();
                    return FormOutcome::Continue;
                };
                let (command, line) = Self::command(valid);
                feedback.log(Level::Info, line);
                feedback.send(command);
                return FormOutcome::Submit(());
            }
            Some(Action::NextField) => self.move_focus(1),
            Some(Action::PrevField) => self.move_focus(-1),
            _ => self.edit_focused(key, action),
        }
        self.validate(providers);
        FormOutcome::Continue
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

/// A form's text field: its label, then the input in what is left of a
/// dialog `inner_width` cells wide.
pub fn input_row<'a>(
    name: &str,
    input: &Input,
    inner_width: usize,
    focused: bool,
    theme: &Theme,
) -> Vec<Span<'a>> {
    let mut row = vec![label(name, focused, theme)];
    row.extend(input_spans(
        input,
        inner_width.saturating_sub(LABEL_WIDTH),
        focused,
        theme,
    ));
    row
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
