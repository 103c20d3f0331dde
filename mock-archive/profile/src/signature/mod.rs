//! The Kanta system signature ("järjestelmäallekirjoitus"): XML-DSig in the Kanta profile,
//! signing ([`sign`]) and verification ([`verify`]).
//!
//! The profile (DESIGN §3.4, checked against the real files in `interop/`): the CDA's local
//! header (`hl7fi:localSocialHeader`, or `hl7fi:localHeader` in the patient archive) holds
//! `hl7fi:signatureCollection/hl7fi:signature` with a `signatureDescription` (code 3), a
//! `signatureTimestamp` with an `ID`, and a `ds:Signature` whose two References cover the
//! timestamp and the document body (`component/nonXMLBody` or `component/structuredBody`) with
//! exclusive C14N and SHA-256. The header itself is outside the signature.
//!
//! Everything behind this module is our own: a small secure XML tree on quick-xml
//! (`tree`), exclusive C14N (`c14n`), keys through aws-lc-rs (`keys`), the signer (`dsig`)
//! and the verifier (`verify`). The decision against a generic XML-DSig crate is recorded in
//! `docs/signature-decision.md`; only the items re-exported here are the interface, so the
//! implementation can be swapped.

mod c14n;
mod dsig;
mod keys;
mod tree;
mod verify;

pub use dsig::{SignError, TemplateOptions, sign, template};
pub use keys::{KeyError, Signer, certificates_from_pem, check_issuer};
pub use tree::XmlError;
pub use verify::{
    Entitlement, EntitlementRule, Problem, ProblemCode, ReferenceCheck, ReferenceRole, Trust,
    Verification, VerifyOptions, parse_time, verify, verify_for,
};

/// Profile constants: namespaces, algorithm URIs and the signature description code.
pub mod profile {
    /// The HL7 V3 / CDA R2 namespace.
    pub const HL7_NS: &str = "urn:hl7-org:v3";
    /// The Finnish CDA header extension namespace \[public\].
    pub const HL7FI_NS: &str = "urn:hl7finland";
    /// The XML-DSig namespace.
    pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
    /// The exclusive C14N algorithm (and the namespace of its `InclusiveNamespaces`).
    pub const EXC_C14N: &str = super::c14n::EXC_C14N;
    /// The enveloped-signature transform.
    pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
    /// SHA-256 digest.
    pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
    /// SHA-384 digest.
    pub const SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";
    /// SHA-512 digest.
    pub const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";
    /// `rsa-sha256` SignatureMethod.
    pub const RSA_SHA256: &str = super::keys::RSA_SHA256;
    /// `ecdsa-sha256` SignatureMethod.
    pub const ECDSA_SHA256: &str = super::keys::ECDSA_SHA256;
    /// `ecdsa-sha384` SignatureMethod.
    pub const ECDSA_SHA384: &str = super::keys::ECDSA_SHA384;
    /// Code system of the signature type ("Sähköisen allekirjoituksen tyyppi") \[public\].
    pub const SIGNATURE_TYPE_CODE_SYSTEM: &str = "1.2.246.537.5.40127.2006";
    /// Its name as written in the public documents \[public\].
    pub const SIGNATURE_TYPE_CODE_SYSTEM_NAME: &str =
        "KanTa-palvelut - Sähköisen allekirjoituksen tyyppi";
    /// Code 3: system signature by the client system ("Järjestelmäallekirjoitus") \[public\].
    pub const SYSTEM_SIGNATURE_CODE: &str = "3";
    /// Display name of code 3 as written in the 2026 public document \[public\].
    pub const SYSTEM_SIGNATURE_DISPLAY_NAME: &str = "Järjestelmäallekirjoitus";
}
