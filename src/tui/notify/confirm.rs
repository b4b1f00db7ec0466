//! "Send payout-link notification?": the dialog between a lookup and a
//! notify. Cancel is focused first; a notify that went recently makes the
//! first yes ask again.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::domain::LinkReport;
use crate::domain::RecentNotifies;
use crate::words;

use super::super::format::ago;
use super::super::keymap::Action;
use super::super::view::ViewContext;
use super::super::widgets::{button, draw_dialog};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    #[default]
    Cancel,
    Confirm,
}

#[derive(Debug, Clone)]
pub struct NotifyConfirm {
    pub report: LinkReport,
    /// Every notify of this link in the repeat window, newest first.
    pub recent: RecentNotifies,
    /// Cancel is focused by default, so a stray Enter sends nothing.
    pub choice: Choice,
    /// A notify went recently and the operator confirmed once: this is the
    /// second, explicit question.
    pub asking_again: bool,
}

/// What a key in the dialog decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmOutcome {
    Open,
    Send,
    Cancel,
}

impl NotifyConfirm {
    pub fn new(report: LinkReport, recent: RecentNotifies) -> NotifyConfirm {
        NotifyConfirm {
            report,
            recent,
            choice: Choice::Cancel,
            asking_again: false,
        }
    }

    pub fn handle_key(&mut self, action: Option<Action>) -> ConfirmOutcome {
        match action {
            Some(Action::ChoiceLeft) => self.choice = Choice::Cancel,
            Some(Action::ChoiceRight) => self.choice = Choice::Confirm,
            Some(Action::ChoiceToggle) => {
                self.choice = match self.choice {
                    Choice::Cancel => Choice::Confirm,
                    Choice::Confirm => Choice::Cancel,
                }
            }
            Some(Action::Confirm) => return self.confirm(),
            Some(Action::ChooseFocused) if self.choice == Choice::Confirm => return self.confirm(),
            Some(Action::ChooseFocused | Action::Deny) => return ConfirmOutcome::Cancel,
            _ => {}
        }
        ConfirmOutcome::Open
    }

    /// A notify went recently: the first yes only asks again, with Cancel
    /// focused anew.
    fn confirm(&mut self) -> ConfirmOutcome {
        if self.recent.last_reaching().is_some() && !self.asking_again {
            self.asking_again = true;
            self.choice = Choice::Cancel;
            return ConfirmOutcome::Open;
        }
        ConfirmOutcome::Send
    }
}

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, dialog: &NotifyConfirm) {
    let theme = ctx.theme;
    let report = &dialog.report;
    let width = area.width.saturating_sub(4).min(72);
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Link    ", theme.dim),
            Span::styled(report.link_id.to_string(), theme.title),
        ]),
        Line::from(vec![
            Span::styled("Amount  ", theme.dim),
            Span::styled(words::amount(report.amount), theme.amount),
        ]),
        Line::from(vec![
            Span::styled("Status  ", theme.dim),
            Span::raw(report.status.as_str()),
        ]),
    ];
    if let Some(warning) = words::link_not_issued(report) {
        lines.push(Line::styled(warning, theme.warning));
    }
    if let Some(counted) = words::recent_notifies(&dialog.recent, |at| {
        format!("{} ({})", ctx.clock(at), ago_minutes(ctx.now, at))
    }) {
        // A warning only when one may have reached the recipient.
        let style = if dialog.recent.last_reaching().is_some() {
            theme.warning
        } else {
            theme.dim
        };
        lines.push(Line::styled(format!("⚠ This link was {counted}."), style));
    }
    lines.push(Line::raw(""));
    if dialog.asking_again {
        lines.push(Line::styled(
            format!(
                "Really send ANOTHER notification for {} ({})?",
                report.link_id,
                words::amount(report.amount)
            ),
            theme.error,
        ));
    } else {
        lines.push(Line::raw(format!(
            "Send the SMS / e-mail / WhatsApp notification for {} ({}) to its recipient now?",
            report.link_id,
            words::amount(report.amount)
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
