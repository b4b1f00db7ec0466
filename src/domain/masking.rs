//! What an operator sees of a customer without a reveal: decided here,
//! once, for every view (the dashboard's detail and documents, the CLI and
//! the team API), for DigiLocker's user details and document fields alike.
//!
//! | shown                     | how                                           |
//! |---------------------------|-----------------------------------------------|
//! | name, gender, other words | as they are: the operator checks the customer |
//! | identity numbers          | last four: Aadhaar (as the provider masked it), PAN, driving licence, mobile |
//! | date of birth             | the year alone                                |
//! | address                   | district and state (`documents` folds it)     |
//! | care-of, email, XML       | hidden                                        |
//! | photos                    | their size, never their bytes, even revealed  |
//!
//! Everything hidden here shows only on a reveal (`v` in the dashboard,
//! `--reveal`, `?reveal=true`), which is written to the access log first.

/// What stands in for a value shown only on a reveal.
pub const HIDDEN: &str = "(hidden; reveal to see)";

/// A field of a customer's, named by its last key (`dob`,
/// `split_address.dist` → `dist`), as shown without a reveal.
pub fn field(leaf: &str, value: &str) -> String {
    match leaf {
        "uid" | "maskedAadhaarNumber" | "aadhaar" | "aadhaar_number" => mask_unless_masked(value),
        "pan" | "dl_number" | "dlNumber" | "mobile" | "number" => last_four(value),
        "dob" => year_only(value),
        "care_of" | "careOf" | "xml_file" | "email" => HIDDEN.into(),
        _ => value.to_string(),
    }
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
        ];
        for (leaf, value, shown) in cases {
            assert_eq!(field(leaf, value), shown, "{leaf} {value}");
        }
    }
}
