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

use time::OffsetDateTime;

use crate::ack::{self, AckCode, AckDetail};
use crate::format::{self, Limits, Message, ProblemCode, codes};
use crate::orgs::Registry;
use crate::rules::{self, Coded, Interaction, ReplaceReason, Replaces, Submission, UsageSituation};
use crate::signature::{
    self as sigverify, Entitlement, Verification, VerifyOptions,
};

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
    let submission = match submission(message, tls_organisation) {
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
    use ProblemCode as P;
    let code = match p.code {
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
        P::MetadataMismatch | P::InteractionMismatch | P::Replacement | P::NewDocumentVersion => {
            AckCode::MetadataMismatch
        }
        P::HetuNotTest => AckCode::IdentityCodeNotTest,
        P::HetuFormat
        | P::HetuCenturySign
        | P::HetuDate
        | P::HetuIndividualNumber
        | P::HetuCheckCharacter => AckCode::IdentityCodeInvalid,
        _ => AckCode::MessageUnreadable,
    };
    AckDetail {
        code,
        location: Some(p.location.clone()),
        detail: format!("{}: {}", p.code.as_str(), p.message),
    }
}

/// The facts the rules judge, taken from the message and its CDA (the CDA wins where both
/// carry a value; the consistency check has already reported any difference).
pub fn submission(
    message: &Message,
    tls_organisation: Option<&str>,
) -> Result<Submission, &'static str> {
    let cda = message.cda.as_ref().ok_or("a readable CDA document")?;
    let doc = &message.document;
    let interaction = if message.interaction == codes::INTERACTION_REPLACE.value {
        Interaction::Replace
    } else {
        Interaction::Store
    };
    let register = doc
        .register
        .as_ref()
        .or(cda.code.as_ref())
        .ok_or("clinicalDocument/code (the register)")?;
    let root =
        |o: Option<&format::Organisation>| o.and_then(|o| o.id.as_ref()).map(|id| id.root.clone());
    let service_unit = root(message.service_unit.as_ref())
        .or_else(|| root(cda.service_unit.as_ref()))
        .ok_or("the service unit (authorOrPerformer/representedOrganization)")?;
    let sender = message
        .sender
        .as_ref()
        .map(|id| id.root.clone())
        .ok_or("sender/device/id")?;
    let custodian = root(cda.custodian.as_ref())
        .or_else(|| root(doc.custodian.as_ref()))
        .ok_or("custodian")?;
    let organiser = root(cda.header.as_ref().and_then(|h| h.organiser.as_ref()));
    let usage_situation = match &message.usage_situation {
        None => UsageSituation::Absent,
        Some(c) if c.is(&codes::USAGE_OWN) => UsageSituation::OwnUse,
        Some(c) if c.is(&codes::USAGE_REGISTER_USAGE_RIGHT) => UsageSituation::UsageRight,
        Some(c) => UsageSituation::Other(c.code.clone()),
    };
    let client = cda
        .record_target
        .as_ref()
        .or(doc.record_target.as_ref())
        .and_then(|p| p.id.as_ref())
        .and_then(|id| id.extension.clone())
        .ok_or("recordTarget id (the client's identity code)")?;
    let effective = cda
        .effective_time
        .as_deref()
        .or(doc.effective_time.as_deref())
        .ok_or("effectiveTime")?;
    let effective_time = parse_hl7_time(effective).ok_or("a valid effectiveTime")?;
    let document_id = cda
        .id
        .as_ref()
        .or(doc.id.as_ref())
        .map(|id| id.root.clone())
        .ok_or("document id")?;
    let set_id = cda
        .set_id
        .as_ref()
        .or(doc.set_id.as_ref())
        .map(|id| id.root.clone())
        .ok_or("setId")?;
    let version = cda
        .version_number
        .or(doc.version_number)
        .ok_or("versionNumber")?;
    let replaces = cda
        .replaces
        .as_ref()
        .or(doc.replaces.as_ref())
        .and_then(|r| r.id.as_ref())
        .map(|id| Replaces {
            document_id: id.root.clone(),
            reason: match &doc.replacement_reason {
                Some(c) if c.is(&codes::REPLACEMENT_CORRECTION) => ReplaceReason::Correction,
                Some(c) if c.is(&codes::REPLACEMENT_INVALIDATION) => ReplaceReason::Invalidation,
                Some(c) => ReplaceReason::Other(c.code.clone()),
                None => ReplaceReason::Other(String::new()),
            },
        });
    // The producer is whoever the message says sends; the rules check that the service unit
    // belongs to it and that the TLS peer may send for it.
    let producer = sender.clone();
    Ok(Submission {
        interaction,
        register: Coded::new(
            register.code.clone(),
            register.code_system.clone().unwrap_or_default(),
        ),
        tls_organisation: tls_organisation.map(str::to_owned),
        sender,
        producer,
        service_unit,
        custodian,
        organiser,
        usage_situation,
        client,
        effective_time,
        document_id,
        set_id,
        version,
        replaces,
    })
}

/// Parses an HL7 V3 `TS` value: `YYYYMMDD[hh[mm[ss[.f…]]]][±hhmm]`. Without an offset the
/// time is taken as UTC.
pub fn parse_hl7_time(text: &str) -> Option<OffsetDateTime> {
    let (main, offset) = match text.find(['+', '-']) {
        Some(i) => (&text[..i], Some(&text[i..])),
        None => (text, None),
    };
    let main = main.split('.').next()?;
    if main.len() < 8
        || main.len() > 14
        || main.len() % 2 != 0
        || !main.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| main.get(r).map_or(Some(0), |s| s.parse::<u32>().ok());
    let date = time::Date::from_calendar_date(
        num(0..4)? as i32,
        time::Month::try_from(num(4..6)? as u8).ok()?,
        num(6..8)? as u8,
    )
    .ok()?;
    let t = time::Time::from_hms(num(8..10)? as u8, num(10..12)? as u8, num(12..14)? as u8).ok()?;
    let offset = match offset {
        None => time::UtcOffset::UTC,
        Some(o) if o.len() == 5 && o[1..].bytes().all(|b| b.is_ascii_digit()) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let h: i8 = o[1..3].parse().ok()?;
            let m: i8 = o[3..5].parse().ok()?;
            time::UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
        Some(_) => return None,
    };
    Some(time::PrimitiveDateTime::new(date, t).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hl7_times_parse_with_and_without_offset() {
        let t = parse_hl7_time("20260717130652+0300").unwrap();
        assert_eq!(t.unix_timestamp(), 1_784_282_812);
        assert_eq!(
            parse_hl7_time("20170922151552").unwrap().offset(),
            time::UtcOffset::UTC
        );
        assert!(parse_hl7_time("20260230").is_none());
        assert!(parse_hl7_time("2026").is_none());
        assert!(parse_hl7_time("20260101+3").is_none());
        assert_eq!(parse_hl7_time("20170922151558.936").unwrap().second(), 58);
    }
}
