//! `kantakoe sign`: adds a system signature (Kanta profile, 2026 form) to a CDA document, or
//! to the CDA inside an HL7 V3 message (the MIME part in `clinicalDocument/text` is re-encoded
//! with the signed CDA; the rest of the message stays as it was). Exit codes: 0 signed, 2 usage
//! or environment error.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use kanta_profile::signature::{self, Signer};
use time::OffsetDateTime;

/// Arguments of `kantakoe sign`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The CDA document to sign, or an HL7 V3 message: then the CDA in its
    /// clinicalDocument/text MIME part is signed and put back in place (base64).
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
    let input =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let at = args.at.unwrap_or_else(OffsetDateTime::now_utc);
    let in_message = super::verify::message_cda(&input)
        .with_context(|| format!("in {}", args.file.display()))?;
    let signed = match &in_message {
        None => signature::sign(&input, &signer, at)
            .with_context(|| format!("signing {}", args.file.display()))?,
        Some(m) => {
            if !m.base64 {
                bail!(
                    "in {}: the MIME part {} holds the CDA without Content-Transfer-Encoding: base64; sign the bare CDA and build the message again",
                    args.file.display(),
                    m.cid
                );
            }
            let cda = signature::sign(&m.cda, &signer, at).with_context(|| {
                format!(
                    "signing the CDA in {} (MIME part {})",
                    args.file.display(),
                    m.cid
                )
            })?;
            // `message_cda` read the file as UTF-8.
            let text = String::from_utf8_lossy(&input);
            m.replace(&text, &cda).into_bytes()
        }
    };
    match &args.output {
        Some(out) => {
            std::fs::write(out, &signed).with_context(|| format!("writing {}", out.display()))?;
            match &in_message {
                None => eprintln!("signed {} -> {}", args.file.display(), out.display()),
                Some(m) => eprintln!(
                    "signed the CDA in MIME part {} of {} -> {}",
                    m.cid,
                    args.file.display(),
                    out.display()
                ),
            }
        }
        None => std::io::stdout()
            .write_all(&signed)
            .context("writing to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
