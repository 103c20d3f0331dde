//! The archive server: binds, accepts TLS connections, hands each to the HTTP layer, and shuts
//! down gracefully. The library entry for Rust tests is [`MockArchive::builder`]; the binary
//! only parses flags and calls [`run`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{ArchiveConfig, BUNDLED_ORGS, BUNDLED_ORGS_NAME, Database, TlsFiles};
use crate::orgs::Registry;
use crate::pipeline::Pipeline;
use crate::store::Store;
use crate::{http, tls};

/// Why the archive could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The TLS configuration could not be made.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The organisation fixture could not be loaded.
    #[error(transparent)]
    Fixture(#[from] crate::orgs::FixtureError),
    /// The database could not be opened.
    #[error("cannot open the database: {0}")]
    Store(#[from] crate::store::StoreError),
    /// Setting up the pipeline failed unexpectedly (a panic while loading).
    #[error("archive set-up failed: {0}")]
    Setup(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) config: ArchiveConfig,
    /// The message pipeline (registry, signature trust, store).
    pub(crate) pipeline: Pipeline,
    /// TLS handshakes that failed since start.
    pub(crate) handshake_failures: AtomicU64,
}

/// The mock archive. Start one with [`MockArchive::builder`].
#[derive(Debug)]
pub struct MockArchive;

impl MockArchive {
    /// A builder for an archive on loopback with the given TLS files.
    pub fn builder() -> MockArchiveBuilder {
        MockArchiveBuilder {
            tls: None,
            listen: None,
            config: None,
        }
    }
}

/// Builds and starts a [`MockArchive`].
#[derive(Debug)]
#[must_use = "a builder does nothing until .start().await"]
pub struct MockArchiveBuilder {
    tls: Option<TlsFiles>,
    listen: Option<SocketAddr>,
    config: Option<ArchiveConfig>,
}

impl MockArchiveBuilder {
    /// Uses the TLS files of a Kantakoe test PKI directory (`kantakoe pki init`).
    pub fn pki_dir(self, dir: impl AsRef<std::path::Path>) -> Self {
        self.tls(TlsFiles::from_pki_dir(dir))
    }

    /// Uses these TLS files (e.g. DVV test certificates).
    pub fn tls(mut self, tls: TlsFiles) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Listens on this address (default `127.0.0.1:0`).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Uses a whole validated configuration (overrides `tls` and `listen`).
    pub fn config(mut self, config: ArchiveConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Binds and starts serving in the background; the returned handle stops the archive
    /// when dropped.
    pub async fn start(self) -> Result<MockArchiveHandle, StartError> {
        let mut config = match (self.config, self.tls) {
            (Some(config), _) => config,
            (None, Some(tls)) => ArchiveConfig::new(tls),
            (None, None) => ArchiveConfig::new(TlsFiles::from_pki_dir(".")),
        };
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        let ca_pem =
            std::fs::read_to_string(&config.tls.client_ca).map_err(|e| tls::TlsError::Pem {
                path: config.tls.client_ca.clone(),
                what: "client CA certificate",
                message: e.to_string(),
            })?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let bound = bind(config).await?;
        let addr = bound.addr;
        let shared = bound.shared.clone();
        let task = tokio::spawn(bound.serve(async move {
            let mut rx = shutdown_rx;
            // Resolves when `true` is sent or the handle (sender) is dropped.
            let _ = rx.wait_for(|stop| *stop).await;
        }));
        Ok(MockArchiveHandle {
            addr,
            ca_pem,
            shared,
            shutdown: shutdown_tx,
            task: Some(task),
        })
    }
}

/// A running archive. Dropping it shuts the archive down.
#[derive(Debug)]
pub struct MockArchiveHandle {
    addr: SocketAddr,
    ca_pem: String,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl MockArchiveHandle {
    /// The bound address of the message listener.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the message listener, with host name `localhost`.
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// The CA certificate(s) the archive trusts for TLS clients, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// TLS handshakes that failed since start.
    pub fn handshake_failures(&self) -> u64 {
        self.shared.handshake_failures.load(Ordering::Relaxed)
    }

    /// Stops accepting, lets open requests finish, and waits for the archive to stop.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockArchiveHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// A bound, not yet serving archive.
pub struct Bound {
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
    /// The address actually bound (port 0 resolved).
    pub addr: SocketAddr,
}

/// Builds the TLS configuration and binds the listener. Errors here are configuration
/// errors a person must fix; nothing is served yet.
pub async fn bind(config: ArchiveConfig) -> Result<Bound, StartError> {
    let tls_config = tls::server_config(&config.tls)?;
    // Opening the database and loading the fixture block: keep them off the async threads.
    let for_pipeline = config.clone();
    let pipeline = tokio::task::spawn_blocking(move || pipeline(&for_pipeline))
        .await
        .map_err(|e| StartError::Setup(e.to_string()))??;
    tls::warm_up();
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    Ok(Bound {
        listener,
        acceptor: tls::acceptor(tls_config),
        shared: Arc::new(Shared {
            config,
            pipeline,
            handshake_failures: AtomicU64::new(0),
        }),
        addr,
    })
}

/// Loads the fixture, opens the store and reads the signature CA: everything a message needs.
fn pipeline(config: &ArchiveConfig) -> Result<Pipeline, StartError> {
    let registry = match &config.orgs {
        Some(path) => Registry::load(path)?,
        None => Registry::from_toml_str(BUNDLED_ORGS, BUNDLED_ORGS_NAME)?,
    };
    let store = match &config.db {
        Database::File(path) => Store::open(path)?,
        Database::Ephemeral => Store::open_ephemeral()?,
    };
    store.sync_registry(&registry)?;
    let ca_path = config
        .signature_ca
        .as_ref()
        .unwrap_or(&config.tls.client_ca);
    let cas = tls::read_certs(ca_path, "signature CA certificate")?
        .into_iter()
        .map(|c| c.to_vec())
        .collect();
    Ok(Pipeline::new(
        Arc::new(registry),
        store,
        cas,
        crate::format::Limits::default(),
    ))
}

impl Bound {
    /// Serves until `shutdown` resolves, then stops accepting and gives open connections up
    /// to five seconds to finish their current request.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            let (tcp, remote) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!("accept failed: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = self.acceptor.clone();
            let shared = self.shared.clone();
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let timeout = shared.config.handshake_timeout;
                let handshake = tokio::time::timeout(timeout, tls::accept(&acceptor, tcp)).await;
                let (stream, peer) = match handshake {
                    Ok(Ok(pair)) => pair,
                    Ok(Err(err)) => {
                        shared.handshake_failures.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("tls handshake with {remote} failed: {err}");
                        return;
                    }
                    Err(_) => {
                        shared.handshake_failures.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("tls handshake with {remote} timed out after {timeout:?}");
                        return;
                    }
                };
                if let Err(err) = http::serve_connection(stream, peer, shared, watcher).await {
                    tracing::debug!("connection with {remote} ended: {err}");
                }
            });
        }
        drop(self.listener);
        if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("some connections were still open after 5 s; closing them");
        }
    }
}

/// Runs an archive until SIGINT or SIGTERM: binds, calls `on_ready` with the bound address,
/// then serves.
pub async fn run(
    config: ArchiveConfig,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let bound = bind(config).await?;
    on_ready(bound.addr);
    bound.serve(shutdown_signal()).await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
