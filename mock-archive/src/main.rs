//! The `mock-archive` binary: parses flags and a config file, then runs the library's server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mock_archive::RawConfig;

/// A TLS mock of Kanta's social welfare client data repository.
#[derive(Debug, Parser)]
#[command(name = "mock-archive", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the archive until SIGINT or SIGTERM. Prints one JSON line on standard output when
    /// ready: the bound address, and under `view` the archivist view's address and its one-time
    /// sign-in tokens (one per register holder).
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// A TOML configuration file; flags override its values.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen address (port 0: any free port). Default 127.0.0.1:0.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// A Kantakoe test PKI directory (`kantakoe pki init`) for the TLS files not given below.
    #[arg(long, value_name = "DIR")]
    pki: Option<PathBuf>,
    /// Server certificate chain (PEM).
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// CA certificate(s) trusted for TLS client certificates (PEM).
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// Message path.
    #[arg(long, value_name = "PATH")]
    message_path: Option<String>,
    /// CA certificate(s) trusted for system signatures (PEM); default: the client CA.
    #[arg(long, value_name = "FILE")]
    signature_ca: Option<PathBuf>,
    /// Organisation fixture (TOML); default: the bundled testcases/orgs.toml.
    #[arg(long, value_name = "FILE")]
    orgs: Option<PathBuf>,
    /// SQLite database file (default mock-archive.db), or `:memory:` for a throwaway one.
    #[arg(long, value_name = "FILE")]
    db: Option<String>,
    /// The archivist view's listen address (HTTPS for browsers, no client certificate), or
    /// `off`. Default 127.0.0.1:0 (any free port; printed at start).
    #[arg(long, value_name = "ADDR|off")]
    view_listen: Option<String>,
    /// Make the view's one-time sign-in token for this register holder only (default: one per
    /// register holder with an archivist in the fixture).
    #[arg(long, value_name = "OID")]
    view_holder: Option<String>,
    /// Let the archivists' tokens of the fixture (`[[archivist]]`; the bundled ones are
    /// published in testcases/orgs.toml) sign in to the archivist view, beside the one-time
    /// tokens printed at start. Off by default. The inspection API takes them regardless.
    #[arg(long)]
    fixture_tokens: bool,
    /// The validation service's plain-HTTP listen address (Kanta's validation service shape,
    /// nothing stored), or `off`. Default 127.0.0.1:0 (any free port; its URL is printed at
    /// start). Give a non-loopback address only if other machines must reach it.
    #[arg(long, value_name = "ADDR|off")]
    validation_listen: Option<String>,
    /// A fault plan (TOML, `[[fault]]` tables; see the README): service breaks to rehearse.
    #[arg(long, value_name = "FILE")]
    faults: Option<PathBuf>,
    /// The admin token of `PUT /inspect/faults` (default: a random one, printed at start).
    #[arg(long, value_name = "TOKEN", env = "MOCK_ARCHIVE_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Benchmark baseline: the same TLS and HTTP stack answering a fixed body to everything.
    #[arg(long, hide = true)]
    bare_baseline: bool,
}

/// Whether the log may use colours: only on a terminal, and never when `NO_COLOR` is set to
/// anything but the empty string (no-color.org).
fn colour(stderr_is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

fn main() -> ExitCode {
    use std::io::IsTerminal as _;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ))
        .with_target(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MOCK_ARCHIVE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let Command::Serve(args) = Cli::parse().command;
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "mock-archive: error: {}",
                mock_archive::error_chain(err.as_ref())
            );
            ExitCode::from(2)
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(path) => RawConfig::from_file(path)?,
        None => RawConfig::default(),
    };
    let flags = RawConfig {
        listen: args.listen,
        pki: args.pki,
        cert: args.cert,
        key: args.key,
        client_ca: args.client_ca,
        message_path: args.message_path,
        signature_ca: args.signature_ca,
        orgs: args.orgs,
        db: args.db,
        view_listen: args.view_listen,
        view_holder: args.view_holder,
        fixture_tokens: args.fixture_tokens.then_some(true),
        validation_listen: args.validation_listen,
        ..RawConfig::default()
    };
    let mut config = file.overlay(flags).validate()?;
    config.bare_baseline = args.bare_baseline;
    if let Some(path) = &args.faults {
        config.faults = mock_archive::FaultPlan::load(path)?.faults;
    }
    config.admin_token = args.admin_token;
    let view_ca = mock_archive::view::issuer_file(&config.tls);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(mock_archive::run_ready(config, |ready| {
        // One machine-readable line on stdout (it announces readiness, and readers may stop
        // reading after it); everything else goes to stderr.
        let addr = ready.addr;
        let view = ready.view_addr.map(|view_addr| {
            serde_json::json!({
                "addr": view_addr.to_string(),
                "url": format!("https://localhost:{}", view_addr.port()),
                "one_time_tokens": ready.view_tokens,
                "ca_file": view_ca.as_ref().map(|p| p.display().to_string()),
            })
        });
        println!(
            "{}",
            serde_json::json!({
                "event": "listening",
                "addr": addr.to_string(),
                "url": format!("https://localhost:{}", addr.port()),
                "view": view,
                "admin_token": ready.admin_token,
                "validation": ready.validation_addr.map(|a| serde_json::json!({
                    "url": mock_archive::server::validation_url(a),
                })),
            })
        );
        if let Some(view_addr) = ready.view_addr {
            tracing::info!(
                "archivist view on https://localhost:{} (sign in with a one-time token from the \
                 line above)",
                view_addr.port()
            );
            if let Some(ca) = &view_ca {
                tracing::info!(
                    "the view's certificate is issued by the test CA {}: trust that file in your \
                     browser, or accept its warning",
                    ca.display()
                );
            }
        }
        tracing::info!("mock archive listening on https://{addr}");
    }))?;
    tracing::info!("mock archive stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::colour;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("".into())));
        assert!(!colour(true, Some("1".into())));
        assert!(!colour(false, None));
    }
}
