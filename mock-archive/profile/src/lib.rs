//! The Kanta profile: what the archive and the harness agree on, with no I/O.
//!
//! HL7 V3 messages and CDA R2 documents ([`format`](mod@format): model, secure reader, codes, identity
//! codes, OIDs), the acknowledgement ([`ack`]), X.509 certificates the Kanta way ([`cert`]), the
//! system signature ([`signature`]), the organisation fixture ([`orgs`]) and the register-holder
//! rules as plain functions ([`rules`]), and all of them as one validation without storing
//! ([`validate`]).
//!
//! Architecture invariant: this crate knows nothing of sockets, HTTP, SQLite, templates or the
//! command line. It reads and writes bytes and strings and returns data.

pub mod ack;
pub mod cert;
pub mod format;
pub mod orgs;
pub mod rules;
pub mod signature;
pub mod validate;
