//! Signing: inserts `hl7fi:signatureCollection/hl7fi:signature` with a `signatureDescription`
//! (code 3), a `signatureTimestamp` and a `ds:Signature` into the CDA's local header, in the
//! 2026 form (each Reference: enveloped-signature then exc-c14n, SHA-256).
//!
//! Signing works on the source bytes: the signature is spliced in as text, so everything
//! outside it (and so the signed body) stays byte for byte as it was. The steps are: a
//! template with empty DigestValue/SignatureValue ([`template`], also what `xmlsec1 --sign`
//! is given in the oracle tests), then the digests, then the SignatureValue over the canonical
//! SignedInfo.

use aws_lc_rs::rand::SecureRandom;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;

use super::c14n;
use super::keys::Signer;
use super::profile::{
    DSIG_NS, ENVELOPED_SIGNATURE, EXC_C14N, HL7_NS, HL7FI_NS, SHA256, SIGNATURE_TYPE_CODE_SYSTEM,
    SIGNATURE_TYPE_CODE_SYSTEM_NAME, SYSTEM_SIGNATURE_CODE, SYSTEM_SIGNATURE_DISPLAY_NAME,
};
use super::tree::{Document, NodeId, XmlError};
use super::verify::{self, digest_reference, local_header, parse_signature, real_body};

/// A document that could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The document is not readable XML.
    #[error("the document cannot be read: {0}")]
    Xml(#[from] XmlError),
    /// The root element is not a CDA `ClinicalDocument`.
    #[error("the root element is `{0}`, not ClinicalDocument in urn:hl7-org:v3")]
    NotCda(String),
    /// There is no local header to put the signature in.
    #[error("no hl7fi:localSocialHeader or hl7fi:localHeader under /ClinicalDocument")]
    NoLocalHeader,
    /// There is no single body to sign.
    #[error("no single body to sign: {0}")]
    NoBody(String),
    /// The document already has a system signature.
    #[error("the document already has a system signature in {0}")]
    AlreadySigned(String),
    /// The key failed to sign (an aws-lc error).
    #[error("the private key failed to sign")]
    Crypto,
    /// Internal: the spliced document could not be re-read (a bug).
    #[error("internal error: the signed document does not re-read ({0})")]
    Internal(String),
}

/// What goes into a signature template.
#[derive(Debug, Clone)]
pub struct TemplateOptions {
    /// The SignatureMethod algorithm URI.
    pub signature_method: String,
    /// The signer certificate chain (DER, signer first) for KeyInfo/X509Data; empty writes an
    /// empty `<ds:X509Data/>` for a tool such as `xmlsec1` to fill.
    pub certificates: Vec<Vec<u8>>,
    /// The signature timestamp.
    pub timestamp: OffsetDateTime,
}

/// A signature template: the document with the signature structure inserted and empty
/// DigestValue and SignatureValue.
#[derive(Debug, Clone)]
struct Template {
    bytes: Vec<u8>,
    signature_id: String,
}

/// Returns `cda` with an unsigned signature structure (empty DigestValue and SignatureValue)
/// in its local header, and an `ID` on the body if it had none.
pub fn template(cda: &[u8], opts: &TemplateOptions) -> Result<Vec<u8>, SignError> {
    Ok(build_template(cda, opts)?.bytes)
}

/// Signs a CDA document: the returned bytes are `cda` with a system signature in its local
/// header.
pub fn sign(cda: &[u8], signer: &Signer, timestamp: OffsetDateTime) -> Result<Vec<u8>, SignError> {
    let opts = TemplateOptions {
        signature_method: signer.signature_method().to_owned(),
        certificates: signer.chain().to_vec(),
        timestamp,
    };
    let tpl = build_template(cda, &opts)?;
    // Digests.
    let doc = reparse(&tpl.bytes)?;
    let (_, ds) = find_signature(&doc, &tpl.signature_id)?;
    let (parsed, _) =
        parse_signature(&doc, ds).map_err(|p| SignError::Internal(p.message.clone()))?;
    let mut edits = Vec::new();
    for r in &parsed.references {
        let id = r.uri.trim_start_matches('#');
        let target = doc
            .elements()
            .find(|e| doc.element(*e).attr("ID") == Some(id))
            .ok_or_else(|| SignError::Internal(format!("reference {} unresolved", r.uri)))?;
        let (_, digest) = digest_reference(&doc, target, ds, r).map_err(SignError::Internal)?;
        let span = doc.element(r.digest_value_node).span;
        edits.push((span.start_tag_end, span.end_tag_start, digest));
    }
    let with_digests = splice(&tpl.bytes, edits);
    // SignatureValue.
    let doc = reparse(&with_digests)?;
    let (_, ds) = find_signature(&doc, &tpl.signature_id)?;
    let signed_info = doc
        .child(ds, DSIG_NS, "SignedInfo")
        .ok_or_else(|| SignError::Internal("no SignedInfo".into()))?;
    let canonical = c14n::canonicalize(&doc, signed_info, None, &[]);
    let value = signer.sign(&canonical).map_err(|_| SignError::Crypto)?;
    let sv = doc
        .child(ds, DSIG_NS, "SignatureValue")
        .ok_or_else(|| SignError::Internal("no SignatureValue".into()))?;
    let span = doc.element(sv).span;
    Ok(splice(
        &with_digests,
        vec![(
            span.start_tag_end,
            span.end_tag_start,
            STANDARD.encode(value),
        )],
    ))
}

fn reparse(bytes: &[u8]) -> Result<Document<'_>, SignError> {
    Document::parse(bytes).map_err(|e| SignError::Internal(e.to_string()))
}

fn find_signature(doc: &Document, id: &str) -> Result<(NodeId, NodeId), SignError> {
    verify::system_signatures(doc)
        .into_iter()
        .find(|s| doc.element(*s).attr("ID") == Some(id))
        .and_then(|s| doc.child(s, DSIG_NS, "Signature").map(|ds| (s, ds)))
        .ok_or_else(|| SignError::Internal("the inserted signature is not found".into()))
}

/// Replaces byte ranges `[from, to)` with text; ranges must not overlap.
fn splice(src: &[u8], mut edits: Vec<(usize, usize, String)>) -> Vec<u8> {
    edits.sort_by_key(|e| e.0);
    let mut out = Vec::with_capacity(src.len() + 1024);
    let mut pos = 0;
    for (from, to, text) in edits {
        out.extend_from_slice(&src[pos..from]);
        out.extend_from_slice(text.as_bytes());
        pos = to;
    }
    out.extend_from_slice(&src[pos..]);
    out
}

/// `n` random bytes as lowercase hex.
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random generator works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Escapes text for an attribute value or element content.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn build_template(cda: &[u8], opts: &TemplateOptions) -> Result<Template, SignError> {
    let doc = Document::parse(cda)?;
    let root = doc.element(doc.root);
    if !root.is(HL7_NS, "ClinicalDocument") {
        return Err(SignError::NotCda(root.qname()));
    }
    let header = local_header(&doc).ok_or(SignError::NoLocalHeader)?;
    if let Some(s) = verify::system_signatures(&doc).first() {
        return Err(SignError::AlreadySigned(doc.path(*s)));
    }
    let body = real_body(&doc).map_err(SignError::NoBody)?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();

    // The body's ID: kept if present, otherwise "OID<document id>" (structuredBody: ".0"
    // appended, as in the HUS 2017 documents) [public shape].
    let body_el = doc.element(body);
    let body_id = match body_el.attr("ID") {
        Some(id) => id.to_owned(),
        None => {
            let doc_id = doc
                .child(doc.root, HL7_NS, "id")
                .and_then(|i| doc.element(i).attr("root"))
                .map(str::to_owned)
                .unwrap_or_else(|| random_hex(8));
            let id = if body_el.local == "structuredBody" {
                format!("OID{doc_id}.0")
            } else {
                format!("OID{doc_id}")
            };
            let span = body_el.span;
            let at = if span.is_empty_tag() {
                let tag = &cda[span.start..span.start_tag_end];
                span.start + tag.len() - 2
            } else {
                span.start_tag_end - 1
            };
            edits.push((at, at, format!(" ID=\"{}\"", esc(&id))));
            id
        }
    };

    let token = random_hex(8);
    let signature_id = format!("sig-{token}");
    let timestamp_id = format!("ts-{token}");
    let ts = opts
        .timestamp
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .expect("0 is a valid nanosecond");
    let ts_text = verify::fmt_time(ts);
    let reference = |uri: &str| {
        format!(
            "<ds:Reference URI=\"#{uri}\"><ds:Transforms>\
             <ds:Transform Algorithm=\"{ENVELOPED_SIGNATURE}\"/>\
             <ds:Transform Algorithm=\"{EXC_C14N}\"/></ds:Transforms>\
             <ds:DigestMethod Algorithm=\"{SHA256}\"/><ds:DigestValue></ds:DigestValue>\
             </ds:Reference>",
            uri = esc(uri)
        )
    };
    let x509 = if opts.certificates.is_empty() {
        "<ds:X509Data/>".to_owned()
    } else {
        let certs: String = opts
            .certificates
            .iter()
            .map(|c| {
                format!(
                    "<ds:X509Certificate>{}</ds:X509Certificate>",
                    STANDARD.encode(c)
                )
            })
            .collect();
        format!("<ds:X509Data>{certs}</ds:X509Data>")
    };
    let signature = format!(
        "<signature ID=\"{signature_id}\">\
         <signatureDescription code=\"{SYSTEM_SIGNATURE_CODE}\" \
         codeSystem=\"{SIGNATURE_TYPE_CODE_SYSTEM}\" \
         codeSystemName=\"{SIGNATURE_TYPE_CODE_SYSTEM_NAME}\" \
         displayName=\"{SYSTEM_SIGNATURE_DISPLAY_NAME}\"/>\
         <signatureTimestamp ID=\"{timestamp_id}\">{ts_text}</signatureTimestamp>\
         <ds:Signature xmlns:ds=\"{DSIG_NS}\"><ds:SignedInfo>\
         <ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/>\
         <ds:SignatureMethod Algorithm=\"{method}\"/>{r1}{r2}</ds:SignedInfo>\
         <ds:SignatureValue></ds:SignatureValue><ds:KeyInfo>{x509}</ds:KeyInfo>\
         </ds:Signature></signature>",
        method = esc(&opts.signature_method),
        r1 = reference(&timestamp_id),
        r2 = reference(&body_id),
    );

    // Into an existing signatureCollection, or a new one at the end of the header.
    let collection = doc.child(header, HL7FI_NS, "signatureCollection");
    let (container, insert) = match collection {
        Some(c) => (
            c,
            signature.replacen(
                "<signature ",
                &format!("<signature xmlns=\"{HL7FI_NS}\" "),
                1,
            ),
        ),
        None => (
            header,
            format!("<signatureCollection xmlns=\"{HL7FI_NS}\">{signature}</signatureCollection>"),
        ),
    };
    let span = doc.element(container).span;
    if span.is_empty_tag() {
        // `<x .../>` becomes `<x ...>` + signature + `</x>`.
        let tag = std::str::from_utf8(&cda[span.start..span.end])
            .map_err(|e| SignError::Internal(e.to_string()))?;
        let open = tag.trim_end_matches("/>").trim_end();
        let qname = doc.element(container).qname();
        edits.push((span.start, span.end, format!("{open}>{insert}</{qname}>")));
    } else {
        edits.push((span.end_tag_start, span.end_tag_start, insert));
    }
    Ok(Template {
        bytes: splice(cda, edits),
        signature_id,
    })
}
