//! Kantakoe's harness: makes the test PKI, runs the connection test ("yhteystesti"),
//! inspects, signs and verifies documents, and (later) replays Kela-style test cases against an
//! archive over HTTPS.
//!
//! Architecture invariant: the harness reaches the archive only over HTTPS ([`client`]),
//! never through its internals, even when it embeds one in-process.

pub mod bench;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod compose;
pub mod pki;
pub mod pki_check;
pub mod preflight;
pub mod rehearse;
pub mod report;
pub mod results;
#[cfg(test)]
mod routing_path;
pub mod signing;
