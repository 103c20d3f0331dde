//! `kantakoe preflight`: the connection test ("yhteystesti").

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use time::OffsetDateTime;

use crate::client::{Identity, Target};
use crate::pki::{Pki, PkiSpec, Role};
use crate::preflight::{self, Preflight};

/// Arguments of `kantakoe preflight`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The archive, e.g. `https://localhost:8443`. Without it, an embedded mock archive is
    /// started on loopback with a throwaway test PKI, and tested.
    #[arg(long, value_name = "URL")]
    pub archive: Option<String>,
    /// A Kantakoe test PKI directory: `ca.pem` and the chosen identity's files.
    #[arg(long, value_name = "DIR", conflicts_with = "ca")]
    pub pki: Option<PathBuf>,
    /// Which PKI certificate to present (`client`, `vendor`, `expired-client`, ...).
    #[arg(long, value_name = "ROLE", default_value = "client", value_parser = parse_role)]
    pub identity: Role,
    /// CA certificate trusted for the archive's server certificate (instead of --pki).
    #[arg(long, value_name = "FILE", requires_all = ["cert", "key"])]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM), e.g. a DVV test server certificate.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Present no client certificate (to see the archive refuse).
    #[arg(long)]
    pub no_client_cert: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// How long the connection test waits for the archive.
    #[command(flatten)]
    pub timeouts: super::TimeoutArgs,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::from_stem(s).ok_or_else(|| format!("unknown role {s:?}; one of: {}", Role::stems()))
}

/// Runs `kantakoe preflight`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: Args) -> anyhow::Result<ExitCode> {
    // Keeps the embedded archive and its PKI alive until the test is done.
    let mut _embedded = None;
    let (target, pki) = match (&args.archive, &args.pki) {
        (Some(url), pki) => (Target::parse(url)?, pki.clone().map(Pki::open).transpose()?),
        (None, _) => {
            let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
            let pki = Pki::init(dir.path(), &PkiSpec::default(), false)?;
            let archive = mock_archive::MockArchive::builder()
                .pki_dir(pki.dir())
                .start()
                .await
                .context("cannot start the embedded archive")?;
            eprintln!(
                "started an embedded mock archive at {} with a throwaway test PKI",
                archive.url()
            );
            let target = Target::parse(&archive.url())?;
            _embedded = Some((archive, dir));
            (target, Some(pki))
        }
    };
    let (ca, identity) = match (&pki, &args.ca) {
        (_, Some(ca)) => (
            ca.clone(),
            args.cert
                .clone()
                .zip(args.key.clone())
                .map(|(cert, key)| Identity { cert, key }),
        ),
        (Some(pki), None) => {
            let files = pki.files(args.identity);
            (
                pki.ca(),
                Some(Identity {
                    cert: files.cert,
                    key: files.key,
                }),
            )
        }
        (None, None) => anyhow::bail!("give --pki DIR, or --ca FILE --cert FILE --key FILE"),
    };
    let p = Preflight {
        target,
        ca,
        identity: if args.no_client_cert { None } else { identity },
        now: OffsetDateTime::now_utc(),
        timeouts: args.timeouts.timeouts(),
    };
    match preflight::run(&p).await {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.render());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("connection test failed: {err}");
            Ok(ExitCode::from(2))
        }
    }
}
