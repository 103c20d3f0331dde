//! Submitting the report through the user's own SMTP server (lettre's SMTP client over rustls
//! with the aws-lc-rs provider).
//!
//! Server URLs:
//! - `smtp://host[:port]`: STARTTLS, required (port 587 unless given);
//! - `smtps://host[:port]`: implicit TLS (port 465 unless given);
//! - `smtp+plain://host:port`: no TLS at all, accepted only for a loopback host (`localhost`,
//!   `127.0.0.0/8`, `[::1]`), e.g. a local relay or a test server; credentials are never sent
//!   over it.
//!
//! Credentials come from the environment, never from the URL: `KANTAKOE_SMTP_USER` and
//! `KANTAKOE_SMTP_PASSWORD`. The server certificate is checked against the system's trust
//! store, plus the PEM file in `KANTAKOE_SMTP_CA` when set (a company CA or a test CA).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};
use thiserror::Error;

/// Environment variable holding the SMTP user name.
pub const ENV_USER: &str = "KANTAKOE_SMTP_USER";
/// Environment variable holding the SMTP password.
pub const ENV_PASSWORD: &str = "KANTAKOE_SMTP_PASSWORD";
/// Environment variable naming an extra PEM file of CA certificates to trust.
pub const ENV_CA: &str = "KANTAKOE_SMTP_CA";

/// How long one SMTP exchange may take before the submission fails.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection to the server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// STARTTLS after the greeting, required (`smtp://`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
    /// No TLS, loopback only (`smtp+plain://`).
    Plain,
}

/// Where and how to submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpTarget {
    /// The protection.
    pub security: Security,
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User name and password, when the server needs them.
    pub credentials: Option<(String, String)>,
    /// An extra PEM file of CA certificates to trust besides the system's.
    pub extra_ca: Option<PathBuf>,
}

/// Why the report could not be submitted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SmtpError {
    /// The `--smtp` URL is not one this tool accepts.
    #[error("SMTP URL `{url}`: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Only one of the two credential variables is set.
    #[error("SMTP credentials: {ENV_USER} and {ENV_PASSWORD} must be set together")]
    HalfCredentials,
    /// The extra CA file could not be read.
    #[error("SMTP CA file {path} (from {ENV_CA}): {reason}")]
    Ca {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The server answered with a negative reply.
    #[error("SMTP server {server} refused the report: {reply}")]
    Refused {
        /// `host:port`.
        server: String,
        /// The reply code and text.
        reply: String,
    },
    /// TLS could not be set up or the handshake failed.
    #[error("SMTP server {server}: TLS failed: {reason}")]
    Tls {
        /// `host:port`.
        server: String,
        /// The cause chain.
        reason: String,
    },
    /// The server could not be reached or the connection broke.
    #[error("SMTP server {server} could not be reached: {reason}")]
    Connection {
        /// `host:port`.
        server: String,
        /// The cause chain.
        reason: String,
    },
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SmtpTarget {
    /// Reads a server URL (see the module documentation); no credentials, no extra CA.
    pub fn parse(url: &str) -> Result<SmtpTarget, SmtpError> {
        let fail = |reason: &str| SmtpError::Url {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| fail("expected smtp://, smtps:// or smtp+plain://host:port"))?;
        let (security, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => (Security::StartTls, Some(587)),
            "smtps" => (Security::Implicit, Some(465)),
            "smtp+plain" => (Security::Plain, None),
            _ => {
                return Err(fail(
                    "unknown scheme; use smtp:// (STARTTLS), smtps:// (implicit TLS) or \
                     smtp+plain:// (no TLS, loopback only)",
                ));
            }
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains('@') {
            return Err(fail(&format!(
                "credentials do not belong in the URL; set {ENV_USER} and {ENV_PASSWORD}"
            )));
        }
        if authority.contains(['/', '?', '#']) {
            return Err(fail("expected only host and port after the scheme"));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (ip, after) = bracketed
                .split_once(']')
                .ok_or_else(|| fail("unclosed `[` in the host"))?;
            (format!("[{ip}]"), after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.to_owned(), None),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err(fail("no host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| fail(&format!("`{p}` is not a port")))?,
            None => default_port.ok_or_else(|| fail("smtp+plain:// needs an explicit port"))?,
        };
        if security == Security::Plain && !is_loopback(&host) {
            return Err(fail(
                "smtp+plain:// (no TLS) is only for a loopback host; use smtp:// or smtps://",
            ));
        }
        Ok(SmtpTarget {
            security,
            host,
            port,
            credentials: None,
            extra_ca: None,
        })
    }

    /// Reads a server URL and takes credentials and the extra CA from the environment.
    pub fn from_env(url: &str) -> Result<SmtpTarget, SmtpError> {
        let mut target = SmtpTarget::parse(url)?;
        let user = std::env::var(ENV_USER).ok().filter(|v| !v.is_empty());
        let password = std::env::var(ENV_PASSWORD).ok().filter(|v| !v.is_empty());
        target.credentials = match (user, password) {
            (Some(u), Some(p)) => Some((u, p)),
            (None, None) => None,
            _ => return Err(SmtpError::HalfCredentials),
        };
        target.extra_ca = std::env::var_os(ENV_CA)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Ok(target)
    }

    /// `host:port`, as shown in messages.
    pub fn server(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    fn tls_parameters(&self) -> Result<TlsParameters, SmtpError> {
        let domain = self
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let mut builder = TlsParameters::builder(domain);
        if let Some(path) = &self.extra_ca {
            let ca_error = |reason: String| SmtpError::Ca {
                path: path.clone(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| ca_error(chain(&e)))?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build_rustls().map_err(|e| SmtpError::Tls {
            server: self.server(),
            reason: chain(&e),
        })
    }

    fn transport(&self) -> Result<SmtpTransport, SmtpError> {
        let host = self
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(self.port)
            .timeout(Some(TIMEOUT));
        builder = match self.security {
            Security::StartTls => builder.tls(Tls::Required(self.tls_parameters()?)),
            Security::Implicit => builder.tls(Tls::Wrapper(self.tls_parameters()?)),
            Security::Plain => builder.tls(Tls::None),
        };
        if let Some((user, password)) = &self.credentials {
            if self.security == Security::Plain {
                return Err(SmtpError::Url {
                    url: format!("smtp+plain://{}", self.server()),
                    reason: format!(
                        "refusing to send {ENV_USER}/{ENV_PASSWORD} without TLS; use smtp:// \
                         or smtps://"
                    ),
                });
            }
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }
}

/// The error and its causes, joined with `: `, without repeats.
fn chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.last().is_some_and(|last| last.ends_with(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// Whether a TLS (rustls) error is among the causes: lettre reports a failed handshake as a
/// connection error whose I/O error wraps the rustls error.
fn involves_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<rustls::Error>()
            || e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            return true;
        }
        current = e.source();
    }
    false
}

/// Submits `message` to its recipients through `target`; returns the server's final reply
/// (`code text`).
pub fn send(target: &SmtpTarget, message: &Message) -> Result<String, SmtpError> {
    let transport = target.transport()?;
    match transport.send(message) {
        Ok(response) => Ok(format!(
            "{} {}",
            response.code(),
            response.message().collect::<Vec<_>>().join(" ")
        )),
        Err(e) => Err(classify(target, &e)),
    }
}

fn classify(target: &SmtpTarget, e: &lettre::transport::smtp::Error) -> SmtpError {
    let server = target.server();
    if let Some(code) = e.status() {
        let text = std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_default();
        return SmtpError::Refused {
            server,
            reply: format!("{code} {text}").trim_end().to_owned(),
        };
    }
    let reason = match std::error::Error::source(e) {
        Some(s) => chain(s),
        None => e.to_string(),
    };
    if e.is_tls() || involves_tls(e) {
        SmtpError::Tls { server, reason }
    } else {
        SmtpError::Connection { server, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = SmtpTarget::parse("smtp://mail.example.invalid").unwrap();
        assert_eq!(
            (t.security, t.server()),
            (Security::StartTls, "mail.example.invalid:587".into())
        );
        let t = SmtpTarget::parse("smtps://mail.example.invalid:2465/").unwrap();
        assert_eq!(
            (t.security, t.server()),
            (Security::Implicit, "mail.example.invalid:2465".into())
        );
        let t = SmtpTarget::parse("smtp+plain://127.0.0.1:2525").unwrap();
        assert_eq!(
            (t.security, t.server()),
            (Security::Plain, "127.0.0.1:2525".into())
        );
        let t = SmtpTarget::parse("smtp+plain://[::1]:2525").unwrap();
        assert_eq!(t.server(), "[::1]:2525");
    }

    #[test]
    fn bad_urls_say_why() {
        let err = |url: &str| SmtpTarget::parse(url).unwrap_err().to_string();
        assert_eq!(
            err("smtp+plain://mail.example.invalid:25"),
            "SMTP URL `smtp+plain://mail.example.invalid:25`: smtp+plain:// (no TLS) is only \
             for a loopback host; use smtp:// or smtps://"
        );
        assert_eq!(
            err("smtp://user:secret@mail.example.invalid"),
            "SMTP URL `smtp://user:secret@mail.example.invalid`: credentials do not belong in \
             the URL; set KANTAKOE_SMTP_USER and KANTAKOE_SMTP_PASSWORD"
        );
        assert_eq!(
            err("http://mail.example.invalid"),
            "SMTP URL `http://mail.example.invalid`: unknown scheme; use smtp:// (STARTTLS), \
             smtps:// (implicit TLS) or smtp+plain:// (no TLS, loopback only)"
        );
        assert_eq!(
            err("smtp://mail.example.invalid:99999"),
            "SMTP URL `smtp://mail.example.invalid:99999`: `99999` is not a port"
        );
        assert_eq!(
            err("mail.example.invalid"),
            "SMTP URL `mail.example.invalid`: expected smtp://, smtps:// or smtp+plain://host:port"
        );
        assert_eq!(
            err("smtp+plain://127.0.0.1"),
            "SMTP URL `smtp+plain://127.0.0.1`: smtp+plain:// needs an explicit port"
        );
    }
}
