//! `kantakoe report`: the deployment-test report email to Kela from an earlier run's
//! `results.json` (the same function `kantakoe rehearse` calls after a run). Exit codes: 0 the
//! report was written (and sent, when asked), 1 the run did not pass (findings written
//! instead), 2 usage or environment error (settings, files, SMTP).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::report::{self, Lang, ReportOptions, ReportOutcome, SmtpTarget};
use crate::results::RunResults;

/// Arguments of `kantakoe report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run's results, as `kantakoe rehearse` wrote them.
    #[arg(long, value_name = "FILE", default_value = "out/results.json")]
    pub results: PathBuf,
    /// The organisation's settings (TOML); default `./kantakoe.toml` when it exists, else the
    /// bundled example (test data).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// The language of the report.
    #[arg(long, value_enum, default_value = "fi")]
    pub lang: Lang,
    /// Where to write the report or the findings; default: the results file's directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Submit the report through this SMTP server: smtp://HOST:PORT (STARTTLS, port 587 when
    /// omitted), smtps://HOST:PORT (implicit TLS, 465) or smtp+plain://HOST:PORT (no TLS,
    /// loopback only).
    /// Credentials from KANTAKOE_SMTP_USER and KANTAKOE_SMTP_PASSWORD; an extra CA from
    /// KANTAKOE_SMTP_CA.
    #[arg(long, value_name = "URL")]
    pub smtp: Option<String>,
}

/// Runs `kantakoe report`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let smtp = args.smtp.as_deref().map(SmtpTarget::from_env).transpose()?;
    let text = std::fs::read_to_string(&args.results)
        .with_context(|| format!("cannot read results file {}", args.results.display()))?;
    let results: RunResults = serde_json::from_str(&text)
        .with_context(|| format!("results file {} is not valid", args.results.display()))?;
    let out_dir = match args.out {
        Some(dir) => dir,
        None => match args.results.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
    };
    let options = ReportOptions {
        settings: args.settings,
        lang: args.lang,
        smtp,
        out_dir,
    };
    let outcome = report::write_after_run(&results, &options)?;
    println!("{outcome}");
    Ok(match outcome {
        ReportOutcome::Report { .. } => ExitCode::SUCCESS,
        ReportOutcome::Findings { .. } => ExitCode::from(1),
    })
}
