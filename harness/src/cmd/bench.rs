//! `kantakoe bench`: the archive against a bare baseline, side by side in one run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;

use crate::bench::{self, BenchConfig};
use crate::pki::{Pki, PkiSpec};

/// Arguments of `kantakoe bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The `mock-archive` program (default: the one next to `kantakoe`). Use a release build.
    #[arg(long, value_name = "FILE")]
    pub archive_bin: Option<PathBuf>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Seconds per throughput run.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Start-ups timed per server (the median is reported).
    #[arg(long, default_value_t = 11)]
    pub startups: usize,
    /// Alternating throughput rounds per server (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Benchmark durable stores of signed ~20 KB documents instead of the transport; the
    /// value is how many documents to post per server with the most connections.
    #[arg(long, value_name = "N")]
    pub documents: Option<usize>,
    /// Time the whole bundled rehearsal instead: run `kantakoe rehearse` (this program) N
    /// times as a user would, from spawn to exit, and report the median wall time.
    #[arg(long, value_name = "N", conflicts_with = "documents")]
    pub rehearsals: Option<usize>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `kantakoe bench`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(n) = args.rehearsals {
        return rehearsals(n.max(1), args.json);
    }
    let archive_bin = args
        .archive_bin
        .or_else(bench::sibling_archive_bin)
        .context("no mock-archive program next to kantakoe; build it (`cargo build --release -p mock-archive`) or pass --archive-bin")?;
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let pki = Pki::init(dir.path(), &PkiSpec::default(), false)?;
    let config = BenchConfig {
        archive_bin,
        pki_dir: pki.dir().to_owned(),
        connections: args.connections.max(1),
        duration: Duration::from_secs_f64(args.seconds.max(0.1)),
        startups: args.startups.max(1),
        rounds: args.rounds.max(1),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    if let Some(per_run) = args.documents {
        let figures = runtime.block_on(bench::run_documents(&config, per_run))?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&figures)?);
        } else {
            print!("{}", bench::render_documents(&figures));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let report = runtime.block_on(bench::run(&config))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(ExitCode::SUCCESS)
}

/// Wall time of whole rehearsals, each a fresh `kantakoe rehearse` process: throwaway PKI,
/// embedded archive, every bundled step, results written.
fn rehearsals(n: usize, json: bool) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find this program")?;
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let out = dir.path().join(format!("out-{i}"));
        let started = std::time::Instant::now();
        let status = std::process::Command::new(&exe)
            .arg("rehearse")
            .arg("--out")
            .arg(&out)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .context("cannot run kantakoe rehearse")?;
        let elapsed = started.elapsed();
        anyhow::ensure!(
            status.success(),
            "kantakoe rehearse failed ({status}); run it alone to see why"
        );
        times.push(elapsed.as_secs_f64() * 1000.0);
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
    if json {
        println!(
            "{}",
            serde_json::json!({ "rehearsals": n, "median_ms": median, "min_ms": min, "max_ms": max, "runs_ms": times })
        );
    } else {
        println!(
            "whole bundled rehearsal (spawn to exit), {n} runs: median {median:.0} ms, min {min:.0} ms, max {max:.0} ms"
        );
    }
    Ok(ExitCode::SUCCESS)
}
