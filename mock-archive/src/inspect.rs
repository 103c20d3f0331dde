//! The inspection API for the harness and tests, on the message listener (so behind mutual
//! TLS) with an archivist's token: the documents of **one register holder**, one document with
//! its versions, and that holder's audit log (R8). A token belongs to exactly one register
//! holder (the fixture's `[[archivist]]`); another holder's documents are simply not found.
//!
//! Routes (header `Authorization: Bearer <token>`):
//! - `GET /inspect/documents` — every document of the holder, newest first;
//! - `GET /inspect/documents/<document OID>` — one document's metadata, its set's versions
//!   and the CDA as stored;
//! - `GET /inspect/audit` — the holder's audit log, newest first, each entry with its
//!   sequence number `id` (increasing over the whole archive);
//! - `GET /inspect/audit/<id>/request` — that entry's request as received (`content_type`,
//!   `body_base64`), while the archive still keeps it in memory (the latest few hundred);
//! - `PUT /inspect/checklist` — replaces the holder's deployment-test checklist (JSON
//!   [`Checklist`]; every `document_id` must be in the holder's register, else `400` naming
//!   them); confirmations are cleared;
//! - `GET /inspect/checklist` — the checklist with each checkpoint's `confirmed`
//!   (`{"by": name, "at": RFC 3339}` or `null`), as the archivist view set it.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::pipeline::Pipeline;
use crate::store::{AuditEntry, Checklist, DocumentFilter, DocumentMeta};

/// The path prefix of the inspection API.
pub const PREFIX: &str = "/inspect/";

/// The checklist's path.
pub const CHECKLIST_PATH: &str = "/inspect/checklist";

/// `POST /inspect/usage-rights/<producer OID>/end` with `{"last_day": "YYYY-MM-DD"}`: the
/// register holder ends the usage rights it granted that producer (issue 16); after that day
/// the producer neither stores into nor reads from its register.
pub const USAGE_RIGHTS_PREFIX: &str = "/inspect/usage-rights/";

/// The largest checklist body accepted, in bytes.
pub const MAX_CHECKLIST_BYTES: usize = 1024 * 1024;

/// How many audit entries one answer holds at most.
const AUDIT_LIMIT: u32 = 1000;

/// Answers one inspection request with its method and body: an HTTP status and a JSON body.
pub fn answer_request(
    pipeline: &Pipeline,
    method: &str,
    authorization: Option<&str>,
    path: &str,
    body: &[u8],
) -> (u16, Value) {
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
    if path == CHECKLIST_PATH {
        return checklist(pipeline, method, holder, body);
    }
    if let Some(producer) = path
        .strip_prefix(USAGE_RIGHTS_PREFIX)
        .and_then(|rest| rest.strip_suffix("/end"))
    {
        return end_usage_right(pipeline, method, holder, producer, body);
    }
    if method != "GET" {
        return (
            405,
            error(&format!(
                "{path} is read-only: use GET (only {CHECKLIST_PATH} takes PUT)"
            )),
        );
    }
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
        Some(("audit", id_request)) => Ok(request(pipeline, holder, id_request)),
        None if rest == "audit" => store
            .audit(holder, AUDIT_LIMIT)
            .map(|entries| (200, json!({ "register_holder": holder, "audit": entries.iter().map(audit).collect::<Vec<_>>() }))),
        _ => Ok((404, error(&format!("no such inspection path: {path}")))),
    };
    result.unwrap_or_else(|e| (500, error(&format!("the store could not answer: {e}"))))
}

/// `GET /inspect/audit/<id>/request`.
fn request(pipeline: &Pipeline, holder: &str, id_request: &str) -> (u16, Value) {
    use base64::Engine as _;
    let Some(id) = id_request
        .strip_suffix("/request")
        .and_then(|id| id.parse::<i64>().ok())
    else {
        return (
            404,
            error(&format!(
                "no such inspection path: /inspect/audit/{id_request}"
            )),
        );
    };
    match pipeline.recent().get(id, holder) {
        Some(kept) => (
            200,
            json!({
                "id": id,
                "content_type": kept.content_type,
                "body_base64": base64::engine::general_purpose::STANDARD.encode(&kept.body),
            }),
        ),
        None => (
            404,
            error(&format!(
                "the request of audit entry {id} is not kept (only the latest requests of {holder}'s register are)"
            )),
        ),
    }
}

fn checklist(pipeline: &Pipeline, method: &str, holder: &str, body: &[u8]) -> (u16, Value) {
    let store = pipeline.store();
    let result = match method {
        "GET" => store.checklist(holder).map(|found| match found {
            Some(checklist) => (200, json!(checklist)),
            None => (
                404,
                error(&format!(
                    "no checklist for the register of {holder}: PUT one first"
                )),
            ),
        }),
        "PUT" => {
            let checklist: Checklist = match serde_json::from_slice(body) {
                Ok(c) => c,
                Err(e) => {
                    return (
                        400,
                        error(&format!(
                            "{CHECKLIST_PATH}: the body is not a checklist: {e}"
                        )),
                    );
                }
            };
            store
                .put_checklist(holder, checklist, time::OffsetDateTime::now_utc())
                .map(|outcome| match outcome {
                    Ok(()) => (200, json!({ "register_holder": holder, "stored": true })),
                    Err(problem) => (400, error(&format!("{CHECKLIST_PATH}: {problem}"))),
                })
        }
        other => Ok((
            405,
            error(&format!("{CHECKLIST_PATH} takes GET or PUT, not {other}")),
        )),
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
    let d = &m.description;
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
        "replace_reason": m.replace_reason.as_ref().map(ToString::to_string),
        "title": d.title,
        "document_type_code": d.document_type_code,
        "document_type_name": d.document_type_name,
        "service_unit_name": d.service_unit_name,
        "author_name": d.author_name,
        "client_name": d.client_name,
        "signature_verdict": d.signature_verdict,
        "signer_subject": d.signer_subject,
        "signed_at": d.signed_at,
    })
}

/// `POST /inspect/usage-rights/<producer>/end`.
fn end_usage_right(
    pipeline: &Pipeline,
    method: &str,
    holder: &str,
    producer: &str,
    body: &[u8],
) -> (u16, Value) {
    if method != "POST" {
        return (
            405,
            error(&format!(
                "{USAGE_RIGHTS_PREFIX}{producer}/end takes POST with {{\"last_day\": \"YYYY-MM-DD\"}}"
            )),
        );
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct End {
        last_day: String,
    }
    let parsed = serde_json::from_slice::<End>(body)
        .map_err(|e| e.to_string())
        .and_then(|end| {
            time::Date::parse(
                &end.last_day,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| format!("last_day `{}` is not a date YYYY-MM-DD", end.last_day))
        });
    let last_day = match parsed {
        Ok(day) => day,
        Err(e) => {
            return (
                400,
                error(&format!(
                    "the body must be {{\"last_day\": \"YYYY-MM-DD\"}}: {e}"
                )),
            );
        }
    };
    match pipeline.end_usage_right(holder, producer, last_day) {
        Ok(changed) => (
            200,
            json!({ "organiser": holder, "producer": producer, "last_day": last_day.to_string(), "changed": changed }),
        ),
        Err(e) => (404, error(&e)),
    }
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
        "query": a.query.as_ref().map(|q| json!({
            "kind": q.kind,
            "results": q.results,
            "result_bytes": q.result_bytes,
        })),
    })
}
