//! The compiled-code cache: plugins compiled once are kept on disk, keyed
//! by the component's content and the engine's settings, so the next start
//! maps the machine code instead of compiling it again.
//!
//! Entries are written to a temporary file and renamed into place, so a
//! reader never sees half an entry and processes may share the directory.
//! The directory is kept under [`CacheConfig::max_mb`]: after each write,
//! the least recently used entries are removed. Nothing about the cache can
//! fail a load: an entry that cannot be read, written or used is logged and
//! the component is compiled as without a cache.

use std::hash::{Hash as _, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use sha2::{Digest as _, Sha256};
use wasmtime::component::Component;

/// Settings of the compiled-code cache.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// The directory entries are kept in (created when needed).
    pub dir: PathBuf,
    /// Upper bound of the directory's size in MiB; the least recently used
    /// entries go first when it is passed.
    pub max_mb: u64,
}

impl CacheConfig {
    /// A cache in `dir` of at most 2 GiB.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CacheConfig {
            dir: dir.into(),
            max_mb: 2048,
        }
    }

    /// This cache with at most `max_mb` MiB on disk.
    #[must_use]
    pub fn with_max_mb(mut self, max_mb: u64) -> Self {
        self.max_mb = max_mb;
        self
    }

    /// The usual place for the cache: `$WEIR_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/weir/compiled`, else `$HOME/.cache/weir/compiled`.
    /// `None` when `WEIR_CACHE_DIR` is `off` or no directory is known.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = var("WEIR_CACHE_DIR") {
            return (dir != "off").then(|| PathBuf::from(dir));
        }
        var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|base| base.join("weir").join("compiled"))
    }
}

/// Feeds `Hash` output into SHA-256, for a key that is the same in every
/// process and Rust version.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache of one engine.
#[derive(Debug)]
pub(crate) struct CompiledCache {
    config: CacheConfig,
    /// What the engine's settings add to every key.
    engine_key: String,
}

/// Where a component's compiled code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compiled {
    /// Compiled now (no cache, or not in it).
    Fresh,
    /// Mapped from the cache.
    Cached,
}

impl CompiledCache {
    pub(crate) fn new(config: CacheConfig, engine: &wasmtime::Engine) -> Self {
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        let engine_key = hex(&h.0.finalize()[..8]);
        CompiledCache { config, engine_key }
    }

    fn path(&self, digest: &[u8]) -> PathBuf {
        self.config
            .dir
            .join(format!("{}-{}.cwasm", hex(digest), self.engine_key))
    }

    /// The component of `bytes` (whose SHA-256 is `digest`), from the cache
    /// when it holds it, else compiled and stored.
    pub(crate) fn load(
        &self,
        engine: &wasmtime::Engine,
        name: &str,
        bytes: &[u8],
        digest: &[u8],
    ) -> wasmtime::Result<(Component, Compiled)> {
        let path = self.path(digest);
        if path.is_file() {
            match read(engine, &path) {
                Ok(component) => {
                    touch(&path);
                    return Ok((component, Compiled::Cached));
                }
                Err(e) => {
                    tracing::warn!(plugin = name, entry = %path.display(), "compiled-code cache entry unusable, compiling again: {e:#}")
                }
            }
        }
        let component = Component::new(engine, bytes)?;
        match component.serialize() {
            Ok(code) => match self.store(&path, &code) {
                Ok(()) => self.trim(),
                Err(e) => {
                    tracing::warn!(plugin = name, dir = %self.config.dir.display(), "cannot write to the compiled-code cache: {e}")
                }
            },
            Err(e) => tracing::warn!(
                plugin = name,
                "cannot serialize the compiled code for the cache: {e:#}"
            ),
        }
        Ok((component, Compiled::Fresh))
    }

    fn store(&self, path: &Path, code: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.config.dir)?;
        // Unique per process and per write, so concurrent writers of one
        // entry never share a temporary file.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let tmp = self.config.dir.join(format!(
            ".{}.{}.{}.tmp",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed),
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        std::fs::write(&tmp, code)?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }

    /// Removes the least recently used entries until the directory is
    /// within its bound.
    fn trim(&self) {
        let Ok(dir) = std::fs::read_dir(&self.config.dir) else {
            return;
        };
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = dir
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), e.path()))
            })
            .collect();
        let limit = self.config.max_mb.saturating_mul(1 << 20);
        let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
        entries.sort();
        for (_, len, path) in entries {
            if total <= limit {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
            }
        }
    }
}

/// Maps a cache entry.
#[allow(unsafe_code)]
fn read(engine: &wasmtime::Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: entries are written only by `CompiledCache::store`, with the
    // output of `precompile_component`, under a name that holds the
    // component's SHA-256 and the engine's compatibility hash, and renamed
    // into place whole; wasmtime checks on load that the entry was made by
    // this wasmtime version with compatible settings. The directory is the
    // user's own: whoever can write to it can already run code as them.
    unsafe { Component::deserialize_file(engine, path) }
}

/// Marks an entry as used now, so trimming keeps it.
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}
