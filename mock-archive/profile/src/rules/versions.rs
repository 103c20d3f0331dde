//! Version rules that need only the message: a new document is version 1 of its own set and
//! names nothing it replaces; a replacement names what it replaces and why. The rules that need
//! the archive's state (latest version, invalidated sets, reused ids) run in the store's writer.

use super::{Interaction, ReplaceReason, Submission, Violation, violation, xpath};
use crate::ack::AckCode;
use crate::format::codes;

/// Checks the message-level version rules.
pub fn check(submission: &Submission, out: &mut Vec<Violation>) {
    match submission.interaction {
        Interaction::Store => {
            if let Some(replaces) = &submission.replaces {
                out.push(violation(
                    AckCode::ReplacementUnexpected,
                    Some(xpath::RPLC),
                    format!("a new document names {} as replaced", replaces.document_id),
                ));
            }
            if submission.version != 1 {
                out.push(violation(
                    AckCode::VersionNotFirst,
                    Some(xpath::VERSION),
                    format!("version {}, expected 1", submission.version),
                ));
            }
            if submission.set_id != submission.document_id {
                out.push(violation(
                    AckCode::VersionNotFirst,
                    Some(xpath::SET_ID),
                    format!(
                        "setId {} differs from the document id {}",
                        submission.set_id, submission.document_id
                    ),
                ));
            }
        }
        Interaction::Replace => match &submission.replaces {
            None => out.push(violation(
                AckCode::ReplacementMissing,
                Some(xpath::RPLC),
                "a replacement without relatedDocument typeCode=\"RPLC\"".to_owned(),
            )),
            Some(replaces) => {
                if let ReplaceReason::Other(code) = &replaces.reason {
                    let detail = if code.is_empty() {
                        format!(
                            "a replacement has no reasonCode ({})",
                            codes::REPLACEMENT_REASON_SYSTEM.oid
                        )
                    } else {
                        format!(
                            "reason code {code:?} is neither {} (correction) nor {} \
                             (invalidation) in {}",
                            codes::REPLACEMENT_CORRECTION.code,
                            codes::REPLACEMENT_INVALIDATION.code,
                            codes::REPLACEMENT_REASON_SYSTEM.oid
                        )
                    };
                    out.push(violation(
                        AckCode::ReplacementReasonUnknown,
                        Some(xpath::REPLACE_REASON),
                        detail,
                    ));
                }
                if replaces.document_id == submission.document_id {
                    out.push(violation(
                        AckCode::ReplacesNotLatest,
                        Some(xpath::RPLC),
                        format!("document {} names itself as replaced", replaces.document_id),
                    ));
                }
            }
        },
        Interaction::PatientArchive(_) => {}
    }
}
