//! The read API: documents, versions and the audit log of **one register holder** (R8). There
//! is no query across register holders except [`Store::audit_unattributed`], the requests that
//! could not be attributed to any register holder (unreadable messages), for the administrator.

use rusqlite::{Connection, OptionalExtension, Row, params_from_iter, types::Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::writer::parse_codes;
use super::{Description, DocumentStatus, Store, StoreError, sql};
use crate::ack::{AckCode, AckType};
use crate::orgs::{PaymentType, UsageRight};
use crate::rules::ReplaceReason;
use time::Date;

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
    /// Only this document type code ([`Description::document_type_code`]).
    pub document_type: Option<String>,
    /// Only documents whose `effectiveTime` date (as written, in its own offset) is on or
    /// after this day.
    pub from: Option<Date>,
    /// ... and on or before this day.
    pub until: Option<Date>,
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
    /// Why it replaced that version (stored from schema version 2 on).
    pub replace_reason: Option<ReplaceReason>,
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
    /// Names, document type and the signature's verdict (schema version 2).
    pub description: Description,
}

/// One version with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    /// Metadata.
    pub meta: DocumentMeta,
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
    /// For a query: which, and what it returned (`None` for storing).
    pub query: Option<QueryAudit>,
}

/// What the audit log keeps of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAudit {
    /// The query kind (`relationships`, `cases`, `metadata`, `document`, `summary`).
    pub kind: String,
    /// How many entries the answer held.
    pub results: u32,
    /// The answer's size in bytes.
    pub result_bytes: u64,
}

/// One client of a register, for the register page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSummary {
    /// Identity code.
    pub client: String,
    /// The name the latest document wrote, if any.
    pub name: Option<String>,
    /// How many stored versions are about the client.
    pub documents: u32,
}

const META: &str = "document_id, set_id, version, status, replaces, register_holder, client, \
                    effective_time, service_unit, author, document_group, organiser, message_id, \
                    stored_at, replace_reason, title, document_type_code, document_type_name, \
                    service_unit_name, author_name, client_name, signature_verdict, \
                    signer_subject, signed_at, service_task_code, service_task_name, \
                    service_event_code, service_event_name";

/// How many columns [`META`] has.
const META_COLUMNS: usize = 28;

fn time_of(text: String, column: &'static str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| StoreError::Corrupt {
        column,
        value: text,
    })
}

/// Reads back [`super::writer::replace_reason_text`].
pub(crate) fn replace_reason_of(text: &str) -> Option<ReplaceReason> {
    text.parse().ok()
}

/// The raw columns of [`META`], converted outside rusqlite's row closure.
struct RawMeta {
    text: [Option<String>; META_COLUMNS],
    version: u32,
}

fn raw_meta(row: &Row<'_>) -> rusqlite::Result<RawMeta> {
    let mut text: [Option<String>; META_COLUMNS] = Default::default();
    for (i, slot) in text.iter_mut().enumerate() {
        if i != 2 {
            *slot = row.get(i)?;
        }
    }
    Ok(RawMeta {
        text,
        version: row.get(2)?,
    })
}

fn meta(raw: RawMeta) -> Result<DocumentMeta, StoreError> {
    let RawMeta { text, version } = raw;
    let [
        document_id,
        set_id,
        _,
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
        replace_reason,
        title,
        document_type_code,
        document_type_name,
        service_unit_name,
        author_name,
        client_name,
        signature_verdict,
        signer_subject,
        signed_at,
        service_task_code,
        service_task_name,
        service_event_code,
        service_event_name,
    ] = text;
    let required = |value: Option<String>, column: &'static str| {
        value.ok_or(StoreError::Corrupt {
            column,
            value: "NULL".to_owned(),
        })
    };
    let status = required(status, "documents.status")?;
    Ok(DocumentMeta {
        document_id: required(document_id, "documents.document_id")?,
        set_id: required(set_id, "documents.set_id")?,
        version,
        status: DocumentStatus::parse(&status).ok_or(StoreError::Corrupt {
            column: "documents.status",
            value: status,
        })?,
        replaces,
        replace_reason: match replace_reason {
            None => None,
            Some(text) => Some(replace_reason_of(&text).ok_or(StoreError::Corrupt {
                column: "documents.replace_reason",
                value: text,
            })?),
        },
        register_holder: required(register_holder, "documents.register_holder")?,
        client: required(client, "documents.client")?,
        effective_time: time_of(
            required(effective_time, "documents.effective_time")?,
            "documents.effective_time",
        )?,
        service_unit: required(service_unit, "documents.service_unit")?,
        author: required(author, "documents.author")?,
        document_group,
        organiser,
        message_id,
        stored_at: time_of(
            required(stored_at, "documents.stored_at")?,
            "documents.stored_at",
        )?,
        description: Description {
            title,
            document_type_code,
            document_type_name,
            service_unit_name,
            author_name,
            client_name,
            signature_verdict,
            signer_subject,
            signed_at,
            service_task_code,
            service_task_name,
            service_event_code,
            service_event_name,
        },
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
        and("document_type_code", filter.document_type.clone());
        let mut date = |op: &str, value: Option<Date>| {
            if let Some(value) = value {
                params.push(Value::Text(value.to_string()));
                sql_text.push_str(&format!(
                    " AND substr(effective_time, 1, 10) {op} ?{}",
                    params.len()
                ));
            }
        };
        date(">=", filter.from);
        date("<=", filter.until);
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
            "SELECT {META}, cda FROM documents \
             WHERE register_holder = ?1 AND document_id = ?2"
        );
        self.with_reader(|conn| {
            let found = conn
                .query_row(&sql_text, [register_holder, document_id], |row| {
                    Ok((raw_meta(row)?, row.get::<_, Vec<u8>>(META_COLUMNS)?))
                })
                .optional()
                .map_err(sql("reading a document"))?;
            found
                .map(|(raw, cda)| {
                    Ok(StoredDocument {
                        meta: meta(raw)?,
                        cda,
                    })
                })
                .transpose()
        })
    }

    /// The clients of one register holder with how many stored versions each has, by identity
    /// code.
    pub fn clients(&self, register_holder: &str) -> Result<Vec<ClientSummary>, StoreError> {
        self.with_reader(|conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT client, COUNT(*), \
                     (SELECT d2.client_name FROM documents d2 WHERE d2.register_holder = ?1 \
                      AND d2.client = d.client AND d2.client_name IS NOT NULL \
                      ORDER BY d2.rowid DESC LIMIT 1) \
                     FROM documents d WHERE register_holder = ?1 GROUP BY client ORDER BY client",
                )
                .map_err(sql("preparing a client query"))?;
            let rows = statement
                .query_map([register_holder], |row| {
                    Ok(ClientSummary {
                        client: row.get(0)?,
                        documents: row.get(1)?,
                        name: row.get(2)?,
                    })
                })
                .map_err(sql("querying clients"))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(sql("reading a client row"))
        })
    }

    /// The document types found in one register holder's register: code and display name,
    /// by code.
    pub fn document_types(
        &self,
        register_holder: &str,
    ) -> Result<Vec<(String, Option<String>)>, StoreError> {
        self.with_reader(|conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT document_type_code, MAX(document_type_name) FROM documents \
                     WHERE register_holder = ?1 AND document_type_code IS NOT NULL \
                     GROUP BY document_type_code ORDER BY document_type_code",
                )
                .map_err(sql("preparing a document type query"))?;
            let rows = statement
                .query_map([register_holder], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(sql("querying document types"))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(sql("reading a document type row"))
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

    /// The whole archive's audit log, every register holder and none, newest first: for the
    /// administrator and for tests (the newest entry is the last request answered).
    pub fn audit_all(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_where("1 = 1", None, limit)
    }

    fn audit_where(
        &self,
        condition: &str,
        holder: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sql_text = format!(
            "SELECT id, at, tls_peer, message_id, register_holder, document_id, outcome, codes, \
             replayed, query, results, result_bytes FROM audit WHERE {condition} \
             ORDER BY id DESC LIMIT {limit}"
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
            Option<String>,
            Option<u32>,
            Option<i64>,
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
                        row.get(9)?,
                        row.get(10)?,
                        row.get(11)?,
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
                    query,
                    results,
                    result_bytes,
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
                    query: query.map(|kind| QueryAudit {
                        kind,
                        results: results.unwrap_or(0),
                        result_bytes: result_bytes.map_or(0, |b| b.max(0) as u64),
                    }),
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
                    .map(|p| match p.parse() {
                        Ok(
                            payment @ (PaymentType::PurchasedService | PaymentType::ServiceVoucher),
                        ) => Ok(payment),
                        _ => Err(StoreError::Corrupt {
                            column: "usage_rights.scope",
                            value: p.to_owned(),
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
