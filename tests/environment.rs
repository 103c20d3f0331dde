//! The harness against servers that are not a working archive: nothing listening, a TCP
//! server that accepts and never speaks, one that answers garbage, a TLS server that stalls
//! mid-response or fails with HTTP 500. `rehearse --archive` and `preflight` must end within
//! their timeouts with exit code 2 and one clear message (snapshots), run no step and say
//! "passed" nowhere. And no ANSI colour codes in redirected output.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Output;
use std::sync::Arc;

use crate::support::{self, kantakoe_cmd, pki};

/// What a misbehaving server does with each connection.
#[derive(Debug, Clone, Copy)]
enum Misbehaviour {
    /// Accepts and never sends a byte.
    Silent,
    /// Answers anything with bytes that are not TLS.
    Garbage,
    /// Completes TLS, reads the request, sends half a response and stalls.
    StallMidResponse,
    /// Completes TLS and answers every request with HTTP 500.
    Http500,
}

/// Starts a misbehaving server on loopback in a thread of its own; returns its address.
fn misbehaving(how: Misbehaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tls_acceptor();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((mut tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    match how {
                        Misbehaviour::Silent => {}
                        Misbehaviour::Garbage => {
                            let _ = tcp.read(&mut buf).await;
                            let _ = tcp.write_all(b"this is not TLS, nor HTTP\r\n\r\n").await;
                        }
                        Misbehaviour::StallMidResponse | Misbehaviour::Http500 => {
                            let Ok(mut tls) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let _ = tls.read(&mut buf).await;
                            let answer: &[u8] = match how {
                                Misbehaviour::Http500 => {
                                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 6\r\n\r\nbroken"
                                }
                                _ => b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"serv",
                            };
                            let _ = tls.write_all(answer).await;
                            let _ = tls.flush().await;
                            // Stall: the connection stays open, the response unfinished.
                            std::future::pending::<()>().await;
                        }
                    }
                    std::future::pending::<()>().await;
                });
            }
        });
    });
    addr
}

/// A TLS acceptor with the test PKI's archive certificate (no client certificate asked).
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let files = pki().files(kantakoe::pki::Role::Server);
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&files.key).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

const SHORT: [&str; 6] = [
    "--connect-timeout",
    "1",
    "--handshake-timeout",
    "1",
    "--response-timeout",
    "1",
];

fn rehearse(dir: &Path, url: &str) -> Output {
    kantakoe_cmd(dir)
        .args(["rehearse", "--archive", url, "--pki"])
        .arg(pki().dir())
        .args(SHORT)
        .output()
        .unwrap()
}

fn preflight(dir: &Path, url: &str) -> Output {
    kantakoe_cmd(dir)
        .args(["preflight", "--archive", url, "--pki"])
        .arg(pki().dir())
        .args(SHORT)
        .output()
        .unwrap()
}

/// Exit code 2, nothing run, nothing written, and the message a person sees (redacted).
fn ended_with_2(output: &Output, dir: &Path) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        !stdout.contains("passed") && !stderr.contains("passed"),
        "no step may pass: {stdout}{stderr}"
    );
    assert!(!dir.join("out").exists(), "nothing is written");
    format!("{stdout}{stderr}")
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {{
        let value: String = $value;
        insta::with_settings!({ filters => support::stable_filters() }, {
            insta::assert_snapshot!($name, value);
        })
    }};
}

#[test]
fn rehearse_and_preflight_against_nothing_listening_end_with_exit_2() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("https://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    snapshot!(
        "environment_nothing_listening_rehearse",
        ended_with_2(&rehearse(dir.path(), &url), dir.path())
    );
    snapshot!(
        "environment_nothing_listening_preflight",
        ended_with_2(&preflight(dir.path(), &url), dir.path())
    );
}

#[test]
fn a_server_that_accepts_and_never_speaks_times_out_in_the_handshake() {
    let url = format!("https://{}", misbehaving(Misbehaviour::Silent));
    let dir = tempfile::tempdir().unwrap();
    snapshot!(
        "environment_silent_rehearse",
        ended_with_2(&rehearse(dir.path(), &url), dir.path())
    );
    snapshot!(
        "environment_silent_preflight",
        ended_with_2(&preflight(dir.path(), &url), dir.path())
    );
}

#[test]
fn a_server_that_answers_garbage_does_not_speak_tls() {
    let url = format!("https://{}", misbehaving(Misbehaviour::Garbage));
    let dir = tempfile::tempdir().unwrap();
    snapshot!(
        "environment_garbage_rehearse",
        ended_with_2(&rehearse(dir.path(), &url), dir.path())
    );
    snapshot!(
        "environment_garbage_preflight",
        ended_with_2(&preflight(dir.path(), &url), dir.path())
    );
}

#[test]
fn a_server_that_stalls_mid_response_times_out_in_the_response() {
    let url = format!(
        "https://localhost:{}",
        misbehaving(Misbehaviour::StallMidResponse).port()
    );
    let dir = tempfile::tempdir().unwrap();
    snapshot!(
        "environment_stall_rehearse",
        ended_with_2(&rehearse(dir.path(), &url), dir.path())
    );
    snapshot!(
        "environment_stall_preflight",
        ended_with_2(&preflight(dir.path(), &url), dir.path())
    );
}

#[test]
fn a_server_that_fails_with_http_500_is_not_an_archive() {
    let url = format!(
        "https://localhost:{}",
        misbehaving(Misbehaviour::Http500).port()
    );
    let dir = tempfile::tempdir().unwrap();
    snapshot!(
        "environment_http500_rehearse",
        ended_with_2(&rehearse(dir.path(), &url), dir.path())
    );
    snapshot!(
        "environment_http500_preflight",
        ended_with_2(&preflight(dir.path(), &url), dir.path())
    );
}

#[test]
fn redirected_output_has_no_ansi_colour_codes() {
    // The archive's log on redirected stderr, through a request and a failed handshake.
    let mut child = std::process::Command::new(support::bin("mock-archive"))
        .args(["serve", "--db", ":memory:", "--view-listen", "off", "--pki"])
        .arg(pki().dir())
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let port = v["addr"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let mut raw = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    let _ = raw.write_all(b"not a handshake\r\n\r\n");
    let _ = raw.read(&mut [0u8; 64]);
    drop(raw);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.is_empty(), "the archive logs something");
    assert!(!stderr.contains('\u{1b}'), "ANSI codes in {stderr:?}");
    // The harness: a failed rehearsal, redirected.
    let dir = tempfile::tempdir().unwrap();
    let case = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/cases/wrong-expectation.toml"
    ));
    let output = kantakoe_cmd(dir.path())
        .args(["rehearse", "--case"])
        .arg(case)
        .output()
        .unwrap();
    let all = [output.stdout, output.stderr].concat();
    assert!(
        !all.contains(&0x1b),
        "ANSI codes in {:?}",
        String::from_utf8_lossy(&all)
    );
}
