//! The deployment-test report: a rehearsal's draft (HARJOITUS / ÖVNING, never to Kela) and
//! the real report from the real test's record, each `.eml` read back by an independent
//! parser (Python's standard `email` package), the Finnish and Swedish bodies as snapshots
//! (and no Finnish left in the Swedish ones), the findings of a failed run, settings and
//! record problems, and SMTP submission to a real SMTP server (`aiosmtpd`) on loopback,
//! accepting and refusing.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use kantakoe::report::settings::EXAMPLE_SETTINGS;
use kantakoe::report::smtp::Security;
use kantakoe::report::{
    self, DRAFT_FILE, EML_FILE, Lang, ReportError, ReportOptions, ReportOutcome, Settings,
    SettingsSource, SmtpTarget, body, findings,
};
use kantakoe::results::{
    ActualAck, ArchiveTarget, ArchivistConfirmation, CaseResult, CheckpointResult, Confirmer,
    ExpectedAck, Mode, Outcome, RESULTS_FORMAT, RunResults, StepResult, Stray, Summary,
};
use time::OffsetDateTime;
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
        outages: Vec::new(),
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
        sent_by: kantakoe::results::Sender::YourSystem,
        attempts: Vec::new(),
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
        schema_version: RESULTS_FORMAT,
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
        stopped: None,
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
        reason: String::new(),
    });
    run.summary = Summary::of(&run.cases);
    run
}

fn example_settings(test_date: time::Date) -> Settings {
    Settings::parse(EXAMPLE_SETTINGS, SettingsSource::Example, Some(test_date)).expect("example")
}

/// The draft's body of `run` with the example settings.
fn draft(lang: Lang, run: &RunResults) -> String {
    let settings = example_settings(run.test_date);
    format!(
        "Subject: {}\n\n{}",
        body::draft_subject(lang, &settings, run),
        body::draft_body(lang, &settings, settings.test.as_ref().unwrap(), run)
    )
}

fn options(out: &Path, lang: Lang) -> ReportOptions {
    ReportOptions {
        settings: None,
        lang,
        smtp: None,
        to: None,
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
    'date_offset_s': msg['Date'].datetime.utcoffset().total_seconds(),
    'date_utc': msg['Date'].datetime.timestamp(),
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
fn the_register_usage_right_test_names_itself_in_the_subject() {
    let mut run = passed_run();
    let settings = example_settings(run.test_date);
    let mut usage_right = run.cases[0].clone();
    usage_right.id = "rekisterinkayttooikeus".to_owned();
    run.cases.push(usage_right.clone());
    let both = body::draft_subject(Lang::Fi, &settings, &run);
    assert!(
        both.starts_with(
            "HARJOITUS – Käyttöönottokokeen ja rekisterinkäyttöoikeuden käyttöönottokokeen raportti (luonnos) – "
        ),
        "{both}"
    );
    run.cases = vec![usage_right];
    let alone = body::draft_subject(Lang::Sv, &settings, &run);
    assert!(
        alone.starts_with(
            "ÖVNING – Rapport om ibruktagningsprovet för registeranvändningsrätt (utkast) – "
        ),
        "{alone}"
    );
}

#[test]
fn finnish_draft_snapshot() {
    let run = passed_run();
    let text = draft(Lang::Fi, &run);
    assert!(
        text.starts_with(
            "Subject: HARJOITUS – Käyttöönottokokeen raportti (luonnos) – Sosiaalihuollon \
             asiakastietovaranto – "
        ),
        "{text}"
    );
    assert!(text.contains("Harjoitus ajettiin arkistoa https://127.0.0.1:8443/archive"));
    assert!(!text.contains("määräpäivä"), "a draft states no due date");
    insta::assert_snapshot!("body_fi", text);
}

#[test]
fn swedish_body_snapshot_with_archivist_confirmation() {
    let mut run = passed_run();
    run.mode = Mode::Sut;
    run.confirmation = Some(full_confirmation());
    let text = draft(Lang::Sv, &run);
    assert!(
        text.starts_with("Subject: ÖVNING – Rapport om ibruktagningsprovet (utkast) – "),
        "{text}"
    );
    insta::assert_snapshot!("body_sv", text);
}

/// Every checkpoint confirmed in the view: 4 by the provider's archivist, 2 by someone who
/// signed in for the county with a one-time token; the last at 9.30.00.123456789 Finnish
/// summer time.
fn full_confirmation() -> ArchivistConfirmation {
    ArchivistConfirmation {
        by: "Arkistonhoitaja Esimerkki (TESTIAINEISTO), Hyvinvointialue A: one-time sign-in"
            .to_owned(),
        at: "2026-04-02T06:30:00.123456789Z".to_owned(),
        confirmed: 6,
        total: 6,
        confirmers: vec![
            Confirmer {
                register_holder: PROVIDER.to_owned(),
                register_holder_name: Some("Hoivapalvelu Esimerkki Oy (TESTIAINEISTO)".to_owned()),
                archivist: Some("Arkistonhoitaja Esimerkki (TESTIAINEISTO)".to_owned()),
                confirmed: 4,
            },
            Confirmer {
                register_holder: COUNTY.to_owned(),
                register_holder_name: Some("Hyvinvointialue A (TESTIAINEISTO)".to_owned()),
                archivist: None,
                confirmed: 2,
            },
        ],
    }
}

#[test]
fn the_confirmers_are_named_with_their_register_holders_and_a_readable_time() {
    let mut run = passed_run();
    run.confirmation = Some(full_confirmation());
    let fi = draft(Lang::Fi, &run);
    assert!(
        fi.contains(
            "Arkistonhoitajan näkymässä vahvistettiin kaikki 6 tarkistuskohtaa (viimeisin \
             2.4.2026 klo 9.30): Arkistonhoitaja Esimerkki (TESTIAINEISTO) rekisterinpitäjän \
             Hoivapalvelu Esimerkki Oy (TESTIAINEISTO) (2.999.5851.2.1) puolesta 4 \
             tarkistuskohtaa; nimeämätön arkistonhoitaja (kertakäyttöinen kirjautumistunnus) \
             rekisterinpitäjän Hyvinvointialue A (TESTIAINEISTO) (2.999.5851.2.2) puolesta 2 \
             tarkistuskohtaa."
        ),
        "{fi}"
    );
    assert!(!fi.contains("one-time"), "{fi}");
    let sv = draft(Lang::Sv, &run);
    assert!(
        sv.contains(
            "(senast 2.4.2026 kl. 9.30): Arkistonhoitaja Esimerkki (TESTIAINEISTO) för den \
             personuppgiftsansvariga Hoivapalvelu Esimerkki Oy (TESTIAINEISTO) \
             (2.999.5851.2.1), 4 kontrollpunkter; icke namngiven arkivarie (engångsinloggning) \
             för den personuppgiftsansvariga Hyvinvointialue A (TESTIAINEISTO) \
             (2.999.5851.2.2), 2 kontrollpunkter."
        ),
        "{sv}"
    );
}

#[test]
fn the_draft_eml_is_read_back_by_python_email() {
    let dir = tempfile::tempdir().unwrap();
    let run = passed_run();
    let outcome = report::write_after_run(&run, &options(dir.path(), Lang::Fi)).unwrap();
    let eml = dir.path().join(DRAFT_FILE);
    let sender = "Sanna Suorittaja <sanna.suorittaja@esimerkki.invalid>";
    assert_eq!(
        outcome,
        ReportOutcome::Draft {
            eml: eml.clone(),
            test_date: date!(2026 - 04 - 02),
            to: sender.to_owned(),
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
rehearsal report draft (HARJOITUS, not for Kela) written: OUT/kayttoonottokoe-raportti-HARJOITUS.eml
the real report: after the real test in Kanta's production environment, fill in a record like \
         testcases/real-test.example.toml and run `kantakoe report --real-test FILE`"
    );

    let m = python_parse(&eml);
    // Addressed to its own sender, never to Kela, with no copies.
    assert_eq!(m["to"], sender);
    assert_eq!(m["from"], sender);
    assert_eq!(m["cc"], "None");
    assert!(
        !std::fs::read_to_string(&eml)
            .unwrap()
            .contains("kanta@kanta.fi>")
    );
    assert_eq!(
        m["subject"],
        "HARJOITUS – Käyttöönottokokeen raportti (luonnos) – Sosiaalihuollon \
         asiakastietovaranto – Hoivapalvelu Esimerkki Oy (TESTIAINEISTO) – 2.4.2026"
    );
    assert_eq!(m["mime_version"], "1.0");
    assert_eq!(m["has_date"], true);
    assert_date_is_finnish_local_time(&m);
    assert_eq!(m["has_message_id"], true);
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["charset"], "utf-8");
    assert_eq!(m["multipart"], false);
    assert_eq!(m["defects"], serde_json::json!([]));
    // The body decodes to exactly what was rendered (lettre writes CRLF line ends, Python
    // keeps them as \n).
    let settings = example_settings(run.test_date);
    let rendered = body::draft_body(Lang::Fi, &settings, settings.test.as_ref().unwrap(), &run);
    assert_eq!(m["body"].as_str().unwrap().trim_end(), rendered.trim_end());
    assert!(rendered.starts_with("HARJOITUS – LUONNOS, EI KELALLE\n"));
    assert!(rendered.contains(
        "Harjoitus ajettiin arkistoa https://127.0.0.1:8443/archive \
         (Kantakoe-harjoitusarkisto, käynnistetty tätä ajoa varten) vastaan, ei Kanta-palvelujen \
         tuotantoympäristössä. Luonnosta ei lähetetä Kelalle (kanta@kanta.fi)."
    ));
    assert!(rendered.contains("Järjestelmätoimittaja Testi Oy"));
    assert!(rendered.contains("tarkistettiin automaattisesti arkiston tarkastusrajapinnan kautta"));
    assert!(
        rendered.contains(
            "Varsinainen tallentaminen tuotannossa on suunniteltu aloitettavaksi 7.1.2030."
        )
    );
}

/// The parsed `Date` header is in Finnish local time: its offset is the one Finland had at
/// that instant.
fn assert_date_is_finnish_local_time(m: &serde_json::Value) {
    let offset = m["date_offset_s"].as_f64().unwrap() as i32;
    let instant =
        OffsetDateTime::from_unix_timestamp(m["date_utc"].as_f64().unwrap() as i64).unwrap();
    assert_eq!(
        offset,
        report::helsinki::offset_at(instant).whole_seconds(),
        "{m}"
    );
    assert!(offset == 7200 || offset == 10800, "{m}");
}

#[test]
fn the_swedish_draft_eml_says_ovning_and_keeps_a_with_ring() {
    let dir = tempfile::tempdir().unwrap();
    let run = passed_run();
    report::write_after_run(&run, &options(dir.path(), Lang::Sv)).unwrap();
    let m = python_parse(&dir.path().join(DRAFT_FILE));
    assert_eq!(
        m["subject"],
        "ÖVNING – Rapport om ibruktagningsprovet (utkast) – Klientdataarkivet för socialvården \
         – Hoivapalvelu Esimerkki Oy (TESTIAINEISTO) – 2.4.2026"
    );
    let text = m["body"].as_str().unwrap();
    assert!(
        text.starts_with("ÖVNING – UTKAST, INTE TILL FPA\n"),
        "{text}"
    );
    assert!(text.contains(
        "Övningen kördes mot arkivet https://127.0.0.1:8443/archive (Kantakoes övningsarkiv, \
         startat för denna körning), inte i Kanta-tjänsternas produktionsmiljö."
    ));
    assert!(text.contains("Den egentliga arkiveringen i produktion planeras inledas 7.1.2030."));
    assert!(
        text.contains("för Kanta-arkivariens (Arkistonhoitaja Esimerkki (TESTIAINEISTO)) räkning")
    );
}

#[test]
fn failed_run_writes_findings_and_removes_a_stale_report() {
    let dir = tempfile::tempdir().unwrap();
    // An earlier, passed run left its report here.
    report::write_after_run(&passed_run(), &options(dir.path(), Lang::Fi)).unwrap();
    let eml = dir.path().join(DRAFT_FILE);
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
        errors: 0,
    };
    forged.strays.clear();
    assert!(forged.all_passed() && !report::passed(&forged));
    let outcome = report::write_after_run(&forged, &options(dir.path(), Lang::Fi)).unwrap();
    assert!(matches!(outcome, ReportOutcome::Findings { .. }));
    assert!(!dir.path().join(DRAFT_FILE).exists());
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

// --- the real report, from the real test's record ---------------------------------------------

/// A complete record of a real test on Thursday 2.4.2026 (no test-data marker).
const REAL_RECORD: &str = "\
# The real test, filled in by the archivist.
[test]
date = 2026-04-02
case = \"Sosiaalihuollon asiakastietovarannon käyttöönottokoe, yksityinen palveluntuottaja\"
run_by = \"Sanna Suorittaja\"
production_start = 2026-04-13

[[step]]
title = \"Itse maksavan asiakkaan asiakkuusasiakirja omaan rekisteriin\"
done = true
confirmed = true

[[step]]
title = \"Ostopalveluasiakkaan asiakirja hyvinvointialueen rekisteriin\"
done = true
confirmed = true
note = \"Hyvinvointialueen arkistonhoitaja vahvisti asiakirjan omasta näkymästään.\"
";

/// The day after the real test, 10.00 Finnish time.
const NOW: OffsetDateTime = time::macros::datetime!(2026-04-03 07:00 UTC);

fn real_record(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("real-test.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_real_report_goes_to_kela_with_its_due_date() {
    let dir = tempfile::tempdir().unwrap();
    let record = real_record(dir.path(), REAL_RECORD);
    let out = dir.path().join("out");
    let outcome = report::write_real(&record, &options(&out, Lang::Fi), NOW).unwrap();
    let eml = out.join(EML_FILE);
    assert_eq!(
        outcome,
        ReportOutcome::Report {
            eml: eml.clone(),
            test_date: date!(2026 - 04 - 02),
            due: date!(2026 - 04 - 08),
            overdue: false,
            sent: None,
            settings: SettingsSource::Example,
        }
    );
    assert_eq!(
        outcome
            .to_string()
            .replace(&out.display().to_string(), "OUT"),
        "note: the bundled example settings were used (test data describing the fixture's \
         provider); copy testcases/organisation.example.toml to kantakoe.toml and fill in your \
         organisation's details, or pass --settings FILE
report to Kela (kanta@kanta.fi) written: OUT/kayttoonottokoe-raportti.eml
due: 2026-04-08 at the latest (two Finnish working days after the test on 2026-04-02)
note: the layout is Kantakoe's own; Kela's report template (\"raporttipohja\" on kanta.fi) \
         decides, so check the report against it before sending"
    );
    let m = python_parse(&eml);
    assert_eq!(m["to"], "kanta@kanta.fi");
    assert_eq!(
        m["cc"],
        "Arkistonhoitaja Esimerkki <arkistonhoitaja@esimerkki.invalid>"
    );
    assert_eq!(m["defects"], serde_json::json!([]));
    assert_date_is_finnish_local_time(&m);
    let text = format!(
        "Subject: {}\n\n{}",
        m["subject"].as_str().unwrap(),
        m["body"].as_str().unwrap()
    );
    assert!(!text.contains("HARJOITUS"), "{text}");
    insta::assert_snapshot!("real_fi", text);

    report::write_real(&record, &options(&out, Lang::Sv), NOW).unwrap();
    let m = python_parse(&eml);
    insta::assert_snapshot!(
        "real_sv",
        format!(
            "Subject: {}\n\n{}",
            m["subject"].as_str().unwrap(),
            m["body"].as_str().unwrap()
        )
    );
}

#[test]
fn a_late_real_report_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let record = real_record(dir.path(), REAL_RECORD);
    let late = time::macros::datetime!(2026-04-09 07:00 UTC);
    let outcome = report::write_real(&record, &options(dir.path(), Lang::Fi), late).unwrap();
    assert!(matches!(
        outcome,
        ReportOutcome::Report { overdue: true, .. }
    ));
    assert!(
        outcome.to_string().contains(
            "note: the due date has passed; send the report anyway and say why it is late"
        ),
        "{outcome}"
    );
}

#[test]
fn every_problem_of_a_real_test_record_is_listed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let record = real_record(
        dir.path(),
        "\
[test]
date = 2026-04-02
case = \"\"
production_start = 2026-04-01

[[step]]
title = \"Asiakkuusasiakirja\"
done = true
confirmed = false

[[step]]
done = false
",
    );
    let out = dir.path().join("out");
    let err = report::write_real(&record, &options(&out, Lang::Fi), NOW).unwrap_err();
    assert_eq!(
        err.to_string()
            .replace(&record.display().to_string(), "real-test.toml"),
        "real-test record real-test.toml is incomplete or invalid (7 problems); nothing was \
         written:
  real-test.toml:1: `test.run_by` (who ran the test) is missing
  real-test.toml:3: `test.case` (Kela's test case, as Kela named it) is empty
  real-test.toml:4: `test.production_start` 2026-04-01 is before the test date 2026-04-02
  real-test.toml:9: `step[1].confirmed` is false: every step must be confirmed in Kanta's archivist user interface before the report
  real-test.toml:11: `step[2].title` (what the step did) is missing
  real-test.toml:11: `step[2].confirmed` (whether the archivist confirmed it in Kanta's archivist user interface) is missing
  real-test.toml:12: `step[2].done` is false: only a successful test is reported to Kela, and every step must have been done"
    );
    assert!(!out.exists(), "nothing is written");

    // An empty record: every key, and the steps.
    std::fs::write(&record, "").unwrap();
    let err = report::write_real(&record, &options(&out, Lang::Fi), NOW).unwrap_err();
    assert_eq!(
        err.to_string()
            .replace(&record.display().to_string(), "real-test.toml"),
        "real-test record real-test.toml is incomplete or invalid (5 problems); nothing was \
         written:
  real-test.toml: `test.date` (the day of the real test) is missing
  real-test.toml: `test.case` (Kela's test case, as Kela named it) is missing
  real-test.toml: `test.run_by` (who ran the test) is missing
  real-test.toml: `test.production_start` (the date real production storing starts) is missing
  real-test.toml: no `[[step]]` (each step of Kela's test case, with `title`, `done = true` and `confirmed = true`)"
    );

    // Unknown keys name their line.
    std::fs::write(&record, "[test]\ndate = 2026-04-02\ntestcase = \"x\"\n").unwrap();
    let err = report::write_real(&record, &options(&out, Lang::Fi), NOW).unwrap_err();
    assert_eq!(
        err.to_string()
            .replace(&record.display().to_string(), "real-test.toml"),
        "real-test.toml:3: unknown field `testcase`, expected one of `date`, `case`, `run_by`, \
         `production_start`"
    );
}

#[test]
fn test_data_and_example_settings_are_never_submitted_to_kela() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = Some(SmtpTarget::parse("smtp+plain://127.0.0.1:9").unwrap());
    let record = real_record(dir.path(), REAL_RECORD);
    let mut opts = options(dir.path(), Lang::Fi);
    opts.smtp = smtp.clone();
    let err = report::write_real(&record, &opts, NOW).unwrap_err();
    assert!(matches!(err, ReportError::ExampleNotSent));
    assert_eq!(
        err.to_string(),
        "refusing to submit a report made from the bundled example settings (test data) to \
         kanta@kanta.fi; write your organisation's details to kantakoe.toml or pass --settings \
         FILE"
    );
    // The bundled example record is test data.
    let example = real_record(
        dir.path(),
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../testcases/real-test.example.toml"),
        )
        .unwrap(),
    );
    opts.settings = Some(user_settings(dir.path()));
    let err = report::write_real(&example, &opts, NOW.replace_year(2027).unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "refusing to submit the report to kanta@kanta.fi: the real-test record {} still \
             holds example values marked TESTIAINEISTO (test data)",
            example.display()
        )
    );
    assert!(!dir.path().join(EML_FILE).exists());
    // --to is for drafts.
    opts.smtp = None;
    opts.to = Some("sanna@hoiva.invalid".to_owned());
    assert_eq!(
        report::write_real(&record, &opts, NOW)
            .unwrap_err()
            .to_string(),
        "--to is only for a rehearsal's draft; the real report goes to kanta@kanta.fi"
    );
}

/// The exact refusal of `--smtp` without `--to` for a rehearsal.
const DRAFT_NEEDS_TO: &str = "--smtp needs --to ADDRESS for a rehearsal: its report is a draft \
     (HARJOITUS) and is never sent to kanta@kanta.fi; give your own mailbox with --to. The real \
     report is made after the real test in Kanta's production environment with `kantakoe report \
     --real-test FILE`";

#[test]
fn a_draft_is_submitted_only_with_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), Lang::Fi);
    opts.settings = Some(user_settings(dir.path()));
    opts.smtp = Some(SmtpTarget::parse("smtp+plain://127.0.0.1:9").unwrap());
    let err = report::write_after_run(&passed_run(), &opts).unwrap_err();
    assert!(matches!(err, ReportError::DraftNeedsTo));
    assert_eq!(err.to_string(), DRAFT_NEEDS_TO);
    assert!(!dir.path().join(DRAFT_FILE).exists(), "nothing is written");
    opts.to = Some("not an address".to_owned());
    assert_eq!(
        report::write_after_run(&passed_run(), &opts)
            .unwrap_err()
            .to_string(),
        "--to: `not an address` is not an email address (Invalid input)"
    );
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

/// The draft's recipient in the SMTP tests.
const OWN_MAILBOX: &str = "Sanna Suorittaja <sanna.oma@hoiva.invalid>";

#[test]
fn smtp_draft_goes_only_to_the_to_address() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let server = start_aiosmtpd(
        dir.path(),
        &["-c", "aiosmtpd.handlers.Mailbox", maildir.to_str().unwrap()],
    );
    let mut opts = options(&dir.path().join("out"), Lang::Fi);
    opts.settings = Some(user_settings(dir.path()));
    opts.to = Some(OWN_MAILBOX.to_owned());
    opts.smtp =
        Some(SmtpTarget::parse(&format!("smtp+plain://127.0.0.1:{}", server.port)).unwrap());
    let outcome = report::write_after_run(&passed_run(), &opts).unwrap();
    let ReportOutcome::Draft { sent, eml, .. } = &outcome else {
        panic!("a draft was expected: {outcome:?}");
    };
    assert_eq!(sent.as_deref(), Some("250 OK"));
    assert!(
        outcome.to_string().ends_with(
            "\nthe draft was submitted to Sanna Suorittaja <sanna.oma@hoiva.invalid> only; the \
             SMTP server answered: 250 OK"
        ),
        "{outcome}"
    );

    let arrived = python_parse(&only_message(&maildir));
    let written = python_parse(eml);
    // The envelope's only recipient is --to: not Kela, not the settings' Cc.
    assert_eq!(arrived["rcpt"], "sanna.oma@hoiva.invalid");
    assert_eq!(arrived["to"], OWN_MAILBOX);
    assert_eq!(arrived["cc"], "None");
    for key in ["to", "from", "cc", "subject", "charset", "body"] {
        let trimmed = |v: &serde_json::Value| v.as_str().map(|s| s.trim_end().to_owned());
        assert_eq!(trimmed(&arrived[key]), trimmed(&written[key]), "{key}");
    }
    assert!(
        arrived["subject"]
            .as_str()
            .unwrap()
            .starts_with("HARJOITUS – ")
    );
}

#[test]
fn smtp_real_report_goes_to_kela_and_the_copies() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let server = start_aiosmtpd(
        dir.path(),
        &["-c", "aiosmtpd.handlers.Mailbox", maildir.to_str().unwrap()],
    );
    let record = real_record(dir.path(), REAL_RECORD);
    let mut opts = options(&dir.path().join("out"), Lang::Fi);
    opts.settings = Some(user_settings(dir.path()));
    opts.smtp =
        Some(SmtpTarget::parse(&format!("smtp+plain://127.0.0.1:{}", server.port)).unwrap());
    let outcome = report::write_real(&record, &opts, NOW).unwrap();
    assert!(matches!(outcome, ReportOutcome::Report { sent: Some(ref r), .. } if r == "250 OK"));
    let arrived = python_parse(&only_message(&maildir));
    assert_eq!(
        arrived["rcpt"],
        "kanta@kanta.fi, arkistonhoitaja@esimerkki.invalid"
    );
    assert!(
        arrived["body"]
            .as_str()
            .unwrap()
            .contains("tehtiin Kanta-palvelujen tuotantoympäristössä Kelan testitapauksella")
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
    opts.to = Some(OWN_MAILBOX.to_owned());
    opts.smtp =
        Some(SmtpTarget::parse(&format!("smtp+plain://127.0.0.1:{}", server.port)).unwrap());
    let err = report::write_after_run(&passed_run(), &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "SMTP server 127.0.0.1:{} refused the report: 550 5.7.1 Kantakoe test server: \
             recipient refused; the report was written to {} and was not sent",
            server.port,
            out.join(DRAFT_FILE).display()
        )
    );
    assert!(out.join(DRAFT_FILE).exists());
}

#[test]
fn smtp_closed_port_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = dir.path().join("out");
    let mut opts = options(&out, Lang::Fi);
    opts.settings = Some(user_settings(dir.path()));
    opts.to = Some(OWN_MAILBOX.to_owned());
    opts.smtp = Some(SmtpTarget::parse(&format!("smtp+plain://127.0.0.1:{port}")).unwrap());
    let err = report::write_after_run(&passed_run(), &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "SMTP server 127.0.0.1:{port} could not be reached: Connection refused (os error \
             111); the report was written to {} and was not sent",
            out.join(DRAFT_FILE).display()
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
    opts.to = Some(OWN_MAILBOX.to_owned());

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
    assert!(matches!(outcome, ReportOutcome::Draft { sent: Some(ref r), .. } if r == "250 OK"));
    let arrived = python_parse(&only_message(&maildir));
    assert!(
        arrived["subject"]
            .as_str()
            .unwrap()
            .starts_with("ÖVNING – Rapport om ibruktagningsprovet (utkast)")
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
        "rehearsal report draft (HARJOITUS, not for Kela) written: \
         out/kayttoonottokoe-raportti-HARJOITUS.eml\n\
         the real report: after the real test in Kanta's production environment, fill in a \
         record like testcases/real-test.example.toml and run `kantakoe report --real-test \
         FILE`\n"
    );
    let m = python_parse(&dir.path().join("out").join(DRAFT_FILE));
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
        "not every step passed: no report; findings written: o/havainnot.md\n"
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
            "--to",
            "sanna@hoiva.invalid",
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
    opts.to = Some(OWN_MAILBOX.to_owned());
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
            dir.path().join("out").join(DRAFT_FILE).display()
        )
    );
}

#[test]
fn cli_half_smtp_credentials_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::kantakoe_cmd(dir.path())
        .args([
            "report",
            "--smtp",
            "smtps://127.0.0.1:9",
            "--to",
            "sanna@hoiva.invalid",
        ])
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
    let mut confirmation = full_confirmation();
    confirmation.confirmed = 4;
    confirmation.confirmers.truncate(1);
    run.confirmation = Some(confirmation);
    let fi = draft(Lang::Fi, &run);
    assert!(
        fi.contains(
            "Arkistonhoitajan näkymässä vahvistettiin vain 4/6 tarkistuskohtaa (viimeisin \
             2.4.2026 klo 9.30): Arkistonhoitaja Esimerkki (TESTIAINEISTO) rekisterinpitäjän \
             Hoivapalvelu Esimerkki Oy (TESTIAINEISTO) (2.999.5851.2.1) puolesta 4 \
             tarkistuskohtaa. Kaikki 6 tarkistuskohtaa tarkistettiin automaattisesti arkiston \
             tarkastusrajapinnan kautta."
        ),
        "{fi}"
    );
    assert!(!fi.contains("kuvailutiedot ovat asianmukaiset"));
    let sv = draft(Lang::Sv, &run);
    assert!(sv.contains("Endast 4/6 kontrollpunkter"), "{sv}");
    assert!(!sv.contains("beskrivningsinformation är korrekt"));
}

// --- the command line: drafts need --to, the real report ----------------------------------------

#[test]
fn cli_smtp_without_to_is_refused_for_a_rehearsals_draft() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("results.json"),
        serde_json::to_string(&passed_run()).unwrap(),
    )
    .unwrap();
    let (code, stdout, stderr) = run_cli(
        dir.path(),
        &[
            "report",
            "--results",
            "results.json",
            "--smtp",
            "smtp+plain://127.0.0.1:9",
        ],
    );
    assert_eq!(code, Some(2));
    assert_eq!(stderr, format!("kantakoe: error: {DRAFT_NEEDS_TO}\n"));
    assert_eq!(stdout, "");
    // `rehearse` refuses it before the run: tests/rehearse.rs.
}

#[test]
fn cli_report_real_test_writes_the_report_beside_the_record() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("koe")).unwrap();
    real_record(&dir.path().join("koe"), REAL_RECORD);
    user_settings(dir.path());
    let (code, stdout, stderr) = run_cli(
        dir.path(),
        &[
            "report",
            "--real-test",
            "koe/real-test.toml",
            "--lang",
            "sv",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with(
            "report to Kela (kanta@kanta.fi) written: koe/kayttoonottokoe-raportti.eml\n\
             due: 2026-04-08 at the latest (two Finnish working days after the test on \
             2026-04-02)\n"
        ),
        "{stdout}"
    );
    let m = python_parse(&dir.path().join("koe").join(EML_FILE));
    assert_eq!(m["to"], "kanta@kanta.fi");
    assert_eq!(
        m["subject"],
        "Rapport om ibruktagningsprovet – Klientdataarkivet för socialvården – Hoivapalvelu \
         Esimerkki Oy (TESTIAINEISTO) – 2.4.2026"
    );
    // --to is for drafts only.
    let (code, _, stderr) = run_cli(
        dir.path(),
        &[
            "report",
            "--real-test",
            "koe/real-test.toml",
            "--to",
            "sanna@hoiva.invalid",
        ],
    );
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("the argument '--real-test <FILE>' cannot be used with '--to <ADDRESS>'"),
        "{stderr}"
    );
}

// --- Swedish throughout -------------------------------------------------------------------------

/// Finnish words that must not appear in a Swedish report or findings (lower case, matched
/// as whole words). Names of organisations and people are removed before the check.
const FINNISH_WORDS: &[&str] = &[
    "harjoitus",
    "luonnos",
    "käyttöönottokoe",
    "käyttöönottokokeen",
    "raportti",
    "onnistui",
    "epäonnistui",
    "ohitettiin",
    "odotettu",
    "kuittaus",
    "kuittausta",
    "saatu",
    "tulos",
    "yhteys",
    "hylättiin",
    "hylätään",
    "hyväksyttiin",
    "vanhentunut",
    "varmenne",
    "rekisterinpitäjä",
    "rekisterinpitäjän",
    "asiakirja",
    "tarkistuskohdat",
    "tarkistuskohta",
    "tarkistuskohtaa",
    "arkistonhoitaja",
    "arkistonhoitajan",
    "vahvistettiin",
    "puolesta",
    "tila",
    "versio",
    "aktiivinen",
    "korvattu",
    "mitätöity",
    "syy",
    "klo",
    "vaihe",
    "vaiheet",
    "vaihetta",
    "palveluntuottajan",
    "rekisteriin",
    "asiakkaan",
    "hyvinvointialueen",
    "sosiaalihuollon",
    "asiakastietovaranto",
    "ei",
    "ja",
    "sekä",
];

/// English words that must not appear in a Finnish or Swedish report or findings (outside
/// ids, addresses and quoted technical messages).
const ENGLISH_WORDS: &[&str] = &[
    "the",
    "and",
    "with",
    "not",
    "failed",
    "expected",
    "got",
    "refused",
    "connection",
    "certificate",
    "archive",
    "exchange",
    "closed",
    "one",
    "time",
    "sign",
    "document",
    "passed",
    "skipped",
    "timed",
    "active",
    "replaced",
    "invalidated",
    "visible",
    "hidden",
    "nowhere",
    "nothing",
];

/// The English words of `text` (see [`words_in`] for what is removed first).
fn english_words_in(text: &str, names: &[&str]) -> Vec<String> {
    words_in(text, names, ENGLISH_WORDS)
}

/// The Finnish words of `text` (see [`words_in`]).
fn finnish_words_in(text: &str, names: &[&str]) -> Vec<String> {
    words_in(text, names, FINNISH_WORDS)
}

/// The words of `list` in `text`, after removing `names`, email addresses, and the case files'
/// step ids (identifiers, shown `[like-this]` in the report and `` `like-this` `` in the
/// findings, as in results.json and JUnit).
fn words_in(text: &str, names: &[&str], list: &[&str]) -> Vec<String> {
    let mut text = text.to_owned();
    for name in names {
        text = text.replace(name, " ");
    }
    // Backticked text alternates with prose.
    let text: String = text.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let text: String = text
        .split_whitespace()
        .filter(|w| !w.contains('@') && !w.contains("://"))
        // Codes like R2-NOT-ORGANISER.
        .filter(|w| !w.contains('-') || w.chars().any(char::is_lowercase))
        .filter(|w| {
            let id = w.trim_end_matches([':', ',', '.']);
            !(id.starts_with('[') && id.ends_with(']'))
        })
        .collect::<Vec<_>>()
        .join(" ");
    let lower = text.to_lowercase();
    let mut found: Vec<String> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| list.contains(w))
        .map(str::to_owned)
        .collect();
    found.dedup();
    found
}

/// The names of the example settings and the fixture (proper names, Finnish in any language).
const NAMES: &[&str] = &[
    "Hoivapalvelu Esimerkki Oy (TESTIAINEISTO)",
    "Arkistonhoitaja Esimerkki (TESTIAINEISTO)",
    "Arkistonhoitaja Esimerkki",
    "Sanna Suorittaja (TESTIAINEISTO)",
    "Sanna Suorittaja",
    "Esimerkin kotihoito (TESTIAINEISTO)",
    "Esimerkin palveluasuminen (TESTIAINEISTO)",
    "Esimerkkijärjestelmä (TESTIAINEISTO)",
    "Järjestelmätoimittaja Testi Oy (TESTIAINEISTO)",
    "Hyvinvointialue A (TESTIAINEISTO)",
];

#[test]
fn the_finnish_word_list_finds_finnish() {
    // The check itself can fail: the Finnish draft is full of these words.
    let fi = draft(Lang::Fi, &passed_run());
    assert!(finnish_words_in(&fi, NAMES).len() > 10, "{fi}");
}

#[test]
fn drafts_of_the_bundled_suite_have_no_finnish_in_swedish_and_no_english() {
    // A real rehearsal of the bundled cases, so the case files' own `sv` titles are used.
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run_cli(dir.path(), &["rehearse", "--lang", "sv", "--out", "o"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let m = python_parse(&dir.path().join("o").join(DRAFT_FILE));
    let text = format!(
        "{}\n{}",
        m["subject"].as_str().unwrap(),
        m["body"].as_str().unwrap()
    );
    assert_eq!(
        finnish_words_in(&text, NAMES),
        Vec::<String>::new(),
        "{text}"
    );
    assert_eq!(
        english_words_in(&text, NAMES),
        Vec::<String>::new(),
        "{text}"
    );
    // And the Finnish draft has no English either.
    let (code, stdout, stderr) = run_cli(dir.path(), &["rehearse", "--out", "f"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let m = python_parse(&dir.path().join("f").join(DRAFT_FILE));
    let fi = m["body"].as_str().unwrap();
    assert_eq!(english_words_in(fi, NAMES), Vec::<String>::new(), "{fi}");
    assert_eq!(english_words_in("the archive refused", &[]).len(), 3);
    // The connection steps' refusals are in Swedish.
    assert!(text.contains("resultat: anslutningen avvisades"), "{text}");
}

#[test]
fn swedish_findings_and_real_report_have_no_finnish() {
    let mut run = failed_run();
    // A connection step refused for an unexpected reason, and a status that differs.
    run.cases[0].steps[0].outcome = Outcome::Failed;
    run.cases[0].steps[0].expected = ExpectedAck {
        ack: "connected".to_owned(),
        codes: vec![PROVIDER.to_owned()],
    };
    run.cases[0].steps[0].actual = Some(ActualAck {
        ack: "refused".to_owned(),
        codes: vec![
            "expired certificate: the archive refused the client certificate as expired (alert)"
                .to_owned(),
        ],
        message_id: None,
    });
    run.cases[0].steps[0].checkpoints[1].actual = Some("invalidated".to_owned());
    run.cases[0].steps[0].checkpoints[1].passed = false;
    run.summary = Summary::of(&run.cases);
    let sv = findings::render(Lang::Sv, &run);
    // The tool's own technical messages are quoted apart, in a code block; the text around
    // them is Swedish.
    let prose: String = sv.split("```").step_by(2).collect::<Vec<_>>().join("\n");
    assert_eq!(
        finnish_words_in(&prose, NAMES),
        Vec::<String>::new(),
        "{sv}"
    );
    assert_eq!(
        english_words_in(&prose, NAMES),
        Vec::<String>::new(),
        "{sv}"
    );
    let fi_prose: String = findings::render(Lang::Fi, &run)
        .split("```")
        .step_by(2)
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        english_words_in(&fi_prose, NAMES),
        Vec::<String>::new(),
        "{fi_prose}"
    );
    assert!(
        sv.contains("- Resultat: anslutningen avvisades (utgånget certifikat)"),
        "{sv}"
    );
    assert!(
        sv.contains("- Kontrollpunkt \"status\": förväntat aktiv, i arkivet ogiltigförklarad"),
        "{sv}"
    );
    let fi = findings::render(Lang::Fi, &run);
    assert!(
        fi.contains("- Tarkistuskohta \"tila\": odotettu aktiivinen, arkistossa mitätöity"),
        "{fi}"
    );
    assert!(
        fi.contains("- Tulos: yhteys hylättiin (vanhentunut varmenne)"),
        "{fi}"
    );

    // The real report in Swedish (the record's own texts are the archivist's words: written
    // in Swedish here).
    let dir = tempfile::tempdir().unwrap();
    let record = real_record(
        dir.path(),
        "[test]\ndate = 2026-04-02\ncase = \"FPA:s testfall för privata serviceproducenter\"\n\
         run_by = \"Sanna Suorittaja\"\nproduction_start = 2026-04-13\n\n[[step]]\n\
         title = \"Klientrelationsdokument i eget register\"\ndone = true\nconfirmed = true\n",
    );
    report::write_real(&record, &options(dir.path(), Lang::Sv), NOW).unwrap();
    let m = python_parse(&dir.path().join(EML_FILE));
    let text = format!(
        "{}\n{}",
        m["subject"].as_str().unwrap(),
        m["body"].as_str().unwrap()
    );
    assert_eq!(
        finnish_words_in(&text, NAMES),
        Vec::<String>::new(),
        "{text}"
    );
}
