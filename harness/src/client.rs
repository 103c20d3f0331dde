//! The harness's HTTPS client: mutual TLS with rustls (aws-lc-rs) and HTTP/1.1 with hyper,
//! one keep-alive connection at a time. This is the only harness module that touches rustls
//! or hyper.
//!
//! Architecture invariant: the harness reaches the archive only through this module.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A client certificate and key, as PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// Where the archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or address, as in the URL.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path prefix from the URL (without trailing slash), usually empty.
    pub base_path: String,
}

impl Target {
    /// Parses `https://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let bad = |why: &str| ClientError::Url {
            url: url.to_owned(),
            why: why.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("the archive is reached over https:// only"));
        }
        let host = uri.host().ok_or_else(|| bad("no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Ok(Self {
            host,
            port: uri.port_u16().unwrap_or(443),
            base_path: uri.path().trim_end_matches('/').to_owned(),
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "https://[{}]:{}{}", self.host, self.port, self.base_path)
        } else {
            write!(f, "https://{}:{}{}", self.host, self.port, self.base_path)
        }
    }
}

/// What went wrong talking to the archive, classified so a person can act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not usable.
    #[error("bad archive URL {url:?}: {why}")]
    Url {
        /// The URL given.
        url: String,
        /// Why.
        why: String,
    },
    /// A certificate or key file does not exist or cannot be read.
    #[error("missing file: {} ({what}): {source}", path.display())]
    MissingFile {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// A file exists but holds no usable PEM.
    #[error("{}: not a usable {what}: {message}", path.display())]
    BadPem {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Nothing listens at the address.
    #[error("connection refused: nothing is listening on {target} ({source})")]
    Refused {
        /// The archive.
        target: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TCP connection failed otherwise.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// The archive.
        target: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The server's certificate does not chain to the CA we trust.
    #[error(
        "untrusted server: the archive's certificate is not issued by the trusted CA ({detail})"
    )]
    UntrustedServer {
        /// rustls's words.
        detail: String,
    },
    /// The server's certificate does not name the host we connected to.
    #[error("hostname mismatch: the archive's certificate is not valid for {host:?} ({detail})")]
    HostnameMismatch {
        /// The host we asked for.
        host: String,
        /// rustls's words.
        detail: String,
    },
    /// The server's certificate has expired or is not yet valid.
    #[error("expired certificate: the archive's server certificate is not valid now ({detail})")]
    ServerCertExpired {
        /// rustls's words.
        detail: String,
    },
    /// The archive refused our client certificate because it has expired.
    #[error(
        "expired certificate: the archive refused the client certificate as expired ({detail})"
    )]
    ClientCertExpired {
        /// rustls's words.
        detail: String,
    },
    /// The archive refused our client certificate (unknown CA, none given, bad).
    #[error("client certificate rejected: {reason} ({detail})")]
    ClientCertRejected {
        /// Our reading of the alert.
        reason: &'static str,
        /// rustls's words.
        detail: String,
    },
    /// Some other TLS failure.
    #[error("TLS failure: {0}")]
    Tls(String),
    /// The HTTP exchange failed.
    #[error("HTTP exchange with the archive failed: {0}")]
    Http(String),
}

impl ClientError {
    /// Classifies an I/O or hyper error by looking for a rustls error in its cause chain.
    fn classify(err: &(dyn std::error::Error + 'static), host: &str) -> Option<Self> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = cur {
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return Some(Self::from_rustls(tls, host));
            }
            if let Some(tls) = e
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|i| i.downcast_ref::<rustls::Error>())
            {
                return Some(Self::from_rustls(tls, host));
            }
            cur = e.source();
        }
        None
    }

    fn from_rustls(err: &rustls::Error, host: &str) -> Self {
        use rustls::{AlertDescription as A, CertificateError as C, Error as E};
        let detail = err.to_string();
        match err {
            E::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
                Self::UntrustedServer { detail }
            }
            E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
                Self::HostnameMismatch {
                    host: host.to_owned(),
                    detail,
                }
            }
            E::InvalidCertificate(
                C::Expired
                | C::ExpiredContext { .. }
                | C::NotValidYet
                | C::NotValidYetContext { .. },
            ) => Self::ServerCertExpired { detail },
            E::AlertReceived(A::CertificateExpired) => Self::ClientCertExpired { detail },
            E::AlertReceived(A::CertificateRequired) => Self::ClientCertRejected {
                reason: "the archive requires a client certificate and none was sent",
                detail,
            },
            E::AlertReceived(A::UnknownCA) => Self::ClientCertRejected {
                reason: "the archive does not trust the CA that issued the client certificate",
                detail,
            },
            E::AlertReceived(
                A::BadCertificate
                | A::CertificateUnknown
                | A::UnsupportedCertificate
                | A::CertificateRevoked,
            ) => Self::ClientCertRejected {
                reason: "the archive refused the client certificate",
                detail,
            },
            other => Self::Tls(other.to_string()),
        }
    }
}

/// An error and its causes, `a: b: c`.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cur = e.source();
    }
    text
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::MissingFile {
        path: path.to_owned(),
        what,
        source,
    })
}

/// Reads every certificate in a PEM file; at least one.
pub fn read_certs(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let bytes = read(path, what)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientError::BadPem {
            path: path.to_owned(),
            what,
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(ClientError::BadPem {
            path: path.to_owned(),
            what,
            message: "no CERTIFICATE block in the file".into(),
        });
    }
    Ok(certs)
}

/// TLS client settings for talking to one archive.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    /// The client certificate (end entity), DER, if one is presented.
    pub client_cert: Option<Vec<u8>>,
}

impl fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClient").finish_non_exhaustive()
    }
}

impl TlsClient {
    /// Trusts `ca` for the server and presents `identity` (if any) as the client certificate.
    pub fn new(ca: &Path, identity: Option<&Identity>) -> Result<Self, ClientError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in read_certs(ca, "CA certificate")? {
            roots.add(cert).map_err(|e| ClientError::BadPem {
                path: ca.to_owned(),
                what: "CA certificate",
                message: e.to_string(),
            })?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| ClientError::Tls(e.to_string()))?
            .with_root_certificates(roots);
        let (config, client_cert) = match identity {
            None => (builder.with_no_client_auth(), None),
            Some(id) => {
                let chain = read_certs(&id.cert, "client certificate")?;
                let key_bytes = read(&id.key, "client private key")?;
                let key =
                    PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| ClientError::BadPem {
                        path: id.key.clone(),
                        what: "client private key",
                        message: e.to_string(),
                    })?;
                let leaf = chain[0].to_vec();
                let config =
                    builder
                        .with_client_auth_cert(chain, key)
                        .map_err(|e| ClientError::BadPem {
                            path: id.key.clone(),
                            what: "client private key matching the certificate",
                            message: e.to_string(),
                        })?;
                (config, Some(leaf))
            }
        };
        let mut config = config;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            client_cert,
        })
    }

    /// Opens one mutual-TLS connection with HTTP/1.1 keep-alive.
    pub async fn connect(&self, target: &Target) -> Result<Connection, ClientError> {
        let tcp = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|source| {
                let target = target.to_string();
                if source.kind() == std::io::ErrorKind::ConnectionRefused {
                    ClientError::Refused { target, source }
                } else {
                    ClientError::Connect { target, source }
                }
            })?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(target.host.clone()).map_err(|e| ClientError::Url {
            url: target.to_string(),
            why: e.to_string(),
        })?;
        let tls = TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| {
                ClientError::classify(&e, &target.host).unwrap_or(ClientError::Tls(e.to_string()))
            })?;
        let (_, conn) = tls.get_ref();
        let info = TlsInfo {
            version: conn
                .protocol_version()
                .map_or_else(|| "unknown".into(), |v| format!("{v:?}")),
            cipher: conn
                .negotiated_cipher_suite()
                .map_or_else(|| "unknown".into(), |c| format!("{:?}", c.suite())),
            server_cert: conn
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| c.to_vec()),
        };
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| ClientError::Http(chain(&e)))?;
        let driver = tokio::spawn(connection);
        Ok(Connection {
            sender,
            driver,
            info,
            host: target.host.clone(),
            base_path: target.base_path.clone(),
        })
    }
}

/// What the TLS handshake negotiated.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// Protocol version, e.g. `TLSv1_3`.
    pub version: String,
    /// Cipher suite.
    pub cipher: String,
    /// The server's end-entity certificate, DER.
    pub server_cert: Option<Vec<u8>>,
}

/// One keep-alive connection to the archive.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: tokio::task::JoinHandle<Result<(), hyper::Error>>,
    /// What the handshake negotiated.
    pub info: TlsInfo,
    host: String,
    base_path: String,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// An HTTP response, fully read.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Content-Type, if any.
    pub content_type: Option<String>,
    /// Body bytes.
    pub body: Bytes,
}

impl Connection {
    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Result<Reply, ClientError> {
        self.request("GET", path, None, None, Bytes::new()).await
    }

    /// `GET path` with an archivist's bearer token (the inspection API).
    pub async fn get_as(&mut self, path: &str, token: &str) -> Result<Reply, ClientError> {
        self.request("GET", path, None, Some(token), Bytes::new())
            .await
    }

    /// `PUT path` with a JSON body and an archivist's bearer token (the inspection API's
    /// checklist).
    pub async fn put_json_as(
        &mut self,
        path: &str,
        token: &str,
        body: impl Into<Bytes>,
    ) -> Result<Reply, ClientError> {
        self.request(
            "PUT",
            path,
            Some("application/json"),
            Some(token),
            body.into(),
        )
        .await
    }

    /// `POST path` with a body of the given content type.
    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: impl Into<Bytes>,
    ) -> Result<Reply, ClientError> {
        self.request("POST", path, Some(content_type), None, body.into())
            .await
    }

    async fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        token: Option<&str>,
        body: Bytes,
    ) -> Result<Reply, ClientError> {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base_path))
            .header(hyper::header::HOST, self.host.as_str());
        if let Some(ct) = content_type {
            req = req.header(hyper::header::CONTENT_TYPE, ct);
        }
        if let Some(token) = token {
            req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| ClientError::Http(chain(&e)))?;
        let host = self.host.clone();
        let fail = |e: hyper::Error| {
            ClientError::classify(&e, &host).unwrap_or(ClientError::Http(chain(&e)))
        };
        // A keep-alive connection takes new requests only once the previous exchange is done.
        self.sender.ready().await.map_err(fail)?;
        let resp = self.sender.send_request(req).await.map_err(fail)?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.into_body().collect().await.map_err(fail)?.to_bytes();
        Ok(Reply {
            status,
            content_type,
            body,
        })
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}
