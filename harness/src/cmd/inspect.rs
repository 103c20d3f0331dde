//! `kantakoe inspect`.

use std::process::ExitCode;

/// Arguments of `kantakoe inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to read.
    pub file: std::path::PathBuf,
}

/// Runs `kantakoe inspect`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "kantakoe inspect is not built yet (file {})",
        args.file.display()
    )
}
