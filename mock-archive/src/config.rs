//! Archive configuration in stages: a raw TOML file and command-line flags are merged into one
//! validated [`ArchiveConfig`], which is passed down explicitly.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The database file `mock-archive serve` uses unless told otherwise.
pub const DEFAULT_DB: &str = "mock-archive.db";

/// The message path the archive answers on (a convention: see
/// [`crate::format::codes::DEFAULT_MESSAGE_PATH`]).
pub const DEFAULT_MESSAGE_PATH: &str = crate::format::codes::DEFAULT_MESSAGE_PATH.value;

/// The archive's TLS files: its server certificate and key, and the CA it trusts for TLS
/// clients (client certificates are always required).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// Server certificate chain (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM, PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// CA certificate(s) trusted for TLS client certificates (PEM).
    pub client_ca: PathBuf,
}

impl TlsFiles {
    /// The files of a Kantakoe test PKI directory (`kantakoe pki init`): `server.pem`,
    /// `server.key.pem` and `ca.pem`.
    pub fn from_pki_dir(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        Self {
            cert: dir.join("server.pem"),
            key: dir.join("server.key.pem"),
            client_ca: dir.join("ca.pem"),
        }
    }
}

/// The validated configuration of one archive.
#[derive(Debug, Clone)]
pub struct ArchiveConfig {
    /// Where the message listener binds (port 0: any free port).
    pub listen: SocketAddr,
    /// TLS files.
    pub tls: TlsFiles,
    /// The message path.
    pub message_path: String,
    /// How long a TLS handshake may take before the connection is dropped.
    pub handshake_timeout: Duration,
    /// How long a request's headers may take from their first byte to their end.
    pub header_timeout: Duration,
    /// How long a kept-alive connection may wait idle for its next request.
    pub idle_timeout: Duration,
    /// The slowest a request body may arrive, in bytes per second, after
    /// [`body_grace`](Self::body_grace): by any moment `t` after the headers, at least
    /// `body_min_rate × (t − body_grace)` bytes must have arrived, else `408` and closed.
    pub body_min_rate: u64,
    /// The grace period before a request body's [`body_min_rate`](Self::body_min_rate) applies.
    pub body_grace: Duration,
    /// The most connections open at once over both listeners; `None`: three quarters of what
    /// the open-file limit allows (at most 4,096). At the cap an idle or unfinished connection
    /// makes room; when every one is serving a request, the new one is refused.
    pub max_connections: Option<usize>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Benchmark baseline: answer every request with a fixed body, parsing and storing
    /// nothing (the same TLS and HTTP stack, for side-by-side measurements).
    pub bare_baseline: bool,
    /// CA certificate(s) trusted for system signatures (PEM); `None`: the TLS client CA.
    pub signature_ca: Option<PathBuf>,
    /// The organisation fixture (TOML); `None`: the bundled `testcases/orgs.toml`.
    pub orgs: Option<PathBuf>,
    /// Where documents are stored: a SQLite file, or [`Database::Ephemeral`].
    pub db: Database,
    /// Where the archivist view's listener binds (HTTPS for browsers, no client certificate);
    /// `None`: no view.
    pub view_listen: Option<SocketAddr>,
    /// The register holder whose one-time view token is made; `None`: one for each register
    /// holder with an archivist in the fixture.
    pub view_holder: Option<String>,
    /// Whether the archivists' tokens of the fixture (published in `testcases/orgs.toml`) sign
    /// in to the archivist view; off by default, so that only the one-time tokens printed at
    /// start do. (The inspection API, behind mutual TLS, always takes them.)
    pub fixture_tokens: bool,
    /// Where the validation service's plain-HTTP listener binds ([`crate::validation`]);
    /// `None`: only on the message listener.
    pub validation_listen: Option<SocketAddr>,
    /// Faults armed at start (`--faults FILE`, [`crate::fault`]).
    pub faults: Vec<crate::fault::Fault>,
    /// The admin token of `PUT /inspect/faults`; `None`: a random one, announced at start.
    pub admin_token: Option<String>,
}

/// Where `mock-archive serve` puts the validation service unless told otherwise: loopback, any
/// free port (the URL is printed at start).
pub const DEFAULT_VALIDATION_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// Where `mock-archive serve` puts the archivist view unless told otherwise: loopback, any
/// free port (the address is printed at start).
pub const DEFAULT_VIEW_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// Where the archive keeps its documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite database file (WAL mode; survives restarts and crashes).
    File(PathBuf),
    /// A throwaway database removed when the archive stops (`--db :memory:`), for CI.
    Ephemeral,
}

impl Database {
    /// Parses a `--db` value: `:memory:` means ephemeral, anything else is a file.
    pub fn parse(value: &str) -> Self {
        if value == ":memory:" {
            Database::Ephemeral
        } else {
            Database::File(PathBuf::from(value))
        }
    }
}

/// The bundled organisation fixture.
pub const BUNDLED_ORGS: &str = include_str!("orgs.toml");

/// The name the bundled fixture goes by in messages.
pub const BUNDLED_ORGS_NAME: &str = "testcases/orgs.toml (bundled)";

impl ArchiveConfig {
    /// A configuration with defaults for everything but the TLS files: loopback, any port.
    pub fn new(tls: TlsFiles) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls,
            message_path: DEFAULT_MESSAGE_PATH.to_owned(),
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(300),
            body_min_rate: 1024,
            body_grace: Duration::from_secs(10),
            max_connections: None,
            max_body_bytes: 8 * 1024 * 1024,
            bare_baseline: false,
            signature_ca: None,
            orgs: None,
            db: Database::Ephemeral,
            view_listen: None,
            view_holder: None,
            fixture_tokens: false,
            validation_listen: None,
            faults: Vec::new(),
            admin_token: None,
        }
    }
}

/// The archive's TOML configuration file, as written by a person: every field optional,
/// command-line flags win.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Listen address, e.g. `127.0.0.1:8443`.
    pub listen: Option<SocketAddr>,
    /// A Kantakoe PKI directory supplying the TLS files not given one by one.
    pub pki: Option<PathBuf>,
    /// Server certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// Server private key (PEM).
    pub key: Option<PathBuf>,
    /// CA trusted for TLS client certificates (PEM).
    pub client_ca: Option<PathBuf>,
    /// Message path.
    pub message_path: Option<String>,
    /// Handshake timeout in seconds.
    pub handshake_timeout_secs: Option<u64>,
    /// Request header timeout in seconds.
    pub header_timeout_secs: Option<u64>,
    /// Keep-alive idle timeout in seconds.
    pub idle_timeout_secs: Option<u64>,
    /// The slowest request body accepted, bytes per second after the grace period.
    pub body_min_rate: Option<u64>,
    /// The grace period before the body's minimum rate applies, seconds.
    pub body_grace_secs: Option<u64>,
    /// The most connections open at once.
    pub max_connections: Option<usize>,
    /// Largest request body, bytes.
    pub max_body_bytes: Option<usize>,
    /// CA trusted for system signatures (PEM).
    pub signature_ca: Option<PathBuf>,
    /// Organisation fixture (TOML).
    pub orgs: Option<PathBuf>,
    /// SQLite database file, or `:memory:` for a throwaway one.
    pub db: Option<String>,
    /// The archivist view's address, or `off`.
    pub view_listen: Option<String>,
    /// The register holder for the one-time view token.
    pub view_holder: Option<String>,
    /// Whether the fixture's archivist tokens sign in to the view.
    pub fixture_tokens: Option<bool>,
    /// The validation service's plain-HTTP address, or `off`.
    pub validation_listen: Option<String>,
}

/// A configuration that could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A TLS file was given neither directly nor through a PKI directory.
    #[error("no {0} given: pass --{0} FILE or --pki DIR (or set it in the config file)")]
    Missing(&'static str),
    /// The message path does not start with '/'.
    #[error("message path {0:?} must start with '/'")]
    BadPath(String),
    /// A limit or deadline is zero, which would refuse everything.
    #[error("{0} must be greater than 0")]
    Zero(&'static str),
    /// The view address is neither a socket address nor `off`.
    #[error("view listen address {0:?} is neither an address like 127.0.0.1:8444 nor `off`")]
    BadViewListen(String),
    /// The validation address is neither a socket address nor `off`.
    #[error("validation listen address {0:?} is neither an address like 127.0.0.1:8445 nor `off`")]
    BadValidationListen(String),
}

impl RawConfig {
    /// Reads a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses TOML text; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            line: e
                .span()
                .map_or(1, |s| text[..s.start].matches('\n').count() + 1),
            message: e.message().trim().to_owned(),
        })
    }

    /// Overlays `over` (e.g. flags) on `self` (e.g. the file): fields set in `over` win.
    pub fn overlay(self, over: RawConfig) -> RawConfig {
        RawConfig {
            listen: over.listen.or(self.listen),
            pki: over.pki.or(self.pki),
            cert: over.cert.or(self.cert),
            key: over.key.or(self.key),
            client_ca: over.client_ca.or(self.client_ca),
            message_path: over.message_path.or(self.message_path),
            handshake_timeout_secs: over.handshake_timeout_secs.or(self.handshake_timeout_secs),
            header_timeout_secs: over.header_timeout_secs.or(self.header_timeout_secs),
            idle_timeout_secs: over.idle_timeout_secs.or(self.idle_timeout_secs),
            body_min_rate: over.body_min_rate.or(self.body_min_rate),
            body_grace_secs: over.body_grace_secs.or(self.body_grace_secs),
            max_connections: over.max_connections.or(self.max_connections),
            max_body_bytes: over.max_body_bytes.or(self.max_body_bytes),
            signature_ca: over.signature_ca.or(self.signature_ca),
            orgs: over.orgs.or(self.orgs),
            db: over.db.or(self.db),
            view_listen: over.view_listen.or(self.view_listen),
            view_holder: over.view_holder.or(self.view_holder),
            fixture_tokens: over.fixture_tokens.or(self.fixture_tokens),
            validation_listen: over.validation_listen.or(self.validation_listen),
        }
    }

    /// Validates into an [`ArchiveConfig`].
    pub fn validate(self) -> Result<ArchiveConfig, ConfigError> {
        let from_pki = self.pki.as_deref().map(TlsFiles::from_pki_dir);
        let pick = |given: Option<PathBuf>, name, from: fn(&TlsFiles) -> &PathBuf| {
            given
                .or_else(|| from_pki.as_ref().map(|f| from(f).clone()))
                .ok_or(ConfigError::Missing(name))
        };
        let tls = TlsFiles {
            cert: pick(self.cert, "cert", |f| &f.cert)?,
            key: pick(self.key, "key", |f| &f.key)?,
            client_ca: pick(self.client_ca, "client-ca", |f| &f.client_ca)?,
        };
        let mut config = ArchiveConfig::new(tls);
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if let Some(path) = self.message_path {
            if !path.starts_with('/') {
                return Err(ConfigError::BadPath(path));
            }
            config.message_path = path;
        }
        let secs = |value: Option<u64>, name: &'static str, default: Duration| match value {
            Some(0) => Err(ConfigError::Zero(name)),
            Some(secs) => Ok(Duration::from_secs(secs)),
            None => Ok(default),
        };
        config.handshake_timeout = secs(
            self.handshake_timeout_secs,
            "handshake_timeout_secs",
            config.handshake_timeout,
        )?;
        config.header_timeout = secs(
            self.header_timeout_secs,
            "header_timeout_secs",
            config.header_timeout,
        )?;
        config.idle_timeout = secs(
            self.idle_timeout_secs,
            "idle_timeout_secs",
            config.idle_timeout,
        )?;
        config.body_grace = secs(self.body_grace_secs, "body_grace_secs", config.body_grace)?;
        match self.body_min_rate {
            Some(0) => return Err(ConfigError::Zero("body_min_rate")),
            Some(rate) => config.body_min_rate = rate,
            None => {}
        }
        match self.max_connections {
            Some(0) => return Err(ConfigError::Zero("max_connections")),
            max => config.max_connections = max,
        }
        config.fixture_tokens = self.fixture_tokens.unwrap_or(false);
        if let Some(max) = self.max_body_bytes {
            config.max_body_bytes = max;
        }
        config.signature_ca = self.signature_ca;
        config.orgs = self.orgs;
        config.db = Database::parse(self.db.as_deref().unwrap_or(DEFAULT_DB));
        config.view_listen = match self.view_listen.as_deref().map(str::trim) {
            None => Some(DEFAULT_VIEW_LISTEN),
            Some("off") => None,
            Some(addr) => Some(
                addr.parse()
                    .map_err(|_| ConfigError::BadViewListen(addr.to_owned()))?,
            ),
        };
        config.view_holder = self.view_holder;
        config.validation_listen = match self.validation_listen.as_deref().map(str::trim) {
            None => Some(DEFAULT_VALIDATION_LISTEN),
            Some("off") => None,
            Some(addr) => Some(
                addr.parse()
                    .map_err(|_| ConfigError::BadValidationListen(addr.to_owned()))?,
            ),
        };
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_pki_fills_the_rest() {
        let file = RawConfig::from_toml(
            "listen = \"127.0.0.1:9000\"\npki = \"/p\"\nkey = \"/k.pem\"\n",
            Path::new("a.toml"),
        )
        .unwrap();
        let flags = RawConfig {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            ..RawConfig::default()
        };
        let c = file.overlay(flags).validate().unwrap();
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.tls.key, PathBuf::from("/k.pem"));
        assert_eq!(c.tls.cert, PathBuf::from("/p/server.pem"));
        assert_eq!(c.tls.client_ca, PathBuf::from("/p/ca.pem"));
        assert_eq!(c.message_path, "/archive");
        assert_eq!(c.view_listen, Some(DEFAULT_VIEW_LISTEN));
        let off = RawConfig {
            pki: Some("/p".into()),
            view_listen: Some("off".into()),
            ..RawConfig::default()
        };
        assert_eq!(off.validate().unwrap().view_listen, None);
        let file = RawConfig::from_toml(
            "pki = \"/p\"\nview_listen = \"127.0.0.1:8444\"\nview_holder = \"2.999.5851.2.2\"\n",
            Path::new("a.toml"),
        )
        .unwrap()
        .validate()
        .unwrap();
        assert_eq!(file.view_listen, Some("127.0.0.1:8444".parse().unwrap()));
        assert_eq!(file.view_holder.as_deref(), Some("2.999.5851.2.2"));
    }

    #[test]
    fn connection_limits_come_from_the_file_with_defaults_a_vendor_never_hits() {
        let defaults = RawConfig::from_toml("pki = \"/p\"\n", Path::new("a.toml"))
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(defaults.handshake_timeout, Duration::from_secs(10));
        assert_eq!(defaults.header_timeout, Duration::from_secs(30));
        assert_eq!(defaults.idle_timeout, Duration::from_secs(300));
        assert_eq!(defaults.body_min_rate, 1024);
        assert_eq!(defaults.body_grace, Duration::from_secs(10));
        assert_eq!(defaults.max_connections, None);
        assert!(!defaults.fixture_tokens);
        let file = RawConfig::from_toml(
            "pki = \"/p\"\nheader_timeout_secs = 5\nidle_timeout_secs = 60\nbody_min_rate = 100\n\
             body_grace_secs = 2\nmax_connections = 50\nfixture_tokens = true\n",
            Path::new("a.toml"),
        )
        .unwrap()
        .validate()
        .unwrap();
        assert_eq!(file.header_timeout, Duration::from_secs(5));
        assert_eq!(file.idle_timeout, Duration::from_secs(60));
        assert_eq!(file.body_min_rate, 100);
        assert_eq!(file.body_grace, Duration::from_secs(2));
        assert_eq!(file.max_connections, Some(50));
        assert!(file.fixture_tokens);
        for (line, field) in [
            ("header_timeout_secs = 0", "header_timeout_secs"),
            ("idle_timeout_secs = 0", "idle_timeout_secs"),
            ("handshake_timeout_secs = 0", "handshake_timeout_secs"),
            ("body_min_rate = 0", "body_min_rate"),
            ("body_grace_secs = 0", "body_grace_secs"),
            ("max_connections = 0", "max_connections"),
        ] {
            let err = RawConfig::from_toml(&format!("pki = \"/p\"\n{line}\n"), Path::new("a.toml"))
                .unwrap()
                .validate()
                .unwrap_err();
            assert_eq!(err.to_string(), format!("{field} must be greater than 0"));
        }
    }

    #[test]
    fn errors_name_the_file_line_and_missing_flag() {
        let err = RawConfig::from_toml("listen = \"x\"\n", Path::new("a.toml")).unwrap_err();
        assert!(err.to_string().starts_with("a.toml:1: "), "{err}");
        let err = RawConfig::from_toml("\nbogus = 1\n", Path::new("a.toml")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("a.toml:2: unknown field `bogus`"),
            "{err}"
        );
        let err = RawConfig::default().validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "no cert given: pass --cert FILE or --pki DIR (or set it in the config file)"
        );
        let raw = RawConfig {
            pki: Some("/p".into()),
            message_path: Some("archive".into()),
            ..RawConfig::default()
        };
        assert_eq!(
            raw.validate().unwrap_err().to_string(),
            "message path \"archive\" must start with '/'"
        );
        let raw = RawConfig {
            pki: Some("/p".into()),
            view_listen: Some("localhost".into()),
            ..RawConfig::default()
        };
        assert_eq!(
            raw.validate().unwrap_err().to_string(),
            "view listen address \"localhost\" is neither an address like 127.0.0.1:8444 nor `off`"
        );
    }

    #[test]
    fn validation_listen_is_loopback_by_default_and_off_or_an_address_when_asked() {
        let base = || RawConfig {
            pki: Some("/p".into()),
            ..RawConfig::default()
        };
        assert_eq!(
            base().validate().unwrap().validation_listen,
            Some(DEFAULT_VALIDATION_LISTEN)
        );
        assert!(DEFAULT_VALIDATION_LISTEN.ip().is_loopback());
        let off = RawConfig {
            validation_listen: Some("off".into()),
            ..base()
        };
        assert_eq!(off.validate().unwrap().validation_listen, None);
        let bad = RawConfig {
            validation_listen: Some("anywhere".into()),
            ..base()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "validation listen address \"anywhere\" is neither an address like 127.0.0.1:8445 nor `off`"
        );
    }
}
