//! Sign-in sessions of the archivist view: a random session id (256 bits from aws-lc-rs) in an
//! `HttpOnly; Secure; SameSite=Strict` cookie, and per session a random CSRF token that every
//! form posting a change must carry. Sessions live in memory only: a restarted archive signs
//! everybody out. Wrong sign-ins are slowed down per client address ([`SignInThrottle`]).

use std::collections::HashMap;
use std::net::IpAddr;
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

/// Wrong sign-ins from one address that are answered at once; after them each further attempt
/// must wait: 1 s after the last wrong one, then 2 s, 4 s, … up to 60 s.
pub const FREE_WRONG_SIGN_INS: u32 = 5;

/// The longest wait between sign-in attempts from one address.
pub const MAX_SIGN_IN_WAIT: Duration = Duration::from_secs(60);

/// How long an address's wrong sign-ins are remembered after its last one.
pub const FORGET_WRONG_SIGN_INS: Duration = Duration::from_secs(15 * 60);

/// The most addresses remembered at once; beyond it the one quiet longest is forgotten.
pub const MAX_THROTTLED_ADDRESSES: usize = 10_000;

/// Slows down wrong sign-ins per client address: after [`FREE_WRONG_SIGN_INS`] wrong ones, the
/// next attempt is refused unanswered (whatever its token) until 1 s after the last wrong one,
/// then 2 s, 4 s, … up to `MAX_SIGN_IN_WAIT`; a right one clears the address. IPv6 addresses
/// count per /64 network (one host usually has a whole /64).
#[derive(Debug, Default)]
pub struct SignInThrottle {
    map: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// The address wrong sign-ins are counted under.
fn throttle_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !u128::from(u64::MAX),
            )),
        },
    }
}

/// How long to wait after the last of `wrong` wrong sign-ins.
fn wait_after(wrong: u32) -> Duration {
    match wrong.checked_sub(FREE_WRONG_SIGN_INS) {
        None => Duration::ZERO,
        Some(over) => Duration::from_secs(1u64 << over.min(16)).min(MAX_SIGN_IN_WAIT),
    }
}

impl SignInThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (u32, Instant)>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Ok` when `addr` may try to sign in at `now`, else how long it must still wait.
    pub fn check(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let map = self.lock();
        let Some(&(wrong, last)) = map.get(&throttle_key(addr)) else {
            return Ok(());
        };
        let ready = last + wait_after(wrong);
        if now >= ready {
            Ok(())
        } else {
            Err(ready - now)
        }
    }

    /// Counts a wrong sign-in from `addr` at `now`.
    pub fn wrong(&self, addr: IpAddr, now: Instant) {
        let mut map = self.lock();
        map.retain(|_, (_, last)| now.saturating_duration_since(*last) < FORGET_WRONG_SIGN_INS);
        let key = throttle_key(addr);
        if !map.contains_key(&key)
            && map.len() >= MAX_THROTTLED_ADDRESSES
            && let Some(quiet) = map
                .iter()
                .min_by_key(|(_, (_, last))| *last)
                .map(|(k, _)| *k)
        {
            map.remove(&quiet);
        }
        let entry = map.entry(key).or_insert((0, now));
        *entry = (entry.0.saturating_add(1), now);
    }

    /// A right sign-in from `addr`: its wrong ones are forgotten.
    pub fn right(&self, addr: IpAddr) {
        self.lock().remove(&throttle_key(addr));
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
    fn wrong_sign_ins_are_slowed_down_per_address_and_a_right_one_clears_them() {
        let throttle = SignInThrottle::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..FREE_WRONG_SIGN_INS {
            assert_eq!(throttle.check(a, t0), Ok(()));
            throttle.wrong(a, t0);
        }
        // The sixth attempt waits 1 s after the fifth wrong one; other addresses do not.
        assert_eq!(throttle.check(a, t0), Err(Duration::from_secs(1)));
        assert_eq!(throttle.check(b, t0), Ok(()));
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(throttle.check(a, t1), Ok(()));
        throttle.wrong(a, t1);
        assert_eq!(throttle.check(a, t1), Err(Duration::from_secs(2)));
        // Doubling up to the cap.
        let mut t = t1;
        for _ in 0..20 {
            t += MAX_SIGN_IN_WAIT;
            throttle.wrong(a, t);
        }
        assert_eq!(throttle.check(a, t), Err(MAX_SIGN_IN_WAIT));
        throttle.right(a);
        assert_eq!(throttle.check(a, t), Ok(()));
        // Forgotten after a quiet spell.
        for _ in 0..=FREE_WRONG_SIGN_INS {
            throttle.wrong(a, t);
        }
        assert!(throttle.check(a, t).is_err());
        throttle.wrong(b, t + FORGET_WRONG_SIGN_INS);
        assert_eq!(throttle.check(a, t + FORGET_WRONG_SIGN_INS), Ok(()));
    }

    #[test]
    fn ipv6_addresses_count_per_64_network() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for i in 0..=FREE_WRONG_SIGN_INS {
            throttle.wrong(format!("2001:db8:1:2::{i:x}").parse().unwrap(), now);
        }
        let same_64: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(throttle.check(same_64, now).is_err());
        assert_eq!(throttle.check(other_64, now), Ok(()));
        // IPv4-mapped addresses count as the IPv4 address.
        let v4: IpAddr = "192.0.2.9".parse().unwrap();
        for _ in 0..=FREE_WRONG_SIGN_INS {
            throttle.wrong("::ffff:192.0.2.9".parse().unwrap(), now);
        }
        assert!(throttle.check(v4, now).is_err());
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
