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

pub mod config;
mod http;
pub mod inspect;
pub mod pipeline;
pub mod recent;
pub mod server;
pub mod store;
mod tls;
pub mod validation;
pub mod view;

/// The Kanta profile (format, signature, codes, fixture, rules), from the `kanta-profile` crate,
/// under the names this crate has always used.
pub use kanta_profile::{ack, cert, format, orgs, rules, signature, validate};

pub use config::{ArchiveConfig, TlsFiles};
pub use server::{MockArchive, MockArchiveBuilder, MockArchiveHandle};
