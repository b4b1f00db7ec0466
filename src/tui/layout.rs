//! Where everything goes on the screen, as pure geometry: the drawing uses
//! it, and so do key and mouse handling (page size, clicks).

use ratatui::layout::{Constraint, Layout, Rect};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Where everything goes. `update` uses it too, to map mouse clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenLayout {
    pub header: Rect,
    /// Between the header and the status bar: where full overlays go.
    pub main: Rect,
    /// The panes (main without the activity log): where toasts go.
    pub body: Rect,
    pub balance: Rect,
    pub sessions: Rect,
    pub notify: Rect,
    pub activity: Rect,
    pub status_bar: Rect,
}

/// None below 80x24, where only a "too small" message is drawn.
pub fn screen_layout(area: Rect) -> Option<ScreenLayout> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let activity_height = if area.height >= 40 { 7 } else { 4 };
    let [header, main, status_bar] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    let [body, activity] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(activity_height)]).areas(main);
    let left_width = if area.width >= 140 { 50 } else { 35 };
    let [left, sessions] =
        Layout::horizontal([Constraint::Length(left_width), Constraint::Min(0)]).areas(body);
    let balance_height = if body.height >= 30 { 12 } else { 8 };
    let [balance, notify] =
        Layout::vertical([Constraint::Length(balance_height), Constraint::Min(0)]).areas(left);
    Some(ScreenLayout {
        header,
        main,
        body,
        balance,
        sessions,
        notify,
        activity,
        status_bar,
    })
}

/// Table rows on screen (borders and the heading row excluded).
pub fn session_rows(width: u16, height: u16) -> usize {
    screen_layout(Rect::new(0, 0, width, height))
        .map(|layout| layout.sessions.height.saturating_sub(3) as usize)
        .unwrap_or(1)
        .max(1)
}

/// The panes `Tab` cycles through, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Balance,
    Sessions,
    Notify,
}

impl Pane {
    pub const ORDER: [Pane; 3] = [Pane::Balance, Pane::Sessions, Pane::Notify];

    pub fn next(self) -> Pane {
        match self {
            Pane::Balance => Pane::Sessions,
            Pane::Sessions => Pane::Notify,
            Pane::Notify => Pane::Balance,
        }
    }

    pub fn previous(self) -> Pane {
        match self {
            Pane::Balance => Pane::Notify,
            Pane::Sessions => Pane::Balance,
            Pane::Notify => Pane::Sessions,
        }
    }
}
