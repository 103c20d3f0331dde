//! The read API: documents, versions and the audit log of **one register holder** (R8). There
//! is no query across register holders except [`Store::audit_unattributed`], the requests that
//! could not be attributed to any register holder (unreadable messages), for the administrator.

use rusqlite::{Connection, OptionalExtension, Row, params_from_iter, types::Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::writer::parse_codes;
use super::{DocumentStatus, Store, StoreError, sql};
use crate::ack::{AckCode, AckType};
use crate::orgs::{PaymentType, UsageRight};

/// Filters for [`Store::documents`]; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentFilter {
    /// Only this client.
    pub client: Option<String>,
    /// Only this status.
    pub status: Option<DocumentStatus>,
    /// Only this set.
    pub set_id: Option<String>,
    /// Only this document group code.
    pub document_group: Option<String>,
    /// At most this many (newest first); `None` = all.
    pub limit: Option<u32>,
}

/// One stored version's description metadata ("kuvailutiedot").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentMeta {
    /// Document id.
    pub document_id: String,
    /// setId.
    pub set_id: String,
    /// Version number.
    pub version: u32,
    /// Status.
    pub status: DocumentStatus,
    /// The version it replaced.
    pub replaces: Option<String>,
    /// Register holder.
    pub register_holder: String,
    /// Client identity code.
    pub client: String,
    /// `effectiveTime`.
    pub effective_time: OffsetDateTime,
    /// Service unit OID.
    pub service_unit: String,
    /// Author.
    pub author: String,
    /// Document group code.
    pub document_group: Option<String>,
    /// Organiser.
    pub organiser: Option<String>,
    /// The message id it came in.
    pub message_id: Option<String>,
    /// When the archive received it.
    pub stored_at: OffsetDateTime,
}

/// One version with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    /// Metadata.
    pub meta: DocumentMeta,
    /// The original message, as received.
    pub message: Vec<u8>,
    /// The CDA document.
    pub cda: Vec<u8>,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// When the request arrived.
    pub at: OffsetDateTime,
    /// The TLS client certificate's organisation.
    pub tls_peer: Option<String>,
    /// The message id.
    pub message_id: Option<String>,
    /// The register holder it concerned.
    pub register_holder: Option<String>,
    /// The document it carried, for store requests.
    pub document_id: Option<String>,
    /// The answer.
    pub outcome: AckType,
    /// The codes of the answer.
    pub codes: Vec<AckCode>,
    /// Whether it was a resend answered from the message-id record.
    pub replayed: bool,
}

const META: &str = "document_id, set_id, version, status, replaces, register_holder, client, \
                    effective_time, service_unit, author, document_group, organiser, message_id, \
                    stored_at";

fn time_of(text: String, column: &'static str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| StoreError::Corrupt {
        column,
        value: text,
    })
}

/// The raw columns of [`META`], converted outside rusqlite's row closure.
type RawMeta = (
    String,
    String,
    u32,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn raw_meta(row: &Row<'_>) -> rusqlite::Result<RawMeta> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
        row.get(11)?,
        row.get(12)?,
        row.get(13)?,
    ))
}

fn meta(raw: RawMeta) -> Result<DocumentMeta, StoreError> {
    let (
        document_id,
        set_id,
        version,
        status,
        replaces,
        register_holder,
        client,
        effective_time,
        service_unit,
        author,
        document_group,
        organiser,
        message_id,
        stored_at,
    ) = raw;
    Ok(DocumentMeta {
        document_id,
        set_id,
        version,
        status: DocumentStatus::parse(&status).ok_or(StoreError::Corrupt {
            column: "documents.status",
            value: status,
        })?,
        replaces,
        register_holder,
        client,
        effective_time: time_of(effective_time, "documents.effective_time")?,
        service_unit,
        author,
        document_group,
        organiser,
        message_id,
        stored_at: time_of(stored_at, "documents.stored_at")?,
    })
}

fn query_meta(
    conn: &Connection,
    sql_text: &str,
    params: Vec<Value>,
) -> Result<Vec<DocumentMeta>, StoreError> {
    let mut statement = conn
        .prepare_cached(sql_text)
        .map_err(sql("preparing a document query"))?;
    let rows = statement
        .query_map(params_from_iter(params), raw_meta)
        .map_err(sql("querying documents"))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(meta(row.map_err(sql("reading a document row"))?)?);
    }
    Ok(out)
}

impl Store {
    /// The documents of one register holder, newest first (by arrival), filtered.
    pub fn documents(
        &self,
        register_holder: &str,
        filter: &DocumentFilter,
    ) -> Result<Vec<DocumentMeta>, StoreError> {
        let mut sql_text = format!("SELECT {META} FROM documents WHERE register_holder = ?1");
        let mut params = vec![Value::Text(register_holder.to_owned())];
        let mut and = |column: &str, value: Option<String>| {
            if let Some(value) = value {
                params.push(Value::Text(value));
                sql_text.push_str(&format!(" AND {column} = ?{}", params.len()));
            }
        };
        and("client", filter.client.clone());
        and("status", filter.status.map(|s| s.as_str().to_owned()));
        and("set_id", filter.set_id.clone());
        and("document_group", filter.document_group.clone());
        sql_text.push_str(" ORDER BY rowid DESC");
        if let Some(limit) = filter.limit {
            sql_text.push_str(&format!(" LIMIT {limit}"));
        }
        self.with_reader(|conn| query_meta(conn, &sql_text, params))
    }

    /// Every version of one set of one register holder, oldest first.
    pub fn versions(
        &self,
        register_holder: &str,
        set_id: &str,
    ) -> Result<Vec<DocumentMeta>, StoreError> {
        let sql_text = format!(
            "SELECT {META} FROM documents WHERE register_holder = ?1 AND set_id = ?2 \
             ORDER BY version"
        );
        let params = vec![
            Value::Text(register_holder.to_owned()),
            Value::Text(set_id.to_owned()),
        ];
        self.with_reader(|conn| query_meta(conn, &sql_text, params))
    }

    /// One version with its bytes, if it belongs to this register holder.
    pub fn document(
        &self,
        register_holder: &str,
        document_id: &str,
    ) -> Result<Option<StoredDocument>, StoreError> {
        let sql_text = format!(
            "SELECT {META}, message, cda FROM documents \
             WHERE register_holder = ?1 AND document_id = ?2"
        );
        self.with_reader(|conn| {
            let found = conn
                .query_row(&sql_text, [register_holder, document_id], |row| {
                    Ok((
                        raw_meta(row)?,
                        row.get::<_, Vec<u8>>(14)?,
                        row.get::<_, Vec<u8>>(15)?,
                    ))
                })
                .optional()
                .map_err(sql("reading a document"))?;
            found
                .map(|(raw, message, cda)| {
                    Ok(StoredDocument {
                        meta: meta(raw)?,
                        message,
                        cda,
                    })
                })
                .transpose()
        })
    }

    /// The audit log of one register holder, newest first, at most `limit` entries.
    pub fn audit(&self, register_holder: &str, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_where("register_holder = ?1", Some(register_holder), limit)
    }

    /// The requests not attributed to any register holder (e.g. unreadable messages), newest
    /// first: for the administrator, never for an archivist.
    pub fn audit_unattributed(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_where("register_holder IS NULL", None, limit)
    }

    fn audit_where(
        &self,
        condition: &str,
        holder: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sql_text = format!(
            "SELECT id, at, tls_peer, message_id, register_holder, document_id, outcome, codes, \
             replayed FROM audit WHERE {condition} ORDER BY id DESC LIMIT {limit}"
        );
        type Raw = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            bool,
        );
        self.with_reader(|conn| {
            let mut statement = conn
                .prepare_cached(&sql_text)
                .map_err(sql("preparing an audit query"))?;
            let params: Vec<&str> = holder.into_iter().collect();
            let rows = statement
                .query_map(params_from_iter(params), |row| {
                    Ok::<Raw, _>((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                        row.get(7)?,
                        row.get(8)?,
                    ))
                })
                .map_err(sql("querying the audit log"))?;
            let mut out = Vec::new();
            for row in rows {
                let (
                    id,
                    at,
                    tls_peer,
                    message_id,
                    register_holder,
                    document_id,
                    outcome,
                    codes,
                    replayed,
                ) = row.map_err(sql("reading an audit row"))?;
                out.push(AuditEntry {
                    id,
                    at: time_of(at, "audit.at")?,
                    tls_peer,
                    message_id,
                    register_holder,
                    document_id,
                    outcome: AckType::parse(&outcome).ok_or(StoreError::Corrupt {
                        column: "audit.outcome",
                        value: outcome,
                    })?,
                    codes: parse_codes(&codes, "audit.codes")?,
                    replayed,
                });
            }
            Ok(out)
        })
    }

    /// SQLite's `PRAGMA integrity_check`: `Ok(())` when the database file is sound, else the
    /// problems it lists.
    pub fn integrity_check(&self) -> Result<Result<(), Vec<String>>, StoreError> {
        self.with_reader(|conn| {
            let mut statement = conn
                .prepare("PRAGMA integrity_check")
                .map_err(sql("checking integrity"))?;
            let lines = statement
                .query_map([], |row| row.get::<_, String>(0))
                .map_err(sql("checking integrity"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql("checking integrity"))?;
            Ok(if lines == ["ok"] { Ok(()) } else { Err(lines) })
        })
    }

    /// The register usage rights granted by one register holder, as stored by
    /// [`Store::sync_registry`].
    pub fn usage_rights_granted(&self, organiser: &str) -> Result<Vec<UsageRight>, StoreError> {
        self.with_reader(|conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT producer, valid_from, valid_until, scope FROM usage_rights \
                     WHERE organiser = ?1 ORDER BY id",
                )
                .map_err(sql("preparing a usage right query"))?;
            let rows = statement
                .query_map([organiser], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                })
                .map_err(sql("querying usage rights"))?;
            let date = |text: String, column| {
                time::Date::parse(
                    &text,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .map_err(|_| StoreError::Corrupt {
                    column,
                    value: text,
                })
            };
            let mut out = Vec::new();
            for row in rows {
                let (producer, from, until, scope) = row.map_err(sql("reading a usage right"))?;
                let scope = scope
                    .split_whitespace()
                    .map(|p| match p {
                        "purchased-service" => Ok(PaymentType::PurchasedService),
                        "service-voucher" => Ok(PaymentType::ServiceVoucher),
                        other => Err(StoreError::Corrupt {
                            column: "usage_rights.scope",
                            value: other.to_owned(),
                        }),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                out.push(UsageRight {
                    organiser: organiser.to_owned(),
                    producer,
                    from: date(from, "usage_rights.valid_from")?,
                    until: date(until, "usage_rights.valid_until")?,
                    scope,
                });
            }
            Ok(out)
        })
    }
}
