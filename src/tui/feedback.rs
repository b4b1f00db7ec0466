//! What a feature hands back after a key or an engine update: effects for
//! the runner (commands, clipboard, bell) and notices for the activity log
//! and toasts. Features never reach into each other's state; the app applies
//! this once they return.

use jiff::{SignedDuration, Timestamp};

use crate::engine::Command;

/// What the runner does on the UI's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(Command),
    /// Put text on the clipboard (OSC 52, so it works over SSH).
    Copy(String),
    OpenUrl(String),
    /// Something to tell an operator who may be looking elsewhere: the
    /// bell, and a desktop notification where `[alerts] desktop` is on.
    Alert(Alert),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The notification's title ("Session authenticated").
    pub title: String,
    pub body: String,
}

impl Alert {
    pub fn new(title: impl Into<String>, body: impl Into<String>) -> Alert {
        Alert {
            title: title.into(),
            body: body.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Success,
    Warning,
    Error,
}

impl Level {
    /// So the log reads without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Level::Info => "·",
            Level::Success => "✓",
            Level::Warning => "!",
            Level::Error => "✗",
        }
    }
}

/// Where a notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The activity log only.
    Log,
    /// A toast only: passing feedback on a key ("URL copied").
    Toast,
    /// Both: something the operator must not miss.
    Both,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
    pub reach: Reach,
}

#[derive(Debug, Default)]
pub struct Feedback {
    pub effects: Vec<Effect>,
    pub notices: Vec<Notice>,
}

impl Feedback {
    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    pub fn send(&mut self, command: Command) {
        self.effects.push(Effect::Send(command));
    }

    /// To the activity log.
    pub fn log(&mut self, level: Level, text: impl Into<String>) {
        self.notice(level, text, Reach::Log);
    }

    /// A toast that is not worth keeping in the log.
    pub fn toast(&mut self, level: Level, text: impl Into<String>) {
        self.notice(level, text, Reach::Toast);
    }

    /// To the log and as a toast.
    pub fn alert(&mut self, level: Level, text: impl Into<String>) {
        self.notice(level, text, Reach::Both);
    }

    fn notice(&mut self, level: Level, text: impl Into<String>, reach: Reach) {
        self.notices.push(Notice {
            level,
            text: text.into(),
            reach,
        });
    }
}

/// `r` repeats within this window are ignored: providers rate-limit.
pub const REFRESH_DEBOUNCE: SignedDuration = SignedDuration::from_secs(2);

/// One debounce for every manual refresh (balance, a session, a link).
#[derive(Debug, Clone, Default)]
pub struct Debounce {
    last: Option<Timestamp>,
}

impl Debounce {
    /// True (and the window restarted) when a refresh may go out at `now`.
    pub fn allow(&mut self, now: Timestamp) -> bool {
        if let Some(last) = self.last
            && now.duration_since(last) < REFRESH_DEBOUNCE
        {
            return false;
        }
        self.last = Some(now);
        true
    }
}
