//! Text formats shared by the panes: money, times, durations, errors.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::domain::DocumentType;
use crate::error::ProviderError;

pub use crate::domain::format_inr as inr;

/// Local wall-clock time `HH:MM:SS`.
pub fn clock(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone()).strftime("%H:%M:%S").to_string()
}

fn seconds_between(now: Timestamp, then: Timestamp) -> i64 {
    now.duration_since(then).as_secs()
}

/// `8 s ago`, `3 min ago`, `2 h ago`, `4 d ago`.
pub fn ago(now: Timestamp, then: Timestamp) -> String {
    match whole_units(seconds_between(now, then)) {
        None => "just now".to_string(),
        Some((count, unit)) => format!("{count} {} ago", ["s", "min", "h", "d"][unit]),
    }
}

/// The narrow form of [`ago`] for table cells: `8s`, `3m`, `2h`, `4d`.
pub fn ago_short(now: Timestamp, then: Timestamp) -> String {
    match whole_units(seconds_between(now, then)) {
        None => "0s".to_string(),
        Some((count, unit)) => format!("{count}{}", ["s", "m", "h", "d"][unit]),
    }
}

/// A span as a whole count of its largest unit (0 seconds, 1 minutes,
/// 2 hours, 3 days); None for no time at all, or a time yet to come.
fn whole_units(secs: i64) -> Option<(i64, usize)> {
    match secs {
        ..=0 => None,
        1..=59 => Some((secs, 0)),
        60..=3599 => Some((secs / 60, 1)),
        3600..=86_399 => Some((secs / 3600, 2)),
        _ => Some((secs / 86_400, 3)),
    }
}

/// Time left until `deadline` as `mm:ss`, `00:00` once past.
pub fn countdown(now: Timestamp, deadline: Timestamp) -> String {
    let left = deadline.duration_since(now).as_secs().max(0);
    format!("{:02}:{:02}", left / 60, left % 60)
}

pub fn signed_duration(duration: std::time::Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}

/// The error as a person reads it, with the provider's code and request
/// reference appended when its message does not already carry them: support
/// staff quote both to the provider.
pub fn describe_error(error: &ProviderError) -> String {
    let mut text = error.to_string();
    if let Some(code) = error.provider_code()
        && !text.contains(code)
    {
        text.push_str(&format!(" [code {code}]"));
    }
    if let Some(request) = error.request_id()
        && !text.contains(request)
    {
        text.push_str(&format!(" [ipay_uuid {request}]"));
    }
    text
}

pub fn document_abbrev(document: DocumentType) -> &'static str {
    match document {
        DocumentType::Aadhaar => "AAD",
        DocumentType::Pan => "PAN",
        DocumentType::DrivingLicense => "DL",
    }
}

pub fn documents_short(documents: &[DocumentType]) -> String {
    if documents.is_empty() {
        return "—".to_string();
    }
    documents
        .iter()
        .map(|d| document_abbrev(*d))
        .collect::<Vec<_>>()
        .join("+")
}

pub fn documents_long(documents: &[DocumentType]) -> String {
    if documents.is_empty() {
        return "—".to_string();
    }
    documents
        .iter()
        .map(|d| d.wire())
        .collect::<Vec<_>>()
        .join(", ")
}

const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];

/// Advances with the clock so drawing stays a pure function of the state.
pub fn spinner(now: Timestamp) -> &'static str {
    let index = now.as_second().rem_euclid(SPINNER.len() as i64) as usize;
    SPINNER[index]
}

/// `text` in at most `width` columns: whole when it fits, else cut with a
/// visible `…` so a shortened id or reference is never mistaken for whole.
pub fn clip(text: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if unicode_width::UnicodeWidthStr::width(text) <= width {
        return text.into();
    }
    cut(text, width).into()
}

/// The start of `text` and a `…`, in at most `width` columns.
fn cut(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut used = 0;
    let mut kept = String::new();
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        kept.push(c);
    }
    if width > 0 {
        kept.push('…');
    }
    kept
}

/// `line` in at most `width` columns, its styles kept: whole when it fits,
/// else cut with `…` (see [`clip`]).
pub fn clip_line(line: ratatui::text::Line<'_>, width: usize) -> ratatui::text::Line<'_> {
    if line.width() <= width {
        return line;
    }
    let mut left = width;
    let mut spans = Vec::new();
    for span in line.spans {
        let span_width = span.width();
        if span_width < left {
            left -= span_width;
            spans.push(span);
            continue;
        }
        // This span reaches the edge: cut it, the `…` in the last column.
        spans.push(ratatui::text::Span::styled(
            cut(&span.content, left),
            span.style,
        ));
        break;
    }
    ratatui::text::Line::from(spans).style(line.style)
}

/// `+₹1,200.00` / `−₹200.00`.
pub fn signed_inr(change: rust_decimal::Decimal) -> String {
    if change.is_sign_negative() {
        format!("−{}", inr(-change))
    } else {
        format!("+{}", inr(change))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_to_fit_ends_in_an_ellipsis_and_keeps_its_styles() {
        use ratatui::style::Style;
        use ratatui::text::{Line, Span};
        let red = Style::new().red();
        let line = || {
            Line::from(vec![
                Span::raw("06:05 "),
                Span::styled("sent Notification", red),
            ])
        };
        for width in [5, 6, 7, 12, 22] {
            let cut = clip_line(line(), width);
            let text: String = cut.spans.iter().map(|s| s.content.as_ref()).collect();
            assert!(cut.width() <= width, "{width}: {text}");
            assert!(text.ends_with('…'), "{width}: {text}");
        }
        let cut = clip_line(line(), 12);
        assert_eq!(cut.spans[1].content, "sent …");
        assert_eq!(cut.spans[1].style, red);
        assert_eq!(clip_line(line(), 23), line(), "whole when it fits");
    }

    #[test]
    fn durations() {
        let now = Timestamp::from_second(1_000_000).unwrap();
        let then = Timestamp::from_second(1_000_000 - 8).unwrap();
        assert_eq!(ago(now, then), "8 s ago");
        assert_eq!(ago_short(now, then), "8s");
        let deadline = Timestamp::from_second(1_000_000 + 599).unwrap();
        assert_eq!(countdown(now, deadline), "09:59");
        assert_eq!(countdown(deadline, now), "00:00");
    }

    #[test]
    fn clip_marks_a_cut_and_keeps_what_fits() {
        assert_eq!(clip("5012345678", 10), "5012345678");
        assert_eq!(clip("5012345678", 6), "50123…");
        assert_eq!(clip("₹1,000", 4), "₹1,…");
        assert_eq!(clip("abc", 0), "");
    }
}
