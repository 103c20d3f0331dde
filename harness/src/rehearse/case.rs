//! Test cases: the TOML files in `testcases/` (format documented in `testcases/README.md`).
//!
//! A case names its organisation fixture, defaults for its submissions, and ordered steps.
//! Each step either tests the connection (`[step.connect]`) or submits a document
//! (`[step.submit]`), says what the archive must answer (`[step.expect]`) and what the
//! archivist must then see (`[[step.check]]`). Loading reports **every** problem at once, each
//! with file, line and step.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use kanta_profile::ack::AckCode;
use kanta_profile::format::query::{DocumentStatus, QueryKind};
use kanta_profile::orgs::Registry;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use toml::Spanned;

use crate::pki::Role;

/// A text in Finnish and Swedish.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// Finnish.
    pub fi: String,
    /// Swedish.
    pub sv: String,
}

/// A loaded, checked test case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The id: the file stem.
    pub id: String,
    /// Where it came from, as given (for messages).
    pub file: String,
    /// Its title.
    pub title: Text,
    /// The organisation fixture the steps refer to.
    pub fixture: Registry,
    /// The fixture's TOML text, so an embedded archive can be started with the same one.
    pub fixture_text: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// Who makes a step's submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepActor {
    /// The harness, always.
    Reference,
    /// The vendor's system in SUT mode; the harness stands in for it otherwise.
    YourSystem,
}

/// One step.
#[derive(Debug, Clone)]
pub struct Step {
    /// Unique within the case.
    pub id: String,
    /// The line of its `[[step]]` header.
    pub line: usize,
    /// What it does.
    pub title: Text,
    /// Who acts.
    pub actor: StepActor,
    /// What a person does in the vendor's system (for "your system" steps).
    pub instruction: Option<Text>,
    /// SUT mode: how long to wait for the vendor's submission; `None` = the run's default.
    pub timeout_seconds: Option<u64>,
    /// What the step does.
    pub action: Action,
    /// The archivist checkpoints.
    pub checks: Vec<Check>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Opens a mutual TLS connection and asks `/health`.
    Connect {
        /// The TLS client certificate's PKI role.
        tls: Role,
        /// Whether the archive must accept the connection.
        accepted: bool,
        /// The organisation OID the archive must read from the certificate.
        organisation: Option<String>,
    },
    /// Submits a document.
    Submit {
        /// What to submit.
        submission: Box<Submission>,
        /// The expected answer.
        expect: Expect,
    },
    /// Submits nothing: only the archivist checkpoints (e.g. that one register holder's
    /// archivist cannot see another's documents, R8).
    Inspect,
    /// Resends an earlier step's message byte for byte; the answer must be the same.
    Resend {
        /// The earlier step.
        of: String,
        /// The expected answer.
        expect: Expect,
    },
    /// A planned service break (`[step.fault]`): the archive is broken on purpose; meanwhile
    /// the documents are recorded (versions 1..N of one new document, as `submission`
    /// describes), and after the break they must arrive exactly once, in version order,
    /// within the step's time, an answer-lost one resent under the same message id
    /// (`rehearse::fault_step`).
    Fault {
        /// What each document is.
        submission: Box<Submission>,
        /// The break.
        plan: BreakPlan,
    },
    /// Asks the archive one query (`[step.query]`, issue 16) and judges the answer.
    Query {
        /// What is asked, and by whom.
        query: Box<QuerySpec>,
        /// The expected answer.
        expect: QueryExpect,
    },
    /// Ends a register usage right through the inspection API (`[step.admin]`, the organiser's
    /// archivist): from the next day on the producer neither stores into nor reads from the
    /// organiser's register.
    EndUsageRight {
        /// The organiser that granted the right (its archivist's token is used).
        organiser: String,
        /// The producer whose right ends.
        producer: String,
    },
    /// Sends a recorded message verbatim (`[step.replay]`, written by `rehearse --record`).
    Replay {
        /// The message bytes.
        message: Vec<u8>,
        /// Its `Content-Type`.
        content_type: String,
        /// The TLS client certificate's PKI role.
        tls: Role,
        /// The expected answer.
        expect: Expect,
    },
}

/// A query of a `[step.query]`, with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySpec {
    /// Which operation.
    pub kind: QueryKind,
    /// The TLS client certificate's PKI role.
    pub tls: Role,
    /// The asking organisation.
    pub sender: String,
    /// Whose register is read.
    pub register_holder: String,
    /// The client's identity code.
    pub client: String,
    /// An earlier step whose document is asked (metadata and document queries).
    pub document: Option<String>,
    /// Filter: document group code.
    pub document_group: Option<String>,
    /// Filter: service task code.
    pub service_task: Option<String>,
    /// Filter: document status.
    pub status: Option<DocumentStatus>,
    /// Message wrapping.
    pub wrapping: WrappingName,
}

/// What a query must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryExpect {
    /// `AA`, `AE` or `AR`, and exactly these detail codes.
    pub ack: Expect,
    /// `AA` answers of document kinds: exactly the documents of these earlier steps.
    pub documents: Option<Vec<String>>,
}

/// The names of the query kinds.
pub const QUERY_KINDS: &[&str] = &["relationships", "cases", "metadata", "document", "summary"];

/// The keys of a `[step.query]`.
const QUERY_KEYS: &[&str] = &[
    "kind",
    "tls",
    "sender",
    "register_holder",
    "client",
    "document",
    "document_group",
    "service_task",
    "status",
    "wrapping",
];

/// The keys of a `[step.admin]`.
const ADMIN_KEYS: &[&str] = &["action", "organiser", "producer"];

/// The expected acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// `AA`, `AE` or `AR`.
    pub ack: String,
    /// Exactly these detail codes (warnings included), in any order.
    pub codes: Vec<String>,
}

/// Document templates a step may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Template {
    /// `DocumentTemplate::client_relationship`.
    ClientRelationship,
    /// `DocumentTemplate::service_task_document`.
    ServiceTask,
}

/// How the submitter treats the client's service (its routing choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Payment {
    /// The provider's own register.
    SelfPaying,
    /// The organiser's register under the usage right.
    PurchasedService,
    /// The organiser's register under the usage right.
    ServiceVoucher,
    /// A public organiser's own client: the sender is the organiser, its own register.
    OwnClient,
}

/// Deliberate damage for negative cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tamper {
    /// One character of the signed body changes after signing.
    BodyAfterSigning,
}

/// Which repository's interaction the message claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Repository {
    /// The social welfare client data repository (the default).
    Social,
    /// The patient data repository (R6).
    PatientArchive,
}

/// The message wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WrappingName {
    /// No envelope.
    Bare,
    /// SOAP 1.1.
    Soap11,
    /// SOAP 1.2.
    Soap12,
}

impl WrappingName {
    /// The format layer's wrapping.
    pub fn wrapping(self) -> kanta_profile::format::Wrapping {
        match self {
            WrappingName::Bare => kanta_profile::format::Wrapping::Bare,
            WrappingName::Soap11 => kanta_profile::format::Wrapping::Soap11,
            WrappingName::Soap12 => kanta_profile::format::Wrapping::Soap12,
        }
    }
}

/// Why an earlier version is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// A corrected new version.
    Correction,
    /// An invalidation.
    Invalidation,
}

/// A submission with every default applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// Document template.
    pub template: Template,
    /// Client identity code.
    pub client: String,
    /// The submitter's routing choice.
    pub payment: Payment,
    /// The organiser paying (purchased service / voucher).
    pub organiser: Option<String>,
    /// Sender organisation OID.
    pub sender: String,
    /// Service unit OID.
    pub service_unit: String,
    /// Overrides the routed custodian.
    pub custodian: Option<String>,
    /// Overrides the routed organiser field; `Some(None)` leaves it out.
    pub organiser_field: Option<Option<String>>,
    /// TLS client certificate role.
    pub tls: Role,
    /// System-signature certificate role.
    pub signer: Role,
    /// The document's `effectiveTime`.
    pub effective_time: OffsetDateTime,
    /// Message wrapping.
    pub wrapping: WrappingName,
    /// An earlier step whose document this one replaces.
    pub replaces: Option<String>,
    /// Why it replaces it.
    pub reason: Option<Reason>,
    /// Overrides the version number.
    pub version: Option<u32>,
    /// Deliberate damage.
    pub tamper: Option<Tamper>,
    /// Which repository's interaction.
    pub repository: Repository,
    /// The narrative text.
    pub narrative: String,
}

/// The break of a `[step.fault]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakPlan {
    /// `unavailable` (503 + `Retry-After`) or `refused` (connections reset).
    pub kind: BreakKind,
    /// How long the break lasts.
    pub seconds: u64,
    /// `unavailable`: the `Retry-After` the archive answers, in seconds.
    pub retry_after: u64,
    /// How many documents (versions 1..N of one document) are recorded during the break.
    pub documents: u32,
    /// Whether the first delivery after the break loses its answer (stored, then the
    /// connection closes): its resend must keep its message id.
    pub answer_lost: bool,
}

/// The kind of a planned break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakKind {
    /// `503 Service Unavailable` with `Retry-After`.
    Unavailable,
    /// Connections reset as soon as they are made.
    Refused,
}

impl BreakKind {
    /// The archive's fault-plan spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakKind::Unavailable => "unavailable",
            BreakKind::Refused => "refused",
        }
    }
}

/// One archivist checkpoint: fields of a stored document's description metadata, or that a
/// document is stored nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The step whose document is looked at.
    pub document: String,
    /// The register it must be in (its archivist's token is used), or `None` with
    /// `stored = false`.
    pub register_holder: Option<String>,
    /// `false`: the document must be in no register the fixture's archivists can see.
    pub stored: bool,
    /// Register holders whose archivists must **not** see the document (R8).
    pub hidden_from: Vec<String>,
    /// Expected fields: name → value (`status`, `version`, `client`, `service_unit`,
    /// `document_group`, `organiser`, `replaces_step`).
    pub fields: Vec<(String, String)>,
}

/// The fields a checkpoint may name.
pub const CHECK_FIELDS: &[&str] = &[
    "status",
    "version",
    "client",
    "service_unit",
    "document_group",
    "organiser",
];

/// A problem in a case file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseProblem {
    /// The file.
    pub file: String,
    /// 1-based line; 0 when the problem is the file as a whole (e.g. it cannot be read).
    pub line: usize,
    /// The step, if the problem is inside one.
    pub step: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CaseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        match &self.step {
            Some(step) => write!(f, ": step {step}: {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

/// Why a case could not be loaded: every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct CaseError(pub Vec<CaseProblem>);

fn render(problems: &[CaseProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    format!(
        "the test case has {} problem{}:\n  {}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        lines.join("\n  ")
    )
}

// ----- the file as written --------------------------------------------------------------------
//
// Lenient on purpose: unknown keys are collected (`unknown`), names of choices are read as text
// and titles as optional parts, so that one pass finds every problem of a case instead of
// stopping at the first.

/// Keys nobody asked for, collected to be reported.
type Unknown = std::collections::BTreeMap<String, toml::Value>;

#[derive(Debug, Default, Deserialize)]
struct RawText {
    fi: Option<String>,
    sv: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Deserialize)]
struct RawCase {
    title: Option<RawText>,
    fixture: Option<String>,
    defaults: Option<Spanned<RawDefaults>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

/// The top-level keys of a case file.
const CASE_KEYS: &[&str] = &["title", "fixture", "defaults", "step"];

#[derive(Debug, Default, Deserialize)]
struct RawDefaults {
    sender: Option<String>,
    service_unit: Option<String>,
    tls: Option<String>,
    signer: Option<String>,
    effective_time: Option<String>,
    wrapping: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Deserialize)]
struct RawStep {
    id: Option<String>,
    title: Option<RawText>,
    actor: Option<String>,
    instruction: Option<RawText>,
    timeout_seconds: Option<u64>,
    connect: Option<RawConnect>,
    submit: Option<RawSubmit>,
    replay: Option<RawReplay>,
    fault: Option<RawFault>,
    query: Option<RawQuery>,
    admin: Option<RawAdmin>,
    expect: Option<RawExpect>,
    #[serde(default)]
    check: Vec<RawCheck>,
    #[serde(flatten)]
    unknown: Unknown,
}

/// A planned break (`[step.fault]`).
#[derive(Debug, Deserialize)]
struct RawFault {
    kind: Option<String>,
    seconds: Option<u64>,
    retry_after: Option<u64>,
    documents: Option<u32>,
    answer_lost: Option<bool>,
    #[serde(flatten)]
    unknown: Unknown,
}

/// The keys of a `[step.fault]`.
const FAULT_KEYS: &[&str] = &["kind", "seconds", "retry_after", "documents", "answer_lost"];

/// Reads a `[step.fault]`; `None` (with its problems told) when it is unusable.
fn read_break(f: &RawFault, p: &mut dyn FnMut(String)) -> Option<BreakPlan> {
    let before_ok = true;
    let mut ok = before_ok;
    let kind: BreakKind = match f.kind.as_deref() {
        None => {
            p("fault.kind is missing: unavailable or refused".to_owned());
            ok = false;
            BreakKind::Unavailable
        }
        Some(k) => choice(k, "fault.kind", &["unavailable", "refused"]).unwrap_or_else(|e| {
            p(e);
            ok = false;
            BreakKind::Unavailable
        }),
    };
    let seconds = match f.seconds {
        Some(s @ 1..=600) => s,
        Some(_) => {
            p("fault.seconds must be 1 to 600: the break's length".to_owned());
            ok = false;
            0
        }
        None => {
            p("fault.seconds is missing: the break's length".to_owned());
            ok = false;
            0
        }
    };
    if f.retry_after.is_some() && kind != BreakKind::Unavailable {
        p("fault.retry_after applies only to kind = \"unavailable\"".to_owned());
        ok = false;
    }
    let documents = f.documents.unwrap_or(3);
    if !(1..=20).contains(&documents) {
        p("fault.documents must be 1 to 20".to_owned());
        ok = false;
    }
    ok.then_some(BreakPlan {
        kind,
        seconds,
        retry_after: f.retry_after.unwrap_or(1),
        documents,
        answer_lost: f.answer_lost.unwrap_or(true),
    })
}

/// A query (`[step.query]`).
#[derive(Debug, Deserialize)]
struct RawQuery {
    kind: Option<String>,
    tls: Option<String>,
    sender: Option<String>,
    register_holder: Option<String>,
    client: Option<String>,
    document: Option<String>,
    document_group: Option<String>,
    service_task: Option<String>,
    status: Option<String>,
    wrapping: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

/// An admin call (`[step.admin]`).
#[derive(Debug, Deserialize)]
struct RawAdmin {
    action: Option<String>,
    organiser: Option<String>,
    producer: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

/// A recorded message, sent verbatim (`kantakoe rehearse --sut --record`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplay {
    message_base64: String,
    content_type: String,
    tls: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawConnect {
    tls: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Default, Deserialize)]
struct RawSubmit {
    resend: Option<String>,
    template: Option<String>,
    client: Option<String>,
    payment: Option<String>,
    organiser: Option<String>,
    sender: Option<String>,
    service_unit: Option<String>,
    custodian: Option<String>,
    /// `""` leaves the organiser field out.
    organiser_field: Option<String>,
    tls: Option<String>,
    signer: Option<String>,
    effective_time: Option<String>,
    wrapping: Option<String>,
    replaces: Option<String>,
    reason: Option<String>,
    version: Option<u32>,
    tamper: Option<String>,
    repository: Option<String>,
    narrative: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Deserialize)]
struct RawExpect {
    ack: Option<String>,
    #[serde(default)]
    codes: Vec<String>,
    documents: Option<Vec<String>>,
    connection: Option<String>,
    organisation: Option<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

#[derive(Debug, Deserialize)]
struct RawCheck {
    document: Option<String>,
    register_holder: Option<String>,
    stored: Option<bool>,
    status: Option<String>,
    version: Option<u32>,
    client: Option<String>,
    service_unit: Option<String>,
    document_group: Option<String>,
    organiser: Option<String>,
    #[serde(default)]
    hidden_from: Vec<String>,
    #[serde(flatten)]
    unknown: Unknown,
}

/// The names of the wrappings.
const WRAPPINGS: &[&str] = &["bare", "soap11", "soap12"];

/// The keys of a `[[step]]`.
const STEP_KEYS: &[&str] = &[
    "id",
    "title",
    "actor",
    "instruction",
    "timeout_seconds",
    "connect",
    "submit",
    "fault",
    "query",
    "admin",
    "expect",
    "check",
];

/// The keys of a `[step.submit]`.
const SUBMIT_KEYS: &[&str] = &[
    "resend",
    "template",
    "client",
    "payment",
    "organiser",
    "sender",
    "service_unit",
    "custodian",
    "organiser_field",
    "tls",
    "signer",
    "effective_time",
    "wrapping",
    "replaces",
    "reason",
    "version",
    "tamper",
    "repository",
    "narrative",
];

/// The keys of a `[[step.check]]`.
const CHECK_KEYS: &[&str] = &[
    "document",
    "register_holder",
    "stored",
    "status",
    "version",
    "client",
    "service_unit",
    "document_group",
    "organiser",
    "hidden_from",
];

/// The statuses a checkpoint may expect.
pub const CHECK_STATUSES: &[&str] = &["active", "replaced", "invalidated"];

/// Reads the name of a choice (`template = "service-task"`) into its enum, or says which names
/// there are.
fn choice<T: serde::de::DeserializeOwned>(
    value: &str,
    what: &str,
    names: &[&str],
) -> Result<T, String> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(value))
        .map_err(|_| format!("{what} {value:?} is not one of {}", names.join(", ")))
}

/// A problem for every key in `unknown`: `(key, message)`.
fn unknown_keys(unknown: &Unknown, table: &str, known: &[&str]) -> Vec<(String, String)> {
    unknown
        .keys()
        .map(|k| {
            (
                k.clone(),
                format!(
                    "unknown field `{k}` in {table}; expected one of {}",
                    known.join(", ")
                ),
            )
        })
        .collect()
}

/// A title or instruction: both languages present, no other keys.
fn text_of(raw: Option<&RawText>, what: &str, p: &mut dyn FnMut(String)) -> Text {
    let Some(raw) = raw else {
        p(format!(
            "{what} is missing: {what} = {{ fi = \"…\", sv = \"…\" }}"
        ));
        return Text {
            fi: String::new(),
            sv: String::new(),
        };
    };
    for (_, message) in unknown_keys(&raw.unknown, what, &["fi", "sv"]) {
        p(message);
    }
    let mut part = |v: &Option<String>, lang: &str| {
        v.clone().unwrap_or_else(|| {
            p(format!("{what}.{lang} is missing"));
            String::new()
        })
    };
    let fi = part(&raw.fi, "fi");
    let sv = part(&raw.sv, "sv");
    Text { fi, sv }
}

/// The line of `key = ` inside `span` of `text` (its first occurrence), else `fallback`.
fn key_line(text: &str, span: std::ops::Range<usize>, key: &str, fallback: usize) -> usize {
    let start = span.start.min(text.len());
    let end = span.end.min(text.len()).max(start);
    let mut offset = start;
    for line in text[start..end].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return line_of(text, offset);
        }
        offset += line.len();
    }
    fallback
}

// ----- loading ----------------------------------------------------------------------------------

/// Where a case's fixture comes from when it names none, or names the bundled one.
pub const BUNDLED_FIXTURE: &str = "orgs.toml";

/// Reads a fixture by the name a case gives it: its text and display name, or why not.
pub type FixtureReader<'a> = &'a dyn Fn(&str) -> Result<(String, String), String>;

/// Loads a case file from disk; its `fixture` is read relative to the file.
pub fn load(path: &Path) -> Result<Case, CaseError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        CaseError(vec![CaseProblem {
            file: file.clone(),
            line: 0,
            step: None,
            message: format!("cannot read the test case: {e}"),
        }])
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&text, &file, &|name| {
        let p: PathBuf = dir.join(name);
        std::fs::read_to_string(&p)
            .map(|t| (t, p.display().to_string()))
            .map_err(|e| format!("cannot read the fixture {}: {e}", p.display()))
    })
}

/// Parses a case from text. `read_fixture` gives a fixture's text and display name by the
/// name written in the case.
pub fn parse(text: &str, file: &str, read_fixture: FixtureReader<'_>) -> Result<Case, CaseError> {
    let problem = |line: usize, step: Option<&str>, message: String| CaseProblem {
        file: file.to_owned(),
        line,
        step: step.map(str::to_owned),
        message,
    };
    let raw: RawCase = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(0);
        CaseError(vec![problem(line, None, e.message().to_owned())])
    })?;
    let mut problems = Vec::new();
    // Unknown top-level keys (the file parsed above, so it parses as a table too).
    if let Ok(table) = text.parse::<toml::Table>() {
        for key in table.keys().filter(|k| !CASE_KEYS.contains(&k.as_str())) {
            problems.push(problem(
                key_line(text, 0..text.len(), key, 1),
                None,
                format!(
                    "unknown field `{key}` at the top of the case; expected one of {}",
                    CASE_KEYS.join(", ")
                ),
            ));
        }
    }
    let title = {
        let line = key_line(text, 0..text.len(), "title", 1);
        text_of(raw.title.as_ref(), "title", &mut |m| {
            problems.push(problem(line, None, m));
        })
    };

    let fixture_name = raw.fixture.as_deref().unwrap_or(BUNDLED_FIXTURE);
    let (fixture, fixture_text) = match read_fixture(fixture_name) {
        Ok((t, name)) => match Registry::from_toml_str(&t, &name) {
            Ok(reg) => (Some(reg), t),
            Err(e) => {
                problems.push(problem(1, None, format!("fixture {fixture_name}: {e}")));
                (None, t)
            }
        },
        Err(e) => {
            problems.push(problem(1, None, e));
            (None, String::new())
        }
    };

    let no_defaults = RawDefaults::default();
    let d = raw.defaults.as_ref().map_or(&no_defaults, Spanned::get_ref);
    let default_role = |value: &Option<String>, fallback: Role| -> Result<Role, String> {
        value.as_deref().map_or(Ok(fallback), role)
    };
    let defaults_line = raw
        .defaults
        .as_ref()
        .map_or(1, |d| line_of(text, d.span().start));
    if let Some(defaults) = &raw.defaults {
        for (key, message) in unknown_keys(
            &d.unknown,
            "[defaults]",
            &[
                "sender",
                "service_unit",
                "tls",
                "signer",
                "effective_time",
                "wrapping",
            ],
        ) {
            let end = raw
                .step
                .first()
                .map_or(text.len(), |s| s.span().start)
                .max(defaults.span().end);
            let line = key_line(text, defaults.span().start..end, &key, defaults_line);
            problems.push(problem(line, None, message));
        }
    }
    let d_wrapping: Option<WrappingName> = d.wrapping.as_deref().and_then(|w| {
        choice(w, "defaults.wrapping", WRAPPINGS)
            .map_err(|e| problems.push(problem(defaults_line, None, e)))
            .ok()
    });
    let mut check_default = |r: Result<Role, String>, fallback: Role| {
        r.unwrap_or_else(|e| {
            problems.push(problem(defaults_line, None, e));
            fallback
        })
    };
    let d_tls = check_default(default_role(&d.tls, Role::Client), Role::Client);
    let d_signer = check_default(default_role(&d.signer, Role::Signature), Role::Signature);
    let d_time = match d.effective_time.as_deref().map(parse_time) {
        None => OffsetDateTime::now_utc(),
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            problems.push(problem(defaults_line, None, e));
            OffsetDateTime::now_utc()
        }
    };

    let mut steps: Vec<Step> = Vec::new();
    // Step id → whether it submits a document (so later steps may refer to it).
    let mut earlier: HashMap<String, bool> = HashMap::new();
    // A table's span may cover only its header: a step's keys are between its header and the
    // next step's (or the end of the file).
    let step_starts: Vec<usize> = raw.step.iter().map(|s| s.span().start).collect();
    for (index, spanned) in raw.step.iter().enumerate() {
        let region =
            spanned.span().start..step_starts.get(index + 1).copied().unwrap_or(text.len());
        let line = line_of(text, spanned.span().start);
        let s = spanned.get_ref();
        let id = s.id.clone().unwrap_or_default();
        // Unknown keys, each at its own line.
        let mut tables: Vec<(&Unknown, &str, &[&str])> = vec![(&s.unknown, "[[step]]", STEP_KEYS)];
        if let Some(c) = &s.connect {
            tables.push((&c.unknown, "[step.connect]", &["tls"]));
        }
        if let Some(c) = &s.submit {
            tables.push((&c.unknown, "[step.submit]", SUBMIT_KEYS));
        }
        if let Some(c) = &s.fault {
            tables.push((&c.unknown, "[step.fault]", FAULT_KEYS));
        }
        if let Some(c) = &s.query {
            tables.push((&c.unknown, "[step.query]", QUERY_KEYS));
        }
        if let Some(c) = &s.admin {
            tables.push((&c.unknown, "[step.admin]", ADMIN_KEYS));
        }
        if let Some(c) = &s.expect {
            tables.push((
                &c.unknown,
                "[step.expect]",
                &["ack", "codes", "documents", "connection", "organisation"],
            ));
        }
        tables.extend(
            s.check
                .iter()
                .map(|c| (&c.unknown, "[[step.check]]", CHECK_KEYS)),
        );
        for (unknown, table, known) in tables {
            for (key, message) in unknown_keys(unknown, table, known) {
                let at = key_line(text, region.clone(), &key, line);
                problems.push(problem(at, Some(&id), message));
            }
        }
        let mut p = |message: String| problems.push(problem(line, Some(&id), message));
        if s.id.is_none() {
            p("the step has no id".to_owned());
        } else if id.trim().is_empty() {
            p("the step id is empty".to_owned());
        }
        let step_title = text_of(s.title.as_ref(), "title", &mut p);
        let instruction = s
            .instruction
            .as_ref()
            .map(|i| text_of(Some(i), "instruction", &mut p));
        let actor: StepActor = match s.actor.as_deref() {
            None => StepActor::Reference,
            Some(a) => choice(a, "actor", &["reference", "your-system"]).unwrap_or_else(|e| {
                p(e);
                StepActor::Reference
            }),
        };
        if earlier.contains_key(&id) {
            p(format!("the step id {id:?} is used twice"));
        }
        if actor == StepActor::YourSystem && s.instruction.is_none() {
            p("a \"your-system\" step needs an instruction in Finnish and Swedish (instruction = { fi = \"…\", sv = \"…\" })".to_owned());
        }
        let refers = |name: &str, what: &str, p: &mut dyn FnMut(String)| match earlier.get(name) {
            Some(true) => {}
            Some(false) => p(format!("{what} {name:?} is a step that stores no document")),
            None => p(format!(
                "{what} {name:?} is not an earlier step of this case"
            )),
        };
        let expect_ack = |e: &Option<RawExpect>, p: &mut dyn FnMut(String)| -> Expect {
            let Some(e) = e else {
                p("the step has no [step.expect]".to_owned());
                return Expect {
                    ack: "AA".into(),
                    codes: vec![],
                };
            };
            let ack = e.ack.clone().unwrap_or_else(|| {
                p("expect.ack is missing: AA, AE or AR".to_owned());
                "AA".into()
            });
            if !matches!(ack.as_str(), "AA" | "AE" | "AR") {
                p(format!("expect.ack {ack:?} is not one of AA, AE, AR"));
            }
            if ack != "AA" && e.codes.is_empty() {
                p(format!(
                    "an {ack} expectation must name its codes (expect.codes)"
                ));
            }
            for c in &e.codes {
                if AckCode::from_code(c).is_none() {
                    p(format!(
                        "expect.codes: {c:?} is not an acknowledgement code of the archive"
                    ));
                }
            }
            if e.documents.is_some() && s.query.is_none() {
                p("expect.documents belongs to [step.query] steps".to_owned());
            }
            if e.connection.is_some() || e.organisation.is_some() {
                p(
                    "expect.connection and expect.organisation belong to [step.connect] steps"
                        .to_owned(),
                );
            }
            Expect {
                ack,
                codes: e.codes.clone(),
            }
        };
        let action = match (&s.connect, &s.submit) {
            _ if s.query.is_some() || s.admin.is_some() => {
                if s.connect.is_some()
                    || s.submit.is_some()
                    || s.replay.is_some()
                    || (s.query.is_some() && s.admin.is_some())
                {
                    p(
                        "[step.query] and [step.admin] stand alone: no other action beside them"
                            .to_owned(),
                    );
                }
                if actor == StepActor::YourSystem {
                    p("a [step.query] or [step.admin] step is made by the reference client (actor = \"reference\"): waiting for your system's query is not built yet".to_owned());
                }
                if let Some(q) = &s.query {
                    read_query(
                        q,
                        s.expect.as_ref(),
                        &QueryDefaults {
                            sender: d.sender.as_deref(),
                            tls: d_tls,
                            wrapping: d_wrapping,
                        },
                        fixture.as_ref(),
                        &|name| earlier.get(name).copied(),
                        &mut p,
                    )
                    .map(|(query, expect)| Action::Query {
                        query: Box::new(query),
                        expect,
                    })
                } else {
                    let a = s.admin.as_ref().expect("matched");
                    if s.expect.is_some() {
                        p(
                            "a [step.admin] step expects no acknowledgement; remove [step.expect]"
                                .to_owned(),
                        );
                    }
                    match a.action.as_deref() {
                        Some("end-usage-right") => {}
                        Some(other) => p(format!(
                            "admin.action {other:?} is not one of end-usage-right"
                        )),
                        None => p("admin.action is missing: end-usage-right".to_owned()),
                    }
                    let mut org = |v: &Option<String>, what: &str| -> String {
                        let Some(oid) = v else {
                            p(format!("admin.{what} is missing"));
                            return String::new();
                        };
                        if let Some(reg) = &fixture
                            && reg.organisation(oid).is_none()
                        {
                            p(format!(
                                "admin.{what} {oid} is not an organisation of the fixture"
                            ));
                        }
                        oid.clone()
                    };
                    let organiser = org(&a.organiser, "organiser");
                    let producer = org(&a.producer, "producer");
                    if let Some(reg) = &fixture
                        && !organiser.is_empty()
                        && !reg
                            .archivists()
                            .iter()
                            .any(|x| x.register_holder == organiser)
                    {
                        p(format!(
                            "admin.organiser {organiser}: the fixture has no archivist for this register, so the usage right cannot be ended"
                        ));
                    }
                    Some(Action::EndUsageRight {
                        organiser,
                        producer,
                    })
                }
            }
            (None, None) if s.replay.is_some() => {
                let r = s.replay.as_ref().expect("matched");
                let tls = r
                    .tls
                    .as_deref()
                    .map_or(Ok(d_tls), role)
                    .unwrap_or_else(|e| {
                        p(e);
                        d_tls
                    });
                use base64::Engine as _;
                let message = base64::engine::general_purpose::STANDARD
                    .decode(r.message_base64.trim())
                    .unwrap_or_else(|e| {
                        p(format!("replay.message_base64 is not base64: {e}"));
                        Vec::new()
                    });
                let expect = expect_ack(&s.expect, &mut p);
                Some(Action::Replay {
                    message,
                    content_type: r.content_type.clone(),
                    tls,
                    expect,
                })
            }
            (_, _) if s.replay.is_some() => {
                p(
                    "[step.replay] stands alone: no [step.connect] or [step.submit] beside it"
                        .to_owned(),
                );
                None
            }
            (Some(_), Some(_)) => {
                p("a step has either [step.connect] or [step.submit], not both".to_owned());
                None
            }
            (None, None) if !s.check.is_empty() => {
                if s.expect.is_some() {
                    p("a step with only checkpoints expects no acknowledgement; remove [step.expect]".to_owned());
                }
                if actor == StepActor::YourSystem {
                    p("a step with only checkpoints is made by the reference client (actor = \"reference\")".to_owned());
                }
                Some(Action::Inspect)
            }
            (None, None) => {
                p("a step needs [step.connect], [step.submit] or [[step.check]]".to_owned());
                None
            }
            (Some(c), None) => {
                let tls = c
                    .tls
                    .as_deref()
                    .map_or(Ok(d_tls), role)
                    .unwrap_or_else(|e| {
                        p(e);
                        d_tls
                    });
                let (accepted, organisation) = match &s.expect {
                    None => (true, None),
                    Some(e) => {
                        if e.ack.is_some() || !e.codes.is_empty() {
                            p("a connection step expects connection = \"accepted\" or \"refused\", not an acknowledgement".to_owned());
                        }
                        let accepted = match e.connection.as_deref() {
                            None | Some("accepted") => true,
                            Some("refused") => false,
                            Some(other) => {
                                p(format!(
                                    "expect.connection {other:?} is not \"accepted\" or \"refused\""
                                ));
                                true
                            }
                        };
                        (accepted, e.organisation.clone())
                    }
                };
                Some(Action::Connect {
                    tls,
                    accepted,
                    organisation,
                })
            }
            (None, Some(sub)) if sub.resend.is_some() => {
                let of = sub.resend.clone().unwrap_or_default();
                refers(&of, "submit.resend", &mut p);
                if sub.template.is_some() || sub.client.is_some() || sub.replaces.is_some() {
                    p("submit.resend sends the earlier message as it was; it takes no other submission fields".to_owned());
                }
                if actor == StepActor::YourSystem {
                    p(
                        "a resend is made by the reference client (actor = \"reference\")"
                            .to_owned(),
                    );
                }
                let expect = expect_ack(&s.expect, &mut p);
                Some(Action::Resend { of, expect })
            }
            (None, Some(sub)) => {
                let mut need = |v: &Option<String>, what: &str| {
                    v.clone().unwrap_or_else(|| {
                        p(format!("submit.{what} is missing"));
                        String::new()
                    })
                };
                let client = need(&sub.client, "client");
                let sender = sub.sender.clone().or_else(|| d.sender.clone());
                let sender = need(&sender, "sender (or defaults.sender)");
                let unit = sub.service_unit.clone().or_else(|| d.service_unit.clone());
                let service_unit = need(&unit, "service_unit (or defaults.service_unit)");
                let template: Option<Template> = sub.template.as_deref().and_then(|v| {
                    choice(
                        v,
                        "submit.template",
                        &["client-relationship", "service-task"],
                    )
                    .map_err(&mut p)
                    .ok()
                });
                let wrapping: Option<WrappingName> = sub
                    .wrapping
                    .as_deref()
                    .and_then(|v| choice(v, "submit.wrapping", WRAPPINGS).map_err(&mut p).ok());
                let reason: Option<Reason> = sub.reason.as_deref().and_then(|v| {
                    choice(v, "submit.reason", &["correction", "invalidation"])
                        .map_err(&mut p)
                        .ok()
                });
                let tamper: Option<Tamper> = sub.tamper.as_deref().and_then(|v| {
                    choice(v, "submit.tamper", &["body-after-signing"])
                        .map_err(&mut p)
                        .ok()
                });
                let repository: Option<Repository> = sub.repository.as_deref().and_then(|v| {
                    choice(v, "submit.repository", &["social", "patient-archive"])
                        .map_err(&mut p)
                        .ok()
                });
                let payment: Payment = match sub.payment.as_deref() {
                    None => {
                        p("submit.payment is missing: self-paying, purchased-service, service-voucher or own-client".to_owned());
                        Payment::SelfPaying
                    }
                    Some(v) => choice(
                        v,
                        "submit.payment",
                        &[
                            "self-paying",
                            "purchased-service",
                            "service-voucher",
                            "own-client",
                        ],
                    )
                    .unwrap_or_else(|e| {
                        p(e);
                        Payment::SelfPaying
                    }),
                };
                if matches!(payment, Payment::PurchasedService | Payment::ServiceVoucher)
                    && sub.organiser.is_none()
                {
                    p(
                        "submit.organiser is required for a purchased service or a service voucher"
                            .to_owned(),
                    );
                }
                let tls = sub
                    .tls
                    .as_deref()
                    .map_or(Ok(d_tls), role)
                    .unwrap_or_else(|e| {
                        p(e);
                        d_tls
                    });
                let signer = sub
                    .signer
                    .as_deref()
                    .map_or(Ok(d_signer), role)
                    .unwrap_or_else(|e| {
                        p(e);
                        d_signer
                    });
                let effective_time = match sub.effective_time.as_deref().map(parse_time) {
                    None => d_time,
                    Some(Ok(t)) => t,
                    Some(Err(e)) => {
                        p(e);
                        d_time
                    }
                };
                if let Some(r) = &sub.replaces {
                    refers(r, "submit.replaces", &mut p);
                    if sub.reason.is_none() {
                        p("submit.reason is required with submit.replaces: correction or invalidation".to_owned());
                    }
                } else if sub.reason.is_some() {
                    p("submit.reason is only meaningful with submit.replaces".to_owned());
                }
                if let Some(reg) = &fixture {
                    for (what, oid) in [
                        ("sender", Some(&sender)),
                        ("organiser", sub.organiser.as_ref()),
                        ("custodian", sub.custodian.as_ref()),
                    ] {
                        if let Some(oid) = oid
                            && !oid.is_empty()
                            && reg.organisation(oid).is_none()
                        {
                            p(format!(
                                "submit.{what} {oid} is not an organisation of the fixture"
                            ));
                        }
                    }
                    if !service_unit.is_empty() && reg.service_unit_owner(&service_unit).is_none() {
                        p(format!(
                            "submit.service_unit {service_unit} is not a service unit of the fixture"
                        ));
                    }
                }
                let expect = expect_ack(&s.expect, &mut p);
                Some(Action::Submit {
                    submission: Box::new(Submission {
                        template: template.unwrap_or(Template::ClientRelationship),
                        client,
                        payment,
                        organiser: sub.organiser.clone(),
                        sender,
                        service_unit,
                        custodian: sub.custodian.clone(),
                        organiser_field: sub
                            .organiser_field
                            .as_ref()
                            .map(|o| Some(o.clone()).filter(|o| !o.is_empty())),
                        tls,
                        signer,
                        effective_time,
                        wrapping: wrapping.or(d_wrapping).unwrap_or(WrappingName::Soap12),
                        replaces: sub.replaces.clone(),
                        reason,
                        version: sub.version,
                        tamper,
                        repository: repository.unwrap_or(Repository::Social),
                        narrative: sub.narrative.clone().unwrap_or_else(|| {
                            format!("{} (TESTIAINEISTO)\nKantakoe, vaihe {id}.", step_title.fi)
                        }),
                    }),
                    expect,
                })
            }
        };
        let action = match (action, &s.fault) {
            (Some(Action::Submit { submission, expect }), Some(f)) => {
                if submission.replaces.is_some() || submission.version.is_some() {
                    p("a [step.fault] step's documents are versions 1..N of one new document: submit.replaces and submit.version do not apply".to_owned());
                }
                if expect.ack != "AA" || !expect.codes.is_empty() {
                    p("a [step.fault] step expects every document to be accepted: expect.ack = \"AA\" without codes".to_owned());
                }
                if !s.check.is_empty() {
                    p(
                        "a [step.fault] step checks its documents itself: no [[step.check]]"
                            .to_owned(),
                    );
                }
                read_break(f, &mut p).map(|plan| Action::Fault { submission, plan })
            }
            (other, Some(_)) => {
                p("[step.fault] goes with a [step.submit] describing the documents recorded during the break".to_owned());
                other
            }
            (other, None) => other,
        };
        let stores = matches!(action, Some(Action::Submit { .. } | Action::Replay { .. }));
        let mut checks = Vec::new();
        for c in &s.check {
            let document = c.document.clone().unwrap_or_else(|| id.clone());
            if document != id {
                refers(&document, "check.document", &mut p);
            } else if !stores {
                p("check without check.document on a step that stores no document".to_owned());
            }
            let stored = c.stored.unwrap_or(true);
            if let Some(status) = &c.status
                && !CHECK_STATUSES.contains(&status.as_str())
            {
                p(format!(
                    "check.status {status:?} is not one of {}",
                    CHECK_STATUSES.join(", ")
                ));
            }
            let mut fields = Vec::new();
            for (name, value) in [
                ("status", c.status.clone()),
                ("version", c.version.map(|v| v.to_string())),
                ("client", c.client.clone()),
                ("service_unit", c.service_unit.clone()),
                ("document_group", c.document_group.clone()),
                ("organiser", c.organiser.clone()),
            ] {
                if let Some(v) = value {
                    fields.push((name.to_owned(), v));
                }
            }
            if stored {
                match &c.register_holder {
                    None => p(
                        "check.register_holder is missing (whose register the document must be in)"
                            .to_owned(),
                    ),
                    Some(h) => {
                        if let Some(reg) = &fixture
                            && !reg.archivists().iter().any(|a| &a.register_holder == h)
                        {
                            p(format!(
                                "check.register_holder {h}: the fixture has no archivist for this register, so it cannot be inspected"
                            ));
                        }
                    }
                }
            } else if c.register_holder.is_some() || !fields.is_empty() || !c.hidden_from.is_empty()
            {
                p(
                    "check with stored = false takes no register holder, fields or hidden_from"
                        .to_owned(),
                );
            }
            for h in &c.hidden_from {
                if let Some(reg) = &fixture
                    && !reg.archivists().iter().any(|a| &a.register_holder == h)
                {
                    p(format!(
                        "check.hidden_from {h}: the fixture has no archivist for this register, so it cannot be inspected"
                    ));
                }
            }
            checks.push(Check {
                document,
                register_holder: c.register_holder.clone(),
                stored,
                hidden_from: c.hidden_from.clone(),
                fields,
            });
        }
        earlier.insert(id.clone(), stores);
        if let Some(action) = action {
            steps.push(Step {
                id,
                line,
                title: step_title,
                actor,
                instruction,
                timeout_seconds: s.timeout_seconds,
                action,
                checks,
            });
        }
    }
    if raw.step.is_empty() {
        problems.push(problem(1, None, "the case has no [[step]]".to_owned()));
    }
    match fixture {
        Some(fixture) if problems.is_empty() => Ok(Case {
            id: Path::new(file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.to_owned()),
            file: file.to_owned(),
            title,
            fixture,
            fixture_text,
            steps,
        }),
        _ => Err(CaseError(problems)),
    }
}

/// The case's defaults a query uses.
struct QueryDefaults<'a> {
    sender: Option<&'a str>,
    tls: Role,
    wrapping: Option<WrappingName>,
}

/// Reads a `[step.query]` and its `[step.expect]`; `None` when unusable (problems told).
/// `earlier` says of a step id whether that earlier step stores a document (`None`: no such
/// earlier step).
fn read_query(
    q: &RawQuery,
    e: Option<&RawExpect>,
    d: &QueryDefaults<'_>,
    fixture: Option<&Registry>,
    earlier: &dyn Fn(&str) -> Option<bool>,
    p: &mut dyn FnMut(String),
) -> Option<(QuerySpec, QueryExpect)> {
    let mut probs: Vec<String> = Vec::new();
    let kind: Option<QueryKind> = match q.kind.as_deref() {
        None => {
            probs.push(format!("query.kind is missing: {}", QUERY_KINDS.join(", ")));
            None
        }
        Some(k) => choice(k, "query.kind", QUERY_KINDS)
            .map_err(|m| probs.push(m))
            .ok(),
    };
    let tls = match q.tls.as_deref().map(role) {
        None => d.tls,
        Some(Ok(r)) => r,
        Some(Err(m)) => {
            probs.push(m);
            d.tls
        }
    };
    let need = |v: Option<&str>, what: &str, probs: &mut Vec<String>| -> String {
        v.map(str::to_owned).unwrap_or_else(|| {
            probs.push(format!("query.{what} is missing"));
            String::new()
        })
    };
    let sender = need(
        q.sender.as_deref().or(d.sender),
        "sender (or defaults.sender)",
        &mut probs,
    );
    let register_holder = need(q.register_holder.as_deref(), "register_holder", &mut probs);
    let client = need(q.client.as_deref(), "client", &mut probs);
    if let Some(reg) = fixture {
        for (what, oid) in [("sender", &sender), ("register_holder", &register_holder)] {
            if !oid.is_empty() && reg.organisation(oid).is_none() {
                probs.push(format!(
                    "query.{what} {oid} is not an organisation of the fixture"
                ));
            }
        }
    }
    let refers = |name: &str, what: &str, probs: &mut Vec<String>| match earlier(name) {
        Some(true) => {}
        Some(false) => probs.push(format!("{what} {name:?} is a step that stores no document")),
        None => probs.push(format!(
            "{what} {name:?} is not an earlier step of this case"
        )),
    };
    if let Some(doc) = &q.document {
        refers(doc, "query.document", &mut probs);
    }
    if let Some(k) = kind {
        if k.needs_document() && q.document.is_none() {
            probs.push(format!(
                "query.document is missing: a {k} query names one earlier step's document"
            ));
        } else if !k.needs_document() && q.document.is_some() {
            probs.push(format!(
                "query.document applies only to metadata and document queries, not {k}"
            ));
        }
    }
    let status = q.status.as_deref().and_then(|v| {
        DocumentStatus::parse(v).or_else(|| {
            probs.push(format!(
                "query.status {v:?} is not one of {}",
                CHECK_STATUSES.join(", ")
            ));
            None
        })
    });
    let wrapping: Option<WrappingName> = q.wrapping.as_deref().and_then(|v| {
        choice(v, "query.wrapping", WRAPPINGS)
            .map_err(|m| probs.push(m))
            .ok()
    });
    let expect = match e {
        None => {
            probs.push("the step has no [step.expect]: expect.documents = [\"step-id\", …] or expect.ack = \"AE\" with its codes".to_owned());
            None
        }
        Some(e) => {
            let ack = e.ack.clone().unwrap_or_else(|| "AA".to_owned());
            if !matches!(ack.as_str(), "AA" | "AE" | "AR") {
                probs.push(format!("expect.ack {ack:?} is not one of AA, AE, AR"));
            }
            if ack != "AA" && e.codes.is_empty() {
                probs.push(format!(
                    "an {ack} expectation must name its codes (expect.codes)"
                ));
            }
            for c in &e.codes {
                if AckCode::from_code(c).is_none() {
                    probs.push(format!(
                        "expect.codes: {c:?} is not an acknowledgement code of the archive"
                    ));
                }
            }
            if let Some(docs) = &e.documents {
                if ack != "AA" {
                    probs.push(
                        "expect.documents goes with an AA answer: a refusal returns no documents"
                            .to_owned(),
                    );
                }
                if matches!(kind, Some(QueryKind::Relationships | QueryKind::Cases)) {
                    probs.push("expect.documents applies to metadata, document and summary queries, whose answers list documents".to_owned());
                }
                for doc in docs {
                    refers(doc, "expect.documents", &mut probs);
                }
            } else if ack == "AA" && e.ack.is_none() {
                probs.push("the step's [step.expect] says nothing: expect.documents = [\"step-id\", …] or expect.ack".to_owned());
            }
            if e.connection.is_some() || e.organisation.is_some() {
                probs.push(
                    "expect.connection and expect.organisation belong to [step.connect] steps"
                        .to_owned(),
                );
            }
            Some(QueryExpect {
                ack: Expect {
                    ack,
                    codes: e.codes.clone(),
                },
                documents: e.documents.clone(),
            })
        }
    };
    let ok = probs.is_empty();
    for m in probs {
        p(m);
    }
    let (Some(kind), Some(expect), true) = (kind, expect, ok) else {
        return None;
    };
    Some((
        QuerySpec {
            kind,
            tls,
            sender,
            register_holder,
            client,
            document: q.document.clone(),
            document_group: q.document_group.clone(),
            service_task: q.service_task.clone(),
            status,
            wrapping: wrapping.or(d.wrapping).unwrap_or(WrappingName::Soap12),
        },
        expect,
    ))
}

fn role(name: &str) -> Result<Role, String> {
    Role::from_stem(name).ok_or_else(|| {
        format!(
            "{name:?} is not a PKI certificate; one of: {}",
            Role::stems()
        )
    })
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| format!("{text:?} is not an RFC 3339 time, e.g. 2026-02-02T10:00:00+02:00"))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled_fixture(name: &str) -> Result<(String, String), String> {
        if name == BUNDLED_FIXTURE {
            Ok((
                mock_archive::BUNDLED_ORGS.to_owned(),
                "orgs.toml".to_owned(),
            ))
        } else {
            Err(format!("cannot read the fixture {name}: no such file"))
        }
    }

    fn load_str(text: &str) -> Result<Case, CaseError> {
        parse(text, "case.toml", &bundled_fixture)
    }

    const HEAD: &str = r#"
title = { fi = "Testi", sv = "Test" }
[defaults]
sender = "2.999.5851.2.1"
service_unit = "2.999.5851.2.1.1"
effective_time = "2026-02-02T10:00:00+02:00"
"#;

    #[test]
    fn a_good_case_loads_with_defaults_applied() {
        let case = load_str(&format!(
            r#"{HEAD}
[[step]]
id = "a"
title = {{ fi = "Tallenna", sv = "Spara" }}
[step.submit]
client = "010190-901R"
payment = "self-paying"
[step.expect]
ack = "AA"
[[step.check]]
register_holder = "2.999.5851.2.1"
status = "active"
version = 1
"#
        ))
        .unwrap();
        assert_eq!(case.id, "case");
        let step = &case.steps[0];
        assert_eq!(step.line, 8);
        let Action::Submit { submission, expect } = &step.action else {
            panic!("not a submission: {:?}", step.action)
        };
        assert_eq!(submission.sender, "2.999.5851.2.1");
        assert_eq!(submission.tls, Role::Client);
        assert_eq!(submission.signer, Role::Signature);
        assert_eq!(expect.ack, "AA");
        assert_eq!(
            step.checks[0].fields,
            vec![
                ("status".to_owned(), "active".to_owned()),
                ("version".to_owned(), "1".to_owned())
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once_with_file_line_and_step() {
        let err = load_str(&format!(
            r#"{HEAD}
[[step]]
id = "a"
title = {{ fi = "A", sv = "A" }}
actor = "your-system"
[step.submit]
client = "010190-901R"
payment = "purchased-service"
tls = "nobody"
replaces = "z"
[step.expect]
ack = "AE"

[[step]]
id = "a"
title = {{ fi = "B", sv = "B" }}
[step.submit]
resend = "a"
[step.expect]
ack = "AA"
codes = ["NOPE"]
[[step.check]]
document = "a"
register_holder = "2.999.5851.2.3"
"#
        ))
        .unwrap_err();
        let text = err.to_string();
        assert_eq!(
            text,
            "the test case has 10 problems:
  case.toml:8: step a: a \"your-system\" step needs an instruction in Finnish and Swedish (instruction = { fi = \"…\", sv = \"…\" })
  case.toml:8: step a: submit.organiser is required for a purchased service or a service voucher
  case.toml:8: step a: \"nobody\" is not a PKI certificate; one of: ca, server, client, vendor, signature, expired-client, unknown-ca, unknown-client, unknown-signature, bad-usage-signature, stranger-client, stranger-signature, county-client, county-signature
  case.toml:8: step a: submit.replaces \"z\" is not an earlier step of this case
  case.toml:8: step a: submit.reason is required with submit.replaces: correction or invalidation
  case.toml:8: step a: an AE expectation must name its codes (expect.codes)
  case.toml:20: step a: the step id \"a\" is used twice
  case.toml:20: step a: expect.codes: \"NOPE\" is not an acknowledgement code of the archive
  case.toml:20: step a: check without check.document on a step that stores no document
  case.toml:20: step a: check.register_holder 2.999.5851.2.3: the fixture has no archivist for this register, so it cannot be inspected"
        );
    }

    #[test]
    fn a_syntax_error_or_unknown_field_names_its_line() {
        let err = load_str(&format!("{HEAD}\n[[step]]\nid = \"a\"\ntitel = \"x\"\n")).unwrap_err();
        let text = err.to_string();
        assert_eq!(
            text,
            "the test case has 3 problems:
  case.toml:10: step a: unknown field `titel` in [[step]]; expected one of id, title, actor, instruction, timeout_seconds, connect, submit, fault, query, admin, expect, check
  case.toml:8: step a: title is missing: title = { fi = \"…\", sv = \"…\" }
  case.toml:8: step a: a step needs [step.connect], [step.submit] or [[step.check]]",
        );
    }

    #[test]
    fn a_bad_default_names_the_defaults_table() {
        let err = load_str(
            "title = { fi = \"T\", sv = \"T\" }\n\n[defaults]\ntls = \"nobody\"\neffective_time = \"eilen\"\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "the test case has 3 problems:\n  case.toml:3: \"nobody\" is not a PKI certificate; one of: {}\n  case.toml:3: \"eilen\" is not an RFC 3339 time, e.g. 2026-02-02T10:00:00+02:00\n  case.toml:1: the case has no [[step]]",
                Role::stems()
            )
        );
    }

    #[test]
    fn every_shape_problem_comes_in_one_pass() {
        let err = load_str(&format!(
            r#"{HEAD}
[[step]]
id = "a"
title = {{ fi = "A" }}
colour = "red"
[step.submit]
template = "letter"
client = "010190-901R"
payment = "self-paying"
[step.expect]
ack = "AA"
[[step.check]]
register_holder = "2.999.5851.2.1"
status = "deleted"
"#
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the test case has 4 problems:
  case.toml:11: step a: unknown field `colour` in [[step]]; expected one of id, title, actor, instruction, timeout_seconds, connect, submit, fault, query, admin, expect, check
  case.toml:8: step a: title.sv is missing
  case.toml:8: step a: submit.template \"letter\" is not one of client-relationship, service-task
  case.toml:8: step a: check.status \"deleted\" is not one of active, replaced, invalidated"
        );
    }

    #[test]
    fn every_problem_of_a_query_step_comes_in_one_pass() {
        let err = load_str(&format!(
            r#"{HEAD}
[[step]]
id = "a"
title = {{ fi = "A", sv = "A" }}
[step.connect]
[[step]]
id = "q"
title = {{ fi = "Q", sv = "Q" }}
actor = "your-system"
instruction = {{ fi = "I", sv = "I" }}
[step.query]
kind = "everything"
tls = "nobody"
register_holder = "2.999.5851.2.99"
document = "a"
status = "lost"
colour = "red"
[step.expect]
ack = "AE"
documents = ["z"]
[[step]]
id = "d"
title = {{ fi = "D", sv = "D" }}
[step.query]
kind = "document"
register_holder = "2.999.5851.2.2"
client = "150575-9025"
[step.expect]
documents = ["a"]
[[step]]
id = "e"
title = {{ fi = "E", sv = "E" }}
[step.admin]
action = "restart"
organiser = "2.999.5851.2.3"
[step.expect]
ack = "AA"
"#
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the test case has 17 problems:
  case.toml:23: step q: unknown field `colour` in [step.query]; expected one of kind, tls, sender, register_holder, client, document, document_group, service_task, status, wrapping
  case.toml:12: step q: a [step.query] or [step.admin] step is made by the reference client (actor = \"reference\"): waiting for your system's query is not built yet
  case.toml:12: step q: query.kind \"everything\" is not one of relationships, cases, metadata, document, summary
  case.toml:12: step q: \"nobody\" is not a PKI certificate; one of: ca, server, client, vendor, signature, expired-client, unknown-ca, unknown-client, unknown-signature, bad-usage-signature, stranger-client, stranger-signature, county-client, county-signature
  case.toml:12: step q: query.client is missing
  case.toml:12: step q: query.register_holder 2.999.5851.2.99 is not an organisation of the fixture
  case.toml:12: step q: query.document \"a\" is a step that stores no document
  case.toml:12: step q: query.status \"lost\" is not one of active, replaced, invalidated
  case.toml:12: step q: an AE expectation must name its codes (expect.codes)
  case.toml:12: step q: expect.documents goes with an AA answer: a refusal returns no documents
  case.toml:12: step q: expect.documents \"z\" is not an earlier step of this case
  case.toml:27: step d: query.document is missing: a document query names one earlier step's document
  case.toml:27: step d: expect.documents \"a\" is a step that stores no document
  case.toml:36: step e: a [step.admin] step expects no acknowledgement; remove [step.expect]
  case.toml:36: step e: admin.action \"restart\" is not one of end-usage-right
  case.toml:36: step e: admin.producer is missing
  case.toml:36: step e: admin.organiser 2.999.5851.2.3: the fixture has no archivist for this register, so the usage right cannot be ended"
        );
    }

    #[test]
    fn a_missing_case_file_is_named_without_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("puuttuu.toml");
        let err = load(&path).unwrap_err();
        assert_eq!(
            err.to_string()
                .replace(&dir.path().display().to_string(), "[dir]"),
            "the test case has 1 problem:\n  [dir]/puuttuu.toml: cannot read the test case: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn a_missing_fixture_is_named() {
        let err = load_str("title = { fi = \"T\", sv = \"T\" }\nfixture = \"missing.toml\"\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the test case has 2 problems:\n  case.toml:1: cannot read the fixture missing.toml: no such file\n  case.toml:1: the case has no [[step]]"
        );
    }
}
