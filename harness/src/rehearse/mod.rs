//! The rehearsal: replays test cases ([`case`]) against an archive over mutual TLS, judges each
//! acknowledgement, then each archivist checkpoint through the inspection API, and returns
//! [`RunResults`]. In SUT mode the "your system" steps are made by the vendor's own system:
//! the runner shows the instruction, then watches the archive's audit log (through the same
//! inspection API) for the matching submission.
//!
//! Architecture invariant: everything here reaches the archive through [`crate::client`] only.

pub mod case;
mod fault_step;
pub mod output;
pub mod plan;
pub mod record;
pub mod suite;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use kanta_profile::ack::{self, hl7_timestamp};
use kanta_profile::format::codes;
use kanta_profile::orgs::Registry;
use serde_json::Value;
use time::OffsetDateTime;

use crate::client::{ClientError, Connection, Identity, Target, Timeouts, TlsClient};
use crate::compose::{
    self, DocumentTemplate, MessageValues, Org, PaymentType, PersonValues, ReplacementReason,
    Replaces, UsageSituation,
};
use crate::pki::{Pki, Role};
use crate::results::{
    Actor, ActualAck, ArchiveTarget, Attempt, CaseResult, CheckpointResult, ExpectedAck, Mode,
    Outage, Outcome, RESULTS_FORMAT, RunResults, Sender, StepResult, Stray, Summary, ack_text,
};
use crate::signing::SystemSigner;
use case::{
    Action, Case, Check, Expect, Payment, QueryExpect, QuerySpec, Reason, Repository, Step,
    StepActor, Submission, Tamper, Template,
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
    /// How long every request may take at each stage.
    pub timeouts: Timeouts,
    /// SUT mode: where to record your system's judged submissions as a replayable case.
    pub record: Option<std::path::PathBuf>,
    /// The archive's admin token, for steps that break it on purpose (`[step.fault]`).
    pub admin_token: Option<String>,
}

impl Setup {
    /// A TLS client presenting the PKI certificate of `role`, trusting the PKI's CA.
    pub fn client(&self, role: Role) -> Result<TlsClient, ClientError> {
        let files = self.pki.files(role);
        Ok(TlsClient::new(
            &self.pki.ca(),
            Some(&Identity {
                cert: files.cert,
                key: files.key,
            }),
        )?
        .with_timeouts(self.timeouts))
    }
}

/// Checks, before the first step, that the archive can be reached and answers like a Kantakoe
/// mock archive (mutual TLS with the PKI's client certificate, `GET /health` → 200 JSON), so a
/// run never starts against nothing. The error is the one message to show.
pub async fn check_archive(setup: &Setup) -> Result<(), String> {
    let attempt = async {
        let mut conn = setup.client(Role::Client)?.connect(&setup.target).await?;
        conn.get("/health").await
    };
    match attempt.await {
        Ok(reply)
            if reply.status == 200
                && serde_json::from_slice::<Value>(&reply.body)
                    .is_ok_and(|v| v["service"].is_string()) =>
        {
            Ok(())
        }
        Ok(reply) => Err(format!(
            "{} answered GET /health with HTTP {} and {}, not as a Kantakoe mock archive does",
            setup.target,
            reply.status,
            if reply.body.is_empty() {
                "no body".to_owned()
            } else {
                format!(
                    "{:?}",
                    String::from_utf8_lossy(&reply.body[..reply.body.len().min(80)])
                )
            }
        )),
        Err(e) => Err(e.to_string()),
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
    /// SUT mode: still waiting; this much time is left (sent about once a second).
    Countdown {
        /// Time left for the step.
        left: Duration,
    },
    /// SUT mode: your system's submission for the step did not pass; the step waits for a
    /// corrected resend until its time is up.
    Attempt {
        /// The case.
        case: &'a Case,
        /// The step.
        step: &'a Step,
        /// Why it did not pass.
        failure: &'a str,
        /// Time left for a corrected resend.
        left: Duration,
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
    content_type: Option<String>,
    tls: Option<Role>,
    ack_body: Option<Vec<u8>>,
}

/// Why a step could not be judged the way its case says.
#[derive(Debug)]
enum Fail {
    /// The step failed on its own account (e.g. its message could not be built).
    Step(String),
    /// The environment failed: the archive could not be reached, timed out, or broke.
    Env(String),
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fail::Step(why) | Fail::Env(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Fail {}

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
    /// The environment error that stopped the run, if any.
    stopped: Option<String>,
    /// SUT mode: your system's judged submissions, for `--record`.
    recorded: Vec<record::Recorded>,
    /// Service breaks met during the current step (`503` + `Retry-After`, waited out).
    outages: Vec<Outage>,
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
        stopped: None,
        recorded: Vec::new(),
        outages: Vec::new(),
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
    if setup.mode == Mode::Sut && runner.stopped.is_none() {
        // Whatever arrived during the run and no step claimed is a stray.
        for case in cases {
            match runner.audit(&case.fixture).await {
                Ok(entries) => runner.strays_from(entries, None, watch).await,
                Err(Fail::Env(e) | Fail::Step(e)) => {
                    runner.stopped = Some(format!("cannot read the archive's audit log: {e}"));
                }
            }
        }
    }
    if let Some(dir) = &setup.record {
        record::write(dir, cases, &runner.recorded, &setup.pki)?;
    }
    let summary = Summary::of(&results);
    Ok(RunResults {
        schema_version: RESULTS_FORMAT,
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
        stopped: runner.stopped,
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
            let mut result = match &self.stopped {
                // After an environment error nothing more is sent: one clear error, not a
                // cascade of failures that are not the vendor's.
                Some(why) => {
                    let mut r = self.blank(step);
                    r.outcome = Outcome::Skipped;
                    r.failures
                        .push(format!("not run: the run stopped at {why}"));
                    r
                }
                None => self.run_step(case, step, &mut records, watch).await,
            };
            if result.outcome == Outcome::Error && self.stopped.is_none() {
                self.stopped = Some(format!(
                    "{} / {}: {}",
                    case.id,
                    step.id,
                    result.failures.join("; ")
                ));
            }
            result.duration_ms = started.elapsed().as_millis() as u64;
            result.outages = std::mem::take(&mut self.outages);
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

    /// A step's result before anything happened.
    fn blank(&self, step: &Step) -> StepResult {
        let sut = self.setup.mode == Mode::Sut;
        StepResult {
            id: step.id.clone(),
            title_fi: step.title.fi.clone(),
            title_sv: step.title.sv.clone(),
            actor: match step.actor {
                StepActor::Reference => Actor::Reference,
                StepActor::YourSystem => Actor::YourSystem,
            },
            sent_by: match (step.actor, sut) {
                (StepActor::Reference, _) => Sender::ReferenceClient,
                (StepActor::YourSystem, false) => Sender::ReferenceStandingIn,
                (StepActor::YourSystem, true) => Sender::YourSystem,
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
            attempts: vec![],
            outages: vec![],
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
        let mut result = self.blank(step);
        // A step that refers to an earlier step's document needs that document.
        let depends: Vec<&str> = match &step.action {
            Action::Submit { submission, .. } => {
                submission.replaces.iter().map(String::as_str).collect()
            }
            Action::Resend { of, .. } => vec![of.as_str()],
            Action::Query { query, expect } => query
                .document
                .iter()
                .chain(expect.documents.iter().flatten())
                .map(String::as_str)
                .collect(),
            Action::Connect { .. }
            | Action::EndUsageRight { .. }
            | Action::Inspect
            | Action::Replay { .. }
            | Action::Fault { .. } => vec![],
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
        if let Err(fail) = self.act(case, step, sut, records, &mut result, watch).await {
            fail_step(&mut result, fail);
            return result;
        }
        if result.outcome == Outcome::TimedOut {
            return result;
        }
        for check in &step.checks {
            let doc = records
                .get(&check.document)
                .and_then(|r| r.document_id.clone())
                .unwrap_or_default();
            if check.document == step.id {
                result.register_holder = check.register_holder.clone().filter(|_| check.stored);
            }
            if let Err(fail) = self.checkpoint(case, check, &doc, &mut result).await {
                fail_step(&mut result, fail);
                return result;
            }
        }
        if !result.failures.is_empty() && result.outcome == Outcome::Passed {
            result.outcome = Outcome::Failed;
        }
        result
    }

    /// What the step does, up to its answer.
    async fn act(
        &mut self,
        case: &Case,
        step: &Step,
        sut: bool,
        records: &mut HashMap<String, Record>,
        result: &mut StepResult,
        watch: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), Fail> {
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
                let (ack, codes) = self.connect(*tls).await?;
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
                let (latest, attempts) = self
                    .wait_for(case, step, submission, expect, records, timeout, watch)
                    .await?;
                result.attempts = attempts;
                let Some(seen) = latest else {
                    result.outcome = Outcome::TimedOut;
                    result.failures.push(format!(
                        "timed out: no submission from your system for this step arrived within {} s",
                        timeout.as_secs()
                    ));
                    return Ok(());
                };
                let entry = &seen.entry;
                let mut record = Record {
                    document_id: entry.document_id.clone(),
                    message: seen.request.as_ref().map(|r| r.body.clone()),
                    content_type: seen
                        .request
                        .as_ref()
                        .and_then(|r| r.content_type)
                        .map(str::to_owned),
                    tls: entry
                        .tls_peer
                        .as_deref()
                        .and_then(|p| role_of(&self.setup.pki, p)),
                    ..Record::default()
                };
                if let Some(id) = &entry.document_id
                    && let Some(token) = token_for(&case.fixture, &entry.holder)
                    && let Some(doc) = self.document(id, token).await?
                {
                    record.set_id = doc["set_id"].as_str().map(str::to_owned);
                    record.version = doc["version"].as_u64().map(|v| v as u32);
                }
                judge(
                    result,
                    expect,
                    ActualAck {
                        ack: entry.outcome.clone(),
                        codes: entry.codes.clone(),
                        message_id: entry.message_id.clone(),
                    },
                );
                if let Some(request) = &seen.request {
                    self.recorded.push(record::Recorded {
                        case: case.id.clone(),
                        step: step.id.clone(),
                        title: step.title.clone(),
                        content_type: request.content_type.unwrap_or("text/xml").to_owned(),
                        tls: record.tls.unwrap_or(Role::Client),
                        body: request.body.clone(),
                        expect: expect.clone(),
                        actual: result.actual.clone(),
                    });
                }
                result.document_id = entry.document_id.clone();
                records.insert(step.id.clone(), record);
            }
            Action::Submit { submission, expect } => {
                result.expected = expected(expect);
                let (record, actual) = self.submit(case, submission, records).await?;
                result.document_id = record.document_id.clone();
                judge(result, expect, actual);
                records.insert(step.id.clone(), record);
            }
            Action::Replay {
                message,
                content_type,
                tls,
                expect,
                ..
            } => {
                result.expected = expected(expect);
                let (body, actual) = self.post(*tls, content_type, message.clone()).await?;
                let (read, _) = kanta_profile::format::read_message(message, &Default::default());
                let doc = read.as_ref().map(|m| &m.document);
                let record = Record {
                    document_id: doc.and_then(|d| d.id.as_ref()).map(|i| i.root.clone()),
                    set_id: doc.and_then(|d| d.set_id.as_ref()).map(|i| i.root.clone()),
                    version: doc.and_then(|d| d.version_number),
                    message: Some(message.clone()),
                    content_type: None,
                    tls: Some(*tls),
                    ack_body: Some(body),
                };
                result.document_id = record.document_id.clone();
                judge(result, expect, actual);
                records.insert(step.id.clone(), record);
            }
            Action::Inspect => {}
            Action::Query { query, expect } => {
                self.query_step(case, query, expect, records, result)
                    .await?;
            }
            Action::EndUsageRight {
                organiser,
                producer,
            } => {
                self.end_usage_right(case, organiser, producer, result)
                    .await?;
            }
            Action::Fault { submission, plan } => {
                self.fault_step(case, step, sut, submission, plan, result, watch)
                    .await?;
            }
            Action::Resend { of, expect } => {
                result.expected = expected(expect);
                let earlier = records.get(of).cloned().unwrap_or_default();
                let Some(message) = &earlier.message else {
                    return Err(Fail::Step(format!(
                        "the archive no longer keeps the message of step {of}, so the harness has nothing to resend"
                    )));
                };
                let tls = earlier.tls.unwrap_or(Role::Client);
                let content_type = earlier
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "text/xml".to_owned());
                let (body, actual) = self.post(tls, &content_type, message.clone()).await?;
                if earlier.ack_body.as_ref().is_some_and(|b| *b != body) {
                    result.failures.push(format!(
                        "the resend of step {of}'s message was answered differently from the first sending"
                    ));
                }
                result.document_id = earlier.document_id.clone();
                judge(result, expect, actual);
            }
        }
        Ok(())
    }

    /// A `[step.query]`: asks, and judges the answer's type, codes and documents.
    async fn query_step(
        &mut self,
        case: &Case,
        spec: &QuerySpec,
        expect: &QueryExpect,
        records: &HashMap<String, Record>,
        result: &mut StepResult,
    ) -> Result<(), Fail> {
        use kanta_profile::format::query::{self, QueryFilter, QueryRequest, QueryResults};
        use kanta_profile::format::{InstanceId, Limits};
        let _ = case;
        result.expected = expected(&expect.ack);
        let doc_of = |step: &str| records.get(step).and_then(|r| r.document_id.clone());
        let (message_id, query_id) = self.next_ids();
        let request = QueryRequest {
            kind: spec.kind,
            id: InstanceId::root(message_id),
            creation_time: query::timestamp(OffsetDateTime::now_utc()),
            processing_code: "T".to_owned(),
            receiver: Some(InstanceId::root(codes::KANTA_RECEIVER.value)),
            sender: InstanceId::root(spec.sender.clone()),
            query_id: InstanceId::root(query_id),
            register_holder: spec.register_holder.clone(),
            client: spec.client.clone(),
            document_id: spec.document.as_deref().and_then(doc_of),
            filter: QueryFilter {
                document_group: spec.document_group.clone(),
                service_task: spec.service_task.clone(),
                from: None,
                until: None,
                status: spec.status,
            },
            limit: None,
        };
        result.register_holder = Some(spec.register_holder.clone());
        result.document_id = request.document_id.clone();
        let wrapping = spec.wrapping.wrapping();
        let body =
            mock_archive::pipeline::wrap(wrapping, query::write_request(&request).as_bytes());
        let path = self.setup.message_path.clone();
        let reply = match self.connection(spec.tls).await {
            Ok(conn) => conn.post(&path, wrapping.content_type(), body).await,
            Err(e) => Err(e),
        };
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                self.connections.remove(&spec.tls);
                if e.is_tls_refusal() {
                    judge(
                        result,
                        &expect.ack,
                        ActualAck {
                            ack: "refused".to_owned(),
                            codes: vec![e.to_string()],
                            message_id: None,
                        },
                    );
                    return Ok(());
                }
                return Err(Fail::Env(format!("the query got no answer: {e}")));
            }
        };
        if reply.status >= 500 {
            return Err(Fail::Env(format!(
                "the archive failed with HTTP {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body[..reply.body.len().min(200)])
            )));
        }
        if reply.status != 200 {
            judge(
                result,
                &expect.ack,
                ActualAck {
                    ack: format!("HTTP {}", reply.status),
                    codes: vec![],
                    message_id: None,
                },
            );
            return Ok(());
        }
        let response = query::read_response(&reply.body, &Limits::default())
            .map_err(|e| Fail::Env(format!("the archive's answer is not a query response: {e}")))?;
        judge(
            result,
            &expect.ack,
            ActualAck {
                ack: response.type_code.as_str().to_owned(),
                codes: response.details.iter().map(|d| d.code.clone()).collect(),
                message_id: response.target_message.as_ref().map(|t| t.root.clone()),
            },
        );
        if let Some(steps) = &expect.documents {
            let want: BTreeSet<String> = steps.iter().filter_map(|s| doc_of(s)).collect();
            let got: BTreeSet<String> = match &response.results {
                QueryResults::Documents(v) => v.iter().map(|d| d.document_id.clone()).collect(),
                _ => BTreeSet::new(),
            };
            if want != got {
                let name = |ids: &BTreeSet<String>| -> String {
                    if ids.is_empty() {
                        return "none".to_owned();
                    }
                    ids.iter()
                        .map(|id| {
                            steps
                                .iter()
                                .find(|s| doc_of(s).as_deref() == Some(id.as_str()))
                                .map_or_else(|| format!("document {id}"), |s| format!("step {s}"))
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                result.failures.push(format!(
                    "expected the documents of {}, got {}",
                    name(&want),
                    name(&got)
                ));
            }
            // A document query returns the stored CDA byte for byte: the one the step sent.
            if let QueryResults::Documents(v) = &response.results
                && spec.kind == kanta_profile::format::query::QueryKind::Document
            {
                for entry in v {
                    let sent = steps
                        .iter()
                        .find(|s| doc_of(s).as_deref() == Some(entry.document_id.as_str()))
                        .and_then(|s| records.get(s))
                        .and_then(|r| r.message.as_deref());
                    if let (Some(sent), Some(cda)) = (sent, &entry.content)
                        && !carries(sent, cda)
                    {
                        result.failures.push(format!(
                            "the archive returned document {} with other bytes than were stored",
                            entry.document_id
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// A `[step.admin]` ending a usage right: the organiser's archivist ends it yesterday, so
    /// from today on the producer neither stores nor reads.
    async fn end_usage_right(
        &mut self,
        case: &Case,
        organiser: &str,
        producer: &str,
        result: &mut StepResult,
    ) -> Result<(), Fail> {
        result.expected = ExpectedAck {
            ack: "ended".to_owned(),
            codes: vec![],
        };
        result.register_holder = Some(organiser.to_owned());
        let Some(token) = token_for(&case.fixture, organiser).map(str::to_owned) else {
            return Err(Fail::Step(format!(
                "the fixture has no archivist for {organiser}"
            )));
        };
        let yesterday = OffsetDateTime::now_utc().date() - time::Duration::days(1);
        let body = serde_json::json!({ "last_day": yesterday.to_string() }).to_string();
        let path = format!(
            "{}{producer}/end",
            mock_archive::inspect::USAGE_RIGHTS_PREFIX
        );
        let reply = match self.connection(Role::Client).await {
            Ok(conn) => {
                conn.send_as("POST", &path, "application/json", &token, body)
                    .await
            }
            Err(e) => Err(e),
        }
        .map_err(|e| {
            self.connections.remove(&Role::Client);
            Fail::Env(format!("the archive's inspection API did not answer: {e}"))
        })?;
        let ack = if reply.status == 200 {
            "ended".to_owned()
        } else {
            format!("HTTP {}", reply.status)
        };
        if reply.status != 200 {
            result.failures.push(format!(
                "the archive did not end the usage right of {producer} in the register of {organiser}: HTTP {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
        result.actual = Some(ActualAck {
            ack,
            codes: vec![],
            message_id: None,
        });
        Ok(())
    }

    async fn connection(&mut self, role: Role) -> Result<&mut Connection, ClientError> {
        if !self.connections.contains_key(&role) {
            let conn = self.setup.client(role)?.connect(&self.setup.target).await?;
            self.connections.insert(role, conn);
        }
        Ok(self.connections.get_mut(&role).expect("inserted above"))
    }

    /// `GET path` on the inspection API as an archivist; a failed connection is dropped, so the
    /// next request starts afresh.
    async fn inspect_get(&mut self, path: &str, token: &str) -> Result<crate::client::Reply, Fail> {
        let reply = match self.connection(Role::Client).await {
            Ok(conn) => conn.get_as(path, token).await,
            Err(e) => Err(e),
        };
        reply.map_err(|e| {
            self.connections.remove(&Role::Client);
            Fail::Env(format!("the archive's inspection API did not answer: {e}"))
        })
    }

    /// The connection test of one certificate: a handshake and `GET /health`. Unlike
    /// `kantakoe preflight`, nothing is judged locally (e.g. an expired certificate is still
    /// presented), so the step shows what the archive does. "refused" only when the archive
    /// itself refused with a TLS alert; a network failure is an environment error.
    async fn connect(&mut self, role: Role) -> Result<(String, Vec<String>), Fail> {
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
                Ok(("connected".to_owned(), org.into_iter().collect()))
            }
            Ok(reply) => Err(Fail::Env(format!(
                "the archive answered GET /health with HTTP {}",
                reply.status
            ))),
            Err(e) if e.is_tls_refusal() => Ok(("refused".to_owned(), vec![e.to_string()])),
            Err(e) => Err(Fail::Env(e.to_string())),
        }
    }

    /// Posts a message; the answer's body and what it says.
    async fn post(
        &mut self,
        role: Role,
        content_type: &str,
        message: Vec<u8>,
    ) -> Result<(Vec<u8>, ActualAck), Fail> {
        let path = self.setup.message_path.clone();
        let mut waited = Duration::ZERO;
        let reply = loop {
            let reply = match self.connection(role).await {
                Ok(conn) => conn.post(&path, content_type, message.clone()).await,
                Err(e) => Err(e),
            };
            // A service break: wait as the archive asks, then send the same message again,
            // within a bounded total wait.
            if let Ok(r) = &reply
                && let Some(wait) = polite_wait(r.status, r.retry_after, waited)
            {
                self.outages.push(Outage {
                    at: now_rfc3339(),
                    answer: format!("HTTP {}", r.status),
                    retry_after: r.retry_after.unwrap_or_default(),
                    waited_ms: wait.as_millis() as u64,
                });
                tokio::time::sleep(wait).await;
                waited += wait;
                continue;
            }
            break reply;
        };
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                // A broken connection is not reused.
                self.connections.remove(&role);
                if e.is_tls_refusal() {
                    // The archive refused the certificate: its verdict, judged like an answer.
                    return Ok((
                        Vec::new(),
                        ActualAck {
                            ack: "refused".to_owned(),
                            codes: vec![e.to_string()],
                            message_id: None,
                        },
                    ));
                }
                return Err(Fail::Env(format!("the message got no answer: {e}")));
            }
        };
        let body = reply.body.to_vec();
        if reply.status >= 500 {
            return Err(Fail::Env(format!(
                "the archive failed with HTTP {}: {}",
                reply.status,
                String::from_utf8_lossy(&body[..body.len().min(200)])
            )));
        }
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
            Err(e) => Err(Fail::Env(format!(
                "the archive's answer is not an acknowledgement: {e}"
            ))),
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
    ) -> Result<(Record, ActualAck), Fail> {
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
        let template = template_of(sub.template);
        let wrapping = sub.wrapping.wrapping();
        let signer = self.signer(sub.signer).map_err(Fail::Step)?;
        let built = compose::build_message(&template, &values, wrapping, Some(signer))
            .map_err(|e| Fail::Step(format!("cannot build the message: {e:#}")))?;
        let mut message = built.message;
        if sub.tamper == Some(Tamper::BodyAfterSigning) {
            let cda = tamper_body(&built.cda).map_err(Fail::Step)?;
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
                content_type: Some(content_type.to_owned()),
                tls: Some(sub.tls),
                ack_body: Some(body),
            },
            actual,
        ))
    }

    async fn document(&mut self, id: &str, token: &str) -> Result<Option<Value>, Fail> {
        let reply = self
            .inspect_get(&format!("/inspect/documents/{id}"), token)
            .await?;
        match reply.status {
            200 => {
                let json: Value = serde_json::from_slice(&reply.body).map_err(|e| {
                    Fail::Env(format!("the inspection API answered with bad JSON: {e}"))
                })?;
                Ok(Some(json["document"].clone()))
            }
            404 => Ok(None),
            other => Err(Fail::Env(format!(
                "the inspection API answered HTTP {other}: {}",
                String::from_utf8_lossy(&reply.body)
            ))),
        }
    }

    async fn checkpoint(
        &mut self,
        case: &Case,
        check: &Check,
        doc: &str,
        result: &mut StepResult,
    ) -> Result<(), Fail> {
        if !check.stored {
            let holders: Vec<(String, String)> = holders(&case.fixture);
            let mut found = Vec::new();
            for (holder, token) in holders {
                if self.document(doc, &token).await?.is_some() {
                    found.push(holder);
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
            return Ok(());
        }
        let holder = check.register_holder.clone().unwrap_or_default();
        let Some(token) = token_for(&case.fixture, &holder) else {
            result.failures.push(format!(
                "no archivist in the fixture for the register of {holder}"
            ));
            return Ok(());
        };
        let token = token.to_owned();
        let found = self.document(doc, &token).await?;
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
            return Ok(());
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
            let seen = self.document(doc, &token).await?.is_some();
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
        Ok(())
    }

    /// The audit log entries of every register holder the fixture's archivists can see.
    async fn audit(&mut self, fixture: &Registry) -> Result<Vec<AuditSeen>, Fail> {
        let mut out = Vec::new();
        for (holder, token) in holders(fixture) {
            let reply = self.inspect_get("/inspect/audit", &token).await?;
            if reply.status != 200 {
                return Err(Fail::Env(format!(
                    "the archive's inspection API answered HTTP {} for the audit log of {holder}",
                    reply.status
                )));
            }
            let json: Value = serde_json::from_slice(&reply.body).map_err(|e| {
                Fail::Env(format!("the inspection API answered with bad JSON: {e}"))
            })?;
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

    /// The request of an audit entry as the archive received it, while the archive keeps it.
    async fn request_of(&mut self, entry: &AuditSeen, fixture: &Registry) -> Option<Kept> {
        use base64::Engine as _;
        let token = token_for(fixture, &entry.holder)?.to_owned();
        let reply = self
            .inspect_get(&format!("/inspect/audit/{}/request", entry.id), &token)
            .await
            .ok()?;
        if reply.status != 200 {
            return None;
        }
        let json: Value = serde_json::from_slice(&reply.body).ok()?;
        let body = base64::engine::general_purpose::STANDARD
            .decode(json["body_base64"].as_str()?)
            .ok()?;
        Some(Kept {
            content_type: json["content_type"].as_str().and_then(known_content_type),
            body,
        })
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

    /// Reports `entries` as strays, each with why it matched no step (`reason`, or that no
    /// step was waiting).
    async fn strays_from(
        &mut self,
        entries: Vec<AuditSeen>,
        reason: Option<&str>,
        watch: &mut dyn FnMut(Event<'_>),
    ) {
        for e in self.fresh(entries) {
            self.claimed.insert(e.id);
            self.stray(
                &e,
                reason
                    .unwrap_or("it arrived when no step of your system was waiting")
                    .to_owned(),
                watch,
            );
        }
    }

    fn stray(&mut self, e: &AuditSeen, reason: String, watch: &mut dyn FnMut(Event<'_>)) {
        let stray = Stray {
            at: e.at.clone(),
            message_id: e.message_id.clone(),
            document_id: e.document_id.clone(),
            outcome: format!(
                "{} (from {})",
                ack_text(&e.outcome, &e.codes),
                e.tls_peer.as_deref().unwrap_or("an unknown TLS client")
            ),
            reason,
        };
        watch(Event::Stray(&stray));
        self.strays.push(stray);
    }

    /// SUT mode: waits for your system's submission for a step. A new submission is the step's
    /// when it comes from the step's sender (or a vendor acting for it) and is what the step
    /// asks for (client, document group, the replaced document); anything else is a stray,
    /// reported at once with why. A submission that does not pass is kept as an attempt and
    /// the step waits on for a corrected resend until its time is up; the latest one counts.
    #[allow(clippy::too_many_arguments)]
    async fn wait_for(
        &mut self,
        case: &Case,
        step: &Step,
        sub: &Submission,
        expect: &Expect,
        records: &HashMap<String, Record>,
        timeout: Duration,
        watch: &mut dyn FnMut(Event<'_>),
    ) -> Result<(Option<Seen>, Vec<Attempt>), Fail> {
        let deadline = Instant::now() + timeout;
        let want = Wanted::of(sub, records);
        let mut latest: Option<Seen> = None;
        let mut attempts = Vec::new();
        let mut last_tick = None;
        loop {
            let entries = self.audit(&case.fixture).await?;
            for e in self.fresh(entries) {
                self.claimed.insert(e.id);
                let request = self.request_of(&e, &case.fixture).await;
                if let Err(reason) = want.matches(&e, request.as_ref(), &case.fixture, &step.id) {
                    // A refused document is not stored, so the audit log names none: take its
                    // id from the message itself.
                    let mut e = e;
                    if e.document_id.is_none()
                        && let Some(kept) = &request
                        && let (Some(m), _) =
                            kanta_profile::format::read_message(&kept.body, &Default::default())
                    {
                        e.document_id = m.document.id.map(|i| i.root);
                    }
                    self.stray(&e, reason, watch);
                    continue;
                }
                if let Some(prev) = latest.take() {
                    attempts.push(prev.attempt(expect));
                }
                let seen = Seen { entry: e, request };
                let failure = seen.failure(expect);
                latest = Some(seen);
                match failure {
                    None => return Ok((latest, attempts)),
                    Some(why) => watch(Event::Attempt {
                        case,
                        step,
                        failure: &why,
                        left: deadline.saturating_duration_since(Instant::now()),
                    }),
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok((latest, attempts));
            }
            let whole = left.as_secs();
            if last_tick != Some(whole) {
                last_tick = Some(whole);
                watch(Event::Countdown { left });
            }
            tokio::time::sleep(Duration::from_millis(100).min(left)).await;
        }
    }
}

/// A request body the archive kept, as the inspection API gives it back.
#[derive(Debug, Clone)]
struct Kept {
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

/// The content types the archive accepts, as `'static` names (from [`compose::content_type`]).
fn known_content_type(ct: &str) -> Option<&'static str> {
    let base = ct.split(';').next().unwrap_or(ct).trim();
    [
        kanta_profile::format::Wrapping::Soap11,
        kanta_profile::format::Wrapping::Soap12,
        kanta_profile::format::Wrapping::Bare,
    ]
    .into_iter()
    .map(compose::content_type)
    // Compare media types only: ours carry `; charset=utf-8`.
    .find(|known| {
        known
            .split(';')
            .next()
            .unwrap_or(known)
            .trim()
            .eq_ignore_ascii_case(base)
    })
}

/// A submission of your system, with its request when the archive still had it.
#[derive(Debug, Clone)]
struct Seen {
    entry: AuditSeen,
    request: Option<Kept>,
}

impl Seen {
    fn actual(&self) -> ActualAck {
        ActualAck {
            ack: self.entry.outcome.clone(),
            codes: self.entry.codes.clone(),
            message_id: self.entry.message_id.clone(),
        }
    }

    /// Why the answer is not the expected one; `None` when it is.
    fn failure(&self, expect: &Expect) -> Option<String> {
        let mut probe = StepResult {
            failures: Vec::new(),
            ..blank_result()
        };
        judge(&mut probe, expect, self.actual());
        probe.failures.into_iter().next()
    }

    fn attempt(&self, expect: &Expect) -> Attempt {
        Attempt {
            at: self.entry.at.clone(),
            actual: self.actual(),
            failure: self
                .failure(expect)
                .unwrap_or_else(|| "superseded by a later submission".to_owned()),
        }
    }
}

fn blank_result() -> StepResult {
    StepResult {
        id: String::new(),
        title_fi: String::new(),
        title_sv: String::new(),
        actor: Actor::YourSystem,
        sent_by: Sender::YourSystem,
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
        attempts: vec![],
        outages: vec![],
    }
}

/// The archive's fault API (admin token), for `[step.fault]`.
const FAULTS_PATH: &str = mock_archive::fault::PATH;

/// The most the reference client waits out service breaks for one message, in all.
pub const MAX_OUTAGE_WAIT: Duration = Duration::from_secs(120);

/// How long to wait before sending a message again after this answer: `Retry-After` of a
/// `503` (at least 100 ms, so `Retry-After: 0` never spins), while the waits stay within
/// [`MAX_OUTAGE_WAIT`]; `None`: the answer stands.
fn polite_wait(status: u16, retry_after: Option<u64>, waited: Duration) -> Option<Duration> {
    let secs = retry_after.filter(|_| status == 503)?;
    let wait = Duration::from_secs(secs).max(Duration::from_millis(100));
    (waited + wait <= MAX_OUTAGE_WAIT).then_some(wait)
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// What a "your system" step asks for, to tell its submission from others.
struct Wanted<'a> {
    sender: &'a str,
    client: &'a str,
    document_group: &'static str,
    /// `Some(parent document id)` for a replacement; `None` for a new document.
    replaces: Option<(String, &'a str)>,
}

impl<'a> Wanted<'a> {
    fn of(sub: &'a Submission, records: &HashMap<String, Record>) -> Self {
        Self {
            sender: &sub.sender,
            client: &sub.client,
            document_group: template_of(sub.template).document_group.code,
            replaces: sub.replaces.as_deref().map(|parent| {
                (
                    records
                        .get(parent)
                        .and_then(|r| r.document_id.clone())
                        .unwrap_or_default(),
                    parent,
                )
            }),
        }
    }

    /// `Ok` when the submission is this step's; else why not, in one sentence.
    fn matches(
        &self,
        e: &AuditSeen,
        request: Option<&Kept>,
        fixture: &Registry,
        step: &str,
    ) -> Result<(), String> {
        let mut why = Vec::new();
        let peer = e.tls_peer.as_deref().unwrap_or("an unknown TLS client");
        if !e
            .tls_peer
            .as_deref()
            .is_some_and(|p| fixture.may_connect_for(p, self.sender))
        {
            why.push(format!(
                "it came with the TLS certificate of {peer}, which may not send for {}",
                self.sender
            ));
        }
        if let Some(kept) = request {
            let (message, _) = kanta_profile::format::read_message(&kept.body, &Default::default());
            match message {
                None => why.push("it is not a readable message".to_owned()),
                Some(m) => {
                    let client = m
                        .document
                        .record_target
                        .as_ref()
                        .and_then(|p| p.id.as_ref())
                        .and_then(|i| i.extension.clone());
                    if client.as_deref() != Some(self.client) {
                        why.push(format!(
                            "it is about client {}, not {}",
                            client.as_deref().unwrap_or("(none)"),
                            self.client
                        ));
                    }
                    let group = m
                        .cda
                        .as_ref()
                        .and_then(|c| c.header.as_ref())
                        .and_then(|h| h.document_group.as_ref())
                        .map(|c| c.code.clone());
                    if group.as_deref() != Some(self.document_group) {
                        why.push(format!(
                            "its document group is {}, not {}",
                            group.as_deref().unwrap_or("(none)"),
                            self.document_group
                        ));
                    }
                    let parent = m
                        .document
                        .replaces
                        .as_ref()
                        .and_then(|p| p.id.as_ref())
                        .map(|i| i.root.clone());
                    match (&self.replaces, parent) {
                        (None, Some(p)) => why.push(format!(
                            "it replaces document {p}, but the step stores a new document"
                        )),
                        (Some((want, of)), None) => why.push(format!(
                            "it is a new document, but the step replaces step {of}'s document {want}"
                        )),
                        (Some((want, of)), Some(p)) if p != *want => why.push(format!(
                            "it replaces document {p}, but the step replaces step {of}'s document {want}"
                        )),
                        _ => {}
                    }
                }
            }
        }
        if why.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "not what step {step} waits for: {}",
                why.join("; ")
            ))
        }
    }
}

/// The PKI role whose TLS certificate names organisation `oid` (the provider's or the
/// vendor's first).
fn role_of(pki: &Pki, oid: &str) -> Option<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| !matches!(r, Role::Ca | Role::Server))
        .find(|role| {
            crate::client::read_certs(&pki.files(*role).cert, "certificate")
                .ok()
                .and_then(|certs| kanta_profile::cert::CertInfo::from_der(&certs[0]).ok())
                .is_some_and(|info| info.organisation_oid.as_deref() == Some(oid))
        })
}

pub(crate) fn template_of(t: Template) -> DocumentTemplate {
    match t {
        Template::ClientRelationship => DocumentTemplate::client_relationship(),
        Template::ServiceTask => DocumentTemplate::service_task_document(),
    }
}

/// Marks a step failed by `fail`: an environment error, or a failure of its own.
fn fail_step(result: &mut StepResult, fail: Fail) {
    match fail {
        Fail::Env(why) => {
            result.outcome = Outcome::Error;
            result.failures.push(why);
        }
        Fail::Step(why) => {
            result.outcome = Outcome::Failed;
            result.failures.push(why);
        }
    }
}

/// Whether the sent `message` carries `cda` byte for byte: the CDA travels base64-encoded
/// (possibly line-wrapped) in the message's MIME part.
fn carries(message: &[u8], cda: &[u8]) -> bool {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(cda);
    let compact: Vec<u8> = message
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    !cda.is_empty()
        && compact
            .windows(encoded.len())
            .any(|w| w == encoded.as_bytes())
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
pub(crate) fn message_values(
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
        (Payment::OwnClient, _) => PaymentType::OwnClient,
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
                        field: Some("register_holder".to_owned()),
                        expected: Some(holder.clone()),
                        confirmed: None,
                    }];
                    checkpoints.extend(check.fields.iter().map(|(field, expected)| Checkpoint {
                        id: id(field),
                        label: field_label(field).to_owned(),
                        field: Some(field.clone()),
                        expected: Some(expected.clone()),
                        confirmed: None,
                    }));
                    checkpoints.extend(check.hidden_from.iter().map(|h| Checkpoint {
                        id: id(&format!("hidden_from/{h}")),
                        label: field_label("hidden_from").to_owned(),
                        field: Some("hidden_from".to_owned()),
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
                        title_sv: Some(step.title.sv.clone()),
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
                title_sv: Some(
                    cases
                        .iter()
                        .map(|c| c.title.sv.as_str())
                        .collect::<Vec<_>>()
                        .join(" / "),
                ),
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
            .send_as(
                "PUT",
                "/inspect/checklist",
                "application/json",
                token,
                serde_json::to_vec(list)?,
            )
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
