//! What a rehearsal leaves behind: the results table for people, `results.json` for scripts
//! and the report, and `junit.xml` (one testcase per step) for CI.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::results::{Outcome, RunResults, StepResult, ack_text};

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

/// The results table, fitted to `width` columns when given (cells cut with `…`; the full
/// texts are in the failure details under the table), and under it every failure, attempt and
/// stray with its case and step.
pub fn table(results: &RunResults, width: Option<usize>) -> String {
    let header = ["case", "step", "sent by", "expected", "actual", "result"];
    let mut rows: Vec<[String; 6]> = vec![header.map(str::to_owned)];
    for case in &results.cases {
        for step in &case.steps {
            rows.push([
                case.id.clone(),
                step.id.clone(),
                step.sent_by.short().to_owned(),
                ack_text(&step.expected.ack, &step.expected.codes),
                actual_text(step),
                step.outcome.as_str().to_owned(),
            ]);
        }
    }
    let mut widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    if let Some(max) = width {
        fit(&mut widths, max, &header);
    }
    let mut out = String::new();
    for line in wrap(&format!("mode: {}", results.mode.describe()), width) {
        let _ = writeln!(out, "{line}");
    }
    for (n, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let c = cut(c, *w);
                let pad = w.saturating_sub(c.chars().count());
                format!("{c}{}", " ".repeat(pad))
            })
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
        "\n{} steps: {} passed, {} failed, {} skipped{}{}",
        s.steps,
        s.passed,
        s.failed,
        s.skipped,
        if s.errors == 0 {
            String::new()
        } else {
            format!(", {} environment errors", s.errors)
        },
        if results.strays.is_empty() {
            String::new()
        } else {
            format!(", {} stray submissions", results.strays.len())
        }
    );
    if let Some(why) = &results.stopped {
        let _ = writeln!(out, "the run stopped: {why}");
    }
    for case in &results.cases {
        for step in &case.steps {
            for a in &step.attempts {
                let _ = writeln!(
                    out,
                    "{} / {}: an earlier submission ({}) did not count: {}",
                    case.id, step.id, a.at, a.failure
                );
            }
            if step.outcome == Outcome::Passed {
                continue;
            }
            for f in &step.failures {
                let _ = writeln!(out, "{} / {}: {f}", case.id, step.id);
            }
        }
    }
    for stray in &results.strays {
        let _ = writeln!(
            out,
            "stray submission: message {} (document {}): {}; {}",
            stray.message_id.as_deref().unwrap_or("?"),
            stray.document_id.as_deref().unwrap_or("?"),
            stray.outcome,
            stray.reason
        );
    }
    out
}

/// Narrows the widest columns until the row fits `max` (two spaces between columns), never
/// below a column's header.
fn fit(widths: &mut [usize], max: usize, header: &[&str; 6]) {
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * (w.len() - 1);
    while total(widths) > max {
        let Some((i, _)) = widths
            .iter()
            .enumerate()
            .filter(|(i, w)| **w > header[*i].chars().count().max(6))
            .max_by_key(|(_, w)| **w)
        else {
            return;
        };
        widths[i] -= 1;
    }
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays
/// whole), continuation lines indented by two spaces.
fn wrap(text: &str, width: Option<usize>) -> Vec<String> {
    let Some(width) = width else {
        return vec![text.to_owned()];
    };
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, "  ".to_owned()));
        } else if len > 0 && !line.trim().is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// `text` cut to `width` characters, ending in `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// JUnit XML, valid against the widely used `junit-10.xsd` (Jenkins xUnit): one `testsuite`
/// per case with the run's mode and archive as properties, one `testcase` per step named with
/// who actually sent it; failed and timed-out steps carry a `failure`, environment errors an
/// `error`, skipped ones `skipped`. Stray submissions form a testsuite of their own.
pub fn junit(results: &RunResults) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let write = |w: &mut Writer<Vec<u8>>, e: Event<'_>| {
        w.write_event(e).expect("writing to a Vec cannot fail");
    };
    let element = |w: &mut Writer<Vec<u8>>, name: &str, attrs: &[(&str, &str)], text: &str| {
        let mut start = BytesStart::new(name);
        for a in attrs {
            start.push_attribute(*a);
        }
        w.write_event(Event::Start(start))
            .expect("writing to a Vec cannot fail");
        w.write_event(Event::Text(BytesText::new(text)))
            .expect("writing to a Vec cannot fail");
        w.write_event(Event::End(BytesEnd::new(name)))
            .expect("writing to a Vec cannot fail");
    };
    write(
        &mut w,
        Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)),
    );
    let s = &results.summary;
    let total_ms: u64 = results
        .cases
        .iter()
        .flat_map(|c| &c.steps)
        .map(|s| s.duration_ms)
        .sum();
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
    root.push_attribute(("errors", s.errors.to_string().as_str()));
    root.push_attribute(("time", seconds(total_ms).as_str()));
    write(&mut w, Event::Start(root));
    let count = |case: &crate::results::CaseResult, f: &dyn Fn(Outcome) -> bool| {
        case.steps.iter().filter(|s| f(s.outcome)).count()
    };
    for case in &results.cases {
        let failed = count(case, &|o| matches!(o, Outcome::Failed | Outcome::TimedOut));
        let errors = count(case, &|o| o == Outcome::Error);
        let skipped = count(case, &|o| o == Outcome::Skipped);
        let ms: u64 = case.steps.iter().map(|s| s.duration_ms).sum();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", case.id.as_str()));
        suite.push_attribute(("tests", case.steps.len().to_string().as_str()));
        suite.push_attribute(("failures", failed.to_string().as_str()));
        suite.push_attribute(("errors", errors.to_string().as_str()));
        suite.push_attribute(("skipped", skipped.to_string().as_str()));
        suite.push_attribute(("time", seconds(ms).as_str()));
        write(&mut w, Event::Start(suite));
        write(&mut w, Event::Start(BytesStart::new("properties")));
        for (name, value) in [
            ("mode", results.mode.as_str()),
            ("mode.description", results.mode.describe()),
            ("archive", results.archive.url.as_str()),
        ] {
            let mut p = BytesStart::new("property");
            p.push_attribute(("name", name));
            p.push_attribute(("value", value));
            write(&mut w, Event::Empty(p));
        }
        write(&mut w, Event::End(BytesEnd::new("properties")));
        for step in &case.steps {
            let mut tc = BytesStart::new("testcase");
            tc.push_attribute(("classname", case.id.as_str()));
            tc.push_attribute((
                "name",
                format!(
                    "{}: {} (sent by {})",
                    step.id,
                    step.title_fi,
                    step.sent_by.as_str()
                )
                .as_str(),
            ));
            tc.push_attribute(("time", seconds(step.duration_ms).as_str()));
            write(&mut w, Event::Start(tc));
            let first = step.failures.first().map(String::as_str).unwrap_or("");
            let detail = format!(
                "expected: {}\nactual: {}\n{}",
                ack_text(&step.expected.ack, &step.expected.codes),
                actual_text(step),
                step.failures.join("\n")
            );
            match step.outcome {
                Outcome::Passed => {}
                Outcome::Skipped => {
                    let mut sk = BytesStart::new("skipped");
                    sk.push_attribute(("message", step.failures.join("; ").as_str()));
                    write(&mut w, Event::Empty(sk));
                }
                Outcome::Failed | Outcome::TimedOut => element(
                    &mut w,
                    "failure",
                    &[("message", first), ("type", step.outcome.as_str())],
                    &detail,
                ),
                Outcome::Error => element(
                    &mut w,
                    "error",
                    &[("message", first), ("type", "environment")],
                    &detail,
                ),
            }
            let mut out = format!("sent by {}\n", step.sent_by.as_str());
            for a in &step.attempts {
                let _ = writeln!(
                    out,
                    "earlier submission at {}: {}: {}",
                    a.at,
                    ack_text(&a.actual.ack, &a.actual.codes),
                    a.failure
                );
            }
            for o in &step.outages {
                let _ = writeln!(
                    out,
                    "service break at {}: {} with Retry-After {} s; waited {} ms and sent the same message again",
                    o.at, o.answer, o.retry_after, o.waited_ms
                );
            }
            element(&mut w, "system-out", &[], &out);
            write(&mut w, Event::End(BytesEnd::new("testcase")));
        }
        write(&mut w, Event::End(BytesEnd::new("testsuite")));
    }
    if !results.strays.is_empty() {
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", "stray-submissions"));
        suite.push_attribute(("tests", results.strays.len().to_string().as_str()));
        suite.push_attribute(("failures", results.strays.len().to_string().as_str()));
        suite.push_attribute(("errors", "0"));
        write(&mut w, Event::Start(suite));
        for stray in &results.strays {
            let mut tc = BytesStart::new("testcase");
            tc.push_attribute(("classname", "stray-submissions"));
            tc.push_attribute((
                "name",
                stray.message_id.as_deref().unwrap_or("unknown message"),
            ));
            write(&mut w, Event::Start(tc));
            element(
                &mut w,
                "failure",
                &[("message", stray.reason.as_str())],
                &stray.outcome,
            );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_cut_with_an_ellipsis_only_when_too_long() {
        assert_eq!(cut("AE [R2-NOT-ORGANISER]", 8), "AE [R2-…");
        assert_eq!(cut("AA", 8), "AA");
        assert_eq!(cut("ääkköset", 8), "ääkköset");
    }

    #[test]
    fn the_widest_columns_narrow_until_the_row_fits_but_never_below_the_header() {
        let header = ["case", "step", "sent by", "expected", "actual", "result"];
        let mut widths = vec![15, 20, 24, 40, 60, 11];
        fit(&mut widths, 100, &header);
        assert!(widths.iter().sum::<usize>() + 10 <= 100, "{widths:?}");
        assert_eq!(widths[0], 15, "narrow columns keep their width: {widths:?}");
        let mut tiny = vec![15, 20, 24, 40, 60, 11];
        fit(&mut tiny, 10, &header);
        assert_eq!(tiny, vec![6, 6, 7, 8, 6, 6], "floors: the header or 6");
    }

    #[test]
    fn long_lines_wrap_at_spaces_with_an_indent() {
        assert_eq!(
            wrap("mode: one two three four", Some(12)),
            vec!["mode: one", "  two three", "  four"]
        );
        assert_eq!(wrap("mode: x", None), vec!["mode: x"]);
    }
}
