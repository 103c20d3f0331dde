//! The test PKI: a root CA, the archive's TLS server certificate, TLS client certificates for
//! the provider's system and a vendor acting for it, a system-signature certificate, and the
//! negative certificates the tests need (expired, unknown CA, wrong key usage, a stranger).
//!
//! The certificates imitate DVV's test "sote-palveluvarmenteet" in shape (subject `O`, `CN` =
//! system name, `serialNumber` = organisation OID), but are plainly marked as Kantakoe test
//! certificates: they are never DVV's and never valid anywhere but here.
//!
//! Everything is written as PEM files plus a manifest (`pki.toml`) naming each file's role.
//! The certificates themselves come from the archive library's generator
//! ([`mock_archive::testpki`]), the project's one, which Rust tests also use in memory.

use std::fs;
use std::path::{Path, PathBuf};

use mock_archive::testpki::{GenerateError, TestPki};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use mock_archive::testpki::{OrgIdentity, PkiSpec, Role, scenario};

/// The manifest file in a PKI directory.
pub const MANIFEST: &str = "pki.toml";

/// One manifest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The role.
    pub role: Role,
    /// Certificate file, relative to the PKI directory.
    pub cert: String,
    /// Private key file (PKCS#8 PEM), relative to the PKI directory.
    pub key: String,
    /// Subject, for people.
    pub subject: String,
    /// Organisation OID in the subject's `serialNumber`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_oid: Option<String>,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// What it is for.
    pub purpose: String,
}

/// The manifest written as `pki.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// A warning for people who find the directory.
    pub note: String,
    /// When the PKI was made (RFC 3339).
    pub created: String,
    /// The certificates.
    pub entries: Vec<Entry>,
}

/// Why a PKI could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The directory already holds a PKI and `force` was not given.
    #[error(
        "{} already holds a test PKI ({MANIFEST}); nothing was changed (use --force to replace it)",
        .0.display()
    )]
    Exists(PathBuf),
    /// A file could not be written or read.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The directory holds no PKI.
    #[error("missing file: {} (no test PKI here; make one with `kantakoe pki init --dir DIR`)", .0.display())]
    Missing(PathBuf),
    /// A certificate could not be made.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// The manifest is not valid.
    #[error("{}: not a Kantakoe PKI manifest: {message}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A PKI directory on disk.
#[derive(Debug, Clone)]
pub struct Pki {
    dir: PathBuf,
}

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// The private key (PEM).
    pub key: PathBuf,
}

impl Pki {
    /// Opens an existing PKI directory, checking that its manifest is readable and names
    /// every role.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, PkiError> {
        let pki = Self { dir: dir.into() };
        let manifest = pki.manifest()?;
        for role in Role::ALL {
            if !manifest.entries.iter().any(|e| e.role == role) {
                return Err(PkiError::Manifest {
                    path: pki.dir.join(MANIFEST),
                    message: format!("no entry for {}", role.stem()),
                });
            }
        }
        Ok(pki)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the manifest.
    pub fn manifest(&self) -> Result<Manifest, PkiError> {
        let path = self.dir.join(MANIFEST);
        let text = fs::read_to_string(&path).map_err(|cause| match cause.kind() {
            std::io::ErrorKind::NotFound => PkiError::Missing(path.clone()),
            _ => PkiError::Io {
                path: path.clone(),
                cause,
            },
        })?;
        toml::from_str(&text).map_err(|e| PkiError::Manifest {
            path,
            message: e.message().to_owned(),
        })
    }

    /// The files of one role.
    pub fn files(&self, role: Role) -> CertFiles {
        CertFiles {
            cert: self.dir.join(format!("{}.pem", role.stem())),
            key: self.dir.join(format!("{}.key.pem", role.stem())),
        }
    }

    /// The CA certificate file.
    pub fn ca(&self) -> PathBuf {
        self.files(Role::Ca).cert
    }

    /// Makes a new PKI in `dir`. Refuses to replace an existing one unless `force`.
    /// Nothing is written until every certificate has been made.
    pub fn init(dir: impl Into<PathBuf>, spec: &PkiSpec, force: bool) -> Result<Self, PkiError> {
        let dir = dir.into();
        if dir.join(MANIFEST).exists() && !force {
            return Err(PkiError::Exists(dir));
        }
        let made = TestPki::generate_with(spec)?;
        made.write_pem_files(&dir).map_err(|e| PkiError::Io {
            path: e.path,
            cause: e.source,
        })?;
        let pki = Self { dir };
        let mut entries = Vec::new();
        for m in made.certificates() {
            let files = pki.files(m.role);
            let info = kanta_profile::cert::CertInfo::from_der(&m.cert_der).map_err(|e| {
                PkiError::Manifest {
                    path: files.cert.clone(),
                    message: e.to_string(),
                }
            })?;
            entries.push(Entry {
                role: m.role,
                cert: format!("{}.pem", m.role.stem()),
                key: format!("{}.key.pem", m.role.stem()),
                subject: info.subject,
                organisation_oid: info.organisation_oid,
                not_after: rfc3339(info.not_after),
                purpose: m.role.purpose().to_owned(),
            });
        }
        let manifest = Manifest {
            note:
                "Kantakoe TEST PKI: made for rehearsals on this machine only; not DVV certificates"
                    .into(),
            created: rfc3339(spec.now),
            entries,
        };
        let text = toml::to_string_pretty(&manifest).map_err(|e| PkiError::Manifest {
            path: pki.dir.join(MANIFEST),
            message: e.to_string(),
        })?;
        // The manifest goes last: its presence means the PKI is complete.
        write(&pki.dir.join(MANIFEST), &text)?;
        Ok(pki)
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

fn write(path: &Path, text: &str) -> Result<(), PkiError> {
    fs::write(path, text).map_err(|cause| PkiError::Io {
        path: path.to_owned(),
        cause,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kanta_profile::cert::CertInfo;

    fn info(pki: &Pki, role: Role) -> CertInfo {
        let pem = fs::read_to_string(pki.files(role).cert).unwrap();
        let der = rustls_pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
            .map(|c: rustls_pki_types::CertificateDer<'_>| c.to_vec())
            .unwrap();
        CertInfo::from_der(&der).unwrap()
    }

    #[test]
    fn init_makes_every_role_with_the_dvv_subject_shape() {
        let dir = tempfile::tempdir().unwrap();
        let spec = PkiSpec {
            hosts: vec!["archive.test".into(), "10.0.0.7".into()],
            ..PkiSpec::default()
        };
        let pki = Pki::init(dir.path(), &spec, false).unwrap();
        let pki = Pki::open(pki.dir()).unwrap();
        assert_eq!(pki.manifest().unwrap().entries.len(), Role::ALL.len());

        let client = info(&pki, Role::Client);
        assert_eq!(
            client.organisation_oid.as_deref(),
            Some(scenario::PROVIDER_OID)
        );
        assert_eq!(
            client.organisation.as_deref(),
            Some(scenario::PROVIDER_NAME)
        );
        assert_eq!(
            client.common_name.as_deref(),
            Some(scenario::PROVIDER_SYSTEM)
        );
        assert_eq!(
            info(&pki, Role::Vendor).organisation_oid.as_deref(),
            Some(scenario::VENDOR_OID)
        );

        let sig = info(&pki, Role::Signature);
        let ku = sig.key_usage.unwrap();
        assert!(ku.digital_signature && ku.non_repudiation);
        let bad = info(&pki, Role::BadUsageSignature).key_usage.unwrap();
        assert!(!bad.digital_signature && !bad.non_repudiation && bad.key_encipherment);

        assert!(!info(&pki, Role::ExpiredClient).valid_at(spec.now));
        assert!(info(&pki, Role::Ca).is_ca);
        assert_ne!(info(&pki, Role::UnknownClient).issuer, client.issuer);

        let server_pem = fs::read_to_string(pki.files(Role::Server).cert).unwrap();
        assert!(server_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let key_pem = fs::read_to_string(pki.files(Role::Signature).key).unwrap();
        assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    }

    #[test]
    fn scenario_identities_agree_with_the_bundled_fixture() {
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../testcases/orgs.toml");
        let registry = kanta_profile::orgs::Registry::load(fixture).unwrap();
        for (oid, name) in [
            (scenario::PROVIDER_OID, scenario::PROVIDER_NAME),
            (scenario::VENDOR_OID, scenario::VENDOR_NAME),
            (scenario::STRANGER_OID, scenario::STRANGER_NAME),
            (scenario::COUNTY_OID, scenario::COUNTY_NAME),
        ] {
            let org = registry
                .organisation(oid)
                .unwrap_or_else(|| panic!("{oid} not in the fixture"));
            assert_eq!(org.name, name);
        }
        assert!(registry.may_connect_for(scenario::VENDOR_OID, scenario::PROVIDER_OID));
        assert!(!registry.may_connect_for(scenario::STRANGER_OID, scenario::PROVIDER_OID));
    }

    #[test]
    fn init_twice_without_force_fails_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        Pki::init(dir.path(), &PkiSpec::default(), false).unwrap();
        let before = fs::read(dir.path().join("ca.pem")).unwrap();
        let err = Pki::init(dir.path(), &PkiSpec::default(), false).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} already holds a test PKI (pki.toml); nothing was changed (use --force to replace it)",
                dir.path().display()
            )
        );
        assert_eq!(fs::read(dir.path().join("ca.pem")).unwrap(), before);
        Pki::init(dir.path(), &PkiSpec::default(), true).unwrap();
        assert_ne!(fs::read(dir.path().join("ca.pem")).unwrap(), before);
    }

    #[test]
    fn open_refuses_a_directory_without_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let err = Pki::open(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "missing file: {} (no test PKI here; make one with `kantakoe pki init --dir DIR`)",
                dir.path().join(MANIFEST).display()
            )
        );
    }
}
