//! The archive's transport over real TLS on loopback: client certificates required, `/health`
//! reports the organisation, every refusal has its own reason, the server survives failed
//! handshakes, and the binaries behave (port 0, one JSON line, graceful SIGTERM).

use kantakoe::client::{ClientError, Identity, Target, TlsClient};
use kantakoe::pki::{Role, scenario};
use kantakoe::preflight::{self, Preflight, PreflightError};
use mock_archive::MockArchive;
use time::OffsetDateTime;

use crate::support::{self, pki, start_archive, target};

fn preflight_for(archive_url: &str, identity: Option<Identity>) -> Preflight {
    Preflight {
        target: Target::parse(archive_url).unwrap(),
        ca: pki().ca(),
        identity,
        now: OffsetDateTime::now_utc(),
        timeouts: Default::default(),
    }
}

/// The preflight outcome as a person sees it, with ports, dates and paths redacted.
async fn preflight_text(p: &Preflight) -> String {
    match preflight::run(p).await {
        Ok(report) => report.render(),
        Err(err) => format!("connection test failed: {err}\n"),
    }
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {{
        let value: String = $value;
        insta::with_settings!({ filters => support::stable_filters() }, {
            insta::assert_snapshot!($name, value);
        })
    }};
}

#[tokio::test]
async fn good_client_gets_health_with_its_organisation_oid() {
    let archive = start_archive().await;
    for (role, oid) in [
        (Role::Client, scenario::PROVIDER_OID),
        (Role::Vendor, scenario::VENDOR_OID),
    ] {
        let mut conn = support::client(role)
            .connect(&target(&archive))
            .await
            .unwrap();
        let reply = conn.get("/health").await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.content_type.as_deref(), Some("application/json"));
        let health: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(health["client"]["organisation_oid"], oid);
        assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
        // Keep-alive: many requests back to back on the same connection.
        for _ in 0..200 {
            assert_eq!(conn.get("/health").await.unwrap().status, 200);
        }
    }
    let p = preflight_for(&archive.url(), Some(support::identity(Role::Client)));
    snapshot!("preflight_ok", preflight_text(&p).await);
}

#[tokio::test]
async fn no_client_certificate_is_refused() {
    let archive = start_archive().await;
    let p = preflight_for(&archive.url(), None);
    let err = preflight::run(&p).await.unwrap_err();
    assert!(
        matches!(
            err,
            PreflightError::Client(ClientError::ClientCertRejected { .. })
        ),
        "{err:?}"
    );
    snapshot!("preflight_no_client_cert", preflight_text(&p).await);
}

#[tokio::test]
async fn client_certificate_from_an_unknown_ca_is_refused() {
    let archive = start_archive().await;
    let p = preflight_for(&archive.url(), Some(support::identity(Role::UnknownClient)));
    snapshot!("preflight_unknown_ca", preflight_text(&p).await);
}

#[tokio::test]
async fn expired_client_certificate_is_refused_by_the_archive_and_caught_by_preflight() {
    let archive = start_archive().await;
    // The archive's own verdict, with the local check bypassed.
    let mut conn = support::client(Role::ExpiredClient)
        .connect(&target(&archive))
        .await;
    let err = match conn.as_mut() {
        Ok(c) => c.get("/health").await.unwrap_err(),
        Err(_) => conn.unwrap_err(),
    };
    assert!(
        matches!(err, ClientError::ClientCertExpired { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("expired certificate: the archive refused"),
        "{err}"
    );
    // Preflight catches it before connecting and names the file and dates.
    let p = preflight_for(&archive.url(), Some(support::identity(Role::ExpiredClient)));
    let text = preflight_text(&p).await;
    snapshot!(
        "preflight_expired",
        text.replace(&pki().dir().display().to_string(), "[PKI]")
    );
}

#[tokio::test]
async fn failed_handshakes_are_counted_and_never_stop_the_server() {
    let archive = start_archive().await;
    for role in [Role::UnknownClient, Role::ExpiredClient] {
        let res = match support::client(role).connect(&target(&archive)).await {
            Ok(mut conn) => conn.get("/health").await.map(|_| ()),
            Err(e) => Err(e),
        };
        assert!(res.is_err(), "{role:?} must be refused");
    }
    // A client that is not TLS at all.
    {
        use tokio::io::AsyncWriteExt as _;
        let mut tcp = tokio::net::TcpStream::connect(archive.addr())
            .await
            .unwrap();
        tcp.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        use tokio::io::AsyncReadExt as _;
        let _ = tcp.read_to_end(&mut buf).await;
    }
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    assert_eq!(conn.get("/health").await.unwrap().status, 200);
    assert_eq!(archive.handshake_failures(), 3);
}

#[tokio::test]
async fn untrusted_server_and_hostname_mismatch_have_their_own_reasons() {
    // The archive listens on 127.0.0.2, which its certificate does not name.
    let archive = MockArchive::builder()
        .pki_dir(pki().dir())
        .listen("127.0.0.2:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let url = format!("https://127.0.0.2:{}", archive.addr().port());
    let p = preflight_for(&url, Some(support::identity(Role::Client)));
    let err = preflight::run(&p).await.unwrap_err();
    assert!(
        matches!(
            err,
            PreflightError::Client(ClientError::HostnameMismatch { .. })
        ),
        "{err:?}"
    );
    snapshot!("preflight_hostname_mismatch", preflight_text(&p).await);

    let archive = start_archive().await;
    let mut p = preflight_for(&archive.url(), Some(support::identity(Role::Client)));
    p.ca = pki().files(Role::UnknownCa).cert;
    let err = preflight::run(&p).await.unwrap_err();
    assert!(
        matches!(
            err,
            PreflightError::Client(ClientError::UntrustedServer { .. })
        ),
        "{err:?}"
    );
    snapshot!("preflight_untrusted_server", preflight_text(&p).await);
}

#[tokio::test]
async fn connection_refused_and_missing_file_have_their_own_reasons() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = preflight_for(
        &format!("https://localhost:{port}"),
        Some(support::identity(Role::Client)),
    );
    let err = preflight::run(&p).await.unwrap_err();
    assert!(
        matches!(err, PreflightError::Client(ClientError::Refused { .. })),
        "{err:?}"
    );
    snapshot!("preflight_refused", preflight_text(&p).await);

    let mut p = preflight_for("https://localhost:1", Some(support::identity(Role::Client)));
    p.ca = pki().dir().join("no-such-ca.pem");
    snapshot!(
        "preflight_missing_file",
        preflight_text(&p)
            .await
            .replace(&pki().dir().display().to_string(), "[PKI]")
    );
}

#[tokio::test]
async fn paths_and_methods_are_routed_with_clear_errors() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let reply = conn.get("/archive").await.unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(&reply.body[..], b"messages are POSTed to /archive\n");
    let reply = conn.get("/nowhere").await.unwrap();
    assert_eq!(reply.status, 404);
    assert_eq!(&reply.body[..], b"no such path: /nowhere\n");
    assert_eq!(
        conn.post("/health", "text/plain", "x")
            .await
            .unwrap()
            .status,
        405
    );
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let archive = start_archive().await;
    let addr = archive.addr();
    archive.shutdown().await;
    let err = tokio::net::TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn binary_serves_on_port_zero_prints_one_json_line_and_stops_on_sigterm() {
    let pki_dir = pki().dir().display().to_string();
    let mut archive = support::spawn_archive(&["--listen", "127.0.0.1:0", "--pki", &pki_dir]);
    assert!(
        archive.url.starts_with("https://localhost:"),
        "{}",
        archive.url
    );
    let out = support::kantakoe_cmd(pki().dir())
        .args(["preflight", "--archive", &archive.url, "--pki", &pki_dir])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("organisation OID {}", scenario::PROVIDER_OID)),
        "{stdout}"
    );

    let pid = archive.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = archive.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "graceful SIGTERM exits 0");
}

#[test]
fn binary_reports_a_missing_tls_file_clearly() {
    let out = std::process::Command::new(support::bin("mock-archive"))
        .args(["serve", "--pki", "/nonexistent-pki"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mock-archive: error: /nonexistent-pki/server.pem: server certificate: "),
        "{stderr}"
    );
}

#[test]
fn pki_init_twice_without_force_fails_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        support::kantakoe_cmd(dir.path())
            .args(["pki", "init", "--dir", "pki"])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let ca = std::fs::read(dir.path().join("pki/ca.pem")).unwrap();
    let second = run();
    assert_eq!(second.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&second.stderr),
        "kantakoe: error: pki already holds a test PKI (pki.toml); nothing was changed (use --force to replace it)\n"
    );
    assert_eq!(std::fs::read(dir.path().join("pki/ca.pem")).unwrap(), ca);
}

#[test]
fn client_certificate_must_match_its_key() {
    let files = pki().files(Role::Client);
    let wrong_key = pki().files(Role::Vendor).key;
    let err = TlsClient::new(
        &pki().ca(),
        Some(&Identity {
            cert: files.cert,
            key: wrong_key.clone(),
        }),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{}: not a usable client private key matching the certificate",
            wrong_key.display()
        )),
        "{err}"
    );
}

#[tokio::test]
async fn bench_measures_both_servers_side_by_side() {
    let config = kantakoe::bench::BenchConfig {
        archive_bin: support::bin("mock-archive"),
        pki_dir: pki().dir().to_owned(),
        connections: 2,
        duration: std::time::Duration::from_millis(200),
        startups: 1,
        rounds: 1,
    };
    let report = kantakoe::bench::run(&config).await.unwrap();
    for f in [&report.baseline, &report.archive] {
        assert!(f.requests_per_s > 0.0 && f.handshakes_per_s > 0.0, "{f:?}");
        assert!(f.startup_median_ms > 0.0 && f.p99_ms >= f.p50_ms, "{f:?}");
    }
    assert_eq!(report.baseline.server, "bare baseline");
    assert!(report.render().contains("archive/baseline: requests "));
}

#[tokio::test]
async fn preflight_warns_when_a_certificate_expires_within_30_days() {
    let archive = start_archive().await;
    let der = support::client(Role::Client).client_cert.clone().unwrap();
    let not_after = kanta_profile::cert::CertInfo::from_der(&der)
        .unwrap()
        .not_after;
    let mut p = preflight_for(&archive.url(), Some(support::identity(Role::Client)));
    p.now = not_after - time::Duration::days(10);
    let report = preflight::run(&p).await.unwrap();
    assert_eq!(
        report.warnings,
        vec![format!(
            "the client certificate expires in 10 days, on {}",
            not_after.date()
        )]
    );
    assert!(
        report
            .render()
            .contains("\nwarning: the client certificate expires in 10 days")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_bench_stores_every_document_and_compares_with_the_baseline() {
    let config = kantakoe::bench::BenchConfig {
        archive_bin: support::bin("mock-archive"),
        pki_dir: pki().dir().to_owned(),
        connections: 2,
        duration: std::time::Duration::from_millis(100),
        startups: 1,
        rounds: 1,
    };
    let figures = kantakoe::bench::run_documents(&config, 8).await.unwrap();
    let servers: Vec<_> = figures
        .iter()
        .map(|f| (f.server, f.connections, f.documents))
        .collect();
    assert_eq!(
        servers,
        vec![
            ("bare baseline", 1, 2),
            ("mock-archive", 1, 2),
            ("bare baseline", 2, 8),
            ("mock-archive", 2, 8)
        ]
    );
    assert!(
        figures
            .iter()
            .all(|f| f.per_s > 0.0 && f.p99_ms >= f.p50_ms),
        "{figures:?}"
    );
    assert!(
        kantakoe::bench::render_documents(&figures)
            .contains("2 connection(s): archive/baseline documents per second")
    );
}
