//! Building a pipeline from its config and running it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};

use crate::connectors::{ConnectorContext, Registry};
use crate::metrics::Metrics;
use crate::plugin::{Engine, InstanceOptions, PluginKind};
use crate::sink::Sink;
use crate::source::Source;
use crate::state::{StateHandle, StateStore};

use super::PipelineError;
use super::config::{ConfigError, PipelineConfig};
use super::deliver::Delivery;
use super::filter::RecordFilter;
use super::intake::Intake;
use super::lanes::{Lanes, Shared};
use super::progress::RunState;
use super::retry::RetryPolicy;
use super::route::Router;
use super::stages::{Stage, StageChain};
use super::tickets::{Advance, Tickets};
use super::window::Windows;

/// Counts of one run, for the summary line and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunSummary {
    /// Records read from the source.
    pub records_in: u64,
    /// Records skipped because no filter pattern matched them.
    pub filtered: u64,
    /// Records dropped by filter stages.
    pub dropped: u64,
    /// Records that reached the end of the stage chain.
    pub records_out: u64,
    /// Of those, records with a score (from a scorer or reward stage).
    pub scored: u64,
    /// Records sent to the failure destination.
    pub failed: u64,
    /// Records written per sink.
    pub written: BTreeMap<String, u64>,
    /// Batches processed.
    pub batches: u64,
    /// Wall-clock time of the run.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// Loads stage `i`'s plugin, checking that the file exists and that the
/// component is the kind the stage asks for.
fn load_stage_plugin(
    config: &PipelineConfig,
    engine: &Engine,
    i: usize,
) -> Result<crate::plugin::Plugin, ConfigError> {
    let stage = &config.stages[i];
    let key = format!("stages[{i}].plugin");
    let path = config.resolve(&stage.plugin);
    if !path.exists() {
        return Err(config.error(
            &key,
            format!("plugin file `{}` does not exist", path.display()),
        ));
    }
    let plugin = engine
        .load_file(&path, stage.grants)
        .map_err(|e| config.error(&key, e))?;
    if let Some(kind) = stage.kind {
        plugin
            .expect_kind(kind)
            .map_err(|e| config.error(&format!("stages[{i}].kind"), e))?;
    }
    Ok(plugin)
}

/// A pipeline ready to run: source, stages, routes and sinks.
pub struct Pipeline {
    name: String,
    source: Box<dyn Source>,
    limits: crate::source::BatchLimits,
    filter: Option<RecordFilter>,
    /// The source's description, which also keys its checkpoints.
    source_name: String,
    lanes: usize,
    max_age_ms: Option<i64>,
    shared: Arc<Shared>,
    metrics: Metrics,
    store: StateStore,
    state_handles: Vec<StateHandle>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .finish()
    }
}

/// The window operator of stage `i`, checked against its plugin's kind.
fn stage_windows(
    config: &PipelineConfig,
    i: usize,
    plugin: &crate::plugin::Plugin,
    store: &StateStore,
) -> Result<Option<Windows>, ConfigError> {
    let s = &config.stages[i];
    match (plugin.kind() == PluginKind::Aggregator, &s.window) {
        (true, Some(w)) => Ok(Some(Windows::new(
            w,
            store.namespace(&format!("{}\u{1}windows", s.name)),
        ))),
        (true, None) => Err(config.error(
            &format!("stages[{i}]"),
            "aggregator plugins need a window, e.g. `window = { size = \"60s\" }`",
        )),
        (false, Some(_)) => Err(config.error(
            &format!("stages[{i}].window"),
            format!(
                "only aggregator plugins take a window; `{}` is a {}",
                plugin.name(),
                plugin.kind()
            ),
        )),
        (false, None) => Ok(None),
    }
}

impl Pipeline {
    /// Builds a pipeline: opens the source and sinks, loads and `init`s every
    /// plugin. Errors name the config file and key.
    pub fn build(
        config: &PipelineConfig,
        engine: &Engine,
        registry: &Registry,
        metrics: Metrics,
    ) -> Result<Self, PipelineError> {
        let data_dir = config.data_dir();
        let ctx = ConnectorContext {
            config,
            data_dir: &data_dir,
            metrics: &metrics,
        };
        let source = registry.build_source(&config.source, &ctx)?;
        let mut sinks = BTreeMap::new();
        for (name, sink) in &config.sinks {
            sinks.insert(name.clone(), registry.build_sink(name, sink, &ctx)?);
        }
        let dead_letters: (String, Arc<dyn Sink>) = match &config.errors.on_failure {
            Some(name) => match sinks.get(name) {
                Some(s) => (name.clone(), s.clone()),
                None => {
                    return Err(config
                        .error("errors.on_failure", format!("unknown sink `{name}`"))
                        .into());
                }
            },
            None => {
                let path = data_dir.join("dead-letters.jsonl");
                let sink = crate::connectors::file::FileSink::open(
                    &path,
                    crate::connectors::file::Format::Value,
                    true,
                )
                .map_err(|e| config.error("errors.on_failure", e))?;
                ("dead-letters".to_string(), Arc::new(sink))
            }
        };
        if !engine.has_deadlines() {
            tracing::warn!(pipeline = %config.name, "call deadlines are off: a plugin that never returns stalls the pipeline");
        }
        let store = StateStore::open(&data_dir).map_err(|e| config.error("data_dir", e))?;
        let mut stages = Vec::new();
        for (i, s) in config.stages.iter().enumerate() {
            let plugin = load_stage_plugin(config, engine, i)?;
            let windows = stage_windows(config, i, &plugin, &store)?;
            let options = InstanceOptions {
                settings: s.settings_strings(),
                limits: s.limits,
                state: Some(store.namespace(&s.name)),
                metrics: Some(metrics.clone()),
            };
            let stage = Stage::new(s.name.clone(), plugin, options, windows)
                .map_err(|e| config.error(&format!("stages[{i}]"), e))?;
            stages.push(stage);
        }
        // Without routes, outputs go to every sink but the failure
        // destination.
        let outputs = config
            .sinks
            .keys()
            .filter(|s| config.errors.on_failure.as_ref() != Some(*s))
            .cloned()
            .collect();
        let router = Router::new(&config.routes, outputs).map_err(|e| config.error("routes", e))?;
        let policy = RetryPolicy::new(&config.errors);
        let chain = StageChain::new(stages, metrics.clone(), policy);
        let state_handles = chain.state_handles();
        let filter = RecordFilter::new(config)?;
        let delivery = Delivery {
            pipeline: config.name.clone(),
            router,
            sinks,
            dead_letters,
            metrics: metrics.clone(),
            policy,
        };
        Ok(Pipeline {
            filter,
            source_name: source.describe(),
            name: config.name.clone(),
            store,
            state_handles,
            source,
            limits: config.batch,
            lanes: config.parallelization_factor.max(1),
            max_age_ms: config
                .errors
                .max_record_age
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            shared: Arc::new(Shared {
                chain: Arc::new(chain),
                delivery,
            }),
            metrics,
        })
    }

    /// Checks a config without running it or touching its sinks: connector
    /// types and options, routes, and every plugin (compiled, world and
    /// kind checked, instantiated and `init`ed with its settings).
    pub fn validate(
        config: &PipelineConfig,
        engine: &Engine,
        registry: &Registry,
    ) -> Result<(), PipelineError> {
        registry.check_source(config)?;
        RecordFilter::new(config)?;
        for (name, sink) in &config.sinks {
            registry.check_sink(config, name, sink)?;
        }
        let scratch = StateStore::in_memory();
        for (i, s) in config.stages.iter().enumerate() {
            let plugin = load_stage_plugin(config, engine, i)?;
            stage_windows(config, i, &plugin, &scratch)?;
            let options = InstanceOptions {
                settings: s.settings_strings(),
                limits: s.limits,
                ..InstanceOptions::default()
            };
            plugin
                .instantiate(options)
                .map_err(|e| config.error(&format!("stages[{i}]"), e))?;
        }
        Ok(())
    }

    /// Runs until the source is exhausted or `shutdown` resolves, then
    /// finishes the batches in flight, commits and closes the sinks.
    ///
    /// Each batch is processed by the stages, its outputs routed and
    /// written, its failures written to the failure destination; only then,
    /// and only once every earlier batch of its partition is done too, are
    /// the plugins' state changes for it persisted together with the new
    /// source position, and the source told.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<RunSummary, PipelineError> {
        let started = Instant::now();
        let Pipeline {
            name,
            mut source,
            limits,
            filter,
            source_name,
            lanes: lane_count,
            max_age_ms,
            shared,
            metrics,
            store,
            state_handles,
        } = self;
        let checkpoints = store
            .checkpoints(&source_name)
            .map_err(|e| PipelineError::State(e.to_string()))?;
        for c in &checkpoints {
            tracing::info!(pipeline = %name, source = %source_name, partition = %c.partition, position = %c.position, "resuming after checkpoint");
            source.resume(&c.partition, &c.position).await?;
        }
        tracing::info!(pipeline = %name, source = %source_name, lanes = lane_count, "pipeline started");
        let intake = Intake {
            name: name.clone(),
            filter,
            lanes: lane_count,
            max_age_ms,
            metrics,
        };
        let mut run = RunState {
            name,
            source_name,
            store,
            state_handles,
            summary: RunSummary::default(),
            tickets: Tickets::default(),
            error: None,
        };
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        let mut lanes = Lanes::new(shared.clone(), done_tx);
        // Batches in flight at once, over all partitions: enough for lanes
        // to have batches queued and several being written.
        let permits = Arc::new(Semaphore::new((lane_count * 8).max(32)));
        // Checkpoints already persisted, to pass on to the source when it is
        // not busy reading.
        let mut to_source: Vec<Advance> = Vec::new();
        tokio::pin!(shutdown);
        'read: loop {
            for advance in to_source.drain(..) {
                source.commit(&advance.partition, &advance.position).await?;
            }
            if run.error.is_some() {
                break;
            }
            let batch = {
                let next = source.next_batch(&limits);
                tokio::pin!(next);
                loop {
                    tokio::select! {
                        biased;
                        () = &mut shutdown => {
                            tracing::info!(pipeline = %run.name, "shutdown requested: finishing the batches in flight");
                            break 'read;
                        }
                        Some(done) = done_rx.recv() => {
                            to_source.extend(run.finish(done)?);
                            if run.error.is_some() {
                                break 'read;
                            }
                        }
                        b = &mut next => break b?,
                    }
                }
            };
            let Some(batch) = batch else { break };
            if batch.records.is_empty() {
                continue;
            }
            let permit = loop {
                tokio::select! {
                    p = permits.clone().acquire_owned() => {
                        break p.map_err(|e| PipelineError::Internal(e.to_string()))?;
                    }
                    Some(done) = done_rx.recv() => to_source.extend(run.finish(done)?),
                }
            };
            if let Some(advance) = intake.dispatch(batch, permit, &mut lanes, &mut run) {
                run.persist(&advance)?;
                to_source.push(advance);
            }
        }
        // Let the lanes finish what they have, then pass on the last
        // checkpoints. Waiting for every lane worker to end also releases
        // everything they hold (the state store among it) before `run`
        // returns.
        let closing = lanes.close();
        tokio::pin!(closing);
        loop {
            tokio::select! {
                Some(done) = done_rx.recv() => to_source.extend(run.finish(done)?),
                closed = &mut closing => {
                    while let Ok(done) = done_rx.try_recv() {
                        to_source.extend(run.finish(done)?);
                    }
                    if let Err(e) = closed
                        && run.error.is_none()
                    {
                        run.error = Some(e);
                    }
                    break;
                }
            }
        }
        if run.tickets.pending() > 0 && run.error.is_none() {
            run.error = Some(PipelineError::Internal(format!(
                "{} batches were never finished; their checkpoints were not moved",
                run.tickets.pending()
            )));
        }
        for advance in to_source.drain(..) {
            source.commit(&advance.partition, &advance.position).await?;
        }
        if let Err(e) = source.close().await {
            tracing::warn!(pipeline = %run.name, "closing the source: {e}");
        }
        let closed = shared.delivery.close().await;
        run.summary.elapsed = started.elapsed();
        if let Some(e) = run.error {
            if let Err(c) = closed {
                tracing::warn!(pipeline = %run.name, "closing the sinks after the failure: {c}");
            }
            return Err(e);
        }
        closed?;
        let summary = run.summary;
        tracing::info!(
            pipeline = %run.name,
            records_in = summary.records_in,
            records_out = summary.records_out,
            failed = summary.failed,
            elapsed_ms = summary.elapsed.as_millis() as u64,
            "pipeline finished"
        );
        Ok(summary)
    }
}
