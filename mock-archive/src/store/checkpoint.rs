//! Background checkpoints: copying committed WAL frames into the database file off the
//! writer's path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses the threshold, so one
//! unlucky batch of callers waits for it. Here a thread of its own runs a `PASSIVE` checkpoint
//! every [`INTERVAL`] (which never blocks the writer or readers), and the writer's automatic
//! checkpoint is kept only as a safety net at [`super::schema::WAL_AUTOCHECKPOINT_PAGES`].

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the checkpointer runs.
pub const INTERVAL: Duration = Duration::from_millis(50);

/// Starts the checkpointer on its own connection; it stops when `stop`'s sender is dropped.
pub(crate) fn spawn(conn: Connection, stop: Receiver<()>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("store-checkpoint".to_owned())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(INTERVAL) {
                // Busy (another checkpoint running) or any other failure: the next round or
                // the writer's safety net catches up; nothing is lost by skipping one.
                if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                {
                    tracing::debug!(%error, "passive checkpoint skipped");
                }
            }
        })
}
