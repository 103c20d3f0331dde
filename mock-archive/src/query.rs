//! Queries on the message listener (issue 16): the pipeline hands over any body whose message
//! is one of the five query interactions ([`format::query::sniff`]). This module reads it,
//! decides access with [`rules::access::may_read`] (R2, R5, R8), reads the register holder's
//! documents from the store, answers in the query's own wrapping, and records the query with
//! its result size in the audit log (and its body for the request log).
//!
//! What comes back, byte for byte: Hae asiakirja returns the CDA exactly as stored; the
//! metadata is the store's description metadata.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::ack::{self, AckCode, AckDetail, AckType};
use crate::format::query::{
    self, CaseEntry, DocumentEntry, QueryKind, QueryRequest, QueryResponse, QueryResults,
    RelationshipEntry, ResponseDetail,
};
use crate::format::{InstanceId, Problem, Wrapping, codes};
use crate::pipeline::{self, Answer, Incoming, Pipeline};
use crate::recent::KeptRequest;
use crate::rules::access::{self, Reader};
use crate::store::{DocumentFilter, DocumentMeta, QueryRecord, StoreError};

/// Answers one query.
pub(crate) async fn handle(
    p: &Pipeline,
    kind: QueryKind,
    incoming: &Incoming,
    media: pipeline::Media,
) -> Answer {
    let read = query::read_request(&incoming.body, p.limits());
    if read.query.is_some()
        && let Err(fault) = pipeline::check_envelope(media, read.wrapping)
    {
        return p
            .fault(incoming, 415, fault, AckCode::MessageUnreadable)
            .await;
    }
    // A query with any problem is not answered: every problem is named (AR).
    let Some(q) = read.query.filter(|_| read.problems.is_empty()) else {
        let details = problem_details(&read.problems);
        let response = respond(p, kind, None, incoming.received_at, AckType::Ar, &details);
        return finish(p, incoming, read.wrapping, kind, None, response).await;
    };
    let reader = Reader {
        tls_peer: incoming.tls_organisation.as_deref(),
        asker: &q.sender.root,
        register_holder: &q.register_holder,
        client: &q.client,
        day: incoming.received_at.date(),
    };
    let registry = p.current_registry();
    if let Err(details) = access::may_read(&registry, &reader) {
        let response = respond(
            p,
            kind,
            Some(&q),
            incoming.received_at,
            AckType::Ae,
            &details,
        );
        return finish(p, incoming, read.wrapping, kind, Some(&q), response).await;
    }
    let found = match find(p, &q) {
        Ok(found) => found,
        Err(err) => {
            tracing::error!("reading the register for a query failed: {err}");
            return Answer {
                status: 500,
                content_type: pipeline::content_type_of(Wrapping::Soap11),
                body: pipeline::soap_fault(
                    "soap:Server",
                    &format!("the archive could not read the register: {err}"),
                ),
                recorded: None,
            };
        }
    };
    let total = found.len() as u32;
    let results = match q.limit {
        Some(limit) => truncate(found, limit as usize),
        None => found,
    };
    let mut response = respond(p, kind, Some(&q), incoming.received_at, AckType::Aa, &[]);
    response.total = total;
    response.results = results;
    finish(p, incoming, read.wrapping, kind, Some(&q), response).await
}

fn truncate(results: QueryResults, n: usize) -> QueryResults {
    match results {
        QueryResults::Relationships(mut v) => {
            v.truncate(n);
            QueryResults::Relationships(v)
        }
        QueryResults::Cases(mut v) => {
            v.truncate(n);
            QueryResults::Cases(v)
        }
        QueryResults::Documents(mut v) => {
            v.truncate(n);
            QueryResults::Documents(v)
        }
    }
}

fn problem_details(problems: &[Problem]) -> Vec<AckDetail> {
    problems
        .iter()
        .map(|pr| AckDetail {
            code: pr.code.ack_code(),
            location: Some(pr.location.clone()).filter(|l| !l.is_empty()),
            detail: pr.message.clone(),
        })
        .collect()
}

/// The response skeleton: ids, parties, the acknowledgement and its details, no entries.
fn respond(
    p: &Pipeline,
    kind: QueryKind,
    q: Option<&QueryRequest>,
    now: OffsetDateTime,
    type_code: AckType,
    details: &[AckDetail],
) -> QueryResponse {
    QueryResponse {
        kind,
        id: InstanceId::root(format!(
            "{}.{}",
            codes::ACK_ID_ROOT.value,
            p.next_answer_number()
        )),
        creation_time: ack::hl7_timestamp(now),
        processing_code: q.map_or_else(|| "P".to_owned(), |q| q.processing_code.clone()),
        receiver: q.map(|q| q.sender.clone()),
        sender: InstanceId::root(codes::KANTA_RECEIVER.value),
        target_message: q.map(|q| q.id.clone()),
        type_code,
        details: details.iter().map(ResponseDetail::from).collect(),
        query_id: q.map(|q| q.query_id.clone()),
        total: 0,
        results: QueryResults::empty(kind),
    }
}

/// Writes, audits, keeps and logs the answer.
async fn finish(
    p: &Pipeline,
    incoming: &Incoming,
    wrapping: Wrapping,
    kind: QueryKind,
    q: Option<&QueryRequest>,
    response: QueryResponse,
) -> Answer {
    let body = pipeline::wrap(wrapping, query::write_response(&response).as_bytes());
    let codes: Vec<AckCode> = response
        .details
        .iter()
        .filter_map(|d| AckCode::from_code(&d.code))
        .collect();
    let holder = q.map(|q| q.register_holder.clone());
    let record = QueryRecord {
        received_at: incoming.received_at,
        tls_peer: incoming.tls_organisation.clone(),
        message_id: q.map(|q| message_key(&q.id)),
        register_holder: holder.clone(),
        kind: kind.as_str().to_owned(),
        outcome: response.type_code,
        codes: codes.clone(),
        results: response.results.len() as u32,
        result_bytes: body.len() as u64,
    };
    let audit_id = match p.store().record_query(record).await {
        Ok(id) => id,
        Err(err) => {
            tracing::error!("auditing a query failed: {err}");
            return Answer {
                status: 500,
                content_type: pipeline::content_type_of(Wrapping::Soap11),
                body: pipeline::soap_fault(
                    "soap:Server",
                    &format!("the archive could not record the query: {err}"),
                ),
                recorded: None,
            };
        }
    };
    p.recent().keep(KeptRequest {
        audit_id,
        register_holder: holder,
        content_type: incoming.content_type.clone(),
        body: incoming.body.clone(),
    });
    let shown: Vec<&str> = codes.iter().map(|c| c.code()).collect();
    tracing::info!(
        "query {} ({}) from {}: {} {} entries, {} bytes{}",
        kind,
        kind.finnish(),
        incoming
            .tls_organisation
            .as_deref()
            .unwrap_or("(no organisation OID)"),
        response.type_code.as_str(),
        response.results.len(),
        body.len(),
        if shown.is_empty() {
            String::new()
        } else {
            format!(" {}", shown.join(" "))
        }
    );
    Answer {
        status: 200,
        content_type: pipeline::content_type_of(wrapping),
        body,
        recorded: None,
    }
}

fn message_key(id: &InstanceId) -> String {
    match &id.extension {
        Some(ext) => format!("{}^{ext}", id.root),
        None => id.root.clone(),
    }
}

/// The register holder's documents of the client that pass the filters, as the kind wants them.
fn find(p: &Pipeline, q: &QueryRequest) -> Result<QueryResults, StoreError> {
    let store = p.store();
    let holder = q.register_holder.as_str();
    let f = &q.filter;
    let admitted = |m: &DocumentMeta| {
        m.client == q.client
            && f.admits(
                m.document_group.as_deref(),
                m.description.service_task_code.as_deref(),
                m.effective_time.date(),
                m.status,
            )
    };
    let listed = || -> Result<Vec<DocumentMeta>, StoreError> {
        let docs = store.documents(
            holder,
            &DocumentFilter {
                client: Some(q.client.clone()),
                status: f.status,
                document_group: f.document_group.clone(),
                ..DocumentFilter::default()
            },
        )?;
        Ok(docs.into_iter().filter(|m| admitted(m)).collect())
    };
    Ok(match q.kind {
        QueryKind::Summary => {
            QueryResults::Documents(listed()?.iter().map(|m| entry(m, None)).collect())
        }
        QueryKind::Metadata => {
            let id = q.document_id.as_deref().unwrap_or_default();
            let versions = match store.document(holder, id)? {
                Some(doc) if doc.meta.client == q.client => {
                    store.versions(holder, &doc.meta.set_id)?
                }
                _ => Vec::new(),
            };
            QueryResults::Documents(
                versions
                    .iter()
                    .filter(|m| admitted(m))
                    .map(|m| entry(m, None))
                    .collect(),
            )
        }
        QueryKind::Document => {
            let id = q.document_id.as_deref().unwrap_or_default();
            QueryResults::Documents(match store.document(holder, id)? {
                Some(doc) if admitted(&doc.meta) => vec![entry(&doc.meta, Some(doc.cda))],
                _ => Vec::new(),
            })
        }
        QueryKind::Relationships => {
            let registry = p.registry();
            let mut groups: BTreeMap<(String, Option<String>), Span> = BTreeMap::new();
            for m in listed()? {
                let producer = registry
                    .service_unit_owner(&m.service_unit)
                    .map_or_else(|| m.service_unit.clone(), |o| o.oid.clone());
                groups
                    .entry((producer, m.organiser.clone()))
                    .or_default()
                    .add(m.effective_time);
            }
            QueryResults::Relationships(
                groups
                    .into_iter()
                    .map(|((producer, organiser), s)| RelationshipEntry {
                        producer,
                        organiser,
                        first: ack::hl7_timestamp(s.first.unwrap_or(OffsetDateTime::UNIX_EPOCH)),
                        last: ack::hl7_timestamp(s.last.unwrap_or(OffsetDateTime::UNIX_EPOCH)),
                        documents: s.count,
                    })
                    .collect(),
            )
        }
        QueryKind::Cases => {
            let mut groups: BTreeMap<String, (Option<String>, Span)> = BTreeMap::new();
            for m in listed()? {
                let task = m.description.service_task_code.clone().unwrap_or_default();
                let slot = groups.entry(task).or_default();
                if slot.0.is_none() {
                    slot.0 = m.description.service_task_name.clone();
                }
                slot.1.add(m.effective_time);
            }
            QueryResults::Cases(
                groups
                    .into_iter()
                    .map(|(service_task, (service_task_name, s))| CaseEntry {
                        service_task,
                        service_task_name,
                        first: ack::hl7_timestamp(s.first.unwrap_or(OffsetDateTime::UNIX_EPOCH)),
                        last: ack::hl7_timestamp(s.last.unwrap_or(OffsetDateTime::UNIX_EPOCH)),
                        documents: s.count,
                    })
                    .collect(),
            )
        }
    })
}

/// Earliest and latest effective time of a group and its size.
#[derive(Debug, Default)]
struct Span {
    first: Option<OffsetDateTime>,
    last: Option<OffsetDateTime>,
    count: u32,
}

impl Span {
    fn add(&mut self, at: OffsetDateTime) {
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
        self.count += 1;
    }
}

fn entry(m: &DocumentMeta, content: Option<Vec<u8>>) -> DocumentEntry {
    DocumentEntry {
        document_id: m.document_id.clone(),
        set_id: m.set_id.clone(),
        version: m.version,
        status: m.status,
        register_holder: m.register_holder.clone(),
        client: m.client.clone(),
        effective_time: ack::hl7_timestamp(m.effective_time),
        service_unit: m.service_unit.clone(),
        author: m.author.clone(),
        document_group: m.document_group.clone(),
        service_task: m.description.service_task_code.clone(),
        organiser: m.organiser.clone(),
        title: m.description.title.clone(),
        document_type: m.description.document_type_code.clone(),
        replaces: m.replaces.clone(),
        content,
    }
}
