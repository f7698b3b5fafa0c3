//! The versions of a stage's plugin: the serving one, swapped between calls
//! by a reload or a rollback, and the one before it.
//!
//! A call takes the serving version once and runs on it to the end, so
//! every record of a call is processed by exactly one version. A new
//! version is instantiated and `init`-ed before it is swapped in; if that
//! fails, the serving version keeps serving. An instance of the old version
//! still in a call finishes that call; the old version's idle instances are
//! dropped with it.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use crate::plugin::{InstanceOptions, Plugin, PluginError, PluginInstance};

/// One version of a stage's plugin and its idle instances.
pub(crate) struct StageVersion {
    pub(crate) plugin: Plugin,
    /// 1 for the version the stage started with, then one more per swap.
    pub(crate) number: u64,
    pub(crate) loaded_at: SystemTime,
    pool: Mutex<Vec<PluginInstance>>,
}

impl StageVersion {
    fn new(plugin: Plugin, number: u64, first: PluginInstance) -> Self {
        StageVersion {
            plugin,
            number,
            loaded_at: SystemTime::now(),
            pool: Mutex::new(vec![first]),
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
            None => self.plugin.instantiate(options.clone()),
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
            current: RwLock::new(Arc::new(StageVersion::new(plugin, 1, first))),
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

    /// Instantiates and `init`s `plugin`, then makes it the serving
    /// version; the replaced one becomes the previous. On an error nothing
    /// changes.
    pub(crate) fn swap(
        &self,
        plugin: Plugin,
        options: &InstanceOptions,
    ) -> Result<Arc<StageVersion>, PluginError> {
        let _one_at_a_time = self.swapping.lock().unwrap_or_else(PoisonError::into_inner);
        // Off the serving path: calls keep running on the current version.
        let first = plugin.instantiate(options.clone())?;
        let number = self.current().number + 1;
        let next = Arc::new(StageVersion::new(plugin, number, first));
        let old = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(PoisonError::into_inner),
            next.clone(),
        );
        *self.previous.lock().unwrap_or_else(PoisonError::into_inner) = Some(old.plugin.clone());
        // The old version's idle instances go with the last call holding it.
        drop(old);
        Ok(next)
    }
}
