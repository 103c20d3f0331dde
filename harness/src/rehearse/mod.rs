//! The rehearsal: replays test cases ([`case`]) against an archive over mutual TLS, judges each
//! acknowledgement, then each archivist checkpoint through the inspection API, and returns
//! [`RunResults`]. In SUT mode the "your system" steps are made by the vendor's own system:
//! the runner shows the instruction, then watches the archive's audit log (through the same
//! inspection API) for the matching submission.
//!
//! Architecture invariant: everything here reaches the archive through [`crate::client`] only.

pub mod ack;
pub mod case;
pub mod output;
pub mod suite;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use kanta_profile::ack::hl7_timestamp;
use kanta_profile::format::codes;
use kanta_profile::orgs::Registry;
use serde_json::Value;
use time::OffsetDateTime;

use crate::client::{ClientError, Connection, Identity, Target, TlsClient};
use crate::compose::{
    self, DocumentTemplate, MessageValues, Org, PaymentType, PersonValues, ReplacementReason,
    Replaces, UsageSituation,
};
use crate::pki::{Pki, Role};
use crate::results::{
    Actor, ActualAck, ArchiveTarget, CaseResult, CheckpointResult, ExpectedAck, Mode, Outcome,
    RESULTS_FORMAT, RunResults, StepResult, Stray, Summary, ack_text,
};
use crate::signing::SystemSigner;
use case::{
    Action, Case, Check, Expect, Payment, Reason, Repository, Step, StepActor, Submission, Tamper,
    Template,
};

/// The arc of the ids the harness makes, one sub-arc per run (its start in milliseconds), so
/// runs against a persistent archive never collide. A convention: see the codes module.
pub const RUN_ID_ARC: &str = codes::HARNESS_ID_ARC.value;

/// How a run is set up.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The archive.
    pub target: Target,
    /// Whether the harness started it for this run.
    pub embedded: bool,
    /// The test PKI (CA, and every role's certificate).
    pub pki: Pki,
    /// Reference or SUT mode.
    pub mode: Mode,
    /// SUT mode: how long to wait for a "your system" step, unless the step says otherwise.
    pub step_timeout: Duration,
    /// The path messages are posted to.
    pub message_path: String,
}

impl Setup {
    /// A TLS client presenting the PKI certificate of `role`, trusting the PKI's CA.
    pub fn client(&self, role: Role) -> Result<TlsClient, ClientError> {
        let files = self.pki.files(role);
        TlsClient::new(
            &self.pki.ca(),
            Some(&Identity {
                cert: files.cert,
                key: files.key,
            }),
        )
    }
}

/// What the runner tells its watcher as it goes.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// The run starts with this many steps.
    Started {
        /// Steps in all.
        steps: usize,
    },
    /// A step starts.
    StepStarted {
        /// The case.
        case: &'a Case,
        /// The step.
        step: &'a Step,
    },
    /// SUT mode: waiting for the vendor's system to make this step's submission.
    Waiting {
        /// The case.
        case: &'a Case,
        /// The step.
        step: &'a Step,
        /// How long.
        timeout: Duration,
    },
    /// SUT mode: a submission arrived that matches no waiting step.
    Stray(&'a Stray),
    /// A step ended.
    StepDone {
        /// The case.
        case: &'a Case,
        /// Its result.
        result: &'a StepResult,
    },
}

/// What the runner remembers of a step that submitted something.
#[derive(Debug, Clone, Default)]
struct Record {
    document_id: Option<String>,
    set_id: Option<String>,
    version: Option<u32>,
    message: Option<Vec<u8>>,
    content_type: Option<&'static str>,
    tls: Option<Role>,
    ack_body: Option<Vec<u8>>,
}

/// One entry of an archive's audit log, as the inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AuditSeen {
    id: i64,
    at: String,
    holder: String,
    tls_peer: Option<String>,
    message_id: Option<String>,
    document_id: Option<String>,
    outcome: String,
    codes: Vec<String>,
}

struct Runner<'s> {
    setup: &'s Setup,
    /// `<RUN_ID_ARC>.<run ms>.`: every id this run makes starts with it.
    run_prefix: String,
    counter: u64,
    connections: HashMap<Role, Connection>,
    signers: HashMap<Role, SystemSigner>,
    /// SUT mode: audit entries already accounted for.
    claimed: HashSet<i64>,
    /// SUT mode: audit entries seen at the start (older than the run).
    baseline: i64,
    strays: Vec<Stray>,
}

/// Runs `cases` against the archive of `setup`, telling `watch` as it goes.
pub async fn run(
    setup: &Setup,
    cases: &[Case],
    watch: &mut dyn FnMut(Event<'_>),
) -> anyhow::Result<RunResults> {
    let started_at = OffsetDateTime::now_utc();
    let local = started_at
        .to_offset(time::UtcOffset::local_offset_at(started_at).unwrap_or(time::UtcOffset::UTC));
    let mut runner = Runner {
        setup,
        run_prefix: format!(
            "{RUN_ID_ARC}.{}.",
            started_at.unix_timestamp_nanos() / 1_000_000
        ),
        counter: 0,
        connections: HashMap::new(),
        signers: HashMap::new(),
        claimed: HashSet::new(),
        baseline: 0,
        strays: Vec::new(),
    };
    watch(Event::Started {
        steps: cases.iter().map(|c| c.steps.len()).sum(),
    });
    if setup.mode == Mode::Sut {
        let mut max = 0;
        for case in cases {
            for e in runner.audit(&case.fixture).await? {
                max = max.max(e.id);
            }
        }
        runner.baseline = max;
    }
    let mut results = Vec::new();
    for case in cases {
        results.push(runner.run_case(case, watch).await);
    }
    if setup.mode == Mode::Sut {
        // Whatever arrived during the run and no step claimed is a stray.
        for case in cases {
            let entries = runner.audit(&case.fixture).await?;
            runner.strays_from(entries, watch);
        }
    }
    let summary = Summary::of(&results);
    Ok(RunResults {
        format: RESULTS_FORMAT,
        tool: format!("kantakoe {}", env!("CARGO_PKG_VERSION")),
        started_at,
        finished_at: OffsetDateTime::now_utc(),
        test_date: local.date(),
        archive: ArchiveTarget {
            url: setup.target.to_string(),
            embedded: setup.embedded,
        },
        mode: setup.mode,
        cases: results,
        summary,
        strays: runner.strays,
        confirmation: None,
    })
}

impl Runner<'_> {
    async fn run_case(&mut self, case: &Case, watch: &mut dyn FnMut(Event<'_>)) -> CaseResult {
        let mut records: HashMap<String, Record> = HashMap::new();
        let mut steps = Vec::new();
        for step in &case.steps {
            watch(Event::StepStarted { case, step });
            let started = Instant::now();
            let mut result = self.run_step(case, step, &mut records, watch).await;
            result.duration_ms = started.elapsed().as_millis() as u64;
            watch(Event::StepDone {
                case,
                result: &result,
            });
            steps.push(result);
        }
        CaseResult {
            id: case.id.clone(),
            file: case.file.clone(),
            title_fi: case.title.fi.clone(),
            title_sv: case.title.sv.clone(),
            steps,
        }
    }

    async fn run_step(
        &mut self,
        case: &Case,
        step: &Step,
        records: &mut HashMap<String, Record>,
        watch: &mut dyn FnMut(Event<'_>),
    ) -> StepResult {
        let sut = self.setup.mode == Mode::Sut && step.actor == StepActor::YourSystem;
        let mut result = StepResult {
            id: step.id.clone(),
            title_fi: step.title.fi.clone(),
            title_sv: step.title.sv.clone(),
            actor: match step.actor {
                StepActor::Reference => Actor::Reference,
                StepActor::YourSystem => Actor::YourSystem,
            },
            outcome: Outcome::Passed,
            expected: ExpectedAck {
                ack: String::new(),
                codes: vec![],
            },
            actual: None,
            document_id: None,
            register_holder: None,
            checkpoints: vec![],
            failures: vec![],
            duration_ms: 0,
        };
        // A step that refers to an earlier step's document needs that document.
        let depends: Vec<&str> = match &step.action {
            Action::Submit { submission, .. } => {
                submission.replaces.iter().map(String::as_str).collect()
            }
            Action::Resend { of, .. } => vec![of.as_str()],
            Action::Connect { .. } | Action::Inspect => vec![],
        }
        .into_iter()
        .chain(
            step.checks
                .iter()
                .map(|c| c.document.as_str())
                .filter(|d| *d != step.id),
        )
        .collect();
        for d in depends {
            let usable = records.get(d).is_some_and(|r| r.document_id.is_some());
            if !usable {
                result.outcome = Outcome::Skipped;
                result
                    .failures
                    .push(format!("skipped: step {d} left no document to refer to"));
                return result;
            }
        }

        match &step.action {
            Action::Connect {
                tls,
                accepted,
                organisation,
            } => {
                result.expected = ExpectedAck {
                    ack: if *accepted { "connected" } else { "refused" }.to_owned(),
                    codes: organisation.iter().cloned().collect(),
                };
                let (ack, codes) = self.connect(*tls).await;
                if ack != result.expected.ack
                    || (*accepted && organisation.is_some() && codes != result.expected.codes)
                {
                    result.failures.push(format!(
                        "expected the connection to be {}{}, but it was {ack} ({})",
                        result.expected.ack,
                        organisation
                            .as_ref()
                            .map(|o| format!(" with organisation {o}"))
                            .unwrap_or_default(),
                        codes.join(", ")
                    ));
                }
                result.actual = Some(ActualAck {
                    ack,
                    codes,
                    message_id: None,
                });
            }
            Action::Submit { submission, expect } if sut => {
                result.expected = expected(expect);
                let timeout = step
                    .timeout_seconds
                    .map_or(self.setup.step_timeout, Duration::from_secs);
                watch(Event::Waiting {
                    case,
                    step,
                    timeout,
                });
                match self.wait_for(case, submission, timeout, watch).await {
                    Err(e) => result.failures.push(e),
                    Ok(None) => {
                        result.outcome = Outcome::TimedOut;
                        result.failures.push(format!(
                            "timed out: no submission from your system arrived within {} s",
                            timeout.as_secs()
                        ));
                        return result;
                    }
                    Ok(Some(entry)) => {
                        let mut record = Record {
                            document_id: entry.document_id.clone(),
                            ..Record::default()
                        };
                        if let Some(id) = &entry.document_id
                            && let Some(token) = token_for(&case.fixture, &entry.holder)
                            && let Ok(Some(doc)) = self.document(id, token).await
                        {
                            record.set_id = doc["set_id"].as_str().map(str::to_owned);
                            record.version = doc["version"].as_u64().map(|v| v as u32);
                        }
                        judge(
                            &mut result,
                            expect,
                            ActualAck {
                                ack: entry.outcome.clone(),
                                codes: entry.codes.clone(),
                                message_id: entry.message_id.clone(),
                            },
                        );
                        result.document_id = entry.document_id.clone();
                        records.insert(step.id.clone(), record);
                    }
                }
            }
            Action::Submit { submission, expect } => {
                result.expected = expected(expect);
                match self.submit(case, submission, records).await {
                    Err(e) => result.failures.push(e),
                    Ok((record, actual)) => {
                        result.document_id = record.document_id.clone();
                        judge(&mut result, expect, actual);
                        records.insert(step.id.clone(), record);
                    }
                }
            }
            Action::Inspect => {}
            Action::Resend { of, expect } => {
                result.expected = expected(expect);
                let earlier = records.get(of).cloned().unwrap_or_default();
                match (&earlier.message, earlier.tls, earlier.content_type) {
                    (Some(message), Some(tls), Some(content_type)) => {
                        match self.post(tls, content_type, message.clone()).await {
                            Err(e) => result.failures.push(e),
                            Ok((body, actual)) => {
                                if earlier.ack_body.as_deref() != Some(body.as_slice()) {
                                    result.failures.push(format!(
                                        "the resend of step {of}'s message was answered differently from the first sending"
                                    ));
                                }
                                result.document_id = earlier.document_id.clone();
                                judge(&mut result, expect, actual);
                            }
                        }
                    }
                    _ => result.failures.push(format!(
                        "step {of} was made by your system, so the harness has no message to resend"
                    )),
                }
            }
        }

        for check in &step.checks {
            let doc = records
                .get(&check.document)
                .and_then(|r| r.document_id.clone())
                .unwrap_or_default();
            if check.document == step.id {
                result.register_holder = check.register_holder.clone().filter(|_| check.stored);
            }
            self.checkpoint(case, check, &doc, &mut result).await;
        }
        if !result.failures.is_empty() && result.outcome == Outcome::Passed {
            result.outcome = Outcome::Failed;
        }
        result
    }

    async fn connection(&mut self, role: Role) -> Result<&mut Connection, ClientError> {
        if !self.connections.contains_key(&role) {
            let conn = self.setup.client(role)?.connect(&self.setup.target).await?;
            self.connections.insert(role, conn);
        }
        Ok(self.connections.get_mut(&role).expect("inserted above"))
    }

    /// The connection test of one certificate: a handshake and `GET /health`. Unlike
    /// `kantakoe preflight`, nothing is judged locally (e.g. an expired certificate is still
    /// presented), so the step shows what the archive does.
    async fn connect(&mut self, role: Role) -> (String, Vec<String>) {
        let attempt = async {
            let mut conn = self.setup.client(role)?.connect(&self.setup.target).await?;
            conn.get("/health").await
        };
        match attempt.await {
            Ok(reply) if reply.status == 200 => {
                let json: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
                let org = json["client"]["organisation_oid"]
                    .as_str()
                    .map(str::to_owned);
                ("connected".to_owned(), org.into_iter().collect())
            }
            Ok(reply) => ("refused".to_owned(), vec![format!("HTTP {}", reply.status)]),
            Err(e) => ("refused".to_owned(), vec![e.to_string()]),
        }
    }

    /// Posts a message; the answer's body and what it says.
    async fn post(
        &mut self,
        role: Role,
        content_type: &str,
        message: Vec<u8>,
    ) -> Result<(Vec<u8>, ActualAck), String> {
        let path = self.setup.message_path.clone();
        let reply = match self.connection(role).await {
            Ok(conn) => conn.post(&path, content_type, message).await,
            Err(e) => Err(e),
        };
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                // A broken connection is not reused.
                self.connections.remove(&role);
                return Ok((
                    Vec::new(),
                    ActualAck {
                        ack: "no answer".to_owned(),
                        codes: vec![e.to_string()],
                        message_id: None,
                    },
                ));
            }
        };
        let body = reply.body.to_vec();
        if reply.status != 200 {
            // A transport-level fault (SOAP Fault with an HTTP error status): no
            // acknowledgement, so no codes.
            return Ok((
                body,
                ActualAck {
                    ack: format!("HTTP {}", reply.status),
                    codes: vec![],
                    message_id: None,
                },
            ));
        }
        match ack::read(&body) {
            Ok(a) => Ok((
                body,
                ActualAck {
                    ack: a.type_code,
                    codes: a.codes,
                    message_id: a.target_message,
                },
            )),
            Err(e) => Err(format!(
                "the archive's answer is not an acknowledgement: {e}"
            )),
        }
    }

    fn next_ids(&mut self) -> (String, String) {
        self.counter += 1;
        (
            format!("{}1.{}", self.run_prefix, self.counter),
            format!("{}2.{}", self.run_prefix, self.counter),
        )
    }

    fn signer(&mut self, role: Role) -> Result<&SystemSigner, String> {
        if !self.signers.contains_key(&role) {
            let files = self.setup.pki.files(role);
            let signer =
                SystemSigner::from_files(&files.cert, &files.key, OffsetDateTime::now_utc())
                    .map_err(|e| {
                        format!("cannot use the {} certificate to sign: {e:#}", role.stem())
                    })?;
            self.signers.insert(role, signer);
        }
        Ok(self.signers.get(&role).expect("inserted above"))
    }

    async fn submit(
        &mut self,
        case: &Case,
        sub: &Submission,
        records: &HashMap<String, Record>,
    ) -> Result<(Record, ActualAck), String> {
        let (message_id, document_id) = self.next_ids();
        let mut values = message_values(&case.fixture, sub, message_id, document_id.clone());
        if let Some(parent) = &sub.replaces {
            let p = records.get(parent).cloned().unwrap_or_default();
            let parent_version = p.version.unwrap_or(1);
            values.set_id = p.set_id.clone().unwrap_or_default();
            values.version = parent_version + 1;
            values.replaces = Some(Replaces {
                parent_id: p.document_id.clone().unwrap_or_default(),
                parent_version,
                reason: match sub.reason {
                    Some(Reason::Invalidation) => ReplacementReason::Invalidation,
                    _ => ReplacementReason::Correction,
                },
            });
        }
        if let Some(v) = sub.version {
            // A wrong version number, told consistently inside the message (the replaced
            // version is named one less), so that only the archive's own record disagrees.
            values.version = v;
            if let Some(r) = values.replaces.as_mut() {
                r.parent_version = v.saturating_sub(1).max(1);
            }
        }
        let template = match sub.template {
            Template::ClientRelationship => DocumentTemplate::client_relationship(),
            Template::ServiceTask => DocumentTemplate::service_task_document(),
        };
        let wrapping = sub.wrapping.wrapping();
        let signer = self.signer(sub.signer)?;
        let built = compose::build_message(&template, &values, wrapping, Some(signer))
            .map_err(|e| format!("cannot build the message: {e:#}"))?;
        let mut message = built.message;
        if sub.tamper == Some(Tamper::BodyAfterSigning) {
            let cda = tamper_body(&built.cda)?;
            message = compose::wrap_message(&values, wrapping, &cda).into_bytes();
        }
        if sub.repository == Repository::PatientArchive {
            let text = String::from_utf8_lossy(&message)
                .replace(
                    codes::INTERACTION_STORE.value,
                    codes::INTERACTION_PATIENT_STORE.value,
                )
                .replace(
                    codes::INTERACTION_REPLACE.value,
                    codes::INTERACTION_PATIENT_REPLACE.value,
                );
            message = text.into_bytes();
        }
        let content_type = compose::content_type(wrapping);
        let (body, actual) = self.post(sub.tls, content_type, message.clone()).await?;
        Ok((
            Record {
                document_id: Some(document_id),
                set_id: Some(values.set_id.clone()),
                version: Some(values.version),
                message: Some(message),
                content_type: Some(content_type),
                tls: Some(sub.tls),
                ack_body: Some(body),
            },
            actual,
        ))
    }

    async fn document(&mut self, id: &str, token: &str) -> Result<Option<Value>, String> {
        let conn = self
            .connection(Role::Client)
            .await
            .map_err(|e| format!("cannot reach the inspection API: {e}"))?;
        let reply = conn
            .get_as(&format!("/inspect/documents/{id}"), token)
            .await
            .map_err(|e| format!("the inspection API did not answer: {e}"))?;
        match reply.status {
            200 => {
                let json: Value = serde_json::from_slice(&reply.body)
                    .map_err(|e| format!("the inspection API answered with bad JSON: {e}"))?;
                Ok(Some(json["document"].clone()))
            }
            404 => Ok(None),
            other => Err(format!(
                "the inspection API answered HTTP {other}: {}",
                String::from_utf8_lossy(&reply.body)
            )),
        }
    }

    async fn checkpoint(&mut self, case: &Case, check: &Check, doc: &str, result: &mut StepResult) {
        if !check.stored {
            let holders: Vec<(String, String)> = holders(&case.fixture);
            let mut found = Vec::new();
            for (holder, token) in holders {
                match self.document(doc, &token).await {
                    Ok(Some(_)) => found.push(holder),
                    Ok(None) => {}
                    Err(e) => result.failures.push(e),
                }
            }
            let passed = found.is_empty();
            if !passed {
                result.failures.push(format!(
                    "document {doc} of step {} must be stored nowhere, but it is in the register of {}",
                    check.document,
                    found.join(", ")
                ));
            }
            result.checkpoints.push(CheckpointResult {
                field: "stored".to_owned(),
                expected: "nowhere".to_owned(),
                actual: Some(if passed {
                    "nowhere".to_owned()
                } else {
                    found.join(", ")
                }),
                passed,
            });
            return;
        }
        let holder = check.register_holder.clone().unwrap_or_default();
        let Some(token) = token_for(&case.fixture, &holder) else {
            result.failures.push(format!(
                "no archivist in the fixture for the register of {holder}"
            ));
            return;
        };
        let token = token.to_owned();
        let found = match self.document(doc, &token).await {
            Ok(found) => found,
            Err(e) => {
                result.failures.push(e);
                return;
            }
        };
        let Some(meta) = found else {
            result.checkpoints.push(CheckpointResult {
                field: "register_holder".to_owned(),
                expected: holder.clone(),
                actual: None,
                passed: false,
            });
            result.failures.push(format!(
                "document {doc} of step {} is not in the register of {holder}",
                check.document
            ));
            return;
        };
        result.checkpoints.push(CheckpointResult {
            field: "register_holder".to_owned(),
            expected: holder.clone(),
            actual: meta["register_holder"].as_str().map(str::to_owned),
            passed: meta["register_holder"].as_str() == Some(holder.as_str()),
        });
        for hidden in &check.hidden_from {
            let Some(token) = token_for(&case.fixture, hidden).map(str::to_owned) else {
                continue;
            };
            let seen = match self.document(doc, &token).await {
                Ok(found) => found.is_some(),
                Err(e) => {
                    result.failures.push(e);
                    continue;
                }
            };
            if seen {
                result.failures.push(format!(
                    "the archivist of {hidden} can see document {doc} of step {} in another register holder's register (R8)",
                    check.document
                ));
            }
            result.checkpoints.push(CheckpointResult {
                field: "hidden_from".to_owned(),
                expected: hidden.clone(),
                actual: Some(if seen { "visible" } else { "hidden" }.to_owned()),
                passed: !seen,
            });
        }
        for (field, expected) in &check.fields {
            let actual = match &meta[field.as_str()] {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            };
            let passed = actual.as_deref() == Some(expected.as_str());
            if !passed {
                result.failures.push(format!(
                    "checkpoint {field} of document {doc} (step {}): expected {expected}, the archivist sees {}",
                    check.document,
                    actual.as_deref().unwrap_or("nothing")
                ));
            }
            result.checkpoints.push(CheckpointResult {
                field: field.clone(),
                expected: expected.clone(),
                actual,
                passed,
            });
        }
    }

    /// The audit log entries of every register holder the fixture's archivists can see.
    async fn audit(&mut self, fixture: &Registry) -> anyhow::Result<Vec<AuditSeen>> {
        let mut out = Vec::new();
        for (holder, token) in holders(fixture) {
            let conn = self.connection(Role::Client).await?;
            let reply = conn.get_as("/inspect/audit", &token).await?;
            anyhow::ensure!(
                reply.status == 200,
                "the archive's inspection API answered HTTP {} for the audit log of {holder}",
                reply.status
            );
            let json: Value = serde_json::from_slice(&reply.body)?;
            for e in json["audit"].as_array().into_iter().flatten() {
                let text = |k: &str| e[k].as_str().map(str::to_owned);
                out.push(AuditSeen {
                    id: e["id"].as_i64().unwrap_or_default(),
                    at: text("at").unwrap_or_default(),
                    holder: holder.clone(),
                    tls_peer: text("tls_peer"),
                    message_id: text("message_id"),
                    document_id: text("document_id"),
                    outcome: text("outcome").unwrap_or_default(),
                    codes: e["codes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.as_str().map(str::to_owned))
                        .collect(),
                });
            }
        }
        out.sort_by_key(|e| e.id);
        out.dedup_by_key(|e| e.id);
        Ok(out)
    }

    /// New audit entries: after the baseline, not claimed, not the harness's own.
    fn fresh(&self, entries: Vec<AuditSeen>) -> Vec<AuditSeen> {
        entries
            .into_iter()
            .filter(|e| e.id > self.baseline && !self.claimed.contains(&e.id))
            .filter(|e| {
                !e.message_id
                    .as_deref()
                    .is_some_and(|m| m.starts_with(&self.run_prefix))
            })
            .collect()
    }

    fn strays_from(&mut self, entries: Vec<AuditSeen>, watch: &mut dyn FnMut(Event<'_>)) {
        for e in self.fresh(entries) {
            self.claimed.insert(e.id);
            let stray = Stray {
                at: e.at.clone(),
                message_id: e.message_id.clone(),
                document_id: e.document_id.clone(),
                outcome: format!(
                    "{}{} (from {})",
                    e.outcome,
                    if e.codes.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", e.codes.join(", "))
                    },
                    e.tls_peer.as_deref().unwrap_or("an unknown TLS client")
                ),
            };
            watch(Event::Stray(&stray));
            self.strays.push(stray);
        }
    }

    /// SUT mode: waits for the vendor's submission for a step, from the step's sender or a
    /// vendor acting for it. Other new submissions are strays.
    async fn wait_for(
        &mut self,
        case: &Case,
        sub: &Submission,
        timeout: Duration,
        watch: &mut dyn FnMut(Event<'_>),
    ) -> Result<Option<AuditSeen>, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let entries = self
                .audit(&case.fixture)
                .await
                .map_err(|e| format!("cannot read the archive's audit log: {e:#}"))?;
            let mut fresh = self.fresh(entries).into_iter();
            let mut others = Vec::new();
            let mut found = None;
            for e in fresh.by_ref() {
                let from_sender = e
                    .tls_peer
                    .as_deref()
                    .is_some_and(|peer| case.fixture.may_connect_for(peer, &sub.sender));
                if from_sender {
                    self.claimed.insert(e.id);
                    found = Some(e);
                    break;
                }
                others.push(e);
            }
            self.strays_from(others, watch);
            if found.is_some() {
                return Ok(found);
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn expected(e: &Expect) -> ExpectedAck {
    ExpectedAck {
        ack: e.ack.clone(),
        codes: e.codes.clone(),
    }
}

/// Compares an acknowledgement with the expectation: the type code, and the detail codes as
/// a set.
fn judge(result: &mut StepResult, expect: &Expect, actual: ActualAck) {
    let want: BTreeSet<&String> = expect.codes.iter().collect();
    let got: BTreeSet<&String> = actual.codes.iter().collect();
    if actual.ack != expect.ack || want != got {
        result.failures.push(format!(
            "expected {}, got {}",
            ack_text(&expect.ack, &expect.codes),
            ack_text(&actual.ack, &actual.codes)
        ));
    }
    result.actual = Some(actual);
}

/// Every register holder with an archivist in the fixture, and the first archivist's token.
fn holders(fixture: &Registry) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for a in fixture.archivists() {
        if !out.iter().any(|(h, _)| h == &a.register_holder) {
            out.push((a.register_holder.clone(), a.token.clone()));
        }
    }
    out
}

fn token_for<'r>(fixture: &'r Registry, holder: &str) -> Option<&'r str> {
    fixture
        .archivists()
        .iter()
        .find(|a| a.register_holder == holder)
        .map(|a| a.token.as_str())
}

fn org(fixture: &Registry, oid: &str) -> Org {
    Org {
        oid: oid.to_owned(),
        name: fixture
            .organisation(oid)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| "Tuntematon organisaatio (TESTIAINEISTO)".to_owned()),
    }
}

/// The message values of a submission, routed the way the submitter chose, then changed by
/// the step's overrides.
fn message_values(
    fixture: &Registry,
    sub: &Submission,
    message_id: String,
    document_id: String,
) -> MessageValues {
    let unit_name = fixture
        .service_unit_owner(&sub.service_unit)
        .and_then(|o| o.service_units.iter().find(|u| u.oid == sub.service_unit))
        .map(|u| u.name.clone())
        .unwrap_or_else(|| "Tuntematon palveluyksikkö (TESTIAINEISTO)".to_owned());
    let (given, family) = fixture
        .person(&sub.client)
        .map(|p| {
            let name = p.name.split(" (").next().unwrap_or(&p.name);
            match name.split_once(' ') {
                Some((g, f)) => (g.to_owned(), f.to_owned()),
                None => (name.to_owned(), "Testi".to_owned()),
            }
        })
        .unwrap_or_else(|| ("Testi".to_owned(), "Henkilö".to_owned()));
    let now = OffsetDateTime::now_utc();
    let provider = org(fixture, &sub.sender);
    let mut values = MessageValues {
        message_id_root: message_id,
        message_id_extension: None,
        creation_time: hl7_timestamp(now),
        sender: sub.sender.clone(),
        service_unit: Org {
            oid: sub.service_unit.clone(),
            name: unit_name,
        },
        client: PersonValues {
            identity_code: sub.client.clone(),
            given,
            family,
        },
        set_id: document_id.clone(),
        document_id,
        version: 1,
        effective_time: hl7_timestamp(sub.effective_time),
        replaces: None,
        narrative: sub.narrative.clone(),
        ..compose::example_values()
    };
    let organiser = sub.organiser.as_deref().map(|o| org(fixture, o));
    let payment = match (sub.payment, organiser) {
        (Payment::PurchasedService, Some(o)) => PaymentType::PurchasedService(o),
        (Payment::ServiceVoucher, Some(o)) => PaymentType::ServiceVoucher(o),
        _ => PaymentType::SelfPaying,
    };
    values.route(&provider, &payment);
    if let Some(c) = &sub.custodian {
        // A custodian override keeps the message self-consistent (organiser = custodian, the
        // usage situation that fits), so the case tests one rule at a time.
        values.custodian = org(fixture, c);
        values.organiser = Some(values.custodian.clone());
        values.usage_situation = if *c == sub.sender {
            UsageSituation::Own
        } else {
            UsageSituation::RegisterUsageRight
        };
    }
    if let Some(o) = &sub.organiser_field {
        values.organiser = o.as_deref().map(|o| org(fixture, o));
    }
    values
}

/// Changes one character of the signed CDA's base64 body, after signing.
fn tamper_body(cda: &[u8]) -> Result<Vec<u8>, String> {
    const MARK: &str = "representation=\"B64\">";
    let text = String::from_utf8_lossy(cda);
    let start = text
        .find(MARK)
        .ok_or("the CDA has no base64 body to change")?
        + MARK.len();
    let mut bytes = cda.to_vec();
    let at = start + 4;
    // Another base64 letter of the same length: the body still decodes, only its digest differs.
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    Ok(bytes)
}

// ----- the archivist's checklist (kantakoe rehearse --serve) ----------------------------------

/// The Finnish label of a checkpoint field, as the archivist view shows it.
fn field_label(field: &str) -> &str {
    match field {
        "register_holder" => "Rekisterinpitäjä",
        "status" => "Tila",
        "version" => "Versio",
        "client" => "Asiakas",
        "service_unit" => "Palveluyksikkö",
        "document_group" => "Asiakirjaryhmä",
        "organiser" => "Palvelunjärjestäjä",
        "hidden_from" => "Ei näy rekisterinpitäjän arkistonhoitajalle",
        other => other,
    }
}

/// The deployment-test checklist of each register holder that has an archivist: every passed
/// step's stored-document checkpoints in that holder's register, with the document to open.
/// Returns (holder, archivist token, checklist) for each holder with something to check.
pub fn checklists(
    cases: &[Case],
    results: &RunResults,
) -> Vec<(String, String, mock_archive::Checklist)> {
    use mock_archive::{Checklist, ChecklistStep, Checkpoint};
    let mut out = Vec::new();
    let Some(first) = cases.first() else {
        return out;
    };
    for (holder, token) in holders(&first.fixture) {
        let mut steps = Vec::new();
        for (case, result) in cases.iter().zip(&results.cases) {
            let outcome = |id: &str| result.steps.iter().find(|s| s.id == id);
            for step in &case.steps {
                if outcome(&step.id).is_none_or(|s| s.outcome != Outcome::Passed) {
                    continue;
                }
                for (n, check) in step.checks.iter().enumerate() {
                    if !check.stored || check.register_holder.as_deref() != Some(holder.as_str()) {
                        continue;
                    }
                    let Some(document_id) =
                        outcome(&check.document).and_then(|s| s.document_id.clone())
                    else {
                        continue;
                    };
                    let id = |field: &str| format!("{}/{}/{n}/{field}", case.id, step.id);
                    let mut checkpoints = vec![Checkpoint {
                        id: id("register_holder"),
                        label: field_label("register_holder").to_owned(),
                        expected: Some(holder.clone()),
                        confirmed: None,
                    }];
                    checkpoints.extend(check.fields.iter().map(|(field, expected)| Checkpoint {
                        id: id(field),
                        label: field_label(field).to_owned(),
                        expected: Some(expected.clone()),
                        confirmed: None,
                    }));
                    checkpoints.extend(check.hidden_from.iter().map(|h| Checkpoint {
                        id: id(&format!("hidden_from/{h}")),
                        label: field_label("hidden_from").to_owned(),
                        expected: Some(h.clone()),
                        confirmed: None,
                    }));
                    steps.push(ChecklistStep {
                        step: if check.document == step.id {
                            step.id.clone()
                        } else {
                            format!("{}/{}", step.id, check.document)
                        },
                        title: step.title.fi.clone(),
                        document_id: Some(document_id),
                        checkpoints,
                    });
                }
            }
        }
        if !steps.is_empty() {
            let checklist = Checklist {
                case: cases
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                title: cases
                    .iter()
                    .map(|c| c.title.fi.as_str())
                    .collect::<Vec<_>>()
                    .join(" / "),
                steps,
            };
            out.push((holder, token, checklist));
        }
    }
    out
}

async fn inspection_connection(setup: &Setup) -> anyhow::Result<Connection> {
    Ok(setup.client(Role::Client)?.connect(&setup.target).await?)
}

/// Puts each register holder's checklist into the archive (`PUT /inspect/checklist`).
pub async fn put_checklists(
    setup: &Setup,
    lists: &[(String, String, mock_archive::Checklist)],
) -> anyhow::Result<()> {
    let mut conn = inspection_connection(setup).await?;
    for (holder, token, list) in lists {
        let reply = conn
            .put_json_as("/inspect/checklist", token, serde_json::to_vec(list)?)
            .await?;
        anyhow::ensure!(
            reply.status == 200,
            "the archive refused the checklist of {holder}: HTTP {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
    }
    Ok(())
}

/// What the archivists confirmed in the view: `None` when nothing was confirmed. `fixture`
/// names the register holders and tells the fixture's archivists from one-time sign-ins.
pub async fn confirmations(
    setup: &Setup,
    fixture: &Registry,
    lists: &[(String, String, mock_archive::Checklist)],
) -> anyhow::Result<Option<crate::results::ArchivistConfirmation>> {
    let mut conn = inspection_connection(setup).await?;
    let (mut confirmed, mut total) = (0, 0);
    let mut by: Vec<String> = Vec::new();
    let mut confirmers: Vec<crate::results::Confirmer> = Vec::new();
    let mut last: Option<OffsetDateTime> = None;
    for (holder, token, _) in lists {
        let reply = conn.get_as("/inspect/checklist", token).await?;
        anyhow::ensure!(
            reply.status == 200,
            "the archive did not give the checklist of {holder}: HTTP {}",
            reply.status
        );
        let list: mock_archive::Checklist = serde_json::from_slice(&reply.body)?;
        for cp in list.steps.iter().flat_map(|s| &s.checkpoints) {
            total += 1;
            if let Some(c) = &cp.confirmed {
                confirmed += 1;
                if !by.contains(&c.by) {
                    by.push(c.by.clone());
                }
                let archivist = fixture
                    .archivists()
                    .iter()
                    .find(|a| &a.register_holder == holder && a.name == c.by)
                    .map(|a| a.name.clone());
                match confirmers
                    .iter_mut()
                    .find(|e| &e.register_holder == holder && e.archivist == archivist)
                {
                    Some(e) => e.confirmed += 1,
                    None => confirmers.push(crate::results::Confirmer {
                        register_holder: holder.clone(),
                        register_holder_name: fixture.organisation(holder).map(|o| o.name.clone()),
                        archivist,
                        confirmed: 1,
                    }),
                }
                last = Some(last.map_or(c.at, |l| l.max(c.at)));
            }
        }
    }
    Ok(last.map(|at| crate::results::ArchivistConfirmation {
        by: by.join(", "),
        at: at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        confirmed,
        total,
        confirmers,
    }))
}
