//! A TLS mock of Kanta's social welfare client data repository
//! ("Sosiaalihuollon asiakastietovaranto").
//!
//! The archive demands a client certificate, reads HL7 V3 messages carrying CDA R2 documents,
//! checks their system signature, identity codes and register-holder routing, stores what it
//! accepts durably and acknowledges like the real archive.
//!
//! The format knowledge ([`format`](mod@format), [`signature`], [`cert`]) is public so that the harness
//! reuses it to *build* what the archive *reads*. The transport (TLS, HTTP) is private: the
//! only way in is [`MockArchive::builder`] and HTTPS. The archivist [`view`] is served on a
//! second HTTPS listener of its own, for browsers, behind a token sign-in.
//!
//! A vendor's Rust test needs only this crate: [`TestPki::generate`] makes the test
//! certificates in memory, [`MockArchiveBuilder::test_pki`] starts an archive with them, and
//! the [`MockArchiveHandle`] answers what a test asserts on (a register holder's stored
//! documents, the audit log, the last acknowledgement). `examples/vendor_test.rs` shows it whole.

pub mod config;
mod http;
pub mod inspect;
pub mod pipeline;
pub mod recent;
pub mod server;
pub mod store;
pub mod testpki;
mod tls;
pub mod view;

/// The Kanta profile (format, signature, codes, fixture, rules), from the `kanta-profile` crate,
/// under the names this crate has always used.
pub use kanta_profile::{ack, cert, format, orgs, rules, signature};

pub use config::{ArchiveConfig, TlsFiles};
pub use server::{MockArchive, MockArchiveBuilder, MockArchiveHandle};
pub use testpki::TestPki;
