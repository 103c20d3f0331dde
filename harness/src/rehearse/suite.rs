//! The bundled suite: the test cases in `testcases/`, compiled into the binary so that
//! `kantakoe rehearse` works from any directory. Each is loaded with the bundled fixture.

use super::case::{self, BUNDLED_FIXTURE, Case, CaseError};

/// The bundled cases: file name and text, in the order they run.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "testcases/yhteystesti.toml",
        include_str!("../../../testcases/yhteystesti.toml"),
    ),
    (
        "testcases/kayttoonottokoe.toml",
        include_str!("../../../testcases/kayttoonottokoe.toml"),
    ),
    (
        "testcases/rekisterinkayttooikeus.toml",
        include_str!("../../../testcases/rekisterinkayttooikeus.toml"),
    ),
];

/// Loads every bundled case.
pub fn bundled() -> Result<Vec<Case>, CaseError> {
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for (file, text) in BUNDLED {
        match case::parse(text, file, &|name| {
            if name == BUNDLED_FIXTURE {
                Ok((
                    mock_archive::BUNDLED_ORGS.to_owned(),
                    mock_archive::BUNDLED_ORGS_NAME.to_owned(),
                ))
            } else {
                Err(format!(
                    "a bundled case can only use the bundled fixture {BUNDLED_FIXTURE}, not {name}"
                ))
            }
        }) {
            Ok(c) => cases.push(c),
            Err(CaseError(p)) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(CaseError(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_case_loads() {
        let cases = bundled().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cases.len(), BUNDLED.len());
        assert!(cases.iter().all(|c| !c.steps.is_empty()));
    }

    #[test]
    fn the_testcases_readme_has_a_line_for_every_bundled_case() {
        let readme = include_str!("../../../testcases/README.md");
        for (file, _) in BUNDLED {
            let name = file.trim_start_matches("testcases/");
            assert!(
                readme.contains(&format!("- `{name}` — ")),
                "testcases/README.md has no line for {name}"
            );
        }
    }
}
