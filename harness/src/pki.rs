//! The test PKI: a root CA, the archive's TLS server certificate, TLS client certificates for
//! the provider's system and a vendor acting for it, a system-signature certificate, and the
//! negative certificates the tests need (expired, unknown CA, wrong key usage, a stranger).
//!
//! The certificates imitate DVV's test "sote-palveluvarmenteet" in shape (subject `O`, `CN` =
//! system name, `serialNumber` = organisation OID), but are plainly marked as Kantakoe test
//! certificates: they are never DVV's and never valid anywhere but here.
//!
//! Everything is written as PEM files plus a manifest (`pki.toml`) naming each file's role.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// The manifest file in a PKI directory.
pub const MANIFEST: &str = "pki.toml";

/// An organisation that gets certificates: its OID (subject `serialNumber`), its name
/// (subject `O`) and its system's name (subject `CN`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrgIdentity {
    /// Organisation OID, as in THL's SOTE organisation register.
    pub oid: String,
    /// Organisation name.
    pub name: String,
    /// The client system's name.
    pub system: String,
}

/// What to make. [`PkiSpec::default`] names the bundled scenario's organisations.
#[derive(Debug, Clone)]
pub struct PkiSpec {
    /// Extra host names or IP addresses for the server certificate.
    pub hosts: Vec<String>,
    /// The private provider whose system talks to the archive.
    pub provider: OrgIdentity,
    /// A system vendor acting for the provider.
    pub vendor: OrgIdentity,
    /// An organisation that neither sends nor acts for the sender.
    pub stranger: OrgIdentity,
    /// "Now": certificates are valid from a day before this.
    pub now: OffsetDateTime,
}

/// Organisation identities of the bundled scenario, as in `testcases/orgs.toml` (a test
/// checks that they agree). Convention: the OIDs are fictional, under the example arc 2.999.
pub mod scenario {
    /// The licensed private provider with its own register.
    pub const PROVIDER_OID: &str = "2.999.5851.2.1";
    /// Its name (fictional test data).
    pub const PROVIDER_NAME: &str = "Hoivapalvelu Esimerkki Oy (TESTIAINEISTO)";
    /// The provider's system name.
    pub const PROVIDER_SYSTEM: &str = "Esimerkki Asiakastietojärjestelmä";
    /// The system vendor acting for the provider.
    pub const VENDOR_OID: &str = "2.999.5851.2.7";
    /// The vendor's name (fictional test data).
    pub const VENDOR_NAME: &str = "Järjestelmätoimittaja Testi Oy (TESTIAINEISTO)";
    /// The vendor's system name.
    pub const VENDOR_SYSTEM: &str = "Testi Sote Välityspalvelu";
    /// An organisation that neither sends for the provider nor is a vendor registered for it
    /// (the small provider of the fixture).
    pub const STRANGER_OID: &str = "2.999.5851.2.4";
    /// The stranger's name (fictional test data).
    pub const STRANGER_NAME: &str = "Pienpalvelu Testi Oy (TESTIAINEISTO)";
}

impl Default for PkiSpec {
    fn default() -> Self {
        use scenario::*;
        Self {
            hosts: Vec::new(),
            provider: OrgIdentity {
                oid: PROVIDER_OID.into(),
                name: PROVIDER_NAME.into(),
                system: PROVIDER_SYSTEM.into(),
            },
            vendor: OrgIdentity {
                oid: VENDOR_OID.into(),
                name: VENDOR_NAME.into(),
                system: VENDOR_SYSTEM.into(),
            },
            stranger: OrgIdentity {
                oid: STRANGER_OID.into(),
                name: STRANGER_NAME.into(),
                system: "Pienpalvelu järjestelmä".into(),
            },
            now: OffsetDateTime::now_utc(),
        }
    }
}

/// The role of one certificate in the PKI; its files are `<role>.pem` and `<role>.key.pem`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The test root CA (trusted for TLS clients and system signatures).
    Ca,
    /// The archive's TLS server certificate.
    Server,
    /// The provider system's TLS client certificate.
    Client,
    /// The vendor's TLS client certificate (acting for the provider).
    Vendor,
    /// The provider's system-signature certificate.
    Signature,
    /// A TLS client certificate that expired yesterday.
    ExpiredClient,
    /// A CA nobody trusts.
    UnknownCa,
    /// A TLS client certificate issued by the unknown CA.
    UnknownClient,
    /// A system-signature certificate issued by the unknown CA.
    UnknownSignature,
    /// A system-signature certificate with key usage keyEncipherment only.
    BadUsageSignature,
    /// A TLS client certificate of an organisation unrelated to the sender.
    StrangerClient,
    /// The system-signature certificate of that organisation (the fixture's small provider),
    /// for its own submissions.
    StrangerSignature,
}

impl Role {
    /// Every role, in the order they are made.
    pub const ALL: [Role; 12] = [
        Role::Ca,
        Role::Server,
        Role::Client,
        Role::Vendor,
        Role::Signature,
        Role::ExpiredClient,
        Role::UnknownCa,
        Role::UnknownClient,
        Role::UnknownSignature,
        Role::BadUsageSignature,
        Role::StrangerClient,
        Role::StrangerSignature,
    ];

    /// The role whose file stem is `stem`.
    pub fn from_stem(stem: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.stem() == stem)
    }

    /// Every file stem, comma-separated, for messages that list the choices.
    pub fn stems() -> String {
        Role::ALL.map(Role::stem).join(", ")
    }

    /// The file stem, e.g. `expired-client`.
    pub fn stem(self) -> &'static str {
        match self {
            Role::Ca => "ca",
            Role::Server => "server",
            Role::Client => "client",
            Role::Vendor => "vendor",
            Role::Signature => "signature",
            Role::ExpiredClient => "expired-client",
            Role::UnknownCa => "unknown-ca",
            Role::UnknownClient => "unknown-client",
            Role::UnknownSignature => "unknown-signature",
            Role::BadUsageSignature => "bad-usage-signature",
            Role::StrangerClient => "stranger-client",
            Role::StrangerSignature => "stranger-signature",
        }
    }

    /// What the certificate is for, one line.
    pub fn purpose(self) -> &'static str {
        match self {
            Role::Ca => "test root CA: trusted for TLS clients and system signatures",
            Role::Server => "archive TLS server certificate",
            Role::Client => "provider system's TLS client certificate",
            Role::Vendor => "vendor's TLS client certificate, acting for the provider",
            Role::Signature => "provider's system-signature certificate (RSA 2048)",
            Role::ExpiredClient => "negative: expired TLS client certificate",
            Role::UnknownCa => "negative: a CA the archive does not trust",
            Role::UnknownClient => "negative: TLS client certificate from the unknown CA",
            Role::UnknownSignature => "negative: system-signature certificate from the unknown CA",
            Role::BadUsageSignature => {
                "negative: signature certificate without digitalSignature/nonRepudiation"
            }
            Role::StrangerClient => "negative: TLS client certificate of an unrelated organisation",
            Role::StrangerSignature => {
                "system-signature certificate of that unrelated organisation (EC P-256)"
            }
        }
    }
}

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
    /// rcgen refused to make a certificate.
    #[error("could not make the {role} certificate: {source}")]
    Generate {
        /// The role's stem.
        role: &'static str,
        /// The cause.
        source: rcgen::Error,
    },
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
        let made = make_all(spec)?;
        fs::create_dir_all(&dir).map_err(|cause| PkiError::Io {
            path: dir.clone(),
            cause,
        })?;
        let pki = Self { dir };
        let mut entries = Vec::new();
        for m in &made {
            let files = pki.files(m.role);
            write(&files.cert, &m.cert_pem)?;
            write_private(&files.key, &m.key_pem)?;
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

fn write_private(path: &Path, text: &str) -> Result<(), PkiError> {
    write(path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(|cause| {
            PkiError::Io {
                path: path.to_owned(),
                cause,
            }
        })?;
    }
    Ok(())
}

struct Made {
    role: Role,
    cert_pem: String,
    cert_der: Vec<u8>,
    key_pem: String,
}

/// The kind of key a certificate gets.
#[derive(Clone, Copy)]
enum KeyKind {
    /// ECDSA P-256: fast handshakes for TLS.
    EcP256,
    /// RSA 2048, as system-signature certificates are RSA at DVV.
    Rsa2048,
}

fn key(kind: KeyKind, role: Role) -> Result<KeyPair, PkiError> {
    let alg = match kind {
        KeyKind::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyKind::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
    };
    KeyPair::generate_for(alg).map_err(|source| PkiError::Generate {
        role: role.stem(),
        source,
    })
}

fn name(org: &str, cn: &str, oid: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "FI");
    dn.push(DnType::OrganizationName, org);
    if let Some(oid) = oid {
        // X.520 serialNumber (2.5.4.5): the organisation OID, as in DVV's certificates.
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 5]), oid);
    }
    dn.push(DnType::CommonName, cn);
    dn
}

fn params(dn: DistinguishedName, from: OffsetDateTime, until: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.not_before = from;
    p.not_after = until;
    p.use_authority_key_identifier_extension = true;
    p
}

fn ca_params(org: &str, cn: &str, now: OffsetDateTime) -> CertificateParams {
    let mut p = params(
        name(org, cn, None),
        now - Duration::days(1),
        now + Duration::days(3650),
    );
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(1));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p
}

fn tls_client(org: &OrgIdentity, from: OffsetDateTime, until: OffsetDateTime) -> CertificateParams {
    let mut p = params(name(&org.name, &org.system, Some(&org.oid)), from, until);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p
}

fn signature(
    org: &OrgIdentity,
    now: OffsetDateTime,
    usages: Vec<KeyUsagePurpose>,
) -> CertificateParams {
    let mut p = params(
        name(&org.name, &org.system, Some(&org.oid)),
        now - Duration::days(1),
        now + Duration::days(730),
    );
    p.key_usages = usages;
    p
}

fn make_all(spec: &PkiSpec) -> Result<Vec<Made>, PkiError> {
    let now = spec.now;
    let gen_err = |role: Role| {
        move |source| PkiError::Generate {
            role: role.stem(),
            source,
        }
    };
    let mut out = Vec::new();
    let mut push = |role: Role, cert: rcgen::Certificate, key: &KeyPair| {
        out.push(Made {
            role,
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
        });
    };

    let ca_key = key(KeyKind::EcP256, Role::Ca)?;
    let ca_p = ca_params(
        "Kantakoe TEST",
        "Kantakoe TEST Root CA for Social Welfare Service Certs",
        now,
    );
    let ca_cert = ca_p.self_signed(&ca_key).map_err(gen_err(Role::Ca))?;
    let ca = Issuer::from_params(&ca_p, &ca_key);
    push(Role::Ca, ca_cert, &ca_key);

    let unknown_key = key(KeyKind::EcP256, Role::UnknownCa)?;
    let unknown_p = ca_params(
        "Tuntematon TEST",
        "Unknown TEST CA (not trusted by the archive)",
        now,
    );
    let unknown_cert = unknown_p
        .self_signed(&unknown_key)
        .map_err(gen_err(Role::UnknownCa))?;
    let unknown = Issuer::from_params(&unknown_p, &unknown_key);

    // Server certificate: SANs localhost, 127.0.0.1, ::1 and the extra hosts.
    let server_key = key(KeyKind::EcP256, Role::Server)?;
    let mut sans = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    sans.extend(spec.hosts.iter().cloned());
    let mut server_p = params(
        name("Kantakoe TEST", "Kantakoe mock archive", None),
        now - Duration::days(1),
        now + Duration::days(825),
    );
    server_p.subject_alt_names = sans
        .iter()
        .map(|h| match h.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => h.clone().try_into().map(SanType::DnsName),
        })
        .collect::<Result<_, _>>()
        .map_err(gen_err(Role::Server))?;
    server_p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server_p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_p
        .signed_by(&server_key, &ca)
        .map_err(gen_err(Role::Server))?;
    push(Role::Server, server_cert, &server_key);

    let year = Duration::days(365);
    let client_key = key(KeyKind::EcP256, Role::Client)?;
    let c = tls_client(&spec.provider, now - Duration::days(1), now + year)
        .signed_by(&client_key, &ca)
        .map_err(gen_err(Role::Client))?;
    push(Role::Client, c, &client_key);

    let vendor_key = key(KeyKind::EcP256, Role::Vendor)?;
    let c = tls_client(&spec.vendor, now - Duration::days(1), now + year)
        .signed_by(&vendor_key, &ca)
        .map_err(gen_err(Role::Vendor))?;
    push(Role::Vendor, c, &vendor_key);

    let sig_key = key(KeyKind::Rsa2048, Role::Signature)?;
    let c = signature(&spec.provider, now, good_signature_usage())
        .signed_by(&sig_key, &ca)
        .map_err(gen_err(Role::Signature))?;
    push(Role::Signature, c, &sig_key);

    let expired_key = key(KeyKind::EcP256, Role::ExpiredClient)?;
    let c = tls_client(
        &spec.provider,
        now - Duration::days(400),
        now - Duration::days(1),
    )
    .signed_by(&expired_key, &ca)
    .map_err(gen_err(Role::ExpiredClient))?;
    push(Role::ExpiredClient, c, &expired_key);

    push(Role::UnknownCa, unknown_cert, &unknown_key);

    let uc_key = key(KeyKind::EcP256, Role::UnknownClient)?;
    let c = tls_client(&spec.provider, now - Duration::days(1), now + year)
        .signed_by(&uc_key, &unknown)
        .map_err(gen_err(Role::UnknownClient))?;
    push(Role::UnknownClient, c, &uc_key);

    let us_key = key(KeyKind::Rsa2048, Role::UnknownSignature)?;
    let c = signature(&spec.provider, now, good_signature_usage())
        .signed_by(&us_key, &unknown)
        .map_err(gen_err(Role::UnknownSignature))?;
    push(Role::UnknownSignature, c, &us_key);

    let bu_key = key(KeyKind::Rsa2048, Role::BadUsageSignature)?;
    let c = signature(&spec.provider, now, vec![KeyUsagePurpose::KeyEncipherment])
        .signed_by(&bu_key, &ca)
        .map_err(gen_err(Role::BadUsageSignature))?;
    push(Role::BadUsageSignature, c, &bu_key);

    let st_key = key(KeyKind::EcP256, Role::StrangerClient)?;
    let c = tls_client(&spec.stranger, now - Duration::days(1), now + year)
        .signed_by(&st_key, &ca)
        .map_err(gen_err(Role::StrangerClient))?;
    push(Role::StrangerClient, c, &st_key);

    let ss_key = key(KeyKind::EcP256, Role::StrangerSignature)?;
    let c = signature(&spec.stranger, now, good_signature_usage())
        .signed_by(&ss_key, &ca)
        .map_err(gen_err(Role::StrangerSignature))?;
    push(Role::StrangerSignature, c, &ss_key);

    Ok(out)
}

/// Key usages of a good system-signature certificate.
fn good_signature_usage() -> Vec<KeyUsagePurpose> {
    vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ]
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
