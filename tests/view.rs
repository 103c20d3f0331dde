//! The archivist view over real HTTPS, with a plain client (no browser): sign-in, R8 scoping
//! (another holder's document is a 404 like a missing one), narrative markup shown as text
//! under a Content-Security-Policy without scripts, CSRF on confirmations, the checklist
//! contract of the inspection API, filters and languages, and the two listeners' client
//! certificate policies.

use std::sync::Arc;

use kanta_profile::format::Wrapping;
use kantakoe::compose::{
    self, DocumentTemplate, MessageValues, Org, ReplacementReason, Replaces, UsageSituation,
};
use kantakoe::pki::{Role, scenario};
use kantakoe::signing::SystemSigner;
use mock_archive::MockArchiveHandle;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{self, pki};

/// The provider's archivist token in the bundled fixture.
pub const PROVIDER_ARCHIVIST: &str = "arkistonhoitaja-esimerkki-TESTI";
/// County A's archivist token.
pub const COUNTY_ARCHIVIST: &str = "arkistonhoitaja-testila-TESTI";
/// County A of the fixture.
pub const COUNTY_A: &str = "2.999.5851.2.2";
const SELF_PAYING: &str = "010190-901R";
const PURCHASED_A: &str = "150575-9025";

/// The hostile narrative of the provider's first document.
pub const HOSTILE: &str = "<script>alert(1)</script> <img src=x onerror=alert(2)>";

/// An archive with its view on, and the documents stored in it.
pub struct Scenario {
    /// The archive.
    pub archive: MockArchiveHandle,
    /// The provider's self-paying client's document, version 1 (hostile narrative).
    pub v1: String,
    /// Its correction, version 2.
    pub v2: String,
    /// A purchased-service document in county A's register.
    pub county_doc: String,
}

fn signer() -> SystemSigner {
    let files = pki().files(Role::Signature);
    SystemSigner::from_files(&files.cert, &files.key, time::OffsetDateTime::now_utc()).unwrap()
}

fn values(n: u32) -> MessageValues {
    compose::scenario_self_paying(format!("2.999.5851.9.7.{n}"), format!("2.999.5851.9.8.{n}"))
}

async fn store(conn: &mut kantakoe::client::Connection, v: &MessageValues) -> String {
    let built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        v,
        Wrapping::Soap11,
        Some(&signer()),
    )
    .unwrap();
    let reply = conn
        .post(
            "/archive",
            compose::content_type(Wrapping::Soap11),
            built.message,
        )
        .await
        .unwrap();
    String::from_utf8(reply.body.to_vec()).unwrap()
}

/// Starts an archive with its view and stores: a self-paying client's document (v1, hostile
/// narrative), its correction (v2), a purchased-service document in county A's register, and
/// one refused message (a non-test identity code).
pub async fn scenario() -> Scenario {
    let archive = mock_archive::MockArchive::builder()
        .pki_dir(pki().dir())
        .view_listen("127.0.0.1:0".parse().unwrap())
        .fixture_tokens()
        .start()
        .await
        .expect("archive starts");
    let mut conn = support::client(Role::Client)
        .connect(&support::target(&archive))
        .await
        .unwrap();
    let mut v1 = values(1);
    v1.narrative = format!("Asiakkuus alkanut.\n{HOSTILE}");
    let ack = store(&mut conn, &v1).await;
    assert!(ack.contains("typeCode=\"AA\""), "{ack}");
    let v2 = MessageValues {
        message_id_root: "2.999.5851.9.7.2".into(),
        document_id: "2.999.5851.9.8.1.2".into(),
        version: 2,
        replaces: Some(Replaces {
            parent_id: v1.document_id.clone(),
            parent_version: 1,
            reason: ReplacementReason::Correction,
        }),
        narrative: "Asiakkuus alkanut (korjattu).".into(),
        ..v1.clone()
    };
    let ack = store(&mut conn, &v2).await;
    assert!(ack.contains("typeCode=\"AA\""), "{ack}");
    let county = Org {
        oid: COUNTY_A.into(),
        name: "Testilän hyvinvointialue (TESTIAINEISTO)".into(),
    };
    let mut c = MessageValues {
        custodian: county.clone(),
        organiser: Some(county),
        usage_situation: UsageSituation::RegisterUsageRight,
        ..values(3)
    };
    c.client.identity_code = PURCHASED_A.into();
    c.client.given = "Ostopalvelu".into();
    let ack = store(&mut conn, &c).await;
    assert!(ack.contains("typeCode=\"AA\""), "{ack}");
    let mut refused = values(4);
    refused.client.identity_code = "010190-123X".into();
    let ack = store(&mut conn, &refused).await;
    assert!(ack.contains("typeCode=\"AE\""), "{ack}");
    Scenario {
        archive,
        v1: v1.document_id,
        v2: v2.document_id,
        county_doc: c.document_id,
    }
}

/// An HTTP answer read whole.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: String,
}

impl Answer {
    /// The first header of this name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The session cookie (`name=value`) the answer sets.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .find_map(|(_, v)| {
                let pair = v.split(';').next()?;
                pair.starts_with(mock_archive::VIEW_COOKIE)
                    .then(|| pair.to_owned())
            })
    }
}

/// Why an HTTPS exchange failed.
#[derive(Debug)]
pub struct Failed(pub String);

/// A TLS connection to the archive on `port` (host name `localhost`), trusting the test CA,
/// with the client certificate of `identity` if given, from the local address `from` if given
/// (any loopback address, e.g. `127.0.0.2`, to be another client).
pub async fn tls_connect(
    port: u16,
    identity: Option<Role>,
    from: Option<std::net::IpAddr>,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, Failed> {
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_file_iter(pki().ca()).unwrap() {
        roots.add(ca.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some(role) => {
            let files = pki().files(role);
            let chain = CertificateDer::pem_file_iter(&files.cert)
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(&files.key).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let to = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let tcp = match from {
        None => tokio::net::TcpStream::connect(to).await,
        Some(ip) => {
            let socket =
                tokio::net::TcpSocket::new_v4().map_err(|e| Failed(format!("socket: {e}")))?;
            socket
                .bind(std::net::SocketAddr::new(ip, 0))
                .map_err(|e| Failed(format!("bind {ip}: {e}")))?;
            socket.connect(to).await
        }
    }
    .map_err(|e| Failed(format!("connect: {e}")))?;
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .map_err(|e| Failed(format!("handshake: {e}")))
}

/// One HTTP/1.1 exchange over a fresh TLS connection (`Connection: close`), trusting the test
/// CA, with the client certificate of `identity` if given.
pub async fn https(
    port: u16,
    identity: Option<Role>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Answer, Failed> {
    https_from(None, port, identity, method, path, headers, body).await
}

/// [`https`] from the local address `from`; a `host` among `headers` replaces the default
/// `localhost:<port>`.
pub async fn https_from(
    from: Option<std::net::IpAddr>,
    port: u16,
    identity: Option<Role>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Answer, Failed> {
    let mut tls = tls_connect(port, identity, from).await?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        request.push_str(&format!("host: localhost:{port}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    tls.write_all(&bytes)
        .await
        .map_err(|e| Failed(format!("write: {e}")))?;
    let mut raw = Vec::new();
    // With TLS 1.3 a refused client certificate shows up here, as an alert on the first read.
    tls.read_to_end(&mut raw)
        .await
        .map_err(|e| Failed(format!("read: {e}")))?;
    answer_of(raw)
}

/// An HTTP/1.1 answer read whole (its body is everything after the head).
pub fn answer_of(raw: Vec<u8>) -> Result<Answer, Failed> {
    let text = String::from_utf8(raw).map_err(|e| Failed(format!("not UTF-8: {e}")))?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| Failed(format!("no header end in {text:?}")))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Failed(format!("no status line in {head:?}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// The view's port.
pub fn view_port(archive: &MockArchiveHandle) -> u16 {
    archive.view_addr().expect("the view is on").port()
}

/// GET on the view with a cookie (or none).
pub async fn view_get(archive: &MockArchiveHandle, path: &str, cookie: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("cookie", c)).into_iter().collect();
    https(view_port(archive), None, "GET", path, &headers, b"")
        .await
        .unwrap()
}

/// A form POST on the view.
pub async fn view_post(
    archive: &MockArchiveHandle,
    path: &str,
    cookie: Option<&str>,
    form: &str,
) -> Answer {
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(c) = cookie {
        headers.push(("cookie", c));
    }
    https(
        view_port(archive),
        None,
        "POST",
        path,
        &headers,
        form.as_bytes(),
    )
    .await
    .unwrap()
}

/// Signs in with `token`; returns the session cookie.
pub async fn sign_in(archive: &MockArchiveHandle, token: &str) -> String {
    let answer = view_post(archive, "/signin", None, &format!("token={token}")).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("location"), Some("/register"));
    answer.session_cookie().expect("a session cookie")
}

/// The inspection API over mutual TLS with an archivist token.
pub async fn inspect(
    archive: &MockArchiveHandle,
    method: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let answer = https(
        archive.addr().port(),
        Some(Role::Client),
        method,
        "/inspect/checklist",
        &headers,
        body.as_bytes(),
    )
    .await
    .unwrap();
    (
        answer.status,
        serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{e}: {}", answer.body)),
    )
}

/// A checklist over the scenario's provider documents.
pub fn checklist_json(s: &Scenario) -> String {
    serde_json::json!({
        "case": "kayttoonottokoe",
        "title": "Käyttöönottokoe (harjoitus)",
        "title_sv": "Ibruktagningsprov (övning)",
        "steps": [
            {"step": "own-1", "title": "Asiakkuusasiakirja", "title_sv": "Klientrelationshandling",
             "document_id": s.v1,
             "checkpoints": [
                {"id": "own-1/status", "label": "Tila", "field": "status", "expected": "replaced"}]},
            {"step": "own-2", "title": "Korjaus (versio 2)", "title_sv": "Korrigering (version 2)",
             "document_id": s.v2,
             "checkpoints": [
                {"id": "own-2/status", "label": "Tila", "field": "status", "expected": "active"},
                {"id": "own-2/version", "label": "Versio", "field": "version", "expected": "2"},
                {"id": "own-2/holder", "label": "Rekisterinpitäjä", "field": "register_holder",
                 "expected": scenario::PROVIDER_OID},
                {"id": "own-2/client", "label": "Asiakas", "field": "client", "expected": SELF_PAYING},
                {"id": "own-2/group", "label": "Asiakirjaryhmä", "field": "document_group", "expected": "1"},
                {"id": "own-2/hidden", "label": "Ei näy", "field": "hidden_from", "expected": COUNTY_A}]},
            {"step": "connection", "title": "Yhteystesti", "title_sv": "Anslutningstest",
             "document_id": null,
             "checkpoints": [{"id": "connection/ok", "label": "Yhteys toimii", "expected": null}]}
        ]
    })
    .to_string()
}

/// The hidden CSRF token in a page.
pub fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF field")
        .to_owned()
}

#[tokio::test]
async fn the_view_needs_no_client_certificate_while_the_message_listener_demands_one() {
    let s = scenario().await;
    let page = view_get(&s.archive, "/signin", None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<form method=\"post\" action=\"/signin\"")
    );
    let refused = https(s.archive.addr().port(), None, "GET", "/health", &[], b"").await;
    let Err(Failed(why)) = refused else {
        panic!("the message listener answered without a client certificate: {refused:?}");
    };
    assert!(
        why.contains("CertificateRequired") || why.contains("certificate"),
        "{why}"
    );
    // And a client certificate is not needed, nor asked, on the view: with one it still works.
    let with_cert = https(
        view_port(&s.archive),
        Some(Role::Client),
        "GET",
        "/signin",
        &[],
        b"",
    )
    .await
    .unwrap();
    assert_eq!(with_cert.status, 200);
    assert!(
        s.archive
            .view_url()
            .unwrap()
            .starts_with("https://localhost:")
    );
}

#[tokio::test]
async fn no_token_or_a_wrong_token_gets_the_sign_in_page_and_no_data() {
    let s = scenario().await;
    for path in [
        "/register".to_owned(),
        format!("/documents/{}", s.v1),
        "/audit".to_owned(),
        "/checklist".to_owned(),
    ] {
        for cookie in [None, Some("__Host-kantakoe-view=0123abcd")] {
            let page = view_get(&s.archive, &path, cookie).await;
            assert_eq!(page.status, 401, "{path}");
            assert!(
                page.body.contains(
                    "<p class=\"message\" id=\"message\">Tämä sivu näkyy vain kirjautuneelle arkistonhoitajalle.</p>"
                ),
                "{path}: {}",
                page.body
            );
            assert!(page.body.contains("action=\"/signin\""), "{path}");
            for secret in [SELF_PAYING, s.v1.as_str(), "Itsemaksava"] {
                assert!(!page.body.contains(secret), "{path} shows {secret}");
            }
        }
    }
    // A form posted from another site is refused, even with a good token (login CSRF).
    let port = view_port(&s.archive);
    let foreign = https(
        port,
        None,
        "POST",
        "/signin",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", "https://evil.example"),
        ],
        format!("token={PROVIDER_ARCHIVIST}").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(foreign.status, 403);
    assert_eq!(foreign.session_cookie(), None);
    let own_origin = format!("https://localhost:{port}");
    let own = https(
        port,
        None,
        "POST",
        "/signin",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("origin", own_origin.as_str()),
        ],
        format!("token={PROVIDER_ARCHIVIST}").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(own.status, 303);
    let wrong = view_post(&s.archive, "/signin", None, "token=guess").await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong
            .body
            .contains("Tunnusta ei tunneta, tai kertakäyttöinen tunnus on jo käytetty."),
        "{}",
        wrong.body
    );
    assert_eq!(wrong.session_cookie(), None);
    let empty = view_post(&s.archive, "/signin", None, "").await;
    assert_eq!(empty.status, 401);
    // A one-time token signs in once, into its own register holder's register.
    let one_time = s
        .archive
        .view_tokens()
        .iter()
        .find(|t| t.register_holder == COUNTY_A)
        .expect("a one-time token for county A")
        .token
        .clone();
    let cookie = sign_in(&s.archive, &one_time).await;
    let page = view_get(&s.archive, "/register", Some(&cookie)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(PURCHASED_A), "{}", page.body);
    assert!(!page.body.contains(SELF_PAYING));
    let again = view_post(&s.archive, "/signin", None, &format!("token={one_time}")).await;
    assert_eq!(again.status, 401);
    // Signing out ends the session.
    let out = view_post(
        &s.archive,
        "/signout",
        Some(&cookie),
        &format!("csrf={}", csrf_of(&page.body)),
    )
    .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), Some("/signin"));
    assert_eq!(
        view_get(&s.archive, "/register", Some(&cookie))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn another_holders_document_is_a_404_like_a_missing_one() {
    let s = scenario().await;
    let county = sign_in(&s.archive, COUNTY_ARCHIVIST).await;
    let own = view_get(
        &s.archive,
        &format!("/documents/{}", s.county_doc),
        Some(&county),
    )
    .await;
    assert_eq!(own.status, 200);
    let other = view_get(&s.archive, &format!("/documents/{}", s.v1), Some(&county)).await;
    let missing = view_get(&s.archive, "/documents/2.999.5851.9.8.404", Some(&county)).await;
    assert_eq!((other.status, missing.status), (404, 404));
    assert_eq!(
        other.body.replace(&s.v1, "[ID]"),
        missing.body.replace("2.999.5851.9.8.404", "[ID]"),
        "a guessed URL of another holder's document must look like a missing one"
    );
    assert!(other.body.contains("Sivua tai asiakirjaa ei löydy."));
    let register = view_get(&s.archive, "/register", Some(&county)).await;
    assert!(!register.body.contains(&s.v1) && !register.body.contains(SELF_PAYING));
    // Nor can the county confirm the provider's checkpoints.
    let (status, _) = inspect(
        &s.archive,
        "PUT",
        Some(PROVIDER_ARCHIVIST),
        &checklist_json(&s),
    )
    .await;
    assert_eq!(status, 200);
    let page = view_get(&s.archive, "/checklist", Some(&county)).await;
    let refused = view_post(
        &s.archive,
        "/checklist/confirm",
        Some(&county),
        &format!("csrf={}&checkpoint=own-2%2Fstatus", csrf_of(&page.body)),
    )
    .await;
    assert_eq!(refused.status, 404);
}

#[tokio::test]
async fn narrative_markup_is_shown_as_text_under_a_csp_without_scripts() {
    let s = scenario().await;
    let cookie = sign_in(&s.archive, PROVIDER_ARCHIVIST).await;
    let page = view_get(&s.archive, &format!("/documents/{}", s.v1), Some(&cookie)).await;
    assert_eq!(page.status, 200);
    // The narrative's text, escaped once by the template...
    assert!(
        page.body.contains(
            "<p>&#60;script&#62;alert(1)&#60;/script&#62; &#60;img src=x onerror=alert(2)&#62;</p>"
        ),
        "{}",
        page.body
    );
    // ... and the XHTML source, whose own escapes are escaped again.
    assert!(
        page.body
            .contains("&#38;lt;script&#38;gt;alert(1)&#38;lt;/script&#38;gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script"), "{}", page.body);
    assert!(!page.body.contains("<img"), "{}", page.body);
    let csp = page.header("content-security-policy").expect("CSP");
    assert_eq!(csp, mock_archive::VIEW_CSP);
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    // Every answer carries them, the sign-in page and a 404 included.
    for path in ["/signin", "/nope", "/style.css"] {
        let a = view_get(&s.archive, path, None).await;
        assert_eq!(
            a.header("content-security-policy"),
            Some(mock_archive::VIEW_CSP)
        );
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
    }
    // The session cookie's attributes.
    let set = view_post(
        &s.archive,
        "/signin",
        None,
        &format!("token={PROVIDER_ARCHIVIST}"),
    )
    .await;
    let cookie_line = set.header("set-cookie").unwrap();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie_line.contains(attribute), "{cookie_line}");
    }
}

#[tokio::test]
async fn the_document_page_shows_metadata_versions_and_the_signature() {
    let s = scenario().await;
    let cookie = sign_in(&s.archive, PROVIDER_ARCHIVIST).await;
    let page = view_get(
        &s.archive,
        &format!("/documents/{}?lang=en", s.v2),
        Some(&cookie),
    )
    .await;
    assert_eq!(page.status, 200);
    let b = &page.body;
    assert!(b.contains("<html lang=\"en\">"));
    assert!(b.contains("Version history"));
    assert!(b.contains("first version"), "{b}");
    assert!(b.contains(&format!("correction ← {}", s.v1)), "{b}");
    assert!(
        b.contains("<td>Client relationship document (1)</td>"),
        "{b}"
    );
    assert!(b.contains("Itsemaksava Testi (010190-901R)"), "{b}");
    let signature = b
        .split("id=\"signature\"")
        .nth(1)
        .and_then(|r| r.split("</table>").next())
        .expect("the signature table");
    assert!(signature.contains("<td>valid</td>"), "{signature}");
    assert!(signature.contains(scenario::PROVIDER_OID), "{signature}");
    assert!(!signature.contains('—'), "{signature}");
    assert!(b.contains("Asiakkuus alkanut (korjattu)."), "{b}");
    assert!(
        page.header("set-cookie")
            .is_some_and(|c| c.starts_with("kantakoe-lang=en")),
        "{:?}",
        page.headers
    );
}

#[tokio::test]
async fn register_filters_languages_and_the_request_log() {
    let s = scenario().await;
    let cookie = sign_in(&s.archive, PROVIDER_ARCHIVIST).await;
    let all = view_get(&s.archive, "/register", Some(&cookie)).await;
    assert!(all.body.contains(&s.v1) && all.body.contains(&s.v2));
    assert!(!all.body.contains(&s.county_doc));
    let none = view_get(&s.archive, "/register?client=030312A903K", Some(&cookie)).await;
    assert!(none.body.contains("Ei asiakirjoja."), "{}", none.body);
    let future = view_get(&s.archive, "/register?from=2999-01-01", Some(&cookie)).await;
    assert!(!future.body.contains(&s.v1));
    let by_type = view_get(
        &s.archive,
        "/register?type=1&client=010190-901R",
        Some(&cookie),
    )
    .await;
    assert!(by_type.body.contains(&s.v2), "{}", by_type.body);
    let other_type = view_get(&s.archive, "/register?type=9", Some(&cookie)).await;
    assert!(!other_type.body.contains(&s.v2));
    let sv = view_get(&s.archive, "/register?lang=sv", Some(&cookie)).await;
    assert!(sv.body.contains("<h2>Klienter</h2>"), "{}", sv.body);
    // The language sticks through its cookie.
    let sv_again = view_get(
        &s.archive,
        "/audit",
        Some(&format!("{cookie}; kantakoe-lang=sv")),
    )
    .await;
    assert!(sv_again.body.contains("Registrets förfrågningslogg"));
    let audit = view_get(&s.archive, "/audit", Some(&cookie)).await;
    let code = kanta_profile::ack::AckCode::from_code("ID-INVALID").unwrap();
    assert!(
        audit.body.contains("<code>ID-INVALID</code>"),
        "{}",
        audit.body
    );
    assert!(
        audit.body.contains(&askama_like(code.finnish())),
        "{}",
        audit.body
    );
    // Each code's text in the page's language.
    assert!(!audit.body.contains(&askama_like(code.english())));
    let en = view_get(&s.archive, "/audit?lang=en", Some(&cookie)).await;
    assert!(
        en.body.contains(&askama_like(code.english())),
        "{}",
        en.body
    );
    assert!(audit.body.contains("outcome-AE"));
    assert!(audit.body.contains("outcome-AA"));
}

/// The HTML-escaped form of a text (what the templates write).
fn askama_like(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn confirming_needs_the_sessions_csrf_token_and_shows_in_the_checklist_api() {
    let s = scenario().await;
    let (status, _) = inspect(
        &s.archive,
        "PUT",
        Some(PROVIDER_ARCHIVIST),
        &checklist_json(&s),
    )
    .await;
    assert_eq!(status, 200);
    let cookie = sign_in(&s.archive, PROVIDER_ARCHIVIST).await;
    let other = sign_in(&s.archive, PROVIDER_ARCHIVIST).await;
    let page = view_get(&s.archive, "/checklist", Some(&cookie)).await;
    assert!(page.body.contains("0/8"), "{}", page.body);
    let other_csrf = csrf_of(&view_get(&s.archive, "/checklist", Some(&other)).await.body);
    for form in [
        "checkpoint=own-2%2Fstatus".to_owned(),
        "csrf=&checkpoint=own-2%2Fstatus".to_owned(),
        format!("csrf={other_csrf}&checkpoint=own-2%2Fstatus"),
    ] {
        let refused = view_post(&s.archive, "/checklist/confirm", Some(&cookie), &form).await;
        assert_eq!(refused.status, 403, "{form}");
        assert!(
            refused
                .body
                .contains("Lomake on vanhentunut tai se ei kuulu tähän istuntoon."),
            "{}",
            refused.body
        );
    }
    let (_, list) = inspect(&s.archive, "GET", Some(PROVIDER_ARCHIVIST), "").await;
    assert_eq!(
        list["steps"][1]["checkpoints"][0]["confirmed"],
        serde_json::Value::Null
    );
    let ok = view_post(
        &s.archive,
        "/checklist/confirm",
        Some(&cookie),
        &format!("csrf={}&checkpoint=own-2%2Fstatus", csrf_of(&page.body)),
    )
    .await;
    assert_eq!(ok.status, 303);
    let (_, list) = inspect(&s.archive, "GET", Some(PROVIDER_ARCHIVIST), "").await;
    let confirmed = &list["steps"][1]["checkpoints"][0]["confirmed"];
    assert_eq!(confirmed["by"], "Arkistonhoitaja Esimerkki (TESTIAINEISTO)");
    assert!(
        time::OffsetDateTime::parse(
            confirmed["at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok(),
        "{confirmed}"
    );
    assert_eq!(
        list["steps"][0]["checkpoints"][0]["confirmed"],
        serde_json::Value::Null
    );
    let page = view_get(&s.archive, "/checklist", Some(&cookie)).await;
    assert!(page.body.contains("1/8"), "{}", page.body);
}

#[tokio::test]
async fn the_checklist_contract_of_the_inspection_api() {
    let s = scenario().await;
    // Documents outside the holder's register are refused, naming them.
    let mut foreign: serde_json::Value = serde_json::from_str(&checklist_json(&s)).unwrap();
    foreign["steps"][0]["document_id"] = s.county_doc.clone().into();
    foreign["steps"][2]["document_id"] = "2.999.404".into();
    let (status, err) = inspect(
        &s.archive,
        "PUT",
        Some(PROVIDER_ARCHIVIST),
        &foreign.to_string(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        err["error"],
        format!(
            "/inspect/checklist: documents not in the register of {}: {}, 2.999.404",
            scenario::PROVIDER_OID,
            s.county_doc
        )
    );
    let (status, err) = inspect(&s.archive, "PUT", Some(PROVIDER_ARCHIVIST), "{\"case\":1}").await;
    assert_eq!(status, 400);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .starts_with("/inspect/checklist: the body is not a checklist: invalid type"),
        "{err}"
    );
    let (status, err) = inspect(&s.archive, "GET", Some(PROVIDER_ARCHIVIST), "").await;
    assert_eq!(status, 404);
    assert_eq!(
        err["error"],
        format!(
            "no checklist for the register of {}: PUT one first",
            scenario::PROVIDER_OID
        )
    );
    let (status, ok) = inspect(
        &s.archive,
        "PUT",
        Some(PROVIDER_ARCHIVIST),
        &checklist_json(&s),
    )
    .await;
    assert_eq!((status, &ok["stored"]), (200, &serde_json::json!(true)));
    let (status, list) = inspect(&s.archive, "GET", Some(PROVIDER_ARCHIVIST), "").await;
    assert_eq!(status, 200);
    assert_eq!(list["case"], "kayttoonottokoe");
    assert_eq!(list["steps"][1]["document_id"], s.v2);
    assert_eq!(list["steps"][2]["document_id"], serde_json::Value::Null);
    assert_eq!(
        list["steps"][2]["checkpoints"][0]["expected"],
        serde_json::Value::Null
    );
    assert_eq!(
        list["steps"][1]["checkpoints"][1]["confirmed"],
        serde_json::Value::Null
    );
    // R8 and sign-in.
    let (status, _) = inspect(&s.archive, "GET", Some(COUNTY_ARCHIVIST), "").await;
    assert_eq!(status, 404);
    let (status, err) = inspect(&s.archive, "PUT", None, &checklist_json(&s)).await;
    assert_eq!(
        (status, err["error"].as_str().unwrap()),
        (
            401,
            "sign in with an archivist token: Authorization: Bearer <token>"
        )
    );
    let (status, err) = inspect(&s.archive, "DELETE", Some(PROVIDER_ARCHIVIST), "").await;
    assert_eq!(
        (status, err["error"].as_str().unwrap()),
        (405, "/inspect/checklist takes GET or PUT, not DELETE")
    );
}

/// Runs `mock-archive serve` with `args`; returns its first stdout line as JSON (and the
/// process, killed on drop), or the exit code and stderr when it stops instead.
pub(crate) fn serve(
    args: &[&str],
) -> Result<(support::ArchiveProcess, serde_json::Value), (i32, String)> {
    use std::io::{BufRead as _, Read as _};
    let pki_dir = pki().dir().display().to_string();
    let mut child = std::process::Command::new(support::bin("mock-archive"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--pki",
            &pki_dir,
        ])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if line.is_empty() {
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        return Err((status.code().unwrap_or(-1), err));
    }
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = v["url"].as_str().unwrap().to_owned();
    Ok((support::ArchiveProcess { child, url }, v))
}

#[tokio::test]
async fn the_binary_announces_the_view_and_its_one_time_tokens_in_its_one_line() {
    let (_process, line) = serve(&[]).unwrap();
    assert_eq!(line["event"], "listening");
    let view = &line["view"];
    let url = view["url"].as_str().unwrap();
    assert!(url.starts_with("https://localhost:"), "{line}");
    let holders: Vec<&str> = view["one_time_tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["register_holder"].as_str().unwrap())
        .collect();
    assert_eq!(holders, [scenario::PROVIDER_OID, COUNTY_A]);
    // The CA that issued the view's certificate, for the browser to trust.
    assert_eq!(view["ca_file"], pki().ca().display().to_string());
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let token = view["one_time_tokens"][1]["token"].as_str().unwrap();
    let signed_in = https(
        port,
        None,
        "POST",
        "/signin",
        &[("content-type", "application/x-www-form-urlencoded")],
        format!("token={token}").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(signed_in.status, 303);

    let (_process, line) = serve(&["--view-holder", COUNTY_A]).unwrap();
    let tokens = line["view"]["one_time_tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["register_holder"], COUNTY_A);

    let (_process, line) = serve(&["--view-listen", "off"]).unwrap();
    assert_eq!(line["view"], serde_json::Value::Null);

    let Err((code, err)) = serve(&["--view-listen", "localhost"]) else {
        panic!("a bad --view-listen must stop the archive");
    };
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "mock-archive: error: view listen address \"localhost\" is neither an address like \
             127.0.0.1:8444 nor `off`"
        ),
        "{err}"
    );
    let Err((code, err)) = serve(&["--view-holder", "2.999.404"]) else {
        panic!("an unknown --view-holder must stop the archive");
    };
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "mock-archive: error: --view-holder 2.999.404: no organisation of the fixture with \
             that OID may hold a register"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn the_sign_in_page_asks_once_and_says_how_to_trust_the_certificate() {
    let s = scenario().await;
    let page = view_get(&s.archive, "/signin", None).await;
    assert_eq!(page.status, 200);
    let b = &page.body;
    assert!(b.contains("<h1>Kirjaudu sisään</h1>"), "{b}");
    assert!(
        !b.contains("id=\"message\""),
        "no second 'sign in' text: {b}"
    );
    assert!(!b.contains("Kirjaudu ensin"), "{b}");
    let ca = pki().ca().display().to_string();
    assert!(
        b.contains(&format!(
            "Luota siihen tuomalla tiedosto <code>{}</code> selaimen luotettuihin varmentajiin",
            askama_like(&ca)
        )),
        "{b}"
    );
    let sv = view_get(&s.archive, "/signin?lang=sv", None).await.body;
    assert!(
        sv.contains(&format!(
            "importera filen <code>{}</code>",
            askama_like(&ca)
        )),
        "{sv}"
    );
}

#[tokio::test]
async fn the_checklist_reads_as_words_and_a_whole_step_is_confirmed_at_once() {
    let s = scenario().await;
    let (status, _) = inspect(
        &s.archive,
        "PUT",
        Some(PROVIDER_ARCHIVIST),
        &checklist_json(&s),
    )
    .await;
    assert_eq!(status, 200);
    let cookie = sign_in(&s.archive, PROVIDER_ARCHIVIST).await;
    let page = view_get(&s.archive, "/checklist", Some(&cookie)).await;
    let b = &page.body;
    for text in [
        "<p class=\"case\">Käyttöönottokoe (harjoitus) — ",
        "<section class=\"step\" id=\"step-2\" data-step=\"own-2\">",
        "<h2>2. Korjaus (versio 2)</h2>",
        "<td>Tila</td>\n<td>korvattu</td>",
        "<td>Tila</td>\n<td>aktiivinen</td>",
        "<td>Versio</td>\n<td>2</td>",
        "<td>Rekisterinpitäjä</td>\n<td>Hoivapalvelu Esimerkki Oy (TESTIAINEISTO) (2.999.5851.2.1)</td>",
        "<td>Asiakas</td>\n<td>Itsemaksava Testi (TESTIHENKILÖ) (010190-901R)</td>",
        "<td>Asiakirjaryhmä</td>\n<td>Asiakkuusasiakirja (1)</td>",
        "<td>Ei näy toisen rekisterinpitäjän arkistonhoitajalle</td>\n<td>Testilän hyvinvointialue (TESTIAINEISTO) (2.999.5851.2.2)</td>",
        "<button type=\"submit\" class=\"confirm-step\" data-step=\"2\">Vahvista koko vaihe</button>",
    ] {
        assert!(b.contains(text), "{text}\n{b}");
    }
    // Internal ids are not shown (only in hidden fields and data attributes).
    assert!(!b.contains(">own-2/status<"), "{b}");
    assert!(!b.contains("<code>own-2"), "{b}");
    let csrf = csrf_of(b);

    // A whole step at once, back to its place on the page.
    let ok = view_post(
        &s.archive,
        "/checklist/confirm",
        Some(&cookie),
        &format!("csrf={csrf}&step=2"),
    )
    .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.header("location"), Some("/checklist#step-2"));
    let (_, list) = inspect(&s.archive, "GET", Some(PROVIDER_ARCHIVIST), "").await;
    let step = list["steps"][1]["checkpoints"].as_array().unwrap();
    assert_eq!(step.len(), 6);
    assert!(
        step.iter()
            .all(|c| c["confirmed"]["by"] == "Arkistonhoitaja Esimerkki (TESTIAINEISTO)")
    );
    assert_eq!(
        list["steps"][0]["checkpoints"][0]["confirmed"],
        serde_json::Value::Null
    );
    let page = view_get(&s.archive, "/checklist", Some(&cookie)).await.body;
    assert!(page.contains("6/8"), "{page}");
    assert!(
        !page.contains("data-step=\"2\">Vahvista koko vaihe"),
        "nothing left to confirm: {page}"
    );
    // The confirmation time in Finnish time, as people write it.
    let at = mock_archive::view::clock::shown(
        time::OffsetDateTime::now_utc(),
        mock_archive::view::Lang::Fi,
    );
    let day = at.split(" klo ").next().unwrap();
    assert!(
        page.contains(&format!(
            "✓ Arkistonhoitaja Esimerkki (TESTIAINEISTO), {day} klo "
        )),
        "{page}"
    );

    // One checkpoint: back to its step.
    let one = view_post(
        &s.archive,
        "/checklist/confirm",
        Some(&cookie),
        &format!("csrf={csrf}&checkpoint=own-1%2Fstatus"),
    )
    .await;
    assert_eq!(one.header("location"), Some("/checklist#step-1"));
    // A step or checkpoint that is not there, and a form naming neither.
    for form in [
        format!("csrf={csrf}&step=9"),
        format!("csrf={csrf}&step=x"),
        format!("csrf={csrf}&checkpoint=nope"),
    ] {
        let answer = view_post(&s.archive, "/checklist/confirm", Some(&cookie), &form).await;
        assert_eq!(answer.status, 404, "{form}");
    }
    let neither = view_post(
        &s.archive,
        "/checklist/confirm",
        Some(&cookie),
        &format!("csrf={csrf}"),
    )
    .await;
    assert_eq!(neither.status, 400);
}

#[tokio::test]
async fn the_register_fits_without_always_empty_columns_and_shows_finnish_time() {
    let s = scenario().await;
    let cookie = sign_in(&s.archive, PROVIDER_ARCHIVIST).await;
    let page = view_get(&s.archive, "/register", Some(&cookie)).await.body;
    let head = page
        .split("<table id=\"documents\" class=\"wide\">")
        .nth(1)
        .and_then(|r| r.split("</thead>").next())
        .expect("the documents table");
    assert_eq!(head.matches("</th>").count(), 8, "{head}");
    assert!(!head.contains("Palvelutehtävä"), "{head}");
    // The scenario's documents are dated 2026-03-01 11:59 +02:00: Finnish winter time.
    assert!(
        page.contains("<td class=\"nowrap\">1.3.2026 klo 11.59</td>"),
        "{page}"
    );
    assert!(
        !page.contains("+02:00") && !page.contains("+00:00"),
        "{page}"
    );
}
