//! How much a pipeline holds in flight: a batch is admitted only when both
//! the batch count and the byte bound (`max_in_flight_mb`) have room, and
//! its room is given back when every lane and sink is done with it. A slow
//! sink therefore slows the reading of the source instead of letting
//! batches pile up in memory.

use std::sync::Arc;

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

use crate::metrics::Gauge;

/// The default `max_in_flight_mb`: room for many batches of a fast
/// pipeline, and little on a small machine.
pub const DEFAULT_IN_FLIGHT_MB: u64 = 64;

/// The largest `max_in_flight_mb` accepted (1 TiB).
pub(crate) const MAX_IN_FLIGHT_MB: u64 = 1 << 20;

/// The room of one admitted batch, given back when dropped.
#[derive(Debug)]
pub(crate) struct Admission {
    _batch: OwnedSemaphorePermit,
    bytes: OwnedSemaphorePermit,
    kib: Arc<Semaphore>,
    total_kib: u32,
    gauge: Option<Gauge>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(gauge) = &self.gauge {
            let held = self.total_kib as usize - self.kib.available_permits();
            gauge.set((held.saturating_sub(self.bytes.num_permits()) * 1024) as f64);
        }
    }
}

/// The room of a pipeline.
pub(crate) struct Room {
    batches: Arc<Semaphore>,
    /// In KiB.
    kib: Arc<Semaphore>,
    total_kib: u32,
    /// Set to the bytes in flight as batches come and go.
    gauge: Option<Gauge>,
}

impl Room {
    /// Room for `batches` batches and `mb` MiB of records; `gauge` follows
    /// the bytes in flight.
    pub(crate) fn new(batches: usize, mb: u64, gauge: Option<Gauge>) -> Self {
        let total_kib = u32::try_from(mb.clamp(1, MAX_IN_FLIGHT_MB) * 1024).unwrap_or(u32::MAX);
        Room {
            batches: Arc::new(Semaphore::new(batches.max(1))),
            kib: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
            gauge,
        }
    }

    /// Waits for room for a batch of `bytes` bytes. A batch larger than the
    /// whole bound waits for all of it (so it is admitted alone, never
    /// refused).
    pub(crate) async fn admit(&self, bytes: usize) -> Result<Admission, AcquireError> {
        let kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, self.total_kib);
        let batch = self.batches.clone().acquire_owned().await?;
        let bytes = self.kib.clone().acquire_many_owned(kib).await?;
        if let Some(gauge) = &self.gauge {
            gauge.set(self.in_flight_bytes() as f64);
        }
        Ok(Admission {
            _batch: batch,
            bytes,
            kib: self.kib.clone(),
            total_kib: self.total_kib,
            gauge: self.gauge.clone(),
        })
    }

    /// Bytes admitted and not yet given back (rounded up to KiB).
    pub(crate) fn in_flight_bytes(&self) -> u64 {
        u64::from(self.total_kib - self.kib.available_permits() as u32) * 1024
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bytes_bound_admission_and_come_back_on_drop() {
        let room = Room::new(100, 1, None);
        let a = room.admit(600 << 10).await;
        let Ok(a) = a else {
            panic!("the first batch has room")
        };
        assert_eq!(room.in_flight_bytes(), 600 << 10);
        // 600 KiB more does not fit in 1 MiB until the first is done.
        let second = room.admit(600 << 10);
        tokio::pin!(second);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), &mut second)
                .await
                .is_err()
        );
        drop(a);
        assert!(second.await.is_ok());
        // A batch larger than the bound is admitted alone.
        let room = Room::new(100, 1, None);
        let Ok(big) = room.admit(10 << 20).await else {
            panic!("a large batch is admitted")
        };
        assert_eq!(room.in_flight_bytes(), 1 << 20);
        drop(big);
        assert_eq!(room.in_flight_bytes(), 0);
    }
}
