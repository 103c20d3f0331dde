//! Reading an HL7 V3 archive message: unwrap SOAP 1.1, SOAP 1.2 or a bare message, read the
//! fields of DESIGN §3.2, extract the CDA from the MIME part in `clinicalDocument/text` and
//! read it too. Locations are relative to the HL7 V3 root element.

use super::cda::{read_cda_at, read_parent};
use super::codes;
use super::mime;
use super::model::{Message, MessageDocument, Organisation, Wrapping};
use super::problem::{Problem, ProblemCode};
use super::read::{Fields, Node};
use super::xml::{self, Element, Limits, Ns};

/// Reads a message. Returns the model (unless the XML could not be read, or it is not an HL7
/// V3 message at all) and **every** problem found, the embedded CDA's included.
pub fn read_message(input: &[u8], limits: &Limits) -> (Option<Message>, Vec<Problem>) {
    let parsed = xml::parse(input, limits, "");
    let mut problems = parsed.problems;
    let Some(root) = parsed.root else {
        return (None, problems);
    };
    let (wrapping, el) = match unwrap(&root, &mut problems) {
        Some(pair) => pair,
        None => return (None, problems),
    };
    let path = format!("/{}", el.name);
    if el.ns != Ns::Hl7 {
        problems.push(Problem::new(
            ProblemCode::WrongNamespace,
            path,
            format!(
                "the message root `{}` is in {}, expected urn:hl7-org:v3",
                el.name,
                el.ns.describe()
            ),
        ));
        return (None, problems);
    }
    if el.name == "ClinicalDocument" {
        problems.push(Problem::new(
            ProblemCode::WrongDocumentKind,
            path,
            "this is a bare CDA document, not an HL7 V3 message",
        ));
        return (None, problems);
    }
    if !codes::INTERACTIONS.iter().any(|(v, _)| v.value == el.name) {
        problems.push(Problem::new(
            ProblemCode::UnknownInteraction,
            path.clone(),
            format!(
                "`{}` is not an archive interaction this archive knows",
                el.name
            ),
        ));
    }
    let mut f = Fields::default();
    let message = read_fields(&mut f, wrapping, &Node::new(el, path), limits);
    problems.extend(f.problems);
    (Some(message), problems)
}

/// Reads a transport frame and a separate CDA document as one message, the way Kanta's
/// validation service takes them. The frame's MIME payload may be a placeholder (for example
/// `<mimeEncode><DXS …/></mimeEncode>`): problems of the MIME part itself are dropped and the
/// separate document is read in its place, its locations continuing the frame's `text`
/// element, exactly as if it had travelled inside.
pub fn read_frame(
    frame: &[u8],
    document: &[u8],
    limits: &Limits,
) -> (Option<Message>, Vec<Problem>) {
    let (message, problems) = read_message(frame, limits);
    let Some(mut message) = message else {
        return (None, problems);
    };
    let text_path = format!("/{}/{}", message.interaction, TEXT_PATH);
    let in_mime_part = |p: &Problem| {
        p.location.starts_with(&text_path)
            && !matches!(
                p.code,
                ProblemCode::MimeMediaType | ProblemCode::MissingField
            )
    };
    let mut problems: Vec<Problem> = problems.into_iter().filter(|p| !in_mime_part(p)).collect();
    let (cda, cda_problems) = read_cda_at(document, limits, &text_path);
    problems.extend(cda_problems);
    message.mime = None;
    message.cda = cda;
    message.cda_bytes = Some(document.to_vec());
    (Some(message), problems)
}

/// Where the MIME part sits below the message root.
const TEXT_PATH: &str = "controlActProcess/subject/clinicalDocument/text";

/// Finds the HL7 V3 element: the root itself, or the one child of a SOAP `Body`.
pub(crate) fn unwrap<'a>(
    root: &'a Element,
    problems: &mut Vec<Problem>,
) -> Option<(Wrapping, &'a Element)> {
    let wrapping = match (&root.ns, root.name.as_ref()) {
        (Ns::Soap11, "Envelope") => Wrapping::Soap11,
        (Ns::Soap12, "Envelope") => Wrapping::Soap12,
        (ns, "Envelope") => {
            problems.push(Problem::new(
                ProblemCode::WrongNamespace,
                "/Envelope",
                format!(
                    "a SOAP Envelope in {}, expected SOAP 1.1 (http://schemas.xmlsoap.org/soap/envelope/) or SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope)",
                    ns.describe()
                ),
            ));
            return None;
        }
        _ => return Some((Wrapping::Bare, root)),
    };
    let Some(body) = root.child(&root.ns, "Body") else {
        problems.push(Problem::new(
            ProblemCode::SoapBody,
            "/Envelope/Body",
            "the SOAP envelope has no Body",
        ));
        return None;
    };
    match body.children.as_slice() {
        [one] => Some((wrapping, one)),
        many => {
            problems.push(Problem::new(
                ProblemCode::SoapBody,
                "/Envelope/Body",
                format!(
                    "the SOAP Body holds {} elements, expected exactly one message",
                    many.len()
                ),
            ));
            None
        }
    }
}

fn read_fields(f: &mut Fields, wrapping: Wrapping, m: &Node<'_>, limits: &Limits) -> Message {
    let social = codes::INTERACTIONS
        .iter()
        .any(|(v, social)| *social && v.value == m.el.name);
    let id = f.required_id(m, "id", "the message id");
    let creation_time = f
        .require(m, "creationTime", "creationTime")
        .and_then(|n| f.time(Some(&n), "creationTime"));
    let interaction_node = f.require(m, "interactionId", "interactionId");
    let interaction_id = f.id(interaction_node.as_ref());
    let processing_code = f
        .require(m, "processingCode", "processingCode")
        .and_then(|n| n.attr("code").map(str::to_owned));
    let processing_mode_code = m
        .child("processingModeCode")
        .and_then(|n| n.attr("code").map(str::to_owned));
    let receiver = f.id(m.walk("receiver/device/id").as_ref());
    let sender = f.required_id(m, "sender/device/id", "the sender device id");

    let cap = f.require(m, "controlActProcess", "controlActProcess");
    let control_act = cap.as_ref().and_then(|c| f.code(c.child("code").as_ref()));
    let mut service_request = None;
    let mut usage_situation = None;
    if let Some(cap) = &cap {
        for rc in cap.children("reasonCode") {
            let Some(code) = f.code(Some(&rc)) else {
                continue;
            };
            let system = code.code_system.as_deref();
            if system == Some(codes::USAGE_SITUATION_SYSTEM.oid) {
                usage_situation = Some(code);
            } else if service_request.is_none() {
                service_request = Some(code);
            }
        }
        if service_request.is_none() {
            f.missing(cap.path_to("reasonCode"), "the service request reasonCode");
        }
        if social && usage_situation.is_none() {
            f.missing(
                cap.path_to("reasonCode"),
                "the usage situation reasonCode (1.2.246.537.6.1289.201901)",
            );
        }
    }
    let performer = cap
        .as_ref()
        .and_then(|c| c.walk("authorOrPerformer/assignedPerson"));
    let professional = performer.as_ref().and_then(|p| {
        let id = p.child("id");
        let person = p.child("assignedPerson");
        (id.is_some() || person.is_some()).then(|| f.person(id.as_ref(), person.as_ref(), false))
    });
    let service_unit = performer
        .as_ref()
        .and_then(|p| p.child("representedOrganization"))
        .and_then(|o| f.organisation(Some(&o)));
    if let (true, Some(c), None) = (
        social,
        &cap,
        service_unit.as_ref().and_then(|s| s.id.as_ref()),
    ) {
        f.missing(
            c.path_to("authorOrPerformer/assignedPerson/representedOrganization/id"),
            "the service unit id",
        );
    }

    let doc_node = cap
        .as_ref()
        .and_then(|c| f.require(c, "subject/clinicalDocument", "subject/clinicalDocument"));
    let mut document = MessageDocument::default();
    let mut mime_part = None;
    let mut cda = None;
    let mut cda_bytes = None;
    if let Some(d) = &doc_node {
        document = read_document(f, d);
        if let Some(text) = f.require(d, "text", "the clinicalDocument text (the MIME part)") {
            let read = read_text(f, &text, document.id.as_ref().map(|i| i.root.as_str()));
            mime_part = read.part;
            if let Some(bytes) = read.content {
                let (c, problems) = read_cda_at(&bytes, limits, &text.path);
                f.problems.extend(problems);
                cda = c;
                cda_bytes = Some(bytes);
            }
        }
    }
    Message {
        wrapping,
        interaction: m.el.name.to_string(),
        id,
        creation_time,
        interaction_id,
        processing_code,
        processing_mode_code,
        receiver,
        sender,
        control_act,
        service_request,
        usage_situation,
        professional,
        service_unit,
        document,
        mime: mime_part,
        cda,
        cda_bytes,
        span: m.el.span.clone(),
    }
}

fn read_document(f: &mut Fields, d: &Node<'_>) -> MessageDocument {
    let id = f.required_id(d, "id", "the document id");
    let register = f.required_code(d, "code", "the register code");
    let effective_time = f
        .require(d, "effectiveTime", "effectiveTime")
        .and_then(|n| f.time(Some(&n), "effectiveTime"));
    let set_id = f.required_id(d, "setId", "setId");
    let version_number = f
        .require(d, "versionNumber", "versionNumber")
        .and_then(|n| f.number(Some(&n), "versionNumber"));
    let record_target = f.require(d, "recordTarget", "recordTarget").map(|rt| {
        let role = rt.child("patient").or_else(|| rt.child("patientRole"));
        let id_node = role.as_ref().and_then(|r| r.child("id"));
        if id_node.is_none() {
            f.missing(rt.path_to("patient/id"), "the client id");
        }
        let person = role
            .as_ref()
            .and_then(|r| r.child("patientPerson").or_else(|| r.child("patient")));
        f.person(id_node.as_ref(), person.as_ref(), true)
    });
    let custodian = f
        .require(
            d,
            "custodian/assignedCustodian",
            "custodian/assignedCustodian",
        )
        .and_then(|c| {
            let org = c
                .child("representedOrganization")
                .or_else(|| c.child("representedCustodianOrganization"));
            let org: Option<Organisation> = f.organisation(org.as_ref());
            if org.as_ref().and_then(|o| o.id.as_ref()).is_none() {
                f.missing(
                    c.path_to("representedOrganization/id"),
                    "the custodian id (register holder)",
                );
            }
            org
        });
    let replaces = d
        .children("relatedDocument")
        .find(|r| r.attr("typeCode") == Some("RPLC"))
        .map(|r| read_parent(f, &r));
    let replacement_reason = f.code(d.child("reasonCode").as_ref());
    MessageDocument {
        id,
        register,
        set_id,
        version_number,
        effective_time,
        record_target,
        custodian,
        replaces,
        replacement_reason,
    }
}

fn read_text(f: &mut Fields, text: &Node<'_>, document_id: Option<&str>) -> mime::MimeRead {
    let empty = mime::MimeRead {
        part: None,
        content: None,
    };
    if let Some(media) = text.attr("mediaType")
        && media != "multipart/related"
    {
        f.push(
            ProblemCode::MimeMediaType,
            format!("{}/@mediaType", text.path),
            format!("the text mediaType is `{media}`, expected multipart/related"),
        );
    }
    if text.el.text.trim().is_empty() {
        let inside = text
            .el
            .children
            .first()
            .map_or(String::from("nothing"), |c| format!("element `{}`", c.name));
        f.push(
            ProblemCode::MimeMissing,
            text.path.clone(),
            format!("the text holds no MIME part (found {inside})"),
        );
        return empty;
    }
    mime::read(&text.el.text, &text.path, document_id, &mut f.problems)
}
