//! The SQLite schema and connection settings.
//!
//! Durability: WAL with `synchronous=FULL`. In WAL mode `NORMAL` survives a process kill but
//! may lose the last commits on power loss; `FULL` syncs the WAL on every commit, so a commit
//! that returned is on disk. Because an `AA` must only follow a durable commit, file databases
//! use `FULL`, and group commit (`store::writer`) spreads the cost of that sync over every
//! request waiting at the time. Ephemeral databases (CI) use `OFF`: nothing there must outlive
//! the process.

use rusqlite::Connection;

/// The schema version written to `PRAGMA user_version`.
///
/// - 1: documents, messages, audit, organisations, service units, usage rights.
/// - 2: what the archivist view shows ([`V2`]): document type, title, names, replacement
///   reason, the signature's verdict and signer; the deployment-test checklists.
/// - 3: resends ([`V3`]): a message id is remembered only for an acceptance, keyed on the
///   digest of the HL7 message (not of the request body); the service task and service event.
/// - 4: queries in the audit log ([`V4`]): which query, how many entries and bytes it returned.
/// - 5: the document is stored once ([`V5`]): its CDA, not also the whole request.
pub const SCHEMA_VERSION: i64 = 5;

/// The version-1 tables, created when missing. Idempotent; [`migrate`] then brings them to
/// [`SCHEMA_VERSION`].
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS documents (
    document_id     TEXT PRIMARY KEY NOT NULL,
    set_id          TEXT NOT NULL,
    version         INTEGER NOT NULL CHECK (version >= 1),
    status          TEXT NOT NULL CHECK (status IN ('active', 'replaced', 'invalidated')),
    replaces        TEXT REFERENCES documents (document_id),
    register_holder TEXT NOT NULL,
    client          TEXT NOT NULL,
    effective_time  TEXT NOT NULL,
    service_unit    TEXT NOT NULL,
    author          TEXT NOT NULL,
    document_group  TEXT,
    organiser       TEXT,
    message_id      TEXT,
    stored_at       TEXT NOT NULL,
    message         BLOB NOT NULL,
    cda             BLOB NOT NULL,
    UNIQUE (set_id, version)
);
CREATE INDEX IF NOT EXISTS documents_by_holder ON documents (register_holder, client);

CREATE TABLE IF NOT EXISTS messages (
    message_id      TEXT PRIMARY KEY NOT NULL,
    request_sha256  BLOB NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('AA', 'AE', 'AR')),
    codes           TEXT NOT NULL,
    ack             BLOB NOT NULL,
    at              TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS audit (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    tls_peer        TEXT,
    message_id      TEXT,
    register_holder TEXT,
    document_id     TEXT,
    outcome         TEXT NOT NULL CHECK (outcome IN ('AA', 'AE', 'AR')),
    codes           TEXT NOT NULL,
    replayed        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_holder ON audit (register_holder, id);

CREATE TABLE IF NOT EXISTS organisations (
    oid             TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    business_id     TEXT,
    kind            TEXT NOT NULL,
    licensed        INTEGER NOT NULL,
    own_register    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS service_units (
    oid             TEXT PRIMARY KEY NOT NULL,
    organisation    TEXT NOT NULL REFERENCES organisations (oid),
    name            TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS usage_rights (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organiser       TEXT NOT NULL REFERENCES organisations (oid),
    producer        TEXT NOT NULL REFERENCES organisations (oid),
    valid_from      TEXT NOT NULL,
    valid_until     TEXT NOT NULL,
    scope           TEXT NOT NULL
);
"#;

/// From version 1 to 2: the description metadata the archivist view shows, and the checklists.
/// Documents stored under version 1 keep `NULL` in the new columns (shown as unknown).
pub const V2: &str = r#"
ALTER TABLE documents ADD COLUMN title TEXT;
ALTER TABLE documents ADD COLUMN document_type_code TEXT;
ALTER TABLE documents ADD COLUMN document_type_name TEXT;
ALTER TABLE documents ADD COLUMN service_unit_name TEXT;
ALTER TABLE documents ADD COLUMN author_name TEXT;
ALTER TABLE documents ADD COLUMN client_name TEXT;
ALTER TABLE documents ADD COLUMN replace_reason TEXT;
ALTER TABLE documents ADD COLUMN signature_verdict TEXT;
ALTER TABLE documents ADD COLUMN signer_subject TEXT;
ALTER TABLE documents ADD COLUMN signed_at TEXT;

CREATE TABLE IF NOT EXISTS checklists (
    register_holder TEXT PRIMARY KEY NOT NULL,
    checklist       TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS checklist_confirmations (
    register_holder TEXT NOT NULL,
    checkpoint_id   TEXT NOT NULL,
    confirmed_by    TEXT NOT NULL,
    confirmed_at    TEXT NOT NULL,
    PRIMARY KEY (register_holder, checkpoint_id)
);
"#;

/// From version 2 to 3. Only an acceptance is a stored fact (DESIGN §2 "Resends"): the
/// refusals remembered until now are forgotten, so those message ids are judged afresh. Rows of
/// earlier acceptances keep the SHA-256 of their whole request body in `request_sha256` and no
/// `message_digest`; new rows leave `request_sha256` empty. Service task and service event of
/// documents stored before stay `NULL` (shown as unknown).
pub const V3: &str = r#"
ALTER TABLE messages ADD COLUMN message_digest BLOB;
DELETE FROM messages WHERE outcome <> 'AA';
ALTER TABLE documents ADD COLUMN service_task_code TEXT;
ALTER TABLE documents ADD COLUMN service_task_name TEXT;
ALTER TABLE documents ADD COLUMN service_event_code TEXT;
ALTER TABLE documents ADD COLUMN service_event_name TEXT;
"#;

/// From version 3 to 4: a query's audit entry names the query kind (`query`, `NULL` for
/// storing) and what it returned (`results` entries, `result_bytes` of the response body).
pub const V4: &str = r#"
ALTER TABLE audit ADD COLUMN query TEXT;
ALTER TABLE audit ADD COLUMN results INTEGER;
ALTER TABLE audit ADD COLUMN result_bytes INTEGER;
"#;

/// From version 4 to 5: the CDA (and the description columns) are the stored document; the
/// whole request body that was kept beside it (`message`, never read back) is dropped.
pub const V5: &str = r#"
ALTER TABLE documents DROP COLUMN message;
"#;

/// The writer's automatic checkpoint threshold (pages of the WAL), a safety net only: the
/// checkpointer thread (`store::checkpoint`) normally keeps the WAL far smaller.
pub const WAL_AUTOCHECKPOINT_PAGES: i64 = 16_384;

/// How hard commits are pushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: a returned commit survives power loss.
    Full,
    /// `synchronous=OFF`: for ephemeral databases only.
    Off,
}

/// Applies the connection settings shared by the writer and the readers.
pub fn configure(conn: &Connection, durability: Durability) -> rusqlite::Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode stayed {mode}"
        )));
    }
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Off => "OFF",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(())
}

/// Creates the schema, or migrates an older one to [`SCHEMA_VERSION`] in one transaction.
/// A database written by a newer archive is refused rather than damaged.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
            Some(format!(
                "schema version {found} is newer than this archive's ({SCHEMA_VERSION})"
            )),
        ));
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let v2 = if found < 2 { V2 } else { "" };
    let v3 = if found < 3 { V3 } else { "" };
    let v4 = if found < 4 { V4 } else { "" };
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;\n{SCHEMA}\n{v2}\n{v3}\n{v4}\n{V5}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;"
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}
