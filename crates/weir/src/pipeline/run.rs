//! Building a pipeline from its config and running it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::connectors::{ConnectorContext, Registry};
use crate::metrics::{Metrics, names};
use crate::plugin::{Engine, InstanceOptions};
use crate::record::{Batch, Record};
use crate::sink::Sink;
use crate::source::Source;
use crate::state::{Checkpoint, StateHandle, StateStore};

use super::PipelineError;
use super::config::{ConfigError, PipelineConfig};
use super::filter::RecordFilter;
use super::route::Router;
use super::stages::{Stage, StageChain};

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
    chain: Arc<StageChain>,
    router: Router,
    sinks: BTreeMap<String, Arc<dyn Sink>>,
    dead_letters: (String, Arc<dyn Sink>),
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
            let options = InstanceOptions {
                settings: s.settings_strings(),
                limits: s.limits,
                state: Some(store.namespace(&s.name)),
                metrics: Some(metrics.clone()),
            };
            let stage = Stage::new(s.name.clone(), plugin, options)
                .map_err(|e| config.error(&format!("stages[{i}]"), e))?;
            stages.push(stage);
        }
        let router = Router::new(&config.routes, config.sinks.keys().cloned().collect())
            .map_err(|e| config.error("routes", e))?;
        let state_handles = stages.iter().filter_map(|s| s.state().cloned()).collect();
        let filter = RecordFilter::new(config)?;
        Ok(Pipeline {
            filter,
            source_name: source.describe(),
            name: config.name.clone(),
            store,
            state_handles,
            source,
            limits: config.batch,
            chain: Arc::new(StageChain::new(stages, metrics.clone())),
            router,
            sinks,
            dead_letters,
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
        for (i, s) in config.stages.iter().enumerate() {
            let plugin = load_stage_plugin(config, engine, i)?;
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
    /// flushes and closes the sinks.
    ///
    /// Each batch is processed by the stages, its outputs routed and written,
    /// and only after every sink acknowledged them (and the failure
    /// destination took the failed records) are the plugins' state changes
    /// persisted and the source position committed.
    pub async fn run(
        mut self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<RunSummary, PipelineError> {
        let started = Instant::now();
        let mut summary = RunSummary::default();
        let source_name = self.source_name.clone();
        let checkpoints = self
            .store
            .checkpoints(&source_name)
            .map_err(|e| PipelineError::State(e.to_string()))?;
        for c in &checkpoints {
            tracing::info!(pipeline = %self.name, source = %source_name, partition = %c.partition, position = %c.position, "resuming after checkpoint");
            self.source.resume(&c.partition, &c.position).await?;
        }
        tracing::info!(pipeline = %self.name, source = %source_name, "pipeline started");
        tokio::pin!(shutdown);
        loop {
            let batch = tokio::select! {
                biased;
                () = &mut shutdown => {
                    tracing::info!(pipeline = %self.name, "shutdown requested");
                    break;
                }
                b = self.source.next_batch(&self.limits) => b?,
            };
            let Some(batch) = batch else { break };
            if batch.records.is_empty() {
                continue;
            }
            self.process(batch, &mut summary).await?;
        }
        for sink in self.sinks.values() {
            sink.close().await?;
        }
        self.dead_letters.1.close().await?;
        summary.elapsed = started.elapsed();
        tracing::info!(
            pipeline = %self.name,
            records_in = summary.records_in,
            records_out = summary.records_out,
            failed = summary.failed,
            elapsed_ms = summary.elapsed.as_millis() as u64,
            "pipeline finished"
        );
        Ok(summary)
    }

    async fn process(
        &mut self,
        batch: Batch,
        summary: &mut RunSummary,
    ) -> Result<(), PipelineError> {
        let pl = [("pipeline", self.name.as_str())];
        let n = batch.records.len() as u64;
        let partition = batch.partition.clone();
        let Some(last) = batch.records.last().map(|r| r.position.clone()) else {
            return Ok(());
        };
        summary.records_in += n;
        summary.batches += 1;
        self.metrics.counter_add(names::RECORDS_IN, &pl, n);
        self.metrics.observe(names::BATCH_RECORDS, &pl, n as f64);

        let mut batch = batch;
        if let Some(filter) = &self.filter {
            let (origin, part) = (batch.origin.clone(), batch.partition.clone());
            batch.records.retain(|r| filter.keeps(r, &origin, &part));
            let skipped = n - batch.records.len() as u64;
            summary.filtered += skipped;
            self.metrics
                .counter_add(names::RECORDS_FILTERED, &pl, skipped);
        }
        // Records the patterns skipped count as done: the checkpoint below
        // still moves past them.
        let chain = self.chain.clone();
        let out = tokio::task::spawn_blocking(move || chain.run(batch))
            .await
            .map_err(|e| PipelineError::Internal(format!("stage worker failed: {e}")))?;

        summary.dropped += out.dropped as u64;
        summary.records_out += out.records.len() as u64;
        summary.scored += out.records.iter().filter(|r| r.score.is_some()).count() as u64;

        // Route.
        let mut per_sink: BTreeMap<&str, Vec<Record>> = BTreeMap::new();
        let mut targets = Vec::new();
        for record in out.records {
            self.router.sinks_for(&record, &mut targets);
            if let Some((last_sink, rest)) = targets.split_last() {
                for s in rest {
                    per_sink.entry(s).or_default().push(record.clone());
                }
                per_sink.entry(last_sink).or_default().push(record);
            }
        }
        // Write to every sink concurrently and wait for all acknowledgements.
        let writes = per_sink.iter().filter_map(|(name, records)| {
            self.sinks.get(*name).map(|sink| async move {
                sink.write(records).await.map(|()| (*name, records.len()))
            })
        });
        for (name, count) in futures::future::try_join_all(writes).await? {
            *summary.written.entry(name.to_string()).or_default() += count as u64;
            self.metrics
                .counter_add(names::SINK_RECORDS, &[("sink", name)], count as u64);
        }
        if !out.failed.is_empty() {
            let letters: Vec<Record> = out.failed.iter().map(|d| d.to_record()).collect();
            self.dead_letters.1.write(&letters).await?;
            summary.failed += letters.len() as u64;
            self.metrics
                .counter_add(names::DEAD_LETTERS, &pl, letters.len() as u64);
        }
        // Everything is acknowledged: persist the plugins' state and the
        // checkpoint together, then tell the source.
        let checkpoint = Checkpoint {
            source: self.source_name.clone(),
            partition: partition.to_string(),
            position: last.clone(),
        };
        self.store
            .commit(&self.state_handles, Some(&checkpoint))
            .map_err(|e| PipelineError::State(e.to_string()))?;
        self.source.commit(&partition, &last).await?;
        Ok(())
    }
}
