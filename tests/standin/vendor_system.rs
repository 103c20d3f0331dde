//! A stand-in for a vendor's system, for the test of the CI recipes' script
//! (`docs/ci/rehearse-sut.sh`): started as `KANTAKOE_SUT_COMMAND`, it reads the archive's URL
//! and the test PKI from `KANTAKOE_ARCHIVE_URL` and `KANTAKOE_PKI` as a real system would, and
//! makes the one submission `tests/cases/ci-recipe.toml` asks of "your system": the self-paying
//! client's document, signed, over mutual TLS with the vendor's certificate.

use std::path::PathBuf;

use anyhow::Context as _;
use kantakoe::client::{Identity, Target, TlsClient};
use kantakoe::pki::{Pki, Role};
use mock_archive::format::Wrapping;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("KANTAKOE_ARCHIVE_URL").context("KANTAKOE_ARCHIVE_URL is not set")?;
    let pki = Pki::open(PathBuf::from(
        std::env::var_os("KANTAKOE_PKI").context("KANTAKOE_PKI is not set")?,
    ))?;
    let signature = pki.files(Role::Signature);
    let message = kantakoe_integration::vendor_message(
        &format!("2.999.5851.9.{}", std::process::id()),
        1,
        |_| {},
        &signature.cert,
        &signature.key,
    )?;
    let tls = pki.files(Role::Vendor);
    let identity = Identity {
        cert: tls.cert,
        key: tls.key,
    };
    let mut connection = TlsClient::new(&pki.ca(), Some(&identity))?
        .connect(&Target::parse(&url)?)
        .await?;
    let reply = connection
        .post("/archive", Wrapping::Soap12.content_type(), message)
        .await?;
    println!("stand-in vendor system: submitted, HTTP {}", reply.status);
    anyhow::ensure!(
        reply.status == 200,
        "the archive answered HTTP {}",
        reply.status
    );
    Ok(())
}
