//! Tables for people and for pipes. In a terminal a table fits the width:
//! optional columns drop first, free text wraps between words, and ids,
//! references and amounts are always whole. In a pipe there is no width to
//! fit, so rows are tab-separated and unpadded (as `cut` and `awk` expect).

use std::io::IsTerminal;

use comfy_table::{CellAlignment, ContentArrangement, Table as Comfy, presets::UTF8_BORDERS_ONLY};
use unicode_width::UnicodeWidthStr;

use crate::tui::format::clip;

/// Free text is never squeezed narrower than this (or its longest word);
/// a word longer than its column is cut with `…`.
const NARROWEST_TEXT: usize = 16;

/// What a column may give up when the terminal is narrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Always shown whole: ids, references, amounts, statuses.
    Whole,
    /// Dropped when the table does not fit, the highest rank first.
    Optional(u8),
    /// Free text: wraps between words; dropped after every optional column
    /// when even that leaves it no room.
    Words,
}

#[derive(Debug, Clone)]
struct Column {
    header: &'static str,
    fit: Fit,
    right: bool,
}

/// Rows under named columns, or `key  value` pairs when no column is named.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
    /// Printed below the table in a terminal and as a last row in a pipe:
    /// for a URL that must copy whole, however long.
    trailer: Option<(&'static str, String)>,
}

impl Table {
    pub fn new() -> Table {
        Table {
            columns: Vec::new(),
            rows: Vec::new(),
            trailer: None,
        }
    }

    /// Two columns, unnamed: a key and its whole value.
    pub fn pairs() -> Table {
        Table::new().column("", Fit::Whole).column("", Fit::Words)
    }

    pub fn column(mut self, header: &'static str, fit: Fit) -> Table {
        self.columns.push(Column {
            header,
            fit,
            right: false,
        });
        self
    }

    /// A column of figures, aligned on the right.
    pub fn figures(mut self, header: &'static str) -> Table {
        self.columns.push(Column {
            header,
            fit: Fit::Whole,
            right: true,
        });
        self
    }

    /// A column of right-aligned figures shown only while there is room:
    /// of such columns, those of the highest `rank` go first.
    pub fn figures_if_room(mut self, header: &'static str, rank: u8) -> Table {
        self.columns.push(Column {
            header,
            fit: Fit::Optional(rank),
            right: true,
        });
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// A key and value, for [`Table::pairs`]; empty values are left out.
    pub fn pair(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.rows.push(vec![key.to_string(), value]);
        }
    }

    pub fn trailer(&mut self, key: &'static str, value: String) {
        self.trailer = Some((key, value));
    }

    /// For stdout as it is: a terminal's width, or a pipe.
    pub fn render(&self) -> String {
        self.render_for(terminal_width())
    }

    /// The terminal's width to fit, `None` for a pipe.
    pub fn width() -> Option<usize> {
        terminal_width()
    }

    /// `Some(columns)` for a terminal that wide, `None` for a pipe.
    pub fn render_for(&self, width: Option<usize>) -> String {
        match width {
            Some(width) => self.boxed(width),
            None => self.separated(),
        }
    }

    fn named(&self) -> bool {
        self.columns.iter().any(|c| !c.header.is_empty())
    }

    fn separated(&self) -> String {
        let field = |text: &str| text.replace(['\t', '\n', '\r'], " ");
        let mut lines = Vec::new();
        if self.named() {
            lines.push(
                self.columns
                    .iter()
                    .map(|c| c.header.replace(' ', "_"))
                    .collect::<Vec<_>>()
                    .join("\t"),
            );
        }
        for row in &self.rows {
            lines.push(row.iter().map(|c| field(c)).collect::<Vec<_>>().join("\t"));
        }
        if let Some((key, value)) = &self.trailer {
            lines.push(format!("{key}\t{}", field(value)));
        }
        lines.join("\n")
    }

    fn boxed(&self, width: usize) -> String {
        let rows = &self.rows;
        let natural: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                let cells = rows.iter().filter_map(|row| row.get(i));
                let widest = cells.flat_map(|c| c.lines()).map(|l| l.width());
                widest
                    .chain([self.columns[i].header.width()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let least = |i: usize| match self.columns[i].fit {
            Fit::Words => rows
                .iter()
                .filter_map(|row| row.get(i))
                .flat_map(|c| c.split_whitespace())
                .map(|w| w.width().min(NARROWEST_TEXT))
                .chain([self.columns[i].header.width(), 1])
                .max()
                .unwrap_or(1),
            _ => natural[i],
        };
        // Each shown column costs a space either side and the place of the
        // (blank) line after it; the table's left border makes one more.
        let needed = |shown: &[bool]| {
            1 + (0..self.columns.len())
                .filter(|&i| shown[i])
                .map(|i| least(i) + 3)
                .sum::<usize>()
        };
        let mut shown = vec![true; self.columns.len()];
        let mut droppable: Vec<(u8, usize)> = self
            .columns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| match c.fit {
                Fit::Optional(rank) => Some((rank, i)),
                _ => None,
            })
            .collect();
        droppable.sort();
        // Free text goes last, and only when even the essentials leave it
        // no room to wrap between words: --json still has it.
        let mut wordy: Vec<(u8, usize)> = (0..self.columns.len())
            .filter(|&i| self.columns[i].fit == Fit::Words)
            .map(|i| (0, i))
            .collect();
        wordy.extend(droppable);
        let mut droppable = wordy;
        while needed(&shown) > width {
            let Some((_, i)) = droppable.pop() else { break };
            shown[i] = false;
        }
        // Not even the essentials fit side by side: a row a block instead,
        // a field a line, rather than lines the terminal wraps through
        // the borders.
        if needed(&shown) > width && self.named() {
            return self.stacked(width);
        }

        // What is left for free text once everything else is whole,
        // shared between the free-text columns by how much each has.
        let words: Vec<usize> = (0..self.columns.len())
            .filter(|&i| shown[i] && self.columns[i].fit == Fit::Words)
            .collect();
        let others = needed(&shown) - words.iter().map(|&i| least(i)).sum::<usize>();
        let room = width.saturating_sub(others);
        let wanted: usize = words.iter().map(|&i| natural[i]).sum();
        let mut wrap_at = vec![usize::MAX; self.columns.len()];
        if wanted > room {
            for &i in &words {
                wrap_at[i] = (room * natural[i] / wanted.max(1)).max(least(i));
            }
        }

        let mut table = Comfy::new();
        table.load_style(UTF8_BORDERS_ONLY);
        table.set_content_arrangement(ContentArrangement::Disabled);
        let kept: Vec<usize> = (0..self.columns.len()).filter(|&i| shown[i]).collect();
        if self.named() {
            table.set_header(kept.iter().map(|&i| self.columns[i].header));
        }
        for row in rows {
            table.add_row(kept.iter().map(|&i| {
                let cell = row.get(i).map(String::as_str).unwrap_or("");
                match wrap_at[i] {
                    usize::MAX => cell.to_string(),
                    width => wrap_words(cell, width),
                }
            }));
        }
        for (at, &i) in kept.iter().enumerate() {
            if let Some(column) = table.column_mut(at)
                && self.columns[i].right
            {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
        let mut text = table.to_string();
        let hidden: Vec<&str> = (0..self.columns.len())
            .filter(|&i| !shown[i])
            .map(|i| self.columns[i].header)
            .collect();
        if !hidden.is_empty() {
            let note = format!(
                "(too narrow for: {}; --json has every field)",
                hidden.join(", ")
            );
            text.push('\n');
            text.push_str(&textwrap::wrap(&note, width).join("\n"));
        }
        if let Some((key, value)) = &self.trailer {
            text.push_str(&format!("\n{key}: {value}"));
        }
        text
    }
}

impl Table {
    /// Each row as a block of `header  value` lines, blocks apart by a
    /// blank line; a long value wraps under itself, within `width`.
    fn stacked(&self, width: usize) -> String {
        let label = self
            .columns
            .iter()
            .map(|c| c.header.width())
            .max()
            .unwrap_or(0);
        let indent = " ".repeat(label + 2);
        let room = width.saturating_sub(label + 2).max(1);
        let mut blocks = Vec::new();
        for row in &self.rows {
            let mut lines = Vec::new();
            for (column, cell) in self.columns.iter().zip(row) {
                if cell.is_empty() {
                    continue;
                }
                let options = textwrap::Options::new(room)
                    .break_words(false)
                    .word_splitter(textwrap::WordSplitter::NoHyphenation);
                for (at, part) in textwrap::wrap(cell, options).iter().enumerate() {
                    let head = if at == 0 {
                        format!("{:<label$}  ", column.header)
                    } else {
                        indent.clone()
                    };
                    lines.push(format!("{head}{part}"));
                }
            }
            blocks.push(lines.join("\n"));
        }
        let mut text = blocks.join("\n\n");
        if let Some((key, value)) = &self.trailer {
            text.push_str(&format!("\n{key}: {value}"));
        }
        text
    }
}

/// Whether stdout is a person's terminal rather than a pipe: notes meant
/// for people (summaries, hints) are left out of what scripts read.
pub fn for_people() -> bool {
    std::io::stdout().is_terminal()
}

/// The width to fit: `COLUMNS` when set (as many tools honour), else the
/// terminal's; `None` when stdout is not a terminal.
fn terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .filter(|&columns| columns > 0);
    let from_terminal = || {
        crossterm::terminal::size()
            .ok()
            .map(|(w, _)| usize::from(w))
    };
    Some(from_env.or_else(from_terminal).unwrap_or(80))
}

/// Lines of at most `width` columns, broken only between words; a word
/// longer than a whole line is cut with a visible `…`.
fn wrap_words(text: &str, width: usize) -> String {
    let words: Vec<_> = text.split(' ').map(|word| clip(word, width)).collect();
    textwrap::wrap(
        &words.join(" "),
        textwrap::Options::new(width).break_words(false),
    )
    .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sessions() -> Table {
        let mut table = Table::new()
            .column("id", Fit::Whole)
            .column("provider", Fit::Optional(2))
            .column("status", Fit::Whole)
            .column("reference", Fit::Whole)
            .column("created", Fit::Optional(3))
            .column("note", Fit::Words);
        table.row(vec![
            "dl-7k2m9x4q".into(),
            "instantpay".into(),
            "? OUTCOME_UNKNOWN".into(),
            "5f1e9a7c55d24c1b9e0a77b2".into(),
            "23 Nov 2026 10:05".into(),
            "the request was sent but no answer came within 15 s".into(),
        ]);
        table
    }

    fn widest_line(text: &str) -> usize {
        text.lines().map(|l| l.width()).max().unwrap_or(0)
    }

    #[test]
    fn at_80_columns_optional_columns_drop_and_values_stay_whole() {
        let text = sessions().render_for(Some(80));
        assert!(widest_line(&text) <= 80, "{text}");
        assert!(text.contains("dl-7k2m9x4q"), "{text}");
        assert!(text.contains("5f1e9a7c55d24c1b9e0a77b2"), "{text}");
        assert!(text.contains("? OUTCOME_UNKNOWN"), "{text}");
        assert!(!text.contains("23 Nov 2026"), "{text}");
        assert!(
            text.contains("(too narrow for: provider, created; --json has every field)"),
            "{text}"
        );
        // The free text wraps between words only.
        for word in "the request was sent but no answer came within 15 s".split(' ') {
            assert!(
                text.split(|c: char| c.is_whitespace() || c == '│')
                    .any(|token| token == word),
                "'{word}' was broken: {text}"
            );
        }
        assert!(text.lines().count() > 5, "wrapped: {text}");
    }

    #[test]
    fn when_even_the_essentials_barely_fit_free_text_goes_too() {
        let text = sessions().render_for(Some(66));
        assert!(widest_line(&text) <= 66, "{text}");
        assert!(text.contains("5f1e9a7c55d24c1b9e0a77b2"), "{text}");
        assert!(
            text.contains("(too narrow for: provider, created, note;"),
            "{text}"
        );
        // Narrower than the essentials: a row a block, values whole, and
        // no line the terminal must wrap.
        let text = sessions().render_for(Some(40));
        assert!(widest_line(&text) <= 40, "{text}");
        assert!(text.contains("id         dl-7k2m9x4q"), "{text}");
        assert!(text.contains("5f1e9a7c55d24c1b9e0a77b2"), "{text}");
        assert!(text.contains("23 Nov 2026 10:05"), "{text}");
    }

    #[test]
    fn wide_terminals_show_every_column_on_one_line() {
        let text = sessions().render_for(Some(200));
        assert!(text.contains("23 Nov 2026 10:05"));
        assert!(text.contains("instantpay"));
        assert!(!text.contains("not shown"));
        assert_eq!(text.lines().count(), 5, "{text}");
    }

    #[test]
    fn pipes_get_tab_separated_unpadded_rows() {
        let mut table = sessions();
        table.row(vec![
            "dl-2".into(),
            "cashfree".into(),
            "○ PENDING".into(),
            "4711".into(),
            "".into(),
            "tab\there".into(),
        ]);
        let text = table.render_for(None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "id\tprovider\tstatus\treference\tcreated\tnote");
        assert_eq!(lines[2], "dl-2\tcashfree\t○ PENDING\t4711\t\ttab here");
        assert!(lines.iter().all(|l| !l.ends_with(' ')));
    }

    #[test]
    fn pairs_pipe_as_key_tab_value_and_keep_the_trailer_whole() {
        let mut table = Table::pairs();
        table.pair("available", "₹16.82");
        table.pair("empty", "");
        table.trailer("url", "https://example.com/a-very-long-url".into());
        assert_eq!(
            table.render_for(None),
            "available\t₹16.82\nurl\thttps://example.com/a-very-long-url"
        );
        let boxed = table.render_for(Some(30));
        assert!(boxed.ends_with("\nurl: https://example.com/a-very-long-url"));
        assert!(!boxed.contains("empty"));
    }

    #[test]
    fn a_word_longer_than_any_column_is_marked_as_cut() {
        let mut table = Table::pairs();
        table.pair("message", format!("see {}", "x".repeat(60)));
        let text = table.render_for(Some(50));
        let cut = format!("{}…", "x".repeat(50 - 1 - 11 - 3 - 1));
        assert!(text.contains(&cut), "{text}");
        assert!(widest_line(&text) <= 50, "{text}");
    }
}
