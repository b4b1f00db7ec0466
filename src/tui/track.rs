//! The "track an existing session" form: provider and the provider's id or reference.

use crossterm::event::{Event, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::domain::Provider;
use crate::engine::Command;
use crate::validate;

use super::app::App;
use super::keymap::Action;
use super::new_session::{
    Configured, FormOutcome, error_line, label, not_configured_message, provider_rows,
};
use super::ui::{draw_dialog, input_spans};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackField {
    Provider,
    Reference,
}

#[derive(Debug, Clone)]
pub struct TrackForm {
    pub provider: Provider,
    pub reference: Input,
    pub focus: TrackField,
    pub provider_error: Option<String>,
    pub reference_error: Option<String>,
    /// An empty field is only an error once the operator tried to submit.
    pub submitted: bool,
}

impl TrackForm {
    pub fn new(provider: Provider, configured: Configured) -> TrackForm {
        let mut form = TrackForm {
            provider,
            reference: Input::default(),
            focus: TrackField::Reference,
            provider_error: None,
            reference_error: None,
            submitted: false,
        };
        form.validate(configured);
        form
    }

    pub fn handle(
        &mut self,
        key: &KeyEvent,
        action: Option<Action>,
        configured: Configured,
    ) -> FormOutcome<Command> {
        match action {
            Some(Action::Cancel) => return FormOutcome::Cancel,
            Some(Action::Submit) => {
                self.submitted = true;
                return match self.validate(configured) {
                    Some(command) => FormOutcome::Submit(command),
                    None => {
                        if self.provider_error.is_some() {
                            self.focus = TrackField::Provider;
                        } else {
                            self.focus = TrackField::Reference;
                        }
                        FormOutcome::Continue
                    }
                };
            }
            Some(Action::NextField | Action::PrevField) => {
                self.focus = match self.focus {
                    TrackField::Provider => TrackField::Reference,
                    TrackField::Reference => TrackField::Provider,
                };
            }
            Some(Action::OptionPrev | Action::OptionNext) if self.focus == TrackField::Provider => {
                self.provider = match self.provider {
                    Provider::InstantPay => Provider::Cashfree,
                    Provider::Cashfree => Provider::InstantPay,
                };
            }
            _ if self.focus == TrackField::Reference => {
                if let Some(request) = to_input_request(&Event::Key(*key)) {
                    self.reference.handle(request);
                }
            }
            _ => {}
        }
        self.validate(configured);
        FormOutcome::Continue
    }

    /// Cashfree references are numeric `reference_id`s or `verification_id`s;
    /// InstantPay's `referenceId` has no documented shape beyond non-empty.
    pub fn validate(&mut self, configured: Configured) -> Option<Command> {
        self.provider_error =
            (!configured.allows(self.provider)).then(|| not_configured_message(self.provider));
        let raw = self.reference.value().trim();
        let reference = if raw.is_empty() {
            Err("reference: is empty; paste the provider's id or reference".to_string())
        } else if self.provider == Provider::Cashfree && !raw.chars().all(|c| c.is_ascii_digit()) {
            validate::verification_id("verification id", raw).map_err(|e| e.to_string())
        } else {
            Ok(raw.to_string())
        };
        self.reference_error = match &reference {
            Err(message) if self.submitted || !raw.is_empty() => Some(message.clone()),
            _ => None,
        };
        if self.provider_error.is_some() {
            return None;
        }
        let reference = reference.ok()?;
        Some(Command::TrackSession {
            provider: self.provider,
            reference,
        })
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, form: &TrackForm) {
    let theme = &app.theme;
    let width = area.width.saturating_sub(4).min(76);
    let inner_width = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();

    provider_rows(
        &mut lines,
        form.provider,
        form.focus == TrackField::Provider,
        form.provider_error.as_deref(),
        app,
    );

    let reference_focused = form.focus == TrackField::Reference;
    let mut reference = vec![label("Reference", reference_focused, theme)];
    reference.extend(input_spans(
        &form.reference,
        inner_width.saturating_sub(11),
        reference_focused,
        theme,
    ));
    lines.push(Line::from(reference));
    if let Some(error) = &form.reference_error {
        lines.push(error_line(error, theme));
    }
    let hint = match form.provider {
        Provider::Cashfree => "Cashfree: the verification_id or the numeric reference_id",
        Provider::InstantPay => "InstantPay: the referenceId of the DigiLocker session",
    };
    lines.push(Line::from(vec![
        Span::raw(" ".repeat(11)),
        Span::styled(hint, theme.dim),
    ]));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Enter starts tracking · Esc cancels",
        theme.dim,
    ));

    draw_dialog(
        frame,
        area,
        width,
        "Track an existing session",
        lines,
        theme,
    );
}
