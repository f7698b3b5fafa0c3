//! The connector extension point: a type a pipeline config names
//! (`[source] type = "..."`, `[sinks.NAME] type = "..."`), with typed
//! options, registered in a [`Registry`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::options::ConnectorOptions;
use crate::metrics::Metrics;
use crate::sink::Sink;
use crate::source::Source;

/// What a connector may look at besides its own options when it opens.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ConnectorContext<'a> {
    /// The pipeline's name.
    pub pipeline: &'a str,
    /// The directory relative paths in options are resolved against (the
    /// config file's directory); see [`ConnectorContext::resolve`].
    pub base_dir: &'a Path,
    /// The pipeline's data directory (checkpoints, state, default dead
    /// letters).
    pub data_dir: &'a Path,
    /// Where the connector reports its metrics (e.g. consumer lag).
    pub metrics: &'a Metrics,
    /// Whether the pipeline resumes after checkpoints of an earlier run.
    /// A sink may start its output over (truncate a file, say) only when
    /// this is `false`: on a resume, what earlier runs wrote was
    /// acknowledged and must stay.
    pub resuming: bool,
}

impl<'a> ConnectorContext<'a> {
    /// A context for pipeline `pipeline` whose relative paths resolve
    /// against `base_dir`, with data in `data_dir`, not resuming.
    pub fn new(
        pipeline: &'a str,
        base_dir: &'a Path,
        data_dir: &'a Path,
        metrics: &'a Metrics,
    ) -> Self {
        ConnectorContext {
            pipeline,
            base_dir,
            data_dir,
            metrics,
            resuming: false,
        }
    }

    /// The same context, resuming (or not).
    #[must_use]
    pub fn resuming(self, resuming: bool) -> Self {
        ConnectorContext { resuming, ..self }
    }

    /// `path` resolved against [`base_dir`](Self::base_dir) unless absolute.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

/// A source type: parses its options once, checks them, opens sources.
///
/// ```
/// use std::sync::Arc;
/// use weir::connectors::{ConnectorContext, Registry, SourceConnector};
/// use weir::{Batch, BatchLimits, Position, Record, Source, SourceError};
///
/// /// `type = "counter"`: the numbers 0..count as records.
/// struct Counter;
///
/// #[derive(serde::Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct CounterOptions {
///     count: u64,
/// }
///
/// impl SourceConnector for Counter {
///     type Options = CounterOptions;
///     fn check(&self, o: &CounterOptions) -> Result<(), String> {
///         if o.count == 0 { Err("`count` must be positive".into()) } else { Ok(()) }
///     }
///     fn build(&self, o: CounterOptions, _: &ConnectorContext<'_>) -> Result<Box<dyn Source>, String> {
///         Ok(Box::new(CounterSource { next: 0, count: o.count }))
///     }
/// }
///
/// struct CounterSource { next: u64, count: u64 }
///
/// #[async_trait::async_trait]
/// impl Source for CounterSource {
///     async fn next_batch(&mut self, limits: &BatchLimits) -> Result<Option<Batch>, SourceError> {
///         if self.next == self.count { return Ok(None); }
///         let end = self.count.min(self.next + limits.max_records as u64);
///         let records = (self.next..end)
///             .map(|i| Record::new(i.to_string(), Position::Offset(i), 0))
///             .collect();
///         self.next = end;
///         Ok(Some(Batch::new("counter", "0", records)))
///     }
///     fn describe(&self) -> String { "counter".into() }
/// }
///
/// let mut registry = Registry::builtin();
/// registry.register_source("counter", Counter);
/// ```
pub trait SourceConnector: Send + Sync + 'static {
    /// The options of the `[source]` table (everything but `type`).
    type Options: DeserializeOwned;

    /// Checks the options without opening anything (`weir validate`).
    fn check(&self, options: &Self::Options) -> Result<(), String> {
        let _ = options;
        Ok(())
    }

    /// Opens the source. The options were checked just before.
    fn build(
        &self,
        options: Self::Options,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Box<dyn Source>, String>;
}

/// A sink type: parses its options once, checks them, opens sinks.
pub trait SinkConnector: Send + Sync + 'static {
    /// The options of a `[sinks.NAME]` table (everything but `type`).
    type Options: DeserializeOwned;

    /// Checks the options without opening anything (`weir validate`).
    fn check(&self, options: &Self::Options) -> Result<(), String> {
        let _ = options;
        Ok(())
    }

    /// Opens the sink called `name` in the pipeline. The options were
    /// checked just before.
    fn build(
        &self,
        name: &str,
        options: Self::Options,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, String>;
}

/// A source connector with its options type erased.
trait AnySource: Send + Sync {
    /// Parses and checks `options`; opens the source when `ctx` is given.
    fn open(
        &self,
        options: &ConnectorOptions,
        ctx: Option<&ConnectorContext<'_>>,
    ) -> Result<Option<Box<dyn Source>>, String>;
}

impl<C: SourceConnector> AnySource for C {
    fn open(
        &self,
        options: &ConnectorOptions,
        ctx: Option<&ConnectorContext<'_>>,
    ) -> Result<Option<Box<dyn Source>>, String> {
        let options: C::Options = options.parse()?;
        self.check(&options)?;
        ctx.map(|ctx| self.build(options, ctx)).transpose()
    }
}

/// A sink connector with its options type erased.
trait AnySink: Send + Sync {
    fn open(
        &self,
        name: &str,
        options: &ConnectorOptions,
        ctx: Option<&ConnectorContext<'_>>,
    ) -> Result<Option<Arc<dyn Sink>>, String>;
}

impl<C: SinkConnector> AnySink for C {
    fn open(
        &self,
        name: &str,
        options: &ConnectorOptions,
        ctx: Option<&ConnectorContext<'_>>,
    ) -> Result<Option<Arc<dyn Sink>>, String> {
        let options: C::Options = options.parse()?;
        self.check(&options)?;
        ctx.map(|ctx| self.build(name, options, ctx)).transpose()
    }
}

/// An error of a connector: its type is unknown, or it refused its options
/// or could not open.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectorError {
    /// No connector of that type is registered.
    #[error("unknown {role} type `{kind}` (known: {known})")]
    Unknown {
        /// `source` or `sink`.
        role: &'static str,
        /// The type asked for.
        kind: String,
        /// The registered types, comma-separated.
        known: String,
    },
    /// The connector refused its options or could not open.
    #[error("{message}")]
    Failed {
        /// The connector's message.
        message: String,
        /// The option the message is about, when it names one.
        option: Option<String>,
    },
}

impl ConnectorError {
    fn failed(message: String) -> Self {
        // serde names the offending key of an unknown field.
        let option = message
            .split_once("unknown field `")
            .and_then(|(_, rest)| rest.split('`').next())
            .map(str::to_string);
        ConnectorError::Failed { message, option }
    }
}

/// The connector types a pipeline may name, listed explicitly.
#[derive(Clone, Default)]
pub struct Registry {
    sources: BTreeMap<String, Arc<dyn AnySource>>,
    sinks: BTreeMap<String, Arc<dyn AnySink>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("sources", &self.sources.keys().collect::<Vec<_>>())
            .field("sinks", &self.sinks.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// No connectors at all.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// The built-in connectors: sources `generator`, `file`, `stdin`;
    /// sinks `file`, `stdout`.
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        r.register_source("generator", super::generator::GeneratorConnector);
        r.register_source("file", super::file::FileConnector);
        r.register_source("stdin", super::stdio::StdioConnector);
        r.register_sink("file", super::file::FileConnector);
        r.register_sink("stdout", super::stdio::StdioConnector);
        r
    }

    /// Adds (or replaces) the source type `kind`.
    pub fn register_source(&mut self, kind: &str, connector: impl SourceConnector) {
        self.sources.insert(kind.to_string(), Arc::new(connector));
    }

    /// Adds (or replaces) the sink type `kind`.
    pub fn register_sink(&mut self, kind: &str, connector: impl SinkConnector) {
        self.sinks.insert(kind.to_string(), Arc::new(connector));
    }

    fn source(&self, kind: &str) -> Result<&dyn AnySource, ConnectorError> {
        self.sources
            .get(kind)
            .map(|c| c.as_ref())
            .ok_or_else(|| ConnectorError::Unknown {
                role: "source",
                kind: kind.to_string(),
                known: keys(&self.sources),
            })
    }

    fn sink(&self, kind: &str) -> Result<&dyn AnySink, ConnectorError> {
        self.sinks
            .get(kind)
            .map(|c| c.as_ref())
            .ok_or_else(|| ConnectorError::Unknown {
                role: "sink",
                kind: kind.to_string(),
                known: keys(&self.sinks),
            })
    }

    /// Checks a source's type and options without opening it.
    pub fn check_source(
        &self,
        kind: &str,
        options: &ConnectorOptions,
    ) -> Result<(), ConnectorError> {
        self.source(kind)?
            .open(options, None)
            .map(drop)
            .map_err(ConnectorError::failed)
    }

    /// Checks a sink's type and options without opening it.
    pub fn check_sink(
        &self,
        name: &str,
        kind: &str,
        options: &ConnectorOptions,
    ) -> Result<(), ConnectorError> {
        self.sink(kind)?
            .open(name, options, None)
            .map(drop)
            .map_err(ConnectorError::failed)
    }

    /// Opens a source of type `kind`.
    pub fn build_source(
        &self,
        kind: &str,
        options: &ConnectorOptions,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Box<dyn Source>, ConnectorError> {
        match self.source(kind)?.open(options, Some(ctx)) {
            Ok(Some(source)) => Ok(source),
            Ok(None) => Err(ConnectorError::failed("the source was not opened".into())),
            Err(e) => Err(ConnectorError::failed(e)),
        }
    }

    /// Opens the sink `name` of type `kind`.
    pub fn build_sink(
        &self,
        name: &str,
        kind: &str,
        options: &ConnectorOptions,
        ctx: &ConnectorContext<'_>,
    ) -> Result<Arc<dyn Sink>, ConnectorError> {
        match self.sink(kind)?.open(name, options, Some(ctx)) {
            Ok(Some(sink)) => Ok(sink),
            Ok(None) => Err(ConnectorError::failed("the sink was not opened".into())),
            Err(e) => Err(ConnectorError::failed(e)),
        }
    }
}

fn keys<V>(m: &BTreeMap<String, V>) -> String {
    m.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
}
