//! The system signature as the harness applies it: the archive library's signer behind the
//! [`CdaSigner`] interface of the message builder.

use std::path::Path;

use anyhow::Context as _;
use kanta_profile::signature::{self, Signer};
use time::OffsetDateTime;

use crate::compose::CdaSigner;

/// Signs CDA documents with one system-signature certificate at a fixed time.
pub struct SystemSigner {
    signer: Signer,
    /// The signature timestamp written into each document.
    pub timestamp: OffsetDateTime,
}

impl std::fmt::Debug for SystemSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemSigner")
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

impl SystemSigner {
    /// Reads the certificate and key PEM files.
    pub fn from_files(cert: &Path, key: &Path, timestamp: OffsetDateTime) -> anyhow::Result<Self> {
        let cert_pem =
            std::fs::read(cert).with_context(|| format!("missing file: {}", cert.display()))?;
        let key_pem =
            std::fs::read(key).with_context(|| format!("missing file: {}", key.display()))?;
        let signer = Signer::from_pem(&cert_pem, &key_pem).with_context(|| {
            format!(
                "{} / {}: not a usable signature certificate and key",
                cert.display(),
                key.display()
            )
        })?;
        Ok(Self { signer, timestamp })
    }
}

impl CdaSigner for SystemSigner {
    fn sign_cda(&self, cda: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(signature::sign(cda, &self.signer, self.timestamp)?)
    }
}
