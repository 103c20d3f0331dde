//! `kantakoe pki`: make the test PKI (`init`), or check one (`check`, see
//! [`crate::pki_check`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use mock_archive::orgs::Registry;

use crate::pki::{Pki, PkiSpec};

/// `kantakoe pki` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PkiCommand {
    /// Make a new test PKI (CA, TLS server/client, system signature, negative certificates).
    Init {
        /// Directory to write the PEM files and the manifest `pki.toml` into: new, empty, or
        /// an earlier test PKI (replaced with --force).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Extra host name or IP address for the archive's server certificate (repeatable).
        #[arg(long = "host", value_name = "HOST")]
        hosts: Vec<String>,
        /// Replace an existing PKI in DIR, or write into a directory that holds other files.
        #[arg(long)]
        force: bool,
    },
    /// Check a test PKI: expiry, issuer chain, key usage, and the organisation OIDs against the
    /// organisation fixture. Exit code 1 when a certificate is not what its role needs.
    Check {
        /// The test PKI directory.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The organisation fixture (TOML); default: the bundled testcases/orgs.toml.
        #[arg(long, value_name = "FILE")]
        orgs: Option<PathBuf>,
    },
}

/// Why `pki init` will not write into `dir`: it is a file, or a directory holding other files
/// than a test PKI (unless `force`).
pub fn refuse_init(dir: &Path, force: bool) -> anyhow::Result<()> {
    if dir.is_file() {
        anyhow::bail!(
            "--dir {}: that is a file, not a directory; give a directory for the test PKI (it is made if missing)",
            dir.display()
        );
    }
    let holds_pki = dir.join(crate::pki::MANIFEST).exists();
    if dir.is_dir() && !holds_pki && !force {
        let mut entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the directory {}", dir.display()))?;
        if entries.next().is_some() {
            anyhow::bail!(
                "{} is not empty and holds no test PKI (no {}); nothing was written: choose a new or empty directory, or add --force to write the PKI's files there",
                dir.display(),
                crate::pki::MANIFEST
            );
        }
    }
    Ok(())
}

/// Runs `kantakoe pki`.
pub fn run(cmd: PkiCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PkiCommand::Init { dir, hosts, force } => {
            refuse_init(&dir, force)?;
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
        PkiCommand::Check { dir, orgs } => {
            let fixture = match &orgs {
                Some(path) => Registry::load(path)?,
                None => Registry::from_toml_str(mock_archive::config::BUNDLED_ORGS, "orgs.toml")?,
            };
            let pki = Pki::open(&dir)?;
            let report = crate::pki_check::check(&pki, &fixture, time::OffsetDateTime::now_utc())?;
            println!("test PKI {}", pki.dir().display());
            print!("{}", report.render());
            Ok(if report.problems() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_refuses_a_file_and_a_foreign_non_empty_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.txt");
        std::fs::write(&file, "x").unwrap();
        let shown = |e: anyhow::Error| {
            e.to_string()
                .replace(&dir.path().display().to_string(), "[dir]")
        };
        assert_eq!(
            shown(refuse_init(&file, true).unwrap_err()),
            "--dir [dir]/notes.txt: that is a file, not a directory; give a directory for the test PKI (it is made if missing)"
        );
        assert_eq!(
            shown(refuse_init(dir.path(), false).unwrap_err()),
            "[dir] is not empty and holds no test PKI (no pki.toml); nothing was written: choose a new or empty directory, or add --force to write the PKI's files there"
        );
        refuse_init(dir.path(), true).unwrap();
        refuse_init(&dir.path().join("new"), false).unwrap();
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        refuse_init(&empty, false).unwrap();
        // An earlier PKI is Pki::init's to refuse (it says to use --force).
        std::fs::write(empty.join(crate::pki::MANIFEST), "").unwrap();
        refuse_init(&empty, false).unwrap();
    }
}
