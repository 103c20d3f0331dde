//! `kantakoe report`: the deployment-test report email.
//!
//! - `--results FILE` (default `out/results.json`): a rehearsal's draft, marked HARJOITUS /
//!   ÖVNING and never for Kela, from an earlier run (the same function `kantakoe rehearse`
//!   calls after a run); `--smtp` sends it only to `--to`.
//! - `--real-test FILE`: the real report to Kela, from the record the archivist fills in after
//!   the real test in Kanta's production environment.
//!
//! Exit codes: 0 the draft or report was written (and sent, when asked), 1 the run did not
//! pass (findings written instead), 2 usage or environment error (settings, record, files,
//! SMTP).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::report::{self, Lang, ReportOptions, ReportOutcome, SmtpTarget};
use crate::results::RunResults;

/// Arguments of `kantakoe report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A rehearsal's results, as `kantakoe rehearse` wrote them: makes its draft report.
    #[arg(long, value_name = "FILE", default_value = "out/results.json")]
    pub results: PathBuf,
    /// The record of the real deployment test in Kanta's production environment (TOML, see
    /// testcases/real-test.example.toml): makes the real report to kanta@kanta.fi.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["results", "to"])]
    pub real_test: Option<PathBuf>,
    /// The organisation's settings (TOML); default `./kantakoe.toml` when it exists, else the
    /// bundled example (test data).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// The language of the report.
    #[arg(long, value_enum, default_value = "fi")]
    pub lang: Lang,
    /// Where to write the report or the findings; default: the results' or the record's
    /// directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Submit the report through this SMTP server: smtp://HOST:PORT (STARTTLS, port 587 when
    /// omitted), smtps://HOST:PORT (implicit TLS, 465) or smtp+plain://HOST:PORT (no TLS,
    /// loopback only). A rehearsal's draft needs --to.
    /// Credentials from KANTAKOE_SMTP_USER and KANTAKOE_SMTP_PASSWORD; an extra CA from
    /// KANTAKOE_SMTP_CA.
    #[arg(long, value_name = "URL")]
    pub smtp: Option<String>,
    /// A rehearsal's draft goes to this address only (e.g. your own mailbox); never to Kela.
    #[arg(long, value_name = "ADDRESS")]
    pub to: Option<String>,
}

/// The directory of `file`, or `.`.
fn dir_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Runs `kantakoe report`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.real_test.is_none() {
        report::check_draft_submission(args.smtp.is_some(), args.to.as_deref())?;
    }
    let smtp = args.smtp.as_deref().map(SmtpTarget::from_env).transpose()?;
    let mut options = ReportOptions {
        settings: args.settings,
        lang: args.lang,
        smtp,
        to: args.to,
        out_dir: PathBuf::new(),
    };
    let outcome = match &args.real_test {
        Some(record) => {
            options.out_dir = args.out.unwrap_or_else(|| dir_of(record));
            report::write_real(record, &options, time::OffsetDateTime::now_utc())?
        }
        None => {
            let text = std::fs::read_to_string(&args.results)
                .with_context(|| format!("cannot read results file {}", args.results.display()))?;
            let results: RunResults = serde_json::from_str(&text)
                .with_context(|| format!("results file {} is not valid", args.results.display()))?;
            options.out_dir = args.out.unwrap_or_else(|| dir_of(&args.results));
            report::write_after_run(&results, &options)?
        }
    };
    println!("{outcome}");
    Ok(match outcome {
        ReportOutcome::Draft { .. } | ReportOutcome::Report { .. } => ExitCode::SUCCESS,
        ReportOutcome::Findings { .. } => ExitCode::from(1),
    })
}
