//! `update` for every key path and every engine update.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};
use url::Url;

use crate::domain::{AuditEntry, NotifyOutcome, RecentNotifies, StatusEvent};
use crate::domain::{
    DocumentType, LinkStatus, Provider, ProviderEnvironment, SessionId, SessionRecord,
    SessionStatus, UserDetails, UserFlow,
};
use crate::engine::{Command, ProviderSetup, SessionRequest, Update};
use crate::error::ProviderError;

use super::app::Overlay;
use super::feedback::Level;
use super::fixtures::*;
use super::keymap::Context;
use super::layout::Pane;
use super::notify::NotifyPhase;
use super::notify::confirm::Choice;
use super::sessions::SortOrder;
use super::theme::Theme;
use super::update::{Effect, Msg, update};

fn engine(app: &mut super::App, message: Update) -> Vec<Effect> {
    update(app, Msg::Engine(message))
}

/// The engine reports `record` changed (from `previous`, when its status
/// moved), with no history event.
fn changed(
    app: &mut super::App,
    record: SessionRecord,
    previous: Option<SessionStatus>,
) -> Vec<Effect> {
    engine(
        app,
        Update::SessionChanged {
            record,
            previous,
            event: None,
        },
    )
}

/// The detail of session `id` open, its label being edited.
fn edit_label_of(app: &mut super::App, id: &str) {
    app.sessions.select_id(&SessionId::new_unchecked(id));
    update(app, key(KeyCode::Enter));
    update(app, ch('e'));
}

/// The new-session form, which must be open.
fn new_session_form(app: &super::App) -> &super::new_session::NewSessionForm {
    let Some(Overlay::NewSession(form)) = &app.overlay else {
        panic!("form not open");
    };
    form
}

/// The table filtered by `text` (`/`, the text, Enter).
fn filter_to(app: &mut super::App, text: &str) {
    update(app, ch('/'));
    type_text(app, text);
    update(app, key(KeyCode::Enter));
}

/// The titles of the alerts (bell, desktop) among `effects`.
fn alerts(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Alert(alert) => Some(alert.title.as_str()),
            _ => None,
        })
        .collect()
}

/// The newest toast's text ("" when none).
fn last_toast(app: &super::App) -> String {
    app.toasts
        .iter()
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

fn selected_id(app: &super::App) -> String {
    app.sessions
        .selected_record()
        .map(|record| record.id.to_string())
        .unwrap_or_default()
}

fn declined(code: &str) -> ProviderError {
    ProviderError::Declined {
        provider: Provider::InstantPay,
        code: code.into(),
        message: "Insufficient wallet balance".into(),
        actcode: None,
        request_id: Some("ipay-42".into()),
    }
}

/// `l`, the sample link typed, Enter: the lookup a notify starts with.
fn start_lookup(app: &mut super::App) -> Vec<Effect> {
    update(app, ch('l'));
    type_text(app, LINK);
    update(app, key(KeyCode::Enter))
}

/// The create the form sends for these choices.
fn create_command(
    provider: Provider,
    flow: UserFlow,
    documents: &[DocumentType],
    redirect_url: Option<&str>,
    label: Option<&str>,
) -> Command {
    Command::CreateSession(SessionRequest {
        provider,
        flow,
        documents: documents.to_vec(),
        redirect_url: redirect_url.map(|url| Url::parse(url).unwrap()),
        label: label.map(str::to_string),
    })
}

/// The engine answers a lookup: the link is ISSUED, with these notifies
/// in the repeat window.
fn issued_link_looked_up(app: &mut super::App, recent: Vec<AuditEntry>) {
    engine(
        app,
        Update::LinkLooked {
            report: link_report(LinkStatus::Issued),
            recent: RecentNotifies(recent),
        },
    );
}

/// A loaded dashboard at the confirm dialog for an ISSUED link.
fn at_notify_confirm(recent: Vec<AuditEntry>) -> super::App {
    let mut app = loaded_app();
    start_lookup(&mut app);
    issued_link_looked_up(&mut app, recent);
    app
}

mod balance;
mod dialogs;
mod failure;
mod notify;
mod panes;
mod sessions;
