//! The one place UI state changes: `update` turns a key, mouse event, engine
//! update, tick or resize into state changes and effects for the runner. It
//! is pure (the clock is `app.now`), so every path is unit-tested.

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use jiff::{SignedDuration, Timestamp};
use ratatui::layout::{Position, Rect};
use tui_input::backend::crossterm::to_input_request;

use crate::domain::{Provider, SessionStatus};
use crate::engine::{Command, ProviderSetup, Update};
use crate::store::NotifyOutcome;

use super::activity::Level;
use super::app::{App, Overlay, Pane};
use super::detail::DetailView;
use super::format::{describe_error, inr};
use super::keymap::{self, Action, Context};
use super::new_session::{Configured, FormOutcome, NewSessionForm, not_configured_message};
use super::notify::{Choice, NotifyConfirm, NotifyPhase, audit_detail};
use super::track::TrackForm;
use super::ui;

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
}

/// What the runner does on the UI's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(Command),
    /// Put text on the clipboard (OSC 52, so it works over SSH).
    Copy(String),
    OpenUrl(String),
    Bell,
    Quit,
}

/// `r` repeats within this window are ignored: providers rate-limit.
pub const REFRESH_DEBOUNCE: SignedDuration = SignedDuration::from_secs(2);
const WHEEL_STEP: isize = 3;
const DETAIL_SCROLL_MAX: u16 = 40;

/// Applies `msg`; sets `app.dirty` when the screen must be redrawn.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let mut effects = Vec::new();
    match msg {
        Msg::Key(key) => {
            if key.kind != KeyEventKind::Release {
                on_key(app, key, &mut effects);
                app.dirty = true;
            }
        }
        Msg::Mouse(mouse) => on_mouse(app, mouse),
        Msg::Engine(update) => {
            on_engine(app, update, &mut effects);
            app.dirty = true;
        }
        Msg::Tick(now) => on_tick(app, now),
        Msg::Resize(width, height) => {
            app.size = (width, height);
            app.sessions.set_page_rows(ui::session_rows(width, height));
            app.dirty = true;
        }
    }
    effects
}

fn configured(app: &App) -> Configured {
    Configured {
        instantpay: app.is_configured(Provider::InstantPay),
        cashfree: app.is_configured(Provider::Cashfree),
    }
}

fn quit(effects: &mut Vec<Effect>) {
    effects.push(Effect::Send(Command::Shutdown));
    effects.push(Effect::Quit);
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

fn note(app: &mut App, level: Level, text: String) {
    app.activity.push(app.now, level, text);
}

fn note_and_toast(app: &mut App, level: Level, text: String) {
    app.toasts.push(app.now, level, text.clone());
    app.activity.push(app.now, level, text);
}

// ---- keys ----

fn on_key(app: &mut App, key: KeyEvent, effects: &mut Vec<Effect>) {
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        quit(effects);
        return;
    }
    let context = app.context();
    let action = keymap::action_for(context, &key);
    match context {
        Context::Help => {
            if matches!(action, Some(Action::Close)) {
                app.overlay = None;
            }
        }
        Context::NewSession => new_session_key(app, &key, action, effects),
        Context::Track => track_key(app, &key, action, effects),
        Context::Detail => detail_key(app, action, effects),
        Context::ConfirmStop => confirm_stop_key(app, action, effects),
        Context::ConfirmNotify => confirm_notify_key(app, action, effects),
        Context::Filter => filter_key(app, &key, action),
        Context::NotifyField => notify_field_key(app, &key, action, effects),
        Context::Balance | Context::Sessions | Context::Notify | Context::Global => {
            if let Some(action) = action {
                pane_action(app, action, effects);
            }
        }
    }
}

fn focus(app: &mut App, pane: Pane) {
    app.focus = pane;
    app.notify.editing = false;
    app.sessions.filter_editing = false;
}

fn pane_action(app: &mut App, action: Action, effects: &mut Vec<Effect>) {
    match action {
        Action::Quit => quit(effects),
        Action::ToggleHelp => app.overlay = Some(Overlay::Help),
        Action::NextPane => focus(app, app.focus.next()),
        Action::PrevPane => focus(app, app.focus.previous()),
        Action::Refresh => refresh_focused(app, effects),
        Action::FocusNotify => {
            focus(app, Pane::Notify);
            app.notify.editing = true;
        }
        Action::EditLink => app.notify.editing = true,
        // Outside the field, Enter looks the submitted id up again (after a
        // cancelled dialog or a failed lookup); with no id yet, it starts typing.
        Action::LookUpLink if app.notify.input.value().trim().is_empty() => {
            app.notify.editing = true;
        }
        Action::LookUpLink if !app.notify.phase.is_busy() => look_up_link(app, effects),
        Action::NewSession => {
            let form = NewSessionForm::new(&app.options.defaults, configured(app));
            app.overlay = Some(Overlay::NewSession(form));
        }
        Action::TrackSession => {
            let available = configured(app);
            let form = TrackForm::new(
                available.preferred(app.options.defaults.provider),
                available,
            );
            app.overlay = Some(Overlay::Track(form));
        }
        Action::Up => app.sessions.move_by(-1),
        Action::Down => app.sessions.move_by(1),
        Action::PageUp => app.sessions.page(-1),
        Action::PageDown => app.sessions.page(1),
        Action::Top => app.sessions.select_first(),
        Action::Bottom => app.sessions.select_last(),
        Action::OpenDetail => open_detail(app, effects),
        Action::ToggleSort => {
            app.sessions.sort = app.sessions.sort.toggled();
            app.sessions.recompute();
        }
        Action::StartFilter => app.sessions.filter_editing = true,
        Action::ToggleFinal => {
            app.sessions.hide_final = !app.sessions.hide_final;
            app.sessions.recompute();
        }
        _ => {}
    }
}

/// True (and the debounce restarted) when a refresh may go out now.
fn refresh_allowed(app: &mut App) -> bool {
    if let Some(last) = app.last_refresh
        && app.now.duration_since(last) < REFRESH_DEBOUNCE
    {
        return false;
    }
    app.last_refresh = Some(app.now);
    true
}

fn send_debounced(app: &mut App, effects: &mut Vec<Effect>, command: Command) {
    if refresh_allowed(app) {
        effects.push(Effect::Send(command));
    }
}

fn refresh_focused(app: &mut App, effects: &mut Vec<Effect>) {
    match app.focus {
        Pane::Balance => {
            if !app.is_configured(Provider::InstantPay) {
                note_and_toast(
                    app,
                    Level::Warning,
                    not_configured_message(Provider::InstantPay),
                );
            } else if refresh_allowed(app) {
                effects.push(Effect::Send(Command::RefreshBalance));
            }
        }
        Pane::Sessions => {
            if let Some(id) = app.sessions.selected_record().map(|r| r.id.clone())
                && refresh_allowed(app)
            {
                effects.push(Effect::Send(Command::RefreshSession(id)));
            }
        }
        Pane::Notify => {
            if !app.notify.phase.is_busy() && refresh_allowed(app) {
                look_up_link(app, effects);
            }
        }
    }
}

fn open_detail(app: &mut App, effects: &mut Vec<Effect>) {
    if let Some(record) = app.sessions.selected_record() {
        let view = DetailView::open(record);
        effects.push(Effect::Send(Command::LoadHistory(view.id.clone())));
        app.overlay = Some(Overlay::Detail(view));
    }
}

fn new_session_key(
    app: &mut App,
    key: &KeyEvent,
    action: Option<Action>,
    effects: &mut Vec<Effect>,
) {
    let available = configured(app);
    let Some(Overlay::NewSession(form)) = &mut app.overlay else {
        return;
    };
    match form.handle(key, action, available) {
        FormOutcome::Continue => {}
        FormOutcome::Cancel => app.overlay = None,
        FormOutcome::Submit(request) => {
            let text = format!("creating a {} DigiLocker session…", request.provider);
            effects.push(Effect::Send(Command::CreateSession(request)));
            app.overlay = None;
            note(app, Level::Info, text);
        }
    }
}

fn track_key(app: &mut App, key: &KeyEvent, action: Option<Action>, effects: &mut Vec<Effect>) {
    let available = configured(app);
    let Some(Overlay::Track(form)) = &mut app.overlay else {
        return;
    };
    match form.handle(key, action, available) {
        FormOutcome::Continue => {}
        FormOutcome::Cancel => app.overlay = None,
        FormOutcome::Submit(command) => {
            if let Command::TrackSession {
                provider,
                reference,
            } = &command
            {
                let text = format!("tracking {provider} session {reference}…");
                note(app, Level::Info, text);
            }
            effects.push(Effect::Send(command));
            app.overlay = None;
        }
    }
}

fn detail_key(app: &mut App, action: Option<Action>, effects: &mut Vec<Effect>) {
    let Some(Overlay::Detail(view)) = &mut app.overlay else {
        return;
    };
    let id = view.id.clone();
    match action {
        Some(Action::Close) if view.qr_only => view.qr_only = false,
        Some(Action::Close) => app.overlay = None,
        Some(Action::StopTracking) => view.confirm_stop = true,
        Some(Action::ToggleQr) => view.qr_only = !view.qr_only,
        // Drawing clamps to the content; the cap keeps the way back short.
        Some(Action::Up) => view.scroll = view.scroll.saturating_sub(1),
        Some(Action::Down) => view.scroll = (view.scroll + 1).min(DETAIL_SCROLL_MAX),
        Some(Action::CopyUrl | Action::OpenUrl) => {
            let url = app.sessions.get(&id).and_then(|record| record.url.clone());
            match (url, action) {
                (Some(url), Some(Action::CopyUrl)) => {
                    effects.push(Effect::Copy(url));
                    app.toasts
                        .push(app.now, Level::Info, "URL copied to the clipboard");
                }
                (Some(url), _) => effects.push(Effect::OpenUrl(url)),
                (None, _) => app.toasts.push(app.now, Level::Warning, "no URL yet"),
            }
        }
        Some(Action::RefreshSession) => send_debounced(app, effects, Command::RefreshSession(id)),
        _ => {}
    }
}

fn confirm_stop_key(app: &mut App, action: Option<Action>, effects: &mut Vec<Effect>) {
    let Some(Overlay::Detail(view)) = &mut app.overlay else {
        return;
    };
    match action {
        Some(Action::Confirm) => {
            view.confirm_stop = false;
            let id = view.id.clone();
            note(app, Level::Info, format!("asked to stop tracking {id}"));
            effects.push(Effect::Send(Command::StopTracking(id)));
        }
        Some(Action::Deny) => view.confirm_stop = false,
        _ => {}
    }
}

fn filter_key(app: &mut App, key: &KeyEvent, action: Option<Action>) {
    let table = &mut app.sessions;
    match action {
        Some(Action::FilterDone) => table.filter_editing = false,
        Some(Action::FilterClear) => {
            table.filter.reset();
            table.filter_editing = false;
            table.recompute();
        }
        _ => {
            if let Some(request) = to_input_request(&Event::Key(*key))
                && table
                    .filter
                    .handle(request)
                    .is_some_and(|changed| changed.value)
            {
                table.recompute();
            }
        }
    }
}

fn notify_field_key(
    app: &mut App,
    key: &KeyEvent,
    action: Option<Action>,
    effects: &mut Vec<Effect>,
) {
    match action {
        Some(Action::StopEditing) => app.notify.editing = false,
        Some(Action::NextPane) => focus(app, app.focus.next()),
        // In flight (or looking up), Enter must not submit again.
        Some(Action::LookUpLink) if !app.notify.phase.is_busy() => look_up_link(app, effects),
        Some(Action::LookUpLink) => {}
        _ => {
            if app.notify.phase.is_busy() {
                return;
            }
            if let Some(request) = to_input_request(&Event::Key(*key))
                && app
                    .notify
                    .input
                    .handle(request)
                    .is_some_and(|changed| changed.value)
            {
                // A different link: the last lookup no longer applies.
                app.notify.phase = NotifyPhase::Idle;
                app.notify.validate(false);
            }
        }
    }
}

fn look_up_link(app: &mut App, effects: &mut Vec<Effect>) {
    let Some(link) = app.notify.validate(true) else {
        return;
    };
    if !app.is_configured(Provider::InstantPay) {
        app.notify.field_error = Some(not_configured_message(Provider::InstantPay));
        return;
    }
    effects.push(Effect::Send(Command::LookupLink(link.clone())));
    app.notify.phase = NotifyPhase::LookingUp(link);
    // The id is submitted: single keys are commands again (q quits), and
    // Enter or i edits the id anew.
    app.notify.editing = false;
}

fn confirm_notify_key(app: &mut App, action: Option<Action>, effects: &mut Vec<Effect>) {
    let Some(Overlay::ConfirmNotify(dialog)) = &mut app.overlay else {
        return;
    };
    match action {
        Some(Action::ChoiceLeft) => dialog.choice = Choice::Cancel,
        Some(Action::ChoiceRight) => dialog.choice = Choice::Confirm,
        Some(Action::ChoiceToggle) => {
            dialog.choice = match dialog.choice {
                Choice::Cancel => Choice::Confirm,
                Choice::Confirm => Choice::Cancel,
            }
        }
        Some(Action::Confirm) => confirm_notify(app, effects),
        Some(Action::ChooseFocused) if dialog.choice == Choice::Confirm => {
            confirm_notify(app, effects)
        }
        Some(Action::ChooseFocused | Action::Deny) => cancel_notify(app),
        _ => {}
    }
}

fn confirm_notify(app: &mut App, effects: &mut Vec<Effect>) {
    let Some(Overlay::ConfirmNotify(dialog)) = &mut app.overlay else {
        return;
    };
    if dialog.recent.is_some() && !dialog.asking_again {
        dialog.asking_again = true;
        dialog.choice = Choice::Cancel;
        return;
    }
    let link = dialog.report.link_id.clone();
    let amount = dialog.report.amount;
    app.overlay = None;
    effects.push(Effect::Send(Command::SendNotify(link.clone())));
    note(app, Level::Info, format!("sending notify for link {link}…"));
    app.notify.phase = NotifyPhase::InFlight { link, amount };
}

fn cancel_notify(app: &mut App) {
    let Some(Overlay::ConfirmNotify(dialog)) = app.overlay.take() else {
        return;
    };
    note(
        app,
        Level::Info,
        format!(
            "notify for link {} cancelled: nothing sent",
            dialog.report.link_id
        ),
    );
    app.notify.phase = NotifyPhase::Cancelled {
        report: dialog.report,
    };
}

// ---- mouse ----

fn on_mouse(app: &mut App, mouse: MouseEvent) {
    // The detail view scrolls with the wheel; other dialogs ignore the mouse.
    if let Some(Overlay::Detail(view)) = &mut app.overlay {
        match mouse.kind {
            MouseEventKind::ScrollDown => {
                view.scroll = (view.scroll + WHEEL_STEP as u16).min(DETAIL_SCROLL_MAX);
            }
            MouseEventKind::ScrollUp => view.scroll = view.scroll.saturating_sub(WHEEL_STEP as u16),
            _ => return,
        }
        app.dirty = true;
        return;
    }
    if app.overlay.is_some() {
        return;
    }
    let Some(layout) = ui::screen_layout(Rect::new(0, 0, app.size.0, app.size.1)) else {
        return;
    };
    let at = Position::new(mouse.column, mouse.row);
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            if layout.balance.contains(at) {
                focus(app, Pane::Balance);
            } else if layout.notify.contains(at) {
                focus(app, Pane::Notify);
            } else if layout.sessions.contains(at) {
                focus(app, Pane::Sessions);
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
            app.sessions.move_by(WHEEL_STEP);
            app.dirty = true;
        }
        MouseEventKind::ScrollUp if layout.sessions.contains(at) => {
            app.sessions.move_by(-WHEEL_STEP);
            app.dirty = true;
        }
        _ => {}
    }
}

// ---- engine updates ----

fn on_engine(app: &mut App, update: Update, effects: &mut Vec<Effect>) {
    match update {
        Update::Loaded {
            sessions,
            balance_history,
            audit,
            instantpay,
            cashfree,
        } => {
            let text = format!(
                "loaded {} sessions, {} balance readings, {} notify records",
                sessions.len(),
                balance_history.len(),
                audit.len()
            );
            app.sessions.load(sessions);
            app.balance.load(&balance_history);
            for entry in audit {
                app.notify.record_audit(entry);
            }
            app.instantpay = instantpay;
            app.cashfree = cashfree;
            note(app, Level::Info, text);
        }
        Update::BalanceRefreshing => app.balance.refreshing = true,
        Update::BalanceFetched(report) => {
            if report.environment.is_some() {
                app.instantpay = ProviderSetup::Configured {
                    environment: report.environment.clone(),
                };
            }
            let available = report.available;
            let threshold = app.options.low_balance_threshold;
            if app.balance.fetched(report, threshold)
                && let Some(limit) = threshold
            {
                effects.push(Effect::Bell);
                note_and_toast(
                    app,
                    Level::Warning,
                    format!(
                        "balance {} is below the {} threshold",
                        inr(available),
                        inr(limit)
                    ),
                );
            }
        }
        Update::BalanceFailed(error) => {
            let text = describe_error(&error);
            app.balance.failed(text.clone());
            note_and_toast(app, Level::Error, format!("balance refresh failed: {text}"));
        }
        Update::SessionChanged { record, previous } => {
            let id = record.id.clone();
            let detail_open = matches!(&app.overlay, Some(Overlay::Detail(view)) if view.id == id);
            if let Some(Overlay::Detail(view)) = &mut app.overlay
                && view.id == id
            {
                view.sync_url(record.url.as_deref());
            }
            let known = app.sessions.get(&id).is_some();
            if let Some(previous) = previous {
                let level = match &record.status {
                    SessionStatus::Authenticated => Level::Success,
                    status if status.is_final() => Level::Warning,
                    _ => Level::Info,
                };
                note_and_toast(
                    app,
                    level,
                    format!(
                        "{id} ({}): {} → {} {}",
                        record.provider,
                        previous.as_str(),
                        record.status.symbol(),
                        record.status.as_str()
                    ),
                );
                if record.status == SessionStatus::Authenticated {
                    effects.push(Effect::Bell);
                }
                if detail_open {
                    effects.push(Effect::Send(Command::LoadHistory(id.clone())));
                }
            } else if !known {
                note(
                    app,
                    Level::Info,
                    format!("{id} ({}) added", record.provider),
                );
            }
            app.sessions.upsert(record);
        }
        Update::SessionUserDetails { id, details } => {
            app.sessions.user_details.insert(id, details);
        }
        Update::SessionHistory { id, events } => {
            app.sessions.histories.insert(id, events);
        }
        Update::SessionFailed {
            id,
            provider,
            error,
        } => {
            let subject = match id {
                Some(id) => format!("{provider} session {id}"),
                None => format!("{provider} session"),
            };
            note_and_toast(
                app,
                Level::Error,
                format!("{subject} failed: {}", describe_error(&error)),
            );
        }
        Update::SessionUntracked(id) => {
            app.sessions.remove(&id);
            if matches!(&app.overlay, Some(Overlay::Detail(view)) if view.id == id) {
                app.overlay = None;
            }
            note(app, Level::Info, format!("stopped tracking {id}"));
        }
        Update::LinkLooked {
            report,
            recent_notify,
        } => {
            let level = if report.status.is_notifiable() {
                Level::Info
            } else {
                Level::Warning
            };
            let amount = report
                .amount
                .map(inr)
                .unwrap_or_else(|| "amount unknown".to_string());
            note(
                app,
                level,
                format!("link {}: {} {amount}", report.link_id, report.status),
            );
            let awaited = matches!(&app.notify.phase, NotifyPhase::LookingUp(link) if *link == report.link_id);
            if awaited {
                app.notify.phase = NotifyPhase::Looked {
                    report: report.clone(),
                    recent: recent_notify.clone(),
                };
                // Never throw away a form the operator is filling in.
                if matches!(app.overlay, None | Some(Overlay::Help)) {
                    app.overlay = Some(Overlay::ConfirmNotify(NotifyConfirm::new(
                        report,
                        recent_notify,
                    )));
                }
            }
        }
        Update::LinkFailed { link, error } => {
            note_and_toast(
                app,
                Level::Error,
                format!("link {link} lookup failed: {}", describe_error(&error)),
            );
            if matches!(&app.notify.phase, NotifyPhase::LookingUp(awaited) if *awaited == link) {
                app.notify.phase = NotifyPhase::LookupFailed { link, error };
            }
        }
        Update::NotifyStarted(entry) => {
            note(
                app,
                Level::Info,
                format!(
                    "notify for link {} in flight (audit #{})",
                    entry.link_id, entry.id
                ),
            );
            app.notify.record_audit(entry);
        }
        Update::NotifyFinished { entry, error } => {
            let link = entry.link_id.clone();
            let (level, text) = match entry.outcome {
                NotifyOutcome::Sent => (
                    Level::Success,
                    format!("notify sent for link {link}: {}", audit_detail(&entry)),
                ),
                NotifyOutcome::Declined | NotifyOutcome::Failed => (
                    Level::Error,
                    format!(
                        "notify {} for link {link}: {}",
                        if entry.outcome == NotifyOutcome::Failed {
                            "not sent"
                        } else {
                            "declined"
                        },
                        error
                            .as_ref()
                            .map(describe_error)
                            .unwrap_or_else(|| audit_detail(&entry))
                    ),
                ),
                NotifyOutcome::Unknown => (
                    Level::Warning,
                    format!(
                        "notify outcome UNKNOWN for link {link}: {}; check the link before sending again",
                        error
                            .as_ref()
                            .map(describe_error)
                            .unwrap_or_else(|| audit_detail(&entry))
                    ),
                ),
            };
            note_and_toast(app, level, text);
            app.notify.record_audit(entry.clone());
            if matches!(&app.notify.phase, NotifyPhase::InFlight { link: awaited, .. } if *awaited == link)
            {
                app.notify.phase = NotifyPhase::Finished { entry, error };
            }
        }
        Update::Problem(text) => note_and_toast(app, Level::Warning, text),
    }
}
