//! `kantakoe preflight`.

use std::process::ExitCode;

/// Arguments of `kantakoe preflight`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `kantakoe preflight`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kantakoe preflight is not built yet")
}
