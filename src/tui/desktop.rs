//! Desktop notifications for alerts, for operators who keep the dashboard
//! in a background tab. Off unless `[alerts] desktop = true`; the bell rings
//! either way.

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::feedback::Alert;

/// Hands one alert to the desktop's notification service.
type Show = fn(&Alert) -> Result<(), String>;

pub struct Desktop {
    enabled: bool,
    failures: UnboundedSender<String>,
    show: Show,
}

impl Desktop {
    /// The receiver reports why a notification could not be shown (no
    /// notification service on this machine, say); hand each to
    /// [`Desktop::failed`].
    pub fn new(enabled: bool) -> (Desktop, UnboundedReceiver<String>) {
        Desktop::with(enabled, notify_rust_show)
    }

    fn with(enabled: bool, show: Show) -> (Desktop, UnboundedReceiver<String>) {
        let (failures, reports) = unbounded_channel();
        (
            Desktop {
                enabled,
                failures,
                show,
            },
            reports,
        )
    }

    pub fn show(&self, alert: &Alert) {
        if !self.enabled {
            return;
        }
        let alert = alert.clone();
        let (show, failures) = (self.show, self.failures.clone());
        // Showing one talks to the desktop's notification service and may
        // block on it: never on the UI's thread.
        std::thread::spawn(move || {
            if let Err(error) = show(&alert) {
                let _ = failures.send(error);
            }
        });
    }

    /// A notification failed: stop trying, and say so the first time only
    /// (alerts already on their way fail too, and need no second warning).
    pub fn failed(&mut self, error: &str) -> Option<String> {
        std::mem::replace(&mut self.enabled, false).then(|| {
            format!("desktop notifications are unavailable ({error}); the bell still rings")
        })
    }
}

fn notify_rust_show(alert: &Alert) -> Result<(), String> {
    notify_rust::Notification::new()
        .appname("payops")
        .summary(&alert.title)
        .body(&alert.body)
        .show()
        .map(|_| ())
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_service(_: &Alert) -> Result<(), String> {
        Err("no notification service".into())
    }

    #[test]
    fn a_missing_service_is_said_once_and_then_left_alone() {
        let (mut desktop, mut failures) = Desktop::with(true, no_service);
        let alert = Alert::new("Session authenticated", "dl-1 (Cashfree): PENDING → ✓");
        desktop.show(&alert);
        desktop.show(&alert);
        let first = failures.blocking_recv().unwrap();
        let second = failures.blocking_recv().unwrap();
        assert_eq!(
            desktop.failed(&first).as_deref(),
            Some(
                "desktop notifications are unavailable (no notification service); the bell still rings"
            )
        );
        assert_eq!(desktop.failed(&second), None);
        // Disabled now: nothing more is tried.
        desktop.show(&alert);
        drop(desktop);
        assert!(failures.blocking_recv().is_none());
    }

    #[test]
    fn off_by_default_nothing_is_tried() {
        let (desktop, mut failures) = Desktop::with(false, no_service);
        desktop.show(&Alert::new("t", "b"));
        drop(desktop);
        assert!(failures.blocking_recv().is_none());
    }
}
