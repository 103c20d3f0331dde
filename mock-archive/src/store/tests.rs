//! Store tests: version rules inside the writer, idempotency, the audit log, R8 scoping,
//! durability across reopen, concurrency (32 submitters; two racing replacements) and a
//! micro-benchmark of group commit.

use std::fmt::Write as _;
use std::sync::{Arc, Barrier};
use std::time::Instant;

use time::macros::datetime;

use super::*;
use crate::ack::{self, AckInput, InstanceId};
use crate::rules::{ReplaceReason, Replaces, violation};

const HOLDER: &str = "2.999.5851.2.1";
const COUNTY: &str = "2.999.5851.2.2";

fn doc(
    id: &str,
    set_id: &str,
    version: u32,
    replaces: Option<(&str, ReplaceReason)>,
) -> NewDocument {
    NewDocument {
        document_id: id.to_owned(),
        set_id: set_id.to_owned(),
        version,
        replaces: replaces.map(|(document_id, reason)| Replaces {
            document_id: document_id.to_owned(),
            reason,
        }),
        register_holder: HOLDER.to_owned(),
        client: "010190-901R".to_owned(),
        effective_time: datetime!(2026-07-18 12:00 +03:00),
        service_unit: "2.999.5851.2.1.1".to_owned(),
        author: "2.999.5851.5.1".to_owned(),
        document_group: Some("1".to_owned()),
        organiser: Some(HOLDER.to_owned()),
        description: Description {
            title: Some("Asiakkuusasiakirja".to_owned()),
            document_type_code: Some("1".to_owned()),
            document_type_name: Some("Asiakkuusasiakirja".to_owned()),
            client_name: Some("Itsemaksava Testi".to_owned()),
            signature_verdict: Some("valid".to_owned()),
            ..Description::default()
        },
        cda: format!("<ClinicalDocument>{id}</ClinicalDocument>").into_bytes(),
    }
}

/// The request body that carried `document` (not stored: only its digest is compared).
fn body_of(document: &NewDocument) -> Vec<u8> {
    format!("<message>{}</message>", document.document_id).into_bytes()
}

fn renderer(message_id: Option<String>) -> AckRenderer {
    Box::new(move |type_code, details| {
        ack::render(&AckInput {
            id: InstanceId::root("2.999.5851.9.1"),
            creation_time: datetime!(2026-07-18 12:00:01 +03:00),
            processing_code: "T".to_owned(),
            receiver: Some(InstanceId::root(HOLDER)),
            sender: InstanceId::root("2.999.5851.3.1"),
            target_message: message_id.map(InstanceId::root),
            type_code,
            details: details.to_vec(),
        })
        .into_bytes()
    })
}

fn store_request(message_id: &str, document: NewDocument) -> Request {
    Request {
        received_at: datetime!(2026-07-18 12:00:00 +03:00),
        tls_peer: Some(HOLDER.to_owned()),
        message_id: Some(message_id.to_owned()),
        message_digest: message_digest(&body_of(&document)),
        register_holder: None,
        body: body_of(&document).into(),
        action: Action::Store {
            document: Box::new(document),
            warnings: Vec::new(),
        },
        acknowledge: renderer(Some(message_id.to_owned())),
    }
}

fn summary(name: &str, recorded: &Recorded) -> String {
    let codes: Vec<&str> = recorded.codes.iter().map(|c| c.code()).collect();
    format!(
        "{name}: {} [{}] stored={} replayed={}",
        recorded.type_code,
        codes.join(" "),
        recorded.stored,
        recorded.replayed
    )
}

/// The details as the acknowledgement carries them (one line each), from the ack bytes.
fn detail_texts(ack_bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(ack_bytes.to_vec()).unwrap();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("<text>"))
        .map(|l| l.trim_end_matches("</text>").to_owned())
        .collect()
}

#[test]
fn version_rules_run_in_the_writer() {
    let store = Store::open_ephemeral().unwrap();
    let mut report = String::new();
    let steps: Vec<(&str, NewDocument)> = vec![
        ("v1 of set A", doc("2.999.7.1", "2.999.7.1", 1, None)),
        ("v1 of set B", doc("2.999.8.1", "2.999.8.1", 1, None)),
        (
            "correction: A v2",
            doc(
                "2.999.7.2",
                "2.999.7.1",
                2,
                Some(("2.999.7.1", ReplaceReason::Correction)),
            ),
        ),
        (
            "replacing A v1 again (not the latest, wrong version)",
            doc(
                "2.999.7.3",
                "2.999.7.1",
                2,
                Some(("2.999.7.1", ReplaceReason::Correction)),
            ),
        ),
        (
            "A v3 with version 5",
            doc(
                "2.999.7.3",
                "2.999.7.1",
                5,
                Some(("2.999.7.2", ReplaceReason::Correction)),
            ),
        ),
        (
            "replacing an unknown document",
            doc(
                "2.999.7.3",
                "2.999.7.1",
                3,
                Some(("2.999.404", ReplaceReason::Correction)),
            ),
        ),
        (
            "replacing A v2 under set B's setId",
            doc(
                "2.999.7.3",
                "2.999.8.1",
                3,
                Some(("2.999.7.2", ReplaceReason::Correction)),
            ),
        ),
        (
            "replacing A v2 into another register for another client",
            NewDocument {
                register_holder: COUNTY.to_owned(),
                client: "150575-9025".to_owned(),
                ..doc(
                    "2.999.7.3",
                    "2.999.7.1",
                    3,
                    Some(("2.999.7.2", ReplaceReason::Correction)),
                )
            },
        ),
        (
            "a different document under A v1's id",
            doc("2.999.7.1", "2.999.7.1", 1, None),
        ),
        (
            "a new set reusing set A's setId",
            doc("2.999.9.1", "2.999.7.1", 1, None),
        ),
        (
            "invalidation of B",
            doc(
                "2.999.8.2",
                "2.999.8.1",
                2,
                Some(("2.999.8.1", ReplaceReason::Invalidation)),
            ),
        ),
        (
            "a new version on invalidated B",
            doc(
                "2.999.8.3",
                "2.999.8.1",
                3,
                Some(("2.999.8.2", ReplaceReason::Correction)),
            ),
        ),
    ];
    for (i, (name, document)) in steps.into_iter().enumerate() {
        let recorded = store
            .submit_blocking(store_request(&format!("msg-{i}"), document))
            .unwrap();
        writeln!(report, "{}", summary(name, &recorded)).unwrap();
        for text in detail_texts(&recorded.ack) {
            writeln!(report, "  {text}").unwrap();
        }
    }
    let versions: Vec<String> = store
        .versions(HOLDER, "2.999.7.1")
        .unwrap()
        .iter()
        .chain(&store.versions(HOLDER, "2.999.8.1").unwrap())
        .map(|m| format!("{} v{} {}", m.document_id, m.version, m.status.as_str()))
        .collect();
    writeln!(report, "versions: {versions:#?}").unwrap();
    insta::assert_snapshot!(report);
}

#[test]
fn stored_metadata_and_bytes_read_back_scoped_to_the_holder() {
    let store = Store::open_ephemeral().unwrap();
    let d = doc("2.999.7.1", "2.999.7.1", 1, None);
    let recorded = store
        .submit_blocking(store_request("m1", d.clone()))
        .unwrap();
    assert_eq!((recorded.type_code, recorded.stored), (AckType::Aa, true));
    let got = store.document(HOLDER, "2.999.7.1").unwrap().unwrap();
    assert_eq!(got.cda, d.cda);
    let m = got.meta;
    assert_eq!(m.set_id, "2.999.7.1");
    assert_eq!(m.version, 1);
    assert_eq!(m.status, DocumentStatus::Active);
    assert_eq!(m.client, "010190-901R");
    assert_eq!(m.effective_time, datetime!(2026-07-18 12:00 +03:00));
    assert_eq!(m.stored_at, datetime!(2026-07-18 12:00 +03:00));
    assert_eq!(m.service_unit, "2.999.5851.2.1.1");
    assert_eq!(m.author, "2.999.5851.5.1");
    assert_eq!(m.document_group.as_deref(), Some("1"));
    assert_eq!(m.organiser.as_deref(), Some(HOLDER));
    assert_eq!(m.message_id.as_deref(), Some("m1"));
    // R8: another register holder sees nothing of it.
    assert!(store.document(COUNTY, "2.999.7.1").unwrap().is_none());
    assert!(
        store
            .documents(COUNTY, &DocumentFilter::default())
            .unwrap()
            .is_empty()
    );
    assert!(store.versions(COUNTY, "2.999.7.1").unwrap().is_empty());
    assert!(store.audit(COUNTY, 10).unwrap().is_empty());
    let audit = store.audit(HOLDER, 10).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].outcome, AckType::Aa);
    assert_eq!(audit[0].document_id.as_deref(), Some("2.999.7.1"));
    assert_eq!(audit[0].tls_peer.as_deref(), Some(HOLDER));
}

#[test]
fn document_filters() {
    let store = Store::open_ephemeral().unwrap();
    store
        .submit_blocking(store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None)))
        .unwrap();
    store
        .submit_blocking(store_request(
            "m2",
            NewDocument {
                client: "030312A903K".to_owned(),
                document_group: Some("2".to_owned()),
                ..doc("2.999.8.1", "2.999.8.1", 1, None)
            },
        ))
        .unwrap();
    store
        .submit_blocking(store_request(
            "m3",
            doc(
                "2.999.7.2",
                "2.999.7.1",
                2,
                Some(("2.999.7.1", ReplaceReason::Correction)),
            ),
        ))
        .unwrap();
    let ids = |filter: DocumentFilter| -> Vec<String> {
        store
            .documents(HOLDER, &filter)
            .unwrap()
            .into_iter()
            .map(|m| m.document_id)
            .collect()
    };
    assert_eq!(
        ids(DocumentFilter::default()),
        ["2.999.7.2", "2.999.8.1", "2.999.7.1"]
    );
    assert_eq!(
        ids(DocumentFilter {
            status: Some(DocumentStatus::Active),
            ..Default::default()
        }),
        ["2.999.7.2", "2.999.8.1"]
    );
    assert_eq!(
        ids(DocumentFilter {
            client: Some("030312A903K".to_owned()),
            ..Default::default()
        }),
        ["2.999.8.1"]
    );
    assert_eq!(
        ids(DocumentFilter {
            set_id: Some("2.999.7.1".to_owned()),
            ..Default::default()
        }),
        ["2.999.7.2", "2.999.7.1"]
    );
    assert_eq!(
        ids(DocumentFilter {
            document_group: Some("2".to_owned()),
            ..Default::default()
        }),
        ["2.999.8.1"]
    );
    assert_eq!(
        ids(DocumentFilter {
            limit: Some(1),
            ..Default::default()
        }),
        ["2.999.7.2"]
    );
}

#[test]
fn same_message_id_returns_the_stored_ack_without_storing_twice() {
    let store = Store::open_ephemeral().unwrap();
    let first = store
        .submit_blocking(store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None)))
        .unwrap();
    let again = store
        .submit_blocking(store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None)))
        .unwrap();
    assert_eq!(again.ack, first.ack);
    assert_eq!(
        (again.type_code, again.replayed, again.stored),
        (AckType::Aa, true, false)
    );
    assert_eq!(
        store
            .documents(HOLDER, &DocumentFilter::default())
            .unwrap()
            .len(),
        1
    );

    let other_body = store
        .submit_blocking(store_request("m1", doc("2.999.7.9", "2.999.7.9", 1, None)))
        .unwrap();
    assert_eq!(
        summary("other body", &other_body),
        "other body: AE [MSG-ID-REUSED] stored=false replayed=false"
    );
    assert_eq!(
        detail_texts(&other_body.ack),
        [
            "the message id was already used by a different message: message id m1 was accepted at 2026-07-18T12:00:00+03:00 for a different message"
        ]
    );
    assert!(store.document(HOLDER, "2.999.7.9").unwrap().is_none());

    let audit = store.audit(HOLDER, 10).unwrap();
    let lines: Vec<String> = audit
        .iter()
        .rev()
        .map(|e| format!("{} {:?} replayed={}", e.outcome, e.codes, e.replayed))
        .collect();
    assert_eq!(
        lines,
        [
            "AA [] replayed=false",
            "AA [] replayed=true",
            "AE [MessageIdReused] replayed=false"
        ]
    );
}

#[test]
fn refusals_are_audited_and_judged_afresh() {
    let store = Store::open_ephemeral().unwrap();
    let refuse = |message_id: Option<&str>, holder: Option<&str>| Request {
        received_at: datetime!(2026-07-18 12:00:00 +03:00),
        tls_peer: Some("2.999.5851.2.7".to_owned()),
        message_id: message_id.map(str::to_owned),
        message_digest: message_digest(b"body"),
        register_holder: holder.map(str::to_owned),
        body: bytes::Bytes::from_static(b"body"),
        action: Action::Refuse(vec![
            violation(AckCode::NoUsageRight, None, "none granted".to_owned()),
            violation(AckCode::OrganiserMissing, None, String::new()),
        ]),
        acknowledge: renderer(message_id.map(str::to_owned)),
    };
    let first = store
        .submit_blocking(refuse(Some("m1"), Some(COUNTY)))
        .unwrap();
    assert_eq!(
        summary("r", &first),
        "r: AE [R2-NO-USAGE-RIGHT R1-ORGANISER-MISSING] stored=false replayed=false"
    );
    // A refusal stored nothing: the same message id is judged afresh (here: refused again,
    // not replayed), and once the rules allow it, stored.
    let again = store
        .submit_blocking(refuse(Some("m1"), Some(COUNTY)))
        .unwrap();
    assert_eq!((again.replayed, again.type_code), (false, AckType::Ae));
    let accepted = store
        .submit_blocking(store_request("m1", doc("2.999.7.3", "2.999.7.3", 1, None)))
        .unwrap();
    assert_eq!(
        summary("now", &accepted),
        "now: AA [] stored=true replayed=false"
    );

    // Only warnings still refuse: an AA must mean stored.
    let warn_only = Request {
        action: Action::Refuse(vec![violation(
            AckCode::OrganiserMissing,
            None,
            String::new(),
        )]),
        ..refuse(Some("m2"), Some(COUNTY))
    };
    assert_eq!(
        store.submit_blocking(warn_only).unwrap().type_code,
        AckType::Ae
    );

    let unreadable = Request {
        action: Action::Refuse(vec![violation(
            AckCode::MessageUnreadable,
            None,
            "x".to_owned(),
        )]),
        ..refuse(None, None)
    };
    assert_eq!(
        store.submit_blocking(unreadable).unwrap().type_code,
        AckType::Ar
    );
    let unattributed = store.audit_unattributed(10).unwrap();
    assert_eq!(unattributed.len(), 1);
    assert_eq!(
        (unattributed[0].outcome, unattributed[0].message_id.clone()),
        (AckType::Ar, None)
    );
    assert_eq!(
        store.audit(COUNTY, 10).unwrap().len(),
        3,
        "every attempt is audited"
    );
    assert_eq!(store.audit(HOLDER, 10).unwrap().len(), 1, "the acceptance");
}

#[test]
fn a_warning_is_listed_in_an_aa() {
    let store = Store::open_ephemeral().unwrap();
    let mut request = store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None));
    if let Action::Store { warnings, .. } = &mut request.action {
        warnings.push(violation(
            AckCode::OrganiserMissing,
            None,
            format!("assumed {HOLDER}"),
        ));
    }
    let recorded = store.submit_blocking(request).unwrap();
    assert_eq!(
        summary("w", &recorded),
        "w: AA [R1-ORGANISER-MISSING] stored=true replayed=false"
    );
}

#[test]
fn decide_stores_only_without_errors() {
    let warning = violation(AckCode::OrganiserMissing, None, String::new());
    let error = violation(AckCode::NoUsageRight, None, String::new());
    let d = || doc("2.999.7.1", "2.999.7.1", 1, None);
    assert!(matches!(
        Action::decide(vec![warning.clone()], d),
        Action::Store { warnings, .. } if warnings == [warning.clone()]
    ));
    assert_eq!(
        Action::decide(vec![warning.clone(), error.clone()], d),
        Action::Refuse(vec![warning, error])
    );
}

#[test]
fn new_document_from_a_submission() {
    let submission = crate::rules::Submission {
        interaction: crate::rules::Interaction::Replace,
        register: crate::rules::Coded::new("1", "1.2.246.537.6.1264.201701"),
        tls_organisation: None,
        sender: HOLDER.to_owned(),
        service_unit: "2.999.5851.2.1.1".to_owned(),
        producer: HOLDER.to_owned(),
        custodian: COUNTY.to_owned(),
        organiser: Some(COUNTY.to_owned()),
        usage_situation: crate::rules::UsageSituation::UsageRight,
        client: "150575-9025".to_owned(),
        effective_time: datetime!(2026-07-18 12:00 +03:00),
        document_id: "2.999.7.2".to_owned(),
        set_id: "2.999.7.1".to_owned(),
        version: 2,
        replaces: Some(Replaces {
            document_id: "2.999.7.1".to_owned(),
            reason: ReplaceReason::Correction,
        }),
    };
    let d = NewDocument::from_submission(&submission, "author".to_owned(), None, b"c".to_vec());
    assert_eq!(d.register_holder, COUNTY);
    assert_eq!(d.organiser.as_deref(), Some(COUNTY));
    assert_eq!((d.set_id.as_str(), d.version), ("2.999.7.1", 2));
    assert_eq!(d.replaces, submission.replaces);
    assert_eq!(d.cda, b"c".to_vec());
}

#[test]
fn registry_tables_follow_the_fixture() {
    let store = Store::open_ephemeral().unwrap();
    let registry = Registry::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testcases/orgs.toml"
    ))
    .unwrap();
    store.sync_registry(&registry).unwrap();
    store.sync_registry(&registry).unwrap(); // idempotent
    let rights = store.usage_rights_granted(COUNTY).unwrap();
    assert_eq!(rights, registry.usage_rights());
    assert!(
        store
            .usage_rights_granted("2.999.5851.2.3")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archive.sqlite");
    {
        let store = Store::open(&path).unwrap();
        store
            .submit_blocking(store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None)))
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.path(), path);
    let got = store.document(HOLDER, "2.999.7.1").unwrap().unwrap();
    assert_eq!(got.cda, doc("2.999.7.1", "2.999.7.1", 1, None).cda);
    let again = store
        .submit_blocking(store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None)))
        .unwrap();
    assert!(again.replayed, "the message-id record survives too");
    assert_eq!(store.audit(HOLDER, 10).unwrap().len(), 2);
}

#[tokio::test]
async fn registry_sync_works_inside_a_runtime() {
    let store = Store::open_ephemeral().unwrap();
    let registry = Registry::from_toml_str(
        "[[organisation]]\noid = \"2.999.1\"\nname = \"X\"\nkind = \"public-organiser\"\n",
        "x.toml",
    )
    .unwrap();
    store.sync_registry(&registry).unwrap();
    assert!(store.usage_rights_granted("2.999.1").unwrap().is_empty());
}

#[test]
fn a_panicking_renderer_fails_its_request_only() {
    let store = Store::open_ephemeral().unwrap();
    let mut bad = store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None));
    bad.acknowledge = Box::new(|_, _| panic!("renderer bug"));
    let err = store.submit_blocking(bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the acknowledgement renderer panicked; the request was not recorded"
    );
    assert!(store.document(HOLDER, "2.999.7.1").unwrap().is_none());
    assert!(store.audit(HOLDER, 10).unwrap().is_empty());
    // The writer lives on, and the same message id is still free.
    let ok = store
        .submit_blocking(store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None)))
        .unwrap();
    assert_eq!((ok.type_code, ok.stored), (AckType::Aa, true));
}

#[test]
fn error_texts() {
    let sql_error = StoreError::Sql {
        operation: "storing the document",
        source: rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            Some("database or disk is full".to_owned()),
        ),
    };
    assert_eq!(
        sql_error.to_string(),
        "database error while storing the document: database or disk is full"
    );
    assert_eq!(
        StoreError::Corrupt {
            column: "audit.outcome",
            value: "XX".to_owned()
        }
        .to_string(),
        "corrupt stored value in audit.outcome: \"XX\""
    );
    assert_eq!(
        StoreError::WriterGone.to_string(),
        "the store's writer thread has stopped"
    );
    assert_eq!(
        StoreError::TempDir(std::io::Error::other("no space")).to_string(),
        "cannot create a temporary directory for the database: no space"
    );
    assert_eq!(
        StoreError::Spawn(std::io::Error::other("no threads")).to_string(),
        "cannot start the store's writer thread: no threads"
    );
}

#[test]
fn open_spec_maps_memory_to_an_ephemeral_file() {
    let ephemeral = Store::open_spec(":memory:").unwrap();
    let temp_file = ephemeral.path().to_owned();
    assert!(temp_file.exists());
    drop(ephemeral);
    assert!(
        !temp_file.exists(),
        "the ephemeral database is removed on drop"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite");
    let file = Store::open_spec(path.to_str().unwrap()).unwrap();
    assert_eq!(file.path(), path);
}

#[test]
fn open_error_names_the_path() {
    let err = Store::open("/nonexistent-dir/archive.sqlite").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot open database /nonexistent-dir/archive.sqlite: unable to open database file: /nonexistent-dir/archive.sqlite"
    );
}

#[test]
fn thirty_two_concurrent_submitters_lose_nothing_and_duplicate_nothing() {
    let store = Arc::new(Store::open_ephemeral().unwrap());
    let barrier = Arc::new(Barrier::new(32));
    let threads: Vec<_> = (0..32)
        .map(|t| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let mut outcomes = Vec::new();
                for i in 0..10 {
                    let id = format!("2.999.7.{t}.{i}");
                    // Every document is sent twice under the same message id.
                    for _ in 0..2 {
                        let r = store
                            .submit_blocking(store_request(
                                &format!("m-{t}-{i}"),
                                doc(&id, &id, 1, None),
                            ))
                            .unwrap();
                        outcomes.push((r.type_code, r.stored, r.replayed));
                    }
                }
                outcomes
            })
        })
        .collect();
    let mut stored = 0;
    for thread in threads {
        for (type_code, was_stored, replayed) in thread.join().unwrap() {
            assert_eq!(type_code, AckType::Aa);
            stored += usize::from(was_stored);
            assert_ne!(was_stored, replayed);
        }
    }
    assert_eq!(stored, 320);
    let all = store.documents(HOLDER, &DocumentFilter::default()).unwrap();
    assert_eq!(all.len(), 320);
    let mut ids: Vec<&str> = all.iter().map(|m| m.document_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 320);
    assert_eq!(store.audit(HOLDER, 1000).unwrap().len(), 640);
    assert_eq!(store.stats().requests, 640);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_replacements_of_one_version_exactly_one_wins() {
    let store = Arc::new(Store::open_ephemeral().unwrap());
    for round in 0..25 {
        let set = format!("2.999.7.{round}");
        store
            .submit(store_request(
                &format!("v1-{round}"),
                doc(&set, &set, 1, None),
            ))
            .await
            .unwrap();
        let racers: Vec<_> = (0..2)
            .map(|n| {
                let store = Arc::clone(&store);
                let set = set.clone();
                tokio::spawn(async move {
                    let id = format!("{set}.{n}");
                    let d = doc(&id, &set, 2, Some((&set, ReplaceReason::Correction)));
                    store
                        .submit(store_request(&format!("v2-{round}-{n}"), d))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for racer in racers {
            outcomes.push(racer.await.unwrap());
        }
        let winners = outcomes
            .iter()
            .filter(|r| r.type_code == AckType::Aa)
            .count();
        assert_eq!(winners, 1, "round {round}: {outcomes:?}");
        let loser = outcomes
            .iter()
            .find(|r| r.type_code != AckType::Aa)
            .unwrap();
        assert_eq!(
            loser.codes,
            [AckCode::ReplacesNotLatest, AckCode::VersionNotNext]
        );
        let versions = store.versions(HOLDER, &set).unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].status, DocumentStatus::Replaced);
        assert_eq!(versions[1].status, DocumentStatus::Active);
    }
}

const CRASH_CHILD: &str = "MOCK_ARCHIVE_STORE_CRASH_CHILD";
const CRASH_TEST: &str = "store::tests::killed_mid_load_loses_no_acknowledged_document";

/// The child of the crash test: submits from 8 threads forever, printing `ACK <id>` after each
/// `AA`, until the parent kills it.
fn crash_child(path: &str) -> ! {
    use std::io::Write as _;
    let store = Arc::new(Store::open(path).unwrap());
    for t in 0..8 {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            for i in 0.. {
                let id = format!("2.999.7.{t}.{i}");
                let r = store
                    .submit_blocking(store_request(&format!("m-{id}"), doc(&id, &id, 1, None)))
                    .unwrap();
                assert_eq!(r.type_code, AckType::Aa);
                let mut out = std::io::stdout().lock();
                writeln!(out, "ACK {id}").unwrap();
                out.flush().unwrap();
            }
        });
    }
    loop {
        std::thread::park();
    }
}

/// Kills the child on every exit path of the parent.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A process submitting concurrently is SIGKILLed (no chance to clean up); on reopen every
/// acknowledged document is there, intact, and no stored document is partial.
#[test]
fn killed_mid_load_loses_no_acknowledged_document() {
    use std::io::BufRead as _;
    if let Ok(path) = std::env::var(CRASH_CHILD) {
        crash_child(&path);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite");
    let mut child = KillOnDrop(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", CRASH_TEST, "--nocapture", "--test-threads=1"])
            .env(CRASH_CHILD, &path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut acked = Vec::new();
    for line in lines.by_ref() {
        if let Some(id) = line.unwrap().strip_prefix("ACK ") {
            acked.push(id.to_owned());
            if acked.len() >= 400 {
                break;
            }
        }
    }
    assert!(
        acked.len() >= 400,
        "the child stopped after {} acks",
        acked.len()
    );
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();
    // Acknowledgements printed before the kill are still in the pipe.
    for line in lines {
        if let Some(id) = line.unwrap().strip_prefix("ACK ") {
            acked.push(id.to_owned());
        }
    }

    let store = Store::open(&path).unwrap();
    assert_eq!(store.integrity_check().unwrap(), Ok(()));
    for id in &acked {
        let stored = store.document(HOLDER, id).unwrap();
        let stored = stored.unwrap_or_else(|| panic!("acknowledged {id} is missing"));
        let expected = doc(id, id, 1, None);
        assert_eq!(stored.cda, expected.cda);
    }
    let all = store.documents(HOLDER, &DocumentFilter::default()).unwrap();
    assert!(all.len() >= acked.len());
    for meta in &all {
        let stored = store.document(HOLDER, &meta.document_id).unwrap().unwrap();
        let expected = doc(&meta.document_id, &meta.document_id, 1, None);
        assert_eq!(stored.cda, expected.cda);
    }
    // Every stored document was audited in the same transaction.
    assert_eq!(store.audit(HOLDER, u32::MAX).unwrap().len(), all.len());
}

/// Commits per second with 1 and 32 concurrent submitters on a durable (`synchronous=FULL`)
/// database. Size with `STORE_BENCH_DOCS` (documents per run, default 320) and
/// `STORE_BENCH_CDA_BYTES` (CDA size, default 20 000); see the figures
/// with `cargo test -p mock-archive --release store::tests::bench -- --nocapture`.
#[test]
fn bench_group_commit() {
    let docs: usize = std::env::var("STORE_BENCH_DOCS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(320);
    let cda_bytes: usize = std::env::var("STORE_BENCH_CDA_BYTES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    for submitters in [1usize, 32] {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("bench.sqlite")).unwrap());
        let per = docs / submitters;
        let barrier = Arc::new(Barrier::new(submitters + 1));
        let threads: Vec<_> = (0..submitters)
            .map(|t| {
                let store = Arc::clone(&store);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut latencies = Vec::with_capacity(per);
                    for i in 0..per {
                        let id = format!("2.999.7.{t}.{i}");
                        let mut d = doc(&id, &id, 1, None);
                        d.cda = vec![b'x'; cda_bytes];
                        let begun = Instant::now();
                        let r = store
                            .submit_blocking(store_request(&format!("m-{t}-{i}"), d))
                            .unwrap();
                        latencies.push(begun.elapsed());
                        assert_eq!(r.type_code, AckType::Aa);
                    }
                    latencies
                })
            })
            .collect();
        let start = Instant::now();
        barrier.wait();
        let mut latencies: Vec<_> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let elapsed = start.elapsed();
        latencies.sort_unstable();
        let stats = store.stats();
        let n = latencies.len();
        let rate = n as f64 / elapsed.as_secs_f64();
        println!(
            "store bench: {submitters:>2} submitters, {n} docs of {cda_bytes} B in {elapsed:.2?}: \
             {rate:.0} docs/s, {} commits ({:.0} commits/s), largest batch {}, \
             p50 {:.2?}, p99 {:.2?}",
            stats.commits,
            stats.commits as f64 / elapsed.as_secs_f64(),
            stats.largest_batch,
            latencies[n / 2],
            latencies[(n * 99 / 100).min(n - 1)],
        );
        assert_eq!(stats.requests as usize, n);
        if submitters == 32 {
            assert!(
                stats.largest_batch > 1,
                "32 submitters never shared a commit: {stats:?}"
            );
        }
    }
}

/// One step of the version-rule model test.
#[derive(Debug, Clone)]
enum Op {
    /// A new set.
    New,
    /// A replacement of version `parent` (index into the set's versions) of set `set`, with
    /// version number latest + 1 + `delta`.
    Replace {
        set: usize,
        parent: usize,
        delta: i8,
        invalidate: bool,
    },
    /// A new set under an id already stored.
    ReuseId { set: usize },
}

fn op_strategy() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        1 => Just(Op::New),
        4 => (0usize..8, 0usize..8, -1i8..=1, proptest::bool::weighted(0.15)).prop_map(
            |(set, parent, delta, invalidate)| Op::Replace { set, parent, delta, invalidate }
        ),
        1 => (0usize..8).prop_map(|set| Op::ReuseId { set }),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Random sequences of new sets, replacements (right or wrong parent and version, some
    /// invalidating) and id reuse: the store accepts exactly what a plain model of the version
    /// rules accepts, and ends with the model's statuses.
    #[test]
    fn version_rules_match_a_model(ops in proptest::collection::vec(op_strategy(), 1..40)) {
        let store = Store::open_ephemeral().unwrap();
        // Model: per set, its version ids in order and whether it was invalidated.
        let mut sets: Vec<(Vec<String>, bool)> = Vec::new();
        for (n, op) in ops.iter().enumerate() {
            let fresh = format!("2.999.7.{n}");
            let (document, expect_aa) = match *op {
                Op::New => (doc(&fresh, &fresh, 1, None), true),
                Op::ReuseId { .. } if sets.is_empty() => (doc(&fresh, &fresh, 1, None), true),
                Op::ReuseId { set } => {
                    let (versions, _) = &sets[set % sets.len()];
                    let old = versions[0].clone();
                    (doc(&old, &old, 1, None), false)
                }
                Op::Replace { .. } if sets.is_empty() => (doc(&fresh, &fresh, 1, None), true),
                Op::Replace { set, parent, delta, invalidate } => {
                    let (versions, invalidated) = &sets[set % sets.len()];
                    let parent_index = parent % versions.len();
                    let latest = versions.len() as i64;
                    let version = u32::try_from((latest + 1 + i64::from(delta)).max(1)).unwrap();
                    let reason = if invalidate { ReplaceReason::Invalidation } else { ReplaceReason::Correction };
                    let expect = !invalidated && parent_index + 1 == versions.len() && delta == 0;
                    (doc(&fresh, &versions[0], version, Some((&versions[parent_index], reason))), expect)
                }
            };
            let recorded = store.submit_blocking(store_request(&format!("m{n}"), document.clone())).unwrap();
            proptest::prop_assert_eq!(recorded.type_code == AckType::Aa, expect_aa, "step {} {:?}: {:?}", n, op, recorded.codes);
            if expect_aa {
                match &document.replaces {
                    None => sets.push((vec![document.document_id.clone()], false)),
                    Some(r) => {
                        let entry = sets.iter_mut().find(|(v, _)| v[0] == document.set_id).unwrap();
                        entry.0.push(document.document_id.clone());
                        entry.1 = r.reason == ReplaceReason::Invalidation;
                    }
                }
            }
        }
        for (versions, invalidated) in &sets {
            let stored = store.versions(HOLDER, &versions[0]).unwrap();
            let ids: Vec<&str> = stored.iter().map(|m| m.document_id.as_str()).collect();
            proptest::prop_assert_eq!(&ids, versions);
            for (i, meta) in stored.iter().enumerate() {
                let want = if i + 1 < stored.len() {
                    DocumentStatus::Replaced
                } else if *invalidated {
                    DocumentStatus::Invalidated
                } else {
                    DocumentStatus::Active
                };
                proptest::prop_assert_eq!(meta.status, want);
                proptest::prop_assert_eq!(meta.version as usize, i + 1);
            }
        }
    }
}

#[test]
fn description_replacement_reason_and_view_filters_read_back() {
    let store = Store::open_ephemeral().unwrap();
    store
        .submit_blocking(store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None)))
        .unwrap();
    let other_type = NewDocument {
        client: "030312A903K".to_owned(),
        effective_time: datetime!(2026-08-02 09:00 +03:00),
        description: Description {
            document_type_code: Some("7".to_owned()),
            document_type_name: Some("Muu".to_owned()),
            client_name: Some("Toinen Testi".to_owned()),
            ..Description::default()
        },
        ..doc("2.999.8.1", "2.999.8.1", 1, None)
    };
    store
        .submit_blocking(store_request("m2", other_type))
        .unwrap();
    store
        .submit_blocking(store_request(
            "m3",
            doc(
                "2.999.7.2",
                "2.999.7.1",
                2,
                Some(("2.999.7.1", ReplaceReason::Invalidation)),
            ),
        ))
        .unwrap();
    let m = store.document(HOLDER, "2.999.7.2").unwrap().unwrap().meta;
    assert_eq!(m.replace_reason, Some(ReplaceReason::Invalidation));
    assert_eq!(m.status, DocumentStatus::Invalidated);
    assert_eq!(m.description.title.as_deref(), Some("Asiakkuusasiakirja"));
    assert_eq!(m.description.signature_verdict.as_deref(), Some("valid"));
    let v1 = store.document(HOLDER, "2.999.7.1").unwrap().unwrap().meta;
    assert_eq!(v1.replace_reason, None);

    let ids = |filter: DocumentFilter| -> Vec<String> {
        store
            .documents(HOLDER, &filter)
            .unwrap()
            .into_iter()
            .map(|m| m.document_id)
            .collect()
    };
    assert_eq!(
        ids(DocumentFilter {
            document_type: Some("7".to_owned()),
            ..Default::default()
        }),
        ["2.999.8.1"]
    );
    assert_eq!(
        ids(DocumentFilter {
            from: Some(time::macros::date!(2026 - 08 - 01)),
            ..Default::default()
        }),
        ["2.999.8.1"]
    );
    assert_eq!(
        ids(DocumentFilter {
            until: Some(time::macros::date!(2026 - 07 - 18)),
            ..Default::default()
        }),
        ["2.999.7.2", "2.999.7.1"]
    );
    let clients = store.clients(HOLDER).unwrap();
    assert_eq!(
        clients,
        vec![
            ClientSummary {
                client: "010190-901R".to_owned(),
                name: Some("Itsemaksava Testi".to_owned()),
                documents: 2,
            },
            ClientSummary {
                client: "030312A903K".to_owned(),
                name: Some("Toinen Testi".to_owned()),
                documents: 1,
            },
        ]
    );
    assert!(store.clients(COUNTY).unwrap().is_empty());
    assert_eq!(
        store.document_types(HOLDER).unwrap(),
        vec![
            ("1".to_owned(), Some("Asiakkuusasiakirja".to_owned())),
            ("7".to_owned(), Some("Muu".to_owned()))
        ]
    );
}

#[test]
fn a_version_1_database_is_migrated_and_keeps_its_documents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(schema::SCHEMA).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO documents (document_id, set_id, version, status, register_holder, \
             client, effective_time, service_unit, author, stored_at, message, cda) VALUES \
             ('2.999.1', '2.999.1', 1, 'active', ?1, '010190-901R', \
             '2026-07-18T12:00:00+03:00', '2.999.5851.2.1.1', 'a', '2026-07-18T12:00:00+03:00', \
             x'00', x'00')",
            [HOLDER],
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let old = store.document(HOLDER, "2.999.1").unwrap().unwrap().meta;
    assert_eq!(old.description, Description::default());
    assert_eq!(old.replace_reason, None);
    store
        .submit_blocking(store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None)))
        .unwrap();
    assert_eq!(
        store
            .documents(HOLDER, &DocumentFilter::default())
            .unwrap()
            .len(),
        2
    );
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema::SCHEMA_VERSION);
    // The document is stored once: the whole request body is no longer a column.
    let message_columns: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pragma_table_info('documents') WHERE name = 'message'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(message_columns, 0);
    // Reopening a migrated database changes nothing.
    drop(conn);
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store
            .documents(HOLDER, &DocumentFilter::default())
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_version_2_database_forgets_its_refusals_and_keeps_its_acceptances() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.db");
    let body = body_of(&doc("2.999.7.1", "2.999.7.1", 1, None));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(schema::SCHEMA).unwrap();
        conn.execute_batch(schema::V2).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        let sha = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &body);
        conn.execute(
            "INSERT INTO messages (message_id, request_sha256, outcome, codes, ack, at) VALUES \
             ('accepted', ?1, 'AA', '', x'41', '2026-07-18T12:00:00+03:00'), \
             ('refused', ?1, 'AE', 'R2-NO-USAGE-RIGHT', x'42', '2026-07-18T12:00:00+03:00')",
            [sha.as_ref()],
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let replay = store
        .submit_blocking(store_request(
            "accepted",
            doc("2.999.7.1", "2.999.7.1", 1, None),
        ))
        .unwrap();
    assert_eq!((replay.replayed, replay.ack.as_slice()), (true, &b"A"[..]));
    let afresh = store
        .submit_blocking(store_request(
            "refused",
            doc("2.999.7.2", "2.999.7.2", 1, None),
        ))
        .unwrap();
    assert_eq!(
        summary("afresh", &afresh),
        "afresh: AA [] stored=true replayed=false"
    );
}

#[test]
fn a_database_from_a_newer_archive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v9.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 9)
        .unwrap();
    let err = Store::open(&path).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "cannot open database {}: schema version 9 is newer than this archive's (5)",
            path.display()
        )
    );
}

fn checklist(document_id: Option<&str>) -> Checklist {
    Checklist {
        case: "kayttoonottokoe".to_owned(),
        title: "Käyttöönottokoe".to_owned(),
        title_sv: None,
        steps: vec![ChecklistStep {
            step: "own-1".to_owned(),
            title: "Asiakkuusasiakirja".to_owned(),
            title_sv: None,
            document_id: document_id.map(str::to_owned),
            checkpoints: vec![
                Checkpoint {
                    id: "own-1/status".to_owned(),
                    label: "Tila".to_owned(),
                    field: Some("status".to_owned()),
                    expected: Some("active".to_owned()),
                    confirmed: None,
                },
                Checkpoint {
                    id: "own-1/holder".to_owned(),
                    label: "Rekisterinpitäjä".to_owned(),
                    field: None,
                    expected: None,
                    confirmed: None,
                },
            ],
        }],
    }
}

#[test]
fn checklists_are_scoped_confirmed_once_and_cleared_when_replaced() {
    let store = Store::open_ephemeral().unwrap();
    store
        .submit_blocking(store_request("m1", doc("2.999.7.1", "2.999.7.1", 1, None)))
        .unwrap();
    assert_eq!(store.checklist(HOLDER).unwrap(), None);
    let at = datetime!(2026-07-18 13:00 +03:00);
    // A document of another register (or none at all) is refused, naming it.
    let refused = store
        .put_checklist(COUNTY, checklist(Some("2.999.7.1")), at)
        .unwrap()
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!("documents not in the register of {COUNTY}: 2.999.7.1")
    );
    store
        .put_checklist(HOLDER, checklist(Some("2.999.7.1")), at)
        .unwrap()
        .unwrap();
    let by = |name: &str, at| Confirmation {
        by: name.to_owned(),
        at,
    };
    assert!(
        store
            .confirm_checkpoint(HOLDER, "own-1/status", by("A", at))
            .unwrap()
    );
    // The first confirmation stays; unknown or another holder's checkpoints are not found.
    assert!(
        store
            .confirm_checkpoint(HOLDER, "own-1/status", by("B", at + time::Duration::HOUR))
            .unwrap()
    );
    assert!(
        !store
            .confirm_checkpoint(HOLDER, "own-9", by("A", at))
            .unwrap()
    );
    assert!(
        !store
            .confirm_checkpoint(COUNTY, "own-1/status", by("A", at))
            .unwrap()
    );
    let got = store.checklist(HOLDER).unwrap().unwrap();
    assert_eq!(got.steps[0].checkpoints[0].confirmed, Some(by("A", at)));
    assert_eq!(got.steps[0].checkpoints[1].confirmed, None);
    assert_eq!(got.progress(), (1, 2));
    assert_eq!(store.checklist(COUNTY).unwrap(), None);
    // Replacing the checklist clears its confirmations; a PUT never carries any in.
    let mut again = checklist(None);
    again.steps[0].checkpoints[1].confirmed = Some(by("Forged", at));
    store.put_checklist(HOLDER, again, at).unwrap().unwrap();
    assert_eq!(store.checklist(HOLDER).unwrap().unwrap().progress(), (0, 2));
}

#[test]
fn checklist_shape_problems_are_named() {
    let mut dup = checklist(None);
    dup.steps[0].checkpoints[1].id = "own-1/status".to_owned();
    assert_eq!(
        dup.check_shape().unwrap_err().to_string(),
        "checkpoint id \"own-1/status\" is used twice"
    );
    let mut empty = checklist(None);
    empty.steps[0].checkpoints[0].id = " ".to_owned();
    assert_eq!(
        empty.check_shape().unwrap_err().to_string(),
        "step \"own-1\": an empty step or checkpoint id"
    );
    let mut big = checklist(None);
    big.steps[0].checkpoints = (0..=MAX_CHECKPOINTS)
        .map(|n| Checkpoint {
            id: n.to_string(),
            label: String::new(),
            field: None,
            expected: None,
            confirmed: None,
        })
        .collect();
    assert_eq!(
        big.check_shape().unwrap_err().to_string(),
        "1001 checkpoints; at most 1000 are allowed"
    );
}
