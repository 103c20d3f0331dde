//! The writer thread: group commit, resend detection and the version rules.
//!
//! The thread owns the only write connection. It blocks for one job, drains whatever else is
//! queued (up to [`MAX_BATCH`]), runs every job in one transaction (each inside its own
//! savepoint, so a failing job does not take the others with it), commits, and only then
//! replies to every caller. A commit that fails is reported to every job of the batch; none of
//! them is acknowledged.
//!
//! Jobs of one batch run in arrival order and see each other's writes, so two replacements of
//! the same version in one batch are decided exactly like two in separate batches: the first
//! wins, the second finds that what it replaces is no longer the latest version.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use tokio::sync::oneshot;

use super::checklist::{self, Checklist, ChecklistProblem, Confirmation};
use super::{
    AckRenderer, Action, Counters, DocumentStatus, MessageDigest, NewDocument, Recorded, Request,
    StoreError, sql,
};
use crate::ack::{AckCode, AckDetail, AckType};
use crate::orgs::Registry;
use crate::rules::{ReplaceReason, Violation, violation, xpath};

/// The most jobs committed in one transaction.
pub const MAX_BATCH: usize = 512;

/// Work for the writer.
pub(crate) enum Job {
    /// Record a request.
    Submit(Box<Request>, oneshot::Sender<Result<Recorded, StoreError>>),
    /// Record a query in the audit log.
    Query(
        Box<super::QueryRecord>,
        oneshot::Sender<Result<i64, StoreError>>,
    ),
    /// Replace the organisation tables.
    Registry(Box<Registry>, mpsc::Sender<Result<(), StoreError>>),
    /// Replace a register holder's checklist.
    PutChecklist {
        /// The register holder.
        holder: String,
        /// The new checklist.
        checklist: Box<Checklist>,
        /// When.
        at: OffsetDateTime,
        /// Where the outcome goes.
        reply: ChecklistReply,
    },
    /// Confirm a checkpoint.
    Confirm {
        /// The register holder.
        holder: String,
        /// The checkpoint.
        checkpoint_id: String,
        /// Who and when.
        confirmation: Confirmation,
        /// Where the outcome goes (`false`: no such checkpoint).
        reply: mpsc::Sender<Result<bool, StoreError>>,
    },
}

/// The reply channel of [`Job::PutChecklist`].
pub(crate) type ChecklistReply = mpsc::Sender<Result<Result<(), ChecklistProblem>, StoreError>>;

pub(crate) fn spawn(
    conn: Connection,
    jobs: Receiver<Job>,
    counters: Arc<Counters>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("store-writer".to_owned())
        .spawn(move || run(conn, jobs, &counters))
}

enum Reply {
    Submit(
        oneshot::Sender<Result<Recorded, StoreError>>,
        Result<Recorded, StoreError>,
    ),
    Registry(mpsc::Sender<Result<(), StoreError>>, Result<(), StoreError>),
    Query(
        oneshot::Sender<Result<i64, StoreError>>,
        Result<i64, StoreError>,
    ),
    Checklist(
        ChecklistReply,
        Result<Result<(), ChecklistProblem>, StoreError>,
    ),
    Confirm(
        mpsc::Sender<Result<bool, StoreError>>,
        Result<bool, StoreError>,
    ),
}

impl Reply {
    /// Sends the outcome; a caller that stopped waiting is not the store's problem.
    fn send(self) {
        match self {
            Reply::Submit(to, result) => {
                let _ = to.send(result);
            }
            Reply::Registry(to, result) => {
                let _ = to.send(result);
            }
            Reply::Query(to, result) => {
                let _ = to.send(result);
            }
            Reply::Checklist(to, result) => {
                let _ = to.send(result);
            }
            Reply::Confirm(to, result) => {
                let _ = to.send(result);
            }
        }
    }

    /// The same reply with a batch-wide error instead of its outcome.
    fn fail(self, operation: &'static str, source: &rusqlite::Error) -> Reply {
        match self {
            Reply::Submit(to, _) => Reply::Submit(to, Err(failed(operation, source))),
            Reply::Registry(to, _) => Reply::Registry(to, Err(failed(operation, source))),
            Reply::Query(to, _) => Reply::Query(to, Err(failed(operation, source))),
            Reply::Checklist(to, _) => Reply::Checklist(to, Err(failed(operation, source))),
            Reply::Confirm(to, _) => Reply::Confirm(to, Err(failed(operation, source))),
        }
    }
}

impl Job {
    /// This job's reply with a batch-wide error.
    fn fail(self, operation: &'static str, source: &rusqlite::Error) -> Reply {
        match self {
            Job::Submit(_, to) => Reply::Submit(to, Err(failed(operation, source))),
            Job::Registry(_, to) => Reply::Registry(to, Err(failed(operation, source))),
            Job::Query(_, to) => Reply::Query(to, Err(failed(operation, source))),
            Job::PutChecklist { reply, .. } => {
                Reply::Checklist(reply, Err(failed(operation, source)))
            }
            Job::Confirm { reply, .. } => Reply::Confirm(reply, Err(failed(operation, source))),
        }
    }
}

fn run(mut conn: Connection, jobs: Receiver<Job>, counters: &Counters) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let size = batch.len() as u64;
        let replies = run_batch(&mut conn, batch);
        counters.batch(size);
        for reply in replies {
            reply.send();
        }
    }
}

fn run_batch(conn: &mut Connection, batch: Vec<Job>) -> Vec<Reply> {
    let mut tx = match conn.transaction() {
        Ok(tx) => tx,
        Err(source) => {
            return batch
                .into_iter()
                .map(|job| job.fail("beginning a transaction", &source))
                .collect();
        }
    };
    let mut replies = Vec::with_capacity(batch.len());
    for job in batch {
        match job {
            Job::Submit(request, to) => {
                let result = in_savepoint(&mut tx, |conn| record(conn, *request));
                replies.push(Reply::Submit(to, result));
            }
            Job::Registry(registry, to) => {
                let result = in_savepoint(&mut tx, |conn| sync_registry(conn, &registry));
                replies.push(Reply::Registry(to, result));
            }
            Job::Query(record, to) => {
                let result = in_savepoint(&mut tx, |conn| super::query_log::insert(conn, &record));
                replies.push(Reply::Query(to, result));
            }
            Job::PutChecklist {
                holder,
                checklist,
                at,
                reply,
            } => {
                let result = in_savepoint(&mut tx, |conn| {
                    checklist::put(conn, &holder, &checklist, at)
                });
                replies.push(Reply::Checklist(reply, result));
            }
            Job::Confirm {
                holder,
                checkpoint_id,
                confirmation,
                reply,
            } => {
                let result = in_savepoint(&mut tx, |conn| {
                    checklist::confirm(conn, &holder, &checkpoint_id, &confirmation)
                });
                replies.push(Reply::Confirm(reply, result));
            }
        }
    }
    match tx.commit() {
        Ok(()) => replies,
        Err(source) => replies
            .into_iter()
            .map(|reply| reply.fail("committing", &source))
            .collect(),
    }
}

fn in_savepoint<T>(
    tx: &mut Transaction<'_>,
    job: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let sp = tx.savepoint().map_err(sql("opening a savepoint"))?;
    let value = job(&sp)?; // on error, dropping `sp` rolls this job back
    sp.commit().map_err(sql("releasing a savepoint"))?;
    Ok(value)
}

/// A copy of a batch-wide error for each job of the batch.
fn failed(operation: &'static str, source: &rusqlite::Error) -> StoreError {
    let source = match source {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    };
    StoreError::Sql { operation, source }
}

pub(crate) fn timestamp(at: OffsetDateTime, column: &'static str) -> Result<String, StoreError> {
    at.format(&Rfc3339)
        .or_else(|_| at.to_offset(UtcOffset::UTC).format(&Rfc3339))
        .map_err(|_| StoreError::Corrupt {
            column,
            value: at.to_string(),
        })
}

fn codes_text(codes: &[AckCode]) -> String {
    let codes: Vec<&str> = codes.iter().map(|c| c.code()).collect();
    codes.join(" ")
}

pub(crate) fn parse_codes(text: &str, column: &'static str) -> Result<Vec<AckCode>, StoreError> {
    text.split_whitespace()
        .map(|code| {
            AckCode::from_code(code).ok_or_else(|| StoreError::Corrupt {
                column,
                value: code.to_owned(),
            })
        })
        .collect()
}

/// Runs the caller's renderer; a panic in it fails this request only, not the writer thread.
fn render(
    acknowledge: AckRenderer,
    type_code: AckType,
    details: &[AckDetail],
) -> Result<Vec<u8>, StoreError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        acknowledge(type_code, details)
    }))
    .map_err(|_| StoreError::RendererPanicked)
}

/// Runs a statement through the connection's statement cache.
fn cached(
    conn: &Connection,
    sql_text: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql_text)?.execute(params)
}

/// A message id accepted before.
struct Answered {
    /// The [`MessageDigest`] of its HL7 message; `None` for a row written before schema
    /// version 3, which kept the SHA-256 of the whole request body in `legacy_sha256`.
    digest: Option<Vec<u8>>,
    legacy_sha256: Vec<u8>,
    outcome: String,
    codes: String,
    ack: Vec<u8>,
    at: String,
}

impl Answered {
    /// Whether the request is the same HL7 message as the one accepted.
    fn same_message(&self, digest: &MessageDigest, action: &Action, body: &[u8]) -> bool {
        match &self.digest {
            Some(stored) => stored.as_slice() == digest.as_slice(),
            // A row from before schema version 3 compared whole request bodies (hashed only
            // here, for such a row); as before, only when the rules would store the document
            // again.
            None => match action {
                Action::Store { .. } => {
                    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body).as_ref()
                        == self.legacy_sha256.as_slice()
                }
                Action::Refuse(_) => false,
            },
        }
    }
}

/// Records one request: the resend check first, then the version rules and the document, then
/// the acknowledgement, the message-id record (acceptances only) and the audit entry.
fn record(conn: &Connection, request: Request) -> Result<Recorded, StoreError> {
    let Request {
        received_at,
        tls_peer,
        message_id,
        message_digest,
        register_holder,
        action,
        body,
        acknowledge,
    } = request;
    let (holder, document_id) = match &action {
        Action::Store { document, .. } => (
            Some(document.register_holder.clone()),
            Some(document.document_id.clone()),
        ),
        Action::Refuse(_) => (register_holder, None),
    };
    let audit = |type_code: AckType, codes: &[AckCode], replayed: bool| {
        cached(
            conn,
            "INSERT INTO audit (at, tls_peer, message_id, register_holder, document_id, outcome, \
             codes, replayed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                timestamp(received_at, "audit.at")?,
                tls_peer,
                message_id,
                holder,
                document_id,
                type_code.as_str(),
                codes_text(codes),
                replayed,
            ],
        )
        .map_err(sql("writing the audit log"))?;
        Ok::<i64, StoreError>(conn.last_insert_rowid())
    };

    if let Some(id) = &message_id {
        let earlier = conn
            .prepare_cached(
                "SELECT message_digest, request_sha256, outcome, codes, ack, at FROM messages \
                 WHERE message_id = ?1",
            )
            .and_then(|mut statement| {
                statement.query_row([id], |row| {
                    Ok(Answered {
                        digest: row.get(0)?,
                        legacy_sha256: row.get(1)?,
                        outcome: row.get(2)?,
                        codes: row.get(3)?,
                        ack: row.get(4)?,
                        at: row.get(5)?,
                    })
                })
            })
            .optional()
            .map_err(sql("looking up the message id"))?;
        if let Some(answered) = earlier {
            if answered.same_message(&message_digest, &action, &body) {
                let type_code = AckType::parse(&answered.outcome).ok_or(StoreError::Corrupt {
                    column: "messages.outcome",
                    value: answered.outcome.clone(),
                })?;
                let codes = parse_codes(&answered.codes, "messages.codes")?;
                let audit_id = audit(type_code, &codes, true)?;
                return Ok(Recorded {
                    type_code,
                    codes,
                    ack: answered.ack,
                    replayed: true,
                    stored: false,
                    audit_id,
                });
            }
            let details = vec![violation(
                AckCode::MessageIdReused,
                Some("/*/hl7:id"),
                format!(
                    "message id {id} was accepted at {} for a different message",
                    answered.at
                ),
            )];
            let ack = render(acknowledge, AckType::Ae, &details)?;
            let audit_id = audit(AckType::Ae, &[AckCode::MessageIdReused], false)?;
            return Ok(Recorded {
                type_code: AckType::Ae,
                codes: vec![AckCode::MessageIdReused],
                ack,
                replayed: false,
                stored: false,
                audit_id,
            });
        }
    }

    let (details, stored, type_code) = match action {
        Action::Refuse(violations) => {
            // A refusal is never an AA, even if the caller passed only warnings.
            let type_code = match AckType::for_codes(violations.iter().map(|v| v.code)) {
                AckType::Aa => AckType::Ae,
                other => other,
            };
            (violations, false, type_code)
        }
        Action::Store { document, warnings } => {
            let mut problems = version_violations(conn, &document)?;
            if problems.is_empty() {
                insert_document(conn, &document, message_id.as_deref(), received_at)?;
                let type_code = AckType::for_codes(warnings.iter().map(|v| v.code));
                (warnings, true, type_code)
            } else {
                problems.extend(warnings);
                let type_code = AckType::for_codes(problems.iter().map(|v| v.code));
                (problems, false, type_code)
            }
        }
    };
    let codes: Vec<AckCode> = details.iter().map(|d| d.code).collect();
    let ack = render(acknowledge, type_code, &details)?;
    // Only an acceptance is a fact to replay; a refused message stored nothing.
    if let (Some(id), true) = (&message_id, stored) {
        cached(
            conn,
            "INSERT INTO messages (message_id, request_sha256, message_digest, outcome, codes, \
             ack, at) VALUES (?1, X'', ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                &message_digest[..],
                type_code.as_str(),
                codes_text(&codes),
                ack,
                timestamp(received_at, "messages.at")?,
            ],
        )
        .map_err(sql("recording the message id"))?;
    }
    let audit_id = audit(type_code, &codes, false)?;
    Ok(Recorded {
        type_code,
        codes,
        ack,
        replayed: false,
        stored,
        audit_id,
    })
}

struct Row {
    document_id: String,
    set_id: String,
    version: u32,
    status: String,
    register_holder: String,
    client: String,
}

fn row_of(conn: &Connection, sql_text: &str, key: &str) -> Result<Option<Row>, StoreError> {
    let mut statement = conn
        .prepare_cached(sql_text)
        .map_err(sql("reading the document versions"))?;
    statement
        .query_row([key], |row| {
            Ok(Row {
                document_id: row.get(0)?,
                set_id: row.get(1)?,
                version: row.get(2)?,
                status: row.get(3)?,
                register_holder: row.get(4)?,
                client: row.get(5)?,
            })
        })
        .optional()
        .map_err(sql("reading the document versions"))
}

const COLUMNS: &str = "document_id, set_id, version, status, register_holder, client";

/// The version rules that need the archive's state.
fn version_violations(conn: &Connection, doc: &NewDocument) -> Result<Vec<Violation>, StoreError> {
    let mut out = Vec::new();
    let by_id = format!("SELECT {COLUMNS} FROM documents WHERE document_id = ?1");
    if let Some(existing) = row_of(conn, &by_id, &doc.document_id)? {
        out.push(violation(
            AckCode::DocumentIdExists,
            Some(xpath::DOCUMENT_ID),
            format!(
                "document {} is already stored as version {} of set {}",
                existing.document_id, existing.version, existing.set_id
            ),
        ));
        return Ok(out);
    }
    let latest_of_set =
        format!("SELECT {COLUMNS} FROM documents WHERE set_id = ?1 ORDER BY version DESC LIMIT 1");
    let Some(replaces) = &doc.replaces else {
        if row_of(conn, &latest_of_set, &doc.set_id)?.is_some() {
            out.push(violation(
                AckCode::SetIdExists,
                Some(xpath::SET_ID),
                format!(
                    "set {} is already stored; a new version must replace it",
                    doc.set_id
                ),
            ));
        }
        return Ok(out);
    };
    let Some(parent) = row_of(conn, &by_id, &replaces.document_id)? else {
        out.push(violation(
            AckCode::ReplacedUnknown,
            Some(xpath::RPLC),
            format!("document {} is not in the archive", replaces.document_id),
        ));
        return Ok(out);
    };
    if parent.set_id != doc.set_id {
        out.push(violation(
            AckCode::SetIdMismatch,
            Some(xpath::SET_ID),
            format!(
                "setId {} but the replaced document {} is in set {}",
                doc.set_id, parent.document_id, parent.set_id
            ),
        ));
    }
    let latest = row_of(conn, &latest_of_set, &parent.set_id)?.ok_or(StoreError::Corrupt {
        column: "documents.set_id",
        value: parent.set_id.clone(),
    })?;
    if latest.status == DocumentStatus::Invalidated.as_str() {
        out.push(violation(
            AckCode::SetInvalidated,
            Some(xpath::RPLC),
            format!(
                "set {} was invalidated by version {} ({})",
                latest.set_id, latest.version, latest.document_id
            ),
        ));
        return Ok(out);
    }
    if latest.document_id != parent.document_id {
        out.push(violation(
            AckCode::ReplacesNotLatest,
            Some(xpath::RPLC),
            format!(
                "document {} is version {}; the latest is {} version {}",
                parent.document_id, parent.version, latest.document_id, latest.version
            ),
        ));
    }
    if doc.version != latest.version + 1 {
        out.push(violation(
            AckCode::VersionNotNext,
            Some(xpath::VERSION),
            format!(
                "version {}, expected {} after version {} of set {}",
                doc.version,
                latest.version + 1,
                latest.version,
                latest.set_id
            ),
        ));
    }
    if parent.register_holder != doc.register_holder {
        out.push(violation(
            AckCode::RegisterHolderChanged,
            Some(xpath::CUSTODIAN),
            format!(
                "custodian {} but set {} belongs to {}",
                doc.register_holder, parent.set_id, parent.register_holder
            ),
        ));
    }
    if parent.client != doc.client {
        out.push(violation(
            AckCode::ClientChanged,
            Some(xpath::CLIENT),
            format!(
                "client {} but set {} is about {}",
                doc.client, parent.set_id, parent.client
            ),
        ));
    }
    Ok(out)
}

/// The stored spelling of a replacement reason: its text form (`correction`, `invalidation`,
/// `other:<code as sent>`; [`super::read::replace_reason_of`] reads it back).
pub(crate) fn replace_reason_text(reason: &ReplaceReason) -> String {
    reason.to_string()
}

fn insert_document(
    conn: &Connection,
    doc: &NewDocument,
    message_id: Option<&str>,
    received_at: OffsetDateTime,
) -> Result<(), StoreError> {
    let d = &doc.description;
    let status = match doc.replaces.as_ref().map(|r| &r.reason) {
        Some(ReplaceReason::Invalidation) => DocumentStatus::Invalidated,
        _ => DocumentStatus::Active,
    };
    if let Some(replaces) = &doc.replaces {
        cached(
            conn,
            "UPDATE documents SET status = 'replaced' WHERE document_id = ?1",
            [&replaces.document_id],
        )
        .map_err(sql("marking the replaced version"))?;
    }
    cached(
        conn,
        "INSERT INTO documents (document_id, set_id, version, status, replaces, register_holder, \
         client, effective_time, service_unit, author, document_group, organiser, message_id, \
         stored_at, cda, title, document_type_code, document_type_name, \
         service_unit_name, author_name, client_name, replace_reason, signature_verdict, \
         signer_subject, signed_at, service_task_code, service_task_name, service_event_code, \
         service_event_name) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
         ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)",
        params![
            doc.document_id,
            doc.set_id,
            doc.version,
            status.as_str(),
            doc.replaces.as_ref().map(|r| &r.document_id),
            doc.register_holder,
            doc.client,
            timestamp(doc.effective_time, "documents.effective_time")?,
            doc.service_unit,
            doc.author,
            doc.document_group,
            doc.organiser,
            message_id,
            timestamp(received_at, "documents.stored_at")?,
            doc.cda,
            d.title,
            d.document_type_code,
            d.document_type_name,
            d.service_unit_name,
            d.author_name,
            d.client_name,
            doc.replaces
                .as_ref()
                .map(|r| replace_reason_text(&r.reason)),
            d.signature_verdict,
            d.signer_subject,
            d.signed_at,
            d.service_task_code,
            d.service_task_name,
            d.service_event_code,
            d.service_event_name,
        ],
    )
    .map_err(sql("storing the document"))?;
    Ok(())
}

fn sync_registry(conn: &Connection, registry: &Registry) -> Result<(), StoreError> {
    conn.execute_batch(
        "DELETE FROM usage_rights; DELETE FROM service_units; DELETE FROM organisations;",
    )
    .map_err(sql("clearing the organisation tables"))?;
    for org in registry.organisations() {
        conn.execute(
            "INSERT INTO organisations (oid, name, business_id, kind, licensed, own_register) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                org.oid,
                org.name,
                org.business_id,
                org.kind.to_string(),
                org.licensed,
                org.own_register
            ],
        )
        .map_err(sql("storing an organisation"))?;
        for unit in &org.service_units {
            conn.execute(
                "INSERT INTO service_units (oid, organisation, name) VALUES (?1, ?2, ?3)",
                params![unit.oid, org.oid, unit.name],
            )
            .map_err(sql("storing a service unit"))?;
        }
    }
    for right in registry.usage_rights() {
        let scope: Vec<&str> = right.scope.iter().map(|p| p.as_str()).collect();
        conn.execute(
            "INSERT INTO usage_rights (organiser, producer, valid_from, valid_until, scope) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                right.organiser,
                right.producer,
                right.from.to_string(),
                right.until.to_string(),
                scope.join(" ")
            ],
        )
        .map_err(sql("storing a usage right"))?;
    }
    Ok(())
}
