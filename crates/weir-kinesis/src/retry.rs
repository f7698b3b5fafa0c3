//! Pacing retries and the warnings about them.

use std::time::Duration;

/// Waits out throttling and failures: exponential, with jitter, capped.
#[derive(Debug)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
    seed: u64,
}

impl Backoff {
    /// Starts at `base`, never waits longer than `max`.
    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.subsec_nanos().into())
            | 1;
        Backoff {
            base,
            max,
            attempt: 0,
            seed,
        }
    }

    /// The next wait: between half and all of `base * 2^attempt`.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1 << self.attempt.min(16))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        // xorshift64: jitter only, not security.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let half = ceiling / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX).max(1);
        half + Duration::from_nanos(self.seed % nanos)
    }

    /// After a success.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Failures in a row so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// Lets a repeated warning through at most once per `every`, counting the
/// ones held back.
#[derive(Debug)]
pub(crate) struct Throttled {
    every: Duration,
    last: Option<tokio::time::Instant>,
    held: u64,
}

impl Throttled {
    pub(crate) fn new(every: Duration) -> Self {
        Throttled {
            every,
            last: None,
            held: 0,
        }
    }

    /// `Some(n)` when a warning may be logged now, `n` being how many were
    /// held back since the last one.
    pub(crate) fn due(&mut self) -> Option<u64> {
        let now = tokio::time::Instant::now();
        if self
            .last
            .is_some_and(|l| now.duration_since(l) < self.every)
        {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let first = b.next_delay();
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        for _ in 0..20 {
            assert!(b.next_delay() <= Duration::from_secs(1));
        }
        assert!(b.attempts() > 20);
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
