//! The archive's rules as plain functions over plain data: no I/O, no parsing, so that a
//! property test can drive them (DESIGN §2, §4).
//!
//! The pipeline extracts a [`Submission`] from the message and its CDA and calls [`check`],
//! which returns **every** broken rule as a [`Violation`] (an [`AckDetail`]: stable code,
//! XPath location, detail). Warnings ([`crate::ack::Severity::Warning`]) are in the same list
//! and do not refuse. Version rules that need the archive's state (latest version, invalidated
//! sets, reused ids) run in the archive's store, inside the writer's transaction; the ones that need
//! only the message run here ([`versions`]).
//!
//! One submodule per concern: [`repository`] (R6), [`identity`], [`organisation`] (sender,
//! TLS peer, service unit), [`routing`] (R1–R5, R7, organiser field, usage situation) and
//! [`versions`].

use time::OffsetDateTime;

use crate::ack::{AckCode, AckDetail};
use crate::orgs::Registry;

pub mod access;
pub mod extract;
pub mod identity;
pub mod organisation;
pub mod repository;
pub mod routing;
pub mod versions;

#[cfg(test)]
mod tests;

/// One broken rule: the acknowledgement detail it becomes.
pub type Violation = AckDetail;

/// What the message claims to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interaction {
    /// Store a new social welfare document (`RCMR_IN200002FI01`).
    Store,
    /// Replace a document: a new version or an invalidation (`RCMR_IN200016FI01`).
    Replace,
    /// A patient data repository interaction (e.g. `RCMR_IN100002FI01`), named: refused (R6).
    PatientArchive(String),
}

/// A coded value (`@code`, `@codeSystem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coded {
    /// `@code`.
    pub code: String,
    /// `@codeSystem`.
    pub code_system: String,
}

impl Coded {
    /// A coded value.
    pub fn new(code: impl Into<String>, code_system: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            code_system: code_system.into(),
        }
    }
}

/// The message's usage situation ("käyttötilanne"), as the pipeline mapped its code. The codes
/// themselves belong to the format's code registry, not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageSituation {
    /// The register holder's own use (`1` "Palvelunjärjestäjän rekisterin oma käyttö" \[public\]).
    OwnUse,
    /// Storing into an organiser's register under a register usage right \[conv code\].
    UsageRight,
    /// Any other code, as sent.
    Other(String),
    /// The reason code is missing.
    Absent,
}

/// Why a document replaces another (`reasonCode` in 1.2.246.537.5.40178.2008).
///
/// The one name for this concept in both programs. Its text form ([`Display`](std::fmt::Display),
/// [`FromStr`](std::str::FromStr) and serde) is `correction`, `invalidation` or
/// `other:<code as sent>`: the store, the inspection contract and case files use it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ReplaceReason {
    /// `1` correction ("Korjaus") \[public\]: a new version.
    Correction,
    /// Invalidation ("mitätöinti") \[conv code\]: ends the set.
    Invalidation,
    /// Any other code, as sent.
    Other(String),
}

impl std::fmt::Display for ReplaceReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplaceReason::Correction => f.write_str("correction"),
            ReplaceReason::Invalidation => f.write_str("invalidation"),
            ReplaceReason::Other(code) => write!(f, "other:{code}"),
        }
    }
}

/// A text that is not a [`ReplaceReason`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown replacement reason {0:?}: correction, invalidation or other:<code>")]
pub struct UnknownReplaceReason(pub String);

impl std::str::FromStr for ReplaceReason {
    type Err = UnknownReplaceReason;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "correction" => Ok(ReplaceReason::Correction),
            "invalidation" => Ok(ReplaceReason::Invalidation),
            other => other
                .strip_prefix("other:")
                .map(|code| ReplaceReason::Other(code.to_owned()))
                .ok_or_else(|| UnknownReplaceReason(other.to_owned())),
        }
    }
}

impl From<ReplaceReason> for String {
    fn from(reason: ReplaceReason) -> String {
        reason.to_string()
    }
}

impl TryFrom<String> for ReplaceReason {
    type Error = UnknownReplaceReason;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

/// proptest strategy for [`ReplaceReason`], beside the type (tests only).
#[cfg(test)]
pub(crate) fn replace_reason_strategy() -> impl proptest::strategy::Strategy<Value = ReplaceReason>
{
    use proptest::prelude::*;
    prop_oneof![
        Just(ReplaceReason::Correction),
        Just(ReplaceReason::Invalidation),
        "[ -~]{0,12}".prop_map(ReplaceReason::Other),
    ]
}

/// The `relatedDocument typeCode="RPLC"` of a replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaces {
    /// The replaced document's id (`parentDocument/id`).
    pub document_id: String,
    /// Why.
    pub reason: ReplaceReason,
}

/// The facts the pipeline extracts from one message for the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The interaction.
    pub interaction: Interaction,
    /// The register (`clinicalDocument/code`).
    pub register: Coded,
    /// The organisation OID of the TLS client certificate (`serialNumber`), if it has one.
    pub tls_organisation: Option<String>,
    /// The message sender's organisation (`sender/device/id`).
    pub sender: String,
    /// The author's service unit OID.
    pub service_unit: String,
    /// The producing provider (the organisation of the author's service unit).
    pub producer: String,
    /// The custodian: the register holder the document names.
    pub custodian: String,
    /// The organiser (`hl7fi:outsourcingServiceCustomer`), when present.
    pub organiser: Option<String>,
    /// The usage situation.
    pub usage_situation: UsageSituation,
    /// The client's identity code (`recordTarget/patientRole/id@extension`).
    pub client: String,
    /// The document's `effectiveTime`.
    pub effective_time: OffsetDateTime,
    /// The document id.
    pub document_id: String,
    /// The setId (id of version 1).
    pub set_id: String,
    /// `versionNumber`.
    pub version: u32,
    /// The RPLC reference, for replacements.
    pub replaces: Option<Replaces>,
}

/// Where each fact sits in the message, for acknowledgement locations. XPaths with prefixes
/// `hl7` = `urn:hl7-org:v3`, `hl7fi` = `urn:hl7finland`; `/*` is the interaction's root.
pub mod xpath {
    /// `interactionId`.
    pub const INTERACTION: &str = "/*/hl7:interactionId";
    /// The sender device.
    pub const SENDER: &str = "/*/hl7:sender/hl7:device/hl7:id";
    /// The register code of the document.
    pub const REGISTER: &str = "/*/hl7:controlActProcess/hl7:subject/hl7:clinicalDocument/hl7:code";
    /// The usage situation reason code.
    pub const USAGE_SITUATION: &str =
        "/*/hl7:controlActProcess/hl7:reasonCode[@codeSystem='1.2.246.537.6.1289.201901']";
    /// The author's service unit.
    pub const SERVICE_UNIT: &str = "//hl7:ClinicalDocument/hl7:componentOf/hl7:encompassingEncounter/hl7:encounterParticipant[@typeCode='ADM']";
    /// The client.
    pub const CLIENT: &str = "//hl7:ClinicalDocument/hl7:recordTarget/hl7:patientRole/hl7:id";
    /// The custodian (register holder).
    pub const CUSTODIAN: &str = "//hl7:ClinicalDocument/hl7:custodian/hl7:assignedCustodian/hl7:representedCustodianOrganization/hl7:id";
    /// The organiser.
    pub const ORGANISER: &str =
        "//hl7:ClinicalDocument//hl7fi:localSocialHeader/hl7fi:outsourcingServiceCustomer";
    /// The document id.
    pub const DOCUMENT_ID: &str = "//hl7:ClinicalDocument/hl7:id";
    /// The setId.
    pub const SET_ID: &str = "//hl7:ClinicalDocument/hl7:setId";
    /// The version number.
    pub const VERSION: &str = "//hl7:ClinicalDocument/hl7:versionNumber";
    /// The replaced document.
    pub const RPLC: &str =
        "//hl7:ClinicalDocument/hl7:relatedDocument[@typeCode='RPLC']/hl7:parentDocument/hl7:id";
    /// The replacement reason code: the message-level document's `reasonCode`, where the
    /// archive reads it.
    pub const REPLACE_REASON: &str =
        "/*/hl7:controlActProcess/hl7:subject/hl7:clinicalDocument/hl7:reasonCode";
}

/// A violation at `location`.
pub fn violation(code: crate::ack::AckCode, location: Option<&str>, detail: String) -> Violation {
    Violation {
        code,
        location: location.map(str::to_owned),
        detail,
    }
}

/// Runs every message-level rule and returns every violation (warnings included), in rule
/// order. A wrong-repository message (R6) is answered with that alone: the social welfare rules
/// do not apply to it.
pub fn check(registry: &Registry, submission: &Submission) -> Vec<Violation> {
    let mut out = Vec::new();
    repository::check(submission, &mut out);
    if !out.is_empty() {
        return out;
    }
    identity::check(submission, &mut out);
    let identity_refused = !out.is_empty();
    organisation::check(registry, submission, &mut out);
    routing::check(registry, submission, &mut out);
    if identity_refused {
        // A refused identity code names no test person, so "no service relationship" would
        // only repeat the identity problem.
        out.retain(|v| v.code != AckCode::NoServiceRelationship);
    }
    versions::check(submission, &mut out);
    out
}
