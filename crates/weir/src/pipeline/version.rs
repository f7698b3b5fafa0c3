//! The versions of a stage's plugin: the serving one, swapped between calls
//! by a reload or a rollback, and the one before it.
//!
//! A call takes the serving version once and runs on it to the end, so
//! every record of a call is processed by exactly one version. A new
//! version is instantiated and `init`-ed before it is swapped in; if that
//! fails, the serving version keeps serving. An instance of the old version
//! still in a call finishes that call; a thread of the lowest CPU priority,
//! started and awaited by the swap, then drops the old version's instances.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use crate::plugin::{InstanceOptions, Plugin, PluginError, PluginInstance};
use crate::record::Record;

/// One version of a stage's plugin and its idle instances.
pub(crate) struct StageVersion {
    pub(crate) plugin: Plugin,
    /// 1 for the version the stage started with, then one more per swap.
    pub(crate) number: u64,
    pub(crate) loaded_at: SystemTime,
    pool: Mutex<Vec<PluginInstance>>,
    /// Instances made of this version so far (about one per lane).
    made: AtomicUsize,
}

impl StageVersion {
    fn new(plugin: Plugin, number: u64, ready: Vec<PluginInstance>) -> Self {
        StageVersion {
            plugin,
            number,
            loaded_at: SystemTime::now(),
            made: AtomicUsize::new(ready.len()),
            pool: Mutex::new(ready),
        }
    }

    /// An idle instance, or a new one.
    pub(crate) fn take(&self, options: &InstanceOptions) -> Result<PluginInstance, PluginError> {
        let pooled = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match pooled {
            Some(i) => Ok(i),
            None => {
                self.made.fetch_add(1, Ordering::Relaxed);
                self.plugin.instantiate(options.clone())
            }
        }
    }

    /// Returns an instance after a call.
    pub(crate) fn give_back(&self, instance: PluginInstance) {
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(instance);
    }
}

/// The serving version of a stage and the one it replaced.
pub(crate) struct Versions {
    current: RwLock<Arc<StageVersion>>,
    previous: Mutex<Option<Plugin>>,
    /// Serializes swaps, so numbers and `previous` stay consistent.
    swapping: Mutex<()>,
}

impl Versions {
    /// The stage's first version, with one instance, so `init` errors
    /// surface at start.
    pub(crate) fn new(plugin: Plugin, options: &InstanceOptions) -> Result<Self, PluginError> {
        let first = plugin.instantiate(options.clone())?;
        Ok(Versions {
            current: RwLock::new(Arc::new(StageVersion::new(plugin, 1, vec![first]))),
            previous: Mutex::new(None),
            swapping: Mutex::new(()),
        })
    }

    /// The serving version.
    pub(crate) fn current(&self) -> Arc<StageVersion> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The plugin a rollback would return to.
    pub(crate) fn previous(&self) -> Option<Plugin> {
        self.previous
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Instantiates and `init`s `plugin` (as many instances as the serving
    /// version has made, so no call waits for one), warms each with
    /// `sample` (see `PluginInstance::warm`), then makes it the
    /// serving version; the replaced one becomes the previous. On an error
    /// nothing changes. The replaced version's instances are dropped here,
    /// once the calls still running on it have finished, not by a worker.
    pub(crate) fn swap(
        &self,
        plugin: Plugin,
        options: &InstanceOptions,
        sample: &[Record],
    ) -> Result<Arc<StageVersion>, PluginError> {
        let _one_at_a_time = self.swapping.lock().unwrap_or_else(PoisonError::into_inner);
        // Off the serving path: calls keep running on the current version.
        let wanted = self.current().made.load(Ordering::Relaxed).max(1);
        let ready = super::background::in_background(|| {
            (0..wanted)
                .map(|_| {
                    let mut instance = plugin.instantiate(options.clone())?;
                    instance.warm(sample);
                    Ok(instance)
                })
                .collect::<Result<Vec<_>, PluginError>>()
        })?;
        let number = self.current().number + 1;
        let next = Arc::new(StageVersion::new(plugin, number, ready));
        let old = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(PoisonError::into_inner),
            next.clone(),
        );
        *self.previous.lock().unwrap_or_else(PoisonError::into_inner) = Some(old.plugin.clone());
        // Dropping a large instance (tens of MB for Python) is memory work
        // that must not compete with the workers.
        let deadline_ms = options.limits.deadline_ms;
        super::background::in_background(move || retire(old, deadline_ms));
        Ok(next)
    }
}

/// Drops `old` once no call holds it any more (bounded by a call's
/// deadline and a second), so that its instances are not dropped by the
/// worker that finishes the last call on it.
fn retire(old: Arc<StageVersion>, deadline_ms: u64) {
    let until = Instant::now() + Duration::from_millis(deadline_ms.saturating_add(1_000));
    while Arc::strong_count(&old) > 1 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(old);
}
