//! Problems found while reading a message or document: a stable code, an XPath-like location
//! and a human-readable message. Readers collect **all** problems, never just the first.

use serde::{Serialize, Serializer};

/// One problem found in a message or a CDA document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The stable code (see [`ProblemCode::as_str`]).
    pub code: ProblemCode,
    /// XPath-like location of the offending element or attribute, relative to the HL7 V3
    /// message root (or the CDA root when reading a bare document), e.g.
    /// `/RCMR_IN200002FI01/controlActProcess/subject/clinicalDocument/setId`. A CDA carried
    /// inside a message continues the path of its `text` element:
    /// `.../clinicalDocument/text/ClinicalDocument/setId`.
    pub location: String,
    /// What is wrong, in English, lowercase, naming the values involved.
    pub message: String,
}

impl Problem {
    /// Makes a problem.
    pub fn new(code: ProblemCode, location: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            location: location.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {}: {}",
            self.code.as_str(),
            self.location,
            self.message
        )
    }
}

macro_rules! problem_codes {
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, )*) => {
        /// The stable problem codes. [`ProblemCode::as_str`] gives the text used in
        /// acknowledgements, JSON and snapshots; it never changes once published.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ProblemCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ProblemCode {
            /// Every code, in declaration order (for documentation and code lists).
            pub const ALL: &'static [ProblemCode] = &[ $( ProblemCode::$variant, )* ];

            /// The stable text of the code, e.g. `"XML_DOCTYPE"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ProblemCode::$variant => $text, )*
                }
            }
        }
    };
}

problem_codes! {
    /// The input is larger than [`super::Limits::max_bytes`].
    XmlTooLarge => "XML_TOO_LARGE",
    /// The input is not valid UTF-8.
    XmlInvalidUtf8 => "XML_INVALID_UTF8",
    /// The XML declaration names an encoding other than UTF-8.
    XmlEncoding => "XML_ENCODING",
    /// A document type declaration (`<!DOCTYPE`) is present; none is allowed.
    XmlDoctype => "XML_DOCTYPE",
    /// An entity declaration (`<!ENTITY`) is present; never expanded, always refused.
    XmlEntityDeclaration => "XML_ENTITY_DECLARATION",
    /// A reference to an entity other than the five predefined ones.
    XmlUndefinedEntity => "XML_UNDEFINED_ENTITY",
    /// Elements nest deeper than [`super::Limits::max_depth`].
    XmlTooDeep => "XML_TOO_DEEP",
    /// An element has more attributes than [`super::Limits::max_attributes`].
    XmlTooManyAttributes => "XML_TOO_MANY_ATTRIBUTES",
    /// The document has more elements than [`super::Limits::max_elements`].
    XmlTooManyElements => "XML_TOO_MANY_ELEMENTS",
    /// The document ends before all elements are closed.
    XmlTruncated => "XML_TRUNCATED",
    /// The document is not well-formed XML.
    XmlMalformed => "XML_MALFORMED",
    /// A namespace prefix is used without being declared.
    XmlUnknownPrefix => "XML_UNKNOWN_PREFIX",
    /// Two elements carry the same `ID` attribute value.
    XmlDuplicateId => "XML_DUPLICATE_ID",
    /// The input holds no root element.
    XmlNoRoot => "XML_NO_ROOT",
    /// A SOAP envelope without a `Body`, or whose `Body` does not hold exactly one element.
    SoapBody => "SOAP_BODY",
    /// An element is in the wrong XML namespace.
    WrongNamespace => "WRONG_NAMESPACE",
    /// The root element is not an HL7 V3 interaction this project knows.
    UnknownInteraction => "UNKNOWN_INTERACTION",
    /// A message was expected but a bare CDA document was given, or the other way round.
    WrongDocumentKind => "WRONG_DOCUMENT_KIND",
    /// A required element or attribute is missing.
    MissingField => "MISSING_FIELD",
    /// A value has the wrong form (not a number, not a timestamp, unknown code...).
    BadValue => "BAD_VALUE",
    /// An id root is not a syntactically valid OID.
    OidSyntax => "OID_SYNTAX",
    /// A business ID (Y-tunnus) has the wrong form.
    YTunnusFormat => "YTUNNUS_FORMAT",
    /// A business ID (Y-tunnus) has a wrong check digit.
    YTunnusCheckDigit => "YTUNNUS_CHECK_DIGIT",
    /// An identity code (henkilötunnus) has the wrong length or shape.
    HetuFormat => "HETU_FORMAT",
    /// An identity code has an unknown century sign.
    HetuCenturySign => "HETU_CENTURY_SIGN",
    /// An identity code's date of birth is not a calendar date.
    HetuDate => "HETU_DATE",
    /// An identity code's individual number is out of range (000 and 001 are never issued).
    HetuIndividualNumber => "HETU_INDIVIDUAL_NUMBER",
    /// An identity code's check character is wrong.
    HetuCheckCharacter => "HETU_CHECK_CHARACTER",
    /// An identity code is valid but not a test code (individual number 900–999).
    HetuNotTest => "HETU_NOT_TEST",
    /// `clinicalDocument/text` holds no MIME part (e.g. a placeholder).
    MimeMissing => "MIME_MISSING",
    /// `clinicalDocument/text` has a `mediaType` other than `multipart/related`.
    MimeMediaType => "MIME_MEDIA_TYPE",
    /// The MIME headers are malformed or not `multipart/related`.
    MimeHeader => "MIME_HEADER",
    /// The MIME boundary is missing, or the body does not use the declared boundary.
    MimeBoundary => "MIME_BOUNDARY",
    /// The multipart body holds no part, or more than one.
    MimePartCount => "MIME_PART_COUNT",
    /// The MIME part's `Content-Type` is not an XML type.
    MimeContentType => "MIME_CONTENT_TYPE",
    /// The MIME part's `Content-Transfer-Encoding` is not base64.
    MimeTransferEncoding => "MIME_TRANSFER_ENCODING",
    /// The MIME part has no `Content-ID`.
    MimeContentIdMissing => "MIME_CONTENT_ID_MISSING",
    /// The MIME part's `Content-ID` is not the message's document id.
    MimeContentIdMismatch => "MIME_CONTENT_ID_MISMATCH",
    /// Base64 content does not decode.
    Base64Invalid => "BASE64_INVALID",
    /// The CDA has neither `hl7fi:localSocialHeader` nor `hl7fi:localHeader`.
    CdaNoLocalHeader => "CDA_NO_LOCAL_HEADER",
    /// The CDA has no `component/nonXMLBody` or `component/structuredBody`.
    CdaNoBody => "CDA_NO_BODY",
    /// The body's `ID` is not `OID<document id>` (nonXMLBody) or `OID<document id>.0`.
    CdaBodyId => "CDA_BODY_ID",
    /// The nonXMLBody narrative is not base64 XHTML in UTF-8.
    CdaNarrative => "CDA_NARRATIVE",
    /// Message-level metadata differs from the CDA's (id, setId, version, time, client,
    /// custodian).
    MetadataMismatch => "METADATA_MISMATCH",
    /// `interactionId` disagrees with the root element or the control act code.
    InteractionMismatch => "INTERACTION_MISMATCH",
    /// A replacement (RPLC) is missing, incomplete or inconsistent with the versioning.
    Replacement => "REPLACEMENT",
    /// A new document that is not version 1 of its own set.
    NewDocumentVersion => "NEW_DOCUMENT_VERSION",
}

impl Serialize for ProblemCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_screaming_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ProblemCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate code {text}");
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{text}"
            );
        }
    }

    #[test]
    fn display_names_code_location_and_message() {
        let p = Problem::new(ProblemCode::XmlDoctype, "/", "a document type declaration");
        assert_eq!(
            p.to_string(),
            "XML_DOCTYPE at /: a document type declaration"
        );
    }
}
