//! A session's status as the table and the detail view both show it.

use ratatui::style::Style;

use crate::domain::SessionRecord;

use super::super::theme::Theme;

pub fn status_style(theme: &Theme, record: &SessionRecord) -> Style {
    theme.create_state(&record.create_state, &record.status)
}
