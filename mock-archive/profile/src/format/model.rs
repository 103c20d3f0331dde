//! The typed model of what was read: [`Message`] (the HL7 V3 frame) and [`Cda`] (the CDA R2
//! document inside it). Plain data, serializable, every field optional where the input may
//! lack it: the readers report a missing field as a problem and still fill in the rest.

use serde::Serialize;

/// An HL7 instance identifier (`II`): `root` and optional `extension`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct InstanceId {
    /// The root (an OID).
    pub root: String,
    /// The extension, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
}

impl InstanceId {
    /// An id with a root only.
    pub fn root(root: impl Into<String>) -> Self {
        Self {
            root: root.into(),
            extension: None,
        }
    }

    /// An id with root and extension.
    pub fn with_extension(root: impl Into<String>, extension: impl Into<String>) -> Self {
        Self {
            root: root.into(),
            extension: Some(extension.into()),
        }
    }
}

impl std::fmt::Display for InstanceId {
    /// `root` alone, or `extension (root)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.extension {
            Some(ext) => write!(f, "{ext} ({})", self.root),
            None => f.write_str(&self.root),
        }
    }
}

/// A coded value (`CD`/`CE`/`CV`) as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeValue {
    /// The code.
    pub code: String,
    /// The code system OID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_system: Option<String>,
    /// The display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl CodeValue {
    /// Whether this is the registry code `code`.
    pub fn is(&self, code: &super::codes::Code) -> bool {
        self.code == code.code && self.code_system.as_deref() == Some(code.system.oid)
    }
}

/// An organisation: id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    /// Its id (an OID root).
    pub id: Option<InstanceId>,
    /// Its name.
    pub name: Option<String>,
}

/// A person: id (e.g. identity code) and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    /// Its id.
    pub id: Option<InstanceId>,
    /// Given name (the first `given` that is not a call name) and family name, space-separated.
    pub name: Option<String>,
}

/// The document a replacement replaces (`relatedDocument typeCode="RPLC"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParentDocument {
    /// The parent's document id.
    pub id: Option<InstanceId>,
    /// The parent's set id.
    pub set_id: Option<InstanceId>,
    /// The parent's version.
    pub version_number: Option<u32>,
}

/// How a message was wrapped, so that the acknowledgement can use the same form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Wrapping {
    /// SOAP 1.1 envelope (`text/xml`).
    Soap11,
    /// SOAP 1.2 envelope (`application/soap+xml`).
    Soap12,
    /// A bare HL7 V3 message (`application/xml`).
    Bare,
}

impl Wrapping {
    /// The HTTP `Content-Type` of this wrapping (DESIGN §3.1).
    pub const fn content_type(self) -> &'static str {
        match self {
            Wrapping::Soap11 => "text/xml; charset=utf-8",
            Wrapping::Soap12 => "application/soap+xml; charset=utf-8",
            Wrapping::Bare => "application/xml",
        }
    }
}

/// The document metadata repeated at message level (`controlActProcess/subject/clinicalDocument`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageDocument {
    /// Document id.
    pub id: Option<InstanceId>,
    /// Register code (`code`, e.g. `1` in 1.2.246.537.6.1264.201701).
    pub register: Option<CodeValue>,
    /// Set id (id of version 1).
    pub set_id: Option<InstanceId>,
    /// Version number.
    pub version_number: Option<u32>,
    /// Effective time as written.
    pub effective_time: Option<String>,
    /// The client (`recordTarget`).
    pub record_target: Option<Person>,
    /// The custodian (register holder).
    pub custodian: Option<Organisation>,
    /// The replaced document, for a replacement.
    pub replaces: Option<ParentDocument>,
    /// Why the document is replaced (`reasonCode`, 1.2.246.537.5.40178.2008).
    pub replacement_reason: Option<CodeValue>,
}

/// The MIME part that carried the CDA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MimePart {
    /// The multipart boundary.
    pub boundary: String,
    /// The part's `Content-Type`.
    pub content_type: Option<String>,
    /// The part's `Content-Transfer-Encoding`.
    pub transfer_encoding: Option<String>,
    /// The part's `Content-ID` without angle brackets.
    pub content_id: Option<String>,
    /// Size of the decoded content in bytes.
    pub decoded_len: usize,
}

/// An HL7 V3 archive message as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// How the message was wrapped.
    pub wrapping: Wrapping,
    /// The root element's name, e.g. `RCMR_IN200002FI01`.
    pub interaction: String,
    /// Message id.
    pub id: Option<InstanceId>,
    /// `creationTime` as written.
    pub creation_time: Option<String>,
    /// `interactionId`.
    pub interaction_id: Option<InstanceId>,
    /// `processingCode@code`.
    pub processing_code: Option<String>,
    /// `processingModeCode@code`.
    pub processing_mode_code: Option<String>,
    /// `receiver/device/id`.
    pub receiver: Option<InstanceId>,
    /// `sender/device/id`.
    pub sender: Option<InstanceId>,
    /// `controlActProcess/code`.
    pub control_act: Option<CodeValue>,
    /// The service request reason code (e.g. `SP1`).
    pub service_request: Option<CodeValue>,
    /// The usage situation reason code ("käyttötilanne").
    pub usage_situation: Option<CodeValue>,
    /// The professional (`authorOrPerformer/assignedPerson`).
    pub professional: Option<Person>,
    /// The service unit (`authorOrPerformer/assignedPerson/representedOrganization`).
    pub service_unit: Option<Organisation>,
    /// The document metadata at message level.
    pub document: MessageDocument,
    /// The MIME part, when one was found.
    pub mime: Option<MimePart>,
    /// The CDA read from the MIME part.
    pub cda: Option<Cda>,
    /// The decoded CDA bytes exactly as carried (for signature verification and storage).
    #[serde(skip)]
    pub cda_bytes: Option<Vec<u8>>,
    /// The byte range of the HL7 V3 message element in the input (the SOAP envelope, if any,
    /// left out): what a resend repeats whatever wrapping it travels in (DESIGN §2 "Resends").
    #[serde(skip)]
    pub span: std::ops::Range<usize>,
}

/// Which Finnish local header a CDA carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HeaderKind {
    /// `hl7fi:localSocialHeader`: a social welfare document.
    Social,
    /// `hl7fi:localHeader`: a patient (health care) document.
    Patient,
}

/// `softwareSupport`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoftwareSupport {
    /// `moderator` (vendor).
    pub moderator: Option<String>,
    /// `product`.
    pub product: Option<String>,
    /// `version`.
    pub version: Option<String>,
}

/// The Finnish local header (`hl7fi:localSocialHeader` or `hl7fi:localHeader`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalHeader {
    /// Which header.
    pub kind: HeaderKind,
    /// `creationTime`.
    pub creation_time: Option<String>,
    /// `documentGroup` (social).
    pub document_group: Option<CodeValue>,
    /// `fileFormat`.
    pub file_format: Option<CodeValue>,
    /// `structuredFileFormat` (social).
    pub structured_file_format: Option<CodeValue>,
    /// `softwareSupport`.
    pub software_support: Option<SoftwareSupport>,
    /// `recordStatus`.
    pub record_status: Option<CodeValue>,
    /// `registryType` (social).
    pub registry_type: Option<CodeValue>,
    /// The organiser: `outsourcingServiceCustomer` and `outsourcingServiceCustomerName`.
    pub organiser: Option<Organisation>,
    /// `totalRetentionPeriodClass` (social).
    pub total_retention_period_class: Option<CodeValue>,
    /// `specialContent` (social).
    pub special_content: Option<CodeValue>,
    /// `contentSpecificationId` (social).
    pub content_specification_id: Option<String>,
    /// `encompassingClientRelationship` (social).
    pub encompassing_client_relationship: Option<InstanceId>,
    /// `documentType` (patient).
    pub document_type: Option<CodeValue>,
    /// `functionCode`: in a social welfare document the service task ("palvelutehtävä",
    /// 1.2.246.537.6.1221.201601); in a patient document its function.
    pub function_code: Option<CodeValue>,
    /// `specificDocumentType` (social, 1.2.246.537.6.1506.201701).
    pub specific_document_type: Option<CodeValue>,
    /// `serviceProcess/code` (social, 1.2.246.537.6.1277.201701): the phase of the service
    /// process the document records, shown as its service event.
    pub service_process: Option<CodeValue>,
}

/// What the `signatureCollection` holds (read only; the signature module verifies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureSummary {
    /// The `signature@ID`.
    pub id: Option<String>,
    /// `signatureDescription` (3 = system signature).
    pub description: Option<CodeValue>,
    /// `signatureTimestamp@ID`.
    pub timestamp_id: Option<String>,
    /// `signatureTimestamp` text.
    pub timestamp: Option<String>,
    /// `ds:Signature/ds:SignedInfo/ds:Reference@URI`s in order.
    pub reference_uris: Vec<String>,
    /// Whether a `ds:SignatureValue` is present.
    pub has_signature_value: bool,
    /// Whether a `ds:X509Certificate` is present.
    pub has_certificate: bool,
}

/// The kind of CDA body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BodyKind {
    /// `component/nonXMLBody` (social welfare: base64 XHTML).
    NonXml,
    /// `component/structuredBody` (patient archive).
    Structured,
}

/// The CDA body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Body {
    /// Which body.
    pub kind: BodyKind,
    /// Its `ID` attribute (the signature's second Reference).
    pub id: Option<String>,
    /// The nonXMLBody `text@mediaType`.
    pub media_type: Option<String>,
    /// The nonXMLBody narrative, base64-decoded (XHTML as a string).
    pub narrative: Option<String>,
}

/// A CDA R2 document as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cda {
    /// `realmCode@code`.
    pub realm_code: Option<String>,
    /// `typeId`.
    pub type_id: Option<InstanceId>,
    /// Document id.
    pub id: Option<InstanceId>,
    /// `code` (often nullFlavor in social welfare documents).
    pub code: Option<CodeValue>,
    /// `title`.
    pub title: Option<String>,
    /// `effectiveTime@value`.
    pub effective_time: Option<String>,
    /// `confidentialityCode`.
    pub confidentiality: Option<CodeValue>,
    /// `setId`.
    pub set_id: Option<InstanceId>,
    /// `versionNumber@value`.
    pub version_number: Option<u32>,
    /// The client (`recordTarget/patientRole`).
    pub record_target: Option<Person>,
    /// The author person.
    pub author: Option<Person>,
    /// The author's represented organisation.
    pub author_organisation: Option<Organisation>,
    /// The custodian: the register holder.
    pub custodian: Option<Organisation>,
    /// The service unit (`componentOf/encompassingEncounter/encounterParticipant[@typeCode='ADM']`).
    pub service_unit: Option<Organisation>,
    /// The replaced document, for a replacement.
    pub replaces: Option<ParentDocument>,
    /// `authorization/consent/code`.
    pub consent: Option<CodeValue>,
    /// The Finnish local header.
    pub header: Option<LocalHeader>,
    /// The first signature of the `signatureCollection`.
    pub signature: Option<SignatureSummary>,
    /// The body.
    pub body: Option<Body>,
}
