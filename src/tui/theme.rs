//! Colours and text attributes. A theme is built from a palette of six
//! roles (ok, pending, failed, stale, accent, muted): the built-in `dark`,
//! `light` and `high-contrast` palettes, with the config's `[theme]`
//! colours over them. Monochrome (`NO_COLOR`, `--no-color`) carries the same
//! meaning with symbols and bold / reversed / underlined text, and wins over
//! any configured colour.

use ratatui::style::{Color, Modifier, Style};
use ratatui::widgets::BorderType;

use crate::config::{ThemeConfig, ThemeName};
use crate::domain::CreateState;
use crate::domain::SessionStatus;
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

/// The colour of each role a theme is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub ok: Color,
    pub pending: Color,
    pub failed: Color,
    pub stale: Color,
    pub accent: Color,
    /// Secondary text; None dims it with the terminal's own attribute.
    pub muted: Option<Color>,
    /// Every status colour bold too (high contrast).
    pub bold_statuses: bool,
}

impl Palette {
    pub fn built_in(name: ThemeName) -> Palette {
        match name {
            // Base colours only: bright variants vanish on light backgrounds.
            ThemeName::Dark => Palette {
                ok: Color::Green,
                pending: Color::Yellow,
                failed: Color::Red,
                stale: Color::Magenta,
                accent: Color::Blue,
                muted: None,
                bold_statuses: false,
            },
            // Darker shades from the 256-colour palette: yellow on white is unreadable.
            ThemeName::Light => Palette {
                ok: Color::Indexed(28),
                pending: Color::Indexed(130),
                failed: Color::Indexed(124),
                stale: Color::Indexed(90),
                accent: Color::Indexed(25),
                muted: Some(Color::Indexed(242)),
                bold_statuses: false,
            },
            ThemeName::HighContrast => Palette {
                ok: Color::LightGreen,
                pending: Color::LightYellow,
                failed: Color::LightRed,
                stale: Color::LightMagenta,
                accent: Color::LightCyan,
                muted: Some(Color::Reset),
                bold_statuses: true,
            },
        }
    }

    /// The named theme with the configured colours over it.
    pub fn from_config(config: &ThemeConfig) -> Palette {
        let base = Palette::built_in(config.name);
        Palette {
            ok: config.ok.unwrap_or(base.ok),
            pending: config.pending.unwrap_or(base.pending),
            failed: config.failed.unwrap_or(base.failed),
            stale: config.stale.unwrap_or(base.stale),
            accent: config.accent.unwrap_or(base.accent),
            muted: config.muted.or(base.muted),
            bold_statuses: base.bold_statuses,
        }
    }
}

impl Theme {
    /// The default (`dark`) theme.
    pub fn colour() -> Theme {
        Theme::from_palette(Palette::built_in(ThemeName::Dark))
    }

    /// Colours are accents only: text keeps the terminal's own foreground.
    pub fn from_palette(palette: Palette) -> Theme {
        let bold = Modifier::BOLD;
        let status = |colour: Color| {
            let style = Style::new().fg(colour);
            if palette.bold_statuses {
                style.add_modifier(bold)
            } else {
                style
            }
        };
        let accent = Style::new().fg(palette.accent).add_modifier(bold);
        Theme {
            monochrome: false,
            text: Style::new(),
            dim: match palette.muted {
                Some(colour) => Style::new().fg(colour),
                None => Style::new().add_modifier(Modifier::DIM),
            },
            title: Style::new().add_modifier(bold),
            border: Style::new(),
            border_focused: accent,
            key: accent,
            selected: Style::new().add_modifier(Modifier::REVERSED),
            selected_unfocused: Style::new().add_modifier(Modifier::UNDERLINED),
            ok: status(palette.ok),
            bad: status(palette.failed),
            pending: status(palette.pending),
            unknown: status(palette.stale),
            stale: Style::new().fg(palette.stale).add_modifier(bold),
            error: Style::new().fg(palette.failed).add_modifier(bold),
            warning: Style::new().fg(palette.pending).add_modifier(bold),
            live: Style::new().fg(palette.failed).add_modifier(bold),
            sandbox: accent,
            demo: Style::new()
                .fg(palette.stale)
                .add_modifier(bold | Modifier::REVERSED),
            amount: Style::new().add_modifier(bold),
            low_balance: Style::new().fg(palette.failed).add_modifier(bold),
            // A QR code must be dark on light whatever the terminal's background.
            qr: Style::new().fg(Color::Black).bg(Color::White),
            button: Style::new(),
            button_focused: Style::new().add_modifier(bold | Modifier::REVERSED),
            field_focused: accent,
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
            // Not decoration: a scanner needs dark modules on light, and a
            // default foreground is often light on dark.
            qr: Style::new().fg(Color::Black).bg(Color::White),
            button: Style::new(),
            button_focused: Style::new().add_modifier(bold | Modifier::REVERSED),
            field_focused: Style::new().add_modifier(bold),
        }
    }

    /// `NO_COLOR` wins over any configured theme.
    pub fn for_options(config: &ThemeConfig, no_color: bool) -> Theme {
        if no_color {
            Theme::monochrome()
        } else {
            Theme::from_palette(Palette::from_config(config))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_colours_override_the_named_theme_and_no_color_wins() {
        let config = ThemeConfig {
            name: ThemeName::Light,
            ok: Some(Color::Cyan),
            ..ThemeConfig::default()
        };
        let theme = Theme::for_options(&config, false);
        assert_eq!(theme.ok.fg, Some(Color::Cyan));
        assert_eq!(theme.bad.fg, Some(Color::Indexed(124)), "light's own red");
        assert_eq!(theme.dim.fg, Some(Color::Indexed(242)));
        assert_eq!(Theme::for_options(&config, true), Theme::monochrome());
    }

    #[test]
    fn high_contrast_never_dims() {
        let theme = Theme::for_options(
            &ThemeConfig {
                name: ThemeName::HighContrast,
                ..ThemeConfig::default()
            },
            false,
        );
        assert!(!theme.dim.add_modifier.contains(Modifier::DIM));
        assert!(theme.pending.add_modifier.contains(Modifier::BOLD));
    }
}
