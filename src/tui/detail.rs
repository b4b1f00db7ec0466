//! One session in full: every field, the URL wrapped and as a QR code, the
//! status history and (once authenticated) the masked user details.

use qrcode::{EcLevel, QrCode};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::domain::{SessionId, SessionStatus};
use crate::store::{CreateState, SessionRecord};

use super::app::App;
use super::format::{ago, countdown, documents_long};
use super::sessions::{is_finished, status_style, status_text};
use super::ui::{centered, dialog_block};

/// Light modules around the code; scanners need some margin.
const QUIET_ZONE: usize = 2;
/// Keep at least this much room for the text beside the code.
const TEXT_MIN_WIDTH: u16 = 44;
const LABEL_WIDTH: usize = 13;

#[derive(Debug, Clone, PartialEq)]
pub struct QrImage {
    pub modules: usize,
    /// Row-major, `modules * modules`, true = dark.
    pub dark: Vec<bool>,
}

impl QrImage {
    pub fn encode(text: &str) -> Option<QrImage> {
        // Low error correction keeps long DigiLocker URLs small enough for a
        // terminal; a screen does not get scuffed like paper.
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()?;
        Some(QrImage {
            modules: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|color| color == qrcode::Color::Dark)
                .collect(),
        })
    }

    fn is_dark(&self, x: isize, y: isize) -> bool {
        let inside = |v: isize| v >= 0 && (v as usize) < self.modules;
        inside(x) && inside(y) && self.dark[y as usize * self.modules + x as usize]
    }

    /// Cells needed: one column per module, two module rows per text row.
    pub fn size_on_screen(&self) -> (u16, u16) {
        let side = self.modules + 2 * QUIET_ZONE;
        (side as u16, side.div_ceil(2) as u16)
    }

    /// Half blocks: each character carries two module rows.
    pub fn lines(&self) -> Vec<String> {
        let side = (self.modules + 2 * QUIET_ZONE) as isize;
        let quiet = QUIET_ZONE as isize;
        (0..side)
            .step_by(2)
            .map(|top| {
                (0..side)
                    .map(|x| {
                        let upper = self.is_dark(x - quiet, top - quiet);
                        let lower = self.is_dark(x - quiet, top + 1 - quiet);
                        match (upper, lower) {
                            (true, true) => '█',
                            (true, false) => '▀',
                            (false, true) => '▄',
                            (false, false) => ' ',
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct DetailView {
    pub id: SessionId,
    pub qr: Option<QrImage>,
    /// The URL `qr` encodes, to rebuild it only when the URL changes.
    qr_url: Option<String>,
    /// "Stop tracking?" is being asked.
    pub confirm_stop: bool,
    /// Rows scrolled, for terminals too short to show everything.
    pub scroll: u16,
    /// The QR code alone on the whole screen, for a customer to scan.
    pub qr_only: bool,
}

impl DetailView {
    pub fn open(record: &SessionRecord) -> DetailView {
        let mut view = DetailView {
            id: record.id.clone(),
            qr: None,
            qr_url: None,
            confirm_stop: false,
            scroll: 0,
            qr_only: false,
        };
        view.sync_url(record.url.as_deref());
        view
    }

    pub fn sync_url(&mut self, url: Option<&str>) {
        if self.qr_url.as_deref() == url {
            return;
        }
        self.qr_url = url.map(str::to_string);
        self.qr = url.and_then(QrImage::encode);
    }
}

fn field<'a>(label: &str, value: impl Into<Span<'a>>, app: &App) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<LABEL_WIDTH$} "), app.theme.dim),
        value.into(),
    ])
}

fn create_state_text(state: &CreateState) -> String {
    match state {
        CreateState::Sending => "sending (no answer yet)".to_string(),
        CreateState::Created => "created".to_string(),
        CreateState::Failed(message) => format!("failed: {message}"),
        CreateState::OutcomeUnknown(message) => format!(
            "outcome unknown: {message} (the provider may have created it; check before creating again)"
        ),
    }
}

fn record_lines<'a>(record: &'a SessionRecord, app: &App) -> Vec<Line<'a>> {
    let theme = &app.theme;
    let now = app.now;
    let mut lines = vec![
        field("Provider", record.provider.display_name(), app),
        field("Our id", record.id.as_str(), app),
        field("External ref", record.external_ref.as_str(), app),
        field("Reference", record.reference.as_deref().unwrap_or("—"), app),
        field(
            "Status",
            Span::styled(status_text(record), status_style(theme, record)),
            app,
        ),
        field(
            "Provider says",
            if record.provider_status.is_empty() {
                "—"
            } else {
                record.provider_status.as_str()
            },
            app,
        ),
        field("Create", create_state_text(&record.create_state), app),
        field(
            "Flow",
            record.flow.map(|f| f.cashfree_word()).unwrap_or("—"),
            app,
        ),
        field(
            "Requested",
            documents_long(&record.documents_requested),
            app,
        ),
        field(
            "Consented",
            documents_long(&record.documents_consented),
            app,
        ),
        field(
            "Created",
            format!(
                "{} ({})",
                app.clock(record.created_at),
                ago(now, record.created_at)
            ),
            app,
        ),
        field(
            "Time left",
            if is_finished(record) {
                "—".to_string()
            } else {
                format!(
                    "{} of the 10-minute window",
                    countdown(now, record.expires_at)
                )
            },
            app,
        ),
        field(
            "Last polled",
            record
                .last_polled_at
                .map(|at| ago(now, at))
                .unwrap_or_else(|| "never".to_string()),
            app,
        ),
        field("Tracking", if record.tracking { "yes" } else { "no" }, app),
        field(
            "Redirect",
            record.redirect_url.as_deref().unwrap_or("—"),
            app,
        ),
    ];
    if let Some(error) = &record.last_error {
        lines.push(field(
            "Last error",
            Span::styled(error.as_str(), theme.error),
            app,
        ));
    }
    lines.push(Line::styled("URL (y copies, o opens)", theme.dim));
    lines.push(Line::raw(
        record.url.as_deref().unwrap_or("— not known yet"),
    ));

    if record.status == SessionStatus::Authenticated
        && let Some(details) = app.sessions.user_details.get(&record.id)
    {
        lines.push(Line::raw(""));
        lines.push(Line::styled("User details (masked)", theme.title));
        for (name, value) in details.masked() {
            lines.push(field(name, value, app));
        }
    }

    lines.push(Line::raw(""));
    lines.push(Line::styled("Status history", theme.title));
    match app.sessions.histories.get(&record.id) {
        None => lines.push(Line::styled("loading…", theme.dim)),
        Some(events) if events.is_empty() => lines.push(Line::styled("no changes yet", theme.dim)),
        Some(events) => {
            for event in events {
                lines.push(Line::from(vec![
                    Span::styled(format!("{}  ", app.clock(event.at)), theme.dim),
                    Span::styled(
                        format!("{} {}", event.status.symbol(), event.status.as_str()),
                        theme.status(&event.status),
                    ),
                    Span::styled(format!(" ({})", event.provider_status), theme.dim),
                ]));
            }
        }
    }
    lines
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, view: &DetailView) {
    if view.qr_only {
        draw_qr_only(frame, app, view);
        return;
    }
    let theme = &app.theme;
    frame.render_widget(Clear, area);
    let block = dialog_block(
        theme,
        Span::styled(format!(" Session {} ", view.id), theme.title),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let Some(record) = app.sessions.get(&view.id) else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "This session is no longer tracked. Esc closes.",
                theme.dim,
            )),
            inner,
        );
        return;
    };
    let mut lines = record_lines(record, app);

    let qr_fits = view.qr.as_ref().and_then(|qr| {
        let (width, height) = qr.size_on_screen();
        (inner.width >= TEXT_MIN_WIDTH + 1 + width && inner.height >= height).then_some(qr)
    });
    let text_area = match qr_fits {
        Some(qr) => {
            let (width, height) = qr.size_on_screen();
            let [text_area, _, qr_column] = Layout::horizontal([
                Constraint::Min(TEXT_MIN_WIDTH),
                Constraint::Length(1),
                Constraint::Length(width),
            ])
            .areas(inner);
            let qr_area = Rect {
                height,
                ..qr_column
            };
            let qr_lines: Vec<Line> = qr
                .lines()
                .into_iter()
                .map(|row| Line::styled(row, theme.qr))
                .collect();
            frame.render_widget(Paragraph::new(qr_lines), qr_area);
            if qr_column.height > height {
                let caption = Rect {
                    y: qr_area.bottom(),
                    height: 1,
                    ..qr_column
                };
                frame.render_widget(
                    Paragraph::new(Line::styled("scan to open the URL", theme.dim)),
                    caption,
                );
            }
            text_area
        }
        None => {
            if record.url.is_some() {
                lines.insert(
                    0,
                    Line::styled(
                        "v shows the QR code alone (or enlarge the terminal)",
                        theme.dim,
                    ),
                );
            }
            inner
        }
    };
    let width = text_area.width.max(1) as usize;
    let rows: usize = lines
        .iter()
        .map(|line| line.width().div_ceil(width).max(1))
        .sum();
    let scroll = view
        .scroll
        .min(rows.saturating_sub(text_area.height as usize) as u16);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        text_area,
    );

    if view.confirm_stop {
        draw_confirm_stop(frame, area, app, &view.id);
    }
}

/// The QR code centred on the whole screen, with one line of help under it.
fn draw_qr_only(frame: &mut Frame, app: &App, view: &DetailView) {
    let theme = &app.theme;
    let area = frame.area();
    frame.render_widget(Clear, area);
    let Some(qr) = &view.qr else {
        frame.render_widget(
            Paragraph::new(Line::styled("No URL yet. v or Esc goes back.", theme.dim)),
            area,
        );
        return;
    };
    let (width, height) = qr.size_on_screen();
    if width > area.width || height > area.height {
        let message = format!(
            "The QR code needs {width}x{height} cells; this terminal has {}x{}. \
             Enlarge it (or reduce the font size), or copy the URL with y. v goes back.",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.warning)).wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let caption_rows = u16::from(area.height > height);
    let top = centered(area, width, height + caption_rows);
    let qr_lines: Vec<Line> = qr
        .lines()
        .into_iter()
        .map(|row| Line::styled(row, theme.qr))
        .collect();
    frame.render_widget(Paragraph::new(qr_lines), Rect { height, ..top });
    if caption_rows > 0 {
        let caption = format!("{} · scan to open · v or Esc back", view.id);
        frame.render_widget(
            Paragraph::new(Line::styled(caption, theme.dim)).centered(),
            Rect {
                x: area.x,
                y: top.y + height,
                width: area.width,
                height: 1,
            },
        );
    }
}

fn draw_confirm_stop(frame: &mut Frame, area: Rect, app: &App, id: &SessionId) {
    let theme = &app.theme;
    let dialog = centered(area, 60, 7);
    frame.render_widget(Clear, dialog);
    let lines = vec![
        Line::styled(format!("Stop tracking {id}?"), theme.title),
        Line::raw("payops stops polling it; the DigiLocker session itself is not cancelled."),
        Line::from(vec![
            Span::styled("y", theme.key),
            Span::raw(" stop tracking   "),
            Span::styled("n", theme.key),
            Span::raw(" keep tracking"),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(dialog_block(
                theme,
                Span::styled(" Stop tracking ", theme.title),
            )),
        dialog,
    );
}
