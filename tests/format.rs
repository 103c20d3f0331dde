//! The format layer against its corpus and the real interop files: the problem list of every
//! bad input under `tests/corpus/` (snapshots), built messages (snapshots), `kantakoe inspect`
//! over the public HUS and social welfare files, and the parse benchmark.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use kanta_profile::format::{self, Inspected, Limits, ProblemCode, Wrapping, codes, hetu::Hetu};
use kantakoe::cmd::inspect::{exit_code, render_json, render_text};
use kantakoe::compose::{
    DocumentTemplate, Frame, MessageValues, ReplacementReason, Replaces, UsageSituation, build_cda,
    build_message, example_values, wrap_cda,
};

/// The corpus runs under the default limits except a 128 KiB size cap, so that the oversized
/// case stays small in the repository.
fn corpus_limits() -> Limits {
    Limits {
        max_bytes: 128 * 1024,
        ..Limits::default()
    }
}

/// What the corpus snapshot shows for one file: what was read, the client identity codes
/// with their reading, and every problem (reader, consistency and test-identity rule).
fn describe(bytes: &[u8]) -> String {
    let (inspected, mut problems) = format::inspect(bytes, &corpus_limits());
    let mut out = String::new();
    let clients = match &inspected {
        None => {
            out.push_str("read: nothing\n");
            vec![]
        }
        Some(Inspected::Message(m)) => {
            problems.extend(format::check_test_identities(m));
            let _ = writeln!(
                out,
                "read: message {} ({:?}), CDA {}",
                m.interaction,
                m.wrapping,
                if m.cda.is_some() { "read" } else { "not read" }
            );
            let mut ids = vec![m.document.record_target.as_ref().and_then(|p| p.id.clone())];
            ids.push(
                m.cda
                    .as_ref()
                    .and_then(|c| c.record_target.as_ref())
                    .and_then(|p| p.id.clone()),
            );
            ids
        }
        Some(Inspected::Document(c)) => {
            out.push_str("read: bare CDA document\n");
            vec![c.record_target.as_ref().and_then(|p| p.id.clone())]
        }
    };
    for id in clients.into_iter().flatten() {
        let ext = id.extension.clone().unwrap_or_default();
        let reading = match Hetu::parse(&ext) {
            Ok(h) => {
                let (y, m, d) = h.birth_date();
                format!(
                    "born {y:04}-{m:02}-{d:02}, individual number {:03}, {}",
                    h.individual_number(),
                    if h.is_test() {
                        "test code"
                    } else {
                        "NOT a test code"
                    }
                )
            }
            Err(e) => format!("invalid: {e}"),
        };
        let _ = writeln!(out, "client: {ext} -> {reading}");
    }
    if problems.is_empty() {
        out.push_str("problems: none\n");
    } else {
        out.push_str("problems:\n");
        for p in &problems {
            let _ = writeln!(out, "- {}\n  at {}\n  {}", p.code, p.location, p.message);
        }
    }
    out
}

#[test]
fn corpus_problem_lists() {
    insta::glob!("corpus/*.xml", |path| {
        let bytes = std::fs::read(path).unwrap();
        insta::assert_snapshot!(describe(&bytes));
    });
}

#[test]
fn corpus_readme_has_one_line_per_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    files.sort();
    for f in &files {
        let lines = readme
            .lines()
            .filter(|l| l.starts_with(&format!("- `{f}`")))
            .count();
        assert_eq!(lines, 1, "README.md must describe {f} on exactly one line");
    }
    let described = readme.lines().filter(|l| l.starts_with("- `")).count();
    assert_eq!(
        described,
        files.len(),
        "README.md describes files that do not exist"
    );
}

/// Each hostile-input case is refused with the named reason, and nothing is read from it.
#[test]
fn hostile_inputs_are_refused_by_name() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (file, code) in [
        ("doctype.xml", ProblemCode::XmlDoctype),
        ("billion-laughs.xml", ProblemCode::XmlEntityDeclaration),
        ("external-entity.xml", ProblemCode::XmlEntityDeclaration),
        ("deep-nesting.xml", ProblemCode::XmlTooDeep),
        ("oversized.xml", ProblemCode::XmlTooLarge),
        ("truncated.xml", ProblemCode::XmlTruncated),
        ("invalid-utf8.xml", ProblemCode::XmlInvalidUtf8),
        ("undefined-entity.xml", ProblemCode::XmlUndefinedEntity),
        ("wrong-namespace.xml", ProblemCode::WrongNamespace),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let (read, problems) = format::inspect(&bytes, &corpus_limits());
        assert!(read.is_none(), "{file} was read");
        let codes: Vec<_> = problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, [code], "{file}");
    }
}

fn example_replacement() -> MessageValues {
    let mut v = example_values();
    v.document_id = "1.2.246.10.99999991.95777.2026.2".to_owned();
    v.version = 2;
    v.replaces = Some(Replaces {
        parent_id: "1.2.246.10.99999991.95777.2026.1".to_owned(),
        parent_version: 1,
        reason: ReplacementReason::Correction,
    });
    v.narrative = "Korjattu: palvelu alkaa 2.3.2026.".to_owned();
    v
}

#[test]
fn built_messages() {
    let t = DocumentTemplate::client_relationship();
    let cda = build_cda(&t, &example_values());
    insta::assert_snapshot!("built_cda_store", cda);
    let store = build_message(&t, &example_values(), Wrapping::Bare, None).unwrap();
    insta::assert_snapshot!(
        "built_message_store_bare",
        String::from_utf8(store.message).unwrap()
    );
    let replace = build_message(&t, &example_replacement(), Wrapping::Soap12, None).unwrap();
    insta::assert_snapshot!(
        "built_message_replace_soap12",
        String::from_utf8(replace.message.clone()).unwrap()
    );
    let (m, problems) = format::inspect(&replace.message, &Limits::default());
    assert_eq!(problems, []);
    insta::assert_snapshot!(
        "built_message_replace_soap12_inspected",
        render_text("replace.xml", m.as_ref(), &problems)
    );
}

fn interop(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/interop")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: the interop vectors live in ../shared/interop beside the checkout",
        path.display()
    );
    path
}

/// `kantakoe inspect` reads both HUS messages completely (exit 0) and the social welfare CDA;
/// the social welfare frame has a placeholder instead of the MIME part (exit 1).
#[test]
fn inspect_reads_the_interop_files() {
    for (name, expected_exit) in [
        ("RCMR_IN100002FI01.xml", 0),
        ("RCMR_IN100016FI01.xml", 0),
        ("social/Asiakkuusasiakirja_S.as-signed.xml", 0),
        ("social/Asiakkuusasiakirja_K.xml", 1),
    ] {
        let bytes = std::fs::read(interop(name)).unwrap();
        let (read, problems) = format::inspect(&bytes, &Limits::default());
        assert_eq!(
            exit_code(read.as_ref(), &problems),
            expected_exit,
            "{name}: {problems:?}"
        );
        let snapshot = format!("inspect_{}", name.replace(['/', '.'], "_"));
        insta::assert_snapshot!(snapshot, render_text(name, read.as_ref(), &problems));
    }
    // The HUS replacement, field by field.
    let bytes = std::fs::read(interop("RCMR_IN100016FI01.xml")).unwrap();
    let (read, _) = format::inspect(&bytes, &Limits::default());
    let Some(Inspected::Message(m)) = read else {
        panic!("not a message")
    };
    let parent = m.document.replaces.as_ref().unwrap();
    assert_eq!(
        parent.id.as_ref().unwrap().root,
        "1.2.246.537.10.15675350.91007.3135.1"
    );
    assert_eq!(m.document.version_number, Some(2));
    let cda = m.cda.as_ref().unwrap();
    assert_eq!(
        cda.header.as_ref().unwrap().kind,
        format::HeaderKind::Patient
    );
    let sig = cda.signature.as_ref().unwrap();
    assert_eq!(sig.reference_uris.len(), 2);
    assert!(sig.has_signature_value && sig.has_certificate);
    assert!(m.cda_bytes.as_ref().unwrap().starts_with(b"<?xml"));
}

/// A message built around the public signed social welfare CDA (with the frame values of the
/// public message frame) reads without problems and carries the CDA byte for byte.
#[test]
fn message_around_the_public_social_welfare_cda() {
    let cda = std::fs::read(interop("social/Asiakkuusasiakirja_S.as-signed.xml")).unwrap();
    let frame = Frame {
        message_id_root: "1.2.246.10.27489432.10.0".to_owned(),
        message_id_extension: Some("10037140046".to_owned()),
        creation_time: "20260717130654+0300".to_owned(),
        sender: "1.2.246.10.32213561.10.0".to_owned(),
        usage_situation: UsageSituation::Own,
        replacement_reason: ReplacementReason::Correction,
    };
    let message = wrap_cda(&cda, &frame, Wrapping::Bare).unwrap();
    let (read, problems) = format::inspect(&message, &Limits::default());
    assert_eq!(problems, []);
    let Some(Inspected::Message(m)) = &read else {
        panic!("not a message")
    };
    assert_eq!(m.cda_bytes.as_deref(), Some(cda.as_slice()));
    assert_eq!(format::check_test_identities(m), []);
    insta::assert_snapshot!(
        "wrapped_public_social_cda_inspected",
        render_text("wrapped S.as-signed", read.as_ref(), &problems)
    );
}

#[test]
fn inspect_json_of_the_hus_store_message() {
    let bytes = std::fs::read(interop("RCMR_IN100002FI01.xml")).unwrap();
    let (read, problems) = format::inspect(&bytes, &Limits::default());
    let json = render_json("RCMR_IN100002FI01.xml", read.as_ref(), &problems).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["complete"], true);
    assert_eq!(value["read"]["kind"], "message");
    assert_eq!(
        value["read"]["document"]["set_id"]["root"],
        "1.2.246.537.10.15675350.10.1.11220.19098"
    );
    assert_eq!(value["read"]["cda"]["body"]["kind"], "Structured");
    assert_eq!(value["problems"], serde_json::json!([]));
}

#[test]
fn code_registry_listing() {
    insta::assert_json_snapshot!("codes_all", codes::ALL);
}

/// The bench fixture is what compose builds for [`bench_values`] (so the benchmark measures a
/// message the archive really receives), and it reads without problems.
fn bench_values() -> MessageValues {
    let mut v = example_values();
    v.narrative = (1..=80)
        .map(|i| {
            format!("Rivi {i}: asiakkaan palvelutarpeen arviointi, kotikäynti ja jatkosuunnitelma.")
        })
        .collect::<Vec<_>>()
        .join("\n");
    v
}

#[test]
fn bench_fixture_is_current_and_parses() {
    let built = build_message(
        &DocumentTemplate::client_relationship(),
        &bench_values(),
        Wrapping::Bare,
        None,
    )
    .unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mock-archive/profile/src/format/testdata/bench-message.xml");
    assert_eq!(
        std::fs::read(&fixture).unwrap(),
        built.message,
        "{} is stale: rebuild it from bench_values()",
        fixture.display()
    );
    assert!((18_000..22_000).contains(&built.message.len()));
    let bench = format::bench_parse(&built.message, 20).unwrap();
    assert_eq!(bench.bytes, built.message.len());
    assert!(bench.messages_per_s > 0.0 && bench.mb_per_s > 0.0);
    let broken = format::bench_parse(b"<a>", 1).unwrap_err();
    assert_eq!(broken[0].code, ProblemCode::XmlTruncated);
}
