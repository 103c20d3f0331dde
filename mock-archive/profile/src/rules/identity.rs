//! The client's identity code must be valid and a test code (individual number 900–999):
//! deployment tests use only Kela's test identity codes.

use super::{Submission, Violation, violation, xpath};
use crate::ack::AckCode;
use crate::orgs::{check_identity_code, is_test_identity_code};

/// Checks the client identity code.
pub fn check(submission: &Submission, out: &mut Vec<Violation>) {
    let code = &submission.client;
    if let Err(reason) = check_identity_code(code) {
        out.push(violation(
            AckCode::IdentityCodeInvalid,
            Some(xpath::CLIENT),
            reason,
        ));
    } else if !is_test_identity_code(code) {
        out.push(violation(
            AckCode::IdentityCodeNotTest,
            Some(xpath::CLIENT),
            format!(
                "identity code {code:?} has individual number {}",
                &code[7..10]
            ),
        ));
    }
}
