//! The real `payops --demo` binary in a real pseudo-terminal: the screen is
//! read back through a VT100 parser, keys are typed as a person would.

// Shared with the live bench, which uses parts this test does not.

use std::time::Duration;

use payops::sim::Faults;

use crate::harness::cli::Harness;
use crate::harness::pty::{PtyApp, fresh_home};
use crate::harness::sim::every_request;

/// Types `keys`, then waits up to `secs` seconds for each of `shown` in
/// turn; the screen that showed the last.
fn press(app: &mut PtyApp, keys: &[u8], shown: &[&str], secs: u64) -> String {
    app.keys(keys);
    let mut screen = String::new();
    for needle in shown {
        screen = app.wait_for(needle, Duration::from_secs(secs));
    }
    screen
}

#[test]
fn demo_dashboard_in_a_real_terminal() {
    let home = tempfile::tempdir().unwrap();
    let env = fresh_home(home.path());
    let mut app = PtyApp::spawn(&["--demo"], &env, 40, 140);

    // A living screen: the DEMO badge, the balance and the four seeded sessions.
    app.wait_for("DEMO", Duration::from_secs(30));
    app.wait_for("₹", Duration::from_secs(20));
    app.wait_for("sessions 4/4", Duration::from_secs(20));

    // n: the new-session form, prefilled; Enter creates at once.
    press(
        &mut app,
        b"n",
        &["New DigiLocker session", "https://example.com/kyc-done"],
        5,
    );
    // The new session is selected and its detail opens, QR code and all.
    press(&mut app, b"\r", &["scan to open the URL"], 10);
    press(&mut app, b"i", &["id copied to the clipboard"], 5);
    press(&mut app, b"\x1b", &["sessions 5/5"], 10);

    // ?: help overlay, generated from the keymap; Esc closes it.
    press(&mut app, b"?", &["Keys", "payout notify"], 5);
    // What does not fit scrolls into view.
    press(&mut app, b"\x1b[6~", &["send notification"], 5);
    app.keys(b"\x1b");
    app.wait_until("help closed", Duration::from_secs(5), |t| {
        !t.contains("Esc or ? closes")
    });

    // l: the notify pane; type the sample link, look it up, confirm, send.
    app.keys(b"l");
    app.keys(b"657aa9841b8d3897ff0a84fb");
    app.keys(b"\r");
    let dialog = app.wait_for("Send notification", Duration::from_secs(10));
    assert!(
        dialog.contains("Cancel"),
        "the dialog offers Cancel:\n{dialog}"
    );
    assert!(
        dialog.contains("₹"),
        "the dialog names the amount:\n{dialog}"
    );
    press(&mut app, b"y", &["Notification Link Sent"], 10);
    app.keys(b"\x1b");

    // q quits, leaving the terminal as it was.
    app.keys(b"q");
    let status = app.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let raw = app.raw();
    let raw = String::from_utf8_lossy(&raw);
    let entered = raw
        .rfind("\x1b[?1049h")
        .expect("entered the alternate screen");
    let left = raw.rfind("\x1b[?1049l").expect("left the alternate screen");
    assert!(left > entered, "alternate screen left after it was entered");
    // ...and left empty, so no terminal carries the last frame into the
    // normal screen (tmux did, after a resize from "terminal too small").
    let cleared = raw[..left]
        .rfind("\x1b[2J")
        .expect("the alternate screen is cleared before it is left");
    let after = &raw[cleared..left];
    assert!(
        !after.contains(['│', '┃', '─']) && !after.contains("payops"),
        "nothing drawn between the clear and the leave: {after:?}"
    );
    assert!(!app.alternate_screen());
    #[cfg(unix)]
    {
        // Raw mode is off again: the line discipline echoes and is canonical.
        use nix::sys::termios::LocalFlags;
        let termios = app
            .master
            .get_termios()
            .expect("the pty's line discipline is readable");
        assert!(
            termios.local_flags.contains(LocalFlags::ICANON),
            "canonical mode restored"
        );
        assert!(
            termios.local_flags.contains(LocalFlags::ECHO),
            "echo restored"
        );
    }
    // The notify is on record.
    let audit = std::process::Command::new(env!("CARGO_BIN_EXE_payops"))
        .args(["--demo", "audit", "--json"])
        .env_clear()
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    let audit: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(audit[0]["outcome"], "sent");
    assert_eq!(audit[0]["link_id"], "657aa9841b8d3897ff0a84fb");
}

/// The dashboard against a simulator that starts failing: the header says
/// the provider is unreachable, the row and the detail say the poll failed
/// (not the session), and it recovers when the provider does.
#[test]
fn a_fault_run_in_a_real_terminal_tells_the_truth() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let harness = runtime.block_on(Harness::start(1.0));
    let env = harness.env();
    // Tall enough for an InstantPay QR code beside the details.
    let mut app = PtyApp::spawn(&[], &env, 50, 140);
    app.wait_for("sessions 0/0", Duration::from_secs(30));
    press(&mut app, b"n", &["New DigiLocker session"], 5);
    press(&mut app, b"\r", &["scan to open the URL"], 10);

    harness
        .sim
        .set_faults(every_request(|f| &mut f.server_error));
    // The detail is on screen, so its session is polled every 5 s.
    app.wait_for("UNREACHABLE", Duration::from_secs(20));
    let screen = app.wait_for("Next poll", Duration::from_secs(20));
    assert!(screen.contains("Last error"), "{screen}");
    assert!(screen.contains("○ PENDING"), "the status stays:\n{screen}");
    press(&mut app, b"\x1b", &["⚠ "], 5);

    harness.sim.set_faults(Faults::default());
    app.wait_until("recovered", Duration::from_secs(20), |text| {
        !text.contains("UNREACHABLE")
    });
    app.keys(b"q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
}

/// `payops digilocker list` and `payops audit` in a real 80-column terminal:
/// no line overflows into the next, ids and references are whole, and what
/// had to go is named.
#[test]
fn cli_tables_fit_an_80_column_terminal() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut harness = runtime.block_on(Harness::start(1.0));
    harness.set_env("PAYOPS_OPERATOR_NAME", "asha");
    let mut ids = Vec::new();
    for provider in ["instantpay", "cashfree"] {
        let created = runtime.block_on(harness.run(&[
            "digilocker",
            "create",
            "--provider",
            provider,
            "--json",
        ]));
        created.assert_code(0);
        let json = created.json();
        ids.push(json["id"].as_str().unwrap().to_string());
        ids.push(json["reference"].as_str().unwrap().to_string());
    }
    runtime
        .block_on(harness.run(&["notify", crate::harness::cli::SAMPLE_LINK, "--yes"]))
        .assert_code(0);
    runtime.block_on(harness.run(&["balance"])).assert_code(0);
    let env = harness.env();
    for (args, whole) in [
        (&["digilocker", "list", "--all"][..], ids.clone()),
        (
            &["audit"][..],
            vec![crate::harness::cli::SAMPLE_LINK.to_string()],
        ),
    ] {
        let mut app = PtyApp::spawn(args, &env, 24, 80);
        app.wait_exit(Duration::from_secs(20));
        let text = app.text();
        for value in &whole {
            assert!(
                text.contains(value.as_str()),
                "{args:?}: {value} cut:\n{text}"
            );
        }
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let framed = ["┌", "│", "╞", "└", "("]
                .iter()
                .any(|s| line.starts_with(s));
            let note = line.contains("--json");
            assert!(
                framed || note,
                "{args:?}: an overflowing line {line:?}:\n{text}"
            );
        }
        assert!(text.contains("too narrow for"), "{args:?}:\n{text}");
    }
    // For people, the history ends with its summary.
    let mut app = PtyApp::spawn(&["balance", "--history"], &env, 24, 80);
    app.wait_exit(Duration::from_secs(20));
    let text = app.text();
    for line in ["1 reading since", "lowest  ₹", "highest ₹", "latest  ₹"] {
        assert!(text.contains(line), "{line}:\n{text}");
    }
}

/// An alert rings the terminal bell and, with `[alerts] desktop = true`,
/// goes to the desktop; where the desktop has no notification service (as
/// here: no session bus), the dashboard says so and keeps ringing. (That it
/// says so only once is the desktop module's unit test.)
#[test]
fn alerts_ring_and_a_missing_desktop_service_is_said_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut harness = runtime.block_on(Harness::start(1.0));
    // Above the simulated wallet: the first reading crosses it.
    harness.set_env("PAYOPS_DASHBOARD_LOW_BALANCE_THRESHOLD", "10000000");
    harness.set_env("PAYOPS_ALERTS_DESKTOP", "true");
    let env = harness.env();
    let mut app = PtyApp::spawn(&[], &env, 40, 140);
    app.wait_for(
        "below the ₹1,00,00,000.00 threshold",
        Duration::from_secs(30),
    );
    assert!(app.raw().contains(&0x07), "the bell rang");
    app.wait_for(
        "desktop notifications are unavailable",
        Duration::from_secs(30),
    );
    // Said in the activity log (whose lines start with the time) once.
    let text = app.text();
    let logged = text
        .lines()
        .filter(|line| line.contains("! desktop notifications are unavailable"))
        .filter(|line| {
            let time = line.trim_start_matches('│').get(..8).unwrap_or("");
            time.len() == 8 && time.chars().filter(|c| *c == ':').count() == 2
        })
        .count();
    assert_eq!(logged, 1, "{text}");
    app.keys(b"q");
    assert!(app.wait_exit(Duration::from_secs(10)).success());
}
