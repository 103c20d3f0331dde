//! Checks that need no database: the message-level metadata equals the CDA's, the interaction
//! agrees with itself, a replacement names its parent, a new document is version 1 of its own
//! set. And, separately, the deployment-test rule that clients carry test identity codes.

use super::codes;
use super::hetu::Hetu;
use super::model::{InstanceId, Message, ParentDocument};
use super::problem::{Problem, ProblemCode};

/// Every consistency problem of a message that was read (see the module doc). Problems the
/// reader already reported (missing fields, no CDA) are not repeated.
pub fn check_consistency(message: &Message) -> Vec<Problem> {
    let mut out = Vec::new();
    let root = format!("/{}", message.interaction);
    let doc_path = format!("{root}/controlActProcess/subject/clinicalDocument");
    let cda_path = format!("{doc_path}/text/ClinicalDocument");
    let mut push = |code, loc: String, msg: String| out.push(Problem::new(code, loc, msg));

    // The interaction agrees with itself.
    if let Some(iid) = &message.interaction_id {
        let ext = iid.extension.as_deref().unwrap_or("");
        if ext != message.interaction {
            push(
                ProblemCode::InteractionMismatch,
                format!("{root}/interactionId/@extension"),
                format!(
                    "interactionId names `{ext}`, but the message is `{}`",
                    message.interaction
                ),
            );
        }
        if iid.root != codes::INTERACTION_ID_ROOT.value {
            push(
                ProblemCode::InteractionMismatch,
                format!("{root}/interactionId/@root"),
                format!(
                    "interactionId root is `{}`, expected {}",
                    iid.root,
                    codes::INTERACTION_ID_ROOT.value
                ),
            );
        }
    }
    let replace = codes::is_replace_interaction(&message.interaction);
    let known = codes::INTERACTIONS
        .iter()
        .any(|(v, _)| v.value == message.interaction);
    if let (true, Some(act)) = (known, &message.control_act) {
        let expected = if replace {
            codes::CONTROL_ACT_REPLACE
        } else {
            codes::CONTROL_ACT_STORE
        };
        if act.code != expected.code {
            push(
                ProblemCode::InteractionMismatch,
                format!("{root}/controlActProcess/code/@code"),
                format!(
                    "the control act is `{}`, but `{}` calls for `{}`",
                    act.code, message.interaction, expected.code
                ),
            );
        }
    }

    // Versioning and replacement.
    let doc = &message.document;
    match (replace, &doc.replaces) {
        (true, None) => push(
            ProblemCode::Replacement,
            format!("{doc_path}/relatedDocument"),
            format!(
                "`{}` replaces a document but names none (relatedDocument typeCode=\"RPLC\")",
                message.interaction
            ),
        ),
        (true, Some(parent)) => check_parent(
            &mut push,
            &doc_path,
            doc.id.as_ref(),
            doc.set_id.as_ref(),
            doc.version_number,
            parent,
        ),
        (false, Some(_)) if known => push(
            ProblemCode::Replacement,
            format!("{doc_path}/relatedDocument"),
            format!(
                "`{}` stores a new document but carries relatedDocument typeCode=\"RPLC\"",
                message.interaction
            ),
        ),
        _ => {}
    }
    // The replacement reason is the rules' to judge (V-REASON, once, at its own location).
    if !replace && known && doc.replaces.is_none() {
        if let Some(v) = doc.version_number.filter(|v| *v != 1) {
            push(
                ProblemCode::NewDocumentVersion,
                format!("{doc_path}/versionNumber/@value"),
                format!("a new document is version {v}, expected 1"),
            );
        }
        if let (Some(id), Some(set)) = (&doc.id, &doc.set_id)
            && id != set
        {
            push(
                ProblemCode::NewDocumentVersion,
                format!("{doc_path}/setId/@root"),
                format!("a new document's setId is {set}, expected its own id {id}"),
            );
        }
    }

    // Message-level metadata equals the CDA's.
    if let Some(cda) = &message.cda {
        let mut same = |field: &str,
                        cda_field: &str,
                        what: &str,
                        m: Option<String>,
                        c: Option<String>| {
            if let (Some(m), Some(c)) = (&m, &c)
                && m != c
            {
                push(
                    ProblemCode::MetadataMismatch,
                    format!("{doc_path}/{field}"),
                    format!(
                        "{what}: the message says {m}, the CDA ({cda_path}/{cda_field}) says {c}"
                    ),
                );
            }
        };
        let id = |i: &Option<InstanceId>| i.as_ref().map(ToString::to_string);
        same("id", "id", "document id", id(&doc.id), id(&cda.id));
        same("setId", "setId", "setId", id(&doc.set_id), id(&cda.set_id));
        same(
            "versionNumber",
            "versionNumber",
            "versionNumber",
            doc.version_number.map(|v| v.to_string()),
            cda.version_number.map(|v| v.to_string()),
        );
        same(
            "effectiveTime",
            "effectiveTime",
            "effectiveTime",
            doc.effective_time.clone(),
            cda.effective_time.clone(),
        );
        same(
            "recordTarget/patient/id",
            "recordTarget/patientRole/id",
            "client",
            doc.record_target.as_ref().and_then(|p| id(&p.id)),
            cda.record_target.as_ref().and_then(|p| id(&p.id)),
        );
        same(
            "custodian/assignedCustodian/representedOrganization/id",
            "custodian/assignedCustodian/representedCustodianOrganization/id",
            "custodian (register holder)",
            doc.custodian.as_ref().and_then(|o| id(&o.id)),
            cda.custodian.as_ref().and_then(|o| id(&o.id)),
        );
        let parent_id = |p: &Option<ParentDocument>| p.as_ref().and_then(|p| id(&p.id));
        same(
            "relatedDocument/parentDocument/id",
            "relatedDocument/parentDocument/id",
            "replaced document",
            parent_id(&doc.replaces),
            parent_id(&cda.replaces),
        );
        if doc.replaces.is_some() != cda.replaces.is_some() {
            let (m, c) = if doc.replaces.is_some() {
                ("names", "does not")
            } else {
                ("does not name", "does")
            };
            push(
                ProblemCode::MetadataMismatch,
                format!("{doc_path}/relatedDocument"),
                format!("replaced document: the message {m} one (RPLC), the CDA {c}"),
            );
        }
        let unit = |o: &Option<super::model::Organisation>| o.as_ref().and_then(|o| id(&o.id));
        if let (Some(m), Some(c)) = (unit(&message.service_unit), unit(&cda.service_unit))
            && m != c
        {
            push(
                ProblemCode::MetadataMismatch,
                format!(
                    "{root}/controlActProcess/authorOrPerformer/assignedPerson/representedOrganization/id"
                ),
                format!(
                    "service unit: the message says {m}, the CDA ({cda_path}/componentOf/encompassingEncounter/encounterParticipant) says {c}"
                ),
            );
        }
    }
    out
}

fn check_parent(
    push: &mut impl FnMut(ProblemCode, String, String),
    doc_path: &str,
    id: Option<&InstanceId>,
    set_id: Option<&InstanceId>,
    version: Option<u32>,
    parent: &ParentDocument,
) {
    let loc = format!("{doc_path}/relatedDocument/parentDocument");
    if let (Some(id), Some(pid)) = (id, &parent.id)
        && id == pid
    {
        push(
            ProblemCode::Replacement,
            format!("{loc}/id"),
            format!("the replacement names itself ({id}) as the replaced document"),
        );
    }
    if let (Some(set), Some(pset)) = (set_id, &parent.set_id)
        && set != pset
    {
        push(
            ProblemCode::Replacement,
            format!("{loc}/setId"),
            format!("the replaced document is in set {pset}, but this version is in set {set}"),
        );
    }
    match (version, parent.version_number) {
        (Some(v), _) if v < 2 => push(
            ProblemCode::Replacement,
            format!("{doc_path}/versionNumber/@value"),
            format!("a replacement is version {v}, expected 2 or more"),
        ),
        (Some(v), Some(p)) if p + 1 != v => push(
            ProblemCode::Replacement,
            format!("{loc}/versionNumber/@value"),
            format!(
                "the replaced document is version {p}, but this is version {v} (expected {})",
                p + 1
            ),
        ),
        _ => {}
    }
}

/// The deployment-test rule: every client identity code (message and CDA `recordTarget`
/// under root 1.2.246.21) must be a test code, individual number 900–999. Codes that do not
/// parse were already reported by the reader and are skipped here.
pub fn check_test_identities(message: &Message) -> Vec<Problem> {
    let root = format!("/{}", message.interaction);
    let doc_path = format!("{root}/controlActProcess/subject/clinicalDocument");
    let mut out = Vec::new();
    let mut check = |id: Option<&InstanceId>, loc: String| {
        let Some(id) = id.filter(|i| i.root == codes::IDENTITY_CODE_ROOT.value) else {
            return;
        };
        if let Some(Ok(h)) = id.extension.as_deref().map(Hetu::parse)
            && !h.is_test()
        {
            out.push(Problem::new(
                ProblemCode::HetuNotTest,
                loc,
                format!(
                    "identity code `{}` is not a test code (individual number {:03}, test codes use 900-999)",
                    h.as_str(),
                    h.individual_number()
                ),
            ));
        }
    };
    check(
        message
            .document
            .record_target
            .as_ref()
            .and_then(|p| p.id.as_ref()),
        format!("{doc_path}/recordTarget/patient/id/@extension"),
    );
    if let Some(cda) = &message.cda {
        check(
            cda.record_target.as_ref().and_then(|p| p.id.as_ref()),
            format!("{doc_path}/text/ClinicalDocument/recordTarget/patientRole/id/@extension"),
        );
    }
    out
}
