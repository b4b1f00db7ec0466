//! The top-level draw: where each feature's view goes, and which state it
//! is handed. Drawing reads `&App` and changes nothing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::app::{App, Overlay};
use super::layout::{MIN_HEIGHT, MIN_WIDTH, screen_layout};
use super::widgets::centered;
use super::{
    activity, balance_chart, balance_pane, detail, header, help, new_session, notify, sessions,
    status_bar, toasts, track,
};

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let ctx = app.view_context();
    let Some(layout) = screen_layout(area) else {
        draw_too_small(frame, area, app);
        return;
    };
    header::draw(
        frame,
        layout.header,
        &ctx,
        app.options.demo,
        app.engine_gone,
    );
    balance_pane::draw(frame, layout.balance, &ctx, &app.balance);
    sessions::draw(frame, layout.sessions, &ctx, &app.sessions);
    notify::draw(frame, layout.notify, &ctx, &app.notify);
    activity::draw(frame, layout.activity, &ctx, &app.activity);
    status_bar::draw(frame, layout.status_bar, &ctx, &app.keymap, app.context());
    match &app.overlay {
        None => {}
        Some(Overlay::Help(view)) => help::draw(frame, area, &ctx, &app.keymap, *view),
        Some(Overlay::Activity(view)) => {
            activity::draw_overlay(frame, area, &ctx, &app.activity, *view);
        }
        Some(Overlay::NewSession(form)) => new_session::draw(frame, layout.main, &ctx, form),
        Some(Overlay::Track(form)) => track::draw(frame, layout.main, &ctx, form),
        Some(Overlay::Detail(view)) => {
            detail::draw(frame, layout.main, &ctx, view, app.shown(view).as_ref())
        }
        Some(Overlay::ConfirmNotify(dialog)) => {
            notify::confirm::draw(frame, layout.main, &ctx, dialog)
        }
        Some(Overlay::BalanceChart) => {
            balance_chart::draw_overlay(frame, layout.main, &ctx, &app.balance)
        }
    }
    // Last, so feedback (a copied URL, a status change) is seen; but never
    // over a dialog, the help or a QR code: there it takes the status line.
    // Everything worth keeping is in the activity log as well.
    match &app.overlay {
        None => toasts::draw(frame, layout.body, &ctx, &app.toasts),
        Some(Overlay::Help(_) | Overlay::Activity(_)) => {}
        Some(Overlay::Detail(view)) if view.qr_only => {}
        Some(_) => toasts::draw_line(frame, layout.status_bar, &ctx, &app.toasts),
    }
}

fn draw_too_small(frame: &mut Frame, area: Rect, app: &App) {
    let message = format!(
        "terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT}, have {}x{})",
        area.width, area.height
    );
    let width = (message.chars().count() as u16).min(area.width);
    let target = centered(area, width, 1);
    frame.render_widget(
        Paragraph::new(Line::styled(message, app.theme.warning)),
        target,
    );
}
