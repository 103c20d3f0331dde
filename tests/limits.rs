//! What every connection may hold, over real TLS: request headers, a request body (minimum
//! rate) and a kept-alive idle connection are closed at their deadlines; the connection cap
//! makes idle connections give way, refuses a new one only when every connection is serving,
//! and serves again when one closes; a `Content-Length` over the limit is refused before the
//! body is read; and the view's wrong sign-ins are slowed down per client address. Deadlines
//! are short here (the defaults are generous); the assertions are on what happens, each wait
//! bounded generously, never on how long it took.

use std::time::Duration;

use kantakoe::pki::Role;
use mock_archive::{ArchiveConfig, MockArchive, MockArchiveHandle, TlsFiles};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::pki;
use crate::view::{Failed, answer_of, https, https_from, tls_connect};

/// The longest any test here waits for something that should happen within a second or two.
const BOUND: Duration = Duration::from_secs(30);

/// A deadline that never passes during a test.
const NEVER: Duration = Duration::from_secs(3600);

/// A configuration with every deadline out of the way, for one test to shorten one of them.
fn config() -> ArchiveConfig {
    let mut config = ArchiveConfig::new(TlsFiles::from_pki_dir(pki().dir()));
    config.handshake_timeout = NEVER;
    config.header_timeout = NEVER;
    config.idle_timeout = NEVER;
    config.body_grace = NEVER;
    config
}

async fn start(config: ArchiveConfig) -> MockArchiveHandle {
    MockArchive::builder()
        .config(config)
        .start()
        .await
        .expect("archive starts")
}

/// Reads until the archive closes the connection (end of stream, or the reset or missing
/// `close_notify` of a dropped connection), within [`BOUND`]; returns what arrived.
async fn read_until_closed(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> Vec<u8> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the connection was still open after {BOUND:?}; got {:?}",
        String::from_utf8_lossy(&got)
    );
    got
}

/// Polls `ready` every 10 ms until it holds, within [`BOUND`].
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(BOUND, async {
        while !ready() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{what}: not within {BOUND:?}");
}

#[tokio::test]
async fn request_headers_arriving_slowly_are_cut_off_at_their_deadline() {
    let mut config = config();
    config.header_timeout = Duration::from_millis(500);
    let archive = start(config).await;
    let mut tls = tls_connect(archive.addr().port(), Some(Role::Client), None)
        .await
        .unwrap();
    // A slowloris: the start of a request, never its end.
    tls.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\nx-slow: 1")
        .await
        .unwrap();
    tls.flush().await.unwrap();
    let got = read_until_closed(&mut tls).await;
    assert_eq!(
        String::from_utf8_lossy(&got),
        "",
        "closed without an answer"
    );
    // The archive itself serves on.
    let health = https(
        archive.addr().port(),
        Some(Role::Client),
        "GET",
        "/health",
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(health.status, 200);
}

#[tokio::test]
async fn a_request_body_slower_than_the_minimum_rate_is_answered_408_and_closed() {
    let mut config = config();
    config.body_grace = Duration::from_millis(300);
    config.body_min_rate = 1000;
    let archive = start(config).await;
    let mut tls = tls_connect(archive.addr().port(), Some(Role::Client), None)
        .await
        .unwrap();
    tls.write_all(
        b"POST /archive HTTP/1.1\r\nhost: localhost\r\ncontent-type: text/xml\r\n\
          content-length: 100000\r\n\r\n<soap:Envelope",
    )
    .await
    .unwrap();
    tls.flush().await.unwrap();
    let answer = answer_of(read_until_closed(&mut tls).await).unwrap();
    assert_eq!(answer.status, 408, "{}", answer.body);
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(
        answer.body.contains(
            "<faultstring>request body arriving slower than 1000 bytes per second; closing</faultstring>"
        ),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_at_its_deadline() {
    let mut config = config();
    config.idle_timeout = Duration::from_millis(500);
    let archive = start(config).await;
    let mut tls = tls_connect(archive.addr().port(), Some(Role::Client), None)
        .await
        .unwrap();
    tls.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    // The answer comes, then nothing: the connection idles until the archive closes it.
    let answer = answer_of(read_until_closed(&mut tls).await).unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("connection"),
        None,
        "kept alive after the answer"
    );
    assert!(answer.body.contains("\"status\":\"ok\""), "{}", answer.body);
}

#[tokio::test]
async fn a_content_length_over_the_limit_is_refused_before_the_body_is_read() {
    let archive = start(config()).await;
    let mut tls = tls_connect(archive.addr().port(), Some(Role::Client), None)
        .await
        .unwrap();
    // 200 MB announced, not a byte of it sent: the answer can only come from the header.
    tls.write_all(
        b"POST /archive HTTP/1.1\r\nhost: localhost\r\ncontent-type: text/xml\r\n\
          content-length: 200000000\r\n\r\n",
    )
    .await
    .unwrap();
    let answer = answer_of(read_until_closed(&mut tls).await).unwrap();
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert_eq!(answer.header("connection"), Some("close"));
    assert!(
        answer
            .body
            .contains("<faultstring>request body larger than 8388608 bytes</faultstring>"),
        "{}",
        answer.body
    );
}

/// Starts a POST whose body never finishes: the connection is serving a request.
async fn serving(port: u16) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut tls = tls_connect(port, Some(Role::Client), None).await.unwrap();
    tls.write_all(
        b"POST /archive HTTP/1.1\r\nhost: localhost\r\ncontent-type: text/xml\r\n\
          content-length: 1000\r\n\r\n<soap:Envelope",
    )
    .await
    .unwrap();
    tls.flush().await.unwrap();
    tls
}

#[tokio::test]
async fn at_the_cap_a_new_connection_is_refused_while_all_serve_and_served_when_one_closes() {
    let mut config = config();
    config.max_connections = Some(2);
    let archive = start(config).await;
    let port = archive.addr().port();
    let first = serving(port).await;
    let _second = serving(port).await;
    until("both connections serving", || {
        archive.connections().serving == 2
    })
    .await;

    let refused = https(port, Some(Role::Client), "GET", "/health", &[], b"").await;
    assert!(
        matches!(&refused, Err(Failed(why)) if why.starts_with("handshake: ") || why.starts_with("read: ") || why.starts_with("write: ")),
        "{refused:?}"
    );
    let counts = archive.connections();
    assert_eq!((counts.open, counts.max, counts.refused), (2, 2, 1));

    drop(first);
    until("the closed connection's place freed", || {
        archive.connections().open < 2
    })
    .await;
    let health = https(port, Some(Role::Client), "GET", "/health", &[], b"")
        .await
        .unwrap();
    assert_eq!(health.status, 200);
}

#[tokio::test]
async fn at_the_cap_the_connection_idle_longest_makes_room_for_a_new_client() {
    let mut config = config();
    config.max_connections = Some(2);
    let archive = start(config).await;
    let port = archive.addr().port();
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut tls = tls_connect(port, Some(Role::Client), None).await.unwrap();
        tls.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = tls.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "answered");
        idle.push(tls);
    }
    until("both connections idle", || {
        let c = archive.connections();
        (c.open, c.serving) == (2, 0)
    })
    .await;
    let health = https(port, Some(Role::Client), "GET", "/health", &[], b"")
        .await
        .unwrap();
    assert_eq!(health.status, 200);
    assert_eq!(archive.connections().evicted, 1);
    // The one idle longest was closed; the other is still kept alive.
    let got = read_until_closed(&mut idle[0]).await;
    assert_eq!(String::from_utf8_lossy(&got), "");
    idle[1]
        .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = answer_of(read_until_closed(&mut idle[1]).await).unwrap();
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn raw_tcp_connections_that_never_start_tls_make_room_for_a_real_client() {
    let mut config = config();
    config.max_connections = Some(20);
    let archive = start(config).await;
    let port = archive.addr().port();
    let mut raw = Vec::new();
    for _ in 0..60 {
        raw.push(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap(),
        );
    }
    until("the raw connections accepted", || {
        archive.connections().evicted >= 40
    })
    .await;
    let health = https(port, Some(Role::Client), "GET", "/health", &[], b"")
        .await
        .unwrap();
    assert_eq!(health.status, 200);
    let counts = archive.connections();
    assert_eq!(counts.refused, 0, "{counts:?}");
}

/// An archive with its plain-HTTP validation listener on; returns it and that listener's port.
async fn with_validation(config: ArchiveConfig) -> (MockArchiveHandle, u16) {
    let mut config = config;
    config.validation_listen = Some("127.0.0.1:0".parse().unwrap());
    let archive = start(config).await;
    let url = archive.validation_url().expect("validation listener on");
    let port = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (archive, port)
}

#[tokio::test]
async fn the_validation_listener_idles_connections_out_at_their_deadline() {
    let mut config = config();
    config.header_timeout = Duration::from_millis(500);
    let (_archive, port) = with_validation(config).await;
    // Half a request line, then nothing: closed at the header deadline, like the TLS listeners.
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.write_all(b"POST /shark-validointi").await.unwrap();
    let got = read_until_closed(&mut tcp).await;
    assert_eq!(String::from_utf8_lossy(&got), "");
}

#[tokio::test]
async fn the_validation_listener_refuses_an_announced_oversized_body_before_reading_it() {
    let (_archive, port) = with_validation(config()).await;
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.write_all(
        b"POST /shark-validointi/validoi/asiakirja/tulos HTTP/1.1\r\nhost: localhost\r\n\
          content-type: application/json\r\ncontent-length: 200000000\r\n\r\n",
    )
    .await
    .unwrap();
    let answer = answer_of(read_until_closed(&mut tcp).await).unwrap();
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(
        answer.body,
        "{\"description\":\"Pyyntö on liian suuri: yli 20971520 tavua (the request is larger than 20971520 bytes)\"}"
    );
}

#[tokio::test]
async fn idle_validation_connections_count_under_the_one_cap_and_make_room() {
    let mut config = config();
    config.max_connections = Some(4);
    let (archive, port) = with_validation(config).await;
    let mut idle = Vec::new();
    for _ in 0..12 {
        idle.push(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap(),
        );
    }
    until(
        "the idle validation connections accepted under the cap",
        || archive.connections().evicted >= 8,
    )
    .await;
    // A client of the message listener is still served: the cap is shared, idle ones give way.
    let health = https(
        archive.addr().port(),
        Some(Role::Client),
        "GET",
        "/health",
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(health.status, 200);
    let counts = archive.connections();
    assert!(counts.open <= 4, "{counts:?}");
    assert_eq!(counts.refused, 0, "{counts:?}");
}

#[tokio::test]
async fn a_cap_beyond_the_open_file_limit_is_refused_at_start() {
    let mut config = config();
    config.max_connections = Some(1 << 40);
    let err = MockArchive::builder()
        .config(config)
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "max_connections 1099511627776 needs more file descriptors than the open-file limit allows (at most "
        ) && err.ends_with(
            " connections beside 64 descriptors for the database and logs): raise `ulimit -n` or lower max_connections"
        ),
        "{err}"
    );
}

/// An archive with its view on, fixture tokens as given.
async fn view_archive(fixture_tokens: bool) -> MockArchiveHandle {
    let mut config = config();
    config.fixture_tokens = fixture_tokens;
    config.view_listen = Some("127.0.0.1:0".parse().unwrap());
    start(config).await
}

async fn sign_in_from(archive: &MockArchiveHandle, from: &str, token: &str) -> crate::view::Answer {
    https_from(
        Some(from.parse().unwrap()),
        archive.view_addr().unwrap().port(),
        None,
        "POST",
        "/signin?lang=en",
        &[("content-type", "application/x-www-form-urlencoded")],
        format!("token={token}").as_bytes(),
    )
    .await
    .unwrap()
}

/// The message paragraph of the sign-in page.
fn message_of(page: &str) -> &str {
    page.split("id=\"message\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or(page)
}

#[tokio::test]
async fn published_fixture_tokens_sign_in_to_the_view_only_when_asked_for() {
    let off = view_archive(false).await;
    let refused = sign_in_from(&off, "127.0.0.1", crate::view::PROVIDER_ARCHIVIST).await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        message_of(&refused.body),
        "Unknown token, or the one-time token has already been used."
    );
    // The one-time tokens printed at start still sign in.
    let token = off.view_tokens()[0].token.clone();
    assert_eq!(sign_in_from(&off, "127.0.0.1", &token).await.status, 303);
    // The inspection API, behind mutual TLS, takes the fixture's tokens regardless.
    let (status, _) =
        crate::view::inspect(&off, "GET", Some(crate::view::PROVIDER_ARCHIVIST), "").await;
    assert_eq!(status, 404, "no checklist yet, but signed in");

    let on = view_archive(true).await;
    let signed_in = sign_in_from(&on, "127.0.0.1", crate::view::PROVIDER_ARCHIVIST).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
}

#[tokio::test]
async fn wrong_sign_ins_are_slowed_down_per_client_address() {
    let archive = view_archive(false).await;
    for _ in 0..mock_archive::FREE_WRONG_SIGN_INS {
        let wrong = sign_in_from(&archive, "127.0.0.3", "arvaus-12345678").await;
        assert_eq!(wrong.status, 401);
    }
    // The next attempt from that address waits, even with a right token, which stays unspent.
    let token = archive.view_tokens()[0].token.clone();
    let slowed = sign_in_from(&archive, "127.0.0.3", &token).await;
    assert_eq!(slowed.status, 429, "{}", slowed.body);
    assert_eq!(slowed.header("retry-after"), Some("1"));
    assert_eq!(
        message_of(&slowed.body),
        "Too many wrong tokens from this address: try again in a moment (1 s)"
    );
    // Another address is not slowed down, and the token signs in there.
    let elsewhere = sign_in_from(&archive, "127.0.0.4", &token).await;
    assert_eq!(elsewhere.status, 303, "{}", elsewhere.body);
}

#[tokio::test]
async fn the_view_sends_hsts_except_to_a_loopback_host_name() {
    let archive = view_archive(false).await;
    let port = archive.view_addr().unwrap().port();
    let named = https(
        port,
        None,
        "GET",
        "/signin",
        &[("host", "archive.example:8444")],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(named.status, 200);
    assert_eq!(
        named.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    let loopback = https(port, None, "GET", "/signin", &[], b"").await.unwrap();
    assert_eq!(loopback.status, 200);
    assert_eq!(loopback.header("strict-transport-security"), None);
}

#[tokio::test]
async fn the_binary_lets_fixture_tokens_sign_in_only_with_its_flag() {
    for (args, status) in [(&[][..], 401), (&["--fixture-tokens"][..], 303)] {
        let (_process, line) = crate::view::serve(args).unwrap();
        let addr = line["view"]["addr"].as_str().unwrap();
        let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
        let answer = https(
            port,
            None,
            "POST",
            "/signin",
            &[("content-type", "application/x-www-form-urlencoded")],
            format!("token={}", crate::view::PROVIDER_ARCHIVIST).as_bytes(),
        )
        .await
        .unwrap();
        assert_eq!(answer.status, status, "mock-archive serve {args:?}");
    }
}
