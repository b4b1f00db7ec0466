//! One session in full: every field, the URL wrapped and as a QR code, the
//! status history and (once authenticated) the masked user details; its keys
//! (copy, open, QR alone, poll, stop tracking with its question).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::documents::{CONSENT_WINDOW, Document};
use crate::domain::{CreateState, SessionRecord, StatusEvent};
use crate::domain::{SessionId, SessionStatus, UserDetails};
use crate::engine::Command;

use super::feedback::{Debounce, Effect, Feedback, Level};
use super::format::{ago, countdown, documents_long};
use super::keymap::Action;
use super::sessions::PollTrouble;
use super::view::ViewContext;
use super::widgets::form::{error_line, input_spans};
use super::widgets::qr::QrImage;
use super::widgets::status::status_style;
use super::widgets::{centered, dialog_block};
use crate::validate;

/// The session the view shows, as the sessions table holds it.
pub struct Shown<'a> {
    pub record: &'a SessionRecord,
    /// Personal data, held in memory only and drawn masked.
    pub details: Option<&'a UserDetails>,
    pub history: Option<&'a [StatusEvent]>,
    /// Set while its latest poll has failed.
    pub trouble: Option<&'a PollTrouble>,
}

/// What a key in the detail view asks of its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailOutcome {
    Stay,
    Close,
}

/// Keep at least this much room for the text beside the code.
const TEXT_MIN_WIDTH: u16 = 44;
const LABEL_WIDTH: usize = 13;
/// Drawing clamps scrolling to the content; the cap keeps the way back short.
const SCROLL_MAX: u16 = 40;

#[derive(Debug, Clone)]
pub struct DetailView {
    pub id: SessionId,
    pub qr: Option<QrImage>,
    /// The URL `qr` encodes, to rebuild it only when the URL changes.
    qr_url: Option<String>,
    /// "Stop tracking?" is being asked.
    pub confirm_stop: bool,
    /// Rows scrolled, for terminals too short to show everything.
    pub scroll: u16,
    /// The QR code alone on the whole screen, for a customer to scan.
    pub qr_only: bool,
    /// The consented documents, once fetched. Personal data: they live in
    /// this view and go when it closes.
    pub documents: Vec<Document>,
    pub fetching_documents: bool,
    /// Documents shown in full (each reveal is logged by the engine).
    pub reveal: bool,
    /// The label being typed (`e`), with why the last Enter was refused.
    pub label_edit: Option<LabelEdit>,
}

#[derive(Debug, Clone, Default)]
pub struct LabelEdit {
    pub input: tui_input::Input,
    pub error: Option<String>,
}

impl DetailView {
    pub fn open(record: &SessionRecord) -> DetailView {
        let mut view = DetailView {
            id: record.id.clone(),
            qr: None,
            qr_url: None,
            confirm_stop: false,
            scroll: 0,
            qr_only: false,
            documents: Vec::new(),
            fetching_documents: false,
            reveal: false,
            label_edit: None,
        };
        view.sync_url(record.offered_url());
        view
    }

    pub fn sync_url(&mut self, url: Option<&str>) {
        if self.qr_url.as_deref() == url {
            return;
        }
        self.qr_url = url.map(str::to_string);
        self.qr = url.and_then(QrImage::encode);
    }

    pub fn handle_key(
        &mut self,
        action: Option<Action>,
        record: Option<&SessionRecord>,
        refresh: &mut Debounce,
        now: jiff::Timestamp,
        feedback: &mut Feedback,
    ) -> DetailOutcome {
        let url = record.and_then(SessionRecord::offered_url);
        let spent = record
            .filter(|record| record.link_spent())
            .map(|record| crate::words::spent_link(&record.status));
        let authenticated =
            record.is_some_and(|record| record.status == SessionStatus::Authenticated);
        let mut copy = |what: &str, text: Option<&str>| match text {
            Some(text) => {
                feedback.effect(Effect::Copy(text.to_string()));
                feedback.toast(Level::Info, format!("{what} copied to the clipboard"));
            }
            None => feedback.toast(Level::Warning, format!("no {what} yet")),
        };
        match action {
            Some(Action::Close) if self.qr_only => self.qr_only = false,
            Some(Action::Close) => return DetailOutcome::Close,
            Some(Action::StopTracking) => self.confirm_stop = true,
            Some(Action::ToggleQr) => self.qr_only = !self.qr_only,
            Some(Action::EditLabel) => {
                let current = record.and_then(|r| r.label.clone()).unwrap_or_default();
                self.label_edit = Some(LabelEdit {
                    input: tui_input::Input::new(current),
                    error: None,
                });
            }
            Some(Action::Up) => self.scroll_by(-1),
            Some(Action::Down) => self.scroll_by(1),
            Some(Action::CopyUrl | Action::OpenUrl) if let Some(spent) = spent => {
                feedback.toast(Level::Warning, spent);
            }
            Some(Action::CopyUrl) => copy("URL", url),
            Some(Action::CopyId) => copy("id", Some(self.id.as_str())),
            Some(Action::CopyReference) => copy(
                "provider reference",
                record.and_then(|record| record.reference.as_deref()),
            ),
            Some(Action::OpenUrl) => match url {
                Some(url) => feedback.effect(Effect::OpenUrl(url.to_string())),
                None => feedback.toast(Level::Warning, "no URL yet"),
            },
            Some(Action::RefreshSession) if refresh.allow(now) => {
                feedback.send(Command::RefreshSession(self.id.clone()));
            }
            Some(Action::FetchDocuments) if !authenticated => feedback.toast(
                Level::Warning,
                "documents come after the customer consents (AUTHENTICATED)",
            ),
            Some(Action::FetchDocuments) if !self.fetching_documents => {
                self.fetching_documents = true;
                feedback.log(
                    Level::Info,
                    format!("fetching the documents of {}", self.id),
                );
                feedback.send(Command::FetchDocuments(self.id.clone()));
            }
            Some(Action::RevealDocuments) if self.documents.is_empty() => {
                feedback.toast(Level::Info, "no documents yet: fetch them first");
            }
            Some(Action::RevealDocuments) => {
                self.reveal = !self.reveal;
                if self.reveal {
                    feedback.log(
                        Level::Info,
                        format!("revealed the documents of {} (logged)", self.id),
                    );
                    feedback.send(Command::LogReveal {
                        id: self.id.clone(),
                        documents: self.documents.iter().map(|d| d.kind).collect(),
                    });
                }
            }
            _ => {}
        }
        DetailOutcome::Stay
    }

    /// A key while "Stop tracking?" is asked.
    pub fn handle_confirm_stop_key(&mut self, action: Option<Action>, feedback: &mut Feedback) {
        match action {
            Some(Action::Confirm) => {
                self.confirm_stop = false;
                feedback.log(Level::Info, format!("asked to stop tracking {}", self.id));
                feedback.send(Command::StopTracking(self.id.clone()));
            }
            Some(Action::Deny) => self.confirm_stop = false,
            _ => {}
        }
    }

    /// The engine's answer to a fetch: shown if this view asked for it.
    pub fn on_documents(&mut self, documents: Vec<Document>) {
        self.fetching_documents = false;
        self.documents = documents;
        self.reveal = false;
    }

    pub fn scroll_by(&mut self, rows: i16) {
        self.scroll = self.scroll.saturating_add_signed(rows).min(SCROLL_MAX);
    }
}

/// The documents section: the consent hour left, then each document's
/// fields, masked unless revealed.
fn document_lines<'a>(view: &'a DetailView, shown: &Shown, ctx: &ViewContext) -> Vec<Line<'a>> {
    let theme = ctx.theme;
    if shown.record.status != SessionStatus::Authenticated {
        return Vec::new();
    }
    let mut lines = vec![Line::raw("")];
    let how = if view.reveal { "in full" } else { "masked" };
    lines.push(Line::styled(format!("Documents ({how})"), theme.title));
    let consent = shown.history.and_then(|events| {
        events
            .iter()
            .find(|e| e.status == SessionStatus::Authenticated)
            .map(|e| e.at)
    });
    if let Some(at) = consent {
        let end = at + CONSENT_WINDOW;
        let text = if end <= ctx.now {
            "the hour after consent has passed".to_string()
        } else {
            format!("{} left of the hour after consent", countdown(ctx.now, end))
        };
        lines.push(field("Window", text, ctx));
    }
    if view.fetching_documents {
        lines.push(Line::styled("fetching…", theme.dim));
    } else if view.documents.is_empty() {
        lines.push(Line::styled(
            format!("{} fetches them", ctx.key(Action::FetchDocuments)),
            theme.dim,
        ));
    } else {
        lines.push(Line::styled(
            format!(
                "{} {} (logged)",
                ctx.key(Action::RevealDocuments),
                if view.reveal {
                    "masks them"
                } else {
                    "reveals them"
                }
            ),
            theme.dim,
        ));
    }
    for document in &view.documents {
        lines.push(Line::styled(document.kind.wire(), theme.title));
        for (key, value) in document.view(view.reveal) {
            lines.push(field(&key, value, ctx));
        }
    }
    lines
}

impl DetailView {
    /// A key while the label is being typed: Enter saves it (empty removes
    /// it), Esc leaves it as it was.
    pub fn handle_label_key(
        &mut self,
        key: &crossterm::event::KeyEvent,
        action: Option<Action>,
        feedback: &mut Feedback,
    ) {
        let Some(edit) = &mut self.label_edit else {
            return;
        };
        match action {
            Some(Action::Cancel) => self.label_edit = None,
            Some(Action::Submit) => match validate::label("label", edit.input.value()) {
                Ok(label) => {
                    feedback.send(Command::SetLabel {
                        id: self.id.clone(),
                        label,
                    });
                    self.label_edit = None;
                }
                Err(error) => edit.error = Some(error.message),
            },
            _ => {
                let event = crossterm::event::Event::Key(*key);
                if let Some(request) = tui_input::backend::crossterm::to_input_request(&event) {
                    edit.input.handle(request);
                    edit.error = None;
                }
            }
        }
    }
}

/// The label's line: the label, or the field being typed.
fn label_lines<'a>(
    view: &DetailView,
    record: &'a SessionRecord,
    ctx: &ViewContext,
) -> Vec<Line<'a>> {
    let theme = ctx.theme;
    match &view.label_edit {
        Some(edit) => {
            let mut line = vec![Span::styled(
                format!("{:<LABEL_WIDTH$} ", "Label"),
                theme.key,
            )];
            // The longest label whole, and room for the cursor after it
            // (a narrow dialog wraps the line).
            let width = crate::validate::LABEL_MAX + 1;
            line.extend(input_spans(&edit.input, width, true, theme));
            let mut lines = vec![Line::from(line)];
            if let Some(error) = &edit.error {
                lines.push(error_line(error, theme));
            }
            lines
        }
        None => vec![field(
            "Label",
            match record.label.as_deref() {
                Some(label) => Span::raw(label),
                None => Span::styled(
                    format!("— ({} sets one)", ctx.key(Action::EditLabel)),
                    theme.dim,
                ),
            },
            ctx,
        )],
    }
}

fn field<'a>(label: &str, value: impl Into<Span<'a>>, ctx: &ViewContext) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<LABEL_WIDTH$} "), ctx.theme.dim),
        value.into(),
    ])
}

fn create_state_text(state: &CreateState) -> String {
    match state {
        CreateState::Sending => "sending (no answer yet)".to_string(),
        CreateState::Created => "created".to_string(),
        CreateState::Failed(message) => format!("failed: {message}"),
        // The provider error's own words may already say it ("outcome
        // unknown at Cashfree: …; check before sending again"): not twice.
        CreateState::OutcomeUnknown(message) if message.starts_with("outcome unknown") => {
            format!("{message} (the provider may have created it)")
        }
        CreateState::OutcomeUnknown(message) => format!(
            "outcome unknown: {message} (the provider may have created it; check before creating again)"
        ),
    }
}

/// How the status shown was learned, and when: "by webhook at 14:57:35
/// (2m ago)". A support agent waiting on a customer reads from it whether
/// the word is the provider's push or the last poll.
fn learned_text(record: &crate::domain::SessionRecord, ctx: &ViewContext) -> String {
    match (record.status_learned, record.status_at) {
        (Some(learned), Some(at)) => format!(
            "by {} at {} ({})",
            learned.as_str(),
            ctx.clock(at),
            ago(ctx.now, at)
        ),
        _ => "—".to_string(),
    }
}

fn record_lines<'a>(view: &DetailView, shown: &Shown<'a>, ctx: &ViewContext) -> Vec<Line<'a>> {
    let record = shown.record;
    let theme = ctx.theme;
    let now = ctx.now;
    let mut lines = label_lines(view, record, ctx);
    lines.extend([
        field("Provider", record.provider.display_name(), ctx),
        field("Our id", record.id.as_str(), ctx),
        field("External ref", record.external_ref.as_str(), ctx),
        field("Reference", record.reference.as_deref().unwrap_or("—"), ctx),
        field(
            "Status",
            Span::styled(record.status_label(), status_style(theme, record)),
            ctx,
        ),
        field(
            "Provider says",
            if record.provider_status.is_empty() {
                "—"
            } else {
                record.provider_status.as_str()
            },
            ctx,
        ),
        field("Learned", learned_text(record, ctx), ctx),
        field("Create", create_state_text(&record.create_state), ctx),
        field(
            "Flow",
            record.flow.map(|f| f.cashfree_word()).unwrap_or("—"),
            ctx,
        ),
        field(
            "Requested",
            documents_long(&record.documents_requested),
            ctx,
        ),
        field(
            "Consented",
            documents_long(&record.documents_consented),
            ctx,
        ),
        field(
            "Created",
            format!(
                "{} ({})",
                ctx.clock(record.created_at),
                ago(now, record.created_at)
            ),
            ctx,
        ),
        field(
            "Time left",
            if !record.window_runs() {
                "—".to_string()
            } else {
                format!(
                    "{} of the 10-minute window",
                    countdown(now, record.expires_at)
                )
            },
            ctx,
        ),
        field(
            "Last answer",
            record
                .last_polled_at
                .map(|at| ago(now, at))
                .unwrap_or_else(|| "never".to_string()),
            ctx,
        ),
        field("Tracking", if record.tracking { "yes" } else { "no" }, ctx),
        field(
            "Created by",
            record.created_by.as_deref().unwrap_or("—"),
            ctx,
        ),
        field(
            "Redirect",
            record.redirect_url.as_deref().unwrap_or("—"),
            ctx,
        ),
    ]);
    if let Some(error) = &record.last_error {
        // The latest poll failed: the status above is the last good one.
        lines.push(field(
            "Last error",
            Span::styled(
                shown.trouble.map_or(error.as_str(), |t| t.message.as_str()),
                theme.error,
            ),
            ctx,
        ));
        let next = match shown.trouble.and_then(|t| t.next_poll) {
            Some(at) if at > now => format!("in {}", countdown(now, at)),
            Some(_) => "now".to_string(),
            None if record.is_live() => "when the engine next gets to it".to_string(),
            None => "none (no more checks)".to_string(),
        };
        lines.push(field("Next poll", next, ctx));
    }
    lines.push(Line::styled(
        format!(
            "URL ({} copies, {} opens)",
            ctx.key(Action::CopyUrl),
            ctx.key(Action::OpenUrl)
        ),
        theme.dim,
    ));
    lines.push(match (record.offered_url(), record.link_spent()) {
        (Some(url), _) => Line::raw(url),
        (None, true) => Line::styled(
            format!("— {}", crate::words::spent_link(&record.status)),
            theme.dim,
        ),
        (None, false) => Line::raw("— not known yet"),
    });

    if record.status == SessionStatus::Authenticated
        && let Some(details) = shown.details
    {
        lines.push(Line::raw(""));
        lines.push(Line::styled("User details (masked)", theme.title));
        for (name, value) in details.masked() {
            lines.push(field(name, value, ctx));
        }
    }

    lines.push(Line::raw(""));
    lines.push(Line::styled("Status history", theme.title));
    match shown.history {
        None | Some([]) => lines.push(Line::styled("no changes yet", theme.dim)),
        Some(events) => {
            for event in events {
                lines.push(Line::from(vec![
                    Span::styled(format!("{}  ", ctx.clock(event.at)), theme.dim),
                    Span::styled(
                        format!("{} {}", event.status.symbol(), event.status.as_str()),
                        theme.status(&event.status),
                    ),
                    Span::styled(
                        match event.learned {
                            Some(learned) => {
                                format!(" ({}, {})", event.provider_status, learned.as_str())
                            }
                            None => format!(" ({})", event.provider_status),
                        },
                        theme.dim,
                    ),
                ]));
            }
        }
    }
    lines
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    ctx: &ViewContext,
    view: &DetailView,
    shown: Option<&Shown>,
) {
    if view.qr_only {
        draw_qr_only(frame, ctx, view);
        return;
    }
    let theme = ctx.theme;
    frame.render_widget(Clear, area);
    let block = dialog_block(
        theme,
        Span::styled(format!(" Session {} ", view.id), theme.title),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let Some(shown) = shown else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "This session is no longer tracked. Esc closes.",
                theme.dim,
            )),
            inner,
        );
        return;
    };
    let mut lines = record_lines(view, shown, ctx);
    lines.extend(document_lines(view, shown, ctx));

    let qr_fits = view.qr.as_ref().and_then(|qr| {
        let (width, height) = qr.size_on_screen();
        (inner.width >= TEXT_MIN_WIDTH + 1 + width && inner.height >= height).then_some(qr)
    });
    let text_area = match qr_fits {
        Some(qr) => {
            let (width, height) = qr.size_on_screen();
            let [text_area, _, qr_column] = Layout::horizontal([
                Constraint::Min(TEXT_MIN_WIDTH),
                Constraint::Length(1),
                Constraint::Length(width),
            ])
            .areas(inner);
            let qr_area = Rect {
                height,
                ..qr_column
            };
            let qr_lines: Vec<Line> = qr
                .lines()
                .into_iter()
                .map(|row| Line::styled(row, theme.qr))
                .collect();
            frame.render_widget(Paragraph::new(qr_lines), qr_area);
            if qr_column.height > height {
                let caption = Rect {
                    y: qr_area.bottom(),
                    height: 1,
                    ..qr_column
                };
                frame.render_widget(
                    Paragraph::new(Line::styled("scan to open the URL", theme.dim)),
                    caption,
                );
            }
            text_area
        }
        None => {
            if let Some(qr) = &view.qr {
                let (width, height) = qr.size_on_screen();
                // The dialog's borders, the header and the status line.
                let beside = (TEXT_MIN_WIDTH + 1 + width + 2, height + 4);
                lines.insert(
                    0,
                    Line::styled(
                        format!(
                            "The QR code needs a {}x{} terminal beside these details, or {}x{} alone ({}); {} copies the URL",
                            beside.0,
                            beside.1,
                            width,
                            height + 1,
                            ctx.key(Action::ToggleQr),
                            ctx.key(Action::CopyUrl),
                        ),
                        theme.warning,
                    ),
                );
            }
            inner
        }
    };
    let width = text_area.width.max(1) as usize;
    let rows: usize = lines
        .iter()
        .map(|line| line.width().div_ceil(width).max(1))
        .sum();
    let scroll = view
        .scroll
        .min(rows.saturating_sub(text_area.height as usize) as u16);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        text_area,
    );

    if view.confirm_stop {
        draw_confirm_stop(frame, area, ctx, &view.id);
    }
}

/// The QR code centred on the whole screen, with one line of help under it.
fn draw_qr_only(frame: &mut Frame, ctx: &ViewContext, view: &DetailView) {
    let theme = ctx.theme;
    let area = frame.area();
    frame.render_widget(Clear, area);
    let Some(qr) = &view.qr else {
        frame.render_widget(
            Paragraph::new(Line::styled("No URL yet. v or Esc goes back.", theme.dim)),
            area,
        );
        return;
    };
    let (width, height) = qr.size_on_screen();
    if width > area.width || height > area.height {
        let message = format!(
            "The QR code needs a terminal of at least {width}x{height}; this one is {}x{}. \
             Enlarge it (or reduce the font size), or copy the URL with {}. {} goes back.",
            area.width,
            area.height,
            ctx.key(Action::CopyUrl),
            ctx.key(Action::ToggleQr),
        );
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.warning)).wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let caption_rows = u16::from(area.height > height);
    let top = centered(area, width, height + caption_rows);
    let qr_lines: Vec<Line> = qr
        .lines()
        .into_iter()
        .map(|row| Line::styled(row, theme.qr))
        .collect();
    frame.render_widget(Paragraph::new(qr_lines), Rect { height, ..top });
    if caption_rows > 0 {
        let caption = format!("{} · scan to open · v or Esc back", view.id);
        frame.render_widget(
            Paragraph::new(Line::styled(caption, theme.dim)).centered(),
            Rect {
                x: area.x,
                y: top.y + height,
                width: area.width,
                height: 1,
            },
        );
    }
}

fn draw_confirm_stop(frame: &mut Frame, area: Rect, ctx: &ViewContext, id: &SessionId) {
    let theme = ctx.theme;
    let dialog = centered(area, 60, 7);
    frame.render_widget(Clear, dialog);
    let lines = vec![
        Line::styled(format!("Stop tracking {id}?"), theme.title),
        Line::raw("payops stops polling it; the DigiLocker session itself is not cancelled."),
        Line::from(vec![
            Span::styled("y", theme.key),
            Span::raw(" stop tracking   "),
            Span::styled("n", theme.key),
            Span::raw(" keep tracking"),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(dialog_block(
                theme,
                Span::styled(" Stop tracking ", theme.title),
            )),
        dialog,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_outcome_is_said_once() {
        let said = create_state_text(&CreateState::OutcomeUnknown(
            "outcome unknown at Cashfree: no answer; check before sending again (request r1)"
                .into(),
        ));
        assert_eq!(said.matches("outcome unknown").count(), 1, "{said}");
        let said = create_state_text(&CreateState::OutcomeUnknown("no answer".into()));
        assert!(said.starts_with("outcome unknown: no answer"), "{said}");
    }
}
