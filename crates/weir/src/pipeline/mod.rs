//! Pipelines: a source, a chain of plugin stages, routes and sinks.
//!
//! Build one in code with [`Pipeline::builder`], or from a
//! [`PipelineConfig`] (usually read from TOML) with [`Pipeline::build`],
//! which drives the same builder; then [`Pipeline::run`] it. See the crate
//! docs for the delivery guarantees.

mod admission;
mod background;
mod builder;
mod config;
mod control;
mod counters;
mod deliver;
mod duration;
pub mod filter;
mod from_config;
mod intake;
mod lanes;
mod monitoring;
mod ops;
mod progress;
mod reload;
mod replay;
mod retry;
mod route;
mod run;
mod sample;
mod settings;
mod shadow;
mod stages;
mod tickets;
mod version;
mod watch;
mod window;

pub use admission::DEFAULT_IN_FLIGHT_MB;
pub use builder::{BuildError, PipelineBuilder, Stage};
pub use config::{
    CheckConfig, ConfigError, ConnectorConfig, EngineSettings, FilterConfig, PipelineConfig,
    RouteConfig, StageConfig,
};
pub use control::{PipelineControl, StageStatus};
pub use duration::ConfigDuration;
pub use ops::{KEPT_ERROR_BYTES, KEPT_RECENT, KEPT_RECORD_BYTES, RecentDeadLetter, RecentError};
pub use progress::RunSummary;
pub use reload::{KEPT_REFUSALS, Refusal, ReloadError};
pub use replay::ReplaySummary;
pub use route::{Condition, ConditionError, Route};
pub use run::Pipeline;
pub use settings::{ErrorsConfig, WindowBy, WindowConfig};
pub use shadow::{SHADOW_SAMPLES, ShadowReport, ShadowSample};
pub use stages::VERSION_HEADER;
pub use watch::WatchOptions;

/// An error building or running a pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The config is invalid (names the file, line and key).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The pipeline built in code is invalid.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The source failed.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    /// A sink failed.
    #[error(transparent)]
    Sink(#[from] crate::sink::SinkError),
    /// The state store failed.
    #[error("state store: {0}")]
    State(String),
    /// A runtime failure inside weir.
    #[error("internal error: {0}")]
    Internal(String),
}
