//! Desktop notifications for alerts, for operators who keep the dashboard
//! in a background tab. Off unless `[alerts] desktop = true`; the bell rings
//! either way.

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::feedback::Alert;

pub struct Desktop {
    enabled: bool,
    failures: UnboundedSender<String>,
}

impl Desktop {
    /// The receiver reports why a notification could not be shown (no
    /// notification service on this machine, say), so the dashboard can say
    /// so once and stop trying.
    pub fn new(enabled: bool) -> (Desktop, UnboundedReceiver<String>) {
        let (failures, reports) = unbounded_channel();
        (Desktop { enabled, failures }, reports)
    }

    pub fn show(&self, alert: &Alert) {
        if !self.enabled {
            return;
        }
        let Alert { title, body } = alert.clone();
        let failures = self.failures.clone();
        // Showing one talks to the desktop's notification service and may
        // block on it: never on the UI's thread.
        std::thread::spawn(move || {
            let shown = notify_rust::Notification::new()
                .appname("payops")
                .summary(&title)
                .body(&body)
                .show();
            if let Err(error) = shown {
                let _ = failures.send(error.to_string());
            }
        });
    }

    /// After the first failure: one warning is enough.
    pub fn disable(&mut self) -> bool {
        std::mem::replace(&mut self.enabled, false)
    }
}
