//! Validation without storing: every check the archive runs on a message before its store
//! (format, message/CDA consistency, signature, identity codes, codes, register-holder routing
//! against the fixture) as one pure function (DESIGN §3.7).
//!
//! The archive's pipeline calls [`check`] and then decides whether to store; the validation
//! service (`POST /shark-validointi/validoi/asiakirja/tulos`) and `kantakoe validate` call
//! [`validate_message`] or [`validate_parts`] and only report. One code path, so the three
//! always agree. Nothing here touches a store: no version or idempotency state changes (the
//! version rules that need the archive's history run in its store and are not part of
//! validation).

use std::sync::Arc;

use crate::ack::{self, AckCode, AckDetail};
use crate::format::{self, Limits, Message, ProblemCode, codes};
use crate::orgs::Registry;
use crate::rules::{self, Submission};
use crate::signature::{self as sigverify, Entitlement, Verification, VerifyOptions};

/// Where signature problems are located.
pub const SIGNATURE_XPATH: &str =
    "//hl7:ClinicalDocument//hl7fi:signatureCollection/hl7fi:signature";

/// The signature options the archive uses: trust `cas` (DER); a signer may sign for its own
/// organisation, one of its service units, or an organisation it is registered to act for in
/// the fixture (or for the unit's owner).
pub fn signature_options(registry: Arc<Registry>, cas: Vec<Vec<u8>>) -> VerifyOptions {
    let entitlement = Entitlement::Custom(Arc::new(move |signer: &str, author: &str| {
        registry.may_connect_for(signer, author)
            || registry
                .service_unit_owner(author)
                .is_some_and(|owner| registry.may_connect_for(signer, &owner.oid))
    }));
    VerifyOptions {
        entitlement,
        ..VerifyOptions::with_cas(cas)
    }
}

/// What [`check`] found.
#[derive(Debug)]
pub struct Checked {
    /// Every problem, warnings included, in the order the checks ran.
    pub details: Vec<AckDetail>,
    /// The register holder concerned (the custodian), when the message names one.
    pub holder: Option<String>,
    /// The facts the rules judged; `None` when the checks stopped early (an unreadable
    /// message, a patient-archive interaction, or facts missing for the rules).
    pub submission: Option<Submission>,
    /// The signature verification, when it ran.
    pub verification: Option<Verification>,
}

/// Every check that needs no archive state, on a message already read by
/// [`format::read_message`] (`problems` are the reader's). Pure: no I/O.
pub fn check(
    message: &Message,
    problems: Vec<format::Problem>,
    registry: &Registry,
    signature: &VerifyOptions,
    tls_organisation: Option<&str>,
) -> Checked {
    let cda = message.cda.as_ref();
    let holder = cda
        .and_then(|c| c.custodian.as_ref())
        .or(message.document.custodian.as_ref())
        .and_then(|o| o.id.as_ref())
        .map(|id| id.root.clone());
    let stop = |details, holder| Checked {
        details,
        holder,
        submission: None,
        verification: None,
    };
    let patient = message.interaction == codes::INTERACTION_PATIENT_STORE.value
        || message.interaction == codes::INTERACTION_PATIENT_REPLACE.value;
    if patient {
        // R6 first and alone: a patient-archive message is in the wrong repository, whatever
        // else is in it.
        let detail = AckDetail {
            code: AckCode::WrongRepository,
            location: Some(rules::xpath::INTERACTION.to_owned()),
            detail: format!(
                "{} is a patient data repository interaction; this is the social welfare client data repository",
                message.interaction
            ),
        };
        return stop(vec![detail], holder);
    }
    // Identity codes are judged by the rules (once, with their own codes).
    let mut details: Vec<AckDetail> = problems
        .iter()
        .filter(|p| !is_identity_problem(p.code))
        .map(format_detail)
        .collect();
    if details
        .iter()
        .any(|d| d.code.severity() == ack::Severity::Unreadable)
    {
        return stop(details, holder);
    }
    details.extend(format::check_consistency(message).iter().map(format_detail));
    let cda_bytes = message.cda_bytes.as_deref().unwrap_or_default();
    let author = author_organisation(registry, message);
    let verification = sigverify::verify_for(cda_bytes, signature, author.as_deref());
    details.extend(verification.problems.iter().map(|p| AckDetail {
        code: AckCode::for_signature(p.code),
        location: Some(SIGNATURE_XPATH.to_owned()),
        detail: p.message.clone(),
    }));
    let submission = match Submission::from_message(message, tls_organisation.map(str::to_owned)) {
        Ok(s) => s,
        Err(missing) => {
            details.push(AckDetail {
                code: AckCode::MissingElement,
                location: None,
                detail: format!("the message lacks {missing}"),
            });
            return stop(details, holder);
        }
    };
    details.extend(rules::check(registry, &submission));
    Checked {
        details,
        holder,
        submission: Some(submission),
        verification: Some(verification),
    }
}

/// The author organisation the signer must be entitled for when no CDA author names one
/// (DESIGN §2 "Who may sign"): the owner of the service unit
/// (`encounterParticipant[@typeCode='ADM']`) as the fixture knows it, else the message-level
/// `authorOrPerformer`'s organisation. Never the custodian.
fn author_organisation(registry: &Registry, message: &Message) -> Option<String> {
    let root =
        |o: Option<&format::Organisation>| o.and_then(|o| o.id.as_ref()).map(|id| id.root.clone());
    let unit = root(message.cda.as_ref().and_then(|c| c.service_unit.as_ref()));
    unit.and_then(|u| registry.service_unit_owner(&u).map(|o| o.oid.clone()))
        .or_else(|| root(message.service_unit.as_ref()))
}

/// Reads a whole message (the CDA inside its MIME part) and checks it. A body that is not a
/// readable HL7 V3 message gives its reading problems.
pub fn validate_message(
    body: &[u8],
    limits: &Limits,
    registry: &Registry,
    signature: &VerifyOptions,
) -> Vec<AckDetail> {
    let (message, problems) = format::read_message(body, limits);
    match message {
        Some(message) => without_connection(check(&message, problems, registry, signature, None)),
        None => problems.iter().map(format_detail).collect(),
    }
}

/// The problems of a check made without a connection: validation has no TLS peer, so the
/// rule about the TLS client certificate's organisation (`ORG-TLS-NOT-SENDER`) is not part of
/// it; every other problem is.
fn without_connection(checked: Checked) -> Vec<AckDetail> {
    checked
        .details
        .into_iter()
        .filter(|d| d.code != AckCode::TlsNotSender)
        .collect()
}

/// Reads a transport frame and a separate CDA document, the way Kanta's validation service
/// takes them (`siirtokehysXml`, `asiakirjaXml`), and checks the pair as one message. The
/// frame's MIME payload may be a placeholder: problems of the MIME part itself are not reported
/// (the document travels beside the frame); everything else is.
pub fn validate_parts(
    frame: &[u8],
    document: &[u8],
    limits: &Limits,
    registry: &Registry,
    signature: &VerifyOptions,
) -> Vec<AckDetail> {
    match format::read_frame(frame, document, limits) {
        (Some(message), problems) => {
            without_connection(check(&message, problems, registry, signature, None))
        }
        (None, problems) => problems.iter().map(format_detail).collect(),
    }
}

/// The numbered Finnish problem list of Kanta's validation service:
/// `1: <problem>; 2: <problem>` where each problem starts with our stable code, then the
/// Finnish text, the location and the technical detail. Empty for no problems.
pub fn description(details: &[AckDetail]) -> String {
    details
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{}: {}", i + 1, finnish_line(d)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One problem in Finnish: `CODE Finnish text (sijainti: location): detail`.
pub fn finnish_line(d: &AckDetail) -> String {
    format!(
        "{} {} (sijainti: {}): {}",
        d.code.code(),
        d.code.finnish(),
        d.location.as_deref().unwrap_or("sanoma"),
        d.detail
    )
}

/// One problem in English: `CODE English text (at location): detail`.
pub fn english_line(d: &AckDetail) -> String {
    format!(
        "{} {} (at {}): {}",
        d.code.code(),
        d.code.english(),
        d.location.as_deref().unwrap_or("the message"),
        d.detail
    )
}

/// Whether the problems leave the message acceptable (only warnings, or none).
pub fn is_valid(details: &[AckDetail]) -> bool {
    ack::AckType::for_codes(details.iter().map(|d| d.code)) == ack::AckType::Aa
}

fn is_identity_problem(code: ProblemCode) -> bool {
    matches!(
        code,
        ProblemCode::HetuFormat
            | ProblemCode::HetuCenturySign
            | ProblemCode::HetuDate
            | ProblemCode::HetuIndividualNumber
            | ProblemCode::HetuCheckCharacter
            | ProblemCode::HetuNotTest
    )
}

/// The acknowledgement code for a reading or consistency problem; the detail keeps the
/// reader's own code so nothing is lost.
pub fn format_detail(p: &format::Problem) -> AckDetail {
    AckDetail {
        code: p.code.ack_code(),
        location: Some(p.location.clone()),
        detail: format!("{}: {}", p.code.as_str(), p.message),
    }
}

/// The HL7 V3 `TS` reader, where the rules' extraction keeps it.
pub use crate::rules::extract::parse_hl7_time;
