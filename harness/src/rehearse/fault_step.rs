//! The planned service break (`[step.fault]`): Kanta's disruption guidance
//! ("Häiriötilanneohje") asks a system to keep working through the archive's breaks, queue
//! what it could not store, and store it exactly once when the archive is back.
//!
//! The step breaks the archive through its fault API (`PUT /inspect/faults`, admin token) for
//! the plan's seconds (`unavailable`: 503 with `Retry-After`; `refused`: connections reset),
//! with an answer lost on the first delivery after it when asked. Meanwhile documents are
//! recorded for the client: versions 1..N of one new document. In SUT mode the vendor's
//! system does that (the step shows its instruction and watches the audit log); in reference
//! mode the harness plays a well-behaved queueing client. Then the step reads the register
//! holder's audit log and each entry's request, and judges: every version stored exactly
//! once, in version order, within the step's time; no document sent under two message ids;
//! no delivery refused; the document whose answer was lost resent under the same message id
//! (answered from the archive's record).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use kanta_profile::ack;
use serde_json::Value;

use super::case::{BreakKind, BreakPlan, Case, Step, Submission};
use super::{Event, Fail, Runner, message_values, now_rfc3339, template_of, token_for};
use crate::compose::{self, ReplacementReason, Replaces};
use crate::results::{ActualAck, ExpectedAck, Outage, StepResult};

/// The code of the archive's audit entries for injected faults (`mock_archive::fault`).
const BREAK_CODE: &str = "SYS-BREAK";

/// What a message request carried, read back from the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    message_id: String,
    client: String,
    document_id: String,
    set_id: String,
    version: u32,
}

/// One audit entry of the register holder, with its request when the archive kept it.
#[derive(Debug, Clone)]
struct Entry {
    id: i64,
    outcome: String,
    codes: Vec<String>,
    replayed: bool,
    document_id: Option<String>,
    sent: Option<Sent>,
}

impl Entry {
    fn is_break(&self) -> bool {
        self.codes.iter().any(|c| c == BREAK_CODE)
    }

    /// A first acceptance: a document stored by this request.
    fn stored(&self) -> bool {
        self.outcome == "AA" && !self.replayed && self.document_id.is_some()
    }
}

impl Runner<'_> {
    /// Runs a `[step.fault]` step: the break, the documents, the judgement.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fault_step(
        &mut self,
        case: &Case,
        step: &Step,
        sut: bool,
        sub: &Submission,
        plan: &BreakPlan,
        result: &mut StepResult,
        watch: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), Fail> {
        result.expected = ExpectedAck {
            ack: "AA".to_owned(),
            codes: vec![],
        };
        let Some(admin) = self.setup.admin_token.clone() else {
            return Err(Fail::Env(
                "this step breaks the archive on purpose and needs its admin token: give \
                 --admin-token (mock-archive serve prints it at start as admin_token)"
                    .to_owned(),
            ));
        };
        let holder = message_values(&case.fixture, sub, String::new(), String::new())
            .custodian
            .oid;
        let Some(token) = token_for(&case.fixture, &holder).map(str::to_owned) else {
            return Err(Fail::Step(format!(
                "the fixture has no archivist for the register of {holder}, so the documents cannot be checked"
            )));
        };
        let mut cache = HashMap::new();
        let baseline = self
            .break_entries(&token, 0, &mut cache, false)
            .await?
            .iter()
            .map(|e| e.id)
            .max()
            .unwrap_or(0);
        self.put_faults(&admin, &plan_toml(plan)).await?;
        let timeout = step
            .timeout_seconds
            .map_or(self.setup.step_timeout, Duration::from_secs);
        let deadline = Instant::now() + timeout;
        if sut {
            watch(Event::Waiting {
                case,
                step,
                timeout,
            });
            loop {
                let entries = self
                    .break_entries(&token, baseline, &mut cache, true)
                    .await?;
                let mine: Vec<&Entry> = entries.iter().filter(|e| of_client(e, sub)).collect();
                if complete(&mine, plan) || Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        } else {
            self.queueing_client(case, sub, plan, deadline).await?;
        }
        let entries = self
            .break_entries(&token, baseline, &mut cache, true)
            .await?;
        let mine: Vec<&Entry> = entries.iter().filter(|e| of_client(e, sub)).collect();
        for e in &mine {
            self.claimed.insert(e.id);
        }
        // Entries of the break whose request was not readable (a refused connection has
        // none) are the break's, not strays.
        for e in entries.iter().filter(|e| e.is_break() && e.sent.is_none()) {
            self.claimed.insert(e.id);
        }
        let failures = judge_break(&mine, plan, timeout);
        let stored: Vec<&&Entry> = mine.iter().filter(|e| e.stored()).collect();
        result.document_id = stored.first().and_then(|e| e.document_id.clone());
        result.register_holder = Some(holder);
        result.actual = Some(ActualAck {
            ack: if failures.is_empty() {
                "AA".to_owned()
            } else {
                format!("{} of {} stored", stored.len(), plan.documents)
            },
            codes: vec![],
            message_id: None,
        });
        result.failures.extend(failures);
        Ok(())
    }

    /// `PUT /inspect/faults` with the admin token.
    async fn put_faults(&mut self, admin: &str, plan: &str) -> Result<(), Fail> {
        let reply = match self.connection(crate::pki::Role::Client).await {
            Ok(conn) => {
                conn.send_as(
                    "PUT",
                    super::FAULTS_PATH,
                    "application/toml",
                    admin,
                    plan.to_owned(),
                )
                .await
            }
            Err(e) => Err(e),
        };
        match reply {
            Ok(r) if r.status == 200 => Ok(()),
            Ok(r) => Err(Fail::Env(format!(
                "the archive did not take the break ({}): HTTP {} {}",
                super::FAULTS_PATH,
                r.status,
                String::from_utf8_lossy(&r.body)
            ))),
            Err(e) => {
                self.connections.remove(&crate::pki::Role::Client);
                Err(Fail::Env(format!(
                    "the archive's fault API did not answer: {e}"
                )))
            }
        }
    }

    /// The register holder's audit entries after `baseline`, oldest first, each with its
    /// request read back (`with_requests`; cached by entry id).
    async fn break_entries(
        &mut self,
        token: &str,
        baseline: i64,
        cache: &mut HashMap<i64, Option<Sent>>,
        with_requests: bool,
    ) -> Result<Vec<Entry>, Fail> {
        use base64::Engine as _;
        let reply = self.inspect_get("/inspect/audit", token).await?;
        let json: Value = serde_json::from_slice(&reply.body)
            .map_err(|e| Fail::Env(format!("the inspection API answered with bad JSON: {e}")))?;
        let mut entries = Vec::new();
        for e in json["audit"].as_array().into_iter().flatten() {
            let id = e["id"].as_i64().unwrap_or_default();
            if id <= baseline {
                continue;
            }
            let sent = if !with_requests {
                None
            } else if let Some(sent) = cache.get(&id) {
                sent.clone()
            } else {
                let reply = self
                    .inspect_get(&format!("/inspect/audit/{id}/request"), token)
                    .await?;
                let sent = (reply.status == 200)
                    .then(|| serde_json::from_slice::<Value>(&reply.body).ok())
                    .flatten()
                    .and_then(|j| {
                        base64::engine::general_purpose::STANDARD
                            .decode(j["body_base64"].as_str()?)
                            .ok()
                    })
                    .and_then(|body| read_sent(&body));
                cache.insert(id, sent.clone());
                sent
            };
            entries.push(Entry {
                id,
                outcome: e["outcome"].as_str().unwrap_or_default().to_owned(),
                codes: e["codes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect(),
                replayed: e["replayed"].as_bool().unwrap_or(false),
                document_id: e["document_id"].as_str().map(str::to_owned),
                sent,
            });
        }
        entries.sort_by_key(|e| e.id);
        Ok(entries)
    }

    /// Reference mode: a well-behaved queueing client. The documents are recorded at once
    /// (during the break) and delivered in version order; a `503` is waited out as its
    /// `Retry-After` says, a broken connection (the break, or an answer lost) is retried with
    /// the very same message, so a resend keeps its message id.
    async fn queueing_client(
        &mut self,
        case: &Case,
        sub: &Submission,
        plan: &BreakPlan,
        deadline: Instant,
    ) -> Result<(), Fail> {
        let queue = self.versions(case, sub, plan.documents)?;
        let content_type = compose::content_type(sub.wrapping.wrapping());
        let path = self.setup.message_path.clone();
        let mut next = 0;
        while next < queue.len() && Instant::now() < deadline {
            let reply = match self.connection(sub.tls).await {
                Ok(conn) => conn.post(&path, content_type, queue[next].clone()).await,
                Err(e) => Err(e),
            };
            let wait = match reply {
                Ok(r) if r.status == 503 => {
                    let wait = Duration::from_secs(r.retry_after.unwrap_or(1))
                        .max(Duration::from_millis(100));
                    self.outages.push(Outage {
                        at: now_rfc3339(),
                        answer: format!("HTTP {}", r.status),
                        retry_after: r.retry_after.unwrap_or_default(),
                        waited_ms: wait.as_millis() as u64,
                    });
                    wait
                }
                Ok(r) if r.status == 200 => match ack::read(&r.body) {
                    Ok(a) if a.type_code == "AA" => {
                        next += 1;
                        continue;
                    }
                    Ok(a) if a.codes.iter().any(|c| c == BREAK_CODE) => Duration::from_secs(1),
                    Ok(a) => {
                        return Err(Fail::Step(format!(
                            "version {} was refused: {}",
                            next + 1,
                            crate::results::ack_text(&a.type_code, &a.codes)
                        )));
                    }
                    Err(e) => {
                        return Err(Fail::Env(format!(
                            "the archive's answer is not an acknowledgement: {e}"
                        )));
                    }
                },
                Ok(r) => {
                    return Err(Fail::Env(format!(
                        "the archive answered HTTP {}: {}",
                        r.status,
                        String::from_utf8_lossy(&r.body[..r.body.len().min(200)])
                    )));
                }
                Err(e) => {
                    // No answer: the archive is away, or the answer was lost after storing.
                    // Either way the same message goes again (same message id).
                    self.connections.remove(&sub.tls);
                    let wait = Duration::from_millis(500);
                    self.outages.push(Outage {
                        at: now_rfc3339(),
                        answer: e.to_string(),
                        retry_after: 0,
                        waited_ms: wait.as_millis() as u64,
                    });
                    wait
                }
            };
            tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
        }
        Ok(())
    }

    /// Versions 1..=n of one new document, each replacing the one before (correction).
    fn versions(&mut self, case: &Case, sub: &Submission, n: u32) -> Result<Vec<Vec<u8>>, Fail> {
        let mut out = Vec::new();
        let mut set_id = None;
        let mut parent: Option<(String, u32)> = None;
        for version in 1..=n {
            let (message_id, document_id) = self.next_ids();
            let mut values = message_values(&case.fixture, sub, message_id, document_id.clone());
            values.set_id = set_id.get_or_insert_with(|| document_id.clone()).clone();
            values.version = version;
            values.replaces = parent.take().map(|(parent_id, parent_version)| Replaces {
                parent_id,
                parent_version,
                reason: ReplacementReason::Correction,
            });
            let signer = self.signer(sub.signer).map_err(Fail::Step)?;
            let built = compose::build_message(
                &template_of(sub.template),
                &values,
                sub.wrapping.wrapping(),
                Some(signer),
            )
            .map_err(|e| Fail::Step(format!("cannot build the message: {e:#}")))?;
            out.push(built.message);
            parent = Some((document_id, version));
        }
        Ok(out)
    }
}

/// The archive's fault plan for the break: the break itself, and the answer lost on the first
/// delivery after it.
fn plan_toml(plan: &BreakPlan) -> String {
    let mut toml = format!(
        "[[fault]]\nkind = \"{}\"\nseconds = {}\n",
        plan.kind.as_str(),
        plan.seconds
    );
    if plan.kind == BreakKind::Unavailable {
        toml.push_str(&format!("retry_after = {}\n", plan.retry_after));
    }
    if plan.answer_lost {
        toml.push_str(&format!(
            "[[fault]]\nkind = \"answer-lost\"\nafter_seconds = {}\ncount = 1\n",
            plan.seconds
        ));
    }
    toml
}

/// Reads what a request carried; `None` when it is not a readable message with a document.
fn read_sent(body: &[u8]) -> Option<Sent> {
    let (message, _) = kanta_profile::format::read_message(body, &Default::default());
    let message = message?;
    let id = message.id.as_ref()?;
    let doc = &message.document;
    Some(Sent {
        message_id: match &id.extension {
            Some(ext) => format!("{}^{ext}", id.root),
            None => id.root.clone(),
        },
        client: doc
            .record_target
            .as_ref()
            .and_then(|p| p.id.as_ref())
            .and_then(|i| i.extension.clone())
            .unwrap_or_default(),
        document_id: doc.id.as_ref()?.root.clone(),
        set_id: doc
            .set_id
            .as_ref()
            .map(|i| i.root.clone())
            .unwrap_or_default(),
        version: doc.version_number.unwrap_or(1),
    })
}

/// Whether an entry is about the step's client.
fn of_client(e: &Entry, sub: &Submission) -> bool {
    e.sent.as_ref().is_some_and(|s| s.client == sub.client)
}

/// Whether every version is stored and an answer-lost document was resent.
fn complete(mine: &[&Entry], plan: &BreakPlan) -> bool {
    mine.iter().filter(|e| e.stored()).count() >= plan.documents as usize
        && (!plan.answer_lost || lost_answer(mine).is_none_or(|(_, resent)| resent))
}

/// The message id of the delivery whose answer was lost, and whether it was resent under the
/// same message id afterwards (answered from the archive's record).
fn lost_answer<'a>(mine: &[&'a Entry]) -> Option<(&'a Sent, bool)> {
    let (at, lost) = mine.iter().enumerate().find_map(|(i, e)| {
        let sent = e.sent.as_ref()?;
        let stored_before = mine[..i].iter().any(|b| {
            b.stored()
                && b.sent
                    .as_ref()
                    .is_some_and(|s| s.message_id == sent.message_id)
        });
        (e.is_break() && stored_before).then_some((i, sent))
    })?;
    let resent = mine[at + 1..].iter().any(|e| {
        e.replayed
            && e.outcome == "AA"
            && e.sent
                .as_ref()
                .is_some_and(|s| s.message_id == lost.message_id)
    });
    Some((lost, resent))
}

/// Why the break was not weathered; empty when it was.
fn judge_break(mine: &[&Entry], plan: &BreakPlan, timeout: Duration) -> Vec<String> {
    let mut failures = Vec::new();
    let stored: Vec<&Sent> = mine
        .iter()
        .filter(|e| e.stored())
        .filter_map(|e| e.sent.as_ref())
        .collect();
    let versions: Vec<u32> = stored.iter().map(|s| s.version).collect();
    let missing: Vec<String> = (1..=plan.documents)
        .filter(|v| !versions.contains(v))
        .map(|v| v.to_string())
        .collect();
    if !missing.is_empty() {
        failures.push(format!(
            "version(s) {} of the document recorded during the break never arrived within {} s (stored: {})",
            missing.join(", "),
            timeout.as_secs(),
            if versions.is_empty() {
                "none".to_owned()
            } else {
                list(&versions)
            }
        ));
    }
    if versions.windows(2).any(|w| w[0] > w[1]) {
        failures.push(format!(
            "the documents arrived out of version order: {}",
            list(&versions)
        ));
    }
    let sets: BTreeSet<&str> = stored.iter().map(|s| s.set_id.as_str()).collect();
    if sets.len() > 1 {
        failures.push(format!(
            "the documents are not versions of one document (set ids {})",
            sets.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut ids: BTreeMap<(u32, &str), BTreeSet<&str>> = BTreeMap::new();
    for s in mine.iter().filter_map(|e| e.sent.as_ref()) {
        ids.entry((s.version, s.document_id.as_str()))
            .or_default()
            .insert(s.message_id.as_str());
    }
    for ((version, document), message_ids) in &ids {
        if message_ids.len() > 1 {
            failures.push(format!(
                "version {version} (document {document}) was sent under {} message ids ({}): a resend must keep its message id, or the archive takes it for a new message",
                message_ids.len(),
                message_ids.iter().copied().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    for e in mine.iter().filter(|e| !e.is_break() && e.outcome != "AA") {
        let sent = e.sent.as_ref();
        failures.push(format!(
            "version {} was refused: {} (message {})",
            sent.map_or(0, |s| s.version),
            crate::results::ack_text(&e.outcome, &e.codes),
            sent.map_or("?", |s| s.message_id.as_str())
        ));
    }
    if plan.answer_lost
        && let Some((lost, false)) = lost_answer(mine)
    {
        failures.push(format!(
            "the answer to version {} was lost (the archive stored it, then the connection closed) and it was not resent under the same message id {}",
            lost.version, lost.message_id
        ));
    }
    failures
}

fn list(versions: &[u32]) -> String {
    versions
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, outcome: &str, codes: &[&str], replayed: bool, sent: (&str, u32)) -> Entry {
        let stored = outcome == "AA" && !replayed;
        Entry {
            id,
            outcome: outcome.to_owned(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
            replayed,
            document_id: stored.then(|| format!("doc{}", sent.1)),
            sent: Some(Sent {
                message_id: sent.0.to_owned(),
                client: "010190-901R".to_owned(),
                document_id: format!("doc{}", sent.1),
                set_id: "doc1".to_owned(),
                version: sent.1,
            }),
        }
    }

    fn plan() -> BreakPlan {
        BreakPlan {
            kind: BreakKind::Unavailable,
            seconds: 2,
            retry_after: 1,
            documents: 3,
            answer_lost: true,
        }
    }

    fn judge(entries: &[Entry]) -> Vec<String> {
        let refs: Vec<&Entry> = entries.iter().collect();
        judge_break(&refs, &plan(), Duration::from_secs(60))
    }

    #[test]
    fn a_well_behaved_queue_passes() {
        let entries = [
            entry(1, "AR", &["SYS-BREAK"], false, ("m1", 1)),
            entry(2, "AA", &[], false, ("m1", 1)),
            entry(3, "AR", &["SYS-BREAK"], false, ("m1", 1)),
            entry(4, "AA", &[], true, ("m1", 1)),
            entry(5, "AA", &[], false, ("m2", 2)),
            entry(6, "AA", &[], false, ("m3", 3)),
        ];
        assert_eq!(judge(&entries), Vec::<String>::new());
    }

    #[test]
    fn a_dropped_document_a_new_message_id_and_disorder_are_named() {
        let dropped = [
            entry(2, "AA", &[], false, ("m1", 1)),
            entry(3, "AR", &["SYS-BREAK"], false, ("m1", 1)),
            entry(4, "AA", &[], true, ("m1", 1)),
            entry(5, "AA", &[], false, ("m2", 2)),
        ];
        assert_eq!(
            judge(&dropped),
            [
                "version(s) 3 of the document recorded during the break never arrived within 60 s (stored: 1, 2)"
            ]
        );
        let renamed = [
            entry(2, "AA", &[], false, ("m1", 1)),
            entry(3, "AR", &["SYS-BREAK"], false, ("m1", 1)),
            entry(4, "AE", &["DOC-ID-EXISTS"], false, ("m9", 1)),
            entry(5, "AA", &[], false, ("m2", 2)),
            entry(6, "AA", &[], false, ("m3", 3)),
        ];
        assert_eq!(
            judge(&renamed),
            [
                "version 1 (document doc1) was sent under 2 message ids (m1, m9): a resend must keep its message id, or the archive takes it for a new message",
                "version 1 was refused: AE [DOC-ID-EXISTS] (message m9)",
                "the answer to version 1 was lost (the archive stored it, then the connection closed) and it was not resent under the same message id m1",
            ]
        );
    }
}
