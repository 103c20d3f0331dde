//! `kantakoe rehearse`: the main job. Replays the bundled deployment-test suite (or the given
//! cases) against an embedded archive on loopback, or another archive with `--archive`, and
//! in SUT mode waits for the vendor's own system to make the "your system" steps.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

use crate::client::Target;
use crate::pki::{Pki, PkiSpec};
use crate::rehearse::case::{self, Case};
use crate::rehearse::{self, Event, Setup, output, suite};
use crate::report::{self, ReportOptions, ReportOutcome, SmtpTarget};
use crate::results::{Mode, Outcome, RunResults};

/// Arguments of `kantakoe rehearse`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A test case file to run instead of the bundled suite (repeatable, run in order).
    #[arg(long = "case", value_name = "FILE")]
    pub cases: Vec<PathBuf>,
    /// Replay against this running archive instead of an embedded one, e.g.
    /// `https://localhost:8443` (a `mock-archive serve`). Needs --pki.
    #[arg(long, value_name = "URL", requires = "pki")]
    pub archive: Option<String>,
    /// The running archive's admin token (`mock-archive serve` prints it at start), for the
    /// steps that break the archive on purpose (`[step.fault]`).
    #[arg(long, value_name = "TOKEN", env = "KANTAKOE_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// A Kantakoe test PKI directory (`kantakoe pki init`). With --archive: the certificates
    /// to use. Without: the embedded archive's PKI (made there if missing), so that your
    /// system can use the same certificates in SUT mode. Default: a throwaway PKI.
    #[arg(long, value_name = "DIR")]
    pub pki: Option<PathBuf>,
    /// The embedded archive's address (default: loopback, any free port).
    #[arg(long, value_name = "ADDR", conflicts_with = "archive")]
    pub listen: Option<SocketAddr>,
    /// Keep the embedded archive running after the replay, with its archivist view (a second
    /// HTTPS listener for your browser), until Ctrl-C: its address and sign-in tokens are
    /// printed, and each register holder's deployment-test checklist is waiting there. What
    /// the archivist confirms goes into results.json and the report.
    #[arg(long, conflicts_with = "archive")]
    pub serve: bool,
    /// With --serve: the archivist view's address (default: loopback, any free port).
    #[arg(long, value_name = "ADDR", requires = "serve")]
    pub view_listen: Option<SocketAddr>,
    /// SUT mode: the "your system" steps are made by your own system, which must send them
    /// to the archive; the harness shows each instruction and waits.
    #[arg(long)]
    pub sut: bool,
    /// SUT mode: how long to wait for each "your system" step (seconds), unless the case
    /// says otherwise.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub step_timeout: u64,
    /// Where results.json and junit.xml are written.
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
    /// The organisation's settings for the report to Kela (TOML); default `./kantakoe.toml`
    /// when it exists, else the bundled example (test data).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// The language of the report.
    #[arg(long, value_enum, default_value = "fi")]
    pub lang: crate::report::Lang,
    /// Submit the draft report through your SMTP server after a passed run, to --to only
    /// (see `kantakoe report --help`): smtp://HOST:PORT, smtps://HOST:PORT or
    /// smtp+plain://HOST:PORT (loopback).
    #[arg(long, value_name = "URL")]
    pub smtp: Option<String>,
    /// The draft report's recipient (e.g. your own mailbox); required with --smtp. A
    /// rehearsal's report is a draft and never goes to Kela.
    #[arg(long, value_name = "ADDRESS")]
    pub to: Option<String>,
    /// The HTTP path messages are posted to.
    #[arg(long, value_name = "PATH", default_value = kanta_profile::format::codes::DEFAULT_MESSAGE_PATH.value)]
    pub message_path: String,
    /// SUT mode: save each judged submission of your system (its bytes, step and verdict) as a
    /// test case, DIR/case.toml, that `rehearse --case DIR/case.toml --pki <same PKI>` replays
    /// verbatim with the reference client.
    #[arg(long, value_name = "DIR", requires = "sut")]
    pub record: Option<PathBuf>,
    /// How long the harness waits for the archive.
    #[command(flatten)]
    pub timeouts: super::TimeoutArgs,
}

/// Runs `kantakoe rehearse`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Usage problems with the report come out before the run, not after it.
    report::check_draft_submission(args.smtp.is_some(), args.to.as_deref())?;
    let smtp = args.smtp.as_deref().map(SmtpTarget::from_env).transpose()?;
    let today = time::OffsetDateTime::now_local()
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .date();
    report::settings_for(args.settings.as_deref(), Some(today), false)?;
    let cases = if args.cases.is_empty() {
        suite::bundled()?
    } else {
        let mut cases = Vec::new();
        let mut problems = Vec::new();
        for path in &args.cases {
            match case::load(path) {
                Ok(c) => cases.push(c),
                Err(case::CaseError(p)) => problems.extend(p),
            }
        }
        if !problems.is_empty() {
            return Err(case::CaseError(problems).into());
        }
        cases
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let results = runtime.block_on(run_async(&args, &cases))?;
    let (json, junit) = output::write(&results, &args.out)
        .with_context(|| format!("cannot write the results into {}", args.out.display()))?;
    println!("results: {}", json.display());
    println!("JUnit:   {}", junit.display());
    // A passed run writes the report to Kela; a failed one a findings summary for the team.
    let options = ReportOptions {
        settings: args.settings.clone(),
        lang: args.lang,
        smtp,
        to: args.to.clone(),
        out_dir: args.out.clone(),
    };
    let outcome = report::write_after_run(&results, &options)?;
    println!("{outcome}");
    if let Some(dir) = &args.record {
        println!(
            "recorded: {} (replay: kantakoe rehearse --case {})",
            dir.display(),
            dir.join(rehearse::record::CASE_FILE).display()
        );
    }
    Ok(match outcome {
        // The environment failed: not the vendor's fault, and not a verdict on its system.
        _ if results.environment_failed() => ExitCode::from(2),
        ReportOutcome::Draft { .. } if results.all_passed() => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

async fn run_async(args: &Args, cases: &[Case]) -> anyhow::Result<RunResults> {
    // Keeps the embedded archive and a throwaway PKI alive until the run is done.
    let mut _embedded = None;
    let mut _tempdir = None;
    let pki = match &args.pki {
        Some(dir) if args.archive.is_some() || dir.join("pki.toml").exists() => Pki::open(dir)?,
        Some(dir) => Pki::init(dir, &PkiSpec::default(), false)?,
        None => {
            let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
            let pki = Pki::init(dir.path(), &PkiSpec::default(), false)?;
            if args.serve {
                // The browser may need the CA file after the run too: the PKI is kept.
                let _ = dir.keep();
            } else {
                _tempdir = Some(dir);
            }
            pki
        }
    };
    let mut embedded_admin_token = None;
    let (target, embedded) = match &args.archive {
        Some(url) => (Target::parse(url)?, false),
        None => {
            let first = &cases[0];
            if let Some(other) = cases.iter().find(|c| c.fixture_text != first.fixture_text) {
                anyhow::bail!(
                    "the embedded archive has one organisation fixture, but {} and {} use different ones; run them separately",
                    first.file,
                    other.file
                );
            }
            let fixture = tempfile::Builder::new()
                .suffix(".toml")
                .tempfile()
                .context("cannot write the fixture for the embedded archive")?;
            std::fs::write(fixture.path(), &first.fixture_text)?;
            let mut config =
                mock_archive::ArchiveConfig::new(mock_archive::TlsFiles::from_pki_dir(pki.dir()));
            config.orgs = Some(fixture.path().to_owned());
            if let Some(listen) = args.listen {
                config.listen = listen;
            }
            let mut builder = mock_archive::MockArchive::builder().config(config);
            if args.serve {
                // The view's sign-in instructions name the fixture's archivists, so their
                // tokens sign in here (a plain `mock-archive serve` needs --fixture-tokens).
                builder = builder
                    .view_listen(
                        args.view_listen
                            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
                    )
                    .fixture_tokens();
            }
            let archive = builder
                .start()
                .await
                .context("cannot start the embedded archive")?;
            let url = archive.url();
            embedded_admin_token = Some(archive.admin_token().to_owned());
            if args.sut {
                println!(
                    "embedded archive: {url} (test PKI: {}; your system trusts ca.pem and presents client.pem or vendor.pem)",
                    pki.dir().display()
                );
            } else {
                eprintln!("embedded archive: {url}");
            }
            _embedded = Some((archive, fixture));
            (Target::parse(&url)?, true)
        }
    };
    let setup = Setup {
        target,
        embedded,
        pki,
        mode: if args.sut { Mode::Sut } else { Mode::Reference },
        step_timeout: Duration::from_secs(args.step_timeout),
        message_path: args.message_path.clone(),
        timeouts: args.timeouts.timeouts(),
        record: args.record.clone(),
        admin_token: args.admin_token.clone().or(embedded_admin_token),
    };
    // Every mode checks the archive before the first step: a run never starts against
    // nothing, and a negative step never passes because nothing answered.
    rehearse::check_archive(&setup)
        .await
        .map_err(|e| anyhow::anyhow!("no step was run: {e}"))?;
    if args.sut {
        let plan = rehearse::plan::document(&setup, cases);
        std::fs::create_dir_all(&args.out)
            .with_context(|| format!("cannot make {}", args.out.display()))?;
        let path = args.out.join(rehearse::plan::PLAN_FILE);
        std::fs::write(&path, &plan).with_context(|| format!("cannot write {}", path.display()))?;
        print!(
            "{}",
            rehearse::plan::render(&setup, cases, rehearse::plan::Lang::En)
        );
        println!(
            "\nthe plan in Finnish, Swedish and English / suunnitelma / planen: {}\n",
            path.display()
        );
        let _ = std::io::stdout().flush();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut watch = |event: Event<'_>| {
        match event {
        Event::Started { steps } => bar.set_length(steps as u64),
        Event::StepStarted { case, step } => bar.set_message(format!("{} / {}", case.id, step.id)),
        Event::Waiting {
            case,
            step,
            timeout,
        } => bar.suspend(|| {
            println!(
                ">> {} / {}: järjestelmäsi vuoro, odotetaan {} s / ditt systems tur, väntar {} s",
                case.id,
                step.id,
                timeout.as_secs(),
                timeout.as_secs()
            );
            if let Some(i) = &step.instruction {
                println!("   fi: {}", i.fi);
                println!("   sv: {}", i.sv);
            }
            let _ = std::io::stdout().flush();
        }),
        Event::Countdown { left } => {
            let secs = left.as_secs();
            bar.set_message(format!("waiting for your system: {secs} s left"));
            if secs > 0 && secs % 10 == 0 {
                bar.suspend(|| {
                    println!("   … {secs} s left");
                    let _ = std::io::stdout().flush();
                });
            }
        }
        Event::Attempt {
            case,
            step,
            failure,
            left,
        } => bar.suspend(|| {
            println!(
                "   {} / {}: your system's submission did not pass: {failure}; waiting {} s more for a corrected resend",
                case.id,
                step.id,
                left.as_secs()
            );
            let _ = std::io::stdout().flush();
        }),
        Event::Stray(stray) => bar.suspend(|| {
            println!(
                "!! a submission arrived that matches no step: message {} (document {}): {}; {}",
                stray.message_id.as_deref().unwrap_or("?"),
                stray.document_id.as_deref().unwrap_or("?"),
                stray.outcome,
                stray.reason
            );
            let _ = std::io::stdout().flush();
        }),
        Event::StepDone { case, result } => {
            let why = result
                .failures
                .first()
                .map(|f| format!(": {f}"))
                .unwrap_or_default();
            if args.sut {
                bar.suspend(|| {
                    println!(
                        "   {} / {}: {}{why}",
                        case.id,
                        result.id,
                        result.outcome.as_str()
                    );
                    let _ = std::io::stdout().flush();
                });
            } else if result.outcome != Outcome::Passed {
                bar.suspend(|| {
                    eprintln!("{} / {}: {}{why}", case.id, result.id, result.outcome.as_str());
                });
            }
            bar.inc(1);
        }
    }
    };
    let mut results = rehearse::run(&setup, cases, &mut watch).await?;
    bar.finish_and_clear();
    print!("{}", output::table(&results, table_width()));
    if let Some((archive, _)) = &_embedded
        && args.serve
    {
        results.confirmation = serve(&setup, cases, &results, archive).await?;
    }
    Ok(results)
}

/// The width to fit the results table to: the terminal's, else `COLUMNS`, else none.
fn table_width() -> Option<usize> {
    let term = console::Term::stdout();
    if term.is_term()
        && let Some((_, cols)) = term.size_checked()
    {
        return Some(cols as usize);
    }
    std::env::var("COLUMNS").ok()?.trim().parse().ok()
}

/// `--serve`: puts the checklists into the archive, shows where to look, waits for Ctrl-C
/// (or SIGTERM), then collects what the archivists confirmed.
async fn serve(
    setup: &Setup,
    cases: &[Case],
    results: &RunResults,
    archive: &mock_archive::MockArchiveHandle,
) -> anyhow::Result<Option<crate::results::ArchivistConfirmation>> {
    let lists = rehearse::checklists(cases, results);
    rehearse::put_checklists(setup, &lists).await?;
    let url = archive
        .view_url()
        .context("the embedded archive has no archivist view")?;
    println!("\narchivist view: {url}");
    println!(
        "  its certificate is from the test CA {}: trust that file in your browser (or accept the warning)",
        setup.pki.ca().display()
    );
    for (holder, _, list) in &lists {
        let name = cases[0]
            .fixture
            .organisation(holder)
            .map_or(holder.as_str(), |o| o.name.as_str());
        let checkpoints: usize = list.steps.iter().map(|s| s.checkpoints.len()).sum();
        println!("  {name} ({holder}): checklist of {checkpoints} checkpoints");
        for a in cases[0]
            .fixture
            .archivists()
            .iter()
            .filter(|a| &a.register_holder == holder)
        {
            println!("    sign in as {} with token {}", a.name, a.token);
        }
        for t in archive
            .view_tokens()
            .iter()
            .filter(|t| &t.register_holder == holder)
        {
            println!("    or with the one-time token {}", t.token);
        }
    }
    println!("confirm the checkpoints in the view, then press Ctrl-C to finish the run");
    let _ = std::io::stdout().flush();
    mock_archive::shutdown_signal().await;
    let confirmation = rehearse::confirmations(setup, &cases[0].fixture, &lists).await?;
    match &confirmation {
        Some(c) => println!(
            "the archivist view: {} of {} checkpoints confirmed by {}",
            c.confirmed, c.total, c.by
        ),
        None => println!("the archivist view: no checkpoint was confirmed"),
    }
    Ok(confirmation)
}
