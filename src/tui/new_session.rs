//! The new DigiLocker session form: provider, flow, documents (Cashfree
//! only), redirect URL and the agent's label, validated field by field as the operator types;
//! Enter hands a validated request to the engine.

use crossterm::event::{Event, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::config::SessionDefaults;
use crate::domain::{DocumentType, Provider, UserFlow};
use crate::engine::{Command, SessionRequest};
use crate::error::ValidationError;
use crate::validate;
use crate::words;

use super::keymap::Action;
use super::view::{Providers, ViewContext};
use super::widgets::draw_dialog;
use super::widgets::form::{Form, choice, error_line, input_row, label, provider_rows};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewSessionField {
    Provider,
    Flow,
    Documents,
    RedirectUrl,
    Label,
}

#[derive(Debug, Clone)]
pub struct NewSessionForm {
    pub provider: Provider,
    pub flow: UserFlow,
    /// Chosen documents, kept in `DocumentType::ALL` order.
    pub documents: Vec<DocumentType>,
    pub document_cursor: usize,
    pub redirect_url: Input,
    /// The agent's ticket or case reference; optional.
    pub label: Input,
    pub focus: NewSessionField,
    pub provider_error: Option<String>,
    pub documents_error: Option<String>,
    pub redirect_error: Option<String>,
    pub label_error: Option<String>,
}

impl NewSessionForm {
    pub fn new(defaults: &SessionDefaults, providers: &Providers) -> NewSessionForm {
        let redirect = defaults
            .redirect_url
            .as_ref()
            .map(|url| url.to_string())
            .unwrap_or_default();
        let mut form = NewSessionForm {
            provider: providers.preferred(defaults.provider),
            flow: defaults.flow,
            documents: DocumentType::ALL
                .into_iter()
                .filter(|d| defaults.documents.contains(d))
                .collect(),
            document_cursor: 0,
            redirect_url: Input::new(redirect),
            label: Input::default(),
            focus: NewSessionField::Provider,
            provider_error: None,
            documents_error: None,
            redirect_error: None,
            label_error: None,
        };
        form.validate(providers);
        form
    }

    pub fn fields(&self) -> Vec<NewSessionField> {
        let mut fields = vec![NewSessionField::Provider, NewSessionField::Flow];
        if self.provider == Provider::Cashfree {
            fields.push(NewSessionField::Documents);
        }
        fields.push(NewSessionField::RedirectUrl);
        fields.push(NewSessionField::Label);
        fields
    }

    fn toggle_document(&mut self) {
        let Some(document) = DocumentType::ALL.get(self.document_cursor).copied() else {
            return;
        };
        if self.documents.contains(&document) {
            self.documents.retain(|d| *d != document);
        } else {
            self.documents.push(document);
            self.documents
                .sort_by_key(|d| DocumentType::ALL.iter().position(|x| x == d));
        }
    }
}

impl Form for NewSessionForm {
    type Valid = SessionRequest;

    /// Refreshes every field's message; the request when all fields are valid.
    fn validate(&mut self, providers: &Providers) -> Option<SessionRequest> {
        self.provider_error =
            (!providers.is_configured(self.provider)).then(|| words::not_configured(self.provider));
        let documents = if self.provider == Provider::Cashfree {
            let words: Vec<&str> = self.documents.iter().map(|d| d.wire()).collect();
            checked(
                &mut self.documents_error,
                validate::documents("documents", &words.join(",")),
            )
        } else {
            // InstantPay ignores documents, so none are sent.
            self.documents_error = None;
            Some(Vec::new())
        };
        let raw = self.redirect_url.value().trim();
        // Cashfree's redirect_url is optional; InstantPay's redirectionUrl is not.
        let redirect_url = if raw.is_empty() && self.provider == Provider::Cashfree {
            self.redirect_error = None;
            Some(None)
        } else {
            checked(
                &mut self.redirect_error,
                validate::redirect_url("redirect URL", raw),
            )
            .map(Some)
        };
        let label = checked(
            &mut self.label_error,
            validate::label("label", self.label.value()),
        );
        if self.provider_error.is_some() {
            return None;
        }
        Some(SessionRequest {
            provider: self.provider,
            flow: self.flow,
            documents: documents?,
            redirect_url: redirect_url?,
            label: label?,
        })
    }

    fn focus_first_error(&mut self) {
        if self.provider_error.is_some() {
            self.focus = NewSessionField::Provider;
        } else if self.documents_error.is_some() {
            self.focus = NewSessionField::Documents;
        } else if self.redirect_error.is_some() {
            self.focus = NewSessionField::RedirectUrl;
        } else if self.label_error.is_some() {
            self.focus = NewSessionField::Label;
        }
    }

    fn move_focus(&mut self, step: isize) {
        let fields = self.fields();
        let current = fields.iter().position(|f| *f == self.focus).unwrap_or(0);
        let next = (current as isize + step).rem_euclid(fields.len() as isize) as usize;
        self.focus = fields[next];
    }

    fn edit_focused(&mut self, key: &KeyEvent, action: Option<Action>) {
        let switch = matches!(action, Some(Action::OptionPrev | Action::OptionNext));
        match self.focus {
            NewSessionField::Provider if switch => {
                self.provider = match self.provider {
                    Provider::InstantPay => Provider::Cashfree,
                    Provider::Cashfree => Provider::InstantPay,
                };
            }
            NewSessionField::Flow if switch => {
                self.flow = match self.flow {
                    UserFlow::Signup => UserFlow::Signin,
                    UserFlow::Signin => UserFlow::Signup,
                };
            }
            NewSessionField::Documents => match action {
                Some(Action::OptionPrev) => {
                    self.document_cursor = self.document_cursor.saturating_sub(1);
                }
                Some(Action::OptionNext) => {
                    self.document_cursor =
                        (self.document_cursor + 1).min(DocumentType::ALL.len() - 1);
                }
                Some(Action::ToggleOption) => self.toggle_document(),
                _ => {}
            },
            NewSessionField::RedirectUrl => {
                if let Some(request) = to_input_request(&Event::Key(*key)) {
                    self.redirect_url.handle(request);
                }
            }
            NewSessionField::Label => {
                if let Some(request) = to_input_request(&Event::Key(*key)) {
                    self.label.handle(request);
                }
            }
            _ => {}
        }
    }

    fn command(request: SessionRequest) -> (Command, String) {
        let line = format!(
            "creating {} DigiLocker session…",
            crate::words::a_provider(request.provider)
        );
        (Command::CreateSession(request), line)
    }
}

/// A field's check: its value when valid; otherwise `None`, with the
/// message in the field's `error`.
fn checked<T>(error: &mut Option<String>, result: Result<T, ValidationError>) -> Option<T> {
    match result {
        Ok(value) => {
            *error = None;
            Some(value)
        }
        Err(e) => {
            *error = Some(e.to_string());
            None
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, form: &NewSessionForm) {
    let theme = ctx.theme;
    let width = area.width.saturating_sub(4).min(76);
    let inner_width = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();

    let focused = |field| form.focus == field;
    provider_rows(
        &mut lines,
        form.provider,
        focused(NewSessionField::Provider),
        form.provider_error.as_deref(),
        ctx,
    );

    let mut flow = vec![label("Flow", focused(NewSessionField::Flow), theme)];
    flow.extend(choice(
        form.flow.cashfree_word().to_string(),
        focused(NewSessionField::Flow),
        theme,
    ));
    lines.push(Line::from(flow));

    let documents_focused = focused(NewSessionField::Documents);
    let mut documents = vec![label("Documents", documents_focused, theme)];
    if form.provider == Provider::Cashfree {
        for (index, document) in DocumentType::ALL.into_iter().enumerate() {
            let mark = if form.documents.contains(&document) {
                "[x]"
            } else {
                "[ ]"
            };
            let mut style = Style::new();
            if documents_focused && index == form.document_cursor {
                style = style.add_modifier(Modifier::REVERSED);
            }
            documents.push(Span::styled(format!("{mark} {}", document.wire()), style));
            documents.push(Span::raw(" "));
        }
    } else {
        documents.push(Span::styled(
            "Cashfree only (InstantPay ignores them)",
            theme.dim,
        ));
    }
    lines.push(Line::from(documents));
    if let Some(error) = &form.documents_error {
        lines.push(error_line(error, theme));
    }

    // The text fields, each with a dim hint after it while it is optional
    // and empty.
    let empty = |input: &Input| input.value().trim().is_empty();
    let cashfree = form.provider == Provider::Cashfree;
    let url_hint = (cashfree && empty(&form.redirect_url)).then_some("optional for Cashfree");
    let label_hint = empty(&form.label).then_some("optional: your ticket or case");
    let text_fields = [
        (
            NewSessionField::RedirectUrl,
            "Redirect",
            &form.redirect_url,
            url_hint,
            &form.redirect_error,
        ),
        (
            NewSessionField::Label,
            "Label",
            &form.label,
            label_hint,
            &form.label_error,
        ),
    ];
    for (field, name, input, hint, error) in text_fields {
        let mut row = input_row(name, input, inner_width, focused(field), theme);
        row.extend(hint.map(|hint| Span::styled(hint, theme.dim)));
        lines.push(Line::from(row));
        if let Some(error) = error {
            lines.push(error_line(error, theme));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Enter creates the session · Esc cancels",
        theme.dim,
    ));

    draw_dialog(frame, area, width, "New DigiLocker session", lines, theme);
}
