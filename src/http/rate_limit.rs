//! Failed invite-token lookups per client address: codes are short, so guessing
//! them must be slow.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

pub struct Limiter {
    per_window: u32,
    failures: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

impl Limiter {
    pub fn per_minute(per_window: u32) -> Self {
        Self {
            per_window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_blocked(&self, client: Option<IpAddr>) -> bool {
        let failures = self.failures.lock().expect("limiter lock");
        failures
            .get(&client)
            .is_some_and(|(since, count)| since.elapsed() < WINDOW && *count >= self.per_window)
    }

    pub fn record_failure(&self, client: Option<IpAddr>) {
        let mut failures = self.failures.lock().expect("limiter lock");
        if failures.len() > 100_000 {
            failures.retain(|_, (since, _)| since.elapsed() < WINDOW);
        }
        let entry = failures.entry(client).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_allowed_failures() {
        let limiter = Limiter::per_minute(2);
        let ip = Some("10.0.0.1".parse().unwrap());
        assert!(!limiter.is_blocked(ip));
        limiter.record_failure(ip);
        limiter.record_failure(ip);
        assert!(limiter.is_blocked(ip));
        assert!(!limiter.is_blocked(Some("10.0.0.2".parse().unwrap())));
    }
}
