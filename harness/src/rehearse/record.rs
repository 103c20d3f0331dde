//! `rehearse --sut --record DIR`: keeps your system's judged submissions (the bytes the archive
//! received, the step, the verdict) as a test case, `DIR/case.toml`, that `rehearse --case
//! DIR/case.toml --pki <the same PKI>` replays verbatim with the reference client: today's
//! passing run becomes a regression test. Each message is embedded in the case (base64, so the
//! bytes stay exact) and also written beside it as `<case>-<step>.xml` for people to read.

use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use serde::Serialize;

use crate::pki::{Pki, Role};
use crate::rehearse::case::{Case, Expect, Text};
use crate::results::{ActualAck, ack_text};

/// One judged submission of your system.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The case's id.
    pub case: String,
    /// The step's id.
    pub step: String,
    /// The step's title.
    pub title: Text,
    /// The request's `Content-Type`.
    pub content_type: String,
    /// The PKI role whose TLS certificate sent it.
    pub tls: Role,
    /// The bytes the archive received.
    pub body: Vec<u8>,
    /// What the step expected.
    pub expect: Expect,
    /// What the archive answered.
    pub actual: Option<ActualAck>,
}

#[derive(Serialize)]
struct FileCase {
    title: FileText,
    fixture: String,
    step: Vec<FileStep>,
}

#[derive(Serialize)]
struct FileText {
    fi: String,
    sv: String,
}

#[derive(Serialize)]
struct FileStep {
    id: String,
    title: FileText,
    replay: FileReplay,
    expect: FileExpect,
}

#[derive(Serialize)]
struct FileReplay {
    content_type: String,
    tls: String,
    message_base64: String,
}

#[derive(Serialize)]
struct FileExpect {
    ack: String,
    codes: Vec<String>,
}

/// The name of the recorded case in `DIR`.
pub const CASE_FILE: &str = "case.toml";
/// The name of the fixture copied beside it.
pub const FIXTURE_FILE: &str = "orgs.toml";

/// Writes `DIR/case.toml`, the fixture and a readable copy of each message.
pub fn write(dir: &Path, cases: &[Case], recorded: &[Recorded], pki: &Pki) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot make the recording folder {}", dir.display()))?;
    let Some(first) = cases.first() else {
        return Ok(());
    };
    std::fs::write(dir.join(FIXTURE_FILE), &first.fixture_text)
        .with_context(|| format!("cannot write {}", dir.join(FIXTURE_FILE).display()))?;
    let several = cases.len() > 1;
    let mut steps = Vec::new();
    for r in recorded {
        let id = if several {
            format!("{}-{}", r.case, r.step)
        } else {
            r.step.clone()
        };
        let readable = dir.join(format!("{}-{}.xml", r.case, r.step));
        std::fs::write(&readable, &r.body)
            .with_context(|| format!("cannot write {}", readable.display()))?;
        steps.push(FileStep {
            id,
            title: FileText {
                fi: r.title.fi.clone(),
                sv: r.title.sv.clone(),
            },
            replay: FileReplay {
                content_type: r.content_type.clone(),
                tls: r.tls.stem().to_owned(),
                message_base64: base64::engine::general_purpose::STANDARD.encode(&r.body),
            },
            expect: FileExpect {
                ack: r.expect.ack.clone(),
                codes: r.expect.codes.clone(),
            },
        });
    }
    let file = FileCase {
        title: FileText {
            fi: format!("Tallennettu ajo: {}", first.title.fi),
            sv: format!("Inspelad körning: {}", first.title.sv),
        },
        fixture: FIXTURE_FILE.to_owned(),
        step: steps,
    };
    let mut text = format!(
        "# Recorded by `kantakoe rehearse --sut --record`: your system's submissions, replayed\n\
         # byte for byte by the reference client with\n\
         #   kantakoe rehearse --case {} --pki {}\n\
         # (the same PKI: the messages are signed with its certificates).\n",
        dir.join(CASE_FILE).display(),
        pki.dir().display()
    );
    for r in recorded {
        text.push_str(&format!(
            "# {} / {}: expected {}, the archive answered {}\n",
            r.case,
            r.step,
            ack_text(&r.expect.ack, &r.expect.codes),
            r.actual
                .as_ref()
                .map_or("nothing".to_owned(), |a| ack_text(&a.ack, &a.codes))
        ));
    }
    text.push('\n');
    text.push_str(&toml::to_string(&file).context("cannot write the recorded case as TOML")?);
    let path = dir.join(CASE_FILE);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
