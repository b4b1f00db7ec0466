//! The "track an existing session" form: provider and the provider's id or
//! reference; Enter asks the engine to adopt it.

use crossterm::event::{Event, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::domain::Provider;
use crate::engine::Command;
use crate::validate;

use crate::words;

use super::keymap::Action;
use super::view::{Providers, ViewContext};
use super::widgets::draw_dialog;
use super::widgets::form::{Form, LABEL_WIDTH, error_line, input_row, provider_rows};

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
    /// Why the last attempt to track failed at the provider (the form comes
    /// back as typed, with this).
    pub failure: Option<String>,
}

impl TrackForm {
    pub fn new(provider: Provider, providers: &Providers) -> TrackForm {
        let mut form = TrackForm {
            provider,
            reference: Input::default(),
            focus: TrackField::Reference,
            provider_error: None,
            reference_error: None,
            submitted: false,
            failure: None,
        };
        form.validate(providers);
        form
    }

    /// The form as the operator submitted it, with why the provider call failed.
    pub fn again(
        provider: Provider,
        reference: &str,
        providers: &Providers,
        failure: String,
    ) -> TrackForm {
        let mut form = TrackForm::new(provider, providers);
        form.reference = Input::new(reference.to_string());
        form.failure = Some(failure);
        form.validate(providers);
        form
    }
}

impl Form for TrackForm {
    type Valid = (Provider, String);

    /// Cashfree references are numeric `reference_id`s or `verification_id`s;
    /// InstantPay's `referenceId` has no documented shape beyond non-empty.
    fn validate(&mut self, providers: &Providers) -> Option<(Provider, String)> {
        self.provider_error =
            (!providers.is_configured(self.provider)).then(|| words::not_configured(self.provider));
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
        Some((self.provider, reference.ok()?))
    }

    /// An empty field is an error from now on; the last failure is old news.
    fn submitting(&mut self) {
        self.submitted = true;
        self.failure = None;
    }

    fn focus_first_error(&mut self) {
        if self.provider_error.is_some() {
            self.focus = TrackField::Provider;
        } else {
            self.focus = TrackField::Reference;
        }
    }

    /// Two fields: either step moves to the other.
    fn move_focus(&mut self, _step: isize) {
        self.focus = match self.focus {
            TrackField::Provider => TrackField::Reference,
            TrackField::Reference => TrackField::Provider,
        };
    }

    fn edit_focused(&mut self, key: &KeyEvent, action: Option<Action>) {
        match action {
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
    }

    fn command((provider, reference): (Provider, String)) -> (Command, String) {
        let line = format!("tracking {provider} session {reference}…");
        (
            Command::TrackSession {
                provider,
                reference,
            },
            line,
        )
    }
}

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, form: &TrackForm) {
    let theme = ctx.theme;
    let width = area.width.saturating_sub(4).min(76);
    let inner_width = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();

    provider_rows(
        &mut lines,
        form.provider,
        form.focus == TrackField::Provider,
        form.provider_error.as_deref(),
        ctx,
    );

    lines.push(Line::from(input_row(
        "Reference",
        &form.reference,
        inner_width,
        form.focus == TrackField::Reference,
        theme,
    )));
    if let Some(error) = &form.reference_error {
        lines.push(error_line(error, theme));
    }
    if let Some(failure) = &form.failure {
        lines.push(error_line(failure, theme));
    }
    let hint = match form.provider {
        Provider::Cashfree => "Cashfree: the verification_id or the numeric reference_id",
        Provider::InstantPay => "InstantPay: the referenceId of the DigiLocker session",
    };
    lines.push(Line::from(vec![
        Span::raw(" ".repeat(LABEL_WIDTH)),
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
