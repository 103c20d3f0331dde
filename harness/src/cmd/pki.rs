//! `kantakoe pki`.

use std::process::ExitCode;

/// `kantakoe pki` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PkiCommand {
    /// Make a new test PKI in a directory.
    Init {},
}

/// Runs `kantakoe pki`.
pub fn run(_cmd: PkiCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("kantakoe pki is not built yet")
}
