//! The format layer: HL7 V3 messages and CDA R2 documents read (the harness builds them with
//! the same codes), identity codes, organisation ids and the code registry.
//!
//! - [`read_message`] unwraps SOAP 1.1 / SOAP 1.2 / bare, reads the message, the MIME part and
//!   the CDA inside it; [`read_cda`] reads a bare CDA. Both return the typed model plus
//!   **every** [`Problem`] found, each with a stable [`ProblemCode`] and an XPath-like location.
//! - [`check_consistency`] compares the message-level metadata with the CDA's and checks
//!   versioning; [`check_test_identities`] applies the deployment-test identity-code rule.
//! - [`hetu`], [`oid`]: identity codes, OIDs and business IDs. [`codes`]: every code value,
//!   public or convention.
//!
//! Reading is secure by construction (see [`Limits`]): no DTD, no entity expansion, bounded
//! size, depth and element count, linear time, no panics.

mod cda;
pub mod codes;
mod consistency;
pub mod hetu;
mod message;
mod mime;
mod model;
pub mod oid;
mod problem;
pub mod query;
mod read;
mod xml;

pub use cda::read_cda;
pub use consistency::{check_consistency, check_test_identities};
pub use message::{read_frame, read_message};
pub use model::{
    Body, BodyKind, Cda, CodeValue, HeaderKind, InstanceId, LocalHeader, Message, MessageDocument,
    MimePart, Organisation, ParentDocument, Person, SignatureSummary, SoftwareSupport, Wrapping,
};
pub use problem::{Problem, ProblemCode};
pub use xml::Limits;

/// What the input to [`inspect`] turned out to be.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Inspected {
    /// An HL7 V3 message (possibly SOAP-wrapped).
    Message(Box<Message>),
    /// A bare CDA document.
    Document(Box<Cda>),
}

/// Reads `input` as a message, or as a bare CDA when its root is `ClinicalDocument`, and runs
/// the consistency checks on a message. Used by `kantakoe inspect`.
pub fn inspect(input: &[u8], limits: &Limits) -> (Option<Inspected>, Vec<Problem>) {
    let (message, mut problems) = read_message(input, limits);
    if let Some(message) = message {
        problems.extend(check_consistency(&message));
        return (Some(Inspected::Message(Box::new(message))), problems);
    }
    if problems.len() == 1 && problems[0].code == ProblemCode::WrongDocumentKind {
        let (cda, problems) = read_cda(input, limits);
        return (cda.map(|c| Inspected::Document(Box::new(c))), problems);
    }
    (None, problems)
}

/// Result of [`bench_parse`].
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct ParseBench {
    /// Size of the message in bytes.
    pub bytes: usize,
    /// How many times it was read.
    pub iterations: u32,
    /// Total wall time in seconds.
    pub seconds: f64,
    /// Throughput in MB/s (10^6 bytes).
    pub mb_per_s: f64,
    /// Messages read per second.
    pub messages_per_s: f64,
}

/// Reads `input` with [`read_message`] and [`check_consistency`] `iterations` times and
/// measures the throughput. Fails if the message does not read without problems, so a
/// benchmark can never time the fast path of a refusal.
pub fn bench_parse(input: &[u8], iterations: u32) -> Result<ParseBench, Vec<Problem>> {
    let limits = Limits::default();
    let (message, problems) = read_message(input, &limits);
    if !problems.is_empty() || message.is_none() {
        return Err(problems);
    }
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        let (message, problems) = read_message(std::hint::black_box(input), &limits);
        std::hint::black_box((&message, &problems));
        if let Some(m) = &message {
            std::hint::black_box(check_consistency(m));
        }
    }
    let seconds = start.elapsed().as_secs_f64().max(1e-9);
    let total = input.len() as f64 * f64::from(iterations);
    Ok(ParseBench {
        bytes: input.len(),
        iterations,
        seconds,
        mb_per_s: total / seconds / 1e6,
        messages_per_s: f64::from(iterations) / seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BENCH: &[u8] = include_bytes!("testdata/bench-message.xml");

    #[test]
    fn bench_message_reads_cleanly() {
        let (m, problems) = read_message(BENCH, &Limits::default());
        assert_eq!(problems, []);
        let m = m.unwrap();
        assert_eq!(check_consistency(&m), []);
        assert_eq!(check_test_identities(&m), []);
        assert_eq!(m.wrapping.content_type(), "application/xml");
        let b = bench_parse(BENCH, 3).unwrap();
        assert_eq!((b.bytes, b.iterations), (BENCH.len(), 3));
    }

    #[test]
    fn inspect_tells_documents_from_messages() {
        let (m, _) = read_message(BENCH, &Limits::default());
        let cda = m.unwrap().cda_bytes.unwrap();
        let (read, problems) = inspect(&cda, &Limits::default());
        assert_eq!(problems, []);
        assert!(matches!(read, Some(Inspected::Document(_))));
        let (read, problems) = inspect(b"<x xmlns='urn:hl7-org:v3'/>", &Limits::default());
        assert!(read.is_some());
        assert_eq!(problems[0].code, ProblemCode::UnknownInteraction);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Damaged copies of a real message never panic: either a model or problems come back.
        #[test]
        fn damaged_messages_never_panic(
            cuts in prop::collection::vec((0usize..BENCH.len(), any::<u8>()), 1..8),
            truncate in prop::option::of(0usize..BENCH.len()),
        ) {
            let mut bytes = BENCH.to_vec();
            for (at, b) in cuts {
                bytes[at] = b;
            }
            if let Some(t) = truncate {
                bytes.truncate(t);
            }
            let (m, problems) = read_message(&bytes, &Limits::default());
            if let Some(m) = &m {
                let _ = check_consistency(m);
                let _ = check_test_identities(m);
            } else {
                prop_assert!(!problems.is_empty());
            }
        }
    }
}
