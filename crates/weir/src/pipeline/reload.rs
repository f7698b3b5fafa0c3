//! Reloading a stage: what a new plugin version must pass before it is
//! swapped in, and the record of the reloads a stage refused.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::check::{Check, CheckError};
use crate::plugin::{InstanceOptions, Plugin, PluginError, PluginKind};
use crate::state::StateStore;

use super::stages::StageRuntime;
use super::version::StageVersion;

/// How many refused reloads a stage remembers for the admin API.
pub const KEPT_REFUSALS: usize = 16;

/// Why a reload or a rollback was refused; the serving version keeps
/// serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// No stage of that name.
    #[error("pipeline has no stage `{0}`")]
    UnknownStage(String),
    /// The new plugin implements another kind.
    #[error("stage `{stage}` runs a {serving} plugin; `{plugin}` is a {offered}")]
    WrongKind {
        /// The stage.
        stage: String,
        /// The new plugin's name.
        plugin: String,
        /// The serving plugin's kind.
        serving: PluginKind,
        /// The new plugin's kind.
        offered: PluginKind,
    },
    /// The new plugin file could not be read or compiled (not a component,
    /// another world or WIT version).
    #[error("stage `{stage}`: cannot load `{}`: {error}", path.display())]
    Load {
        /// The stage.
        stage: String,
        /// The plugin file.
        path: PathBuf,
        /// What failed.
        error: Box<PluginError>,
    },
    /// Instantiating or `init` of the new version failed.
    #[error("stage `{stage}`: the new version did not start: {error}")]
    Start {
        /// The stage.
        stage: String,
        /// What failed.
        error: Box<PluginError>,
    },
    /// The new version's outcomes over the stage's sample records differ
    /// from the expected ones.
    #[error("stage `{stage}`: the new version failed the stage's check: {error}")]
    Check {
        /// The stage.
        stage: String,
        /// What differs.
        error: Box<CheckError>,
    },
    /// A rollback with no earlier version.
    #[error("stage `{0}` has no earlier version to roll back to")]
    NoPrevious(String),
    /// Aggregator stages cannot be shadowed.
    #[error("stage `{0}` runs an aggregator, which cannot be shadowed")]
    CannotShadow(String),
    /// A promotion or comparison with no shadow candidate.
    #[error("stage `{0}` has no shadow candidate")]
    NoShadow(String),
    /// A reload from a file of a stage that names none.
    #[error("stage `{0}` was not loaded from a file: give the plugin file to reload")]
    NoSourceFile(String),
}

/// A reload a stage refused, as [`PipelineControl::refusals`] lists it.
///
/// [`PipelineControl::refusals`]: super::PipelineControl::refusals
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// When it was refused.
    pub at: SystemTime,
    /// The refused plugin's digest, when it got as far as loading.
    pub digest: Option<String>,
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
    /// Why, as [`ReloadError`] says it.
    pub reason: String,
}

/// How a stage's reloads are checked and where its plugin comes from.
#[derive(Debug, Default)]
pub(crate) struct Reloading {
    /// Sample records every version must pass, the first included.
    pub(crate) check: Option<Check>,
    /// Whether the source file is watched for changes.
    pub(crate) watch: bool,
    source: Mutex<Option<PathBuf>>,
    refusals: Mutex<VecDeque<Refusal>>,
}

impl Reloading {
    pub(crate) fn new(check: Option<Check>, source: Option<PathBuf>, watch: bool) -> Self {
        Reloading {
            check,
            watch: watch && source.is_some(),
            source: Mutex::new(source),
            refusals: Mutex::default(),
        }
    }

    /// The file the serving version came from.
    pub(crate) fn source(&self) -> Option<PathBuf> {
        self.source
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The refused reloads, oldest first.
    pub(crate) fn refusals(&self) -> Vec<Refusal> {
        self.refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }
}

impl StageRuntime {
    /// Runs the stage's check, if it has one, on a fresh instance of
    /// `plugin` whose state is its own (the stage's state is not touched).
    pub(crate) fn check(&self, plugin: &Plugin) -> Result<(), ReloadError> {
        let Some(check) = &self.reloading.check else {
            return Ok(());
        };
        let options = InstanceOptions {
            state: Some(StateStore::in_memory().namespace(&self.name)),
            metrics: None,
            ..self.options.clone()
        };
        let mut instance = super::background::in_background(|| plugin.instantiate(options))
            .map_err(|error| ReloadError::Start {
                stage: self.name.clone(),
                error: Box::new(error),
            })?;
        super::background::in_background(|| check.run(&mut instance)).map_err(|error| {
            ReloadError::Check {
                stage: self.name.clone(),
                error: Box::new(error),
            }
        })
    }

    /// Swaps `plugin` (from `source`, if a file) in once it passed the
    /// kind check, the stage's check and its `init`; counted either way.
    pub(crate) fn reload(
        &self,
        plugin: Plugin,
        source: Option<&Path>,
    ) -> Result<Arc<StageVersion>, ReloadError> {
        // The next batch's first records warm the new version's instances.
        self.sample.want();
        let result = self.admit(&plugin).and_then(|()| {
            self.versions
                .swap(plugin.clone(), &self.options, &self.sample.records())
                .map_err(|error| ReloadError::Start {
                    stage: self.name.clone(),
                    error: Box::new(error),
                })
        });
        match &result {
            Ok(v) => {
                if let Some(path) = source {
                    *self
                        .reloading
                        .source
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(path.to_path_buf());
                }
                self.counters.reloads.inc();
                self.counters
                    .plugin_info
                    .show(v.plugin.name(), v.number, &v.plugin.info().digest);
                tracing::info!(stage = %self.name, version = v.number, digest = %v.plugin.info().digest, "plugin version swapped in");
            }
            Err(e) => self.refused(e, Some(&plugin.info().digest), source),
        }
        result
    }

    /// Loads `path` (the serving file when `None`) on the serving
    /// version's engine with its grants, and reloads it.
    pub(crate) fn reload_file(
        &self,
        path: Option<&Path>,
    ) -> Result<Arc<StageVersion>, ReloadError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => self
                .reloading
                .source()
                .ok_or_else(|| ReloadError::NoSourceFile(self.name.clone()))?,
        };
        match self.load(&path) {
            Ok(plugin) => self.reload(plugin, Some(&path)),
            Err(e) => {
                self.refused(&e, None, Some(&path));
                Err(e)
            }
        }
    }

    /// Loads `path` on the serving version's engine with its grants.
    pub(crate) fn load(&self, path: &Path) -> Result<Plugin, ReloadError> {
        let serving = self.current();
        super::background::in_background(|| {
            serving
                .plugin
                .engine()
                .load_file(path, serving.plugin.grants())
        })
        .map_err(|error| ReloadError::Load {
            stage: self.name.clone(),
            path: path.to_path_buf(),
            error: Box::new(error),
        })
    }

    fn admit(&self, plugin: &Plugin) -> Result<(), ReloadError> {
        let serving = self.current().plugin.kind();
        if plugin.kind() != serving {
            return Err(ReloadError::WrongKind {
                stage: self.name.clone(),
                plugin: plugin.name().to_string(),
                serving,
                offered: plugin.kind(),
            });
        }
        self.check(plugin)
    }

    /// Counts, logs and remembers a refused reload.
    fn refused(&self, error: &ReloadError, digest: Option<&str>, source: Option<&Path>) {
        self.counters.reloads_refused.inc();
        tracing::warn!(stage = %self.name, "reload refused, the serving version keeps serving: {error}");
        let mut refusals = self
            .reloading
            .refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if refusals.len() == KEPT_REFUSALS {
            refusals.pop_front();
        }
        refusals.push_back(Refusal {
            at: SystemTime::now(),
            digest: digest.map(str::to_string),
            source: source.map(Path::to_path_buf),
            reason: error.to_string(),
        });
    }
}
