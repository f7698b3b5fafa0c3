//! The store's resource limiter: wasmtime's limits, plus the high-water
//! mark of the linear memory an instance holds (memory never shrinks, so
//! the peak is what the instance cost).

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// Limits a store's memories to `memory_bytes` each and counts the total
/// granted.
pub(crate) struct Limiter {
    limits: StoreLimits,
    total: usize,
    peak: usize,
}

impl Limiter {
    pub(crate) fn new(memory_bytes: usize) -> Self {
        Limiter {
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
            total: 0,
            peak: 0,
        }
    }

    /// The most linear memory, in bytes, the store's memories held at once.
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let granted = self.limits.memory_growing(current, desired, maximum)?;
        if granted {
            self.total = self.total.saturating_add(desired.saturating_sub(current));
            self.peak = self.peak.max(self.total);
        }
        Ok(granted)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}
