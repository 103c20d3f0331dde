//! Service breaks on purpose (`mock_archive::fault`), each met by a real client over mutual
//! TLS: `503` with `Retry-After` and a SOAP Fault, reset connections and aborted handshakes, a
//! slow answer, a connection closed mid-answer, an answer lost after the document was stored
//! (the resend gets the same `AA` and nothing is stored twice), an `AR` burst; the admin API
//! and the plan file, with every problem of a bad plan listed at once.

use std::time::{Duration, Instant};

use kanta_profile::format::Wrapping;
use kantakoe::client::{ClientError, Connection};
use kantakoe::compose::{self, DocumentTemplate, MessageValues};
use kantakoe::pki::Role;
use kantakoe::signing::SystemSigner;
use mock_archive::{Fault, MockArchiveHandle};

use crate::support::{self, pki, start_archive, target};

/// The provider of the bundled fixture: the self-paying client's register holder.
const PROVIDER: &str = "2.999.5851.2.1";
/// The provider's archivist token in the bundled fixture.
const PROVIDER_TOKEN: &str = "arkistonhoitaja-esimerkki-TESTI";

fn signer() -> SystemSigner {
    let files = pki().files(Role::Signature);
    SystemSigner::from_files(&files.cert, &files.key, time::OffsetDateTime::now_utc()).unwrap()
}

/// A signed self-paying client's document `n`, SOAP 1.1.
fn message(n: u32) -> Vec<u8> {
    let values: MessageValues =
        compose::scenario_self_paying(format!("2.999.5851.8.1.{n}"), format!("2.999.5851.8.2.{n}"));
    compose::build_message(
        &DocumentTemplate::client_relationship(),
        &values,
        Wrapping::Soap11,
        Some(&signer()),
    )
    .unwrap()
    .message
}

async fn connect(archive: &MockArchiveHandle) -> Result<Connection, ClientError> {
    support::client(Role::Client)
        .connect(&target(archive))
        .await
}

async fn post(conn: &mut Connection, body: &[u8]) -> Result<kantakoe::client::Reply, ClientError> {
    conn.post("/archive", "text/xml; charset=utf-8", body.to_vec())
        .await
}

/// The acknowledgement's type code and detail codes.
fn ack(body: &[u8]) -> (String, Vec<String>) {
    let ack = kanta_profile::ack::read(body).unwrap_or_else(|e| {
        panic!(
            "no acknowledgement ({e}) in {}",
            String::from_utf8_lossy(body)
        )
    });
    (ack.type_code, ack.codes)
}

fn aa() -> (String, Vec<String>) {
    ("AA".to_owned(), Vec::new())
}

/// The audit log's outcomes and codes, oldest first.
fn audit(archive: &MockArchiveHandle) -> Vec<String> {
    let mut entries: Vec<String> = archive
        .audit(PROVIDER)
        .unwrap()
        .iter()
        .map(|e| {
            let codes: Vec<&str> = e.codes.iter().map(|c| c.code()).collect();
            format!("{} {}", e.outcome.as_str(), codes.join(" "))
                .trim()
                .to_owned()
        })
        .collect();
    entries.reverse();
    entries
}

#[tokio::test]
async fn unavailable_answers_503_with_retry_after_and_a_soap_fault_then_recovers() {
    let archive = start_archive().await;
    archive.inject(Fault::unavailable().count(2).retry_after(7));
    let mut conn = connect(&archive).await.unwrap();
    let msg = message(1);
    for _ in 0..2 {
        let reply = post(&mut conn, &msg).await.unwrap();
        assert_eq!(reply.status, 503);
        assert_eq!(reply.retry_after, Some(7));
        let body = String::from_utf8_lossy(&reply.body);
        assert!(
            body.contains("<soap:Fault><faultcode>soap:Server</faultcode><faultstring>the archive is in a service break (injected fault unavailable (503, Retry-After 7)): try again after 7 s</faultstring>"),
            "{body}"
        );
    }
    assert_eq!(archive.documents(PROVIDER).unwrap().len(), 0);
    let reply = post(&mut conn, &msg).await.unwrap();
    assert_eq!((reply.status, ack(&reply.body)), (200, aa()));
    assert_eq!(audit(&archive), ["AR SYS-BREAK", "AR SYS-BREAK", "AA"]);
    assert_eq!(archive.fault_events().len(), 2);
}

#[tokio::test]
async fn refused_resets_connections_and_aborts_handshakes_during_its_window() {
    let archive = start_archive().await;
    archive.inject(Fault::refused().count(1));
    let err = connect(&archive).await.unwrap_err();
    assert!(!err.is_tls_refusal(), "a reset, not an alert: {err}");
    archive.inject(Fault::handshake_aborted().count(1));
    let err = connect(&archive).await.unwrap_err();
    assert!(err.is_tls_refusal(), "{err}");
    assert!(err.to_string().contains("HandshakeFailure"), "{err}");
    // The window is over: connections work again.
    let mut conn = connect(&archive).await.unwrap();
    let reply = post(&mut conn, &message(2)).await.unwrap();
    assert_eq!(ack(&reply.body), aa());
    let events: Vec<String> = archive
        .fault_events()
        .iter()
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(events, ["refused", "refused"]);
    // The refused connections are in no register's audit log (no message was read).
    assert_eq!(audit(&archive), ["AA"]);
}

#[tokio::test]
async fn slow_delays_the_answer() {
    let archive = start_archive().await;
    let mut conn = connect(&archive).await.unwrap();
    archive.inject(Fault::slow(Duration::from_millis(400)).count(1));
    let started = Instant::now();
    let reply = post(&mut conn, &message(3)).await.unwrap();
    let took = started.elapsed();
    assert_eq!(ack(&reply.body), aa());
    // Only the lower bound is firm; the upper one is loose (a shared, loaded machine).
    assert!(
        took >= Duration::from_millis(400),
        "answered after {took:?}"
    );
    assert!(took < Duration::from_secs(30), "answered after {took:?}");
    let events = archive.fault_events();
    assert_eq!(events.len(), 1);
    assert!(
        events[0].detail.ends_with("delayed 400 ms"),
        "{}",
        events[0].detail
    );
}

#[tokio::test]
async fn a_slow_range_delays_within_it() {
    let archive = start_archive().await;
    let mut conn = connect(&archive).await.unwrap();
    archive.inject(
        Fault::slow_between(Duration::from_millis(200), Duration::from_millis(300)).count(1),
    );
    let started = Instant::now();
    post(&mut conn, &message(4)).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    let detail = &archive.fault_events()[0].detail;
    let ms: u64 = detail
        .rsplit("delayed ")
        .next()
        .and_then(|r| r.strip_suffix(" ms"))
        .unwrap()
        .parse()
        .unwrap();
    assert!((200..=300).contains(&ms), "{detail}");
}

#[tokio::test]
async fn reset_closes_the_connection_mid_answer_and_stores_nothing() {
    let archive = start_archive().await;
    archive.inject(Fault::reset());
    let mut conn = connect(&archive).await.unwrap();
    let msg = message(5);
    let err = post(&mut conn, &msg).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Closed {
                during: "before its answer was complete",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(archive.documents(PROVIDER).unwrap().len(), 0);
    let mut conn = connect(&archive).await.unwrap();
    assert_eq!(ack(&post(&mut conn, &msg).await.unwrap().body), aa());
    assert_eq!(archive.documents(PROVIDER).unwrap().len(), 1);
    assert_eq!(audit(&archive), ["AR SYS-BREAK", "AA"]);
}

#[tokio::test]
async fn an_answer_lost_after_storing_is_the_same_aa_on_resend_and_one_document() {
    let archive = start_archive().await;
    archive.inject(Fault::answer_lost());
    let mut conn = connect(&archive).await.unwrap();
    let msg = message(6);
    let err = post(&mut conn, &msg).await.unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Closed {
                during: "before its answer was complete",
                ..
            }
        ),
        "{err}"
    );
    // The document is stored although its answer never arrived.
    assert_eq!(archive.documents(PROVIDER).unwrap().len(), 1);
    let mut conn = connect(&archive).await.unwrap();
    let first = post(&mut conn, &msg).await.unwrap();
    assert_eq!(ack(&first.body), aa());
    // The answer is the stored one, rendered when the document was stored: byte for byte the
    // same on every resend.
    assert!(archive.last_ack().unwrap().unwrap().replayed);
    let again = post(&mut conn, &msg).await.unwrap();
    assert_eq!(first.body, again.body);
    assert_eq!(archive.documents(PROVIDER).unwrap().len(), 1);
    assert_eq!(audit(&archive), ["AA", "AR SYS-BREAK", "AA", "AA"]);
}

#[tokio::test]
async fn an_ar_burst_refuses_the_next_messages_then_stores_again() {
    let archive = start_archive().await;
    archive.inject(Fault::ar().after_requests(1).count(2));
    let mut conn = connect(&archive).await.unwrap();
    let mut seen = Vec::new();
    for n in 10..14 {
        let reply = post(&mut conn, &message(n)).await.unwrap();
        assert_eq!(reply.status, 200);
        seen.push(ack(&reply.body));
    }
    let ar = ("AR".to_owned(), vec!["SYS-BREAK".to_owned()]);
    assert_eq!(seen, [aa(), ar.clone(), ar, aa()]);
    assert_eq!(archive.documents(PROVIDER).unwrap().len(), 2);
}

#[tokio::test]
async fn the_admin_api_injects_with_the_admin_token_only() {
    let archive = start_archive().await;
    let mut conn = connect(&archive).await.unwrap();
    let plan = "[[fault]]\nkind = \"ar\"\ncount = 1\n";
    let reply = conn
        .send_as(
            "PUT",
            "/inspect/faults",
            "application/toml",
            PROVIDER_TOKEN,
            plan,
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 403);
    assert_eq!(
        String::from_utf8_lossy(&reply.body),
        r#"{"error":"/inspect/faults: not the admin token (an archivist's token does not open it)"}"#
    );
    let bad = conn
        .send_as(
            "PUT",
            "/inspect/faults",
            "application/toml",
            archive.admin_token(),
            "[[fault]]\nkind = \"ar\"\ncount = 0\n",
        )
        .await
        .unwrap();
    assert_eq!(bad.status, 400);
    assert_eq!(
        String::from_utf8_lossy(&bad.body),
        r#"{"error":"the fault plan has 1 problem(s):\n<request body>:3: count must be at least 1"}"#
    );
    let reply = conn
        .send_as(
            "PUT",
            "/inspect/faults",
            "application/toml",
            archive.admin_token(),
            plan,
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    let reply = post(&mut conn, &message(20)).await.unwrap();
    assert_eq!(ack(&reply.body).0, "AR");
    let listed = conn
        .get_as("/inspect/faults", archive.admin_token())
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&listed.body).unwrap();
    assert_eq!(json["armed"], serde_json::json!([]));
    assert_eq!(json["events"][0]["kind"], "ar");
    // The archivist sees the break in the register's audit log.
    let log = conn.get_as("/inspect/audit", PROVIDER_TOKEN).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&log.body).unwrap();
    assert_eq!(json["audit"][0]["codes"], serde_json::json!(["SYS-BREAK"]));
}

#[test]
fn a_bad_plan_file_stops_the_archive_with_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("faults.toml");
    std::fs::write(
        &plan,
        "[[fault]]\nkind = \"slow\"\n\n[[fault]]\nkind = \"unavailable\"\nretry_after = \"soon\"\nafter = 3\n",
    )
    .unwrap();
    let out = std::process::Command::new(support::bin("mock-archive"))
        .args(["serve", "--db", ":memory:", "--pki"])
        .arg(pki().dir())
        .arg("--faults")
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let p = plan.display();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "mock-archive: error: the fault plan has 3 problem(s):\n\
             {p}:2: a slow fault needs delay_ms\n\
             {p}:6: retry_after must be a whole number of 0 or more\n\
             {p}:7: unknown key \"after\": a fault takes kind, after_requests, after_seconds, count, seconds, retry_after, delay_ms, stage\n"
        )
    );
}

#[tokio::test]
async fn a_plan_file_breaks_the_served_archive() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("faults.toml");
    std::fs::write(
        &plan,
        "[[fault]]\nkind = \"unavailable\"\nafter_requests = 1\ncount = 1\nretry_after = 3\n",
    )
    .unwrap();
    let pki_dir = pki().dir().display().to_string();
    let plan_arg = plan.display().to_string();
    let process = support::spawn_archive(&[
        "--db",
        ":memory:",
        "--pki",
        &pki_dir,
        "--faults",
        &plan_arg,
        "--view-listen",
        "off",
        "--validation-listen",
        "off",
    ]);
    let target = kantakoe::client::Target::parse(&process.url).unwrap();
    let mut conn = support::client(Role::Client)
        .connect(&target)
        .await
        .unwrap();
    let statuses = [
        post(&mut conn, &message(30)).await.unwrap().status,
        post(&mut conn, &message(31)).await.unwrap().status,
        post(&mut conn, &message(32)).await.unwrap().status,
    ];
    assert_eq!(statuses, [200, 503, 200]);
}

// ---- the harness as a client, and the bundled service-break case ------------------------------

fn workspace() -> &'static std::path::Path {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn the_reference_client_waits_out_a_503_and_reports_the_outage() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("faults.toml");
    std::fs::write(
        &plan,
        "[[fault]]\nkind = \"unavailable\"\nafter_requests = 1\ncount = 1\nretry_after = 1\n",
    )
    .unwrap();
    let pki_dir = pki().dir().display().to_string();
    let plan_arg = plan.display().to_string();
    let archive = support::spawn_archive(&[
        "--db",
        ":memory:",
        "--pki",
        &pki_dir,
        "--faults",
        &plan_arg,
        "--view-listen",
        "off",
    ]);
    let case = workspace().join("tests/cases/sut-resend.toml");
    let output = support::kantakoe_cmd(dir.path())
        .args([
            "rehearse",
            "--archive",
            &archive.url,
            "--pki",
            &pki_dir,
            "--case",
        ])
        .arg(&case)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let results = crate::rehearse::read_results(&dir.path().join("out"));
    let steps = &results.cases[0].steps;
    assert!(steps[0].outages.is_empty());
    let outages = &steps[1].outages;
    assert_eq!(outages.len(), 1, "{outages:?}");
    assert_eq!(
        (
            outages[0].answer.as_str(),
            outages[0].retry_after,
            outages[0].waited_ms
        ),
        ("HTTP 503", 1, 1000)
    );
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert!(
        junit.contains(
            "HTTP 503 with Retry-After 1 s; waited 1000 ms and sent the same message again"
        ),
        "{junit}"
    );
    crate::rehearse::assert_junit_valid(&dir.path().join("out/junit.xml"));
}

#[test]
fn the_bundled_service_break_case_passes_in_reference_mode() {
    let dir = tempfile::tempdir().unwrap();
    let case = workspace().join("testcases/hairiotilanne.toml");
    let output = support::kantakoe_cmd(dir.path())
        .args(["rehearse", "--case"])
        .arg(&case)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let results = crate::rehearse::read_results(&dir.path().join("out"));
    let step = &results.cases[0].steps[0];
    assert_eq!(
        step.outcome,
        kantakoe::results::Outcome::Passed,
        "{:?}",
        step.failures
    );
    // It met the break: 503s waited out, and the lost answer (a closed connection).
    assert!(
        step.outages.iter().any(|o| o.answer == "HTTP 503"),
        "{:?}",
        step.outages
    );
    assert!(
        step.outages
            .iter()
            .any(|o| o.answer.contains("before its answer was complete")),
        "{:?}",
        step.outages
    );
}

/// How a stand-in queueing system behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standin {
    /// Queues, waits out 503s, resends the same message after a lost answer.
    Good,
    /// Delivers versions 1 and 2 only.
    Drops,
    /// After a lost answer, sends the document again under a new message id.
    Renames,
}

/// A vendor's queueing system, in miniature: versions 1..3 of one document, recorded during
/// the break, delivered in order after it.
async fn queueing_standin(url: &str, how: Standin) {
    let target = kantakoe::client::Target::parse(url).unwrap();
    let arc = format!("2.999.5851.7.{}", std::process::id());
    let build = |v: u32, renamed: bool| -> Vec<u8> {
        let mut values = compose::scenario_self_paying(
            format!("{arc}.{}{v}", if renamed { 9 } else { 1 }),
            format!("{arc}.2{v}"),
        );
        values.set_id = format!("{arc}.21");
        values.version = v;
        if v > 1 {
            values.replaces = Some(compose::Replaces {
                parent_id: format!("{arc}.2{}", v - 1),
                parent_version: v - 1,
                reason: compose::ReplacementReason::Correction,
            });
        }
        compose::build_message(
            &DocumentTemplate::client_relationship(),
            &values,
            Wrapping::Soap12,
            Some(&signer()),
        )
        .unwrap()
        .message
    };
    let versions: Vec<u32> = match how {
        Standin::Drops => vec![1, 2],
        Standin::Good | Standin::Renames => vec![1, 2, 3],
    };
    let mut queue: Vec<Vec<u8>> = versions.iter().map(|v| build(*v, false)).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut conn: Option<Connection> = None;
    let mut next = 0;
    while next < queue.len() && Instant::now() < deadline {
        let Some(c) = conn.as_mut() else {
            conn = support::client(Role::Client).connect(&target).await.ok();
            if conn.is_none() {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            continue;
        };
        match c
            .post(
                "/archive",
                Wrapping::Soap12.content_type(),
                queue[next].clone(),
            )
            .await
        {
            Ok(r) if r.status == 503 => {
                tokio::time::sleep(Duration::from_secs(r.retry_after.unwrap_or(1))).await;
            }
            Ok(r) => {
                assert_eq!(r.status, 200);
                next += 1;
            }
            Err(_) => {
                conn = None;
                if how == Standin::Renames {
                    queue[next] = build(versions[next], true);
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
}

/// Runs `case` in SUT mode against an archive of this test, playing the stand-in when the
/// harness asks for the step; the exit code and the output.
async fn sut_break(case: &str, how: Standin) -> (Option<i32>, String, tempfile::TempDir) {
    let archive = start_archive().await;
    let dir = tempfile::tempdir().unwrap();
    let case_path = workspace().join(case);
    let stem = case_path.file_stem().unwrap().to_str().unwrap().to_owned();
    let url = archive.url();
    let pki_dir = pki().dir().to_owned();
    let token = archive.admin_token().to_owned();
    let args: Vec<&std::ffi::OsStr> = vec![
        "rehearse".as_ref(),
        "--sut".as_ref(),
        "--archive".as_ref(),
        url.as_ref(),
        "--pki".as_ref(),
        pki_dir.as_os_str(),
        "--admin-token".as_ref(),
        token.as_ref(),
        "--case".as_ref(),
        case_path.as_os_str(),
    ];
    let prefix = format!(">> {stem} / katko-ja-jono:");
    let (code, out) = crate::rehearse::run_playing(dir.path(), &args, async |line: &str| {
        if line.starts_with(&prefix) {
            queueing_standin(&url, how).await;
        }
    })
    .await;
    (code, out, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_service_break_case_passes_with_a_queueing_system() {
    let (code, out, dir) = sut_break("testcases/hairiotilanne.toml", Standin::Good).await;
    assert_eq!(code, Some(0), "{out}");
    let results = crate::rehearse::read_results(&dir.path().join("out"));
    assert!(results.all_passed(), "{out}");
    assert!(results.strays.is_empty(), "{:?}", results.strays);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_that_drops_a_queued_document_fails_the_break() {
    let (code, out, dir) = sut_break("tests/cases/hairiotilanne-short.toml", Standin::Drops).await;
    assert_eq!(code, Some(1), "{out}");
    let results = crate::rehearse::read_results(&dir.path().join("out"));
    assert_eq!(
        results.cases[0].steps[0].failures,
        [
            "version(s) 3 of the document recorded during the break never arrived within 12 s (stored: 1, 2)"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_that_resends_under_a_new_message_id_fails_the_break() {
    let (code, out, dir) =
        sut_break("tests/cases/hairiotilanne-short.toml", Standin::Renames).await;
    assert_eq!(code, Some(1), "{out}");
    let results = crate::rehearse::read_results(&dir.path().join("out"));
    let arc = format!("2.999.5851.7.{}", std::process::id());
    assert_eq!(
        results.cases[0].steps[0].failures,
        [
            format!(
                "version 1 (document {arc}.21) was sent under 2 message ids ({arc}.11, {arc}.91): a resend must keep its message id, or the archive takes it for a new message"
            ),
            format!("version 1 was refused: AE [DOC-ID-EXISTS] (message {arc}.91)"),
            format!(
                "the answer to version 1 was lost (the archive stored it, then the connection closed) and it was not resent under the same message id {arc}.11"
            ),
        ]
    );
}
