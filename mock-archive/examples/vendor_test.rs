//! A vendor's Rust test that needs only the `mock-archive` crate: a test PKI made in memory, an
//! archive on loopback, your system's submission over mutual TLS, then assertions on what the
//! archive stored for the register holder, its audit log and its last acknowledgement, with
//! no HTTP of the test's own.
//!
//! `cargo run -p mock-archive --example vendor_test` runs it once; `cargo test` runs it as a
//! test (the example is built with `test = true`), so it cannot rot.
//!
//! "Your system" here is [`your_system_submits`]: it signs a client-relationship document
//! (`vendor_test/cda.xml`, test data) with the PKI's system-signature certificate, puts it in
//! an HL7 V3 message (`vendor_test/message.xml`) and POSTs it with hyper over rustls. Your test
//! calls your own system there instead.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use mock_archive::ack::AckType;
use mock_archive::format::Wrapping;
use mock_archive::signature::{self, Signer};
use mock_archive::testpki::{Role, scenario};
use mock_archive::{MockArchive, TestPki};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// The document `vendor_test/cda.xml` carries.
const DOCUMENT_ID: &str = "2.999.5851.9.1.2001";

/// The test: your system stores one document in the provider's register.
async fn your_system_stores_a_document() -> Result<()> {
    let pki = TestPki::generate()?;
    let archive = MockArchive::builder().test_pki(&pki).start().await?;
    assert!(archive.last_ack()?.is_none(), "nothing answered yet");

    let status = your_system_submits(&pki, archive.addr()).await?;
    assert_eq!(status, 200);

    let ack = archive.last_ack()?.expect("the archive answered");
    assert_eq!(ack.outcome, AckType::Aa, "codes: {:?}", ack.codes);
    assert_eq!(ack.document_id.as_deref(), Some(DOCUMENT_ID));
    let documents = archive.documents(scenario::PROVIDER_OID)?;
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].document_id, DOCUMENT_ID);
    assert_eq!(documents[0].client, "010190-901R");
    let stored = archive
        .document(scenario::PROVIDER_OID, DOCUMENT_ID)?
        .expect("stored in the provider's register");
    assert!(stored.cda.starts_with(b"<?xml"));
    let audit = archive.audit(scenario::PROVIDER_OID)?;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].tls_peer.as_deref(), Some(scenario::PROVIDER_OID));
    // Nothing reached another register holder.
    assert!(archive.documents(scenario::STRANGER_OID)?.is_empty());

    archive.shutdown().await;
    Ok(())
}

/// Stands for your system: signs the document, wraps it into a SOAP 1.2 message and POSTs it
/// to the archive with the provider system's TLS client certificate. Returns the HTTP status.
async fn your_system_submits(pki: &TestPki, archive: SocketAddr) -> Result<u16> {
    let signer = Signer::from_pem(
        pki.cert_pem(Role::Signature).as_bytes(),
        pki.key_pem(Role::Signature).as_bytes(),
    )?;
    let cda = signature::sign(
        include_bytes!("vendor_test/cda.xml"),
        &signer,
        time::OffsetDateTime::now_utc(),
    )?;
    let message = include_str!("vendor_test/message.xml")
        .replace("{MIME}", &quick_xml::escape::escape(mime(&cda)));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(
        pki.cert_pem(Role::Ca).as_bytes(),
    )?)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(
            vec![CertificateDer::from_pem_slice(
                pki.cert_pem(Role::Client).as_bytes(),
            )?],
            PrivateKeyDer::from_pem_slice(pki.key_pem(Role::Client).as_bytes())?,
        )?;
    let tcp = tokio::net::TcpStream::connect(archive).await?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    let request = hyper::Request::post("/archive")
        .header(hyper::header::HOST, "localhost")
        .header(hyper::header::CONTENT_TYPE, Wrapping::Soap12.content_type())
        .body(Full::new(bytes::Bytes::from(message)))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    response.into_body().collect().await?;
    Ok(status)
}

/// The message's MIME part carrying the signed CDA (base64, 76-character lines).
fn mime(cda: &[u8]) -> String {
    let boundary = "----=_Part_vendor_test";
    let encoded = base64::engine::general_purpose::STANDARD.encode(cda);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "MIME-Version: 1.0\nContent-Type: multipart/related; boundary=\"{boundary}\"\n\n\
         --{boundary}\nContent-Type: text/xml; charset=UTF-8\nContent-Transfer-Encoding: base64\n\
         Content-ID: <{DOCUMENT_ID}>\n\n{}\n--{boundary}--\n",
        lines.join("\n")
    )
}

#[tokio::main]
async fn main() -> Result<()> {
    your_system_stores_a_document().await?;
    println!("vendor_test: your system's document was stored (AA), as the test asserts");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn your_system_stores_a_document() {
        super::your_system_stores_a_document().await.unwrap();
    }
}
