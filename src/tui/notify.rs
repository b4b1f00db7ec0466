//! The payout-link notify pane and its confirmation dialog. A notify reaches
//! a real customer, so it is looked up first, confirmed with Cancel focused,
//! asked again when one went recently, and never re-submittable in flight.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use rust_decimal::Decimal;
use tui_input::Input;

use crate::domain::{LinkId, LinkReport};
use crate::error::ProviderError;
use crate::store::{AuditEntry, NotifyOutcome};
use crate::validate;

use super::app::{App, Pane};
use super::format::{ago, describe_error, inr, spinner};
use super::theme::Theme;
use super::ui::{draw_dialog, input_spans, pane_block, wrapped_height};

const AUDIT_KEEP: usize = 50;

#[derive(Debug, Clone, Default)]
pub enum NotifyPhase {
    #[default]
    Idle,
    LookingUp(LinkId),
    /// Looked up; the confirmation dialog is (or was) open.
    Looked {
        report: LinkReport,
        recent: Option<AuditEntry>,
    },
    /// The operator said no: nothing was sent.
    Cancelled {
        report: LinkReport,
    },
    LookupFailed {
        link: LinkId,
        error: ProviderError,
    },
    /// `SendNotify` went out; until `NotifyFinished` the form is locked.
    InFlight {
        link: LinkId,
        amount: Option<Decimal>,
    },
    Finished {
        entry: AuditEntry,
        error: Option<ProviderError>,
    },
}

impl NotifyPhase {
    /// A request is out: the field is locked and Enter does nothing.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            NotifyPhase::LookingUp(_) | NotifyPhase::InFlight { .. }
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct NotifyState {
    pub input: Input,
    /// The link-id field has the keyboard.
    pub editing: bool,
    pub field_error: Option<String>,
    pub field_warning: Option<String>,
    pub phase: NotifyPhase,
    /// Newest first.
    pub audit: Vec<AuditEntry>,
}

impl NotifyState {
    /// Validates the field and sets its messages. An empty field is flagged
    /// only when the operator tries to submit it.
    pub fn validate(&mut self, submitting: bool) -> Option<LinkId> {
        let raw = self.input.value();
        if raw.trim().is_empty() && !submitting {
            self.field_error = None;
            self.field_warning = None;
            return None;
        }
        match validate::link_id("link id", raw) {
            Ok((link, warning)) => {
                self.field_error = None;
                self.field_warning = warning;
                Some(link)
            }
            Err(error) => {
                self.field_error = Some(error.to_string());
                self.field_warning = None;
                None
            }
        }
    }

    pub fn record_audit(&mut self, entry: AuditEntry) {
        match self
            .audit
            .iter_mut()
            .find(|existing| existing.id == entry.id)
        {
            Some(existing) => *existing = entry,
            None => self.audit.push(entry),
        }
        self.audit
            .sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
        self.audit.truncate(AUDIT_KEEP);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    #[default]
    Cancel,
    Confirm,
}

#[derive(Debug, Clone)]
pub struct NotifyConfirm {
    pub report: LinkReport,
    pub recent: Option<AuditEntry>,
    /// Cancel is focused by default, so a stray Enter sends nothing.
    pub choice: Choice,
    /// A notify went recently and the operator confirmed once: this is the
    /// second, explicit question.
    pub asking_again: bool,
}

impl NotifyConfirm {
    pub fn new(report: LinkReport, recent: Option<AuditEntry>) -> NotifyConfirm {
        NotifyConfirm {
            report,
            recent,
            choice: Choice::Cancel,
            asking_again: false,
        }
    }
}

fn amount_text(amount: Option<Decimal>) -> String {
    amount
        .map(inr)
        .unwrap_or_else(|| "amount unknown".to_string())
}

fn not_issued_warning(report: &LinkReport) -> Option<String> {
    (!report.status.is_notifiable()).then(|| {
        format!(
            "⚠ link is {}, not ISSUED: nobody is waiting for this notification",
            report.status
        )
    })
}

fn outcome_style(theme: &Theme, outcome: NotifyOutcome) -> ratatui::style::Style {
    match outcome {
        NotifyOutcome::Sent => theme.ok,
        NotifyOutcome::Declined | NotifyOutcome::Failed => theme.bad,
        NotifyOutcome::Unknown => theme.warning,
    }
}

/// The audit row's message with the provider's code and request reference.
pub fn audit_detail(entry: &AuditEntry) -> String {
    let mut text = entry.message.clone();
    if let Some(code) = &entry.provider_code {
        text.push_str(&format!(" [code {code}]"));
    }
    if let Some(request) = &entry.request_id {
        text.push_str(&format!(" [ipay_uuid {request}]"));
    }
    text
}

/// The audit row's words, with the code and request reference from the
/// error where the row lacks them.
fn result_detail(entry: &AuditEntry, error: Option<&ProviderError>) -> String {
    let mut text = entry.message.clone();
    let code = entry
        .provider_code
        .as_deref()
        .or_else(|| error.and_then(ProviderError::provider_code));
    let request = entry
        .request_id
        .as_deref()
        .or_else(|| error.and_then(ProviderError::request_id));
    if let Some(code) = code {
        text = format!("{code}: {text}");
    }
    if let Some(request) = request {
        text.push_str(&format!(" (ipay_uuid {request})"));
    }
    text
}

fn phase_lines(app: &App) -> Vec<Line<'static>> {
    let theme = &app.theme;
    match &app.notify.phase {
        NotifyPhase::Idle => vec![Line::styled(
            "Type a link id; Enter looks it up.",
            theme.dim,
        )],
        NotifyPhase::LookingUp(link) => vec![Line::styled(
            format!("{} looking up {link}…", spinner(app.now)),
            theme.dim,
        )],
        NotifyPhase::Looked { report, .. } | NotifyPhase::Cancelled { report } => {
            let mut lines = vec![Line::from(vec![
                Span::styled(report.status.as_str(), theme.title),
                Span::raw(" · "),
                Span::styled(amount_text(report.amount), theme.amount),
            ])];
            if let Some(warning) = not_issued_warning(report) {
                lines.push(Line::styled(warning, theme.warning));
            }
            if matches!(app.notify.phase, NotifyPhase::Cancelled { .. }) {
                lines.push(Line::styled("Cancelled: nothing was sent.", theme.dim));
            }
            lines
        }
        NotifyPhase::LookupFailed { error, .. } => vec![Line::styled(
            format!("✗ lookup failed: {}", describe_error(error)),
            theme.error,
        )],
        NotifyPhase::InFlight { link, amount } => vec![Line::styled(
            format!(
                "{} sending notification for {link} ({})… do not send again",
                spinner(app.now),
                amount_text(*amount)
            ),
            theme.warning,
        )],
        NotifyPhase::Finished { entry, error } => match entry.outcome {
            NotifyOutcome::Sent => {
                vec![Line::styled(format!("✓ sent: {}", entry.message), theme.ok)]
            }
            NotifyOutcome::Declined => vec![Line::styled(
                format!("✗ declined: {}", result_detail(entry, error.as_ref())),
                theme.error,
            )],
            NotifyOutcome::Failed => vec![Line::styled(
                format!(
                    "✗ not sent: {} (nothing reached the recipient)",
                    result_detail(entry, error.as_ref())
                ),
                theme.error,
            )],
            NotifyOutcome::Unknown => vec![
                Line::styled(
                    format!(
                        "? outcome unknown: {}",
                        result_detail(entry, error.as_ref())
                    ),
                    theme.warning,
                ),
                Line::styled(
                    "It may have reached the recipient: check the link's status and \
                     activity (Enter) before sending again.",
                    theme.warning,
                ),
            ],
        },
    }
}

/// Narrow panes show the start of the link id, enough to tell links apart.
fn link_label(link: &LinkId, width: u16) -> String {
    let text = link.as_str();
    if width >= 70 || text.chars().count() <= 10 {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(8).collect::<String>())
    }
}

fn audit_line(entry: &AuditEntry, app: &App, width: u16) -> Line<'static> {
    let theme = &app.theme;
    let outcome = if entry.completed {
        entry.outcome.as_str()
    } else {
        "in flight"
    };
    Line::from(vec![
        Span::styled(format!("{} ", app.clock(entry.at)), theme.dim),
        Span::raw(format!("{} ", link_label(&entry.link_id, width))),
        Span::styled(format!("{outcome} "), outcome_style(theme, entry.outcome)),
        Span::styled(audit_detail(entry), theme.dim),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let state = &app.notify;
    let block = pane_block(
        app,
        Pane::Notify,
        Line::styled(" Payout-link notify ", theme.title),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let typing = state.editing && app.focus == Pane::Notify && app.overlay.is_none();
    let locked = state.phase.is_busy();
    let label_style = if typing {
        theme.field_focused
    } else {
        theme.dim
    };
    let mut field = vec![Span::styled(
        if locked { "Link · " } else { "Link ▸ " },
        label_style,
    )];
    field.extend(input_spans(
        &state.input,
        (inner.width as usize).saturating_sub(8),
        typing && !locked,
        theme,
    ));
    let mut lines = vec![Line::from(field)];
    if let Some(error) = &state.field_error {
        lines.push(Line::styled(format!("✗ {error}"), theme.error));
    } else if let Some(warning) = &state.field_warning {
        lines.push(Line::styled(format!("⚠ {warning}"), theme.warning));
    }
    lines.extend(phase_lines(app));

    let rows = wrapped_height(&lines, inner.width);
    let [form_area, audit_area] =
        Layout::vertical([Constraint::Length(rows), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), form_area);

    if audit_area.height >= 2 {
        let mut audit = vec![Line::styled("Recent notifies", theme.title)];
        if state.audit.is_empty() {
            audit.push(Line::styled("none", theme.dim));
        }
        audit.extend(
            state
                .audit
                .iter()
                .take(audit_area.height as usize - 1)
                .map(|entry| audit_line(entry, app, audit_area.width)),
        );
        frame.render_widget(Paragraph::new(audit), audit_area);
    }
}

fn button<'a>(text: &'a str, focused: bool, theme: &Theme) -> Span<'a> {
    if focused {
        Span::styled(format!("▶ {text} ◀"), theme.button_focused)
    } else {
        Span::styled(format!("  {text}  "), theme.button)
    }
}

pub fn draw_confirm(frame: &mut Frame, area: Rect, app: &App, dialog: &NotifyConfirm) {
    let theme = &app.theme;
    let report = &dialog.report;
    let width = area.width.saturating_sub(4).min(72);
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Link    ", theme.dim),
            Span::styled(report.link_id.to_string(), theme.title),
        ]),
        Line::from(vec![
            Span::styled("Amount  ", theme.dim),
            Span::styled(amount_text(report.amount), theme.amount),
        ]),
        Line::from(vec![
            Span::styled("Status  ", theme.dim),
            Span::raw(report.status.as_str()),
        ]),
    ];
    if let Some(warning) = not_issued_warning(report) {
        lines.push(Line::styled(warning, theme.warning));
    }
    if let Some(recent) = &dialog.recent {
        lines.push(Line::styled(
            format!(
                "⚠ A notification already went for this link at {} ({}): {}.",
                app.clock(recent.at),
                ago_minutes(app.now, recent.at),
                recent.outcome.as_str()
            ),
            theme.warning,
        ));
    }
    lines.push(Line::raw(""));
    if dialog.asking_again {
        lines.push(Line::styled(
            format!(
                "Really send ANOTHER notification for {} ({})?",
                report.link_id,
                amount_text(report.amount)
            ),
            theme.error,
        ));
    } else {
        lines.push(Line::raw(format!(
            "Send the SMS / e-mail / WhatsApp notification for {} ({}) to its recipient now?",
            report.link_id,
            amount_text(report.amount)
        )));
    }
    lines.push(Line::raw(""));
    let confirm_label = if dialog.asking_again {
        "Send again"
    } else {
        "Send notification"
    };
    lines.push(Line::from(vec![
        button("Cancel", dialog.choice == Choice::Cancel, theme),
        Span::raw("   "),
        button(confirm_label, dialog.choice == Choice::Confirm, theme),
    ]));
    let title = if dialog.asking_again {
        "Notify again?"
    } else {
        "Send payout-link notification?"
    };
    draw_dialog(frame, area, width, title, lines, theme);
}

/// "N min ago", as the dialog phrases it (whole minutes matter here).
fn ago_minutes(now: Timestamp, then: Timestamp) -> String {
    let minutes = now.duration_since(then).as_secs().max(0) / 60;
    if minutes == 0 {
        ago(now, then)
    } else {
        format!("{minutes} min ago")
    }
}
