//! The shared wasmtime engine: compilation, pooling, epoch ticking.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use super::PluginError;
use super::cache::{CacheConfig, CompiledCache};

/// How long one epoch tick lasts; deadlines are counted in ticks.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// Settings of the plugin engine.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EngineConfig {
    /// Use wasmtime's pooling instance allocator (fast instantiation). If the
    /// machine refuses the virtual memory it reserves, the engine falls back
    /// to on-demand allocation and logs why.
    pub pooling: bool,
    /// Upper bound of concurrently live plugin instances when pooling.
    pub max_instances: u32,
    /// Largest memory any plugin may be granted, in MiB (pooling slot size).
    pub max_memory_mb: u64,
    /// Enforce call deadlines (`limits.deadline_ms`) with epoch
    /// interruption. The compiled code then checks the epoch at every
    /// function entry and loop back-edge, which costs plugin code time
    /// (measured: 20–30% on the JSON-parsing filter of the `plugin_stage`
    /// bench).
    /// Turn it off only for plugins you trust not to loop forever: without
    /// it nothing stops a call that never returns.
    pub deadlines: bool,
    /// Keep compiled plugins on disk, so the next load of the same
    /// component maps its machine code instead of compiling it (seconds
    /// for a large Python or JavaScript plugin). Default: off; the CLI
    /// turns it on in [`CacheConfig::default_dir`].
    pub cache: Option<CacheConfig>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            pooling: true,
            max_instances: 256,
            max_memory_mb: 4096,
            deadlines: true,
            cache: None,
        }
    }
}

impl EngineConfig {
    /// This configuration with call deadlines on or off.
    #[must_use]
    pub fn with_deadlines(mut self, deadlines: bool) -> Self {
        self.deadlines = deadlines;
        self
    }

    /// This configuration with the pooling allocator on or off.
    #[must_use]
    pub fn with_pooling(mut self, pooling: bool) -> Self {
        self.pooling = pooling;
        self
    }

    /// This configuration with the compiled-code cache `cache`.
    #[must_use]
    pub fn with_cache(mut self, cache: CacheConfig) -> Self {
        self.cache = Some(cache);
        self
    }

    /// This configuration with the compiled-code cache in its usual place
    /// ([`CacheConfig::default_dir`]), or unchanged when there is none.
    #[must_use]
    pub fn with_default_cache(self) -> Self {
        match CacheConfig::default_dir() {
            Some(dir) => self.with_cache(CacheConfig::new(dir)),
            None => self,
        }
    }
}

struct Ticker {
    stop: Arc<AtomicBool>,
    /// `None` when deadlines are off.
    thread: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub(crate) struct EngineInner {
    pub(crate) engine: wasmtime::Engine,
    pub(crate) pooling: bool,
    pub(crate) deadlines: bool,
    pub(crate) cache: Option<CompiledCache>,
    _ticker: Ticker,
}

/// The plugin engine. Cheap to clone; one per process is enough.
///
/// It owns the wasmtime engine (compiled code is shared by every instance)
/// and a background thread that advances the epoch used for call deadlines.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("pooling", &self.inner.pooling)
            .field("cache", &self.inner.cache)
            .finish()
    }
}

fn base_config(deadlines: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(deadlines);
    config.cranelift_opt_level(OptLevel::Speed);
    config
}

impl Engine {
    /// An engine with default settings.
    pub fn new() -> Result<Self, PluginError> {
        Self::with_config(&EngineConfig::default())
    }

    /// An engine with the given settings.
    pub fn with_config(settings: &EngineConfig) -> Result<Self, PluginError> {
        let mut pooling = false;
        let mut engine = None;
        if settings.pooling {
            let mut pool = PoolingAllocationConfig::new();
            let n = settings.max_instances.max(1);
            pool.total_component_instances(n)
                .total_core_instances(n.saturating_mul(4))
                .total_memories(n.saturating_mul(2))
                .total_tables(n.saturating_mul(4))
                .max_memory_size(
                    usize::try_from(settings.max_memory_mb << 20).unwrap_or(usize::MAX),
                )
                .max_memories_per_component(16)
                .max_tables_per_component(16)
                .max_core_instances_per_component(64);
            let mut config = base_config(settings.deadlines);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
            match wasmtime::Engine::new(&config) {
                Ok(e) => {
                    pooling = true;
                    engine = Some(e);
                }
                Err(e) => tracing::warn!(
                    "pooling allocator unavailable ({e}); using on-demand instance allocation"
                ),
            }
        }
        let engine = match engine {
            Some(e) => e,
            None => wasmtime::Engine::new(&base_config(settings.deadlines))
                .map_err(|e| PluginError::Engine(e.to_string()))?,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let thread = if !settings.deadlines {
            None
        } else {
            let stop = stop.clone();
            let weak = engine.weak();
            std::thread::Builder::new()
                .name("weir-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        match weak.upgrade() {
                            Some(e) => e.increment_epoch(),
                            None => break,
                        }
                    }
                })
                .map_err(|e| PluginError::Engine(format!("cannot start the epoch thread: {e}")))
                .map(Some)?
        };
        let cache = settings
            .cache
            .clone()
            .map(|c| CompiledCache::new(c, &engine));
        Ok(Engine {
            inner: Arc::new(EngineInner {
                engine,
                pooling,
                deadlines: settings.deadlines,
                cache,
                _ticker: Ticker { stop, thread },
            }),
        })
    }

    /// Whether call deadlines are enforced.
    pub fn has_deadlines(&self) -> bool {
        self.inner.deadlines
    }

    /// Whether instances come from the pooling allocator.
    pub fn is_pooling(&self) -> bool {
        self.inner.pooling
    }
}
