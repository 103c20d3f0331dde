//! `kantakoe sign`: adds a system signature (Kanta profile, 2026 form) to a CDA document.
//! Exit codes: 0 signed, 2 usage or environment error.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use kanta_profile::signature::{self, Signer};
use time::OffsetDateTime;

/// Arguments of `kantakoe sign`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The CDA document to sign.
    pub file: PathBuf,
    /// The signer certificate (PEM; intermediates may follow it).
    #[arg(long, value_name = "PEM", requires = "key", conflicts_with = "pki")]
    pub cert: Option<PathBuf>,
    /// The signer's private key (PEM: RSA, EC P-256 or EC P-384).
    #[arg(long, value_name = "PEM", requires = "cert", conflicts_with = "pki")]
    pub key: Option<PathBuf>,
    /// A test PKI directory: uses DIR/signature.pem and DIR/signature.key.pem.
    #[arg(long, value_name = "DIR")]
    pub pki: Option<PathBuf>,
    /// The signature timestamp (RFC 3339, HL7 TS with zone, or YYYY-MM-DD); default now.
    #[arg(long, value_parser = super::verify::parse_at)]
    pub at: Option<OffsetDateTime>,
    /// Where to write the signed document; default standard output.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Runs `kantakoe sign`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (cert_path, key_path) = match (&args.cert, &args.key, &args.pki) {
        (Some(c), Some(k), None) => (c.clone(), k.clone()),
        (None, None, Some(dir)) => (dir.join("signature.pem"), dir.join("signature.key.pem")),
        _ => bail!("give either --cert and --key, or --pki DIR"),
    };
    let cert =
        std::fs::read(&cert_path).with_context(|| format!("reading {}", cert_path.display()))?;
    let key =
        std::fs::read(&key_path).with_context(|| format!("reading {}", key_path.display()))?;
    let signer = Signer::from_pem(&cert, &key)
        .with_context(|| format!("loading {} and {}", cert_path.display(), key_path.display()))?;
    let cda =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let at = args.at.unwrap_or_else(OffsetDateTime::now_utc);
    let signed = signature::sign(&cda, &signer, at)
        .with_context(|| format!("signing {}", args.file.display()))?;
    match &args.output {
        Some(out) => {
            std::fs::write(out, &signed).with_context(|| format!("writing {}", out.display()))?;
            eprintln!("signed {} -> {}", args.file.display(), out.display());
        }
        None => std::io::stdout()
            .write_all(&signed)
            .context("writing to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
