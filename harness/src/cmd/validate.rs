//! `kantakoe validate FRAME [DOCUMENT]`: the archive's checks without an archive — the same
//! function the mock archive runs before storing and its validation service runs
//! ([`mock_archive::validate`]) — on a whole message (the CDA inside its MIME part) or on a
//! transport frame plus a separate CDA document (the frame's MIME payload may then be a
//! placeholder). Prints every problem with its stable code, Finnish and English text and
//! location. Exit codes: 0 valid, 1 problems, 2 usage error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use mock_archive::ack::AckDetail;
use mock_archive::config::{BUNDLED_ORGS, BUNDLED_ORGS_NAME};
use mock_archive::format::Limits;
use mock_archive::orgs::Registry;
use mock_archive::signature::{Trust, VerifyOptions, certificates_from_pem};
use mock_archive::validate;

/// Arguments of `kantakoe validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A whole message (bare, SOAP 1.1 or SOAP 1.2), or a transport frame when DOCUMENT is
    /// given.
    pub frame: PathBuf,
    /// The CDA document travelling beside the frame (as Kanta's validation service takes it).
    pub document: Option<PathBuf>,
    #[command(flatten)]
    pub checks: Checks,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What the checks are made against (shared with `kantakoe inspect`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Checks {
    /// The organisation fixture (TOML) for the register-holder routing; default: the bundled
    /// testcases/orgs.toml.
    #[arg(long, value_name = "FILE")]
    pub orgs: Option<PathBuf>,
    /// The CA certificate(s) trusted for the system signature (PEM), e.g. your test PKI's
    /// ca.pem. Without it the signature is checked against the certificate it carries and
    /// the signer's CA is not checked.
    #[arg(long, value_name = "CA.pem")]
    pub trust: Vec<PathBuf>,
}

/// The fixture and signature options the checks run with.
pub struct Checker {
    registry: Arc<Registry>,
    signature: VerifyOptions,
    /// Whether a trusted CA was given (otherwise the signer's CA is not checked).
    pub ca_checked: bool,
}

impl Checks {
    /// Loads the fixture and the trusted CA certificates.
    pub fn load(&self) -> anyhow::Result<Checker> {
        let registry = Arc::new(match &self.orgs {
            Some(path) => Registry::load(path)?,
            None => Registry::from_toml_str(BUNDLED_ORGS, BUNDLED_ORGS_NAME)?,
        });
        let mut cas = Vec::new();
        for path in &self.trust {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            cas.extend(
                certificates_from_pem(&pem).with_context(|| format!("in {}", path.display()))?,
            );
        }
        let ca_checked = !cas.is_empty();
        let mut signature = validate::signature_options(registry.clone(), cas);
        if !ca_checked {
            signature.trust = Trust::Embedded;
        }
        Ok(Checker {
            registry,
            signature,
            ca_checked,
        })
    }
}

impl Checker {
    /// Every problem of a whole message.
    pub fn message(&self, body: &[u8]) -> Vec<AckDetail> {
        validate::validate_message(body, &Limits::default(), &self.registry, &self.signature)
    }

    /// Every problem of a frame plus a separate CDA document.
    pub fn parts(&self, frame: &[u8], document: &[u8]) -> Vec<AckDetail> {
        validate::validate_parts(
            frame,
            document,
            &Limits::default(),
            &self.registry,
            &self.signature,
        )
    }
}

/// The note printed when no CA was given.
pub const NO_TRUST_NOTE: &str =
    "note: the signer's CA was not checked (give --trust CA.pem to check it)";

/// Runs `kantakoe validate`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let checker = args.checks.load()?;
    let frame = read(&args.frame)?;
    let (details, name) = match &args.document {
        Some(doc) => (
            checker.parts(&frame, &read(doc)?),
            format!("{} + {}", args.frame.display(), doc.display()),
        ),
        None => (checker.message(&frame), args.frame.display().to_string()),
    };
    let out = if args.json {
        render_json(&name, &details, checker.ca_checked)?
    } else {
        render_text(&name, &details, checker.ca_checked)
    };
    print!("{out}");
    Ok(ExitCode::from(u8::from(!details.is_empty())))
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The text form: a verdict line, then each problem with code, location, Finnish and English
/// text and the detail.
pub fn render_text(name: &str, details: &[AckDetail], ca_checked: bool) -> String {
    let mut out = if details.is_empty() {
        format!("{name}: valid (no problems)\n")
    } else {
        format!(
            "{name}: {} problem{}\n",
            details.len(),
            if details.len() == 1 { "" } else { "s" }
        )
    };
    out.push_str(&render_problems(details));
    if !ca_checked {
        out.push_str(NO_TRUST_NOTE);
        out.push('\n');
    }
    out
}

/// Each problem as four indented lines (shared with `kantakoe inspect`).
pub fn render_problems(details: &[AckDetail]) -> String {
    let mut out = String::new();
    for (i, d) in details.iter().enumerate() {
        out.push_str(&format!(
            "{}. {} at {}\n   fi: {}\n   en: {}\n   {}\n",
            i + 1,
            d.code.code(),
            d.location.as_deref().unwrap_or("(the message)"),
            d.code.finnish(),
            d.code.english(),
            d.detail
        ));
    }
    out
}

/// The problems as JSON objects `{code, finnish, english, location, detail}`.
pub fn problems_json(details: &[AckDetail]) -> serde_json::Value {
    details
        .iter()
        .map(|d| {
            serde_json::json!({
                "code": d.code.code(),
                "finnish": d.code.finnish(),
                "english": d.code.english(),
                "location": d.location,
                "detail": d.detail,
            })
        })
        .collect()
}

/// The JSON form: `{"input", "valid", "signer_ca_checked", "problems", "description"}` where
/// `description` is exactly what the validation service answers.
pub fn render_json(name: &str, details: &[AckDetail], ca_checked: bool) -> anyhow::Result<String> {
    let value = serde_json::json!({
        "input": name,
        "valid": details.is_empty(),
        "signer_ca_checked": ca_checked,
        "problems": problems_json(details),
        "description": validate::description(details),
    });
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}
