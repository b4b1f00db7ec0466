//! The vocabulary every module shares: providers, statuses, ids, money-carrying reports.
//! Provider clients produce these; the store persists them; the CLI and the UI display them.

mod learned;
pub mod masking;
mod records;
pub mod wire;

pub use learned::{CONSENT_EXPIRED, Learned, Verdict, verdict};

pub use records::{
    AuditEntry, BalanceSnapshot, BalanceSummary, CreateState, DocumentAccess, NewSession,
    NotifyOutcome, RecentNotifies, SessionRecord, StatusEvent,
};

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How long a previous notify makes a new one for the same link ask again.
pub const NOTIFY_REPEAT_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// Which provider a session or call belongs to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    InstantPay,
    Cashfree,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::InstantPay, Provider::Cashfree];

    /// The lowercase word used in the CLI, JSON output and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::InstantPay => "instantpay",
            Provider::Cashfree => "cashfree",
        }
    }

    /// The name a person reads.
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::InstantPay => "InstantPay",
            Provider::Cashfree => "Cashfree",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

impl FromStr for Provider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "instantpay" | "ipay" => Ok(Provider::InstantPay),
            "cashfree" | "cf" => Ok(Provider::Cashfree),
            other => Err(format!(
                "unknown provider '{other}' (expected instantpay or cashfree)"
            )),
        }
    }
}

/// payops' normalised DigiLocker session status (see PROVIDERS.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    Pending,
    Authenticated,
    Expired,
    ConsentDenied,
    /// A word neither provider documents; polling continues and the raw word is shown.
    Unknown(String),
}

impl SessionStatus {
    /// Normalises a provider's raw status word. InstantPay says `AUTHORIZED`
    /// where Cashfree says `AUTHENTICATED`; both mean the same.
    pub fn from_provider(provider: Provider, raw: &str) -> SessionStatus {
        let word = raw.trim().to_ascii_uppercase();
        match (provider, word.as_str()) {
            (_, "PENDING") => SessionStatus::Pending,
            (Provider::Cashfree, "AUTHENTICATED") => SessionStatus::Authenticated,
            (Provider::InstantPay, "AUTHORIZED") => SessionStatus::Authenticated,
            // Consent was given; its hour of document access has passed.
            (Provider::Cashfree, learned::CONSENT_EXPIRED) => SessionStatus::Authenticated,
            (_, "EXPIRED") => SessionStatus::Expired,
            (_, "CONSENT_DENIED") => SessionStatus::ConsentDenied,
            _ => SessionStatus::Unknown(raw.trim().to_string()),
        }
    }

    /// Parses payops' own vocabulary (as written by `as_str`), e.g. from the store.
    pub fn from_normalised(word: &str) -> SessionStatus {
        match word {
            "PENDING" => SessionStatus::Pending,
            "AUTHENTICATED" => SessionStatus::Authenticated,
            "EXPIRED" => SessionStatus::Expired,
            "CONSENT_DENIED" => SessionStatus::ConsentDenied,
            other => {
                let inner = other
                    .strip_prefix("UNKNOWN(")
                    .and_then(|rest| rest.strip_suffix(')'))
                    .unwrap_or(other);
                SessionStatus::Unknown(inner.to_string())
            }
        }
    }

    pub fn as_str(&self) -> String {
        match self {
            SessionStatus::Pending => "PENDING".into(),
            SessionStatus::Authenticated => "AUTHENTICATED".into(),
            SessionStatus::Expired => "EXPIRED".into(),
            SessionStatus::ConsentDenied => "CONSENT_DENIED".into(),
            SessionStatus::Unknown(raw) => format!("UNKNOWN({raw})"),
        }
    }

    /// The statuses a session ends in. Final sessions are never polled again;
    /// the store's SQL filter for them is built from this list.
    pub const FINAL: [SessionStatus; 3] = [
        SessionStatus::Authenticated,
        SessionStatus::Expired,
        SessionStatus::ConsentDenied,
    ];

    pub fn is_final(&self) -> bool {
        SessionStatus::FINAL.contains(self)
    }

    /// A symbol so the status reads without colour.
    pub fn symbol(&self) -> &'static str {
        match self {
            // Not "…": that is how a cut value is marked.
            SessionStatus::Pending => "○",
            SessionStatus::Authenticated => "✓",
            SessionStatus::Expired => "⌛",
            SessionStatus::ConsentDenied => "✗",
            SessionStatus::Unknown(_) => "?",
        }
    }
}

/// Carried as payops' word (`PENDING`, `UNKNOWN(raw)`), as the store keeps it.
impl Serialize for SessionStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

/// In the API's documents: a string, one of payops' words or `UNKNOWN(raw)`.
impl utoipa::PartialSchema for SessionStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        word_schema(
            "PENDING, AUTHENTICATED, EXPIRED, CONSENT_DENIED, or UNKNOWN(the provider's word)",
        )
    }
}

impl utoipa::ToSchema for SessionStatus {}

/// A string schema described in words: for types with their own serde form.
fn word_schema(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(description))
        .into()
}

impl<'de> Deserialize<'de> for SessionStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SessionStatus::from_normalised(&String::deserialize(d)?))
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// Documents a Cashfree DigiLocker session may request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentType {
    Aadhaar,
    Pan,
    DrivingLicense,
}

impl DocumentType {
    pub const ALL: [DocumentType; 3] = [
        DocumentType::Aadhaar,
        DocumentType::Pan,
        DocumentType::DrivingLicense,
    ];

    /// The provider's wire word (`AADHAAR`, `PAN`, `DRIVING_LICENSE`).
    pub fn wire(self) -> &'static str {
        match self {
            DocumentType::Aadhaar => "AADHAAR",
            DocumentType::Pan => "PAN",
            DocumentType::DrivingLicense => "DRIVING_LICENSE",
        }
    }

    /// Accepts the wire word or the CLI's lowercase form (`driving_license`).
    pub fn parse(word: &str) -> Option<DocumentType> {
        match word.trim().to_ascii_uppercase().replace('-', "_").as_str() {
            "AADHAAR" => Some(DocumentType::Aadhaar),
            "PAN" => Some(DocumentType::Pan),
            "DRIVING_LICENSE" | "DL" => Some(DocumentType::DrivingLicense),
            _ => None,
        }
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire())
    }
}

impl Serialize for DocumentType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.wire())
    }
}

impl<'de> Deserialize<'de> for DocumentType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        DocumentType::parse(&word)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown document type '{word}'")))
    }
}

/// DigiLocker journey: the customer signs up or signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UserFlow {
    #[default]
    Signup,
    Signin,
}

impl UserFlow {
    /// InstantPay's word (`SIGNUP`/`SIGNIN`).
    pub fn instantpay_word(self) -> &'static str {
        match self {
            UserFlow::Signup => "SIGNUP",
            UserFlow::Signin => "SIGNIN",
        }
    }

    /// Cashfree's word (`signup`/`signin`).
    pub fn cashfree_word(self) -> &'static str {
        match self {
            UserFlow::Signup => "signup",
            UserFlow::Signin => "signin",
        }
    }

    pub fn parse(word: &str) -> Option<UserFlow> {
        match word.trim().to_ascii_lowercase().as_str() {
            "signup" => Some(UserFlow::Signup),
            "signin" => Some(UserFlow::Signin),
            _ => None,
        }
    }
}

impl Serialize for UserFlow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.cashfree_word())
    }
}

impl<'de> Deserialize<'de> for UserFlow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        UserFlow::parse(&word)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown flow '{word}'")))
    }
}

/// Payout-link status from InstantPay's link tracking.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkStatus {
    Issued,
    Claimed,
    Cancelled,
    Processing,
    Expired,
    Unknown(String),
}

impl LinkStatus {
    pub fn from_provider(raw: &str) -> LinkStatus {
        match raw.trim().to_ascii_uppercase().as_str() {
            "ISSUED" => LinkStatus::Issued,
            "CLAIMED" => LinkStatus::Claimed,
            "CANCELLED" | "CANCELED" => LinkStatus::Cancelled,
            "PROCESSING" => LinkStatus::Processing,
            "EXPIRED" => LinkStatus::Expired,
            _ => LinkStatus::Unknown(raw.trim().to_string()),
        }
    }

    pub fn as_str(&self) -> String {
        match self {
            LinkStatus::Issued => "ISSUED".into(),
            LinkStatus::Claimed => "CLAIMED".into(),
            LinkStatus::Cancelled => "CANCELLED".into(),
            LinkStatus::Processing => "PROCESSING".into(),
            LinkStatus::Expired => "EXPIRED".into(),
            LinkStatus::Unknown(raw) => format!("UNKNOWN({raw})"),
        }
    }

    /// Only an issued link has a recipient still waiting for it.
    pub fn is_notifiable(&self) -> bool {
        matches!(self, LinkStatus::Issued)
    }
}

/// Carried as `as_str` writes it (`ISSUED`, `UNKNOWN(raw)`), as `link --json` shows it.
impl Serialize for LinkStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for LinkStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        let raw = word
            .strip_prefix("UNKNOWN(")
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap_or(&word);
        Ok(LinkStatus::from_provider(raw))
    }
}

impl fmt::Display for LinkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// The environment a provider says it answered from (InstantPay's `environment`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ProviderEnvironment {
    Live,
    Sandbox,
    Unknown(String),
}

impl ProviderEnvironment {
    pub fn from_provider(raw: &str) -> ProviderEnvironment {
        match raw.trim().to_ascii_uppercase().as_str() {
            "LIVE" | "PRODUCTION" => ProviderEnvironment::Live,
            "SANDBOX" | "STAGING" | "TEST" => ProviderEnvironment::Sandbox,
            _ => ProviderEnvironment::Unknown(raw.trim().to_string()),
        }
    }

    pub fn label(&self) -> String {
        match self {
            ProviderEnvironment::Live => "LIVE".into(),
            ProviderEnvironment::Sandbox => "SANDBOX".into(),
            ProviderEnvironment::Unknown(raw) => raw.to_ascii_uppercase(),
        }
    }
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value already known to be valid (validated, or read back from the store).
            pub fn new_unchecked(value: impl Into<String>) -> Self {
                $name(value.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// payops' own id for a tracked DigiLocker session (`dl-` + 8 characters).
    SessionId
);
string_id!(
    /// Our unique reference sent to the provider: InstantPay `externalRef`
    /// (alphanumeric) and Cashfree `verification_id` (a subset of its rule).
    ExternalRef
);
string_id!(
    /// A payout link id (validated by `validate::link_id`).
    LinkId
);

const ID_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
const REF_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

fn random_chars(alphabet: &[u8], len: usize) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

impl SessionId {
    pub fn generate() -> SessionId {
        SessionId(format!("dl-{}", random_chars(ID_ALPHABET, 8)))
    }
}

impl ExternalRef {
    /// `PO` + UTC time to the second + 8 random characters: unique, sortable,
    /// alphanumeric only (InstantPay) and within Cashfree's 50-character rule.
    pub fn generate() -> ExternalRef {
        let now = Timestamp::now().strftime("%Y%m%d%H%M%S");
        ExternalRef(format!("PO{now}{}", random_chars(REF_ALPHABET, 8)))
    }
}

/// The wallet balance as InstantPay reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BalanceReport {
    pub account: String,
    pub available: Decimal,
    pub total: Decimal,
    pub lien: Decimal,
    pub environment: Option<ProviderEnvironment>,
    pub fetched_at: Timestamp,
    /// InstantPay's `ipay_uuid`.
    pub request_id: Option<String>,
}

/// What a provider answered to "create a DigiLocker session".
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedSession {
    /// InstantPay `referenceId` or Cashfree `reference_id` (as a string).
    pub reference: String,
    pub url: String,
    pub status: SessionStatus,
    pub provider_status: String,
    pub documents_requested: Vec<DocumentType>,
    pub environment: Option<ProviderEnvironment>,
    pub request_id: Option<String>,
}

/// Personal data from DigiLocker. Never logged, never stored; `Debug` is masked.
#[derive(Clone, PartialEq, Default)]
pub struct UserDetails {
    pub name: Option<String>,
    pub dob: Option<String>,
    pub gender: Option<String>,
    pub eaadhaar: Option<String>,
    pub mobile: Option<String>,
}

impl fmt::Debug for UserDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserDetails { .. }")
    }
}

impl UserDetails {
    /// The fields, in the order `masked` gives them (and every view shows them).
    pub const FIELDS: [&'static str; 5] = ["name", "dob", "gender", "eaadhaar", "mobile"];

    /// Every field as shown without a reveal (`masking`: the name in full,
    /// the year of birth, the mobile's last four), in `FIELDS` order.
    pub fn masked(&self) -> Vec<(&'static str, String)> {
        let values = [
            &self.name,
            &self.dob,
            &self.gender,
            &self.eaadhaar,
            &self.mobile,
        ];
        Self::FIELDS
            .into_iter()
            .zip(values)
            .filter_map(|(key, value)| {
                value
                    .as_deref()
                    .map(|value| (key, masking::field(key, value)))
            })
            .collect()
    }
}

/// A status poll's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionStatusReport {
    pub reference: String,
    /// Our reference as the provider echoes it (`externalRef` / `verification_id`).
    pub external_ref: Option<String>,
    pub status: SessionStatus,
    pub provider_status: String,
    pub documents_requested: Vec<DocumentType>,
    pub documents_consented: Vec<DocumentType>,
    pub user_details: Option<UserDetails>,
    pub request_id: Option<String>,
}

/// InstantPay's answer to a notify that succeeded.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyReceipt {
    /// The provider's `status` text, e.g. the masked recipient.
    pub message: String,
    pub actcode: Option<String>,
    pub request_id: Option<String>,
    /// InstantPay answered `TUP` (under process) rather than `TXN`.
    pub pending: bool,
}

/// One entry of a payout link's activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkActivity {
    pub status: String,
    pub at: Option<String>,
}

/// A payout link as InstantPay's tracking reports it. The derived serde
/// form reads `link --json` (amount as a decimal string).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkReport {
    pub link_id: LinkId,
    pub status: LinkStatus,
    pub amount: Option<Decimal>,
    pub activity: Vec<LinkActivity>,
    pub request_id: Option<String>,
}

/// Rupees with paise and Indian digit grouping: `125000.5` -> `₹1,25,000.50`.
/// Half a paisa rounds away from zero, as people round money.
pub fn format_inr(amount: Decimal) -> String {
    let rounded =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.2}", rounded.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((text.as_str(), "00"));
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}₹{}.{fraction}", group_indian(whole))
}

/// The last three digits form one group; before them, groups of two.
fn group_indian(digits: &str) -> String {
    if digits.len() <= 3 {
        return digits.to_string();
    }
    let (head, last_three) = digits.split_at(digits.len() - 3);
    let mut groups: Vec<&str> = Vec::new();
    let mut rest = head;
    while rest.len() > 2 {
        let (left, pair) = rest.split_at(rest.len() - 2);
        groups.push(pair);
        rest = left;
    }
    if !rest.is_empty() {
        groups.push(rest);
    }
    groups.reverse();
    format!("{},{last_three}", groups.join(","))
}

/// A time for people: local clock time to the second, with its zone.
pub fn local_time(at: Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// Masks all but the last `keep` characters: `9999999999` -> `******9999`.
pub fn mask_all_but_last(value: &str, keep: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    let shown = keep.min(chars.len());
    let hidden = chars.len() - shown;
    let mut out = "*".repeat(hidden.max(if keep == 0 { 1 } else { 0 }));
    out.extend(&chars[hidden..]);
    out
}

/// `15 s`, `2.5 s`, `150 ms`: how long, as a person would say it.
pub fn seconds(wait: std::time::Duration) -> String {
    if wait < std::time::Duration::from_secs(1) {
        format!("{} ms", wait.as_millis())
    } else if wait.subsec_millis() == 0 {
        format!("{} s", wait.as_secs())
    } else {
        format!("{:.1} s", wait.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instantpay_authorized_is_authenticated() {
        assert_eq!(
            SessionStatus::from_provider(Provider::InstantPay, "AUTHORIZED"),
            SessionStatus::Authenticated
        );
        assert_eq!(
            SessionStatus::from_provider(Provider::Cashfree, "AUTHENTICATED"),
            SessionStatus::Authenticated
        );
        // Each provider's word is only its own.
        assert_eq!(
            SessionStatus::from_provider(Provider::Cashfree, "AUTHORIZED"),
            SessionStatus::Unknown("AUTHORIZED".into())
        );
    }

    #[test]
    fn statuses_round_trip_through_their_normalised_word() {
        for status in [
            SessionStatus::Pending,
            SessionStatus::Authenticated,
            SessionStatus::Expired,
            SessionStatus::ConsentDenied,
            SessionStatus::Unknown("WEIRD".into()),
        ] {
            assert_eq!(SessionStatus::from_normalised(&status.as_str()), status);
        }
        assert!(!SessionStatus::Unknown("X".into()).is_final());
        assert!(SessionStatus::ConsentDenied.is_final());
    }

    #[test]
    fn generated_refs_satisfy_both_providers() {
        let r = ExternalRef::generate();
        assert!(r.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(r.as_str().len() <= 50);
        assert_ne!(r, ExternalRef::generate());
        assert!(SessionId::generate().as_str().starts_with("dl-"));
    }

    #[test]
    fn rupees_use_indian_grouping() {
        for (amount, shown) in [
            ("16.82", "₹16.82"),
            ("7748.0", "₹7,748.00"),
            ("125000.5", "₹1,25,000.50"),
            ("12345678.999", "₹1,23,45,679.00"),
            ("0", "₹0.00"),
            ("-1500", "-₹1,500.00"),
            ("100", "₹100.00"),
            ("999", "₹999.00"),
            ("1000", "₹1,000.00"),
            ("12345678.905", "₹1,23,45,678.91"),
            ("-1500.5", "-₹1,500.50"),
        ] {
            assert_eq!(format_inr(amount.parse().unwrap()), shown, "{amount}");
        }
    }

    #[test]
    fn masking() {
        assert_eq!(mask_all_but_last("9999999999", 4), "******9999");
        assert_eq!(mask_all_but_last("12", 4), "12");
        let details = UserDetails {
            mobile: Some("9876543210".into()),
            ..Default::default()
        };
        assert_eq!(format!("{details:?}"), "UserDetails { .. }");
        assert_eq!(details.masked(), vec![("mobile", "XXXXXX3210".to_string())]);
        // The one rule (`masking`), as the documents beside them show it:
        // the name whole, the year of birth, in `FIELDS` order.
        let details = UserDetails {
            name: Some("Ishita Banerjee".into()),
            dob: Some("1991-03-07".into()),
            gender: Some("F".into()),
            eaadhaar: Some("Y".into()),
            mobile: Some("9876543210".into()),
        };
        let masked = details.masked();
        let keys: Vec<&str> = masked.iter().map(|(key, _)| *key).collect();
        assert_eq!(keys, UserDetails::FIELDS);
        assert_eq!(masked[0].1, "Ishita Banerjee");
        assert_eq!(masked[1].1, "1991-**-**");
    }
}
