//! The record of the real deployment test, which the archivist fills in after the test in
//! Kanta's production environment (`kantakoe report --real-test FILE`; documented example:
//! `testcases/real-test.example.toml`). The real report to Kela is made from it and the
//! organisation's settings; what Kantakoe rehearses never is.
//!
//! The record says when the test was made, with which of Kela's test cases, who ran it, each
//! step and that it was done and confirmed in Kanta's archivist user interface, and when real
//! production storing starts. Every missing or invalid detail is found in one pass and listed
//! at once with `file:line`, like the settings.
//!
//! \[conv\] The record's fields are this project's convention, chosen from what the seeds say
//! the report must state; Kela's own report template is not public here.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;
use time::Date;
use toml::Spanned;

use super::settings::{Check, SettingsProblem, Text, line_of, listing, toml_date};

/// The marker the bundled example's values carry; a record that still holds one is test data
/// and is never submitted.
pub const TEST_DATA_MARKER: &str = "TESTIAINEISTO";

/// The real deployment test, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealTest {
    /// The file it was read from.
    pub file: PathBuf,
    /// The day of the test.
    pub date: Date,
    /// Kela's test case, as Kela named it.
    pub case: String,
    /// Who ran the test.
    pub run_by: String,
    /// The date real production storing starts.
    pub production_start: Date,
    /// The steps, in order; each was done and confirmed in the archivist user interface.
    pub steps: Vec<RealStep>,
    /// Whether a value still carries [`TEST_DATA_MARKER`] (the example's test data).
    pub test_data: bool,
}

/// One step of the real test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealStep {
    /// What was done, in the archivist's words.
    pub title: String,
    /// An optional remark.
    pub note: Option<String>,
}

/// Why the record cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RealTestError {
    /// The file could not be read.
    #[error("cannot read real-test record {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not TOML, has an unknown key or a value of the wrong type.
    #[error("{location}: {message}")]
    Syntax {
        /// `file:line` of the fault.
        location: String,
        /// The TOML reader's message.
        message: String,
    },
    /// Details are missing or invalid; all of them are listed.
    #[error("{}", listing(&format!("real-test record {origin} is incomplete or invalid"), origin, problems))]
    Incomplete {
        /// The file, as shown.
        origin: String,
        /// Every problem, in file order, then those without a line.
        problems: Vec<SettingsProblem>,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    test: Option<Spanned<RawTest>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    date: Option<Spanned<toml::value::Datetime>>,
    case: Text,
    run_by: Text,
    production_start: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    title: Text,
    done: Option<Spanned<bool>>,
    confirmed: Option<Spanned<bool>>,
    note: Text,
}

/// A required date: present and a plain date (`2026-12-01`).
fn required_date(
    c: &mut Check<'_>,
    value: &Option<Spanned<toml::value::Datetime>>,
    key: &str,
    what: &str,
    table: Option<usize>,
) -> Option<Date> {
    match value {
        Some(v) => {
            let date = toml_date(v.get_ref());
            if date.is_none() {
                c.problem(
                    Some(v.span().start),
                    format!(
                        "`{key}` must be a date like 2026-12-01, not `{}`",
                        v.get_ref()
                    ),
                );
            }
            date
        }
        None => {
            c.problem(table, format!("`{key}` ({what}) is missing"));
            None
        }
    }
}

/// A step's yes/no that must be `true`.
fn must_be_true(
    c: &mut Check<'_>,
    value: &Option<Spanned<bool>>,
    key: &str,
    missing: &str,
    not_true: &str,
    at: Option<usize>,
) {
    match value {
        Some(v) if *v.get_ref() => {}
        Some(v) => c.problem(
            Some(v.span().start),
            format!("`{key}` is false: {not_true}"),
        ),
        None => c.problem(at, format!("`{key}` ({missing}) is missing")),
    }
}

impl RealTest {
    /// Reads and validates the record in `path`; `today` bounds the test date.
    pub fn load(path: &Path, today: Date) -> Result<RealTest, RealTestError> {
        let text = std::fs::read_to_string(path).map_err(|source| RealTestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        RealTest::parse(&text, path, today)
    }

    /// Parses and validates record text from `path`, listing every problem at once.
    pub fn parse(text: &str, path: &Path, today: Date) -> Result<RealTest, RealTestError> {
        let origin = path.display().to_string();
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let location = match e.span() {
                Some(span) => format!("{origin}:{}", line_of(text, span.start)),
                None => origin.clone(),
            };
            RealTestError::Syntax {
                location,
                message: e.message().trim().to_owned(),
            }
        })?;
        let mut c = Check {
            text,
            problems: Vec::new(),
        };

        let test_at = raw.test.as_ref().map(|t| t.span().start);
        let empty = RawTest::default();
        let test = raw.test.as_ref().map_or(&empty, |t| t.get_ref());
        let date = required_date(
            &mut c,
            &test.date,
            "test.date",
            "the day of the real test",
            test_at,
        );
        if let (Some(d), Some(v)) = (date, &test.date)
            && d > today
        {
            c.problem(
                Some(v.span().start),
                format!(
                    "`test.date` {d} is in the future (today is {today}); the report is made \
                     after the real test"
                ),
            );
        }
        let case = c.required(
            &test.case,
            "test.case",
            "Kela's test case, as Kela named it",
            test_at,
        );
        let run_by = c.required(&test.run_by, "test.run_by", "who ran the test", test_at);
        let production_start = required_date(
            &mut c,
            &test.production_start,
            "test.production_start",
            "the date real production storing starts",
            test_at,
        );
        if let (Some(start), Some(d), Some(v)) = (production_start, date, &test.production_start)
            && start < d
        {
            c.problem(
                Some(v.span().start),
                format!("`test.production_start` {start} is before the test date {d}"),
            );
        }

        let mut steps = Vec::new();
        if raw.step.is_empty() {
            c.problem(
                None,
                "no `[[step]]` (each step of Kela's test case, with `title`, `done = true` and \
                 `confirmed = true`)"
                    .to_owned(),
            );
        }
        for (i, step) in raw.step.iter().enumerate() {
            let at = Some(step.span().start);
            let key = |k: &str| format!("step[{}].{k}", i + 1);
            let s = step.get_ref();
            let title = c.required(&s.title, &key("title"), "what the step did", at);
            must_be_true(
                &mut c,
                &s.done,
                &key("done"),
                "whether the step was done",
                "only a successful test is reported to Kela, and every step must have been done",
                at,
            );
            must_be_true(
                &mut c,
                &s.confirmed,
                &key("confirmed"),
                "whether the archivist confirmed it in Kanta's archivist user interface",
                "every step must be confirmed in Kanta's archivist user interface before the \
                 report",
                at,
            );
            let note = s
                .note
                .as_ref()
                .map(|n| n.get_ref().trim().to_owned())
                .filter(|n| !n.is_empty());
            if let Some((title, _)) = title {
                steps.push(RealStep { title, note });
            }
        }

        if !c.problems.is_empty() {
            c.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
            return Err(RealTestError::Incomplete {
                origin,
                problems: c.problems,
            });
        }
        let take = |v: Option<(String, usize)>| v.map(|(s, _)| s).unwrap_or_default();
        let (case, run_by) = (take(case), take(run_by));
        let test_data = [&case, &run_by]
            .into_iter()
            .chain(steps.iter().map(|s| &s.title))
            .any(|v| v.contains(TEST_DATA_MARKER));
        match (date, production_start) {
            (Some(date), Some(production_start)) => Ok(RealTest {
                file: path.to_path_buf(),
                date,
                case,
                run_by,
                production_start,
                steps,
                test_data,
            }),
            _ => unreachable!("a missing date is a problem above"),
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const EXAMPLE: &str = include_str!("../../../testcases/real-test.example.toml");

    #[test]
    fn the_bundled_example_is_complete_and_marked_as_test_data() {
        let r = RealTest::parse(
            EXAMPLE,
            Path::new("real-test.example.toml"),
            date!(2026 - 12 - 31),
        )
        .unwrap();
        assert!(r.test_data);
        assert!(r.steps.len() >= 5, "{r:?}");
        assert!(r.production_start >= r.date);
    }

    #[test]
    fn a_future_test_date_is_refused() {
        let text = EXAMPLE.replace("date = 2026-12-01", "date = 2027-01-04");
        let err = RealTest::parse(&text, Path::new("r.toml"), date!(2026 - 12 - 31)).unwrap_err();
        assert!(
            err.to_string().contains(
                "`test.date` 2027-01-04 is in the future (today is 2026-12-31); the report is \
                 made after the real test"
            ),
            "{err}"
        );
    }
}
