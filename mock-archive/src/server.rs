//! The archive server: binds, accepts TLS connections, hands each to the HTTP layer, and shuts
//! down gracefully. Two listeners: the message listener (mutual TLS, always) and, when
//! configured, the archivist view's listener (HTTPS for browsers, no client certificate, token
//! sign-in; [`crate::view`]). The library entry for Rust tests is [`MockArchive::builder`];
//! the binary only parses flags and calls [`run_ready`].

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
use crate::view::{View, ViewError, ViewToken};
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
    /// The archivist view could not be set up.
    #[error(transparent)]
    View(#[from] ViewError),
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
    /// The archivist view, when its listener is on.
    pub(crate) view: Option<View>,
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
            view_listen: None,
            view_holder: None,
            validation_listen: None,
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
    view_listen: Option<SocketAddr>,
    view_holder: Option<String>,
    validation_listen: Option<SocketAddr>,
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

    /// Also serves the archivist view on this address (HTTPS for browsers, no client
    /// certificate; port 0: any free port). Off unless asked for.
    pub fn view_listen(mut self, addr: SocketAddr) -> Self {
        self.view_listen = Some(addr);
        self
    }

    /// Makes the view's one-time token for this register holder only (default: one per
    /// register holder with an archivist in the fixture).
    pub fn view_holder(mut self, oid: impl Into<String>) -> Self {
        self.view_holder = Some(oid.into());
        self
    }

    /// Also serves the validation service ([`crate::validation`]) on this plain-HTTP address
    /// (port 0: any free port). Off unless asked for; it is always on the message listener.
    pub fn validation_listen(mut self, addr: SocketAddr) -> Self {
        self.validation_listen = Some(addr);
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
        if let Some(view) = self.view_listen {
            config.view_listen = Some(view);
        }
        if let Some(holder) = self.view_holder {
            config.view_holder = Some(holder);
        }
        if let Some(addr) = self.validation_listen {
            config.validation_listen = Some(addr);
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
        let view_addr = bound.view_addr;
        let validation_addr = bound.validation_addr;
        let shared = bound.shared.clone();
        let task = tokio::spawn(bound.serve(async move {
            let mut rx = shutdown_rx;
            // Resolves when `true` is sent or the handle (sender) is dropped.
            let _ = rx.wait_for(|stop| *stop).await;
        }));
        Ok(MockArchiveHandle {
            addr,
            view_addr,
            validation_addr,
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
    view_addr: Option<SocketAddr>,
    validation_addr: Option<SocketAddr>,
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

    /// The bound address of the archivist view's listener, when it is on.
    pub fn view_addr(&self) -> Option<SocketAddr> {
        self.view_addr
    }

    /// The archivist view's base URL (host name `localhost`), when it is on.
    pub fn view_url(&self) -> Option<String> {
        self.view_addr
            .map(|a| format!("https://localhost:{}", a.port()))
    }

    /// The validation service's URL on its plain-HTTP listener, when that is on.
    pub fn validation_url(&self) -> Option<String> {
        self.validation_addr.map(validation_url)
    }

    /// The view's one-time sign-in tokens, one per register holder (see [`crate::view`]);
    /// empty when the view is off. Each signs in once.
    pub fn view_tokens(&self) -> &[ViewToken] {
        self.shared.view.as_ref().map_or(&[], |v| v.tokens())
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
    view: Option<(TcpListener, tokio_rustls::TlsAcceptor)>,
    validation: Option<TcpListener>,
    shared: Arc<Shared>,
    /// The address actually bound (port 0 resolved).
    pub addr: SocketAddr,
    /// The view listener's address, when it is on.
    pub view_addr: Option<SocketAddr>,
    /// The validation listener's address, when it is on.
    pub validation_addr: Option<SocketAddr>,
}

impl Bound {
    /// What a ready archive announces.
    pub fn ready(&self) -> Ready {
        Ready {
            addr: self.addr,
            view_addr: self.view_addr,
            validation_addr: self.validation_addr,
            view_tokens: self
                .shared
                .view
                .as_ref()
                .map(|v| v.tokens().to_vec())
                .unwrap_or_default(),
        }
    }
}

/// What a ready archive announces (the binary prints it as JSON lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// The message listener's address.
    pub addr: SocketAddr,
    /// The view listener's address, when it is on.
    pub view_addr: Option<SocketAddr>,
    /// The view's one-time tokens.
    pub view_tokens: Vec<ViewToken>,
    /// The validation listener's address, when it is on.
    pub validation_addr: Option<SocketAddr>,
}

/// The validation service's URL on a plain-HTTP listener at `addr`.
pub fn validation_url(addr: SocketAddr) -> String {
    format!("http://{addr}{}", crate::validation::PATH)
}

async fn bind_addr(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok((listener, bound))
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
    let view = match config.view_listen {
        Some(view_addr) => {
            let view_tls = tls::view_server_config(&config.tls)?;
            let view = View::new(pipeline.registry(), config.view_holder.as_deref())?;
            Some((view_addr, view_tls, view))
        }
        None => None,
    };
    tls::warm_up();
    let (listener, addr) = bind_addr(config.listen).await?;
    let (view_listener, view_addr, view) = match view {
        Some((view_addr, view_tls, view)) => {
            let (listener, bound) = bind_addr(view_addr).await?;
            (
                Some((listener, tls::acceptor(view_tls))),
                Some(bound),
                Some(view),
            )
        }
        None => (None, None, None),
    };
    let (validation, validation_addr) = match config.validation_listen {
        Some(addr) => {
            let (listener, bound) = bind_addr(addr).await?;
            (Some(listener), Some(bound))
        }
        None => (None, None),
    };
    Ok(Bound {
        listener,
        acceptor: tls::acceptor(tls_config),
        view: view_listener,
        validation,
        shared: Arc::new(Shared {
            config,
            pipeline,
            handshake_failures: AtomicU64::new(0),
            view,
        }),
        addr,
        view_addr,
        validation_addr,
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
        let (stop_tx, stop_rx) = watch::channel(false);
        let validation_stop = stop_rx.clone();
        let view = async {
            if let Some((listener, acceptor)) = self.view {
                serve_view(listener, acceptor, &self.shared, stop_rx, &graceful).await;
            }
        };
        let validation = async {
            if let Some(listener) = self.validation {
                let shared = self.shared.clone();
                crate::validation::serve(listener, shared, validation_stop, &graceful).await;
            }
        };
        let shutdown = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        let messages = accept_messages(
            self.listener,
            self.acceptor,
            &self.shared,
            shutdown,
            &graceful,
        );
        tokio::join!(messages, view, validation);
        if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("some connections were still open after 5 s; closing them");
        }
    }
}

/// The message listener's accept loop, until `shutdown` resolves.
async fn accept_messages(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: &Arc<Shared>,
    shutdown: impl Future<Output = ()>,
    graceful: &GracefulShutdown,
) {
    {
        tokio::pin!(shutdown);
        loop {
            let (tcp, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
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
            let acceptor = acceptor.clone();
            let shared = shared.clone();
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let accepted = handshake(&shared, remote, "", tls::accept(&acceptor, tcp)).await;
                let Some((stream, peer)) = accepted else {
                    return;
                };
                if let Err(err) = http::serve_connection(stream, peer, shared, watcher).await {
                    tracing::debug!("connection with {remote} ended: {err}");
                }
            });
        }
    }
}

/// A TLS handshake within the configured timeout. A failure is counted and logged for that
/// connection alone (`listener` names which one, e.g. `"view "`), never stopping the server.
async fn handshake<T, E: std::fmt::Display>(
    shared: &Shared,
    remote: SocketAddr,
    listener: &str,
    accept: impl Future<Output = Result<T, E>>,
) -> Option<T> {
    let timeout = shared.config.handshake_timeout;
    let failure = match tokio::time::timeout(timeout, accept).await {
        Ok(Ok(accepted)) => return Some(accepted),
        Ok(Err(err)) => format!("failed: {err}"),
        Err(_) => format!("timed out after {timeout:?}"),
    };
    shared.handshake_failures.fetch_add(1, Ordering::Relaxed);
    tracing::warn!("{listener}tls handshake with {remote} {failure}");
    None
}

/// Runs an archive until SIGINT or SIGTERM: binds, calls `on_ready` with what it announces
/// (both listeners' addresses, the view's one-time tokens), then serves.
pub async fn run_ready(
    config: ArchiveConfig,
    on_ready: impl FnOnce(&Ready),
) -> Result<(), StartError> {
    let bound = bind(config).await?;
    on_ready(&bound.ready());
    bound.serve(shutdown_signal()).await;
    Ok(())
}

/// The view listener's accept loop: TLS without client certificates, then the view's HTTP.
async fn serve_view(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: &Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    graceful: &GracefulShutdown,
) {
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    tracing::warn!("view accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = async { let _ = stop.wait_for(|stop| *stop).await; } => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let accepted =
                handshake(&shared, remote, "view ", tls::accept_view(&acceptor, tcp)).await;
            let Some(stream) = accepted else {
                return;
            };
            if let Err(err) = http::serve_view_connection(stream, shared, watcher).await {
                tracing::debug!("view connection with {remote} ended: {err}");
            }
        });
    }
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
