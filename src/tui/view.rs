//! What every view may read besides its own state: the theme, the clock,
//! where the focus is and which providers are configured. Views never see
//! the whole `App`.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::domain::Provider;
use crate::engine::{ProviderHealth, ProviderSetup};

use super::keymap::{Action, KeyMap};
use super::layout::Pane;
use super::theme::Theme;

/// How each provider is set up, as the engine last said.
#[derive(Debug, Clone, PartialEq)]
pub struct Providers {
    pub instantpay: ProviderSetup,
    pub cashfree: ProviderSetup,
    /// How each one's calls are going, as the engine last said.
    pub instantpay_health: ProviderHealth,
    pub cashfree_health: ProviderHealth,
}

impl Providers {
    pub fn new(instantpay_configured: bool, cashfree_configured: bool) -> Providers {
        let setup = |configured: bool| {
            if configured {
                ProviderSetup::Configured { environment: None }
            } else {
                ProviderSetup::NotConfigured
            }
        };
        Providers {
            instantpay: setup(instantpay_configured),
            cashfree: setup(cashfree_configured),
            instantpay_health: ProviderHealth::default(),
            cashfree_health: ProviderHealth::default(),
        }
    }

    pub fn health(&self, provider: Provider) -> &ProviderHealth {
        match provider {
            Provider::InstantPay => &self.instantpay_health,
            Provider::Cashfree => &self.cashfree_health,
        }
    }

    pub fn set_health(&mut self, provider: Provider, health: ProviderHealth) {
        match provider {
            Provider::InstantPay => self.instantpay_health = health,
            Provider::Cashfree => self.cashfree_health = health,
        }
    }

    /// The largest slow-down of polling in force at `now`, and for whom.
    pub fn slowed(&self, now: Timestamp) -> Option<(Provider, u32)> {
        Provider::ALL
            .into_iter()
            .filter_map(|provider| Some((provider, self.health(provider).slowed_at(now)?)))
            .max_by_key(|(_, factor)| *factor)
    }

    pub fn setup(&self, provider: Provider) -> &ProviderSetup {
        match provider {
            Provider::InstantPay => &self.instantpay,
            Provider::Cashfree => &self.cashfree,
        }
    }

    pub fn is_configured(&self, provider: Provider) -> bool {
        matches!(self.setup(provider), ProviderSetup::Configured { .. })
    }

    /// The configured default if there is one, else the first configured provider.
    pub fn preferred(&self, default: Option<Provider>) -> Provider {
        default
            .filter(|provider| self.is_configured(*provider))
            .or_else(|| Provider::ALL.into_iter().find(|p| self.is_configured(*p)))
            .or(default)
            .unwrap_or(Provider::InstantPay)
    }
}

pub struct ViewContext<'a> {
    pub theme: &'a Theme,
    pub now: Timestamp,
    pub tz: &'a TimeZone,
    /// The focused pane (its border stays marked under a dialog).
    pub focus: Pane,
    /// A dialog or overlay has the keyboard.
    pub dialog_open: bool,
    pub providers: &'a Providers,
    /// The keys in force, so hints in the views name the user's keys.
    pub keymap: &'a KeyMap,
    /// Team mode: the server, the operator and their role.
    pub team: Option<&'a super::team::TeamState>,
}

impl ViewContext<'_> {
    /// Whether the operator may use `action`: always in solo mode; in team
    /// mode, as their role allows.
    pub fn may(&self, action: super::keymap::Action) -> bool {
        self.team.is_none_or(|team| team.may(action, self.focus))
    }

    /// Local wall-clock time `HH:MM:SS`.
    pub fn clock(&self, at: Timestamp) -> String {
        super::format::clock(at, self.tz)
    }

    /// How the keys of `action` are written, e.g. `y` (or `c` once rebound).
    pub fn key(&self, action: Action) -> &str {
        self.keymap
            .bindings()
            .find(|b| b.action == action)
            .map(|b| b.label.as_str())
            .unwrap_or("?")
    }

    pub fn is_focused(&self, pane: Pane) -> bool {
        self.focus == pane
    }

    /// Focused and no dialog in front: keys go to this pane.
    pub fn has_keyboard(&self, pane: Pane) -> bool {
        self.focus == pane && !self.dialog_open
    }
}
