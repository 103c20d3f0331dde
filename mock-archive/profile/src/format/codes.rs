//! Every code system, code value and fixed identifier the project uses, in one place, each
//! marked [`Provenance::Public`] (seen in public material, with where) or
//! [`Provenance::Convention`] (this project's choice where public material is silent, DESIGN
//! §3). A user holding the official specifications replaces a convention by editing its one
//! constant here. [`ALL`] lists everything for documentation and tests.

use serde::Serialize;

/// Where a value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Provenance {
    /// Seen in public material.
    Public {
        /// Where it was seen.
        source: &'static str,
    },
    /// This project's convention: not an official Kanta value.
    Convention {
        /// Why and how it was chosen.
        note: &'static str,
    },
}

impl Provenance {
    /// Whether the value was seen in public material.
    pub const fn is_public(&self) -> bool {
        matches!(self, Provenance::Public { .. })
    }
}

/// A code system (an OID naming a code list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CodeSystem {
    /// The code system OID.
    pub oid: &'static str,
    /// Its name as written in `codeSystemName`.
    pub name: &'static str,
    /// Where it comes from.
    pub provenance: Provenance,
}

/// A coded value: `code` in `code_system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Code {
    /// The code.
    pub code: &'static str,
    /// The code system it belongs to.
    pub system: CodeSystem,
    /// Its `displayName` (Finnish, as in the public files).
    pub display_name: &'static str,
    /// Where it comes from.
    pub provenance: Provenance,
}

impl Code {
    /// Whether a read `code`/`codeSystem` pair is this code.
    pub fn matches(&self, code: &str, system: &str) -> bool {
        self.code == code && self.system.oid == system
    }
}

/// A fixed identifier or string that is not a code (interaction names, OID roots, paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Value {
    /// The value.
    pub value: &'static str,
    /// What it means.
    pub meaning: &'static str,
    /// Where it comes from.
    pub provenance: Provenance,
}

/// One entry of [`ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Entry {
    /// A code system.
    System {
        /// The constant's name.
        name: &'static str,
        /// The system.
        system: CodeSystem,
    },
    /// A code value.
    Code {
        /// The constant's name.
        name: &'static str,
        /// The code.
        code: Code,
    },
    /// A fixed value.
    Value {
        /// The constant's name.
        name: &'static str,
        /// The value.
        value: Value,
    },
}

const SOCIAL_MESSAGE: &str = "interop/social/Asiakkuusasiakirja_K.xml (Warc0ck/SH-Kanta-validator, 2026 Apotti message frame)";
const SOCIAL_CDA: &str =
    "interop/social/Asiakkuusasiakirja_S.xml (Warc0ck/SH-Kanta-validator, 2026 Apotti CDA)";
const HUS_STORE: &str =
    "interop/RCMR_IN100002FI01.xml (tietolaurip/HUS-tietoallas-integration, 2017)";
const HUS_REPLACE: &str =
    "interop/RCMR_IN100016FI01.xml (tietolaurip/HUS-tietoallas-integration, 2017)";
const HUS_BOTH: &str = "interop/RCMR_IN100002FI01.xml and RCMR_IN100016FI01.xml (HUS, 2017)";
const ALL_FILES: &str = "every file in interop/ (HUS 2017 and the 2026 social welfare sample)";
const CASE_FRAME: &str = "`asia ja rajoitukset testi K.xml` (Warc0ck/SH-Kanta-validator, 2026 Apotti message frame of a client plan)";
const CASE_CDA: &str = "`asia ja rajoitukset testi S.xml` (Warc0ck/SH-Kanta-validator, 2026 Apotti CDA of a client plan)";
const BOTH_FRAMES: &str = "interop/social/Asiakkuusasiakirja_K.xml and `asia ja rajoitukset testi K.xml` (Warc0ck/SH-Kanta-validator, 2026 message frames)";

const fn public(source: &'static str) -> Provenance {
    Provenance::Public { source }
}

// ---- Code systems -------------------------------------------------------------------------

/// Service requests of archive messages, social welfare ("palvelupyynnöt").
pub const SERVICE_REQUEST_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.1503.201601",
    name: "Sosiaalihuolto - Arkistosanomien palvelupyynnöt",
    provenance: public(SOCIAL_MESSAGE),
};
/// Service requests of patient data repository messages (`PP1` in the HUS messages).
pub const PATIENT_SERVICE_REQUEST_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.5.40157.2008",
    name: "eArkisto - Arkistosanomien palvelupyynnöt",
    provenance: public(HUS_BOTH),
};
/// Usage situations of the social welfare repository ("käyttötilanne").
pub const USAGE_SITUATION_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.1289.201901",
    name: "Sosiaalihuolto - Asiakastiedon arkiston käyttötilanne",
    provenance: public(SOCIAL_MESSAGE),
};
/// Social welfare register codes ("rekisteritunnus"); also `registryType`.
pub const REGISTER_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.1264.201701",
    name: "Sosiaalihuolto - Asiakirjan rekisteritunnus",
    provenance: public(SOCIAL_MESSAGE),
};
/// Patient data repository register codes.
pub const PATIENT_REGISTER_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.5.40150.2009",
    name: "KanTa-palvelut - Potilasasiakirjan rekisteritunnus",
    provenance: public(HUS_BOTH),
};
/// Social welfare document groups ("asiakirjaryhmä").
pub const DOCUMENT_GROUP_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.1505.201601",
    name: "Sosiaalihuolto - Asiakirjaryhmä",
    provenance: public(SOCIAL_CDA),
};
/// Display-form formats of social welfare documents.
pub const FILE_FORMAT_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.1502.201601",
    name: "Sosiaalihuolto - Asiakirjan näyttömuodon formaatti",
    provenance: public(SOCIAL_CDA),
};
/// Document file formats (eArkisto), used for `structuredFileFormat` and patient `fileFormat`.
pub const ARCHIVE_FILE_FORMAT_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.5.40179.2008",
    name: "eArkisto - Asiakirjan tiedostomuoto",
    provenance: public(SOCIAL_CDA),
};
/// Record status ("valmistumisen tila").
pub const RECORD_STATUS_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.5.40154.2008",
    name: "eArkisto - Asiakirjan valmistumisen tila",
    provenance: public(ALL_FILES),
};
/// Electronic signature types.
pub const SIGNATURE_TYPE_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.5.40127.2006",
    name: "KanTa-palvelut - Sähköisen allekirjoituksen tyyppi",
    provenance: public(ALL_FILES),
};
/// Reasons for replacing a document (RPLC).
pub const REPLACEMENT_REASON_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.5.40178.2008",
    name: "eArkisto - Asiakirjan korvauksen syy",
    provenance: public(HUS_REPLACE),
};
/// Document confidentiality.
pub const CONFIDENTIALITY_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.777.5.99902.2006",
    name: "KanTa-palvelut - Asiakirjan luottamuksellisuus",
    provenance: public(ALL_FILES),
};
/// Total retention period classes of social welfare documents.
pub const RETENTION_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.1258.201601",
    name: "Sosiaalihuolto - asiakirjan kokonaissäilytysaika",
    provenance: public(SOCIAL_CDA),
};
/// Yes / no / unknown (used for `specialContent`).
pub const YES_NO_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.112.2007",
    name: "AR/YDIN - Kyllä/EI/Ei tietoa",
    provenance: public(SOCIAL_CDA),
};
/// HL7 trigger events (control act `code`).
pub const TRIGGER_EVENT_SYSTEM: CodeSystem = CodeSystem {
    oid: "2.16.840.1.113883.1.18",
    name: "HL7 trigger event id",
    provenance: public(ALL_FILES),
};
/// Service tasks of social welfare ("palvelutehtävä"), the local header's `functionCode`.
pub const SERVICE_TASK_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.1221.201601",
    name: "Sosiaalihuolto - Palvelutehtävä",
    provenance: public(CASE_CDA),
};
/// Client document types ("asiakasasiakirjatyyppi"): CDA `code` and `specificDocumentType`.
pub const CLIENT_DOCUMENT_TYPE_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.1506.201701",
    name: "Sosiaalihuolto - Asiakasasiakirjatyyppi",
    provenance: public(CASE_CDA),
};
/// Phases of the social welfare service process (`serviceProcess/code`).
pub const SERVICE_PROCESS_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.6.1277.201701",
    name: "Sosiaalihuolto - Sosiaalihuollon palveluprosessi",
    provenance: public(CASE_CDA),
};
/// Document storage codes (message-level `storageCode`).
pub const STORAGE_CODE_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.5.40116.2006",
    name: "KanTa-palvelut - Dokumentin arkistointikoodi (DocumentStorage)",
    provenance: public(BOTH_FRAMES),
};
/// Document completion codes (message-level `completionCode`).
pub const COMPLETION_CODE_SYSTEM: CodeSystem = CodeSystem {
    oid: "1.2.246.537.5.40115.2006",
    name: "KanTa-palvelut - Dokumentin valmiusaste",
    provenance: public(BOTH_FRAMES),
};
/// Acknowledgement detail codes of this archive (`crate::ack::AckCode`; each detail's text
/// also names the reader's own [`super::ProblemCode`] where one applies).
pub const ACK_DETAIL_SYSTEM: CodeSystem = CodeSystem {
    oid: "2.999.5851.1.1",
    name: "Kantakoe - arkiston kuittauskoodit (testikäytäntö)",
    provenance: Provenance::Convention {
        note: "DESIGN §3.5: our own code list, under the example arc 2.999 so it can never clash with a real OID",
    },
};

// ---- Code values --------------------------------------------------------------------------

/// Service request `SP1`: archive a client relationship document.
pub const SERVICE_REQUEST_SP1: Code = Code {
    code: "SP1",
    system: SERVICE_REQUEST_SYSTEM,
    display_name: "Asiakkuusasiakirjan arkistointi",
    provenance: public(SOCIAL_MESSAGE),
};
/// Service request `SP17`: archive a client document (a document beyond the client
/// relationship document).
pub const SERVICE_REQUEST_SP17: Code = Code {
    code: "SP17",
    system: SERVICE_REQUEST_SYSTEM,
    display_name: "Asiakasasiakirjan arkistointi",
    provenance: public(CASE_FRAME),
};
/// Patient service request `PP1`: archive the provider's own documents.
pub const PATIENT_SERVICE_REQUEST_PP1: Code = Code {
    code: "PP1",
    system: PATIENT_SERVICE_REQUEST_SYSTEM,
    display_name: "Arkistoi palvelujen antajan omia asiakirjoja",
    provenance: public(HUS_BOTH),
};
/// Usage situation `1`: the organiser's register, own use.
pub const USAGE_OWN: Code = Code {
    code: "1",
    system: USAGE_SITUATION_SYSTEM,
    display_name: "Palvelunjärjestäjän rekisterin oma käyttö",
    provenance: public(SOCIAL_MESSAGE),
};
/// Usage situation: a producer stores into an organiser's register under a register usage
/// right.
pub const USAGE_REGISTER_USAGE_RIGHT: Code = Code {
    code: "2",
    system: USAGE_SITUATION_SYSTEM,
    display_name: "Palvelunjärjestäjän rekisterin käyttö rekisterinkäyttöoikeudella",
    provenance: Provenance::Convention {
        note: "the official code for storing under a register usage right is not in public material; `2` is ours",
    },
};
/// Register `1`: the social welfare client register.
pub const REGISTER_SOCIAL: Code = Code {
    code: "1",
    system: REGISTER_SYSTEM,
    display_name: "Sosiaalihuollon asiakasrekisteri",
    provenance: public(SOCIAL_MESSAGE),
};
/// Patient register `2`: public health care (patient data repository, R6).
pub const PATIENT_REGISTER_PUBLIC: Code = Code {
    code: "2",
    system: PATIENT_REGISTER_SYSTEM,
    display_name: "Julkinen terveydenhuolto",
    provenance: public(HUS_BOTH),
};
/// Document group `1`: client relationship document.
pub const DOCUMENT_GROUP_CLIENT_RELATIONSHIP: Code = Code {
    code: "1",
    system: DOCUMENT_GROUP_SYSTEM,
    display_name: "Asiakkuusasiakirja",
    provenance: public(SOCIAL_CDA),
};
/// Document group `5`: a client document of a second or later phase ("toisen tai myöhemmän
/// vaiheen asiakasasiakirja"), what a client's further documents are.
pub const DOCUMENT_GROUP_FOLLOW_UP: Code = Code {
    code: "5",
    system: DOCUMENT_GROUP_SYSTEM,
    display_name: "Toisen tai myöhemmän vaiheen asiakasasiakirja",
    provenance: public(CASE_CDA),
};
/// Service task `24`: services for families with children (the one service task public
/// material shows).
pub const SERVICE_TASK_FAMILIES: Code = Code {
    code: "24",
    system: SERVICE_TASK_SYSTEM,
    display_name: "Lapsiperheiden palvelut",
    provenance: public(CASE_CDA),
};
/// Client document type `15`: a plan (the CDA `code` of a follow-up document).
pub const DOCUMENT_TYPE_PLAN: Code = Code {
    code: "15",
    system: CLIENT_DOCUMENT_TYPE_SYSTEM,
    display_name: "Suunnitelma",
    provenance: public(CASE_CDA),
};
/// Specific document type `15007`: the client plan of services for families with children.
pub const SPECIFIC_DOCUMENT_TYPE_FAMILY_PLAN: Code = Code {
    code: "15007",
    system: CLIENT_DOCUMENT_TYPE_SYSTEM,
    display_name: "Lapsiperheiden palvelujen asiakassuunnitelma",
    provenance: public(CASE_CDA),
};
/// Service process phase `3`: planning the client relationship (the service event a
/// follow-up document records).
pub const SERVICE_PROCESS_PLANNING: Code = Code {
    code: "3",
    system: SERVICE_PROCESS_SYSTEM,
    display_name: "Asiakkuuden suunnittelu",
    provenance: public(CASE_CDA),
};
/// Storage code `AC`: active.
pub const STORAGE_ACTIVE: Code = Code {
    code: "AC",
    system: STORAGE_CODE_SYSTEM,
    display_name: "Active",
    provenance: public(BOTH_FRAMES),
};
/// Completion code `LA`: legally authenticated.
pub const COMPLETION_LEGALLY_AUTHENTICATED: Code = Code {
    code: "LA",
    system: COMPLETION_CODE_SYSTEM,
    display_name: "Legally authenticated",
    provenance: public(BOTH_FRAMES),
};
/// Display format `2`: XHTML 1.1.
pub const FILE_FORMAT_XHTML: Code = Code {
    code: "2",
    system: FILE_FORMAT_SYSTEM,
    display_name: "XHTML_1.1",
    provenance: public(SOCIAL_CDA),
};
/// Structured format `5`: JSON.
pub const STRUCTURED_FILE_FORMAT_JSON: Code = Code {
    code: "5",
    system: ARCHIVE_FILE_FORMAT_SYSTEM,
    display_name: "JSON",
    provenance: public(SOCIAL_CDA),
};
/// File format `1`: CDA R2 (patient archive `fileFormat`).
pub const FILE_FORMAT_CDA_R2: Code = Code {
    code: "1",
    system: ARCHIVE_FILE_FORMAT_SYSTEM,
    display_name: "CDA R2",
    provenance: public(HUS_BOTH),
};
/// Record status `3`: ready for archiving.
pub const RECORD_STATUS_READY: Code = Code {
    code: "3",
    system: RECORD_STATUS_SYSTEM,
    display_name: "Arkistointivalmis",
    provenance: public(ALL_FILES),
};
/// Signature type `3`: system signature by the client system.
pub const SIGNATURE_SYSTEM: Code = Code {
    code: "3",
    system: SIGNATURE_TYPE_SYSTEM,
    display_name: "Järjestelmäallekirjoitus",
    provenance: public(ALL_FILES),
};
/// Replacement reason `1`: correction.
pub const REPLACEMENT_CORRECTION: Code = Code {
    code: "1",
    system: REPLACEMENT_REASON_SYSTEM,
    display_name: "Korjaus",
    provenance: public(HUS_REPLACE),
};
/// Replacement reason: invalidation ("mitätöinti").
pub const REPLACEMENT_INVALIDATION: Code = Code {
    code: "2",
    system: REPLACEMENT_REASON_SYSTEM,
    display_name: "Mitätöinti",
    provenance: Provenance::Convention {
        note: "the invalidation reason code is not in public material; `2` is ours (DESIGN §3.2)",
    },
};
/// Confidentiality `6`: social welfare, confidential.
pub const CONFIDENTIALITY_SOCIAL: Code = Code {
    code: "6",
    system: CONFIDENTIALITY_SYSTEM,
    display_name: "Sosiaalihuollon salassapidettävä",
    provenance: public(SOCIAL_CDA),
};
/// Total retention `1`: kept permanently.
pub const RETENTION_PERMANENT: Code = Code {
    code: "1",
    system: RETENTION_SYSTEM,
    display_name: "Säilytetään pysyvästi",
    provenance: public(SOCIAL_CDA),
};
/// Special content `E`: no.
pub const SPECIAL_CONTENT_NO: Code = Code {
    code: "E",
    system: YES_NO_SYSTEM,
    display_name: "Ei",
    provenance: public(SOCIAL_CDA),
};
/// Control act trigger event of storing a new document.
pub const CONTROL_ACT_STORE: Code = Code {
    code: "RCMR_TE000102UV01",
    system: TRIGGER_EVENT_SYSTEM,
    display_name: "store a document",
    provenance: public(BOTH_FRAMES),
};
/// Control act trigger event of replacing a document.
pub const CONTROL_ACT_REPLACE: Code = Code {
    code: "RCMR_TE000910UV01",
    system: TRIGGER_EVENT_SYSTEM,
    display_name: "replace a document",
    provenance: Provenance::Convention {
        note: "the patient archive's replacement trigger event (interop/RCMR_IN100016FI01.xml, HUS 2017); no public social welfare replacement sample, so using it there is ours",
    },
};

// ---- Fixed values -------------------------------------------------------------------------

/// Store a new social welfare document.
pub const INTERACTION_STORE: Value = Value {
    value: "RCMR_IN200002FI01",
    meaning: "store a new social welfare document",
    provenance: public(SOCIAL_MESSAGE),
};
/// Replace a social welfare document (new version or invalidation).
pub const INTERACTION_REPLACE: Value = Value {
    value: "RCMR_IN200016FI01",
    meaning: "replace a social welfare document: a new version or an invalidation",
    provenance: Provenance::Convention {
        note: "by analogy with the patient archive's RCMR_IN100016FI01; no public social welfare sample",
    },
};
/// Store a patient document (patient data repository, refused here under R6).
pub const INTERACTION_PATIENT_STORE: Value = Value {
    value: "RCMR_IN100002FI01",
    meaning: "store a new patient document (patient data repository)",
    provenance: public(HUS_STORE),
};
/// Replace a patient document (patient data repository, refused here under R6).
pub const INTERACTION_PATIENT_REPLACE: Value = Value {
    value: "RCMR_IN100016FI01",
    meaning: "replace a patient document (patient data repository)",
    provenance: public(HUS_REPLACE),
};
// ---- Queries (issue 16) ----------------------------------------------------------------------
// The operation names (Hae asiakkuus, Hae asia, Hae asiakirjan metatiedot, Hae asiakirja, Hae
// kooste) are public (Kela's "Rajapintakäyttötapaukset" table of contents); their interaction ids
// are not. Each id below is ours: an RCMR query/response pair numbered after the social welfare
// store (`RCMR_IN2000xxFI01`), one edit each when the specification is at hand.

/// Why the query interaction ids are conventions.
const QUERY_NOTE: &str = "the operation name is public (Kela's Rajapintakäyttötapaukset); the interaction id is ours, an RCMR query/response pair numbered after RCMR_IN200002FI01";

/// Hae asiakkuus: the query (find a client's relationships in a register).
pub const INTERACTION_QUERY_RELATIONSHIPS: Value = Value {
    value: "RCMR_IN200031FI01",
    meaning: "Hae asiakkuus: find a client's relationships in a register (query)",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Hae asiakkuus: the response.
pub const INTERACTION_RESPONSE_RELATIONSHIPS: Value = Value {
    value: "RCMR_IN200032FI01",
    meaning: "Hae asiakkuus: response",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Hae asia: the query (find a client's cases in a register).
pub const INTERACTION_QUERY_CASES: Value = Value {
    value: "RCMR_IN200033FI01",
    meaning: "Hae asia: find a client's cases in a register (query)",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Hae asia: the response.
pub const INTERACTION_RESPONSE_CASES: Value = Value {
    value: "RCMR_IN200034FI01",
    meaning: "Hae asia: response",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Hae asiakirjan metatiedot: the query (read a document's description metadata).
pub const INTERACTION_QUERY_METADATA: Value = Value {
    value: "RCMR_IN200035FI01",
    meaning: "Hae asiakirjan metatiedot: read a document's description metadata (query)",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Hae asiakirjan metatiedot: the response.
pub const INTERACTION_RESPONSE_METADATA: Value = Value {
    value: "RCMR_IN200036FI01",
    meaning: "Hae asiakirjan metatiedot: response",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Hae asiakirja: the query (read a document (the stored CDA)).
pub const INTERACTION_QUERY_DOCUMENT: Value = Value {
    value: "RCMR_IN200037FI01",
    meaning: "Hae asiakirja: read a document (the stored CDA) (query)",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Hae asiakirja: the response.
pub const INTERACTION_RESPONSE_DOCUMENT: Value = Value {
    value: "RCMR_IN200038FI01",
    meaning: "Hae asiakirja: response",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Hae kooste: the query (list a client's documents (kooste)).
pub const INTERACTION_QUERY_SUMMARY: Value = Value {
    value: "RCMR_IN200039FI01",
    meaning: "Hae kooste: list a client's documents (kooste) (query)",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Hae kooste: the response.
pub const INTERACTION_RESPONSE_SUMMARY: Value = Value {
    value: "RCMR_IN200040FI01",
    meaning: "Hae kooste: response",
    provenance: Provenance::Convention { note: QUERY_NOTE },
};
/// Root of `interactionId`.
pub const INTERACTION_ID_ROOT: Value = Value {
    value: "2.16.840.1.113883.1.6",
    meaning: "HL7 interaction id root",
    provenance: public(ALL_FILES),
};
/// Root of CDA `typeId`.
pub const TYPE_ID_ROOT: Value = Value {
    value: "2.16.840.1.113883.1.3",
    meaning: "HL7 CDA R2 type id root",
    provenance: public(ALL_FILES),
};
/// CDA `typeId` extension.
pub const TYPE_ID_EXTENSION: Value = Value {
    value: "POCD_HD000040",
    meaning: "CDA R2 ClinicalDocument",
    provenance: public(ALL_FILES),
};
/// CDA `realmCode`.
pub const REALM_FI: Value = Value {
    value: "FI",
    meaning: "Finnish realm",
    provenance: public(ALL_FILES),
};
/// Root of Finnish personal identity codes in `id@root`.
pub const IDENTITY_CODE_ROOT: Value = Value {
    value: "1.2.246.21",
    meaning: "Finnish personal identity code (henkilötunnus)",
    provenance: public(SOCIAL_MESSAGE),
};
/// The Kanta archive's receiver device id.
pub const KANTA_RECEIVER: Value = Value {
    value: "1.2.246.556.18007.2",
    meaning: "receiver device of Kanta archive messages",
    provenance: public(ALL_FILES),
};
/// `processingModeCode` of the public social welfare test messages.
pub const PROCESSING_MODE_CODE: Value = Value {
    value: "T",
    meaning: "processingModeCode (current processing) as sent in the public test messages",
    provenance: public(BOTH_FRAMES),
};
/// `acceptAckCode` of the public social welfare test messages.
pub const ACCEPT_ACK_CODE: Value = Value {
    value: "ER",
    meaning: "acceptAckCode (accept acknowledgement on error) as sent in the public test messages",
    provenance: public(BOTH_FRAMES),
};
/// `processingCode` of the public test messages.
pub const PROCESSING_CODE: Value = Value {
    value: "D",
    meaning: "processingCode as sent in the public test messages",
    provenance: public(ALL_FILES),
};
/// Content specification of the client relationship document.
pub const CONTENT_SPEC_CLIENT_RELATIONSHIP: Value = Value {
    value: "1.2.246.537.6.1505.1.2023.6.1",
    meaning: "content specification of the client relationship document (asiakkuusasiakirja)",
    provenance: public(SOCIAL_CDA),
};
/// The HTTP path messages are posted to.
pub const DEFAULT_MESSAGE_PATH: Value = Value {
    value: "/archive",
    meaning: "HTTP path of archive messages",
    provenance: Provenance::Convention {
        note: "no public WSDL or endpoint description; DESIGN §3.1",
    },
};
/// Root of the archive's own acknowledgement message ids.
pub const ACK_ID_ROOT: Value = Value {
    value: "2.999.5851.1.2",
    meaning: "root of acknowledgement message ids (an increasing number is the extension arc)",
    provenance: Provenance::Convention {
        note: "the real archive's message ids are not in public material; example arc 2.999",
    },
};
/// Arc under which the harness (`kantakoe rehearse`) makes message and document ids:
/// `<arc>.<run start in ms>.1.<n>` for messages, `.2.<n>` for documents.
pub const HARNESS_ID_ARC: Value = Value {
    value: "2.999.5851.9",
    meaning: "arc of the ids the harness makes for its submissions (one sub-arc per run)",
    provenance: Provenance::Convention {
        note: "a real client system uses ids under its own organisation's OID; example arc 2.999 so ids never collide with real ones",
    },
};
/// Interaction of the archive's acknowledgement.
pub const INTERACTION_ACK: Value = Value {
    value: "MCCI_IN000002UV01",
    meaning: "HL7 V3 accept acknowledgement",
    provenance: Provenance::Convention {
        note: "no public Kanta acknowledgement sample; the standard HL7 V3 shape (DESIGN §3.5)",
    },
};

/// Everything above, for documentation and tests.
pub const ALL: &[Entry] = &[
    Entry::System {
        name: "SERVICE_REQUEST_SYSTEM",
        system: SERVICE_REQUEST_SYSTEM,
    },
    Entry::System {
        name: "PATIENT_SERVICE_REQUEST_SYSTEM",
        system: PATIENT_SERVICE_REQUEST_SYSTEM,
    },
    Entry::System {
        name: "USAGE_SITUATION_SYSTEM",
        system: USAGE_SITUATION_SYSTEM,
    },
    Entry::System {
        name: "REGISTER_SYSTEM",
        system: REGISTER_SYSTEM,
    },
    Entry::System {
        name: "PATIENT_REGISTER_SYSTEM",
        system: PATIENT_REGISTER_SYSTEM,
    },
    Entry::System {
        name: "DOCUMENT_GROUP_SYSTEM",
        system: DOCUMENT_GROUP_SYSTEM,
    },
    Entry::System {
        name: "FILE_FORMAT_SYSTEM",
        system: FILE_FORMAT_SYSTEM,
    },
    Entry::System {
        name: "ARCHIVE_FILE_FORMAT_SYSTEM",
        system: ARCHIVE_FILE_FORMAT_SYSTEM,
    },
    Entry::System {
        name: "RECORD_STATUS_SYSTEM",
        system: RECORD_STATUS_SYSTEM,
    },
    Entry::System {
        name: "SIGNATURE_TYPE_SYSTEM",
        system: SIGNATURE_TYPE_SYSTEM,
    },
    Entry::System {
        name: "REPLACEMENT_REASON_SYSTEM",
        system: REPLACEMENT_REASON_SYSTEM,
    },
    Entry::System {
        name: "CONFIDENTIALITY_SYSTEM",
        system: CONFIDENTIALITY_SYSTEM,
    },
    Entry::System {
        name: "RETENTION_SYSTEM",
        system: RETENTION_SYSTEM,
    },
    Entry::System {
        name: "YES_NO_SYSTEM",
        system: YES_NO_SYSTEM,
    },
    Entry::System {
        name: "TRIGGER_EVENT_SYSTEM",
        system: TRIGGER_EVENT_SYSTEM,
    },
    Entry::System {
        name: "SERVICE_TASK_SYSTEM",
        system: SERVICE_TASK_SYSTEM,
    },
    Entry::System {
        name: "CLIENT_DOCUMENT_TYPE_SYSTEM",
        system: CLIENT_DOCUMENT_TYPE_SYSTEM,
    },
    Entry::System {
        name: "SERVICE_PROCESS_SYSTEM",
        system: SERVICE_PROCESS_SYSTEM,
    },
    Entry::System {
        name: "STORAGE_CODE_SYSTEM",
        system: STORAGE_CODE_SYSTEM,
    },
    Entry::System {
        name: "COMPLETION_CODE_SYSTEM",
        system: COMPLETION_CODE_SYSTEM,
    },
    Entry::System {
        name: "ACK_DETAIL_SYSTEM",
        system: ACK_DETAIL_SYSTEM,
    },
    Entry::Code {
        name: "SERVICE_REQUEST_SP1",
        code: SERVICE_REQUEST_SP1,
    },
    Entry::Code {
        name: "SERVICE_REQUEST_SP17",
        code: SERVICE_REQUEST_SP17,
    },
    Entry::Code {
        name: "PATIENT_SERVICE_REQUEST_PP1",
        code: PATIENT_SERVICE_REQUEST_PP1,
    },
    Entry::Code {
        name: "USAGE_OWN",
        code: USAGE_OWN,
    },
    Entry::Code {
        name: "USAGE_REGISTER_USAGE_RIGHT",
        code: USAGE_REGISTER_USAGE_RIGHT,
    },
    Entry::Code {
        name: "REGISTER_SOCIAL",
        code: REGISTER_SOCIAL,
    },
    Entry::Code {
        name: "PATIENT_REGISTER_PUBLIC",
        code: PATIENT_REGISTER_PUBLIC,
    },
    Entry::Code {
        name: "DOCUMENT_GROUP_CLIENT_RELATIONSHIP",
        code: DOCUMENT_GROUP_CLIENT_RELATIONSHIP,
    },
    Entry::Code {
        name: "DOCUMENT_GROUP_FOLLOW_UP",
        code: DOCUMENT_GROUP_FOLLOW_UP,
    },
    Entry::Code {
        name: "SERVICE_TASK_FAMILIES",
        code: SERVICE_TASK_FAMILIES,
    },
    Entry::Code {
        name: "DOCUMENT_TYPE_PLAN",
        code: DOCUMENT_TYPE_PLAN,
    },
    Entry::Code {
        name: "SPECIFIC_DOCUMENT_TYPE_FAMILY_PLAN",
        code: SPECIFIC_DOCUMENT_TYPE_FAMILY_PLAN,
    },
    Entry::Code {
        name: "SERVICE_PROCESS_PLANNING",
        code: SERVICE_PROCESS_PLANNING,
    },
    Entry::Code {
        name: "STORAGE_ACTIVE",
        code: STORAGE_ACTIVE,
    },
    Entry::Code {
        name: "COMPLETION_LEGALLY_AUTHENTICATED",
        code: COMPLETION_LEGALLY_AUTHENTICATED,
    },
    Entry::Code {
        name: "FILE_FORMAT_XHTML",
        code: FILE_FORMAT_XHTML,
    },
    Entry::Code {
        name: "STRUCTURED_FILE_FORMAT_JSON",
        code: STRUCTURED_FILE_FORMAT_JSON,
    },
    Entry::Code {
        name: "FILE_FORMAT_CDA_R2",
        code: FILE_FORMAT_CDA_R2,
    },
    Entry::Code {
        name: "RECORD_STATUS_READY",
        code: RECORD_STATUS_READY,
    },
    Entry::Code {
        name: "SIGNATURE_SYSTEM",
        code: SIGNATURE_SYSTEM,
    },
    Entry::Code {
        name: "REPLACEMENT_CORRECTION",
        code: REPLACEMENT_CORRECTION,
    },
    Entry::Code {
        name: "REPLACEMENT_INVALIDATION",
        code: REPLACEMENT_INVALIDATION,
    },
    Entry::Code {
        name: "CONFIDENTIALITY_SOCIAL",
        code: CONFIDENTIALITY_SOCIAL,
    },
    Entry::Code {
        name: "RETENTION_PERMANENT",
        code: RETENTION_PERMANENT,
    },
    Entry::Code {
        name: "SPECIAL_CONTENT_NO",
        code: SPECIAL_CONTENT_NO,
    },
    Entry::Code {
        name: "CONTROL_ACT_STORE",
        code: CONTROL_ACT_STORE,
    },
    Entry::Code {
        name: "CONTROL_ACT_REPLACE",
        code: CONTROL_ACT_REPLACE,
    },
    Entry::Value {
        name: "INTERACTION_STORE",
        value: INTERACTION_STORE,
    },
    Entry::Value {
        name: "INTERACTION_REPLACE",
        value: INTERACTION_REPLACE,
    },
    Entry::Value {
        name: "INTERACTION_PATIENT_STORE",
        value: INTERACTION_PATIENT_STORE,
    },
    Entry::Value {
        name: "INTERACTION_PATIENT_REPLACE",
        value: INTERACTION_PATIENT_REPLACE,
    },
    Entry::Value {
        name: "INTERACTION_ID_ROOT",
        value: INTERACTION_ID_ROOT,
    },
    Entry::Value {
        name: "TYPE_ID_ROOT",
        value: TYPE_ID_ROOT,
    },
    Entry::Value {
        name: "TYPE_ID_EXTENSION",
        value: TYPE_ID_EXTENSION,
    },
    Entry::Value {
        name: "REALM_FI",
        value: REALM_FI,
    },
    Entry::Value {
        name: "IDENTITY_CODE_ROOT",
        value: IDENTITY_CODE_ROOT,
    },
    Entry::Value {
        name: "KANTA_RECEIVER",
        value: KANTA_RECEIVER,
    },
    Entry::Value {
        name: "PROCESSING_MODE_CODE",
        value: PROCESSING_MODE_CODE,
    },
    Entry::Value {
        name: "ACCEPT_ACK_CODE",
        value: ACCEPT_ACK_CODE,
    },
    Entry::Value {
        name: "PROCESSING_CODE",
        value: PROCESSING_CODE,
    },
    Entry::Value {
        name: "CONTENT_SPEC_CLIENT_RELATIONSHIP",
        value: CONTENT_SPEC_CLIENT_RELATIONSHIP,
    },
    Entry::Value {
        name: "DEFAULT_MESSAGE_PATH",
        value: DEFAULT_MESSAGE_PATH,
    },
    Entry::Value {
        name: "INTERACTION_ACK",
        value: INTERACTION_ACK,
    },
    Entry::Value {
        name: "ACK_ID_ROOT",
        value: ACK_ID_ROOT,
    },
    Entry::Value {
        name: "HARNESS_ID_ARC",
        value: HARNESS_ID_ARC,
    },
    Entry::Value {
        name: "INTERACTION_QUERY_RELATIONSHIPS",
        value: INTERACTION_QUERY_RELATIONSHIPS,
    },
    Entry::Value {
        name: "INTERACTION_RESPONSE_RELATIONSHIPS",
        value: INTERACTION_RESPONSE_RELATIONSHIPS,
    },
    Entry::Value {
        name: "INTERACTION_QUERY_CASES",
        value: INTERACTION_QUERY_CASES,
    },
    Entry::Value {
        name: "INTERACTION_RESPONSE_CASES",
        value: INTERACTION_RESPONSE_CASES,
    },
    Entry::Value {
        name: "INTERACTION_QUERY_METADATA",
        value: INTERACTION_QUERY_METADATA,
    },
    Entry::Value {
        name: "INTERACTION_RESPONSE_METADATA",
        value: INTERACTION_RESPONSE_METADATA,
    },
    Entry::Value {
        name: "INTERACTION_QUERY_DOCUMENT",
        value: INTERACTION_QUERY_DOCUMENT,
    },
    Entry::Value {
        name: "INTERACTION_RESPONSE_DOCUMENT",
        value: INTERACTION_RESPONSE_DOCUMENT,
    },
    Entry::Value {
        name: "INTERACTION_QUERY_SUMMARY",
        value: INTERACTION_QUERY_SUMMARY,
    },
    Entry::Value {
        name: "INTERACTION_RESPONSE_SUMMARY",
        value: INTERACTION_RESPONSE_SUMMARY,
    },
];

/// The interactions this project knows, with whether each belongs to the social welfare
/// repository (`true`) or the patient data repository (`false`).
pub const INTERACTIONS: &[(Value, bool)] = &[
    (INTERACTION_STORE, true),
    (INTERACTION_REPLACE, true),
    (INTERACTION_PATIENT_STORE, false),
    (INTERACTION_PATIENT_REPLACE, false),
];

/// Whether an interaction belongs to the social welfare repository (`Some(true)`), the patient
/// data repository (`Some(false)`, refused here under R6), or is unknown (`None`).
pub fn is_social_interaction(interaction: &str) -> Option<bool> {
    INTERACTIONS
        .iter()
        .find(|(v, _)| v.value == interaction)
        .map(|(_, social)| *social)
}

/// Whether an interaction replaces a document (`...16FI01`).
pub fn is_replace_interaction(interaction: &str) -> bool {
    interaction == INTERACTION_REPLACE.value || interaction == INTERACTION_PATIENT_REPLACE.value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_oid_is_valid_and_names_are_unique() {
        let mut names = std::collections::HashSet::new();
        for entry in ALL {
            let (name, oid) = match entry {
                Entry::System { name, system } => (name, Some(system.oid)),
                Entry::Code { name, code } => (name, Some(code.system.oid)),
                Entry::Value { name, .. } => (name, None),
            };
            assert!(names.insert(*name), "{name} listed twice");
            if let Some(oid) = oid {
                super::super::oid::check_oid(oid).unwrap();
            }
        }
    }

    #[test]
    fn every_constant_is_listed_in_all() {
        let listed: std::collections::HashSet<&str> = ALL
            .iter()
            .map(|e| match e {
                Entry::System { name, .. }
                | Entry::Code { name, .. }
                | Entry::Value { name, .. } => *name,
            })
            .collect();
        let source = include_str!("codes.rs");
        let mut declared = 0;
        for line in source.lines() {
            let Some(rest) = line.strip_prefix("pub const ") else {
                continue;
            };
            let Some((name, ty)) = rest.split_once(": ") else {
                continue;
            };
            if ["Code ", "CodeSystem ", "Value "]
                .iter()
                .any(|t| ty.starts_with(t))
            {
                declared += 1;
                assert!(listed.contains(name), "{name} is not listed in ALL");
            }
        }
        assert_eq!(declared, listed.len());
    }

    #[test]
    fn conventions_are_marked() {
        let conventions: Vec<&str> = ALL
            .iter()
            .filter_map(|e| match e {
                Entry::System { name, system } if !system.provenance.is_public() => Some(*name),
                Entry::Code { name, code } if !code.provenance.is_public() => Some(*name),
                Entry::Value { name, value } if !value.provenance.is_public() => Some(*name),
                _ => None,
            })
            .collect();
        assert_eq!(
            conventions,
            [
                "ACK_DETAIL_SYSTEM",
                "USAGE_REGISTER_USAGE_RIGHT",
                "REPLACEMENT_INVALIDATION",
                "CONTROL_ACT_REPLACE",
                "INTERACTION_REPLACE",
                "DEFAULT_MESSAGE_PATH",
                "INTERACTION_ACK",
                "ACK_ID_ROOT",
                "HARNESS_ID_ARC",
                "INTERACTION_QUERY_RELATIONSHIPS",
                "INTERACTION_RESPONSE_RELATIONSHIPS",
                "INTERACTION_QUERY_CASES",
                "INTERACTION_RESPONSE_CASES",
                "INTERACTION_QUERY_METADATA",
                "INTERACTION_RESPONSE_METADATA",
                "INTERACTION_QUERY_DOCUMENT",
                "INTERACTION_RESPONSE_DOCUMENT",
                "INTERACTION_QUERY_SUMMARY",
                "INTERACTION_RESPONSE_SUMMARY"
            ]
        );
        assert!(ACK_DETAIL_SYSTEM.oid.starts_with("2.999."));
        assert_eq!(is_social_interaction("RCMR_IN200016FI01"), Some(true));
        assert_eq!(is_social_interaction("RCMR_IN100002FI01"), Some(false));
        assert_eq!(is_social_interaction("MCCI_IN000002UV01"), None);
        assert!(is_replace_interaction("RCMR_IN100016FI01"));
        assert!(!is_replace_interaction("RCMR_IN200002FI01"));
    }
}
