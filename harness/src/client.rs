//! The harness's HTTPS client: mutual TLS with rustls (aws-lc-rs) and HTTP/1.1 with hyper,
//! one keep-alive connection at a time. This is the only harness module that touches rustls
//! or hyper.
//!
//! Architecture invariant: the harness reaches the archive only through this module.

use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How long the client waits at each stage of a request before it gives up: the harness
/// never hangs on a silent or stalled server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Until the TCP connection is made.
    pub connect: Duration,
    /// Until the TLS handshake is done (after the TCP connection).
    pub handshake: Duration,
    /// From sending a request until its whole response has arrived.
    pub response: Duration,
}

impl Default for Timeouts {
    /// 10 s to connect, 10 s for the handshake, 60 s for a response: far more than a working
    /// archive on any network needs, so only a broken one hits them.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            handshake: Duration::from_secs(10),
            response: Duration::from_secs(60),
        }
    }
}

/// The stage of a request that ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The TCP connection.
    Connect,
    /// The TLS handshake.
    Handshake,
    /// The HTTP response.
    Response,
}

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
    /// The archive ended the TLS handshake with another alert.
    #[error("the archive refused the TLS connection with the alert {alert} ({detail})")]
    Alert {
        /// The alert's name.
        alert: String,
        /// rustls's words.
        detail: String,
    },
    /// A stage did not finish in time.
    #[error("{}", timeout_text(target, *stage, *after))]
    Timeout {
        /// The archive.
        target: String,
        /// What did not finish.
        stage: Stage,
        /// The time allowed.
        after: Duration,
    },
    /// The server answered the TLS handshake with something that is not TLS.
    #[error("{target} does not speak TLS: {detail}")]
    NotTls {
        /// The archive.
        target: String,
        /// rustls's words.
        detail: String,
    },
    /// The server closed the connection without a TLS alert, during the handshake or before
    /// the response was complete.
    #[error("{target} closed the connection {during} without saying why (no TLS alert)")]
    Closed {
        /// The archive.
        target: String,
        /// `during the TLS handshake` or `before its answer was complete`.
        during: &'static str,
    },
    /// The server's answer is not HTTP/1.1.
    #[error("{target} does not speak HTTP: {detail}")]
    NotHttp {
        /// The archive.
        target: String,
        /// hyper's words.
        detail: String,
    },
    /// Some other TLS failure.
    #[error("TLS failure: {0}")]
    Tls(String),
    /// The HTTP exchange failed.
    #[error("HTTP exchange with the archive failed: {0}")]
    Http(String),
}

fn timeout_text(target: &str, stage: Stage, after: Duration) -> String {
    let secs = after.as_secs_f64();
    match stage {
        Stage::Connect => {
            format!("no connection to {target}: the TCP connection was not made within {secs} s")
        }
        Stage::Handshake => format!(
            "no TLS handshake with {target}: the server accepted the connection but the handshake did not finish within {secs} s"
        ),
        Stage::Response => {
            format!("no answer from {target}: the response did not arrive in full within {secs} s")
        }
    }
}

impl ClientError {
    /// Whether the archive itself refused the TLS connection with an alert naming the reason
    /// (an expired or untrusted client certificate, or another alert): the archive's verdict
    /// on the certificate, as opposed to a network or server failure.
    pub fn is_tls_refusal(&self) -> bool {
        matches!(
            self,
            Self::ClientCertExpired { .. } | Self::ClientCertRejected { .. } | Self::Alert { .. }
        )
    }

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
            E::AlertReceived(alert) => Self::Alert {
                alert: format!("{alert:?}"),
                detail,
            },
            other => Self::Tls(other.to_string()),
        }
    }

    /// Classifies a failed handshake: a rustls error, not TLS at all, or a close without alert.
    fn from_handshake(err: &std::io::Error, target: &Target) -> Self {
        use rustls::Error as E;
        let rustls = err
            .get_ref()
            .and_then(|i| i.downcast_ref::<rustls::Error>());
        match rustls {
            Some(
                e @ (E::InvalidMessage(_)
                | E::InappropriateMessage { .. }
                | E::InappropriateHandshakeMessage { .. }),
            ) => Self::NotTls {
                target: target.to_string(),
                detail: e.to_string(),
            },
            Some(e) => Self::from_rustls(e, &target.host),
            None if matches!(
                err.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
            ) =>
            {
                Self::Closed {
                    target: target.to_string(),
                    during: "during the TLS handshake",
                }
            }
            None => Self::Tls(err.to_string()),
        }
    }
}

/// Whether an I/O error in the chain says the peer went away (end of stream, reset, broken
/// pipe).
fn closed_io(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
            )
        {
            return true;
        }
        cur = e.source();
    }
    false
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
    timeouts: Timeouts,
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
            timeouts: Timeouts::default(),
        })
    }

    /// The same client with other timeouts.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Opens one mutual-TLS connection with HTTP/1.1 keep-alive.
    pub async fn connect(&self, target: &Target) -> Result<Connection, ClientError> {
        let t = self.timeouts;
        let timed_out = |stage, after| ClientError::Timeout {
            target: target.to_string(),
            stage,
            after,
        };
        let tcp = tokio::time::timeout(
            t.connect,
            TcpStream::connect((target.host.as_str(), target.port)),
        )
        .await
        .map_err(|_| timed_out(Stage::Connect, t.connect))?
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
        let tls = tokio::time::timeout(
            t.handshake,
            TlsConnector::from(self.config.clone()).connect(name, tcp),
        )
        .await
        .map_err(|_| timed_out(Stage::Handshake, t.handshake))?
        .map_err(|e| ClientError::from_handshake(&e, target))?;
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
        let seen = Arc::new(Mutex::new(None));
        let watched = Watched {
            inner: tls,
            seen: seen.clone(),
        };
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(watched))
            .await
            .map_err(|e| ClientError::Http(chain(&e)))?;
        let driver = tokio::spawn(connection);
        Ok(Connection {
            sender,
            driver,
            info,
            host: target.host.clone(),
            target: target.to_string(),
            base_path: target.base_path.clone(),
            response_timeout: t.response,
            seen,
        })
    }
}

/// The first TLS error the connection met, whichever side of hyper saw it.
type SeenError = Arc<Mutex<Option<rustls::Error>>>;

/// The TLS stream under hyper, remembering the first rustls error (e.g. the archive's alert
/// refusing the client certificate, which TLS 1.3 delivers after the handshake) so that a
/// failed request is explained by it instead of hyper's "connection closed".
struct Watched<S> {
    inner: S,
    seen: SeenError,
}

impl<S> Watched<S> {
    fn note<T>(&self, r: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if let Poll::Ready(Err(e)) = &r
            && let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>())
            && let Ok(mut seen) = self.seen.lock()
            && seen.is_none()
        {
            *seen = Some(tls.clone());
        }
        r
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Watched<S> {
    /// After a failed write: the archive may have sent an alert and closed before the request
    /// went out; read what it sent so the alert is not lost.
    fn read_alert_after(&mut self, cx: &mut Context<'_>) {
        let mut scratch = [0u8; 512];
        let mut buf = ReadBuf::new(&mut scratch);
        let r = Pin::new(&mut self.inner).poll_read(cx, &mut buf);
        let _ = self.note(r);
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.note(r)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        let r = self.note(r);
        if matches!(r, Poll::Ready(Err(_))) {
            self.read_alert_after(cx);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        let r = self.note(r);
        if matches!(r, Poll::Ready(Err(_))) {
            self.read_alert_after(cx);
        }
        r
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.note(r)
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
    /// The archive, as people read it.
    target: String,
    base_path: String,
    response_timeout: Duration,
    seen: SeenError,
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
    /// `Retry-After` in seconds, when the answer has one (a `503` during a service break).
    pub retry_after: Option<u64>,
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

    /// `method path` with a body of `content_type` and a bearer token: the inspection API's
    /// calls that change something (the checklist, ending a usage right, the fault plan).
    pub async fn send_as(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        token: &str,
        body: impl Into<Bytes>,
    ) -> Result<Reply, ClientError> {
        self.request(method, path, Some(content_type), Some(token), body.into())
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
        let timeout = self.response_timeout;
        let sender = &mut self.sender;
        let exchange = async {
            // A keep-alive connection takes new requests only once the previous exchange is
            // done.
            sender.ready().await?;
            let resp = sender.send_request(req).await?;
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let retry_after = resp
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
            let body = resp.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Reply {
                status,
                content_type,
                body,
                retry_after,
            })
        };
        let outcome = tokio::time::timeout(timeout, exchange).await;
        match outcome {
            Err(_) => Err(ClientError::Timeout {
                target: self.target.clone(),
                stage: Stage::Response,
                after: timeout,
            }),
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => Err(self.explain(&e).await),
        }
    }

    /// Why an exchange failed: the TLS error the connection met (an alert, most often) before
    /// what hyper says, so "channel closed" never stands alone.
    async fn explain(&mut self, e: &hyper::Error) -> ClientError {
        if let Some(found) = ClientError::classify(e, &self.host) {
            return found;
        }
        // The connection's own task may have met the error; give it a moment to finish.
        if !self.driver.is_finished() {
            let _ = tokio::time::timeout(Duration::from_millis(200), &mut self.driver).await;
        }
        if let Some(tls) = self.seen.lock().ok().and_then(|s| s.clone()) {
            return ClientError::from_rustls(&tls, &self.host);
        }
        if e.is_parse() || e.is_parse_status() {
            return ClientError::NotHttp {
                target: self.target.clone(),
                detail: chain(e),
            };
        }
        if e.is_incomplete_message() || e.is_closed() || e.is_canceled() || closed_io(e) {
            return ClientError::Closed {
                target: self.target.clone(),
                during: "before its answer was complete",
            };
        }
        ClientError::Http(chain(e))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}
