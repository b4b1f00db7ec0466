//! What an operator sees of a customer without a reveal: decided here,
//! once, for every view (the dashboard's detail and documents, the CLI and
//! the team API), for DigiLocker's user details and document fields alike.
//!
//! | shown                     | how                                           |
//! |---------------------------|-----------------------------------------------|
//! | name, gender, other words | as they are: the operator checks the customer |
//! | identity numbers          | last four: Aadhaar (as the provider masked it), PAN, driving licence, mobile, any other run of 8+ digits |
//! | date of birth             | the year alone                                |
//! | address                   | district and state (`documents` folds it)     |
//! | care-of, relatives, email, XML | hidden                                   |
//! | photos                    | their size, never their bytes, even revealed  |
//!
//! Everything hidden here shows only on a reveal (`v` in the dashboard,
//! `--reveal`, `?reveal=true`), which is written to the access log first.

/// What stands in for a value shown only on a reveal.
pub const HIDDEN: &str = "(hidden; reveal to see)";

/// A field of a customer's, named by its last key (`dob`,
/// `split_address.dist` → `dist`), as shown without a reveal. Keys are
/// matched by family, whatever their case or separators (`aadhaar_number`,
/// `maskedAadhaarNumber`, `mobileNumber`, `date_of_birth`), and a value of
/// a key nobody named that is a long run of digits is taken for a number.
pub fn field(leaf: &str, value: &str) -> String {
    let key: String = leaf
        .chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let relative = ["father", "mother", "spouse", "husband", "guardian"]
        .iter()
        .any(|who| key.starts_with(who));
    if key == "uid" || key.contains("aadhaar") {
        mask_unless_masked(value)
    } else if key == "pan"
        || key == "dlnumber"
        || ["number", "mobile", "phone"]
            .iter()
            .any(|end| key.ends_with(end))
    {
        last_four(value)
    } else if key == "dob" || key.contains("birth") {
        year_only(value)
    } else if key == "careof" || key == "xmlfile" || key.contains("email") || relative {
        HIDDEN.into()
    } else if looks_like_a_number(value) {
        last_four(value)
    } else {
        value.to_string()
    }
}

/// Eight digits or more, and no date's separators: an identity number
/// under a name the rule does not know.
fn looks_like_a_number(value: &str) -> bool {
    value.chars().filter(char::is_ascii_digit).count() >= 8 && !value.contains(['-', '/', ':'])
}

/// Providers mask Aadhaar already (`XXXXXXXX1234`); a bare 12-digit number
/// is masked here so it is never shown whole by default.
fn mask_unless_masked(value: &str) -> String {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if digits > 4 {
        last_four(value)
    } else {
        value.to_string()
    }
}

fn last_four(value: &str) -> String {
    let chars: Vec<char> = value.chars().filter(|c| !c.is_whitespace()).collect();
    let keep = chars.len().min(4);
    let hidden = chars.len() - keep;
    let tail: String = chars[hidden..].iter().collect();
    format!("{}{tail}", "X".repeat(hidden))
}

/// `DD-MM-YYYY` or `YYYY-MM-DD` to the year alone.
fn year_only(value: &str) -> String {
    let parts: Vec<&str> = value.split(['-', '/']).collect();
    match parts.as_slice() {
        [y, _, _] if y.len() == 4 => format!("{y}-**-**"),
        [_, _, y] if y.len() == 4 => format!("**-**-{y}"),
        _ => HIDDEN.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_by_field() {
        let cases = [
            ("name", "Ishita Banerjee", "Ishita Banerjee"),
            ("gender", "F", "F"),
            ("pan", "ABCPK1234F", "XXXXXX234F"),
            ("mobile", "9876543210", "XXXXXX3210"),
            ("uid", "123412341234", "XXXXXXXX1234"),
            ("uid", "XXXXXXXX1234", "XXXXXXXX1234"),
            ("dob", "1991-03-07", "1991-**-**"),
            ("dob", "07-03-1991", "**-**-1991"),
            ("dob", "garbled", HIDDEN),
            ("email", "ishita@example.com", HIDDEN),
            ("care_of", "S/O Someone", HIDDEN),
            // Whatever a provider calls them.
            ("maskedAadhaarNumber", "XXXXXXXX1234", "XXXXXXXX1234"),
            ("aadhaarNumber", "123412341234", "XXXXXXXX1234"),
            ("mobileNumber", "9876543210", "XXXXXX3210"),
            ("panNumber", "ABCPK1234F", "XXXXXX234F"),
            ("dateOfBirth", "1991-03-07", "1991-**-**"),
            ("date_of_birth", "07/03/1991", "**-**-1991"),
            ("email_id", "ishita@example.com", HIDDEN),
            ("fatherName", "Someone Banerjee", HIDDEN),
            ("eaadhaar", "Y", "Y"),
            // A long number under a name nobody knows; dates are not numbers.
            ("ref_no", "1234 5678 9012", "XXXXXXXX9012"),
            ("issue_date", "2024-01-15", "2024-01-15"),
            ("name_pan_card", "ISHITA BANERJEE", "ISHITA BANERJEE"),
        ];
        for (leaf, value, shown) in cases {
            assert_eq!(field(leaf, value), shown, "{leaf} {value}");
        }
    }
}
