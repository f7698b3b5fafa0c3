//! A pipeline config file is one way to drive the [`PipelineBuilder`]: its
//! connectors come from a [`Registry`], its plugins from an [`Engine`].

use crate::check::{Check, Fields};
use crate::connectors::{ConnectorContext, ConnectorError, Registry};
use crate::metrics::Metrics;
use crate::plugin::{Engine, InstanceOptions, Plugin};
use crate::source::Source;
use crate::state::StateStore;

use super::PipelineError;
use super::builder::{PipelineBuilder, Stage, check_stage_plugins};
use super::config::{CheckConfig, ConfigError, PipelineConfig};
use super::run::Pipeline;

/// Reports a connector error against `table` (`source`, `sinks.NAME`), or
/// against the option it names.
fn connector_error(config: &PipelineConfig, table: &str, e: ConnectorError) -> ConfigError {
    let key = match &e {
        ConnectorError::Unknown { .. } => format!("{table}.type"),
        ConnectorError::Failed {
            option: Some(option),
            ..
        } => format!("{table}.{option}"),
        ConnectorError::Failed { .. } => table.to_string(),
    };
    config.error(&key, e)
}

/// Loads stage `i`'s plugin, checking that the file exists.
fn load_plugin(config: &PipelineConfig, engine: &Engine, i: usize) -> Result<Plugin, ConfigError> {
    let stage = &config.stages[i];
    let key = format!("stages[{i}].plugin");
    let path = config.resolve(&stage.plugin);
    if !path.exists() {
        return Err(config.error(
            &key,
            format!("plugin file `{}` does not exist", path.display()),
        ));
    }
    engine
        .load_file(&path, stage.grants)
        .map_err(|e| config.error(&key, e))
}

/// Reads stage `i`'s sample records and expected outcomes.
fn load_check(config: &PipelineConfig, i: usize, c: &CheckConfig) -> Result<Check, ConfigError> {
    let fields = Fields {
        key: c.key_field.as_deref(),
        time: c.time_field.as_deref(),
    };
    let mut check = Check::load(
        &config.resolve(&c.input),
        &config.resolve(&c.expect),
        &fields,
    )
    .map_err(|e| config.error(&format!("stages[{i}].check"), e))?;
    check.batch_size = c.batch_size.max(1);
    Ok(check)
}

/// The stages of `config`, their plugins loaded.
fn stages(config: &PipelineConfig, engine: &Engine) -> Result<Vec<Stage>, ConfigError> {
    let mut stages = Vec::with_capacity(config.stages.len());
    for (i, s) in config.stages.iter().enumerate() {
        let mut stage = Stage::new(&s.name, load_plugin(config, engine, i)?)
            .settings(s.settings.clone())
            .limits(s.limits)
            .source_file(config.resolve(&s.plugin))
            .watch(s.watch)
            .tag_version(s.version_header.unwrap_or(s.watch));
        if let Some(c) = &s.check {
            stage = stage.check(load_check(config, i, c)?);
        }
        if let Some(kind) = s.kind {
            stage = stage.expect_kind(kind);
        }
        if let Some(w) = &s.window {
            stage = stage.window(w.clone());
        }
        stages.push(stage);
    }
    Ok(stages)
}

/// A builder with everything of `config` but its source and sinks, from
/// stage `first_stage` on.
fn builder(
    config: &PipelineConfig,
    engine: &Engine,
    first_stage: usize,
) -> Result<PipelineBuilder, ConfigError> {
    let mut b = Pipeline::builder(&config.name)
        .batch(config.batch)
        .parallelization_factor(config.parallelization_factor)
        .max_in_flight_mb(config.max_in_flight_mb)
        .monitor(config.monitor)
        .errors(config.errors.clone());
    for alarm in &config.alarms {
        b = b.alarm(alarm.clone());
    }
    for stage in stages(config, engine)?.into_iter().skip(first_stage) {
        b = b.stage(stage);
    }
    for route in config.routes()? {
        b = b.route(route);
    }
    for pattern in config.patterns()? {
        b = b.pattern(pattern);
    }
    Ok(b)
}

impl Pipeline {
    /// Builds the pipeline a config describes: opens its source and sinks
    /// through `registry`, loads and `init`s every plugin on `engine`.
    /// Errors name the config file and key.
    ///
    /// Sinks learn whether the run resumes after an earlier run's
    /// checkpoints ([`ConnectorContext::resuming`]), so that none erases
    /// output an earlier run acknowledged.
    pub fn build(
        config: &PipelineConfig,
        engine: &Engine,
        registry: &Registry,
        metrics: Metrics,
    ) -> Result<Self, PipelineError> {
        Self::build_from(config, engine, registry, metrics, None)
    }

    /// [`build`](Self::build), or with `replay`, a pipeline that reads
    /// that source instead of the config's, starts at that stage, and
    /// whose sinks append to what earlier runs wrote.
    pub(crate) fn build_from(
        config: &PipelineConfig,
        engine: &Engine,
        registry: &Registry,
        metrics: Metrics,
        replay: Option<(Box<dyn Source>, usize)>,
    ) -> Result<Self, PipelineError> {
        let data_dir = config.data_dir();
        // Connectors' series carry the pipeline's name.
        let scoped = metrics.scoped(&[("pipeline", &config.name)]);
        let ctx = ConnectorContext::new(&config.name, &config.base_dir, &data_dir, &scoped);
        let (source, first_stage) = match replay {
            Some((source, first)) => (source, first),
            None => (
                registry
                    .build_source(&config.source.kind, &config.source.options, &ctx)
                    .map_err(|e| connector_error(config, "source", e))?,
                0,
            ),
        };
        let store = StateStore::open(&data_dir).map_err(|e| config.error("data_dir", e))?;
        let resuming = first_stage > 0
            || !store
                .checkpoints(&source.describe())
                .map_err(|e| config.error("data_dir", e))?
                .is_empty();
        let ctx = ctx.resuming(resuming);
        let mut b = builder(config, engine, first_stage)?
            .boxed_source(source)
            .data_dir(&data_dir)
            .state_store(store)
            .metrics(metrics.clone());
        for (name, sink) in &config.sinks {
            let opened = registry
                .build_sink(name, &sink.kind, &sink.options, &ctx)
                .map_err(|e| connector_error(config, &format!("sinks.{name}"), e))?;
            b = b.shared_sink(name, opened);
        }
        b.build()
            .map_err(|e| config.error(&e.config_key(), e).into())
    }

    /// Checks a config without running it or touching its source and
    /// sinks: connector types and options, routes, patterns, and every
    /// plugin (compiled, world and kind checked, instantiated and `init`ed
    /// with its settings).
    pub fn validate(
        config: &PipelineConfig,
        engine: &Engine,
        registry: &Registry,
    ) -> Result<(), PipelineError> {
        registry
            .check_source(&config.source.kind, &config.source.options)
            .map_err(|e| connector_error(config, "source", e))?;
        for (name, sink) in &config.sinks {
            registry
                .check_sink(name, &sink.kind, &sink.options)
                .map_err(|e| connector_error(config, &format!("sinks.{name}"), e))?;
        }
        config.patterns()?;
        let stages = stages(config, engine)?;
        check_stage_plugins(&stages).map_err(|e| config.error(&e.config_key(), e))?;
        for (i, stage) in stages.into_iter().enumerate() {
            let check = stage.windowed_check();
            let options = InstanceOptions {
                settings: stage.settings,
                limits: stage.limits,
                ..InstanceOptions::default()
            };
            let mut instance = stage
                .plugin
                .instantiate(options)
                .map_err(|e| config.error(&format!("stages[{i}]"), e))?;
            if let Some(check) = check {
                check
                    .run(&mut instance)
                    .map_err(|e| config.error(&format!("stages[{i}].check"), e))?;
            }
        }
        Ok(())
    }
}
