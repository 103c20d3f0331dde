//! Sign-in sessions of the archivist view: a random session id (256 bits from aws-lc-rs) in an
//! `HttpOnly; Secure; SameSite=Strict` cookie, and per session a random CSRF token that every
//! form posting a change must carry. Sessions live in memory only: a restarted archive signs
//! everybody out.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

/// The session cookie's name (`__Host-`: Secure, `Path=/`, no `Domain`, so no other host or
/// path can set or shadow it).
pub const COOKIE: &str = "__Host-kantakoe-view";

/// How long a session lasts after sign-in.
pub const LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// The most sessions kept at once; beyond it the one expiring first is dropped.
pub const MAX_SESSIONS: usize = 10_000;

/// One signed-in archivist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The archivist's name, for confirmations.
    pub name: String,
    /// The one register holder this session sees (R8).
    pub register_holder: String,
    /// The CSRF token bound to this session.
    pub csrf: String,
    /// When the session ends.
    pub expires: Instant,
}

/// The sessions of one archive.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// `n` random bytes from aws-lc-rs, hexadecimal.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system random generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// Starts a session; returns its id.
    pub fn start(&self, name: &str, register_holder: &str) -> String {
        let id = random_hex(32);
        let now = Instant::now();
        let session = Session {
            name: name.to_owned(),
            register_holder: register_holder.to_owned(),
            csrf: random_hex(32),
            expires: now + LIFETIME,
        };
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), session);
        id
    }

    /// The live session with this id.
    pub fn get(&self, id: &str) -> Option<Session> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id).filter(|s| s.expires > Instant::now()).cloned()
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// Whether a submitted CSRF token is the session's, compared in constant time.
pub fn csrf_matches(session: &Session, submitted: Option<&str>) -> bool {
    submitted.is_some_and(|s| {
        aws_lc_rs::constant_time::verify_slices_are_equal(s.as_bytes(), session.csrf.as_bytes())
            .is_ok()
    })
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_random_bound_to_one_holder_and_end() {
        let sessions = Sessions::default();
        let a = sessions.start("A", "2.999.1");
        let b = sessions.start("B", "2.999.2");
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        let sa = sessions.get(&a).unwrap();
        assert_eq!(sa.register_holder, "2.999.1");
        assert_ne!(sa.csrf, sessions.get(&b).unwrap().csrf);
        assert!(csrf_matches(&sa, Some(&sa.csrf.clone())));
        assert!(!csrf_matches(&sa, Some("00")));
        assert!(!csrf_matches(&sa, None));
        sessions.end(&a);
        assert_eq!(sessions.get(&a), None);
        assert_eq!(sessions.get("guess"), None);
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = Some("lang=sv; __Host-kantakoe-view=abc; x=1");
        assert_eq!(cookie(h, COOKIE), Some("abc"));
        assert_eq!(cookie(h, "lang"), Some("sv"));
        assert_eq!(cookie(h, "nope"), None);
        assert_eq!(cookie(None, COOKIE), None);
    }
}
