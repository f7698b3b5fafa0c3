//! Changing a pipeline while it runs: reloading a stage's plugin and
//! rolling it back, from any thread, through a [`PipelineControl`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError};
use std::time::SystemTime;

use crate::plugin::{Grants, Limits, Plugin, PluginKind};

use super::ops::{RecentDeadLetter, RecentError};
use super::reload::{Refusal, ReloadError};
use super::shadow::{Shadow, ShadowReport};
use super::stages::{StageChain, StageRuntime};

/// A handle on a pipeline's stages, for as long as the pipeline runs (and
/// after): made by [`Pipeline::control`](super::Pipeline::control) before
/// [`Pipeline::run`](super::Pipeline::run) takes the pipeline. Cheap to
/// clone; every method may be called from any thread.
///
/// A reload instantiates the new version and runs its `init` with the
/// stage's settings away from the serving path, then swaps it in between
/// calls: a call in progress finishes on the version it started with, so
/// every record of a call is processed by exactly one version. If the new
/// version does not start, or implements another kind, the serving version
/// keeps serving and the error says why. The stage's state, and an
/// aggregator's open windows, carry over: a new aggregator version must
/// read the accumulators the serving one saved.
#[derive(Clone)]
pub struct PipelineControl {
    pub(crate) name: String,
    pub(crate) chain: Arc<StageChain>,
    pub(crate) monitor: Option<crate::monitor::Monitor>,
    /// The source's description.
    pub(crate) source: String,
    /// Each sink's name and description.
    pub(crate) sinks: Vec<(String, String)>,
}

impl std::fmt::Debug for PipelineControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineControl")
            .field("name", &self.name)
            .field("stages", &self.stages())
            .finish()
    }
}

/// A stage and the plugin version it serves.
#[derive(Debug, Clone, PartialEq)]
pub struct StageStatus {
    /// The stage's name.
    pub stage: String,
    /// The serving plugin's name.
    pub plugin: String,
    /// The serving plugin's kind.
    pub kind: PluginKind,
    /// The serving version's number: 1 at start, one more per swap
    /// (rollbacks included).
    pub version: u64,
    /// The serving plugin's digest (as dead letters and version headers
    /// carry it).
    pub digest: String,
    /// When the serving version was swapped in (or the stage started).
    pub loaded_at: SystemTime,
    /// The digest of the version a rollback returns to, if any.
    pub previous_digest: Option<String>,
    /// The file the serving version was loaded from, if any.
    pub source: Option<PathBuf>,
    /// Whether that file is watched for changes.
    pub watched: bool,
    /// The limits of every instance.
    pub limits: Limits,
    /// What the serving plugin was granted.
    pub grants: Grants,
}

impl StageStatus {
    fn of(stage: &StageRuntime) -> StageStatus {
        let v = stage.current();
        StageStatus {
            stage: stage.name.clone(),
            plugin: v.plugin.name().to_string(),
            kind: v.plugin.kind(),
            version: v.number,
            digest: v.plugin.info().digest.clone(),
            loaded_at: v.loaded_at,
            previous_digest: stage.previous().map(|p| p.info().digest.clone()),
            source: stage.reloading.source(),
            watched: stage.reloading.watch,
            limits: stage.options.limits,
            grants: v.plugin.grants(),
        }
    }
}

impl PipelineControl {
    pub(crate) fn stage(&self, name: &str) -> Result<&StageRuntime, ReloadError> {
        self.chain
            .stages
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| ReloadError::UnknownStage(name.to_string()))
    }

    /// The pipeline's sampled series and alarms; `None` when its monitor
    /// is off.
    pub fn monitor(&self) -> Option<&crate::monitor::Monitor> {
        self.monitor.as_ref()
    }

    /// What the pipeline reads from (its source's description).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The pipeline's sinks: name and description, the failure
    /// destination's only if it is one of them.
    pub fn sinks(&self) -> &[(String, String)] {
        &self.sinks
    }

    /// A span naming the pipeline, the stage and its serving plugin, for
    /// what a change of the stage logs.
    fn span(&self, stage: &str) -> tracing::span::EnteredSpan {
        let plugin = self
            .stage(stage)
            .map(|s| s.current().plugin.name().to_string())
            .unwrap_or_default();
        tracing::info_span!("control", pipeline = %self.name, stage, plugin).entered()
    }

    /// The pipeline's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stops reading from the source after the batch being read; batches
    /// in flight finish and are committed. `false` if it was paused
    /// already.
    pub fn pause(&self) -> bool {
        self.chain.ops.pause()
    }

    /// Reads from the source again. `false` if it was not paused.
    pub fn resume(&self) -> bool {
        self.chain.ops.resume()
    }

    /// Whether the pipeline is paused.
    pub fn is_paused(&self) -> bool {
        self.chain.ops.is_paused()
    }

    /// The last `n` (at most [`KEPT_RECENT`](super::KEPT_RECENT)) errors
    /// of the stages, oldest first: records they failed and calls that
    /// failed.
    pub fn errors(&self, n: usize) -> Vec<RecentError> {
        self.chain.ops.errors(n)
    }

    /// The last `n` (at most [`KEPT_RECENT`](super::KEPT_RECENT)) dead
    /// letters written to the failure destination, oldest first.
    pub fn dead_letters(&self, n: usize) -> Vec<RecentDeadLetter> {
        self.chain.ops.dead_letters(n)
    }

    /// Every stage, in chain order, with the version it serves.
    pub fn stages(&self) -> Vec<StageStatus> {
        self.chain.stages.iter().map(StageStatus::of).collect()
    }

    /// Swaps `plugin` into `stage` once it passed the stage's check and
    /// started (blocking: it runs the new version's `init`). Counted in
    /// `weir_stage_reloads_total`, or when refused in
    /// `weir_stage_reloads_refused_total` and remembered in
    /// [`refusals`](Self::refusals).
    pub fn reload(&self, stage: &str, plugin: Plugin) -> Result<StageStatus, ReloadError> {
        let _span = self.span(stage);
        let runtime = self.stage(stage)?;
        runtime.reload(plugin, None)?;
        Ok(StageStatus::of(runtime))
    }

    /// Loads the plugin file `path` (by default, the file the serving
    /// version came from, read again) on the serving version's engine with
    /// its grants, and reloads `stage` with it, as
    /// [`reload`](Self::reload) does. Blocking: it compiles the component
    /// (or takes it from the compiled-code cache).
    pub fn reload_file(
        &self,
        stage: &str,
        path: Option<&Path>,
    ) -> Result<StageStatus, ReloadError> {
        let _span = self.span(stage);
        let runtime = self.stage(stage)?;
        runtime.reload_file(path)?;
        Ok(StageStatus::of(runtime))
    }

    /// The last [`KEPT_REFUSALS`](super::KEPT_REFUSALS) reloads `stage`
    /// refused, oldest first.
    pub fn refusals(&self, stage: &str) -> Result<Vec<Refusal>, ReloadError> {
        Ok(self.stage(stage)?.reloading.refusals())
    }

    /// Starts `plugin` as a shadow candidate of `stage` (replacing any
    /// earlier candidate): it runs on the same batches as the serving
    /// version, emits nothing, and is compared with it record by record
    /// (see [`ShadowReport`]) until [`promote`](Self::promote)d or
    /// [`drop_shadow`](Self::drop_shadow)ped. Refused for aggregators, for
    /// another kind, or when it does not start.
    pub fn shadow(&self, stage: &str, plugin: Plugin) -> Result<ShadowReport, ReloadError> {
        let _span = self.span(stage);
        let runtime = self.stage(stage)?;
        let serving = runtime.current().plugin.kind();
        if serving == PluginKind::Aggregator {
            return Err(ReloadError::CannotShadow(stage.to_string()));
        }
        if plugin.kind() != serving {
            return Err(ReloadError::WrongKind {
                stage: stage.to_string(),
                plugin: plugin.name().to_string(),
                serving,
                offered: plugin.kind(),
            });
        }
        let shadow =
            Shadow::start(plugin, stage, &runtime.options).map_err(|error| ReloadError::Start {
                stage: stage.to_string(),
                error: Box::new(error),
            })?;
        let report = shadow.report();
        tracing::info!(stage, digest = %report.digest, "shadow candidate started");
        *runtime
            .shadow
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(shadow));
        Ok(report)
    }

    /// [`shadow`](Self::shadow) with the plugin file `path`, loaded on the
    /// serving version's engine with its grants.
    pub fn shadow_file(&self, stage: &str, path: &Path) -> Result<ShadowReport, ReloadError> {
        let plugin = self.stage(stage)?.load(path)?;
        self.shadow(stage, plugin)
    }

    /// How `stage`'s shadow candidate compares so far; `None` without one.
    pub fn shadow_report(&self, stage: &str) -> Result<Option<ShadowReport>, ReloadError> {
        let runtime = self.stage(stage)?;
        let shadow = runtime
            .shadow
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Ok(shadow.map(|s| s.report()))
    }

    /// Swaps the shadow candidate in as a [`reload`](Self::reload) does
    /// (checked and started first) and ends the shadowing.
    pub fn promote(&self, stage: &str) -> Result<StageStatus, ReloadError> {
        let _span = self.span(stage);
        let runtime = self.stage(stage)?;
        let shadow = runtime
            .shadow
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| ReloadError::NoShadow(stage.to_string()))?;
        runtime.reload(shadow.plugin.clone(), None)?;
        runtime
            .shadow
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        Ok(StageStatus::of(runtime))
    }

    /// Ends `stage`'s shadowing; returns its last report, `None` if there
    /// was no candidate.
    pub fn drop_shadow(&self, stage: &str) -> Result<Option<ShadowReport>, ReloadError> {
        let runtime = self.stage(stage)?;
        let shadow = runtime
            .shadow
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        Ok(shadow.map(|s| s.report()))
    }

    /// Swaps the version before the serving one back in (a new version
    /// number; a second rollback returns to where the first started).
    pub fn rollback(&self, stage: &str) -> Result<StageStatus, ReloadError> {
        let _span = self.span(stage);
        let runtime = self.stage(stage)?;
        let previous = runtime
            .previous()
            .ok_or_else(|| ReloadError::NoPrevious(stage.to_string()))?;
        runtime.reload(previous, None)?;
        Ok(StageStatus::of(runtime))
    }
}
