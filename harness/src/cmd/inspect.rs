//! `kantakoe inspect`: prints what was read from an HL7 V3 message (bare or SOAP-wrapped) or a
//! bare CDA document — interaction, ids, version and replaced document, client, register
//! holder, organiser, header and body kind, signature — and every problem found.
//! Exit codes: 0 read completely, 1 problems found, 2 the file cannot be read.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use kanta_profile::format::{
    self, Cda, CodeValue, HeaderKind, Inspected, InstanceId, Limits, Message, Organisation, Person,
    Problem,
};

/// Arguments of `kantakoe inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to read: a message (bare, SOAP 1.1 or SOAP 1.2) or a bare CDA document.
    pub file: std::path::PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// What a message's archive checks run against (as `kantakoe validate`).
    #[command(flatten)]
    pub checks: super::validate::Checks,
}

/// Runs `kantakoe inspect`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let (inspected, problems) = format::inspect(&bytes, &Limits::default());
    let name = args.file.display().to_string();
    let mut out = if args.json {
        render_json(&name, inspected.as_ref(), &problems)?
    } else {
        render_text(&name, inspected.as_ref(), &problems)
    };
    // A message also gets the archive's own checks, the same list as `kantakoe validate`.
    let mut code = exit_code(inspected.as_ref(), &problems);
    if let Some(Inspected::Message(_)) = &inspected {
        let checker = args.checks.load()?;
        let details = checker.message(&bytes);
        if !details.is_empty() {
            code = code.max(1);
        }
        if args.json {
            let mut value: serde_json::Value = serde_json::from_str(&out)?;
            value["archive_checks"] = super::validate::problems_json(&details);
            out = serde_json::to_string_pretty(&value)? + "\n";
        } else {
            out.push_str(&format!("archive checks     {}\n", details.len()));
            out.push_str(&super::validate::render_problems(&details));
            if !checker.ca_checked {
                out.push_str(super::validate::NO_TRUST_NOTE);
                out.push('\n');
            }
        }
    }
    print!("{out}");
    Ok(ExitCode::from(code))
}

/// 0 read completely, 1 read with problems, 2 not readable at all.
pub fn exit_code(inspected: Option<&Inspected>, problems: &[Problem]) -> u8 {
    match (inspected, problems.is_empty()) {
        (None, _) => 2,
        (Some(_), true) => 0,
        (Some(_), false) => 1,
    }
}

/// The JSON form: `{"file", "complete", "read", "problems"}`.
pub fn render_json(
    file: &str,
    inspected: Option<&Inspected>,
    problems: &[Problem],
) -> anyhow::Result<String> {
    let value = serde_json::json!({
        "file": file,
        "complete": inspected.is_some() && problems.is_empty(),
        "read": inspected,
        "problems": problems,
    });
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}

fn id(i: Option<&InstanceId>) -> String {
    i.map_or_else(|| "-".to_owned(), ToString::to_string)
}

fn code(c: Option<&CodeValue>) -> String {
    match c {
        None => "-".to_owned(),
        Some(c) => {
            let mut s = c.code.clone();
            if let Some(system) = &c.code_system {
                let _ = write!(s, " in {system}");
            }
            if let Some(display) = &c.display_name {
                let _ = write!(s, " \"{display}\"");
            }
            s
        }
    }
}

fn org(o: Option<&Organisation>) -> String {
    match o {
        None => "-".to_owned(),
        Some(o) => match &o.name {
            Some(n) => format!("{} \"{n}\"", id(o.id.as_ref())),
            None => id(o.id.as_ref()),
        },
    }
}

fn client(p: Option<&Person>) -> String {
    let Some(p) = p else { return "-".to_owned() };
    let mut s = id(p.id.as_ref());
    if let Some(n) = &p.name {
        let _ = write!(s, " \"{n}\"");
    }
    let test =
        p.id.as_ref()
            .filter(|i| i.root == format::codes::IDENTITY_CODE_ROOT.value)
            .and_then(|i| i.extension.as_deref())
            .and_then(|e| format::hetu::Hetu::parse(e).ok());
    if let Some(h) = test {
        s.push_str(if h.is_test() {
            " [test identity code]"
        } else {
            " [NOT a test identity code]"
        });
    }
    s
}

/// The human-readable form.
pub fn render_text(file: &str, inspected: Option<&Inspected>, problems: &[Problem]) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| {
        let _ = writeln!(out, "{k:<18} {v}");
    };
    line("file", file.to_owned());
    match inspected {
        None => line("read", "no (see problems)".to_owned()),
        Some(Inspected::Message(m)) => message_lines(&mut line, m),
        Some(Inspected::Document(c)) => {
            line("kind", "bare CDA document".to_owned());
            cda_lines(&mut line, c);
        }
    }
    if problems.is_empty() {
        line("problems", "none".to_owned());
    } else {
        line("problems", problems.len().to_string());
        for p in problems {
            let _ = writeln!(out, "  {} at {}\n    {}", p.code, p.location, p.message);
        }
    }
    out
}

fn message_lines(line: &mut impl FnMut(&str, String), m: &Message) {
    line("kind", format!("HL7 V3 message ({:?})", m.wrapping));
    line("interaction", m.interaction.clone());
    line("message id", id(m.id.as_ref()));
    line(
        "creation time",
        m.creation_time.clone().unwrap_or("-".into()),
    );
    line("sender", id(m.sender.as_ref()));
    line("service request", code(m.service_request.as_ref()));
    line("usage situation", code(m.usage_situation.as_ref()));
    line(
        "professional",
        m.professional.as_ref().map_or("-".into(), |p| {
            let mut s = id(p.id.as_ref());
            if let Some(n) = &p.name {
                let _ = write!(s, " \"{n}\"");
            }
            s
        }),
    );
    line("service unit", org(m.service_unit.as_ref()));
    let d = &m.document;
    line("register", code(d.register.as_ref()));
    line("document id", id(d.id.as_ref()));
    line("set id", id(d.set_id.as_ref()));
    line(
        "version",
        d.version_number.map_or("-".into(), |v| v.to_string()),
    );
    line(
        "effective time",
        d.effective_time.clone().unwrap_or("-".into()),
    );
    line(
        "replaces",
        d.replaces.as_ref().map_or("-".into(), |p| {
            format!(
                "{} version {}",
                id(p.id.as_ref()),
                p.version_number.map_or("-".into(), |v| v.to_string())
            )
        }),
    );
    if d.replaces.is_some() || d.replacement_reason.is_some() {
        line("replacement reason", code(d.replacement_reason.as_ref()));
    }
    line("client", client(d.record_target.as_ref()));
    line("register holder", org(d.custodian.as_ref()));
    line(
        "MIME part",
        m.mime.as_ref().map_or("-".into(), |p| {
            format!(
                "Content-ID <{}>, {} bytes decoded",
                p.content_id.as_deref().unwrap_or("-"),
                p.decoded_len
            )
        }),
    );
    match &m.cda {
        None => line("CDA", "not read".to_owned()),
        Some(c) => {
            line("CDA", "read".to_owned());
            cda_lines(line, c);
        }
    }
}

fn cda_lines(line: &mut impl FnMut(&str, String), c: &Cda) {
    line("cda id", id(c.id.as_ref()));
    line("cda set id", id(c.set_id.as_ref()));
    line(
        "cda version",
        c.version_number.map_or("-".into(), |v| v.to_string()),
    );
    if let Some(p) = &c.replaces {
        line(
            "cda replaces",
            format!(
                "{} version {}",
                id(p.id.as_ref()),
                p.version_number.map_or("-".into(), |v| v.to_string())
            ),
        );
    }
    line("cda client", client(c.record_target.as_ref()));
    line("cda custodian", org(c.custodian.as_ref()));
    line("cda service unit", org(c.service_unit.as_ref()));
    line("confidentiality", code(c.confidentiality.as_ref()));
    match &c.header {
        None => line("header", "-".to_owned()),
        Some(h) => {
            line(
                "header",
                match h.kind {
                    HeaderKind::Social => "hl7fi:localSocialHeader (social welfare)".to_owned(),
                    HeaderKind::Patient => "hl7fi:localHeader (patient data)".to_owned(),
                },
            );
            line("organiser", org(h.organiser.as_ref()));
            if h.kind == HeaderKind::Social {
                line("document group", code(h.document_group.as_ref()));
                line("registry type", code(h.registry_type.as_ref()));
            }
            line("record status", code(h.record_status.as_ref()));
        }
    }
    line(
        "body",
        c.body.as_ref().map_or("-".into(), |b| {
            format!(
                "{} ID {}{}",
                match b.kind {
                    format::BodyKind::NonXml => "nonXMLBody",
                    format::BodyKind::Structured => "structuredBody",
                },
                b.id.as_deref().unwrap_or("-"),
                b.narrative
                    .as_ref()
                    .map_or(String::new(), |n| format!(", narrative {} bytes", n.len()))
            )
        }),
    );
    line(
        "signature",
        c.signature.as_ref().map_or("absent".into(), |s| {
            format!(
                "present, ID {}, timestamp {} = {}, references {}{}",
                s.id.as_deref().unwrap_or("-"),
                s.timestamp_id.as_deref().unwrap_or("-"),
                s.timestamp.as_deref().unwrap_or("-"),
                s.reference_uris.join(" "),
                if s.has_certificate {
                    ", certificate"
                } else {
                    ", no certificate"
                }
            )
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_file_is_an_error_naming_it() {
        let err = run(Args {
            file: "/nonexistent/kantakoe-inspect.xml".into(),
            json: false,
            checks: Default::default(),
        })
        .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "cannot read /nonexistent/kantakoe-inspect.xml: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn exit_codes_and_problem_rendering() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doctype.xml");
        std::fs::write(&path, "<!DOCTYPE a><a/>").unwrap();
        let code = run(Args {
            file: path.clone(),
            json: true,
            checks: Default::default(),
        })
        .unwrap();
        assert_eq!(code, ExitCode::from(2));
        let (read, problems) = format::inspect(b"<!DOCTYPE a><a/>", &Limits::default());
        assert_eq!(exit_code(read.as_ref(), &problems), 2);
        assert_eq!(
            render_text("doctype.xml", read.as_ref(), &problems),
            "file               doctype.xml\nread               no (see problems)\nproblems           1\n  XML_DOCTYPE at /\n    a document type declaration (<!DOCTYPE>) at byte 0; none is allowed\n"
        );
        let json = render_json("doctype.xml", read.as_ref(), &problems).unwrap();
        assert!(json.contains("\"code\": \"XML_DOCTYPE\""), "{json}");
        assert!(json.contains("\"complete\": false"), "{json}");
    }
}
