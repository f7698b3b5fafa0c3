//! The plugin engine every command starts: with the compiled-code cache in
//! its usual place, so a plugin compiled by one command starts at once in
//! the next.

use anyhow::Context as _;
use weir::plugin::{CacheConfig, Engine, EngineConfig};

/// An engine with `settings` and the cache of [`CacheConfig::default_dir`]
/// (`WEIR_CACHE_DIR=off` turns it off).
pub(crate) fn engine(settings: EngineConfig) -> anyhow::Result<Engine> {
    let settings = match CacheConfig::default_dir() {
        Some(dir) => settings.with_cache(CacheConfig::new(dir)),
        None => settings,
    };
    Engine::with_config(&settings).context("starting the plugin engine")
}
