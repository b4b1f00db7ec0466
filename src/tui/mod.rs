//! The terminal dashboard.
//!
//! Each feature is one module that owns its state, its keys, its reaction
//! to engine updates and its view: `balance`, `sessions`, `detail`,
//! `new_session`, `track`, `notify` (with its confirm dialog), `help`,
//! `activity`, `toasts`, and the `header` and `status_bar` lines. Views draw
//! from their own state plus a small [`view::ViewContext`] (theme, clock,
//! focus), never from the whole app. [`App`] composes the features;
//! [`update::update`] is the one entry point for change and dispatches to
//! them; [`draw::draw`] places their views. The runner in `terminal.rs` is
//! the only part that touches the terminal, the clock or the network
//! channels, so everything else is testable without a terminal.

use std::time::Duration;

use rust_decimal::Decimal;

use crate::config::{SessionDefaults, ThemeConfig};

pub mod activity;
pub mod app;
pub mod balance;
mod balance_chart;
mod desktop;
pub mod detail;
pub mod draw;
pub mod feedback;
pub mod format;
pub mod header;
pub mod help;
pub mod keymap;
pub mod layout;
pub mod new_session;
pub mod notify;
pub mod sessions;
pub mod status_bar;
pub mod team;
pub mod terminal;
pub mod theme;
pub mod toasts;
pub mod track;
pub mod update;
pub mod view;
pub mod widgets;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod team_tests;
#[cfg(test)]
mod tests;

pub use app::App;
pub use feedback::Effect;
pub use keymap::KeyMap;
pub use terminal::run;
pub use theme::Theme;
pub use update::{Msg, update};

/// What `main` tells the dashboard at start.
#[derive(Debug, Clone, PartialEq)]
pub struct TuiOptions {
    /// Talking to the built-in simulator: shows a DEMO badge.
    pub demo: bool,
    /// `--no-color`; the `NO_COLOR` environment variable is honoured as well.
    pub no_color: bool,
    pub low_balance_threshold: Option<Decimal>,
    /// `[dashboard] balance_drop_alert`.
    pub balance_drop_alert: Option<Decimal>,
    /// `[alerts] desktop`: alerts go to the desktop as well as the bell.
    pub desktop_alerts: bool,
    /// Past this age the balance is marked stale.
    pub balance_interval: Duration,
    pub session_interval: Duration,
    /// Prefills for the new-session form.
    pub defaults: SessionDefaults,
    pub instantpay_configured: bool,
    pub cashfree_configured: bool,
    /// The keys in force: the defaults with the config's `[keys]` applied.
    pub keymap: KeyMap,
    /// `[theme]`.
    pub theme: ThemeConfig,
    /// Team mode: the server, the operator and their role.
    pub team: Option<team::TeamState>,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            demo: false,
            no_color: false,
            low_balance_threshold: None,
            balance_drop_alert: None,
            desktop_alerts: false,
            balance_interval: Duration::from_secs(300),
            session_interval: Duration::from_secs(5),
            defaults: SessionDefaults::default(),
            instantpay_configured: false,
            cashfree_configured: false,
            keymap: KeyMap::default(),
            theme: ThemeConfig::default(),
            team: None,
        }
    }
}
