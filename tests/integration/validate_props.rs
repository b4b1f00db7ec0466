//! Property tests for the validators: whatever is typed, they answer (never
//! panic), and what they accept is exactly what the providers accept.

use payops::domain::DocumentType;
use payops::validate;
use proptest::prelude::*;
use rust_decimal::Decimal;

proptest! {
    #[test]
    fn link_id_never_panics_and_accepts_only_the_allowed_alphabet(raw in "\\PC{0,80}") {
        if let Ok((id, _warning)) = validate::link_id("link id", &raw) {
            let s = id.as_str();
            prop_assert!(!s.is_empty() && s.chars().count() <= validate::LINK_ID_MAX);
            prop_assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        }
    }

    #[test]
    fn documented_link_ids_are_accepted_without_warning(raw in "[0-9a-f]{24}") {
        let (id, warning) = validate::link_id("link id", &raw).unwrap();
        prop_assert_eq!(id.as_str(), raw.as_str());
        prop_assert!(warning.is_none());
    }

    #[test]
    fn verification_id_matches_cashfrees_rule(raw in "\\PC{0,60}") {
        let trimmed = raw.trim();
        let valid = !trimmed.is_empty()
            && trimmed.chars().count() <= 50
            && trimmed.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        prop_assert_eq!(validate::verification_id("verification_id", &raw).is_ok(), valid);
    }

    #[test]
    fn any_in_range_coordinate_is_sent_with_exactly_four_decimals(
        lat in -90_000_000i64..=90_000_000,
        lon in -180_000_000i64..=180_000_000,
    ) {
        for (value, limit) in [(Decimal::new(lat, 6), 90), (Decimal::new(lon, 6), 180)] {
            let parsed = if limit == 90 {
                validate::latitude("latitude", &value.to_string())
            } else {
                validate::longitude("longitude", &value.to_string())
            };
            let parsed = parsed.unwrap();
            let wire = validate::format_coordinate(parsed);
            prop_assert!(validate::is_wire_coordinate(&wire), "{wire}");
            let back: Decimal = wire.parse().unwrap();
            prop_assert!((back - parsed).abs() <= Decimal::new(5, 5));
        }
    }

    #[test]
    fn out_of_range_coordinates_are_refused(excess in 1i64..1_000_000, negative: bool) {
        let lat = Decimal::from(90) + Decimal::new(excess, 4);
        let lat = if negative { -lat } else { lat };
        prop_assert!(validate::latitude("latitude", &lat.to_string()).is_err());
        let lon = Decimal::from(180) + Decimal::new(excess, 4);
        let lon = if negative { -lon } else { lon };
        prop_assert!(validate::longitude("longitude", &lon.to_string()).is_err());
    }

    #[test]
    fn coordinate_text_never_panics(raw in "\\PC{0,30}") {
        let _ = validate::latitude("latitude", &raw);
        let _ = validate::longitude("longitude", &raw);
        let _ = validate::is_wire_coordinate(&raw);
    }

    #[test]
    fn redirect_urls_are_https_with_a_host(raw in "\\PC{0,60}") {
        if let Ok(url) = validate::redirect_url("redirect_url", &raw) {
            prop_assert_eq!(url.scheme(), "https");
            prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()));
        }
    }

    #[test]
    fn http_redirects_are_always_refused(host in "[a-z]{1,12}\\.(com|in|org)", path in "(/[a-z0-9]{0,8}){0,3}") {
        let http = format!("http://{host}{path}");
        prop_assert!(validate::redirect_url("redirect_url", &http).is_err());
        let https = format!("https://{host}{path}");
        prop_assert!(validate::redirect_url("redirect_url", &https).is_ok());
    }

    #[test]
    fn document_lists_are_known_and_unique(raw in "\\PC{0,60}") {
        if let Ok(docs) = validate::documents("documents", &raw) {
            prop_assert!(!docs.is_empty());
            let mut unique = docs.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), docs.len());
        }
    }

    #[test]
    fn any_subset_of_documents_round_trips(mask in 1u8..8) {
        let chosen: Vec<DocumentType> = DocumentType::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, d)| *d)
            .collect();
        let text = chosen.iter().map(|d| d.wire().to_ascii_lowercase()).collect::<Vec<_>>().join(",");
        prop_assert_eq!(validate::documents("documents", &text).unwrap(), chosen);
    }
}
