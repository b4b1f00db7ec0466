//! Every key the dashboard understands, in one table. Key handling, the `?`
//! help overlay and the status bar all read the same [`KeyMap`], so they
//! cannot drift apart, and a `[keys]` section in the config rebinds any
//! action for all three at once.

use std::collections::BTreeMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::config::ConfigProblem;

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
    EditLabel,
    ConfirmNotify,
    BalanceChart,
    Help,
    Activity,
}

impl Action {
    /// Keys that mean something only against a team server: solo mode's
    /// help and status bar leave them out.
    pub fn team_only(self) -> bool {
        self == Action::ToggleMine
    }
}

impl Context {
    /// Every context the keyboard can be in, in the order help lists them.
    pub const ALL: [Context; 15] = [
        Context::Global,
        Context::Balance,
        Context::BalanceChart,
        Context::Sessions,
        Context::Filter,
        Context::Notify,
        Context::NotifyField,
        Context::NewSession,
        Context::Track,
        Context::Detail,
        Context::ConfirmStop,
        Context::EditLabel,
        Context::ConfirmNotify,
        Context::Help,
        Context::Activity,
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
            Context::EditLabel => "Typing a label",
            Context::ConfirmNotify => "Confirm notify",
            Context::BalanceChart => "Balance chart",
            Context::Help => "Help",
            Context::Activity => "Activity log",
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

macro_rules! actions {
    ($($variant:ident => $name:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The name a `[keys]` entry uses for it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    Quit => "quit",
    ToggleHelp => "help",
    NextPane => "next_pane",
    PrevPane => "previous_pane",
    Refresh => "refresh",
    FocusNotify => "notify",
    NewSession => "new_session",
    TrackSession => "track_session",
    Up => "up",
    Down => "down",
    PageUp => "page_up",
    PageDown => "page_down",
    Top => "top",
    Bottom => "bottom",
    OpenDetail => "open_detail",
    ToggleSort => "sort",
    StartFilter => "filter",
    ToggleFinal => "toggle_final",
    ToggleMine => "mine_only",
    FilterDone => "filter_done",
    FilterClear => "filter_clear",
    EditLink => "edit_link",
    LookUpLink => "look_up_link",
    StopEditing => "stop_editing",
    NextField => "next_field",
    PrevField => "previous_field",
    OptionPrev => "previous_choice",
    OptionNext => "next_choice",
    ToggleOption => "toggle_choice",
    Submit => "submit",
    Cancel => "cancel",
    CopyUrl => "copy_url",
    CopyId => "copy_id",
    CopyReference => "copy_reference",
    ToggleQr => "qr_full_screen",
    OpenUrl => "open_url",
    RefreshSession => "poll_now",
    StopTracking => "stop_tracking",
    FetchDocuments => "fetch_documents",
    RevealDocuments => "reveal_documents",
    Confirm => "confirm",
    Deny => "deny",
    ChoiceLeft => "focus_cancel",
    ChoiceRight => "focus_confirm",
    ChoiceToggle => "switch_button",
    ChooseFocused => "press_button",
    Close => "close",
    OpenChart => "balance_chart",
    EditLabel => "edit_label",
    ToggleSpan => "chart_span",
    ShowActivity => "activity_log",
}

impl Action {
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
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

#[cfg(test)]
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
        self.code == event.code
            && self.modifiers == significant_modifiers(event.code, event.modifiers)
    }

    /// Reads a key as a `[keys]` entry writes it: a single character taken
    /// literally (`G`, `?`), or a name with modifiers (`ctrl-r`, `enter`,
    /// `shift-tab`, `f5`, `pagedown`), parsed by crokey.
    pub fn parse(text: &str) -> Result<KeyCombo, String> {
        let text = text.trim();
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(ch(c));
        }
        let combo = crokey::parse(text).map_err(|_| {
            format!("'{text}' is not a key (e.g. \"x\", \"G\", \"ctrl-r\", \"enter\", \"f5\")")
        })?;
        let crokey::OneToThree::One(mut code) = combo.codes else {
            return Err(format!(
                "'{text}': a binding is one key, not several pressed together"
            ));
        };
        let mut modifiers = combo.modifiers;
        if modifiers.contains(KeyModifiers::SHIFT) {
            match code {
                KeyCode::Tab => code = KeyCode::BackTab,
                KeyCode::Char(c) => code = KeyCode::Char(c.to_ascii_uppercase()),
                _ => {}
            }
        }
        modifiers = significant_modifiers(code, modifiers);
        Ok(KeyCombo { code, modifiers })
    }

    /// As help and the status bar write it: `q`, `Enter`, `↑`, `C-r`, `S-Tab`.
    pub fn label(&self) -> String {
        let mut text = String::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            text.push_str("C-");
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            text.push_str("M-");
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            text.push_str("S-");
        }
        match self.code {
            KeyCode::Char(' ') => text.push_str("Space"),
            KeyCode::Char(c) => text.push(c),
            KeyCode::Enter => text.push_str("Enter"),
            KeyCode::Esc => text.push_str("Esc"),
            KeyCode::Tab => text.push_str("Tab"),
            KeyCode::BackTab => text.push_str("S-Tab"),
            KeyCode::Up => text.push('↑'),
            KeyCode::Down => text.push('↓'),
            KeyCode::Left => text.push('←'),
            KeyCode::Right => text.push('→'),
            KeyCode::PageUp => text.push_str("PgUp"),
            KeyCode::PageDown => text.push_str("PgDn"),
            KeyCode::Home => text.push_str("Home"),
            KeyCode::End => text.push_str("End"),
            KeyCode::Backspace => text.push_str("Bksp"),
            KeyCode::Delete => text.push_str("Del"),
            KeyCode::Insert => text.push_str("Ins"),
            KeyCode::F(n) => text.push_str(&format!("F{n}")),
            other => text.push_str(&format!("{other:?}")),
        }
        text
    }
}

fn significant_modifiers(code: KeyCode, modifiers: KeyModifiers) -> KeyModifiers {
    match code {
        KeyCode::Char(_) | KeyCode::BackTab => modifiers - KeyModifiers::SHIFT,
        _ => modifiers,
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub context: Context,
    pub keys: Vec<KeyCombo>,
    /// How the keys are written in help and the status bar.
    pub label: String,
    pub action: Action,
    pub help: &'static str,
    /// The status bar's shorter wording; None keeps the binding out of the
    /// bar (it is one line: only the essentials).
    pub bar: Option<&'static str>,
}

struct Default {
    context: Context,
    keys: &'static [KeyCombo],
    action: Action,
    help: &'static str,
    bar: Option<&'static str>,
}

const fn bind(
    context: Context,
    keys: &'static [KeyCombo],
    action: Action,
    help: &'static str,
    bar: Option<&'static str>,
) -> Default {
    Default {
        context,
        keys,
        action,
        help,
        bar,
    }
}

use Action as A;
use Context as C;
use KeyCode as K;

#[rustfmt::skip]
static DEFAULTS: &[Default] = &[
    // Pane-specific keys come first so the status bar leads with them.
    bind(C::Balance, &[plain(K::Enter)], A::OpenChart, "balance chart, full screen", Some("chart")),
    bind(C::Balance, &[ch('w')], A::ToggleSpan, "chart: 24 h / 7 d", Some("24h/7d")),
    bind(C::BalanceChart, &[ch('w')], A::ToggleSpan, "24 h / 7 d", Some("24h/7d")),
    bind(C::BalanceChart, &[ch('r')], A::Refresh, "refresh the balance", Some("refresh")),
    bind(C::BalanceChart, &[plain(K::Esc), ch('q')], A::Close, "close", Some("close")),
    bind(C::Sessions, &[plain(K::Enter)], A::OpenDetail, "session detail", Some("detail")),
    bind(C::Sessions, &[ch('/')], A::StartFilter, "filter", Some("filter")),
    bind(C::Sessions, &[ch('s')], A::ToggleSort, "change sort", Some("sort")),
    bind(C::Sessions, &[ch('f')], A::ToggleFinal, "hide/show final", Some("final")),
    bind(C::Sessions, &[ch('m')], A::ToggleMine, "team mode: my sessions / everyone's", Some("mine/all")),
    bind(C::Sessions, &[plain(K::Up), ch('k')], A::Up, "move up", None),
    bind(C::Sessions, &[plain(K::Down), ch('j')], A::Down, "move down", None),
    bind(C::Sessions, &[plain(K::PageUp)], A::PageUp, "page up", None),
    bind(C::Sessions, &[plain(K::PageDown)], A::PageDown, "page down", None),
    bind(C::Sessions, &[plain(K::Home), ch('g')], A::Top, "first row", None),
    bind(C::Sessions, &[plain(K::End), ch('G')], A::Bottom, "last row", None),
    bind(C::Filter, &[plain(K::Enter)], A::FilterDone, "keep filter", Some("keep")),
    bind(C::Filter, &[plain(K::Esc)], A::FilterClear, "clear filter", Some("clear")),
    bind(C::Notify, &[plain(K::Enter)], A::LookUpLink, "look the link up (again)", Some("look up")),
    bind(C::Notify, &[ch('i')], A::EditLink, "edit link id", Some("edit link")),
    bind(C::NotifyField, &[plain(K::Enter)], A::LookUpLink, "look up link", Some("look up")),
    bind(C::NotifyField, &[plain(K::Esc)], A::StopEditing, "stop typing", Some("done")),
    bind(C::NotifyField, &[plain(K::Tab)], A::NextPane, "next pane", Some("pane")),
    bind(C::NewSession, &[plain(K::Enter)], A::Submit, "create session", Some("create")),
    bind(C::NewSession, &[plain(K::Tab), plain(K::Down)], A::NextField, "next field", Some("next field")),
    bind(C::NewSession, &[plain(K::BackTab), plain(K::Up)], A::PrevField, "previous field", None),
    bind(C::NewSession, &[plain(K::Left)], A::OptionPrev, "previous choice", None),
    bind(C::NewSession, &[plain(K::Right)], A::OptionNext, "next choice", Some("choice")),
    bind(C::NewSession, &[ch(' ')], A::ToggleOption, "toggle document", Some("toggle")),
    bind(C::NewSession, &[plain(K::Esc)], A::Cancel, "cancel", Some("cancel")),
    bind(C::Track, &[plain(K::Enter)], A::Submit, "track session", Some("track")),
    bind(C::Track, &[plain(K::Tab), plain(K::Down)], A::NextField, "next field", Some("next field")),
    bind(C::Track, &[plain(K::BackTab), plain(K::Up)], A::PrevField, "previous field", None),
    bind(C::Track, &[plain(K::Left)], A::OptionPrev, "previous provider", None),
    bind(C::Track, &[plain(K::Right)], A::OptionNext, "next provider", Some("provider")),
    bind(C::Track, &[plain(K::Esc)], A::Cancel, "cancel", Some("cancel")),
    bind(C::Detail, &[ch('y')], A::CopyUrl, "copy URL", Some("copy URL")),
    bind(C::Detail, &[ch('i')], A::CopyId, "copy our id", Some("copy id")),
    bind(C::Detail, &[ch('p')], A::CopyReference, "copy the provider's reference", Some("copy ref")),
    bind(C::Detail, &[ch('e')], A::EditLabel, "set / change the label", Some("label")),
    bind(C::EditLabel, &[plain(K::Enter)], A::Submit, "save the label (empty removes it)", Some("save")),
    bind(C::EditLabel, &[plain(K::Esc)], A::Cancel, "leave it as it was", Some("cancel")),
    bind(C::Detail, &[ch('v')], A::ToggleQr, "QR code alone, full screen", Some("QR")),
    bind(C::Detail, &[plain(K::Up), ch('k')], A::Up, "scroll up", None),
    bind(C::Detail, &[plain(K::Down), ch('j')], A::Down, "scroll down", Some("scroll")),
    bind(C::Detail, &[ch('o')], A::OpenUrl, "open URL", Some("open")),
    bind(C::Detail, &[ch('r')], A::RefreshSession, "poll now", Some("poll")),
    bind(C::Detail, &[ch('x')], A::StopTracking, "stop tracking", Some("stop")),
    bind(C::Detail, &[ch('d')], A::FetchDocuments, "fetch the consented documents", Some("documents")),
    bind(C::Detail, &[ch('m')], A::RevealDocuments, "reveal / mask the documents (logged)", None),
    bind(C::Detail, &[plain(K::Esc), ch('q')], A::Close, "close", Some("close")),
    bind(C::ConfirmStop, &[ch('y')], A::Confirm, "stop tracking", Some("stop")),
    bind(C::ConfirmStop, &[ch('n'), plain(K::Esc)], A::Deny, "keep tracking", Some("keep")),
    bind(C::ConfirmNotify, &[plain(K::Left)], A::ChoiceLeft, "focus Cancel", None),
    bind(C::ConfirmNotify, &[plain(K::Right)], A::ChoiceRight, "focus Send", None),
    bind(C::ConfirmNotify, &[plain(K::Tab), plain(K::BackTab)], A::ChoiceToggle, "switch button", Some("switch")),
    bind(C::ConfirmNotify, &[plain(K::Enter)], A::ChooseFocused, "press focused", Some("press")),
    bind(C::ConfirmNotify, &[ch('y')], A::Confirm, "send notification", Some("send")),
    bind(C::ConfirmNotify, &[ch('n'), plain(K::Esc)], A::Deny, "cancel", Some("cancel")),
    bind(C::Help, &[plain(K::Esc), ch('?'), ch('q')], A::Close, "close help", Some("close")),
    bind(C::Help, &[plain(K::Down), ch('j')], A::Down, "scroll down", Some("scroll")),
    bind(C::Help, &[plain(K::Up), ch('k')], A::Up, "scroll up", None),
    bind(C::Help, &[plain(K::PageDown)], A::PageDown, "page down", None),
    bind(C::Help, &[plain(K::PageUp)], A::PageUp, "page up", None),
    // Ctrl-C quits from anywhere, typing included, before the keymap is asked.
    bind(C::Global, &[ch('q')], A::Quit, "quit (Ctrl-C: from anywhere)", Some("quit")),
    bind(C::Global, &[ch('?')], A::ToggleHelp, "help", Some("help")),
    bind(C::Global, &[plain(K::Tab)], A::NextPane, "next pane", Some("pane")),
    bind(C::Global, &[plain(K::BackTab)], A::PrevPane, "previous pane", None),
    bind(C::Global, &[ch('r')], A::Refresh, "refresh focused", Some("refresh")),
    bind(C::Global, &[ch('n')], A::NewSession, "new session", Some("new")),
    bind(C::Global, &[ch('t')], A::TrackSession, "track session", Some("track")),
    bind(C::Global, &[ch('l')], A::FocusNotify, "payout notify", Some("notify")),
    bind(C::Global, &[ch('a')], A::ShowActivity, "activity log, every line in full", None),
    bind(C::Activity, &[plain(K::Esc), ch('a'), ch('q')], A::Close, "close the log", Some("close")),
    bind(C::Activity, &[plain(K::Up), ch('k')], A::Up, "older", Some("scroll")),
    bind(C::Activity, &[plain(K::Down), ch('j')], A::Down, "newer", None),
    bind(C::Activity, &[plain(K::PageUp)], A::PageUp, "page older", None),
    bind(C::Activity, &[plain(K::PageDown)], A::PageDown, "page newer", None),
];

fn label_of(keys: &[KeyCombo]) -> String {
    keys.iter()
        .map(KeyCombo::label)
        .collect::<Vec<_>>()
        .join("/")
}

/// The bindings in force: the defaults with the config's `[keys]` applied.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMap {
    bindings: Vec<Binding>,
}

impl std::default::Default for KeyMap {
    fn default() -> KeyMap {
        KeyMap {
            bindings: DEFAULTS
                .iter()
                .map(|d| Binding {
                    context: d.context,
                    keys: d.keys.to_vec(),
                    label: label_of(d.keys),
                    action: d.action,
                    help: d.help,
                    bar: d.bar,
                })
                .collect(),
        }
    }
}

impl KeyMap {
    /// The defaults with `overrides` (action name to its keys, from `[keys]`)
    /// applied: an action's keys are replaced wherever the action is bound.
    /// Every problem is reported at once, each naming its `keys.` entry:
    /// unknown actions, unreadable keys, and one key bound to two actions
    /// where the keyboard can be.
    pub fn with_overrides(
        overrides: &BTreeMap<String, Vec<String>>,
    ) -> Result<KeyMap, Vec<ConfigProblem>> {
        let mut map = KeyMap::default();
        let mut problems = Vec::new();
        for (name, texts) in overrides {
            let key = format!("keys.{name}");
            let Some(action) = Action::from_name(name) else {
                let known: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
                problems.push(ConfigProblem {
                    key,
                    message: format!("unknown action; [keys] accepts {}", known.join(", ")),
                });
                continue;
            };
            let mut keys = Vec::new();
            for text in texts {
                match KeyCombo::parse(text) {
                    Ok(combo) if !keys.contains(&combo) => keys.push(combo),
                    Ok(_) => {}
                    Err(message) => problems.push(ConfigProblem {
                        key: key.clone(),
                        message,
                    }),
                }
            }
            if texts.is_empty() {
                problems.push(ConfigProblem {
                    key,
                    message: "no key given; an action needs at least one".into(),
                });
                continue;
            }
            for binding in map.bindings.iter_mut().filter(|b| b.action == action) {
                binding.label = label_of(&keys);
                binding.keys = keys.clone();
            }
        }
        problems.extend(map.conflicts());
        if problems.is_empty() {
            Ok(map)
        } else {
            Err(problems)
        }
    }

    /// One key doing two things in one context (globals included where they
    /// apply) would make one of them unreachable.
    fn conflicts(&self) -> Vec<ConfigProblem> {
        let mut seen: Vec<(Action, Action, String)> = Vec::new();
        let mut problems = Vec::new();
        for context in Context::ALL {
            let bindings: Vec<&Binding> = self.bindings_for(context).collect();
            for (index, first) in bindings.iter().enumerate() {
                for second in &bindings[index + 1..] {
                    if first.action == second.action {
                        continue;
                    }
                    for combo in first.keys.iter().filter(|k| second.keys.contains(k)) {
                        let (a, b) = (
                            first.action.min(second.action),
                            first.action.max(second.action),
                        );
                        let label = combo.label();
                        if seen.contains(&(a, b, label.clone())) {
                            continue;
                        }
                        seen.push((a, b, label.clone()));
                        problems.push(ConfigProblem {
                            key: format!("keys.{}", a.name()),
                            message: format!(
                                "'{label}' is also bound to keys.{} in {}; each key may do one thing there",
                                b.name(),
                                context.title()
                            ),
                        });
                    }
                }
            }
        }
        problems
    }

    pub fn bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.iter()
    }

    /// Bindings live in `context`, then the global ones where they apply.
    pub fn bindings_for(&self, context: Context) -> impl Iterator<Item = &Binding> {
        let own = self.bindings.iter().filter(move |b| b.context == context);
        let global = self.bindings.iter().filter(move |b| {
            b.context == Context::Global && context.allows_global() && context != Context::Global
        });
        own.chain(global)
    }

    pub fn action_for(&self, context: Context, event: &KeyEvent) -> Option<Action> {
        self.bindings_for(context)
            .find(|binding| binding.keys.iter().any(|combo| combo.matches(event)))
            .map(|binding| binding.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    /// What `map` makes of each plain character key in its context.
    fn assert_chars(map: &KeyMap, cases: &[(Context, char, Option<Action>)]) {
        for &(context, c, expected) in cases {
            let event = key(KeyCode::Char(c));
            assert_eq!(
                map.action_for(context, &event),
                expected,
                "{c:?} in {context:?}"
            );
        }
    }

    fn overrides(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(name, keys)| {
                (
                    name.to_string(),
                    keys.iter().map(|k| k.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn pane_keys_fall_back_to_globals_but_fields_do_not() {
        assert_chars(
            &KeyMap::default(),
            &[
                (Context::Sessions, 'q', Some(Action::Quit)),
                (Context::NotifyField, 'q', None),
                (Context::Filter, 'n', None),
            ],
        );
    }

    #[test]
    fn shifted_characters_match_their_binding() {
        let map = KeyMap::default();
        let shifted = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            map.action_for(Context::Sessions, &shifted),
            Some(Action::Bottom)
        );
        let ctrl_q = KeyMap::with_overrides(&overrides(&[("quit", &["ctrl-q"])])).unwrap();
        let event = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(
            ctrl_q.action_for(Context::Balance, &event),
            Some(Action::Quit)
        );
        assert_chars(&ctrl_q, &[(Context::Balance, 'q', None)]);
    }

    #[test]
    fn every_context_with_keys_has_a_status_bar_entry() {
        let map = KeyMap::default();
        for context in Context::ALL.into_iter().filter(|c| *c != Context::Balance) {
            assert!(
                map.bindings_for(context).any(|b| b.bar.is_some()),
                "{context:?} has nothing for the status bar"
            );
        }
    }

    #[test]
    fn the_defaults_have_no_conflicts_and_unique_action_names() {
        assert_eq!(KeyMap::default().conflicts(), Vec::new());
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }

    #[test]
    fn keys_parse_as_written() {
        assert_eq!(KeyCombo::parse("G"), Ok(ch('G')));
        assert_eq!(KeyCombo::parse("?"), Ok(ch('?')));
        assert_eq!(KeyCombo::parse("ctrl-r"), Ok(ctrl('r')));
        assert_eq!(KeyCombo::parse("Enter"), Ok(plain(K::Enter)));
        assert_eq!(KeyCombo::parse("shift-tab"), Ok(plain(K::BackTab)));
        assert_eq!(KeyCombo::parse("shift-g"), Ok(ch('G')));
        assert_eq!(KeyCombo::parse("f5"), Ok(plain(K::F(5))));
        assert!(KeyCombo::parse("ctrl-").is_err());
        assert!(KeyCombo::parse("banana").unwrap_err().contains("'banana'"));
        assert!(KeyCombo::parse("a-b").unwrap_err().contains("one key"));
    }

    #[test]
    fn an_override_rebinds_the_action_everywhere_and_relabels_it() {
        let map =
            KeyMap::with_overrides(&overrides(&[("copy_url", &["c"]), ("up", &["w"])])).unwrap();
        assert_chars(
            &map,
            &[
                (Context::Detail, 'c', Some(Action::CopyUrl)),
                (Context::Detail, 'y', None),
                (Context::Sessions, 'w', Some(Action::Up)),
            ],
        );
        let copy = map
            .bindings()
            .find(|b| b.action == Action::CopyUrl)
            .unwrap();
        assert_eq!(copy.label, "c");
    }

    #[test]
    fn conflicts_name_both_actions_and_where() {
        let problems = KeyMap::with_overrides(&overrides(&[("new_session", &["t"])])).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, "keys.new_session");
        assert!(
            problems[0].message.contains("keys.track_session")
                && problems[0].message.contains("Everywhere"),
            "{}",
            problems[0].message
        );
        // A pane key against a global one.
        let problems = KeyMap::with_overrides(&overrides(&[("sort", &["q"])])).unwrap_err();
        assert!(problems[0].message.contains("keys.sort") || problems[0].key == "keys.sort");
    }

    #[test]
    fn bad_entries_are_all_reported() {
        let problems = KeyMap::with_overrides(&overrides(&[
            ("copy_link", &["c"]),
            ("quit", &["banana"]),
            ("help", &[]),
        ]))
        .unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["keys.copy_link", "keys.help", "keys.quit"]);
    }
}
