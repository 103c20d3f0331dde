//! Queries over real mutual TLS (issue 16): each kind returns exactly what was stored, in the
//! query's own wrapping; every refusal names its rule (snapshots of the whole answer); the
//! audit log records each query with its result size.

use kanta_profile::format::InstanceId;
use kanta_profile::format::Limits;
use kanta_profile::format::Wrapping;
use kanta_profile::format::query::{
    self, DocumentStatus, QueryFilter, QueryKind, QueryRequest, QueryResponse, QueryResults,
};
use kantakoe::client::Connection;
use kantakoe::compose::{self, DocumentTemplate, MessageValues, Org, UsageSituation};
use kantakoe::pki::{Role, scenario};
use kantakoe::signing::SystemSigner;
use mock_archive::MockArchiveHandle;

use crate::support::{self, pki, start_archive, target};

const COUNTY_A: &str = "2.999.5851.2.2";
const COUNTY_B: &str = "2.999.5851.2.3";
const SMALL_PROVIDER: &str = "2.999.5851.2.4";
const SELF_PAYING: &str = "010190-901R";
const PURCHASED_A: &str = "150575-9025";
const PURCHASED_B: &str = "241180-9045";
const SMALL_PROVIDERS_CLIENT: &str = "280201A9065";

fn signer() -> SystemSigner {
    let files = pki().files(Role::Signature);
    SystemSigner::from_files(&files.cert, &files.key, time::OffsetDateTime::now_utc()).unwrap()
}

fn self_paying(n: u32) -> MessageValues {
    compose::scenario_self_paying(format!("2.999.5851.9.1.{n}"), format!("2.999.5851.9.2.{n}"))
}

fn purchased_a(n: u32) -> MessageValues {
    let county = Org {
        oid: COUNTY_A.into(),
        name: "Testilän hyvinvointialue (TESTIAINEISTO)".into(),
    };
    let mut values = MessageValues {
        custodian: county.clone(),
        organiser: Some(county),
        usage_situation: UsageSituation::RegisterUsageRight,
        ..self_paying(n)
    };
    values.client.identity_code = PURCHASED_A.into();
    values
}

/// Stores `values` and returns the CDA bytes the archive received.
async fn store(conn: &mut Connection, values: &MessageValues) -> Vec<u8> {
    let built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        values,
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
    let body = String::from_utf8(reply.body.to_vec()).unwrap();
    assert!(body.contains("typeCode=\"AA\""), "{body}");
    built.cda
}

fn request(kind: QueryKind, asker: &str, holder: &str, client: &str) -> QueryRequest {
    QueryRequest {
        kind,
        id: InstanceId {
            root: "2.999.5851.9.7".into(),
            extension: Some(format!("{kind}-{holder}-{client}")),
        },
        creation_time: "20261207120000+0200".into(),
        processing_code: "T".into(),
        receiver: Some(InstanceId::root("1.2.246.556.18007.2")),
        sender: InstanceId::root(asker),
        query_id: InstanceId::root("2.999.5851.9.8"),
        register_holder: holder.into(),
        client: client.into(),
        document_id: None,
        filter: QueryFilter::default(),
        limit: None,
    }
}

/// Sends a query in `wrapping`; returns the raw answer and the response read from it.
async fn ask(
    conn: &mut Connection,
    q: &QueryRequest,
    wrapping: Wrapping,
) -> (String, QueryResponse) {
    let bare = query::write_request(q);
    let body = mock_archive::pipeline::wrap(wrapping, bare.as_bytes());
    let reply = conn
        .post("/archive", compose::content_type(wrapping), body)
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    let response = query::read_response(&reply.body, &Limits::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, response)
}

async fn connect(archive: &MockArchiveHandle, role: Role) -> Connection {
    support::client(role)
        .connect(&target(archive))
        .await
        .unwrap()
}

fn redacted(text: &str) -> insta::Settings {
    let _ = text;
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r#"creationTime value="[0-9+]+""#,
        r#"creationTime value="[time]""#,
    );
    settings.add_filter(
        r#"<id root="2\.999\.5851\.1\.2\.[0-9]+"/>"#,
        r#"<id root="[answer id]"/>"#,
    );
    settings
}

#[tokio::test]
async fn each_query_kind_returns_exactly_what_was_stored_in_every_wrapping() {
    let archive = start_archive().await;
    let mut provider = connect(&archive, Role::Client).await;
    let own_cda = store(&mut provider, &self_paying(1)).await;
    let county_cda = store(&mut provider, &purchased_a(2)).await;

    for wrapping in [Wrapping::Soap11, Wrapping::Soap12, Wrapping::Bare] {
        // Own register: the provider reads its self-paying client's document byte for byte.
        let mut q = request(
            QueryKind::Document,
            scenario::PROVIDER_OID,
            scenario::PROVIDER_OID,
            SELF_PAYING,
        );
        q.document_id = Some("2.999.5851.9.2.1".into());
        let (text, r) = ask(&mut provider, &q, wrapping).await;
        assert_eq!(r.type_code.as_str(), "AA", "{text}");
        let QueryResults::Documents(docs) = &r.results else {
            panic!("{text}")
        };
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].content.as_deref(), Some(own_cda.as_slice()));
        assert_eq!(docs[0].register_holder, scenario::PROVIDER_OID);
        assert_eq!(docs[0].client, SELF_PAYING);
        assert_eq!(docs[0].status, DocumentStatus::Active);
        assert_eq!(r.target_message, Some(q.id.clone()));

        // The county's register under the usage right: the purchased-service client's document.
        let mut q = request(
            QueryKind::Document,
            scenario::PROVIDER_OID,
            COUNTY_A,
            PURCHASED_A,
        );
        q.document_id = Some("2.999.5851.9.2.2".into());
        let (text, r) = ask(&mut provider, &q, wrapping).await;
        let QueryResults::Documents(docs) = &r.results else {
            panic!("{text}")
        };
        assert_eq!(
            docs[0].content.as_deref(),
            Some(county_cda.as_slice()),
            "{text}"
        );
        assert_eq!(docs[0].organiser.as_deref(), Some(COUNTY_A));
    }

    // The organiser's own system finds and reads the document the producer stored for it.
    let mut county = connect(&archive, Role::CountyClient).await;
    let q = request(QueryKind::Summary, COUNTY_A, COUNTY_A, PURCHASED_A);
    let (text, r) = ask(&mut county, &q, Wrapping::Soap12).await;
    assert_eq!(r.results.document_ids(), ["2.999.5851.9.2.2"], "{text}");
    let mut q = request(QueryKind::Document, COUNTY_A, COUNTY_A, PURCHASED_A);
    q.document_id = Some("2.999.5851.9.2.2".into());
    let (text, r) = ask(&mut county, &q, Wrapping::Soap12).await;
    let QueryResults::Documents(docs) = &r.results else {
        panic!("{text}")
    };
    assert_eq!(docs[0].content.as_deref(), Some(county_cda.as_slice()));

    // Metadata: the description metadata without the bytes.
    let mut q = request(
        QueryKind::Metadata,
        scenario::PROVIDER_OID,
        COUNTY_A,
        PURCHASED_A,
    );
    q.document_id = Some("2.999.5851.9.2.2".into());
    let (_, r) = ask(&mut provider, &q, Wrapping::Soap11).await;
    let stored = archive.documents(COUNTY_A).unwrap();
    let QueryResults::Documents(docs) = &r.results else {
        panic!()
    };
    assert_eq!(docs.len(), 1);
    let (entry, meta) = (&docs[0], &stored[0]);
    assert_eq!(entry.content, None);
    assert_eq!(
        (
            &entry.document_id,
            &entry.set_id,
            entry.version,
            &entry.service_unit,
            &entry.author
        ),
        (
            &meta.document_id,
            &meta.set_id,
            meta.version,
            &meta.service_unit,
            &meta.author
        )
    );
    assert_eq!(entry.document_group, meta.document_group);
    assert_eq!(entry.title, meta.description.title);

    // Summary with filters: the group matches, a time range before the document does not.
    let mut q = request(
        QueryKind::Summary,
        scenario::PROVIDER_OID,
        scenario::PROVIDER_OID,
        SELF_PAYING,
    );
    q.filter.document_group = Some("1".into());
    q.filter.status = Some(DocumentStatus::Active);
    let (_, r) = ask(&mut provider, &q, Wrapping::Soap12).await;
    assert_eq!(r.results.document_ids(), ["2.999.5851.9.2.1"]);
    assert_eq!(r.response_code(), "OK");
    q.filter.until = Some(time::macros::date!(2020 - 01 - 01));
    let (_, r) = ask(&mut provider, &q, Wrapping::Soap12).await;
    assert_eq!((r.results.len(), r.response_code()), (0, "NF"));
    q.filter.until = None;
    q.filter.document_group = Some("5".into());
    let (_, r) = ask(&mut provider, &q, Wrapping::Soap12).await;
    assert!(r.results.is_empty());

    // Relationships and cases.
    let q = request(
        QueryKind::Relationships,
        scenario::PROVIDER_OID,
        COUNTY_A,
        PURCHASED_A,
    );
    let (text, r) = ask(&mut provider, &q, Wrapping::Bare).await;
    let QueryResults::Relationships(rels) = &r.results else {
        panic!("{text}")
    };
    assert_eq!(rels.len(), 1, "{text}");
    assert_eq!(rels[0].producer, scenario::PROVIDER_OID);
    assert_eq!(rels[0].organiser.as_deref(), Some(COUNTY_A));
    assert_eq!(rels[0].documents, 1);
    let q = request(
        QueryKind::Cases,
        scenario::PROVIDER_OID,
        COUNTY_A,
        PURCHASED_A,
    );
    let (_, r) = ask(&mut provider, &q, Wrapping::Bare).await;
    assert_eq!(r.results.len(), 1);

    // R8: the provider's own register does not hold the county's document.
    let mut q = request(
        QueryKind::Document,
        scenario::PROVIDER_OID,
        scenario::PROVIDER_OID,
        PURCHASED_A,
    );
    q.document_id = Some("2.999.5851.9.2.2".into());
    let (_, r) = ask(&mut provider, &q, Wrapping::Bare).await;
    assert_eq!((r.type_code.as_str(), r.results.len()), ("AA", 0));

    // The audit log has every query with its kind and result size.
    let audit = archive.audit(COUNTY_A).unwrap();
    let queries: Vec<_> = audit.iter().filter_map(|a| a.query.as_ref()).collect();
    assert_eq!(queries.len(), 3 + 2 + 1 + 2, "{audit:#?}");
    let first = &queries[queries.len() - 1];
    assert_eq!((first.kind.as_str(), first.results), ("document", 1));
    assert!(first.result_bytes > county_cda.len() as u64, "{first:?}");
}

#[tokio::test]
async fn every_refusal_names_its_rule() {
    let archive = start_archive().await;
    let mut provider = connect(&archive, Role::Client).await;
    store(&mut provider, &purchased_a(3)).await;
    let settings = redacted("");
    let _guard = settings.bind_to_scope();

    // Another county's client: the provider holds no usage right from county B.
    let q = request(
        QueryKind::Summary,
        scenario::PROVIDER_OID,
        COUNTY_B,
        PURCHASED_B,
    );
    let (text, r) = ask(&mut provider, &q, Wrapping::Soap11).await;
    assert_eq!(r.codes(), ["R8-OTHER-REGISTER"]);
    insta::assert_snapshot!("query_refused_other_county", text);

    // Another client of county A: served by the small provider, not by this one.
    let q = request(
        QueryKind::Summary,
        scenario::PROVIDER_OID,
        COUNTY_A,
        SMALL_PROVIDERS_CLIENT,
    );
    let (text, r) = ask(&mut provider, &q, Wrapping::Soap12).await;
    assert_eq!(r.codes(), ["R2-NOT-PRODUCERS-CLIENT"]);
    insta::assert_snapshot!("query_refused_other_client", text);

    // A stranger (the small provider's certificate, asking as itself) reads nothing of A's.
    let mut stranger = connect(&archive, Role::StrangerClient).await;
    let q = request(QueryKind::Summary, SMALL_PROVIDER, COUNTY_A, PURCHASED_A);
    let (text, r) = ask(&mut stranger, &q, Wrapping::Bare).await;
    assert_eq!(r.codes(), ["R8-OTHER-REGISTER"]);
    insta::assert_snapshot!("query_refused_stranger", text);

    // The stranger's certificate may not ask in the provider's name.
    let q = request(
        QueryKind::Summary,
        scenario::PROVIDER_OID,
        COUNTY_A,
        PURCHASED_A,
    );
    let (_, r) = ask(&mut stranger, &q, Wrapping::Bare).await;
    assert_eq!(r.codes(), ["ORG-TLS-NOT-SENDER"]);

    // An unreadable query: every missing part named, AR.
    let bare = "<RCMR_IN200039FI01 xmlns=\"urn:hl7-org:v3\"><id root=\"2.999.5851.9.7\"/></RCMR_IN200039FI01>";
    let reply = provider
        .post("/archive", "application/xml", bare.as_bytes().to_vec())
        .await
        .unwrap();
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    let r = query::read_response(text.as_bytes(), &Limits::default()).unwrap();
    assert_eq!(r.type_code.as_str(), "AR");
    insta::assert_snapshot!("query_unreadable", text);

    // Every refusal is in the audit log with no results.
    let audit = archive.audit(COUNTY_A).unwrap();
    let refused: Vec<_> = audit
        .iter()
        .filter(|a| a.query.is_some() && a.outcome.as_str() == "AE")
        .map(|a| {
            (
                a.codes.iter().map(|c| c.code()).collect::<Vec<_>>(),
                a.query.as_ref().unwrap().results,
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            (vec!["ORG-TLS-NOT-SENDER"], 0),
            (vec!["R8-OTHER-REGISTER"], 0),
            (vec!["R2-NOT-PRODUCERS-CLIENT"], 0),
        ]
    );
}

#[tokio::test]
async fn storing_and_reading_both_stop_when_the_usage_right_ends() {
    let archive = start_archive().await;
    let mut provider = connect(&archive, Role::Client).await;
    store(&mut provider, &purchased_a(5)).await;
    let summary = request(
        QueryKind::Summary,
        scenario::PROVIDER_OID,
        COUNTY_A,
        PURCHASED_A,
    );
    let (_, r) = ask(&mut provider, &summary, Wrapping::Soap11).await;
    assert_eq!(r.results.document_ids(), ["2.999.5851.9.2.5"]);

    // County A's archivist ends the right yesterday (an admin call on the inspection API).
    let yesterday = time::OffsetDateTime::now_utc()
        .date()
        .previous_day()
        .unwrap();
    let token = "arkistonhoitaja-testila-TESTI";
    let path = format!("/inspect/usage-rights/{}/end", scenario::PROVIDER_OID);
    let reply = provider
        .send_as(
            "POST",
            &path,
            "application/json",
            token,
            format!("{{\"last_day\": \"{yesterday}\"}}"),
        )
        .await
        .unwrap();
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    assert_eq!(reply.status, 200, "{text}");
    assert!(text.contains("\"changed\":1"), "{text}");

    // Reading stops ...
    let (_, r) = ask(&mut provider, &summary, Wrapping::Soap11).await;
    assert_eq!(r.codes(), ["R2-NO-USAGE-RIGHT"]);
    assert!(
        r.details[0].text.contains("none valid on "),
        "{:?}",
        r.details
    );
    // ... and so does storing (a document of today: the right is judged at the document's
    // time, DESIGN §2).
    let today = MessageValues {
        effective_time: kanta_profile::ack::hl7_timestamp(time::OffsetDateTime::now_utc()),
        ..purchased_a(6)
    };
    let built = compose::build_message(
        &DocumentTemplate::client_relationship(),
        &today,
        Wrapping::Soap11,
        Some(&signer()),
    )
    .unwrap();
    let reply = provider
        .post(
            "/archive",
            compose::content_type(Wrapping::Soap11),
            built.message,
        )
        .await
        .unwrap();
    let body = String::from_utf8(reply.body.to_vec()).unwrap();
    assert!(
        body.contains("R2-NO-USAGE-RIGHT") && body.contains("typeCode=\"AE\""),
        "{body}"
    );

    // A bad day and another holder's producer are named.
    let reply = provider
        .send_as(
            "POST",
            &path,
            "application/json",
            token,
            "{\"last_day\": \"eilen\"}",
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 400);
    assert_eq!(
        String::from_utf8(reply.body.to_vec()).unwrap(),
        r#"{"error":"the body must be {\"last_day\": \"YYYY-MM-DD\"}: last_day `eilen` is not a date YYYY-MM-DD"}"#
    );
    let reply = provider
        .send_as(
            "POST",
            "/inspect/usage-rights/2.999.5851.2.5/end",
            "application/json",
            token,
            format!("{{\"last_day\": \"{yesterday}\"}}"),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 404);
    assert_eq!(
        String::from_utf8(reply.body.to_vec()).unwrap(),
        r#"{"error":"2.999.5851.2.2 granted 2.999.5851.2.5 no register usage right"}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kantakoe_query_prints_the_answer_and_exits_by_its_outcome() {
    let archive = start_archive().await;
    let mut provider = connect(&archive, Role::Client).await;
    store(&mut provider, &purchased_a(7)).await;
    let url = archive.url();
    let run = move |holder: &'static str, client: &'static str| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir().unwrap();
            let out = support::kantakoe_cmd(dir.path())
                .args(["query", "summary", "--archive", &url, "--pki"])
                .arg(pki().dir())
                .args([
                    "--sender",
                    scenario::PROVIDER_OID,
                    "--register-holder",
                    holder,
                ])
                .args(["--client", client, "--wrapping", "soap11"])
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8(out.stderr).unwrap(),
            )
        })
    };
    let (code, stdout, stderr) = run(COUNTY_A, PURCHASED_A).await.unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout
            .starts_with("summary (Hae kooste): AA 1 of 1 entries\n  2.999.5851.9.2.7 v1 active "),
        "{stdout}"
    );
    let (code, stdout, _) = run(COUNTY_B, PURCHASED_B).await.unwrap();
    assert_eq!(code, Some(1));
    assert_eq!(
        stdout,
        "summary (Hae kooste): AE 0 of 0 entries\n  R8-OTHER-REGISTER the asker is not the register holder and holds no register usage right to its register: 2.999.5851.2.1 is not 2.999.5851.2.3 and holds no register usage right from it\n"
    );
}
