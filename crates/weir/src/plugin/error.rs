//! Errors of the plugin engine.

use std::fmt;

/// Why a plugin call trapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    /// The call ran past its deadline (`limits.deadline_ms`).
    Deadline,
    /// The plugin tried to grow its memory past `limits.memory_mb`.
    Memory,
    /// The plugin panicked or hit an `unreachable` instruction.
    Panic,
    /// The plugin overflowed its stack.
    StackOverflow,
    /// The plugin called a WASI function it was not granted.
    NotGranted,
    /// Any other trap.
    Other,
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrapKind::Deadline => "deadline exceeded",
            TrapKind::Memory => "memory limit exceeded",
            TrapKind::Panic => "plugin panicked",
            TrapKind::StackOverflow => "stack overflow",
            TrapKind::NotGranted => "called a WASI function that was not granted",
            TrapKind::Other => "trap",
        })
    }
}

/// A limit of [`Limits`](super::Limits) a plugin went past: which limit,
/// its value, and the config key that raises it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{what}, past the limit `{field}` = {value}{unit} (raise `limits.{field}` in the stage's config)"
)]
pub struct QuotaExceeded {
    /// The field of [`Limits`](super::Limits), which is also the key in
    /// the stage's `limits` table, e.g. `state_mb`.
    pub field: &'static str,
    /// The limit's value, in the field's unit.
    pub value: u64,
    /// The unit as written after the value (` MiB`, ` KiB`, or empty).
    pub unit: &'static str,
    /// What the plugin did, e.g. "a state write of 1048600 bytes would
    /// make the state 67109000 bytes".
    pub what: String,
}

impl QuotaExceeded {
    /// The limit `field` of `value` (in `unit`), passed by `what`.
    pub fn new(field: &'static str, value: u64, unit: &'static str, what: String) -> Self {
        QuotaExceeded {
            field,
            value,
            unit,
            what,
        }
    }
}

/// An error loading, instantiating or calling a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The plugin file could not be read.
    #[error("cannot read plugin `{path}`: {source}")]
    Read {
        /// The path that was read.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is a core WebAssembly module, not a component.
    #[error(
        "plugin `{name}` is a core WebAssembly module, not a component; \
         build it as a component (e.g. `cargo build --target wasm32-wasip2`)"
    )]
    NotAComponent {
        /// The plugin name.
        name: String,
    },
    /// The bytes are not valid WebAssembly, or failed to compile.
    #[error("plugin `{name}` is not a valid WebAssembly component: {message}")]
    Compile {
        /// The plugin name.
        name: String,
        /// What the compiler said.
        message: String,
    },
    /// The component exports none of the plugin interfaces.
    #[error(
        "plugin `{name}` implements no weir plugin world: expected an export of \
         one of {expected}; it exports: {found}"
    )]
    NoWorld {
        /// The plugin name.
        name: String,
        /// The interfaces weir accepts.
        expected: String,
        /// What the component exports.
        found: String,
    },
    /// The component targets another version of the `weir:plugin` package.
    #[error(
        "plugin `{name}` was built for `{found}`, but this host provides `{expected}`; \
         rebuild the plugin against weir:plugin@{host_version}",
        host_version = super::WIT_VERSION
    )]
    VersionMismatch {
        /// The plugin name.
        name: String,
        /// The export the host looked for.
        expected: String,
        /// The export the component has.
        found: String,
    },
    /// The component is another kind of plugin than the stage asked for.
    #[error(
        "plugin `{name}` is {} plugin (world `weir:plugin/{found}`), but it was loaded as {}",
        .found.with_article(),
        .expected.with_article()
    )]
    WrongKind {
        /// The plugin name.
        name: String,
        /// The kind the caller asked for.
        expected: super::PluginKind,
        /// The kind the component implements.
        found: super::PluginKind,
    },
    /// The plugin's kind has no such call: `process` on an aggregator, or
    /// `accumulate` / `emit` on a plugin of another kind.
    #[error("plugin `{name}` is {} plugin, which has no `{call}` call: {hint}", .kind.with_article())]
    UnsupportedCall {
        /// The plugin name.
        name: String,
        /// The kind the component implements.
        kind: super::PluginKind,
        /// The call that was attempted, e.g. `process`.
        call: String,
        /// Which calls the kind does have.
        hint: String,
    },
    /// The component imports something the host does not provide.
    #[error("plugin `{name}` imports `{import}`, which weir does not provide{hint}")]
    UnknownImport {
        /// The plugin name.
        name: String,
        /// The import.
        import: String,
        /// A hint on how to provide it, or empty.
        hint: String,
    },
    /// Instantiation failed (limits, missing imports, start-up trap).
    #[error("plugin `{name}` could not be instantiated: {message}")]
    Instantiate {
        /// The plugin name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// The plugin's `init` returned an error. A trap in `init` (a
    /// deadline, a panic) is a [`PluginError::Trap`] whose message says
    /// it happened in `init`.
    #[error("plugin `{name}` rejected its settings in init: {message}")]
    Init {
        /// The plugin name.
        name: String,
        /// The plugin's own message.
        message: String,
    },
    /// A call trapped; the instance was discarded and will be recreated.
    #[error("plugin `{name}` trapped ({kind}): {message}")]
    Trap {
        /// The plugin name.
        name: String,
        /// The classified cause.
        kind: TrapKind,
        /// The trap message.
        message: String,
    },
    /// The call went past one of the stage's limits; the instance is
    /// discarded (its state writes of the call are rolled back) and the
    /// error policy handles the batch as for any failed call.
    #[error("plugin `{name}` went past a limit: {quota}")]
    Quota {
        /// The plugin name.
        name: String,
        /// Which limit, and by how much.
        quota: QuotaExceeded,
    },
    /// The plugin broke the contract (e.g. returned an index out of range).
    #[error("plugin `{name}` returned an invalid result: {message}")]
    Contract {
        /// The plugin name.
        name: String,
        /// What was wrong.
        message: String,
    },
    /// The engine could not be created.
    #[error("cannot create the plugin engine: {0}")]
    Engine(String),
}

impl PluginError {
    /// Whether this error came from a trap during a call.
    pub fn trap_kind(&self) -> Option<TrapKind> {
        match self {
            PluginError::Trap { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}
