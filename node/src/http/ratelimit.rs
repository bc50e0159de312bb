//! [`RateLimiter`]: counts failed attempts (logins, setup codes) per key (a username, a client
//! address) in a fixed window, so that guessing a password from the marina's Wi-Fi costs
//! hours, not seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per key and window.
pub const MAX_FAILURES: u32 = 5;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Keys tracked at most; past it, expired windows are swept, then the oldest dropped.
pub const MAX_KEYS: usize = 4096;

/// The limiter's key for logins as `username` (case-insensitive).
pub fn login_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

/// Failed attempts per key.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `Err(seconds to wait)` when `key` used up its failures in the current window.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        match windows.get(key) {
            Some((start, n)) if *n >= MAX_FAILURES && now < *start + WINDOW => {
                Err((*start + WINDOW - now).as_secs() + 1)
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure of `key`.
    pub fn fail(&self, key: &str, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_KEYS && !windows.contains_key(key) {
            windows.retain(|_, (start, _)| now < *start + WINDOW);
            if windows.len() >= MAX_KEYS
                && let Some(oldest) = windows
                    .iter()
                    .min_by_key(|(_, (s, _))| *s)
                    .map(|(k, _)| k.clone())
            {
                windows.remove(&oldest);
            }
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now >= entry.0 + WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// Forgets `key`'s failures (after a success, or `user unlock`); true if it had any.
    pub fn clear(&self, key: &str) -> bool {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key)
            .is_some()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_failure_in_a_window_is_refused_until_it_ends() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check("anne", t0).is_ok());
            limiter.fail("anne", t0);
        }
        let wait = limiter.check("anne", t0).unwrap_err();
        assert!((1..=61).contains(&wait));
        assert!(limiter.check("bob", t0).is_ok());
        assert!(limiter.check("anne", t0 + WINDOW).is_ok());
        limiter.clear("anne");
        assert!(limiter.check("anne", t0).is_ok());
    }

    #[test]
    fn the_map_stays_bounded() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_KEYS + 10) {
            limiter.fail(&format!("k{i}"), t0);
        }
        assert!(limiter.windows.lock().unwrap().len() <= MAX_KEYS);
    }
}
