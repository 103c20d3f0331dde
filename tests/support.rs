//! Helpers that hide setup: a shared test PKI, an archive on loopback, the binaries.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use kantakoe::client::{Identity, Target, TlsClient};
use kantakoe::pki::{Pki, PkiSpec, Role};
use mock_archive::{MockArchive, MockArchiveHandle};

/// One test PKI for every test of the day (nextest runs each test in its own process, and RSA
/// key generation is slow in debug builds). It is made in a private directory and renamed into
/// place, so concurrent test processes never see half a PKI.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        use std::hash::{Hash as _, Hasher as _};
        let spec = PkiSpec::default();
        // Keyed on the day and the identities, so a changed scenario never reuses old files.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&spec.provider, &spec.vendor, &spec.stranger, &spec.hosts).hash(&mut h);
        Role::ALL.map(Role::stem).hash(&mut h);
        let today = spec.now.date();
        let shared = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("test-pki-{today}-{:x}", h.finish()));
        if let Ok(pki) = Pki::open(&shared) {
            return pki;
        }
        let mine =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("test-pki-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&mine);
        Pki::init(&mine, &spec, false).expect("test PKI");
        if std::fs::rename(&mine, &shared).is_err() {
            // Another test process got there first.
            let _ = std::fs::remove_dir_all(&mine);
        }
        Pki::open(&shared).expect("shared test PKI")
    })
}

/// Starts an archive on 127.0.0.1, any port, with the shared PKI.
pub async fn start_archive() -> MockArchiveHandle {
    MockArchive::builder()
        .pki_dir(pki().dir())
        .start()
        .await
        .expect("archive starts")
}

/// The archive's URL as a target.
pub fn target(archive: &MockArchiveHandle) -> Target {
    Target::parse(&archive.url()).expect("archive URL")
}

/// A TLS client presenting the PKI certificate of `role`, trusting the PKI's CA.
pub fn client(role: Role) -> TlsClient {
    let files = pki().files(role);
    TlsClient::new(
        &pki().ca(),
        Some(&Identity {
            cert: files.cert,
            key: files.key,
        }),
    )
    .expect("client")
}

/// The identity of a PKI role.
pub fn identity(role: Role) -> Identity {
    let files = pki().files(role);
    Identity {
        cert: files.cert,
        key: files.key,
    }
}

/// Path of one of the workspace's programs, built for the tests.
pub fn bin(name: &str) -> PathBuf {
    match name {
        "mock-archive" => PathBuf::from(env!("CARGO_BIN_EXE_it-mock-archive")),
        "kantakoe" => PathBuf::from(env!("CARGO_BIN_EXE_it-kantakoe")),
        other => panic!("no such program {other}"),
    }
}

/// `kantakoe` as a command, with a clean environment for stable output.
pub fn kantakoe_cmd(dir: &Path) -> Command {
    let mut cmd = Command::new(bin("kantakoe"));
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

/// A `mock-archive serve` process that is killed when dropped.
pub struct ArchiveProcess {
    /// The child.
    pub child: Child,
    /// The URL it printed.
    pub url: String,
}

impl Drop for ArchiveProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns `mock-archive serve` with `args` and waits for its "listening" line.
pub fn spawn_archive(args: &[&str]) -> ArchiveProcess {
    use std::io::BufRead as _;
    let mut child = Command::new(bin("mock-archive"))
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn mock-archive");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read listening line");
    let v: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("mock-archive printed {line:?}, not a JSON line: {e}"));
    assert_eq!(v["event"], "listening", "{line}");
    let url = v["url"].as_str().expect("url").to_owned();
    ArchiveProcess { child, url }
}

/// Filters that make outputs with ports, dates and temp paths stable.
pub fn stable_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"localhost:\d+", "localhost:[PORT]"),
        (r"127\.0\.0\.\d:\d+", "127.0.0.x:[PORT]"),
        (r"\d{4}-\d{2}-\d{2}", "[DATE]"),
        (r"\(\d+ days left\)", "([N] days left)"),
        (r"/tmp/\.tmp\w+", "[TMP]"),
        (r"os error \d+", "os error [N]"),
    ]
}

/// The Python the tests use for Python tools (aiosmtpd, check-jsonschema, the `email`
/// package): the one in the virtual environment `tests/run` makes under `target/`
/// (`KANTAKOE_TEST_PYTHON`, which `tests/run` sets, names it). Fails, never skips, when it is
/// missing.
pub fn python() -> Command {
    let path = std::env::var_os("KANTAKOE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("../test-venv/bin/python"));
    assert!(
        path.exists(),
        "{}: no test Python here: run `tests/run` once (it makes this virtual environment with \
         the Python tools the tests use)",
        path.display()
    );
    Command::new(path)
}
