//! Team mode's operators: their roles, and the bearer tokens that name them.
//! A token is shown once when made; only its SHA-256 is stored, which is
//! enough for a random 190-bit secret (there is nothing to guess slowly).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// What an operator may do through `payops serve`. In JSON, its word
/// (`"support"`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything.
    Viewer,
    /// Read, and create, track, stop tracking and refresh sessions.
    Support,
    /// Read, and refresh the balance, look links up and notify.
    Finance,
    /// Everything, tokens included.
    Admin,
}

/// A kind of action, as the server checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    Sessions,
    Money,
    Tokens,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Support, Role::Finance, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Support => "support",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }

    pub fn may(self, permission: Permission) -> bool {
        matches!(
            (self, permission),
            (Role::Admin, _)
                | (_, Permission::Read)
                | (Role::Support, Permission::Sessions)
                | (Role::Finance, Permission::Money)
        )
    }

    /// The least role that has `permission`, for "needs the finance role".
    pub fn needed_for(permission: Permission) -> Role {
        Role::ALL
            .into_iter()
            .find(|role| role.may(permission))
            .unwrap_or(Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Role, String> {
        let word = text.trim().to_ascii_lowercase();
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == word)
            .ok_or_else(|| {
                format!("'{text}' is not a role; expected viewer, support, finance or admin")
            })
    }
}

/// Every token starts so, so a leaked one is recognisable in a scan.
const TOKEN_PREFIX: &str = "payops_";
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// 32 characters of 62: about 190 bits.
const TOKEN_LENGTH: usize = 32;

/// A token's lifetime unless another is asked for (`never` must be asked for).
pub const DEFAULT_TOKEN_LIFETIME: &str = "90d";

/// A token's role and expiry, as its activity row says them.
pub fn token_detail(role: Role, expires_at: Option<jiff::Timestamp>) -> String {
    match expires_at {
        Some(at) => format!("role {role}, expires {at:.0}"),
        None => format!("role {role}, never expires"),
    }
}

/// A fresh token: the secret to show once, and the hash to store.
pub fn new_token() -> (String, String) {
    use rand::RngExt;
    let mut rng = rand::rng();
    let secret: String = (0..TOKEN_LENGTH)
        .map(|_| TOKEN_ALPHABET[rng.random_range(0..TOKEN_ALPHABET.len())] as char)
        .collect();
    let token = format!("{TOKEN_PREFIX}{secret}");
    let hash = token_hash(&token);
    (token, hash)
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// An operator's name as a token carries it: 1 to 64 letters, digits, and
/// `.`, `_`, `-`, `@` (an e-mail address works).
pub fn operator_name(field: &str, raw: &str) -> Result<String, crate::error::ValidationError> {
    use crate::error::ValidationError;
    let name = raw.trim();
    if name.is_empty() {
        return Err(ValidationError::new(field, "is empty"));
    }
    if name.chars().count() > 64 {
        return Err(ValidationError::new(field, "is longer than 64 characters"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ".-_@".contains(*c)))
    {
        return Err(ValidationError::new(
            field,
            format!("contains {bad:?}; use letters, digits, '.', '_', '-' or '@'"),
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_the_issue_says_and_name_what_is_needed() {
        assert!(Role::Viewer.may(Permission::Read));
        assert!(!Role::Viewer.may(Permission::Sessions));
        assert!(Role::Support.may(Permission::Sessions));
        assert!(!Role::Support.may(Permission::Money));
        assert!(Role::Finance.may(Permission::Money));
        assert!(!Role::Finance.may(Permission::Tokens));
        assert!(Role::Admin.may(Permission::Tokens));
        assert_eq!(Role::needed_for(Permission::Money), Role::Finance);
        assert_eq!(Role::needed_for(Permission::Sessions), Role::Support);
        assert_eq!(Role::needed_for(Permission::Tokens), Role::Admin);
        assert_eq!("Finance".parse::<Role>(), Ok(Role::Finance));
        assert!(
            "root"
                .parse::<Role>()
                .unwrap_err()
                .contains("'root' is not a role")
        );
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("payops_") && a.len() == 7 + 32);
        assert_eq!(hash_a.len(), 64);
        assert!(hash_a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(token_hash(&format!(" {a}\n")), hash_a);
    }

    #[test]
    fn operator_names_are_checked() {
        assert_eq!(operator_name("NAME", " asha@ops ").unwrap(), "asha@ops");
        assert!(operator_name("NAME", "").is_err());
        assert!(
            operator_name("NAME", "a b")
                .unwrap_err()
                .to_string()
                .contains("' '")
        );
    }
}
