//! Colours and text attributes. Two themes: colour (ANSI base colours on the
//! terminal's own foreground, so it reads on light and dark backgrounds) and
//! monochrome (`NO_COLOR`), which carries the same meaning with symbols and
//! bold / reversed / underlined text.

use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::BorderType;

use crate::domain::SessionStatus;
use crate::store::CreateState;

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub monochrome: bool,
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub border: Style,
    pub border_focused: Style,
    pub key: Style,
    pub selected: Style,
    pub selected_unfocused: Style,
    pub ok: Style,
    pub bad: Style,
    pub pending: Style,
    pub unknown: Style,
    pub stale: Style,
    pub error: Style,
    pub warning: Style,
    pub live: Style,
    pub sandbox: Style,
    pub demo: Style,
    pub amount: Style,
    pub low_balance: Style,
    pub qr: Style,
    pub button: Style,
    pub button_focused: Style,
    pub field_focused: Style,
}

impl Theme {
    /// Colours are accents only: text keeps the terminal's own foreground, and
    /// no bright variants are used (they vanish on light backgrounds).
    pub fn colour() -> Theme {
        let bold = Modifier::BOLD;
        Theme {
            monochrome: false,
            text: Style::new(),
            dim: Style::new().add_modifier(Modifier::DIM),
            title: Style::new().add_modifier(bold),
            border: Style::new(),
            border_focused: Style::new().fg(Color::Blue).add_modifier(bold),
            key: Style::new().fg(Color::Blue).add_modifier(bold),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            selected_unfocused: Style::new().add_modifier(Modifier::UNDERLINED),
            ok: Style::new().fg(Color::Green),
            bad: Style::new().fg(Color::Red),
            pending: Style::new().fg(Color::Yellow),
            unknown: Style::new().fg(Color::Magenta),
            stale: Style::new().fg(Color::Magenta).add_modifier(bold),
            error: Style::new().fg(Color::Red).add_modifier(bold),
            warning: Style::new().fg(Color::Yellow).add_modifier(bold),
            live: Style::new().fg(Color::Red).add_modifier(bold),
            sandbox: Style::new().fg(Color::Blue).add_modifier(bold),
            demo: Style::new()
                .fg(Color::Magenta)
                .add_modifier(bold | Modifier::REVERSED),
            amount: Style::new().add_modifier(bold),
            low_balance: Style::new().fg(Color::Red).add_modifier(bold),
            // A QR code must be dark on light whatever the terminal's background.
            qr: Style::new().fg(Color::Black).bg(Color::White),
            button: Style::new(),
            button_focused: Style::new().add_modifier(bold | Modifier::REVERSED),
            field_focused: Style::new().fg(Color::Blue).add_modifier(bold),
        }
    }

    pub fn monochrome() -> Theme {
        let bold = Modifier::BOLD;
        Theme {
            monochrome: true,
            text: Style::new(),
            dim: Style::new().add_modifier(Modifier::DIM),
            title: Style::new().add_modifier(bold),
            border: Style::new(),
            border_focused: Style::new().add_modifier(bold),
            key: Style::new().add_modifier(bold),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            selected_unfocused: Style::new().add_modifier(Modifier::UNDERLINED),
            ok: Style::new().add_modifier(bold),
            bad: Style::new().add_modifier(Modifier::UNDERLINED),
            pending: Style::new(),
            unknown: Style::new().add_modifier(Modifier::ITALIC),
            stale: Style::new().add_modifier(Modifier::REVERSED),
            error: Style::new().add_modifier(bold),
            warning: Style::new().add_modifier(bold),
            live: Style::new().add_modifier(bold | Modifier::REVERSED),
            sandbox: Style::new().add_modifier(bold),
            demo: Style::new().add_modifier(Modifier::REVERSED),
            amount: Style::new().add_modifier(bold),
            low_balance: Style::new().add_modifier(bold | Modifier::UNDERLINED),
            qr: Style::new(),
            button: Style::new(),
            button_focused: Style::new().add_modifier(bold | Modifier::REVERSED),
            field_focused: Style::new().add_modifier(bold),
        }
    }

    pub fn for_options(no_color: bool) -> Theme {
        if no_color {
            Theme::monochrome()
        } else {
            Theme::colour()
        }
    }

    pub fn status(&self, status: &SessionStatus) -> Style {
        match status {
            SessionStatus::Pending => self.pending,
            SessionStatus::Authenticated => self.ok,
            SessionStatus::Expired | SessionStatus::ConsentDenied => self.bad,
            SessionStatus::Unknown(_) => self.unknown,
        }
    }

    pub fn create_state(&self, state: &CreateState, status: &SessionStatus) -> Style {
        match state {
            CreateState::Created => self.status(status),
            CreateState::Sending => self.pending,
            CreateState::OutcomeUnknown(_) => self.warning,
            CreateState::Failed(_) => self.bad,
        }
    }

    /// A heavier border marks focus even without colour.
    pub fn border_type(&self, focused: bool) -> BorderType {
        if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        }
    }
}
