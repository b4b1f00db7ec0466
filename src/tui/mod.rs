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

pub mod activity;
pub mod app;
pub mod balance;
mod balance_chart;
mod balance_pane;
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

pub use app::{App, TuiOptions};
pub use feedback::Effect;
pub use keymap::KeyMap;
pub use terminal::run;
pub use theme::Theme;
pub use update::{Msg, update};
