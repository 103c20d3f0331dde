//! The inspection API for the harness and tests, on the message listener (so behind mutual
//! TLS) with an archivist's token: the documents of **one register holder**, one document with
//! its versions, and that holder's audit log (R8). A token belongs to exactly one register
//! holder (the fixture's `[[archivist]]`); another holder's documents are simply not found.
//!
//! Routes (all `GET`, header `Authorization: Bearer <token>`):
//! - `/inspect/documents` — every document of the holder, newest first;
//! - `/inspect/documents/<document OID>` — one document's metadata, its set's versions and
//!   the CDA as stored;
//! - `/inspect/audit` — the holder's audit log, newest first, each entry with its sequence
//!   number `id` (increasing over the whole archive).

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::pipeline::Pipeline;
use crate::store::{AuditEntry, DocumentFilter, DocumentMeta};

/// The path prefix of the inspection API.
pub const PREFIX: &str = "/inspect/";

/// How many audit entries one answer holds at most.
const AUDIT_LIMIT: u32 = 1000;

/// Answers one inspection request: an HTTP status and a JSON body.
pub fn answer(pipeline: &Pipeline, authorization: Option<&str>, path: &str) -> (u16, Value) {
    let Some(token) = authorization
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return (
            401,
            error("sign in with an archivist token: Authorization: Bearer <token>"),
        );
    };
    let Some(archivist) = pipeline.registry().archivist(token) else {
        return (401, error("unknown archivist token"));
    };
    let holder = archivist.register_holder.as_str();
    let store = pipeline.store();
    let rest = path.strip_prefix(PREFIX).unwrap_or_default();
    let result = match rest.split_once('/') {
        None if rest == "documents" => store
            .documents(holder, &DocumentFilter::default())
            .map(|docs| (200, json!({ "register_holder": holder, "documents": docs.iter().map(meta).collect::<Vec<_>>() }))),
        Some(("documents", id)) if !id.is_empty() && !id.contains('/') => match store.document(holder, id) {
            Ok(Some(doc)) => store.versions(holder, &doc.meta.set_id).map(|versions| {
                (
                    200,
                    json!({
                        "register_holder": holder,
                        "document": meta(&doc.meta),
                        "versions": versions.iter().map(meta).collect::<Vec<_>>(),
                        "cda": String::from_utf8_lossy(&doc.cda),
                    }),
                )
            }),
            Ok(None) => Ok((404, error(&format!("no document {id} in the register of {holder}")))),
            Err(e) => Err(e),
        },
        None if rest == "audit" => store
            .audit(holder, AUDIT_LIMIT)
            .map(|entries| (200, json!({ "register_holder": holder, "audit": entries.iter().map(audit).collect::<Vec<_>>() }))),
        _ => Ok((404, error(&format!("no such inspection path: {path}")))),
    };
    result.unwrap_or_else(|e| (500, error(&format!("the store could not answer: {e}"))))
}

fn error(message: &str) -> Value {
    json!({ "error": message })
}

fn time(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn meta(m: &DocumentMeta) -> Value {
    json!({
        "document_id": m.document_id,
        "set_id": m.set_id,
        "version": m.version,
        "status": m.status.as_str(),
        "replaces": m.replaces,
        "register_holder": m.register_holder,
        "client": m.client,
        "effective_time": time(m.effective_time),
        "service_unit": m.service_unit,
        "author": m.author,
        "document_group": m.document_group,
        "organiser": m.organiser,
        "message_id": m.message_id,
        "stored_at": time(m.stored_at),
    })
}

fn audit(a: &AuditEntry) -> Value {
    json!({
        "id": a.id,
        "at": time(a.at),
        "tls_peer": a.tls_peer,
        "message_id": a.message_id,
        "document_id": a.document_id,
        "outcome": a.outcome.as_str(),
        "codes": a.codes.iter().map(|c| c.code()).collect::<Vec<_>>(),
        "replayed": a.replayed,
    })
}
