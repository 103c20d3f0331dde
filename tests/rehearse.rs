//! `kantakoe rehearse` end to end: the bundled suite on an embedded archive, a deliberately
//! wrong case, and SUT mode with a stand-in vendor system written here.

use std::io::BufRead as _;
use std::path::Path;
use std::process::Stdio;

use kantakoe::pki::Role;
use kantakoe::results::{Outcome, RunResults};
use mock_archive::format::Wrapping;

use crate::support::{self, kantakoe_cmd, pki, start_archive, target};

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn read_results(out: &Path) -> RunResults {
    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json parses")
}

/// Counts `testcase` elements and reads the root's `failures`, with an XML parser.
fn junit_counts(path: &Path) -> (usize, String) {
    use quick_xml::events::Event;
    let text = std::fs::read_to_string(path).expect("junit.xml");
    let mut reader = quick_xml::Reader::from_str(&text);
    let (mut cases, mut failures) = (0, String::new());
    loop {
        match reader.read_event().expect("junit.xml is well-formed XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testcase" => cases += 1,
                b"testsuites" => {
                    failures = e
                        .try_get_attribute("failures")
                        .unwrap()
                        .map(|a| String::from_utf8(a.value.to_vec()).unwrap())
                        .unwrap_or_default();
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    (cases, failures)
}

/// A case's outcome without what changes from run to run (durations, ids, ports).
fn outcome_text(case: &kantakoe::results::CaseResult) -> String {
    let mut out = format!("{} — {}\n", case.id, case.title_fi);
    for s in &case.steps {
        let show = |ack: &str, codes: &[String]| match ack {
            // Why a TLS client was refused depends on timing (alert or closed channel).
            "refused" => ack.to_owned(),
            _ => kantakoe::results::ack_text(ack, codes),
        };
        out.push_str(&format!(
            "{} ({:?}): expected {}, got {} → {}\n",
            s.id,
            s.actor,
            show(&s.expected.ack, &s.expected.codes),
            s.actual
                .as_ref()
                .map(|a| show(&a.ack, &a.codes))
                .unwrap_or_else(|| "—".into()),
            s.outcome.as_str()
        ));
        for c in &s.checkpoints {
            out.push_str(&format!(
                "    {} = {} (archivist sees {}){}\n",
                c.field,
                c.expected,
                c.actual.as_deref().unwrap_or("nothing"),
                if c.passed { "" } else { "  ✗" }
            ));
        }
        for f in &s.failures {
            out.push_str(&format!("    ! {f}\n"));
        }
    }
    out
}

#[test]
fn the_bundled_rehearsal_passes_every_step_and_its_junit_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let output = kantakoe_cmd(dir.path()).arg("rehearse").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let out = dir.path().join("out");
    let results = read_results(&out);
    assert!(results.all_passed(), "{stdout}");
    let steps: usize = results.cases.iter().map(|c| c.steps.len()).sum();
    assert_eq!(results.summary.steps, steps);
    assert!(steps >= 30, "the bundled suite has {steps} steps");
    assert_eq!(
        junit_counts(&out.join("junit.xml")),
        (steps, "0".to_owned())
    );
    assert!(stdout.contains(&format!(
        "{steps} steps: {steps} passed, 0 failed, 0 skipped"
    )));
    // Every rule R1–R8 has its negative case in the bundled deployment test.
    let ids: Vec<&str> = results
        .cases
        .iter()
        .flat_map(|c| c.steps.iter().map(|s| s.id.as_str()))
        .collect();
    for rule in ["r1-", "r2-", "r3-", "r4-", "r5-", "r6-", "r7-", "r8-"] {
        assert!(ids.iter().any(|id| id.starts_with(rule)), "no {rule} step");
    }
    // A passed run writes the report to Kela (with the bundled example settings here).
    let eml = std::fs::read_to_string(out.join(kantakoe::report::EML_FILE)).unwrap();
    assert!(eml.contains("To: kanta@kanta.fi"), "{eml}");
    assert!(
        stdout.contains("report to Kela (kanta@kanta.fi) written"),
        "{stdout}"
    );
    for case in &results.cases {
        insta::assert_snapshot!(format!("rehearse_{}", case.id), outcome_text(case));
    }
}

#[test]
fn a_wrong_expectation_fails_naming_case_step_expected_and_actual() {
    let dir = tempfile::tempdir().unwrap();
    let case = workspace().join("tests/cases/wrong-expectation.toml");
    let output = kantakoe_cmd(dir.path())
        .args(["rehearse", "--case"])
        .arg(&case)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "wrong-expectation / vaarin-odotettu: expected AA, got AE [R2-NOT-ORGANISER]"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 steps: 1 passed, 1 failed, 0 skipped"),
        "{stdout}"
    );
    let results = read_results(&dir.path().join("out"));
    assert!(!results.all_passed());
    // A failed run writes no report to Kela, but findings for the team.
    assert!(
        !dir.path()
            .join("out")
            .join(kantakoe::report::EML_FILE)
            .exists()
    );
    let findings = std::fs::read_to_string(dir.path().join("out/havainnot.md")).unwrap();
    assert!(findings.contains("vaarin-odotettu"), "{findings}");
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert!(
        junit.contains("message=\"expected AA, got AE [R2-NOT-ORGANISER]\""),
        "{junit}"
    );
}

#[test]
fn a_case_with_problems_is_refused_with_every_problem_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("bad.toml");
    std::fs::write(
        &case,
        "title = { fi = \"x\", sv = \"x\" }\nfixture = \"nowhere.toml\"\n\n[[step]]\nid = \"a\"\ntitle = { fi = \"a\", sv = \"a\" }\n[step.submit]\nclient = \"010190-901R\"\n",
    )
    .unwrap();
    let output = kantakoe_cmd(dir.path())
        .args(["rehearse", "--case", "bad.toml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let expected = "kantakoe: error: the test case has 5 problems:
  bad.toml:1: cannot read the fixture nowhere.toml: No such file or directory (os error 2)
  bad.toml:4: step a: submit.sender (or defaults.sender) is missing
  bad.toml:4: step a: submit.service_unit (or defaults.service_unit) is missing
  bad.toml:4: step a: submit.payment is missing: self-paying, purchased-service or service-voucher
  bad.toml:4: step a: the step has no [step.expect]
";
    assert_eq!(stderr, expected);
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

/// The stand-in vendor system: a self-paying client's document from the vendor's
/// certificate, built and signed here.
fn vendor_message(n: u32) -> Vec<u8> {
    let files = pki().files(Role::Signature);
    let arc = format!("2.999.5851.8.{}", std::process::id());
    kantakoe_integration::vendor_message(&arc, n, &files.cert, &files.key).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sut_mode_waits_for_the_vendor_system_reports_a_timeout_and_a_stray() {
    let archive = start_archive().await;
    let dir = tempfile::tempdir().unwrap();
    let case = workspace().join("tests/cases/sut.toml");
    let mut child = kantakoe_cmd(dir.path())
        .args(["rehearse", "--sut", "--step-timeout", "20", "--archive"])
        .arg(archive.url())
        .arg("--pki")
        .arg(pki().dir())
        .arg("--case")
        .arg(&case)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    while let Some(line) = lines.recv().await {
        if line.starts_with(">> sut / tallennus:") {
            // First a stranger's submission that matches no step, then the vendor's own.
            let mut stranger = support::client(Role::StrangerClient)
                .connect(&target(&archive))
                .await
                .unwrap();
            let reply = stranger
                .post(
                    "/archive",
                    Wrapping::Soap12.content_type(),
                    vendor_message(1),
                )
                .await
                .unwrap();
            assert_eq!(reply.status, 200);
            let mut vendor = support::client(Role::Vendor)
                .connect(&target(&archive))
                .await
                .unwrap();
            let reply = vendor
                .post(
                    "/archive",
                    Wrapping::Soap12.content_type(),
                    vendor_message(2),
                )
                .await
                .unwrap();
            assert_eq!(reply.status, 200);
        }
        // ">> sut / korjaus": the vendor system does nothing, so the step times out.
        seen.push(line);
    }
    reader.join().unwrap();
    let status = child.wait().unwrap();
    let stdout = seen.join("\n");
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "   fi: Tallenna asiakkaan 010190-901R asiakkuusasiakirja omaan rekisteriin."
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("!! a submission arrived that matches no step: message 2.999.5851.8."),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "sut / korjaus: timed out: no submission from your system arrived within 2 s"
        ),
        "{stdout}"
    );
    let results = read_results(&dir.path().join("out"));
    let outcomes: Vec<Outcome> = results.cases[0].steps.iter().map(|s| s.outcome).collect();
    assert_eq!(
        outcomes,
        vec![Outcome::Passed, Outcome::TimedOut, Outcome::Passed],
        "{stdout}"
    );
    assert_eq!(results.strays.len(), 1, "{stdout}");
    assert!(
        results.strays[0]
            .outcome
            .starts_with("AE [ORG-TLS-NOT-SENDER] (from 2.999.5851.2.4)"),
        "{:?}",
        results.strays
    );
    let first = &results.cases[0].steps[0];
    assert!(first.checkpoints.iter().all(|c| c.passed), "{first:?}");
    assert_eq!(
        first.actual.as_ref().unwrap().message_id.as_deref(),
        Some(format!("2.999.5851.8.{}.2", std::process::id()).as_str())
    );
}

#[test]
fn the_rehearsal_benchmark_times_whole_runs() {
    let dir = tempfile::tempdir().unwrap();
    let output = kantakoe_cmd(dir.path())
        .args(["bench", "--rehearsals", "2", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(v["rehearsals"], 2);
    assert_eq!(v["runs_ms"].as_array().unwrap().len(), 2);
    let median = v["median_ms"].as_f64().unwrap();
    assert!(median > 0.0 && median >= v["min_ms"].as_f64().unwrap());
}

#[test]
fn serve_keeps_the_archive_for_the_archivist_and_the_confirmation_reaches_the_report() {
    use crate::view::{csrf_of, https};
    let dir = tempfile::tempdir().unwrap();
    let mut child = kantakoe_cmd(dir.path())
        .args(["rehearse", "--serve", "--pki"])
        .arg(pki().dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut port = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("archivist view: https://localhost:") {
            port = Some(url.parse::<u16>().unwrap());
        }
        let done = line.starts_with("confirm the checkpoints in the view");
        seen.push(line);
        if done {
            break;
        }
    }
    let text = seen.join("\n");
    assert!(
        text.contains("sign in as Arkistonhoitaja Esimerkki (TESTIAINEISTO) with token arkistonhoitaja-esimerkki-TESTI"),
        "{text}"
    );
    assert!(text.contains("or with the one-time token "), "{text}");
    let port = port.unwrap_or_else(|| panic!("no view address in {text}"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let signed_in = https(
            port,
            None,
            "POST",
            "/signin",
            &[("content-type", "application/x-www-form-urlencoded")],
            b"token=arkistonhoitaja-esimerkki-TESTI",
        )
        .await
        .unwrap();
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        let cookie = signed_in.session_cookie().unwrap();
        let page = https(port, None, "GET", "/checklist", &[("cookie", &cookie)], b"")
            .await
            .unwrap();
        assert!(page.body.contains("oma-asiakkuus"), "{}", page.body);
        let form = format!(
            "csrf={}&checkpoint=kayttoonottokoe%2Foma-asiakkuus%2F0%2Fstatus",
            csrf_of(&page.body)
        );
        let confirmed = https(
            port,
            None,
            "POST",
            "/checklist/confirm",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("cookie", &cookie),
            ],
            form.as_bytes(),
        )
        .await
        .unwrap();
        assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    });
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    let rest = rest.join("\n");
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(
        rest.contains("the archivist view: 1 of ")
            && rest.contains(" checkpoints confirmed by Arkistonhoitaja Esimerkki (TESTIAINEISTO)"),
        "{rest}"
    );
    let results = read_results(&dir.path().join("out"));
    let confirmation = results.confirmation.expect("a confirmation");
    assert_eq!(confirmation.confirmed, 1);
    assert!(confirmation.total > 10, "{confirmation:?}");
    assert_eq!(confirmation.by, "Arkistonhoitaja Esimerkki (TESTIAINEISTO)");
    assert!(
        dir.path()
            .join("out")
            .join(kantakoe::report::EML_FILE)
            .exists()
    );
}

#[test]
fn the_same_steps_replay_against_a_running_mock_archive_process() {
    let pki_dir = pki().dir().to_str().unwrap().to_owned();
    let archive = support::spawn_archive(&[
        "--pki",
        &pki_dir,
        "--db",
        ":memory:",
        "--view-listen",
        "off",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let output = kantakoe_cmd(dir.path())
        .args(["rehearse", "--archive", &archive.url, "--pki", &pki_dir])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let results = read_results(&dir.path().join("out"));
    assert!(!results.archive.embedded);
    assert_eq!(results.archive.url, archive.url);
    assert!(results.all_passed(), "{stdout}");
}

#[test]
fn sending_the_example_organisations_report_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let output = kantakoe_cmd(dir.path())
        .args(["rehearse", "--smtp", "smtp+plain://127.0.0.1:2525"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "kantakoe: error: refusing to submit a report made from the bundled example settings (test data) to kanta@kanta.fi; write your organisation's details to kantakoe.toml or pass --settings FILE\n"
    );
    assert!(output.stdout.is_empty(), "nothing ran");
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

#[test]
fn cases_with_different_fixtures_cannot_share_the_embedded_archive() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read_to_string(workspace().join("testcases/orgs.toml")).unwrap();
    std::fs::write(dir.path().join("a.toml"), &fixture).unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        format!("{fixture}\n# another organisation fixture\n"),
    )
    .unwrap();
    let case =
        std::fs::read_to_string(workspace().join("tests/cases/wrong-expectation.toml")).unwrap();
    for (name, fixture) in [("one.toml", "a.toml"), ("two.toml", "b.toml")] {
        let text = case.replace(
            "fixture = \"../../testcases/orgs.toml\"",
            &format!("fixture = \"{fixture}\""),
        );
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let output = kantakoe_cmd(dir.path())
        .args(["rehearse", "--case", "one.toml", "--case", "two.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "kantakoe: error: the embedded archive has one organisation fixture, but one.toml and two.toml use different ones; run them separately\n"
    );
}
