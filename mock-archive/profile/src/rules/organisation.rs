//! Who sends: the sender is a known organisation, the TLS client certificate belongs to the
//! sender or to a vendor registered as acting for it, and the author's service unit belongs to
//! the producing provider.

use super::{Submission, Violation, violation, xpath};
use crate::ack::AckCode;
use crate::orgs::Registry;

/// Checks sender, TLS peer and service unit.
pub fn check(registry: &Registry, submission: &Submission, out: &mut Vec<Violation>) {
    let sender = &submission.sender;
    if registry.organisation(sender).is_none() {
        out.push(violation(
            AckCode::SenderUnknown,
            Some(xpath::SENDER),
            format!("sender {sender} is not in the organisation register"),
        ));
    }
    match &submission.tls_organisation {
        None => out.push(violation(
            AckCode::TlsNotSender,
            None,
            "the TLS client certificate names no organisation (subject serialNumber)".to_owned(),
        )),
        Some(peer) if !registry.may_connect_for(peer, sender) => out.push(violation(
            AckCode::TlsNotSender,
            None,
            format!("TLS certificate organisation {peer} may not send for {sender}"),
        )),
        Some(_) => {}
    }
    let unit = &submission.service_unit;
    match registry.service_unit_owner(unit) {
        None => out.push(violation(
            AckCode::ServiceUnitUnknown,
            Some(xpath::SERVICE_UNIT),
            format!("service unit {unit} is not in the organisation register"),
        )),
        Some(owner) if owner.oid != submission.producer => out.push(violation(
            AckCode::ServiceUnitNotProducer,
            Some(xpath::SERVICE_UNIT),
            format!(
                "service unit {unit} belongs to {}, not to the producer {}",
                owner.oid, submission.producer
            ),
        )),
        Some(_) => {}
    }
}
