//! `kantakoe verify`.

use std::process::ExitCode;

/// Arguments of `kantakoe verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to read.
    pub file: std::path::PathBuf,
}

/// Runs `kantakoe verify`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "kantakoe verify is not built yet (file {})",
        args.file.display()
    )
}
