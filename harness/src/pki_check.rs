//! `kantakoe pki check`: is a test PKI directory still what its manifest says? For every
//! certificate of the manifest: readable, valid now (a warning under 30 days), issued by the
//! PKI's CA (or, for the negative ones, deliberately not), the key usage its job needs, and
//! the organisation OID in its subject known to the organisation fixture (the vendor acting for
//! the provider, the stranger not). Negative certificates are checked to be negative in the
//! intended way, so a rehearsal's negative steps still test what they claim.
//!
//! Pure over the files it reads: no network.

use std::fmt;
use std::path::Path;

use mock_archive::cert::CertInfo;
use mock_archive::orgs::Registry;
use mock_archive::signature::{certificates_from_pem, check_issuer};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::pki::{Pki, Role};

/// A certificate expiring sooner than this many days gets a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// As it should be.
    Ok,
    /// Works today, needs attention soon.
    Warning,
    /// Not what the role needs: a rehearsal using it would not test what it claims.
    Problem,
}

/// What was found about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The certificate file (relative to the PKI directory).
    pub file: String,
    /// How serious.
    pub severity: Severity,
    /// What, in words.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Ok => "ok",
            Severity::Warning => "warning",
            Severity::Problem => "PROBLEM",
        };
        write!(f, "{tag:<8}{}: {}", self.file, self.message)
    }
}

/// The findings of one check, in manifest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// One or more per certificate.
    pub findings: Vec<Finding>,
}

impl Report {
    /// How many findings are problems.
    pub fn problems(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Problem)
            .count()
    }

    /// The report as people read it, ending with one result line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&format!("{f}\n"));
        }
        let n = self.problems();
        let warnings = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count();
        match (n, warnings) {
            (0, 0) => out.push_str("result: OK\n"),
            (0, w) => out.push_str(&format!(
                "result: OK with {w} warning{}\n",
                if w == 1 { "" } else { "s" }
            )),
            (n, _) => out.push_str(&format!(
                "result: {n} problem{}\n",
                if n == 1 { "" } else { "s" }
            )),
        }
        out
    }
}

/// One certificate as read from its file.
struct Read {
    der: Vec<u8>,
    info: CertInfo,
    server_auth: bool,
    client_auth: bool,
}

fn read(path: &Path) -> Result<Read, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let der = certificates_from_pem(&pem)
        .map_err(|e| format!("not a PEM certificate: {e}"))?
        .into_iter()
        .next()
        .ok_or_else(|| "no certificate in the file".to_owned())?;
    let info = CertInfo::from_der(&der).map_err(|e| e.to_string())?;
    let (_, cert) = X509Certificate::from_der(&der).map_err(|e| e.to_string())?;
    let eku = cert.extended_key_usage().ok().flatten().map(|e| e.value);
    Ok(Read {
        server_auth: eku.is_some_and(|e| e.server_auth),
        client_auth: eku.is_some_and(|e| e.client_auth),
        der,
        info,
    })
}

fn date(t: OffsetDateTime) -> String {
    t.date().to_string()
}

/// Checks every certificate of `pki` at `now` against the organisation fixture `fixture`.
pub fn check(
    pki: &Pki,
    fixture: &Registry,
    now: OffsetDateTime,
) -> Result<Report, crate::pki::PkiError> {
    let manifest = pki.manifest()?;
    let mut findings = Vec::new();
    let file_of = |role: Role| {
        manifest
            .entries
            .iter()
            .find(|e| e.role == role)
            .map_or_else(|| format!("{}.pem", role.stem()), |e| e.cert.clone())
    };
    let load = |role: Role| read(&pki.dir().join(file_of(role)));
    let ca = load(Role::Ca).ok();
    let unknown_ca = load(Role::UnknownCa).ok();
    let provider = load(Role::Client)
        .ok()
        .and_then(|c| c.info.organisation_oid);
    let org_name = |oid: &str| fixture.organisation(oid).map(|o| o.name.clone());

    for entry in &manifest.entries {
        let role = entry.role;
        let file = entry.cert.clone();
        let mut say = |severity, message: String| {
            findings.push(Finding {
                file: file.clone(),
                severity,
                message,
            });
        };
        let cert = match read(&pki.dir().join(&entry.cert)) {
            Ok(c) => c,
            Err(e) => {
                say(Severity::Problem, e);
                continue;
            }
        };
        let info = &cert.info;
        let mut problems: Vec<String> = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
        let negative_expired = role == Role::ExpiredClient;
        // Validity.
        if negative_expired {
            if info.valid_at(now) {
                problems.push(format!(
                    "meant to be expired, but valid until {}",
                    date(info.not_after)
                ));
            }
        } else if !info.valid_at(now) {
            problems.push(format!(
                "not valid now (valid {} to {})",
                date(info.not_before),
                date(info.not_after)
            ));
        } else if info.not_after - now < Duration::days(EXPIRY_WARNING_DAYS) {
            warnings.push(format!(
                "expires in {} days, on {}",
                (info.not_after - now).whole_days(),
                date(info.not_after)
            ));
        }
        // Issuer.
        let issuer_check = |ca: Option<&Read>, name: &str| -> Result<(), String> {
            match ca {
                Some(ca) => check_issuer(&cert.der, &ca.der),
                None => Err(format!("{name} cannot be read")),
            }
        };
        match role {
            Role::Ca | Role::UnknownCa => {
                if !info.is_ca {
                    problems.push("not a CA certificate (basic constraints)".to_owned());
                }
                if let Err(why) = check_issuer(&cert.der, &cert.der) {
                    problems.push(format!("not self-signed: {why}"));
                }
                if role == Role::UnknownCa
                    && let Some(ca) = &ca
                    && ca.der == cert.der
                {
                    problems
                        .push("meant to be a CA nobody trusts, but it is the PKI's CA".to_owned());
                }
            }
            Role::UnknownClient | Role::UnknownSignature => {
                if let Err(why) = issuer_check(unknown_ca.as_ref(), "unknown-ca.pem") {
                    problems.push(format!("not issued by unknown-ca.pem: {why}"));
                }
                if issuer_check(ca.as_ref(), "ca.pem").is_ok() {
                    problems.push(
                        "meant to come from a CA nobody trusts, but the PKI's CA issued it"
                            .to_owned(),
                    );
                }
            }
            _ => {
                if let Err(why) = issuer_check(ca.as_ref(), "ca.pem") {
                    problems.push(format!("not issued by the PKI's CA (ca.pem): {why}"));
                }
            }
        }
        // Key usage.
        let signs = info
            .key_usage
            .is_some_and(|k| k.digital_signature || k.non_repudiation);
        match role {
            Role::Server if !cert.server_auth => {
                problems.push("no extended key usage serverAuth (TLS server)".to_owned());
            }
            Role::Client
            | Role::Vendor
            | Role::ExpiredClient
            | Role::UnknownClient
            | Role::StrangerClient
            | Role::CountyClient
                if !cert.client_auth =>
            {
                problems.push("no extended key usage clientAuth (TLS client)".to_owned());
            }
            Role::Signature
            | Role::UnknownSignature
            | Role::StrangerSignature
            | Role::CountySignature
                if !signs =>
            {
                problems.push(
                    "key usage has neither digitalSignature nor nonRepudiation (a system signature needs one)"
                        .to_owned(),
                );
            }
            Role::BadUsageSignature if signs => problems
                .push("meant to lack digitalSignature and nonRepudiation, but has one".to_owned()),
            _ => {}
        }
        // Organisation OID against the fixture.
        let carries_org = !matches!(role, Role::Ca | Role::UnknownCa | Role::Server);
        let mut org_text = String::new();
        if carries_org {
            match info.organisation_oid.as_deref() {
                None => {
                    problems.push("no organisation OID in the subject's serialNumber".to_owned())
                }
                Some(oid) => match org_name(oid) {
                    None => problems.push(format!(
                        "organisation OID {oid} is not an organisation of the fixture"
                    )),
                    Some(name) => {
                        org_text = format!("; organisation {oid} ({name})");
                        if let Some(p) = provider.as_deref() {
                            match role {
                                Role::Vendor if !fixture.may_connect_for(oid, p) => problems.push(
                                    format!("the fixture does not register {oid} as a vendor acting for {p}"),
                                ),
                                Role::StrangerClient if fixture.may_connect_for(oid, p) => problems.push(
                                    format!("meant to be unrelated to {p}, but the fixture lets {oid} connect for it"),
                                ),
                                _ => {}
                            }
                        }
                    }
                },
            }
        }
        if problems.is_empty() && warnings.is_empty() {
            say(
                Severity::Ok,
                format!(
                    "{}; valid until {}{org_text}",
                    role.purpose(),
                    date(info.not_after)
                ),
            );
        }
        for w in warnings {
            say(Severity::Warning, w);
        }
        for p in problems {
            say(Severity::Problem, p);
        }
    }
    Ok(Report { findings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::PkiSpec;

    fn fixture() -> Registry {
        Registry::from_toml_str(mock_archive::config::BUNDLED_ORGS, "orgs.toml").unwrap()
    }

    #[test]
    fn a_fresh_pki_checks_out_and_problems_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::init(dir.path(), &PkiSpec::default(), false).unwrap();
        let now = OffsetDateTime::now_utc();
        let report = check(&pki, &fixture(), now).unwrap();
        assert_eq!(report.problems(), 0, "{}", report.render());
        assert_eq!(report.findings.len(), Role::ALL.len());
        assert!(
            report.render().ends_with("result: OK\n"),
            "{}",
            report.render()
        );

        // Ten years on everything has expired; the expired one is still as meant.
        let later = check(&pki, &fixture(), now + Duration::days(3650)).unwrap();
        let text = later.render();
        assert!(
            text.contains("PROBLEM client.pem: not valid now (valid "),
            "{text}"
        );
        assert!(!text.contains("PROBLEM expired-client.pem"), "{text}");
        assert!(
            text.contains(
                "ok      expired-client.pem: negative: expired TLS client certificate; valid until "
            ),
            "{text}"
        );

        // A certificate swapped for another role's, and a fixture without the vendor.
        std::fs::copy(
            dir.path().join("unknown-client.pem"),
            dir.path().join("client.pem"),
        )
        .unwrap();
        let text = check(&pki, &fixture(), now).unwrap().render();
        assert!(
            text.contains("PROBLEM client.pem: not issued by the PKI's CA (ca.pem): its issuer is not that CA's subject\n"),
            "{text}"
        );
        std::fs::remove_file(dir.path().join("signature.pem")).unwrap();
        let text = check(&pki, &fixture(), now).unwrap().render();
        assert!(
            text.contains(
                "PROBLEM signature.pem: cannot read it: No such file or directory (os error 2)\n"
            ),
            "{text}"
        );
        assert!(text.ends_with(" problems\n"), "{text}");
    }

    #[test]
    fn organisation_oids_are_checked_against_the_fixture() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::init(dir.path(), &PkiSpec::default(), false).unwrap();
        let empty = Registry::from_toml_str("", "empty.toml").unwrap();
        let text = check(&pki, &empty, OffsetDateTime::now_utc())
            .unwrap()
            .render();
        assert!(
            text.contains(&format!(
                "PROBLEM client.pem: organisation OID {} is not an organisation of the fixture\n",
                crate::pki::scenario::PROVIDER_OID
            )),
            "{text}"
        );
    }
}
