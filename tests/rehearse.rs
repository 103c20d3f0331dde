//! `kantakoe rehearse` end to end: the bundled suite on an embedded archive, a deliberately
//! wrong case, and SUT mode with a stand-in vendor system written here.

use std::io::BufRead as _;
use std::path::Path;
use std::process::Stdio;

use kanta_profile::format::Wrapping;
use kantakoe::compose::{self, MessageValues};
use kantakoe::pki::Role;
use kantakoe::results::{Outcome, RunResults, Sender};

use crate::support::{self, kantakoe_cmd, pki, start_archive, target};

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

pub(crate) fn read_results(out: &Path) -> RunResults {
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

/// Validates a JUnit file against `junit-10.xsd` (Jenkins xUnit's schema, in
/// `tests/schemas/`) with Python's `xmlschema` (in the test venv; `tests/run` installs it).
pub fn assert_junit_valid(path: &Path) {
    let xsd = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/junit-10.xsd"));
    let output = support::python()
        .args([
            "-c",
            "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])",
        ])
        .arg(xsd)
        .arg(path)
        .output()
        .expect("the test venv's python runs (with xmlschema: tests/run installs it)");
    assert!(
        output.status.success(),
        "{} is not valid against junit-10.xsd:\n{}\n{}",
        path.display(),
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(path).unwrap_or_default()
    );
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
    let output = kantakoe_cmd(dir.path())
        .arg("rehearse")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
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
    // Reference mode says so, and who sent each step: never "your system" for the harness.
    assert_eq!(results.schema_version, kantakoe::results::RESULTS_FORMAT);
    assert_eq!(results.mode, kantakoe::results::Mode::Reference);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 2);
    assert_eq!(json["mode"], "reference");
    for step in results.cases.iter().flat_map(|c| &c.steps) {
        let want = match step.actor {
            kantakoe::results::Actor::Reference => Sender::ReferenceClient,
            kantakoe::results::Actor::YourSystem => Sender::ReferenceStandingIn,
        };
        assert_eq!(step.sent_by, want, "{}", step.id);
    }
    assert!(
        stdout.starts_with("mode: reference: no system of yours took part; the harness's reference client made every step,\n  standing in for your system in the \"your system\" steps\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("  your system  "), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("kayttoonottokoe ")
            && l.contains(" oma-asiakkuus ")
            && l.contains("  stand-in for you")),
        "{stdout}"
    );
    // The table fits the 100 columns it was given.
    for line in stdout.lines().take_while(|l| !l.is_empty()) {
        assert!(line.chars().count() <= 100, "too wide: {line:?}");
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("(sent by the reference client standing in for your system)"),
        "{junit}"
    );
    assert!(
        junit.contains("<property name=\"mode\" value=\"reference\"/>"),
        "{junit}"
    );
    assert_junit_valid(&out.join("junit.xml"));
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
    // A passed rehearsal writes a draft report, addressed to its sender, never to Kela.
    let eml = std::fs::read_to_string(out.join(kantakoe::report::DRAFT_FILE)).unwrap();
    assert!(
        eml.contains("To: \"Sanna Suorittaja\" <sanna.suorittaja@esimerkki.invalid>"),
        "{eml}"
    );
    assert!(
        stdout.contains("rehearsal report draft (HARJOITUS, not for Kela) written"),
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
            .join(kantakoe::report::DRAFT_FILE)
            .exists()
    );
    let findings = std::fs::read_to_string(dir.path().join("out/havainnot.md")).unwrap();
    assert!(findings.contains("vaarin-odotettu"), "{findings}");
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert!(
        junit.contains("message=\"expected AA, got AE [R2-NOT-ORGANISER]\""),
        "{junit}"
    );
    assert_junit_valid(&dir.path().join("out/junit.xml"));
}

#[test]
fn a_negative_tls_step_fails_when_the_archive_accepts_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = workspace().join("testcases/orgs.toml");
    std::fs::write(
        dir.path().join("case.toml"),
        format!(
            "title = {{ fi = \"x\", sv = \"x\" }}\nfixture = \"{}\"\n\n[[step]]\nid = \"kelpaava-varmenne\"\ntitle = {{ fi = \"a\", sv = \"a\" }}\n  [step.connect]\n  tls = \"client\"\n  [step.expect]\n  connection = \"refused\"\n",
            fixture.display()
        ),
    )
    .unwrap();
    let output = kantakoe_cmd(dir.path())
        .args(["rehearse", "--case", "case.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("case / kelpaava-varmenne: expected the connection to be refused, but it was connected (2.999.5851.2.1)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 steps: 0 passed, 1 failed, 0 skipped"),
        "{stdout}"
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
  bad.toml:4: step a: submit.payment is missing: self-paying, purchased-service, service-voucher or own-client
  bad.toml:4: step a: the step has no [step.expect]
";
    assert_eq!(stderr, expected);
    assert!(!dir.path().join("out").exists(), "nothing is written");
}

/// The stand-in vendor system: a self-paying client's document from the vendor's
/// certificate, built and signed here.
fn vendor_message(n: u32) -> Vec<u8> {
    vendor_message_with(n, |_| {})
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
        stdout.contains("; not what step tallennus waits for: it came with the TLS certificate of 2.999.5851.2.4, which may not send for 2.999.5851.2.1"),
        "{stdout}"
    );
    assert!(stdout.contains("mode: SUT: your system made"), "{stdout}");
    assert!(
        std::fs::read_to_string(dir.path().join("out/sut-plan.md"))
            .unwrap()
            .contains("| sut / tallennus | 010190-901R |"),
        "the plan lists the step"
    );
    assert!(
        stdout.contains(
            "sut / korjaus: timed out: no submission from your system for this step arrived within 2 s"
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
    // The county's one-time token: signing in with it names nobody.
    let (mut holder, mut county_token) = (String::new(), None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("archivist view: https://localhost:") {
            port = Some(url.parse::<u16>().unwrap());
        }
        if line.contains("): checklist of ") {
            holder = line.clone();
        }
        if let Some(token) = line.trim().strip_prefix("or with the one-time token ")
            && holder.contains("(2.999.5851.2.2)")
        {
            county_token = Some(token.to_owned());
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

        let form = format!("token={}", county_token.unwrap());
        let signed_in = https(
            port,
            None,
            "POST",
            "/signin",
            &[("content-type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        )
        .await
        .unwrap();
        assert_eq!(signed_in.status, 303, "{}", signed_in.body);
        let cookie = signed_in.session_cookie().unwrap();
        let page = https(port, None, "GET", "/checklist", &[("cookie", &cookie)], b"")
            .await
            .unwrap();
        let form = format!(
            "csrf={}&checkpoint=kayttoonottokoe%2Fostopalvelu%2F0%2Fregister_holder",
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
        rest.contains("the archivist view: 2 of ")
            && rest.contains(" checkpoints confirmed by Arkistonhoitaja Esimerkki (TESTIAINEISTO)"),
        "{rest}"
    );
    let results = read_results(&dir.path().join("out"));
    let confirmation = results.confirmation.expect("a confirmation");
    assert_eq!(confirmation.confirmed, 2);
    assert!(confirmation.total > 10, "{confirmation:?}");
    // Who confirmed for which register holder: the provider's archivist by name, and an
    // unnamed person who signed in to the county's register with a one-time token.
    let holder_name = |oid: &str| {
        kantakoe::rehearse::suite::bundled().unwrap()[0]
            .fixture
            .organisation(oid)
            .map(|o| o.name.clone())
    };
    assert_eq!(
        confirmation.confirmers,
        [
            kantakoe::results::Confirmer {
                register_holder: "2.999.5851.2.1".to_owned(),
                register_holder_name: holder_name("2.999.5851.2.1"),
                archivist: Some("Arkistonhoitaja Esimerkki (TESTIAINEISTO)".to_owned()),
                confirmed: 1,
            },
            kantakoe::results::Confirmer {
                register_holder: "2.999.5851.2.2".to_owned(),
                register_holder_name: holder_name("2.999.5851.2.2"),
                archivist: None,
                confirmed: 1,
            },
        ]
    );
    assert!(
        dir.path()
            .join("out")
            .join(kantakoe::report::DRAFT_FILE)
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
fn sending_a_rehearsals_draft_without_to_is_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let output = kantakoe_cmd(dir.path())
        .args(["rehearse", "--smtp", "smtp+plain://127.0.0.1:2525"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "kantakoe: error: --smtp needs --to ADDRESS for a rehearsal: its report is a draft (HARJOITUS) and is never sent to kanta@kanta.fi; give your own mailbox with --to. The real report is made after the real test in Kanta's production environment with `kantakoe report --real-test FILE`\n"
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

/// The stand-in vendor system's message: `edit` changes the scenario's self-paying document
/// (ids from `n`) before it is built and signed.
fn vendor_message_with(n: u32, edit: impl FnOnce(&mut MessageValues)) -> Vec<u8> {
    let files = pki().files(Role::Signature);
    let arc = format!("2.999.5851.8.{}", std::process::id());
    kantakoe_integration::vendor_message(&arc, n, edit, &files.cert, &files.key).unwrap()
}

/// Runs `kantakoe args` and calls `on_line` with each stdout line as it comes (so a test can
/// play the vendor's system); returns the exit code and all lines.
pub(crate) async fn run_playing(
    dir: &Path,
    args: &[&std::ffi::OsStr],
    mut on_line: impl AsyncFnMut(&str),
) -> (Option<i32>, String) {
    let mut child = kantakoe_cmd(dir)
        .args(args)
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
        on_line(&line).await;
        seen.push(line);
    }
    reader.join().unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    use std::io::Read as _;
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    (status.code(), format!("{}\n{stderr}", seen.join("\n")))
}

async fn post_as(archive: &mock_archive::MockArchiveHandle, role: Role, message: Vec<u8>) {
    let mut conn = support::client(role)
        .connect(&target(archive))
        .await
        .unwrap();
    let reply = conn
        .post("/archive", Wrapping::Soap12.content_type(), message)
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sut_mode_judges_a_corrected_resend_reports_a_stray_at_once_and_records_for_replay() {
    let archive = start_archive().await;
    let dir = tempfile::tempdir().unwrap();
    let case = workspace().join("tests/cases/sut-resend.toml");
    let url = archive.url();
    let pki_dir = pki().dir().to_owned();
    let args: Vec<&std::ffi::OsStr> = vec![
        "rehearse".as_ref(),
        "--sut".as_ref(),
        "--record".as_ref(),
        "rec".as_ref(),
        "--archive".as_ref(),
        url.as_ref(),
        "--pki".as_ref(),
        pki_dir.as_os_str(),
        "--case".as_ref(),
        case.as_os_str(),
    ];
    let first_doc = format!("2.999.5851.8.{}.23", std::process::id());
    let (code, out) = run_playing(dir.path(), &args, async |line: &str| {
        if line.starts_with(">> sut-resend / tallennus:") {
            // Another client's document: not what the step waits for.
            post_as(
                &archive,
                Role::Vendor,
                vendor_message_with(1, |v| v.client.identity_code = "150575-9025".into()),
            )
            .await;
            // The step's document, routed into the county's register: AE.
            post_as(
                &archive,
                Role::Vendor,
                vendor_message_with(2, |v| {
                    let county = compose::Org {
                        oid: "2.999.5851.2.2".into(),
                        name: "Esimerkin hyvinvointialue (TESTIAINEISTO)".into(),
                    };
                    v.custodian = county.clone();
                    v.organiser = Some(county);
                    v.usage_situation = compose::UsageSituation::RegisterUsageRight;
                }),
            )
            .await;
            // The corrected resend.
            post_as(&archive, Role::Vendor, vendor_message_with(3, |_| {})).await;
        }
        if line.starts_with(">> sut-resend / korjaus:") {
            let parent = first_doc.clone();
            post_as(
                &archive,
                Role::Vendor,
                vendor_message_with(4, |v| {
                    v.set_id = parent.clone();
                    v.version = 2;
                    v.replaces = Some(compose::Replaces {
                        parent_id: parent,
                        parent_version: 1,
                        reason: compose::ReplacementReason::Correction,
                    });
                }),
            )
            .await;
        }
    })
    .await;
    assert_eq!(code, Some(1), "a stray fails the run: {out}");
    assert!(
        out.contains(&format!(
            "!! a submission arrived that matches no step: message 2.999.5851.8.{}.1 (document 2.999.5851.8.{}.21): AE [R2-NOT-ORGANISER] (from 2.999.5851.2.7); ",
            std::process::id(),
            std::process::id(),
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "; not what step tallennus waits for: it is about client 150575-9025, not 010190-901R"
        ),
        "{out}"
    );
    assert!(
        out.contains("   sut-resend / tallennus: your system's submission did not pass: expected AA, got AE ["),
        "{out}"
    );
    assert!(out.contains("   sut-resend / tallennus: passed"), "{out}");
    let results = read_results(&dir.path().join("out"));
    let steps = &results.cases[0].steps;
    assert_eq!(
        steps.iter().map(|s| s.outcome).collect::<Vec<_>>(),
        vec![Outcome::Passed, Outcome::Passed],
        "{out}"
    );
    assert!(steps.iter().all(|s| s.sent_by == Sender::YourSystem));
    assert_eq!(steps[0].attempts.len(), 1, "{:?}", steps[0].attempts);
    assert_eq!(steps[0].attempts[0].actual.ack, "AE");
    assert!(
        steps[0].attempts[0]
            .failure
            .starts_with("expected AA, got AE ["),
        "{:?}",
        steps[0].attempts
    );
    assert_eq!(steps[0].document_id.as_deref(), Some(first_doc.as_str()));
    assert_eq!(results.strays.len(), 1, "{:?}", results.strays);
    assert_junit_valid(&dir.path().join("out/junit.xml"));
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert!(junit.contains("earlier submission at "), "{junit}");

    // The recording replays verbatim against a fresh embedded archive with the same PKI.
    let recorded = std::fs::read_to_string(dir.path().join("rec/case.toml")).unwrap();
    assert!(recorded.contains("[step.replay]"), "{recorded}");
    let output = kantakoe_cmd(dir.path())
        .args([
            "rehearse",
            "--case",
            "rec/case.toml",
            "--out",
            "replayed",
            "--pki",
        ])
        .arg(pki().dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{recorded}");
    let replayed = read_results(&dir.path().join("replayed"));
    assert_eq!(replayed.summary.passed, 2, "{stdout}");
    assert_eq!(
        replayed.cases[0].steps[0].document_id.as_deref(),
        Some(first_doc.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_that_goes_away_mid_run_is_an_environment_error_not_a_cascade() {
    let pki_dir = pki().dir().to_str().unwrap().to_owned();
    let mut archive = Some(support::spawn_archive(&[
        "--pki",
        &pki_dir,
        "--db",
        ":memory:",
        "--view-listen",
        "off",
    ]));
    let url = archive.as_ref().unwrap().url.clone();
    let dir = tempfile::tempdir().unwrap();
    let case = workspace().join("tests/cases/sut.toml");
    let args: Vec<&std::ffi::OsStr> = vec![
        "rehearse".as_ref(),
        "--sut".as_ref(),
        "--archive".as_ref(),
        url.as_ref(),
        "--pki".as_ref(),
        pki_dir.as_ref(),
        "--case".as_ref(),
        case.as_os_str(),
        "--connect-timeout".as_ref(),
        "2".as_ref(),
    ];
    let (code, out) = run_playing(dir.path(), &args, async |line: &str| {
        if line.starts_with(">> sut / tallennus:") {
            // The archive process ends while the step waits.
            drop(archive.take());
        }
    })
    .await;
    assert_eq!(code, Some(2), "{out}");
    assert!(!out.contains("channel closed"), "{out}");
    assert!(
        out.contains(
            "   sut / tallennus: environment error: the archive's inspection API did not answer: "
        ),
        "{out}"
    );
    let results = read_results(&dir.path().join("out"));
    let outcomes: Vec<Outcome> = results.cases[0].steps.iter().map(|s| s.outcome).collect();
    assert_eq!(
        outcomes,
        vec![Outcome::Error, Outcome::Skipped, Outcome::Skipped],
        "{out}"
    );
    assert!(
        results.cases[0].steps[1].failures[0]
            .starts_with("not run: the run stopped at sut / tallennus: the archive's inspection API did not answer: "),
        "{:?}",
        results.cases[0].steps[1]
    );
    assert!(results.stopped.is_some());
    let junit = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    assert!(
        junit.contains("<error message=\"the archive&apos;s inspection API did not answer: "),
        "{junit}"
    );
    // Said in the harness's words (the keep-alive connection was closed, or a new one refused).
    assert!(
        junit.contains(" closed the connection before its answer was complete without saying why")
            || junit.contains("connection refused: nothing is listening"),
        "{junit}"
    );
    assert!(junit.contains(" errors=\"1\""), "{junit}");
    assert_junit_valid(&dir.path().join("out/junit.xml"));
}
