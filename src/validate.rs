//! Validators for everything a person or a config file types. Each returns a
//! `ValidationError` naming the field, so forms, flags and config keys all
//! report problems the same way.

use rust_decimal::Decimal;
use url::Url;

use crate::domain::{DocumentType, LinkId};
use crate::error::ValidationError;

/// Longest link id accepted (the documented samples are 24 hex characters,
/// but the format is unconfirmed, so allow more).
pub const LINK_ID_MAX: usize = 64;
/// Longest session label: a ticket or case reference, not a note.
pub const LABEL_MAX: usize = 64;
/// Cashfree's documented `verification_id` limit.
pub const VERIFICATION_ID_MAX: usize = 50;

/// A payout link id: non-empty, at most 64 of `[A-Za-z0-9_-]`.
/// Returns the id and, for shapes other than the documented 24 lowercase hex, a warning.
pub fn link_id(field: &str, raw: &str) -> Result<(LinkId, Option<String>), ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(
            field,
            "is empty; paste the payout link id",
        ));
    }
    at_most(field, value, LINK_ID_MAX)?;
    only(field, value, "'_' and '-'", |c| matches!(c, '_' | '-'))?;
    let documented_shape = value.len() == 24
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    let warning = (!documented_shape).then(|| {
        format!("link id '{value}' is not the usual 24 lowercase hex characters; check it is right")
    });
    Ok((LinkId::new_unchecked(value), warning))
}

/// A session's label (a ticket or case reference): trimmed, at most 64
/// characters, printable; empty means none.
pub fn label(field: &str, raw: &str) -> Result<Option<String>, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    at_most(field, value, LABEL_MAX)?;
    // Control characters, and the invisible ones that reorder or hide text
    // around them (bidirectional overrides, zero-width marks).
    let invisible = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
            )
    };
    if let Some(bad) = value.chars().find(|c| invisible(*c)) {
        return Err(ValidationError::new(
            field,
            format!("contains the invisible character {bad:?}; type plain text"),
        ));
    }
    Ok(Some(value.to_string()))
}

/// Cashfree `verification_id`: 1..=50 of letters, digits, `.`, `-`, `_`.
pub fn verification_id(field: &str, raw: &str) -> Result<String, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is empty"));
    }
    at_most(field, value, VERIFICATION_ID_MAX)?;
    only(field, value, "'.', '-' and '_'", |c| {
        matches!(c, '.' | '-' | '_')
    })?;
    Ok(value.to_string())
}

/// `value` is at most `max` characters.
fn at_most(field: &str, value: &str, max: usize) -> Result<(), ValidationError> {
    let length = value.chars().count();
    if length > max {
        return Err(ValidationError::new(
            field,
            format!("is {length} characters; at most {max} allowed"),
        ));
    }
    Ok(())
}

/// `value` holds only ASCII letters, digits and the `others` (named in the
/// refusal as `others_named`).
fn only(
    field: &str,
    value: &str,
    others_named: &str,
    others: impl Fn(char) -> bool,
) -> Result<(), ValidationError> {
    match value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || others(*c)))
    {
        Some(bad) => Err(ValidationError::new(
            field,
            format!("contains {bad:?}; only letters, digits, {others_named} are allowed"),
        )),
        None => Ok(()),
    }
}

/// InstantPay `externalRef`: non-empty, alphanumeric only.
pub fn external_ref(field: &str, raw: &str) -> Result<String, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is empty"));
    }
    if let Some(bad) = value.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(ValidationError::new(
            field,
            format!("contains {bad:?}; only letters and digits are allowed"),
        ));
    }
    Ok(value.to_string())
}

/// Latitude in degrees, -90..=90.
pub fn latitude(field: &str, raw: &str) -> Result<Decimal, ValidationError> {
    coordinate(field, raw, Decimal::from(90))
}

/// Longitude in degrees, -180..=180.
pub fn longitude(field: &str, raw: &str) -> Result<Decimal, ValidationError> {
    coordinate(field, raw, Decimal::from(180))
}

fn coordinate(field: &str, raw: &str, limit: Decimal) -> Result<Decimal, ValidationError> {
    let value: Decimal = raw.trim().parse().map_err(|_| {
        ValidationError::new(
            field,
            format!("'{}' is not a number of degrees", raw.trim()),
        )
    })?;
    if value.abs() > limit {
        return Err(ValidationError::new(
            field,
            format!("{value} is out of range (-{limit} to {limit})"),
        ));
    }
    Ok(value)
}

/// Degrees with exactly 4 digits after the point, as InstantPay requires.
pub fn format_coordinate(value: Decimal) -> String {
    format!("{:.4}", value.round_dp(4))
}

/// Whether a coordinate string has exactly the wire form InstantPay wants
/// (optional minus, digits, a point, exactly 4 digits).
pub fn is_wire_coordinate(raw: &str) -> bool {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    match unsigned.split_once('.') {
        Some((int, frac)) => {
            !int.is_empty()
                && int.chars().all(|c| c.is_ascii_digit())
                && frac.len() == 4
                && frac.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// A redirect URL handed to the provider: must parse and be `https` with a host.
pub fn redirect_url(field: &str, raw: &str) -> Result<Url, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is empty"));
    }
    let url = Url::parse(value)
        .map_err(|e| ValidationError::new(field, format!("'{value}' is not a valid URL ({e})")))?;
    if url.scheme() != "https" {
        return Err(ValidationError::new(
            field,
            format!("must start with https:// (got {}://)", url.scheme()),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ValidationError::new(field, "has no host"));
    }
    Ok(url)
}

/// A provider base URL: https, or http only when the host is loopback
/// (the simulator). Anything else would send secrets in the clear.
pub fn base_url(field: &str, raw: &str) -> Result<Url, ValidationError> {
    let value = raw.trim();
    let url = Url::parse(value)
        .map_err(|e| ValidationError::new(field, format!("'{value}' is not a valid URL ({e})")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(&url) => Ok(url),
        "http" => Err(ValidationError::new(
            field,
            "must be https:// (plain http is allowed only for a loopback simulator)",
        )),
        other => Err(ValidationError::new(
            field,
            format!("has scheme '{other}'; expected https://"),
        )),
    }
}

/// One URL, or several comma-separated (a team server's replicas), each
/// as [`base_url`] takes it.
pub fn base_urls(field: &str, raw: &str) -> Result<Vec<Url>, ValidationError> {
    let urls = raw
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| base_url(field, part))
        .collect::<Result<Vec<_>, _>>()?;
    if urls.is_empty() {
        return Err(ValidationError::new(field, "is empty"));
    }
    Ok(urls)
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A comma-separated document list (`aadhaar,pan`): non-empty, known, no duplicates.
pub fn documents(field: &str, raw: &str) -> Result<Vec<DocumentType>, ValidationError> {
    let words: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err(ValidationError::new(
            field,
            "is empty; choose from aadhaar, pan, driving_license",
        ));
    }
    let mut docs = Vec::with_capacity(words.len());
    for word in words {
        let doc = DocumentType::parse(word).ok_or_else(|| {
            ValidationError::new(
                field,
                format!("unknown document '{word}'; choose from aadhaar, pan, driving_license"),
            )
        })?;
        if docs.contains(&doc) {
            return Err(ValidationError::new(
                field,
                format!("'{word}' is listed twice"),
            ));
        }
        docs.push(doc);
    }
    Ok(docs)
}

/// `24h`, `7d`: a whole number of hours (up to 87600) or days (up to 3650).
pub fn parse_span(value: &str) -> Result<jiff::SignedDuration, String> {
    let text = value.trim();
    let wrong = || {
        format!(
            "'{text}' is not a span; expected hours or days such as 24h or 7d (at most 9999h or 999d)"
        )
    };
    let (count, unit) = whole_and_unit(text, &[('h', 4), ('d', 3)]).ok_or_else(wrong)?;
    let hours = if unit == 'd' { count * 24 } else { count };
    Ok(jiff::SignedDuration::from_hours(hours))
}

/// `text` as a whole number without leading zeros and one of `units`,
/// each with the most digits it may have: what the API's patterns say.
fn whole_and_unit(text: &str, units: &[(char, usize)]) -> Option<(i64, char)> {
    let unit = text.chars().last()?;
    let (_, most) = units.iter().find(|(u, _)| *u == unit)?;
    let digits = &text[..text.len() - unit.len_utf8()];
    let well_formed = !digits.is_empty()
        && digits.len() <= *most
        && !digits.starts_with('0')
        && digits.chars().all(|c| c.is_ascii_digit());
    well_formed
        .then(|| digits.parse().ok())
        .flatten()
        .map(|n| (n, unit))
}

/// A length of time (`parse_duration`), as the API's documents give it.
pub const DURATION_PATTERN: &str =
    r"^\s*(0|[1-9][0-9]{0,7}s|[1-9][0-9]{0,5}m|[1-9][0-9]{0,3}h|[1-9][0-9]{0,2}d|[1-9][0-9]?w)\s*$";

/// A span of readings (`parse_span`), as the API's documents give it.
pub const SPAN_PATTERN: &str = r"^\s*([1-9][0-9]{0,3}h|[1-9][0-9]{0,2}d)\s*$";

/// A token's lifetime through the API (`expiry`, `Lifetimes::Lengths`): seconds may run to
/// ten digits, so a client can ask for any date it turns into seconds.
pub const EXPIRY_PATTERN: &str = r"^\s*(never|[1-9][0-9]{0,9}s|[1-9][0-9]{0,5}m|[1-9][0-9]{0,3}h|[1-9][0-9]{0,2}d|[1-9][0-9]?w)\s*$";

/// A rotation's grace (`parse_grace`): a week at most.
pub const GRACE_PATTERN: &str =
    r"^\s*(0|[1-9][0-9]{0,4}s|[1-9][0-9]{0,3}m|[1-9][0-9]?h|[1-7]d|1w)\s*$";

/// How long a rotated token keeps working: `0` (the default: not at all)
/// up to a week, as `GRACE_PATTERN` says. Longer would defeat rotating a
/// leaked token.
pub fn parse_grace(value: &str) -> Result<jiff::SignedDuration, String> {
    let text = value.trim();
    if text == "0" {
        return Ok(jiff::SignedDuration::ZERO);
    }
    let (count, unit) = whole_and_unit(text, &[('s', 5), ('m', 4), ('h', 2), ('d', 1), ('w', 1)])
        .filter(|(count, unit)| match unit {
            'd' => (1..=7).contains(count),
            'w' => *count == 1,
            _ => true,
        })
        .ok_or_else(|| format!("'{text}' is not a grace; expected 0 or a length up to a week, such as 30m, 12h or 7d"))?;
    Ok(jiff::SignedDuration::from_secs(count * unit_seconds(unit)))
}

fn unit_seconds(unit: char) -> i64 {
    match unit {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        _ => 604_800,
    }
}

/// A length of time: a whole number and s, m, h, d or w (2s, 30m, 12h,
/// 90d, 2w), or 0 for none; at most 8, 6, 4, 3 and 2 digits (about two
/// years at most in any unit), as `DURATION_PATTERN` says.
pub fn parse_duration(value: &str) -> Result<jiff::SignedDuration, String> {
    let text = value.trim();
    if text == "0" {
        return Ok(jiff::SignedDuration::ZERO);
    }
    let (count, unit) = whole_and_unit(
        text,
        &[('s', 8), ('m', 6), ('h', 4), ('d', 3), ('w', 2)],
    )
    .ok_or_else(|| {
        format!("'{text}' is not a length of time; expected a number and s, m, h, d or w, such as 12h or 90d")
    })?;
    Ok(jiff::SignedDuration::from_secs(count * unit_seconds(unit)))
}

/// Which lifetimes a caller may give.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lifetimes {
    /// The API's: `never`, or a length (seconds to ten digits, so a client
    /// can turn any date into seconds).
    Lengths,
    /// A person's: a length (90d), a date (the start of that day here), a
    /// moment (RFC 3339), or `never`.
    DatesToo,
}

/// When a token made at `now` stops working (`None`: never).
pub fn expiry(
    field: &str,
    value: &str,
    now: jiff::Timestamp,
    lifetimes: Lifetimes,
) -> Result<Option<jiff::Timestamp>, ValidationError> {
    let text = value.trim();
    let never = match lifetimes {
        Lifetimes::Lengths => text == "never",
        Lifetimes::DatesToo => text.eq_ignore_ascii_case("never"),
    };
    if never {
        return Ok(None);
    }
    let named = |message: String| ValidationError::new(field, message);
    let moment = match lifetimes {
        Lifetimes::Lengths => None,
        Lifetimes::DatesToo => match (
            text.parse::<jiff::Timestamp>(),
            text.parse::<jiff::civil::Date>(),
        ) {
            (Ok(at), _) => Some(at),
            (_, Ok(date)) => Some(
                date.to_zoned(jiff::tz::TimeZone::system())
                    .map_err(|e| named(format!("'{text}': {e}")))?
                    .timestamp(),
            ),
            _ => None,
        },
    };
    let at = match moment {
        Some(at) => at,
        None => {
            let seconds = (lifetimes == Lifetimes::Lengths)
                .then(|| whole_and_unit(text, &[('s', 10)]))
                .flatten()
                .map(|(count, _)| jiff::SignedDuration::from_secs(count));
            let span = seconds
                .or_else(|| parse_duration(text).ok())
                .filter(|span| !span.is_zero())
                .ok_or_else(|| {
                    let dates = match lifetimes {
                        Lifetimes::Lengths => "",
                        Lifetimes::DatesToo => ", a date such as 2027-03-31",
                    };
                    named(format!(
                        "'{text}' is not a lifetime; expected a length such as 12h or 90d{dates}, or never"
                    ))
                })?;
            now.checked_add(span)
                .map_err(|e| named(format!("'{text}': {e}")))?
        }
    };
    if at <= now {
        return Err(named(format!("'{text}' is not in the future")));
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_and_lengths() {
        let now: jiff::Timestamp = "2026-12-04T08:00:00Z".parse().unwrap();
        let after = |text: &str| {
            expiry("expires", text, now, Lifetimes::DatesToo)
                .unwrap()
                .unwrap()
        };
        assert_eq!(after("2s"), "2026-12-04T08:00:02Z".parse().unwrap());
        assert_eq!(after("12h"), "2026-12-04T20:00:00Z".parse().unwrap());
        assert_eq!(after("90d"), "2027-03-04T08:00:00Z".parse().unwrap());
        assert_eq!(
            after("2027-01-01T00:00:00Z"),
            "2027-01-01T00:00:00Z".parse().unwrap()
        );
        assert!(after("2027-01-01") > now);
        assert_eq!(
            expiry("expires", "never", now, Lifetimes::DatesToo).unwrap(),
            None
        );
        for bad in [
            "",
            "soon",
            "12",
            "h",
            "-1d",
            "2026-01-01",
            "0",
            "999w",
            "01h",
            "1 h",
        ] {
            let error = expiry("expires", bad, now, Lifetimes::DatesToo).unwrap_err();
            assert_eq!(error.field, "expires", "{bad}");
        }
        assert_eq!(parse_duration("0").unwrap(), jiff::SignedDuration::ZERO);
        assert_eq!(parse_duration(" 30m ").unwrap().as_secs(), 1800);
        assert!(
            parse_duration("1y")
                .unwrap_err()
                .contains("'1y' is not a length of time")
        );
    }

    #[test]
    fn link_ids() {
        let (id, warning) = link_id("link id", " 657aa9841b8d3897ff0a84fb ").unwrap();
        assert_eq!(id.as_str(), "657aa9841b8d3897ff0a84fb");
        assert!(warning.is_none());
        assert!(link_id("link id", "ABC_def-1").unwrap().1.is_some());
        assert!(link_id("link id", "").is_err());
        assert!(link_id("link id", "abc def").is_err());
        assert!(link_id("link id", &"a".repeat(65)).is_err());
        let err = link_id("link id", "a/b").unwrap_err();
        assert_eq!(err.field, "link id");
        assert!(err.message.contains("'/'"));
    }

    #[test]
    fn coordinates_format_with_four_decimals() {
        assert_eq!(
            format_coordinate(latitude("lat", "20.1236").unwrap()),
            "20.1236"
        );
        assert_eq!(format_coordinate(latitude("lat", "20").unwrap()), "20.0000");
        assert_eq!(
            format_coordinate(longitude("lon", "-168.64951").unwrap()),
            "-168.6495"
        );
        assert!(latitude("lat", "90.0001").is_err());
        assert!(longitude("lon", "-180.5").is_err());
        assert!(latitude("lat", "north").is_err());
        assert!(is_wire_coordinate("-2.6971"));
        assert!(!is_wire_coordinate("2.697"));
        assert!(!is_wire_coordinate("2"));
        assert!(!is_wire_coordinate("+2.6971"));
    }

    #[test]
    fn urls() {
        assert!(redirect_url("redirect", "https://example.com/done").is_ok());
        assert!(redirect_url("redirect", "http://example.com").is_err());
        assert!(redirect_url("redirect", "example.com").is_err());
        assert!(base_url("base_url", "http://127.0.0.1:8787").is_ok());
        assert!(base_url("base_url", "http://localhost:1/verification").is_ok());
        assert!(base_url("base_url", "http://api.instantpay.in").is_err());
        assert!(base_url("base_url", "https://api.instantpay.in").is_ok());
    }

    #[test]
    fn document_lists() {
        assert_eq!(
            documents("docs", "aadhaar, PAN,driving_license").unwrap(),
            DocumentType::ALL.to_vec()
        );
        assert!(documents("docs", "").is_err());
        assert!(documents("docs", "aadhaar,aadhaar").is_err());
        assert!(documents("docs", "passport").is_err());
    }

    #[test]
    fn verification_ids() {
        assert!(verification_id("verification id", "ABC.00-1_2").is_ok());
        assert!(verification_id("verification id", &"a".repeat(51)).is_err());
        assert!(verification_id("verification id", "a b").is_err());
        assert!(external_ref("externalRef", "PO1234abc").is_ok());
        assert!(external_ref("externalRef", "PO-1").is_err());
    }
}
