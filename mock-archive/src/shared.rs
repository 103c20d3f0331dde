//! The state every connection of one archive shares: the validated configuration, the message
//! pipeline, the archivist view, the connection cap and the handshake failure count. Made by
//! the server at start, read by the HTTP layer.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::config::ArchiveConfig;
use crate::conn::{Connections, Deadlines};
use crate::pipeline::Pipeline;
use crate::view::View;

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) config: ArchiveConfig,
    /// The message pipeline (registry, signature trust, store).
    pub(crate) pipeline: Pipeline,
    /// TLS handshakes that failed since start.
    pub(crate) handshake_failures: AtomicU64,
    /// The archivist view, when its listener is on.
    pub(crate) view: Option<View>,
    /// Every open connection, under the cap.
    pub(crate) connections: Arc<Connections>,
    /// The injected faults and the admin token ([`crate::fault`]).
    pub(crate) faults: crate::fault::FaultState,
}

impl Shared {
    /// The deadlines of every connection.
    pub(crate) fn deadlines(&self) -> Deadlines {
        Deadlines {
            handshake: self.config.handshake_timeout,
            header: self.config.header_timeout,
            idle: self.config.idle_timeout,
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
