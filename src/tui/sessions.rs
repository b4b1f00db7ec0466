//! The DigiLocker sessions table: the sessions the dashboard holds, the keys
//! that move, sort and filter it, its reaction to the engine's session
//! updates, and its drawing. It must stay smooth with 10,000 rows, so the
//! filtered and sorted order is cached in `view` and recomputed only when
//! the sessions, the filter or the sort change; drawing builds only the rows
//! on screen.

use std::collections::HashMap;

use crossterm::event::{Event, KeyEvent};
use tui_input::backend::crossterm::to_input_request;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};
use tui_input::Input;

use crate::domain::{CreateState, SessionRecord, StatusEvent};
use crate::domain::{Provider, SessionId, SessionStatus, UserDetails};
use crate::engine::Command;
use crate::error::ProviderError;
use crate::words;

use super::feedback::{Alert, Debounce, Effect, Feedback, Level};
use super::format::{ago, ago_short, clip, clip_line, countdown, documents_short, signed_duration};
use super::keymap::Action;
use super::layout::Pane;
use super::view::ViewContext;
use super::widgets::pane_block;
use super::widgets::status::status_style;

/// A session whose latest poll failed: what went wrong and when the engine
/// tries again. The row keeps its last good status.
#[derive(Debug, Clone, PartialEq)]
pub struct PollTrouble {
    pub message: String,
    pub next_poll: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Newest,
    /// Rows needing attention first (unknown outcomes, pending), then final ones.
    Status,
}

impl SortOrder {
    pub fn toggled(self) -> SortOrder {
        match self {
            SortOrder::Newest => SortOrder::Status,
            SortOrder::Status => SortOrder::Newest,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortOrder::Newest => "newest first",
            SortOrder::Status => "by status",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SessionTable {
    records: Vec<SessionRecord>,
    positions: HashMap<SessionId, usize>,
    /// Lower-cased searchable text per record, so a filter keystroke is a scan
    /// of plain strings.
    haystacks: Vec<String>,
    /// Indices into `records`, filtered and sorted.
    view: Vec<usize>,
    /// Position in `view`.
    selected: usize,
    /// First `view` position on screen.
    offset: usize,
    /// Rows the table shows, kept in step with the terminal size by `update`.
    page_rows: usize,
    pub sort: SortOrder,
    pub filter: Input,
    pub filter_editing: bool,
    pub hide_final: bool,
    /// Team mode's "mine": only the sessions this operator created.
    pub only_by: Option<String>,
    /// Personal data, in memory only, masked when drawn.
    pub user_details: HashMap<SessionId, UserDetails>,
    pub histories: HashMap<SessionId, Vec<StatusEvent>>,
    /// Sessions whose latest poll failed.
    pub troubles: HashMap<SessionId, PollTrouble>,
}

fn attention_rank(record: &SessionRecord) -> u8 {
    match (&record.create_state, &record.status) {
        (CreateState::OutcomeUnknown(_), _) => 0,
        (CreateState::Sending, _) => 1,
        (CreateState::Failed(_), _) => 2,
        (CreateState::Created, SessionStatus::Unknown(_)) => 3,
        (CreateState::Created, SessionStatus::Pending) => 4,
        (CreateState::Created, SessionStatus::Authenticated) => 5,
        (CreateState::Created, SessionStatus::ConsentDenied) => 6,
        (CreateState::Created, SessionStatus::Expired) => 7,
    }
}

fn create_state_word(state: &CreateState) -> &'static str {
    match state {
        CreateState::Sending => "sending",
        CreateState::Created => "created",
        CreateState::Failed(_) => "create failed",
        CreateState::OutcomeUnknown(_) => "outcome unknown",
    }
}

fn haystack(record: &SessionRecord) -> String {
    format!(
        "{} {} {} {} {} {} {} {} {} {}",
        record.label.as_deref().unwrap_or(""),
        record.created_by.as_deref().unwrap_or(""),
        record.id,
        record.external_ref,
        record.reference.as_deref().unwrap_or(""),
        record.status.as_str(),
        record.provider_status,
        record.provider.as_str(),
        record.provider.display_name(),
        create_state_word(&record.create_state),
    )
    .to_lowercase()
}

impl SessionTable {
    pub fn load(&mut self, records: Vec<SessionRecord>) {
        // The selection follows its session, not its row number, when a
        // resynchronisation replaces every record.
        let selected_id = self.selected_record().map(|record| record.id.clone());
        self.haystacks = records.iter().map(haystack).collect();
        self.positions = records
            .iter()
            .enumerate()
            .map(|(index, record)| (record.id.clone(), index))
            .collect();
        self.records = records;
        self.view.clear();
        self.recompute();
        if let Some(id) = selected_id {
            self.select_id(&id);
        }
    }

    /// Inserts or replaces a record. The order is recomputed only when
    /// something it depends on changed: most updates are just "polled again".
    pub fn upsert(&mut self, record: SessionRecord) {
        match self.positions.get(&record.id) {
            Some(&index) => {
                let old = &self.records[index];
                // What the filter searches or the sort orders by changed.
                let reorder = old.status != record.status
                    || old.create_state != record.create_state
                    || old.reference != record.reference
                    || old.provider_status != record.provider_status
                    || old.created_at != record.created_at
                    || old.label != record.label
                    || old.created_by != record.created_by;
                if reorder {
                    self.haystacks[index] = haystack(&record);
                }
                self.records[index] = record;
                if reorder {
                    self.recompute();
                }
            }
            None => {
                self.positions.insert(record.id.clone(), self.records.len());
                self.haystacks.push(haystack(&record));
                self.records.push(record);
                self.recompute();
            }
        }
    }

    pub fn remove(&mut self, id: &SessionId) -> Option<SessionRecord> {
        let index = self.positions.remove(id)?;
        let removed = self.records.swap_remove(index);
        self.haystacks.swap_remove(index);
        if let Some(moved) = self.records.get(index) {
            self.positions.insert(moved.id.clone(), index);
        }
        self.user_details.remove(id);
        self.histories.remove(id);
        self.troubles.remove(id);
        self.recompute();
        Some(removed)
    }

    /// Rebuilds the filtered, sorted order, keeping the selection on the same
    /// session when it is still shown.
    pub fn recompute(&mut self) {
        let selected_id = self.selected_record().map(|record| record.id.clone());
        let needle = self.filter.value().to_lowercase();
        let terms: Vec<&str> = needle.split_whitespace().collect();
        let records = &self.records;
        let haystacks = &self.haystacks;
        let mut view: Vec<usize> = (0..records.len())
            .filter(|&index| !(self.hide_final && records[index].is_finished()))
            .filter(|&index| {
                self.only_by
                    .as_ref()
                    .is_none_or(|who| records[index].created_by.as_ref() == Some(who))
            })
            .filter(|&index| terms.iter().all(|term| haystacks[index].contains(term)))
            .collect();
        let newest_first = |a: &usize, b: &usize| {
            records[*b]
                .created_at
                .cmp(&records[*a].created_at)
                .then_with(|| records[*a].id.cmp(&records[*b].id))
        };
        match self.sort {
            SortOrder::Newest => view.sort_unstable_by(newest_first),
            SortOrder::Status => view.sort_unstable_by(|a, b| {
                attention_rank(&records[*a])
                    .cmp(&attention_rank(&records[*b]))
                    .then_with(|| newest_first(a, b))
            }),
        }
        self.view = view;
        self.selected = selected_id
            .and_then(|id| {
                self.view
                    .iter()
                    .position(|&index| self.records[index].id == id)
            })
            .unwrap_or(0);
        self.keep_selection_visible();
    }

    pub fn set_page_rows(&mut self, rows: usize) {
        self.page_rows = rows.max(1);
        self.keep_selection_visible();
    }

    pub fn page_rows(&self) -> usize {
        self.page_rows.max(1)
    }

    /// Sessions shown (after filter and hide-final).
    pub fn len(&self) -> usize {
        self.view.len()
    }

    pub fn is_empty(&self) -> bool {
        self.view.is_empty()
    }

    /// Sessions held.
    pub fn total(&self) -> usize {
        self.records.len()
    }

    pub fn selected_index(&self) -> usize {
        self.selected
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn selected_record(&self) -> Option<&SessionRecord> {
        self.view
            .get(self.selected)
            .and_then(|&index| self.records.get(index))
    }

    pub fn get(&self, id: &SessionId) -> Option<&SessionRecord> {
        self.positions
            .get(id)
            .and_then(|&index| self.records.get(index))
    }

    /// The shown rows from `offset`, at most `count` of them.
    pub fn window(&self, offset: usize, count: usize) -> impl Iterator<Item = &SessionRecord> {
        self.view
            .iter()
            .skip(offset)
            .take(count)
            .filter_map(|&index| self.records.get(index))
    }

    pub fn ids_in_view(&self) -> impl Iterator<Item = &SessionId> {
        self.view
            .iter()
            .filter_map(|&index| self.records.get(index).map(|record| &record.id))
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.view.is_empty() {
            return;
        }
        let last = self.view.len() - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
        self.keep_selection_visible();
    }

    pub fn page(&mut self, pages: isize) {
        self.move_by(pages * self.page_rows() as isize);
    }

    pub fn select_first(&mut self) {
        self.selected = 0;
        self.keep_selection_visible();
    }

    pub fn select_last(&mut self) {
        self.selected = self.view.len().saturating_sub(1);
        self.keep_selection_visible();
    }

    /// Selects the session's row, if the filter shows it.
    pub fn select_id(&mut self, id: &SessionId) {
        if let Some(position) = self
            .view
            .iter()
            .position(|&index| self.records[index].id == *id)
        {
            self.selected = position;
            self.keep_selection_visible();
        }
    }

    /// Selects the row drawn at `row` (0 = first row under the header).
    pub fn select_on_screen(&mut self, row: usize) -> bool {
        let position = self.offset + row;
        if position < self.view.len() {
            self.selected = position;
            true
        } else {
            false
        }
    }

    /// A key for the table (not the filter field).
    pub fn handle_key(&mut self, action: Action) {
        match action {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.page(-1),
            Action::PageDown => self.page(1),
            Action::Top => self.select_first(),
            Action::Bottom => self.select_last(),
            Action::ToggleSort => {
                self.sort = self.sort.toggled();
                self.recompute();
            }
            Action::StartFilter => self.filter_editing = true,
            Action::ToggleFinal => {
                self.hide_final = !self.hide_final;
                self.recompute();
            }
            _ => {}
        }
    }

    /// Shows only `operator`'s sessions, or everyone's again. True when
    /// only theirs are shown now.
    pub fn toggle_only_by(&mut self, operator: &str) -> bool {
        self.only_by = match self.only_by {
            Some(_) => None,
            None => Some(operator.to_string()),
        };
        self.recompute();
        self.only_by.is_some()
    }

    /// A key while the filter field has the keyboard.
    pub fn handle_filter_key(&mut self, key: &KeyEvent, action: Option<Action>) {
        match action {
            Some(Action::FilterDone) => self.filter_editing = false,
            Some(Action::FilterClear) => {
                self.filter.reset();
                self.filter_editing = false;
                self.recompute();
            }
            _ => {
                if let Some(request) = to_input_request(&Event::Key(*key))
                    && self
                        .filter
                        .handle(request)
                        .is_some_and(|changed| changed.value)
                {
                    self.recompute();
                }
            }
        }
    }

    /// `r`: poll the selected session now.
    pub fn refresh(&self, debounce: &mut Debounce, now: Timestamp, feedback: &mut Feedback) {
        if let Some(record) = self.selected_record()
            && debounce.allow(now)
        {
            feedback.send(Command::RefreshSession(record.id.clone()));
        }
    }

    pub fn on_loaded(
        &mut self,
        records: Vec<SessionRecord>,
        histories: HashMap<SessionId, Vec<StatusEvent>>,
    ) {
        self.load(records);
        self.histories = histories;
    }

    /// A session was created, tracked or polled: a status change is logged,
    /// toasted and added to its history; AUTHENTICATED and CONSENT_DENIED
    /// alert (bell, desktop).
    pub fn on_changed(
        &mut self,
        record: SessionRecord,
        previous: Option<SessionStatus>,
        event: Option<StatusEvent>,
        feedback: &mut Feedback,
    ) {
        let id = record.id.clone();
        if let Some(previous) = previous {
            let level = match &record.status {
                SessionStatus::Authenticated => Level::Success,
                status if status.is_final() => Level::Warning,
                _ => Level::Info,
            };
            let text = format!(
                "{id} ({}): {} → {} {}",
                record.provider,
                previous.as_str(),
                record.status.symbol(),
                record.status.as_str()
            );
            feedback.alert(level, text.clone());
            // The two outcomes an agent waits on with the customer on the line.
            let title = match record.status {
                SessionStatus::Authenticated => Some("Session authenticated"),
                SessionStatus::ConsentDenied => Some("Consent denied"),
                _ => None,
            };
            if let Some(title) = title {
                feedback.effect(Effect::Alert(Alert::new(title, text)));
            }
        } else if self.get(&id).is_none() {
            feedback.log(Level::Info, format!("{id} ({}) added", record.provider));
        }
        if record.last_error.is_none() {
            self.troubles.remove(&id);
        }
        if let Some(event) = event {
            self.histories.entry(id).or_default().push(event);
        }
        self.upsert(record);
    }

    /// A poll failed: the row keeps its status and shows the failure; the
    /// log says what happened. No toast: a flaky provider would bury the
    /// screen in them, and the row and the header already say it.
    pub fn on_poll_failed(
        &mut self,
        record: SessionRecord,
        error: &ProviderError,
        retry_in: Option<std::time::Duration>,
        now: Timestamp,
        feedback: &mut Feedback,
    ) {
        let message = words::poll_failure(&record.id, record.provider, error, retry_in);
        feedback.log(Level::Warning, message.clone());
        let next_poll = retry_in.and_then(|wait| now.checked_add(signed_duration(wait)).ok());
        self.troubles
            .insert(record.id.clone(), PollTrouble { message, next_poll });
        self.upsert(record);
    }

    /// A poll asked for waits for the rate limit: a failing session's
    /// "Next poll" says when.
    pub fn on_poll_waits(&mut self, id: &SessionId, at: Timestamp) {
        if let Some(trouble) = self.troubles.get_mut(id) {
            trouble.next_poll = Some(at);
        }
    }

    pub fn on_user_details(&mut self, id: SessionId, details: UserDetails) {
        self.user_details.insert(id, details);
    }

    /// A create failed at the provider (the row, if any, shows CREATE_FAILED
    /// or OUTCOME_UNKNOWN).
    pub fn on_create_failed(
        &mut self,
        id: Option<SessionId>,
        provider: Provider,
        error: &ProviderError,
        feedback: &mut Feedback,
    ) {
        let subject = match id {
            Some(id) => format!("{provider} session {id}"),
            None => format!("{provider} session"),
        };
        feedback.alert(
            Level::Error,
            format!(
                "could not create the {subject}: {}",
                words::describe_error(error)
            ),
        );
    }

    pub fn on_untracked(&mut self, id: &SessionId, feedback: &mut Feedback) {
        self.remove(id);
        feedback.log(Level::Info, format!("stopped tracking {id}"));
    }

    fn keep_selection_visible(&mut self) {
        let rows = self.page_rows();
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
        self.offset = self.offset.min(self.view.len().saturating_sub(rows));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Provider,
    Id,
    Label,
    /// Team mode: who created it.
    By,
    Reference,
    Status,
    Left,
    Polled,
    Requested,
    Consented,
}

struct ColumnPlan {
    columns: Vec<(Column, u16)>,
    wide_provider: bool,
    wide_polled: bool,
}

const NARROW: [(Column, u16); 5] = [
    (Column::Provider, 2),
    (Column::Id, 11),
    (Column::Status, 17),
    (Column::Left, 5),
    (Column::Polled, 4),
];

/// The narrow set fits 80 columns; wider terminals add columns by usefulness.
/// `team`: sessions come from several operators, so who created each is shown.
fn plan_columns(width: u16, team: bool) -> ColumnPlan {
    let spacing = |count: usize| count.saturating_sub(1) as u16;
    let mut columns = NARROW.to_vec();
    let used = |columns: &Vec<(Column, u16)>| {
        columns.iter().map(|(_, w)| *w).sum::<u16>() + spacing(columns.len())
    };
    let mut plan = ColumnPlan {
        columns: Vec::new(),
        wide_provider: false,
        wide_polled: false,
    };
    if used(&columns) + 17 <= width {
        columns.insert(2, (Column::Reference, 16));
    }
    // The agent's own reference for the customer, right after ours.
    if used(&columns) + 13 <= width {
        columns.insert(2, (Column::Label, 12));
    }
    if team && used(&columns) + 11 <= width {
        let at = columns
            .iter()
            .position(|(c, _)| *c == Column::Label)
            .map_or(2, |i| i + 1);
        columns.insert(at, (Column::By, 10));
    }
    if used(&columns) + 8 <= width {
        columns[0].1 = 10;
        plan.wide_provider = true;
    }
    if used(&columns) + 9 <= width
        && let Some(polled) = columns.iter_mut().find(|(c, _)| *c == Column::Polled)
    {
        polled.1 = 12;
        plan.wide_polled = true;
    }
    for extra in [Column::Requested, Column::Consented] {
        if used(&columns) + 12 <= width {
            columns.push((extra, 11));
        }
    }
    let spare = width.saturating_sub(used(&columns));
    if let Some(reference) = columns.iter_mut().find(|(c, _)| *c == Column::Reference) {
        reference.1 += spare.min(8);
    }
    plan.columns = columns;
    plan
}

fn heading(column: Column, plan: &ColumnPlan) -> &'static str {
    match column {
        Column::Provider if plan.wide_provider => "Provider",
        Column::Provider => "P",
        Column::Id => "Id",
        Column::Label => "Label",
        Column::By => "By",
        Column::Reference => "Reference",
        Column::Status => "Status",
        Column::Left => "Left",
        Column::Polled if plan.wide_polled => "Polled",
        Column::Polled => "Poll",
        Column::Requested => "Requested",
        Column::Consented => "Consented",
    }
}

fn provider_short(provider: Provider) -> &'static str {
    match provider {
        Provider::InstantPay => "IP",
        Provider::Cashfree => "CF",
    }
}

fn cell<'a>(
    (column, width): (Column, u16),
    record: &'a SessionRecord,
    ctx: &ViewContext,
    plan: &ColumnPlan,
) -> Cell<'a> {
    let theme = ctx.theme;
    match column {
        Column::Provider if plan.wide_provider => Cell::from(record.provider.display_name()),
        Column::Provider => Cell::from(provider_short(record.provider)),
        Column::Id => Cell::from(record.id.as_str()),
        Column::Label => Cell::from(clip(record.label.as_deref().unwrap_or(""), width.into())),
        Column::By => Cell::from(clip(
            record.created_by.as_deref().unwrap_or("—"),
            width.into(),
        )),
        Column::Reference => Cell::from(clip(
            record.reference.as_deref().unwrap_or("—"),
            width.into(),
        )),
        Column::Status => Cell::from(clip(&record.status_label(), width.into()).into_owned())
            .style(status_style(theme, record)),
        // Only a session the customer can open has a window running.
        Column::Left if !record.window_runs() => Cell::from("—"),
        Column::Left => Cell::from(countdown(ctx.now, record.expires_at)),
        Column::Polled => {
            // Since the last good answer; the mark says the latest poll failed.
            let since = match record.last_polled_at {
                None => "—".to_string(),
                Some(at) if plan.wide_polled => ago(ctx.now, at),
                Some(at) => ago_short(ctx.now, at),
            };
            if record.last_error.is_some() {
                let gap = if plan.wide_polled { " " } else { "" };
                Cell::from(format!("⚠{gap}{since}")).style(theme.warning)
            } else {
                Cell::from(since)
            }
        }
        Column::Requested => Cell::from(documents_short(&record.documents_requested)),
        Column::Consented => Cell::from(documents_short(&record.documents_consented)),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, ctx: &ViewContext, table: &SessionTable) {
    let theme = ctx.theme;
    let focused = ctx.has_keyboard(Pane::Sessions);
    let mut title = format!(
        " DigiLocker sessions {}/{} · {} ",
        table.len(),
        table.total(),
        table.sort.label()
    );
    if table.hide_final {
        title.push_str("· final hidden ");
    }
    if let Some(who) = &table.only_by {
        title.push_str(&format!("· {who}'s only "));
    }
    let mut title = vec![Span::styled(title, theme.title)];
    if let Some((provider, factor)) = ctx.providers.slowed(ctx.now) {
        title.push(Span::styled(
            format!(" {provider} polling slowed ×{factor} (rate limited) "),
            theme.warning,
        ));
    }
    // Within the top border, between its corners.
    let title = clip_line(Line::from(title), usize::from(area.width.saturating_sub(2)));
    let mut block = pane_block(ctx, Pane::Sessions, title);
    if table.filter_editing || !table.filter.value().is_empty() {
        let cursor = if table.filter_editing { "▏" } else { "" };
        block = block.title_bottom(Line::from(vec![
            Span::styled(" filter /", theme.key),
            Span::raw(format!("{}{cursor} ", table.filter.value())),
        ]));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if table.is_empty() {
        let message = if table.total() == 0 {
            "No sessions yet: press n to create one or t to track one.".to_string()
        } else {
            format!(
                "No session matches the filter '{}'{}.",
                table.filter.value(),
                if table.hide_final {
                    " (final sessions hidden: f shows them)"
                } else {
                    ""
                }
            )
        };
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.dim)).wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }

    let plan = plan_columns(inner.width, ctx.team.is_some());
    let rows_on_screen = inner.height.saturating_sub(1) as usize;
    // `update` keeps offset in step with the page size; clamp again in case
    // the terminal changed size since.
    let mut offset = table
        .offset()
        .min(table.len().saturating_sub(rows_on_screen));
    if table.selected_index() < offset {
        offset = table.selected_index();
    } else if rows_on_screen > 0 && table.selected_index() >= offset + rows_on_screen {
        offset = table.selected_index() + 1 - rows_on_screen;
    }
    let selected_style = if focused {
        theme.selected
    } else {
        theme.selected_unfocused
    };
    let rows: Vec<Row> = table
        .window(offset, rows_on_screen)
        .enumerate()
        .map(|(row, record)| {
            let cells = plan
                .columns
                .iter()
                .map(|column| cell(*column, record, ctx, &plan));
            let row_widget = Row::new(cells);
            if offset + row == table.selected_index() {
                row_widget.style(selected_style)
            } else {
                row_widget
            }
        })
        .collect();
    let header = Row::new(
        plan.columns
            .iter()
            .map(|(column, _)| Cell::from(heading(*column, &plan))),
    )
    .style(theme.title);
    let widths: Vec<Constraint> = plan
        .columns
        .iter()
        .map(|(_, width)| Constraint::Length(*width))
        .collect();
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
}
