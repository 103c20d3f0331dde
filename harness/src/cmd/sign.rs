//! `kantakoe sign`.

use std::process::ExitCode;

/// Arguments of `kantakoe sign`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to read.
    pub file: std::path::PathBuf,
}

/// Runs `kantakoe sign`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "kantakoe sign is not built yet (file {})",
        args.file.display()
    )
}
