//! TLS for both listeners, rustls with aws-lc-rs, TLS 1.2 and 1.3: the message listener
//! demands a client certificate chaining to the configured CA ([`server_config`]); the
//! archivist view's listener, for browsers, asks for none ([`view_server_config`]) and relies
//! on its token sign-in. This is the only module that touches rustls.

use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::cert::CertInfo;
use crate::config::TlsFiles;

/// Why the TLS configuration could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("{}: {what}: {message}", path.display())]
    Pem {
        /// The file.
        path: std::path::PathBuf,
        /// What was expected in it.
        what: &'static str,
        /// What went wrong.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration refused: {0}")]
    Rustls(String),
}

/// The one crypto provider used everywhere.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn pem_err(path: &Path, what: &'static str, message: impl ToString) -> TlsError {
    TlsError::Pem {
        path: path.to_owned(),
        what,
        message: message.to_string(),
    }
}

/// Reads every certificate in a PEM file; at least one.
pub(crate) fn read_certs(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_err(path, what, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_err(path, what, e))?;
    if certs.is_empty() {
        return Err(pem_err(path, what, "no CERTIFICATE block in the file"));
    }
    Ok(certs)
}

/// Builds the server configuration: client certificates required, TLS 1.2 and 1.3, HTTP/1.1.
pub(crate) fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_certs(&files.cert, "server certificate")?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| pem_err(&files.key, "server private key", e))?;
    let mut roots = RootCertStore::empty();
    for ca in read_certs(&files.client_ca, "client CA certificate")? {
        roots
            .add(ca)
            .map_err(|e| pem_err(&files.client_ca, "client CA certificate", e))?;
    }
    let provider = provider();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Rustls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The archivist view's server configuration: the same server certificate, TLS 1.2 and 1.3,
/// HTTP/1.1, and **no** client certificate asked (browsers sign in with a token instead).
pub(crate) fn view_server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_certs(&files.cert, "server certificate")?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| pem_err(&files.key, "server private key", e))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Rustls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts one TLS connection on the view listener (no client certificate).
pub(crate) async fn accept_view(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
) -> io::Result<TlsStream<TcpStream>> {
    acceptor.accept(tcp).await
}

/// Touches aws-lc's random generator, whose first use seeds it (tens of milliseconds), so
/// that it happens before the archive announces readiness rather than in the first handshake.
pub(crate) fn warm_up() {
    use aws_lc_rs::rand::SecureRandom;
    let mut buf = [0u8; 16];
    // A failure here would resurface in the first handshake with a proper error.
    let _ = aws_lc_rs::rand::SystemRandom::new().fill(&mut buf);
}

/// What the archive knows of a TLS peer after the handshake.
#[derive(Debug, Clone)]
pub struct TlsPeer {
    /// What the certificate says (organisation OID etc.), when it could be read.
    pub cert: Option<CertInfo>,
    /// Negotiated protocol version, e.g. `TLSv1_3`.
    pub version: String,
    /// Negotiated cipher suite.
    pub cipher: String,
}

/// Accepts one TLS connection.
pub(crate) async fn accept(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
) -> io::Result<(TlsStream<TcpStream>, TlsPeer)> {
    let stream = acceptor.accept(tcp).await?;
    let (_, conn) = stream.get_ref();
    let cert_der = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.to_vec())
        .ok_or_else(|| io::Error::other("no client certificate after handshake"))?;
    let peer = TlsPeer {
        cert: CertInfo::from_der(&cert_der).ok(),
        version: conn
            .protocol_version()
            .map_or_else(|| "unknown".into(), |v| format!("{v:?}")),
        cipher: conn
            .negotiated_cipher_suite()
            .map_or_else(|| "unknown".into(), |c| format!("{:?}", c.suite())),
    };
    Ok((stream, peer))
}

/// Makes an acceptor from a configuration.
pub(crate) fn acceptor(config: Arc<ServerConfig>) -> TlsAcceptor {
    TlsAcceptor::from(config)
}
