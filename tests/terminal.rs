//! What people read in a terminal: `mock-archive`'s one log line per message (time, peer
//! organisation, message id, verdict, codes) without colour codes in redirected output, and
//! `kantakoe`'s messages: each cause of an error once, "TLS 1.3", one name per signature
//! problem, `pki check`, and `sign` on a whole message.

use std::io::{BufRead as _, Read as _};
use std::process::{Command, Stdio};

use kantakoe::compose::{self, DocumentTemplate};
use kantakoe::pki::{Role, scenario};
use kantakoe::signing::SystemSigner;
use mock_archive::format::Wrapping;

use crate::support::{self, pki};

fn signer() -> SystemSigner {
    let files = pki().files(Role::Signature);
    SystemSigner::from_files(&files.cert, &files.key, time::OffsetDateTime::now_utc()).unwrap()
}

fn message(n: u32, identity_code: &str) -> Vec<u8> {
    let mut v = compose::scenario_self_paying(
        format!("2.999.5851.9.70.{n}"),
        format!("2.999.5851.9.80.{n}"),
    );
    v.client.identity_code = identity_code.to_owned();
    compose::build_message(
        &DocumentTemplate::client_relationship(),
        &v,
        Wrapping::Soap12,
        Some(&signer()),
    )
    .unwrap()
    .message
}

#[tokio::test]
async fn mock_archive_logs_one_plain_line_per_message() {
    let pki_dir = pki().dir().display().to_string();
    let mut child = Command::new(support::bin("mock-archive"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--view-listen",
            "off",
            "--pki",
            &pki_dir,
        ])
        .env_remove("NO_COLOR")
        .env_remove("MOCK_ARCHIVE_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = ready["url"].as_str().unwrap();
    let target = kantakoe::client::Target::parse(url).unwrap();
    let mut conn = support::client(Role::Client)
        .connect(&target)
        .await
        .unwrap();
    let ct = compose::content_type(Wrapping::Soap12);
    let ok = conn
        .post("/archive", ct, message(1, "010190-901R"))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    let refused = conn
        .post("/archive", ct, message(2, "010190-123X"))
        .await
        .unwrap();
    assert_eq!(refused.status, 200);
    let unreadable = conn
        .post("/archive", "application/xml", "<nope")
        .await
        .unwrap();
    assert_eq!(unreadable.status, 400);
    drop(conn);
    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    child.wait().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(
        !log.contains('\u{1b}'),
        "no ANSI codes in redirected output: {log:?}"
    );
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("message from")).collect();
    assert_eq!(lines.len(), 3, "{log}");
    let provider = scenario::PROVIDER_OID;
    // `<RFC 3339 time>  INFO message from <peer> id <message id>: <verdict> <codes>`
    for l in &lines {
        let time = l.split_whitespace().next().unwrap();
        assert!(
            time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{l}"
        );
    }
    assert!(
        lines[0].ends_with(&format!(
            "INFO message from {provider} id 2.999.5851.9.70.1: AA"
        )),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with(&format!(
            "INFO message from {provider} id 2.999.5851.9.70.2: AE ID-INVALID"
        )),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].ends_with(&format!(
            "INFO message from {provider} id (unreadable): SOAP Fault MSG-UNREADABLE"
        )),
        "{}",
        lines[2]
    );
}

/// Runs `kantakoe` with `args` in a temporary directory: (exit code, stdout, stderr).
fn kantakoe(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = support::kantakoe_cmd(dir.path())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn an_error_prints_each_cause_once() {
    // A port in use, and a database that cannot be opened: each cause once.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let pki_dir = pki().dir().display().to_string();
    let run = |args: &[&str]| {
        let out = Command::new(support::bin("mock-archive"))
            .args(["serve", "--pki", &pki_dir, "--view-listen", "off"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, err) = run(&["--listen", &addr, "--db", ":memory:"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err.lines().last().unwrap(),
        format!(
            "mock-archive: error: cannot listen on {addr}: Address already in use (os error 98)"
        )
    );
    let (code, err) = run(&["--listen", "127.0.0.1:0", "--db", "/nonexistent/x.db"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        err.lines().last().unwrap(),
        "mock-archive: error: cannot open the database: cannot open database /nonexistent/x.db: unable to open database file: /nonexistent/x.db: Error code 14: Unable to open the database file"
    );
    // The connection test says its cause once too.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://localhost:{port}");
    let (code, _, err) = kantakoe(&["preflight", "--archive", &url, "--pki", &pki_dir]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "connection test failed: connection refused: nothing is listening on {url} (Connection refused (os error 111))\n"
        )
    );
}

#[tokio::test]
async fn preflight_names_the_tls_version_as_people_write_it() {
    let archive = support::start_archive().await;
    let pki_dir = pki().dir().display().to_string();
    let url = archive.url();
    let out = tokio::task::spawn_blocking(move || {
        kantakoe(&["preflight", "--archive", &url, "--pki", &pki_dir])
    })
    .await
    .unwrap();
    assert_eq!(out.0, 0, "{}{}", out.1, out.2);
    assert!(
        out.1.contains("\n  TLS version:       TLS 1.3\n"),
        "{}",
        out.1
    );
}

#[test]
fn pki_check_reports_every_certificate() {
    let pki_dir = pki().dir().display().to_string();
    let (code, out, err) = kantakoe(&["pki", "check", "--dir", &pki_dir]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!("test PKI {pki_dir}\nok      ca.pem: test root CA")),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with("ok      ")).count(),
        Role::ALL.len(),
        "{out}"
    );
    assert!(out.ends_with("result: OK\n"), "{out}");
    // Into a folder that is no PKI, `pki init` refuses.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let d = dir.path().display().to_string();
    let (code, _, err) = kantakoe(&["pki", "init", "--dir", &d]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "kantakoe: error: {d} is not empty and holds no test PKI (no pki.toml); nothing was written: choose a new or empty directory, or add --force to write the PKI's files there\n"
        )
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written"
    );
    let file = format!("{d}/notes.txt");
    let (code, _, err) = kantakoe(&["pki", "init", "--dir", &file]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "kantakoe: error: --dir {file}: that is a file, not a directory; give a directory for the test PKI (it is made if missing)\n"
        )
    );
}

#[test]
fn sign_signs_the_cda_inside_a_message_and_verify_names_problems_like_the_acknowledgement() {
    let dir = tempfile::tempdir().unwrap();
    let mut v =
        compose::scenario_self_paying("2.999.5851.9.71.1".into(), "2.999.5851.9.81.1".into());
    v.narrative = "Allekirjoittamaton viesti.".into();
    let unsigned = compose::build_message(
        &DocumentTemplate::client_relationship(),
        &v,
        Wrapping::Soap11,
        None,
    )
    .unwrap()
    .message;
    let input = dir.path().join("message.xml");
    std::fs::write(&input, &unsigned).unwrap();
    let output = dir.path().join("signed.xml");
    let pki_dir = pki().dir().display().to_string();
    let ca = pki().ca().display().to_string();
    let (i, o) = (input.display().to_string(), output.display().to_string());
    let (code, out, err) = kantakoe(&["sign", &i, "--pki", &pki_dir, "-o", &o]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        err,
        format!("signed the CDA in MIME part <2.999.5851.9.81.1> of {i} -> {o}\n")
    );
    // The author is the provider's service unit, which verify alone cannot know is the
    // provider's: --vendor says so.
    let unit = format!("{}={}.1", scenario::PROVIDER_OID, scenario::PROVIDER_OID);
    let (code, out, _) = kantakoe(&["verify", &o, "--trust", &ca, "--vendor", &unit]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with(&format!(
            "file: {o} (CDA from the message's MIME part <2.999.5851.9.81.1>)\n"
        )),
        "{out}"
    );
    assert!(out.ends_with("result: VALID\n"), "{out}");
    // The message around the CDA is as it was.
    let signed = std::fs::read_to_string(&output).unwrap();
    let before = String::from_utf8(unsigned).unwrap();
    let head = before.split("Content-Transfer-Encoding").next().unwrap();
    assert!(signed.starts_with(head), "{signed}");

    // A signer not entitled for the author: the acknowledgement's name, singular "problem".
    let stranger = pki().files(Role::StrangerSignature);
    let (c, k) = (
        stranger.cert.display().to_string(),
        stranger.key.display().to_string(),
    );
    let (code, _, err) = kantakoe(&["sign", &i, "--cert", &c, "--key", &k, "-o", &o]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = kantakoe(&["verify", &o, "--trust", &ca]);
    assert_eq!(code, 1, "{out}");
    let last: Vec<&str> = out.lines().rev().take(2).collect();
    assert_eq!(last[1], "result: INVALID (1 problem)", "{out}");
    assert!(
        last[0].starts_with("SIG-NOT-ALLOWED: signer organisation "),
        "{out}"
    );
    assert!(!out.contains("SIG_"), "{out}");
}
