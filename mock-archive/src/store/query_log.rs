//! Queries in the audit log (issue 16): one entry per query with its kind and what it returned,
//! written by the writer thread like every other audit entry.

use rusqlite::{Connection, params};
use time::OffsetDateTime;

use super::writer::timestamp;
use super::{StoreError, sql};
use crate::ack::{AckCode, AckType};

/// One answered query, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRecord {
    /// When the query arrived.
    pub received_at: OffsetDateTime,
    /// The TLS client certificate's organisation.
    pub tls_peer: Option<String>,
    /// The query's message id (`root^extension`), when readable.
    pub message_id: Option<String>,
    /// The register holder asked about, when readable.
    pub register_holder: Option<String>,
    /// The query kind (`relationships`, `cases`, `metadata`, `document`, `summary`).
    pub kind: String,
    /// `AA` answered, `AE` refused, `AR` unreadable.
    pub outcome: AckType,
    /// The refusal's codes.
    pub codes: Vec<AckCode>,
    /// How many entries the answer held.
    pub results: u32,
    /// The answer's size in bytes.
    pub result_bytes: u64,
}

/// Inserts the entry; returns its id.
pub(crate) fn insert(conn: &Connection, r: &QueryRecord) -> Result<i64, StoreError> {
    let codes: Vec<&str> = r.codes.iter().map(|c| c.code()).collect();
    conn.prepare_cached(
        "INSERT INTO audit (at, tls_peer, message_id, register_holder, document_id, outcome, \
         codes, replayed, query, results, result_bytes) \
         VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, 0, ?7, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            timestamp(r.received_at, "audit.at")
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            r.tls_peer,
            r.message_id,
            r.register_holder,
            r.outcome.as_str(),
            codes.join(" "),
            r.kind,
            r.results,
            i64::try_from(r.result_bytes).unwrap_or(i64::MAX),
        ])
    })
    .map_err(sql("writing a query to the audit log"))?;
    Ok(conn.last_insert_rowid())
}
