//! A TLS mock of Kanta's social welfare client data repository
//! ("Sosiaalihuollon asiakastietovaranto").
//!
//! The archive demands a client certificate, reads HL7 V3 messages carrying CDA R2 documents,
//! checks their system signature, identity codes and register-holder routing, stores what it
//! accepts durably and acknowledges like the real archive.
//!
//! The public surface is what a vendor's Rust test needs, in the wiremock shape:
//! [`MockArchive::builder`] → [`MockArchiveBuilder::start`] → a [`MockArchiveHandle`] (its
//! addresses, CA, the archivist view's one-time tokens, connection counts; shutdown on drop),
//! the configuration ([`ArchiveConfig`], [`TlsFiles`], [`RawConfig`] for a TOML file), and the
//! few types of the inspection contract ([`Checklist`]). Everything else (TLS, HTTP, the
//! pipeline, the store, the view) is private: the only way in is HTTPS. What the archive and
//! its clients agree on (format, signature, codes, fixture, rules) is the `kanta-profile`
//! crate.
//!
//! A vendor's Rust test needs only this crate: [`TestPki::generate`] makes the test
//! certificates in memory, [`MockArchiveBuilder::test_pki`] starts an archive with them, and
//! the [`MockArchiveHandle`] answers what a test asserts on (a register holder's stored
//! documents, the audit log, the last acknowledgement). `examples/vendor_test.rs` shows it whole.

mod chain;
pub mod config;
mod conn;
pub mod fault;
mod http;
pub mod inspect;
// The pipeline's and the store's read API is wider than the server uses (a store path, stats,
// integrity checks, the last answer's record): kept for the handle's readers and the store's
// own tests rather than deleted while others work on those modules.
#[allow(dead_code, unused_imports)]
pub mod pipeline;
mod pool;
mod query;
pub mod recent;
pub mod server;
mod shared;
#[allow(dead_code, unused_imports)]
pub mod store;
pub mod testpki;
mod tls;
pub mod validation;
pub mod view;

pub use chain::error_chain;
/// The Kanta profile (format, signature, codes, fixture, rules), from the `kanta-profile` crate,
/// under the names this crate has always used.
pub use kanta_profile::{ack, cert, format, orgs, rules, signature, validate};

pub use config::{
    ArchiveConfig, BUNDLED_ORGS, BUNDLED_ORGS_NAME, ConfigError, DEFAULT_DB, DEFAULT_MESSAGE_PATH,
    DEFAULT_VIEW_LISTEN, Database, RawConfig, TlsFiles,
};
pub use fault::{Fault, FaultEvent, FaultKind, FaultPlan, PlanError, RefuseStage};
pub use server::{
    ConnectionCounts, MockArchive, MockArchiveBuilder, MockArchiveHandle, Ready, StartError,
    run_ready, shutdown_signal,
};
pub use store::{Checklist, ChecklistStep, Checkpoint, Confirmation};
pub use testpki::TestPki;
pub use tls::{TlsError, TlsPeer};
pub use view::{COOKIE as VIEW_COOKIE, CSP as VIEW_CSP, FREE_WRONG_SIGN_INS, ViewError, ViewToken};
