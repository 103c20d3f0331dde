//! Shared test support lives in the integration binary's `support` module; what the stand-in
//! programs under `standin/` share with the tests lives here.

use std::path::Path;

use kantakoe::compose::{self, DocumentTemplate, MessageValues};
use kantakoe::signing::SystemSigner;
use mock_archive::format::Wrapping;

/// A stand-in vendor system's submission (SOAP 1.2): the bundled scenario's self-paying client's
/// client-relationship document, effective 2026-02-02, message id `<id_arc>.<n>` and document
/// id `<id_arc>.2<n>`, changed by `edit`, signed now with the system-signature certificate and
/// key files given.
pub fn vendor_message(
    id_arc: &str,
    n: u32,
    edit: impl FnOnce(&mut MessageValues),
    signature_cert: &Path,
    signature_key: &Path,
) -> anyhow::Result<Vec<u8>> {
    let mut values = MessageValues {
        effective_time: "20260202100000+0200".into(),
        ..compose::scenario_self_paying(format!("{id_arc}.{n}"), format!("{id_arc}.2{n}"))
    };
    edit(&mut values);
    let signer = SystemSigner::from_files(
        signature_cert,
        signature_key,
        time::OffsetDateTime::now_utc(),
    )?;
    Ok(compose::build_message(
        &DocumentTemplate::client_relationship(),
        &values,
        Wrapping::Soap12,
        Some(&signer),
    )?
    .message)
}
