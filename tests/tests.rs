//! The workspace's one integration-test binary: the harness against the archive over real
//! TLS on loopback, and the format and signature layers against their corpora.

mod archive;
mod browser;
mod environment;
mod format;
mod rehearse;
mod report;
mod signature;
mod stranger;
mod support;
mod transport;
mod view;
