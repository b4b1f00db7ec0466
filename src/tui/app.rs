//! The dashboard's state: each feature's own state side by side, plus what
//! they share (clock, size, focus, the dialog in front). Nothing here touches
//! the terminal or the clock: `now` is set by ticks so drawing and updating
//! are deterministic.

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use crate::config::{SessionDefaults, ThemeConfig};
use crate::domain::SessionId;

use super::activity::ActivityLog;
use super::balance::BalanceState;
use super::detail::{DetailView, Shown};
use super::feedback::{Debounce, Effect, Feedback, Reach};
use super::help::HelpView;
use super::keymap::{Context, KeyMap};
use super::layout::Pane;
use super::new_session::NewSessionForm;
use super::notify::{NotifyConfirm, NotifyState};
use super::sessions::SessionTable;
use super::theme::Theme;
use super::toasts::Toasts;
use super::track::TrackForm;
use super::view::{Providers, ViewContext};

/// At most one dialog or overlay is open; it takes the keyboard.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help(HelpView),
    /// The activity log, every line in full.
    Activity(super::activity::ActivityView),
    NewSession(NewSessionForm),
    Track(TrackForm),
    Detail(DetailView),
    ConfirmNotify(NotifyConfirm),
    /// The balance history, full screen.
    BalanceChart,
}

#[derive(Debug, Clone)]
pub struct App {
    pub options: TuiOptions,
    pub theme: Theme,
    pub keymap: KeyMap,
    pub now: Timestamp,
    /// For wall-clock times on screen (tests use UTC).
    pub tz: TimeZone,
    pub size: (u16, u16),
    /// Set by `update` when the screen must be redrawn; the runner clears it.
    pub dirty: bool,
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    pub providers: Providers,
    pub balance: BalanceState,
    pub sessions: SessionTable,
    pub notify: NotifyState,
    pub activity: ActivityLog,
    pub toasts: Toasts,
    /// When `r` last did something, for its debounce.
    pub refresh: Debounce,
    /// The engine's updates channel closed: nothing will change any more.
    pub engine_gone: bool,
    /// The on-screen sessions last reported to the engine.
    pub reported_on_screen: Vec<SessionId>,
    /// Creates this dashboard asked for and has not heard back about: the
    /// new row is selected and opened when it arrives.
    pub awaiting_creates: u32,
    /// Team mode: the server, who is signed in, and the connection.
    pub team: Option<super::team::TeamState>,
}

impl App {
    pub fn new(options: TuiOptions, theme: Theme, now: Timestamp, tz: TimeZone) -> App {
        let team = options.team.clone();
        let mut app = App {
            team,
            providers: Providers::new(options.instantpay_configured, options.cashfree_configured),
            balance: BalanceState::new(
                options.low_balance_threshold,
                options.balance_drop_alert,
                options.balance_interval,
            ),
            keymap: options.keymap.clone(),
            options,
            theme,
            now,
            tz,
            size: (80, 24),
            dirty: true,
            focus: Pane::Sessions,
            overlay: None,
            sessions: SessionTable::default(),
            notify: NotifyState::default(),
            activity: ActivityLog::default(),
            toasts: Toasts::default(),
            refresh: Debounce::default(),
            engine_gone: false,
            reported_on_screen: Vec::new(),
            awaiting_creates: 0,
        };
        app.sessions
            .set_page_rows(super::layout::session_rows(app.size.0, app.size.1));
        app
    }

    /// Where keys go right now.
    pub fn context(&self) -> Context {
        match &self.overlay {
            Some(Overlay::Help(_)) => Context::Help,
            Some(Overlay::Activity(_)) => Context::Activity,
            Some(Overlay::NewSession(_)) => Context::NewSession,
            Some(Overlay::Track(_)) => Context::Track,
            Some(Overlay::Detail(view)) if view.confirm_stop => Context::ConfirmStop,
            Some(Overlay::Detail(view)) if view.label_edit.is_some() => Context::EditLabel,
            Some(Overlay::Detail(_)) => Context::Detail,
            Some(Overlay::ConfirmNotify(_)) => Context::ConfirmNotify,
            Some(Overlay::BalanceChart) => Context::BalanceChart,
            None => match self.focus {
                Pane::Balance => Context::Balance,
                Pane::Sessions if self.sessions.filter_editing => Context::Filter,
                Pane::Sessions => Context::Sessions,
                Pane::Notify if self.notify.editing => Context::NotifyField,
                Pane::Notify => Context::Notify,
            },
        }
    }

    /// What every view may read besides its own state.
    pub fn view_context(&self) -> ViewContext<'_> {
        ViewContext {
            theme: &self.theme,
            now: self.now,
            tz: &self.tz,
            focus: self.focus,
            dialog_open: self.overlay.is_some(),
            providers: &self.providers,
            keymap: &self.keymap,
            team: self.team.as_ref(),
        }
    }

    /// The sessions someone is looking at: the detail view's and the selected
    /// row's. The engine polls these fastest.
    pub fn on_screen(&self) -> Vec<SessionId> {
        let mut ids: Vec<SessionId> = self
            .sessions
            .selected_record()
            .map(|record| record.id.clone())
            .into_iter()
            .collect();
        if let Some(Overlay::Detail(view)) = &self.overlay {
            ids.push(view.id.clone());
        }
        ids.sort();
        ids.dedup();
        ids
    }

    /// The session the detail view shows, with its details and history.
    pub fn shown(&self, view: &DetailView) -> Option<Shown<'_>> {
        let record = self.sessions.get(&view.id)?;
        Some(Shown {
            record,
            details: self.sessions.user_details.get(&view.id),
            history: self.sessions.histories.get(&view.id).map(Vec::as_slice),
            trouble: self.sessions.troubles.get(&view.id),
        })
    }

    pub fn focus(&mut self, pane: Pane) {
        self.focus = pane;
        self.notify.editing = false;
        self.sessions.filter_editing = false;
    }

    /// Puts a feature's notices where they belong and hands its effects on.
    pub fn apply(&mut self, feedback: Feedback) -> Vec<Effect> {
        for notice in feedback.notices {
            if matches!(notice.reach, Reach::Toast | Reach::Both) {
                self.toasts
                    .push(self.now, notice.level, notice.text.clone());
            }
            if matches!(notice.reach, Reach::Log | Reach::Both) {
                self.activity.push(self.now, notice.level, notice.text);
            }
        }
        feedback.effects
    }
}

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
    pub team: Option<super::team::TeamState>,
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
