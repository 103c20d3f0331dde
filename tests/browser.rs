//! The archivist view in a real browser: headless Chromium driven over WebDriver
//! (`chromedriver` from Debian's `chromium-driver`, installed by `tests/run`) with `fantoccini`.
//! Sign in, open the register, open a document and see its versions, look at the request log,
//! confirm a checkpoint, and check that the inspection API shows the confirmation. A PNG
//! screenshot of each page is saved under `$CARGO_TARGET_TMPDIR/screenshots/`.
//!
//! The browser trusts the archive's test certificate through `acceptInsecureCerts` (the test
//! CA is not installed into Chromium's trust store): the TLS itself is tested elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::view::{PROVIDER_ARCHIVIST, checklist_json, inspect, scenario};

/// A `chromedriver` process, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `chromedriver` on PATH; the test fails (never skips) without it.
fn chromedriver() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("chromedriver"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromedriver is not on PATH: run tests/run (it installs Debian's chromium and \
                 chromium-driver) or `apt-get install -y chromium chromium-driver`"
            )
        })
}

/// Starts chromedriver on a free loopback port and waits (at most 20 s) until it listens.
fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(chromedriver())
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

async fn browser(driver: &Driver) -> Client {
    let capabilities = serde_json::json!({
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1100"]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal")
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with headless Chromium")
}

/// Saves a screenshot of the current page as `<dir>/<name>.png` and prints its path.
/// An element's text once `ok` accepts it. A click that submits a form or follows a link
/// returns before the next page is there, so the old page's element may still be found, go
/// stale, or be missing for a moment: retry for up to ten seconds.
async fn text_when(
    client: &Client,
    id: &str,
    ok: impl Fn(&str) -> bool,
) -> Result<String, fantoccini::error::CmdError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = match client.find(Locator::Id(id)).await {
            Ok(element) => element.text().await.ok(),
            Err(_) => None,
        };
        match text {
            Some(t) if ok(&t) || Instant::now() >= deadline => return Ok(t),
            None if Instant::now() >= deadline => {
                return client.find(Locator::Id(id)).await?.text().await;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The current path once it is `path` (see [`text_when`]); the last one seen otherwise.
async fn path_when(client: &Client, path: &str) -> Result<String, fantoccini::error::CmdError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = client.current_url().await?.path().to_owned();
        if now == path || Instant::now() >= deadline {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs in on the sign-in page the browser shows, and waits for the register.
async fn sign_in(client: &Client, token: &str) -> Result<(), fantoccini::error::CmdError> {
    client
        .find(Locator::Id("token"))
        .await?
        .send_keys(token)
        .await?;
    client.find(Locator::Id("sign-in")).await?.click().await?;
    path_when(client, "/register").await?;
    Ok(())
}

async fn screenshot(client: &Client, dir: &Path, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("screenshot written");
    println!("screenshot: {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archivist_checks_the_register_in_a_real_browser() {
    let binary = chromedriver();
    let s = scenario().await;
    let (status, _) = inspect(
        &s.archive,
        "PUT",
        Some(PROVIDER_ARCHIVIST),
        &checklist_json(&s),
    )
    .await;
    assert_eq!(status, 200);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let base = s.archive.view_url().expect("the view is on");
    let driver = start_driver();
    let client = browser(&driver).await;
    let result = async {
        // The sign-in page: one "sign in", and how to trust the test CA.
        client.goto(&format!("{base}/signin")).await?;
        let trust = client.find(Locator::Id("trust")).await?.text().await?;
        assert!(trust.contains("ca.pem"), "{trust}");
        assert!(
            client.find(Locator::Id("message")).await.is_err(),
            "no second sign-in text"
        );
        screenshot(&client, &dir, "00-sign-in").await;
        // Without a session: the sign-in page, saying why.
        client.goto(&format!("{base}/register")).await?;
        let message = client.find(Locator::Id("message")).await?.text().await?;
        assert_eq!(
            message,
            "Tämä sivu näkyy vain kirjautuneelle arkistonhoitajalle."
        );
        screenshot(&client, &dir, "01-sign-in-needed").await;

        sign_in(&client, PROVIDER_ARCHIVIST).await?;
        assert_eq!(client.current_url().await?.path(), "/register");
        let who = client.find(Locator::Id("archivist")).await?.text().await?;
        assert_eq!(who, "Arkistonhoitaja Esimerkki (TESTIAINEISTO)");
        let documents = client.find(Locator::Id("documents")).await?.text().await?;
        assert!(documents.contains("Itsemaksava Testi"), "{documents}");
        assert!(!documents.contains("150575-9025"), "R8: {documents}");
        screenshot(&client, &dir, "02-register").await;

        // Open the corrected document: its versions and why it changed.
        client
            .find(Locator::Css(&format!("a[href=\"/documents/{}\"]", s.v2)))
            .await?
            .click()
            .await?;
        let document = format!("/documents/{}", s.v2);
        assert_eq!(path_when(&client, &document).await?, document);
        let versions = client.find(Locator::Id("versions")).await?.text().await?;
        assert!(versions.contains("ensimmäinen versio"), "{versions}");
        assert!(
            versions.contains(&format!("korjaus ← {}", s.v1)),
            "{versions}"
        );
        let signature = client.find(Locator::Id("signature")).await?.text().await?;
        assert!(signature.contains("kelvollinen"), "{signature}");
        screenshot(&client, &dir, "03-document-versions").await;

        // The first version's hostile narrative stays text: no script runs, no alert opens.
        client
            .find(Locator::Css(&format!(
                "#versions a[href=\"/documents/{}\"]",
                s.v1
            )))
            .await?
            .click()
            .await?;
        let narrative =
            text_when(&client, "narrative", |t| t.contains(crate::view::HOSTILE)).await?;
        assert!(
            narrative.contains(crate::view::HOSTILE),
            "the markup shows as text: {narrative}"
        );
        assert!(client.get_alert_text().await.is_err(), "no alert may open");
        screenshot(&client, &dir, "04-document-narrative").await;

        client
            .find(Locator::LinkText("Pyyntöloki"))
            .await?
            .click()
            .await?;
        let audit = text_when(&client, "audit", |t| t.contains("ID-INVALID")).await?;
        assert!(audit.contains("ID-INVALID"), "{audit}");
        screenshot(&client, &dir, "05-request-log").await;

        // Confirm a checkpoint.
        client
            .find(Locator::LinkText("Käyttöönottokokeen tarkistuslista"))
            .await?
            .click()
            .await?;
        assert_eq!(text_when(&client, "progress", |t| t == "0/8").await?, "0/8");
        screenshot(&client, &dir, "06-checklist").await;
        client
            .find(Locator::Css("button[data-checkpoint=\"own-2/status\"]"))
            .await?
            .click()
            .await?;
        assert_eq!(text_when(&client, "progress", |t| t == "1/8").await?, "1/8");
        let url = client.current_url().await?;
        assert_eq!((url.path(), url.fragment()), ("/checklist", Some("step-2")));
        let step = client.find(Locator::Id("step-2")).await?.text().await?;
        assert!(
            step.contains("✓ Arkistonhoitaja Esimerkki (TESTIAINEISTO)"),
            "{step}"
        );
        screenshot(&client, &dir, "07-checklist-one-confirmed").await;
        // The rest of the step at once; the page stays at the step.
        client
            .find(Locator::Css("button.confirm-step[data-step=\"2\"]"))
            .await?
            .click()
            .await?;
        assert_eq!(text_when(&client, "progress", |t| t == "6/8").await?, "6/8");
        assert_eq!(client.current_url().await?.fragment(), Some("step-2"));
        screenshot(&client, &dir, "08-checklist-step-confirmed").await;

        // Swedish on request.
        client.goto(&format!("{base}/register?lang=sv")).await?;
        let heading = client.find(Locator::Css("main h1")).await?.text().await?;
        assert_eq!(heading, "Register");
        let clients = client.find(Locator::Css("main h2")).await?.text().await?;
        assert_eq!(clients, "Klienter");
        screenshot(&client, &dir, "09-register-sv").await;
        client.goto(&format!("{base}/documents/{}", s.v2)).await?;
        screenshot(&client, &dir, "10-document-sv").await;
        client.goto(&format!("{base}/audit")).await?;
        screenshot(&client, &dir, "11-request-log-sv").await;
        client.goto(&format!("{base}/checklist")).await?;
        let progress = client.find(Locator::Id("progress")).await?.text().await?;
        assert_eq!(progress, "6/8");
        screenshot(&client, &dir, "12-checklist-sv").await;
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = client.close().await;
    drop(driver);
    result.unwrap_or_else(|e| panic!("WebDriver ({}): {e}", binary.display()));

    // The harness sees the archivist's confirmation.
    let (_, list) = inspect(&s.archive, "GET", Some(PROVIDER_ARCHIVIST), "").await;
    let confirmed = &list["steps"][1]["checkpoints"][0];
    assert_eq!(confirmed["id"], "own-2/status");
    assert_eq!(
        confirmed["confirmed"]["by"],
        "Arkistonhoitaja Esimerkki (TESTIAINEISTO)"
    );
    assert_eq!(
        list["steps"][0]["checkpoints"][0]["confirmed"],
        serde_json::Value::Null
    );
}

/// After a whole `kantakoe rehearse --serve`: the archivist signs in, sees the register, opens
/// the corrected document from the checklist, confirms a checkpoint, and the run's results
/// carry the confirmation once the rehearsal is stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rehearsal_the_archivist_confirms_a_checkpoint_in_the_browser() {
    use std::io::BufRead as _;
    let binary = chromedriver();
    let work = tempfile::tempdir().unwrap();
    let mut rehearsal = crate::support::kantakoe_cmd(work.path())
        .args(["rehearse", "--serve", "--pki"])
        .arg(crate::support::pki().dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(rehearsal.stdout.take().unwrap()).lines();
    let mut base = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("archivist view: ") {
            base = Some(url.to_owned());
        }
        if line.starts_with("confirm the checkpoints in the view") {
            break;
        }
    }
    let base = base.expect("the rehearsal printed the view's address");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let driver = start_driver();
    let client = browser(&driver).await;
    let result = async {
        client.goto(&format!("{base}/register")).await?;
        sign_in(&client, PROVIDER_ARCHIVIST).await?;
        let documents =
            text_when(&client, "documents", |t| t.contains("Itsemaksava Testi")).await?;
        assert!(documents.contains("Itsemaksava Testi"), "{documents}");
        assert!(!documents.contains("150575-9025"), "R8: {documents}");
        screenshot(&client, &dir, "rehearsal-01-register").await;

        client.goto(&format!("{base}/checklist")).await?;
        let progress = client.find(Locator::Id("progress")).await?.text().await?;
        assert!(progress.starts_with("0/"), "{progress}");
        client
            .find(Locator::Css("[data-step=\"oma-korjaus\"] a.step-document"))
            .await?
            .click()
            .await?;
        let versions = text_when(&client, "versions", |t| t.contains("korjaus")).await?;
        assert!(versions.contains("korjaus"), "{versions}");
        screenshot(&client, &dir, "rehearsal-02-corrected-document").await;

        client.goto(&format!("{base}/checklist")).await?;
        client
            .find(Locator::Css(
                "button[data-checkpoint=\"kayttoonottokoe/oma-korjaus/0/status\"]",
            ))
            .await?
            .click()
            .await?;
        let progress = text_when(&client, "progress", |t| t.starts_with("1/")).await?;
        assert!(progress.starts_with("1/"), "{progress}");
        screenshot(&client, &dir, "rehearsal-03-checklist").await;
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = client.close().await;
    drop(driver);
    let stopped = Command::new("kill")
        .args(["-INT", &rehearsal.id().to_string()])
        .status()
        .unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = rehearsal.wait().unwrap();
    result.unwrap_or_else(|e| panic!("WebDriver ({}): {e}", binary.display()));
    assert!(stopped.success());
    assert_eq!(status.code(), Some(0), "{}", rest.join("\n"));
    let results: kantakoe::results::RunResults = serde_json::from_str(
        &std::fs::read_to_string(work.path().join("out/results.json")).unwrap(),
    )
    .unwrap();
    let confirmation = results.confirmation.expect("the archivist's confirmation");
    assert_eq!(confirmation.confirmed, 1);
    assert_eq!(confirmation.by, "Arkistonhoitaja Esimerkki (TESTIAINEISTO)");
}
