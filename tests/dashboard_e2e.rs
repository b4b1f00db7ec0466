//! The real `payops --demo` binary in a real pseudo-terminal: the screen is
//! read back through a VT100 parser, keys are typed as a person would.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 40;
const COLS: u16 = 140;

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
}

impl Screen {
    fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `needle`, or fails with what it shows.
    fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("screen never showed {needle:?}; it shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_until(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text();
            if check(&text) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("screen never showed {what}; it shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn keys(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
        // Give the UI a moment between keys, as a person would.
        std::thread::sleep(Duration::from_millis(150));
    }
}

#[test]
fn demo_dashboard_in_a_real_terminal() {
    let home = tempfile::tempdir().unwrap();
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_payops"));
    cmd.arg("--demo");
    cmd.env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.env("TERM", "xterm-256color");
    cmd.env("HOME", home.path());
    cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
    cmd.env("PAYOPS_DATA_DIR", home.path().join("data"));
    let mut child = pair.slave.spawn_command(cmd).unwrap();
    drop(pair.slave);

    let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
    let raw = Arc::new(Mutex::new(Vec::new()));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer = pair.master.take_writer().unwrap();
    let answer_writer: Arc<Mutex<Option<Box<dyn Write + Send>>>> = Arc::new(Mutex::new(None));
    {
        let parser = parser.clone();
        let raw = raw.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                parser.lock().unwrap().process(&buf[..n]);
                raw.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
    }
    let _ = answer_writer;
    let mut screen = Screen {
        parser,
        raw,
        writer,
    };

    // A living screen: the DEMO badge, both providers, the balance and the seeded sessions.
    screen.wait_for("DEMO", Duration::from_secs(20));
    screen.wait_for("₹", Duration::from_secs(20));
    let before = screen.wait_until("seeded sessions", Duration::from_secs(20), |t| {
        t.matches("dl-").count() >= 4
    });
    let sessions_before = before.matches("dl-").count();

    // n: the new-session form, prefilled; Enter creates at once.
    screen.keys(b"n");
    screen.wait_for("Redirect", Duration::from_secs(5));
    screen.keys(b"\r");
    screen.wait_until("a new session row", Duration::from_secs(10), |t| {
        t.matches("dl-").count() > sessions_before
    });

    // ?: help overlay, generated from the keymap; Esc closes it.
    screen.keys(b"?");
    screen.wait_for("Help", Duration::from_secs(5));
    screen.keys(b"\x1b");
    std::thread::sleep(Duration::from_millis(300));

    // l: the notify pane; type the sample link, look it up, confirm, send.
    screen.keys(b"l");
    screen.keys(b"657aa9841b8d3897ff0a84fb");
    screen.keys(b"\r");
    screen.wait_for("Cancel", Duration::from_secs(10));
    screen.keys(b"y");
    screen.wait_for("Notification Link Sent", Duration::from_secs(10));

    // q quits, leaving the terminal as it was.
    screen.keys(b"q");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "payops did not quit on q");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let raw = screen.raw.lock().unwrap().clone();
    let raw = String::from_utf8_lossy(&raw);
    let entered = raw
        .rfind("\x1b[?1049h")
        .expect("entered the alternate screen");
    let left = raw.rfind("\x1b[?1049l").expect("left the alternate screen");
    assert!(left > entered, "alternate screen left after it was entered");
    assert!(!screen.parser.lock().unwrap().screen().alternate_screen());
    #[cfg(unix)]
    {
        // Raw mode is off again: the line discipline echoes and is canonical.
        if let Some(termios) = pair.master.get_termios() {
            use nix::sys::termios::LocalFlags;
            assert!(
                termios.local_flags.contains(LocalFlags::ICANON),
                "canonical mode restored"
            );
            assert!(
                termios.local_flags.contains(LocalFlags::ECHO),
                "echo restored"
            );
        }
    }
}
