//! The runner: owns the terminal, the event stream, the engine channels and
//! the clock, and feeds them all through `update`. The UI never awaits the
//! network: commands go out on an unbounded channel.

use std::io::{self, Write};
use std::panic::PanicHookInfo;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures::StreamExt;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::engine::{Command, Update};

use super::app::{App, TuiOptions};
use super::feedback::{Effect, Level};
use super::keymap::Action;
use super::theme::Theme;
use super::update::{Msg, update};

/// Restores the terminal when dropped, so every exit path (return, `?`,
/// unwinding) leaves the shell usable.
struct TerminalGuard;

/// Whether the alternate screen was entered (and so is ours to clear).
static ON_ALTERNATE_SCREEN: AtomicBool = AtomicBool::new(false);

impl TerminalGuard {
    fn enter() -> io::Result<TerminalGuard> {
        enable_raw_mode()?;
        // From here on a failure must still undo raw mode: the guard does it.
        let guard = TerminalGuard;
        execute!(io::stdout(), EnterAlternateScreen)?;
        ON_ALTERNATE_SCREEN.store(true, Ordering::SeqCst);
        execute!(io::stdout(), EnableMouseCapture)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Safe to call more than once (panic hook, then the guard while unwinding).
fn restore_terminal() {
    let _ = disable_raw_mode();
    // The alternate screen is left empty: a terminal whose size changed
    // while it was shown (tmux, after "terminal too small" and back) can
    // otherwise carry its last frame into the normal screen's scrollback.
    if ON_ALTERNATE_SCREEN.swap(false, Ordering::SeqCst) {
        let _ = execute!(io::stdout(), Clear(ClearType::All));
    }
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

type PanicHook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Restores the terminal before the previous hook (color-eyre's) prints, so
/// the report lands on a normal screen. Dropping it reinstates that hook.
struct PanicHookGuard {
    previous: Arc<PanicHook>,
}

impl PanicHookGuard {
    fn install() -> PanicHookGuard {
        let previous: Arc<PanicHook> = Arc::new(std::panic::take_hook());
        let chained = Arc::clone(&previous);
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            chained(info);
        }));
        PanicHookGuard { previous }
    }
}

impl Drop for PanicHookGuard {
    fn drop(&mut self) {
        // Not while unwinding: replacing the hook from inside a panic aborts.
        if std::thread::panicking() {
            return;
        }
        let previous = Arc::clone(&self.previous);
        std::panic::set_hook(Box::new(move |info| previous(info)));
    }
}

fn no_color_requested(options: &TuiOptions) -> bool {
    options.no_color || std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// OSC 52: the terminal sets its clipboard, which works over SSH too.
fn copy_sequence(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", STANDARD.encode(text))
}

/// Runs the dashboard until the operator quits. Sends `Command::Shutdown` on the way out.
pub async fn run(
    options: TuiOptions,
    commands: UnboundedSender<Command>,
    mut updates: UnboundedReceiver<Update>,
) -> color_eyre::Result<()> {
    let theme = Theme::for_options(&options.theme, no_color_requested(&options));
    let (mut desktop, mut desktop_failures) = super::desktop::Desktop::new(options.desktop_alerts);
    let mut app = App::new(options, theme, Timestamp::now(), TimeZone::system());

    let _hook = PanicHookGuard::install();
    let _guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let size = terminal.size()?;
    update(&mut app, Msg::Resize(size.width, size.height));

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut updates_open = true;
    let mut shutdown_sent = false;

    let result = loop {
        if app.dirty {
            terminal.draw(|frame| super::draw::draw(frame, &app))?;
            app.dirty = false;
        }
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => Msg::Key(key),
                Some(Ok(Event::Mouse(mouse))) => Msg::Mouse(mouse),
                Some(Ok(Event::Resize(width, height))) => Msg::Resize(width, height),
                Some(Ok(_)) => continue,
                Some(Err(error)) => break Err(error.into()),
                None => break Ok(()),
            },
            received = updates.recv(), if updates_open => match received {
                Some(engine_update) => Msg::Engine(engine_update),
                None => {
                    updates_open = false;
                    app.engine_gone = true;
                    Msg::Local(
                        Level::Error,
                        "the engine stopped: nothing will refresh any more; q quits".to_string(),
                    )
                }
            },
            Some(error) = desktop_failures.recv() => {
                let Some(warning) = desktop.failed(&error) else {
                    continue;
                };
                tracing::warn!(%error, "desktop notifications unavailable");
                Msg::Local(Level::Warning, warning)
            }
            _ = tick.tick() => Msg::Tick(Timestamp::now()),
        };
        let mut quit = false;
        for effect in update(&mut app, msg) {
            match effect {
                Effect::Send(command) => {
                    shutdown_sent |= command == Command::Shutdown;
                    if commands.send(command).is_err() && !app.engine_gone {
                        app.engine_gone = true;
                        update(
                            &mut app,
                            Msg::Local(
                                Level::Error,
                                "the engine is not running: the request was not sent".to_string(),
                            ),
                        );
                    }
                }
                Effect::Copy(text) => {
                    let mut stdout = io::stdout();
                    let _ = stdout.write_all(copy_sequence(&text).as_bytes());
                    let _ = stdout.flush();
                }
                Effect::OpenUrl(url) => {
                    // The launcher's own error ("xdg-open: not found") helps
                    // nobody: say what to do instead.
                    if !browser_here() || open::that_detached(&url).is_err() {
                        let copy = app.view_context().key(Action::CopyUrl).to_string();
                        update(
                            &mut app,
                            Msg::Local(
                                Level::Warning,
                                format!("no browser here; {copy} copies the URL"),
                            ),
                        );
                    }
                }
                Effect::Alert(alert) => {
                    let mut stdout = io::stdout();
                    let _ = stdout.write_all(b"\x07");
                    let _ = stdout.flush();
                    desktop.show(&alert);
                }
                Effect::Quit => quit = true,
            }
        }
        if quit {
            break Ok(());
        }
    };
    // Errors leave the loop without the quit path's Shutdown.
    if !shutdown_sent {
        let _ = commands.send(Command::Shutdown);
    }
    result
}

/// Whether a browser can open here: on Linux and the BSDs only with a
/// desktop (or `$BROWSER`); an SSH session to a server has none.
fn browser_here() -> bool {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return true;
    }
    ["BROWSER", "DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_wraps_base64() {
        assert_eq!(copy_sequence("hi"), "\x1b]52;c;aGk=\x07");
    }
}
