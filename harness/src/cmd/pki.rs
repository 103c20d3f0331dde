//! `kantakoe pki`: make the test PKI.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::pki::{Pki, PkiSpec};

/// `kantakoe pki` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PkiCommand {
    /// Make a new test PKI (CA, TLS server/client, system signature, negative certificates).
    Init {
        /// Directory to write the PEM files and the manifest `pki.toml` into.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Extra host name or IP address for the archive's server certificate (repeatable).
        #[arg(long = "host", value_name = "HOST")]
        hosts: Vec<String>,
        /// Replace an existing PKI in DIR.
        #[arg(long)]
        force: bool,
    },
}

/// Runs `kantakoe pki`.
pub fn run(cmd: PkiCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PkiCommand::Init { dir, hosts, force } => {
            let spec = PkiSpec {
                hosts,
                ..PkiSpec::default()
            };
            let pki = Pki::init(&dir, &spec, force)?;
            println!("test PKI written to {}", pki.dir().display());
            for entry in pki.manifest()?.entries {
                println!("  {:<26} {}", entry.cert, entry.purpose);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
