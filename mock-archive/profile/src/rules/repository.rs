//! R6: social welfare client documents go to this repository; patient data repository
//! interactions and health care register codes are refused as the wrong repository.

use super::{Interaction, Submission, Violation, violation, xpath};
use crate::ack::AckCode;

/// \[public\] The social welfare document register code system ("Sosiaalihuolto - Asiakirjan
/// rekisteritunnus", `interop/social/Asiakkuusasiakirja_K.xml`).
pub const SOCIAL_REGISTER_SYSTEM: &str = "1.2.246.537.6.1264.201701";

/// \[public\] `1` "Sosiaalihuollon asiakasrekisteri" in [`SOCIAL_REGISTER_SYSTEM`].
pub const SOCIAL_CLIENT_REGISTER: &str = "1";

/// \[public\] The patient document register code system ("KanTa-palvelut -
/// Potilasasiakirjan rekisteritunnus 2009", `interop/RCMR_IN100002FI01.xml`).
pub const HEALTH_REGISTER_SYSTEM: &str = "1.2.246.537.5.40150.2009";

/// Checks the interaction and the register code.
pub fn check(submission: &Submission, out: &mut Vec<Violation>) {
    if let Interaction::PatientArchive(name) = &submission.interaction {
        out.push(violation(
            AckCode::WrongRepository,
            Some(xpath::INTERACTION),
            format!("{name} is a patient data repository interaction"),
        ));
        return;
    }
    let register = &submission.register;
    if register.code_system == HEALTH_REGISTER_SYSTEM {
        out.push(violation(
            AckCode::WrongRepository,
            Some(xpath::REGISTER),
            format!(
                "register code {} in {} is a patient document register",
                register.code, register.code_system
            ),
        ));
    } else if register.code_system != SOCIAL_REGISTER_SYSTEM
        || register.code != SOCIAL_CLIENT_REGISTER
    {
        out.push(violation(
            AckCode::UnknownRegister,
            Some(xpath::REGISTER),
            format!(
                "register code {} in {}, expected {SOCIAL_CLIENT_REGISTER} in {SOCIAL_REGISTER_SYSTEM}",
                register.code, register.code_system
            ),
        ));
    }
}
