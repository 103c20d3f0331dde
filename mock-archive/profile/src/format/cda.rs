//! Reading a CDA R2 document: the header fields of DESIGN §3.3, the Finnish local header
//! (`hl7fi:localSocialHeader` or `hl7fi:localHeader`), a summary of its `signatureCollection`
//! (the signature module verifies; this only reads) and the body.

use super::mime::decode_base64;
use super::model::{
    Body, BodyKind, Cda, HeaderKind, InstanceId, LocalHeader, Organisation, ParentDocument,
    SignatureSummary, SoftwareSupport,
};
use super::problem::{Problem, ProblemCode};
use super::read::{Fields, Node};
use super::xml::{self, Limits, Ns};

/// Reads a bare CDA document. Returns the model (unless the XML could not be read or the root
/// is not an HL7 `ClinicalDocument`) and every problem found.
pub fn read_cda(input: &[u8], limits: &Limits) -> (Option<Cda>, Vec<Problem>) {
    read_cda_at(input, limits, "")
}

/// Reads a CDA whose locations continue `base` (the `text` element of a message).
pub(crate) fn read_cda_at(
    input: &[u8],
    limits: &Limits,
    base: &str,
) -> (Option<Cda>, Vec<Problem>) {
    let parsed = xml::parse(input, limits, base);
    let mut problems = parsed.problems;
    let Some(root) = parsed.root else {
        return (None, problems);
    };
    let path = format!("{base}/{}", root.name);
    if root.ns != Ns::Hl7 {
        problems.push(Problem::new(
            ProblemCode::WrongNamespace,
            path,
            format!(
                "the root element `{}` is in {}, expected urn:hl7-org:v3",
                root.name,
                root.ns.describe()
            ),
        ));
        return (None, problems);
    }
    if root.name != "ClinicalDocument" {
        problems.push(Problem::new(
            ProblemCode::WrongDocumentKind,
            path,
            format!(
                "the root element is `{}`, expected ClinicalDocument",
                root.name
            ),
        ));
        return (None, problems);
    }
    let mut f = Fields::default();
    let cda = read_root(&mut f, &Node::new(&root, path));
    problems.extend(f.problems);
    (Some(cda), problems)
}

fn read_root(f: &mut Fields, doc: &Node<'_>) -> Cda {
    let realm_code = f
        .require(doc, "realmCode", "realmCode")
        .and_then(|n| n.attr("code").map(str::to_owned));
    let type_id = f.required_id(doc, "typeId", "typeId");
    let id = f.required_id(doc, "id", "the document id");
    let code = f.code(doc.child("code").as_ref());
    let title = doc.child("title").map(|t| t.el.text.trim().to_owned());
    let effective_time = f
        .require(doc, "effectiveTime", "effectiveTime")
        .and_then(|n| f.time(Some(&n), "effectiveTime"));
    let confidentiality = f.required_code(doc, "confidentialityCode", "confidentialityCode");
    let set_id = f.required_id(doc, "setId", "setId");
    let version_number = f
        .require(doc, "versionNumber", "versionNumber")
        .and_then(|n| f.number(Some(&n), "versionNumber"));

    let record_target = f.require(doc, "recordTarget", "recordTarget").map(|rt| {
        // CDA: recordTarget/patientRole; accept the message form recordTarget/patient too.
        let role = rt.child("patientRole").or_else(|| rt.child("patient"));
        let id_node = role.as_ref().and_then(|r| r.child("id"));
        if id_node.is_none() {
            f.missing(rt.path_to("patientRole/id"), "the client id");
        }
        let person_node = role
            .as_ref()
            .and_then(|r| r.child("patient").or_else(|| r.child("patientPerson")));
        f.person(id_node.as_ref(), person_node.as_ref(), true)
    });

    let author_node = f.require(doc, "author/assignedAuthor", "author/assignedAuthor");
    let author = author_node.as_ref().map(|a| {
        let id = a.child("id");
        f.person(id.as_ref(), a.child("assignedPerson").as_ref(), false)
    });
    let author_organisation = author_node
        .as_ref()
        .and_then(|a| a.child("representedOrganization"))
        .and_then(|o| f.organisation(Some(&o)));

    let custodian = f
        .require(
            doc,
            "custodian/assignedCustodian",
            "custodian/assignedCustodian",
        )
        .and_then(|c| {
            let org = c
                .child("representedCustodianOrganization")
                .or_else(|| c.child("representedOrganization"));
            if org.is_none() {
                f.missing(
                    c.path_to("representedCustodianOrganization"),
                    "the custodian organisation (register holder)",
                );
            }
            let org = f.organisation(org.as_ref());
            if let Some(Organisation { id: None, .. }) = org {
                f.missing(
                    c.path_to("representedCustodianOrganization/id"),
                    "the custodian id (register holder)",
                );
            }
            org
        });

    let service_unit = doc
        .walk("componentOf/encompassingEncounter")
        .and_then(|enc| {
            enc.children("encounterParticipant")
                .find(|p| p.attr("typeCode") == Some("ADM"))
        })
        .and_then(|p| p.walk("assignedEntity/representedOrganization"))
        .and_then(|o| f.organisation(Some(&o)));

    let replaces = doc
        .children("relatedDocument")
        .find(|r| r.attr("typeCode") == Some("RPLC"))
        .map(|r| read_parent(f, &r));

    let consent = f.code(doc.walk("authorization/consent/code").as_ref());

    let social = doc.child_ns(&Ns::Hl7Fi, "localSocialHeader");
    let patient = doc.child_ns(&Ns::Hl7Fi, "localHeader");
    let header_node = match (social, patient) {
        (Some(s), _) => Some((HeaderKind::Social, s)),
        (None, Some(p)) => Some((HeaderKind::Patient, p)),
        (None, None) => {
            f.push(
                ProblemCode::CdaNoLocalHeader,
                doc.path_to("localSocialHeader"),
                "the document has neither hl7fi:localSocialHeader nor hl7fi:localHeader",
            );
            None
        }
    };
    let header = header_node
        .as_ref()
        .map(|(kind, h)| read_header(f, *kind, h));
    let signature = header_node
        .as_ref()
        .and_then(|(_, h)| h.child_ns(&Ns::Hl7Fi, "signatureCollection"))
        .and_then(|c| c.child_ns(&Ns::Hl7Fi, "signature"))
        .map(|s| read_signature(&s));

    let body = read_body(f, doc, id.as_ref());

    Cda {
        realm_code,
        type_id,
        id,
        code,
        title,
        effective_time,
        confidentiality,
        set_id,
        version_number,
        record_target,
        author,
        author_organisation,
        custodian,
        service_unit,
        replaces,
        consent,
        header,
        signature,
        body,
    }
}

/// Reads `relatedDocument[@typeCode='RPLC']/parentDocument`.
pub(crate) fn read_parent(f: &mut Fields, related: &Node<'_>) -> ParentDocument {
    let Some(parent) = f.require(
        related,
        "parentDocument",
        "the replaced document (parentDocument)",
    ) else {
        return ParentDocument {
            id: None,
            set_id: None,
            version_number: None,
        };
    };
    ParentDocument {
        id: f.required_id(&parent, "id", "the replaced document's id"),
        set_id: f.id(parent.child("setId").as_ref()),
        version_number: f.number(
            parent.child("versionNumber").as_ref(),
            "the replaced document's versionNumber",
        ),
    }
}

fn read_header(f: &mut Fields, kind: HeaderKind, h: &Node<'_>) -> LocalHeader {
    let fi = |name: &str| h.child_ns(&Ns::Hl7Fi, name);
    let social = kind == HeaderKind::Social;
    let code = |f: &mut Fields, name: &str, required: bool| {
        let node = fi(name);
        if node.is_none() && required {
            f.missing(h.path_to(name), name);
        }
        f.code(node.as_ref())
    };
    let document_group = code(f, "documentGroup", social);
    let file_format = code(f, "fileFormat", true);
    let structured_file_format = code(f, "structuredFileFormat", false);
    let record_status = code(f, "recordStatus", true);
    let registry_type = code(f, "registryType", social);
    let total_retention_period_class = code(f, "totalRetentionPeriodClass", false);
    let special_content = code(f, "specialContent", false);
    let document_type = code(f, "documentType", false);
    let function_code = code(f, "functionCode", false);
    let specific_document_type = code(f, "specificDocumentType", false);
    let service_process = fi("serviceProcess")
        .and_then(|p| p.child_ns(&Ns::Hl7Fi, "code"))
        .and_then(|c| f.code(Some(&c)));
    let creation_time = fi("creationTime").and_then(|n| f.time(Some(&n), "creationTime"));
    let software_support = fi("softwareSupport").map(|s| SoftwareSupport {
        moderator: s.attr("moderator").map(str::to_owned),
        product: s.attr("product").map(str::to_owned),
        version: s.attr("version").map(str::to_owned),
    });
    let organiser_id = fi("outsourcingServiceCustomer").and_then(|n| f.id(Some(&n)));
    let organiser_name = fi("outsourcingServiceCustomerName").map(|n| n.el.text.trim().to_owned());
    let organiser = (organiser_id.is_some() || organiser_name.is_some()).then_some(Organisation {
        id: organiser_id,
        name: organiser_name,
    });
    LocalHeader {
        kind,
        creation_time,
        document_group,
        file_format,
        structured_file_format,
        software_support,
        record_status,
        registry_type,
        organiser,
        total_retention_period_class,
        special_content,
        content_specification_id: fi("contentSpecificationId").map(|n| n.el.text.trim().to_owned()),
        encompassing_client_relationship: fi("encompassingClientRelationship")
            .and_then(|n| f.id(Some(&n))),
        document_type,
        function_code,
        specific_document_type,
        service_process,
    }
}

fn read_signature(s: &Node<'_>) -> SignatureSummary {
    let description = s.child_ns(&Ns::Hl7Fi, "signatureDescription");
    let timestamp = s.child_ns(&Ns::Hl7Fi, "signatureTimestamp");
    let ds = s.child_ns(&Ns::Dsig, "Signature");
    let reference_uris = ds
        .as_ref()
        .and_then(|d| d.child_ns(&Ns::Dsig, "SignedInfo"))
        .map(|si| {
            si.el
                .children_named(&Ns::Dsig, "Reference")
                .filter_map(|r| r.attr("URI").map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    SignatureSummary {
        id: s.attr("ID").map(str::to_owned),
        description: description.and_then(|d| {
            Some(super::model::CodeValue {
                code: d.attr("code")?.to_owned(),
                code_system: d.attr("codeSystem").map(str::to_owned),
                display_name: d.attr("displayName").map(str::to_owned),
            })
        }),
        timestamp_id: timestamp
            .as_ref()
            .and_then(|t| t.attr("ID"))
            .map(str::to_owned),
        timestamp: timestamp.as_ref().map(|t| t.el.text.trim().to_owned()),
        reference_uris,
        has_signature_value: ds
            .as_ref()
            .and_then(|d| d.child_ns(&Ns::Dsig, "SignatureValue"))
            .is_some(),
        has_certificate: ds
            .as_ref()
            .and_then(|d| d.child_ns(&Ns::Dsig, "KeyInfo"))
            .and_then(|k| k.child_ns(&Ns::Dsig, "X509Data"))
            .and_then(|x| x.child_ns(&Ns::Dsig, "X509Certificate"))
            .is_some(),
    }
}

fn read_body(f: &mut Fields, doc: &Node<'_>, id: Option<&InstanceId>) -> Option<Body> {
    let component = doc.child("component");
    let found = component.as_ref().and_then(|c| {
        c.child("nonXMLBody")
            .map(|b| (BodyKind::NonXml, b))
            .or_else(|| c.child("structuredBody").map(|b| (BodyKind::Structured, b)))
    });
    let Some((kind, body)) = found else {
        f.push(
            ProblemCode::CdaNoBody,
            doc.path_to("component"),
            "the document has no component/nonXMLBody or component/structuredBody",
        );
        return None;
    };
    let body_id = body.attr("ID").map(str::to_owned);
    if let Some(doc_id) = id {
        let expected_nonxml = format!("OID{}", doc_id.root);
        let expected_structured = format!("OID{}.0", doc_id.root);
        let ok = match (kind, body_id.as_deref()) {
            (_, None) => false,
            (BodyKind::NonXml, Some(b)) => b == expected_nonxml,
            (BodyKind::Structured, Some(b)) => b == expected_structured || b == expected_nonxml,
        };
        if !ok {
            let expected = if kind == BodyKind::NonXml {
                expected_nonxml
            } else {
                expected_structured
            };
            f.push(
                ProblemCode::CdaBodyId,
                format!("{}/@ID", body.path),
                format!(
                    "the body ID is {}, expected `{expected}`",
                    body_id
                        .as_deref()
                        .map_or("missing".to_owned(), |b| format!("`{b}`"))
                ),
            );
        }
    }
    let (media_type, narrative) = if kind == BodyKind::NonXml {
        read_narrative(f, &body)
    } else {
        (None, None)
    };
    Some(Body {
        kind,
        id: body_id,
        media_type,
        narrative,
    })
}

fn read_narrative(f: &mut Fields, body: &Node<'_>) -> (Option<String>, Option<String>) {
    let Some(text) = f.require(body, "text", "the nonXMLBody text") else {
        return (None, None);
    };
    let media_type = text.attr("mediaType").map(str::to_owned);
    if text.attr("representation") != Some("B64") {
        f.push(
            ProblemCode::CdaNarrative,
            format!("{}/@representation", text.path),
            "the nonXMLBody text is not representation=\"B64\"",
        );
        return (media_type, None);
    }
    let bytes = decode_base64(
        &text.el.text,
        &text.path,
        "the nonXMLBody narrative",
        &mut f.problems,
    );
    let narrative = bytes.and_then(|b| match String::from_utf8(b) {
        Ok(s) => Some(s),
        Err(e) => {
            f.push(
                ProblemCode::CdaNarrative,
                text.path.clone(),
                format!(
                    "the narrative is not UTF-8 (byte {})",
                    e.utf8_error().valid_up_to()
                ),
            );
            None
        }
    });
    (media_type, narrative)
}
