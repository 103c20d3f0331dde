//! What every connection may hold, and for how long: admission under a cap on open
//! connections, and one deadline per phase of a connection's life (TLS handshake, waiting idle
//! for the next request, reading a request's headers). Nothing here knows TLS or HTTP: the
//! server admits a connection and runs [`Slot::watch`] beside it; the HTTP layer reports the
//! phases (a request is being served, the answer is done) and wraps the stream in [`Tracked`],
//! which notices the first byte of the next request.
//!
//! At the cap, a new connection takes the place of the one that has proven least: the oldest
//! still in its TLS handshake, else the oldest reading headers, else the one idle longest.
//! Only when every connection is serving a request is the new one refused (closed at once,
//! logged at most once per [`PRESSURE_LOG_EVERY`]). So idle or slow connections can hold the
//! archive's file descriptors, but never keep a legitimate client out.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// How often at most the archive logs that it is at its connection cap.
pub(crate) const PRESSURE_LOG_EVERY: Duration = Duration::from_secs(10);

/// File descriptors kept free for the database, logs and the runtime, beside the connections.
pub(crate) const FD_RESERVE: u64 = 64;

/// The default cap on open connections: three quarters of what the open-file limit leaves after
/// [`FD_RESERVE`], and at most 4,096 (`ulimit -n 1024`: 720).
pub(crate) fn default_max_connections() -> usize {
    let budget = fd_budget().unwrap_or(4096);
    (budget * 3 / 4).clamp(1, 4096) as usize
}

/// How many connections the open-file limit allows at most (the soft limit minus
/// [`FD_RESERVE`]); `None` when unlimited or unknown.
pub(crate) fn fd_budget() -> Option<u64> {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current?;
        Some(limit.saturating_sub(FD_RESERVE))
    }
    #[cfg(not(unix))]
    None
}

/// The deadlines of one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    /// From accept to a finished TLS handshake.
    pub(crate) handshake: Duration,
    /// From the first byte of a request to the end of its headers.
    pub(crate) header: Duration,
    /// From the end of an answer (or of the handshake) to the first byte of the next request.
    pub(crate) idle: Duration,
}

/// Where a connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// The TLS handshake is running. Evicted first: it has proven nothing yet.
    Handshake,
    /// A request's first bytes arrived, its headers are not complete.
    Headers,
    /// Waiting for the next request (keep-alive).
    Idle,
    /// A request is being served: never evicted (the body has its own minimum rate).
    Busy,
}

/// Why [`Slot::watch`] ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The phase's deadline passed.
    Deadline(Phase, Duration),
    /// A new connection took its place at the cap.
    Evicted,
    /// An injected fault closed it ([`crate::fault`]).
    Aborted,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Deadline(Phase::Handshake, d) => {
                write!(f, "tls handshake timed out after {d:?}")
            }
            Ended::Deadline(Phase::Headers, d) => {
                write!(f, "request headers not complete after {d:?}; closed")
            }
            Ended::Deadline(Phase::Idle, d) => write!(f, "idle for {d:?}; closed"),
            Ended::Deadline(Phase::Busy, _) => write!(f, "closed while serving"),
            Ended::Evicted => write!(f, "closed to make room at the connection cap"),
            Ended::Aborted => write!(f, "closed by an injected fault"),
        }
    }
}

#[derive(Debug)]
struct State {
    phase: Phase,
    since: Instant,
    evicted: bool,
    /// An injected fault asked for the connection to be closed.
    aborted: bool,
}

/// One admitted connection's state, shared by its watchdog, its stream and its requests.
#[derive(Debug)]
pub(crate) struct Slot {
    id: u64,
    state: Mutex<State>,
    /// Wakes the watchdog when the phase changes or the connection is evicted.
    changed: Notify,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the connection into `phase` (now).
    pub(crate) fn enter(&self, phase: Phase) {
        let mut state = self.lock();
        if state.phase != phase {
            state.phase = phase;
            state.since = Instant::now();
            drop(state);
            self.changed.notify_one();
        }
    }

    /// Bytes arrived: an idle connection starts reading a request's headers.
    fn bytes_arrived(&self) {
        let mut state = self.lock();
        if state.phase == Phase::Idle {
            state.phase = Phase::Headers;
            state.since = Instant::now();
            drop(state);
            self.changed.notify_one();
        }
    }

    /// Closes the connection now, whatever it is doing (an injected fault).
    pub(crate) fn abort(&self) {
        self.lock().aborted = true;
        self.changed.notify_one();
    }

    fn evict(&self) {
        self.lock().evicted = true;
        self.changed.notify_one();
    }

    /// Resolves when the current phase's deadline passes or the connection is evicted; run it
    /// beside the connection and drop the connection when it resolves.
    pub(crate) async fn watch(&self, deadlines: Deadlines) -> Ended {
        loop {
            let (phase, since, evicted) = {
                let state = self.lock();
                if state.aborted {
                    return Ended::Aborted;
                }
                (state.phase, state.since, state.evicted)
            };
            if evicted {
                return Ended::Evicted;
            }
            let limit = match phase {
                Phase::Handshake => Some(deadlines.handshake),
                Phase::Headers => Some(deadlines.header),
                Phase::Idle => Some(deadlines.idle),
                Phase::Busy => None,
            };
            let Some(limit) = limit else {
                self.changed.notified().await;
                continue;
            };
            tokio::select! {
                () = tokio::time::sleep_until(since + limit) => {
                    let state = self.lock();
                    if !state.evicted && state.phase == phase && state.since == since {
                        return Ended::Deadline(phase, limit);
                    }
                }
                () = self.changed.notified() => {}
            }
        }
    }
}

/// A connection's place under the cap; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Admitted {
    connections: Arc<Connections>,
    slot: Arc<Slot>,
}

impl Admitted {
    /// The connection's shared state.
    pub(crate) fn slot(&self) -> &Arc<Slot> {
        &self.slot
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.slot.id);
    }
}

/// Every open connection of one archive, under one cap.
#[derive(Debug)]
pub(crate) struct Connections {
    max: usize,
    open: Mutex<HashMap<u64, Arc<Slot>>>,
    next_id: AtomicU64,
    /// Connections refused at the cap since start.
    refused: AtomicU64,
    /// Connections closed to make room since start.
    evicted: AtomicU64,
    /// Refused and evicted when the pressure was last logged.
    logged: Mutex<(Option<Instant>, u64, u64)>,
}

impl Connections {
    /// At most `max` connections open at once.
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
            logged: Mutex::new((None, 0, 0)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Slot>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cap.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        self.lock().len()
    }

    /// Connections serving a request now.
    pub(crate) fn serving(&self) -> usize {
        self.lock()
            .values()
            .filter(|slot| slot.lock().phase == Phase::Busy)
            .count()
    }

    /// Connections refused at the cap since start.
    pub(crate) fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Connections closed to make room since start.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Admits a new connection (in its handshake), making room at the cap by evicting the
    /// connection that has proven least; `None` when every connection is serving a request.
    pub(crate) fn admit(self: &Arc<Self>, remote: SocketAddr) -> Option<Admitted> {
        let mut open = self.lock();
        let mut made_room = false;
        if open.len() >= self.max {
            let victim = open
                .values()
                .filter_map(|slot| {
                    let state = slot.lock();
                    (state.phase != Phase::Busy && !state.evicted).then_some((
                        state.phase,
                        state.since,
                        slot.id,
                    ))
                })
                .min();
            match victim.and_then(|(_, _, id)| open.remove(&id)) {
                Some(slot) => {
                    slot.evict();
                    self.evicted.fetch_add(1, Ordering::Relaxed);
                    made_room = true;
                }
                None => {
                    drop(open);
                    self.refused.fetch_add(1, Ordering::Relaxed);
                    self.log_pressure(remote);
                    return None;
                }
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            id,
            state: Mutex::new(State {
                phase: Phase::Handshake,
                since: Instant::now(),
                evicted: false,
                aborted: false,
            }),
            changed: Notify::new(),
        });
        open.insert(id, slot.clone());
        drop(open);
        if made_room {
            self.log_pressure(remote);
        }
        Some(Admitted {
            connections: self.clone(),
            slot,
        })
    }

    /// Logs refusals and evictions, at most once per [`PRESSURE_LOG_EVERY`].
    fn log_pressure(&self, remote: SocketAddr) {
        let refused = self.refused();
        let evicted = self.evicted();
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        let (last, was_refused, was_evicted) = *logged;
        if (refused, evicted) == (was_refused, was_evicted)
            || last.is_some_and(|t| t.elapsed() < PRESSURE_LOG_EVERY)
        {
            return;
        }
        *logged = (Some(Instant::now()), refused, evicted);
        drop(logged);
        tracing::warn!(
            "at the connection cap of {}: refused {} new connection(s) while every connection \
             was serving a request, and closed {} idle or unfinished connection(s) to make room \
             (since the last report; the latest from {remote})",
            self.max,
            refused - was_refused,
            evicted - was_evicted,
        );
    }
}

/// A stream that tells its [`Slot`] when bytes arrive (the start of the next request).
#[derive(Debug)]
pub(crate) struct Tracked<S> {
    inner: S,
    slot: Arc<Slot>,
}

impl<S> Tracked<S> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: S, slot: Arc<Slot>) -> Self {
        Self { inner, slot }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.slot.bytes_arrived();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 1))
    }

    #[tokio::test]
    async fn at_the_cap_the_least_proven_connection_makes_room_and_busy_ones_never_do() {
        let conns = Connections::new(3);
        let idle = conns.admit(addr()).unwrap();
        idle.slot().enter(Phase::Idle);
        let busy = conns.admit(addr()).unwrap();
        busy.slot().enter(Phase::Busy);
        let handshaking = conns.admit(addr()).unwrap();
        // Full: the one still in its handshake goes first, though it is the newest.
        let fourth = conns.admit(addr()).unwrap();
        assert!(handshaking.slot().lock().evicted);
        assert!(!idle.slot().lock().evicted);
        fourth.slot().enter(Phase::Busy);
        // Then the idle one.
        let fifth = conns.admit(addr()).unwrap();
        assert!(idle.slot().lock().evicted);
        fifth.slot().enter(Phase::Busy);
        assert_eq!(conns.open(), 3);
        // Every connection serving a request: refused.
        assert!(conns.admit(addr()).is_none());
        assert_eq!((conns.refused(), conns.evicted()), (1, 2));
        // One closes: room again.
        drop(busy);
        assert!(conns.admit(addr()).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn each_phase_has_its_deadline_and_serving_has_none() {
        let deadlines = Deadlines {
            handshake: Duration::from_secs(1),
            header: Duration::from_secs(2),
            idle: Duration::from_secs(3),
        };
        let conns = Connections::new(10);
        let a = conns.admit(addr()).unwrap();
        assert_eq!(
            a.slot().watch(deadlines).await,
            Ended::Deadline(Phase::Handshake, deadlines.handshake)
        );
        a.slot().enter(Phase::Idle);
        assert_eq!(
            a.slot().watch(deadlines).await,
            Ended::Deadline(Phase::Idle, deadlines.idle)
        );
        a.slot().enter(Phase::Idle);
        a.slot().bytes_arrived();
        assert_eq!(
            a.slot().watch(deadlines).await,
            Ended::Deadline(Phase::Headers, deadlines.header)
        );
        a.slot().enter(Phase::Busy);
        let slot = a.slot().clone();
        let watch = tokio::spawn(async move { slot.watch(deadlines).await });
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(
            !watch.is_finished(),
            "a request being served has no deadline here"
        );
        a.slot().evict();
        assert_eq!(watch.await.unwrap(), Ended::Evicted);
    }
}
