//! Stranger-shaped messages: built by `tests/stranger/build.py`, a client independent of the
//! harness's builder and signer (the public 2026 social welfare sample as a template, only
//! OIDs, ids, times, client, custodian/organiser and the signature replaced, signed by
//! `xmlsec1`), posted over mutual TLS to the archive, one per row of DESIGN §2's verdict table
//! and more (a correction and an invalidation of a stranger-built document, a vendor acting for
//! a provider it is not registered for, both signature transform forms, SOAP 1.1, 1.2 and bare,
//! resends in other envelopes). Each row's verdict is snapshotted; the snapshot was checked
//! against the table.

use std::path::Path;
use std::process::Command;

use kantakoe::pki::Role;

use crate::support::{self, pki, start_archive, target};

/// The acknowledgement's type code and detail codes.
fn verdict(body: &str) -> String {
    let Some(type_code) = body
        .split("<acknowledgement typeCode=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
    else {
        return format!("no acknowledgement: {body}");
    };
    let codes: Vec<&str> = body
        .split("<acknowledgementDetail")
        .skip(1)
        .filter_map(|d| d.split("<code code=\"").nth(1)?.split('"').next())
        .collect();
    format!("{type_code} [{}]", codes.join(" "))
}

/// The acknowledgement element itself, whatever envelope carries it.
fn bare_ack(body: &str) -> &str {
    let start = body.find("<MCCI_IN000002UV01").unwrap_or(0);
    let end = body
        .find("</MCCI_IN000002UV01>")
        .map_or(body.len(), |e| e + "</MCCI_IN000002UV01>".len());
    &body[start..end]
}

#[tokio::test]
async fn stranger_shaped_messages_get_the_verdicts_of_the_design_table() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/interop/social");
    assert!(
        sample.join("Asiakkuusasiakirja_K.xml").is_file(),
        "the public 2026 sample is missing: {} (shared/ must sit beside the repository)",
        sample.display()
    );
    let out = tempfile::tempdir().unwrap();
    let pki_dir = pki().dir();
    let built = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("stranger/build.py"))
        .arg(&sample)
        .arg(pki_dir)
        .arg(out.path())
        .output()
        .expect("python3 runs");
    assert!(
        built.status.success(),
        "build.py failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let archive = start_archive().await;
    let rows = std::fs::read_to_string(out.path().join("rows.tsv")).unwrap();
    let mut report = String::new();
    let mut first_ack: Option<String> = None;
    for line in rows.lines() {
        let [name, tls, content_type, file] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("bad rows.tsv line {line:?}");
        };
        let role = match tls {
            "client" => Role::Client,
            "vendor" => Role::Vendor,
            "stranger-client" => Role::StrangerClient,
            "county-client" => Role::CountyClient,
            other => panic!("unknown TLS role {other:?}"),
        };
        let mut conn = support::client(role)
            .connect(&target(&archive))
            .await
            .unwrap();
        let reply = conn
            .post("/archive", content_type, std::fs::read(file).unwrap())
            .await
            .unwrap();
        let body = String::from_utf8(reply.body.to_vec()).unwrap();
        report.push_str(&format!("{name}: {} {}\n", reply.status, verdict(&body)));
        if name.starts_with("resend-of-") {
            assert_eq!(
                Some(bare_ack(&body)),
                first_ack.as_deref(),
                "{name}: the same acknowledgement"
            );
        } else if first_ack.is_none() {
            first_ack = Some(bare_ack(&body).to_owned());
        }
    }
    insta::assert_snapshot!(report);
}
