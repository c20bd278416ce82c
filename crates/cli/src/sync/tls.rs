//! TLS for the PostgreSQL mirror, as libpq does it: its `sslmode` and `sslrootcert`
//! parameters in the URL, or its `PGSSLMODE` and `PGSSLROOTCERT` variables, with libpq's
//! meanings, through rustls (with aws-lc-rs, the provider the SDK's HTTP client uses).
//!
//! - `disable`: no TLS. `allow`: without TLS first, with TLS (unverified) when the server
//!   refuses that. `prefer` (the default, as psql): TLS when the server offers it,
//!   unverified. `require`: TLS or nothing; the certificate's chain is verified when a
//!   root certificate is given (or `~/.postgresql/root.crt` exists), as libpq does.
//!   `verify-ca`: TLS, the chain verified against the root certificate. `verify-full`:
//!   that and the host name on the certificate.
//! - `sslrootcert=FILE` (PEM; default `~/.postgresql/root.crt`), or `system`: the
//!   system's trusted roots, which makes `verify-full` the default and refuses a weaker
//!   mode (as libpq 16 does).
//! - A Unix socket never uses TLS (libpq ignores `sslmode` there).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode as WireMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode \"{other}\" is not one of disable, allow, prefer, require, \
                     verify-ca, verify-full"
                ));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the trusted root certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of one or more certificates.
    File(PathBuf),
    /// The system's trusted roots (`sslrootcert=system`).
    System,
}

/// The TLS settings of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub mode: SslMode,
    /// The roots to verify with; `None` when none is given and the default file is missing.
    pub root: Option<RootCert>,
}

/// Splits libpq's TLS parameters off the URL (tokio-postgres does not read them):
/// returns the URL without them and the settings, from the URL first, then `env`
/// (`PGSSLMODE`, `PGSSLROOTCERT`, `HOME`), then libpq's defaults.
pub fn split(
    url: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(String, Settings), String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut mode, mut root) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = percent_decode_str(value).decode_utf8_lossy().into_owned();
        match key {
            "sslmode" => mode = Some(decoded),
            "sslrootcert" => root = Some(decoded),
            _ => kept.push(pair),
        }
    }
    let stripped = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mode = mode.or_else(|| env("PGSSLMODE")).filter(|m| !m.is_empty());
    let root = root
        .or_else(|| env("PGSSLROOTCERT"))
        .filter(|r| !r.is_empty());
    let root = match root.as_deref() {
        Some("system") => Some(RootCert::System),
        Some(path) => Some(RootCert::File(PathBuf::from(path))),
        None => env("HOME")
            .map(|home| Path::new(&home).join(".postgresql").join("root.crt"))
            .filter(|p| p.exists())
            .map(RootCert::File),
    };
    let mode = match (mode, &root) {
        (Some(m), _) => SslMode::parse(&m)?,
        (None, Some(RootCert::System)) => SslMode::VerifyFull,
        (None, _) => SslMode::Prefer,
    };
    if root == Some(RootCert::System) && mode != SslMode::VerifyFull {
        return Err(format!(
            "sslmode \"{}\" may not be used with sslrootcert=system: the system's roots \
             trust any public certificate, so only sslmode=verify-full (the host name checked) \
             protects the connection",
            mode.name()
        ));
    }
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && root.is_none() {
        return Err(format!(
            "sslmode={} needs a root certificate to verify the server's with: give \
             sslrootcert=FILE (the PEM certificate of the CA that signed the server's; a \
             managed database's provider publishes it), sslrootcert=system for a server \
             with a public certificate, or ~/.postgresql/root.crt",
            mode.name()
        ));
    }
    Ok((stripped, Settings { mode, root }))
}

/// How tokio-postgres is asked to connect, and with which TLS connector.
pub struct Attempt {
    pub wire: WireMode,
    pub connector: MakeRustlsConnect,
}

impl Settings {
    /// The attempts of a connection: `allow` tries without TLS, then with it; every other
    /// mode makes one. `unix`: the host is a socket (never TLS).
    pub fn attempts(&self, unix: bool) -> Result<(Attempt, Option<Attempt>), String> {
        let verify = match self.mode {
            SslMode::VerifyFull => Check::Full,
            SslMode::VerifyCa => Check::Chain,
            SslMode::Require if self.root.is_some() => Check::Chain,
            _ => Check::Nothing,
        };
        let connector = MakeRustlsConnect::new(self.client_config(verify)?);
        let wire = |mode| Attempt {
            wire: mode,
            connector: connector.clone(),
        };
        if unix {
            return Ok((wire(WireMode::Disable), None));
        }
        Ok(match self.mode {
            SslMode::Disable => (wire(WireMode::Disable), None),
            SslMode::Allow => (wire(WireMode::Disable), Some(wire(WireMode::Require))),
            SslMode::Prefer => (wire(WireMode::Prefer), None),
            _ => (wire(WireMode::Require), None),
        })
    }

    fn client_config(&self, check: Check) -> Result<rustls::ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let inner = match check {
            Check::Nothing => None,
            Check::Chain | Check::Full => {
                let roots = self.roots()?;
                Some(
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| format!("cannot use the root certificates: {e}"))?,
                )
            }
        };
        let verifier = Verifier {
            inner,
            check_name: check == Check::Full,
            provider: provider.clone(),
        };
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth())
    }

    fn roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        match &self.root {
            Some(RootCert::File(path)) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                    .map_err(|e| {
                        format!(
                            "cannot read the root certificate file {} (sslrootcert): {e}",
                            path.display()
                        )
                    })?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(format!(
                        "the root certificate file {} (sslrootcert) holds no certificate \
                         (PEM, -----BEGIN CERTIFICATE-----)",
                        path.display()
                    ));
                }
            }
            Some(RootCert::System) => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(
                        "sslrootcert=system: this system has no trusted root certificates \
                         (install ca-certificates, or give sslrootcert=FILE)"
                            .to_owned(),
                    );
                }
            }
            None => {}
        }
        Ok(roots)
    }
}

/// What the certificate check covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// Nothing (encryption without authentication: `prefer`, `require` without a root).
    Nothing,
    /// The chain up to a trusted root (`verify-ca`, `require` with a root).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// The server certificate verifier of every mode: webpki's, with its host-name check
/// waived for the chain-only modes, or none at all for the unverified ones. The
/// handshake's signatures are always checked.
#[derive(Debug)]
struct Verifier {
    inner: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(inner) = &self.inner else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the chain first, then the name: a wrong name means a good chain.
        match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
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
        rustls::crypto::verify_tls13_signature(
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

/// What to tell the user about a failed connection, when TLS explains it: a refused or
/// failed handshake, an untrusted certificate, a server that wants TLS. `None` otherwise.
pub fn explain(e: &tokio_postgres::Error, settings: &Settings, host: &str) -> Option<String> {
    let mode = settings.mode.name();
    if let Some(tls) = rustls_error(e) {
        let root = match &settings.root {
            Some(RootCert::File(p)) => format!("sslrootcert={}", p.display()),
            Some(RootCert::System) => "the system's roots (sslrootcert=system)".to_owned(),
            None => "no root certificate".to_owned(),
        };
        return Some(match tls {
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => format!(
                "the server's certificate does not name the host {host} (sslmode={mode}): \
                 connect by a name the certificate lists, or check the chain alone with \
                 sslmode=verify-ca"
            ),
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::BadSignature,
            ) => format!(
                "the server's certificate is not signed by a trusted root ({root}, \
                 sslmode={mode}): the connection was refused. Give the certificate of the CA \
                 that signed the server's (sslrootcert=FILE; a managed database's provider \
                 publishes its CA bundle)"
            ),
            rustls::Error::InvalidCertificate(cert) => {
                format!("the server's certificate was refused ({cert:?}; sslmode={mode}, {root})")
            }
            other => format!("the TLS handshake failed: {other} (sslmode={mode})"),
        });
    }
    let text = e.to_string();
    if text.contains("server does not support TLS") {
        return Some(format!(
            "the server does not accept TLS, which sslmode={mode} requires: turn ssl on in the \
             server, or connect with sslmode=prefer (TLS when offered)"
        ));
    }
    let db = e.as_db_error()?;
    (db.code() == &tokio_postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        && db.message().contains("no encryption"))
    .then(|| {
        format!(
            "the server refuses connections without TLS ({}): connect with sslmode=require, \
             verify-ca or verify-full (prefer, the default, uses TLS when the server offers it)",
            db.message()
        )
    })
}

/// The rustls error somewhere in `e`'s causes (tokio-rustls wraps it in an `io::Error`,
/// whose `source()` skips it: its `get_ref()` is looked at too).
fn rustls_error(e: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        cause = c.source();
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn settings(url: &str, env: &[(&str, &str)]) -> Result<(String, Settings), String> {
        split(url, |k| {
            env.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_url_wins_over_the_environment_and_prefer_is_the_default() {
        let (url, s) = settings("postgres://u@h/db", &[]).unwrap();
        assert_eq!(url, "postgres://u@h/db");
        assert_eq!(
            s,
            Settings {
                mode: SslMode::Prefer,
                root: None
            }
        );
        let (_, s) = settings("postgres://u@h/db", &[("PGSSLMODE", "require")]).unwrap();
        assert_eq!(s.mode, SslMode::Require);
        let (url, s) = settings(
            "postgres://u@h/db?connect_timeout=5&sslmode=verify-ca&sslrootcert=%2Ftmp%2Fca.pem",
            &[("PGSSLMODE", "disable"), ("PGSSLROOTCERT", "/elsewhere")],
        )
        .unwrap();
        assert_eq!(url, "postgres://u@h/db?connect_timeout=5");
        assert_eq!(
            s,
            Settings {
                mode: SslMode::VerifyCa,
                root: Some(RootCert::File("/tmp/ca.pem".into()))
            }
        );
    }

    #[test]
    fn system_roots_mean_verify_full_and_verification_needs_a_root() {
        let (_, s) = settings("postgres://u@h/db?sslrootcert=system", &[]).unwrap();
        assert_eq!(s.mode, SslMode::VerifyFull);
        let weak = settings("postgres://u@h/db?sslrootcert=system&sslmode=require", &[]);
        assert!(weak.unwrap_err().contains("verify-full"));
        let none = settings(
            "postgres://u@h/db?sslmode=verify-full",
            &[("HOME", "/nonexistent")],
        );
        assert!(none.unwrap_err().contains("sslrootcert=FILE"));
        let bad = settings("postgres://u@h/db?sslmode=secure", &[]);
        assert!(bad.unwrap_err().contains("not one of"));
    }

    #[test]
    fn a_root_file_in_home_is_used_as_libpq_does() {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".postgresql")).unwrap();
        std::fs::write(home.path().join(".postgresql/root.crt"), "").unwrap();
        let h = home.path().to_str().unwrap();
        let (_, s) = settings("postgres://u@h/db?sslmode=verify-ca", &[("HOME", h)]).unwrap();
        assert_eq!(
            s.root,
            Some(RootCert::File(home.path().join(".postgresql/root.crt")))
        );
    }
}
