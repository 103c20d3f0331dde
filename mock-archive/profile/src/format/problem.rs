//! Problems found while reading a message or document: a stable code, an XPath-like location
//! and a human-readable message. Readers collect **all** problems, never just the first.

use serde::{Serialize, Serializer};

use crate::ack::AckCode;

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
    ($( $(#[$doc:meta])* $variant:ident => $text:literal, $fi:literal, $en:literal; )*) => {
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

            /// A short Finnish description of the code, for acknowledgement details.
            pub const fn finnish(self) -> &'static str {
                match self {
                    $( ProblemCode::$variant => $fi, )*
                }
            }

            /// A short English description of the code, for acknowledgement details.
            pub const fn english(self) -> &'static str {
                match self {
                    $( ProblemCode::$variant => $en, )*
                }
            }
        }
    };
}

problem_codes! {
    /// The input is larger than [`super::Limits::max_bytes`].
    XmlTooLarge => "XML_TOO_LARGE", "Sanoma on liian suuri", "the message is too large";
    /// The input is not valid UTF-8.
    XmlInvalidUtf8 => "XML_INVALID_UTF8", "Sanoma ei ole kelvollista UTF-8-tekstiä", "the message is not valid UTF-8";
    /// The XML declaration names an encoding other than UTF-8.
    XmlEncoding => "XML_ENCODING", "Merkistö ei ole UTF-8", "the encoding is not UTF-8";
    /// A document type declaration (`<!DOCTYPE`) is present; none is allowed.
    XmlDoctype => "XML_DOCTYPE", "DOCTYPE-määrittely ei ole sallittu", "a document type declaration is not allowed";
    /// An entity declaration (`<!ENTITY`) is present; never expanded, always refused.
    XmlEntityDeclaration => "XML_ENTITY_DECLARATION", "Entiteettimäärittely ei ole sallittu", "an entity declaration is not allowed";
    /// A reference to an entity other than the five predefined ones.
    XmlUndefinedEntity => "XML_UNDEFINED_ENTITY", "Viittaus määrittelemättömään entiteettiin", "a reference to an undefined entity";
    /// Elements nest deeper than [`super::Limits::max_depth`].
    XmlTooDeep => "XML_TOO_DEEP", "Elementtien sisäkkäisyys on liian syvä", "elements nest too deep";
    /// An element has more attributes than [`super::Limits::max_attributes`].
    XmlTooManyAttributes => "XML_TOO_MANY_ATTRIBUTES", "Elementillä on liikaa attribuutteja", "an element has too many attributes";
    /// The document has more elements than [`super::Limits::max_elements`].
    XmlTooManyElements => "XML_TOO_MANY_ELEMENTS", "Sanomassa on liikaa elementtejä", "the message has too many elements";
    /// The document ends before all elements are closed.
    XmlTruncated => "XML_TRUNCATED", "Sanoma päättyy kesken", "the message ends early";
    /// The document is not well-formed XML.
    XmlMalformed => "XML_MALFORMED", "Sanoma ei ole hyvinmuodostettua XML:ää", "the message is not well-formed XML";
    /// A namespace prefix is used without being declared.
    XmlUnknownPrefix => "XML_UNKNOWN_PREFIX", "Nimiavaruuden etuliitettä ei ole määritelty", "an undeclared namespace prefix";
    /// Two elements carry the same `ID` attribute value.
    XmlDuplicateId => "XML_DUPLICATE_ID", "Sama ID-tunniste esiintyy useasti", "an ID attribute value is used twice";
    /// The input holds no root element.
    XmlNoRoot => "XML_NO_ROOT", "Sanomassa ei ole juurielementtiä", "the message has no root element";
    /// A SOAP envelope without a `Body`, or whose `Body` does not hold exactly one element.
    SoapBody => "SOAP_BODY", "SOAP-kuoren runko puuttuu tai on virheellinen", "the SOAP Body is missing or malformed";
    /// An element is in the wrong XML namespace.
    WrongNamespace => "WRONG_NAMESPACE", "Elementti on väärässä nimiavaruudessa", "an element is in the wrong namespace";
    /// The root element is not an HL7 V3 interaction this project knows.
    UnknownInteraction => "UNKNOWN_INTERACTION", "Tuntematon sanomatyyppi", "an unknown interaction";
    /// A message was expected but a bare CDA document was given, or the other way round.
    WrongDocumentKind => "WRONG_DOCUMENT_KIND", "Odotettiin sanomaa, saatiin asiakirja (tai päinvastoin)", "a message was expected but a document was given, or the other way round";
    /// A required element or attribute is missing.
    MissingField => "MISSING_FIELD", "Pakollinen tieto puuttuu", "a required field is missing";
    /// A value has the wrong form (not a number, not a timestamp, unknown code...).
    BadValue => "BAD_VALUE", "Tiedon arvo on virheellinen", "a value has the wrong form";
    /// An id root is not a syntactically valid OID.
    OidSyntax => "OID_SYNTAX", "OID-tunniste on virheellinen", "an OID is not valid";
    /// A business ID (Y-tunnus) has the wrong form.
    YTunnusFormat => "YTUNNUS_FORMAT", "Y-tunnus on väärän muotoinen", "a business ID has the wrong form";
    /// A business ID (Y-tunnus) has a wrong check digit.
    YTunnusCheckDigit => "YTUNNUS_CHECK_DIGIT", "Y-tunnuksen tarkistenumero on väärä", "a business ID has a wrong check digit";
    /// An identity code (henkilötunnus) has the wrong length or shape.
    HetuFormat => "HETU_FORMAT", "Henkilötunnus on väärän muotoinen", "an identity code has the wrong form";
    /// An identity code has an unknown century sign.
    HetuCenturySign => "HETU_CENTURY_SIGN", "Henkilötunnuksen välimerkki on tuntematon", "an identity code has an unknown century sign";
    /// An identity code's date of birth is not a calendar date.
    HetuDate => "HETU_DATE", "Henkilötunnuksen syntymäaika ei ole todellinen päivämäärä", "an identity code's date of birth is not a real date";
    /// An identity code's individual number is out of range (000 and 001 are never issued).
    HetuIndividualNumber => "HETU_INDIVIDUAL_NUMBER", "Henkilötunnuksen yksilönumero on virheellinen", "an identity code's individual number is not valid";
    /// An identity code's check character is wrong.
    HetuCheckCharacter => "HETU_CHECK_CHARACTER", "Henkilötunnuksen tarkistusmerkki on väärä", "an identity code has a wrong check character";
    /// An identity code is valid but not a test code (individual number 900–999).
    HetuNotTest => "HETU_NOT_TEST", "Henkilötunnus ei ole testihenkilötunnus", "an identity code is not a test identity code";
    /// `clinicalDocument/text` holds no MIME part (e.g. a placeholder).
    MimeMissing => "MIME_MISSING", "Asiakirjan MIME-osa puuttuu", "the document's MIME part is missing";
    /// `clinicalDocument/text` has a `mediaType` other than `multipart/related`.
    MimeMediaType => "MIME_MEDIA_TYPE", "Tekstin mediatyyppi ei ole multipart/related", "the text media type is not multipart/related";
    /// The MIME headers are malformed or not `multipart/related`.
    MimeHeader => "MIME_HEADER", "MIME-otsakkeet ovat virheelliset", "the MIME headers are malformed";
    /// The MIME boundary is missing, or the body does not use the declared boundary.
    MimeBoundary => "MIME_BOUNDARY", "MIME-rajaus ei täsmää", "the MIME boundary does not match";
    /// The multipart body holds no part, or more than one.
    MimePartCount => "MIME_PART_COUNT", "MIME-osien määrä on väärä", "the number of MIME parts is wrong";
    /// The MIME part's `Content-Type` is not an XML type.
    MimeContentType => "MIME_CONTENT_TYPE", "MIME-osan sisältötyyppi on väärä", "the MIME part's content type is wrong";
    /// The MIME part's `Content-Transfer-Encoding` is not base64.
    MimeTransferEncoding => "MIME_TRANSFER_ENCODING", "MIME-osa ei ole base64-koodattu", "the MIME part is not base64-encoded";
    /// The MIME part has no `Content-ID`.
    MimeContentIdMissing => "MIME_CONTENT_ID_MISSING", "MIME-osan Content-ID puuttuu", "the MIME part has no Content-ID";
    /// The MIME part's `Content-ID` is not the message's document id.
    MimeContentIdMismatch => "MIME_CONTENT_ID_MISMATCH", "MIME-osan Content-ID ei ole asiakirjan tunniste", "the MIME part's Content-ID is not the document id";
    /// Base64 content does not decode.
    Base64Invalid => "BASE64_INVALID", "Base64-koodaus on virheellinen", "the base64 encoding is not valid";
    /// The CDA has neither `hl7fi:localSocialHeader` nor `hl7fi:localHeader`.
    CdaNoLocalHeader => "CDA_NO_LOCAL_HEADER", "Asiakirjasta puuttuu kansallinen otsake", "the document has no Finnish local header";
    /// The CDA has no `component/nonXMLBody` or `component/structuredBody`.
    CdaNoBody => "CDA_NO_BODY", "Asiakirjasta puuttuu runko", "the document has no body";
    /// The body's `ID` is not `OID<document id>` (nonXMLBody) or `OID<document id>.0`.
    CdaBodyId => "CDA_BODY_ID", "Asiakirjan rungon ID on väärä", "the document body's ID is wrong";
    /// The nonXMLBody narrative is not base64 XHTML in UTF-8.
    CdaNarrative => "CDA_NARRATIVE", "Asiakirjan näyttömuoto on virheellinen", "the document's display form is not valid";
    /// Message-level metadata differs from the CDA's (id, setId, version, time, client,
    /// custodian).
    MetadataMismatch => "METADATA_MISMATCH", "Sanoman kuvailutiedot eivät vastaa asiakirjaa", "the message metadata differs from the document's";
    /// `interactionId` disagrees with the root element or the control act code.
    InteractionMismatch => "INTERACTION_MISMATCH", "Sanomatyypin tiedot ovat ristiriitaiset", "the interaction details disagree";
    /// A replacement (RPLC) is missing, incomplete or inconsistent with the versioning.
    Replacement => "REPLACEMENT", "Asiakirjan korvaustiedot ovat virheelliset", "the replacement details are not valid";
    /// A new document that is not version 1 of its own set.
    NewDocumentVersion => "NEW_DOCUMENT_VERSION", "Uuden asiakirjan versio on väärä", "a new document has the wrong version";
}

impl ProblemCode {
    /// The acknowledgement code the archive answers this problem with. Exhaustive on
    /// purpose: a new problem code does not compile until it is given one.
    pub fn ack_code(self) -> AckCode {
        use ProblemCode as P;
        match self {
            P::UnknownInteraction | P::WrongDocumentKind => AckCode::UnknownInteraction,
            P::MissingField => AckCode::MissingElement,
            P::MimeMissing
            | P::MimeMediaType
            | P::MimeHeader
            | P::MimeBoundary
            | P::MimePartCount
            | P::MimeContentType
            | P::MimeTransferEncoding
            | P::MimeContentIdMissing
            | P::MimeContentIdMismatch
            | P::CdaNoLocalHeader
            | P::CdaNoBody
            | P::CdaBodyId
            | P::CdaNarrative => AckCode::CdaUnreadable,
            P::MetadataMismatch
            | P::InteractionMismatch
            | P::Replacement
            | P::NewDocumentVersion => AckCode::MetadataMismatch,
            P::HetuNotTest => AckCode::IdentityCodeNotTest,
            P::HetuFormat
            | P::HetuCenturySign
            | P::HetuDate
            | P::HetuIndividualNumber
            | P::HetuCheckCharacter => AckCode::IdentityCodeInvalid,
            P::XmlTooLarge
            | P::XmlInvalidUtf8
            | P::XmlEncoding
            | P::XmlDoctype
            | P::XmlEntityDeclaration
            | P::XmlUndefinedEntity
            | P::XmlTooDeep
            | P::XmlTooManyAttributes
            | P::XmlTooManyElements
            | P::XmlTruncated
            | P::XmlMalformed
            | P::XmlUnknownPrefix
            | P::XmlDuplicateId
            | P::XmlNoRoot
            | P::SoapBody
            | P::WrongNamespace
            | P::BadValue
            | P::OidSyntax
            | P::YTunnusFormat
            | P::YTunnusCheckDigit
            | P::Base64Invalid => AckCode::MessageUnreadable,
        }
    }
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
    fn every_code_has_finnish_and_english_texts() {
        for code in ProblemCode::ALL {
            assert!(
                !code.finnish().is_empty() && !code.english().is_empty(),
                "{code}"
            );
            assert!(
                code.english().starts_with(|c: char| c.is_lowercase()),
                "{code}"
            );
        }
        assert_eq!(
            ProblemCode::HetuNotTest.finnish(),
            "Henkilötunnus ei ole testihenkilötunnus"
        );
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
