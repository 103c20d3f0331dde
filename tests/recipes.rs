//! The vendors' CI recipes (`docs/ci/`): their one script runs here against a stand-in vendor
//! system (`standin/vendor_system.rs`), and both YAML files are checked against the public
//! workflow schemas (check-jsonschema's vendored copies, so offline).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use kantakoe::report::DRAFT_FILE;
use kantakoe::results::{Outcome, RunResults};

use crate::support::{bin, python};

fn workspace() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).to_path_buf()
}

/// `docs/ci/rehearse-sut.sh` in `dir` with the test-built programs, the recipe test case and
/// `sut` as the vendor's system.
fn recipe(dir: &Path, sut: Option<&str>, step_timeout: &str) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(workspace().join("docs/ci/rehearse-sut.sh"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("KANTAKOE", bin("kantakoe"))
        .env("MOCK_ARCHIVE", bin("mock-archive"))
        .env(
            "KANTAKOE_CASES",
            workspace().join("tests/cases/ci-recipe.toml"),
        )
        .env("KANTAKOE_STEP_TIMEOUT", step_timeout)
        .env_remove("KANTAKOE_OUT")
        .env_remove("KANTAKOE_SUT_COMMAND");
    if let Some(sut) = sut {
        cmd.env("KANTAKOE_SUT_COMMAND", sut);
    }
    cmd.output().expect("bash runs the recipe script")
}

fn results(out: &Path) -> RunResults {
    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json parses")
}

fn outcomes(results: &RunResults) -> Vec<Outcome> {
    results.cases[0].steps.iter().map(|s| s.outcome).collect()
}

#[test]
fn the_recipe_script_rehearses_a_stand_in_vendor_system_and_leaves_the_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let output = recipe(
        dir.path(),
        Some(env!("CARGO_BIN_EXE_it-vendor-system")),
        "60",
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("rehearse-sut: mock archive at https://localhost:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  | stand-in vendor system: submitted, HTTP 200"),
        "{stdout}"
    );
    let out = dir.path().join("out");
    let results = results(&out);
    assert_eq!(
        outcomes(&results),
        vec![Outcome::Passed, Outcome::Passed],
        "{stdout}"
    );
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 2, "{junit}");
    assert!(!junit.contains("<failure"), "{junit}");
    assert!(out.join(DRAFT_FILE).exists(), "{stdout}");
}

#[test]
fn the_recipe_fails_the_job_when_the_vendor_system_does_not_submit() {
    let dir = tempfile::tempdir().unwrap();
    let output = recipe(dir.path(), Some("true"), "2");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let out = dir.path().join("out");
    assert_eq!(
        outcomes(&results(&out)),
        vec![Outcome::TimedOut, Outcome::Passed],
        "{stdout}"
    );
    assert!(out.join("havainnot.md").exists(), "{stdout}");
    assert!(!out.join(DRAFT_FILE).exists());
}

#[test]
fn the_recipe_refuses_to_run_without_the_vendor_system() {
    let dir = tempfile::tempdir().unwrap();
    let output = recipe(dir.path(), None, "2");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "rehearse-sut: KANTAKOE_SUT_COMMAND is not set: give the command that starts your system\n"
    );
    assert!(!dir.path().join("out").exists());
}

/// check-jsonschema with one of its vendored schemas over `file`.
fn check_schema(schema: &str, file: &Path) -> Output {
    python()
        .args(["-m", "check_jsonschema", "--builtin-schema", schema])
        .arg(file)
        .output()
        .expect("check-jsonschema runs")
}

#[test]
fn both_recipes_match_the_public_schemas_and_call_the_one_script() {
    for (file, schema) in [
        ("github-actions.yml", "vendor.github-workflows"),
        ("gitlab-ci.yml", "vendor.gitlab-ci"),
    ] {
        let path = workspace().join("docs/ci").join(file);
        let output = check_schema(schema, &path);
        assert!(
            output.status.success(),
            "{file}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let yaml = std::fs::read_to_string(&path).unwrap();
        assert!(
            yaml.contains("bash kantakoe/docs/ci/rehearse-sut.sh"),
            "{file}"
        );
        assert!(yaml.contains("out/junit.xml"), "{file}");

        // The check can fail: a misspelt key breaks the schema.
        let broken = tempfile::NamedTempFile::with_suffix(".yml").unwrap();
        std::fs::write(
            broken.path(),
            yaml.replace("script:", "scirpt:")
                .replace("runs-on:", "runs_on:"),
        )
        .unwrap();
        let output = check_schema(schema, broken.path());
        assert!(!output.status.success(), "{file}: a broken copy passed");
    }
}
