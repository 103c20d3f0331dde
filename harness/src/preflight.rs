//! The connection test ("yhteystesti"): before the deployment test, prove that the data link
//! and the certificates work. Connects with mutual TLS, asks the archive's `/health` which
//! organisation it saw, and reports TLS version, cipher suite, both certificates and their
//! expiry (a warning under 30 days).

use std::fmt::Write as _;
use std::path::PathBuf;

use kanta_profile::cert::CertInfo;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::client::{ClientError, Identity, Target, Timeouts, TlsClient};

/// Certificates expiring sooner than this get a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// What to test.
#[derive(Debug, Clone)]
pub struct Preflight {
    /// The archive.
    pub target: Target,
    /// CA trusted for the archive's server certificate.
    pub ca: PathBuf,
    /// Our client certificate and key; `None` tests what happens without one.
    pub identity: Option<Identity>,
    /// "Now", for expiry checks.
    pub now: OffsetDateTime,
    /// How long to wait at each stage.
    pub timeouts: Timeouts,
}

/// A certificate as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    /// Subject.
    pub subject: String,
    /// Issuer.
    pub issuer: String,
    /// Organisation OID (`serialNumber`), if any.
    pub organisation_oid: Option<String>,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Whole days left at the test time (negative: expired).
    pub days_left: i64,
}

impl CertSummary {
    fn new(info: &CertInfo, now: OffsetDateTime) -> Self {
        Self {
            subject: info.subject.clone(),
            issuer: info.issuer.clone(),
            organisation_oid: info.organisation_oid.clone(),
            not_after: info.not_after,
            days_left: (info.not_after - now).whole_days(),
        }
    }
}

/// What `/health` said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReply {
    /// Service name.
    pub service: String,
    /// Archive version.
    pub version: String,
    /// What the archive read from our certificate.
    pub client: SeenClient,
}

/// The client as the archive saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenClient {
    /// Organisation OID from the client certificate.
    pub organisation_oid: Option<String>,
    /// Organisation name.
    pub organisation: Option<String>,
}

/// A successful connection test.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The archive.
    pub target: String,
    /// TLS version.
    pub tls_version: String,
    /// Cipher suite.
    pub cipher_suite: String,
    /// The archive's certificate.
    pub server_cert: Option<CertSummary>,
    /// Our certificate.
    pub client_cert: Option<CertSummary>,
    /// What the archive said.
    pub health: HealthReply,
    /// Warnings (certificates expiring soon).
    pub warnings: Vec<String>,
}

/// Why the connection test failed: a [`ClientError`] or an answer that makes no sense.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreflightError {
    /// The connection itself failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Our own client certificate is not valid now: the archive would refuse it.
    #[error("expired certificate: the client certificate {} is not valid now (valid {} to {})", path.display(), not_before.date(), not_after.date())]
    OwnCertExpired {
        /// The certificate file.
        path: PathBuf,
        /// Start of validity.
        not_before: OffsetDateTime,
        /// End of validity.
        not_after: OffsetDateTime,
    },
    /// `/health` did not answer 200 with the expected JSON.
    #[error("the archive answered /health with HTTP {status}: {body}")]
    BadHealth {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
}

/// Runs the connection test.
pub async fn run(p: &Preflight) -> Result<Report, PreflightError> {
    let tls = TlsClient::new(&p.ca, p.identity.as_ref())?.with_timeouts(p.timeouts);
    let client_info = tls
        .client_cert
        .as_deref()
        .and_then(|der| CertInfo::from_der(der).ok());
    if let (Some(info), Some(id)) = (&client_info, &p.identity)
        && !info.valid_at(p.now)
    {
        return Err(PreflightError::OwnCertExpired {
            path: id.cert.clone(),
            not_before: info.not_before,
            not_after: info.not_after,
        });
    }
    let mut conn = tls.connect(&p.target).await?;
    let reply = conn.get("/health").await?;
    let health: HealthReply = match (reply.status, serde_json::from_slice(&reply.body)) {
        (200, Ok(h)) => h,
        (status, _) => {
            return Err(PreflightError::BadHealth {
                status,
                body: String::from_utf8_lossy(&reply.body[..reply.body.len().min(200)])
                    .into_owned(),
            });
        }
    };
    let server_cert = conn
        .info
        .server_cert
        .as_deref()
        .and_then(|der| CertInfo::from_der(der).ok())
        .map(|i| CertSummary::new(&i, p.now));
    let client_cert = client_info.map(|i| CertSummary::new(&i, p.now));
    let mut warnings = Vec::new();
    for (which, cert) in [("server", &server_cert), ("client", &client_cert)] {
        if let Some(c) = cert
            && c.not_after - p.now < Duration::days(EXPIRY_WARNING_DAYS)
        {
            warnings.push(format!(
                "the {which} certificate expires in {} days, on {}",
                c.days_left,
                c.not_after.date()
            ));
        }
    }
    Ok(Report {
        target: p.target.to_string(),
        tls_version: tls_name(&conn.info.version),
        cipher_suite: conn.info.cipher.clone(),
        server_cert,
        client_cert,
        health,
        warnings,
    })
}

/// A TLS protocol version as people write it: rustls's `TLSv1_3` is "TLS 1.3".
pub fn tls_name(rustls_name: &str) -> String {
    match rustls_name.strip_prefix("TLSv") {
        Some(v) => format!("TLS {}", v.replace('_', ".")),
        None => rustls_name.to_owned(),
    }
}

impl Report {
    /// The report as people read it.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Connection test (yhteystesti) with {}", self.target);
        let _ = writeln!(s, "  TLS version:       {}", self.tls_version);
        let _ = writeln!(s, "  cipher suite:      {}", self.cipher_suite);
        for (label, cert) in [
            ("server certificate", &self.server_cert),
            ("client certificate", &self.client_cert),
        ] {
            match cert {
                Some(c) => {
                    let _ = writeln!(s, "  {label:<19}{}", c.subject);
                    let _ = writeln!(s, "    issued by        {}", c.issuer);
                    if let Some(oid) = &c.organisation_oid {
                        let _ = writeln!(s, "    organisation OID {oid}");
                    }
                    let _ = writeln!(
                        s,
                        "    valid until      {} ({} days left)",
                        c.not_after.date(),
                        c.days_left
                    );
                }
                None => {
                    let _ = writeln!(s, "  {label:<19}none");
                }
            }
        }
        let seen = &self.health.client;
        let _ = writeln!(
            s,
            "  archive saw:       organisation OID {} ({})",
            seen.organisation_oid.as_deref().unwrap_or("none"),
            seen.organisation
                .as_deref()
                .unwrap_or("no organisation name")
        );
        let _ = writeln!(
            s,
            "  archive:           {} {}",
            self.health.service, self.health.version
        );
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        let _ = writeln!(s, "result: OK");
        s
    }
}
