//! The deployment-test report to Kela (DESIGN §6, issues 7 and 15).
//!
//! A rehearsal is never the real test: after a run whose every step passed, the report is a
//! **draft** (`.eml` marked HARJOITUS / ÖVNING, naming the archive it ran against), never
//! addressed or submitted to kanta@kanta.fi; `--smtp` sends it only to the `--to` address.
//! After any other run: a findings summary for the team, and no report. The **real report**
//! is made after the real test in Kanta's production environment from the archivist's record
//! ([`real_test`]): to kanta@kanta.fi, due two Finnish working days after the test.
//!
//! Entry points: [`write_after_run`] (for `kantakoe rehearse` and `kantakoe report --results`)
//! and [`write_real`] (`kantakoe report --real-test`). Data flows one way: [`RunResults`] or
//! [`RealTest`], and validated [`Settings`] → subject and body ([`body`]) → message
//! ([`email`]) → file and SMTP ([`smtp`]). Times are written for people by [`helsinki`].

pub mod body;
pub mod email;
pub mod findings;
pub mod helsinki;
pub mod holidays;
pub mod real_test;
pub mod settings;
pub mod smtp;
pub mod words;

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;
use time::{Date, OffsetDateTime};

use crate::results::RunResults;
pub use email::KANTA_ADDRESS;
pub use real_test::{RealTest, RealTestError};
pub use settings::{Settings, SettingsError, SettingsSource};
pub use smtp::{SmtpError, SmtpTarget};

/// The real report's file name in the output directory.
pub const EML_FILE: &str = "kayttoonottokoe-raportti.eml";

/// A rehearsal's draft report's file name in the output directory.
pub const DRAFT_FILE: &str = "kayttoonottokoe-raportti-HARJOITUS.eml";

/// The bundled example of the real-test record, as named in messages.
pub const REAL_TEST_EXAMPLE: &str = "testcases/real-test.example.toml";

/// The report's language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Finnish (the default).
    #[default]
    Fi,
    /// Swedish.
    Sv,
}

/// What to do after a run, or with a real-test record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// The settings file; `None`: `./kantakoe.toml` when it exists, else the bundled example.
    pub settings: Option<PathBuf>,
    /// The language of the report or the findings.
    pub lang: Lang,
    /// Submit the report through this SMTP server (see [`SmtpTarget::from_env`]).
    pub smtp: Option<SmtpTarget>,
    /// A draft's recipient (e.g. the archivist's own mailbox); required with `smtp` for a
    /// draft, refused for the real report (which goes to Kela). Without it a draft is
    /// addressed to its sender.
    pub to: Option<String>,
    /// Where the `.eml` or the findings are written (created when missing).
    pub out_dir: PathBuf,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Every step of a rehearsal passed: its draft report, not for Kela.
    Draft {
        /// The `.eml` file.
        eml: PathBuf,
        /// The rehearsal's date.
        test_date: Date,
        /// The draft's one recipient.
        to: String,
        /// The SMTP server's final reply, when it was submitted (to `to` only).
        sent: Option<String>,
        /// Where the organisation's details came from.
        settings: SettingsSource,
    },
    /// The real report to Kela, from the real test's record.
    Report {
        /// The `.eml` file.
        eml: PathBuf,
        /// The real test's date.
        test_date: Date,
        /// The last day the report is on time.
        due: Date,
        /// Whether `due` had passed when the report was made.
        overdue: bool,
        /// The SMTP server's final reply, when it was submitted.
        sent: Option<String>,
        /// Where the organisation's details came from.
        settings: SettingsSource,
    },
    /// Not every step passed: the findings summary; no report.
    Findings {
        /// The Markdown file.
        path: PathBuf,
    },
}

fn example_note(f: &mut fmt::Formatter<'_>, settings: &SettingsSource) -> fmt::Result {
    if *settings == SettingsSource::Example {
        writeln!(
            f,
            "note: the bundled example settings were used (test data describing the fixture's \
             provider); copy testcases/organisation.example.toml to kantakoe.toml and fill in \
             your organisation's details, or pass --settings FILE"
        )?;
    }
    Ok(())
}

impl fmt::Display for ReportOutcome {
    /// What to tell the user, one line each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportOutcome::Draft {
                eml,
                to,
                sent,
                settings,
                ..
            } => {
                example_note(f, settings)?;
                writeln!(
                    f,
                    "rehearsal report draft (HARJOITUS, not for Kela) written: {}",
                    eml.display()
                )?;
                write!(
                    f,
                    "the real report: after the real test in Kanta's production environment, \
                     fill in a record like {REAL_TEST_EXAMPLE} and run `kantakoe report \
                     --real-test FILE`"
                )?;
                match sent {
                    Some(reply) => write!(
                        f,
                        "\nthe draft was submitted to {to} only; the SMTP server answered: \
                         {reply}"
                    ),
                    None => Ok(()),
                }
            }
            ReportOutcome::Report {
                eml,
                test_date,
                due,
                overdue,
                sent,
                settings,
            } => {
                example_note(f, settings)?;
                writeln!(
                    f,
                    "report to Kela ({KANTA_ADDRESS}) written: {}",
                    eml.display()
                )?;
                writeln!(
                    f,
                    "due: {due} at the latest (two Finnish working days after the test on \
                     {test_date})"
                )?;
                if *overdue {
                    writeln!(
                        f,
                        "note: the due date has passed; send the report anyway and say why it \
                         is late"
                    )?;
                }
                write!(
                    f,
                    "note: the layout is Kantakoe's own; Kela's report template (\"raporttipohja\" \
                     on kanta.fi) decides, so check the report against it before sending"
                )?;
                match sent {
                    Some(reply) => write!(f, "\nsubmitted; the SMTP server answered: {reply}"),
                    None => Ok(()),
                }
            }
            ReportOutcome::Findings { path } => write!(
                f,
                "not every step passed: no report; findings written: {}",
                path.display()
            ),
        }
    }
}

/// Why no report or findings could be written or sent.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The settings are unreadable, or details are missing or invalid (all listed).
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The real-test record is unreadable, or details are missing or invalid (all listed).
    #[error(transparent)]
    RealTest(#[from] RealTestError),
    /// The message could not be built.
    #[error(transparent)]
    Email(#[from] email::EmailError),
    /// A file in the output directory could not be written or removed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// SMTP submission of a rehearsal's draft was asked for without `--to`.
    #[error(
        "--smtp needs --to ADDRESS for a rehearsal: its report is a draft (HARJOITUS) and is \
         never sent to {KANTA_ADDRESS}; give your own mailbox with --to. The real report is \
         made after the real test in Kanta's production environment with `kantakoe report \
         --real-test FILE`"
    )]
    DraftNeedsTo,
    /// `--to` was given for the real report.
    #[error("--to is only for a rehearsal's draft; the real report goes to {KANTA_ADDRESS}")]
    ToWithRealTest,
    /// `--to` is not an email address.
    #[error("--to: {0}")]
    BadTo(String),
    /// SMTP submission of the real report was asked for with the bundled example settings
    /// (test data).
    #[error(
        "refusing to submit a report made from the bundled example settings (test data) to \
         {KANTA_ADDRESS}; write your organisation's details to kantakoe.toml or pass --settings \
         FILE"
    )]
    ExampleNotSent,
    /// SMTP submission of the real report was asked for with a record that still holds the
    /// example's test data.
    #[error(
        "refusing to submit the report to {KANTA_ADDRESS}: the real-test record {} still holds \
         example values marked {} (test data)",
        file.display(),
        real_test::TEST_DATA_MARKER
    )]
    RealTestIsTestData {
        /// The record.
        file: PathBuf,
    },
    /// The report was written but the SMTP server did not take it.
    #[error("{source}; the report was written to {} and was not sent", eml.display())]
    Smtp {
        /// The `.eml` written before the attempt.
        eml: PathBuf,
        /// What the server or the connection said.
        source: SmtpError,
    },
}

/// Checks, before any work, how a rehearsal's draft may be submitted: `--smtp` needs `--to`,
/// and `--to` must be an email address. `kantakoe rehearse` and `kantakoe report --results`
/// call it first.
pub fn check_draft_submission(smtp: bool, to: Option<&str>) -> Result<(), ReportError> {
    if let Some(to) = to {
        email::check_mailbox(to).map_err(ReportError::BadTo)?;
    }
    if smtp && to.is_none() {
        return Err(ReportError::DraftNeedsTo);
    }
    Ok(())
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, so a reader never
/// sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(write_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(write_error(path))
}

/// Removes `path` if it exists.
fn remove_stale(path: &Path) -> Result<(), ReportError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(write_error(path)(e)),
        _ => Ok(()),
    }
}

/// Whether the run's draft may be written: every step passed, no stray submission, at least
/// one step ran, and the counts agree with the steps (a hand-edited `results.json` whose
/// summary claims more than its steps show gets findings, not a report).
pub fn passed(results: &RunResults) -> bool {
    results.all_passed()
        && results.summary.steps > 0
        && crate::results::Summary::of(&results.cases) == results.summary
}

/// The draft message of a passed rehearsal, addressed to `to` (or its sender), dated `now`.
pub fn build_draft(
    results: &RunResults,
    settings: &Settings,
    lang: Lang,
    to: Option<&str>,
    now: OffsetDateTime,
) -> Result<lettre::Message, ReportError> {
    let Some(test) = &settings.test else {
        // `settings_for` with a test date always gives the `[test]` details.
        return Err(ReportError::Settings(SettingsError::Incomplete {
            origin: settings.source.to_string(),
            problems: vec![settings::SettingsProblem {
                line: None,
                message: "`[test]` (who ran the test, production start) is missing".to_owned(),
            }],
        }));
    };
    let subject = body::draft_subject(lang, settings, results);
    let text = body::draft_body(lang, settings, test, results);
    let addresses = email::Addresses {
        from: settings.from.clone(),
        to: to.unwrap_or(&settings.from).to_owned(),
        cc: Vec::new(),
    };
    Ok(email::build_message(&addresses, &subject, &text, now)?)
}

/// The real report's message to Kela with its due date, dated `now`.
pub fn build_real(
    test: &RealTest,
    settings: &Settings,
    lang: Lang,
    now: OffsetDateTime,
) -> Result<(lettre::Message, Date), ReportError> {
    let due = holidays::due_date(test.date);
    let subject = body::real_subject(lang, settings, test);
    let text = body::real_body(lang, settings, test, due);
    let addresses = email::Addresses {
        from: settings.from.clone(),
        to: KANTA_ADDRESS.to_owned(),
        cc: settings.cc.clone(),
    };
    Ok((email::build_message(&addresses, &subject, &text, now)?, due))
}

/// The settings a report will use, checked: every problem at once. With a `test_date` (a
/// rehearsal's draft) the `[test]` table is required. A report from the bundled example
/// settings is never sent to Kela (`to_kela`). `kantakoe rehearse` calls it before the run too,
/// so that these problems come out before any work is done.
pub fn settings_for(
    path: Option<&std::path::Path>,
    test_date: Option<Date>,
    to_kela: bool,
) -> Result<Settings, ReportError> {
    let settings = Settings::load(path, test_date)?;
    if to_kela && settings.source == SettingsSource::Example {
        return Err(ReportError::ExampleNotSent);
    }
    Ok(settings)
}

/// Submits `message` when asked; an SMTP failure names the `.eml` already written.
fn submit(
    smtp: Option<&SmtpTarget>,
    message: &lettre::Message,
    eml: &Path,
) -> Result<Option<String>, ReportError> {
    match smtp {
        Some(target) => Ok(Some(smtp::send(target, message).map_err(|source| {
            ReportError::Smtp {
                eml: eml.to_path_buf(),
                source,
            }
        })?)),
        None => Ok(None),
    }
}

/// After a rehearsal: when every step passed, the draft `.eml` (and SMTP to `--to` when
/// asked); otherwise the findings summary. Settings problems are reported, all at once, before
/// anything is written; a stale draft or findings file from an earlier run in the same
/// directory is removed so it is never mistaken for this run's.
pub fn write_after_run(
    results: &RunResults,
    options: &ReportOptions,
) -> Result<ReportOutcome, ReportError> {
    check_draft_submission(options.smtp.is_some(), options.to.as_deref())?;
    let out = &options.out_dir;
    let eml = out.join(DRAFT_FILE);
    let findings_files = [Lang::Fi, Lang::Sv].map(|l| out.join(findings::file_name(l)));

    if !passed(results) {
        std::fs::create_dir_all(out).map_err(write_error(out))?;
        remove_stale(&eml)?;
        for f in &findings_files {
            remove_stale(f)?;
        }
        let path = out.join(findings::file_name(options.lang));
        write_atomically(&path, findings::render(options.lang, results).as_bytes())?;
        return Ok(ReportOutcome::Findings { path });
    }

    let settings = settings_for(options.settings.as_deref(), Some(results.test_date), false)?;
    let message = build_draft(
        results,
        &settings,
        options.lang,
        options.to.as_deref(),
        OffsetDateTime::now_utc(),
    )?;
    std::fs::create_dir_all(out).map_err(write_error(out))?;
    for f in &findings_files {
        remove_stale(f)?;
    }
    write_atomically(&eml, &email::to_eml(&message))?;
    let sent = submit(options.smtp.as_ref(), &message, &eml)?;
    Ok(ReportOutcome::Draft {
        eml,
        test_date: results.test_date,
        to: options.to.clone().unwrap_or(settings.from),
        sent,
        settings: settings.source,
    })
}

/// The real report from the real test's `record`: the record and the settings are checked
/// (every problem at once) before anything is written; `now` dates the message and decides
/// whether the record's date is in the future and the due date has passed.
pub fn write_real(
    record: &Path,
    options: &ReportOptions,
    now: OffsetDateTime,
) -> Result<ReportOutcome, ReportError> {
    if options.to.is_some() {
        return Err(ReportError::ToWithRealTest);
    }
    let today = helsinki::local(now).date();
    let test = RealTest::load(record, today)?;
    let sending = options.smtp.is_some();
    let settings = settings_for(options.settings.as_deref(), None, sending)?;
    if sending && test.test_data {
        return Err(ReportError::RealTestIsTestData { file: test.file });
    }
    let (message, due) = build_real(&test, &settings, options.lang, now)?;
    let out = &options.out_dir;
    std::fs::create_dir_all(out).map_err(write_error(out))?;
    let eml = out.join(EML_FILE);
    write_atomically(&eml, &email::to_eml(&message))?;
    let sent = submit(options.smtp.as_ref(), &message, &eml)?;
    Ok(ReportOutcome::Report {
        eml,
        test_date: test.date,
        due,
        overdue: today > due,
        sent,
        settings: settings.source,
    })
}
