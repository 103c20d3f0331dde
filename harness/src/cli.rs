//! The `kantakoe` command line: parsing only; each subcommand lives in [`crate::cmd`].

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cmd;

/// Kantakoe: rehearse the Kanta deployment test ("käyttöönottokoe") of the social welfare
/// client data repository against a mock archive.
#[derive(Debug, Parser)]
#[command(name = "kantakoe", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rehearse the deployment test: replay the test cases against an archive and judge
    /// every answer and archivist checkpoint (the main job).
    Rehearse(cmd::rehearse::Args),
    /// Make or check the test PKI (CA, TLS and system-signature certificates).
    #[command(subcommand)]
    Pki(cmd::pki::PkiCommand),
    /// Connection test ("yhteystesti"): mutual TLS to an archive, certificates checked.
    Preflight(cmd::preflight::Args),
    /// Send one query (relationships, cases, metadata, document, summary) to an archive and
    /// print the answer: for debugging a system's reads by hand.
    Query(cmd::query::Args),
    /// Print what was read from an HL7 V3 message or a bare CDA document.
    Inspect(cmd::inspect::Args),
    /// Check a message (or a frame plus its CDA) as the archive would, storing nothing:
    /// every problem with code, Finnish and English text and location.
    Validate(cmd::validate::Args),
    /// Write valid, signed example messages (and their bare CDAs) to compare yours with.
    Example(cmd::example::Args),
    /// Add a system signature to a CDA document or the CDA inside a message.
    Sign(cmd::sign::Args),
    /// Verify the system signature of a CDA document or the CDA inside a message.
    Verify(cmd::verify::Args),
    /// Measure the archive: start-up, handshakes and requests per second.
    Bench(cmd::bench::Args),
    /// Write the deployment-test report email: a rehearsal's draft (never to Kela) from an
    /// earlier run's results, or the real report to Kela from the real test's record.
    Report(cmd::report::Args),
}

/// Parses the command line and runs the subcommand. Exit codes: 0 pass, 1 test failures,
/// 2 usage or environment error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rehearse(a) => cmd::rehearse::run(a),
        Command::Pki(c) => cmd::pki::run(c),
        Command::Preflight(a) => cmd::preflight::run(a),
        Command::Query(a) => cmd::query::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Example(a) => cmd::example::run(a),
        Command::Sign(a) => cmd::sign::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Report(a) => cmd::report::run(a),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!(
                "kantakoe: error: {}",
                mock_archive::error_chain(err.as_ref())
            );
            ExitCode::from(2)
        }
    }
}
