//! Queries and their responses (issue 16): the five read operations of the social welfare
//! archive, **Hae asiakkuus**, **Hae asia**, **Hae asiakirjan metatiedot**, **Hae asiakirja** and
//! **Hae kooste** (operation names public: Kela's "Rajapintakäyttötapaukset"), as HL7 V3
//! query/response messages. The writer and the reader of each message live side by side here,
//! with the round-trip property tests `read(write(x)) == x`.
//!
//! \[conv\] Everything about the wire shape below is this project's: the interaction ids (in
//! [`codes`], one constant each), and the element names of the query's `parameterList` and of
//! the response's entries. They follow HL7 V3's query pattern (`controlActProcess/
//! queryByParameter` with a `queryId` and a `parameterList`; the response's `acknowledgement`,
//! `subject` entries and `queryAck` with `queryResponseCode` and result quantities):
//!
//! ```text
//! parameterList/custodian/value@root            the register holder asked (required; R8)
//! parameterList/patientId/value@root,@extension the client (required; 1.2.246.21 + identity code)
//! parameterList/clinicalDocumentId/value@root   one document (metadata, document)
//! parameterList/documentGroup/value@code        filter: document group (1.2.246.537.6.1505.201601)
//! parameterList/serviceTask/value@code          filter: service task (1.2.246.537.6.1221.201601)
//! parameterList/effectiveTime/value/low|high    filter: first and last day (YYYYMMDD, inclusive)
//! parameterList/statusCode/value@code           filter: active | replaced | invalidated
//! queryByParameter/initialQuantity@value        at most this many entries
//! ```
//!
//! A response entry is a `subject` holding a `clinicalDocument` (metadata, document, summary;
//! a document's CDA travels base64 in `text`, byte for byte), a `clientRelationship` (Hae
//! asiakkuus) or a `case` (Hae asia).

use std::fmt;
use std::io;
use std::str::FromStr;

use base64::Engine as _;
use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesText, Event};
use time::{Date, OffsetDateTime};

use super::codes;
use super::message::unwrap;
use super::model::{InstanceId, Wrapping};
use super::problem::{Problem, ProblemCode};
use super::read::{Fields, Node};
use super::xml::{self, Limits, Ns};
use crate::ack::{self, AckType};

/// The five read operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueryKind {
    /// Hae asiakkuus: the client's relationships in the register (one entry per producer).
    Relationships,
    /// Hae asia: the client's cases in the register. \[conv\] The archive does not keep a case
    /// id; a case is read as the client's documents of one service task.
    Cases,
    /// Hae asiakirjan metatiedot: a document's description metadata (every version of its set).
    Metadata,
    /// Hae asiakirja: a document itself, the stored CDA byte for byte.
    Document,
    /// Hae kooste: a summary list of the client's documents, filtered.
    Summary,
}

impl QueryKind {
    /// Every kind, in the order of the public table of contents.
    pub const ALL: [QueryKind; 5] = [
        QueryKind::Relationships,
        QueryKind::Cases,
        QueryKind::Metadata,
        QueryKind::Document,
        QueryKind::Summary,
    ];

    /// The query's interaction id \[conv\].
    pub fn request_interaction(self) -> &'static str {
        match self {
            QueryKind::Relationships => codes::INTERACTION_QUERY_RELATIONSHIPS.value,
            QueryKind::Cases => codes::INTERACTION_QUERY_CASES.value,
            QueryKind::Metadata => codes::INTERACTION_QUERY_METADATA.value,
            QueryKind::Document => codes::INTERACTION_QUERY_DOCUMENT.value,
            QueryKind::Summary => codes::INTERACTION_QUERY_SUMMARY.value,
        }
    }

    /// The response's interaction id \[conv\].
    pub fn response_interaction(self) -> &'static str {
        match self {
            QueryKind::Relationships => codes::INTERACTION_RESPONSE_RELATIONSHIPS.value,
            QueryKind::Cases => codes::INTERACTION_RESPONSE_CASES.value,
            QueryKind::Metadata => codes::INTERACTION_RESPONSE_METADATA.value,
            QueryKind::Document => codes::INTERACTION_RESPONSE_DOCUMENT.value,
            QueryKind::Summary => codes::INTERACTION_RESPONSE_SUMMARY.value,
        }
    }

    /// The kind whose query has this interaction id.
    pub fn from_request_interaction(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.request_interaction() == name)
    }

    /// The kind whose response has this interaction id.
    pub fn from_response_interaction(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.response_interaction() == name)
    }

    /// The public Finnish operation name.
    pub fn finnish(self) -> &'static str {
        match self {
            QueryKind::Relationships => "Hae asiakkuus",
            QueryKind::Cases => "Hae asia",
            QueryKind::Metadata => "Hae asiakirjan metatiedot",
            QueryKind::Document => "Hae asiakirja",
            QueryKind::Summary => "Hae kooste",
        }
    }

    /// The name used in test cases and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryKind::Relationships => "relationships",
            QueryKind::Cases => "cases",
            QueryKind::Metadata => "metadata",
            QueryKind::Document => "document",
            QueryKind::Summary => "summary",
        }
    }

    /// Whether the query must name one document (`clinicalDocumentId`).
    pub fn needs_document(self) -> bool {
        matches!(self, QueryKind::Metadata | QueryKind::Document)
    }
}

impl fmt::Display for QueryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A query kind name that is not one of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown query kind `{0}`: expected relationships, cases, metadata, document or summary")]
pub struct UnknownQueryKind(pub String);

impl FromStr for QueryKind {
    type Err = UnknownQueryKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownQueryKind(s.to_owned()))
    }
}

/// The lifecycle state of one stored version (the store's and the query's one name for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentStatus {
    /// The latest version of a live set.
    Active,
    /// A later version replaced it.
    Replaced,
    /// The version that invalidated its set ("mitätöity"); the set takes nothing more.
    Invalidated,
}

impl DocumentStatus {
    /// Every state.
    pub const ALL: [DocumentStatus; 3] = [
        DocumentStatus::Active,
        DocumentStatus::Replaced,
        DocumentStatus::Invalidated,
    ];

    /// The stored and written spelling \[conv: this project's own words, not a Kanta code\].
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Active => "active",
            DocumentStatus::Replaced => "replaced",
            DocumentStatus::Invalidated => "invalidated",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for DocumentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A query's filters; every one optional, all must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryFilter {
    /// Document group code (1.2.246.537.6.1505.201601).
    pub document_group: Option<String>,
    /// Service task code (1.2.246.537.6.1221.201601).
    pub service_task: Option<String>,
    /// First day of the document's effective time (inclusive).
    pub from: Option<Date>,
    /// Last day of the document's effective time (inclusive).
    pub until: Option<Date>,
    /// The stored version's state.
    pub status: Option<DocumentStatus>,
}

impl QueryFilter {
    /// Whether a document with these values passes every filter.
    pub fn admits(
        &self,
        document_group: Option<&str>,
        service_task: Option<&str>,
        day: Date,
        status: DocumentStatus,
    ) -> bool {
        self.document_group
            .as_deref()
            .is_none_or(|g| document_group == Some(g))
            && self
                .service_task
                .as_deref()
                .is_none_or(|t| service_task == Some(t))
            && self.from.is_none_or(|from| from <= day)
            && self.until.is_none_or(|until| day <= until)
            && self.status.is_none_or(|s| s == status)
    }
}

/// A query as sent by a client information system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRequest {
    /// Which operation.
    pub kind: QueryKind,
    /// The message id.
    pub id: InstanceId,
    /// `creationTime` (HL7 timestamp text).
    pub creation_time: String,
    /// `processingCode` (`P`, `T` or `D`).
    pub processing_code: String,
    /// `receiver/device/id`, when given.
    pub receiver: Option<InstanceId>,
    /// `sender/device/id`: its root is the asking organisation.
    pub sender: InstanceId,
    /// `queryByParameter/queryId`.
    pub query_id: InstanceId,
    /// The register holder whose register is read (R8: one per query).
    pub register_holder: String,
    /// The client's identity code.
    pub client: String,
    /// One document's id (required for metadata and document).
    pub document_id: Option<String>,
    /// Filters.
    pub filter: QueryFilter,
    /// At most this many entries.
    pub limit: Option<u32>,
}

/// One `acknowledgementDetail` of a response: strings, because a real archive answers with
/// codes this project does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseDetail {
    /// `code@code`.
    pub code: String,
    /// `typeCode="W"` (a warning) rather than `E`.
    pub warning: bool,
    /// `text`.
    pub text: String,
    /// `location`, when given.
    pub location: Option<String>,
}

impl From<&ack::AckDetail> for ResponseDetail {
    fn from(d: &ack::AckDetail) -> Self {
        ResponseDetail {
            code: d.code.code().to_owned(),
            warning: d.code.severity() == ack::Severity::Warning,
            text: if d.detail.is_empty() {
                d.code.english().to_owned()
            } else {
                format!("{}: {}", d.code.english(), d.detail)
            },
            location: d.location.clone(),
        }
    }
}

/// A document's description metadata as a query returns it; with its CDA for Hae asiakirja.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocumentEntry {
    /// Document OID.
    pub document_id: String,
    /// Set OID (version 1's id).
    pub set_id: String,
    /// Version number.
    pub version: u32,
    /// The stored version's state.
    pub status: DocumentStatus,
    /// The register holder (custodian).
    pub register_holder: String,
    /// The client's identity code.
    pub client: String,
    /// The document's effective time (HL7 timestamp text).
    pub effective_time: String,
    /// The service unit OID.
    pub service_unit: String,
    /// The author's id.
    pub author: String,
    /// Document group code.
    pub document_group: Option<String>,
    /// Service task code.
    pub service_task: Option<String>,
    /// The organiser (`outsourcingServiceCustomer`).
    pub organiser: Option<String>,
    /// The document title.
    pub title: Option<String>,
    /// The document type code.
    pub document_type: Option<String>,
    /// The version this one replaced.
    pub replaces: Option<String>,
    /// The stored CDA, byte for byte (Hae asiakirja only).
    #[serde(skip)]
    pub content: Option<Vec<u8>>,
}

/// One client relationship in a register (Hae asiakkuus): the producer whose service units
/// stored documents about the client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RelationshipEntry {
    /// The producing organisation.
    pub producer: String,
    /// The organiser named in the documents, when any.
    pub organiser: Option<String>,
    /// Earliest effective time (HL7 timestamp text).
    pub first: String,
    /// Latest effective time (HL7 timestamp text).
    pub last: String,
    /// How many stored versions.
    pub documents: u32,
}

/// One case (Hae asia). \[conv\] A case is the client's documents of one service task.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseEntry {
    /// Service task code (1.2.246.537.6.1221.201601); empty when the documents name none.
    pub service_task: String,
    /// Its display name, when known.
    pub service_task_name: Option<String>,
    /// Earliest effective time (HL7 timestamp text).
    pub first: String,
    /// Latest effective time (HL7 timestamp text).
    pub last: String,
    /// How many stored versions.
    pub documents: u32,
}

/// What a query found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryResults {
    /// Hae asiakkuus.
    Relationships(Vec<RelationshipEntry>),
    /// Hae asia.
    Cases(Vec<CaseEntry>),
    /// Hae asiakirjan metatiedot, Hae asiakirja, Hae kooste.
    Documents(Vec<DocumentEntry>),
}

impl QueryResults {
    /// The empty result of a kind.
    pub fn empty(kind: QueryKind) -> Self {
        match kind {
            QueryKind::Relationships => QueryResults::Relationships(Vec::new()),
            QueryKind::Cases => QueryResults::Cases(Vec::new()),
            QueryKind::Metadata | QueryKind::Document | QueryKind::Summary => {
                QueryResults::Documents(Vec::new())
            }
        }
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        match self {
            QueryResults::Relationships(v) => v.len(),
            QueryResults::Cases(v) => v.len(),
            QueryResults::Documents(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The documents' ids, in order (empty for relationships and cases).
    pub fn document_ids(&self) -> Vec<&str> {
        match self {
            QueryResults::Documents(v) => v.iter().map(|d| d.document_id.as_str()).collect(),
            QueryResults::Relationships(_) | QueryResults::Cases(_) => Vec::new(),
        }
    }
}

/// The archive's answer to a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryResponse {
    /// Which operation it answers.
    pub kind: QueryKind,
    /// The response's own message id.
    pub id: InstanceId,
    /// Its creation time (HL7 timestamp text).
    pub creation_time: String,
    /// `processingCode` echoed from the query.
    pub processing_code: String,
    /// The query's sender: the response's receiver.
    pub receiver: Option<InstanceId>,
    /// The archive's device id.
    pub sender: InstanceId,
    /// The query's message id.
    pub target_message: Option<InstanceId>,
    /// `AA` (answered), `AE` (refused) or `AR` (unreadable).
    pub type_code: AckType,
    /// Why it was refused (or warnings).
    pub details: Vec<ResponseDetail>,
    /// The query's `queryId`, echoed.
    pub query_id: Option<InstanceId>,
    /// How many entries matched before `initialQuantity` cut the list.
    pub total: u32,
    /// The entries.
    pub results: QueryResults,
}

impl QueryResponse {
    /// `queryAck/queryResponseCode`: `OK` (entries), `NF` (nothing found), `AE` (refused).
    pub fn response_code(&self) -> &'static str {
        match (self.type_code, self.results.is_empty()) {
            (AckType::Aa, false) => "OK",
            (AckType::Aa, true) => "NF",
            (AckType::Ae | AckType::Ar, _) => "AE",
        }
    }

    /// The detail codes, in order.
    pub fn codes(&self) -> Vec<&str> {
        self.details.iter().map(|d| d.code.as_str()).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Writers.

/// The identity-code root of `patientId` \[public: CDA `recordTarget`\].
const PERSON_ID_ROOT: &str = "1.2.246.21";

/// `YYYYMMDD`.
fn day_text(day: Date) -> String {
    format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

fn parse_day(text: &str) -> Option<Date> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = text[..4].parse().ok()?;
    let month: u8 = text[4..6].parse().ok()?;
    let day: u8 = text[6..].parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

type W = Writer<Vec<u8>>;

fn finish(write: impl FnOnce(&mut W) -> io::Result<()>) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec<u8> cannot fail.
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .and_then(|()| write(&mut w))
        .expect("writing XML into memory cannot fail");
    String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8 from UTF-8 input")
}

fn write_id(w: &mut W, name: &str, id: &InstanceId) -> io::Result<()> {
    let mut element = w
        .create_element(name)
        .with_attribute(("root", id.root.as_str()));
    if let Some(extension) = &id.extension {
        element = element.with_attribute(("extension", extension.as_str()));
    }
    element.write_empty()?;
    Ok(())
}

fn write_root(w: &mut W, name: &str, root: &str) -> io::Result<()> {
    w.create_element(name)
        .with_attribute(("root", root))
        .write_empty()?;
    Ok(())
}

fn write_value(w: &mut W, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .with_attribute(("value", value))
        .write_empty()?;
    Ok(())
}

fn write_code(w: &mut W, name: &str, code: &str, system: Option<&str>) -> io::Result<()> {
    let mut element = w.create_element(name).with_attribute(("code", code));
    if let Some(system) = system {
        element = element.with_attribute(("codeSystem", system));
    }
    element.write_empty()?;
    Ok(())
}

fn write_text(w: &mut W, name: &str, text: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::from_escaped(partial_escape(text)))?;
    Ok(())
}

fn write_device(w: &mut W, name: &str, type_code: &str, id: &InstanceId) -> io::Result<()> {
    w.create_element(name)
        .with_attribute(("typeCode", type_code))
        .write_inner_content(|w| {
            w.create_element("device")
                .with_attribute(("classCode", "DEV"))
                .with_attribute(("determinerCode", "INSTANCE"))
                .write_inner_content(|w| write_id(w, "id", id))?;
            Ok(())
        })?;
    Ok(())
}

/// The transmission wrapper both messages share.
struct HeadOut<'a> {
    interaction: &'a str,
    id: &'a InstanceId,
    creation_time: &'a str,
    processing_code: &'a str,
    accept_ack: &'a str,
    receiver: Option<&'a InstanceId>,
    sender: &'a InstanceId,
}

fn write_head(w: &mut W, h: &HeadOut<'_>) -> io::Result<()> {
    let HeadOut {
        interaction,
        id,
        creation_time,
        processing_code,
        accept_ack,
        receiver,
        sender,
    } = *h;
    write_id(w, "id", id)?;
    write_value(w, "creationTime", creation_time)?;
    w.create_element("interactionId")
        .with_attribute(("root", codes::INTERACTION_ID_ROOT.value))
        .with_attribute(("extension", interaction))
        .write_empty()?;
    write_code(w, "processingCode", processing_code, None)?;
    write_code(w, "processingModeCode", "T", None)?;
    write_code(w, "acceptAckCode", accept_ack, None)?;
    if let Some(receiver) = receiver {
        write_device(w, "receiver", "RCV", receiver)?;
    }
    write_device(w, "sender", "SND", sender)
}

/// Writes a query as a bare HL7 V3 message (UTF-8 XML text).
pub fn write_request(q: &QueryRequest) -> String {
    finish(|w| {
        w.create_element(q.kind.request_interaction())
            .with_attribute(("xmlns", "urn:hl7-org:v3"))
            .with_attribute(("ITSVersion", "XML_1.0"))
            .write_inner_content(|w| {
                write_head(
                    w,
                    &HeadOut {
                        interaction: q.kind.request_interaction(),
                        id: &q.id,
                        creation_time: &q.creation_time,
                        processing_code: &q.processing_code,
                        accept_ack: "AL",
                        receiver: q.receiver.as_ref(),
                        sender: &q.sender,
                    },
                )?;
                w.create_element("controlActProcess")
                    .with_attribute(("classCode", "CACT"))
                    .with_attribute(("moodCode", "EVN"))
                    .write_inner_content(|w| {
                        w.create_element("queryByParameter")
                            .write_inner_content(|w| write_parameters(w, q))?;
                        Ok(())
                    })?;
                Ok(())
            })?;
        Ok(())
    })
}

fn write_parameters(w: &mut W, q: &QueryRequest) -> io::Result<()> {
    write_id(w, "queryId", &q.query_id)?;
    write_code(w, "statusCode", "new", None)?;
    write_code(w, "responseModalityCode", "R", None)?;
    if let Some(limit) = q.limit {
        write_value(w, "initialQuantity", &limit.to_string())?;
    }
    w.create_element("parameterList").write_inner_content(|w| {
        w.create_element("custodian")
            .write_inner_content(|w| write_root(w, "value", &q.register_holder))?;
        w.create_element("patientId").write_inner_content(|w| {
            write_id(
                w,
                "value",
                &InstanceId {
                    root: PERSON_ID_ROOT.to_owned(),
                    extension: Some(q.client.clone()),
                },
            )
        })?;
        if let Some(doc) = &q.document_id {
            w.create_element("clinicalDocumentId")
                .write_inner_content(|w| write_root(w, "value", doc))?;
        }
        let f = &q.filter;
        if let Some(group) = &f.document_group {
            w.create_element("documentGroup").write_inner_content(|w| {
                write_code(w, "value", group, Some(codes::DOCUMENT_GROUP_SYSTEM.oid))
            })?;
        }
        if let Some(task) = &f.service_task {
            w.create_element("serviceTask").write_inner_content(|w| {
                write_code(w, "value", task, Some(codes::SERVICE_TASK_SYSTEM.oid))
            })?;
        }
        if f.from.is_some() || f.until.is_some() {
            w.create_element("effectiveTime").write_inner_content(|w| {
                w.create_element("value").write_inner_content(|w| {
                    if let Some(from) = f.from {
                        write_value(w, "low", &day_text(from))?;
                    }
                    if let Some(until) = f.until {
                        write_value(w, "high", &day_text(until))?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
        }
        if let Some(status) = f.status {
            w.create_element("statusCode")
                .write_inner_content(|w| write_code(w, "value", status.as_str(), None))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Writes a response as a bare HL7 V3 message (UTF-8 XML text).
pub fn write_response(r: &QueryResponse) -> String {
    finish(|w| {
        w.create_element(r.kind.response_interaction())
            .with_attribute(("xmlns", "urn:hl7-org:v3"))
            .with_attribute(("ITSVersion", "XML_1.0"))
            .write_inner_content(|w| {
                write_head(
                    w,
                    &HeadOut {
                        interaction: r.kind.response_interaction(),
                        id: &r.id,
                        creation_time: &r.creation_time,
                        processing_code: &r.processing_code,
                        accept_ack: "NE",
                        receiver: r.receiver.as_ref(),
                        sender: &r.sender,
                    },
                )?;
                w.create_element("acknowledgement")
                    .with_attribute(("typeCode", r.type_code.as_str()))
                    .write_inner_content(|w| {
                        if let Some(target) = &r.target_message {
                            w.create_element("targetMessage")
                                .write_inner_content(|w| write_id(w, "id", target))?;
                        }
                        for d in &r.details {
                            write_detail(w, d)?;
                        }
                        Ok(())
                    })?;
                w.create_element("controlActProcess")
                    .with_attribute(("classCode", "CACT"))
                    .with_attribute(("moodCode", "EVN"))
                    .write_inner_content(|w| {
                        write_results(w, &r.results)?;
                        w.create_element("queryAck").write_inner_content(|w| {
                            if let Some(q) = &r.query_id {
                                write_id(w, "queryId", q)?;
                            }
                            write_code(w, "queryResponseCode", r.response_code(), None)?;
                            let current = r.results.len() as u32;
                            write_value(w, "resultTotalQuantity", &r.total.to_string())?;
                            write_value(w, "resultCurrentQuantity", &current.to_string())?;
                            write_value(
                                w,
                                "resultRemainingQuantity",
                                &r.total.saturating_sub(current).to_string(),
                            )
                        })?;
                        Ok(())
                    })?;
                Ok(())
            })?;
        Ok(())
    })
}

fn write_detail(w: &mut W, d: &ResponseDetail) -> io::Result<()> {
    w.create_element("acknowledgementDetail")
        .with_attribute(("typeCode", if d.warning { "W" } else { "E" }))
        .write_inner_content(|w| {
            w.create_element("code")
                .with_attribute(("code", d.code.as_str()))
                .with_attribute(("codeSystem", ack::ACK_CODE_SYSTEM))
                .write_empty()?;
            write_text(w, "text", &d.text)?;
            if let Some(location) = &d.location {
                write_text(w, "location", location)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn subject(w: &mut W, inner: impl FnOnce(&mut W) -> io::Result<()>) -> io::Result<()> {
    w.create_element("subject")
        .with_attribute(("typeCode", "SUBJ"))
        .write_inner_content(inner)?;
    Ok(())
}

fn write_span(w: &mut W, first: &str, last: &str, documents: u32) -> io::Result<()> {
    w.create_element("effectiveTime").write_inner_content(|w| {
        write_value(w, "low", first)?;
        write_value(w, "high", last)
    })?;
    write_value(w, "documentCount", &documents.to_string())
}

fn write_results(w: &mut W, results: &QueryResults) -> io::Result<()> {
    match results {
        QueryResults::Relationships(entries) => {
            for e in entries {
                subject(w, |w| {
                    w.create_element("clientRelationship")
                        .write_inner_content(|w| {
                            w.create_element("producer")
                                .write_inner_content(|w| write_root(w, "id", &e.producer))?;
                            if let Some(o) = &e.organiser {
                                w.create_element("organiser")
                                    .write_inner_content(|w| write_root(w, "id", o))?;
                            }
                            write_span(w, &e.first, &e.last, e.documents)
                        })?;
                    Ok(())
                })?;
            }
        }
        QueryResults::Cases(entries) => {
            for e in entries {
                subject(w, |w| {
                    w.create_element("case").write_inner_content(|w| {
                        let mut el = w
                            .create_element("serviceTask")
                            .with_attribute(("code", e.service_task.as_str()))
                            .with_attribute(("codeSystem", codes::SERVICE_TASK_SYSTEM.oid));
                        if let Some(name) = &e.service_task_name {
                            el = el.with_attribute(("displayName", name.as_str()));
                        }
                        el.write_empty()?;
                        write_span(w, &e.first, &e.last, e.documents)
                    })?;
                    Ok(())
                })?;
            }
        }
        QueryResults::Documents(entries) => {
            for e in entries {
                subject(w, |w| write_document(w, e))?;
            }
        }
    }
    Ok(())
}

fn write_document(w: &mut W, e: &DocumentEntry) -> io::Result<()> {
    w.create_element("clinicalDocument")
        .with_attribute(("classCode", "DOCCLIN"))
        .with_attribute(("moodCode", "EVN"))
        .write_inner_content(|w| {
            write_root(w, "id", &e.document_id)?;
            if let Some(t) = &e.document_type {
                write_code(w, "code", t, None)?;
            }
            if let Some(title) = &e.title {
                write_text(w, "title", title)?;
            }
            write_code(w, "statusCode", e.status.as_str(), None)?;
            write_value(w, "effectiveTime", &e.effective_time)?;
            write_root(w, "setId", &e.set_id)?;
            write_value(w, "versionNumber", &e.version.to_string())?;
            w.create_element("recordTarget").write_inner_content(|w| {
                w.create_element("patient").write_inner_content(|w| {
                    write_id(
                        w,
                        "id",
                        &InstanceId {
                            root: PERSON_ID_ROOT.to_owned(),
                            extension: Some(e.client.clone()),
                        },
                    )
                })?;
                Ok(())
            })?;
            w.create_element("author").write_inner_content(|w| {
                w.create_element("assignedAuthor")
                    .write_inner_content(|w| {
                        // The archive keeps the author as one string (a professional's id
                        // or the service unit's OID): it travels as the extension [conv].
                        w.create_element("id")
                            .with_attribute(("extension", e.author.as_str()))
                            .write_empty()?;
                        w.create_element("representedOrganization")
                            .write_inner_content(|w| write_root(w, "id", &e.service_unit))?;
                        Ok(())
                    })?;
                Ok(())
            })?;
            w.create_element("custodian").write_inner_content(|w| {
                w.create_element("assignedCustodian")
                    .write_inner_content(|w| {
                        w.create_element("representedOrganization")
                            .write_inner_content(|w| write_root(w, "id", &e.register_holder))?;
                        Ok(())
                    })?;
                Ok(())
            })?;
            if let Some(o) = &e.organiser {
                w.create_element("outsourcingServiceCustomer")
                    .write_inner_content(|w| write_root(w, "id", o))?;
            }
            if let Some(g) = &e.document_group {
                write_code(
                    w,
                    "documentGroup",
                    g,
                    Some(codes::DOCUMENT_GROUP_SYSTEM.oid),
                )?;
            }
            if let Some(t) = &e.service_task {
                write_code(w, "functionCode", t, Some(codes::SERVICE_TASK_SYSTEM.oid))?;
            }
            if let Some(parent) = &e.replaces {
                w.create_element("relatedDocument")
                    .with_attribute(("typeCode", "RPLC"))
                    .write_inner_content(|w| {
                        w.create_element("parentDocument")
                            .write_inner_content(|w| write_root(w, "id", parent))?;
                        Ok(())
                    })?;
            }
            if let Some(content) = &e.content {
                let b64 = base64::engine::general_purpose::STANDARD.encode(content);
                w.create_element("text")
                    .with_attribute(("mediaType", "text/xml"))
                    .with_attribute(("representation", "B64"))
                    .write_text_content(BytesText::new(&b64))?;
            }
            Ok(())
        })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Readers.

/// Which query or response a body holds, from its first elements only (the envelope, its
/// `Body`, and the message root): cheap enough to route every request by.
pub fn sniff(body: &[u8]) -> Option<Sniffed> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut depth = 0usize;
    let mut in_envelope = false;
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).ok()?;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name();
                let name = std::str::from_utf8(name.as_ref()).ok()?;
                depth += 1;
                let is_message = match (depth, in_envelope) {
                    (1, _) if name == "Envelope" => {
                        in_envelope = true;
                        false
                    }
                    (1, false) => true,
                    (2, true) if name == "Header" => {
                        // Skip the SOAP header's subtree.
                        if matches!(event, Event::Start(_)) {
                            reader
                                .read_to_end_into(e.name().to_owned(), &mut Vec::new())
                                .ok()?;
                        }
                        depth -= 1;
                        false
                    }
                    (2, true) if name == "Body" => false,
                    (3, true) => true,
                    _ => return None,
                };
                if is_message {
                    if let Some(kind) = QueryKind::from_request_interaction(name) {
                        return Some(Sniffed::Query(kind));
                    }
                    return QueryKind::from_response_interaction(name).map(Sniffed::Response);
                }
                if matches!(event, Event::Empty(_)) {
                    return None;
                }
            }
            Event::DocType(_) | Event::Eof | Event::End(_) => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// What [`sniff`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A query of this kind.
    Query(QueryKind),
    /// A response of this kind.
    Response(QueryKind),
}

/// What [`read_request`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRequest {
    /// The query, unless a required part is missing or wrong.
    pub query: Option<QueryRequest>,
    /// Every problem, each with its location.
    pub problems: Vec<Problem>,
    /// How the query was wrapped (bare when not even that could be read).
    pub wrapping: Wrapping,
}

/// Reads a query in any wrapping with the secure reader.
pub fn read_request(input: &[u8], limits: &Limits) -> ReadRequest {
    let (query, problems, wrapping) = read_request_parts(input, limits);
    ReadRequest {
        query,
        problems,
        wrapping,
    }
}

fn read_request_parts(
    input: &[u8],
    limits: &Limits,
) -> (Option<QueryRequest>, Vec<Problem>, Wrapping) {
    let parsed = xml::parse(input, limits, "");
    let mut problems = parsed.problems;
    let Some(root) = parsed.root else {
        return (None, problems, Wrapping::Bare);
    };
    let Some((wrapping, el)) = unwrap(&root, &mut problems) else {
        return (None, problems, Wrapping::Bare);
    };
    let path = format!("/{}", el.name);
    let Some(kind) = QueryKind::from_request_interaction(&el.name).filter(|_| el.ns == Ns::Hl7)
    else {
        problems.push(Problem::new(
            ProblemCode::UnknownInteraction,
            path,
            format!("`{}` is not a query this archive knows", el.name),
        ));
        return (None, problems, wrapping);
    };
    let m = Node::new(el, path);
    let mut f = Fields::default();
    let head = read_head(&mut f, &m, kind.request_interaction());
    let q = f.require(
        &m,
        "controlActProcess/queryByParameter",
        "controlActProcess/queryByParameter",
    );
    let query_id = q
        .as_ref()
        .and_then(|q| f.required_id(q, "queryId", "the queryId"));
    let limit = q
        .as_ref()
        .and_then(|q| q.child("initialQuantity"))
        .and_then(|n| f.number(Some(&n), "initialQuantity"));
    let params = q
        .as_ref()
        .and_then(|q| f.require(q, "parameterList", "the parameterList"));
    let mut register_holder = None;
    let mut client = None;
    let mut document_id = None;
    let mut filter = QueryFilter::default();
    if let Some(p) = &params {
        register_holder = f
            .required_id(
                p,
                "custodian/value",
                "the register holder (custodian/value)",
            )
            .map(|id| id.root);
        client = f
            .required_id(p, "patientId/value", "the client (patientId/value)")
            .and_then(|id| {
                if id.root != PERSON_ID_ROOT {
                    f.push(
                        ProblemCode::BadValue,
                        p.path_to("patientId/value/@root"),
                        format!(
                            "the client id root is `{}`, expected {PERSON_ID_ROOT} (an identity code)",
                            id.root
                        ),
                    );
                }
                match id.extension {
                    Some(code) => Some(code),
                    None => {
                        f.missing(
                            p.path_to("patientId/value/@extension"),
                            "the client's identity code",
                        );
                        None
                    }
                }
            });
        document_id = p
            .walk("clinicalDocumentId/value")
            .and_then(|n| f.id(Some(&n)))
            .map(|id| id.root);
        if kind.needs_document() && document_id.is_none() && p.child("clinicalDocumentId").is_none()
        {
            f.missing(
                p.path_to("clinicalDocumentId/value"),
                &format!("the document id ({} names one document)", kind.finnish()),
            );
        }
        filter.document_group = p
            .walk("documentGroup/value")
            .and_then(|n| f.code(Some(&n)))
            .map(|c| c.code);
        filter.service_task = p
            .walk("serviceTask/value")
            .and_then(|n| f.code(Some(&n)))
            .map(|c| c.code);
        if let Some(v) = p.walk("effectiveTime/value") {
            filter.from = day(&mut f, v.child("low").as_ref());
            filter.until = day(&mut f, v.child("high").as_ref());
        }
        if let Some(n) = p.walk("statusCode/value") {
            let code = n.attr("code").unwrap_or_default();
            filter.status = DocumentStatus::parse(code);
            if filter.status.is_none() {
                f.push(
                    ProblemCode::BadValue,
                    format!("{}/@code", n.path),
                    format!(
                        "the status filter is `{code}`, expected active, replaced or invalidated"
                    ),
                );
            }
        }
    }
    problems.extend(f.problems);
    let query = match (head, query_id, register_holder, client) {
        (Some(head), Some(query_id), Some(register_holder), Some(client))
            if !(kind.needs_document() && document_id.is_none()) =>
        {
            Some(QueryRequest {
                kind,
                id: head.id,
                creation_time: head.creation_time,
                processing_code: head.processing_code,
                receiver: head.receiver,
                sender: head.sender,
                query_id,
                register_holder,
                client,
                document_id,
                filter,
                limit,
            })
        }
        _ => None,
    };
    (query, problems, wrapping)
}

fn day(f: &mut Fields, node: Option<&Node<'_>>) -> Option<Date> {
    let node = node?;
    let value = node.attr("value").unwrap_or_default();
    let parsed = parse_day(value);
    if parsed.is_none() {
        f.push(
            ProblemCode::BadValue,
            format!("{}/@value", node.path),
            format!("the day is `{value}`, expected YYYYMMDD"),
        );
    }
    parsed
}

struct Head {
    id: InstanceId,
    creation_time: String,
    processing_code: String,
    receiver: Option<InstanceId>,
    sender: InstanceId,
}

fn read_head(f: &mut Fields, m: &Node<'_>, interaction: &str) -> Option<Head> {
    let id = f.required_id(m, "id", "the message id");
    let creation_time = f
        .require(m, "creationTime", "creationTime")
        .and_then(|n| f.time(Some(&n), "creationTime"));
    if let Some(n) = f.require(m, "interactionId", "interactionId")
        && n.attr("extension") != Some(interaction)
    {
        f.push(
            ProblemCode::InteractionMismatch,
            format!("{}/@extension", n.path),
            format!(
                "interactionId says `{}`, the root element `{interaction}`",
                n.attr("extension").unwrap_or_default()
            ),
        );
    }
    let processing_code = f
        .require(m, "processingCode", "processingCode")
        .and_then(|n| n.attr("code").map(str::to_owned));
    let receiver = m.walk("receiver/device/id").and_then(|n| f.id(Some(&n)));
    let sender = f.required_id(m, "sender/device/id", "the sender device id");
    Some(Head {
        id: id?,
        creation_time: creation_time?,
        processing_code: processing_code?,
        receiver,
        sender: sender?,
    })
}

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the answer is not a readable query response: {}", list(.0))]
pub struct ResponseError(pub Vec<Problem>);

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads a response in any wrapping with the secure reader (the harness's side).
pub fn read_response(input: &[u8], limits: &Limits) -> Result<QueryResponse, ResponseError> {
    let parsed = xml::parse(input, limits, "");
    let mut problems = parsed.problems;
    let Some(root) = parsed.root else {
        return Err(ResponseError(problems));
    };
    let Some((_, el)) = unwrap(&root, &mut problems) else {
        return Err(ResponseError(problems));
    };
    let path = format!("/{}", el.name);
    let Some(kind) = QueryKind::from_response_interaction(&el.name).filter(|_| el.ns == Ns::Hl7)
    else {
        problems.push(Problem::new(
            ProblemCode::UnknownInteraction,
            path,
            format!("`{}` is not a query response", el.name),
        ));
        return Err(ResponseError(problems));
    };
    let m = Node::new(el, path);
    let mut f = Fields::default();
    let head = read_head(&mut f, &m, kind.response_interaction());
    let ack_node = f.require(&m, "acknowledgement", "the acknowledgement");
    let type_code = ack_node.as_ref().and_then(|a| {
        let t = a.attr("typeCode").and_then(AckType::parse);
        if t.is_none() {
            f.push(
                ProblemCode::BadValue,
                format!("{}/@typeCode", a.path),
                "the acknowledgement typeCode is not AA, AE or AR",
            );
        }
        t
    });
    let target_message = ack_node
        .as_ref()
        .and_then(|a| a.walk("targetMessage/id"))
        .and_then(|n| f.id(Some(&n)));
    let mut details = Vec::new();
    if let Some(a) = &ack_node {
        for d in a.children("acknowledgementDetail") {
            let Some(code) = f.required_code(&d, "code", "the detail code") else {
                continue;
            };
            details.push(ResponseDetail {
                code: code.code,
                warning: d.attr("typeCode") == Some("W"),
                text: d
                    .child("text")
                    .map(|t| t.el.text.clone())
                    .unwrap_or_default(),
                location: d.child("location").map(|t| t.el.text.clone()),
            });
        }
    }
    let cap = f.require(&m, "controlActProcess", "controlActProcess");
    let mut results = QueryResults::empty(kind);
    let mut query_id = None;
    let mut total = None;
    if let Some(cap) = &cap {
        for s in cap.children("subject") {
            read_entry(&mut f, &s, &mut results);
        }
        if let Some(qa) = f.require(cap, "queryAck", "the queryAck") {
            query_id = qa.child("queryId").and_then(|n| f.id(Some(&n)));
            total = f
                .require(&qa, "resultTotalQuantity", "resultTotalQuantity")
                .and_then(|n| count(&mut f, &n));
        }
    }
    problems.extend(f.problems);
    match (head, type_code, total) {
        (Some(head), Some(type_code), Some(total)) if problems.is_empty() => Ok(QueryResponse {
            kind,
            id: head.id,
            creation_time: head.creation_time,
            processing_code: head.processing_code,
            receiver: head.receiver,
            sender: head.sender,
            target_message,
            type_code,
            details,
            query_id,
            total,
            results,
        }),
        _ => Err(ResponseError(problems)),
    }
}

/// A `@value` that counts something: a whole number, zero included.
fn count(f: &mut Fields, node: &Node<'_>) -> Option<u32> {
    let value = node.attr("value").unwrap_or_default();
    let parsed = value.parse().ok();
    if parsed.is_none() {
        f.push(
            ProblemCode::BadValue,
            format!("{}/@value", node.path),
            format!("`{value}` is not a whole number"),
        );
    }
    parsed
}

fn root_of(f: &mut Fields, from: &Node<'_>, chain: &str, what: &str) -> Option<String> {
    f.required_id(from, chain, what).map(|id| id.root)
}

fn opt_root(f: &mut Fields, from: &Node<'_>, chain: &str) -> Option<String> {
    from.walk(chain)
        .and_then(|n| f.id(Some(&n)))
        .map(|id| id.root)
}

fn span(f: &mut Fields, e: &Node<'_>) -> Option<(String, String, u32)> {
    let t = f.require(e, "effectiveTime", "effectiveTime")?;
    let first = f
        .require(&t, "low", "effectiveTime/low")
        .and_then(|n| n.attr("value").map(str::to_owned));
    let last = f
        .require(&t, "high", "effectiveTime/high")
        .and_then(|n| n.attr("value").map(str::to_owned));
    let count = f
        .require(e, "documentCount", "documentCount")
        .and_then(|n| count(f, &n));
    Some((first?, last?, count?))
}

fn read_entry(f: &mut Fields, s: &Node<'_>, results: &mut QueryResults) {
    match results {
        QueryResults::Relationships(v) => {
            let Some(e) = f.require(s, "clientRelationship", "clientRelationship") else {
                return;
            };
            let producer = root_of(f, &e, "producer/id", "the producer id");
            let organiser = opt_root(f, &e, "organiser/id");
            if let (Some(producer), Some((first, last, documents))) = (producer, span(f, &e)) {
                v.push(RelationshipEntry {
                    producer,
                    organiser,
                    first,
                    last,
                    documents,
                });
            }
        }
        QueryResults::Cases(v) => {
            let Some(e) = f.require(s, "case", "case") else {
                return;
            };
            let task = f.require(&e, "serviceTask", "the service task");
            let service_task = task
                .as_ref()
                .and_then(|t| t.attr("code"))
                .map(str::to_owned);
            let service_task_name = task
                .as_ref()
                .and_then(|t| t.attr("displayName"))
                .map(str::to_owned);
            if let (Some(service_task), Some((first, last, documents))) =
                (service_task, span(f, &e))
            {
                v.push(CaseEntry {
                    service_task,
                    service_task_name,
                    first,
                    last,
                    documents,
                });
            }
        }
        QueryResults::Documents(v) => {
            let Some(e) = f.require(s, "clinicalDocument", "clinicalDocument") else {
                return;
            };
            if let Some(entry) = read_document(f, &e) {
                v.push(entry);
            }
        }
    }
}

fn read_document(f: &mut Fields, e: &Node<'_>) -> Option<DocumentEntry> {
    let document_id = root_of(f, e, "id", "the document id");
    let set_id = root_of(f, e, "setId", "setId");
    let version = f
        .require(e, "versionNumber", "versionNumber")
        .and_then(|n| f.number(Some(&n), "versionNumber"));
    let status = f
        .required_code(e, "statusCode", "statusCode")
        .and_then(|c| {
            let s = DocumentStatus::parse(&c.code);
            if s.is_none() {
                f.push(
                    ProblemCode::BadValue,
                    e.path_to("statusCode/@code"),
                    format!("the status is `{}`", c.code),
                );
            }
            s
        });
    let effective_time = f
        .require(e, "effectiveTime", "effectiveTime")
        .and_then(|n| n.attr("value").map(str::to_owned));
    let client = f
        .required_id(e, "recordTarget/patient/id", "the client id")
        .and_then(|id| id.extension);
    let author = f
        .require(e, "author/assignedAuthor/id", "the author id")
        .and_then(|n| {
            let ext = n.attr("extension").map(str::to_owned);
            if ext.is_none() {
                f.missing(format!("{}/@extension", n.path), "the author id");
            }
            ext
        });
    let service_unit = root_of(
        f,
        e,
        "author/assignedAuthor/representedOrganization/id",
        "the service unit id",
    );
    let register_holder = root_of(
        f,
        e,
        "custodian/assignedCustodian/representedOrganization/id",
        "the custodian id",
    );
    let code = |name: &str| {
        e.child(name)
            .and_then(|n| n.attr("code").map(str::to_owned))
    };
    let content = match e.child("text") {
        Some(t) => {
            let text: String = t.el.text.split_ascii_whitespace().collect();
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => Some(bytes),
                Err(err) => {
                    f.push(
                        ProblemCode::BadValue,
                        t.path.clone(),
                        format!("the document text is not base64: {err}"),
                    );
                    return None;
                }
            }
        }
        None => None,
    };
    Some(DocumentEntry {
        document_id: document_id?,
        set_id: set_id?,
        version: version?,
        status: status?,
        register_holder: register_holder?,
        client: client?,
        effective_time: effective_time?,
        service_unit: service_unit?,
        author: author?,
        document_group: code("documentGroup"),
        service_task: code("functionCode"),
        organiser: opt_root(f, e, "outsourcingServiceCustomer/id"),
        title: e.child("title").map(|t| t.el.text.clone()),
        document_type: code("code"),
        replaces: opt_root(f, e, "relatedDocument/parentDocument/id"),
        content,
    })
}

/// `creationTime` text of `at`.
pub fn timestamp(at: OffsetDateTime) -> String {
    ack::hl7_timestamp(at)
}

/// proptest strategies for the query types, beside them (tests only).
#[cfg(test)]
pub(crate) mod strategy {
    use proptest::prelude::*;

    use super::*;

    /// A valid OID (the reader checks them).
    fn oid() -> impl Strategy<Value = String> {
        "2(\\.(0|[1-9][0-9]{0,4})){1,7}"
    }

    fn instance_id() -> impl Strategy<Value = InstanceId> {
        (oid(), proptest::option::of("[A-Za-z0-9._-]{1,24}"))
            .prop_map(|(root, extension)| InstanceId { root, extension })
    }

    fn ts() -> impl Strategy<Value = String> {
        "20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[01][0-9][0-5][0-9][0-5][0-9]\\+0[0-3]00"
    }

    fn text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9äöåÄÖÅ<&>\"][ -~äöåÄÖÅ]{0,30}[A-Za-z0-9.]"
    }

    fn code() -> impl Strategy<Value = String> {
        "[A-Za-z0-9.]{1,6}"
    }

    fn date() -> impl Strategy<Value = Date> {
        (1900i32..2100, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| {
            Date::from_calendar_date(y, time::Month::try_from(m).expect("1..=12"), d)
                .expect("a valid day")
        })
    }

    fn status() -> impl Strategy<Value = DocumentStatus> {
        proptest::sample::select(&DocumentStatus::ALL[..])
    }

    /// Any query kind.
    pub fn kind() -> impl Strategy<Value = QueryKind> {
        proptest::sample::select(&QueryKind::ALL[..])
    }

    /// Any filter.
    pub fn filter() -> impl Strategy<Value = QueryFilter> {
        (
            proptest::option::of(code()),
            proptest::option::of(code()),
            proptest::option::of(date()),
            proptest::option::of(date()),
            proptest::option::of(status()),
        )
            .prop_map(
                |(document_group, service_task, from, until, status)| QueryFilter {
                    document_group,
                    service_task,
                    from,
                    until,
                    status,
                },
            )
    }

    /// Any query a system could send.
    pub fn request() -> impl Strategy<Value = QueryRequest> {
        (
            kind(),
            (
                instance_id(),
                ts(),
                proptest::sample::select(&["P", "T", "D"][..]),
            ),
            (
                proptest::option::of(instance_id()),
                instance_id(),
                instance_id(),
            ),
            (
                oid(),
                "[0-9]{6}[-+A][0-9]{3}[0-9A-Y]",
                proptest::option::of(oid()),
            ),
            filter(),
            proptest::option::of(1u32..10_000),
        )
            .prop_map(
                |(
                    kind,
                    (id, creation_time, processing),
                    (receiver, sender, query_id),
                    (holder, client, doc),
                    filter,
                    limit,
                )| {
                    let document_id = if kind.needs_document() {
                        Some(doc.unwrap_or_else(|| "1.2.3".to_owned()))
                    } else {
                        doc
                    };
                    QueryRequest {
                        kind,
                        id,
                        creation_time,
                        processing_code: processing.to_owned(),
                        receiver,
                        sender,
                        query_id,
                        register_holder: holder,
                        client,
                        document_id,
                        filter,
                        limit,
                    }
                },
            )
    }

    fn document(with_content: bool) -> impl Strategy<Value = DocumentEntry> {
        (
            (
                oid(),
                oid(),
                1u32..50,
                status(),
                oid(),
                "[0-9]{6}-9[0-9]{2}[0-9A-Y]",
            ),
            (ts(), oid(), "[0-9A-Za-z.-]{1,20}"),
            (
                proptest::option::of(code()),
                proptest::option::of(code()),
                proptest::option::of(oid()),
                proptest::option::of(text()),
                proptest::option::of(code()),
                proptest::option::of(oid()),
            ),
            proptest::collection::vec(any::<u8>(), 0..200),
        )
            .prop_map(
                move |(
                    (document_id, set_id, version, status, register_holder, client),
                    (effective_time, service_unit, author),
                    (document_group, service_task, organiser, title, document_type, replaces),
                    content,
                )| DocumentEntry {
                    document_id,
                    set_id,
                    version,
                    status,
                    register_holder,
                    client,
                    effective_time,
                    service_unit,
                    author,
                    document_group,
                    service_task,
                    organiser,
                    title,
                    document_type,
                    replaces,
                    content: with_content.then_some(content),
                },
            )
    }

    fn results(kind: QueryKind) -> BoxedStrategy<QueryResults> {
        match kind {
            QueryKind::Relationships => proptest::collection::vec(
                (oid(), proptest::option::of(oid()), ts(), ts(), 0u32..999).prop_map(
                    |(producer, organiser, first, last, documents)| RelationshipEntry {
                        producer,
                        organiser,
                        first,
                        last,
                        documents,
                    },
                ),
                0..4,
            )
            .prop_map(QueryResults::Relationships)
            .boxed(),
            QueryKind::Cases => proptest::collection::vec(
                (code(), proptest::option::of(text()), ts(), ts(), 0u32..999).prop_map(
                    |(service_task, service_task_name, first, last, documents)| CaseEntry {
                        service_task,
                        service_task_name,
                        first,
                        last,
                        documents,
                    },
                ),
                0..4,
            )
            .prop_map(QueryResults::Cases)
            .boxed(),
            QueryKind::Document => proptest::collection::vec(document(true), 0..3)
                .prop_map(QueryResults::Documents)
                .boxed(),
            QueryKind::Metadata | QueryKind::Summary => {
                proptest::collection::vec(document(false), 0..4)
                    .prop_map(QueryResults::Documents)
                    .boxed()
            }
        }
    }

    fn detail() -> impl Strategy<Value = ResponseDetail> {
        (
            "[A-Z0-9-]{1,20}",
            any::<bool>(),
            text(),
            proptest::option::of(text()),
        )
            .prop_map(|(code, warning, text, location)| ResponseDetail {
                code,
                warning,
                text,
                location,
            })
    }

    /// Any response an archive could write.
    pub fn response() -> impl Strategy<Value = QueryResponse> {
        kind().prop_flat_map(|kind| {
            (
                (
                    instance_id(),
                    ts(),
                    proptest::sample::select(&["P", "T", "D"][..]),
                ),
                (
                    proptest::option::of(instance_id()),
                    instance_id(),
                    proptest::option::of(instance_id()),
                ),
                proptest::sample::select(&[AckType::Aa, AckType::Ae, AckType::Ar][..]),
                proptest::collection::vec(detail(), 0..3),
                proptest::option::of(instance_id()),
                0u32..5,
                results(kind),
            )
                .prop_map(
                    move |(
                        (id, creation_time, processing),
                        (receiver, sender, target_message),
                        type_code,
                        details,
                        query_id,
                        more,
                        results,
                    )| QueryResponse {
                        kind,
                        id,
                        creation_time,
                        processing_code: processing.to_owned(),
                        receiver,
                        sender,
                        target_message,
                        type_code,
                        details,
                        query_id,
                        total: results.len() as u32 + more,
                        results,
                    },
                )
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn soap11(bare: &str) -> String {
        let inner = bare.split_once("?>").map_or(bare, |(_, rest)| rest);
        format!(
            "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Header><x/></soap:Header><soap:Body>{inner}</soap:Body></soap:Envelope>"
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Every query reads back as written, bare and in a SOAP envelope.
        #[test]
        fn requests_round_trip(q in strategy::request()) {
            let text = write_request(&q);
            let read = read_request(text.as_bytes(), &Limits::default());
            prop_assert_eq!(read.problems, vec![]);
            prop_assert_eq!(read.wrapping, Wrapping::Bare);
            prop_assert_eq!(read.query.as_ref(), Some(&q));
            prop_assert_eq!(sniff(text.as_bytes()), Some(Sniffed::Query(q.kind)));
            let wrapped = soap11(&text);
            prop_assert_eq!(sniff(wrapped.as_bytes()), Some(Sniffed::Query(q.kind)));
            let read = read_request(wrapped.as_bytes(), &Limits::default());
            prop_assert_eq!(read.wrapping, Wrapping::Soap11);
            prop_assert_eq!(read.query, Some(q));
        }

        /// Every response reads back as written.
        #[test]
        fn responses_round_trip(r in strategy::response()) {
            let text = write_response(&r);
            prop_assert_eq!(read_response(text.as_bytes(), &Limits::default()), Ok(r.clone()));
            prop_assert_eq!(sniff(text.as_bytes()), Some(Sniffed::Response(r.kind)));
            prop_assert_eq!(read_response(soap11(&text).as_bytes(), &Limits::default()), Ok(r));
        }
    }

    #[test]
    fn kinds_have_their_names_and_ids() {
        for kind in QueryKind::ALL {
            assert_eq!(kind.as_str().parse::<QueryKind>(), Ok(kind));
            assert_eq!(
                QueryKind::from_request_interaction(kind.request_interaction()),
                Some(kind)
            );
            assert_eq!(
                QueryKind::from_response_interaction(kind.response_interaction()),
                Some(kind)
            );
        }
        assert_eq!(
            "everything".parse::<QueryKind>().unwrap_err().to_string(),
            "unknown query kind `everything`: expected relationships, cases, metadata, document or summary"
        );
    }

    #[test]
    fn a_store_message_is_not_a_query() {
        assert_eq!(
            sniff(
                b"<RCMR_IN200002FI01 xmlns='urn:hl7-org:v3'><id root='1.2'/></RCMR_IN200002FI01>"
            ),
            None
        );
        assert_eq!(sniff(b"not xml"), None);
        assert_eq!(sniff(b"<!DOCTYPE x><RCMR_IN200037FI01/>"), None);
    }

    #[test]
    fn every_missing_part_is_named() {
        let text = "<RCMR_IN200037FI01 xmlns='urn:hl7-org:v3'><id root='1.2.3'/><creationTime value='20261207120000+0200'/><interactionId root='2.16.840.1.113883.1.6' extension='RCMR_IN200035FI01'/><processingCode code='T'/><sender><device><id root='2.999.5851.2.1'/></device></sender><controlActProcess><queryByParameter><queryId root='1.2.3.4'/><parameterList><patientId><value root='1.2.246.99' extension='010190-901R'/></patientId><effectiveTime><value><low value='20261301'/></value></effectiveTime><statusCode><value code='gone'/></statusCode></parameterList></queryByParameter></controlActProcess></RCMR_IN200037FI01>";
        let read = read_request(text.as_bytes(), &Limits::default());
        assert_eq!(read.query, None);
        let shown: Vec<String> = read.problems.iter().map(ToString::to_string).collect();
        insta::assert_snapshot!(shown.join("\n"), @r"
        INTERACTION_MISMATCH at /RCMR_IN200037FI01/interactionId/@extension: interactionId says `RCMR_IN200035FI01`, the root element `RCMR_IN200037FI01`
        MISSING_FIELD at /RCMR_IN200037FI01/controlActProcess/queryByParameter/parameterList/custodian/value: the register holder (custodian/value) is missing
        BAD_VALUE at /RCMR_IN200037FI01/controlActProcess/queryByParameter/parameterList/patientId/value/@root: the client id root is `1.2.246.99`, expected 1.2.246.21 (an identity code)
        MISSING_FIELD at /RCMR_IN200037FI01/controlActProcess/queryByParameter/parameterList/clinicalDocumentId/value: the document id (Hae asiakirja names one document) is missing
        BAD_VALUE at /RCMR_IN200037FI01/controlActProcess/queryByParameter/parameterList/effectiveTime/value/low/@value: the day is `20261301`, expected YYYYMMDD
        BAD_VALUE at /RCMR_IN200037FI01/controlActProcess/queryByParameter/parameterList/statusCode/value/@code: the status filter is `gone`, expected active, replaced or invalidated
        ");
    }
}
