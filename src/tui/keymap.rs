//! Every key the dashboard understands, in one table. Key handling, the `?`
//! help overlay and the status bar all read this table, so they cannot drift
//! apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where the keyboard is: a pane, a text field or a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Global,
    Balance,
    Sessions,
    Filter,
    Notify,
    NotifyField,
    NewSession,
    Track,
    Detail,
    ConfirmStop,
    ConfirmNotify,
    Help,
}

impl Context {
    pub const HELP_ORDER: [Context; 11] = [
        Context::Global,
        Context::Sessions,
        Context::Filter,
        Context::Notify,
        Context::NotifyField,
        Context::NewSession,
        Context::Track,
        Context::Detail,
        Context::ConfirmStop,
        Context::ConfirmNotify,
        Context::Help,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Balance => "Balance",
            Context::Sessions => "Sessions",
            Context::Filter => "Typing a filter",
            Context::Notify => "Payout notify",
            Context::NotifyField => "Typing a link id",
            Context::NewSession => "New session form",
            Context::Track => "Track form",
            Context::Detail => "Session detail",
            Context::ConfirmStop => "Stop tracking?",
            Context::ConfirmNotify => "Confirm notify",
            Context::Help => "Help",
        }
    }

    /// Single-letter global keys would steal typed characters from text
    /// fields and answers from dialogs, so globals apply only in the panes.
    pub fn allows_global(self) -> bool {
        matches!(
            self,
            Context::Balance | Context::Sessions | Context::Notify | Context::Global
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    ToggleHelp,
    NextPane,
    PrevPane,
    Refresh,
    FocusNotify,
    NewSession,
    TrackSession,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    OpenDetail,
    ToggleSort,
    StartFilter,
    ToggleFinal,
    FilterDone,
    FilterClear,
    EditLink,
    LookUpLink,
    StopEditing,
    NextField,
    PrevField,
    OptionPrev,
    OptionNext,
    ToggleOption,
    Submit,
    Cancel,
    CopyUrl,
    ToggleQr,
    OpenUrl,
    RefreshSession,
    StopTracking,
    Confirm,
    Deny,
    ChoiceLeft,
    ChoiceRight,
    ChoiceToggle,
    ChooseFocused,
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCombo {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

const fn plain(code: KeyCode) -> KeyCombo {
    KeyCombo {
        code,
        modifiers: KeyModifiers::NONE,
    }
}

const fn ch(c: char) -> KeyCombo {
    plain(KeyCode::Char(c))
}

const fn ctrl(c: char) -> KeyCombo {
    KeyCombo {
        code: KeyCode::Char(c),
        modifiers: KeyModifiers::CONTROL,
    }
}

impl KeyCombo {
    /// Shift is part of the character itself (`G`, `?`) and of BackTab, so it
    /// is ignored there; other modifiers must match exactly.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        if self.code != event.code {
            return false;
        }
        let relevant = match event.code {
            KeyCode::Char(_) | KeyCode::BackTab => event.modifiers - KeyModifiers::SHIFT,
            _ => event.modifiers,
        };
        relevant == self.modifiers
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub context: Context,
    pub keys: &'static [KeyCombo],
    /// How the keys are written in help and the status bar.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// The status bar's shorter wording; None keeps the binding out of the
    /// bar (it is one line: only the essentials).
    pub bar: Option<&'static str>,
}

const fn bind(
    context: Context,
    keys: &'static [KeyCombo],
    label: &'static str,
    action: Action,
    help: &'static str,
    bar: Option<&'static str>,
) -> Binding {
    Binding {
        context,
        keys,
        label,
        action,
        help,
        bar,
    }
}

use Action as A;
use Context as C;
use KeyCode as K;

#[rustfmt::skip]
pub static BINDINGS: &[Binding] = &[
    // Pane-specific keys come first so the status bar leads with them.
    bind(C::Sessions, &[plain(K::Enter)], "Enter", A::OpenDetail, "session detail", Some("detail")),
    bind(C::Sessions, &[ch('/')], "/", A::StartFilter, "filter", Some("filter")),
    bind(C::Sessions, &[ch('s')], "s", A::ToggleSort, "change sort", Some("sort")),
    bind(C::Sessions, &[ch('f')], "f", A::ToggleFinal, "hide/show final", Some("final")),
    bind(C::Sessions, &[plain(K::Up), ch('k')], "↑/k", A::Up, "move up", None),
    bind(C::Sessions, &[plain(K::Down), ch('j')], "↓/j", A::Down, "move down", None),
    bind(C::Sessions, &[plain(K::PageUp)], "PgUp", A::PageUp, "page up", None),
    bind(C::Sessions, &[plain(K::PageDown)], "PgDn", A::PageDown, "page down", None),
    bind(C::Sessions, &[plain(K::Home), ch('g')], "Home/g", A::Top, "first row", None),
    bind(C::Sessions, &[plain(K::End), ch('G')], "End/G", A::Bottom, "last row", None),
    bind(C::Filter, &[plain(K::Enter)], "Enter", A::FilterDone, "keep filter", Some("keep")),
    bind(C::Filter, &[plain(K::Esc)], "Esc", A::FilterClear, "clear filter", Some("clear")),
    bind(C::Notify, &[plain(K::Enter)], "Enter", A::LookUpLink, "look the link up (again)", Some("look up")),
    bind(C::Notify, &[ch('i')], "i", A::EditLink, "edit link id", Some("edit link")),
    bind(C::NotifyField, &[plain(K::Enter)], "Enter", A::LookUpLink, "look up link", Some("look up")),
    bind(C::NotifyField, &[plain(K::Esc)], "Esc", A::StopEditing, "stop typing", Some("done")),
    bind(C::NotifyField, &[plain(K::Tab)], "Tab", A::NextPane, "next pane", Some("pane")),
    bind(C::NewSession, &[plain(K::Enter)], "Enter", A::Submit, "create session", Some("create")),
    bind(C::NewSession, &[plain(K::Tab), plain(K::Down)], "Tab/↓", A::NextField, "next field", Some("next field")),
    bind(C::NewSession, &[plain(K::BackTab), plain(K::Up)], "S-Tab/↑", A::PrevField, "previous field", None),
    bind(C::NewSession, &[plain(K::Left)], "←", A::OptionPrev, "previous choice", None),
    bind(C::NewSession, &[plain(K::Right)], "←/→", A::OptionNext, "change choice", Some("choice")),
    bind(C::NewSession, &[ch(' ')], "Space", A::ToggleOption, "toggle document", Some("toggle")),
    bind(C::NewSession, &[plain(K::Esc)], "Esc", A::Cancel, "cancel", Some("cancel")),
    bind(C::Track, &[plain(K::Enter)], "Enter", A::Submit, "track session", Some("track")),
    bind(C::Track, &[plain(K::Tab), plain(K::Down)], "Tab/↓", A::NextField, "next field", Some("next field")),
    bind(C::Track, &[plain(K::BackTab), plain(K::Up)], "S-Tab/↑", A::PrevField, "previous field", None),
    bind(C::Track, &[plain(K::Left)], "←", A::OptionPrev, "previous provider", None),
    bind(C::Track, &[plain(K::Right)], "←/→", A::OptionNext, "change provider", Some("provider")),
    bind(C::Track, &[plain(K::Esc)], "Esc", A::Cancel, "cancel", Some("cancel")),
    bind(C::Detail, &[ch('y')], "y", A::CopyUrl, "copy URL", Some("copy URL")),
    bind(C::Detail, &[ch('v')], "v", A::ToggleQr, "QR code alone, full screen", Some("QR")),
    bind(C::Detail, &[plain(K::Up), ch('k')], "↑/k", A::Up, "scroll up", None),
    bind(C::Detail, &[plain(K::Down), ch('j')], "↓/j", A::Down, "scroll down", Some("scroll")),
    bind(C::Detail, &[ch('o')], "o", A::OpenUrl, "open URL", Some("open")),
    bind(C::Detail, &[ch('r')], "r", A::RefreshSession, "poll now", Some("poll")),
    bind(C::Detail, &[ch('x')], "x", A::StopTracking, "stop tracking", Some("stop")),
    bind(C::Detail, &[plain(K::Esc), ch('q')], "Esc", A::Close, "close", Some("close")),
    bind(C::ConfirmStop, &[ch('y')], "y", A::Confirm, "stop tracking", Some("stop")),
    bind(C::ConfirmStop, &[ch('n'), plain(K::Esc)], "n/Esc", A::Deny, "keep tracking", Some("keep")),
    bind(C::ConfirmNotify, &[plain(K::Left)], "←", A::ChoiceLeft, "focus Cancel", None),
    bind(C::ConfirmNotify, &[plain(K::Right)], "→", A::ChoiceRight, "focus Send", None),
    bind(C::ConfirmNotify, &[plain(K::Tab), plain(K::BackTab)], "←/→/Tab", A::ChoiceToggle, "switch button", Some("switch")),
    bind(C::ConfirmNotify, &[plain(K::Enter)], "Enter", A::ChooseFocused, "press focused", Some("press")),
    bind(C::ConfirmNotify, &[ch('y')], "y", A::Confirm, "send notification", Some("send")),
    bind(C::ConfirmNotify, &[ch('n'), plain(K::Esc)], "n/Esc", A::Deny, "cancel", Some("cancel")),
    bind(C::Help, &[plain(K::Esc), ch('?'), ch('q')], "Esc/?", A::Close, "close help", Some("close")),
    bind(C::Global, &[ch('q'), ctrl('c')], "q", A::Quit, "quit (or Ctrl-C)", Some("quit")),
    bind(C::Global, &[ch('?')], "?", A::ToggleHelp, "help", Some("help")),
    bind(C::Global, &[plain(K::Tab)], "Tab", A::NextPane, "next pane", Some("pane")),
    bind(C::Global, &[plain(K::BackTab)], "S-Tab", A::PrevPane, "previous pane", None),
    bind(C::Global, &[ch('r')], "r", A::Refresh, "refresh focused", Some("refresh")),
    bind(C::Global, &[ch('n')], "n", A::NewSession, "new session", Some("new")),
    bind(C::Global, &[ch('t')], "t", A::TrackSession, "track session", Some("track")),
    bind(C::Global, &[ch('l')], "l", A::FocusNotify, "payout notify", Some("notify")),
];

/// Bindings live in `context`, then the global ones where they apply.
pub fn bindings_for(context: Context) -> impl Iterator<Item = &'static Binding> {
    let own = BINDINGS.iter().filter(move |b| b.context == context);
    let global = BINDINGS.iter().filter(move |b| {
        b.context == Context::Global && context.allows_global() && context != Context::Global
    });
    own.chain(global)
}

pub fn action_for(context: Context, event: &KeyEvent) -> Option<Action> {
    bindings_for(context)
        .find(|binding| binding.keys.iter().any(|combo| combo.matches(event)))
        .map(|binding| binding.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn pane_keys_fall_back_to_globals_but_fields_do_not() {
        assert_eq!(
            action_for(Context::Sessions, &key(KeyCode::Char('q'))),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(Context::NotifyField, &key(KeyCode::Char('q'))),
            None
        );
        assert_eq!(action_for(Context::Filter, &key(KeyCode::Char('n'))), None);
    }

    #[test]
    fn shifted_characters_match_their_binding() {
        let shifted = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            action_for(Context::Sessions, &shifted),
            Some(Action::Bottom)
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Context::Balance, &ctrl_c), Some(Action::Quit));
    }

    #[test]
    fn every_context_with_keys_has_a_status_bar_entry() {
        for context in Context::HELP_ORDER {
            assert!(
                bindings_for(context).any(|b| b.bar.is_some()),
                "{context:?} has nothing for the status bar"
            );
        }
    }
}
