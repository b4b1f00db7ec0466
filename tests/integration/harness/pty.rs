//! The real `payops` binary in a real pseudo-terminal, its screen read back
//! through a VT100 parser: shared by the end-to-end test and the live bench.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

pub struct PtyApp {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: SharedWriter,
    pub child: Box<dyn Child + Send + Sync>,
    pub master: Box<dyn MasterPty + Send>,
    pub started: Instant,
}

/// A newcomer's machine inside `home`: HOME, its config folder and a data
/// folder, and nothing else set.
pub fn fresh_home(home: &Path) -> Vec<(&'static str, std::path::PathBuf)> {
    vec![
        ("HOME", home.to_path_buf()),
        ("XDG_CONFIG_HOME", home.join("config")),
        ("PAYOPS_DATA_DIR", home.join("data")),
    ]
}

impl PtyApp {
    /// Starts `payops ARGS` with exactly `env` (plus PATH and TERM) in a rows x cols terminal.
    pub fn spawn<K, V>(args: &[&str], env: &[(K, V)], rows: u16, cols: u16) -> PtyApp
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_payops"));
        cmd.args(args);
        cmd.env_clear();
        cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
        cmd.env("TERM", "xterm-256color");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let started = Instant::now();
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);

        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZero::new(rows).unwrap(),
            std::num::NonZero::new(cols).unwrap(),
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
        PtyApp {
            parser,
            raw,
            writer,
            child,
            master: pair.master,
            started,
        }
    }

    pub fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    pub fn alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }

    /// Waits until the screen shows `needle`, or fails with what it shows.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        self.wait_until(&format!("{needle:?}"), timeout, |t| t.contains(needle))
    }

    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text();
            if check(&text) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("screen never showed {what}; it shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Types keys, then gives the UI a moment, as a person would.
    pub fn keys(&mut self, bytes: &[u8]) {
        let mut writer = self.writer.lock().unwrap();
        writer.write_all(bytes).unwrap();
        writer.flush().unwrap();
        drop(writer);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "payops did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PtyApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
