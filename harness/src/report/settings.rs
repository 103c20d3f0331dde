//! The organisation's report settings: a TOML file the user fills once (documented example:
//! `testcases/organisation.example.toml`, bundled into the binary). Every missing or invalid
//! required detail is found in one pass and listed at once, each with `file:line` where the
//! file has a line for it, before anything is written.

use std::fmt;
use std::path::{Path, PathBuf};

use kanta_profile::format::oid::{check_oid, check_ytunnus};
use serde::Deserialize;
use thiserror::Error;
use time::Date;
use toml::Spanned;

use super::email::check_mailbox;

/// The bundled example settings, describing the fixture's provider (test data).
pub const EXAMPLE_SETTINGS: &str = include_str!("../../../testcases/organisation.example.toml");

/// The name under which the bundled example is shown in messages.
pub const EXAMPLE_ORIGIN: &str = "testcases/organisation.example.toml (bundled example)";

/// The settings file used when none is given and it exists in the working directory.
pub const DEFAULT_SETTINGS_FILE: &str = "kantakoe.toml";

/// Where the settings came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsSource {
    /// A file the user wrote.
    File(PathBuf),
    /// The bundled example (test data describing the fixture's provider).
    Example,
}

impl fmt::Display for SettingsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingsSource::File(path) => write!(f, "{}", path.display()),
            SettingsSource::Example => f.write_str(EXAMPLE_ORIGIN),
        }
    }
}

/// The organisation's validated details for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where they were read from.
    pub source: SettingsSource,
    /// The organisation's name.
    pub organisation: String,
    /// Its business ID ("Y-tunnus"), check digit verified.
    pub business_id: String,
    /// The operating unit's ("toimintayksikkö") OID in the SOTE organisation register.
    pub operating_unit_oid: String,
    /// The service units ("palveluyksikkö"), at least one.
    pub service_units: Vec<ServiceUnit>,
    /// The certified product name of the client information system.
    pub system_product: String,
    /// Its version.
    pub system_version: String,
    /// The system vendor.
    pub vendor: String,
    /// The `[test]` details a rehearsal's draft uses; `Some` exactly when the settings were
    /// loaded with a test date (for the real report the real-test record gives them).
    pub test: Option<TestSettings>,
    /// The Kanta archivist ("Kanta-arkistonhoitaja") who checks the results.
    pub archivist_name: String,
    /// The archivist's email address.
    pub archivist_email: String,
    /// The report's From mailbox (`Name <address>` or a bare address).
    pub from: String,
    /// The report's Cc mailboxes.
    pub cc: Vec<String>,
}

/// The settings' `[test]` table, which a rehearsal's draft report uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSettings {
    /// Who ran the test.
    pub run_by: String,
    /// The date real production storing starts.
    pub production_start: Date,
}

/// One service unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUnit {
    /// Its OID in the SOTE organisation register.
    pub oid: String,
    /// Its name.
    pub name: String,
}

/// One missing or invalid detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsProblem {
    /// The 1-based line it is about, when the file has one.
    pub line: Option<usize>,
    /// What is wrong, naming the key.
    pub message: String,
}

/// Why the settings cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The settings file could not be read.
    #[error("cannot read settings file {path}: {source}")]
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
    /// Required details are missing or invalid; all of them are listed.
    #[error("{}", listing(&format!("settings in {origin} are missing or invalid"), origin, problems))]
    Incomplete {
        /// The settings file, as shown.
        origin: String,
        /// Every problem: those with a line in file order, then the keys of absent tables.
        problems: Vec<SettingsProblem>,
    },
}

/// `head (N problems); nothing was written:` and one line per problem, `origin:line: …`.
pub(super) fn listing(head: &str, origin: &str, problems: &[SettingsProblem]) -> String {
    let mut text = format!(
        "{head} ({} problem{}); nothing was written:",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        match p.line {
            Some(line) => text.push_str(&format!("\n  {origin}:{line}: {}", p.message)),
            None => text.push_str(&format!("\n  {origin}: {}", p.message)),
        }
    }
    text
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    organisation: Option<Spanned<RawOrganisation>>,
    system: Option<Spanned<RawSystem>>,
    test: Option<Spanned<RawTest>>,
    archivist: Option<Spanned<RawArchivist>>,
    email: Option<Spanned<RawEmail>>,
}

/// A text value with its position, absent when the key is missing.
pub(super) type Text = Option<Spanned<String>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    name: Text,
    business_id: Text,
    operating_unit_oid: Text,
    #[serde(default)]
    service_unit: Vec<Spanned<RawServiceUnit>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServiceUnit {
    oid: Text,
    name: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSystem {
    product: Text,
    version: Text,
    vendor: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    run_by: Text,
    production_start: Option<Spanned<toml::value::Datetime>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArchivist {
    name: Text,
    email: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    from: Text,
    #[serde(default)]
    cc: Vec<Spanned<String>>,
}

/// Collects problems with their lines while a raw TOML file is checked.
pub(super) struct Check<'a> {
    /// The file's text, for line numbers.
    pub(super) text: &'a str,
    /// What was found so far.
    pub(super) problems: Vec<SettingsProblem>,
}

impl Check<'_> {
    /// Records a problem at byte `offset` (no line when `None`).
    pub(super) fn problem(&mut self, offset: Option<usize>, message: String) {
        let line = offset.map(|o| line_of(self.text, o));
        self.problems.push(SettingsProblem { line, message });
    }

    /// A required text: present and not blank. `table` is the table's start offset, used when
    /// the key is absent.
    pub(super) fn required(
        &mut self,
        value: &Text,
        key: &str,
        what: &str,
        table: Option<usize>,
    ) -> Option<(String, usize)> {
        match value {
            Some(v) if !v.get_ref().trim().is_empty() => {
                Some((v.get_ref().trim().to_owned(), v.span().start))
            }
            Some(v) => {
                self.problem(Some(v.span().start), format!("`{key}` ({what}) is empty"));
                None
            }
            None => {
                self.problem(table, format!("`{key}` ({what}) is missing"));
                None
            }
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Where a table starts (its `[header]`), for details missing from it.
fn table_start<T>(table: &Option<Spanned<T>>) -> Option<usize> {
    table.as_ref().map(|t| t.span().start)
}

impl Settings {
    /// Reads the settings to use: `path` when given; else `./kantakoe.toml` when it exists;
    /// else the bundled example. With a `test_date` (a rehearsal's draft) the `[test]` table is
    /// required and its production start date is checked against it; without one (the real
    /// report, whose record gives these details) the `[test]` table is not used.
    pub fn load(path: Option<&Path>, test_date: Option<Date>) -> Result<Settings, SettingsError> {
        let path = match path {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let default = PathBuf::from(DEFAULT_SETTINGS_FILE);
                default.exists().then_some(default)
            }
        };
        match path {
            Some(path) => {
                let text =
                    std::fs::read_to_string(&path).map_err(|source| SettingsError::Read {
                        path: path.clone(),
                        source,
                    })?;
                Settings::parse(&text, SettingsSource::File(path), test_date)
            }
            None => Settings::parse(EXAMPLE_SETTINGS, SettingsSource::Example, test_date),
        }
    }

    /// Parses and validates settings text from `source`, listing every problem at once
    /// (`test_date`: see [`Settings::load`]).
    pub fn parse(
        text: &str,
        source: SettingsSource,
        test_date: Option<Date>,
    ) -> Result<Settings, SettingsError> {
        let origin = source.to_string();
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let location = match e.span() {
                Some(span) => format!("{origin}:{}", line_of(text, span.start)),
                None => origin.clone(),
            };
            SettingsError::Syntax {
                location,
                message: e.message().trim().to_owned(),
            }
        })?;
        let mut c = Check {
            text,
            problems: Vec::new(),
        };

        // [organisation]
        let org_at = table_start(&raw.organisation);
        // A missing table is read as an empty one, so each of its keys is listed.
        let org_empty = RawOrganisation::default();
        let org = Some(
            raw.organisation
                .as_ref()
                .map_or(&org_empty, |o| o.get_ref()),
        );
        let name = org.and_then(|o| {
            c.required(
                &o.name,
                "organisation.name",
                "the organisation's name",
                org_at,
            )
        });
        let business_id = org.and_then(|o| {
            c.required(
                &o.business_id,
                "organisation.business_id",
                "the business ID, Y-tunnus",
                org_at,
            )
        });
        if let Some((id, at)) = &business_id
            && let Err(e) = check_ytunnus(id)
        {
            c.problem(Some(*at), format!("`organisation.business_id`: {e}"));
        }
        let operating_unit_oid = org.and_then(|o| {
            c.required(
                &o.operating_unit_oid,
                "organisation.operating_unit_oid",
                "the operating unit's OID",
                org_at,
            )
        });
        if let Some((oid, at)) = &operating_unit_oid
            && let Err(e) = check_oid(oid)
        {
            c.problem(Some(*at), format!("`organisation.operating_unit_oid`: {e}"));
        }
        let mut service_units = Vec::new();
        match org {
            Some(o) if o.service_unit.is_empty() => c.problem(
                org_at,
                "no `[[organisation.service_unit]]` (at least one service unit, with `oid` and \
                 `name`)"
                    .to_owned(),
            ),
            Some(o) => {
                for (i, unit) in o.service_unit.iter().enumerate() {
                    let at = Some(unit.span().start);
                    let key = |k: &str| format!("organisation.service_unit[{}].{k}", i + 1);
                    let oid = c.required(
                        &unit.get_ref().oid,
                        &key("oid"),
                        "the service unit's OID",
                        at,
                    );
                    if let Some((oid, oid_at)) = &oid
                        && let Err(e) = check_oid(oid)
                    {
                        c.problem(Some(*oid_at), format!("`{}`: {e}", key("oid")));
                    }
                    let name = c.required(
                        &unit.get_ref().name,
                        &key("name"),
                        "the service unit's name",
                        at,
                    );
                    if let (Some((oid, _)), Some((name, _))) = (oid, name) {
                        service_units.push(ServiceUnit { oid, name });
                    }
                }
            }
            None => {}
        }

        // [system]
        let sys_at = table_start(&raw.system);
        // A missing table is read as an empty one, so each of its keys is listed.
        let sys_empty = RawSystem::default();
        let sys = Some(raw.system.as_ref().map_or(&sys_empty, |s| s.get_ref()));
        let product = sys.and_then(|s| {
            c.required(
                &s.product,
                "system.product",
                "the certified product name",
                sys_at,
            )
        });
        let version =
            sys.and_then(|s| c.required(&s.version, "system.version", "its version", sys_at));
        let vendor =
            sys.and_then(|s| c.required(&s.vendor, "system.vendor", "the system vendor", sys_at));

        // [test], for a rehearsal's draft only.
        let test_at = table_start(&raw.test);
        // A missing table is read as an empty one, so each of its keys is listed.
        let test_empty = RawTest::default();
        let test = test_date.map(|d| (d, raw.test.as_ref().map_or(&test_empty, |t| t.get_ref())));
        let run_by = test
            .and_then(|(_, t)| c.required(&t.run_by, "test.run_by", "who ran the test", test_at));
        let production_start = match test {
            Some((test_date, t)) => match &t.production_start {
                Some(value) => {
                    let at = Some(value.span().start);
                    match toml_date(value.get_ref()) {
                        Some(d) if d < test_date => {
                            c.problem(
                                at,
                                format!(
                                    "`test.production_start` {d} is before the test date {test_date}"
                                ),
                            );
                            None
                        }
                        Some(d) => Some(d),
                        None => {
                            c.problem(
                                at,
                                format!(
                                    "`test.production_start` must be a date like 2026-05-04, not `{}`",
                                    value.get_ref()
                                ),
                            );
                            None
                        }
                    }
                }
                None => {
                    c.problem(
                        test_at,
                        "`test.production_start` (the date real production storing starts) is missing"
                            .to_owned(),
                    );
                    None
                }
            },
            None => None,
        };

        // [archivist]
        let arch_at = table_start(&raw.archivist);
        // A missing table is read as an empty one, so each of its keys is listed.
        let arch_empty = RawArchivist::default();
        let arch = Some(raw.archivist.as_ref().map_or(&arch_empty, |a| a.get_ref()));
        let archivist_name = arch.and_then(|a| {
            c.required(
                &a.name,
                "archivist.name",
                "the Kanta archivist's name",
                arch_at,
            )
        });
        let archivist_email = arch.and_then(|a| {
            c.required(
                &a.email,
                "archivist.email",
                "the archivist's email address",
                arch_at,
            )
        });
        if let Some((email, at)) = &archivist_email
            && let Err(e) = check_mailbox(email)
        {
            c.problem(Some(*at), format!("`archivist.email`: {e}"));
        }

        // [email]
        let mail_at = table_start(&raw.email);
        // A missing table is read as an empty one, so each of its keys is listed.
        let mail_empty = RawEmail::default();
        let mail = Some(raw.email.as_ref().map_or(&mail_empty, |m| m.get_ref()));
        let from =
            mail.and_then(|m| c.required(&m.from, "email.from", "the report's sender", mail_at));
        if let Some((from, at)) = &from
            && let Err(e) = check_mailbox(from)
        {
            c.problem(Some(*at), format!("`email.from`: {e}"));
        }
        let mut cc = Vec::new();
        for (i, entry) in mail
            .map(|m| m.cc.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let value = entry.get_ref().trim();
            match check_mailbox(value) {
                Ok(()) => cc.push(value.to_owned()),
                Err(e) => c.problem(
                    Some(entry.span().start),
                    format!("`email.cc[{}]`: {e}", i + 1),
                ),
            }
        }

        if !c.problems.is_empty() {
            // File order; then the keys of tables the file lacks, in the example's order.
            c.problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
            return Err(SettingsError::Incomplete {
                origin,
                problems: c.problems,
            });
        }
        let take = |v: Option<(String, usize)>| v.map(|(s, _)| s).unwrap_or_default();
        Ok(Settings {
            source,
            organisation: take(name),
            business_id: take(business_id),
            operating_unit_oid: take(operating_unit_oid),
            service_units,
            system_product: take(product),
            system_version: take(version),
            vendor: take(vendor),
            test: match (run_by, production_start) {
                (Some((run_by, _)), Some(production_start)) => Some(TestSettings {
                    run_by,
                    production_start,
                }),
                _ => None,
            },
            archivist_name: take(archivist_name),
            archivist_email: take(archivist_email),
            from: take(from),
            cc,
        })
    }
}

/// A TOML local date (no time, no offset) as a `time::Date`.
pub(super) fn toml_date(value: &toml::value::Datetime) -> Option<Date> {
    if value.time.is_some() || value.offset.is_some() {
        return None;
    }
    let d = value.date?;
    let month = time::Month::try_from(d.month).ok()?;
    Date::from_calendar_date(i32::from(d.year), month, d.day).ok()
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    const TEST_DATE: Date = date!(2026 - 03 - 02);

    #[test]
    fn the_bundled_example_is_complete() {
        let s =
            Settings::parse(EXAMPLE_SETTINGS, SettingsSource::Example, Some(TEST_DATE)).unwrap();
        assert!(s.test.is_some());
        assert_eq!(s.operating_unit_oid, "2.999.5851.2.1");
        assert_eq!(s.business_id, "9990001-6");
        assert_eq!(s.service_units.len(), 2);
        assert!(s.organisation.contains("TESTIAINEISTO"));
    }

    #[test]
    fn the_real_report_needs_no_test_table() {
        let start = EXAMPLE_SETTINGS.find("[test]").unwrap();
        let end = EXAMPLE_SETTINGS.find("[archivist]").unwrap();
        let text = format!("{}{}", &EXAMPLE_SETTINGS[..start], &EXAMPLE_SETTINGS[end..]);
        let source = SettingsSource::File("kantakoe.toml".into());
        let s = Settings::parse(&text, source.clone(), None).unwrap();
        assert_eq!(s.test, None);
        let err = Settings::parse(&text, source, Some(TEST_DATE)).unwrap_err();
        assert!(
            err.to_string()
                .contains("kantakoe.toml: `test.run_by` (who ran the test) is missing"),
            "{err}"
        );
    }

    #[test]
    fn every_missing_detail_is_listed_at_once() {
        let text = "\
[organisation]
name = \"Hoiva Oy\"
business_id = \"0246246-1\"

[system]
product = \"\"
version = \"1.0\"

[archivist]
name = \"Arkisto Hoitaja\"
email = \"not an address\"
";
        let err = Settings::parse(
            text,
            SettingsSource::File("kantakoe.toml".into()),
            Some(TEST_DATE),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "settings in kantakoe.toml are missing or invalid (9 problems); nothing was written:
  kantakoe.toml:1: `organisation.operating_unit_oid` (the operating unit's OID) is missing
  kantakoe.toml:1: no `[[organisation.service_unit]]` (at least one service unit, with `oid` and `name`)
  kantakoe.toml:3: `organisation.business_id`: business ID `0246246-1` has check digit 1, expected 0
  kantakoe.toml:5: `system.vendor` (the system vendor) is missing
  kantakoe.toml:6: `system.product` (the certified product name) is empty
  kantakoe.toml:11: `archivist.email`: `not an address` is not an email address (Invalid input)
  kantakoe.toml: `test.run_by` (who ran the test) is missing
  kantakoe.toml: `test.production_start` (the date real production storing starts) is missing
  kantakoe.toml: `email.from` (the report's sender) is missing"
        );
    }
}
