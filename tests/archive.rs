//! The archive's message pipeline over real mutual TLS: signed messages built by the harness,
//! acknowledged `AA` only when stored, `AE` listing every broken rule, `AR` for messages that
//! cannot be read as their interaction, SOAP Faults for transport-level faults, R6 for the
//! patient archive's messages, and idempotent resends.

use kanta_profile::format::Wrapping;
use kantakoe::client::Connection;
use kantakoe::compose::{self, DocumentTemplate, MessageValues, Org, UsageSituation};
use kantakoe::pki::{Role, scenario};
use kantakoe::signing::SystemSigner;

use crate::support::{self, pki, start_archive, target};

/// Organisations and clients of the bundled fixture (`testcases/orgs.toml`).
const COUNTY_A: &str = "2.999.5851.2.2";
const SELF_PAYING: &str = "010190-901R";
const PURCHASED_A: &str = "150575-9025";

fn signer() -> SystemSigner {
    let files = pki().files(Role::Signature);
    SystemSigner::from_files(&files.cert, &files.key, time::OffsetDateTime::now_utc()).unwrap()
}

/// County A of the fixture, the organiser that granted the provider a usage right.
fn county_a() -> Org {
    Org {
        oid: COUNTY_A.into(),
        name: "Testilän hyvinvointialue (TESTIAINEISTO)".into(),
    }
}

/// A self-paying client's document into the provider's own register (R1), document `n`.
fn self_paying(n: u32) -> MessageValues {
    compose::scenario_self_paying(format!("2.999.5851.9.1.{n}"), format!("2.999.5851.9.2.{n}"))
}

async fn post(conn: &mut Connection, values: &MessageValues, wrapping: Wrapping) -> (u16, String) {
    let built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        values,
        wrapping,
        Some(&signer()),
    )
    .unwrap();
    let reply = conn
        .post("/archive", compose::content_type(wrapping), built.message)
        .await
        .unwrap();
    (
        reply.status,
        String::from_utf8(reply.body.to_vec()).unwrap(),
    )
}

async fn send_bytes(conn: &mut Connection, message: &[u8]) -> String {
    let reply = conn
        .post("/archive", "text/xml; charset=utf-8", message.to_vec())
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    String::from_utf8(reply.body.to_vec()).unwrap()
}

/// The acknowledgement's type code and detail codes.
fn ack(body: &str) -> (String, Vec<String>) {
    let type_code = body
        .split("<acknowledgement typeCode=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no acknowledgement in {body}"))
        .to_owned();
    let codes = body
        .split("<acknowledgementDetail")
        .skip(1)
        .filter_map(|d| {
            d.split("<code code=\"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .collect();
    (type_code, codes)
}

#[tokio::test]
async fn a_self_paying_clients_document_is_stored_and_a_resend_answers_the_same() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let values = self_paying(1);
    let built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        &values,
        Wrapping::Soap11,
        Some(&signer()),
    )
    .unwrap();
    let body = send_bytes(&mut conn, &built.message).await;
    assert!(
        body.contains("http://schemas.xmlsoap.org/soap/envelope/"),
        "same wrapping: {body}"
    );
    assert_eq!(ack(&body), ("AA".to_owned(), vec![]), "{body}");
    // The same message again: the same answer, byte for byte, stored once.
    assert_eq!(send_bytes(&mut conn, &built.message).await, body);
    // Another body under the same message id (here: signed again, later) is refused.
    let (_, other) = post(&mut conn, &values, Wrapping::Soap11).await;
    assert_eq!(
        ack(&other),
        ("AE".to_owned(), vec!["MSG-ID-REUSED".to_owned()]),
        "{other}"
    );
}

#[tokio::test]
async fn every_wrapping_is_answered_in_kind() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    for (n, wrapping, marker) in [
        (
            11,
            Wrapping::Soap12,
            "http://www.w3.org/2003/05/soap-envelope",
        ),
        (12, Wrapping::Bare, "<MCCI_IN000002UV01"),
    ] {
        let (status, body) = post(&mut conn, &self_paying(n), wrapping).await;
        assert_eq!(status, 200);
        assert!(body.contains(marker), "{body}");
        assert_eq!(ack(&body).0, "AA", "{body}");
    }
}

#[tokio::test]
async fn a_self_paying_clients_document_in_the_countys_register_is_refused_naming_r1() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let county = county_a();
    let values = MessageValues {
        custodian: county.clone(),
        organiser: Some(county),
        usage_situation: UsageSituation::RegisterUsageRight,
        ..self_paying(2)
    };
    let (_, body) = post(&mut conn, &values, Wrapping::Soap11).await;
    let (type_code, codes) = ack(&body);
    assert_eq!(type_code, "AE", "{body}");
    assert!(codes.contains(&"R1-NOT-PROVIDER".to_owned()), "{codes:?}");
}

#[tokio::test]
async fn a_purchased_service_document_in_the_providers_register_is_refused_naming_r2() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let mut values = self_paying(3);
    values.client.identity_code = PURCHASED_A.into();
    let (_, body) = post(&mut conn, &values, Wrapping::Soap11).await;
    let (type_code, codes) = ack(&body);
    assert_eq!(type_code, "AE", "{body}");
    assert!(codes.contains(&"R2-NOT-ORGANISER".to_owned()), "{codes:?}");
}

#[tokio::test]
async fn a_purchased_service_document_in_the_countys_register_is_stored_under_the_usage_right() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let county = county_a();
    let mut values = MessageValues {
        custodian: county.clone(),
        organiser: Some(county),
        usage_situation: UsageSituation::RegisterUsageRight,
        ..self_paying(4)
    };
    values.client.identity_code = PURCHASED_A.into();
    let (_, body) = post(&mut conn, &values, Wrapping::Soap11).await;
    assert_eq!(ack(&body), ("AA".to_owned(), vec![]), "{body}");
}

#[tokio::test]
async fn the_vendor_may_send_for_the_provider_but_a_stranger_may_not() {
    let archive = start_archive().await;
    let mut vendor = support::client(Role::Vendor)
        .connect(&target(&archive))
        .await
        .unwrap();
    let (_, body) = post(&mut vendor, &self_paying(5), Wrapping::Soap11).await;
    assert_eq!(ack(&body).0, "AA", "{body}");
    let mut stranger = support::client(Role::StrangerClient)
        .connect(&target(&archive))
        .await
        .unwrap();
    let (_, body) = post(&mut stranger, &self_paying(6), Wrapping::Soap11).await;
    let (type_code, codes) = ack(&body);
    assert_eq!(type_code, "AE");
    assert_eq!(codes, vec!["ORG-TLS-NOT-SENDER".to_owned()], "{body}");
}

#[tokio::test]
async fn a_changed_body_after_signing_is_refused_naming_the_signature() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let values = self_paying(7);
    let mut built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        &values,
        Wrapping::Bare,
        Some(&signer()),
    )
    .unwrap();
    // Change one narrative character in the signed CDA and rebuild the message around it.
    let cda = String::from_utf8(built.cda.clone()).unwrap();
    let b64_start = cda.find("representation=\"B64\">").unwrap() + "representation=\"B64\">".len();
    let mut tampered = cda.into_bytes();
    tampered[b64_start + 4] = if tampered[b64_start + 4] == b'A' {
        b'B'
    } else {
        b'A'
    };
    built.message = compose::wrap_message(&values, Wrapping::Bare, &tampered).into_bytes();
    let reply = conn
        .post("/archive", "application/xml", built.message)
        .await
        .unwrap();
    let body = String::from_utf8(reply.body.to_vec()).unwrap();
    let (type_code, codes) = ack(&body);
    assert_eq!(type_code, "AE", "{body}");
    assert_eq!(codes, vec!["SIG-INVALID".to_owned()], "{body}");
    assert!(body.contains("digest mismatch"), "{body}");
    assert!(!body.contains("SIG_"), "one name per problem: {body}");
}

#[tokio::test]
async fn patient_archive_messages_are_refused_as_the_wrong_repository() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    for file in ["RCMR_IN100002FI01.xml", "RCMR_IN100016FI01.xml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/interop")
            .join(file);
        let Ok(bytes) = std::fs::read(&path) else {
            // The interop files live beside the repository (CI has them); the project's own
            // corpus is checked below either way.
            continue;
        };
        let reply = conn
            .post("/archive", "application/xml", bytes)
            .await
            .unwrap();
        let body = String::from_utf8(reply.body.to_vec()).unwrap();
        assert_eq!(
            ack(&body),
            ("AE".to_owned(), vec!["R6-WRONG-REPOSITORY".to_owned()]),
            "{file}: {body}"
        );
    }
    let mut values = self_paying(8);
    values.message_id_root = "2.999.5851.9.1.8".into();
    let built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        &values,
        Wrapping::Bare,
        Some(&signer()),
    )
    .unwrap();
    let patient = String::from_utf8(built.message)
        .unwrap()
        .replace("RCMR_IN200002FI01", "RCMR_IN100002FI01");
    let reply = conn
        .post("/archive", "application/xml", patient)
        .await
        .unwrap();
    let body = String::from_utf8(reply.body.to_vec()).unwrap();
    assert_eq!(
        ack(&body),
        ("AE".to_owned(), vec!["R6-WRONG-REPOSITORY".to_owned()]),
        "{body}"
    );
}

#[tokio::test]
async fn transport_level_faults_get_an_http_error_with_a_soap_fault() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let cases: [(&str, &str, u16, &str); 4] = [
        (
            "application/json",
            "{}",
            415,
            "unsupported content type &quot;application/json&quot;: send text/xml (SOAP 1.1)",
        ),
        (
            "text/xml",
            "this is not xml",
            400,
            "the request is not a readable HL7 V3 message: ",
        ),
        (
            "text/xml",
            "<?xml version=\"1.0\"?><!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a/>",
            400,
            "XML_DOCTYPE",
        ),
        (
            "text/xml",
            "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            400,
            "XML_ENTITY_DECLARATION at /: an entity declaration inside &lt;!DOCTYPE&gt;",
        ),
    ];
    for (ct, body, status, needle) in cases {
        let reply = conn.post("/archive", ct, body.to_owned()).await.unwrap();
        let text = String::from_utf8(reply.body.to_vec()).unwrap();
        assert_eq!(reply.status, status, "{text}");
        assert!(
            text.contains("<soap:Fault>") && text.contains(needle),
            "{needle}: {text}"
        );
    }
    // The server keeps serving.
    let (_, body) = post(&mut conn, &self_paying(9), Wrapping::Soap11).await;
    assert_eq!(ack(&body).0, "AA", "{body}");
}

/// Archivist tokens of the bundled fixture.
const PROVIDER_ARCHIVIST: &str = "arkistonhoitaja-esimerkki-TESTI";
const COUNTY_A_ARCHIVIST: &str = "arkistonhoitaja-testila-TESTI";

async fn inspect(
    conn: &mut Connection,
    path: &str,
    token: Option<&str>,
) -> (u16, serde_json::Value) {
    let reply = match token {
        Some(t) => conn.get_as(path, t).await.unwrap(),
        None => conn.get(path).await.unwrap(),
    };
    (reply.status, serde_json::from_slice(&reply.body).unwrap())
}

#[tokio::test]
async fn the_inspection_api_shows_one_register_holder_only() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let values = self_paying(20);
    let (_, body) = post(&mut conn, &values, Wrapping::Soap11).await;
    assert_eq!(ack(&body).0, "AA", "{body}");
    let mut refused = self_paying(21);
    refused.client.identity_code = "010190-123X".into();
    let (_, body) = post(&mut conn, &refused, Wrapping::Soap11).await;
    assert_eq!(ack(&body).0, "AE", "{body}");

    // The provider's archivist sees the document, its metadata and the refused request.
    let (status, docs) = inspect(&mut conn, "/inspect/documents", Some(PROVIDER_ARCHIVIST)).await;
    assert_eq!(status, 200, "{docs}");
    let list = docs["documents"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{docs}");
    assert_eq!(list[0]["document_id"], values.document_id);
    assert_eq!(list[0]["register_holder"], scenario::PROVIDER_OID);
    assert_eq!(list[0]["client"], SELF_PAYING);
    assert_eq!(list[0]["status"], "active");
    assert_eq!(list[0]["version"], 1);
    let path = format!("/inspect/documents/{}", values.document_id);
    let (status, doc) = inspect(&mut conn, &path, Some(PROVIDER_ARCHIVIST)).await;
    assert_eq!(status, 200);
    assert_eq!(doc["versions"].as_array().unwrap().len(), 1);
    assert!(
        doc["cda"].as_str().unwrap().contains("<ClinicalDocument"),
        "{doc}"
    );
    let (_, audit) = inspect(&mut conn, "/inspect/audit", Some(PROVIDER_ARCHIVIST)).await;
    let outcomes: Vec<_> = audit["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["outcome"].clone(), e["codes"].clone()))
        .collect();
    assert!(
        outcomes.contains(&(serde_json::json!("AA"), serde_json::json!([]))),
        "{audit}"
    );
    assert!(
        outcomes.iter().any(|(o, c)| o == "AE"
            && c.as_array()
                .unwrap()
                .contains(&serde_json::json!("ID-INVALID"))),
        "{audit}"
    );

    // The county's archivist does not, even with the URL guessed.
    let (_, docs) = inspect(&mut conn, "/inspect/documents", Some(COUNTY_A_ARCHIVIST)).await;
    assert_eq!(docs["documents"], serde_json::json!([]));
    let (status, err) = inspect(&mut conn, &path, Some(COUNTY_A_ARCHIVIST)).await;
    assert_eq!(status, 404);
    assert_eq!(
        err["error"],
        format!(
            "no document {} in the register of {COUNTY_A}",
            values.document_id
        )
    );

    // No token, or a wrong one: no data.
    let (status, err) = inspect(&mut conn, "/inspect/documents", None).await;
    assert_eq!(
        (status, err["error"].as_str().unwrap()),
        (
            401,
            "sign in with an archivist token: Authorization: Bearer <token>"
        )
    );
    let (status, err) = inspect(&mut conn, "/inspect/documents", Some("guess")).await;
    assert_eq!(
        (status, err["error"].as_str().unwrap()),
        (401, "unknown archivist token")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_document_survives_a_sigkill_under_concurrent_load() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("archive.db");
    let pki_dir = pki().dir().display().to_string();
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--pki",
        &pki_dir,
        "--db",
        db.to_str().unwrap(),
    ];
    let mut archive = support::spawn_archive(&args);
    let target = kantakoe::client::Target::parse(&archive.url).unwrap();

    // Build the messages first: signing is the client's cost, not the archive's.
    let messages: Vec<(String, Vec<u8>)> = (0..400)
        .map(|n| {
            let v = self_paying(1000 + n);
            let built = compose::build_message(
                &DocumentTemplate::client_relationship(),
                &v,
                Wrapping::Bare,
                Some(&signer()),
            )
            .unwrap();
            (v.document_id, built.message)
        })
        .collect();
    let messages = std::sync::Arc::new(messages);
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let (messages, acked, target) = (messages.clone(), acked.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(mut conn) = support::client(Role::Client).connect(&target).await else {
                return;
            };
            for (id, message) in messages.iter().skip(worker).step_by(8) {
                let Ok(reply) = conn
                    .post("/archive", "application/xml", message.clone())
                    .await
                else {
                    return;
                };
                if ack(&String::from_utf8_lossy(&reply.body)).0 == "AA" {
                    acked.lock().unwrap().push(id.clone());
                }
            }
        }));
    }
    // Let some documents through, then kill the archive in the middle of the load.
    while acked.lock().unwrap().len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    archive.child.kill().unwrap();
    archive.child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 40 && acked.len() < messages.len(),
        "killed mid-load: {} acked",
        acked.len()
    );

    // Restart on the same database: every acknowledged document is there, whole.
    let archive = support::spawn_archive(&args);
    let target = kantakoe::client::Target::parse(&archive.url).unwrap();
    let mut conn = support::client(Role::Client)
        .connect(&target)
        .await
        .unwrap();
    let (_, docs) = inspect(&mut conn, "/inspect/documents", Some(PROVIDER_ARCHIVIST)).await;
    let stored: std::collections::HashSet<String> = docs["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["document_id"].as_str().unwrap().to_owned())
        .collect();
    for id in &acked {
        assert!(
            stored.contains(id),
            "acknowledged document {id} lost after SIGKILL"
        );
    }
    for id in acked.iter().take(5) {
        let (status, doc) = inspect(
            &mut conn,
            &format!("/inspect/documents/{id}"),
            Some(PROVIDER_ARCHIVIST),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            doc["cda"]
                .as_str()
                .unwrap()
                .ends_with("</ClinicalDocument>")
                || doc["cda"]
                    .as_str()
                    .unwrap()
                    .trim_end()
                    .ends_with("</ClinicalDocument>")
        );
    }
    // Nothing half-stored: every stored document is one the archive would have acknowledged,
    // and resending an acknowledged message gives AA again without storing twice.
    assert!(stored.len() >= acked.len());
    let (id, message) = messages.iter().find(|(id, _)| id == &acked[0]).unwrap();
    let reply = conn
        .post("/archive", "application/xml", message.clone())
        .await
        .unwrap();
    assert_eq!(
        ack(&String::from_utf8_lossy(&reply.body)).0,
        "AA",
        "resend of {id}"
    );
    let (_, after) = inspect(&mut conn, "/inspect/documents", Some(PROVIDER_ARCHIVIST)).await;
    assert_eq!(after["documents"].as_array().unwrap().len(), stored.len());
}

/// A correction (version 2) of `parent`, document `n`.
fn correction_of(parent: &MessageValues, n: u32) -> MessageValues {
    MessageValues {
        set_id: parent.document_id.clone(),
        version: 2,
        replaces: Some(compose::Replaces {
            parent_id: parent.document_id.clone(),
            parent_version: 1,
            reason: compose::ReplacementReason::Correction,
        }),
        ..self_paying(n)
    }
}

/// The acknowledgement itself, without XML declaration or envelope.
fn bare_ack(body: &str) -> &str {
    let start = body.find("<MCCI_IN000002UV01").expect("an acknowledgement");
    let end = body.find("</MCCI_IN000002UV01>").expect("its end") + "</MCCI_IN000002UV01>".len();
    &body[start..end]
}

async fn post_as(conn: &mut Connection, content_type: &str, message: &[u8]) -> (u16, String) {
    let reply = conn
        .post("/archive", content_type, message.to_vec())
        .await
        .unwrap();
    (
        reply.status,
        String::from_utf8(reply.body.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn a_resend_in_another_envelope_is_the_same_message_answered_in_its_own_wrapping() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let values = self_paying(40);
    let built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        &values,
        Wrapping::Soap11,
        Some(&signer()),
    )
    .unwrap();
    let (_, first) = post_as(&mut conn, "text/xml", &built.message).await;
    assert_eq!(ack(&first), ("AA".to_owned(), vec![]), "{first}");
    // The same HL7 message bare, in SOAP 1.2, and in SOAP 1.1 with a new WS-Addressing header.
    let bare = compose::wrap_message(&values, Wrapping::Bare, &built.cda);
    let soap12 = compose::wrap_message(&values, Wrapping::Soap12, &built.cda);
    let soap11 = String::from_utf8(built.message.clone()).unwrap().replace(
        "<soap:Header/>",
        "<soap:Header><wsa:MessageID xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">urn:uuid:5f0c4c2e-0000-4000-8000-000000000040</wsa:MessageID></soap:Header>",
    );
    for (content_type, message, marker) in [
        ("application/xml", bare, None),
        (
            "application/soap+xml",
            soap12,
            Some("http://www.w3.org/2003/05/soap-envelope"),
        ),
        (
            "text/xml",
            soap11,
            Some("http://schemas.xmlsoap.org/soap/envelope/"),
        ),
    ] {
        let (status, again) = post_as(&mut conn, content_type, message.as_bytes()).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(bare_ack(&again), bare_ack(&first), "{content_type}");
        match marker {
            Some(envelope) => assert!(again.contains(envelope), "{again}"),
            None => assert!(!again.contains("Envelope"), "{again}"),
        }
    }
    let (_, docs) = inspect(&mut conn, "/inspect/documents", Some(PROVIDER_ARCHIVIST)).await;
    let stored = docs["documents"].as_array().unwrap();
    assert_eq!(stored.len(), 1, "stored once: {docs}");
}

#[tokio::test]
async fn a_refused_message_is_judged_afresh_when_it_comes_again() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let parent = self_paying(43);
    let child = correction_of(&parent, 44);
    let child_message = compose::build_message(
        &DocumentTemplate::client_relationship(),
        &child,
        Wrapping::Bare,
        Some(&signer()),
    )
    .unwrap()
    .message;
    // The child before its parent: refused, and nothing remembered.
    let (_, early) = post_as(&mut conn, "application/xml", &child_message).await;
    assert_eq!(
        ack(&early),
        ("AE".to_owned(), vec!["V-PARENT-UNKNOWN".to_owned()]),
        "{early}"
    );
    let (_, body) = post(&mut conn, &parent, Wrapping::Bare).await;
    assert_eq!(ack(&body), ("AA".to_owned(), vec![]), "{body}");
    // The child's identical bytes again, now that the parent is stored: accepted.
    let (_, late) = post_as(&mut conn, "application/xml", &child_message).await;
    assert_eq!(ack(&late), ("AA".to_owned(), vec![]), "{late}");
}

#[tokio::test]
async fn an_unknown_replacement_reason_is_one_detail_at_its_own_location() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let parent = self_paying(45);
    let (_, body) = post(&mut conn, &parent, Wrapping::Bare).await;
    assert_eq!(ack(&body).0, "AA", "{body}");
    let child = correction_of(&parent, 46);
    let built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        &child,
        Wrapping::Bare,
        Some(&signer()),
    )
    .unwrap();
    let message = String::from_utf8(built.message).unwrap().replacen(
        "<reasonCode code=\"1\" codeSystem=\"1.2.246.537.5.40178.2008\"",
        "<reasonCode code=\"7\" codeSystem=\"1.2.246.537.5.40178.2008\"",
        1,
    );
    let (_, body) = post_as(&mut conn, "application/xml", message.as_bytes()).await;
    assert_eq!(
        ack(&body),
        ("AE".to_owned(), vec!["V-REASON".to_owned()]),
        "{body}"
    );
    assert!(
        body.contains("/*/hl7:controlActProcess/hl7:subject/hl7:clinicalDocument/hl7:reasonCode"),
        "{body}"
    );
    assert!(
        body.contains("reason code &quot;7&quot; is neither 1 (correction) nor 2 (invalidation) in 1.2.246.537.5.40178.2008")
            || body.contains("reason code \"7\" is neither 1 (correction) nor 2 (invalidation) in 1.2.246.537.5.40178.2008"),
        "{body}"
    );
}

#[tokio::test]
async fn an_envelope_under_the_other_soap_versions_content_type_is_a_named_fault() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let values = self_paying(47);
    for (wrapping, content_type, text) in [
        (
            Wrapping::Soap11,
            "application/soap+xml",
            "a SOAP 1.1 envelope (http://schemas.xmlsoap.org/soap/envelope/) was sent as application/soap+xml: SOAP 1.1 goes with text/xml, SOAP 1.2 (http://www.w3.org/2003/05/soap-envelope) with application/soap+xml",
        ),
        (
            Wrapping::Soap12,
            "text/xml",
            "a SOAP 1.2 envelope (http://www.w3.org/2003/05/soap-envelope) was sent as text/xml: SOAP 1.2 goes with application/soap+xml, SOAP 1.1 (http://schemas.xmlsoap.org/soap/envelope/) with text/xml",
        ),
    ] {
        let built = compose::build_message(
            &DocumentTemplate::client_relationship(),
            &values,
            wrapping,
            Some(&signer()),
        )
        .unwrap();
        let (status, body) = post_as(&mut conn, content_type, &built.message).await;
        assert_eq!(status, 415, "{body}");
        assert!(
            body.contains(&format!("<faultstring>{text}</faultstring>")),
            "{body}"
        );
    }
    // Nothing was stored: the same message under its own content type is accepted.
    let (_, body) = post(&mut conn, &values, Wrapping::Soap11).await;
    assert_eq!(ack(&body), ("AA".to_owned(), vec![]), "{body}");
}

/// A purchased-service client's document signed by the provider whose CDA author names no
/// organisation (the public 2026 sample's shape, `assignedAuthor/id nullFlavor`), with its
/// author professional named only in the message.
fn public_shaped(values: &MessageValues) -> Vec<u8> {
    use kantakoe::compose::CdaSigner as _;
    let cda = compose::build_cda(&DocumentTemplate::client_relationship(), values);
    let start = cda.find("<author>").unwrap();
    let end = cda.find("</author>").unwrap() + "</author>".len();
    let cda = format!(
        "{}<author><time nullFlavor=\"NA\"/><assignedAuthor><id nullFlavor=\"NA\"/></assignedAuthor></author>{}",
        &cda[..start],
        &cda[end..]
    );
    let signed = signer().sign_cda(cda.as_bytes()).unwrap();
    compose::wrap_message(values, Wrapping::Bare, &signed).into_bytes()
}

#[tokio::test]
async fn a_provider_signs_an_organisers_document_whose_author_names_no_organisation() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    let county = county_a();
    let mut values = MessageValues {
        custodian: county.clone(),
        organiser: Some(county),
        usage_situation: UsageSituation::RegisterUsageRight,
        ..self_paying(48)
    };
    values.client.identity_code = PURCHASED_A.into();
    // The author organisation is the service unit's owner (the provider), not the custodian.
    let (_, body) = post_as(&mut conn, "application/xml", &public_shaped(&values)).await;
    assert_eq!(ack(&body), ("AA".to_owned(), vec![]), "{body}");
    // The archivist sees the author's name, taken from the message's authorOrPerformer.
    let path = format!("/inspect/documents/{}", values.document_id);
    let (status, doc) = inspect(&mut conn, &path, Some("arkistonhoitaja-testila-TESTI")).await;
    assert_eq!(status, 200, "{doc}");
    let p = values.professional.as_ref().unwrap();
    let expected = format!("\"author_name\":\"{} {}\"", p.given, p.family);
    assert!(doc.to_string().contains(&expected), "{expected} in {doc}");
}

/// A self-paying client's message whose signed body is about 1.4 MB and whose SignedInfo has
/// `references` References: the timestamp's and copies of the body's (issue 14: each copy
/// used to canonicalize the whole body again and keep the copy).
fn hostile_message(n: u32, references: usize) -> Vec<u8> {
    let mut values = self_paying(n);
    // ~1 MB of narrative: the base64 XHTML body is about 1.4 MB.
    values.narrative =
        "Asiakkaan tilanne käytiin läpi ja suunnitelma päivitettiin. ".repeat(17_000);
    let built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        &values,
        Wrapping::Bare,
        Some(&signer()),
    )
    .unwrap();
    let cda = String::from_utf8(built.cda).unwrap();
    let start = cda.find("<ds:SignatureMethod").unwrap();
    let end = cda.find("</ds:SignedInfo>").unwrap();
    let body_ref = &cda[start + cda[start..end].rfind("<ds:Reference").unwrap()..end];
    let hostile = cda.replacen(body_ref, &body_ref.repeat(references - 1), 1);
    compose::wrap_message(&values, Wrapping::Bare, hostile.as_bytes()).into_bytes()
}

#[tokio::test]
async fn three_or_a_thousand_references_are_refused_naming_the_reference_set() {
    let archive = start_archive().await;
    let mut conn = support::client(Role::Client)
        .connect(&target(&archive))
        .await
        .unwrap();
    for (n, references) in [(31, 3), (32, 1000)] {
        let reply = conn
            .post(
                "/archive",
                "application/xml",
                hostile_message(n, references),
            )
            .await
            .unwrap();
        let body = String::from_utf8(reply.body.to_vec()).unwrap();
        let (type_code, codes) = ack(&body);
        assert_eq!(type_code, "AE", "{body}");
        assert_eq!(codes, vec!["SIG-REFERENCES".to_owned()], "{body}");
        assert!(
            body.contains(&format!(
                "SignedInfo has {references} References; the Kanta profile \
                 has exactly 2: the signatureTimestamp and the document body"
            )),
            "{body}"
        );
    }
}

/// While hostile messages are being judged (each refused before any canonicalization),
/// `/health` is answered on another connection; then every hostile message is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_answered_while_hostile_verifications_run() {
    let archive = start_archive().await;
    let target = target(&archive);
    let mut hostile = Vec::new();
    for n in 0..4 {
        let message = hostile_message(40 + n, 1000);
        let mut conn = support::client(Role::Client)
            .connect(&target)
            .await
            .unwrap();
        hostile.push(tokio::spawn(async move {
            let reply = conn
                .post("/archive", "application/xml", message)
                .await
                .unwrap();
            String::from_utf8(reply.body.to_vec()).unwrap()
        }));
    }
    let mut health = support::client(Role::Client)
        .connect(&target)
        .await
        .unwrap();
    let reply = health.get("/health").await.unwrap();
    assert_eq!(reply.status, 200);
    for task in hostile {
        let body = task.await.unwrap();
        assert_eq!(ack(&body).1, vec!["SIG-REFERENCES".to_owned()], "{body}");
    }
    let reply = health.get("/health").await.unwrap();
    assert_eq!(reply.status, 200);
}
