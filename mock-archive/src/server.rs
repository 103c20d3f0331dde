//! The archive server: binds, accepts TLS connections, hands each to the HTTP layer, and shuts
//! down gracefully. Two listeners: the message listener (mutual TLS, always) and, when
//! configured, the archivist view's listener (HTTPS for browsers, no client certificate, token
//! sign-in; [`crate::view`]). One accept loop serves both: every connection is admitted under
//! the one cap and watched for its deadlines (`conn`), then handed to the one
//! connection server (`http::serve`). The library entry for Rust tests is
//! [`MockArchive::builder`]; the binary only parses flags and calls [`run_ready`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{ArchiveConfig, BUNDLED_ORGS, BUNDLED_ORGS_NAME, Database, TlsFiles};
use crate::conn::{self, Admitted, Connections};
use crate::http::Listener;
use crate::orgs::Registry;
use crate::pipeline::Pipeline;
use crate::shared::Shared;
use crate::store::{AuditEntry, DocumentFilter, DocumentMeta, Store, StoreError, StoredDocument};
use crate::testpki::TestPki;
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
    /// The connection cap needs more file descriptors than the open-file limit leaves.
    #[error(
        "max_connections {max} needs more file descriptors than the open-file limit allows \
         (at most {budget} connections beside {reserve} descriptors for the database and logs): \
         raise `ulimit -n` or lower max_connections"
    )]
    TooManyConnections {
        /// The configured cap.
        max: usize,
        /// What the limit allows.
        budget: u64,
        /// Descriptors kept free beside the connections.
        reserve: u64,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// How many audit entries [`MockArchiveHandle::audit`] returns at most.
const AUDIT_LIMIT: u32 = 10_000;

/// The mock archive. Start one with [`MockArchive::builder`].
#[derive(Debug)]
pub struct MockArchive;

impl MockArchive {
    /// A builder for an archive on loopback with the given TLS files.
    pub fn builder() -> MockArchiveBuilder {
        MockArchiveBuilder {
            tls: None,
            test_pki: None,
            listen: None,
            config: None,
            view_listen: None,
            view_holder: None,
            fixture_tokens: false,
            validation_listen: None,
        }
    }
}

/// Builds and starts a [`MockArchive`].
#[derive(Debug)]
#[must_use = "a builder does nothing until .start().await"]
pub struct MockArchiveBuilder {
    tls: Option<TlsFiles>,
    test_pki: Option<TestPki>,
    listen: Option<SocketAddr>,
    config: Option<ArchiveConfig>,
    view_listen: Option<SocketAddr>,
    view_holder: Option<String>,
    fixture_tokens: bool,
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
        self.test_pki = None;
        self
    }

    /// Uses a test PKI made in memory ([`TestPki::generate`]): its server certificate, and its
    /// CA for TLS clients and system signatures. (Its PEM files are written to a temporary
    /// directory for the start and removed once the archive has read them.)
    pub fn test_pki(mut self, pki: &TestPki) -> Self {
        self.test_pki = Some(pki.clone());
        self.tls = None;
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

    /// Lets the fixture's archivist tokens (published in `testcases/orgs.toml`) sign in to the
    /// archivist view too, not only the one-time tokens (`--fixture-tokens`).
    pub fn fixture_tokens(mut self) -> Self {
        self.fixture_tokens = true;
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
        // Lives until the archive has read the files (bind).
        let mut pki_dir = None;
        let mut config = match (self.config, self.tls, self.test_pki) {
            (Some(config), _, _) => config,
            (None, Some(tls), _) => ArchiveConfig::new(tls),
            (None, None, Some(pki)) => {
                let dir = tempfile::Builder::new()
                    .prefix("mock-archive-pki-")
                    .tempdir()
                    .map_err(|e| StartError::Setup(format!("a temporary directory: {e}")))?;
                pki.write_pem_files(dir.path())
                    .map_err(|e| StartError::Setup(e.to_string()))?;
                let tls = TlsFiles::from_pki_dir(dir.path());
                pki_dir = Some(dir);
                ArchiveConfig::new(tls)
            }
            (None, None, None) => ArchiveConfig::new(TlsFiles::from_pki_dir(".")),
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
        config.fixture_tokens |= self.fixture_tokens;
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
        drop(pki_dir);
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

impl MockArchiveHandle {
    /// The pipeline's CPU pool (for the pool's own tests).
    #[cfg(test)]
    pub(crate) fn cpu_pool(&self) -> &crate::pool::CpuPool {
        self.shared.pipeline.pool()
    }

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

    /// The archivist view's one-time sign-in tokens, one per register holder;
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

    /// Connections open now over both listeners (and how many of them serve a request), their
    /// cap, and since start how many new ones were refused at the cap and how many idle or unfinished ones made room.
    pub fn connections(&self) -> ConnectionCounts {
        let c = &self.shared.connections;
        ConnectionCounts {
            open: c.open(),
            serving: c.serving(),
            max: c.max(),
            refused: c.refused(),
            evicted: c.evicted(),
        }
    }

    /// The stored documents of one register holder (organisation OID), newest first: what
    /// the archivist would see, read straight from the store (no HTTP).
    pub fn documents(&self, register_holder: &str) -> Result<Vec<DocumentMeta>, StoreError> {
        self.shared
            .pipeline
            .store()
            .documents(register_holder, &DocumentFilter::default())
    }

    /// One stored document version with its message and CDA bytes, if it is in this register
    /// holder's register.
    pub fn document(
        &self,
        register_holder: &str,
        document_id: &str,
    ) -> Result<Option<StoredDocument>, StoreError> {
        self.shared
            .pipeline
            .store()
            .document(register_holder, document_id)
    }

    /// The audit log of one register holder, newest first: every request that concerned it,
    /// with its outcome and codes.
    pub fn audit(&self, register_holder: &str) -> Result<Vec<AuditEntry>, StoreError> {
        self.shared
            .pipeline
            .store()
            .audit(register_holder, AUDIT_LIMIT)
    }

    /// The last acknowledgement the archive answered, to any client and for any register
    /// holder (including requests it could not attribute), as its audit entry: outcome
    /// (`AA`/`AE`/`AR`), codes, message and document ids. `None` before the first request.
    pub fn last_ack(&self) -> Result<Option<AuditEntry>, StoreError> {
        Ok(self.shared.pipeline.store().audit_all(1)?.pop())
    }

    /// Breaks the archive on purpose from now on ([`crate::fault`]): the fault's
    /// `after_requests` count from this call.
    pub fn inject(&self, fault: crate::fault::Fault) {
        self.shared.faults.inject(fault);
    }

    /// Removes every armed fault.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// The faults that acted so far, oldest first.
    pub fn fault_events(&self) -> Vec<crate::fault::FaultEvent> {
        self.shared.faults.events()
    }

    /// The admin token of `PUT /inspect/faults` (configured, or random at start).
    pub fn admin_token(&self) -> &str {
        self.shared.faults.admin_token()
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

/// The connection counts of a running archive ([`MockArchiveHandle::connections`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionCounts {
    /// Open now, over both listeners.
    pub open: usize,
    /// Of those, serving a request now (the others are in their handshake, idle, or sending
    /// a request's headers).
    pub serving: usize,
    /// The cap.
    pub max: usize,
    /// New connections refused at the cap since start (every connection was serving).
    pub refused: u64,
    /// Idle or unfinished connections closed since start to make room for new ones.
    pub evicted: u64,
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
            admin_token: self.shared.faults.admin_token().to_owned(),
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
    /// The admin token of `PUT /inspect/faults`.
    pub admin_token: String,
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
    let max_connections = match (config.max_connections, conn::fd_budget()) {
        (Some(max), Some(budget)) if max as u64 > budget => {
            return Err(StartError::TooManyConnections {
                max,
                budget,
                reserve: conn::FD_RESERVE,
            });
        }
        (Some(max), _) => max,
        (None, _) => conn::default_max_connections(),
    };
    let tls_config = tls::server_config(&config.tls)?;
    // Opening the database and loading the fixture block: keep them off the async threads.
    let for_pipeline = config.clone();
    let pipeline = tokio::task::spawn_blocking(move || pipeline(&for_pipeline))
        .await
        .map_err(|e| StartError::Setup(e.to_string()))??;
    let view = match config.view_listen {
        Some(view_addr) => {
            let view_tls = tls::view_server_config(&config.tls)?;
            let view = View::new(pipeline.registry(), &config)?
                .with_ca_file(crate::view::issuer_file(&config.tls));
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
    let config_faults = config.faults.clone();
    let config_admin_token = config.admin_token.clone();
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
            connections: Connections::new(max_connections),
            faults: crate::fault::FaultState::new(
                &config_faults,
                config_admin_token.unwrap_or_else(crate::fault::new_admin_token),
            ),
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
        let view = self
            .view
            .as_ref()
            .map(|(listener, acceptor)| (listener, acceptor));
        accept(
            (&self.listener, &self.acceptor),
            view,
            self.validation.as_ref(),
            &self.shared,
            shutdown,
            &graceful,
        )
        .await;
        if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("some connections were still open after 5 s; closing them");
        }
    }
}

/// Which listener a connection arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Messages,
    View,
    /// The validation service's plain-HTTP listener.
    Validation,
}

/// A listener and its TLS acceptor.
type Listening<'a> = (&'a TcpListener, &'a tokio_rustls::TlsAcceptor);

/// The one accept loop of every listener (messages, the view, the validation service), until
/// `shutdown` resolves. A failed accept (out of file descriptors and the like) backs off and
/// keeps serving; a connection over the cap is closed at once (see [`crate::conn`]).
async fn accept(
    messages: Listening<'_>,
    view: Option<Listening<'_>>,
    validation: Option<&TcpListener>,
    shared: &Arc<Shared>,
    shutdown: impl Future<Output = ()>,
    graceful: &GracefulShutdown,
) {
    tokio::pin!(shutdown);
    loop {
        let (side, accepted) = tokio::select! {
            accepted = messages.0.accept() => (Side::Messages, accepted),
            accepted = async { view.expect("guarded by the condition").0.accept().await },
                if view.is_some() => (Side::View, accepted),
            accepted = async { validation.expect("guarded by the condition").accept().await },
                if validation.is_some() => (Side::Validation, accepted),
            () = &mut shutdown => break,
        };
        let (tcp, remote) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                tracing::warn!("{}accept failed: {err}", side.name());
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(admitted) = shared.connections.admit(remote) else {
            // Every connection is serving a request: closed at once (logged by the cap).
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = match side {
            Side::Messages => Some(messages.1.clone()),
            Side::View => Some(view.expect("accepted on the view listener").1.clone()),
            Side::Validation => None,
        };
        let shared = shared.clone();
        let watcher = graceful.watcher();
        tokio::spawn(connection(
            side, tcp, remote, acceptor, admitted, shared, watcher,
        ));
    }
}

impl Side {
    /// The listener's name in log lines, with a trailing space (none for messages).
    fn name(self) -> &'static str {
        match self {
            Side::Messages => "",
            Side::View => "view ",
            Side::Validation => "validation ",
        }
    }
}

/// One connection of any listener: the TLS handshake (none on the validation listener), then
/// HTTP, each under its deadlines; the connection is dropped when [`conn::Slot::watch`] says
/// so.
async fn connection(
    side: Side,
    tcp: TcpStream,
    remote: SocketAddr,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    admitted: Admitted,
    shared: Arc<Shared>,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let slot = admitted.slot().clone();
    let name = side.name();
    if side == Side::Messages
        && let Some(fault) = shared.faults.on_connect(remote)
    {
        let what = format!("{}: connection from {remote}", fault.describe());
        crate::fault::refuse(tcp, fault.stage).await;
        shared.pipeline.record_break(None, &what).await;
        drop(admitted);
        return;
    }
    let served = async {
        let served = match (side, acceptor) {
            (Side::Validation, _) | (_, None) => {
                http::serve(
                    tcp,
                    remote,
                    Listener::Validation,
                    slot.clone(),
                    shared.clone(),
                    watcher,
                )
                .await
            }
            (Side::Messages, Some(acceptor)) => match tls::accept(&acceptor, tcp).await {
                Ok((stream, peer)) => {
                    let listener = Listener::Messages(Box::new(peer));
                    http::serve(
                        stream,
                        remote,
                        listener,
                        slot.clone(),
                        shared.clone(),
                        watcher,
                    )
                    .await
                }
                Err(err) => return Err(format!("failed: {err}")),
            },
            (Side::View, Some(acceptor)) => match tls::accept_view(&acceptor, tcp).await {
                Ok(stream) => {
                    let listener = Listener::View;
                    http::serve(
                        stream,
                        remote,
                        listener,
                        slot.clone(),
                        shared.clone(),
                        watcher,
                    )
                    .await
                }
                Err(err) => return Err(format!("failed: {err}")),
            },
        };
        if let Err(err) = served {
            tracing::debug!("{name}connection with {remote} ended: {err}");
        }
        Ok(())
    };
    let failure = tokio::select! {
        outcome = served => outcome.err(),
        ended = slot.watch(shared.deadlines()) => match ended {
            conn::Ended::Deadline(conn::Phase::Handshake, limit) => {
                Some(format!("timed out after {limit:?}"))
            }
            _ => {
                tracing::debug!("{name}connection with {remote}: {ended}");
                None
            }
        },
    };
    if let Some(failure) = failure {
        // A failed handshake is logged for that connection alone, never stopping the server.
        shared.handshake_failures.fetch_add(1, Ordering::Relaxed);
        tracing::warn!("{name}tls handshake with {remote} {failure}");
    }
    drop(admitted);
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
