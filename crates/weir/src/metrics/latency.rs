//! A latency series that is both exported (a Prometheus histogram) and
//! read back as percentiles over any interval (fine buckets of atomic
//! counts, differenced between two readings): what the monitor charts and
//! alarms on.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Histogram;

/// Buckets per doubling: each is 2^(1/4) ≈ 1.19 times the last, so a
/// percentile read back is within about 10 % of the true value.
const PER_DOUBLING: f64 = 4.0;
/// The first bucket's upper bound, in seconds (1 µs).
const FIRST: f64 = 1e-6;
/// The number of buckets: 1 µs to about 17 minutes; the last one takes
/// everything above.
pub const LATENCY_BUCKETS: usize = 120;

/// Counts per bucket, as read by [`Latency::counts`].
pub type LatencyCounts = [u64; LATENCY_BUCKETS];

/// A latency series: see the module docs. Cloning shares it.
#[derive(Clone)]
pub struct Latency {
    histogram: Histogram,
    buckets: Arc<[AtomicU64; LATENCY_BUCKETS]>,
}

impl std::fmt::Debug for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count: u64 = self.counts().iter().sum();
        f.debug_struct("Latency").field("count", &count).finish()
    }
}

impl Default for Latency {
    fn default() -> Self {
        Latency::new(Histogram::new([1.0]))
    }
}

fn bucket_of(seconds: f64) -> usize {
    if seconds.is_nan() || seconds <= FIRST {
        return 0;
    }
    let i = ((seconds / FIRST).log2() * PER_DOUBLING).ceil();
    if i >= (LATENCY_BUCKETS - 1) as f64 {
        LATENCY_BUCKETS - 1
    } else {
        i as usize
    }
}

/// The upper bound of bucket `i`, in seconds.
fn upper(i: usize) -> f64 {
    FIRST * (i as f64 / PER_DOUBLING).exp2()
}

impl Latency {
    /// A series exported through `histogram`.
    pub fn new(histogram: Histogram) -> Self {
        Latency {
            histogram,
            buckets: Arc::new(std::array::from_fn(|_| AtomicU64::new(0))),
        }
    }

    /// Records one duration, in seconds.
    pub fn observe(&self, seconds: f64) {
        self.histogram.observe(seconds);
        if let Some(b) = self.buckets.get(bucket_of(seconds)) {
            b.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counts so far, per bucket.
    pub fn counts(&self) -> LatencyCounts {
        std::array::from_fn(|i| self.buckets.get(i).map_or(0, |b| b.load(Ordering::Relaxed)))
    }

    /// The `q` percentile (0 to 1) of what was recorded between the
    /// readings `before` and `now`, in seconds (a bucket's geometric
    /// middle); `None` if nothing was.
    pub fn percentile(before: &LatencyCounts, now: &LatencyCounts, q: f64) -> Option<f64> {
        let deltas: Vec<u64> = now
            .iter()
            .zip(before)
            .map(|(n, b)| n.saturating_sub(*b))
            .collect();
        let total: u64 = deltas.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, d) in deltas.iter().enumerate() {
            seen += d;
            if seen >= rank {
                let low = if i == 0 { FIRST / 2.0 } else { upper(i - 1) };
                return Some((low * upper(i)).sqrt());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_back_within_a_bucket() {
        let l = Latency::default();
        let before = l.counts();
        for i in 1..=1000 {
            l.observe(f64::from(i) * 1e-6);
        }
        let now = l.counts();
        let p50 = Latency::percentile(&before, &now, 0.5).unwrap_or_default();
        let p99 = Latency::percentile(&before, &now, 0.99).unwrap_or_default();
        assert!((p50 / 500e-6 - 1.0).abs() < 0.12, "{p50}");
        assert!((p99 / 990e-6 - 1.0).abs() < 0.12, "{p99}");
        assert_eq!(Latency::percentile(&now, &now, 0.5), None);
    }

    #[test]
    fn odd_durations_land_in_the_end_buckets() {
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(f64::NAN), 0);
        assert_eq!(bucket_of(-1.0), 0);
        assert_eq!(bucket_of(1e9), LATENCY_BUCKETS - 1);
        assert_eq!(bucket_of(f64::INFINITY), LATENCY_BUCKETS - 1);
    }
}
