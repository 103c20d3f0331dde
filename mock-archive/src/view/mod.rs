//! The archivist view ("arkistonhoitajan näkymä"): server-rendered HTML on a second HTTPS
//! listener of its own, for browsers (no client certificate asked), behind a token sign-in.
//! What the Kanta archivist checks after a deployment test (DESIGN §2): the documents are
//! stored, their description metadata is right, their contents match the client system.
//!
//! - **Sign-in** with a one-time token printed at start, or, only with `--fixture-tokens`, an
//!   archivist's token from the fixture (`[[archivist]]`: published with the bundled fixture,
//!   so off by default). Each one-time token belongs to exactly one register holder: one per
//!   register holder that has an archivist in the fixture, or, with `--view-holder OID`, one
//!   for that holder only. A one-time token is spent by its first sign-in. Wrong sign-ins are
//!   slowed down per client address ([`SignInThrottle`]).
//! - **Scope (R8)**: a session sees one register holder; another holder's document at a
//!   guessed URL is the same 404 page as a missing one.
//! - **Pages**: the register (clients, documents, filters by client, document type and
//!   date), one document (metadata, versions with the reason of each change, the signature's
//!   verdict and signer, the narrative as text), the request log with the codes' texts, and
//!   the deployment-test checklist whose checkpoints the archivist confirms.
//! - **Safety**: templates escape everything (askama); no JavaScript at all; every response
//!   sends a Content-Security-Policy without script sources and `nosniff`, and
//!   `Strict-Transport-Security` unless the view is addressed by a loopback name (see
//!   [`Response::hsts`]); the session cookie
//!   is `HttpOnly; Secure; SameSite=Strict`; every form that changes something carries the
//!   session's CSRF token; a POST whose `Origin` is not this view itself is refused (which
//!   also stops another site from signing a browser in with its own token).
//!
//! The HTTP layer (`http.rs`) hands over a plain [`Request`] and sends back a [`Response`]:
//! hyper stays there.

pub mod clock;
mod i18n;
mod narrative;
mod pages;
mod session;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::config::ArchiveConfig;
use crate::orgs::Registry;
use crate::pipeline::Pipeline;

pub use i18n::{Lang, Texts, document_group_name};
pub use narrative::paragraphs;
pub use session::{COOKIE, FREE_WRONG_SIGN_INS, LIFETIME, Session, Sessions, SignInThrottle};

/// The Content-Security-Policy of every response: nothing but this origin's stylesheet, no
/// script of any kind, forms only to this origin, never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// The largest form body accepted, in bytes.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// A one-time sign-in token for one register holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewToken {
    /// The register holder it signs in to.
    pub register_holder: String,
    /// The token.
    pub token: String,
}

/// Why the view could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ViewError {
    /// `--view-holder` names no organisation of the fixture that may hold a register.
    #[error("--view-holder {0}: no organisation of the fixture with that OID may hold a register")]
    UnknownHolder(String),
}

/// The `Strict-Transport-Security` value of the view's answers: a year, this host only.
pub const HSTS: &str = "max-age=31536000";

/// A request as the HTTP layer hands it over.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, percent-encoded as received.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The `Cookie` header.
    pub cookie: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `Host` header.
    pub host: Option<String>,
    /// The `Origin` header (browsers send it with every form POST).
    pub origin: Option<String>,
    /// The client's address (wrong sign-ins are counted per address).
    pub remote: IpAddr,
    /// The body.
    pub body: Vec<u8>,
}

/// A response for the HTTP layer to send.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Further headers (`Set-Cookie`, `Location`); the security headers are in
    /// [`Response::security_headers`].
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The headers every view response carries. The referrer policy is `same-origin`, not
    /// `no-referrer`: under `no-referrer` browsers send `Origin: null` with the view's own form
    /// posts, and the origin check could not tell them from another site's.
    pub fn security_headers() -> [(&'static str, &'static str); 5] {
        [
            ("content-security-policy", CSP),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
            ("x-frame-options", "DENY"),
            ("cache-control", "no-store"),
        ]
    }

    /// The `Strict-Transport-Security` header for a request to `host` (its `Host` header):
    /// [`HSTS`], except for a loopback name (`localhost`, `127.0.0.1`, `[::1]`, with or without
    /// a port), which browsers would then hold to HTTPS on **every** port for a year, breaking
    /// other local development servers (ASP.NET Core's HSTS middleware excludes the same
    /// hosts); over loopback there is no network to strip TLS on anyway.
    pub fn hsts(host: Option<&str>) -> Option<(&'static str, &'static str)> {
        let host = host?.trim();
        let name = match host.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or_default(),
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        let loopback = name.eq_ignore_ascii_case("localhost")
            || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        (!loopback).then_some(("strict-transport-security", HSTS))
    }
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignInRefused {
    /// No such token (or a spent one-time token, or a fixture token while those are off).
    Wrong,
    /// Too many wrong sign-ins from this address: try again after this long.
    Wait(std::time::Duration),
}

/// The archivist view of one archive: its sessions and one-time tokens.
#[derive(Debug)]
pub struct View {
    sessions: Sessions,
    /// Whether the fixture's archivist tokens sign in.
    fixture_tokens: bool,
    /// Wrong sign-ins per client address.
    throttle: SignInThrottle,
    /// Every one-time token made at start (for the handle and the start-up line).
    tokens: Vec<ViewToken>,
    /// The ones not spent yet.
    unspent: Mutex<Vec<ViewToken>>,
    /// The file of the CA that issued the view's certificate, when known: the sign-in page
    /// says how to trust it.
    ca_file: Option<PathBuf>,
}

/// The CA file among `files` that issued the server certificate (the view's certificate):
/// `client_ca` when one of its certificates is the issuer of the chain's last certificate, as
/// in a Kantakoe test PKI. `None` when it is not (e.g. a DVV certificate) or a file cannot be
/// read; the server's start reports unreadable files.
pub fn issuer_file(files: &crate::config::TlsFiles) -> Option<PathBuf> {
    let chain = crate::tls::read_certs(&files.cert, "server certificate").ok()?;
    let top = crate::cert::CertInfo::from_der(chain.last()?.as_ref()).ok()?;
    let cas = crate::tls::read_certs(&files.client_ca, "client CA certificate").ok()?;
    let issued = cas.iter().any(|ca| {
        crate::cert::CertInfo::from_der(ca.as_ref())
            .is_ok_and(|ca| ca.is_ca && ca.subject == top.issuer)
    });
    issued.then(|| files.client_ca.clone())
}

impl View {
    /// Makes the one-time tokens: one for the configuration's `view_holder` when given (it
    /// must be an organisation of the fixture that may hold a register), else one per register
    /// holder that has an archivist in the fixture. The fixture's archivist tokens sign in too
    /// when the configuration's `fixture_tokens` says so.
    pub fn new(registry: &Registry, config: &ArchiveConfig) -> Result<Self, ViewError> {
        let holders: Vec<String> = match config.view_holder.as_deref() {
            Some(oid) => {
                let ok = registry
                    .organisation(oid)
                    .is_some_and(|o| o.may_hold_register());
                if !ok {
                    return Err(ViewError::UnknownHolder(oid.to_owned()));
                }
                vec![oid.to_owned()]
            }
            None => {
                let mut all: Vec<String> = registry
                    .archivists()
                    .iter()
                    .map(|a| a.register_holder.clone())
                    .collect();
                all.sort();
                all.dedup();
                all
            }
        };
        let tokens: Vec<ViewToken> = holders
            .into_iter()
            .map(|register_holder| ViewToken {
                register_holder,
                token: format!("kerta-{}", session::random_hex(16)),
            })
            .collect();
        Ok(Self {
            sessions: Sessions::default(),
            fixture_tokens: config.fixture_tokens,
            throttle: SignInThrottle::default(),
            unspent: Mutex::new(tokens.clone()),
            tokens,
            ca_file: None,
        })
    }

    /// Names the file of the CA that issued the view's certificate (see [`issuer_file`]).
    pub fn with_ca_file(mut self, ca_file: Option<PathBuf>) -> Self {
        self.ca_file = ca_file;
        self
    }

    /// The file of the CA that issued the view's certificate, when known.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// The one-time tokens made at start (spent or not).
    pub fn tokens(&self) -> &[ViewToken] {
        &self.tokens
    }

    /// Signs in from `remote` with a token: an unspent one-time token (spending it), or, when
    /// they are on, an archivist's from the fixture. Returns the archivist's name and register
    /// holder. An address with too many wrong sign-ins must wait, whatever its token.
    pub(crate) fn sign_in(
        &self,
        registry: &Registry,
        token: &str,
        remote: IpAddr,
    ) -> Result<(String, String), SignInRefused> {
        let now = Instant::now();
        self.throttle
            .check(remote, now)
            .map_err(SignInRefused::Wait)?;
        match self.token_holder(registry, token) {
            Some(signed_in) => {
                self.throttle.right(remote);
                Ok(signed_in)
            }
            None => {
                self.throttle.wrong(remote, now);
                tracing::info!("archivist view: wrong sign-in token from {remote}");
                Err(SignInRefused::Wrong)
            }
        }
    }

    fn token_holder(&self, registry: &Registry, token: &str) -> Option<(String, String)> {
        if self.fixture_tokens
            && let Some(a) = registry.archivist(token)
        {
            return Some((a.name.clone(), a.register_holder.clone()));
        }
        let mut unspent = self.unspent.lock().unwrap_or_else(|e| e.into_inner());
        let index = unspent.iter().position(|t| {
            aws_lc_rs::constant_time::verify_slices_are_equal(t.token.as_bytes(), token.as_bytes())
                .is_ok()
        })?;
        let spent = unspent.remove(index);
        let holder_name = registry
            .organisation(&spent.register_holder)
            .map_or(spent.register_holder.clone(), |o| o.name.clone());
        Some((
            format!("{holder_name}: one-time sign-in"),
            spent.register_holder,
        ))
    }

    /// Answers one request of the view. Blocking (it reads the store): call it off the async
    /// threads.
    pub fn handle(&self, pipeline: &Pipeline, request: &Request) -> Response {
        pages::handle(self, pipeline, request)
    }
}

/// Decodes `application/x-www-form-urlencoded` (also a query string) into pairs.
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Percent-decodes (and with `plus`, turns `+` into a space); invalid UTF-8 is replaced.
pub fn percent_decode(text: &str, plus: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_percent_encoding_decode() {
        assert_eq!(
            form_pairs("token=a+b%21&x=&lang=sv&bad=%zz%4"),
            vec![
                ("token".to_owned(), "a b!".to_owned()),
                ("x".to_owned(), String::new()),
                ("lang".to_owned(), "sv".to_owned()),
                ("bad".to_owned(), "%zz%4".to_owned()),
            ]
        );
        assert_eq!(percent_decode("1.2.3%2F..", false), "1.2.3/..");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("%C3%A4", false), "ä");
    }

    #[test]
    fn hsts_is_sent_except_to_loopback_names() {
        let sent = Some(("strict-transport-security", HSTS));
        assert_eq!(Response::hsts(Some("archive.example:8444")), sent);
        assert_eq!(Response::hsts(Some("192.0.2.7:8444")), sent);
        assert_eq!(Response::hsts(Some("[2001:db8::1]:8444")), sent);
        assert_eq!(Response::hsts(Some("archive.example")), sent);
        for loopback in [
            "localhost:8444",
            "LOCALHOST",
            "127.0.0.1:1",
            "[::1]:8444",
            "[::1]",
        ] {
            assert_eq!(Response::hsts(Some(loopback)), None, "{loopback}");
        }
        assert_eq!(Response::hsts(None), None);
    }

    #[test]
    fn wrong_sign_ins_are_slowed_down_whatever_the_next_token() {
        let registry = Registry::from_toml_str(crate::config::BUNDLED_ORGS, "orgs").unwrap();
        let view = View::new(
            &registry,
            &ArchiveConfig::new(crate::config::TlsFiles::from_pki_dir(".")),
        )
        .unwrap();
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..FREE_WRONG_SIGN_INS {
            assert_eq!(
                view.sign_in(&registry, "guess", here),
                Err(SignInRefused::Wrong)
            );
        }
        let token = view.tokens()[0].token.clone();
        assert!(matches!(
            view.sign_in(&registry, &token, here),
            Err(SignInRefused::Wait(wait)) if wait <= std::time::Duration::from_secs(1)
        ));
        // Another address signs in at once, with the token the throttled one could not spend.
        let there: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(view.sign_in(&registry, &token, there).is_ok());
    }

    #[test]
    fn one_time_tokens_belong_to_one_holder_each_and_are_spent_once() {
        let registry = Registry::from_toml_str(crate::config::BUNDLED_ORGS, "orgs").unwrap();
        let config = |holder: Option<&str>, fixture_tokens| ArchiveConfig {
            view_holder: holder.map(str::to_owned),
            fixture_tokens,
            ..ArchiveConfig::new(crate::config::TlsFiles::from_pki_dir("."))
        };
        let view = View::new(&registry, &config(None, true)).unwrap();
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        let holders: Vec<&str> = view
            .tokens()
            .iter()
            .map(|t| t.register_holder.as_str())
            .collect();
        assert_eq!(holders, ["2.999.5851.2.1", "2.999.5851.2.2"]);
        let token = view.tokens()[1].token.clone();
        let (name, holder) = view.sign_in(&registry, &token, here).unwrap();
        assert_eq!(holder, "2.999.5851.2.2");
        assert!(name.ends_with(": one-time sign-in"), "{name}");
        assert_eq!(
            view.sign_in(&registry, &token, here),
            Err(SignInRefused::Wrong),
            "spent"
        );
        // Fixture tokens, when on, sign in as often as wanted.
        for _ in 0..2 {
            let (name, holder) = view
                .sign_in(&registry, "arkistonhoitaja-esimerkki-TESTI", here)
                .unwrap();
            assert_eq!(
                (name.as_str(), holder.as_str()),
                (
                    "Arkistonhoitaja Esimerkki (TESTIAINEISTO)",
                    "2.999.5851.2.1"
                )
            );
        }
        assert_eq!(
            view.sign_in(&registry, "guess", here),
            Err(SignInRefused::Wrong)
        );

        // Off by default: the published fixture tokens are wrong tokens then.
        let off = View::new(&registry, &config(None, false)).unwrap();
        assert_eq!(
            off.sign_in(&registry, "arkistonhoitaja-esimerkki-TESTI", here),
            Err(SignInRefused::Wrong)
        );
        let one = View::new(&registry, &config(Some("2.999.5851.2.2"), false)).unwrap();
        assert_eq!(one.tokens().len(), 1);
        assert_eq!(
            View::new(&registry, &config(Some("2.999.404"), false))
                .unwrap_err()
                .to_string(),
            "--view-holder 2.999.404: no organisation of the fixture with that OID may hold a register"
        );
    }
}
