//! A session's status as the table and the detail view both show it.

use ratatui::style::Style;

use crate::domain::SessionStatus;
use crate::store::{CreateState, SessionRecord};

use super::super::theme::Theme;

/// The status as a word with its symbol, so it reads without colour; the
/// create state wins while the session does not exist at the provider yet.
pub fn status_text(record: &SessionRecord) -> String {
    match &record.create_state {
        CreateState::Sending => "↑ SENDING".to_string(),
        CreateState::OutcomeUnknown(_) => "? OUTCOME UNKNOWN".to_string(),
        CreateState::Failed(_) => "✗ CREATE FAILED".to_string(),
        CreateState::Created => match &record.status {
            SessionStatus::Unknown(raw) => format!("? {raw}"),
            status => format!("{} {}", status.symbol(), status.as_str()),
        },
    }
}

pub fn status_style(theme: &Theme, record: &SessionRecord) -> Style {
    theme.create_state(&record.create_state, &record.status)
}
