//! Synthetic consented documents for AUTHENTICATED sessions: plausible,
//! derived from the session's made-up person, never real data. Both
//! providers' document endpoints answer from here.

use serde_json::{Value, json};

use super::state::{Lifecycle, Person, chars_from, hash};

/// How long after consent the documents can be fetched (sim seconds).
pub const CONSENT_WINDOW_SECS: f64 = 3600.0;

/// Why no document comes back.
pub(crate) enum Refusal {
    /// Not AUTHENTICATED: there is nothing consented.
    NoConsent { expired: bool },
    /// The hour after consent has passed.
    ConsentExpired,
}

/// Checks the session can serve documents now.
pub(crate) fn available(life: &Lifecycle, now: f64) -> Result<(), Refusal> {
    match life.consented_at(now) {
        None => Err(Refusal::NoConsent {
            expired: life.status(now) == crate::domain::SessionStatus::Expired,
        }),
        Some(at) if now - at > CONSENT_WINDOW_SECS => Err(Refusal::ConsentExpired),
        Some(_) => Ok(()),
    }
}

/// The parts of a made-up address, from the person's hash.
struct Address {
    house: String,
    street: &'static str,
    landmark: &'static str,
    vtc: &'static str,
    subdist: &'static str,
    dist: &'static str,
    state: &'static str,
    pincode: String,
    po: &'static str,
}

const PLACES: &[(&str, &str, &str, &str)] = &[
    (
        "Koramangala",
        "Bengaluru South",
        "Bengaluru Urban",
        "Karnataka",
    ),
    ("Andheri East", "Andheri", "Mumbai Suburban", "Maharashtra"),
    ("Velachery", "Guindy", "Chennai", "Tamil Nadu"),
    (
        "Salt Lake",
        "Bidhannagar",
        "North 24 Parganas",
        "West Bengal",
    ),
    ("Kondapur", "Serilingampally", "Rangareddy", "Telangana"),
    ("Gomti Nagar", "Lucknow", "Lucknow", "Uttar Pradesh"),
];

fn address(seed: u64) -> Address {
    let (vtc, subdist, dist, state) = PLACES[(seed % PLACES.len() as u64) as usize];
    Address {
        house: format!("{}/{}", 1 + seed % 200, 1 + (seed >> 8) % 30),
        street: "4th Cross Road",
        landmark: "Near Ganesh Temple",
        vtc,
        subdist,
        dist,
        state,
        pincode: format!("5{}", chars_from(seed, b"0123456789", 5)),
        po: vtc,
    }
}

fn photo() -> &'static str {
    // A 1x1 JPEG is enough to stand for the photo's base64 data.
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AKp//2Q=="
}

fn uid_masked(seed: u64) -> String {
    format!("XXXXXXXX{}", chars_from(seed, b"0123456789", 4))
}

fn pan(person: &Person, seed: u64) -> String {
    let surname_initial = person
        .name
        .rsplit(' ')
        .next()
        .and_then(|s| s.chars().next())
        .unwrap_or('X');
    format!(
        "{}P{surname_initial}{}{}",
        chars_from(seed, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3),
        chars_from(seed >> 7, b"0123456789", 4),
        chars_from(seed >> 13, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1)
    )
}

fn dl_number(seed: u64) -> String {
    format!(
        "KA{}{}{}",
        chars_from(seed, b"0123456789", 2),
        1990 + seed % 30,
        chars_from(seed >> 9, b"0123456789", 7)
    )
}

/// Cashfree's shapes (`GET /digilocker/document/{TYPE}`).
pub(crate) fn cashfree(
    document: &str,
    life: &Lifecycle,
    verification_id: &str,
    reference_id: i64,
) -> Value {
    let p = &life.person;
    let seed = hash(0, &[b"doc", verification_id.as_bytes()]);
    match document {
        "AADHAAR" => {
            let a = address(seed);
            json!({
                "reference_id": reference_id,
                "verification_id": verification_id,
                "status": "SUCCESS",
                "uid": uid_masked(seed),
                "name": p.name,
                "dob": p.dob_dmy(),
                "gender": p.gender,
                "care_of": "S/O: Ramesh Kumar",
                "photo_link": photo(),
                "xml_file": format!("https://sandbox.cashfree.com/verification/digilocker/xml/{verification_id}"),
                "split_address": {
                    "country": "India",
                    "dist": a.dist,
                    "house": a.house,
                    "landmark": a.landmark,
                    "pincode": a.pincode,
                    "po": a.po,
                    "state": a.state,
                    "street": a.street,
                    "subdist": a.subdist,
                    "vtc": a.vtc,
                },
                "year_of_birth": p.year,
                "message": "Aadhaar Card Exists",
            })
        }
        "PAN" => json!({
            "reference_id": reference_id,
            "verification_id": verification_id,
            "status": "SUCCESS",
            "pan": pan(p, seed),
            "name_pan_card": p.name.to_uppercase(),
            "dob": p.dob_dmy(),
            "type": "Individual",
        }),
        _ => json!({
            "reference_id": reference_id,
            "verification_id": verification_id,
            "status": "SUCCESS",
            "dl_number": dl_number(seed),
            "name": p.name,
            "dob": p.dob_dmy(),
            "validity": {"non_transport": {"from": "12-03-2015", "to": format!("11-03-{}", 2035)}},
            "vehicle_classes": ["LMV", "MCWG"],
        }),
    }
}

/// InstantPay's shapes (`POST /identity/digiLocker/document`; PAN as seen in
/// its reference, the others in the same camelCase manner).
pub(crate) fn instantpay(document: &str, life: &Lifecycle, reference_id: &str) -> Value {
    let p = &life.person;
    let seed = hash(0, &[b"doc", reference_id.as_bytes()]);
    match document {
        "AADHAAR" => {
            let a = address(seed);
            json!({
                "maskedAadhaarNumber": uid_masked(seed),
                "name": p.name,
                "dob": p.dob_iso(),
                "gender": p.gender,
                "careOf": "S/O: Ramesh Kumar",
                "address": {
                    "house": a.house,
                    "street": a.street,
                    "landmark": a.landmark,
                    "vtc": a.vtc,
                    "subdist": a.subdist,
                    "dist": a.dist,
                    "state": a.state,
                    "pincode": a.pincode,
                    "country": "India",
                },
                "photo": photo(),
            })
        }
        "PAN" => json!({
            "pan": pan(p, seed),
            "panType": "Individual",
            "nameOnPan": p.name.to_uppercase(),
            "gender": p.gender,
            "dob": p.dob_iso(),
            "base64File": photo(),
        }),
        _ => json!({
            "dlNumber": dl_number(seed),
            "name": p.name,
            "dob": p.dob_iso(),
            "validTill": "2035-03-11",
            "vehicleClasses": ["LMV", "MCWG"],
        }),
    }
}
