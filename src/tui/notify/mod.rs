//! The payout-link notify pane and its confirmation dialog (`confirm`). A
//! notify reaches a real customer, so it is looked up first, confirmed with
//! Cancel focused, asked again when one went recently, and never
//! re-submittable in flight.

pub mod confirm;

use crossterm::event::{Event, KeyEvent};
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use rust_decimal::Decimal;
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::domain::{AuditEntry, NotifyOutcome, RecentNotifies};
use crate::domain::{LinkId, LinkReport, Provider};
use crate::engine::Command;
use crate::error::ProviderError;
use crate::validate;
use crate::words;

use super::feedback::{Debounce, Feedback, Level};
use super::format::spinner;
use super::keymap::Action;
use super::layout::Pane;
use super::theme::Theme;
use super::view::ViewContext;
use super::widgets::form::input_spans;
use super::widgets::{pane_block, wrapped_height};

pub use confirm::NotifyConfirm;

const AUDIT_KEEP: usize = 50;

#[derive(Debug, Clone, Default)]
pub enum NotifyPhase {
    #[default]
    Idle,
    LookingUp(LinkId),
    /// Looked up; the confirmation dialog is (or was) open.
    Looked {
        report: LinkReport,
        recent: RecentNotifies,
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

    /// A key on the pane (not typing): Enter looks the submitted id up again
    /// (after a cancelled dialog or a failed lookup); with no id yet, it
    /// starts typing.
    pub fn handle_key(&mut self, action: Action, configured: bool, feedback: &mut Feedback) {
        match action {
            Action::EditLink => self.editing = true,
            Action::LookUpLink if self.input.value().trim().is_empty() => self.editing = true,
            Action::LookUpLink if !self.phase.is_busy() => self.look_up(configured, feedback),
            _ => {}
        }
    }

    /// A key while the link-id field has the keyboard. True when the
    /// operator asked for the next pane.
    pub fn handle_field_key(
        &mut self,
        key: &KeyEvent,
        action: Option<Action>,
        configured: bool,
        feedback: &mut Feedback,
    ) -> bool {
        match action {
            Some(Action::StopEditing) => self.editing = false,
            Some(Action::NextPane) => return true,
            // In flight (or looking up), Enter must not submit again.
            Some(Action::LookUpLink) if !self.phase.is_busy() => self.look_up(configured, feedback),
            Some(Action::LookUpLink) => {}
            _ => {
                if self.phase.is_busy() {
                    return false;
                }
                if let Some(request) = to_input_request(&Event::Key(*key))
                    && self
                        .input
                        .handle(request)
                        .is_some_and(|changed| changed.value)
                {
                    // A different link: the last lookup no longer applies.
                    self.phase = NotifyPhase::Idle;
                    self.validate(false);
                }
            }
        }
        false
    }

    /// `r` on the pane: the lookup again, unless a request is out.
    pub fn refresh(
        &mut self,
        configured: bool,
        debounce: &mut Debounce,
        now: Timestamp,
        feedback: &mut Feedback,
    ) {
        if !self.phase.is_busy() && debounce.allow(now) {
            self.look_up(configured, feedback);
        }
    }

    fn look_up(&mut self, configured: bool, feedback: &mut Feedback) {
        let Some(link) = self.validate(true) else {
            return;
        };
        if !configured {
            self.field_error = Some(words::not_configured(Provider::InstantPay));
            return;
        }
        feedback.send(Command::LookupLink(link.clone()));
        self.phase = NotifyPhase::LookingUp(link);
        // The id is submitted: single keys are commands again (q quits), and
        // Enter or i edits the id anew.
        self.editing = false;
    }

    /// The lookup answered. When it is the one the pane waits for, the
    /// confirmation dialog to open.
    pub fn on_link_looked(
        &mut self,
        report: LinkReport,
        recent: RecentNotifies,
        feedback: &mut Feedback,
    ) -> Option<NotifyConfirm> {
        let level = if report.status.is_notifiable() {
            Level::Info
        } else {
            Level::Warning
        };
        feedback.log(
            level,
            format!(
                "link {}: {} {}",
                report.link_id,
                report.status,
                words::amount(report.amount)
            ),
        );
        let awaited =
            matches!(&self.phase, NotifyPhase::LookingUp(link) if *link == report.link_id);
        if !awaited {
            return None;
        }
        self.phase = NotifyPhase::Looked {
            report: report.clone(),
            recent: recent.clone(),
        };
        Some(NotifyConfirm::new(report, recent))
    }

    pub fn on_link_failed(&mut self, link: LinkId, error: ProviderError, feedback: &mut Feedback) {
        feedback.alert(
            Level::Error,
            format!(
                "link {link} lookup failed: {}",
                words::describe_error(&error)
            ),
        );
        if matches!(&self.phase, NotifyPhase::LookingUp(awaited) if *awaited == link) {
            self.phase = NotifyPhase::LookupFailed { link, error };
        }
    }

    /// The operator confirmed in the dialog: the notify goes out.
    pub fn send(&mut self, report: &LinkReport, feedback: &mut Feedback) {
        let link = report.link_id.clone();
        feedback.send(Command::SendNotify(link.clone()));
        feedback.log(Level::Info, format!("sending notify for link {link}…"));
        self.phase = NotifyPhase::InFlight {
            link,
            amount: report.amount,
        };
    }

    /// The operator said no in the dialog: nothing was sent.
    pub fn cancel(&mut self, report: LinkReport, feedback: &mut Feedback) {
        feedback.log(
            Level::Info,
            format!("notify for link {} cancelled: nothing sent", report.link_id),
        );
        self.phase = NotifyPhase::Cancelled { report };
    }

    /// A lookup or send for `link` was refused before it reached the
    /// provider: the pane takes input again.
    pub fn stop_waiting(&mut self, link: &LinkId) {
        if matches!(&self.phase, NotifyPhase::LookingUp(awaited) | NotifyPhase::InFlight { link: awaited, .. } if awaited == link)
        {
            self.phase = NotifyPhase::Idle;
        }
    }

    pub fn on_started(&mut self, entry: AuditEntry, feedback: &mut Feedback) {
        feedback.log(
            Level::Info,
            format!(
                "notify for link {} in flight (audit #{})",
                entry.link_id, entry.id
            ),
        );
        self.record_audit(entry);
    }

    pub fn on_finished(
        &mut self,
        entry: AuditEntry,
        error: Option<ProviderError>,
        feedback: &mut Feedback,
    ) {
        let link = entry.link_id.clone();
        let text = words::notify_outcome(&entry, error.as_ref());
        let level = match entry.outcome {
            NotifyOutcome::Sent => Level::Success,
            NotifyOutcome::Declined | NotifyOutcome::Failed => Level::Error,
            NotifyOutcome::Unknown => Level::Warning,
        };
        let mut message = format!("notify for link {link} {}", text.line());
        if let (NotifyOutcome::Unknown, Some(advice)) = (entry.outcome, text.advice) {
            message.push_str(&format!("; {advice}"));
        }
        feedback.alert(level, message);
        self.record_audit(entry.clone());
        if matches!(&self.phase, NotifyPhase::InFlight { link: awaited, .. } if *awaited == link) {
            self.phase = NotifyPhase::Finished { entry, error };
        }
    }
}

fn outcome_style(theme: &Theme, outcome: NotifyOutcome) -> ratatui::style::Style {
    match outcome {
        NotifyOutcome::Sent => theme.ok,
        NotifyOutcome::Declined | NotifyOutcome::Failed => theme.bad,
        NotifyOutcome::Unknown => theme.warning,
    }
}

fn phase_lines(ctx: &ViewContext, state: &NotifyState) -> Vec<Line<'static>> {
    let theme = ctx.theme;
    match &state.phase {
        NotifyPhase::Idle => vec![Line::styled(
            "Type a link id; Enter looks it up.",
            theme.dim,
        )],
        NotifyPhase::LookingUp(link) => vec![Line::styled(
            format!("{} looking up {link}…", spinner(ctx.now)),
            theme.dim,
        )],
        NotifyPhase::Looked { report, .. } | NotifyPhase::Cancelled { report } => {
            let mut lines = vec![Line::from(vec![
                Span::styled(report.status.as_str(), theme.title),
                Span::raw(" · "),
                Span::styled(words::amount(report.amount), theme.amount),
            ])];
            if let Some(warning) = words::link_not_issued(report) {
                lines.push(Line::styled(warning, theme.warning));
            }
            if matches!(state.phase, NotifyPhase::Cancelled { .. }) {
                lines.push(Line::styled("Cancelled: nothing was sent.", theme.dim));
            }
            lines
        }
        NotifyPhase::LookupFailed { error, .. } => vec![Line::styled(
            format!("✗ lookup failed: {}", words::describe_error(error)),
            theme.error,
        )],
        NotifyPhase::InFlight { link, amount } => vec![Line::styled(
            format!(
                "{} sending notification for {link} ({})… do not send again",
                spinner(ctx.now),
                words::amount(*amount)
            ),
            theme.warning,
        )],
        NotifyPhase::Finished { entry, error } => {
            let text = words::notify_outcome(entry, error.as_ref());
            let (symbol, style) = match entry.outcome {
                NotifyOutcome::Sent => ("✓", theme.ok),
                NotifyOutcome::Declined | NotifyOutcome::Failed => ("✗", theme.error),
                NotifyOutcome::Unknown => ("?", theme.warning),
            };
            let mut lines = vec![Line::styled(format!("{symbol} {}", text.line()), style)];
            if let Some(advice) = text.advice {
                lines.push(Line::styled(format!("({advice})"), style));
            }
            lines
        }
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

fn audit_line(entry: &AuditEntry, ctx: &ViewContext, width: u16) -> Line<'static> {
    let theme = ctx.theme;
    let outcome = if entry.completed {
        entry.outcome.as_str()
    } else {
        "in flight"
    };
    Line::from(vec![
        Span::styled(format!("{} ", ctx.clock(entry.at)), theme.dim),
        Span::raw(format!("{} ", link_label(&entry.link_id, width))),
        Span::styled(format!("{outcome} "), outcome_style(theme, entry.outcome)),
        Span::styled(words::audit_detail(entry), theme.dim),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, state: &NotifyState) {
    let theme = ctx.theme;
    let block = pane_block(
        ctx,
        Pane::Notify,
        Line::styled(" Payout-link notify ", theme.title),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let typing = state.editing && ctx.has_keyboard(Pane::Notify);
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
    lines.extend(phase_lines(ctx, state));

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
                .map(|entry| {
                    let line = audit_line(entry, ctx, audit_area.width);
                    super::format::clip_line(line, usize::from(audit_area.width))
                }),
        );
        frame.render_widget(Paragraph::new(audit), audit_area);
    }
}
