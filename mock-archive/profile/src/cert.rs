//! Reading X.509 certificates the way Kanta uses them: the organisation OID in the subject's
//! `serialNumber` attribute (2.5.4.5), the organisation name (O), the system name (CN), the
//! validity period and the key usage.
//!
//! Public fact: DVV's social welfare and health care service certificates put the organisation OID
//! in `serialNumber` (signer certificate in `interop/RCMR_IN100002FI01.xml`).

use std::fmt;

use time::OffsetDateTime;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

/// The subject attribute that carries the organisation OID (X.520 `serialNumber`).
pub const SERIAL_NUMBER_ATTRIBUTE: &str = "2.5.4.5";

/// What the archive and the harness need to know about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject `serialNumber`: the organisation OID, when the certificate has one.
    pub organisation_oid: Option<String>,
    /// Subject `O`.
    pub organisation: Option<String>,
    /// Subject `CN` (for DVV server certificates, the system name).
    pub common_name: Option<String>,
    /// The whole subject, RFC 4514 style.
    pub subject: String,
    /// The whole issuer, RFC 4514 style.
    pub issuer: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Key usage bits, when the extension is present.
    pub key_usage: Option<KeyUsage>,
    /// Whether the certificate is a CA (basic constraints).
    pub is_ca: bool,
    /// Serial number, hexadecimal.
    pub serial: String,
}

/// The key usage bits this project looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUsage {
    /// digitalSignature.
    pub digital_signature: bool,
    /// nonRepudiation (contentCommitment).
    pub non_repudiation: bool,
    /// keyEncipherment.
    pub key_encipherment: bool,
    /// keyCertSign.
    pub key_cert_sign: bool,
}

/// A certificate that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// The DER bytes are not an X.509 certificate.
    #[error("not an X.509 certificate: {0}")]
    Malformed(String),
}

impl CertInfo {
    /// Reads a DER-encoded certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| CertError::Malformed(e.to_string()))?;
        let subject = cert.subject();
        let key_usage = cert
            .key_usage()
            .map_err(|e| CertError::Malformed(e.to_string()))?
            .map(|ext| KeyUsage {
                digital_signature: ext.value.digital_signature(),
                non_repudiation: ext.value.non_repudiation(),
                key_encipherment: ext.value.key_encipherment(),
                key_cert_sign: ext.value.key_cert_sign(),
            });
        let is_ca = cert
            .basic_constraints()
            .map_err(|e| CertError::Malformed(e.to_string()))?
            .is_some_and(|ext| ext.value.ca);
        let validity = cert.validity();
        Ok(Self {
            organisation_oid: attribute(subject, SERIAL_NUMBER_ATTRIBUTE),
            organisation: attribute(subject, "2.5.4.10"),
            common_name: attribute(subject, "2.5.4.3"),
            subject: subject.to_string(),
            issuer: cert.issuer().to_string(),
            not_before: validity.not_before.to_datetime(),
            not_after: validity.not_after.to_datetime(),
            key_usage,
            is_ca,
            serial: cert.raw_serial_as_string().replace(':', ""),
        })
    }

    /// Whether the certificate is valid at `at`.
    pub fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }
}

impl fmt::Display for CertInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.subject)
    }
}

/// The first value of the subject attribute `oid` (dotted), as text.
fn attribute(name: &X509Name<'_>, oid: &str) -> Option<String> {
    let oid: Oid<'static> = oid.parse().ok()?;
    name.iter_by_oid(&oid)
        .next()
        .and_then(|attr| attr.as_str().ok())
        .map(str::to_owned)
}

/// The organisation OID of a DER certificate, if it carries one in `serialNumber`.
pub fn organisation_oid(der: &[u8]) -> Option<String> {
    CertInfo::from_der(der).ok()?.organisation_oid
}
