//! The results of one rehearsal: what `kantakoe rehearse` writes to `out/results.json`, and
//! what `kantakoe report --results` reads back. This file's shape is a contract between the
//! rehearsal, the report and users' CI scripts: add fields with `#[serde(default)]`, never
//! rename one.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// The version of this file's shape, written as `schema_version` (and, for readers of the first
/// version, as `format`). 2 added the sender of each step, environment errors, attempts and
/// stray reasons.
pub const RESULTS_FORMAT: u32 = 2;

/// One whole rehearsal run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResults {
    /// [`RESULTS_FORMAT`].
    #[serde(default)]
    pub schema_version: u32,
    /// [`RESULTS_FORMAT`], under its first name.
    pub format: u32,
    /// The tool and its version, e.g. `kantakoe 0.1.0`.
    pub tool: String,
    /// When the run started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When the run ended.
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// The test date (local date of `started_at`), which the report and its due date use.
    pub test_date: Date,
    /// Which archive the steps ran against.
    pub archive: ArchiveTarget,
    /// Who made the "your system" steps' submissions.
    pub mode: Mode,
    /// The cases, in the order they ran.
    pub cases: Vec<CaseResult>,
    /// Counts over every step of every case.
    pub summary: Summary,
    /// Submissions that arrived in SUT mode and matched no step.
    #[serde(default)]
    pub strays: Vec<Stray>,
    /// Why the run stopped early, when the archive could no longer be used (an environment
    /// error: the steps after it were not run).
    #[serde(default)]
    pub stopped: Option<String>,
    /// The archivist's own confirmation of the checkpoints in the archivist view's checklist
    /// (`kantakoe rehearse --serve`); `None` when nobody confirmed in the view, in which case
    /// the checkpoints were only checked automatically through the inspection API.
    #[serde(default)]
    pub confirmation: Option<ArchivistConfirmation>,
}

impl RunResults {
    /// Whether every step of every case passed and no stray submission arrived.
    pub fn all_passed(&self) -> bool {
        self.summary.passed == self.summary.steps && self.strays.is_empty()
    }

    /// Whether the environment failed (the archive could not be reached or broke): the exit
    /// code is then 2, not 1.
    pub fn environment_failed(&self) -> bool {
        self.summary.errors > 0 || self.stopped.is_some()
    }
}

/// An acknowledgement as people read it: `AE [R2-NOT-ORGANISER, …]`, just `AA` without codes,
/// `—` for a step that expects none.
pub fn ack_text(ack: &str, codes: &[String]) -> String {
    if ack.is_empty() {
        "—".to_owned()
    } else if codes.is_empty() {
        ack.to_owned()
    } else {
        format!("{ack} [{}]", codes.join(", "))
    }
}

/// The archive a run talked to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveTarget {
    /// Its message URL (the port of an embedded archive varies from run to run).
    pub url: String,
    /// Whether the harness started it in-process for this run.
    pub embedded: bool,
}

/// Who acts in the "your system" steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The harness does every step itself, as the reference client.
    Reference,
    /// The vendor's system under test makes the "your system" steps' submissions.
    Sut,
}

impl Mode {
    /// One sentence for the top of the results table and JUnit's properties.
    pub fn describe(self) -> &'static str {
        match self {
            Mode::Reference => {
                "reference: no system of yours took part; the harness's reference client made every step, standing in for your system in the \"your system\" steps"
            }
            Mode::Sut => {
                "SUT: your system made the \"your system\" steps; the harness's reference client made the others"
            }
        }
    }

    /// The word used in JUnit and `results.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Reference => "reference",
            Mode::Sut => "sut",
        }
    }
}

/// Who actually sent a step's submission.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// The harness's reference client, in a step that is the reference client's anyway.
    #[default]
    ReferenceClient,
    /// The harness's reference client, standing in for the vendor's system (reference mode).
    ReferenceStandingIn,
    /// The vendor's own system (SUT mode).
    YourSystem,
}

impl Sender {
    /// Who sent it, as people read it.
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::ReferenceClient => "the reference client",
            Sender::ReferenceStandingIn => "the reference client standing in for your system",
            Sender::YourSystem => "your system",
        }
    }

    /// The same, short enough for the results table.
    pub fn short(self) -> &'static str {
        match self {
            Sender::ReferenceClient => "reference",
            Sender::ReferenceStandingIn => "stand-in for your system",
            Sender::YourSystem => "your system",
        }
    }
}

/// Who makes a step's submission according to the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The harness, as the reference client.
    Reference,
    /// The vendor's system (in reference mode the harness stands in for it).
    YourSystem,
}

/// One test case's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The case's id (its file stem), e.g. `kayttoonottokoe`.
    pub id: String,
    /// The file it was loaded from, as given.
    pub file: String,
    /// Its title in Finnish.
    pub title_fi: String,
    /// Its title in Swedish.
    pub title_sv: String,
    /// Its steps, in order.
    pub steps: Vec<StepResult>,
}

impl CaseResult {
    /// Whether every step passed.
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.outcome == Outcome::Passed)
    }
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepResult {
    /// The step's id, unique within its case.
    pub id: String,
    /// What the step does, in Finnish.
    pub title_fi: String,
    /// What the step does, in Swedish.
    pub title_sv: String,
    /// Whose step it is according to the case.
    pub actor: Actor,
    /// Who actually sent it.
    #[serde(default)]
    pub sent_by: Sender,
    /// Passed, failed, timed out or skipped.
    pub outcome: Outcome,
    /// The acknowledgement the case expects.
    pub expected: ExpectedAck,
    /// The acknowledgement that came, if any.
    pub actual: Option<ActualAck>,
    /// The stored document's id, for steps that store one.
    pub document_id: Option<String>,
    /// The register the document belongs in, for steps that store one.
    pub register_holder: Option<String>,
    /// The archivist checkpoints, each checked through the inspection API.
    pub checkpoints: Vec<CheckpointResult>,
    /// Why the step failed, one sentence each; empty when it passed.
    pub failures: Vec<String>,
    /// Wall time of the step in milliseconds (redacted in snapshots).
    pub duration_ms: u64,
    /// SUT mode: the earlier submissions of your system for this step, oldest first; the step
    /// was judged on the latest (a corrected resend).
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// Service breaks the harness met while sending this step's messages (`503` with
    /// `Retry-After`), each waited out politely before the same message was sent again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outages: Vec<Outage>,
}

/// A service break the harness's client met: the archive answered `503 Service Unavailable`
/// with `Retry-After`, the client waited that long and sent the same message again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    /// When the `503` arrived (RFC 3339).
    pub at: String,
    /// What the archive answered, e.g. `HTTP 503`.
    pub answer: String,
    /// Its `Retry-After`, in seconds.
    pub retry_after: u64,
    /// How long the client waited before sending again, in milliseconds.
    pub waited_ms: u64,
}

/// An earlier submission for a step, superseded by a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When the archive logged it.
    pub at: String,
    /// What the archive answered.
    pub actual: ActualAck,
    /// Why it did not pass.
    pub failure: String,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Acknowledgement and every checkpoint as expected.
    Passed,
    /// Something differed; see `failures`.
    Failed,
    /// SUT mode: the vendor's submission did not arrive in time.
    TimedOut,
    /// Not run, because an earlier step it depends on failed or the run stopped.
    Skipped,
    /// The environment failed: the archive could not be reached, did not answer in time or
    /// answered with something that is not the archive's answer. Not the vendor's fault.
    Error,
}

impl Outcome {
    /// The lowercase word used in tables and JUnit.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed out",
            Outcome::Skipped => "skipped",
            Outcome::Error => "environment error",
        }
    }
}

/// The acknowledgement a step expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedAck {
    /// `AA`, `AE` or `AR`.
    pub ack: String,
    /// The detail codes that must be present (for `AE`/`AR`); others may accompany them only
    /// when the case says so.
    pub codes: Vec<String>,
}

/// The acknowledgement that arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActualAck {
    /// `AA`, `AE` or `AR`, or the HTTP status for a transport fault (e.g. `HTTP 400`).
    pub ack: String,
    /// Its detail codes.
    pub codes: Vec<String>,
    /// The id of the message that was acknowledged.
    pub message_id: Option<String>,
}

/// One archivist checkpoint's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointResult {
    /// What is checked, e.g. `register_holder`, `status`, `version`, `client`.
    pub field: String,
    /// The expected value.
    pub expected: String,
    /// The value the archive showed, if any.
    pub actual: Option<String>,
    /// Whether they agree.
    pub passed: bool,
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Steps in all.
    pub steps: usize,
    /// Steps passed.
    pub passed: usize,
    /// Steps failed (including timed out).
    pub failed: usize,
    /// Steps skipped.
    pub skipped: usize,
    /// Steps that met an environment error.
    #[serde(default)]
    pub errors: usize,
}

impl Summary {
    /// Counts the steps of `cases`.
    pub fn of(cases: &[CaseResult]) -> Self {
        let mut s = Summary::default();
        for step in cases.iter().flat_map(|c| &c.steps) {
            s.steps += 1;
            match step.outcome {
                Outcome::Passed => s.passed += 1,
                Outcome::Failed | Outcome::TimedOut => s.failed += 1,
                Outcome::Skipped => s.skipped += 1,
                Outcome::Error => s.errors += 1,
            }
        }
        s
    }
}

/// A submission that arrived in SUT mode and matched no waiting step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stray {
    /// When the archive logged it.
    pub at: String,
    /// Its message id.
    pub message_id: Option<String>,
    /// Its document id.
    pub document_id: Option<String>,
    /// The archive's answer.
    pub outcome: String,
    /// Why it matched no step.
    #[serde(default)]
    pub reason: String,
}

/// What an archivist confirmed in the archivist view's deployment-test checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivistConfirmation {
    /// Who confirmed (the archivist's name from the fixture).
    pub by: String,
    /// When the last checkpoint was confirmed (RFC 3339).
    pub at: String,
    /// Checkpoints confirmed.
    pub confirmed: usize,
    /// Checkpoints in the checklist.
    pub total: usize,
    /// Who confirmed for which register holder, one entry per holder and person, in checklist
    /// order (empty in results written before this field existed).
    #[serde(default)]
    pub confirmers: Vec<Confirmer>,
}

/// One person's confirmations for one register holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmer {
    /// The register holder's OID whose checklist was confirmed.
    pub register_holder: String,
    /// Its name in the organisation fixture, when it has one.
    pub register_holder_name: Option<String>,
    /// The archivist's name from the fixture; `None` when they signed in with a one-time
    /// token, which names nobody.
    pub archivist: Option<String>,
    /// Checkpoints this person confirmed for this holder.
    pub confirmed: usize,
}
