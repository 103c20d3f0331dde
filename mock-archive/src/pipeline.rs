//! The archive's one straight path for a message: unwrap → parse → signature → rules → store →
//! acknowledge (DESIGN §4). Each stage is a call into the module that owns it; this module
//! only carries data from one to the next and decides what kind of answer the client gets.
//!
//! - A body that is not a readable HL7 V3 message at all (not XML, hostile XML, wrong content
//!   type, too large) is a transport-level fault: an HTTP error with a SOAP Fault naming the
//!   problems.
//! - A message that cannot be read as the interaction it claims gets `AR`.
//! - A message that breaks a rule gets `AE` listing **every** broken rule.
//! - `AA` is sent only after the store has committed the document.
//!
//! Every request, answered in any of these ways, goes through the store so that the audit log
//! is complete.
//!
//! Reading, the signature and the rules are CPU work: they run on the bounded pool
//! (`CpuPool`: tokio's blocking threads, at most one job per core at once), never on the
//! async workers, so `/health`, handshakes and other clients are served while a large or
//! hostile message is judged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;

use crate::ack::{self, AckCode, AckDetail, AckInput, AckType};
use crate::format::codes;
use crate::format::{self, Limits, Message, Wrapping};
use crate::orgs::Registry;
use crate::pool::CpuPool;
use crate::recent::{KeptRequest, RecentRequests};
use crate::signature::VerifyOptions;
use crate::store::{self, Action, Description, NewDocument, Recorded, Request, Store};
use crate::validate;

/// Logs one line per message (the `mock-archive` terminal's record of what happened): the
/// peer organisation of the TLS certificate, the message id, the verdict and its codes.
fn log_message(
    peer: Option<&str>,
    message_id: Option<&str>,
    verdict: &str,
    codes: &[AckCode],
    replayed: bool,
) {
    let codes: Vec<&str> = codes.iter().map(|c| c.code()).collect();
    tracing::info!(
        "message from {} id {}: {verdict}{}{}",
        peer.unwrap_or("(no organisation OID)"),
        message_id.unwrap_or("(unreadable)"),
        if replayed { " (resend)" } else { "" },
        if codes.is_empty() {
            String::new()
        } else {
            format!(" {}", codes.join(" "))
        }
    );
}

/// A request as the HTTP layer hands it over.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The body bytes.
    pub body: bytes::Bytes,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The organisation OID of the TLS client certificate.
    pub tls_organisation: Option<String>,
    /// When the request arrived.
    pub received_at: OffsetDateTime,
}

/// The answer to send.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
    /// What the store recorded.
    pub recorded: Option<Recorded>,
}

/// Everything the pipeline needs, built once at start.
pub struct Pipeline {
    judge: Arc<Judge>,
    /// The fixture as the rules see it now: the start-time fixture with the usage rights ended
    /// since ([`Pipeline::end_usage_right`]).
    current: std::sync::RwLock<Arc<Registry>>,
    store: Store,
    pool: CpuPool,
    ack_counter: AtomicU64,
    recent: RecentRequests,
}

/// What the CPU stages need, shared with the pool's threads.
struct Judge {
    registry: Arc<Registry>,
    signature: VerifyOptions,
    limits: Limits,
}

/// What the CPU stages made of one request.
enum Prepared {
    /// Not a readable HL7 V3 message, or in the wrong envelope: an HTTP error with a SOAP
    /// Fault.
    Fault { status: u16, reason: String },
    /// A message to record (and maybe store), answered in `wrapping`.
    Judged(Box<Judged>),
}

/// A readable message, judged: everything the store and the acknowledgement need.
struct Judged {
    wrapping: Wrapping,
    message_id: Option<String>,
    message_digest: store::MessageDigest,
    action: Action,
    holder: Option<String>,
    /// The acknowledgement's fields from the message (its own id is given after the pool).
    ack_input: AckInput,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A pipeline over `registry` and `store`, trusting `signature_cas` (DER) for system
    /// signatures.
    pub fn new(
        registry: Arc<Registry>,
        store: Store,
        signature_cas: Vec<Vec<u8>>,
        limits: Limits,
    ) -> Self {
        let signature = validate::signature_options(registry.clone(), signature_cas);
        let seed = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 / 1000;
        Self {
            current: std::sync::RwLock::new(registry.clone()),
            judge: Arc::new(Judge {
                registry,
                signature,
                limits,
            }),
            store,
            pool: CpuPool::per_core(),
            ack_counter: AtomicU64::new(seed),
            recent: RecentRequests::default(),
        }
    }

    /// The store (for the inspection API).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The organisation registry.
    pub fn registry(&self) -> &Registry {
        &self.judge.registry
    }

    /// The bounded pool the CPU stages run on (the validation service's checks too).
    pub(crate) fn pool(&self) -> &CpuPool {
        &self.pool
    }

    /// The validation service's check of a frame and a separate CDA ([`validate::validate_parts`]
    /// with this archive's fixture, signature trust and limits): every problem, nothing stored.
    pub fn validate_parts(&self, frame: &[u8], document: &[u8]) -> Vec<AckDetail> {
        validate::validate_parts(
            frame,
            document,
            &self.judge.limits,
            &self.current_registry(),
            &self.judge.signature,
        )
    }

    /// The latest requests' bodies (for the inspection API).
    pub fn recent(&self) -> &RecentRequests {
        &self.recent
    }

    /// Handles one message: the CPU stages on the pool, then the store.
    pub async fn handle(&self, incoming: Incoming) -> Answer {
        let media = match check_content_type(incoming.content_type.as_deref()) {
            Ok(media) => media,
            Err(fault) => {
                return self
                    .fault(&incoming, 415, fault, AckCode::MessageUnreadable)
                    .await;
            }
        };
        // Queries (issue 16) have their own module; everything else is a storing message.
        if let Some(format::query::Sniffed::Query(kind)) = format::query::sniff(&incoming.body) {
            return crate::query::handle(self, kind, &incoming, media).await;
        }
        let judge = Arc::clone(&self.judge);
        let registry = self.current_registry();
        let body = incoming.body.clone();
        let tls_organisation = incoming.tls_organisation.clone();
        let received_at = incoming.received_at;
        let prepared = self
            .pool
            .run(move || {
                judge.prepare(
                    media,
                    &body,
                    &registry,
                    tls_organisation.as_deref(),
                    received_at,
                )
            })
            .await;
        let judged = match prepared {
            Prepared::Fault { status, reason } => {
                return self
                    .fault(&incoming, status, reason, AckCode::MessageUnreadable)
                    .await;
            }
            Prepared::Judged(judged) => *judged,
        };
        let Judged {
            wrapping,
            message_id,
            message_digest,
            action,
            holder,
            mut ack_input,
        } = judged;
        let logged_id = message_id.clone();
        let kept_holder = match &action {
            Action::Store { document, .. } => Some(document.register_holder.clone()),
            Action::Refuse(_) => holder.clone(),
        };
        let n = self.ack_counter.fetch_add(1, Ordering::Relaxed);
        ack_input.id = ack::InstanceId::root(format!("{}.{n}", codes::ACK_ID_ROOT.value));
        let request = Request {
            received_at: incoming.received_at,
            tls_peer: incoming.tls_organisation.clone(),
            message_id,
            message_digest,
            register_holder: holder,
            action,
            body: incoming.body.clone(),
            acknowledge: Box::new(move |type_code, details| {
                let input = AckInput {
                    type_code,
                    details: details.to_vec(),
                    ..ack_input
                };
                ack::render(&input).into_bytes()
            }),
        };
        match self.store.submit(request).await {
            Ok(recorded) => {
                log_message(
                    incoming.tls_organisation.as_deref(),
                    logged_id.as_deref(),
                    recorded.type_code.as_str(),
                    &recorded.codes,
                    recorded.replayed,
                );
                self.recent.keep(KeptRequest {
                    audit_id: recorded.audit_id,
                    register_holder: kept_holder,
                    content_type: incoming.content_type.clone(),
                    body: incoming.body.clone(),
                });
                Answer {
                    status: 200,
                    content_type: content_type_of(wrapping),
                    body: wrap(wrapping, &recorded.ack),
                    recorded: Some(recorded),
                }
            }
            Err(err) => {
                tracing::error!("storage failed: {err}");
                Answer {
                    status: 500,
                    content_type: content_type_of(Wrapping::Soap11),
                    body: soap_fault(
                        "soap:Server",
                        &format!("the archive could not record the message: {err}"),
                    ),
                    recorded: None,
                }
            }
        }
    }

    /// Records a request (or, with `None`, a connection) an injected fault broke
    /// ([`crate::fault`]): an audit entry `AR` with `SYS-BREAK` under the message's register
    /// holder when it can be read (so the archivist view lists it), without a message id (a
    /// resend's record is the store's, untouched), and the request kept for
    /// `/inspect/audit/<id>/request`. Returns the `AR` acknowledgement in the request's wrapping.
    pub async fn record_break(&self, incoming: Option<&Incoming>, what: &str) -> Answer {
        let detail = vec![AckDetail {
            code: AckCode::ServiceBreak,
            location: None,
            detail: what.to_owned(),
        }];
        let read = incoming.map(|i| (i, format::read_message(&i.body, &self.judge.limits)));
        let (holder, wrapping, ack_input) = match &read {
            Some((incoming, (Some(message), problems))) => {
                let (_, holder) = self.judge.judge(
                    message,
                    problems.clone(),
                    &self.current_registry(),
                    incoming.tls_organisation.as_deref(),
                );
                let mut input = Judge::ack_input(message, incoming.received_at);
                let n = self.ack_counter.fetch_add(1, Ordering::Relaxed);
                input.id = ack::InstanceId::root(format!("{}.{n}", codes::ACK_ID_ROOT.value));
                (holder, message.wrapping, Some(input))
            }
            _ => (None, Wrapping::Soap11, None),
        };
        let request = Request {
            received_at: incoming.map_or_else(OffsetDateTime::now_utc, |i| i.received_at),
            tls_peer: incoming.and_then(|i| i.tls_organisation.clone()),
            message_id: None,
            message_digest: [0; 16],
            register_holder: holder.clone(),
            action: Action::Refuse(detail.clone()),
            body: incoming.map(|i| i.body.clone()).unwrap_or_default(),
            acknowledge: Box::new(move |type_code, details| match ack_input {
                Some(input) => ack::render(&AckInput {
                    type_code,
                    details: details.to_vec(),
                    ..input
                })
                .into_bytes(),
                None => Vec::new(),
            }),
        };
        match self.store.submit(request).await {
            Ok(recorded) => {
                if let Some(incoming) = incoming {
                    self.recent.keep(KeptRequest {
                        audit_id: recorded.audit_id,
                        register_holder: holder,
                        content_type: incoming.content_type.clone(),
                        body: incoming.body.clone(),
                    });
                }
                Answer {
                    status: 200,
                    content_type: content_type_of(wrapping),
                    body: wrap(wrapping, &recorded.ack),
                    recorded: Some(recorded),
                }
            }
            Err(err) => {
                tracing::error!("audit of an injected fault failed: {err}");
                Answer {
                    status: 500,
                    content_type: content_type_of(Wrapping::Soap11),
                    body: soap_fault(
                        "soap:Server",
                        &format!("the archive could not record: {err}"),
                    ),
                    recorded: None,
                }
            }
        }
    }

    /// The fixture as the rules see it now (usage rights ended at run time included).
    pub fn current_registry(&self) -> Arc<Registry> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Ends every usage right `organiser` granted `producer` after `last_day`, for storing
    /// and reading alike, and stores the changed rights. Returns how many changed.
    pub fn end_usage_right(
        &self,
        organiser: &str,
        producer: &str,
        last_day: time::Date,
    ) -> Result<usize, String> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        let mut next = Registry::clone(&current);
        let changed = next
            .end_usage_right(organiser, producer, last_day)
            .map_err(|_| format!("{organiser} granted {producer} no register usage right"))?;
        self.store
            .sync_registry(&next)
            .map_err(|e| format!("the archive could not store the ended right: {e}"))?;
        *current = Arc::new(next);
        Ok(changed)
    }

    /// The reading limits.
    pub(crate) fn limits(&self) -> &Limits {
        &self.judge.limits
    }

    /// The next number for an answer's own message id.
    pub(crate) fn next_answer_number(&self) -> u64 {
        self.ack_counter.fetch_add(1, Ordering::Relaxed)
    }

    /// Records an unreadable request in the audit log and answers with a SOAP Fault.
    pub(crate) async fn fault(
        &self,
        incoming: &Incoming,
        status: u16,
        reason: String,
        code: AckCode,
    ) -> Answer {
        let request = Request {
            received_at: incoming.received_at,
            tls_peer: incoming.tls_organisation.clone(),
            message_id: None,
            message_digest: [0; 16],
            register_holder: None,
            action: Action::Refuse(vec![AckDetail {
                code,
                location: None,
                detail: reason.clone(),
            }]),
            body: incoming.body.clone(),
            acknowledge: Box::new(|_, _| Vec::new()),
        };
        if let Err(err) = self.store.submit(request).await {
            tracing::error!("audit of a refused request failed: {err}");
        }
        log_message(
            incoming.tls_organisation.as_deref(),
            None,
            "SOAP Fault",
            &[code],
            false,
        );
        Answer {
            status,
            content_type: content_type_of(Wrapping::Soap11),
            body: soap_fault("soap:Client", &reason),
            recorded: None,
        }
    }
}

impl Judge {
    /// The CPU stages of one message (run on the pool): read it, check its envelope against
    /// the content type, digest the HL7 message for the resend check, and judge it.
    fn prepare(
        &self,
        media: Media,
        body: &[u8],
        registry: &Registry,
        tls_organisation: Option<&str>,
        received_at: OffsetDateTime,
    ) -> Prepared {
        let (message, problems) = format::read_message(body, &self.limits);
        let Some(message) = message else {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            let reason = format!(
                "the request is not a readable HL7 V3 message: {}",
                list.join("; ")
            );
            return Prepared::Fault {
                status: 400,
                reason,
            };
        };
        if let Err(reason) = check_envelope(media, message.wrapping) {
            return Prepared::Fault {
                status: 415,
                reason,
            };
        }
        // A resend is the same HL7 message whatever wrapping carries it: hash the message
        // element's bytes, once.
        let message_digest =
            store::message_digest(body.get(message.span.clone()).unwrap_or_default());
        let (action, holder) = self.judge(&message, problems, registry, tls_organisation);
        Prepared::Judged(Box::new(Judged {
            wrapping: message.wrapping,
            message_id: message.id.as_ref().map(message_id),
            message_digest,
            action,
            holder,
            ack_input: Self::ack_input(&message, received_at),
        }))
    }

    /// Every check that needs no database ([`validate::check`], shared with the validation
    /// service), then the verdict. Returns what to do and the register holder concerned.
    fn judge(
        &self,
        message: &Message,
        problems: Vec<format::Problem>,
        registry: &Registry,
        tls_organisation: Option<&str>,
    ) -> (Action, Option<String>) {
        let checked = validate::check(
            message,
            problems,
            registry,
            &self.signature,
            tls_organisation,
        );
        let holder = checked.holder;
        let (Some(submission), Some(verification)) = (checked.submission, checked.verification)
        else {
            return (Action::Refuse(checked.details), holder);
        };
        let cda = message.cda.as_ref();
        let cda_bytes = message.cda_bytes.as_deref().unwrap_or_default();
        let action = Action::decide(checked.details, || {
            let author = message
                .professional
                .as_ref()
                .and_then(|p| p.id.as_ref())
                .map(|id| id.extension.clone().unwrap_or_else(|| id.root.clone()))
                .unwrap_or_else(|| submission.service_unit.clone());
            let document_group = cda
                .and_then(|c| c.header.as_ref())
                .and_then(|h| h.document_group.as_ref())
                .map(|c| c.code.clone());
            NewDocument::from_submission(&submission, author, document_group, cda_bytes.to_vec())
                .with_description(
                    Description::from_cda(cda, Some(&verification)).with_message_author(
                        message.professional.as_ref().and_then(|p| p.name.as_ref()),
                    ),
                )
        });
        (action, holder)
    }

    /// The acknowledgement's fields from the message; its own id is set by the caller.
    fn ack_input(message: &Message, now: OffsetDateTime) -> AckInput {
        AckInput {
            id: ack::InstanceId::root(codes::ACK_ID_ROOT.value),
            creation_time: now,
            processing_code: message
                .processing_code
                .clone()
                .unwrap_or_else(|| "P".to_owned()),
            receiver: message.sender.clone(),
            sender: ack::InstanceId::root(codes::KANTA_RECEIVER.value),
            target_message: message.id.clone(),
            type_code: AckType::Aa,
            details: Vec::new(),
        }
    }
}

/// The key a message id is remembered under for idempotency.
fn message_id(id: &format::InstanceId) -> String {
    match &id.extension {
        Some(ext) => format!("{}^{ext}", id.root),
        None => id.root.clone(),
    }
}

/// The media types a message may come as [conv: DESIGN §3.1].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    /// `text/xml`: a SOAP 1.1 envelope.
    Text,
    /// `application/soap+xml`: a SOAP 1.2 envelope.
    Soap,
    /// `application/xml`: a bare HL7 V3 message.
    Application,
}

/// The content-type stage, first part: accepts `text/xml` (SOAP 1.1), `application/soap+xml`
/// (SOAP 1.2) and `application/xml` (bare HL7 V3) [conv: DESIGN §3.1], with any parameters.
fn check_content_type(ct: Option<&str>) -> Result<Media, String> {
    let media = ct.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match media.as_deref() {
        Some("text/xml") => Ok(Media::Text),
        Some("application/soap+xml") => Ok(Media::Soap),
        Some("application/xml") => Ok(Media::Application),
        Some(other) => Err(format!(
            "unsupported content type {other:?}: send text/xml (SOAP 1.1), application/soap+xml (SOAP 1.2) or application/xml (a bare HL7 V3 message)"
        )),
        None => Err("no content type: send text/xml (SOAP 1.1), application/soap+xml (SOAP 1.2) or application/xml (a bare HL7 V3 message)".to_owned()),
    }
}

/// The content-type stage, second part, once the envelope is known: a SOAP 1.1 envelope goes
/// with `text/xml` and a SOAP 1.2 envelope with `application/soap+xml` (SOAP 1.1 §6.1.1,
/// SOAP 1.2 part 2 §7.1.4); a bare message is read under any of the three.
pub(crate) fn check_envelope(media: Media, wrapping: Wrapping) -> Result<(), String> {
    let sent = match media {
        Media::Text => "text/xml",
        Media::Soap => "application/soap+xml",
        Media::Application => "application/xml",
    };
    match (wrapping, media) {
        (Wrapping::Soap11, Media::Text) | (Wrapping::Soap12, Media::Soap) | (Wrapping::Bare, _) => {
            Ok(())
        }
        (Wrapping::Soap11, _) => Err(format!(
            "a SOAP 1.1 envelope (http://schemas.xmlsoap.org/soap/envelope/) was sent as {sent}: SOAP 1.1 goes with text/xml, SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope) with application/soap+xml"
        )),
        (Wrapping::Soap12, _) => Err(format!(
            "a SOAP 1.2 envelope (http://www.w3.org/2003/05/soap-envelope) was sent as {sent}: SOAP 1.2 goes with application/soap+xml, SOAP 1.1 (http://schemas.xmlsoap.org/soap/envelope/) with text/xml"
        )),
    }
}

/// The HTTP content type of a wrapping.
pub fn content_type_of(wrapping: Wrapping) -> &'static str {
    match wrapping {
        Wrapping::Soap11 => "text/xml; charset=utf-8",
        Wrapping::Soap12 => "application/soap+xml; charset=utf-8",
        Wrapping::Bare => "application/xml; charset=utf-8",
    }
}

const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";

/// Wraps a bare acknowledgement the way the request was wrapped.
pub fn wrap(wrapping: Wrapping, ack: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(ack);
    let inner = match text.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(&*text, |(_, after)| after.trim_start()),
        None => &*text,
    };
    let ns = match wrapping {
        Wrapping::Bare => return ack.to_vec(),
        Wrapping::Soap11 => SOAP11,
        Wrapping::Soap12 => SOAP12,
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"{ns}\"><soap:Body>\n{inner}</soap:Body></soap:Envelope>\n"
    )
    .into_bytes()
}

/// A SOAP 1.1 Fault with the reason escaped.
pub fn soap_fault(code: &str, reason: &str) -> Vec<u8> {
    let reason = quick_xml::escape::escape(reason);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"{SOAP11}\"><soap:Body><soap:Fault><faultcode>{code}</faultcode><faultstring>{reason}</faultstring></soap:Fault></soap:Body></soap:Envelope>\n"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_named_in_the_refusal() {
        assert_eq!(
            check_content_type(Some("text/xml; charset=utf-8")),
            Ok(Media::Text)
        );
        assert_eq!(
            check_content_type(Some("Application/SOAP+xml")),
            Ok(Media::Soap)
        );
        assert_eq!(
            check_content_type(Some("application/json")).unwrap_err(),
            "unsupported content type \"application/json\": send text/xml (SOAP 1.1), application/soap+xml (SOAP 1.2) or application/xml (a bare HL7 V3 message)"
        );
    }

    #[test]
    fn each_envelope_goes_with_its_own_content_type() {
        assert_eq!(check_envelope(Media::Text, Wrapping::Soap11), Ok(()));
        assert_eq!(check_envelope(Media::Soap, Wrapping::Soap12), Ok(()));
        for media in [Media::Text, Media::Soap, Media::Application] {
            assert_eq!(check_envelope(media, Wrapping::Bare), Ok(()));
        }
        assert_eq!(
            check_envelope(Media::Soap, Wrapping::Soap11).unwrap_err(),
            "a SOAP 1.1 envelope (http://schemas.xmlsoap.org/soap/envelope/) was sent as application/soap+xml: SOAP 1.1 goes with text/xml, SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope) with application/soap+xml"
        );
        assert_eq!(
            check_envelope(Media::Text, Wrapping::Soap12).unwrap_err(),
            "a SOAP 1.2 envelope (http://www.w3.org/2003/05/soap-envelope) was sent as text/xml: SOAP 1.2 goes with application/soap+xml, SOAP 1.1 (http://schemas.xmlsoap.org/soap/envelope/) with text/xml"
        );
        assert!(check_envelope(Media::Application, Wrapping::Soap11).is_err());
    }

    #[test]
    fn soap_wrapping_keeps_the_ack_and_escapes_faults() {
        let ack = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MCCI_IN000002UV01/>";
        let w = String::from_utf8(wrap(Wrapping::Soap12, ack)).unwrap();
        assert!(
            w.contains(SOAP12) && w.contains("<soap:Body>\n<MCCI_IN000002UV01/></soap:Body>"),
            "{w}"
        );
        assert_eq!(wrap(Wrapping::Bare, ack), ack.to_vec());
        let f = String::from_utf8(soap_fault("soap:Client", "a <b> & c")).unwrap();
        assert!(
            f.contains("<faultstring>a &lt;b&gt; &amp; c</faultstring>"),
            "{f}"
        );
    }
}
