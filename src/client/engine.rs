//! The dashboard's engine in team mode: it takes the same commands and sends
//! the same updates as the local engine, but the work happens on the server.
//! Commands become API calls with the operator's token; the server's event
//! stream becomes updates. While the stream is down, commands are refused
//! (never queued), and on reconnecting the server's snapshot replaces what
//! the dashboard held, so nothing missed stays missing.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use super::ServerClient;
use super::stream::{self, StreamMessage};
use crate::domain::{AuditEntry, LinkId, LinkReport, RecentNotifies, SessionId, SessionRecord};
use crate::engine::run::Spawned;
use crate::engine::{Command, Connection, SessionRequest, Update};

/// Starts following the server; the returned ends work as the local engine's.
pub fn spawn(client: ServerClient) -> Spawned {
    let (commands_tx, commands_rx) = mpsc::unbounded_channel();
    let (updates_tx, updates_rx) = mpsc::unbounded_channel();
    let (answers_tx, answers_rx) = mpsc::unbounded_channel();
    let engine = RemoteEngine {
        client,
        updates: updates_tx,
        answers: answers_tx,
        connected: false,
        ever_connected: false,
        sessions: HashMap::new(),
        audit: HashMap::new(),
        looked: HashMap::new(),
    };
    let task = tokio::spawn(engine.run(commands_rx, answers_rx));
    (commands_tx, updates_rx, task)
}

struct RemoteEngine {
    client: ServerClient,
    updates: UnboundedSender<Update>,
    /// Where the background API calls send their answers, so they pass
    /// through the engine's state on their way to the dashboard.
    answers: UnboundedSender<Update>,
    connected: bool,
    ever_connected: bool,
    /// What the dashboard was last told of each session and audit row: a
    /// change that comes twice (around a snapshot) is passed on once, and a
    /// stale one not at all.
    sessions: HashMap<SessionId, SessionRecord>,
    audit: HashMap<i64, AuditEntry>,
    /// Whether the last lookup of a link showed notifies in the repeat
    /// window. The operator confirmed with those in front of them, so the
    /// send says `again`; otherwise the server's guard decides.
    looked: HashMap<LinkId, bool>,
}

impl RemoteEngine {
    async fn run(
        mut self,
        mut commands: UnboundedReceiver<Command>,
        mut answers: UnboundedReceiver<Update>,
    ) {
        let (stream_tx, mut stream_rx) = mpsc::unbounded_channel();
        let follower = tokio::spawn(stream::follow(self.client.clone(), stream_tx));
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None | Some(Command::Shutdown) => break,
                    Some(command) => self.handle(command),
                },
                Some(message) = stream_rx.recv() => self.on_stream(message),
                // Answers to this dashboard's own calls.
                Some(update) = answers.recv() => self.on_answer(update),
            }
        }
        follower.abort();
    }

    fn on_answer(&mut self, update: Update) {
        match &update {
            // The dialog asks twice only for a notify that may have reached
            // the recipient; only then did the operator confirm a repeat.
            Update::LinkLooked { report, recent } => {
                self.looked
                    .insert(report.link_id.clone(), recent.last_reaching().is_some());
            }
            Update::NotifyFinished { entry, .. } => {
                self.audit.insert(entry.id, entry.clone());
            }
            _ => {}
        }
        self.send(update);
    }

    fn send(&self, update: Update) {
        // The UI may have gone first at shutdown.
        let _ = self.updates.send(update);
    }

    /// A change from the stream, unless the dashboard already has it (or
    /// something newer).
    fn pass(&mut self, update: Update) {
        match &update {
            Update::SessionChanged { record, .. } => {
                if let Some(known) = self.sessions.get(&record.id)
                    && (known == record || known.updated_at > record.updated_at)
                {
                    return;
                }
                self.sessions.insert(record.id.clone(), record.clone());
            }
            // Each failure counts (its retry time moves), even with the row unchanged.
            Update::PollFailed { record, .. } => {
                self.sessions.insert(record.id.clone(), record.clone());
            }
            Update::SessionUntracked(id) if self.sessions.remove(id).is_none() => return,
            Update::AuditChanged(entry) => {
                if self.audit.get(&entry.id) == Some(entry) {
                    return;
                }
                self.audit.insert(entry.id, entry.clone());
                // Someone notified the link after this operator looked it
                // up: what they confirmed is out of date, so the server's
                // guard decides the next send.
                if let Some(again) = self.looked.get_mut(&entry.link_id) {
                    *again = false;
                }
            }
            _ => {}
        }
        self.send(update);
    }

    fn on_stream(&mut self, message: StreamMessage) {
        match message {
            StreamMessage::Snapshot(update) => self.resync(update),
            StreamMessage::Change(update) => self.pass(update),
            StreamMessage::StoreDown(Some(reason)) => {
                self.send(Update::Connection(Connection::StoreDown { reason }));
            }
            StreamMessage::StoreDown(None) if self.connected => {
                self.send(Update::Connection(Connection::Up { changed: None }));
            }
            StreamMessage::StoreDown(None) => {}
            StreamMessage::Lost {
                reason,
                retry_in,
                refused,
            } => {
                self.connected = false;
                self.send(Update::Connection(Connection::Down {
                    reason,
                    retry_in,
                    refused,
                }));
            }
        }
    }

    /// The server's snapshot replaces what the dashboard held.
    fn resync(&mut self, snapshot: Update) {
        let Update::Loaded {
            sessions, audit, ..
        } = &snapshot
        else {
            return;
        };
        // What changed while away that an operator would care about: new
        // sessions, gone ones, new statuses and labels (not poll times).
        // Status changes are told as they would have been live, alerts and all.
        let mut status_changes = Vec::new();
        let changed = self.ever_connected.then(|| {
            let now_held: std::collections::HashSet<&SessionId> =
                sessions.iter().map(|record| &record.id).collect();
            let removed = self
                .sessions
                .keys()
                .filter(|id| !now_held.contains(id))
                .count();
            let mut new_or_changed = 0;
            for record in sessions {
                match self.sessions.get(&record.id) {
                    None => new_or_changed += 1,
                    Some(known) if known.status != record.status => {
                        new_or_changed += 1;
                        status_changes.push(Update::SessionChanged {
                            record: record.clone(),
                            previous: Some(known.status.clone()),
                            event: None,
                        });
                    }
                    Some(known) if known.label != record.label => new_or_changed += 1,
                    Some(_) => {}
                }
            }
            removed + new_or_changed
        });
        self.sessions = sessions
            .iter()
            .map(|record| (record.id.clone(), record.clone()))
            .collect();
        self.audit = audit
            .iter()
            .map(|entry| (entry.id, entry.clone()))
            .collect();
        self.connected = true;
        self.ever_connected = true;
        self.send(snapshot);
        for update in status_changes {
            self.send(update);
        }
        self.send(Update::Connection(Connection::Up { changed }));
    }

    fn handle(&mut self, command: Command) {
        match &command {
            // The server polls on its own schedule, and keeps no documents.
            Command::OnScreen(_)
            | Command::LogReveal { .. }
            | Command::StoreChanged
            | Command::Lead(_)
            | Command::Shutdown => return,
            Command::FetchDocuments(id) => {
                self.send(Update::DocumentsFailed {
                    id: id.clone(),
                    message: "documents are not fetched through a payops server yet; \
                              `payops digilocker documents` on the server host fetches them"
                        .into(),
                });
                return;
            }
            _ => {}
        }
        if !self.connected {
            self.send(Update::Refused {
                message: format!(
                    "not sent: not connected to {}; it reconnects on its own",
                    self.client.shown()
                ),
                command,
            });
            return;
        }
        if let Command::SendNotify(link) = &command {
            let again = self.looked.remove(link).unwrap_or(false);
            return self.call(
                command.clone(),
                notify(self.client.clone(), link.clone(), again),
            );
        }
        let client = self.client.clone();
        match command.clone() {
            Command::RefreshBalance => self.call(command, async move {
                client.post(&["balance", "refresh"], None).await?;
                Ok(None)
            }),
            Command::CreateSession(request) => self.call(command, async move {
                client
                    .post(&["sessions"], Some(create_body(&request)))
                    .await?;
                // The new row comes on the stream, as everyone's does.
                Ok(None)
            }),
            Command::TrackSession {
                provider,
                reference,
            } => {
                // As solo mode says it: tracking it again selects its row.
                let already = self
                    .sessions
                    .values()
                    .any(|known| known.tracks(provider, &reference));
                self.call(command, async move {
                    let body = json!({"provider": provider.as_str(), "reference": reference});
                    let answer = client.post(&["sessions", "track"], Some(body)).await?;
                    Ok(answer["id"].as_str().map(|id| Update::Tracked {
                        id: SessionId::new_unchecked(id),
                        reference,
                        already,
                    }))
                })
            }
            Command::RefreshSession(id) => self.call(command, async move {
                client
                    .post(&["sessions", id.as_str(), "refresh"], None)
                    .await?;
                Ok(None)
            }),
            Command::StopTracking(id) => self.call(command, async move {
                client
                    .post(&["sessions", id.as_str(), "stop"], None)
                    .await?;
                Ok(None)
            }),
            Command::SetLabel { id, label } => self.call(command, async move {
                client
                    .call(
                        Method::PUT,
                        &["sessions", id.as_str(), "label"],
                        &[],
                        Some(json!({ "label": label })),
                    )
                    .await?;
                Ok(None)
            }),
            Command::LookupLink(link) => self.call(command, async move {
                let value = client
                    .call(Method::GET, &["links", link.as_str()], &[], None)
                    .await?;
                let report: LinkReport = read(value["link"].clone())?;
                let recent: Vec<AuditEntry> = read(value["recent_notifies"].clone())?;
                Ok(Some(Update::LinkLooked {
                    report,
                    recent: RecentNotifies(recent),
                }))
            }),
            _ => {}
        }
    }

    /// Runs one API call in the background: its update (if any) comes back
    /// through `on_answer`, its refusal as `Refused` with the command.
    fn call<F>(&mut self, command: Command, call: F)
    where
        F: std::future::Future<Output = Result<Option<Update>, super::ServerError>>
            + Send
            + 'static,
    {
        let answers = self.answers.clone();
        tokio::spawn(async move {
            let update = match call.await {
                Ok(Some(update)) => update,
                Ok(None) => return,
                Err(error) => Update::Refused {
                    message: refusal(&command, &error),
                    command,
                },
            };
            let _ = answers.send(update);
        });
    }
}

/// A failed call, in the dashboard's words: what the operator should do
/// next, and never "refused" for what may have happened.
fn refusal(command: &Command, error: &super::ServerError) -> String {
    let check = match command {
        Command::SendNotify(_) => Some("look the link up again before sending another"),
        Command::CreateSession(_) => Some("check the session list before creating another"),
        _ => None,
    };
    if let (true, Some(check)) = (error.outcome_unknown(), check) {
        return format!("not confirmed, it may have been done: {error}; {check}");
    }
    match error {
        // The server's words are for API callers ("send again: true").
        super::ServerError::Refused { kind, message, .. } if kind == "recently_notified" => {
            let said = message.replace(crate::domain::wire::AGAIN_HINT, "");
            format!("{said}; look the link up again to confirm another")
        }
        _ => error.to_string(),
    }
}

/// The body of `POST /api/v1/sessions` for a validated request.
fn create_body(request: &SessionRequest) -> Value {
    let documents: Vec<&str> = request.documents.iter().map(|d| d.wire()).collect();
    json!({
        "provider": request.provider.as_str(),
        "flow": request.flow.cashfree_word(),
        "documents": (!documents.is_empty()).then_some(documents),
        "redirect_url": request.redirect_url.as_ref().map(|url| url.as_str()),
        "label": request.label,
    })
}

fn read<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, super::ServerError> {
    serde_json::from_value(value).map_err(|e| {
        super::ServerError::unreadable(format!("the server's answer could not be read: {e}"))
    })
}

/// Sends a notify; its audit row is the answer (sent, declined or unknown).
async fn notify(
    client: ServerClient,
    link: LinkId,
    again: bool,
) -> Result<Option<Update>, super::ServerError> {
    let value = client
        .post(
            &["links", link.as_str(), "notify"],
            Some(json!({ "again": again })),
        )
        .await?;
    let entry: AuditEntry = read(value).map_err(|_| {
        super::ServerError::unreadable(format!(
            "the server's answer to the notify for {link} could not be read: it may have \
             been sent; check the audit before sending again"
        ))
    })?;
    Ok(Some(Update::NotifyFinished { entry, error: None }))
}
