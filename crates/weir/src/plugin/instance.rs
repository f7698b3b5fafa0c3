//! Loaded plugins and their instances.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker, types::ComponentItem};
use wasmtime::{Store, Trap};

use super::bindings::PluginHost;
use super::budget::cut;
use super::cache::Compiled;
use super::host::HostState;
use super::marshal::BatchBuffers;
use super::options::{Grants, InstanceOptions};
use super::outcome::Outcome;
use super::stdio::off_async;
use super::worlds::{self, Exports, Guest, Refused};
use super::{Engine, PluginError, PluginKind, QuotaExceeded, TrapKind, engine::TICK, kind::detect};
use crate::record::Batch;
use crate::state::{StateHandle, StateStore};

/// What `weir plugin inspect` shows about a plugin.
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct PluginInfo {
    /// The plugin's name (its file stem unless given).
    pub name: String,
    /// The world it implements.
    pub kind: PluginKind,
    /// The `weir:plugin` package version it was built against.
    pub version: String,
    /// First 12 hex digits of the SHA-256 of the component bytes.
    pub digest: String,
    /// Every import of the component, by name.
    pub imports: Vec<String>,
    /// Every export of the component, by name.
    pub exports: Vec<String>,
    /// Whether the host passes it batches packed into one buffer: it
    /// exports `packed-<kind>-plugin` (filters, enrichers and scorers built
    /// with the Rust SDK do), else it gets the columnar batch.
    pub packed: bool,
    /// Size of the component in bytes.
    pub size: usize,
    /// Whether its compiled code came from the compiled-code cache
    /// ([`EngineConfig::cache`](super::EngineConfig::cache)) rather than
    /// being compiled by this load.
    pub from_cache: bool,
}

struct PluginInner {
    info: PluginInfo,
    engine: Engine,
    grants: Grants,
    pre: InstancePre<HostState>,
    exports: Box<dyn Exports>,
}

/// A compiled, validated plugin, ready to instantiate. Cheap to clone.
///
/// Loading compiles the component once; every instance made from it shares
/// the compiled code and starts in microseconds.
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<PluginInner>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("info", &self.inner.info)
            .finish()
    }
}

/// The digest [`PluginInfo::digest`] shows for component bytes: the first
/// six bytes of their SHA-256, in hex.
pub fn digest_of(bytes: &[u8]) -> String {
    digest_hex(&Sha256::digest(bytes))
}

fn digest_hex(sha: &[u8]) -> String {
    sha.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

const CORE_MODULE_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

impl Engine {
    /// Loads a plugin from a `.wasm` component file.
    pub fn load_file(&self, path: &Path, grants: Grants) -> Result<Plugin, PluginError> {
        let bytes = std::fs::read(path).map_err(|source| PluginError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        self.load(&name, &bytes, grants)
    }

    /// Loads a plugin from component bytes, naming it `name` in errors and logs.
    pub fn load(&self, name: &str, bytes: &[u8], grants: Grants) -> Result<Plugin, PluginError> {
        if bytes.starts_with(&CORE_MODULE_HEADER) {
            return Err(PluginError::NotAComponent {
                name: name.to_string(),
            });
        }
        let engine = &self.inner.engine;
        let sha = Sha256::digest(bytes);
        let compiled = match &self.inner.cache {
            Some(cache) => cache.load(engine, name, bytes, &sha),
            None => Component::new(engine, bytes).map(|c| (c, Compiled::Fresh)),
        };
        let (component, compiled) = compiled.map_err(|e| PluginError::Compile {
            name: name.to_string(),
            message: format!("{e:#}"),
        })?;
        let ty = component.component_type();
        let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
        let imports: Vec<(String, bool)> = ty
            .imports(engine)
            .map(|(n, e)| {
                (
                    n.to_string(),
                    matches!(e.ty, ComponentItem::ComponentInstance(_)),
                )
            })
            .collect();
        let kind = detect(name, exports.iter().map(String::as_str))?;

        let mut linker: Linker<HostState> = Linker::new(engine);
        PluginHost::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(|e| {
            PluginError::Instantiate {
                name: name.to_string(),
                message: format!("{e:#}"),
            }
        })?;
        let host_prefix = format!("{}/", super::WIT_PACKAGE);
        for (import, _) in &imports {
            let known = import.starts_with(&host_prefix) || import.starts_with("wasi:");
            if !known {
                return Err(PluginError::UnknownImport {
                    name: name.to_string(),
                    import: import.clone(),
                    hint: String::new(),
                });
            }
            if import.starts_with(&host_prefix)
                && !import.ends_with(&format!("@{}", super::WIT_VERSION))
            {
                return Err(PluginError::VersionMismatch {
                    name: name.to_string(),
                    expected: format!("{host_prefix}…@{}", super::WIT_VERSION),
                    found: import.clone(),
                });
            }
        }
        if grants.wasi {
            wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| {
                PluginError::Instantiate {
                    name: name.to_string(),
                    message: format!("cannot link WASI: {e:#}"),
                }
            })?;
        } else {
            // WASI imports that were not granted trap when called. (Only
            // without the grant: the stubs are defined under the exact
            // imported names and would shadow the semver-compatible WASI
            // definitions, e.g. a plugin's `wall-clock@0.2.6` import.)
            linker
                .define_unknown_imports_as_traps(&component)
                .map_err(|e| PluginError::Instantiate {
                    name: name.to_string(),
                    message: format!("{e:#}"),
                })?;
        }
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Instantiate {
                name: name.to_string(),
                message: format!("{e:#}"),
            })?;
        let load_err = |e: wasmtime::Error| PluginError::Instantiate {
            name: name.to_string(),
            message: format!("{e:#}"),
        };
        let exports_idx = worlds::exports(kind, &pre).map_err(load_err)?;
        let digest = digest_hex(&sha);
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                info: PluginInfo {
                    name: name.to_string(),
                    kind,
                    version: super::WIT_VERSION.to_string(),
                    digest,
                    imports: imports.into_iter().map(|(n, _)| n).collect(),
                    packed: exports.contains(&kind.packed_export_name()),
                    exports,
                    size: bytes.len(),
                    from_cache: compiled == Compiled::Cached,
                },
                engine: self.clone(),
                grants,
                pre,
                exports: exports_idx,
            }),
        })
    }
}

impl Plugin {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.inner.info.name
    }

    /// The world the plugin implements.
    pub fn kind(&self) -> PluginKind {
        self.inner.info.kind
    }

    /// Name, kind, version, imports and exports.
    pub fn info(&self) -> &PluginInfo {
        &self.inner.info
    }

    /// The engine the plugin was loaded on (a new version of it loads on
    /// the same one).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// What the plugin was granted when loaded.
    pub fn grants(&self) -> Grants {
        self.inner.grants
    }

    /// Whether the engine this plugin was loaded on enforces call deadlines.
    pub fn engine_has_deadlines(&self) -> bool {
        self.inner.engine.has_deadlines()
    }

    /// Fails with a message naming both kinds unless the plugin is a `kind`.
    pub fn expect_kind(&self, kind: PluginKind) -> Result<(), PluginError> {
        if self.kind() == kind {
            Ok(())
        } else {
            Err(PluginError::WrongKind {
                name: self.name().to_string(),
                expected: kind,
                found: self.kind(),
            })
        }
    }

    /// Creates an instance and runs its `init` with `options.settings`.
    pub fn instantiate(&self, options: InstanceOptions) -> Result<PluginInstance, PluginError> {
        // Without a handle the state is the instance's own, in memory: made
        // once, so that it outlives a trap's re-instantiation.
        let own_state = options.state.is_none();
        let state = options
            .state
            .clone()
            .unwrap_or_else(|| StateStore::in_memory().namespace(self.name()));
        let mut instance = PluginInstance {
            plugin: self.clone(),
            settings: Arc::new(options.settings.clone()),
            options,
            state,
            live: None,
            buffers: BatchBuffers::default(),
            write_tag: crate::state::UNTAGGED,
            own_state,
        };
        instance.ensure_live()?;
        Ok(instance)
    }
}

pub(crate) struct Live {
    pub(crate) store: Store<HostState>,
    pub(crate) guest: Box<dyn Guest>,
}

/// A running plugin instance with its own memory and state view.
///
/// After a trap the instance is discarded and transparently recreated (and
/// re-`init`ed) on the next call.
pub struct PluginInstance {
    plugin: Plugin,
    options: InstanceOptions,
    /// The state the plugin reads and writes: the handle of the options,
    /// else the instance's own.
    state: StateHandle,
    settings: Arc<BTreeMap<String, String>>,
    pub(super) live: Option<Live>,
    buffers: BatchBuffers,
    /// The tag of the state writes of the next calls.
    write_tag: u64,
    /// Whether the state is the instance's own (no handle was given): then
    /// each call's writes are committed when it succeeds and discarded when
    /// it fails, as nobody else commits them.
    own_state: bool,
}

impl std::fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginInstance")
            .field("plugin", &self.plugin.name())
            .field("live", &self.live.is_some())
            .finish()
    }
}

/// A failed call: the error and the batch, handed back untouched.
#[derive(Debug)]
pub struct CallFailure {
    /// Why the call failed.
    pub error: PluginError,
    /// The batch that was being processed.
    pub batch: Batch,
}

fn guarded<R: Send>(wasi: bool, f: impl FnOnce() -> R + Send) -> R {
    if wasi { off_async(f) } else { f() }
}

fn classify(err: &wasmtime::Error) -> TrapKind {
    let text = format!("{err:#}");
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => TrapKind::Deadline,
        Some(Trap::UnreachableCodeReached) => TrapKind::Panic,
        Some(Trap::StackOverflow) => TrapKind::StackOverflow,
        _ if text.contains("growing memory") || text.contains("memory growth failure") => {
            TrapKind::Memory
        }
        _ if text.contains("has not been defined") => TrapKind::NotGranted,
        _ => TrapKind::Other,
    }
}

impl PluginInstance {
    /// The plugin this is an instance of.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// The most linear memory, in bytes, this instance has held: what it
    /// costs the host in memory. An instance replaced after a trap starts
    /// counting again.
    pub fn memory_peak_bytes(&self) -> usize {
        self.live
            .as_ref()
            .map_or(0, |live| live.store.data().limits.peak())
    }

    pub(crate) fn trap(&mut self, err: &wasmtime::Error) -> PluginError {
        if let Some(quota) = err.downcast_ref::<QuotaExceeded>() {
            // A trapped instance cannot be entered again.
            self.live = None;
            return PluginError::Quota {
                name: self.plugin.name().to_string(),
                quota: quota.clone(),
            };
        }
        let kind = classify(err);
        let message = match kind {
            TrapKind::Deadline => format!(
                "the call ran longer than its {} ms deadline",
                self.options.limits.deadline_ms
            ),
            TrapKind::Memory => format!(
                "the plugin tried to use more than its {} MiB memory limit",
                self.options.limits.memory_mb
            ),
            // The trap itself, without the wasm backtrace context.
            _ => match err.downcast_ref::<Trap>() {
                Some(trap) => trap.to_string(),
                None => {
                    let cause = err.root_cause().to_string();
                    if cause.contains("out of bounds of memory") || cause.contains("too large") {
                        // Reading the plugin's answer out of its memory failed.
                        format!(
                            "its answer could not be copied out of its memory ({cause}): an answer \
                             must lie within the instance's memory, at most `limits.memory_mb` = {} MiB",
                            self.options.limits.memory_mb
                        )
                    } else {
                        cause
                    }
                }
            },
        };
        let mut message = cut(message, self.options.limits.message_bytes());
        if let Some(live) = &mut self.live
            && let Some(last) = live.store.data_mut().last_error_log.take()
        {
            message.push_str(&format!("; last error logged by the plugin: {last}"));
        }
        // A trapped instance cannot be entered again.
        self.live = None;
        PluginError::Trap {
            name: self.plugin.name().to_string(),
            kind,
            message,
        }
    }

    fn new_store(&self) -> Store<HostState> {
        let engine = &self.plugin.inner.engine.inner.engine;
        let mut store = Store::new(
            engine,
            HostState::new(
                Arc::from(self.plugin.name()),
                self.settings.clone(),
                self.state.clone(),
                self.options.metrics.clone(),
                self.options.limits,
            ),
        );
        store.limiter(|s| &mut s.limits);
        if self.plugin.inner.engine.has_deadlines() {
            store.set_epoch_deadline(self.deadline_ticks());
        }
        store
    }

    fn deadline_ticks(&self) -> u64 {
        (self.options.limits.deadline_ms / TICK.as_millis().max(1) as u64).max(1)
    }

    pub(crate) fn ensure_live(&mut self) -> Result<&mut Live, PluginError> {
        if self.live.is_none() {
            let name = self.plugin.name().to_string();
            let mut store = self.new_store();
            let inst_err = |e: wasmtime::Error| PluginError::Instantiate {
                name: name.clone(),
                message: match classify(&e) {
                    // The usual cause, said plainly, without the backtrace.
                    TrapKind::NotGranted => format!(
                        "it calls WASI while starting, and its stage has no WASI grant \
                         (add `grants = {{ wasi = true }}` to the stage): {}",
                        e.root_cause()
                    ),
                    _ => format!("{e:#}"),
                },
            };
            let settings: Vec<(String, String)> = self
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let (pre, exports) = (&self.plugin.inner.pre, &self.plugin.inner.exports);
            let (guest, result) = self.guarded(|| {
                let instance = pre.instantiate(&mut store).map_err(inst_err)?;
                let guest = exports.load(&mut store, &instance).map_err(inst_err)?;
                let result = guest.init(&mut store, &settings);
                store.data().end_call();
                Ok::<_, PluginError>((guest, result))
            })?;
            self.live = Some(Live { store, guest });
            match result {
                Ok(Ok(())) => {}
                Ok(Err(message)) => {
                    self.live = None;
                    let message = cut(message, self.options.limits.message_bytes());
                    return Err(PluginError::Init { name, message });
                }
                Err(e) => {
                    return Err(match self.trap(&e) {
                        PluginError::Trap {
                            name,
                            kind,
                            message,
                        } => PluginError::Trap {
                            name,
                            kind,
                            message: format!("in `init`: {message}"),
                        },
                        other => other,
                    });
                }
            }
        }
        let ticks = self.deadline_ticks();
        let deadlines = self.plugin.inner.engine.has_deadlines();
        let tag = self.write_tag;
        match self.live.as_mut() {
            Some(live) => {
                if deadlines {
                    live.store.set_epoch_deadline(ticks);
                }
                live.store.data_mut().begin_call(tag);
                Ok(live)
            }
            None => Err(PluginError::Instantiate {
                name: self.plugin.name().to_string(),
                message: "instance unavailable".to_string(),
            }),
        }
    }

    /// The live instance and the batch buffers, borrowed together.
    pub(crate) fn live_and_buffers(
        &mut self,
    ) -> Result<(&mut Live, &mut BatchBuffers), PluginError> {
        self.ensure_live()?;
        match self.live.as_mut() {
            Some(live) => Ok((live, &mut self.buffers)),
            None => Err(PluginError::Instantiate {
                name: self.plugin.name().to_string(),
                message: "instance unavailable".to_string(),
            }),
        }
    }

    /// Calls into the guest: `call` gets the store, the guest's exports and
    /// the reusable batch buffers.
    ///
    /// A trap is classified and discards the instance (the next call
    /// recreates it from the pre-instantiated component and re-inits it);
    /// the classified error is returned.
    pub(crate) fn call_guest<T: Send>(
        &mut self,
        call: impl FnOnce(&mut Store<HostState>, &dyn Guest, &mut BatchBuffers) -> wasmtime::Result<T>
        + Send,
    ) -> Result<T, PluginError> {
        let wasi = self.plugin.inner.grants.wasi;
        let (live, buffers) = self.live_and_buffers()?;
        let result = guarded(wasi, || {
            let result = call(&mut live.store, live.guest.as_ref(), buffers);
            live.store.data().end_call();
            result
        });
        result.map_err(|e| self.trap(&e))
    }

    /// Commits (`ok`) or discards the last call's writes when the state is
    /// the instance's own; nothing otherwise (the owner of the handle
    /// commits). Each public call (`decide`, `accumulate`, `emit`) settles
    /// once, after its answer was checked, whether the guest trapped or not.
    pub(crate) fn settle_own_state(&self, ok: bool) {
        if self.own_state {
            self.state.settle_call(self.write_tag, ok);
        }
    }

    /// Runs a call into the guest where WASI can serve it (see
    /// [`off_async`]); plugins without WASI run in place.
    fn guarded<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        guarded(self.plugin.inner.grants.wasi, f)
    }

    /// Tags the state writes of the next calls with `tag`.
    pub(crate) fn set_write_tag(&mut self, tag: u64) {
        self.write_tag = tag;
    }

    /// The error for an answer that was refused.
    pub(crate) fn refused(&self, refused: Refused) -> PluginError {
        match refused {
            Refused::Contract(message) => self.contract(message),
            Refused::Quota(quota) => PluginError::Quota {
                name: self.plugin_name().to_string(),
                quota,
            },
        }
    }

    /// A [`PluginError::Contract`] naming this plugin.
    pub(crate) fn contract(&self, message: String) -> PluginError {
        PluginError::Contract {
            name: self.plugin_name().to_string(),
            message: cut(message, self.options.limits.message_bytes()),
        }
    }

    /// Runs one batch through the plugin: [`decide`](Self::decide), then
    /// [`Verdict::apply`](super::Verdict::apply).
    ///
    /// Per-record errors fail only their records ([`Outcome::failed`]); a
    /// trap fails the call and hands the batch back in [`CallFailure`].
    /// Aggregators have no `process` call: they fail with
    /// [`PluginError::UnsupportedCall`] (use
    /// [`accumulate`](Self::accumulate) and [`emit`](Self::emit)).
    pub fn process(&mut self, batch: Batch) -> Result<Outcome, Box<CallFailure>> {
        match self.decide(&batch) {
            Ok(verdict) => Ok(verdict.apply(batch)),
            Err(error) => Err(Box::new(CallFailure { error, batch })),
        }
    }

    pub(crate) fn plugin_name(&self) -> &str {
        self.plugin.name()
    }

    /// The limits this instance runs under.
    pub(crate) fn limits(&self) -> &super::options::Limits {
        &self.options.limits
    }
}
