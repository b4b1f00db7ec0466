//! Team mode in the dashboard: which server and as whom, whether the
//! connection holds, and what this operator's role lets them do. Solo mode
//! has no `TeamState` and none of this applies.
//!
//! Commands are screened here before they leave: one the role may not give,
//! or one typed while the server is out of reach, is refused with a toast
//! and whatever waited on it (a notify in flight, a create to open) stops
//! waiting. Nothing is queued for later.

use jiff::Timestamp;
use ratatui::style::Style;
use ratatui::text::Span;

use super::feedback::{Feedback, Level};
use super::keymap::Action;
use super::layout::Pane;
use crate::auth::{Permission, Role};
use crate::engine::{Command, Connection};

/// Who this dashboard is, on which server, and how the link to it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamState {
    /// Host and port, as the header shows it.
    pub server: String,
    pub operator: String,
    pub role: Role,
    pub link: Link,
    /// When the token stops working (`None`: never); the header warns
    /// within a week of it.
    pub token_expires: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// Not yet heard from the server.
    Connecting,
    Up,
    /// What is on screen is as of `since`.
    Down {
        since: Timestamp,
        reason: String,
        retry_at: Timestamp,
        /// The server turned the token away (revoked, or a new demo token).
        refused: bool,
    },
    /// Connected, but the server's store does not answer: what is on
    /// screen is as of `since`.
    StoreDown {
        since: Timestamp,
    },
}

impl TeamState {
    pub fn new(server: String, operator: String, role: Role) -> TeamState {
        TeamState {
            server,
            operator,
            role,
            link: Link::Connecting,
            token_expires: None,
        }
    }

    pub fn with_token_expiry(mut self, at: Option<Timestamp>) -> TeamState {
        self.token_expires = at;
        self
    }

    /// "token expires in 3 d", within a week of it.
    fn expiry_note(&self, now: Timestamp) -> Option<String> {
        let left = now.duration_until(self.token_expires?);
        let hours = left.as_hours();
        if !(0..7 * 24).contains(&hours) || left.is_negative() {
            return None;
        }
        Some(if hours >= 24 {
            format!(" token expires in {} d ", hours / 24)
        } else {
            format!(" token expires in {} h ", hours.max(1))
        })
    }

    /// Whether this operator's role lets them use `action` (the status bar
    /// greys out the rest).
    pub fn may(&self, action: Action, focus: Pane) -> bool {
        self.denied(action, focus).is_none()
    }

    /// Why the role does not allow `action`, if it does not.
    pub fn denied(&self, action: Action, focus: Pane) -> Option<String> {
        // Personal data stays on the server: nobody fetches it through one.
        if matches!(action, Action::FetchDocuments | Action::RevealDocuments) {
            return Some(
                "documents are fetched on the server host (`payops digilocker documents`), \
                 not through it"
                    .into(),
            );
        }
        self.needs(
            &action.name().replace('_', " "),
            action_permission(action, focus)?,
        )
    }

    /// "notify: needs the finance role (you are support)", unless it does not.
    fn needs(&self, what: &str, permission: Permission) -> Option<String> {
        (!self.role.may(permission)).then(|| {
            format!(
                "{what}: needs the {} role (you are {})",
                Role::needed_for(permission),
                self.role
            )
        })
    }

    pub fn connected(&self) -> bool {
        self.link == Link::Up
    }

    /// Why `command` cannot go to the server now, if it cannot.
    pub fn refusal(&self, command: &Command) -> Option<String> {
        if let Command::FetchDocuments(_) = command {
            return self.denied(Action::FetchDocuments, Pane::Sessions);
        }
        let permission = command_permission(command)?;
        if let Some(denied) = self.needs(what(command), permission) {
            return Some(denied);
        }
        match self.link {
            Link::Up => None,
            Link::StoreDown { .. } => Some(format!(
                "{} not sent: the payops server at {} cannot reach its store",
                what(command),
                self.server
            )),
            _ => Some(format!(
                "{} not sent: not connected to {}; it reconnects on its own",
                what(command),
                self.server
            )),
        }
    }

    pub fn on_connection(
        &mut self,
        connection: Connection,
        now: Timestamp,
        feedback: &mut Feedback,
    ) {
        match connection {
            Connection::StoreDown { reason } => {
                if !matches!(self.link, Link::StoreDown { .. }) {
                    feedback.alert(
                        Level::Error,
                        format!(
                            "the payops server at {} cannot reach its store ({reason}); \
                             showing the last data",
                            self.server
                        ),
                    );
                    self.link = Link::StoreDown { since: now };
                }
            }
            Connection::Up { changed } => {
                if matches!(self.link, Link::StoreDown { .. }) {
                    feedback.alert(
                        Level::Success,
                        format!(
                            "the payops server at {} reaches its store again",
                            self.server
                        ),
                    );
                }
                if matches!(self.link, Link::Down { .. }) {
                    let changed = match changed {
                        Some(0) | None => "nothing changed while away".to_string(),
                        Some(1) => "1 session changed while away".to_string(),
                        Some(n) => format!("{n} sessions changed while away"),
                    };
                    feedback.alert(
                        Level::Success,
                        format!("reconnected to {}: {changed}", self.server),
                    );
                }
                self.link = Link::Up;
            }
            Connection::Down {
                reason,
                retry_in,
                refused,
            } => {
                let retry_at = now
                    .checked_add(jiff::SignedDuration::try_from(retry_in).unwrap_or_default())
                    .unwrap_or(now);
                let since = match &self.link {
                    Link::Down { since, .. } => *since,
                    _ => {
                        let text = if refused {
                            format!(
                                "{} refused {}'s token ({reason}); showing the last data; \
                                 with a new token, start payops again",
                                self.server, self.operator
                            )
                        } else {
                            format!(
                                "lost the payops server at {}: {reason}; showing the last data",
                                self.server
                            )
                        };
                        feedback.alert(Level::Error, text);
                        now
                    }
                };
                self.link = Link::Down {
                    since,
                    reason,
                    retry_at,
                    refused,
                };
            }
        }
    }
}

/// What an action needs on the server, with the keyboard on `focus`; None
/// for what only moves the view.
pub fn action_permission(action: Action, focus: Pane) -> Option<Permission> {
    match action {
        // `r` refreshes what has the keyboard.
        Action::Refresh => Some(match focus {
            Pane::Sessions => Permission::Sessions,
            Pane::Balance | Pane::Notify => Permission::Money,
        }),
        Action::NewSession
        | Action::TrackSession
        | Action::RefreshSession
        | Action::StopTracking
        | Action::EditLabel
        | Action::FetchDocuments
        | Action::RevealDocuments => Some(Permission::Sessions),
        Action::FocusNotify | Action::EditLink | Action::LookUpLink => Some(Permission::Money),
        _ => None,
    }
}

/// What a command needs on the server; None for what stays in the client.
fn command_permission(command: &Command) -> Option<Permission> {
    match command {
        Command::CreateSession(_)
        | Command::TrackSession { .. }
        | Command::RefreshSession(_)
        | Command::StopTracking(_)
        | Command::SetLabel { .. }
        | Command::FetchDocuments(_) => Some(Permission::Sessions),
        Command::RefreshBalance | Command::LookupLink(_) | Command::SendNotify(_) => {
            Some(Permission::Money)
        }
        Command::StoreChanged
        | Command::LogReveal { .. }
        | Command::OnScreen(_)
        | Command::Lead(_)
        | Command::Shutdown => None,
    }
}

/// The command, as a refusal names it.
pub fn what(command: &Command) -> &'static str {
    match command {
        Command::CreateSession(_) => "create",
        Command::TrackSession { .. } => "track",
        Command::RefreshSession(_) => "poll now",
        Command::StopTracking(_) => "stop tracking",
        Command::SetLabel { .. } => "label",
        Command::FetchDocuments(_) => "documents",
        Command::RefreshBalance => "balance refresh",
        Command::LookupLink(_) => "link lookup",
        Command::SendNotify(_) => "notify",
        _ => "request",
    }
}

/// The header's part: the server and operator, or the stale warning.
pub fn header_spans(
    team: &TeamState,
    now: Timestamp,
    theme: &super::theme::Theme,
) -> Vec<Span<'static>> {
    let who = format!(" {} as {} ({}) ", team.server, team.operator, team.role);
    match &team.link {
        Link::Up => {
            let mut spans = vec![Span::styled(format!(" ⇄{who}"), theme.dim)];
            spans.extend(
                team.expiry_note(now)
                    .map(|note| Span::styled(note, theme.warning)),
            );
            spans
        }
        Link::Connecting => vec![Span::styled(
            format!(" … connecting to{who}"),
            theme.warning,
        )],
        Link::Down {
            since,
            retry_at,
            refused,
            ..
        } => {
            let retry = retry_at.duration_since(now).as_secs().max(0);
            // Who stays named: a stale screen must not pass for someone else's.
            let why = if *refused {
                format!("{} refuses {}'s token", team.server, team.operator)
            } else {
                format!("{} unreachable", team.server)
            };
            // A refused token is not retried: nothing to count down to.
            let retry = if *refused {
                String::new()
            } else {
                format!(" · retry in {retry}s")
            };
            vec![Span::styled(
                format!(
                    " ⚠ STALE since {} · {why}{retry} ",
                    super::format::ago_short(now, *since),
                ),
                stale_style(theme),
            )]
        }
        Link::StoreDown { since } => vec![Span::styled(
            format!(
                " ⚠ STALE since {} · {}'s store is down ",
                super::format::ago_short(now, *since),
                team.server
            ),
            stale_style(theme),
        )],
    }
}

fn stale_style(theme: &super::theme::Theme) -> Style {
    theme.error.add_modifier(ratatui::style::Modifier::REVERSED)
}
