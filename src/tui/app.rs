//! All UI state, as plain data. Nothing here touches the terminal or the clock:
//! `now` is set by ticks so drawing and updating are deterministic.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::domain::Provider;
use crate::engine::ProviderSetup;

use super::TuiOptions;
use super::activity::ActivityLog;
use super::balance::BalanceState;
use super::detail::DetailView;
use super::keymap::Context;
use super::new_session::NewSessionForm;
use super::notify::{NotifyConfirm, NotifyState};
use super::sessions::SessionTable;
use super::theme::Theme;
use super::toast::Toasts;
use super::track::TrackForm;

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

/// At most one dialog or overlay is open; it takes the keyboard.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help,
    NewSession(NewSessionForm),
    Track(TrackForm),
    Detail(DetailView),
    ConfirmNotify(NotifyConfirm),
}

#[derive(Debug, Clone)]
pub struct App {
    pub options: TuiOptions,
    pub theme: Theme,
    pub now: Timestamp,
    /// For wall-clock times on screen (tests use UTC).
    pub tz: TimeZone,
    pub size: (u16, u16),
    /// Set by `update` when the screen must be redrawn; the runner clears it.
    pub dirty: bool,
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    pub instantpay: ProviderSetup,
    pub cashfree: ProviderSetup,
    pub balance: BalanceState,
    pub sessions: SessionTable,
    pub notify: NotifyState,
    pub activity: ActivityLog,
    pub toasts: Toasts,
    /// When `r` last did something, for its 2 s debounce.
    pub last_refresh: Option<Timestamp>,
    /// The engine's updates channel closed: nothing will change any more.
    pub engine_gone: bool,
}

impl App {
    pub fn new(options: TuiOptions, theme: Theme, now: Timestamp, tz: TimeZone) -> App {
        let setup = |configured: bool| {
            if configured {
                ProviderSetup::Configured { environment: None }
            } else {
                ProviderSetup::NotConfigured
            }
        };
        let mut app = App {
            instantpay: setup(options.instantpay_configured),
            cashfree: setup(options.cashfree_configured),
            options,
            theme,
            now,
            tz,
            size: (80, 24),
            dirty: true,
            focus: Pane::Sessions,
            overlay: None,
            balance: BalanceState::default(),
            sessions: SessionTable::default(),
            notify: NotifyState::default(),
            activity: ActivityLog::default(),
            toasts: Toasts::default(),
            last_refresh: None,
            engine_gone: false,
        };
        app.sessions
            .set_page_rows(super::ui::session_rows(app.size.0, app.size.1));
        app
    }

    pub fn is_configured(&self, provider: Provider) -> bool {
        let setup = match provider {
            Provider::InstantPay => &self.instantpay,
            Provider::Cashfree => &self.cashfree,
        };
        matches!(setup, ProviderSetup::Configured { .. })
    }

    /// Where keys go right now.
    pub fn context(&self) -> Context {
        match &self.overlay {
            Some(Overlay::Help) => Context::Help,
            Some(Overlay::NewSession(_)) => Context::NewSession,
            Some(Overlay::Track(_)) => Context::Track,
            Some(Overlay::Detail(view)) if view.confirm_stop => Context::ConfirmStop,
            Some(Overlay::Detail(_)) => Context::Detail,
            Some(Overlay::ConfirmNotify(_)) => Context::ConfirmNotify,
            None => match self.focus {
                Pane::Balance => Context::Balance,
                Pane::Sessions if self.sessions.filter_editing => Context::Filter,
                Pane::Sessions => Context::Sessions,
                Pane::Notify if self.notify.editing => Context::NotifyField,
                Pane::Notify => Context::Notify,
            },
        }
    }

    pub fn clock(&self, at: Timestamp) -> String {
        super::format::clock(at, &self.tz)
    }
}
