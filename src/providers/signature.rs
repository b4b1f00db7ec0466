//! Cashfree's public-key two-factor authentication: `x-cf-signature`.
//!
//! A merchant who cannot whitelist its addresses proves each request with
//! `base64(RSA-OAEP-SHA1(public key, "<client_id>.<unix seconds>"))`. The key
//! is read once, when the configuration loads, so a bad file is a
//! configuration error and never a failure at request time.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};

/// The header the signature travels in.
pub const HEADER: &str = "x-cf-signature";

/// How old a signature may be before Cashfree (and the simulator) refuses it.
pub const MAX_AGE_SECS: i64 = 5 * 60;

/// The merchant's public key, with the file it came from (for messages).
#[derive(Clone, PartialEq)]
pub struct SigningKey {
    path: PathBuf,
    key: RsaPublicKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PEM public key: SPKI (`BEGIN PUBLIC KEY`, what Cashfree's
    /// dashboard hands out) or PKCS#1 (`BEGIN RSA PUBLIC KEY`). The error
    /// says what is wrong with the file, never its contents.
    pub fn load(path: &Path) -> Result<SigningKey, String> {
        let text = read_pem(path)?;
        let key = RsaPublicKey::from_public_key_pem(text.trim())
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(text.trim()))
            .map_err(|_| {
                if text.contains("PRIVATE KEY") {
                    "holds a private key; payops needs the public key from the Cashfree dashboard (BEGIN PUBLIC KEY)".to_string()
                } else {
                    "is not a PEM RSA public key (expected -----BEGIN PUBLIC KEY-----)".to_string()
                }
            })?;
        Ok(SigningKey {
            path: path.to_path_buf(),
            key,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh signature for `client_id` at `unix_secs`.
    pub fn sign(&self, client_id: &str, unix_secs: i64) -> Result<String, String> {
        let message = format!("{client_id}.{unix_secs}");
        let mut rng = rsa::rand_core::OsRng;
        let sealed = self
            .key
            .encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), message.as_bytes())
            .map_err(|e| format!("cannot sign with the key in {}: {e}", self.path.display()))?;
        Ok(STANDARD.encode(sealed))
    }
}

/// Why a signature was refused (for the simulator's logs and tests; the
/// provider itself only ever says `ip_validation_failed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    NotBase64,
    /// The private key cannot open it: another key, or not OAEP-SHA1.
    Undecryptable,
    WrongClient,
    /// Older than [`MAX_AGE_SECS`], or from the future by more than that.
    Stale {
        age_secs: i64,
    },
}

/// The private half, as the provider (here: the simulator) holds it.
#[derive(Clone)]
pub struct VerifyingKey {
    key: RsaPrivateKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifyingKey([redacted])")
    }
}

impl VerifyingKey {
    /// Reads a PEM private key (PKCS#8 or PKCS#1).
    pub fn load(path: &Path) -> Result<VerifyingKey, String> {
        let text = read_pem(path)?;
        let key = RsaPrivateKey::from_pkcs8_pem(text.trim())
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(text.trim()))
            .map_err(|_| "is not a PEM RSA private key".to_string())?;
        Ok(VerifyingKey { key })
    }

    pub fn from_private(key: RsaPrivateKey) -> VerifyingKey {
        VerifyingKey { key }
    }

    /// Accepts `header` when it opens to `<client_id>.<t>` with `t` within
    /// [`MAX_AGE_SECS`] of `now_secs`.
    pub fn verify(
        &self,
        header: Option<&str>,
        client_id: &str,
        now_secs: i64,
    ) -> Result<(), Refusal> {
        let header = header.map(str::trim).filter(|h| !h.is_empty());
        let sealed = STANDARD
            .decode(header.ok_or(Refusal::Missing)?)
            .map_err(|_| Refusal::NotBase64)?;
        let opened = self
            .key
            .decrypt(Oaep::new::<sha1::Sha1>(), &sealed)
            .map_err(|_| Refusal::Undecryptable)?;
        let text = String::from_utf8(opened).map_err(|_| Refusal::Undecryptable)?;
        let (id, time) = text.rsplit_once('.').ok_or(Refusal::Undecryptable)?;
        if id != client_id {
            return Err(Refusal::WrongClient);
        }
        let signed_at: i64 = time.parse().map_err(|_| Refusal::Undecryptable)?;
        let age_secs = now_secs - signed_at;
        if age_secs.abs() > MAX_AGE_SECS {
            return Err(Refusal::Stale { age_secs });
        }
        Ok(())
    }
}

fn read_pem(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "cannot be read (permission denied)".to_string(),
        _ => format!("cannot be read: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|_| "is not a PEM text file".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

    fn pair(dir: &Path) -> (SigningKey, VerifyingKey) {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("keygen");
        let public_path = dir.join("public.pem");
        let pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("pem");
        std::fs::write(&public_path, pem).expect("write");
        (
            SigningKey::load(&public_path).expect("load"),
            VerifyingKey::from_private(private),
        )
    }

    #[test]
    fn a_fresh_signature_opens_to_the_client_and_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (signing, verifying) = pair(dir.path());
        let header = signing.sign("CF123", 1_700_000_000).expect("sign");
        assert!(!header.contains("CF123"), "the header is sealed");
        assert_eq!(
            verifying.verify(Some(&header), "CF123", 1_700_000_010),
            Ok(())
        );
        // OAEP is randomised: two signatures of one moment differ.
        assert_ne!(header, signing.sign("CF123", 1_700_000_000).expect("sign"));
    }

    #[test]
    fn stale_foreign_and_missing_signatures_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (signing, verifying) = pair(dir.path());
        let header = signing.sign("CF123", 1_700_000_000).expect("sign");
        assert_eq!(
            verifying.verify(Some(&header), "CF123", 1_700_000_000 + 301),
            Err(Refusal::Stale { age_secs: 301 })
        );
        assert_eq!(
            verifying.verify(Some(&header), "OTHER", 1_700_000_000),
            Err(Refusal::WrongClient)
        );
        assert_eq!(verifying.verify(None, "CF123", 0), Err(Refusal::Missing));
        assert_eq!(
            verifying.verify(Some("not base64!"), "CF123", 0),
            Err(Refusal::NotBase64)
        );
        let (_, other) = pair(tempfile::tempdir().expect("tempdir").path());
        assert_eq!(
            other.verify(Some(&header), "CF123", 1_700_000_000),
            Err(Refusal::Undecryptable)
        );
    }

    #[test]
    fn bad_key_files_say_what_is_wrong() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = SigningKey::load(&dir.path().join("nope.pem")).unwrap_err();
        assert_eq!(missing, "no such file");
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "hello").expect("write");
        assert!(
            SigningKey::load(&garbage)
                .unwrap_err()
                .contains("BEGIN PUBLIC KEY")
        );
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("keygen");
        let private_path = dir.path().join("private.pem");
        std::fs::write(
            &private_path,
            private
                .to_pkcs8_pem(LineEnding::LF)
                .expect("pem")
                .as_bytes(),
        )
        .expect("write");
        let error = SigningKey::load(&private_path).unwrap_err();
        assert!(error.contains("private key"), "{error}");
        assert!(
            !error.contains("BEGIN PRIVATE"),
            "no key material in messages"
        );
    }
}
