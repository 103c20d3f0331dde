//! The bodies of the latest requests, in memory and bounded, keyed by their audit-log entry:
//! what the harness in SUT mode reads back (`GET /inspect/audit/<id>/request`) to match a
//! vendor system's submission to the step that asked for it and to record it for replay.
//! Nothing here is durable: the audit log is the record; this is a window on recent bytes.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;

/// How many requests are kept at most.
pub const MAX_REQUESTS: usize = 256;
/// How many body bytes are kept at most, over all kept requests.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// One kept request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptRequest {
    /// Its audit-log entry.
    pub audit_id: i64,
    /// The register holder whose audit log names it (R8: only that holder's archivist reads it).
    pub register_holder: Option<String>,
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// The body exactly as received.
    pub body: Bytes,
}

/// The latest requests, oldest evicted first.
#[derive(Debug, Default)]
pub struct RecentRequests {
    kept: Mutex<(VecDeque<KeptRequest>, usize)>,
}

impl RecentRequests {
    /// Keeps `request`, evicting the oldest while over [`MAX_REQUESTS`] or [`MAX_BYTES`].
    pub fn keep(&self, request: KeptRequest) {
        if request.body.len() > MAX_BYTES {
            return;
        }
        let Ok(mut guard) = self.kept.lock() else {
            return;
        };
        let (queue, bytes) = &mut *guard;
        *bytes += request.body.len();
        queue.push_back(request);
        while queue.len() > MAX_REQUESTS || *bytes > MAX_BYTES {
            match queue.pop_front() {
                Some(old) => *bytes -= old.body.len(),
                None => break,
            }
        }
    }

    /// The request of audit entry `audit_id`, if it is still kept and belongs to `holder`.
    pub fn get(&self, audit_id: i64, holder: &str) -> Option<KeptRequest> {
        let guard = self.kept.lock().ok()?;
        guard
            .0
            .iter()
            .find(|r| r.audit_id == audit_id && r.register_holder.as_deref() == Some(holder))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(id: i64, holder: &str, len: usize) -> KeptRequest {
        KeptRequest {
            audit_id: id,
            register_holder: Some(holder.to_owned()),
            content_type: Some("text/xml".to_owned()),
            body: Bytes::from(vec![b'x'; len]),
        }
    }

    #[test]
    fn a_request_is_found_only_by_its_own_register_holder() {
        let recent = RecentRequests::default();
        recent.keep(kept(7, "1.2.3", 10));
        assert_eq!(recent.get(7, "1.2.3").unwrap().body.len(), 10);
        assert_eq!(recent.get(7, "9.9.9"), None);
        assert_eq!(recent.get(8, "1.2.3"), None);
    }

    #[test]
    fn the_oldest_requests_are_evicted_past_the_bounds() {
        let recent = RecentRequests::default();
        for id in 0..(MAX_REQUESTS as i64 + 3) {
            recent.keep(kept(id, "h", 1));
        }
        assert_eq!(recent.get(2, "h"), None);
        assert!(recent.get(3, "h").is_some());
        recent.keep(kept(1000, "h", MAX_BYTES - 10));
        assert!(recent.get(1000, "h").is_some());
        assert!(
            recent.get(3, "h").is_none(),
            "evicted to stay under the byte bound"
        );
        recent.keep(kept(1001, "h", MAX_BYTES + 1));
        assert!(recent.get(1001, "h").is_none(), "too large to keep");
    }
}
