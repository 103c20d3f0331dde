//! Validation without storing (issue 17, DESIGN §3.7): the validation service over plain HTTP
//! as the public client calls it, `kantakoe validate` giving the same problem list, and
//! `kantakoe example` output that validates clean and is stored by the archive.

use std::path::Path;

use kantakoe::cmd::example::{self, Example};
use kantakoe::cmd::validate::Checks;
use kantakoe::pki::Role;
use kantakoe::signing::SystemSigner;
use mock_archive::format::Wrapping;
use mock_archive::{MockArchive, MockArchiveHandle};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{self, pki, target};

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/interop/social");

fn signer() -> SystemSigner {
    signer_of(Role::Signature)
}

fn signer_of(role: Role) -> SystemSigner {
    let files = pki().files(role);
    SystemSigner::from_files(&files.cert, &files.key, time::OffsetDateTime::now_utc()).unwrap()
}

fn examples() -> Vec<Example> {
    example::examples(&signer(), &signer_of(Role::CountySignature)).unwrap()
}

async fn start() -> MockArchiveHandle {
    MockArchive::builder()
        .pki_dir(pki().dir())
        .validation_listen("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("archive starts")
}

/// POSTs `body` to the validation URL over plain HTTP/1.1; returns status and body.
async fn post(url: &str, body: &[u8]) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_at(rest.find('/').unwrap());
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8(answer).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, body.to_owned())
}

/// With an XML declaration and LF line ends, as the public client sends XML.
fn declared(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    if text.trim_start().starts_with("<?xml") {
        text
    } else {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{text}")
    }
}

/// The request JSON exactly as the public client builds it.
fn request(frame: &str, document: &str) -> Vec<u8> {
    request_for("SP1", frame, document)
}

/// The request JSON for service request `service_request`.
fn request_for(service_request: &str, frame: &str, document: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "messageId": "6f1c2d9e-3b4a-4c5d-8e7f-0a1b2c3d4e5f",
        "palveluPyynto": service_request,
        "level": "1",
        "siirtokehysXml": declared(frame),
        "asiakirjaXml": declared(document),
    }))
    .unwrap()
}

/// The frame of a built message with its MIME payload replaced by a placeholder, as the
/// public 2026 frame has it.
fn placeholder_frame(message: &[u8]) -> String {
    let text = String::from_utf8(message.to_vec()).unwrap();
    let open = "<text mediaType=\"multipart/related\">";
    let start = text.find(open).unwrap() + open.len();
    let end = start + text[start..].find("</text>").unwrap();
    format!(
        "{}<mimeEncode><DXS dat=\"1\" id=\"1\"/></mimeEncode>{}",
        &text[..start],
        &text[end..]
    )
}

/// The CDA with one word of its (signed) narrative changed.
fn tamper_narrative(cda: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let open = "representation=\"B64\">";
    let start = cda.find(open).unwrap() + open.len();
    let end = start + cda[start..].find("</text>").unwrap();
    let narrative = String::from_utf8(b64.decode(&cda[start..end]).unwrap()).unwrap();
    let changed = narrative.replace("kotihoito", "kotihoitoa");
    assert_ne!(changed, narrative);
    format!("{}{}{}", &cda[..start], b64.encode(changed), &cda[end..])
}

fn first_example() -> Example {
    examples().remove(0)
}

fn checks() -> Checks {
    Checks {
        orgs: None,
        trust: vec![pki().ca()],
    }
}

fn read_interop(name: &str) -> String {
    std::fs::read_to_string(Path::new(INTEROP).join(name)).unwrap()
}

/// The problems a careful reader expects in the public 2026 sample against our fixture and
/// test CA: its signer's CA is not ours, and its organisations are not in our fixture (so
/// neither is the signer's entitlement to sign for the service unit)
/// (the client 200111A904P of the sample is not among the fixture's clients either).
const PUBLIC_SAMPLE_DESCRIPTION: &str = concat!(
    "1: SIG-UNTRUSTED Allekirjoitusvarmenne ei ole luotetun varmentajan myöntämä (sijainti: //hl7:ClinicalDocument//hl7fi:signatureCollection/hl7fi:signature): signer certificate C=FI, ST=Finland, L=Vantaa, O=Vantaan ja Keravan hyvinvointialue, serialNumber=1.2.246.10.32213561.10.0, CN=Potilastietojärjestelmä (issuer C=FI, O=Digi- ja vaestotietovirasto TEST, OU=Sosiaali- ja terveydenhuollon testipalveluvarmenteet, CN=DVV TEST Social Welfare and Healthcare Service Certs - G3R) does not chain to a configured signature CA: no configured CA issued it; ",
    "2: SIG-NOT-ALLOWED Allekirjoittajan organisaatio ei saa allekirjoittaa tekijäorganisaation puolesta (sijainti: //hl7:ClinicalDocument//hl7fi:signatureCollection/hl7fi:signature): signer organisation 1.2.246.10.32213561.10.0 may not sign for author organisation 1.2.246.10.1246109.10.2001213: neither the same organisation nor a vendor registered for it; ",
    "3: ORG-SENDER-UNKNOWN Sanoman lähettäjäorganisaatio on tuntematon (sijainti: /*/hl7:sender/hl7:device/hl7:id): sender 1.2.246.10.32213561.10.0 is not in the organisation register; ",
    "4: ORG-UNIT-UNKNOWN Palveluyksikkö on tuntematon (sijainti: //hl7:ClinicalDocument/hl7:componentOf/hl7:encompassingEncounter/hl7:encounterParticipant[@typeCode='ADM']): service unit 1.2.246.10.1246109.10.2001213 is not in the organisation register; ",
    "5: ORG-CUSTODIAN-UNKNOWN Rekisterinpitäjä (custodian) on tuntematon organisaatio (sijainti: //hl7:ClinicalDocument/hl7:custodian/hl7:assignedCustodian/hl7:representedCustodianOrganization/hl7:id): custodian 1.2.246.10.32213561.10.0 is not in the organisation register; ",
    "6: R-NO-RELATIONSHIP Asiakkaalla ei ole palvelusuhdetta palveluntuottajaan (sijainti: //hl7:ClinicalDocument/hl7:recordTarget/hl7:patientRole/hl7:id): client 200111A904P has no service relationship with 1.2.246.10.32213561.10.0",
);

#[tokio::test]
async fn a_valid_frame_with_a_placeholder_and_its_signed_cda_is_200_with_an_empty_body() {
    let archive = start().await;
    let url = archive.validation_url().unwrap();
    let e = first_example();
    let frame = placeholder_frame(&e.message);
    let cda = String::from_utf8(e.cda.clone()).unwrap();
    let (status, body) = post(&url, &request(&frame, &cda)).await;
    assert_eq!((status, body.as_str()), (200, ""));
    // Nothing was stored: the same message is stored afterwards as new.
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let reply = conn
        .post("/archive", Wrapping::Bare.content_type(), e.message)
        .await
        .unwrap();
    let ack = String::from_utf8(reply.body.to_vec()).unwrap();
    assert!(ack.contains("typeCode=\"AA\""), "{ack}");
}

#[tokio::test]
async fn a_service_task_document_under_sp17_is_200_with_an_empty_body() {
    let archive = start().await;
    let url = archive.validation_url().unwrap();
    // Example 04: the service task document of a self-paying client, sent under SP17.
    let e = examples().remove(3);
    assert!(e.name.starts_with("04-service-task"), "{}", e.name);
    let frame = placeholder_frame(&e.message);
    let cda = String::from_utf8(e.cda.clone()).unwrap();
    let (status, body) = post(&url, &request_for("SP17", &frame, &cda)).await;
    assert_eq!((status, body.as_str()), (200, ""));
}

#[tokio::test]
async fn the_public_2026_sample_lists_exactly_the_expected_problems_the_same_as_kantakoe_validate()
{
    let archive = start().await;
    let url = archive.validation_url().unwrap();
    let frame = read_interop("Asiakkuusasiakirja_K.xml");
    let cda = read_interop("Asiakkuusasiakirja_S.as-signed.xml");
    let (status, body) = post(&url, &request(&frame, &cda)).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let description = v["description"].as_str().unwrap();
    assert_eq!((status, description), (400, PUBLIC_SAMPLE_DESCRIPTION));
    // The same problem list offline, from the same function.
    let checker = checks().load().unwrap();
    let details = checker.parts(declared(&frame).as_bytes(), declared(&cda).as_bytes());
    assert_eq!(mock_archive::validate::description(&details), description);
    // And from the command line.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("frame.xml"), declared(&frame)).unwrap();
    std::fs::write(dir.path().join("cda.xml"), declared(&cda)).unwrap();
    let out = support::kantakoe_cmd(dir.path())
        .args(["validate", "frame.xml", "cda.xml", "--json", "--trust"])
        .arg(pki().ca())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["description"], description);
}

#[tokio::test]
async fn a_tampered_document_gets_the_signature_problem() {
    let archive = start().await;
    let url = archive.validation_url().unwrap();
    let e = first_example();
    let frame = placeholder_frame(&e.message);
    let cda = tamper_narrative(&String::from_utf8(e.cda).unwrap());
    let (status, body) = post(&url, &request(&frame, &cda)).await;
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let description = v["description"].as_str().unwrap();
    assert!(
        description.starts_with("1: SIG-INVALID Järjestelmäallekirjoitus ei ole eheä (sijainti: //hl7:ClinicalDocument//hl7fi:signatureCollection/hl7fi:signature): "),
        "{description}"
    );
    assert!(!description.contains("2: "), "{description}");
}

#[tokio::test]
async fn bad_requests_get_400_with_a_json_description() {
    let archive = start().await;
    let url = archive.validation_url().unwrap();
    let cases: [(&[u8], &str); 3] = [
        (
            b"{not json",
            "Pyyntö ei ole odotettua JSONia (the request is not the expected JSON): key must be a string at line 1 column 2",
        ),
        (
            br#"{"messageId": "x", "palveluPyynto": "SP1", "level": "1", "siirtokehysXml": "<a/>"}"#,
            "Pyyntö ei ole odotettua JSONia (the request is not the expected JSON): missing field `asiakirjaXml` at line 1 column 82",
        ),
        (
            br#"{"messageId": "x", "palveluPyynto": "SP9", "level": "2", "siirtokehysXml": "<a/>", "asiakirjaXml": "<b/>"}"#,
            "Tuntematon palvelupyyntö \"SP9\"; tunnetut: SP1, SP17 (unknown service request code)",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = post(&url, body).await;
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(
            (status, v["description"].as_str().unwrap()),
            (400, expected)
        );
    }
    // The same path on the mutual-TLS message listener.
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let reply = conn
        .post(
            mock_archive::validation::PATH,
            "application/json",
            b"{not json".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 400);
}

#[tokio::test]
async fn every_example_validates_clean_and_is_stored_by_the_archive() {
    let archive = start().await;
    let checker = checks().load().unwrap();
    let examples = examples();
    assert_eq!(examples.len(), 12);
    let sent_as: Vec<_> = examples.iter().map(|e| e.sends_as).collect();
    assert_eq!(sent_as[..10], [Role::Client; 10]);
    assert_eq!(sent_as[10..], [Role::CountyClient; 2]);
    for e in examples {
        assert_eq!(checker.message(&e.message), [], "{}", e.name);
        let mut conn = support::client(e.sends_as)
            .connect(&target(&archive))
            .await
            .unwrap();
        let reply = conn
            .post("/archive", e.wrapping.content_type(), e.message.clone())
            .await
            .unwrap();
        let ack = String::from_utf8(reply.body.to_vec()).unwrap();
        assert!(ack.contains("typeCode=\"AA\""), "{}: {ack}", e.name);
    }
    // The county's own client's document is in the county's register, for its own use.
    let stored = archive.documents("2.999.5851.2.2").unwrap();
    let own: Vec<_> = stored
        .iter()
        .filter(|d| d.client == "150915A931U")
        .collect();
    assert_eq!(own.len(), 2, "{stored:?}");
    for (doc, n) in own.iter().rev().zip([11, 12]) {
        assert_eq!(doc.organiser.as_deref(), Some("2.999.5851.2.2"));
        assert_eq!(doc.message_id, Some(format!("2.999.5851.2.2.10.{n}")));
    }
}

#[test]
fn the_readme_shows_a_generated_example() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let excerpt = example::readme_excerpt(&first_example().cda);
    let block = format!("```xml\n{}```", excerpt);
    assert!(
        readme.contains(&block),
        "README.md's \"What a valid message looks like\" is out of date; it should hold:\n{block}"
    );
}

#[test]
fn mock_archive_serve_announces_the_validation_url_on_loopback() {
    use std::io::BufRead as _;
    let dir = pki().dir().display().to_string();
    let mut child = std::process::Command::new(support::bin("mock-archive"))
        .args([
            "serve",
            "--pki",
            &dir,
            "--db",
            ":memory:",
            "--view-listen",
            "off",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = v["validation"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:")
            && url.ends_with("/shark-validointi/validoi/asiakirja/tulos"),
        "{line}"
    );
}

#[test]
fn inspect_and_validate_show_the_archive_checks_of_a_whole_message() {
    use kantakoe::compose::{self, Frame, ReplacementReason, UsageSituation};
    let e = first_example();
    let tampered = tamper_narrative(&String::from_utf8(e.cda).unwrap());
    let frame = Frame {
        message_id_root: "2.999.5851.2.1.10.99".into(),
        message_id_extension: None,
        creation_time: "20260301120000+0200".into(),
        sender: "2.999.5851.2.1".into(),
        usage_situation: UsageSituation::Own,
        replacement_reason: ReplacementReason::Correction,
    };
    let message = compose::wrap_cda(tampered.as_bytes(), &frame, Wrapping::Bare).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.xml"), &message).unwrap();
    let ca = pki().ca();
    let run = |args: &[&str]| {
        let out = support::kantakoe_cmd(dir.path())
            .args(args)
            .arg("--trust")
            .arg(&ca)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, validated) = run(&["validate", "m.xml"]);
    assert_eq!(code, Some(1), "{validated}");
    let problem = "1. SIG-INVALID at //hl7:ClinicalDocument//hl7fi:signatureCollection/hl7fi:signature\n   fi: Järjestelmäallekirjoitus ei ole eheä\n   en: the system signature does not verify\n";
    assert!(
        validated.starts_with(&format!("m.xml: 1 problem\n{problem}")),
        "{validated}"
    );
    let (code, inspected) = run(&["inspect", "m.xml"]);
    assert_eq!(code, Some(1), "{inspected}");
    assert!(
        inspected.contains(&format!("archive checks     1\n{problem}")),
        "{inspected}"
    );
}
