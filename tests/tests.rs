//! The workspace's one integration-test binary: the harness against the archive over real
//! TLS on loopback, and the format and signature layers against their corpora.

mod archive;
mod browser;
mod environment;
mod faults;
mod format;
mod limits;
mod query;
mod recipes;
mod rehearse;
mod report;
mod signature;
mod stranger;
mod support;
mod swedish;
mod terminal;
mod transport;
mod validation;
mod view;
