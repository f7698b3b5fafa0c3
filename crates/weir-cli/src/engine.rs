//! The plugin engine every command starts: with the compiled-code cache in
//! its usual place, so a plugin compiled by one command starts at once in
//! the next.

use anyhow::Context as _;
use weir::plugin::{Engine, EngineConfig};

/// An engine with `settings` and the cache in its usual place
/// (`WEIR_CACHE_DIR=off` turns it off).
pub(crate) fn engine(settings: EngineConfig) -> anyhow::Result<Engine> {
    Engine::with_config(&settings.with_default_cache()).context("starting the plugin engine")
}
