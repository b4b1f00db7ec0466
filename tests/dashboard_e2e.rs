//! The real `payops --demo` binary in a real pseudo-terminal: the screen is
//! read back through a VT100 parser, keys are typed as a person would.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 40;
const COLS: u16 = 140;

type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: SharedWriter,
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
        let mut writer = self.writer.lock().unwrap();
        writer.write_all(bytes).unwrap();
        writer.flush().unwrap();
        drop(writer);
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

    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        std::num::NonZero::new(ROWS).unwrap(),
        std::num::NonZero::new(COLS).unwrap(),
        0,
    )));
    let raw = Arc::new(Mutex::new(Vec::new()));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let writer: SharedWriter = Arc::new(Mutex::new(pair.master.take_writer().unwrap()));
    {
        let parser = parser.clone();
        let raw = raw.clone();
        let writer = writer.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let chunk = &buf[..n];
                // A real terminal answers cursor-position queries; so must this one.
                if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                    let (row, col) = parser.lock().unwrap().screen().cursor_position();
                    let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                    let mut w = writer.lock().unwrap();
                    let _ = w.write_all(reply.as_bytes());
                    let _ = w.flush();
                }
                parser.lock().unwrap().process(chunk);
                raw.lock().unwrap().extend_from_slice(chunk);
            }
        });
    }
    let mut screen = Screen {
        parser,
        raw,
        writer,
    };

    // A living screen: the DEMO badge, the balance and the four seeded sessions.
    screen.wait_for("DEMO", Duration::from_secs(30));
    screen.wait_for("₹", Duration::from_secs(20));
    screen.wait_for("sessions 4/4", Duration::from_secs(20));

    // n: the new-session form, prefilled; Enter creates at once.
    screen.keys(b"n");
    screen.wait_for("New DigiLocker session", Duration::from_secs(5));
    screen.wait_for("https://example.com/kyc-done", Duration::from_secs(5));
    screen.keys(b"\r");
    screen.wait_for("sessions 5/5", Duration::from_secs(10));

    // ?: help overlay, generated from the keymap; Esc closes it.
    screen.keys(b"?");
    screen.wait_for("Keys", Duration::from_secs(5));
    screen.wait_for("send notification", Duration::from_secs(5));
    screen.keys(b"\x1b");
    screen.wait_until("help closed", Duration::from_secs(5), |t| {
        !t.contains("Esc or ? closes")
    });

    // l: the notify pane; type the sample link, look it up, confirm, send.
    screen.keys(b"l");
    screen.keys(b"657aa9841b8d3897ff0a84fb");
    screen.keys(b"\r");
    let dialog = screen.wait_for("Send notification", Duration::from_secs(10));
    assert!(
        dialog.contains("Cancel"),
        "the dialog offers Cancel:\n{dialog}"
    );
    assert!(
        dialog.contains("₹"),
        "the dialog names the amount:\n{dialog}"
    );
    screen.keys(b"y");
    screen.wait_for("Notification Link Sent", Duration::from_secs(10));
    screen.keys(b"\x1b");

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
        let termios = pair
            .master
            .get_termios()
            .expect("the pty's line discipline is readable");
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
