//! The system signature against an independent oracle, both ways: documents signed by
//! Kantakoe verify with `xmlsec1`, and documents signed by `xmlsec1` from Kantakoe's template
//! verify in Kantakoe, over CDA variants that stress canonicalization. Then every failure the
//! verifier reports, each with its exact code, and the CLI.
//!
//! Keys and certificates are made here with rcgen (RSA 2048 and EC P-256) in a tempdir.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kanta_profile::signature::{
    self, Entitlement, ProblemCode, Signer, TemplateOptions, Trust, Verification, VerifyOptions,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SignatureAlgorithm,
};
use time::OffsetDateTime;
use time::macros::datetime;

/// The organisation that signs the test documents (their custodian; authors are nullFlavor).
const ORG: &str = "1.2.246.10.99999901.10.0";
/// Another organisation, e.g. a system vendor.
const OTHER_ORG: &str = "1.2.246.10.99999902.10.0";
/// The signature timestamp used throughout.
const SIGNED_AT: OffsetDateTime = datetime!(2026-03-02 10:00:00 UTC);

// ---------------------------------------------------------------------------------------
// Test PKI
// ---------------------------------------------------------------------------------------

/// A CA and a signer certificate written to a tempdir.
struct Pki {
    _dir: tempfile::TempDir,
    ca_pem: PathBuf,
    ca_der: Vec<u8>,
    cert_pem: PathBuf,
    key_pem: PathBuf,
}

impl Pki {
    fn signer(&self) -> Signer {
        Signer::from_pem(
            &std::fs::read(&self.cert_pem).unwrap(),
            &std::fs::read(&self.key_pem).unwrap(),
        )
        .unwrap()
    }

    fn options(&self) -> VerifyOptions {
        VerifyOptions::with_cas(vec![self.ca_der.clone()])
    }
}

/// What the signer certificate looks like.
struct CertSpec {
    alg: &'static SignatureAlgorithm,
    org: &'static str,
    usages: Vec<KeyUsagePurpose>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl CertSpec {
    fn good(alg: &'static SignatureAlgorithm) -> Self {
        Self {
            alg,
            org: ORG,
            usages: vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ],
            not_before: datetime!(2025-01-01 00:00:00 UTC),
            not_after: datetime!(2035-01-01 00:00:00 UTC),
        }
    }
}

fn make_pki(spec: CertSpec, ca_name: &str) -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate_for(spec.alg).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "Kantakoe TEST");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = datetime!(2024-01-01 00:00:00 UTC);
    ca_params.not_after = datetime!(2040-01-01 00:00:00 UTC);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let key = KeyPair::generate_for(spec.alg).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CountryName, "FI");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Testiorganisaatio");
    params
        .distinguished_name
        .push(DnType::CustomDnType(vec![2, 5, 4, 5]), spec.org);
    params
        .distinguished_name
        .push(DnType::CommonName, "Asiakastietojärjestelmä");
    params.key_usages = spec.usages;
    params.not_before = spec.not_before;
    params.not_after = spec.not_after;
    let cert = params.signed_by(&key, &issuer).unwrap();

    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    Pki {
        ca_pem: write("ca.pem", &ca_cert.pem()),
        ca_der: ca_cert.der().to_vec(),
        cert_pem: write("signature.pem", &cert.pem()),
        key_pem: write("signature.key.pem", &key.serialize_pem()),
        _dir: dir,
    }
}

/// Root CA → intermediate CA → signer (EC P-256); the signer PEM carries the intermediate.
fn make_chain_pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let alg = &rcgen::PKCS_ECDSA_P256_SHA256;
    let ca = |name: &str| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p.not_before = datetime!(2024-01-01 00:00:00 UTC);
        p.not_after = datetime!(2040-01-01 00:00:00 UTC);
        p
    };
    let root_key = KeyPair::generate_for(alg).unwrap();
    let root_params = ca("Kantakoe TEST Root");
    let root_cert = root_params.self_signed(&root_key).unwrap();
    let root = Issuer::new(root_params, root_key);
    let mid_key = KeyPair::generate_for(alg).unwrap();
    let mid_params = ca("Kantakoe TEST Intermediate");
    let mid_cert = mid_params.signed_by(&mid_key, &root).unwrap();
    let mid = Issuer::new(mid_params, mid_key);
    let key = KeyPair::generate_for(alg).unwrap();
    let spec = CertSpec::good(alg);
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CustomDnType(vec![2, 5, 4, 5]), spec.org);
    params
        .distinguished_name
        .push(DnType::CommonName, "Ketjutettu");
    params.key_usages = spec.usages;
    params.not_before = spec.not_before;
    params.not_after = spec.not_after;
    let cert = params.signed_by(&key, &mid).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    Pki {
        ca_pem: write("ca.pem", &root_cert.pem()),
        ca_der: root_cert.der().to_vec(),
        cert_pem: write(
            "signature.pem",
            &format!("{}{}", cert.pem(), mid_cert.pem()),
        ),
        key_pem: write("signature.key.pem", &key.serialize_pem()),
        _dir: dir,
    }
}

fn rsa() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        make_pki(
            CertSpec::good(&rcgen::PKCS_RSA_SHA256),
            "Kantakoe TEST RSA CA",
        )
    })
}

fn ec() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        make_pki(
            CertSpec::good(&rcgen::PKCS_ECDSA_P256_SHA256),
            "Kantakoe TEST EC CA",
        )
    })
}

// ---------------------------------------------------------------------------------------
// Test documents
// ---------------------------------------------------------------------------------------

/// CDA shapes that stress canonicalization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// The 2026 social welfare shape: default namespaces, nonXMLBody with base64 XHTML.
    Plain,
    /// The HUS 2017 shape: a structuredBody.
    Structured,
    /// Every CDA element prefixed (`cda:`), the prefixes declared on the root only, an unused
    /// namespace declared too.
    AncestorPrefixes,
    /// `xsi:type` values with prefixes (`cda:CD`) that exclusive C14N does not render.
    XsiTypePrefixes,
    /// Attributes in odd orders, namespaced attributes (`xml:lang`, a foreign one).
    AttributeOrder,
    /// Indentation, tabs, spaces inside tags, whitespace-only text.
    Whitespace,
    /// CRLF line ends everywhere, including inside attribute values and the base64 text.
    Crlf,
    /// Non-ASCII text and attributes, character and entity references.
    NonAscii,
}

const VARIANTS: [Variant; 8] = [
    Variant::Plain,
    Variant::Structured,
    Variant::AncestorPrefixes,
    Variant::XsiTypePrefixes,
    Variant::AttributeOrder,
    Variant::Whitespace,
    Variant::Crlf,
    Variant::NonAscii,
];

fn xhtml_b64() -> String {
    let xhtml = "<div xmlns=\"http://www.w3.org/1999/xhtml\" class=\"soc-document\">\
                 <p>Asiakkuusasiakirja – testi</p></div>";
    let b64 = STANDARD.encode(xhtml);
    // Wrapped at 40 characters, as many clients do.
    b64.as_bytes()
        .chunks(40)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A structured body with `n` sections (about 600 bytes each).
fn structured_body(p: &str, n: usize, xsi_type: &str) -> String {
    let mut s = format!("<{p}structuredBody>");
    for i in 0..n {
        s.push_str(&format!(
            "<{p}component><{p}section><{p}id root=\"1.2.246.10.99999901.16.{i}\"/>\
             <{p}title>Palvelutarpeen arviointi {i}</{p}title>\
             <{p}text><{p}paragraph>Asiakkaan tilanne kartoitettu &amp; suunnitelma laadittu \
             (kohta {i}): ei muutoksia &lt;aiempaan&gt;.</{p}paragraph></{p}text>\
             <{p}entry><{p}observation classCode=\"OBS\" moodCode=\"EVN\">\
             <{p}code code=\"{i}\" codeSystem=\"1.2.246.537.6.12.2002\"/>\
             <{p}value xsi:type=\"{xsi_type}\" code=\"1\" codeSystem=\"1.2.246.537.6.1505.201601\" \
             displayName=\"Asiakkuusasiakirja\"/></{p}observation></{p}entry>\
             </{p}section></{p}component>"
        ));
    }
    s.push_str(&format!("</{p}structuredBody>"));
    s
}

fn cda(variant: Variant) -> String {
    let p = if variant == Variant::AncestorPrefixes || variant == Variant::XsiTypePrefixes {
        "cda:"
    } else {
        ""
    };
    let root_ns = if p.is_empty() {
        "xmlns=\"urn:hl7-org:v3\"".to_owned()
    } else {
        "xmlns:cda=\"urn:hl7-org:v3\" xmlns:unused=\"urn:example:unused\"".to_owned()
    };
    let body = match variant {
        Variant::Structured | Variant::XsiTypePrefixes => {
            structured_body(p, 3, if p.is_empty() { "CD" } else { "cda:CD" })
        }
        Variant::AncestorPrefixes => format!(
            "<{p}nonXMLBody><{p}text mediaType=\"application/xhtml+xml\" \
             representation=\"B64\">{}</{p}text></{p}nonXMLBody>",
            xhtml_b64()
        ),
        Variant::AttributeOrder => format!(
            "<nonXMLBody xmlns:z=\"urn:example:z\" z:b=\"2\" classCode=\"DOCBODY\" z:a=\"1\" \
             xml:lang=\"fi\" moodCode=\"EVN\"><text representation=\"B64\" \
             mediaType=\"application/xhtml+xml\" z:c=\"3\">{}</text><z:ext><plain xmlns=\"\" \
             b=\"1\" a=\"2\"/></z:ext></nonXMLBody>",
            xhtml_b64()
        ),
        Variant::Whitespace => format!(
            "\n\t\t<nonXMLBody  >\n\t\t\t<!-- kommentti -->\n\t\t\t<text\tmediaType = \"application/xhtml+xml\"\n\t\t\t\
             representation='B64' >\n{}\n\t\t\t</text >\n<?kantakoe  ohje=\"1\" ?>   \t\t</nonXMLBody>\n\t",
            xhtml_b64()
        ),
        Variant::NonAscii => format!(
            "<structuredBody><component><section><title>Sosiaalihuollon salassapidettävä ☃ 𝄞 \
             &#xE4;&#228;</title><text><paragraph styleCode=\"Bold\" ID=\"p1\">Åsa &amp; \
             Örjan &gt; 5 ’quote’ &quot;{}&quot;&#13;<![CDATA[a < b & c]]></paragraph><content \
             xml:lang=\"sv\" revised=\"insert\">Tjänst: “vård” — ok</content></text>\
             <entry><observation classCode=\"OBS\" moodCode=\"EVN\"><value \
             xsi:type=\"ST\">Ääkkösiä: ÅÄÖ åäö €</value></observation></entry></section>\
             </component></structuredBody>",
            "ilmoitus"
        ),
        Variant::Plain | Variant::Crlf => format!(
            "<nonXMLBody><text mediaType=\"application/xhtml+xml\" \
             representation=\"B64\">{}</text></nonXMLBody>",
            xhtml_b64()
        ),
    };
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<{p}ClinicalDocument {root_ns} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	<{p}realmCode code="FI"/>
	<{p}typeId extension="POCD_HD000040" root="2.16.840.1.113883.1.3"/>
	<!-- Asiakirjan yksilöintitunnus -->
	<{p}id root="1.2.246.10.99999901.95777.2026.1"/>
	<{p}code nullFlavor="NA"/>
	<{p}effectiveTime value="20260302120000+0200"/>
	<{p}confidentialityCode code="6" codeSystem="1.2.246.777.5.99902.2006"/>
	<{p}languageCode code="fi"/>
	<{p}setId root="1.2.246.10.99999901.95777.2026.1"/>
	<{p}versionNumber value="1"/>
	<{p}recordTarget><{p}patientRole><{p}id root="1.2.246.21" extension="010101A900R"/></{p}patientRole></{p}recordTarget>
	<{p}author><{p}time nullFlavor="NA"/><{p}assignedAuthor><{p}id nullFlavor="NA"/></{p}assignedAuthor></{p}author>
	<{p}custodian><{p}assignedCustodian><{p}representedCustodianOrganization><{p}id root="{ORG}"/><{p}name>Testiorganisaatio</{p}name></{p}representedCustodianOrganization></{p}assignedCustodian></{p}custodian>
	<hl7fi:localSocialHeader xmlns:hl7fi="urn:hl7finland">
		<hl7fi:creationTime value="20260302120000+0200"/>
		<hl7fi:recordStatus code="3" codeSystem="1.2.246.537.5.40154.2008"/>
	</hl7fi:localSocialHeader>
	<{p}component>{body}</{p}component>
</{p}ClinicalDocument>
"#
    );
    if variant == Variant::Crlf {
        // Also a CR+LF inside an attribute value (normalized to one space by the parser).
        doc.replace("code=\"FI\"", "code=\"FI\"\ncodeSystemName=\"a\nb\"")
            .replace('\n', "\r\n")
    } else {
        doc
    }
}

/// Changes one character inside the body text.
fn tamper_body(signed: &str, variant: Variant) -> String {
    let needle = match variant {
        Variant::Structured | Variant::XsiTypePrefixes => "kartoitettu",
        Variant::NonAscii => "Örjan",
        _ => "PGRpdi",
    };
    assert!(
        signed.contains(needle),
        "{variant:?}: no {needle} in the body"
    );
    let replacement: String = needle
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 1 {
                if c == 'X' { 'Y' } else { 'X' }
            } else {
                c
            }
        })
        .collect();
    signed.replacen(needle, &replacement, 1)
}

// ---------------------------------------------------------------------------------------
// xmlsec1
// ---------------------------------------------------------------------------------------

const ID_ATTRS: [&str; 6] = [
    "--id-attr:ID",
    "urn:hl7finland:signatureTimestamp",
    "--id-attr:ID",
    "urn:hl7-org:v3:nonXMLBody",
    "--id-attr:ID",
    "urn:hl7-org:v3:structuredBody",
];

fn xmlsec1() -> Command {
    let probe = Command::new("xmlsec1").arg("--version").output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "xmlsec1 is required for the oracle tests (Debian package xmlsec1)"
    );
    Command::new("xmlsec1")
}

/// Verifies `file` with xmlsec1, trusting `ca`; returns (success, output).
fn xmlsec1_verify(file: &Path, ca: &Path) -> (bool, String) {
    let out = xmlsec1()
        .arg("--verify")
        .args(["--trusted-pem", ca.to_str().unwrap()])
        .args(ID_ATTRS)
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), text)
}

/// Signs template `file` with xmlsec1; returns the signed bytes.
fn xmlsec1_sign(file: &Path, pki: &Pki) -> Vec<u8> {
    let out = xmlsec1()
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(format!(
            "{},{}",
            pki.key_pem.display(),
            pki.cert_pem.display()
        ))
        .args(ID_ATTRS)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmlsec1 --sign failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn codes(v: &Verification) -> Vec<&'static str> {
    v.problems.iter().map(|p| p.code.as_str()).collect()
}

// ---------------------------------------------------------------------------------------
// Oracle, both ways
// ---------------------------------------------------------------------------------------

fn kantakoe_signed_verifies_with_xmlsec1(pki: &Pki) {
    let signer = pki.signer();
    let dir = tempfile::tempdir().unwrap();
    for variant in VARIANTS {
        let signed = signature::sign(cda(variant).as_bytes(), &signer, SIGNED_AT).unwrap();
        let file = dir.path().join(format!("{variant:?}.xml"));
        std::fs::write(&file, &signed).unwrap();
        let (ok, out) = xmlsec1_verify(&file, &pki.ca_pem);
        assert!(
            ok,
            "{variant:?}: xmlsec1 refused Kantakoe's signature:\n{out}"
        );
        assert!(
            out.contains("SignedInfo References (ok/all): 2/2"),
            "{variant:?}: {out}"
        );
        let v = signature::verify(&signed, &pki.options());
        assert!(v.is_valid(), "{variant:?}: {:?}", v.problems);

        // One body character changed: both refuse it, and Kantakoe names the body Reference.
        let tampered = tamper_body(std::str::from_utf8(&signed).unwrap(), variant);
        std::fs::write(&file, &tampered).unwrap();
        let (ok, out) = xmlsec1_verify(&file, &pki.ca_pem);
        assert!(!ok, "{variant:?}: xmlsec1 accepted a changed body:\n{out}");
        let v = signature::verify(tampered.as_bytes(), &pki.options());
        assert_eq!(codes(&v), ["SIG_REFERENCE_DIGEST"], "{variant:?}");
        assert!(
            v.problems[0].message.contains("(body, "),
            "{variant:?}: {}",
            v.problems[0]
        );
    }
}

fn xmlsec1_signed_verifies_in_kantakoe(pki: &Pki) {
    let signer = pki.signer();
    let dir = tempfile::tempdir().unwrap();
    for variant in VARIANTS {
        let tpl = signature::template(
            cda(variant).as_bytes(),
            &TemplateOptions {
                signature_method: signer.signature_method().to_owned(),
                certificates: Vec::new(),
                timestamp: SIGNED_AT,
            },
        )
        .unwrap();
        let file = dir.path().join(format!("{variant:?}.tpl.xml"));
        std::fs::write(&file, &tpl).unwrap();
        let signed = xmlsec1_sign(&file, pki);
        let v = signature::verify(&signed, &pki.options());
        assert!(
            v.is_valid(),
            "{variant:?}: Kantakoe refused xmlsec1's signature: {:?}\n{}",
            v.problems,
            String::from_utf8_lossy(&signed)
        );
        assert_eq!(v.references.len(), 2);
        let tampered = tamper_body(std::str::from_utf8(&signed).unwrap(), variant);
        let v = signature::verify(tampered.as_bytes(), &pki.options());
        assert_eq!(codes(&v), ["SIG_REFERENCE_DIGEST"], "{variant:?}");
    }
}

#[test]
fn rsa_kantakoe_signed_verifies_with_xmlsec1() {
    kantakoe_signed_verifies_with_xmlsec1(rsa());
}

#[test]
fn ec_kantakoe_signed_verifies_with_xmlsec1() {
    kantakoe_signed_verifies_with_xmlsec1(ec());
}

#[test]
fn rsa_xmlsec1_signed_verifies_in_kantakoe() {
    xmlsec1_signed_verifies_in_kantakoe(rsa());
}

#[test]
fn ec_xmlsec1_signed_verifies_in_kantakoe() {
    xmlsec1_signed_verifies_in_kantakoe(ec());
}

#[test]
fn chains_through_an_intermediate_in_x509data() {
    let pki = make_chain_pki();
    let signed = signature::sign(cda(Variant::Plain).as_bytes(), &pki.signer(), SIGNED_AT).unwrap();
    let text = std::str::from_utf8(&signed).unwrap();
    assert_eq!(text.matches("<ds:X509Certificate>").count(), 2);
    let v = signature::verify(&signed, &pki.options());
    assert!(v.is_valid(), "{:?}", v.problems);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.xml");
    std::fs::write(&file, &signed).unwrap();
    let (ok, out) = xmlsec1_verify(&file, &pki.ca_pem);
    assert!(ok, "xmlsec1 refused the chained signature:\n{out}");
    // The order inside X509Data does not matter.
    let first = text.find("<ds:X509Certificate>").unwrap();
    let second = text.rfind("<ds:X509Certificate>").unwrap();
    let end = text.rfind("</ds:X509Certificate>").unwrap() + "</ds:X509Certificate>".len();
    let swapped = format!(
        "{}{}{}{}",
        &text[..first],
        &text[second..end],
        &text[first..second],
        &text[end..]
    );
    let v = signature::verify(swapped.as_bytes(), &pki.options());
    assert!(v.is_valid(), "{:?}", v.problems);
    assert_eq!(v.signer.unwrap().common_name.as_deref(), Some("Ketjutettu"));
    // Without the intermediate the signer does not chain to the root.
    let second = text.rfind("<ds:X509Certificate>").unwrap();
    let end = text.rfind("</ds:X509Certificate>").unwrap() + "</ds:X509Certificate>".len();
    let stripped = format!("{}{}", &text[..second], &text[end..]);
    let v = signature::verify(stripped.as_bytes(), &pki.options());
    assert_eq!(codes(&v), ["SIG_CERT_UNTRUSTED"]);
}

#[test]
fn ec_signature_value_is_raw_r_and_s() {
    let signed =
        signature::sign(cda(Variant::Plain).as_bytes(), &ec().signer(), SIGNED_AT).unwrap();
    let text = String::from_utf8(signed).unwrap();
    let value = text
        .split("<ds:SignatureValue>")
        .nth(1)
        .and_then(|s| s.split("</ds:SignatureValue>").next())
        .unwrap();
    assert_eq!(
        STANDARD.decode(value).unwrap().len(),
        64,
        "P-256 r||s is 64 bytes"
    );
}

// ---------------------------------------------------------------------------------------
// What the signer writes
// ---------------------------------------------------------------------------------------

#[test]
fn signer_writes_the_2026_profile_into_the_local_header() {
    let signed =
        signature::sign(cda(Variant::Plain).as_bytes(), &rsa().signer(), SIGNED_AT).unwrap();
    let text = String::from_utf8(signed.clone()).unwrap();
    let original = cda(Variant::Plain);
    // Everything outside the header and the body's start tag is byte for byte unchanged.
    let header_end = original.find("</hl7fi:localSocialHeader>").unwrap();
    assert!(text.starts_with(&original[..header_end]));
    assert!(text.contains("<signatureCollection xmlns=\"urn:hl7finland\"><signature ID=\"sig-"));
    assert!(text.contains(
        "<signatureDescription code=\"3\" codeSystem=\"1.2.246.537.5.40127.2006\" \
         codeSystemName=\"KanTa-palvelut - Sähköisen allekirjoituksen tyyppi\" \
         displayName=\"Järjestelmäallekirjoitus\"/>"
    ));
    assert!(text.contains(">2026-03-02T10:00:00Z</signatureTimestamp>"));
    assert!(text.contains("<nonXMLBody ID=\"OID1.2.246.10.99999901.95777.2026.1\">"));
    assert_eq!(text.matches("<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>").count(), 2);
    let v = signature::verify(&signed, &rsa().options());
    assert!(v.is_valid(), "{:?}", v.problems);
    assert_eq!(v.timestamp, Some(SIGNED_AT));
    let signer = v.signer.unwrap();
    assert_eq!(signer.organisation_oid.as_deref(), Some(ORG));
    let roles: Vec<String> = v.references.iter().map(|r| r.role.to_string()).collect();
    assert_eq!(roles, ["timestamp", "body"]);
}

#[test]
fn structured_body_keeps_its_id_pattern() {
    let signed = signature::sign(
        cda(Variant::Structured).as_bytes(),
        &rsa().signer(),
        SIGNED_AT,
    )
    .unwrap();
    let text = String::from_utf8(signed).unwrap();
    assert!(text.contains("<structuredBody ID=\"OID1.2.246.10.99999901.95777.2026.1.0\">"));
}

#[test]
fn signing_refusals_say_why() {
    let signer = rsa().signer();
    let signed = signature::sign(cda(Variant::Plain).as_bytes(), &signer, SIGNED_AT).unwrap();
    let err = signature::sign(&signed, &signer, SIGNED_AT).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the document already has a system signature in \
         /ClinicalDocument/localSocialHeader/signatureCollection/signature"
    );
    let no_header = cda(Variant::Plain)
        .replace(
            "<hl7fi:localSocialHeader xmlns:hl7fi=\"urn:hl7finland\">",
            "<hl7fi:other xmlns:hl7fi=\"urn:hl7finland\">",
        )
        .replace("</hl7fi:localSocialHeader>", "</hl7fi:other>");
    let err = signature::sign(no_header.as_bytes(), &signer, SIGNED_AT).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no hl7fi:localSocialHeader or hl7fi:localHeader under /ClinicalDocument"
    );
    let err = signature::sign(b"<a/>", &signer, SIGNED_AT).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the root element is `a`, not ClinicalDocument in urn:hl7-org:v3"
    );
    let err = Signer::from_pem(
        &std::fs::read(&rsa().cert_pem).unwrap(),
        &std::fs::read(&ec().key_pem).unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the private key does not match the signer certificate's public key"
    );
    let no_body = cda(Variant::Plain).replace(
        &between(&cda(Variant::Plain), "<component>", "</component>").to_owned(),
        "",
    );
    let err = signature::sign(no_body.as_bytes(), &signer, SIGNED_AT).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no single body to sign: /ClinicalDocument/component has 0 body elements \
         (nonXMLBody/structuredBody), not 1"
    );
    let err = signature::sign(b"<ClinicalDocument", &signer, SIGNED_AT).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the document cannot be read: malformed XML at byte"),
        "{err}"
    );
    let cert = std::fs::read(&rsa().cert_pem).unwrap();
    let err = Signer::from_pem(b"no pem here", &cert).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no certificate in the certificate PEM: no CERTIFICATE block"
    );
    let err = Signer::from_pem(&cert, &cert).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no private key in the key PEM: no items found"
    );
    let ed25519 = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let err = Signer::from_pem(&cert, ed25519.serialize_pem().as_bytes()).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "unsupported or malformed private key (RSA, EC P-256 and EC P-384 are supported): "
        ),
        "{err}"
    );
}

#[test]
fn signs_into_an_existing_empty_signature_collection() {
    let doc = cda(Variant::Plain).replace(
        "</hl7fi:localSocialHeader>",
        "<hl7fi:signatureCollection/></hl7fi:localSocialHeader>",
    );
    let signed = signature::sign(doc.as_bytes(), &ec().signer(), SIGNED_AT).unwrap();
    let text = String::from_utf8(signed.clone()).unwrap();
    assert!(text.contains("<hl7fi:signatureCollection><signature xmlns=\"urn:hl7finland\" ID="));
    let v = signature::verify(&signed, &ec().options());
    assert!(v.is_valid(), "{:?}", v.problems);
}

// ---------------------------------------------------------------------------------------
// Every failure, with its exact code
// ---------------------------------------------------------------------------------------

fn signed_plain() -> String {
    String::from_utf8(
        signature::sign(cda(Variant::Plain).as_bytes(), &rsa().signer(), SIGNED_AT).unwrap(),
    )
    .unwrap()
}

/// The text between `open` and `close`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
    let start = s.find(open).unwrap() + open.len();
    let end = start + s[start..].find(close).unwrap();
    &s[start..end]
}

/// `signed` with `n` References in SignedInfo: the timestamp's and `n - 1` copies of the
/// body's (the amplification attack of issue 14: each copy would canonicalize the body again).
pub fn with_references(signed: &str, n: usize) -> String {
    let refs = between(signed, "<ds:SignatureMethod", "</ds:SignedInfo>");
    let second = refs.rfind("<ds:Reference").unwrap();
    let body_ref = &refs[second..];
    signed.replacen(body_ref, &body_ref.repeat(n - 1), 1)
}

/// One negative case: a name, the document, the options, and the exact codes expected.
struct Case {
    name: &'static str,
    doc: String,
    opts: VerifyOptions,
    expect: Vec<ProblemCode>,
}

/// `doc` naming `org` as its service unit (`encounterParticipant[@typeCode='ADM']`), which is
/// then the author organisation the signer must be entitled for.
fn with_service_unit(doc: &str, org: &str) -> String {
    doc.replacen(
        "</custodian>",
        &format!(
            "</custodian><componentOf><encompassingEncounter><encounterParticipant \
             typeCode=\"ADM\"><assignedEntity><representedOrganization><id \
             root=\"{org}\"/></representedOrganization></assignedEntity>\
             </encounterParticipant></encompassingEncounter></componentOf>"
        ),
        1,
    )
}

fn negative_cases() -> Vec<Case> {
    let signed = signed_plain();
    let good = || rsa().options();
    let body = between(&signed, "<component>", "</component>").to_owned();
    let mut cases = vec![
        Case {
            name: "unsigned document",
            doc: cda(Variant::Plain),
            opts: good(),
            expect: vec![ProblemCode::Missing],
        },
        Case {
            name: "DOCTYPE refused",
            doc: signed.replacen("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<!DOCTYPE x>", 1),
            opts: good(),
            expect: vec![ProblemCode::DocumentUnreadable],
        },
        Case {
            name: "one body character changed",
            doc: tamper_body(&signed, Variant::Plain),
            opts: good(),
            expect: vec![ProblemCode::ReferenceDigest],
        },
        Case {
            name: "timestamp changed",
            doc: signed.replace("2026-03-02T10:00:00Z", "2026-03-02T10:00:01Z"),
            opts: good(),
            expect: vec![ProblemCode::ReferenceDigest],
        },
        Case {
            name: "signature value changed",
            doc: {
                let value = between(&signed, "<ds:SignatureValue>", "</ds:SignatureValue>");
                let mut bytes = STANDARD.decode(value).unwrap();
                bytes[10] ^= 1;
                signed.replace(value, &STANDARD.encode(bytes))
            },
            opts: good(),
            expect: vec![ProblemCode::Value],
        },
        Case {
            name: "CA not configured",
            doc: signed.clone(),
            opts: ec().options(),
            expect: vec![ProblemCode::CertUntrusted],
        },
        Case {
            name: "checked after the certificate expired",
            doc: signed.clone(),
            opts: VerifyOptions {
                at: Some(datetime!(2036-01-01 00:00:00 UTC)),
                ..good()
            },
            expect: vec![ProblemCode::CertNotValidAtTimestamp],
        },
        Case {
            name: "signer organisation differs from the author organisation (the service unit's)",
            doc: with_service_unit(&signed, OTHER_ORG),
            opts: good(),
            expect: vec![ProblemCode::SignerNotEntitled],
        },
        Case {
            // DESIGN §2 "Who may sign": a provider signs what it records into an organiser's
            // register; the custodian is never taken for the author organisation.
            name: "another custodian alone does not make the signer unentitled",
            doc: signed.replace(
                &format!("<id root=\"{ORG}\"/><name>"),
                &format!("<id root=\"{OTHER_ORG}\"/><name>"),
            ),
            opts: good(),
            expect: vec![],
        },
        Case {
            name: "wrapping: the signed body moved into the header, a new body in its place",
            doc: {
                let new_body = "<nonXMLBody><text mediaType=\"application/xhtml+xml\" \
                                representation=\"B64\">UGFoYQ==</text></nonXMLBody>";
                signed
                    .replace(&body, new_body)
                    .replace("</hl7fi:localSocialHeader>", &format!("{body}</hl7fi:localSocialHeader>"))
            },
            opts: good(),
            expect: vec![ProblemCode::Wrapping, ProblemCode::ReferenceSet],
        },
        Case {
            name: "wrapping: a second component with another body",
            doc: signed.replace(
                "</component>",
                "</component><component><nonXMLBody><text>UGFoYQ==</text></nonXMLBody></component>",
            ),
            opts: good(),
            expect: vec![ProblemCode::Wrapping, ProblemCode::ReferenceSet],
        },
        Case {
            name: "duplicated ID: a copy of the signed body earlier in the document, the real \
                   body changed",
            doc: {
                let changed = tamper_body(&body, Variant::Plain);
                signed.replace(&body, &changed).replace(
                    "</hl7fi:localSocialHeader>",
                    &format!("{body}</hl7fi:localSocialHeader>"),
                )
            },
            opts: good(),
            expect: vec![
                ProblemCode::DuplicateId,
                ProblemCode::Wrapping,
                ProblemCode::ReferenceSet,
            ],
        },
        Case {
            name: "body reference missing",
            doc: {
                let refs = between(&signed, "<ds:SignatureMethod", "</ds:SignedInfo>");
                let second = refs.rfind("<ds:Reference").unwrap();
                signed.replace(&refs[second..], "")
            },
            opts: good(),
            expect: vec![ProblemCode::ReferenceSet],
        },
        Case {
            name: "reference to an unknown ID",
            doc: signed.replacen("URI=\"#OID", "URI=\"#NOID", 1),
            opts: good(),
            expect: vec![ProblemCode::ReferenceUnresolved, ProblemCode::ReferenceSet],
        },
        Case {
            name: "three References: the body's twice",
            doc: with_references(&signed, 3),
            opts: good(),
            expect: vec![ProblemCode::ReferenceSet],
        },
        Case {
            name: "a thousand References",
            doc: with_references(&signed, 1000),
            opts: good(),
            expect: vec![ProblemCode::ReferenceSet],
        },
        Case {
            name: "SHA-1 digest",
            doc: signed.replacen(
                "http://www.w3.org/2001/04/xmlenc#sha256",
                "http://www.w3.org/2000/09/xmldsig#sha1",
                1,
            ),
            opts: good(),
            expect: vec![ProblemCode::UnsupportedAlgorithm],
        },
        Case {
            name: "inclusive C14N",
            doc: signed.replacen(
                "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
                "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>",
                1,
            ),
            opts: good(),
            expect: vec![ProblemCode::UnsupportedAlgorithm],
        },
        Case {
            name: "no SignatureValue",
            doc: {
                let value = between(&signed, "<ds:SignatureValue>", "</ds:SignatureValue>");
                signed.replace(&format!("<ds:SignatureValue>{value}</ds:SignatureValue>"), "")
            },
            opts: good(),
            expect: vec![ProblemCode::Malformed],
        },
        Case {
            name: "certificate not base64",
            doc: signed.replacen("<ds:X509Certificate>", "<ds:X509Certificate>*", 1),
            opts: good(),
            expect: vec![ProblemCode::CertMalformed],
        },
        Case {
            name: "certificate not X.509",
            doc: {
                let cert = between(&signed, "<ds:X509Certificate>", "</ds:X509Certificate>");
                signed.replace(cert, "AAECAw==")
            },
            opts: good(),
            expect: vec![ProblemCode::CertMalformed],
        },
        Case {
            name: "two signatures",
            doc: {
                let sig = format!(
                    "<signature ID{}</signature>",
                    between(&signed, "<signature ID", "</signature>")
                );
                signed.replace(&sig, &format!("{sig}{sig}"))
            },
            opts: good(),
            expect: vec![
                ProblemCode::DuplicateId,
                ProblemCode::DuplicateId,
                ProblemCode::Multiple,
            ],
        },
        Case {
            name: "not a system signature",
            doc: signed.replacen("<signatureDescription code=\"3\"", "<signatureDescription code=\"1\"", 1),
            opts: good(),
            expect: vec![ProblemCode::Description],
        },
        Case {
            name: "timestamp unreadable",
            doc: signed.replace("2026-03-02T10:00:00Z", "maanantaina"),
            opts: VerifyOptions {
                at: Some(SIGNED_AT),
                ..good()
            },
            expect: vec![ProblemCode::Timestamp, ProblemCode::ReferenceDigest],
        },
    ];
    // Certificates that are themselves wrong.
    let no_usage = make_pki(
        CertSpec {
            usages: vec![KeyUsagePurpose::KeyEncipherment],
            ..CertSpec::good(&rcgen::PKCS_ECDSA_P256_SHA256)
        },
        "Kantakoe TEST EC CA 2",
    );
    cases.push(Case {
        name: "key usage without digitalSignature or nonRepudiation",
        doc: String::from_utf8(
            signature::sign(
                cda(Variant::Plain).as_bytes(),
                &no_usage.signer(),
                SIGNED_AT,
            )
            .unwrap(),
        )
        .unwrap(),
        opts: no_usage.options(),
        expect: vec![ProblemCode::CertKeyUsage],
    });
    let expired = make_pki(
        CertSpec {
            not_before: datetime!(2024-01-01 00:00:00 UTC),
            not_after: datetime!(2025-01-01 00:00:00 UTC),
            ..CertSpec::good(&rcgen::PKCS_ECDSA_P256_SHA256)
        },
        "Kantakoe TEST EC CA 3",
    );
    cases.push(Case {
        name: "certificate expired before the signature timestamp",
        doc: String::from_utf8(
            signature::sign(cda(Variant::Plain).as_bytes(), &expired.signer(), SIGNED_AT).unwrap(),
        )
        .unwrap(),
        opts: expired.options(),
        expect: vec![ProblemCode::CertNotValidAtTimestamp],
    });
    let vendor = make_pki(
        CertSpec {
            org: OTHER_ORG,
            ..CertSpec::good(&rcgen::PKCS_ECDSA_P256_SHA256)
        },
        "Kantakoe TEST EC CA 4",
    );
    // The document names its service unit, one of ORG's: ORG is the author organisation.
    let with_unit = with_service_unit(&cda(Variant::Plain), ORG);
    let vendor_signed = String::from_utf8(
        signature::sign(with_unit.as_bytes(), &vendor.signer(), SIGNED_AT).unwrap(),
    )
    .unwrap();
    cases.push(Case {
        name: "vendor not registered for the author organisation",
        doc: vendor_signed.clone(),
        opts: vendor.options(),
        expect: vec![ProblemCode::SignerNotEntitled],
    });
    cases.push(Case {
        name: "vendor registered for the author organisation",
        doc: vendor_signed.clone(),
        opts: VerifyOptions {
            entitlement: Entitlement::Vendors(vec![(OTHER_ORG.into(), ORG.into())]),
            ..vendor.options()
        },
        expect: vec![],
    });
    cases.push(Case {
        name: "vendor allowed by a custom rule",
        doc: vendor_signed,
        opts: VerifyOptions {
            entitlement: Entitlement::Custom(Arc::new(|s, a| s == OTHER_ORG && a == ORG)),
            ..vendor.options()
        },
        expect: vec![],
    });
    cases.push(Case {
        name: "embedded trust needs no CA",
        doc: signed.clone(),
        opts: VerifyOptions {
            trust: Trust::Embedded,
            ..good()
        },
        expect: vec![],
    });
    cases
}

/// The References are refused before anything is canonicalized: no digest computed, no
/// canonical SignedInfo, and the archive's acknowledgement code is SIG-REFERENCES.
#[test]
fn a_reference_set_other_than_the_profiles_two_is_refused_before_canonicalizing() {
    let signed = signed_plain();
    for n in [1, 3, 1000] {
        let v = signature::verify(with_references(&signed, n).as_bytes(), &rsa().options());
        assert_eq!(
            v.codes(),
            [ProblemCode::ReferenceSet],
            "{n}: {:?}",
            v.problems
        );
        assert_eq!(
            v.problems[0].message,
            format!(
                "SignedInfo has {n} References; the Kanta profile has exactly 2: the \
                 signatureTimestamp and the document body"
            )
        );
        assert!(v.references.iter().all(|r| r.computed.is_none()));
        assert!(v.signed_info_canonical.is_empty());
        assert_eq!(
            ProblemCode::ReferenceSet.ack_code(),
            mock_archive::ack::AckCode::SignatureReferences
        );
    }
    // Two References, but both for the body: refused by target, again before any digest.
    let refs = between(&signed, "<ds:SignatureMethod", "</ds:SignedInfo>");
    let second = refs.rfind("<ds:Reference").unwrap();
    let first = refs.find("<ds:Reference").unwrap();
    let doc = signed.replacen(&refs[first..second], &refs[second..], 1);
    let v = signature::verify(doc.as_bytes(), &rsa().options());
    assert_eq!(
        v.codes(),
        [ProblemCode::ReferenceSet, ProblemCode::ReferenceSet],
        "{:?}",
        v.problems
    );
    assert_eq!(
        v.problems[0].message,
        "0 References cover the signatureTimestamp; exactly 1 is required"
    );
    assert_eq!(
        v.problems[1].message,
        "2 References cover the document body; exactly 1 is required"
    );
    assert!(v.references.iter().all(|r| r.computed.is_none()));
}

#[test]
fn every_failure_has_its_code() {
    let mut report = String::new();
    for case in negative_cases() {
        let v = signature::verify(case.doc.as_bytes(), &case.opts);
        assert_eq!(v.codes(), case.expect, "{}: {:?}", case.name, v.problems);
        report.push_str(&format!("## {}\n", case.name));
        for p in &v.problems {
            report.push_str(&format!("{p}\n"));
        }
        if v.problems.is_empty() {
            report.push_str("valid\n");
        }
    }
    insta::with_settings!({filters => vec![
        (r"(sig|ts)-[0-9a-f]{16}", "$1-[id]"),
        (r"[A-Za-z0-9+/]{42,43}=", "[digest]"),
        (r"at byte \d+", "at byte [n]"),
    ]}, {
        insta::assert_snapshot!("problems", report);
    });
}

// ---------------------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------------------

fn verify_args(file: &Path) -> kantakoe::cmd::verify::Args {
    kantakoe::cmd::verify::Args {
        file: file.to_owned(),
        at: None,
        trust: vec![rsa().ca_pem.clone()],
        trust_embedded: false,
        vendor: Vec::new(),
        explain: false,
    }
}

#[test]
fn cli_signs_and_verifies_and_explains() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cda.xml");
    std::fs::write(&input, cda(Variant::AncestorPrefixes)).unwrap();
    let output = dir.path().join("signed.xml");
    let code = kantakoe::cmd::sign::run(kantakoe::cmd::sign::Args {
        file: input.clone(),
        cert: Some(rsa().cert_pem.clone()),
        key: Some(rsa().key_pem.clone()),
        pki: None,
        at: Some(SIGNED_AT),
        output: Some(output.clone()),
    })
    .unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS);

    let (text, valid) = kantakoe::cmd::verify::check(&verify_args(&output)).unwrap();
    assert!(valid, "{text}");
    assert!(text.ends_with("result: VALID\n"), "{text}");

    let (text, valid) = kantakoe::cmd::verify::check(&kantakoe::cmd::verify::Args {
        explain: true,
        ..verify_args(&output)
    })
    .unwrap();
    assert!(valid);
    // The body's canonical form renders the ancestor's prefix declaration, not the unused one.
    assert!(
        text.contains("<cda:nonXMLBody xmlns:cda=\"urn:hl7-org:v3\" ID=\"OID1.2.246.10.99999901.95777.2026.1\">"),
        "{text}"
    );
    assert!(
        !text.contains("xmlns:unused=\"urn:example:unused\" ID"),
        "{text}"
    );
    assert!(text.contains("-----BEGIN CANONICAL SignedInfo-----"));

    // Same through --pki, then a tampered copy fails naming the body Reference.
    let pki_dir = rsa().cert_pem.parent().unwrap().to_owned();
    let output2 = dir.path().join("signed2.xml");
    kantakoe::cmd::sign::run(kantakoe::cmd::sign::Args {
        file: input,
        cert: None,
        key: None,
        pki: Some(pki_dir),
        at: None,
        output: Some(output2.clone()),
    })
    .unwrap();
    let signed = std::fs::read_to_string(&output2).unwrap();
    std::fs::write(&output2, tamper_body(&signed, Variant::AncestorPrefixes)).unwrap();
    let (text, valid) = kantakoe::cmd::verify::check(&verify_args(&output2)).unwrap();
    assert!(!valid);
    let last: Vec<&str> = text.lines().rev().take(2).collect();
    assert_eq!(last[1], "result: INVALID (1 problem)", "{text}");
    // The acknowledgement's name of the problem, not the signature module's own.
    assert!(
        last[0].starts_with("SIG-INVALID: Reference `#OID1.2.246.10.99999901.95777.2026.1` (body, /ClinicalDocument/component/nonXMLBody): digest mismatch"),
        "{text}"
    );
}

/// The checked-in fixture (see `tests/signature/README.md`).
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("signature")
        .join(name)
}

#[test]
fn cli_explain_output_is_stable() {
    let (text, valid) = kantakoe::cmd::verify::check(&kantakoe::cmd::verify::Args {
        file: fixture("signed-rsa-nonascii.xml"),
        at: None,
        trust: vec![fixture("ca.pem")],
        trust_embedded: false,
        vendor: Vec::new(),
        explain: true,
    })
    .unwrap();
    assert!(valid, "{text}");
    insta::with_settings!({filters => vec![
        (r"file: .*signed-rsa-nonascii.xml", "file: [fixture]"),
    ]}, {
        insta::assert_snapshot!("explain", text);
    });
    // One byte changed in the fixture's body: the same report names the body Reference.
    let dir = tempfile::tempdir().unwrap();
    let changed = dir.path().join("changed.xml");
    let original = std::fs::read_to_string(fixture("signed-rsa-nonascii.xml")).unwrap();
    std::fs::write(&changed, original.replacen("Örjan", "Orjan", 1)).unwrap();
    let (text, valid) = kantakoe::cmd::verify::check(&kantakoe::cmd::verify::Args {
        file: changed,
        at: None,
        trust: vec![fixture("ca.pem")],
        trust_embedded: false,
        vendor: Vec::new(),
        explain: false,
    })
    .unwrap();
    assert!(!valid);
    assert!(
        text.contains("(body, /ClinicalDocument/component/structuredBody): DIGEST MISMATCH"),
        "{text}"
    );
}

#[test]
fn cli_usage_errors_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.xml");
    let err = kantakoe::cmd::verify::check(&verify_args(&missing)).unwrap_err();
    assert_eq!(
        format!("{err:#}").replace(&dir.path().display().to_string(), "[dir]"),
        "reading [dir]/missing.xml: No such file or directory (os error 2)"
    );
    let msg = dir.path().join("msg.xml");
    std::fs::write(
        &msg,
        "<RCMR_IN200002FI01 xmlns=\"urn:hl7-org:v3\"><subject><clinicalDocument>\
         <text>placeholder</text></clinicalDocument></subject></RCMR_IN200002FI01>",
    )
    .unwrap();
    let err = kantakoe::cmd::verify::check(&verify_args(&msg)).unwrap_err();
    assert_eq!(
        format!("{err:#}").replace(&dir.path().display().to_string(), "[dir]"),
        "in [dir]/msg.xml: clinicalDocument/text holds no multipart MIME (no boundary parameter)"
    );
    let err = kantakoe::cmd::sign::run(kantakoe::cmd::sign::Args {
        file: msg,
        cert: None,
        key: None,
        pki: None,
        at: None,
        output: None,
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "give either --cert and --key, or --pki DIR"
    );
}

// ---------------------------------------------------------------------------------------
// Property: any text and attribute value signs, verifies here and in xmlsec1, and breaks
// when changed
// ---------------------------------------------------------------------------------------

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    #[test]
    fn any_text_and_attribute_value_round_trips(
        text in "[ -~äöÅ€𝄞\t\n\r]{0,40}",
        value in "[ -~äö\t\n\r]{0,20}",
    ) {
        let doc = cda(Variant::Structured)
            .replacen("Palvelutarpeen arviointi 0</", &format!("{}|</", escape(&text)), 1)
            .replacen("moodCode=\"EVN\"", &format!("moodCode=\"EVN\" title=\"{}\"", escape(&value)), 1);
        let pki = ec();
        let signed = signature::sign(doc.as_bytes(), &pki.signer(), SIGNED_AT).unwrap();
        let v = signature::verify(&signed, &pki.options());
        proptest::prop_assert!(v.is_valid(), "{:?}", v.problems);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("prop.xml");
        std::fs::write(&file, &signed).unwrap();
        let (ok, out) = xmlsec1_verify(&file, &pki.ca_pem);
        proptest::prop_assert!(ok, "xmlsec1 refused:\n{}", out);
        let changed = String::from_utf8(signed).unwrap().replacen("|</", "|x</", 1);
        let v = signature::verify(changed.as_bytes(), &pki.options());
        proptest::prop_assert_eq!(codes(&v), ["SIG_REFERENCE_DIGEST"]);
    }
}
