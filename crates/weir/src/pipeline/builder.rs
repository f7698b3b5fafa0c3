//! Building a pipeline in code: [`PipelineBuilder`], [`Stage`], [`Route`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::check::Check;
use crate::metrics::Metrics;
use crate::monitor::{AlarmConfig, AlarmRule, Monitor, MonitorSettings};
use crate::pattern::Pattern;
use crate::plugin::{InstanceOptions, Limits, Plugin, PluginError, PluginKind};
use crate::sink::Sink;
use crate::source::{BatchLimits, Source};
use crate::state::{StateError, StateStore};

use super::counters::PipelineCounters;
use super::deliver::Delivery;
use super::filter::RecordFilter;
use super::lanes::Shared;
use super::monitoring::Sampler;
use super::reload::{ReloadError, Reloading};
use super::retry::RetryPolicy;
use super::route::{Route, Router};
use super::run::Pipeline;
use super::settings::{ErrorsConfig, WindowConfig};
use super::stages::{StageChain, StageRuntime};
use super::watch::WatchOptions;
use super::window::Windows;

/// One plugin stage of a pipeline built in code: a loaded [`Plugin`] with
/// the settings its `init` gets, its limits and, for aggregators, its
/// window.
#[derive(Debug, Clone)]
pub struct Stage {
    pub(crate) name: String,
    pub(crate) plugin: Plugin,
    pub(crate) settings: BTreeMap<String, String>,
    pub(crate) limits: Limits,
    pub(crate) window: Option<WindowConfig>,
    pub(crate) kind: Option<PluginKind>,
    pub(crate) tag_version: bool,
    pub(crate) check: Option<Check>,
    pub(crate) source: Option<PathBuf>,
    pub(crate) watch: bool,
}

impl Stage {
    /// A stage called `name` (in logs, metrics and dead letters) running
    /// `plugin`, with no settings and default limits.
    pub fn new(name: impl Into<String>, plugin: Plugin) -> Self {
        Stage {
            name: name.into(),
            plugin,
            settings: BTreeMap::new(),
            limits: Limits::default(),
            window: None,
            kind: None,
            tag_version: false,
            check: None,
            source: None,
            watch: false,
        }
    }

    /// Adds a setting for the plugin's `init`.
    #[must_use]
    pub fn setting(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.insert(key.into(), value.into());
        self
    }

    /// Adds settings for the plugin's `init`.
    #[must_use]
    pub fn settings<K: Into<String>, V: Into<String>>(
        mut self,
        settings: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.settings
            .extend(settings.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Sets the stage's resource limits.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the event-time window of an aggregator stage (required for
    /// aggregators, refused for other kinds).
    #[must_use]
    pub fn window(mut self, window: WindowConfig) -> Self {
        self.window = Some(window);
        self
    }

    /// Refuses to build unless the plugin is a `kind`.
    #[must_use]
    pub fn expect_kind(mut self, kind: PluginKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Puts on every record the stage emits the header
    /// [`VERSION_HEADER`](super::VERSION_HEADER), the digest of the plugin
    /// version that made it, so outputs say which version made them across
    /// reloads (see [`PipelineControl`](super::PipelineControl)). Off by
    /// default.
    pub fn tag_version(mut self, on: bool) -> Self {
        self.tag_version = on;
        self
    }

    /// Sample records and the outcomes every version of the stage's plugin
    /// must give for them: checked when the pipeline is built and before a
    /// reload swaps a new version in (on an instance with its own state, so
    /// the stage's state is not touched). A version that fails it is never
    /// served.
    pub fn check(mut self, check: Check) -> Self {
        self.check = Some(check);
        self
    }

    /// The file the plugin was loaded from: shown by
    /// [`PipelineControl::stages`](super::PipelineControl::stages) and read
    /// again by a [`reload_file`](super::PipelineControl::reload_file)
    /// that names no file.
    pub fn source_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.source = Some(path.into());
        self
    }

    /// Watches the [`source_file`](Self::source_file) while the pipeline
    /// runs and reloads the stage when it changes (see
    /// [`WatchOptions`](super::WatchOptions)). Off by default; ignored
    /// without a source file.
    pub fn watch(mut self, on: bool) -> Self {
        self.watch = on;
        self
    }

    /// The stage's check, its windows as wide as the stage's.
    pub(crate) fn windowed_check(&self) -> Option<Check> {
        let mut check = self.check.clone()?;
        if let Some(w) = &self.window {
            check.window_ms = i64::try_from(w.size.as_millis()).unwrap_or(i64::MAX);
        }
        Some(check)
    }

    /// The stage's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Why a pipeline could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No source was given.
    #[error("a pipeline needs a source")]
    NoSource,
    /// No sink was given.
    #[error("at least one sink is required")]
    NoSinks,
    /// A route or the failure destination names a sink that was not given.
    #[error("unknown sink `{sink}` in {place} (sinks: {known})")]
    UnknownSink {
        /// `routes[i]` or `on_failure`.
        place: String,
        /// The name given.
        sink: String,
        /// The sinks there are.
        known: String,
    },
    /// Records that fail need somewhere to go.
    #[error(
        "no failure destination: name a sink with `on_failure`, or give a data directory for the default dead-letter file"
    )]
    NoFailureDestination,
    /// A setting is out of range.
    #[error("`{key}`: {message}")]
    Invalid {
        /// The setting, e.g. `parallelization_factor`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A stage cannot run: wrong kind, window mismatch, or its plugin
    /// failed to start (`init` included).
    #[error("stage `{stage}`: {message}")]
    Stage {
        /// The stage's position in the chain.
        index: usize,
        /// The stage's name.
        stage: String,
        /// Which part of the stage is at fault: `kind`, `window` or empty.
        part: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The plugin of a stage failed to start.
    #[error("stage `{stage}`: {error}")]
    Plugin {
        /// The stage's position in the chain.
        index: usize,
        /// The stage's name.
        stage: String,
        /// The plugin's error.
        error: PluginError,
    },
    /// The data directory's state store cannot be opened.
    #[error(transparent)]
    State(#[from] StateError),
    /// The default dead-letter file cannot be opened.
    #[error("the dead-letter file: {0}")]
    DeadLetters(String),
}

impl BuildError {
    /// The config key the error is about (`stages[1].window`,
    /// `errors.on_failure`…), for errors reported against a config file.
    pub fn config_key(&self) -> String {
        match self {
            BuildError::NoSource => "source".into(),
            BuildError::NoSinks => "sinks".into(),
            BuildError::UnknownSink { place, .. } if place == "on_failure" => {
                "errors.on_failure".into()
            }
            BuildError::UnknownSink { place, .. } => format!("{place}.sink"),
            BuildError::NoFailureDestination | BuildError::DeadLetters(_) => {
                "errors.on_failure".into()
            }
            BuildError::Invalid { key, .. } => key.clone(),
            BuildError::Stage {
                index, part: "", ..
            } => format!("stages[{index}]"),
            BuildError::Stage { index, part, .. } => format!("stages[{index}].{part}"),
            BuildError::Plugin { index, .. } => format!("stages[{index}]"),
            BuildError::State(_) => "data_dir".into(),
        }
    }
}

/// Builds a [`Pipeline`] in code: a source, plugin stages, routes, sinks,
/// the failure destination, batching and the data directory.
///
/// ```no_run
/// use weir::pipeline::{Condition, Pipeline, Route, Stage};
/// use weir::plugin::{Engine, Grants};
/// use weir::connectors::{file::{FileSink, Format}, generator::{GeneratorSource, Workload}};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let engine = Engine::new()?;
/// let scorer = engine.load_file("fraud_scorer.wasm".as_ref(), Grants::default())?;
/// let pipeline = Pipeline::builder("fraud")
///     .source(GeneratorSource::new(Workload::Transactions, 42, 10_000, 0.0))
///     .stage(Stage::new("score", scorer).setting("velocity_max", "5"))
///     .sink("alerts", FileSink::open("alerts.jsonl".as_ref(), Format::Json, true)?)
///     .route(Route::when("alerts", Condition::parse("score >= 0.7")?))
///     .on_failure("alerts")
///     .build()?;
/// let summary = pipeline.run(std::future::pending()).await?;
/// println!("{} records in", summary.records_in);
/// # Ok(()) }
/// ```
#[must_use]
pub struct PipelineBuilder {
    name: String,
    source: Option<Box<dyn Source>>,
    stages: Vec<Stage>,
    sinks: BTreeMap<String, Arc<dyn Sink>>,
    routes: Vec<Route>,
    patterns: Vec<Pattern>,
    batch: BatchLimits,
    parallelization_factor: usize,
    max_in_flight_mb: u64,
    errors: ErrorsConfig,
    data_dir: Option<PathBuf>,
    store: Option<StateStore>,
    metrics: Metrics,
    watch: WatchOptions,
    monitor: MonitorSettings,
    alarms: Vec<AlarmConfig>,
}

impl std::fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("name", &self.name)
            .field("stages", &self.stages.len())
            .field("sinks", &self.sinks.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PipelineBuilder {
    /// A builder for the pipeline `name` (in logs, metrics and the state
    /// namespace).
    pub fn new(name: impl Into<String>) -> Self {
        PipelineBuilder {
            name: name.into(),
            source: None,
            stages: Vec::new(),
            sinks: BTreeMap::new(),
            routes: Vec::new(),
            patterns: Vec::new(),
            batch: BatchLimits::default(),
            parallelization_factor: 1,
            max_in_flight_mb: super::admission::DEFAULT_IN_FLIGHT_MB,
            errors: ErrorsConfig::default(),
            data_dir: None,
            store: None,
            metrics: Metrics::new(),
            watch: WatchOptions::default(),
            monitor: MonitorSettings::default(),
            alarms: Vec::new(),
        }
    }

    /// Where records come from.
    pub fn source(self, source: impl Source + 'static) -> Self {
        self.boxed_source(Box::new(source))
    }

    /// Where records come from, already boxed.
    pub fn boxed_source(mut self, source: Box<dyn Source>) -> Self {
        self.source = Some(source);
        self
    }

    /// Appends a plugin stage.
    pub fn stage(mut self, stage: Stage) -> Self {
        self.stages.push(stage);
        self
    }

    /// Adds the sink `name`.
    pub fn sink(self, name: impl Into<String>, sink: impl Sink + 'static) -> Self {
        self.shared_sink(name, Arc::new(sink))
    }

    /// Adds the sink `name`, shared with the caller (e.g. to read what it
    /// received after the run).
    pub fn shared_sink(mut self, name: impl Into<String>, sink: Arc<dyn Sink>) -> Self {
        self.sinks.insert(name.into(), sink);
        self
    }

    /// Appends a routing rule. Without routes every output goes to every
    /// sink but the failure destination.
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Only records that match one of the patterns added this way run
    /// through the stages; the others are skipped and still acknowledged
    /// (see [`filter`](super::filter) for the record view patterns see).
    pub fn pattern(mut self, pattern: Pattern) -> Self {
        self.patterns.push(pattern);
        self
    }

    /// Batching limits.
    pub fn batch(mut self, limits: BatchLimits) -> Self {
        self.batch = limits;
        self
    }

    /// Lanes per partition (1 to 64); records of one key stay in order.
    pub fn parallelization_factor(mut self, lanes: usize) -> Self {
        self.parallelization_factor = lanes;
        self
    }

    /// The most record bytes held in flight, in MiB (1 to 1048576; default
    /// [`DEFAULT_IN_FLIGHT_MB`](super::DEFAULT_IN_FLIGHT_MB)): batches read
    /// and not yet written by every sink. When it is reached the source is
    /// not read until a batch is done, so a slow sink slows the source
    /// instead of growing memory.
    pub fn max_in_flight_mb(mut self, mb: u64) -> Self {
        self.max_in_flight_mb = mb;
        self
    }

    /// Failure handling: retries, bisection, record age, failure
    /// destination.
    pub fn errors(mut self, errors: ErrorsConfig) -> Self {
        self.errors = errors;
        self
    }

    /// Failed records go to the sink `name`.
    pub fn on_failure(mut self, sink: impl Into<String>) -> Self {
        self.errors.on_failure = Some(sink.into());
        self
    }

    /// Keeps checkpoints and plugin state in `dir` (and, without
    /// `on_failure`, dead letters in `dir/dead-letters.jsonl`). Without it
    /// state lives in memory and a run always starts from the source's own
    /// starting point.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// How the stages' plugin files are watched while the pipeline runs,
    /// for the stages that ask for it with [`Stage::watch`].
    pub fn watch_options(mut self, options: WatchOptions) -> Self {
        self.watch = options;
        self
    }

    /// How the pipeline samples its own series (default: every second,
    /// 300 points kept); see [`crate::monitor`].
    pub fn monitor(mut self, settings: MonitorSettings) -> Self {
        self.monitor = settings;
        self
    }

    /// Adds an alarm over one of the pipeline's series; see
    /// [`crate::monitor`]. A sink it notifies gets no records unless a
    /// route names it.
    pub fn alarm(mut self, alarm: AlarmConfig) -> Self {
        self.alarms.push(alarm);
        self
    }

    /// An already open state store (the config path opens it to learn
    /// whether the run resumes before it opens the sinks).
    pub(crate) fn state_store(mut self, store: StateStore) -> Self {
        self.store = Some(store);
        self
    }

    /// The metrics the pipeline registers its series in (default: a new,
    /// unshared set). Its [`RunSummary`](crate::pipeline::RunSummary) is
    /// read from these same counters; see [`crate::metrics`] for serving
    /// them or bridging them into another registry.
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    fn check(&self) -> Result<(), BuildError> {
        check_shape(&Shape {
            name: &self.name,
            batch: &self.batch,
            parallelization_factor: self.parallelization_factor,
            max_in_flight_mb: self.max_in_flight_mb,
            sinks: self.sinks.keys().map(String::as_str).collect(),
            routes: self.routes.iter().map(|r| r.sink.as_str()).collect(),
            on_failure: self.errors.on_failure.as_deref(),
            stages: self
                .stages
                .iter()
                .map(|s| (s.name.as_str(), &s.limits, s.window.as_ref()))
                .collect(),
            monitor: &self.monitor,
            alarms: &self.alarms,
        })?;
        check_stage_plugins(&self.stages)
    }

    /// Checks everything, opens the state store, and starts one instance of
    /// every plugin (so `init` errors surface here).
    pub fn build(self) -> Result<Pipeline, BuildError> {
        self.check()?;
        let PipelineBuilder {
            name,
            source,
            stages,
            sinks,
            routes,
            patterns,
            batch,
            parallelization_factor,
            max_in_flight_mb,
            errors,
            data_dir,
            store,
            metrics,
            watch,
            monitor,
            alarms,
        } = self;
        let source = source.ok_or(BuildError::NoSource)?;
        let store = match (store, &data_dir) {
            (Some(store), _) => store,
            (None, Some(dir)) => StateStore::open(dir)?,
            (None, None) => StateStore::in_memory(),
        };
        // Without routes, outputs go to every sink but the failure
        // destination and the sinks of alarms.
        let outputs = sinks
            .keys()
            .filter(|s| errors.on_failure.as_ref() != Some(*s))
            .filter(|s| !alarms.iter().any(|a| a.to.contains(s)))
            .cloned()
            .collect();
        let dead_letters: (String, Arc<dyn Sink>) = match (&errors.on_failure, &data_dir) {
            (Some(name), _) => match sinks.get(name) {
                Some(s) => (name.clone(), s.clone()),
                None => return Err(BuildError::NoFailureDestination),
            },
            (None, Some(dir)) => {
                let sink = crate::connectors::file::FileSink::open(
                    &dir.join("dead-letters.jsonl"),
                    crate::connectors::file::Format::Value,
                    true,
                )
                .map_err(BuildError::DeadLetters)?;
                ("dead-letters".to_string(), Arc::new(sink))
            }
            (None, None) => return Err(BuildError::NoFailureDestination),
        };
        let counters = Arc::new(PipelineCounters::new(
            &metrics,
            &name,
            stages.iter().map(|s| (s.name.as_str(), s.window.is_some())),
            sinks
                .keys()
                .map(String::as_str)
                .chain([dead_letters.0.as_str()]),
        ));
        let mut runtimes = Vec::with_capacity(stages.len());
        for ((index, s), counters) in stages.into_iter().enumerate().zip(&counters.stages) {
            if !s.plugin.engine_has_deadlines() {
                tracing::warn!(pipeline = %name, stage = %s.name, "call deadlines are off: a plugin that never returns stalls the pipeline");
            }
            let check = s.windowed_check();
            let windows = s.window.as_ref().map(|w| {
                let state = store.namespace(&format!("{}\u{1}windows", s.name));
                Windows::new(w, state, counters.windows_closed.clone())
            });
            let options = InstanceOptions {
                settings: s.settings,
                limits: s.limits,
                state: Some(store.namespace(&s.name)),
                metrics: Some(metrics.clone()),
            };
            let reloading = Reloading::new(check, s.source.clone(), s.watch);
            let stage = StageRuntime::new(
                s.name.clone(),
                s.plugin.clone(),
                options,
                windows,
                counters.clone(),
            )
            .map_err(|error| BuildError::Plugin {
                index,
                stage: s.name.clone(),
                error,
            })?
            .with_version_tags(s.tag_version)
            .with_reloading(reloading);
            stage.check(&s.plugin).map_err(|e| BuildError::Stage {
                index,
                stage: s.name,
                part: "check",
                message: match e {
                    ReloadError::Check { error, .. } => {
                        format!("the plugin fails its check: {error}")
                    }
                    other => other.to_string(),
                },
            })?;
            runtimes.push(stage);
        }
        let sampler = monitor.enabled.then(|| {
            let keys = Sampler::keys(
                runtimes.iter().map(|s| s.name.as_str()),
                counters.sinks.keys().map(String::as_str),
            );
            let now = std::time::SystemTime::now();
            let rules = alarms
                .iter()
                .filter_map(|a| {
                    let key = keys.iter().find(|k| {
                        k.measure.name() == a.metric && k.stage == a.stage && k.sink == a.sink
                    })?;
                    AlarmRule::new(a.clone(), key.clone(), now)
                })
                .collect();
            Sampler {
                monitor: Monitor::new(&name, monitor, keys, rules),
                counters: counters.clone(),
                metrics: metrics.scoped(&[("pipeline", &name)]),
                pipeline: name.clone(),
                stages: runtimes.iter().map(|s| s.name.clone()).collect(),
                dead_letters: dead_letters.0.clone(),
                sinks: sinks.clone(),
            }
        });
        let router = Router::new(routes, outputs);
        let policy = RetryPolicy::new(&errors);
        let chain = StageChain::new(runtimes, policy);
        let state_handles = chain.state_handles();
        let filter = RecordFilter::new(patterns);
        let delivery = Delivery {
            pipeline: name.clone(),
            router,
            sinks,
            dead_letters,
            counters: counters.clone(),
            policy,
            ops: chain.ops.clone(),
        };
        Ok(Pipeline {
            watch,
            sampler,
            filter,
            source_name: source.describe(),
            name,
            store,
            state_handles,
            source,
            limits: batch,
            lanes: parallelization_factor,
            max_in_flight_mb,
            max_age_ms: errors
                .max_record_age
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            shared: Arc::new(Shared {
                chain: Arc::new(chain),
                delivery,
                counters,
            }),
        })
    }
}

/// What a pipeline is made of, as far as it can be checked without its
/// plugins: shared by the builder and the config file.
pub(crate) struct Shape<'a> {
    pub(crate) name: &'a str,
    pub(crate) batch: &'a BatchLimits,
    pub(crate) parallelization_factor: usize,
    pub(crate) max_in_flight_mb: u64,
    pub(crate) sinks: Vec<&'a str>,
    /// The sink of each route.
    pub(crate) routes: Vec<&'a str>,
    pub(crate) on_failure: Option<&'a str>,
    /// Name, limits and window of each stage.
    pub(crate) stages: Vec<(&'a str, &'a Limits, Option<&'a WindowConfig>)>,
    pub(crate) monitor: &'a MonitorSettings,
    pub(crate) alarms: &'a [AlarmConfig],
}

/// Checks a pipeline's shape: names, ranges, and that every sink named
/// exists.
pub(crate) fn check_shape(shape: &Shape<'_>) -> Result<(), BuildError> {
    let invalid = |key: &str, message: String| BuildError::Invalid {
        key: key.to_string(),
        message,
    };
    if shape.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty".into()));
    }
    if shape.batch.max_records == 0 {
        return Err(invalid("batch.max_records", "must be at least 1".into()));
    }
    if !(1..=64).contains(&shape.parallelization_factor) {
        return Err(invalid(
            "parallelization_factor",
            "must be between 1 and 64".into(),
        ));
    }
    if !(1..=super::admission::MAX_IN_FLIGHT_MB).contains(&shape.max_in_flight_mb) {
        return Err(invalid(
            "max_in_flight_mb",
            format!(
                "must be between 1 and {} (MiB)",
                super::admission::MAX_IN_FLIGHT_MB
            ),
        ));
    }
    if shape.sinks.is_empty() {
        return Err(BuildError::NoSinks);
    }
    let unknown = |place: String, sink: &str| BuildError::UnknownSink {
        place,
        sink: sink.to_string(),
        known: shape.sinks.join(", "),
    };
    for (i, sink) in shape.routes.iter().enumerate() {
        if !shape.sinks.contains(sink) {
            return Err(unknown(format!("routes[{i}]"), sink));
        }
    }
    if let Some(s) = shape.on_failure
        && !shape.sinks.contains(&s)
    {
        return Err(unknown("on_failure".into(), s));
    }
    let mut names = BTreeSet::new();
    for (index, (name, limits, window)) in shape.stages.iter().enumerate() {
        let err = |part, message: String| BuildError::Stage {
            index,
            stage: name.to_string(),
            part,
            message,
        };
        if !names.insert(*name) {
            return Err(err("name", format!("duplicate stage name `{name}`")));
        }
        if let Some(field) = limits.zero_field() {
            return Err(err("limits", format!("`limits.{field}` must be positive")));
        }
        if let Some(w) = window {
            if w.size.as_millis() == 0 {
                return Err(err("window.size", "must be positive".into()));
            }
            if shape.parallelization_factor > 1 {
                return Err(invalid(
                    "parallelization_factor",
                    format!(
                        "stage `{name}` aggregates windows, which needs every record of a partition in one lane: use parallelization_factor = 1"
                    ),
                ));
            }
        }
    }
    check_alarms(shape)
}

/// Checks `[monitor]` and every `[[alarms]]`.
fn check_alarms(shape: &Shape<'_>) -> Result<(), BuildError> {
    shape
        .monitor
        .check()
        .map_err(|(key, message)| BuildError::Invalid {
            key: format!("monitor.{key}"),
            message,
        })?;
    let stages: Vec<&str> = shape.stages.iter().map(|(name, _, _)| *name).collect();
    let mut names = BTreeSet::new();
    for (i, alarm) in shape.alarms.iter().enumerate() {
        let invalid = |key: &str, message: String| BuildError::Invalid {
            key: if key.is_empty() {
                format!("alarms[{i}]")
            } else {
                format!("alarms[{i}].{key}")
            },
            message,
        };
        if !shape.monitor.enabled {
            return Err(invalid(
                "",
                "alarms need the monitor: remove `monitor.enabled = false`".into(),
            ));
        }
        alarm
            .check(&stages, &shape.sinks)
            .map_err(|(key, message)| invalid(key, message))?;
        if !names.insert(alarm.name.as_str()) {
            return Err(invalid(
                "name",
                format!("duplicate alarm name `{}`", alarm.name),
            ));
        }
    }
    Ok(())
}

/// Checks each stage against its plugin: the kind it expects, and a window
/// for aggregators only.
pub(crate) fn check_stage_plugins(stages: &[Stage]) -> Result<(), BuildError> {
    for (index, stage) in stages.iter().enumerate() {
        let err = |part, message: String| BuildError::Stage {
            index,
            stage: stage.name.clone(),
            part,
            message,
        };
        if let Some(kind) = stage.kind {
            stage
                .plugin
                .expect_kind(kind)
                .map_err(|e| err("kind", e.to_string()))?;
        }
        let aggregator = stage.plugin.kind() == PluginKind::Aggregator;
        match &stage.window {
            None if aggregator => {
                return Err(err(
                    "",
                    "aggregator plugins need a window, e.g. `window = { size = \"60s\" }`".into(),
                ));
            }
            Some(_) if !aggregator => {
                return Err(err(
                    "window",
                    format!(
                        "only aggregator plugins take a window; `{}` is a {}",
                        stage.plugin.name(),
                        stage.plugin.kind()
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}
