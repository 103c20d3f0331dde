//! Service breaks on purpose: faults a vendor's system must survive, as Kanta's disruption
//! guidance ("Häiriötilanneohje") asks — planned and unplanned breaks, after which a certified
//! system delivers what it queued, exactly once.
//!
//! A [`Fault`] is one kind of break ([`FaultKind`]) with when it starts and how long it lasts:
//! it becomes *due* once `after_requests` message requests (POSTs to the message path) have
//! arrived since it was injected, and then acts on the next `count` requests (connections, for
//! [`FaultKind::Refused`]) or for `seconds` from that moment, whichever ends first (neither
//! given: one). Faults come from a TOML plan at start ([`FaultPlan::parse`], `mock-archive serve
//! --faults FILE`), from `PUT /inspect/faults` with the archive's admin token ([`PATH`]), or
//! from a vendor's Rust test (`MockArchiveHandle::inject`).
//!
//! What each kind does to the client (the server side is in `http.rs` and `server.rs`, which
//! ask `FaultState` what to do):
//! - `unavailable`: `503 Service Unavailable` with `Retry-After` and a SOAP Fault; nothing is
//!   processed;
//! - `refused`: the connection is reset at once (`stage = "tcp"`; a client sees its connection
//!   reset where a closed port would refuse it) or the TLS handshake is aborted with a
//!   `handshake_failure` alert after the ClientHello (`stage = "tls"`);
//! - `slow`: the answer is delayed (`delay_ms`, a fixed value or `[low, high]`), then given;
//! - `reset`: nothing is processed; the answer's headers and half its body are sent, then the
//!   connection is closed;
//! - `answer-lost`: the message is processed (a document is stored and committed), then the
//!   connection is closed before a byte of the answer: a resend of the same message gets the
//!   same acknowledgement from the store and stores nothing twice;
//! - `ar`: the message gets an `AR` acknowledgement with the code `SYS-BREAK`; nothing stored.
//!
//! Every fault that acts is kept in the fault log (`FaultState::events`, `GET
//! /inspect/faults`), and each one that touches a request or a connection is also an audit-log
//! entry (outcome `AR`, code `SYS-BREAK`, under the message's register holder when it can be
//! read, so it shows in the archivist view's request log; a refused connection has no holder).
//! `slow` changes no answer and is in the fault log only.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::format::Wrapping;
use crate::pipeline::{Answer, Incoming, content_type_of, soap_fault};
use crate::shared::Shared;

/// The path of the fault API on the message listener (admin token).
pub const PATH: &str = "/inspect/faults";

/// How many fault events are kept in memory.
const MAX_EVENTS: usize = 1000;

/// The `Retry-After` of an `unavailable` fault unless the plan says otherwise, in seconds.
pub const DEFAULT_RETRY_AFTER: u64 = 1;

/// One kind of service break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FaultKind {
    /// `503` with `Retry-After` and a SOAP Fault.
    Unavailable,
    /// The connection reset, or the TLS handshake aborted.
    Refused,
    /// The answer delayed.
    Slow,
    /// The connection closed in the middle of the answer.
    Reset,
    /// The message stored, then the connection closed before the answer.
    AnswerLost,
    /// An `AR` acknowledgement.
    Ar,
}

impl FaultKind {
    /// Every kind, in the plan's spelling.
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Unavailable,
        FaultKind::Refused,
        FaultKind::Slow,
        FaultKind::Reset,
        FaultKind::AnswerLost,
        FaultKind::Ar,
    ];

    /// The plan's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Unavailable => "unavailable",
            FaultKind::Refused => "refused",
            FaultKind::Slow => "slow",
            FaultKind::Reset => "reset",
            FaultKind::AnswerLost => "answer-lost",
            FaultKind::Ar => "ar",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown fault kind {s:?}: use unavailable, refused, slow, reset, answer-lost or ar"
                )
            })
    }
}

/// Where a `refused` fault breaks the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefuseStage {
    /// Reset the TCP connection as soon as it is accepted.
    Tcp,
    /// Read the ClientHello, then abort the handshake with a `handshake_failure` alert.
    Tls,
}

/// One fault: its kind, when it starts and how long it lasts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    /// What it does.
    pub kind: FaultKind,
    /// Message requests that pass untouched (since the fault was injected) before it is due.
    pub after_requests: u64,
    /// How long after its injection it is due at the earliest (e.g. an answer lost right
    /// after a planned break).
    #[serde(serialize_with = "seconds")]
    pub after: Option<Duration>,
    /// How many requests (connections, for `refused`) it acts on at most.
    pub count: Option<u64>,
    /// How long it lasts from when it became due.
    #[serde(serialize_with = "seconds")]
    pub seconds: Option<Duration>,
    /// `unavailable`: the `Retry-After` value, in seconds.
    pub retry_after: u64,
    /// `slow`: the delay, in milliseconds, drawn evenly from `low..=high`.
    pub delay_ms: (u64, u64),
    /// `refused`: where the connection breaks.
    pub stage: RefuseStage,
}

fn seconds<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

impl Fault {
    fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            after_requests: 0,
            after: None,
            count: None,
            seconds: None,
            retry_after: DEFAULT_RETRY_AFTER,
            delay_ms: (0, 0),
            stage: RefuseStage::Tcp,
        }
    }

    /// `503` with `Retry-After` ([`Fault::retry_after`], default 1 s) and a SOAP Fault.
    pub fn unavailable() -> Self {
        Self::new(FaultKind::Unavailable)
    }

    /// Connections reset as soon as they are accepted.
    pub fn refused() -> Self {
        Self::new(FaultKind::Refused)
    }

    /// TLS handshakes aborted with a `handshake_failure` alert after the ClientHello.
    pub fn handshake_aborted() -> Self {
        Self {
            stage: RefuseStage::Tls,
            ..Self::new(FaultKind::Refused)
        }
    }

    /// Each answer delayed by `delay`.
    pub fn slow(delay: Duration) -> Self {
        let ms = delay.as_millis() as u64;
        Self {
            delay_ms: (ms, ms),
            ..Self::new(FaultKind::Slow)
        }
    }

    /// Each answer delayed by a time drawn evenly from `low..=high`.
    pub fn slow_between(low: Duration, high: Duration) -> Self {
        let (low, high) = (low.as_millis() as u64, high.as_millis() as u64);
        Self {
            delay_ms: (low.min(high), low.max(high)),
            ..Self::new(FaultKind::Slow)
        }
    }

    /// The connection closed after the answer's headers and half its body; nothing processed.
    pub fn reset() -> Self {
        Self::new(FaultKind::Reset)
    }

    /// The message processed and stored, then the connection closed before the answer.
    pub fn answer_lost() -> Self {
        Self::new(FaultKind::AnswerLost)
    }

    /// `AR` (code `SYS-BREAK`) for the messages; nothing stored.
    pub fn ar() -> Self {
        Self::new(FaultKind::Ar)
    }

    /// Lets `n` message requests pass before the fault is due.
    pub fn after_requests(mut self, n: u64) -> Self {
        self.after_requests = n;
        self
    }

    /// Is due no earlier than `delay` after its injection.
    pub fn after(mut self, delay: Duration) -> Self {
        self.after = Some(delay);
        self
    }

    /// Acts on `n` requests (connections, for `refused`) at most.
    pub fn count(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }

    /// Lasts `window` from when it became due.
    pub fn lasting(mut self, window: Duration) -> Self {
        self.seconds = Some(window);
        self
    }

    /// The `Retry-After` of an `unavailable` fault, in seconds.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = seconds;
        self
    }

    /// One line for logs and the audit trail.
    pub fn describe(&self) -> String {
        let mut text = format!("injected fault {}", self.kind);
        match self.kind {
            FaultKind::Unavailable => {
                text.push_str(&format!(" (503, Retry-After {})", self.retry_after))
            }
            FaultKind::Slow if self.delay_ms.0 == self.delay_ms.1 => {
                text.push_str(&format!(" ({} ms)", self.delay_ms.0));
            }
            FaultKind::Slow => {
                text.push_str(&format!(" ({}..{} ms)", self.delay_ms.0, self.delay_ms.1));
            }
            FaultKind::Refused => text.push_str(match self.stage {
                RefuseStage::Tcp => " (connection reset)",
                RefuseStage::Tls => " (TLS handshake aborted)",
            }),
            FaultKind::Reset | FaultKind::AnswerLost | FaultKind::Ar => {}
        }
        text
    }
}

/// One problem of a fault plan, at its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanProblem {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A fault plan that could not be read: every problem, each with `file:line`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct PlanError {
    /// The file (or `<request body>`).
    pub file: String,
    /// Every problem, in order.
    pub problems: Vec<PlanProblem>,
}

impl PlanError {
    fn render(&self) -> String {
        let lines: Vec<String> = self
            .problems
            .iter()
            .map(|p| format!("{}:{}: {}", self.file, p.line, p.message))
            .collect();
        format!(
            "the fault plan has {} problem(s):\n{}",
            lines.len(),
            lines.join("\n")
        )
    }
}

/// A list of faults, as a plan file or `PUT /inspect/faults` gives it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultPlan {
    /// The faults, in the plan's order.
    pub faults: Vec<Fault>,
}

/// The keys a `[[fault]]` table may have.
const KEYS: &[&str] = &[
    "kind",
    "after_requests",
    "after_seconds",
    "count",
    "seconds",
    "retry_after",
    "delay_ms",
    "stage",
];

impl FaultPlan {
    /// Reads a plan file.
    pub fn load(path: &std::path::Path) -> Result<Self, PlanError> {
        let file = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &file),
            Err(e) => Err(PlanError {
                file,
                problems: vec![PlanProblem {
                    line: 0,
                    message: format!("cannot read the fault plan: {e}"),
                }],
            }),
        }
    }

    /// Reads a plan's text; `file` names it in problems. Every problem is reported.
    pub fn parse(text: &str, file: &str) -> Result<Self, PlanError> {
        use toml::de::{DeTable, DeValue};
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let mut problems = Vec::new();
        let (root, errors) = DeTable::parse_recoverable(text);
        for e in &errors {
            let line = e.span().map_or(1, |s| line_of(s.start));
            problems.push(PlanProblem {
                line,
                message: format!("not valid TOML: {}", e.message().trim()),
            });
        }
        let mut faults = Vec::new();
        for (key, value) in root.get_ref() {
            if key.get_ref().as_ref() != "fault" {
                problems.push(PlanProblem {
                    line: line_of(key.span().start),
                    message: format!(
                        "unknown key {:?}: a plan is a list of [[fault]] tables",
                        key.get_ref().as_ref()
                    ),
                });
                continue;
            }
            let DeValue::Array(tables) = value.get_ref() else {
                problems.push(PlanProblem {
                    line: line_of(key.span().start),
                    message: "fault must be an array of tables: write [[fault]]".to_owned(),
                });
                continue;
            };
            for table in tables {
                let DeValue::Table(table) = table.get_ref() else {
                    problems.push(PlanProblem {
                        line: line_of(table.span().start),
                        message: "each fault must be a table".to_owned(),
                    });
                    continue;
                };
                let header = table
                    .keys()
                    .map(|k| k.span().start)
                    .min()
                    .map_or(line_of(key.span().start), line_of);
                if let Some(fault) = read_fault(table, header, &line_of, &mut problems) {
                    faults.push(fault);
                }
            }
        }
        if problems.is_empty() {
            Ok(FaultPlan { faults })
        } else {
            problems.sort_by_key(|p| p.line);
            Err(PlanError {
                file: file.to_owned(),
                problems,
            })
        }
    }
}

/// One `[[fault]]` table; `None` (with its problems pushed) when it is not a fault.
fn read_fault(
    table: &toml::de::DeTable<'_>,
    first_line: usize,
    line_of: &dyn Fn(usize) -> usize,
    problems: &mut Vec<PlanProblem>,
) -> Option<Fault> {
    use toml::de::DeValue;
    let before = problems.len();
    let mut problem = |line: usize, message: String| problems.push(PlanProblem { line, message });
    let mut kind = None;
    let mut fault = Fault::new(FaultKind::Unavailable);
    let mut given: Vec<(&str, usize)> = Vec::new();
    for (key, value) in table {
        let name = key.get_ref().as_ref();
        let line = line_of(key.span().start);
        let integer = |what: &str| -> Result<u64, String> {
            match value.get_ref() {
                DeValue::Integer(i) => {
                    u64::from_str_radix(i.as_str().replace('_', "").as_str(), i.radix())
                        .map_err(|_| format!("{what} must be a whole number of 0 or more"))
                }
                _ => Err(format!("{what} must be a whole number of 0 or more")),
            }
        };
        match name {
            "kind" => match value.get_ref() {
                DeValue::String(s) => match s.parse::<FaultKind>() {
                    Ok(k) => kind = Some(k),
                    Err(e) => problem(line, e),
                },
                _ => problem(line, "kind must be a string".to_owned()),
            },
            "after_requests" => match integer("after_requests") {
                Ok(n) => fault.after_requests = n,
                Err(e) => problem(line, e),
            },
            "count" => match integer("count") {
                Ok(0) => problem(line, "count must be at least 1".to_owned()),
                Ok(n) => fault.count = Some(n),
                Err(e) => problem(line, e),
            },
            "retry_after" => match integer("retry_after") {
                Ok(n) => fault.retry_after = n,
                Err(e) => problem(line, e),
            },
            "seconds" | "after_seconds" => {
                let secs = match value.get_ref() {
                    DeValue::Integer(_) => integer(name).map(|n| n as f64),
                    DeValue::Float(f) => f
                        .as_str()
                        .replace('_', "")
                        .parse::<f64>()
                        .map_err(|_| format!("{name} must be a number")),
                    _ => Err(format!("{name} must be a number")),
                };
                match secs {
                    Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => {
                        let d = Some(Duration::from_secs_f64(s));
                        if name == "seconds" {
                            fault.seconds = d;
                        } else {
                            fault.after = d;
                        }
                    }
                    Ok(_) => problem(
                        line,
                        format!("{name} must be more than 0 and at most 86400"),
                    ),
                    Err(e) => problem(line, e),
                }
            }
            "delay_ms" => {
                let one = |v: &DeValue<'_>| match v {
                    DeValue::Integer(i) => {
                        u64::from_str_radix(i.as_str().replace('_', "").as_str(), i.radix()).ok()
                    }
                    _ => None,
                };
                let range = match value.get_ref() {
                    DeValue::Integer(_) => one(value.get_ref()).map(|n| (n, n)),
                    DeValue::Array(items) if items.len() == 2 => {
                        match (one(items[0].get_ref()), one(items[1].get_ref())) {
                            (Some(a), Some(b)) => Some((a, b)),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                match range {
                    Some((a, b)) if a > b => problem(
                        line,
                        format!("delay_ms [{a}, {b}]: the low end is above the high end"),
                    ),
                    Some((_, b)) if b > 600_000 => {
                        problem(
                            line,
                            "delay_ms must be at most 600000 (ten minutes)".to_owned(),
                        );
                    }
                    Some(r) => fault.delay_ms = r,
                    None => problem(
                        line,
                        "delay_ms must be milliseconds (a whole number) or a range [low, high]"
                            .to_owned(),
                    ),
                }
            }
            "stage" => match value.get_ref() {
                DeValue::String(s) if s.as_ref() == "tcp" => fault.stage = RefuseStage::Tcp,
                DeValue::String(s) if s.as_ref() == "tls" => fault.stage = RefuseStage::Tls,
                _ => problem(line, "stage must be \"tcp\" or \"tls\"".to_owned()),
            },
            other => {
                problem(
                    line,
                    format!("unknown key {other:?}: a fault takes {}", KEYS.join(", ")),
                );
                continue;
            }
        }
        given.push((name, line));
    }
    let Some(kind) = kind else {
        if !given.iter().any(|(k, _)| *k == "kind") {
            problem(
                first_line,
                "a fault needs kind = \"unavailable\", \"refused\", \"slow\", \"reset\", \"answer-lost\" or \"ar\"".to_owned(),
            );
        }
        return None;
    };
    fault.kind = kind;
    let only = |key: &str, kinds: &[FaultKind]| {
        !kinds.contains(&kind) && given.iter().any(|(k, _)| *k == key)
    };
    for (key, kinds) in [
        ("retry_after", &[FaultKind::Unavailable][..]),
        ("delay_ms", &[FaultKind::Slow][..]),
        ("stage", &[FaultKind::Refused][..]),
    ] {
        if only(key, kinds) {
            let line = given
                .iter()
                .find(|(k, _)| *k == key)
                .map_or(first_line, |(_, l)| *l);
            let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
            problem(
                line,
                format!(
                    "{key} applies only to kind = {}, not to {kind}",
                    names.join(", ")
                ),
            );
        }
    }
    if kind == FaultKind::Slow && !given.iter().any(|(k, _)| *k == "delay_ms") {
        problem(first_line, "a slow fault needs delay_ms".to_owned());
    }
    (problems.len() == before).then_some(fault)
}

/// What a message request meets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OnMessage {
    /// Wait this long before answering (`slow`).
    pub(crate) delay: Option<Duration>,
    /// The break the answer meets, if any (the first due in plan order).
    pub(crate) fault: Option<Fault>,
}

/// One fault that acted.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    /// When (RFC 3339).
    pub at: String,
    /// The kind.
    pub kind: FaultKind,
    /// What it did, and to whom.
    pub detail: String,
}

#[derive(Debug)]
struct Armed {
    fault: Fault,
    /// Message requests seen when it was injected.
    base: u64,
    /// When it was injected.
    injected: Instant,
    /// When it became due.
    due_since: Option<Instant>,
    /// Requests or connections it acted on.
    used: u64,
}

impl Armed {
    fn expired(&self, now: Instant) -> bool {
        let limit = match (self.fault.count, self.fault.seconds) {
            (None, None) => Some(1),
            (count, _) => count,
        };
        limit.is_some_and(|n| self.used >= n)
            || matches!((self.due_since, self.fault.seconds), (Some(t), Some(w)) if now >= t + w)
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Message requests since start.
    requests: u64,
    armed: Vec<Armed>,
    events: VecDeque<FaultEvent>,
}

impl Inner {
    fn arm(&mut self, fault: Fault) {
        let due_since = (fault.after_requests == 0 && fault.after.is_none()).then(Instant::now);
        self.armed.push(Armed {
            fault,
            base: self.requests,
            injected: Instant::now(),
            due_since,
            used: 0,
        });
    }

    fn event(&mut self, kind: FaultKind, detail: String) {
        let at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        tracing::warn!("{detail}");
        self.events.push_back(FaultEvent { at, kind, detail });
        while self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
    }
}

/// The faults of one running archive, and its admin token.
#[derive(Debug)]
pub(crate) struct FaultState {
    inner: Mutex<Inner>,
    admin_token: String,
}

impl FaultState {
    /// The plan's faults armed now; `admin_token` opens [`PATH`].
    pub(crate) fn new(plan: &[Fault], admin_token: String) -> Self {
        let mut inner = Inner::default();
        for fault in plan {
            inner.arm(fault.clone());
        }
        Self {
            inner: Mutex::new(inner),
            admin_token,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The admin token.
    pub(crate) fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Adds a fault, counting its `after_requests` from now.
    pub(crate) fn inject(&self, fault: Fault) {
        let mut inner = self.lock();
        let text = format!("armed: {}", fault.describe());
        tracing::info!("{text}");
        inner.arm(fault);
    }

    /// Removes every armed fault.
    pub(crate) fn clear(&self) {
        self.lock().armed.clear();
    }

    /// The faults that acted, oldest first (the latest [`MAX_EVENTS`]).
    pub(crate) fn events(&self) -> Vec<FaultEvent> {
        self.lock().events.iter().cloned().collect()
    }

    /// A message request arrived: counts it and says what it meets.
    pub(crate) fn on_message(&self, what: &str) -> OnMessage {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.requests += 1;
        let requests = inner.requests;
        let mut delay = None;
        let mut fault = None;
        let mut fired = Vec::new();
        for armed in &mut inner.armed {
            if armed.fault.kind == FaultKind::Refused {
                continue;
            }
            if armed.due_since.is_none()
                && requests - armed.base > armed.fault.after_requests
                && armed.fault.after.is_none_or(|a| now >= armed.injected + a)
            {
                armed.due_since = Some(now);
            }
            if armed.due_since.is_none() || armed.expired(now) {
                continue;
            }
            match armed.fault.kind {
                FaultKind::Slow => {
                    let (low, high) = armed.fault.delay_ms;
                    let ms = low + random_below(high - low + 1);
                    delay = Some(delay.unwrap_or(Duration::ZERO) + Duration::from_millis(ms));
                    armed.used += 1;
                    fired.push((
                        FaultKind::Slow,
                        format!("{}: {what} delayed {ms} ms", armed.fault.describe()),
                    ));
                }
                _ if fault.is_none() => {
                    armed.used += 1;
                    fired.push((
                        armed.fault.kind,
                        format!("{}: {what}", armed.fault.describe()),
                    ));
                    fault = Some(armed.fault.clone());
                }
                _ => {}
            }
        }
        inner.armed.retain(|a| !a.expired(now));
        for (kind, detail) in fired {
            inner.event(kind, detail);
        }
        OnMessage { delay, fault }
    }

    /// A connection arrived on the message listener: whether a `refused` fault breaks it.
    pub(crate) fn on_connect(&self, remote: std::net::SocketAddr) -> Option<Fault> {
        let now = Instant::now();
        let mut inner = self.lock();
        let requests = inner.requests;
        let mut hit = None;
        for armed in &mut inner.armed {
            if armed.fault.kind != FaultKind::Refused {
                continue;
            }
            if armed.due_since.is_none()
                && requests - armed.base >= armed.fault.after_requests
                && armed.fault.after.is_none_or(|a| now >= armed.injected + a)
            {
                armed.due_since = Some(now);
            }
            if armed.due_since.is_some() && !armed.expired(now) {
                armed.used += 1;
                hit = Some(armed.fault.clone());
                break;
            }
        }
        inner.armed.retain(|a| !a.expired(now));
        if let Some(fault) = &hit {
            inner.event(
                fault.kind,
                format!("{}: connection from {remote}", fault.describe()),
            );
        }
        hit
    }

    /// `GET` / `PUT` / `DELETE` [`PATH`]: an HTTP status and a JSON body. `PUT` adds the faults
    /// of a TOML plan in the body (the plan file's format); `DELETE` removes every armed fault;
    /// `GET` lists the armed faults and the fault log.
    pub(crate) fn answer(
        &self,
        method: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> (u16, Value) {
        let token = authorization
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(token) = token else {
            return (
                401,
                json!({ "error": format!("{PATH} needs the archive's admin token: Authorization: Bearer <admin token>") }),
            );
        };
        if !constant_time_eq(token.as_bytes(), self.admin_token.as_bytes()) {
            return (
                403,
                json!({ "error": format!("{PATH}: not the admin token (an archivist's token does not open it)") }),
            );
        }
        match method {
            "GET" => {
                let inner = self.lock();
                let armed: Vec<&Fault> = inner.armed.iter().map(|a| &a.fault).collect();
                let events: Vec<&FaultEvent> = inner.events.iter().collect();
                (200, json!({ "armed": armed, "events": events }))
            }
            "PUT" => {
                let text = match std::str::from_utf8(body) {
                    Ok(text) => text,
                    Err(_) => {
                        return (
                            400,
                            json!({ "error": format!("{PATH}: the body is not UTF-8 text") }),
                        );
                    }
                };
                match FaultPlan::parse(text, "<request body>") {
                    Ok(plan) => {
                        let n = plan.faults.len();
                        for fault in plan.faults {
                            self.inject(fault);
                        }
                        let armed = self.lock().armed.len();
                        (200, json!({ "injected": n, "armed": armed }))
                    }
                    Err(e) => (400, json!({ "error": e.to_string() })),
                }
            }
            "DELETE" => {
                self.clear();
                (200, json!({ "armed": 0 }))
            }
            other => (
                405,
                json!({ "error": format!("{PATH} takes GET, PUT or DELETE, not {other}") }),
            ),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A uniform draw from `0..n` (n ≥ 1), from aws-lc-rs's generator.
fn random_below(n: u64) -> u64 {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    if n <= 1 {
        return 0;
    }
    let mut bytes = [0u8; 8];
    let _ = SystemRandom::new().fill(&mut bytes);
    u64::from_le_bytes(bytes) % n
}

/// A fresh admin token: 32 random bytes, hexadecimal.
pub(crate) fn new_admin_token() -> String {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How the HTTP layer answers a message request under the faults.
pub(crate) enum Outcome {
    /// The pipeline's answer (an `ar` fault's `AR` included), perhaps after a `slow` delay.
    Answer(Answer),
    /// `unavailable`: this answer (503, SOAP Fault) with `Retry-After` in seconds.
    Unavailable(Answer, u64),
    /// `reset`: this answer's headers and half its body, then the connection closed.
    Cut(Answer),
    /// `answer-lost`: the connection closed before the answer (the message was processed).
    Vanish,
}

/// A message request under the armed faults: counts it, applies what is due, records each
/// break in the audit log ([`Pipeline::record_break`](crate::pipeline::Pipeline::record_break)).
pub(crate) async fn message(shared: &Shared, incoming: Incoming) -> Outcome {
    let what = format!(
        "message request from {}",
        incoming
            .tls_organisation
            .as_deref()
            .unwrap_or("(no organisation OID)")
    );
    let due = shared.faults.on_message(&what);
    if let Some(delay) = due.delay {
        tokio::time::sleep(delay).await;
    }
    let pipeline = &shared.pipeline;
    let Some(fault) = due.fault else {
        return Outcome::Answer(pipeline.handle(incoming).await);
    };
    let what = fault.describe();
    match fault.kind {
        FaultKind::Unavailable => {
            pipeline.record_break(Some(&incoming), &what).await;
            let answer = Answer {
                status: 503,
                content_type: content_type_of(Wrapping::Soap11),
                body: soap_fault(
                    "soap:Server",
                    &format!(
                        "the archive is in a service break ({what}): try again after {} s",
                        fault.retry_after
                    ),
                ),
                recorded: None,
            };
            Outcome::Unavailable(answer, fault.retry_after)
        }
        FaultKind::Reset => {
            pipeline.record_break(Some(&incoming), &what).await;
            Outcome::Cut(Answer {
                status: 503,
                content_type: content_type_of(Wrapping::Soap11),
                body: soap_fault(
                    "soap:Server",
                    &format!("the archive is in a service break ({what})"),
                ),
                recorded: None,
            })
        }
        FaultKind::AnswerLost => {
            let answer = pipeline.handle(incoming.clone()).await;
            let what = format!(
                "{what}: the answer ({}) was not sent",
                answer
                    .recorded
                    .as_ref()
                    .map_or("no acknowledgement", |r| r.type_code.as_str())
            );
            pipeline.record_break(Some(&incoming), &what).await;
            Outcome::Vanish
        }
        FaultKind::Ar => Outcome::Answer(pipeline.record_break(Some(&incoming), &what).await),
        // Not asked for by a message request (refused acts on connections, slow above).
        FaultKind::Refused | FaultKind::Slow => Outcome::Answer(pipeline.handle(incoming).await),
    }
}

/// Breaks a freshly accepted connection for a `refused` fault: resets it, or reads the
/// ClientHello and aborts the handshake with a `handshake_failure` alert.
pub(crate) async fn refuse(tcp: tokio::net::TcpStream, stage: RefuseStage) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    match stage {
        RefuseStage::Tcp => {
            // A zero linger makes the close an RST: the client's connection is reset at once.
            let _ = tcp.set_zero_linger();
            drop(tcp);
        }
        RefuseStage::Tls => {
            let mut tcp = tcp;
            let mut hello = [0u8; 16 * 1024];
            let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut hello)).await;
            // TLS 1.2 record: alert, fatal (2), handshake_failure (40).
            let _ = tcp
                .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
                .await;
            let _ = tcp.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_reads_every_kind() {
        let plan = FaultPlan::parse(
            "[[fault]]\nkind = \"unavailable\"\nafter_requests = 2\ncount = 3\nretry_after = 5\n\
             [[fault]]\nkind = \"refused\"\nseconds = 1.5\nstage = \"tls\"\n\
             [[fault]]\nkind = \"slow\"\ndelay_ms = [100, 200]\n\
             [[fault]]\nkind = \"reset\"\n[[fault]]\nkind = \"answer-lost\"\n\
             [[fault]]\nkind = \"ar\"\ncount = 2\n",
            "plan.toml",
        )
        .unwrap();
        assert_eq!(
            plan.faults,
            vec![
                Fault::unavailable()
                    .after_requests(2)
                    .count(3)
                    .retry_after(5),
                Fault::handshake_aborted().lasting(Duration::from_millis(1500)),
                Fault::slow_between(Duration::from_millis(100), Duration::from_millis(200)),
                Fault::reset(),
                Fault::answer_lost(),
                Fault::ar().count(2),
            ]
        );
    }

    #[test]
    fn every_problem_of_a_plan_is_listed_with_its_line() {
        let text = "\
[[fault]]
kind = \"outage\"
count = 0

[[fault]]
after_requests = -1
delay_ms = [300, 100]

[[fault]]
kind = \"slow\"
retry_after = 3
colour = \"red\"

[[fault]]
kind = \"unavailable\"
seconds = 0
stage = \"udp\"
delay_ms = 5

[other]
x = 1
";
        let err = FaultPlan::parse(text, "faults.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the fault plan has 13 problem(s):
faults.toml:2: unknown fault kind \"outage\": use unavailable, refused, slow, reset, answer-lost or ar
faults.toml:3: count must be at least 1
faults.toml:6: after_requests must be a whole number of 0 or more
faults.toml:6: a fault needs kind = \"unavailable\", \"refused\", \"slow\", \"reset\", \"answer-lost\" or \"ar\"
faults.toml:7: delay_ms [300, 100]: the low end is above the high end
faults.toml:10: a slow fault needs delay_ms
faults.toml:11: retry_after applies only to kind = unavailable, not to slow
faults.toml:12: unknown key \"colour\": a fault takes kind, after_requests, after_seconds, count, seconds, retry_after, delay_ms, stage
faults.toml:16: seconds must be more than 0 and at most 86400
faults.toml:17: stage must be \"tcp\" or \"tls\"
faults.toml:17: stage applies only to kind = refused, not to unavailable
faults.toml:18: delay_ms applies only to kind = slow, not to unavailable
faults.toml:20: unknown key \"other\": a plan is a list of [[fault]] tables"
        );
    }

    #[test]
    fn broken_toml_is_named_with_its_line() {
        let err = FaultPlan::parse("[[fault]]\nkind = \"ar\"\ncount = \n", "f.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the fault plan has 2 problem(s):\n\
             f.toml:3: not valid TOML: string values must be quoted, expected literal string\n\
             f.toml:3: count must be a whole number of 0 or more"
        );
    }

    #[test]
    fn a_fault_waits_its_requests_then_acts_its_count() {
        let state = FaultState::new(&[Fault::ar().after_requests(1).count(2)], "t".into());
        let kinds: Vec<Option<FaultKind>> = (0..5)
            .map(|_| state.on_message("m").fault.map(|f| f.kind))
            .collect();
        assert_eq!(
            kinds,
            [None, Some(FaultKind::Ar), Some(FaultKind::Ar), None, None]
        );
        assert_eq!(state.events().len(), 2);
        // Injected later: its after_requests count from then.
        state.inject(Fault::unavailable().after_requests(1));
        assert_eq!(state.on_message("m").fault, None);
        assert_eq!(
            state.on_message("m").fault.map(|f| f.kind),
            Some(FaultKind::Unavailable)
        );
        assert_eq!(state.on_message("m").fault, None);
    }

    #[test]
    fn the_admin_api_needs_the_admin_token() {
        let state = FaultState::new(&[], "secret".into());
        assert_eq!(state.answer("GET", None, b"").0, 401);
        assert_eq!(state.answer("GET", Some("Bearer nope"), b"").0, 403);
        let (status, body) =
            state.answer("PUT", Some("Bearer secret"), b"[[fault]]\nkind = \"ar\"\n");
        assert_eq!((status, body), (200, json!({ "injected": 1, "armed": 1 })));
        let (status, body) =
            state.answer("PUT", Some("Bearer secret"), b"[[fault]]\nkind = \"x\"\n");
        assert_eq!(status, 400);
        assert_eq!(
            body["error"],
            "the fault plan has 1 problem(s):\n<request body>:2: unknown fault kind \"x\": use unavailable, refused, slow, reset, answer-lost or ar"
        );
        assert_eq!(
            state.answer("DELETE", Some("Bearer secret"), b"").1,
            json!({ "armed": 0 })
        );
    }
}
