//! The deployment-test report: the `.eml` read back by an independent parser (Python's
//! standard `email` package), the Finnish and Swedish bodies as snapshots, the findings of a
//! failed run, settings problems, and SMTP submission to a real SMTP server (`aiosmtpd`) on
//! loopback, accepting and refusing.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use kantakoe::report::settings::EXAMPLE_SETTINGS;
use kantakoe::report::smtp::Security;
use kantakoe::report::{
    self, EML_FILE, Lang, ReportError, ReportOptions, ReportOutcome, Settings, SettingsSource,
    SmtpTarget, body,
};
use kantakoe::results::{
    ActualAck, ArchiveTarget, ArchivistConfirmation, CaseResult, CheckpointResult, ExpectedAck,
    Mode, Outcome, RESULTS_FORMAT, RunResults, StepResult, Stray, Summary,
};
use time::macros::{date, datetime};

/// The provider of the fixture (`testcases/orgs.toml`).
const PROVIDER: &str = "2.999.5851.2.1";
/// The county that buys services from it.
const COUNTY: &str = "2.999.5851.2.2";

fn checkpoints(holder: &str, version: &str) -> Vec<CheckpointResult> {
    [
        ("register_holder", holder),
        ("status", "active"),
        ("version", version),
    ]
    .into_iter()
    .map(|(field, value)| CheckpointResult {
        field: field.to_owned(),
        expected: value.to_owned(),
        actual: Some(value.to_owned()),
        passed: true,
    })
    .collect()
}

fn step(
    id: &str,
    title_fi: &str,
    title_sv: &str,
    expected: (&str, &[&str]),
    holder: Option<&str>,
    document: Option<&str>,
) -> StepResult {
    let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    StepResult {
        id: id.to_owned(),
        title_fi: title_fi.to_owned(),
        title_sv: title_sv.to_owned(),
        actor: kantakoe::results::Actor::YourSystem,
        outcome: Outcome::Passed,
        expected: ExpectedAck {
            ack: expected.0.to_owned(),
            codes: codes(expected.1),
        },
        actual: Some(ActualAck {
            ack: expected.0.to_owned(),
            codes: codes(expected.1),
            message_id: Some(format!("2.999.5851.8.{id}")),
        }),
        document_id: document.map(str::to_owned),
        register_holder: holder.map(str::to_owned),
        checkpoints: holder.map(|h| checkpoints(h, "1")).unwrap_or_default(),
        failures: Vec::new(),
        duration_ms: 12,
    }
}

/// A fully passed run of `kayttoonottokoe` on Thursday 2.4.2026, before Easter.
fn passed_run() -> RunResults {
    let steps = vec![
        step(
            "itsemaksava-asiakkuusasiakirja",
            "Itse maksavan asiakkaan asiakkuusasiakirja palveluntuottajan rekisteriin",
            "Självbetalande klients klientrelationsdokument i serviceproducentens register",
            ("AA", &[]),
            Some(PROVIDER),
            Some("2.999.5851.9.1"),
        ),
        step(
            "ostopalvelu-jarjestajan-rekisteriin",
            "Ostopalveluasiakkaan asiakirja hyvinvointialueen rekisteriin käyttöoikeudella",
            "Köptjänstklientens handling i välfärdsområdets register med användningsrätt",
            ("AA", &[]),
            Some(COUNTY),
            Some("2.999.5851.9.2"),
        ),
        step(
            "ostopalvelu-omaan-rekisteriin",
            "Ostopalvelun asiakirja palveluntuottajan omaan rekisteriin hylätään",
            "Köptjänstens handling i serviceproducentens eget register avvisas",
            ("AE", &["R2-NOT-ORGANISER"]),
            None,
            None,
        ),
    ];
    let cases = vec![CaseResult {
        id: "kayttoonottokoe".to_owned(),
        file: "testcases/kayttoonottokoe.toml".to_owned(),
        title_fi: "Käyttöönottokoe: yksityinen palveluntuottaja".to_owned(),
        title_sv: "Ibruktagningsprov: privat serviceproducent".to_owned(),
        steps,
    }];
    RunResults {
        format: RESULTS_FORMAT,
        tool: "kantakoe 0.1.0".to_owned(),
        started_at: datetime!(2026-04-02 09:00:00 +03:00),
        finished_at: datetime!(2026-04-02 09:00:01 +03:00),
        test_date: date!(2026 - 04 - 02),
        archive: ArchiveTarget {
            url: "https://127.0.0.1:8443/archive".to_owned(),
            embedded: true,
        },
        mode: Mode::Reference,
        summary: Summary::of(&cases),
        cases,
        strays: Vec::new(),
        confirmation: None,
    }
}

/// The same run with the second step failed and a stray submission.
fn failed_run() -> RunResults {
    let mut run = passed_run();
    let step = &mut run.cases[0].steps[1];
    step.outcome = Outcome::Failed;
    step.actual = Some(ActualAck {
        ack: "AE".to_owned(),
        codes: vec!["R2-NO-USAGE-RIGHT".to_owned()],
        message_id: Some("2.999.5851.8.2".to_owned()),
    });
    step.checkpoints[0].actual = None;
    step.checkpoints[0].passed = false;
    step.failures = vec![
        "expected AA, got AE (R2-NO-USAGE-RIGHT)".to_owned(),
        "the document is not in register 2.999.5851.2.2".to_owned(),
    ];
    run.cases[0].steps[2].outcome = Outcome::Skipped;
    run.cases[0].steps[2].actual = None;
    run.strays.push(Stray {
        at: "2026-04-02T09:00:00.500+03:00".to_owned(),
        message_id: Some("2.999.5851.8.99".to_owned()),
        document_id: None,
        outcome: "AR (MESSAGE-UNREADABLE)".to_owned(),
    });
    run.summary = Summary::of(&run.cases);
    run
}

fn example_settings(test_date: time::Date) -> Settings {
    Settings::parse(EXAMPLE_SETTINGS, SettingsSource::Example, test_date).expect("example")
}

fn options(out: &Path, lang: Lang) -> ReportOptions {
    ReportOptions {
        settings: None,
        lang,
        smtp: None,
        out_dir: out.to_path_buf(),
    }
}

/// Reads an RFC 5322 message with Python's standard `email` package (policy.default) and
/// returns what it saw as JSON.
fn python_parse(path: &Path) -> serde_json::Value {
    const SCRIPT: &str = r#"
import email, json, sys
from email import policy
with open(sys.argv[1], 'rb') as f:
    msg = email.message_from_binary_file(f, policy=policy.default)
body = msg.get_body(preferencelist=('plain',))
print(json.dumps({
    'to': str(msg['To']), 'from': str(msg['From']), 'cc': str(msg['Cc']),
    'subject': str(msg['Subject']), 'mime_version': str(msg['MIME-Version']),
    'has_date': msg['Date'] is not None, 'has_message_id': msg['Message-ID'] is not None,
    'content_type': body.get_content_type(), 'charset': body.get_content_charset(),
    'multipart': msg.is_multipart(), 'rcpt': str(msg['X-RcptTo']),
    'body': body.get_content(),
    'defects': [type(d).__name__ for d in msg.defects] + [type(d).__name__ for d in body.defects],
}, ensure_ascii=False))
"#;
    let out = crate::support::python()
        .arg("-c")
        .arg(SCRIPT)
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

#[test]
fn finnish_body_snapshot() {
    let run = passed_run();
    let settings = example_settings(run.test_date);
    let due = report::holidays::due_date(run.test_date);
    assert_eq!(due, date!(2026 - 04 - 08), "across Easter 2026");
    insta::assert_snapshot!(
        "body_fi",
        format!(
            "Subject: {}\n\n{}",
            body::subject(Lang::Fi, &settings, &run),
            body::body(Lang::Fi, &settings, &run, due)
        )
    );
}

#[test]
fn swedish_body_snapshot_with_archivist_confirmation() {
    let mut run = passed_run();
    run.mode = Mode::Sut;
    run.confirmation = Some(ArchivistConfirmation {
        by: "Arkistonhoitaja Esimerkki (TESTIAINEISTO)".to_owned(),
        at: "2026-04-02T09:30:00+03:00".to_owned(),
        confirmed: 6,
        total: 6,
    });
    let settings = example_settings(run.test_date);
    let due = report::holidays::due_date(run.test_date);
    insta::assert_snapshot!(
        "body_sv",
        format!(
            "Subject: {}\n\n{}",
            body::subject(Lang::Sv, &settings, &run),
            body::body(Lang::Sv, &settings, &run, due)
        )
    );
}

#[test]
fn eml_is_read_back_by_python_email() {
    let dir = tempfile::tempdir().unwrap();
    let run = passed_run();
    let outcome = report::write_after_run(&run, &options(dir.path(), Lang::Fi)).unwrap();
    let eml = dir.path().join(EML_FILE);
    assert_eq!(
        outcome,
        ReportOutcome::Report {
            eml: eml.clone(),
            test_date: date!(2026 - 04 - 02),
            due: date!(2026 - 04 - 08),
            sent: None,
            settings: SettingsSource::Example,
        }
    );
    assert_eq!(
        outcome
            .to_string()
            .replace(&dir.path().display().to_string(), "OUT"),
        "note: the bundled example settings were used (test data describing the fixture's \
         provider); copy testcases/organisation.example.toml to kantakoe.toml and fill in your \
         organisation's details, or pass --settings FILE
report to Kela (kanta@kanta.fi) written: OUT/kayttoonottokoe-raportti.eml
due: 2026-04-08 at the latest (two Finnish working days after the test on 2026-04-02)"
    );

    let m = python_parse(&eml);
    assert_eq!(m["to"], "kanta@kanta.fi");
    assert_eq!(
        m["from"],
        "Sanna Suorittaja <sanna.suorittaja@esimerkki.invalid>"
    );
    assert_eq!(
        m["cc"],
        "Arkistonhoitaja Esimerkki <arkistonhoitaja@esimerkki.invalid>"
    );
    assert_eq!(
        m["subject"],
        "Käyttöönottokokeen raportti – Sosiaalihuollon asiakastietovaranto – Hoivapalvelu \
         Esimerkki Oy (TESTIAINEISTO) – 2.4.2026"
    );
    assert_eq!(m["mime_version"], "1.0");
    assert_eq!(m["has_date"], true);
    assert_eq!(m["has_message_id"], true);
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["charset"], "utf-8");
    assert_eq!(m["multipart"], false);
    assert_eq!(m["defects"], serde_json::json!([]));
    // The body decodes to exactly what was rendered (lettre writes CRLF line ends, Python
    // keeps them as \n).
    let settings = example_settings(run.test_date);
    let rendered = body::body(Lang::Fi, &settings, &run, date!(2026 - 04 - 08));
    assert_eq!(m["body"].as_str().unwrap().trim_end(), rendered.trim_end());
    assert!(rendered.contains("Järjestelmätoimittaja Testi Oy"));
    assert!(rendered.contains("tarkistettiin automaattisesti arkiston tarkastusrajapinnan kautta"));
    assert!(rendered.contains("Varsinainen tallentaminen tuotannossa aloitetaan 7.1.2030."));
    assert!(rendered.contains("määräpäivä on 8.4.2026."));
}

#[test]
fn swedish_eml_keeps_a_with_ring() {
    let dir = tempfile::tempdir().unwrap();
    let run = passed_run();
    report::write_after_run(&run, &options(dir.path(), Lang::Sv)).unwrap();
    let m = python_parse(&dir.path().join(EML_FILE));
    assert_eq!(
        m["subject"],
        "Rapport om ibruktagningsprovet – Klientdataarkivet för socialvården – Hoivapalvelu \
         Esimerkki Oy (TESTIAINEISTO) – 2.4.2026"
    );
    let text = m["body"].as_str().unwrap();
    assert!(text.contains("rapporteras inom två vardagar; denna rapports sista dag är 8.4.2026."));
    assert!(text.contains("Den egentliga arkiveringen i produktion inleds 7.1.2030."));
    assert!(
        text.contains("för Kanta-arkivariens (Arkistonhoitaja Esimerkki (TESTIAINEISTO)) räkning")
    );
}

#[test]
fn failed_run_writes_findings_and_removes_a_stale_report() {
    let dir = tempfile::tempdir().unwrap();
    // An earlier, passed run left its report here.
    report::write_after_run(&passed_run(), &options(dir.path(), Lang::Fi)).unwrap();
    let eml = dir.path().join(EML_FILE);
    assert!(eml.exists());

    let outcome = report::write_after_run(&failed_run(), &options(dir.path(), Lang::Fi)).unwrap();
    let findings = dir.path().join("havainnot.md");
    assert_eq!(
        outcome,
        ReportOutcome::Findings {
            path: findings.clone()
        }
    );
    assert!(
        !eml.exists(),
        "a stale report must not survive a failed run"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["havainnot.md"]);
    insta::assert_snapshot!("findings_fi", std::fs::read_to_string(&findings).unwrap());

    // Swedish findings replace the Finnish ones; a passed run then replaces the findings.
    let outcome = report::write_after_run(&failed_run(), &options(dir.path(), Lang::Sv)).unwrap();
    let sv = dir.path().join("iakttagelser.md");
    assert_eq!(outcome, ReportOutcome::Findings { path: sv.clone() });
    assert!(!findings.exists());
    insta::assert_snapshot!("findings_sv", std::fs::read_to_string(&sv).unwrap());
    report::write_after_run(&passed_run(), &options(dir.path(), Lang::Fi)).unwrap();
    assert!(eml.exists() && !sv.exists());
}

#[test]
fn a_run_without_steps_or_with_a_false_summary_is_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut empty = passed_run();
    empty.cases.clear();
    empty.summary = Summary::of(&empty.cases);
    assert!(empty.all_passed() && !report::passed(&empty));
    let outcome = report::write_after_run(&empty, &options(dir.path(), Lang::Fi)).unwrap();
    assert!(matches!(outcome, ReportOutcome::Findings { .. }));
    let text = std::fs::read_to_string(dir.path().join("havainnot.md")).unwrap();
    assert!(text.contains("Tuloksissa ei ole yhtään vaihetta"), "{text}");

    let mut forged = failed_run();
    forged.summary = Summary {
        steps: 3,
        passed: 3,
        failed: 0,
        skipped: 0,
    };
    forged.strays.clear();
    assert!(forged.all_passed() && !report::passed(&forged));
    let outcome = report::write_after_run(&forged, &options(dir.path(), Lang::Fi)).unwrap();
    assert!(matches!(outcome, ReportOutcome::Findings { .. }));
    assert!(!dir.path().join(EML_FILE).exists());
}

#[test]
fn missing_settings_are_listed_at_once_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("kantakoe.toml");
    std::fs::write(
        &settings,
        "\
[organisation]
name = \"Hoiva Oy\"
business_id = \"9990001-7\"
operating_unit_oid = \"2.999.5851.2.1\"

[[organisation.service_unit]]
oid = \"2.999..1\"

[system]
product = \"Hoivajärjestelmä\"
version = \"3.1\"
vendor = \"Toimittaja Oy\"

[test]
run_by = \"Sanna Suorittaja\"
production_start = 2026-03-01

[email]
from = \"sanna@hoiva.invalid\"
cc = [\"archivist at hoiva\"]
",
    )
    .unwrap();
    let out = dir.path().join("out");
    let mut opts = options(&out, Lang::Fi);
    opts.settings = Some(settings.clone());
    let err = report::write_after_run(&passed_run(), &opts).unwrap_err();
    let shown = settings.display().to_string();
    assert_eq!(
        err.to_string().replace(&shown, "kantakoe.toml"),
        "settings in kantakoe.toml are missing or invalid (7 problems); nothing was written:
  kantakoe.toml:3: `organisation.business_id`: business ID `9990001-7` has check digit 7, expected 6
  kantakoe.toml:6: `organisation.service_unit[1].name` (the service unit's name) is missing
  kantakoe.toml:7: `organisation.service_unit[1].oid`: OID `2.999..1` has an empty arc
  kantakoe.toml:16: `test.production_start` 2026-03-01 is before the test date 2026-04-02
  kantakoe.toml:20: `email.cc[1]`: `archivist at hoiva` is not an email address (Invalid input)
  kantakoe.toml: `archivist.name` (the Kanta archivist's name) is missing
  kantakoe.toml: `archivist.email` (the archivist's email address) is missing"
    );
    assert!(
        !out.exists(),
        "nothing may be written before the settings are complete"
    );
}

#[test]
fn settings_syntax_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("kantakoe.toml");
    std::fs::write(
        &settings,
        "[organisation]\nname = \"Hoiva Oy\"\nbusines_id = \"x\"\n",
    )
    .unwrap();
    let mut opts = options(dir.path(), Lang::Fi);
    opts.settings = Some(settings.clone());
    let err = report::write_after_run(&passed_run(), &opts).unwrap_err();
    assert_eq!(
        err.to_string()
            .replace(&settings.display().to_string(), "kantakoe.toml"),
        "kantakoe.toml:3: unknown field `busines_id`, expected one of `name`, `business_id`, \
         `operating_unit_oid`, `service_unit`"
    );
}

#[test]
fn example_settings_are_never_submitted() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Lang::Fi);
    opts.smtp = Some(SmtpTarget::parse("smtp+plain://127.0.0.1:9").unwrap());
    let err = report::write_after_run(&passed_run(), &opts).unwrap_err();
    assert!(matches!(err, ReportError::ExampleNotSent));
    assert_eq!(
        err.to_string(),
        "refusing to submit a report made from the bundled example settings (test data) to \
         kanta@kanta.fi; write your organisation's details to kantakoe.toml or pass --settings \
         FILE"
    );
    assert!(!dir.path().join(EML_FILE).exists());
}

// --- SMTP against a real aiosmtpd on loopback ------------------------------------------------

/// An `aiosmtpd` process, killed on drop.
struct SmtpServer {
    child: Child,
    port: u16,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `python -m aiosmtpd` (the test venv's) on 127.0.0.1 with `args`, `PYTHONPATH` = `pythonpath`, and
/// waits until it accepts connections.
fn start_aiosmtpd(pythonpath: &Path, args: &[&str]) -> SmtpServer {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = crate::support::python()
        .args(["-m", "aiosmtpd", "-n", "-l", &listen])
        .args(args)
        .env("PYTHONPATH", pythonpath)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(pythonpath.join("aiosmtpd.log")).unwrap())
        .spawn()
        .expect("python -m aiosmtpd starts (installed by tests/run)");
    let mut server = SmtpServer { child, port };
    let addr: SocketAddr = listen.parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Some(status) = server.child.try_wait().unwrap() {
            let log = std::fs::read_to_string(pythonpath.join("aiosmtpd.log")).unwrap_or_default();
            panic!("aiosmtpd exited before listening: {status}\n{log}");
        }
        assert!(Instant::now() < deadline, "aiosmtpd did not listen in time");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// Settings file for a run that may be submitted (a copy of the example, as a user file).
fn user_settings(dir: &Path) -> PathBuf {
    let path = dir.join("kantakoe.toml");
    std::fs::write(&path, EXAMPLE_SETTINGS).unwrap();
    path
}

fn only_message(maildir: &Path) -> PathBuf {
    let new: Vec<PathBuf> = std::fs::read_dir(maildir.join("new"))
        .expect("maildir/new")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(new.len(), 1, "one message arrived: {new:?}");
    new.into_iter().next().unwrap()
}

#[test]
fn smtp_submission_arrives_at_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let server = start_aiosmtpd(
        dir.path(),
        &["-c", "aiosmtpd.handlers.Mailbox", maildir.to_str().unwrap()],
    );
    let mut opts = options(&dir.path().join("out"), Lang::Fi);
    opts.settings = Some(user_settings(dir.path()));
    opts.smtp =
        Some(SmtpTarget::parse(&format!("smtp+plain://127.0.0.1:{}", server.port)).unwrap());
    let outcome = report::write_after_run(&passed_run(), &opts).unwrap();
    let ReportOutcome::Report { sent, eml, .. } = outcome else {
        panic!("a report was expected: {outcome:?}");
    };
    assert_eq!(sent.as_deref(), Some("250 OK"));

    let arrived = python_parse(&only_message(&maildir));
    let written = python_parse(&eml);
    assert_eq!(
        arrived["rcpt"],
        "kanta@kanta.fi, arkistonhoitaja@esimerkki.invalid"
    );
    for key in ["to", "from", "cc", "subject", "charset", "body"] {
        let trimmed = |v: &serde_json::Value| v.as_str().map(|s| s.trim_end().to_owned());
        assert_eq!(trimmed(&arrived[key]), trimmed(&written[key]), "{key}");
    }
    assert!(
        arrived["body"]
            .as_str()
            .unwrap()
            .contains("Kanta-arkistonhoitaja")
    );
}

#[test]
fn smtp_refusal_names_the_server_and_its_reply() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("refusing_handler.py"),
        "class Refuse:\n    async def handle_RCPT(self, server, session, envelope, address, \
         rcpt_options):\n        return '550 5.7.1 Kantakoe test server: recipient refused'\n",
    )
    .unwrap();
    let server = start_aiosmtpd(dir.path(), &["-c", "refusing_handler.Refuse"]);
    let out = dir.path().join("out");
    let mut opts = options(&out, Lang::Fi);
    opts.settings = Some(user_settings(dir.path()));
    opts.smtp =
        Some(SmtpTarget::parse(&format!("smtp+plain://127.0.0.1:{}", server.port)).unwrap());
    let err = report::write_after_run(&passed_run(), &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "SMTP server 127.0.0.1:{} refused the report: 550 5.7.1 Kantakoe test server: \
             recipient refused; the report was written to {} and was not sent",
            server.port,
            out.join(EML_FILE).display()
        )
    );
    assert!(out.join(EML_FILE).exists());
}

#[test]
fn smtp_closed_port_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = dir.path().join("out");
    let mut opts = options(&out, Lang::Fi);
    opts.settings = Some(user_settings(dir.path()));
    opts.smtp = Some(SmtpTarget::parse(&format!("smtp+plain://127.0.0.1:{port}")).unwrap());
    let err = report::write_after_run(&passed_run(), &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "SMTP server 127.0.0.1:{port} could not be reached: Connection refused (os error \
             111); the report was written to {} and was not sent",
            out.join(EML_FILE).display()
        )
    );
}

/// A test CA and a server certificate for 127.0.0.1 signed by it, as PEM files in `dir`.
fn tls_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Kantakoe SMTP test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

fn submit_over_tls(security: Security) {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls_files(dir.path());
    let maildir = dir.path().join("maildir");
    let (cert_flag, key_flag) = match security {
        Security::StartTls => ("--tlscert", "--tlskey"),
        _ => ("--smtpscert", "--smtpskey"),
    };
    let server = start_aiosmtpd(
        dir.path(),
        &[
            cert_flag,
            cert.to_str().unwrap(),
            key_flag,
            key.to_str().unwrap(),
            "-c",
            "aiosmtpd.handlers.Mailbox",
            maildir.to_str().unwrap(),
        ],
    );
    let scheme = match security {
        Security::StartTls => "smtp",
        _ => "smtps",
    };
    let mut target = SmtpTarget::parse(&format!("{scheme}://127.0.0.1:{}", server.port)).unwrap();
    assert_eq!(target.security, security);
    let mut opts = options(&dir.path().join("out"), Lang::Sv);
    opts.settings = Some(user_settings(dir.path()));

    // Without the test CA the server's certificate is not trusted.
    opts.smtp = Some(target.clone());
    let err = report::write_after_run(&passed_run(), &opts).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "SMTP server 127.0.0.1:{}: TLS failed: ",
            server.port
        )) && text.contains("UnknownIssuer"),
        "{text}"
    );

    target.extra_ca = Some(ca);
    opts.smtp = Some(target);
    let outcome = report::write_after_run(&passed_run(), &opts).unwrap();
    assert!(matches!(outcome, ReportOutcome::Report { sent: Some(ref r), .. } if r == "250 OK"));
    let arrived = python_parse(&only_message(&maildir));
    assert!(
        arrived["subject"]
            .as_str()
            .unwrap()
            .starts_with("Rapport om ibruktagningsprovet")
    );
}

#[test]
fn smtp_starttls_with_a_trusted_ca() {
    submit_over_tls(Security::StartTls);
}

#[test]
fn smtp_implicit_tls_with_a_trusted_ca() {
    submit_over_tls(Security::Implicit);
}

// --- the command line --------------------------------------------------------------------------

fn run_cli(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = crate::support::kantakoe_cmd(dir)
        .args(args)
        .env_remove(kantakoe::report::smtp::ENV_USER)
        .env_remove(kantakoe::report::smtp::ENV_PASSWORD)
        .output()
        .expect("kantakoe runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_report_writes_beside_the_results_and_uses_kantakoe_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    std::fs::write(
        dir.path().join("out/results.json"),
        serde_json::to_string_pretty(&passed_run()).unwrap(),
    )
    .unwrap();
    // ./kantakoe.toml is picked up without --settings, so no example note.
    user_settings(dir.path());
    let (code, stdout, stderr) = run_cli(dir.path(), &["report", "--lang", "sv"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "report to Kela (kanta@kanta.fi) written: out/kayttoonottokoe-raportti.eml\n\
         due: 2026-04-08 at the latest (two Finnish working days after the test on 2026-04-02)\n"
    );
    let m = python_parse(&dir.path().join("out").join(EML_FILE));
    assert!(
        m["subject"]
            .as_str()
            .unwrap()
            .contains("Klientdataarkivet för socialvården")
    );
}

#[test]
fn cli_report_of_a_failed_run_exits_1_with_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("results.json"),
        serde_json::to_string(&failed_run()).unwrap(),
    )
    .unwrap();
    let (code, stdout, _) = run_cli(
        dir.path(),
        &["report", "--results", "results.json", "--out", "o"],
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        stdout,
        "not every step passed: no report to Kela; findings written: o/havainnot.md\n"
    );
}

#[test]
fn cli_report_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run_cli(dir.path(), &["report", "--results", "missing.json"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "kantakoe: error: cannot read results file missing.json: No such file or directory (os \
         error 2)\n"
    );
    std::fs::write(dir.path().join("bad.toml"), "[system]\nproduct = \"X\"\n").unwrap();
    std::fs::write(
        dir.path().join("results.json"),
        serde_json::to_string(&passed_run()).unwrap(),
    )
    .unwrap();
    let (code, _, stderr) = run_cli(
        dir.path(),
        &[
            "report",
            "--results",
            "results.json",
            "--settings",
            "bad.toml",
        ],
    );
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "kantakoe: error: settings in bad.toml are missing or invalid (11 problems); nothing \
         was written:
  bad.toml:1: `system.version` (its version) is missing
  bad.toml:1: `system.vendor` (the system vendor) is missing
  bad.toml: `organisation.name` (the organisation's name) is missing
  bad.toml: `organisation.business_id` (the business ID, Y-tunnus) is missing
  bad.toml: `organisation.operating_unit_oid` (the operating unit's OID) is missing
  bad.toml: no `[[organisation.service_unit]]` (at least one service unit, with `oid` and `name`)
  bad.toml: `test.run_by` (who ran the test) is missing
  bad.toml: `test.production_start` (the date real production storing starts) is missing
  bad.toml: `archivist.name` (the Kanta archivist's name) is missing
  bad.toml: `archivist.email` (the archivist's email address) is missing
  bad.toml: `email.from` (the report's sender) is missing
"
    );
    let (code, _, stderr) = run_cli(
        dir.path(),
        &[
            "report",
            "--results",
            "results.json",
            "--smtp",
            "smtp+plain://mail.example.invalid:25",
        ],
    );
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "kantakoe: error: SMTP URL `smtp+plain://mail.example.invalid:25`: smtp+plain:// (no \
         TLS) is only for a loopback host; use smtp:// or smtps://\n"
    );
}

#[test]
fn unreadable_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // A settings file that is not there.
    let mut opts = options(&dir.path().join("out"), Lang::Fi);
    let missing = dir.path().join("none.toml");
    opts.settings = Some(missing.clone());
    assert_eq!(
        report::write_after_run(&passed_run(), &opts)
            .unwrap_err()
            .to_string(),
        format!(
            "cannot read settings file {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    // An output directory that is a file.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let err = report::write_after_run(&failed_run(), &options(&file, Lang::Fi)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cannot write {}: File exists (os error 17)", file.display())
    );
    // An extra SMTP CA file that is not there (found before any connection is made).
    let mut opts = options(&dir.path().join("out"), Lang::Fi);
    opts.settings = Some(user_settings(dir.path()));
    let mut target = SmtpTarget::parse("smtps://127.0.0.1:9").unwrap();
    let ca = dir.path().join("no-ca.pem");
    target.extra_ca = Some(ca.clone());
    opts.smtp = Some(target);
    assert_eq!(
        report::write_after_run(&passed_run(), &opts)
            .unwrap_err()
            .to_string(),
        format!(
            "SMTP CA file {} (from KANTAKOE_SMTP_CA): No such file or directory (os error 2); \
             the report was written to {} and was not sent",
            ca.display(),
            dir.path().join("out").join(EML_FILE).display()
        )
    );
}

#[test]
fn cli_half_smtp_credentials_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::kantakoe_cmd(dir.path())
        .args(["report", "--smtp", "smtps://127.0.0.1:9"])
        .env(kantakoe::report::smtp::ENV_USER, "sanna")
        .env_remove(kantakoe::report::smtp::ENV_PASSWORD)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "kantakoe: error: SMTP credentials: KANTAKOE_SMTP_USER and KANTAKOE_SMTP_PASSWORD must \
         be set together\n"
    );
}

#[test]
fn a_partial_confirmation_claims_only_what_was_confirmed() {
    let mut run = passed_run();
    run.confirmation = Some(ArchivistConfirmation {
        by: "Arkistonhoitaja Esimerkki (TESTIAINEISTO)".to_owned(),
        at: "2026-04-02T09:30:00+03:00".to_owned(),
        confirmed: 4,
        total: 6,
    });
    let settings = example_settings(run.test_date);
    let due = report::holidays::due_date(run.test_date);
    let fi = body::body(Lang::Fi, &settings, &run, due);
    assert!(fi.contains(
        "Kanta-arkistonhoitaja Arkistonhoitaja Esimerkki (TESTIAINEISTO) vahvisti \
         arkistonhoitajan näkymässä (2026-04-02T09:30:00+03:00) vain 4/6 tarkistuskohtaa. Kaikki \
         6 tarkistuskohtaa tarkistettiin automaattisesti arkiston tarkastusrajapinnan kautta."
    ));
    assert!(!fi.contains("kuvailutiedot ovat asianmukaiset"));
    let sv = body::body(Lang::Sv, &settings, &run, due);
    assert!(sv.contains("endast 4/6 kontrollpunkter"));
    assert!(!sv.contains("beskrivningsinformation är korrekt"));
}
