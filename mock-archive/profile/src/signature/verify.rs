//! Verifying the Kanta system signature: both References' digests, the SignatureValue, the
//! signer certificate's chain, validity at the signature timestamp and key usage, the signer
//! organisation's entitlement to sign for the author organisation, and our own defence against
//! signature wrapping (the profile's header→body References are exactly what generic "strict"
//! XSW defences refuse, so we pin the targets instead: unique IDs, the body Reference on
//! `/ClinicalDocument/component/{nonXMLBody|structuredBody}`, the timestamp Reference on the
//! `signatureTimestamp` inside the same `hl7fi:signature`).
//!
//! Every problem found is reported, each with a stable [`ProblemCode`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::c14n::{self, Budget, OverBudget};
use super::keys::{self, IssuedError};
use super::profile::{
    DSIG_NS, ENVELOPED_SIGNATURE, EXC_C14N, HL7_NS, HL7FI_NS, SHA256, SHA384, SHA512,
    SYSTEM_SIGNATURE_CODE,
};
use super::tree::{Document, NodeId};
use crate::ack::AckCode;
use crate::cert::CertInfo;

/// Which certificates the verifier trusts.
#[derive(Debug, Clone)]
pub enum Trust {
    /// The signer certificate must chain to one of these CA certificates (DER); intermediates
    /// may come from the signature's own `X509Data`.
    Cas(Vec<Vec<u8>>),
    /// Trust the certificate embedded in the signature itself (for interop vectors and vendors
    /// debugging their own signatures; never for the archive).
    Embedded,
}

/// A custom entitlement rule: `(signer organisation OID, author organisation OID) -> may sign`.
pub type EntitlementRule = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// Who may sign for whom, beyond an organisation signing its own documents.
///
/// An organisation always may sign for itself and for its own units: the signer OID equals
/// the author OID, or the signer OID is an organisation OID `<arc>.10.0` and the author OID
/// lies under `<arc>.` \[conv: the HUS 2017 documents are signed by `…15675350.10.0` for the
/// custodian `…15675350.19.0`; public material states no rule].
#[derive(Clone, Default)]
pub enum Entitlement {
    /// Only the author organisation itself (or its units) may sign.
    #[default]
    OwnOnly,
    /// Registered vendors: `(vendor organisation OID, client organisation OID)` pairs.
    Vendors(Vec<(String, String)>),
    /// A custom rule: `(signer organisation OID, author organisation OID) -> may sign`,
    /// asked only when the two differ.
    Custom(EntitlementRule),
}

impl fmt::Debug for Entitlement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OwnOnly => write!(f, "OwnOnly"),
            Self::Vendors(v) => f.debug_tuple("Vendors").field(v).finish(),
            Self::Custom(_) => write!(f, "Custom(..)"),
        }
    }
}

impl Entitlement {
    fn allows(&self, signer: &str, author: &str) -> bool {
        if same_organisation(signer, author) {
            return true;
        }
        match self {
            Self::OwnOnly => false,
            Self::Vendors(pairs) => pairs.iter().any(|(v, c)| v == signer && c == author),
            Self::Custom(f) => f(signer, author),
        }
    }
}

/// Whether `author` is `signer` or one of its units (see [`Entitlement`]) \[conv\].
fn same_organisation(signer: &str, author: &str) -> bool {
    if signer == author {
        return true;
    }
    signer
        .strip_suffix(".10.0")
        .and_then(|arc| author.strip_prefix(arc))
        .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The trusted certificates.
    pub trust: Trust,
    /// When to check the certificates' validity; `None` = at the signature timestamp.
    pub at: Option<OffsetDateTime>,
    /// Who may sign for an author organisation other than their own.
    pub entitlement: Entitlement,
    /// Keep each Reference's canonical bytes in [`ReferenceCheck::canonical`] (for a person
    /// diffing them against their own); otherwise they are streamed into the digest and
    /// dropped.
    pub keep_canonical: bool,
}

impl VerifyOptions {
    /// Options trusting the given CA certificates (DER), checking at the signature timestamp,
    /// with no vendors registered.
    pub fn with_cas(cas: Vec<Vec<u8>>) -> Self {
        Self {
            trust: Trust::Cas(cas),
            at: None,
            entitlement: Entitlement::OwnOnly,
            keep_canonical: false,
        }
    }

    /// Options trusting the embedded certificate, checking at the signature timestamp.
    pub fn embedded() -> Self {
        Self {
            trust: Trust::Embedded,
            at: None,
            entitlement: Entitlement::OwnOnly,
            keep_canonical: false,
        }
    }
}

/// The stable problem codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemCode {
    /// The document could not be read as XML, or is not a CDA `ClinicalDocument`.
    DocumentUnreadable,
    /// No `signatureCollection/signature` with a `ds:Signature` in the local header.
    Missing,
    /// More than one system signature (the first is verified).
    Multiple,
    /// The `signatureDescription` is missing or not code 3 (system signature).
    Description,
    /// The `signatureTimestamp` is missing or unreadable.
    Timestamp,
    /// The `ds:Signature` lacks a required part or has an unreadable value.
    Malformed,
    /// An algorithm or transform chain outside the profile.
    UnsupportedAlgorithm,
    /// An `ID` value occurs more than once in the document.
    DuplicateId,
    /// A Reference URI does not resolve to an element.
    ReferenceUnresolved,
    /// A Reference resolves to an element other than the real body or this signature's
    /// timestamp, or the document has more than one body.
    Wrapping,
    /// The References are not exactly two, one for the timestamp and one for the body (checked
    /// before anything is canonicalized).
    ReferenceSet,
    /// A Reference's digest does not match.
    ReferenceDigest,
    /// The SignatureValue does not verify with the signer certificate's key.
    Value,
    /// The signer certificate is missing or unreadable.
    CertMalformed,
    /// The signer certificate does not chain to a configured CA.
    CertUntrusted,
    /// The signer certificate is not valid at the check time.
    CertNotValidAtTimestamp,
    /// The signer certificate's key usage has neither digitalSignature nor nonRepudiation.
    CertKeyUsage,
    /// The signer organisation may not sign for the author organisation.
    SignerNotEntitled,
    /// Canonicalization would take more work than one document is allowed (see `c14n::Budget`).
    WorkLimit,
}

impl ProblemCode {
    /// The stable code string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DocumentUnreadable => "SIG_DOCUMENT_UNREADABLE",
            Self::Missing => "SIG_MISSING",
            Self::Multiple => "SIG_MULTIPLE",
            Self::Description => "SIG_DESCRIPTION",
            Self::Timestamp => "SIG_TIMESTAMP",
            Self::Malformed => "SIG_MALFORMED",
            Self::UnsupportedAlgorithm => "SIG_UNSUPPORTED_ALGORITHM",
            Self::DuplicateId => "SIG_DUPLICATE_ID",
            Self::ReferenceUnresolved => "SIG_REFERENCE_UNRESOLVED",
            Self::Wrapping => "SIG_WRAPPING",
            Self::ReferenceSet => "SIG_REFERENCE_SET",
            Self::ReferenceDigest => "SIG_REFERENCE_DIGEST",
            Self::Value => "SIG_VALUE",
            Self::CertMalformed => "SIG_CERT_MALFORMED",
            Self::CertUntrusted => "SIG_CERT_UNTRUSTED",
            Self::CertNotValidAtTimestamp => "SIG_CERT_NOT_VALID_AT_TIMESTAMP",
            Self::CertKeyUsage => "SIG_CERT_KEY_USAGE",
            Self::SignerNotEntitled => "SIG_SIGNER_NOT_ENTITLED",
            Self::WorkLimit => "SIG_WORK_LIMIT",
        }
    }

    /// The acknowledgement code the archive answers this problem with.
    pub fn ack_code(self) -> AckCode {
        match self {
            Self::Missing => AckCode::SignatureMissing,
            Self::CertUntrusted | Self::CertMalformed => AckCode::SignerUntrusted,
            Self::CertNotValidAtTimestamp => AckCode::SignerExpired,
            Self::CertKeyUsage | Self::SignerNotEntitled => AckCode::SignerNotAllowed,
            Self::ReferenceSet | Self::ReferenceUnresolved | Self::Wrapping => {
                AckCode::SignatureReferences
            }
            Self::WorkLimit => AckCode::SignatureTooCostly,
            Self::DocumentUnreadable
            | Self::Multiple
            | Self::Description
            | Self::Timestamp
            | Self::Malformed
            | Self::UnsupportedAlgorithm
            | Self::DuplicateId
            | Self::ReferenceDigest
            | Self::Value => AckCode::SignatureInvalid,
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The stable code.
    pub code: ProblemCode,
    /// What is wrong, in English, naming the place.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// What a Reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceRole {
    /// The `signatureTimestamp` of the same signature.
    Timestamp,
    /// The document body.
    Body,
    /// Anything else (a wrapping attempt or an unresolved URI).
    Other,
}

impl fmt::Display for ReferenceRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timestamp => "timestamp",
            Self::Body => "body",
            Self::Other => "other",
        })
    }
}

/// The result for one Reference.
#[derive(Debug, Clone)]
pub struct ReferenceCheck {
    /// The Reference URI as written.
    pub uri: String,
    /// What it points at.
    pub role: ReferenceRole,
    /// The path of the element it resolved to, if any.
    pub target: Option<String>,
    /// The DigestMethod algorithm URI.
    pub digest_method: String,
    /// The DigestValue as written (base64, whitespace removed).
    pub expected: String,
    /// The digest computed here (base64), if the target resolved and the algorithms are
    /// supported.
    pub computed: Option<String>,
    /// The canonical bytes that were digested, when [`VerifyOptions::keep_canonical`] asked
    /// for them (empty otherwise).
    pub canonical: Vec<u8>,
}

impl ReferenceCheck {
    /// Whether the computed digest equals the written one.
    pub fn digest_ok(&self) -> bool {
        self.computed.as_deref() == Some(self.expected.as_str())
    }
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// The signer certificate, when it could be read.
    pub signer: Option<CertInfo>,
    /// The `signatureTimestamp` text.
    pub timestamp_text: Option<String>,
    /// The `signatureTimestamp`, when it could be read.
    pub timestamp: Option<OffsetDateTime>,
    /// The time certificates were checked at.
    pub checked_at: Option<OffsetDateTime>,
    /// The SignatureMethod algorithm URI.
    pub signature_method: Option<String>,
    /// The canonical SignedInfo that the SignatureValue covers.
    pub signed_info_canonical: Vec<u8>,
    /// Per-Reference results, in document order.
    pub references: Vec<ReferenceCheck>,
    /// The author organisation OIDs the signer was checked against (see [`verify`]).
    pub author_organisations: Vec<String>,
    /// Every problem found; empty means the signature is valid.
    pub problems: Vec<Problem>,
}

impl Verification {
    /// Whether no problem was found.
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problem codes, in the order found.
    pub fn codes(&self) -> Vec<ProblemCode> {
        self.problems.iter().map(|p| p.code).collect()
    }

    fn problem(&mut self, code: ProblemCode, message: impl Into<String>) {
        self.problems.push(Problem {
            code,
            message: message.into(),
        });
    }
}

/// Verifies the system signature of a CDA document.
///
/// The author organisation is every `author/assignedAuthor/representedOrganization/id/@root`
/// in the document; when no author names one (the public 2026 social welfare document has a
/// `nullFlavor` author), the service unit
/// (`componentOf/encompassingEncounter/encounterParticipant[@typeCode='ADM']`) — never the
/// custodian: a provider signs the documents it records on an organiser's behalf (DESIGN §2
/// "Who may sign"). The signer is entitled when its organisation OID (certificate subject
/// `serialNumber`) equals one of them or [`VerifyOptions::entitlement`] allows it to act for
/// one of them. [`verify_for`] lets a caller that knows more name the author organisation.
pub fn verify(cda: &[u8], opts: &VerifyOptions) -> Verification {
    verify_for(cda, opts, None)
}

/// [`verify`], with `author` as the author organisation when no CDA author names one: the
/// archive resolves it from its fixture (the owner of the service unit) or from the message
/// (`authorOrPerformer`'s organisation), which the CDA alone does not show.
pub fn verify_for(cda: &[u8], opts: &VerifyOptions, author: Option<&str>) -> Verification {
    let mut v = Verification::default();
    let doc = match Document::parse(cda) {
        Ok(d) => d,
        Err(e) => {
            v.problem(ProblemCode::DocumentUnreadable, e.to_string());
            return v;
        }
    };
    let root = doc.root;
    if !doc.element(root).is(HL7_NS, "ClinicalDocument") {
        v.problem(
            ProblemCode::DocumentUnreadable,
            format!(
                "the root element is `{}`, not ClinicalDocument in {HL7_NS}",
                doc.element(root).qname()
            ),
        );
        return v;
    }
    let ids = check_ids(&doc, &mut v);
    let signatures = system_signatures(&doc);
    let Some(&signature) = signatures.first() else {
        v.problem(
            ProblemCode::Missing,
            "no signatureCollection/signature with a ds:Signature in \
             /ClinicalDocument/localSocialHeader or /ClinicalDocument/localHeader",
        );
        return v;
    };
    if signatures.len() > 1 {
        v.problem(
            ProblemCode::Multiple,
            format!(
                "{} signatures in signatureCollection; only the first is verified",
                signatures.len()
            ),
        );
    }
    check_description(&doc, signature, &mut v);
    let timestamp = doc.child(signature, HL7FI_NS, "signatureTimestamp");
    match timestamp {
        None => v.problem(
            ProblemCode::Timestamp,
            format!("{} has no signatureTimestamp", doc.path(signature)),
        ),
        Some(ts) => {
            let text = doc.text(ts).trim().to_owned();
            match parse_time(&text) {
                Some(t) => v.timestamp = Some(t),
                None => v.problem(
                    ProblemCode::Timestamp,
                    format!("signatureTimestamp `{text}` is not an RFC 3339 time"),
                ),
            }
            v.timestamp_text = Some(text);
        }
    }
    let ds = doc
        .child(signature, DSIG_NS, "Signature")
        .expect("system_signatures only returns signatures with a ds:Signature");
    let parsed = match parse_signature(&doc, ds) {
        Ok((parsed, problems)) => {
            v.problems.extend(problems);
            parsed
        }
        Err(problem) => {
            v.problems.push(problem);
            return v;
        }
    };
    v.signature_method = Some(parsed.signature_method.clone());
    v.checked_at = opts.at.or(v.timestamp);
    // The References are checked against the profile before anything is canonicalized: a
    // refused set costs nothing more, and an accepted one canonicalizes each node once.
    let Some(plan) = plan_references(&doc, &ids, timestamp, &parsed, &mut v) else {
        check_certificate_and_value(&doc, &parsed, false, opts, author, &mut v);
        return v;
    };
    let mut budget = Budget::for_document(cda.len());
    let digested = digest_references(
        &doc,
        &parsed,
        &plan,
        opts.keep_canonical,
        &mut budget,
        &mut v,
    )
    .and_then(|()| {
        let mut signed_info = Vec::new();
        c14n::stream(
            &doc,
            parsed.signed_info,
            None,
            &parsed.c14n_prefixes,
            &mut budget,
            &mut |chunk| signed_info.extend_from_slice(chunk),
        )?;
        v.signed_info_canonical = signed_info;
        Ok(())
    });
    if digested.is_err() {
        v.problem(
            ProblemCode::WorkLimit,
            format!(
                "canonicalizing the signed parts of this {}-byte document needs more than {} \
                 canonical bytes or {} namespace lookups; refused",
                cda.len(),
                Budget::for_document(cda.len()).bytes,
                Budget::for_document(cda.len()).lookups,
            ),
        );
    }
    check_certificate_and_value(&doc, &parsed, digested.is_ok(), opts, author, &mut v);
    v
}

/// Every `ID`, `Id` and `xml:id` value, with the element carrying it; reports duplicates.
fn check_ids(doc: &Document, v: &mut Verification) -> HashMap<String, Vec<NodeId>> {
    let mut ids: HashMap<String, Vec<NodeId>> = HashMap::new();
    for e in doc.elements() {
        for a in &doc.element(e).attrs {
            let is_id = match a.prefix {
                None => a.local == "ID" || a.local == "Id",
                Some("xml") => a.local == "id",
                Some(_) => false,
            };
            if is_id {
                ids.entry(a.value.to_string()).or_default().push(e);
            }
        }
    }
    let mut dups: Vec<_> = ids.iter().filter(|(_, n)| n.len() > 1).collect();
    dups.sort_by_key(|(_, n)| n[0]);
    for (id, nodes) in dups {
        let paths: Vec<String> = nodes.iter().map(|n| doc.path(*n)).collect();
        v.problem(
            ProblemCode::DuplicateId,
            format!(
                "ID `{id}` occurs {} times: {}",
                nodes.len(),
                paths.join(", ")
            ),
        );
    }
    ids
}

/// The local header (`localSocialHeader` or `localHeader`) of a ClinicalDocument.
pub(crate) fn local_header(doc: &Document) -> Option<NodeId> {
    doc.child(doc.root, HL7FI_NS, "localSocialHeader")
        .or_else(|| doc.child(doc.root, HL7FI_NS, "localHeader"))
}

/// The `hl7fi:signature` elements that hold a `ds:Signature`.
pub(crate) fn system_signatures(doc: &Document) -> Vec<NodeId> {
    let Some(header) = local_header(doc) else {
        return Vec::new();
    };
    doc.children_named(header, HL7FI_NS, "signatureCollection")
        .flat_map(|c| {
            doc.children_named(c, HL7FI_NS, "signature")
                .collect::<Vec<_>>()
        })
        .filter(|s| doc.child(*s, DSIG_NS, "Signature").is_some())
        .collect()
}

fn check_description(doc: &Document, signature: NodeId, v: &mut Verification) {
    match doc.child(signature, HL7FI_NS, "signatureDescription") {
        None => v.problem(
            ProblemCode::Description,
            format!("{} has no signatureDescription", doc.path(signature)),
        ),
        Some(d) => {
            let code = doc.element(d).attr("code").unwrap_or("");
            if code != SYSTEM_SIGNATURE_CODE {
                v.problem(
                    ProblemCode::Description,
                    format!(
                        "signatureDescription code is `{code}`, not {SYSTEM_SIGNATURE_CODE} \
                         (system signature)"
                    ),
                );
            }
        }
    }
}

/// Reads an RFC 3339 time, or an HL7 TS (`YYYYMMDDhhmmss[.fff][+zzzz]`) with a zone.
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let fmt = time::macros::format_description!(
        "[year][month][day][hour][minute][second][offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(text, &fmt).ok()
}

/// A Reference as written.
#[derive(Debug, Clone)]
pub(crate) struct ParsedReference {
    /// The URI attribute (`#id`).
    pub uri: String,
    /// The Transform algorithm URIs, in order.
    pub transforms: Vec<String>,
    /// The PrefixList of the exc-c14n Transform.
    pub c14n_prefixes: Vec<String>,
    /// The DigestMethod algorithm URI.
    pub digest_method: String,
    /// The DigestValue text, whitespace removed.
    pub digest_value: String,
    /// The DigestValue element (the signer fills it).
    pub digest_value_node: NodeId,
}

/// A `ds:Signature` as written.
#[derive(Debug, Clone)]
pub(crate) struct ParsedSignature {
    /// The `ds:Signature` element (what enveloped-signature removes).
    pub signature: NodeId,
    /// The `ds:SignedInfo` element.
    pub signed_info: NodeId,
    /// The PrefixList of the CanonicalizationMethod.
    pub c14n_prefixes: Vec<String>,
    /// The SignatureMethod algorithm URI.
    pub signature_method: String,
    /// Whether the canonicalization and signature method are supported.
    pub value_checkable: bool,
    /// The References, in order.
    pub references: Vec<ParsedReference>,
    /// The decoded SignatureValue, when present and base64.
    pub signature_value: Option<Vec<u8>>,
    /// The decoded X509Certificates of KeyInfo/X509Data, in order.
    pub certificates: Vec<Vec<u8>>,
}

/// The InclusiveNamespaces PrefixList under a C14N method/transform element.
fn prefix_list(doc: &Document, method: NodeId) -> Vec<String> {
    doc.child(method, EXC_C14N, "InclusiveNamespaces")
        .and_then(|n| doc.element(n).attr("PrefixList").map(str::to_owned))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn strip_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_ascii_whitespace()).collect()
}

/// Reads a `ds:Signature`, with the problems found on the way; `Err` when it has no
/// SignedInfo at all.
pub(crate) fn parse_signature(
    doc: &Document,
    ds: NodeId,
) -> Result<(ParsedSignature, Vec<Problem>), Problem> {
    let mut problems = Vec::new();
    let malformed = |m: String| Problem {
        code: ProblemCode::Malformed,
        message: m,
    };
    let unsupported = |m: String| Problem {
        code: ProblemCode::UnsupportedAlgorithm,
        message: m,
    };
    let Some(signed_info) = doc.child(ds, DSIG_NS, "SignedInfo") else {
        return Err(malformed("ds:Signature has no SignedInfo".into()));
    };
    let alg = |n: Option<NodeId>| {
        n.and_then(|n| doc.element(n).attr("Algorithm"))
            .unwrap_or("")
            .to_owned()
    };
    let c14n_node = doc.child(signed_info, DSIG_NS, "CanonicalizationMethod");
    let c14n_alg = alg(c14n_node);
    if c14n_alg != EXC_C14N {
        problems.push(unsupported(format!(
            "CanonicalizationMethod `{c14n_alg}` is not supported (only {EXC_C14N})"
        )));
    }
    let c14n_prefixes = c14n_node.map(|n| prefix_list(doc, n)).unwrap_or_default();
    let signature_method = alg(doc.child(signed_info, DSIG_NS, "SignatureMethod"));
    if ![
        keys::RSA_SHA256,
        keys::RSA_SHA384,
        keys::RSA_SHA512,
        keys::ECDSA_SHA256,
        keys::ECDSA_SHA384,
    ]
    .contains(&signature_method.as_str())
    {
        problems.push(unsupported(format!(
            "SignatureMethod `{signature_method}` is not supported (rsa-sha256/384/512, \
             ecdsa-sha256/384)"
        )));
    }
    let mut references = Vec::new();
    for r in doc.children_named(signed_info, DSIG_NS, "Reference") {
        let uri = doc.element(r).attr("URI").unwrap_or("").to_owned();
        let mut transforms = Vec::new();
        let mut ref_prefixes = Vec::new();
        if let Some(ts) = doc.child(r, DSIG_NS, "Transforms") {
            for t in doc.children_named(ts, DSIG_NS, "Transform") {
                let a = alg(Some(t));
                if a == EXC_C14N {
                    ref_prefixes = prefix_list(doc, t);
                }
                transforms.push(a);
            }
        }
        let digest_method = alg(doc.child(r, DSIG_NS, "DigestMethod"));
        let Some(dv) = doc.child(r, DSIG_NS, "DigestValue") else {
            problems.push(malformed(format!("Reference `{uri}` has no DigestValue")));
            continue;
        };
        references.push(ParsedReference {
            uri,
            transforms,
            c14n_prefixes: ref_prefixes,
            digest_method,
            digest_value: strip_ws(&doc.text(dv)),
            digest_value_node: dv,
        });
    }
    let signature_value = match doc.child(ds, DSIG_NS, "SignatureValue") {
        None => {
            problems.push(malformed("ds:Signature has no SignatureValue".into()));
            None
        }
        Some(n) => match STANDARD.decode(strip_ws(&doc.text(n))) {
            Ok(b) => Some(b),
            Err(e) => {
                problems.push(malformed(format!("SignatureValue is not base64: {e}")));
                None
            }
        },
    };
    let mut certificates = Vec::new();
    if let Some(ki) = doc.child(ds, DSIG_NS, "KeyInfo") {
        for xd in doc.children_named(ki, DSIG_NS, "X509Data") {
            for c in doc.children_named(xd, DSIG_NS, "X509Certificate") {
                match STANDARD.decode(strip_ws(&doc.text(c))) {
                    Ok(b) => certificates.push(b),
                    Err(e) => problems.push(Problem {
                        code: ProblemCode::CertMalformed,
                        message: format!("X509Certificate is not base64: {e}"),
                    }),
                }
            }
        }
    }
    if certificates.is_empty()
        && !problems
            .iter()
            .any(|p| p.code == ProblemCode::CertMalformed)
    {
        problems.push(Problem {
            code: ProblemCode::CertMalformed,
            message: "ds:Signature has no KeyInfo/X509Data/X509Certificate".into(),
        });
    }
    let value_checkable = c14n_alg == EXC_C14N
        && !problems
            .iter()
            .any(|p| p.code == ProblemCode::UnsupportedAlgorithm);
    let parsed = ParsedSignature {
        signature: ds,
        signed_info,
        c14n_prefixes,
        signature_method,
        value_checkable,
        references,
        signature_value,
        certificates,
    };
    Ok((parsed, problems))
}

/// The real body: the one `nonXMLBody` or `structuredBody` under the one
/// `/ClinicalDocument/component`. `Err` describes why there is no single one.
pub(crate) fn real_body(doc: &Document) -> Result<NodeId, String> {
    let components: Vec<_> = doc.children_named(doc.root, HL7_NS, "component").collect();
    if components.len() != 1 {
        return Err(format!(
            "/ClinicalDocument has {} component elements, not 1",
            components.len()
        ));
    }
    let bodies: Vec<_> = doc
        .child_elements(components[0])
        .filter(|b| is_body_element(doc, *b))
        .collect();
    match bodies.as_slice() {
        [b] => Ok(*b),
        _ => Err(format!(
            "/ClinicalDocument/component has {} body elements (nonXMLBody/structuredBody), not 1",
            bodies.len()
        )),
    }
}

/// Whether `id` is a `nonXMLBody` or `structuredBody` element.
fn is_body_element(doc: &Document, id: NodeId) -> bool {
    let e = doc.element(id);
    e.is(HL7_NS, "nonXMLBody") || e.is(HL7_NS, "structuredBody")
}

/// The transform's excluded node and the digest algorithm of a Reference. `Err` names the
/// unsupported algorithm.
fn reference_algorithms(
    signature: NodeId,
    reference: &ParsedReference,
) -> Result<(Option<NodeId>, &'static digest::Algorithm), String> {
    let exclude = match reference.transforms.as_slice() {
        [t] if t == EXC_C14N => None,
        [e, t] if e == ENVELOPED_SIGNATURE && t == EXC_C14N => Some(signature),
        other => {
            return Err(format!(
                "Reference `{}` has Transforms [{}]; supported: exc-c14n, or \
                 enveloped-signature then exc-c14n",
                reference.uri,
                other.join(", ")
            ));
        }
    };
    let alg = match reference.digest_method.as_str() {
        SHA256 => &digest::SHA256,
        SHA384 => &digest::SHA384,
        SHA512 => &digest::SHA512,
        other => {
            return Err(format!(
                "Reference `{}` has DigestMethod `{other}`; supported: sha256, sha384, sha512",
                reference.uri
            ));
        }
    };
    Ok((exclude, alg))
}

/// Computes a Reference's canonical bytes and digest (base64), for the signer. `Err` names
/// the unsupported algorithm.
pub(crate) fn digest_reference(
    doc: &Document,
    target: NodeId,
    signature: NodeId,
    reference: &ParsedReference,
) -> Result<(Vec<u8>, String), String> {
    let (exclude, alg) = reference_algorithms(signature, reference)?;
    let canonical = c14n::canonicalize(doc, target, exclude, &reference.c14n_prefixes);
    let d = digest::digest(alg, &canonical);
    Ok((canonical, STANDARD.encode(d.as_ref())))
}

/// The two References of the profile, each with its target, in document order.
struct Plan {
    /// (index into `ParsedSignature::references`, target element).
    targets: [(usize, NodeId); 2],
}

/// The most References a ds:Signature may have: the profile's two.
const PROFILE_REFERENCES: usize = 2;

/// Checks the References against the profile without canonicalizing anything: exactly two,
/// one resolving to this signature's `signatureTimestamp`, one to the real body. Records a
/// [`ReferenceCheck`] for each (when there are two) and every problem found; `None` when the
/// set is refused.
fn plan_references(
    doc: &Document,
    ids: &HashMap<String, Vec<NodeId>>,
    timestamp: Option<NodeId>,
    parsed: &ParsedSignature,
    v: &mut Verification,
) -> Option<Plan> {
    let body = match real_body(doc) {
        Ok(b) => Some(b),
        Err(e) => {
            v.problem(ProblemCode::Wrapping, e);
            None
        }
    };
    let count = parsed.references.len();
    if count != PROFILE_REFERENCES {
        v.problem(
            ProblemCode::ReferenceSet,
            format!(
                "SignedInfo has {count} References; the Kanta profile has exactly \
                 {PROFILE_REFERENCES}: the signatureTimestamp and the document body"
            ),
        );
        return None;
    }
    let before = v.problems.len();
    let mut targets = Vec::with_capacity(PROFILE_REFERENCES);
    for (index, r) in parsed.references.iter().enumerate() {
        let mut check = ReferenceCheck {
            uri: r.uri.clone(),
            role: ReferenceRole::Other,
            target: None,
            digest_method: r.digest_method.clone(),
            expected: r.digest_value.clone(),
            computed: None,
            canonical: Vec::new(),
        };
        let target = r
            .uri
            .strip_prefix('#')
            .and_then(|id| ids.get(id))
            .and_then(|n| n.first().copied());
        let Some(target) = target else {
            v.problem(
                ProblemCode::ReferenceUnresolved,
                format!(
                    "Reference `{}` does not resolve to an element with that ID",
                    r.uri
                ),
            );
            v.references.push(check);
            continue;
        };
        check.target = Some(doc.path(target));
        if Some(target) == timestamp {
            check.role = ReferenceRole::Timestamp;
        } else if Some(target) == body {
            check.role = ReferenceRole::Body;
        } else if body.is_none() && is_body_element(doc, target) {
            // Already reported: the document has no single body to compare with.
        } else {
            v.problem(
                ProblemCode::Wrapping,
                format!(
                    "Reference `{}` resolves to {}, which is neither the document body \
                     /ClinicalDocument/component/nonXMLBody|structuredBody nor this \
                     signature's signatureTimestamp",
                    r.uri,
                    doc.path(target)
                ),
            );
        }
        if let Err(e) = reference_algorithms(parsed.signature, r) {
            v.problem(ProblemCode::UnsupportedAlgorithm, e);
        }
        v.references.push(check);
        targets.push((index, target));
    }
    for (role, what) in [
        (ReferenceRole::Timestamp, "the signatureTimestamp"),
        (ReferenceRole::Body, "the document body"),
    ] {
        let n = v.references.iter().filter(|r| r.role == role).count();
        if n != 1 {
            v.problem(
                ProblemCode::ReferenceSet,
                format!("{n} References cover {what}; exactly 1 is required"),
            );
        }
    }
    if v.problems.len() != before || body.is_none() {
        return None;
    }
    Some(Plan {
        targets: [targets[0], targets[1]],
    })
}

/// Canonicalizes each planned Reference's target once, streaming it into its digest, and
/// compares the digests.
fn digest_references(
    doc: &Document,
    parsed: &ParsedSignature,
    plan: &Plan,
    keep_canonical: bool,
    budget: &mut Budget,
    v: &mut Verification,
) -> Result<(), OverBudget> {
    for (check_index, &(index, target)) in plan.targets.iter().enumerate() {
        let r = &parsed.references[index];
        let Ok((exclude, alg)) = reference_algorithms(parsed.signature, r) else {
            continue; // reported by the plan
        };
        let mut context = digest::Context::new(alg);
        let mut kept = Vec::new();
        c14n::stream(
            doc,
            target,
            exclude,
            &r.c14n_prefixes,
            budget,
            &mut |chunk| {
                context.update(chunk);
                if keep_canonical {
                    kept.extend_from_slice(chunk);
                }
            },
        )?;
        let computed = STANDARD.encode(context.finish().as_ref());
        let check = &mut v.references[check_index];
        if computed != r.digest_value {
            let message = format!(
                "Reference `{}` ({}, {}): digest mismatch, DigestValue {} but computed {}",
                r.uri,
                check.role,
                doc.path(target),
                r.digest_value,
                computed
            );
            check.computed = Some(computed);
            check.canonical = kept;
            v.problem(ProblemCode::ReferenceDigest, message);
        } else {
            check.computed = Some(computed);
            check.canonical = kept;
        }
    }
    Ok(())
}

/// The signer certificate (chain, validity, key usage, entitlement) and, when `value` is set
/// (the canonical SignedInfo is there), the SignatureValue.
fn check_certificate_and_value(
    doc: &Document,
    parsed: &ParsedSignature,
    value: bool,
    opts: &VerifyOptions,
    author: Option<&str>,
    v: &mut Verification,
) {
    // The signer is the first certificate that is not a CA (X509Data may also carry the
    // chain, in any order); the others are candidate intermediates.
    let signer_index = if parsed.certificates.len() == 1 {
        0
    } else {
        parsed
            .certificates
            .iter()
            .position(|c| CertInfo::from_der(c).is_ok_and(|i| !i.is_ca))
            .unwrap_or(0)
    };
    let Some(cert_der) = parsed.certificates.get(signer_index) else {
        return;
    };
    let intermediates: Vec<Vec<u8>> = parsed
        .certificates
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != signer_index)
        .map(|(_, c)| c.clone())
        .collect();
    let info = match CertInfo::from_der(cert_der) {
        Ok(i) => i,
        Err(e) => {
            v.problem(
                ProblemCode::CertMalformed,
                format!("signer certificate: {e}"),
            );
            return;
        }
    };
    // The SignatureValue.
    match keys::public_key_of(cert_der) {
        Err(e) => v.problem(
            ProblemCode::UnsupportedAlgorithm,
            format!("signer certificate: {e}"),
        ),
        Ok(key) => {
            if let Some(sig) = parsed
                .signature_value
                .as_ref()
                .filter(|_| value && parsed.value_checkable)
            {
                match keys::verify_xmldsig(
                    &parsed.signature_method,
                    &key,
                    &v.signed_info_canonical,
                    sig,
                ) {
                    Ok(true) => {}
                    Ok(false) => v.problem(
                        ProblemCode::Value,
                        format!(
                            "SignatureValue does not verify over the canonical SignedInfo with \
                             the key of {}",
                            info.subject
                        ),
                    ),
                    Err(e) => v.problem(ProblemCode::UnsupportedAlgorithm, e),
                }
            }
        }
    }
    // Validity at the check time.
    let at = v.checked_at;
    if let Some(at) = at
        && !info.valid_at(at)
    {
        v.problem(
            ProblemCode::CertNotValidAtTimestamp,
            format!(
                "signer certificate {} is valid from {} to {}, not at {}",
                info.subject,
                fmt_time(info.not_before),
                fmt_time(info.not_after),
                fmt_time(at)
            ),
        );
    }
    // Key usage.
    let ku_ok = info
        .key_usage
        .is_some_and(|k| k.digital_signature || k.non_repudiation);
    if !ku_ok {
        v.problem(
            ProblemCode::CertKeyUsage,
            match info.key_usage {
                None => format!(
                    "signer certificate {} has no key usage extension; digitalSignature or \
                     nonRepudiation is required",
                    info.subject
                ),
                Some(_) => format!(
                    "signer certificate {} key usage has neither digitalSignature nor \
                     nonRepudiation",
                    info.subject
                ),
            },
        );
    }
    // Chain.
    if let Trust::Cas(cas) = &opts.trust
        && let Err(reason) = chain(cert_der, &intermediates, cas, at)
    {
        v.problem(
            ProblemCode::CertUntrusted,
            format!(
                "signer certificate {} (issuer {}) does not chain to a configured signature \
                 CA: {reason}",
                info.subject, info.issuer
            ),
        );
    }
    // Entitlement.
    let authors = author_organisations(doc, author);
    v.author_organisations = authors.clone();
    match &info.organisation_oid {
        None => v.problem(
            ProblemCode::SignerNotEntitled,
            format!(
                "signer certificate {} has no organisation OID in subject serialNumber",
                info.subject
            ),
        ),
        // Nothing names an author organisation: nothing to check the signer against. (The
        // archive always names one: a message without a service unit is refused by the rules.)
        Some(_) if authors.is_empty() => {}
        Some(signer) => {
            if !authors.iter().any(|a| opts.entitlement.allows(signer, a)) {
                v.problem(
                    ProblemCode::SignerNotEntitled,
                    format!(
                        "signer organisation {signer} may not sign for author organisation \
                         {}: neither the same organisation nor a vendor registered for it",
                        authors.join(", ")
                    ),
                );
            }
        }
    }
    v.signer = Some(info);
}

/// Finds a path from `cert` to one of `cas` through `intermediates`.
fn chain(
    cert: &[u8],
    intermediates: &[Vec<u8>],
    cas: &[Vec<u8>],
    at: Option<OffsetDateTime>,
) -> Result<(), String> {
    if cas.is_empty() {
        return Err("no CA configured".into());
    }
    let mut current = cert.to_vec();
    let mut reason = String::from("no configured CA issued it");
    for _depth in 0..5 {
        for ca in cas {
            match keys::issued_by(&current, ca) {
                Ok(()) => {
                    if let (Some(at), Ok(ca_info)) = (at, CertInfo::from_der(ca))
                        && !ca_info.valid_at(at)
                    {
                        return Err(format!(
                            "CA {} is not valid at {}",
                            ca_info.subject,
                            fmt_time(at)
                        ));
                    }
                    return Ok(());
                }
                Err(IssuedError::NameMismatch) => {}
                Err(IssuedError::NotCa) => reason = "the issuing certificate is not a CA".into(),
                Err(IssuedError::BadSignature) => {
                    reason = "the certificate's signature does not verify with the key of the \
                              CA named as its issuer"
                        .into();
                }
                Err(IssuedError::Unsupported(e) | IssuedError::Malformed(e)) => reason = e,
            }
        }
        let next = intermediates
            .iter()
            .find(|i| keys::issued_by(&current, i).is_ok());
        match next {
            Some(i) => current = i.clone(),
            None => return Err(reason),
        }
    }
    Err("the chain is longer than 5 certificates".into())
}

/// The author organisation OIDs; when no author names one, `fallback` (the caller's
/// resolution, see [`verify_for`]), else the service unit. Never the custodian.
pub(crate) fn author_organisations(doc: &Document, fallback: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for author in doc.children_named(doc.root, HL7_NS, "author") {
        let id = doc
            .child(author, HL7_NS, "assignedAuthor")
            .and_then(|a| doc.child(a, HL7_NS, "representedOrganization"))
            .and_then(|o| doc.child(o, HL7_NS, "id"))
            .and_then(|i| doc.element(i).attr("root"));
        if let Some(id) = id
            && !out.iter().any(|o| o == id)
        {
            out.push(id.to_owned());
        }
    }
    if out.is_empty() {
        let unit = || {
            doc.child(doc.root, HL7_NS, "componentOf")
                .and_then(|c| doc.child(c, HL7_NS, "encompassingEncounter"))
                .and_then(|e| {
                    doc.children_named(e, HL7_NS, "encounterParticipant")
                        .find(|p| doc.element(*p).attr("typeCode") == Some("ADM"))
                })
                .and_then(|p| doc.child(p, HL7_NS, "assignedEntity"))
                .and_then(|a| doc.child(a, HL7_NS, "representedOrganization"))
                .and_then(|o| doc.child(o, HL7_NS, "id"))
                .and_then(|i| doc.element(i).attr("root"))
        };
        out.extend(fallback.or_else(unit).map(str::to_owned));
    }
    out
}

/// Formats a time as RFC 3339 (UTC).
pub(crate) fn fmt_time(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public 2026 sample's shape: the author names no organisation.
    const NO_AUTHOR_ORGANISATION: &str = r#"<ClinicalDocument xmlns="urn:hl7-org:v3">
<author><time nullFlavor="NA"/><assignedAuthor><id nullFlavor="NA"/></assignedAuthor></author>
<custodian><assignedCustodian><representedCustodianOrganization><id root="1.2.246.10.32213561.10.0"/></representedCustodianOrganization></assignedCustodian></custodian>
<componentOf><encompassingEncounter><encounterParticipant typeCode="ADM"><assignedEntity><id nullFlavor="NA"/><representedOrganization><id root="1.2.246.10.1246109.10.2001213"/></representedOrganization></assignedEntity></encounterParticipant></encompassingEncounter></componentOf>
</ClinicalDocument>"#;

    #[test]
    fn the_author_organisation_is_never_the_custodian() {
        let doc = Document::parse(NO_AUTHOR_ORGANISATION.as_bytes()).unwrap();
        // Alone, the document names its service unit.
        assert_eq!(
            author_organisations(&doc, None),
            ["1.2.246.10.1246109.10.2001213"]
        );
        // The archive's resolution (the unit's owner, or the message's authorOrPerformer).
        assert_eq!(author_organisations(&doc, Some("9.9.10.0")), ["9.9.10.0"]);
        let named = NO_AUTHOR_ORGANISATION.replace(
            "<id nullFlavor=\"NA\"/></assignedAuthor>",
            "<id nullFlavor=\"NA\"/><representedOrganization><id root=\"7.7\"/></representedOrganization></assignedAuthor>",
        );
        let doc = Document::parse(named.as_bytes()).unwrap();
        assert_eq!(author_organisations(&doc, Some("9.9.10.0")), ["7.7"]);
        let neither = NO_AUTHOR_ORGANISATION.replace("typeCode=\"ADM\"", "typeCode=\"ATND\"");
        let doc = Document::parse(neither.as_bytes()).unwrap();
        assert!(author_organisations(&doc, None).is_empty());
    }

    #[test]
    fn an_organisation_signs_for_itself_and_its_units_only() {
        let own = Entitlement::OwnOnly;
        assert!(own.allows("1.2.246.10.1.10.0", "1.2.246.10.1.10.0"));
        assert!(own.allows(
            "1.2.246.537.10.15675350.10.0",
            "1.2.246.537.10.15675350.19.0"
        ));
        assert!(!own.allows("1.2.246.10.1.10.0", "1.2.246.10.12.10.0"));
        assert!(!own.allows("1.2.246.10.1.10.5", "1.2.246.10.1.19.0"));
        let vendors = Entitlement::Vendors(vec![("9.9.10.0".into(), "1.2.246.10.1.10.0".into())]);
        assert!(vendors.allows("9.9.10.0", "1.2.246.10.1.10.0"));
        assert!(!vendors.allows("9.9.10.0", "1.2.246.10.2.10.0"));
        let custom = Entitlement::Custom(Arc::new(|s, a| s == "v" && a == "c"));
        assert!(custom.allows("v", "c"));
        assert!(!custom.allows("v", "d"));
    }

    #[test]
    fn reads_rfc3339_and_hl7_times() {
        assert_eq!(
            parse_time("2017-09-22T12:15:52Z").unwrap().unix_timestamp(),
            1_506_082_552
        );
        assert_eq!(
            parse_time("20170922151552+0300").unwrap().unix_timestamp(),
            1_506_082_552
        );
        assert!(parse_time("2017-09-22").is_none());
    }
}
