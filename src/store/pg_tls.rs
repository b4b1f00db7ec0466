//! TLS to PostgreSQL, read from the URL the way libpq reads it: `sslmode`
//! (`disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`),
//! `sslrootcert` (the certificate authorities to trust), and `sslcert` with
//! `sslkey` (a client certificate). tokio-postgres knows only some of these
//! words, so they are taken out of the URL here and become a rustls
//! connector (tokio-postgres-rustls, with ring as elsewhere).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// What the URL asks of TLS.
#[derive(Debug, Default)]
pub struct TlsWanted {
    mode: Option<String>,
    root_cert: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

/// Splits libpq's TLS parameters off `url`: the URL tokio-postgres can
/// read, and what they asked for.
pub fn split(url: &str) -> (String, TlsWanted) {
    let mut wanted = TlsWanted::default();
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), wanted);
    };
    // The others stay as written: decoding and encoding them again would
    // change what tokio-postgres reads (a space becomes '+').
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || {
            url::form_urlencoded::parse(format!("v={value}").as_bytes())
                .next()
                .map(|(_, value)| value.into_owned())
                .unwrap_or_default()
        };
        match key {
            "sslmode" => wanted.mode = Some(decoded()),
            "sslrootcert" => wanted.root_cert = Some(PathBuf::from(decoded())),
            "sslcert" => wanted.cert = Some(PathBuf::from(decoded())),
            "sslkey" => wanted.key = Some(PathBuf::from(decoded())),
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, wanted)
}

impl TlsWanted {
    /// tokio-postgres' mode, and the connector that keeps the promise of
    /// libpq's: `verify-full` checks the chain and the name, `verify-ca`
    /// the chain (as does `require` given `sslrootcert`), the rest encrypt
    /// without checking who answers.
    pub fn connector(&self) -> Result<(SslMode, MakeRustlsConnect), String> {
        let mode = self.mode.as_deref().unwrap_or("prefer");
        let (ssl_mode, check) = match mode {
            "disable" => (SslMode::Disable, Check::Nothing),
            "allow" | "prefer" => (SslMode::Prefer, Check::Nothing),
            "require" if self.root_cert.is_some() => (SslMode::Require, Check::Chain),
            "require" => (SslMode::Require, Check::Nothing),
            "verify-ca" => (SslMode::Require, Check::Chain),
            "verify-full" => (SslMode::Require, Check::ChainAndName),
            other => {
                return Err(format!(
                    "sslmode '{other}': expected disable, allow, prefer, require, verify-ca or \
                     verify-full"
                ));
            }
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match check {
            Check::Nothing => Arc::new(Lenient {
                provider: provider.clone(),
                chain: None,
            }),
            Check::Chain | Check::ChainAndName => {
                let Some(path) = &self.root_cert else {
                    return Err(format!(
                        "sslmode={mode} needs sslrootcert=FILE: the certificate authorities \
                         that vouch for the database"
                    ));
                };
                let mut roots = RootCertStore::empty();
                for certificate in certificates(path, "sslrootcert")? {
                    roots
                        .add(certificate)
                        .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                }
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| format!("sslrootcert {}: {e}", path.display()))?;
                match check {
                    Check::Chain => Arc::new(Lenient {
                        provider: provider.clone(),
                        chain: Some(webpki),
                    }),
                    _ => webpki,
                }
            }
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let chain = certificates(cert, "sslcert")?;
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|e| format!("sslkey {}: no PEM private key ({e})", key.display()))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("sslcert and sslkey: {e}"))?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err("sslcert and sslkey go together: give both or neither".into()),
        };
        Ok((ssl_mode, MakeRustlsConnect::new(config)))
    }
}

enum Check {
    Nothing,
    Chain,
    ChainAndName,
}

fn certificates(path: &PathBuf, key: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let found = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{key} {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{key} {}: {e}", path.display()))?;
    if found.is_empty() {
        return Err(format!(
            "{key} {}: holds no PEM certificate",
            path.display()
        ));
    }
    Ok(found)
}

/// `prefer` and `require` without `sslrootcert` (`chain` None): encrypted,
/// whoever answers, libpq's own meaning. `verify-ca` (`chain` Some): the
/// chain must lead to a trusted authority, the name may be any. Either way
/// the handshake's signatures are checked.
#[derive(Debug)]
struct Lenient {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            answer => answer,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpqs_words_come_off_the_url_and_the_rest_stays() {
        let (url, wanted) = split(
            "postgres://u:p@db:5432/payops?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=x",
        );
        assert_eq!(url, "postgres://u:p@db:5432/payops?application_name=x");
        assert_eq!(wanted.mode.as_deref(), Some("verify-full"));
        assert_eq!(wanted.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        let (url, _) = split("postgres://db/x?sslmode=disable&options=-c%20statement_timeout%3D5s");
        assert_eq!(
            url, "postgres://db/x?options=-c%20statement_timeout%3D5s",
            "kept as written"
        );
        let (url, wanted) = split("postgres://db/payops");
        assert_eq!(url, "postgres://db/payops");
        assert!(wanted.mode.is_none());
    }

    #[test]
    fn verifying_needs_an_authority_and_words_are_checked() {
        let (_, wanted) = split("postgres://db/x?sslmode=verify-full");
        let error = wanted.connector().err().unwrap_or_default();
        assert!(error.contains("needs sslrootcert"), "{error}");
        let (_, wanted) = split("postgres://db/x?sslmode=always");
        let error = wanted.connector().err().unwrap_or_default();
        assert!(error.contains("sslmode 'always'"), "{error}");
        let (_, wanted) = split("postgres://db/x?sslmode=require");
        assert!(wanted.connector().is_ok());
    }
}
