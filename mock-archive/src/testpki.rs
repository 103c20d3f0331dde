//! A test PKI made in memory: a root CA, the archive's TLS server certificate, TLS client
//! certificates for the provider's system and a vendor acting for it, a system-signature
//! certificate, and the negative certificates tests need (expired, unknown CA, wrong key usage,
//! a stranger). The one generator of the project: `kantakoe pki init` writes what it makes to
//! a directory, and a vendor's Rust test uses it directly:
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use mock_archive::{MockArchive, TestPki};
//! use mock_archive::testpki::Role;
//!
//! let pki = TestPki::generate()?;
//! let archive = MockArchive::builder().test_pki(&pki).start().await?;
//! // Your system connects to archive.url() with pki.cert_pem(Role::Client) and
//! // pki.key_pem(Role::Client), trusting pki.cert_pem(Role::Ca), and signs with Role::Signature.
//! # Ok(()) }
//! ```
//!
//! The certificates imitate DVV's test "sote-palveluvarmenteet" in shape (subject `O`, `CN` =
//! system name, `serialNumber` = organisation OID), but are plainly marked as Kantakoe test
//! certificates: they are never DVV's and never valid anywhere but here.

use std::fs;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

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
    /// The wellbeing services county that buys services from the provider and also serves
    /// clients of its own (its system stores into its own register).
    pub county: OrgIdentity,
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
    /// The wellbeing services county (public organiser) of the provider's purchased-service
    /// and voucher clients, which also serves clients of its own.
    pub const COUNTY_OID: &str = "2.999.5851.2.2";
    /// The county's name (fictional test data).
    pub const COUNTY_NAME: &str = "Testilän hyvinvointialue (TESTIAINEISTO)";
    /// The county's system name.
    pub const COUNTY_SYSTEM: &str = "Testilän Sosiaalihuollon Järjestelmä";
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
            county: OrgIdentity {
                oid: COUNTY_OID.into(),
                name: COUNTY_NAME.into(),
                system: COUNTY_SYSTEM.into(),
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
    /// The wellbeing services county's TLS client certificate: its own system, storing its
    /// own clients' documents into its own register.
    CountyClient,
    /// The county's system-signature certificate (RSA 2048).
    CountySignature,
}

impl Role {
    /// Every role, in the order they are made.
    pub const ALL: [Role; 14] = [
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
        Role::CountyClient,
        Role::CountySignature,
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
            Role::CountyClient => "county-client",
            Role::CountySignature => "county-signature",
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
            Role::CountyClient => {
                "wellbeing services county's TLS client certificate (own clients)"
            }
            Role::CountySignature => "county's system-signature certificate (RSA 2048)",
        }
    }
}

/// rcgen refused to make a certificate.
#[derive(Debug, thiserror::Error)]
#[error("could not make the {role} certificate: {source}")]
pub struct GenerateError {
    /// The role's file stem.
    pub role: &'static str,
    /// The cause.
    #[source]
    pub source: rcgen::Error,
}

/// One certificate of a [`TestPki`] with its key.
#[derive(Debug, Clone)]
pub struct TestCertificate {
    /// Its role.
    pub role: Role,
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
}

/// A whole test PKI in memory: one certificate and key for every [`Role`].
#[derive(Debug, Clone)]
pub struct TestPki {
    made: Vec<TestCertificate>,
    now: OffsetDateTime,
}

impl TestPki {
    /// Makes a PKI for the bundled scenario's organisations ([`PkiSpec::default`]), valid from
    /// a day ago. RSA key generation makes this take a moment in debug builds.
    pub fn generate() -> Result<Self, GenerateError> {
        Self::generate_with(&PkiSpec::default())
    }

    /// Makes a PKI for `spec`.
    pub fn generate_with(spec: &PkiSpec) -> Result<Self, GenerateError> {
        Ok(Self {
            made: make_all(spec)?,
            now: spec.now,
        })
    }

    /// Every certificate, in the order they were made.
    pub fn certificates(&self) -> &[TestCertificate] {
        &self.made
    }

    /// The "now" the PKI was made for.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    fn get(&self, role: Role) -> &TestCertificate {
        self.made
            .iter()
            .find(|m| m.role == role)
            .expect("a TestPki holds every role")
    }

    /// The certificate of `role`, PEM.
    pub fn cert_pem(&self, role: Role) -> &str {
        &self.get(role).cert_pem
    }

    /// The certificate of `role`, DER.
    pub fn cert_der(&self, role: Role) -> &[u8] {
        &self.get(role).cert_der
    }

    /// The private key of `role`, PKCS#8 PEM.
    pub fn key_pem(&self, role: Role) -> &str {
        &self.get(role).key_pem
    }

    /// Writes `<role>.pem` and `<role>.key.pem` (mode 0600) for every role into `dir`, making
    /// it if needed: the file layout of `kantakoe pki init` without its manifest.
    pub fn write_pem_files(&self, dir: &Path) -> Result<(), WriteError> {
        let at = |path: &Path| {
            let path = path.to_owned();
            move |source| WriteError { path, source }
        };
        fs::create_dir_all(dir).map_err(at(dir))?;
        for m in &self.made {
            let cert = dir.join(format!("{}.pem", m.role.stem()));
            fs::write(&cert, &m.cert_pem).map_err(at(&cert))?;
            let key = dir.join(format!("{}.key.pem", m.role.stem()));
            fs::write(&key, &m.key_pem).map_err(at(&key))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).map_err(at(&key))?;
            }
        }
        Ok(())
    }
}

/// A PEM file of a [`TestPki`] could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct WriteError {
    /// The file or directory.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// The kind of key a certificate gets.
#[derive(Clone, Copy)]
enum KeyKind {
    /// ECDSA P-256: fast handshakes for TLS.
    EcP256,
    /// RSA 2048, as system-signature certificates are RSA at DVV.
    Rsa2048,
}

fn key(kind: KeyKind, role: Role) -> Result<KeyPair, GenerateError> {
    let alg = match kind {
        KeyKind::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyKind::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
    };
    KeyPair::generate_for(alg).map_err(|source| GenerateError {
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

fn make_all(spec: &PkiSpec) -> Result<Vec<TestCertificate>, GenerateError> {
    let now = spec.now;
    let gen_err = |role: Role| {
        move |source| GenerateError {
            role: role.stem(),
            source,
        }
    };
    let mut out = Vec::new();
    let mut push = |role: Role, cert: rcgen::Certificate, key: &KeyPair| {
        out.push(TestCertificate {
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

    let cc_key = key(KeyKind::EcP256, Role::CountyClient)?;
    let c = tls_client(&spec.county, now - Duration::days(1), now + year)
        .signed_by(&cc_key, &ca)
        .map_err(gen_err(Role::CountyClient))?;
    push(Role::CountyClient, c, &cc_key);

    let cs_key = key(KeyKind::Rsa2048, Role::CountySignature)?;
    let c = signature(&spec.county, now, good_signature_usage())
        .signed_by(&cs_key, &ca)
        .map_err(gen_err(Role::CountySignature))?;
    push(Role::CountySignature, c, &cs_key);

    Ok(out)
}

/// Key usages of a good system-signature certificate.
fn good_signature_usage() -> Vec<KeyUsagePurpose> {
    vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ]
}
