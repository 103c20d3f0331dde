//! The deployment-test report to Kela (DESIGN §6, issue 7). After a run whose every step
//! passed: the report email as an `.eml` file (and, when asked, submitted through the user's
//! own SMTP server), due two Finnish working days after the test. After any other run: a
//! findings summary for the team, and no Kela report (a failed test need not be reported).
//!
//! One entry point, [`write_after_run`], serves both `kantakoe rehearse` and
//! `kantakoe report --results`. Data flows one way: [`RunResults`] and validated
//! [`Settings`] → subject and body ([`body`]) → message ([`email`]) → file and SMTP
//! ([`smtp`]).

pub mod body;
pub mod email;
pub mod findings;
pub mod holidays;
pub mod settings;
pub mod smtp;

use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;
use time::Date;

use crate::results::RunResults;
pub use email::KANTA_ADDRESS;
pub use settings::{Settings, SettingsError, SettingsSource};
pub use smtp::{SmtpError, SmtpTarget};

/// The report file's name in the output directory.
pub const EML_FILE: &str = "kayttoonottokoe-raportti.eml";

/// The report's language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Finnish (the default).
    #[default]
    Fi,
    /// Swedish.
    Sv,
}

/// What to do after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// The settings file; `None`: `./kantakoe.toml` when it exists, else the bundled example.
    pub settings: Option<PathBuf>,
    /// The language of the report or the findings.
    pub lang: Lang,
    /// Submit the report through this SMTP server (see [`SmtpTarget::from_env`]).
    pub smtp: Option<SmtpTarget>,
    /// Where the `.eml` or the findings are written (created when missing).
    pub out_dir: PathBuf,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Every step passed: the report to Kela.
    Report {
        /// The `.eml` file.
        eml: PathBuf,
        /// The test date.
        test_date: Date,
        /// The last day the report is on time.
        due: Date,
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

impl fmt::Display for ReportOutcome {
    /// What to tell the user, one line each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportOutcome::Report {
                eml,
                test_date,
                due,
                sent,
                settings,
            } => {
                if *settings == SettingsSource::Example {
                    writeln!(
                        f,
                        "note: the bundled example settings were used (test data describing the \
                         fixture's provider); copy testcases/organisation.example.toml to \
                         kantakoe.toml and fill in your organisation's details, or pass \
                         --settings FILE"
                    )?;
                }
                writeln!(
                    f,
                    "report to Kela ({KANTA_ADDRESS}) written: {}",
                    eml.display()
                )?;
                write!(
                    f,
                    "due: {due} at the latest (two Finnish working days after the test on \
                     {test_date})"
                )?;
                match sent {
                    Some(reply) => write!(f, "\nsubmitted; the SMTP server answered: {reply}"),
                    None => Ok(()),
                }
            }
            ReportOutcome::Findings { path } => write!(
                f,
                "not every step passed: no report to Kela; findings written: {}",
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
    /// SMTP submission was asked for with the bundled example settings (test data).
    #[error(
        "refusing to submit a report made from the bundled example settings (test data) to \
         {KANTA_ADDRESS}; write your organisation's details to kantakoe.toml or pass --settings \
         FILE"
    )]
    ExampleNotSent,
    /// The report was written but the SMTP server did not take it.
    #[error("{source}; the report was written to {} and was not sent", eml.display())]
    Smtp {
        /// The `.eml` written before the attempt.
        eml: PathBuf,
        /// What the server or the connection said.
        source: SmtpError,
    },
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

/// Whether the run may be reported to Kela: every step passed, no stray submission, at least
/// one step ran, and the counts agree with the steps (a hand-edited `results.json` whose
/// summary claims more than its steps show gets findings, not a report).
pub fn passed(results: &RunResults) -> bool {
    results.all_passed()
        && results.summary.steps > 0
        && crate::results::Summary::of(&results.cases) == results.summary
}

/// The report message of a passed run, with its due date (no file is written).
pub fn build_report(
    results: &RunResults,
    settings: &Settings,
    lang: Lang,
) -> Result<(lettre::Message, Date), ReportError> {
    let due = holidays::due_date(results.test_date);
    let subject = body::subject(lang, settings, results);
    let text = body::body(lang, settings, results, due);
    Ok((email::build_message(settings, &subject, &text)?, due))
}

/// The settings a report will use, checked: every problem at once, and a report from the
/// bundled example settings is never sent. `kantakoe rehearse` calls it before the run too, so
/// that these problems come out before any work is done.
pub fn settings_for(
    path: Option<&std::path::Path>,
    test_date: Date,
    sending: bool,
) -> Result<Settings, ReportError> {
    let settings = Settings::load(path, test_date)?;
    if sending && settings.source == SettingsSource::Example {
        return Err(ReportError::ExampleNotSent);
    }
    Ok(settings)
}

/// After a run: when every step passed, the report `.eml` (and SMTP when asked); otherwise the
/// findings summary. Settings problems are reported, all at once, before anything is written;
/// a stale `.eml` or findings file from an earlier run in the same directory is removed so it
/// is never mistaken for this run's.
pub fn write_after_run(
    results: &RunResults,
    options: &ReportOptions,
) -> Result<ReportOutcome, ReportError> {
    let out = &options.out_dir;
    let eml = out.join(EML_FILE);
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

    let settings = settings_for(
        options.settings.as_deref(),
        results.test_date,
        options.smtp.is_some(),
    )?;
    let (message, due) = build_report(results, &settings, options.lang)?;
    std::fs::create_dir_all(out).map_err(write_error(out))?;
    for f in &findings_files {
        remove_stale(f)?;
    }
    write_atomically(&eml, &email::to_eml(&message))?;
    let sent = match &options.smtp {
        Some(target) => Some(
            smtp::send(target, &message).map_err(|source| ReportError::Smtp {
                eml: eml.clone(),
                source,
            })?,
        ),
        None => None,
    };
    Ok(ReportOutcome::Report {
        eml,
        test_date: results.test_date,
        due,
        sent,
        settings: settings.source,
    })
}
