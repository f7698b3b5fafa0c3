//! The retry budget of plugin calls and sink writes.

use std::time::Duration;

use super::settings::ErrorsConfig;

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How failed calls and writes are retried (see [`ErrorsConfig`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub(crate) max_retries: u32,
    pub(crate) backoff: Duration,
    pub(crate) bisect: bool,
}

impl RetryPolicy {
    pub(crate) fn new(errors: &ErrorsConfig) -> Self {
        RetryPolicy {
            max_retries: errors.max_retries,
            backoff: errors.retry_backoff.0,
            bisect: errors.bisect_on_error,
        }
    }

    /// The wait before retry number `retry` (1-based): the backoff,
    /// doubled for each earlier retry, at most 30 s.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(16);
        self.backoff.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let p = RetryPolicy {
            max_retries: 40,
            backoff: Duration::from_millis(100),
            bisect: false,
        };
        assert_eq!(p.delay(1), Duration::from_millis(100));
        assert_eq!(p.delay(2), Duration::from_millis(200));
        assert_eq!(p.delay(4), Duration::from_millis(800));
        assert_eq!(p.delay(40), MAX_BACKOFF);
    }
}
