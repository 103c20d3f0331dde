//! What a rehearsal leaves behind: the results table for people, `results.json` for scripts
//! and the report, and `junit.xml` (one testcase per step) for CI.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::results::{Actor, Outcome, RunResults, StepResult, ack_text};

/// The file names written into the output directory.
pub const RESULTS_JSON: &str = "results.json";
/// JUnit XML.
pub const JUNIT_XML: &str = "junit.xml";

fn actual_text(step: &StepResult) -> String {
    step.actual
        .as_ref()
        .map(|a| ack_text(&a.ack, &a.codes))
        .unwrap_or_else(|| "—".to_owned())
}

/// The results table and, under it, every failure with its case and step.
pub fn table(results: &RunResults) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "case".into(),
        "step".into(),
        "actor".into(),
        "expected".into(),
        "actual".into(),
        "result".into(),
    ]];
    for case in &results.cases {
        for step in &case.steps {
            rows.push([
                case.id.clone(),
                step.id.clone(),
                match step.actor {
                    Actor::Reference => "reference".into(),
                    Actor::YourSystem => "your system".into(),
                },
                ack_text(&step.expected.ack, &step.expected.codes),
                actual_text(step),
                step.outcome.as_str().to_owned(),
            ]);
        }
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            let _ = writeln!(out, "{}", rule.join("  "));
        }
    }
    let s = &results.summary;
    let _ = writeln!(
        out,
        "\n{} steps: {} passed, {} failed, {} skipped{}",
        s.steps,
        s.passed,
        s.failed,
        s.skipped,
        if results.strays.is_empty() {
            String::new()
        } else {
            format!(", {} stray submissions", results.strays.len())
        }
    );
    for case in &results.cases {
        for step in case.steps.iter().filter(|s| s.outcome != Outcome::Passed) {
            for f in &step.failures {
                let _ = writeln!(out, "{} / {}: {f}", case.id, step.id);
            }
        }
    }
    for stray in &results.strays {
        let _ = writeln!(
            out,
            "stray submission: message {} (document {}) matched no step: {}",
            stray.message_id.as_deref().unwrap_or("?"),
            stray.document_id.as_deref().unwrap_or("?"),
            stray.outcome
        );
    }
    out
}

/// JUnit XML: one `testsuite` per case, one `testcase` per step; failed and timed-out steps
/// carry a `failure`, skipped ones `skipped`. Stray submissions form a testsuite of their own.
pub fn junit(results: &RunResults) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let write = |w: &mut Writer<Vec<u8>>, e: Event<'_>| {
        w.write_event(e).expect("writing to a Vec cannot fail");
    };
    write(
        &mut w,
        Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)),
    );
    let s = &results.summary;
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "kantakoe rehearse"));
    root.push_attribute((
        "tests",
        (s.steps + results.strays.len()).to_string().as_str(),
    ));
    root.push_attribute((
        "failures",
        (s.failed + results.strays.len()).to_string().as_str(),
    ));
    root.push_attribute(("skipped", s.skipped.to_string().as_str()));
    write(&mut w, Event::Start(root));
    for case in &results.cases {
        let failed = case
            .steps
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Failed | Outcome::TimedOut))
            .count();
        let skipped = case
            .steps
            .iter()
            .filter(|s| s.outcome == Outcome::Skipped)
            .count();
        let secs: u64 = case.steps.iter().map(|s| s.duration_ms).sum();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", case.id.as_str()));
        suite.push_attribute(("tests", case.steps.len().to_string().as_str()));
        suite.push_attribute(("failures", failed.to_string().as_str()));
        suite.push_attribute(("skipped", skipped.to_string().as_str()));
        suite.push_attribute(("time", seconds(secs).as_str()));
        write(&mut w, Event::Start(suite));
        for step in &case.steps {
            let mut tc = BytesStart::new("testcase");
            tc.push_attribute(("classname", case.id.as_str()));
            tc.push_attribute(("name", format!("{}: {}", step.id, step.title_fi).as_str()));
            tc.push_attribute(("time", seconds(step.duration_ms).as_str()));
            match step.outcome {
                Outcome::Passed => write(&mut w, Event::Empty(tc)),
                Outcome::Skipped => {
                    write(&mut w, Event::Start(tc));
                    let mut sk = BytesStart::new("skipped");
                    sk.push_attribute(("message", step.failures.join("; ").as_str()));
                    write(&mut w, Event::Empty(sk));
                    write(&mut w, Event::End(BytesEnd::new("testcase")));
                }
                Outcome::Failed | Outcome::TimedOut => {
                    write(&mut w, Event::Start(tc));
                    let mut f = BytesStart::new("failure");
                    f.push_attribute((
                        "message",
                        step.failures.first().map(String::as_str).unwrap_or(""),
                    ));
                    f.push_attribute(("type", step.outcome.as_str()));
                    write(&mut w, Event::Start(f));
                    let text = format!(
                        "expected: {}\nactual: {}\n{}",
                        ack_text(&step.expected.ack, &step.expected.codes),
                        actual_text(step),
                        step.failures.join("\n")
                    );
                    write(&mut w, Event::Text(BytesText::new(&text)));
                    write(&mut w, Event::End(BytesEnd::new("failure")));
                    write(&mut w, Event::End(BytesEnd::new("testcase")));
                }
            }
        }
        write(&mut w, Event::End(BytesEnd::new("testsuite")));
    }
    if !results.strays.is_empty() {
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", "stray-submissions"));
        suite.push_attribute(("tests", results.strays.len().to_string().as_str()));
        suite.push_attribute(("failures", results.strays.len().to_string().as_str()));
        write(&mut w, Event::Start(suite));
        for stray in &results.strays {
            let mut tc = BytesStart::new("testcase");
            tc.push_attribute(("classname", "stray-submissions"));
            tc.push_attribute((
                "name",
                stray.message_id.as_deref().unwrap_or("unknown message"),
            ));
            write(&mut w, Event::Start(tc));
            let mut f = BytesStart::new("failure");
            f.push_attribute(("message", "a submission arrived that matches no step"));
            write(&mut w, Event::Start(f));
            write(&mut w, Event::Text(BytesText::new(&stray.outcome)));
            write(&mut w, Event::End(BytesEnd::new("failure")));
            write(&mut w, Event::End(BytesEnd::new("testcase")));
        }
        write(&mut w, Event::End(BytesEnd::new("testsuite")));
    }
    write(&mut w, Event::End(BytesEnd::new("testsuites")));
    let mut text = String::from_utf8(w.into_inner()).expect("the writer writes UTF-8");
    text.push('\n');
    text
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Writes `results.json` and `junit.xml` into `dir` (created if missing); returns their paths.
pub fn write(results: &RunResults, dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let json = dir.join(RESULTS_JSON);
    let mut text = serde_json::to_string_pretty(results).map_err(io::Error::other)?;
    text.push('\n');
    std::fs::write(&json, text)?;
    let junit_path = dir.join(JUNIT_XML);
    std::fs::write(&junit_path, junit(results))?;
    Ok((json, junit_path))
}
