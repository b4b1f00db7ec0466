//! The one entry point for change: `update` turns a key, mouse event, engine
//! update, tick or resize into state changes and effects for the runner. It
//! decides which feature a message is for and hands it over; the features
//! own what happens. It is pure (the clock is `app.now`), so every path is
//! unit-tested.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use jiff::Timestamp;
use ratatui::layout::{Position, Rect};

use crate::domain::CreateState;
use crate::domain::Provider;
use crate::engine::{Command, Connection, ProviderSetup, Update};
use crate::words;

use super::app::{App, Overlay};
use super::detail::{DetailOutcome, DetailView};
use super::feedback::{Feedback, Level};
use super::format;
use super::help::HelpView;
use super::keymap::{Action, Context};
use super::layout;
use super::layout::Pane;
use super::new_session::NewSessionForm;
use super::notify::confirm::ConfirmOutcome;
use super::team;
use super::track::TrackForm;
use super::widgets::form::{Form, FormOutcome};

pub use super::feedback::{Effect, REFRESH_DEBOUNCE};

/// Everything that can happen to the UI.
// Each message is consumed as soon as it arrives, never stored in bulk, so
// the size of the engine variant costs nothing worth a box per update.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Engine(Update),
    Tick(Timestamp),
    Resize(u16, u16),
    /// Something the runner itself met (no browser, the engine gone): the
    /// operator should see it, but it is no engine update.
    Local(Level, String),
}

const WHEEL_STEP: i16 = 3;

/// Applies `msg`; sets `app.dirty` when the screen must be redrawn.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let mut feedback = Feedback::default();
    match msg {
        Msg::Key(key) => {
            if key.kind != KeyEventKind::Release {
                on_key(app, key, &mut feedback);
                app.dirty = true;
            }
        }
        Msg::Mouse(mouse) => on_mouse(app, mouse),
        Msg::Engine(update) => {
            on_engine(app, update, &mut feedback);
            app.dirty = true;
        }
        Msg::Tick(now) => on_tick(app, now),
        Msg::Resize(width, height) => {
            app.size = (width, height);
            app.sessions
                .set_page_rows(layout::session_rows(width, height));
            app.dirty = true;
        }
        Msg::Local(level, text) => {
            feedback.alert(level, text);
            app.dirty = true;
        }
    }
    let on_screen = app.on_screen();
    if on_screen != app.reported_on_screen {
        app.reported_on_screen = on_screen.clone();
        feedback.send(Command::OnScreen(on_screen));
    }
    // In team mode, what the role or the connection does not allow stops here.
    screen_for_team(app, &mut feedback);
    app.apply(feedback)
}

fn on_tick(app: &mut App, now: Timestamp) {
    // The header clock shows seconds, so a new second is a visible change;
    // a second tick within the same second is not.
    let new_second = now.as_second() != app.now.as_second();
    app.now = now;
    let toasts_went = app.toasts.expire(now);
    if new_second || toasts_went {
        app.dirty = true;
    }
}

fn quit(feedback: &mut Feedback) {
    feedback.send(Command::Shutdown);
    feedback.effect(Effect::Quit);
}

// ---- keys ----

fn on_key(app: &mut App, key: KeyEvent, feedback: &mut Feedback) {
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        quit(feedback);
        return;
    }
    let context = app.context();
    let action = app.keymap.action_for(context, &key);
    if let (Some(action), Some(team)) = (action, &app.team)
        && let Some(denied) = team.denied(action, app.focus)
    {
        feedback.alert(Level::Warning, denied);
        return;
    }
    let configured = app.providers.is_configured(Provider::InstantPay);
    let help_limits = (context == Context::Help).then(|| {
        let screen = ratatui::layout::Rect::new(0, 0, app.size.0, app.size.1);
        super::help::scroll_limits(&app.view_context(), &app.keymap, screen)
    });
    let activity_limits = (context == Context::Activity).then(|| {
        let screen = ratatui::layout::Rect::new(0, 0, app.size.0, app.size.1);
        super::activity::scroll_limits(&app.view_context(), &app.activity, screen)
    });
    // Each arm says whether the dialog in front is done.
    let close = match (context, &mut app.overlay) {
        (Context::Activity, Some(Overlay::Activity(view))) => match activity_limits {
            Some(limits) => view.handle_key(action, limits),
            None => false,
        },
        (Context::Help, Some(Overlay::Help(view))) => match help_limits {
            Some(limits) => view.handle_key(action, limits),
            None => false,
        },
        (Context::NewSession, Some(Overlay::NewSession(form))) => {
            match form.handle_key(&key, action, &app.providers, feedback) {
                FormOutcome::Continue => false,
                FormOutcome::Cancel => true,
                FormOutcome::Submit(()) => {
                    app.awaiting_creates += 1;
                    true
                }
            }
        }
        (Context::Track, Some(Overlay::Track(form))) => !matches!(
            form.handle_key(&key, action, &app.providers, feedback),
            FormOutcome::Continue
        ),
        (Context::Detail, Some(Overlay::Detail(view))) => {
            view.handle_key(
                action,
                app.sessions.get(&view.id),
                &mut app.refresh,
                app.now,
                feedback,
            ) == DetailOutcome::Close
        }
        (Context::EditLabel, Some(Overlay::Detail(view))) => {
            view.handle_label_key(&key, action, feedback);
            false
        }
        (Context::ConfirmStop, Some(Overlay::Detail(view))) => {
            view.handle_confirm_stop_key(action, feedback);
            false
        }
        (Context::ConfirmNotify, Some(Overlay::ConfirmNotify(dialog))) => {
            match dialog.handle_key(action) {
                ConfirmOutcome::Open => false,
                ConfirmOutcome::Send => {
                    app.notify.send(&dialog.report, feedback);
                    true
                }
                ConfirmOutcome::Cancel => {
                    app.notify.cancel(dialog.report.clone(), feedback);
                    true
                }
            }
        }
        (Context::BalanceChart, _) => match action {
            Some(Action::ToggleSpan) => {
                app.balance.toggle_span();
                false
            }
            Some(Action::Refresh) => {
                let configured = app.providers.is_configured(Provider::InstantPay);
                app.balance
                    .refresh(configured, &mut app.refresh, app.now, feedback);
                false
            }
            Some(Action::Close) => true,
            _ => false,
        },
        (Context::Filter, _) => {
            app.sessions.handle_filter_key(&key, action);
            false
        }
        (Context::NotifyField, _) => {
            let next_pane = app
                .notify
                .handle_field_key(&key, action, configured, feedback);
            if next_pane {
                app.focus(app.focus.next());
            }
            false
        }
        (Context::Balance | Context::Sessions | Context::Notify | Context::Global, _) => {
            if let Some(action) = action {
                pane_action(app, action, feedback);
            }
            false
        }
        // The context always names the open overlay; nothing else can arrive.
        _ => false,
    };
    if close {
        app.overlay = None;
    }
}

/// Keys in the panes: the app-wide ones here, the rest to the focused pane.
fn pane_action(app: &mut App, action: Action, feedback: &mut Feedback) {
    let configured = app.providers.is_configured(Provider::InstantPay);
    match action {
        Action::Quit => quit(feedback),
        Action::ToggleHelp => app.overlay = Some(Overlay::Help(HelpView::default())),
        Action::ShowActivity => {
            app.overlay = Some(Overlay::Activity(super::activity::ActivityView::default()));
        }
        Action::NextPane => app.focus(app.focus.next()),
        Action::PrevPane => app.focus(app.focus.previous()),
        Action::Refresh => refresh_focused(app, feedback),
        Action::FocusNotify => {
            app.focus(Pane::Notify);
            app.notify.editing = true;
        }
        Action::NewSession => {
            let form = NewSessionForm::new(&app.options.defaults, &app.providers);
            app.overlay = Some(Overlay::NewSession(form));
        }
        Action::TrackSession => {
            let provider = app.providers.preferred(app.options.defaults.provider);
            let form = TrackForm::new(provider, &app.providers);
            app.overlay = Some(Overlay::Track(form));
        }
        Action::OpenDetail => {
            if let Some(record) = app.sessions.selected_record() {
                app.overlay = Some(Overlay::Detail(DetailView::open(record)));
            }
        }
        Action::ToggleMine => match &app.team {
            Some(team) => {
                let mine = app.sessions.toggle_only_by(&team.operator);
                feedback.log(
                    Level::Info,
                    if mine {
                        format!("showing the sessions {} created", team.operator)
                    } else {
                        "showing everyone's sessions".to_string()
                    },
                );
            }
            None => feedback.alert(
                Level::Info,
                "mine / everyone is for team mode, where sessions come from several operators",
            ),
        },
        _ => match app.focus {
            Pane::Sessions => app.sessions.handle_key(action),
            Pane::Notify => app.notify.handle_key(action, configured, feedback),
            Pane::Balance => match action {
                Action::OpenChart => app.overlay = Some(Overlay::BalanceChart),
                Action::ToggleSpan => app.balance.toggle_span(),
                _ => {}
            },
        },
    }
}

fn refresh_focused(app: &mut App, feedback: &mut Feedback) {
    let configured = app.providers.is_configured(Provider::InstantPay);
    let (debounce, now) = (&mut app.refresh, app.now);
    match app.focus {
        Pane::Balance => app.balance.refresh(configured, debounce, now, feedback),
        Pane::Sessions => app.sessions.refresh(debounce, now, feedback),
        Pane::Notify => app.notify.refresh(configured, debounce, now, feedback),
    }
}

// ---- mouse ----

fn on_mouse(app: &mut App, mouse: MouseEvent) {
    // The detail view scrolls with the wheel; other dialogs ignore the mouse.
    if let Some(Overlay::Detail(view)) = &mut app.overlay {
        match mouse.kind {
            MouseEventKind::ScrollDown => view.scroll_by(WHEEL_STEP),
            MouseEventKind::ScrollUp => view.scroll_by(-WHEEL_STEP),
            _ => return,
        }
        app.dirty = true;
        return;
    }
    if app.overlay.is_some() {
        return;
    }
    let Some(layout) = layout::screen_layout(Rect::new(0, 0, app.size.0, app.size.1)) else {
        return;
    };
    let at = Position::new(mouse.column, mouse.row);
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            if layout.balance.contains(at) {
                app.focus(Pane::Balance);
            } else if layout.notify.contains(at) {
                app.focus(Pane::Notify);
            } else if layout.sessions.contains(at) {
                app.focus(Pane::Sessions);
                // Border and heading row come before the first session row.
                let first_row = layout.sessions.y + 2;
                let last_row = layout.sessions.bottom().saturating_sub(1);
                if (first_row..last_row).contains(&mouse.row) {
                    app.sessions
                        .select_on_screen(usize::from(mouse.row - first_row));
                }
            } else {
                return;
            }
            app.dirty = true;
        }
        MouseEventKind::ScrollDown if layout.sessions.contains(at) => {
            app.sessions.move_by(WHEEL_STEP.into());
            app.dirty = true;
        }
        MouseEventKind::ScrollUp if layout.sessions.contains(at) => {
            app.sessions.move_by((-WHEEL_STEP).into());
            app.dirty = true;
        }
        _ => {}
    }
}

// ---- engine updates: each goes to the feature it is about ----

fn on_engine(app: &mut App, update: Update, feedback: &mut Feedback) {
    match update {
        Update::Loaded {
            sessions,
            histories,
            balance_history,
            audit,
            instantpay,
            cashfree,
        } => {
            feedback.log(
                Level::Info,
                format!(
                    "loaded {}, {}, {}",
                    words::counted(sessions.len(), "session", "sessions"),
                    words::counted(balance_history.len(), "balance reading", "balance readings"),
                    words::counted(audit.len(), "notify record", "notify records"),
                ),
            );
            app.sessions.on_loaded(sessions, histories);
            // A resynchronisation: a create still awaited arrives with the
            // rest, and a session gone meanwhile takes its detail with it.
            app.awaiting_creates = 0;
            if let Some(Overlay::Detail(view)) = &app.overlay
                && app.sessions.get(&view.id).is_none()
            {
                app.overlay = None;
            }
            app.balance.load(&balance_history, app.team.is_some());
            for entry in audit {
                app.notify.record_audit(entry);
            }
            app.providers.instantpay = instantpay;
            app.providers.cashfree = cashfree;
        }
        Update::BalanceRefreshing => app.balance.refreshing = true,
        Update::BalanceFetched(report) => {
            // What the credentials really reach, as InstantPay answered.
            if report.environment.is_some() {
                app.providers.instantpay = ProviderSetup::Configured {
                    environment: report.environment.clone(),
                };
            }
            app.balance.on_fetched(report, feedback);
        }
        Update::BalanceFailed(error) => app.balance.on_failed(&error, feedback),
        Update::SessionChanged {
            record,
            previous,
            event,
        } => {
            if let Some(Overlay::Detail(view)) = &mut app.overlay
                && view.id == record.id
            {
                view.sync_url(record.offered_url());
            }
            // The session this operator just created: select it and open its
            // detail, where the URL is copied and the QR code shown.
            // In team mode, only a session this operator created: a
            // colleague's arriving meanwhile is not opened in its place.
            let just_created = app.awaiting_creates > 0
                && record.create_state == CreateState::Created
                && app.sessions.get(&record.id).is_none()
                && app.team.as_ref().is_none_or(|team| {
                    record.created_by.as_deref() == Some(team.operator.as_str())
                });
            let id = record.id.clone();
            app.sessions.on_changed(record, previous, event, feedback);
            if just_created {
                app.awaiting_creates -= 1;
                app.sessions.select_id(&id);
                if app.overlay.is_none()
                    && let Some(record) = app.sessions.get(&id)
                {
                    app.overlay = Some(Overlay::Detail(DetailView::open(record)));
                }
            }
        }
        Update::SessionUserDetails { id, details } => app.sessions.on_user_details(id, details),
        // Documents are for the view that asked; with it closed, they are dropped.
        Update::Documents { id, documents } => {
            if let Some(Overlay::Detail(view)) = &mut app.overlay
                && view.id == id
            {
                view.on_documents(documents);
            }
        }
        Update::DocumentsFailed { id, message } => {
            if let Some(Overlay::Detail(view)) = &mut app.overlay
                && view.id == id
            {
                view.fetching_documents = false;
            }
            feedback.alert(Level::Warning, format!("documents of {id}: {message}"));
        }
        Update::CreateFailed {
            id,
            provider,
            error,
        } => app
            .sessions
            .on_create_failed(id, provider, &error, feedback),
        Update::TrackFailed {
            provider,
            reference,
            error,
        } => {
            let text = format!(
                "could not track {provider} session {reference}: {}",
                words::describe_error(&error)
            );
            feedback.alert(Level::Error, text.clone());
            // The form comes back as typed, unless another dialog took the screen.
            if matches!(app.overlay, None | Some(Overlay::Help(_))) {
                app.overlay = Some(Overlay::Track(TrackForm::again(
                    provider,
                    &reference,
                    &app.providers,
                    text,
                )));
            }
        }
        Update::Tracked {
            id,
            reference,
            already,
        } => {
            // The tracked row is the one to look at, whether new or not.
            app.sessions.select_id(&id);
            if already {
                feedback.toast(Level::Info, words::already_tracked(&reference));
            }
        }
        Update::PollFailed {
            record,
            error,
            retry_in,
        } => app
            .sessions
            .on_poll_failed(record, &error, retry_in, app.now, feedback),
        Update::PollWaits { id, at } => {
            let text =
                words::poll_waits(&id, &format::clock(at, &app.tz), at.duration_since(app.now));
            app.sessions.on_poll_waits(&id, at);
            feedback.toast(Level::Info, text);
        }
        Update::Health { provider, health } => {
            let before = app.providers.health(provider);
            let (was_failing, was_rejected) = (
                before.is_failing(),
                before.credentials_rejected_since.is_some(),
            );
            let rejected = health.credentials_rejected_since.is_some();
            if rejected && !was_rejected {
                // A header-level state: it stays marked until it passes. A
                // refusal of where we call from says its own fix.
                let text = match health.last_failure.as_deref() {
                    Some(why) if why.contains("ip_validation_failed") => {
                        format!("{provider}: {why}")
                    }
                    _ => words::credentials_rejected(provider),
                };
                feedback.alert(Level::Error, text);
            } else if health.is_failing() && !was_failing {
                feedback.alert(
                    Level::Error,
                    format!(
                        "{provider} is not answering: {}",
                        health.last_failure.as_deref().unwrap_or("no answer")
                    ),
                );
            } else if was_rejected && !rejected && !health.is_failing() {
                feedback.alert(
                    Level::Success,
                    format!("{provider} takes our credentials again"),
                );
            } else if was_failing && !health.is_failing() && !rejected {
                feedback.alert(Level::Success, format!("{provider} answers again"));
            }
            app.providers.set_health(provider, health);
        }
        Update::SessionUntracked(id) => {
            app.sessions.on_untracked(&id, feedback);
            if matches!(&app.overlay, Some(Overlay::Detail(view)) if view.id == id) {
                app.overlay = None;
            }
        }
        Update::LinkLooked { report, recent } => {
            if let Some(dialog) = app.notify.on_link_looked(report, recent, feedback)
                // Never throw away a form the operator is filling in.
                && matches!(app.overlay, None | Some(Overlay::Help(_)))
            {
                app.overlay = Some(Overlay::ConfirmNotify(dialog));
            }
        }
        Update::LinkFailed { link, error } => app.notify.on_link_failed(link, error, feedback),
        Update::AuditChanged(entry) => {
            feedback.log(
                Level::Info,
                format!(
                    "notify for {} by {}: {}",
                    entry.link_id,
                    entry.actor,
                    // An open row is a request on its way, not a doubt.
                    if entry.completed {
                        entry.outcome.as_str()
                    } else {
                        "in flight"
                    }
                ),
            );
            app.notify.record_audit(entry);
        }
        Update::NotifyStarted(entry) => app.notify.on_started(entry, feedback),
        Update::NotifyFinished { entry, error } => app.notify.on_finished(entry, error, feedback),
        Update::Problem(text) => feedback.alert(Level::Warning, text),
        Update::Refused { command, message } => on_refused(app, command, message, feedback),
        Update::Connection(connection) => on_connection(app, connection, feedback),
    }
}

/// Takes out of `feedback` the commands that cannot go now, each refused.
fn screen_for_team(app: &mut App, feedback: &mut Feedback) {
    let Some(team) = &app.team else {
        return;
    };
    let mut refused = Vec::new();
    feedback.effects.retain(|effect| match effect {
        Effect::Send(command) => match team.refusal(command) {
            Some(message) => {
                refused.push((command.clone(), message));
                false
            }
            None => true,
        },
        _ => true,
    });
    for (command, message) in refused {
        on_refused(app, command, message, feedback);
    }
}

/// A command the server (or `screen`) refused: say so, and stop waiting.
fn on_refused(app: &mut App, command: Command, message: String, feedback: &mut Feedback) {
    match &command {
        Command::CreateSession(_) => app.awaiting_creates = app.awaiting_creates.saturating_sub(1),
        Command::LookupLink(link) | Command::SendNotify(link) => app.notify.stop_waiting(link),
        Command::RefreshBalance => app.balance.refreshing = false,
        Command::FetchDocuments(id) => {
            if let Some(Overlay::Detail(view)) = &mut app.overlay
                && view.id == *id
            {
                view.fetching_documents = false;
            }
        }
        _ => {}
    }
    let text = if message.starts_with(team::what(&command)) {
        message
    } else if message.starts_with("not sent") || message.starts_with("not confirmed") {
        format!("{} {message}", team::what(&command))
    } else {
        format!("{} refused: {message}", team::what(&command))
    };
    feedback.alert(Level::Error, text);
}

fn on_connection(app: &mut App, connection: Connection, feedback: &mut Feedback) {
    let now = app.now;
    if let Some(team) = &mut app.team {
        team.on_connection(connection, now, feedback);
    }
}
