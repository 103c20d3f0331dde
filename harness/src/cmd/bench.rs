//! `kantakoe bench`.

use std::process::ExitCode;

/// Arguments of `kantakoe bench`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `kantakoe bench`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kantakoe bench is not built yet")
}
