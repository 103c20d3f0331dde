//! Durable storage in SQLite: documents with their description metadata, versions, the audit
//! log of every request, message-id idempotency, organisations and usage rights.
//!
//! One writer thread owns the write connection (`writer`). Callers send a [`Request`] and
//! await the reply; the writer drains whatever is queued, runs it all in one transaction, commits
//! durably and only then replies to every caller (group commit). The version rules that need the
//! archive's state run inside that transaction, so of two concurrent replacements of one version
//! exactly one wins, and the acknowledgement is rendered and stored in the same transaction as
//! the document, so a resent accepted message gets the very same acknowledgement back. Only an
//! acceptance is remembered per message id: a refusal stored nothing, so the same message is
//! judged afresh (DESIGN §2 "Resends"); the audit log keeps every attempt.
//!
//! Reads ([`Store::documents`], [`Store::versions`], [`Store::document`], [`Store::audit`]) use
//! a separate connection and are always scoped to one register holder (R8). A third connection
//! checkpoints the WAL in the background (`checkpoint`), off the commit path.
//!
//! How the pipeline uses it: [`crate::rules::check`] gives the violations;
//! [`Action::decide`] turns them into store-or-refuse (with
//! [`NewDocument::from_submission`]); [`Store::submit`] records the request, whatever the
//! verdict, and returns the acknowledgement bytes to send. Unreadable messages are recorded too,
//! as [`Action::Refuse`] without a message id.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};
use time::OffsetDateTime;

use crate::ack::{AckCode, AckDetail, AckType};
use crate::orgs::Registry;
use crate::rules::{Replaces, Submission, Violation};

mod checklist;
mod checkpoint;
mod query_log;
mod read;
pub mod schema;
mod writer;

#[cfg(test)]
mod tests;

pub use checklist::{
    Checklist, ChecklistProblem, ChecklistStep, Checkpoint, Confirmation, MAX_CHECKPOINTS,
};
pub use query_log::QueryRecord;
pub use read::{
    AuditEntry, ClientSummary, DocumentFilter, DocumentMeta, QueryAudit, StoredDocument,
};
pub use schema::Durability;

/// The lifecycle state of one stored version (the profile's type, shared with queries).
pub use crate::format::query::DocumentStatus;

/// A document the rules accepted, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    /// Document id (OID).
    pub document_id: String,
    /// setId (id of version 1).
    pub set_id: String,
    /// Version number.
    pub version: u32,
    /// What it replaces, for a new version or an invalidation.
    pub replaces: Option<Replaces>,
    /// The register holder (custodian).
    pub register_holder: String,
    /// The client's identity code.
    pub client: String,
    /// `effectiveTime`.
    pub effective_time: OffsetDateTime,
    /// The service unit OID.
    pub service_unit: String,
    /// The author (professional id, or the author organisation when no person is named).
    pub author: String,
    /// Document group code (`hl7fi:documentGroup`), when present.
    pub document_group: Option<String>,
    /// The organiser (`outsourcingServiceCustomer`), when present.
    pub organiser: Option<String>,
    /// What the archivist view shows beyond the routing facts (schema version 2).
    pub description: Description,
    /// The CDA document bytes, as decoded from the message: the document is stored once (the
    /// request's envelope and MIME part are not kept; the audit log and the recent requests
    /// cover the request).
    pub cda: Vec<u8>,
}

/// The description metadata ("kuvailutiedot") an archivist checks, beyond the routing facts:
/// what the CDA names and what the signature verifier found. Every field is optional: a
/// document stored before schema version 2 has none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description {
    /// The CDA `title`.
    pub title: Option<String>,
    /// The document type code: the CDA `code` when it has one, else the local header's
    /// `documentGroup` (social welfare documents carry `code nullFlavor="NA"`).
    pub document_type_code: Option<String>,
    /// The document type's display name, as the document wrote it.
    pub document_type_name: Option<String>,
    /// The service unit's name, as the document wrote it.
    pub service_unit_name: Option<String>,
    /// The author's name (person, else organisation), as the document wrote it.
    pub author_name: Option<String>,
    /// The client's name, as the document wrote it.
    pub client_name: Option<String>,
    /// The service task ("palvelutehtävä"): the local header's `functionCode` (schema 3).
    pub service_task_code: Option<String>,
    /// The service task's display name, as the document wrote it.
    pub service_task_name: Option<String>,
    /// The service event: the phase of the service process (`serviceProcess/code`, schema 3).
    pub service_event_code: Option<String>,
    /// The service event's display name, as the document wrote it.
    pub service_event_name: Option<String>,
    /// The system signature's verdict: `valid`, or `invalid:` and the problem codes.
    pub signature_verdict: Option<String>,
    /// The signer certificate's subject (RFC 4514).
    pub signer_subject: Option<String>,
    /// The `signatureTimestamp`, as written.
    pub signed_at: Option<String>,
}

impl Description {
    /// The author's name from the message (`authorOrPerformer/assignedPerson`) when the CDA
    /// names none (the public 2026 sample's CDA author is `nullFlavor`).
    pub fn with_message_author(mut self, name: Option<&String>) -> Self {
        if self.author_name.is_none() {
            self.author_name = name.filter(|s| !s.trim().is_empty()).cloned();
        }
        self
    }

    /// What the CDA names and what the signature verification found.
    pub fn from_cda(
        cda: Option<&crate::format::Cda>,
        signature: Option<&crate::signature::Verification>,
    ) -> Self {
        let non_empty = |s: Option<&String>| s.filter(|s| !s.trim().is_empty()).cloned();
        let mut out = Description::default();
        if let Some(cda) = cda {
            out.title = non_empty(cda.title.as_ref());
            let header_group = cda.header.as_ref().and_then(|h| h.document_group.as_ref());
            let kind = cda
                .code
                .as_ref()
                .filter(|c| !c.code.is_empty())
                .or(header_group);
            out.document_type_code = kind.map(|c| c.code.clone());
            out.document_type_name = kind.and_then(|c| non_empty(c.display_name.as_ref()));
            out.service_unit_name =
                non_empty(cda.service_unit.as_ref().and_then(|o| o.name.as_ref()));
            out.author_name =
                non_empty(cda.author.as_ref().and_then(|p| p.name.as_ref())).or_else(|| {
                    non_empty(
                        cda.author_organisation
                            .as_ref()
                            .and_then(|o| o.name.as_ref()),
                    )
                });
            out.client_name = non_empty(cda.record_target.as_ref().and_then(|p| p.name.as_ref()));
            let header = cda.header.as_ref();
            let task = header.and_then(|h| h.function_code.as_ref());
            out.service_task_code = task.map(|c| c.code.clone());
            out.service_task_name = task.and_then(|c| non_empty(c.display_name.as_ref()));
            let event = header.and_then(|h| h.service_process.as_ref());
            out.service_event_code = event.map(|c| c.code.clone());
            out.service_event_name = event.and_then(|c| non_empty(c.display_name.as_ref()));
        }
        if let Some(v) = signature {
            out.signature_verdict = Some(if v.is_valid() {
                "valid".to_owned()
            } else {
                let codes: Vec<&str> = v.problems.iter().map(|p| p.code.as_str()).collect();
                format!("invalid: {}", codes.join(" "))
            });
            out.signer_subject = v.signer.as_ref().map(|c| c.subject.clone());
            out.signed_at = v.timestamp_text.clone();
        }
        out
    }
}

impl NewDocument {
    /// The document of an accepted submission: register holder = custodian, organiser, ids,
    /// version and RPLC from the submission; the rest from the message.
    pub fn from_submission(
        submission: &Submission,
        author: String,
        document_group: Option<String>,
        cda: Vec<u8>,
    ) -> Self {
        Self {
            document_id: submission.document_id.clone(),
            set_id: submission.set_id.clone(),
            version: submission.version,
            replaces: submission.replaces.clone(),
            register_holder: submission.custodian.clone(),
            client: submission.client.clone(),
            effective_time: submission.effective_time,
            service_unit: submission.service_unit.clone(),
            author,
            document_group,
            organiser: submission.organiser.clone(),
            description: Description::default(),
            cda,
        }
    }

    /// The same document with its description metadata.
    pub fn with_description(mut self, description: Description) -> Self {
        self.description = description;
        self
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Store the document unless a version rule refuses it; the warnings go into the
    /// acknowledgement either way.
    Store {
        /// The document (boxed: it carries the CDA bytes).
        document: Box<NewDocument>,
        /// Warnings from the rules (they do not refuse).
        warnings: Vec<Violation>,
    },
    /// Record the refusal in the audit log without storing anything else: a refused message id
    /// is judged afresh when it comes again (DESIGN §2 "Resends").
    Refuse(Vec<Violation>),
}

impl Action {
    /// The action for the rules' verdict: refuse when any violation is an error (or worse),
    /// else store the document with the warnings.
    pub fn decide(violations: Vec<Violation>, document: impl FnOnce() -> NewDocument) -> Self {
        if AckType::for_codes(violations.iter().map(|v| v.code)) == AckType::Aa {
            Action::Store {
                document: Box::new(document()),
                warnings: violations,
            }
        } else {
            Action::Refuse(violations)
        }
    }
}

/// Renders the acknowledgement bytes for the verdict the writer reached. Runs on the writer
/// thread inside the transaction, so keep it to rendering.
pub type AckRenderer = Box<dyn FnOnce(AckType, &[AckDetail]) -> Vec<u8> + Send>;

/// One request to record: every request the archive answers goes through here, so that the
/// audit log is complete.
pub struct Request {
    /// When the request arrived.
    pub received_at: OffsetDateTime,
    /// The TLS client certificate's organisation OID, if any.
    pub tls_peer: Option<String>,
    /// The message id (`id@root` and `@extension` joined as the pipeline chooses); `None` when
    /// the message could not be read that far (then no idempotency applies).
    pub message_id: Option<String>,
    /// The digest of the HL7 V3 message element's bytes ([`message_digest`]): a message id
    /// accepted before is a resend when the digest is the same (whatever envelope carried it),
    /// and refused as reused when it differs.
    pub message_digest: MessageDigest,
    /// The register holder the request concerns, for the audit log's scoping; for
    /// [`Action::Store`] the document's register holder is used.
    pub register_holder: Option<String>,
    /// Store or refuse.
    pub action: Action,
    /// The request body as received: read only to compare a resend with an acceptance
    /// recorded before schema version 3 (which kept the SHA-256 of the whole body).
    pub body: bytes::Bytes,
    /// Renders the acknowledgement.
    pub acknowledge: AckRenderer,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("received_at", &self.received_at)
            .field("tls_peer", &self.tls_peer)
            .field("message_id", &self.message_id)
            .field("register_holder", &self.register_holder)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

/// The committed outcome of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `AA`, `AE` or `AR`.
    pub type_code: AckType,
    /// The codes listed in the acknowledgement (warnings included).
    pub codes: Vec<AckCode>,
    /// The acknowledgement bytes to send.
    pub ack: Vec<u8>,
    /// Whether this is a resend of a message already accepted (the stored answer).
    pub replayed: bool,
    /// Whether this request stored a document.
    pub stored: bool,
    /// The request's entry in the audit log (its `id`).
    pub audit_id: i64,
}

/// The digest of an HL7 V3 message's bytes: XXH3-128, a fixed, versioned algorithm, so the
/// value stays comparable across restarts and releases. It is a resend detector, not a
/// security check: the message id must match too, and the only gain of a crafted collision
/// would be getting one's own stored acknowledgement back.
pub type MessageDigest = [u8; 16];

/// The [`MessageDigest`] of the HL7 V3 message element's bytes (the envelope left out), for
/// [`Request::message_digest`]. Hash the bytes once, here.
pub fn message_digest(message: &[u8]) -> MessageDigest {
    xxhash_rust::xxh3::xxh3_128(message).to_be_bytes()
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened, configured or migrated.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The database path.
        path: String,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The temporary directory of an ephemeral database could not be created.
    #[error("cannot create a temporary directory for the database: {0}")]
    TempDir(#[source] std::io::Error),
    /// A database statement failed.
    #[error("database error while {operation}: {source}")]
    Sql {
        /// What the store was doing.
        operation: &'static str,
        /// The cause.
        source: rusqlite::Error,
    },
    /// A stored value could not be read back.
    #[error("corrupt stored value in {column}: {value:?}")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// The value found.
        value: String,
    },
    /// The writer thread could not be started.
    #[error("cannot start the store's writer thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// The caller's acknowledgement renderer panicked; the request was not recorded.
    #[error("the acknowledgement renderer panicked; the request was not recorded")]
    RendererPanicked,
    /// The writer thread has stopped (the store is shutting down or it panicked).
    #[error("the store's writer thread has stopped")]
    WriterGone,
}

pub(crate) fn sql(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { operation, source }
}

/// Counters of the writer, for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Requests recorded.
    pub requests: u64,
    /// Transactions committed (one per batch).
    pub commits: u64,
    /// The largest batch committed at once.
    pub largest_batch: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    commits: AtomicU64,
    largest_batch: AtomicU64,
}

impl Counters {
    pub(crate) fn batch(&self, size: u64) {
        self.requests.fetch_add(size, Ordering::Relaxed);
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.largest_batch.fetch_max(size, Ordering::Relaxed);
    }
}

/// The `--db` value that asks for an ephemeral database ([`Store::open_spec`]).
pub const EPHEMERAL_SPEC: &str = ":memory:";

/// The archive's database.
pub struct Store {
    jobs: Option<mpsc::Sender<writer::Job>>,
    writer: Option<JoinHandle<()>>,
    reader: Mutex<Connection>,
    /// Dropping the sender stops the checkpointer.
    checkpointer: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
    counters: Arc<Counters>,
    path: PathBuf,
    /// Keeps an ephemeral database's directory alive; removed on drop.
    _temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating when missing) a durable database file: WAL, `synchronous=FULL`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path.as_ref().to_owned(), Durability::Full, None)
    }

    /// Opens the database a `--db` option names: `:memory:` means [`Store::open_ephemeral`],
    /// anything else is a file path for [`Store::open`].
    pub fn open_spec(spec: &str) -> Result<Self, StoreError> {
        if spec == EPHEMERAL_SPEC {
            Self::open_ephemeral()
        } else {
            Self::open(spec)
        }
    }

    /// Opens a throwaway database in a fresh temporary directory, removed when the store is
    /// dropped (`--db :memory:`-style, for CI). WAL needs a file, so this is a file too, with
    /// `synchronous=OFF`.
    pub fn open_ephemeral() -> Result<Self, StoreError> {
        let temp = tempfile::Builder::new()
            .prefix("mock-archive-db-")
            .tempdir()
            .map_err(StoreError::TempDir)?;
        let path = temp.path().join("archive.sqlite");
        Self::open_with(path, Durability::Off, Some(temp))
    }

    fn open_with(
        path: PathBuf,
        durability: Durability,
        temp: Option<tempfile::TempDir>,
    ) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open {
            path: path.display().to_string(),
            source,
        };
        let write = Connection::open(&path).map_err(open_error)?;
        schema::configure(&write, durability).map_err(open_error)?;
        schema::migrate(&write).map_err(open_error)?;
        let reader = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_error)?;
        reader
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_error)?;
        let checkpoints = Connection::open(&path).map_err(open_error)?;
        schema::configure(&checkpoints, durability).map_err(open_error)?;
        let (stop, stopped) = mpsc::channel();
        let checkpointer = checkpoint::spawn(checkpoints, stopped).map_err(StoreError::Spawn)?;
        let counters = Arc::new(Counters::default());
        let (jobs, receiver) = mpsc::channel();
        let writer =
            writer::spawn(write, receiver, Arc::clone(&counters)).map_err(StoreError::Spawn)?;
        Ok(Self {
            jobs: Some(jobs),
            writer: Some(writer),
            reader: Mutex::new(reader),
            checkpointer: Some((stop, checkpointer)),
            counters,
            path,
            _temp: temp,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a request (and stores its document when the version rules allow), commits
    /// durably, and returns the outcome with the acknowledgement bytes. The acknowledgement
    /// must be sent only after this returns `Ok`.
    pub async fn submit(&self, request: Request) -> Result<Recorded, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.send(writer::Job::Submit(Box::new(request), reply))?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// [`Store::submit`] for threads outside an async runtime (it panics inside one, like
    /// every blocking receive of a tokio channel).
    pub fn submit_blocking(&self, request: Request) -> Result<Recorded, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.send(writer::Job::Submit(Box::new(request), reply))?;
        answer.blocking_recv().map_err(|_| StoreError::WriterGone)?
    }

    /// Records a query and what it returned in the audit log; returns the entry's id.
    pub async fn record_query(&self, record: QueryRecord) -> Result<i64, StoreError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.send(writer::Job::Query(Box::new(record), reply))?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Replaces the stored organisations, service units and usage rights with the registry's.
    /// Blocks until committed; callable from anywhere, including inside an async runtime at
    /// start-up.
    pub fn sync_registry(&self, registry: &Registry) -> Result<(), StoreError> {
        let (reply, answer) = mpsc::channel();
        self.send(writer::Job::Registry(Box::new(registry.clone()), reply))?;
        answer.recv().map_err(|_| StoreError::WriterGone)?
    }

    fn send(&self, job: writer::Job) -> Result<(), StoreError> {
        self.jobs
            .as_ref()
            .ok_or(StoreError::WriterGone)?
            .send(job)
            .map_err(|_| StoreError::WriterGone)
    }

    /// The writer's counters.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            requests: self.counters.requests.load(Ordering::Relaxed),
            commits: self.counters.commits.load(Ordering::Relaxed),
            largest_batch: self.counters.largest_batch.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // A poisoned lock only means another reader panicked; the connection is still usable.
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        f(&conn)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Closing the channel ends the writer after it has committed everything queued.
        drop(self.jobs.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        if let Some((stop, checkpointer)) = self.checkpointer.take() {
            drop(stop);
            let _ = checkpointer.join();
        }
    }
}
