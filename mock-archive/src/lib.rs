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

pub mod ack;
pub mod cert;
mod chain;
pub mod config;
pub mod format;
mod http;
pub mod inspect;
pub mod orgs;
pub mod pipeline;
pub mod rules;
pub mod server;
pub mod signature;
pub mod store;
mod tls;
pub mod view;

pub use chain::error_chain;
pub use config::{ArchiveConfig, TlsFiles};
pub use server::{MockArchive, MockArchiveBuilder, MockArchiveHandle};
