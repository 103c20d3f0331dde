//! Register-holder routing: whose register a document belongs to (DESIGN §2, the verdict
//! table is normative).
//!
//! For client C, producer P, custodian K and organiser field O, with C's service relationship
//! with P from the fixture:
//! - R1 self-paying: K must be P; O absent is accepted with a warning; R3 P must have a
//!   register of its own.
//! - R2 purchased service or voucher of X: K must be X, O must be X, and P must hold a usage
//!   right from X valid on the document's date covering that payment type.
//! - O present must equal K (the organiser is always the register holder).
//! - R4 K must be able to hold a register (public organiser or licensed provider); R5 K is
//!   never Kela; R7 services outside social and health care are not stored.
//! - The organiser's own client (the organiser produces the service itself): K must be the
//!   organiser; O absent is accepted with a warning, as for a self-paying client.
//! - No known relationship: refused.
//! - The usage situation is own use exactly when K is the sender's organisation.
//!
//! Several rules can apply at once; each adds its own violation.

use super::{Submission, UsageSituation, Violation, violation, xpath};
use crate::ack::AckCode;
use crate::orgs::{OrgKind, PaymentType, Registry};

/// Checks routing and returns its violations into `out`.
pub fn check(registry: &Registry, submission: &Submission, out: &mut Vec<Violation>) {
    let custodian = &submission.custodian;
    let producer = &submission.producer;
    let client = &submission.client;

    match registry.organisation(custodian) {
        None => out.push(violation(
            AckCode::CustodianUnknown,
            Some(xpath::CUSTODIAN),
            format!("custodian {custodian} is not in the organisation register"),
        )),
        Some(org) if org.kind == OrgKind::Kela => out.push(violation(
            AckCode::KelaCustodian,
            Some(xpath::CUSTODIAN),
            format!("custodian {custodian} is Kela"),
        )),
        Some(org) if !org.may_hold_register() => out.push(violation(
            AckCode::CustodianNotLicensed,
            Some(xpath::CUSTODIAN),
            format!(
                "custodian {custodian} ({}) holds no licence or registration",
                org.name
            ),
        )),
        Some(_) => {}
    }

    let relationship = registry.relationship(client, producer);
    match (&submission.organiser, relationship) {
        (Some(organiser), _) if organiser != custodian => out.push(violation(
            AckCode::OrganiserMismatch,
            Some(xpath::ORGANISER),
            format!("organiser {organiser} differs from custodian {custodian}"),
        )),
        (None, Some(rel)) if rel.payment.organiser_pays() => out.push(violation(
            AckCode::OrganiserMismatch,
            Some(xpath::ORGANISER),
            format!(
                "organiser is missing for a {} client; expected {}",
                rel.payment,
                rel.organiser.as_deref().unwrap_or_default()
            ),
        )),
        _ => {}
    }

    match relationship {
        None => out.push(violation(
            AckCode::NoServiceRelationship,
            Some(xpath::CLIENT),
            format!("client {client} has no service relationship with {producer}"),
        )),
        Some(rel) => match rel.payment {
            PaymentType::SelfPaying => {
                if custodian != producer {
                    out.push(violation(
                        AckCode::SelfPayingNotProvider,
                        Some(xpath::CUSTODIAN),
                        format!(
                            "client {client} pays {producer} privately; custodian is {custodian}"
                        ),
                    ));
                } else {
                    let own = registry
                        .organisation(producer)
                        .is_some_and(|org| org.own_register);
                    if !own {
                        out.push(violation(
                            AckCode::NoOwnRegister,
                            Some(xpath::CUSTODIAN),
                            format!("{producer} has no client register of its own"),
                        ));
                    }
                    if submission.organiser.is_none() {
                        out.push(violation(
                            AckCode::OrganiserMissing,
                            Some(xpath::ORGANISER),
                            format!("assumed {producer}"),
                        ));
                    }
                }
            }
            PaymentType::PurchasedService | PaymentType::ServiceVoucher => {
                let organiser = rel.organiser.as_deref().unwrap_or_default();
                if custodian != organiser {
                    out.push(violation(
                        AckCode::OrganiserRegisterRequired,
                        Some(xpath::CUSTODIAN),
                        format!(
                            "client {client} is a {} client of {organiser}; custodian is {custodian}",
                            rel.payment
                        ),
                    ));
                } else {
                    let day = submission.effective_time.date();
                    if let Err(problem) =
                        registry.usage_right(organiser, producer, day, rel.payment)
                    {
                        out.push(violation(
                            AckCode::NoUsageRight,
                            Some(xpath::CUSTODIAN),
                            format!(
                                "usage right from {organiser} to {producer} for {} on {day}: {problem}",
                                rel.payment
                            ),
                        ));
                    }
                }
            }
            PaymentType::OwnClient => {
                // The organiser serves its own client: the document is in its own register.
                if custodian != producer {
                    out.push(violation(
                        AckCode::OrganiserRegisterRequired,
                        Some(xpath::CUSTODIAN),
                        format!(
                            "client {client} is {producer}'s own client; custodian is {custodian}"
                        ),
                    ));
                } else if submission.organiser.is_none() {
                    out.push(violation(
                        AckCode::OrganiserMissing,
                        Some(xpath::ORGANISER),
                        format!("assumed {producer}"),
                    ));
                }
            }
            PaymentType::OutsideKanta => out.push(violation(
                AckCode::OutsideKanta,
                Some(xpath::CLIENT),
                format!(
                    "the service of {producer} to client {client} is outside social and health care"
                ),
            )),
        },
    }

    let own_use = custodian == &submission.sender;
    let expected = if own_use {
        "own use (1)"
    } else {
        "register usage right"
    };
    let found = match &submission.usage_situation {
        UsageSituation::OwnUse if own_use => None,
        UsageSituation::UsageRight if !own_use => None,
        UsageSituation::OwnUse => Some("own use (1)".to_owned()),
        UsageSituation::UsageRight => Some("register usage right".to_owned()),
        UsageSituation::Other(code) => Some(format!("unknown code {code:?}")),
        UsageSituation::Absent => Some("none".to_owned()),
    };
    if let Some(found) = found {
        out.push(violation(
            AckCode::UsageSituationMismatch,
            Some(xpath::USAGE_SITUATION),
            format!(
                "usage situation {found}, expected {expected} for custodian {custodian} and sender {}",
                submission.sender
            ),
        ));
    }
}
