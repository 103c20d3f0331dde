//! From a read message to the [`Submission`] the rules judge: the one extraction the archive's
//! pipeline uses, public so that tests can drive the rules the way the archive does.

use time::OffsetDateTime;

use super::{Coded, Interaction, ReplaceReason, Replaces, Submission, UsageSituation};
use crate::format::{self, Message, codes};

/// The facts the rules judge, taken from the message and its CDA (the CDA wins where both
/// carry a value; the consistency check has already reported any difference).
impl Submission {
    /// Takes the facts from a read message; `tls_organisation` is the organisation OID of the
    /// TLS client certificate. Errors name the first missing fact.
    pub fn from_message(
        message: &Message,
        tls_organisation: Option<String>,
    ) -> Result<Submission, &'static str> {
        from_message(message, tls_organisation)
    }
}

fn from_message(
    message: &Message,
    tls_organisation: Option<String>,
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
        tls_organisation,
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
