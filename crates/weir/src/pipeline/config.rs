//! The pipeline config file (TOML).
//!
//! ```toml
//! name = "fraud-detection"
//!
//! [source]
//! type = "generator"
//! workload = "transactions"
//! count = 10000
//!
//! [batch]
//! max_records = 500
//!
//! [[stages]]
//! name = "score"
//! plugin = "../../plugins/target/wasm32-wasip2/release/fraud_scorer.wasm"
//! settings = { velocity_max = 5 }
//!
//! [[routes]]
//! sink = "alerts"
//! when = "score >= 0.7"
//!
//! [sinks.alerts]
//! type = "file"
//! path = "out/alerts.jsonl"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::builder::{Shape, check_shape};
use super::route::{Condition, Route};
use super::settings::{ErrorsConfig, WindowConfig};
use crate::connectors::ConnectorOptions;
use crate::pattern::Pattern;
use crate::plugin::{Grants, Limits, PluginKind};
use crate::source::BatchLimits;

/// A config error, naming the file, the line (when known) and the key.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    /// The config file.
    pub file: String,
    /// The 1-based line of the offending key, when known.
    pub line: Option<usize>,
    /// The dotted key, e.g. `stages[1].plugin`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": `{}`: {}", self.key, self.message)
        }
    }
}

/// A source or sink: its `type` and the type's own options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConnectorConfig {
    /// The connector type, e.g. `file`, `generator`, `kafka`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Options of that type, checked by the connector.
    #[serde(flatten)]
    pub options: ConnectorOptions,
}

impl ConnectorConfig {
    /// A connector of type `kind` with `options`.
    pub fn new(kind: impl Into<String>, options: ConnectorOptions) -> Self {
        ConnectorConfig {
            kind: kind.into(),
            options,
        }
    }
}

/// One plugin stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StageConfig {
    /// Name used in logs, metrics and dead letters. Example: `name = "score"`.
    pub name: String,
    /// Path of the `.wasm` component, relative to the config file.
    pub plugin: PathBuf,
    /// The kind the stage expects (`filter`, `enricher`, `scorer`, `reward`
    /// or `aggregator`); checked against the component's world. Optional:
    /// by default whatever the component implements.
    #[serde(default)]
    pub kind: Option<PluginKind>,
    /// Settings passed to the plugin's `init`. A string stays as it is;
    /// numbers, booleans, arrays and tables are written as TOML writes
    /// them. Example: `settings = { velocity_max = 5 }`.
    #[serde(default, deserialize_with = "settings_as_strings")]
    pub settings: BTreeMap<String, String>,
    /// Resource limits per instance.
    #[serde(default)]
    pub limits: Limits,
    /// Capabilities granted beyond the host services.
    #[serde(default)]
    pub grants: Grants,
    /// Tumbling windows; required for aggregator plugins, refused for others.
    #[serde(default)]
    pub window: Option<WindowConfig>,
    /// Watch the plugin file while the pipeline runs and reload the stage
    /// when it changes (checked, started and swapped in between batches; a
    /// version that fails is never served). Default `true`.
    #[serde(default = "yes")]
    pub watch: bool,
    /// Put on every output the header `weir-plugin-digest`: the digest of
    /// the plugin version that made it. Default: on when `watch` is.
    #[serde(default)]
    pub version_header: Option<bool>,
    /// Sample records and the outcomes every version must give for them,
    /// checked at start and before a reload swaps a new version in.
    /// Example: `check = { input = "samples.jsonl", expect = "expected.jsonl" }`.
    #[serde(default)]
    pub check: Option<CheckConfig>,
}

fn yes() -> bool {
    true
}

/// A stage's `check`: JSON-lines sample records and the outcomes expected
/// for them, in the format `weir plugin test` prints (see [`crate::check`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CheckConfig {
    /// The sample records, one per line, relative to the config file.
    pub input: PathBuf,
    /// The expected outcomes, one JSON object per line, relative to the
    /// config file.
    pub expect: PathBuf,
    /// The JSON field of a sample that is its key (for aggregators).
    #[serde(default)]
    pub key_field: Option<String>,
    /// The JSON field of a sample that is its event time in milliseconds.
    #[serde(default)]
    pub time_field: Option<String>,
    /// Records per call. Default 100.
    #[serde(default = "check_batch")]
    pub batch_size: usize,
}

fn check_batch() -> usize {
    100
}

fn settings_as_strings<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let values = BTreeMap::<String, toml::Value>::deserialize(d)?;
    Ok(values
        .into_iter()
        .map(|(k, v)| {
            let s = match v {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, s)
        })
        .collect())
}

/// A routing rule: which outputs go to which sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RouteConfig {
    /// The sink (a key of `[sinks]`).
    pub sink: String,
    /// Condition, e.g. `score >= 0.9`, `label == "velocity"`,
    /// `header.weir-event == "harsh-braking"`. Absent: every record.
    #[serde(default)]
    pub when: Option<String>,
    /// Only records that matched no conditional route before this one.
    #[serde(default)]
    pub otherwise: bool,
}

/// Which records the stages see at all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FilterConfig {
    /// Event patterns (EventBridge / Lambda filter language), as JSON text
    /// or TOML tables; a record is processed if any pattern matches, and
    /// skipped (but still acknowledged) otherwise. See
    /// [`crate::pipeline::filter`] for the JSON view a pattern sees.
    /// Example: `patterns = ['{"value": {"amount": [{"numeric": [">", 100]}]}}']`.
    /// A string is pattern JSON text; a table is the pattern itself.
    #[serde(default)]
    pub patterns: Vec<serde_json::Value>,
}

/// Settings of the plugin engine a pipeline runs on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct EngineSettings {
    /// Enforce every stage's `limits.deadline_ms` (epoch interruption).
    /// `false` saves the epoch checks in compiled plugin code (20–30% of a
    /// JSON-parsing filter's time in the `plugin_stage` bench), but then
    /// nothing stops a plugin that never returns: only for plugins you
    /// trust. Example: `deadlines = false`.
    pub deadlines: bool,
    /// Use the pooling instance allocator when the machine allows it.
    pub pooling: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            deadlines: true,
            pooling: true,
        }
    }
}

impl EngineSettings {
    /// The engine configuration these settings describe.
    pub fn engine_config(&self) -> crate::plugin::EngineConfig {
        crate::plugin::EngineConfig {
            deadlines: self.deadlines,
            pooling: self.pooling,
            ..crate::plugin::EngineConfig::default()
        }
    }
}

/// A whole pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PipelineConfig {
    /// The pipeline's name (logs, metrics, state namespace).
    pub name: String,
    /// Where state and checkpoints live, relative to the config file.
    /// Default: `.weir/<name>` beside the config file.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Where records come from.
    pub source: ConnectorConfig,
    /// Batching limits.
    #[serde(default)]
    pub batch: BatchLimits,
    /// How many batches of one partition are processed at once (1 to 64).
    /// Records are spread over that many lanes by a hash of their key, so
    /// records with the same key stay in order; checkpoints only move past
    /// batches whose every lane is done. Example: `parallelization_factor = 4`.
    #[serde(default = "one")]
    pub parallelization_factor: usize,
    /// The most record bytes the pipeline holds in flight, in MiB: batches
    /// read and not yet written by every sink (1 to 1048576; default 64).
    /// When it is reached the source is not read until a batch is done,
    /// so a slow sink slows the source instead of growing memory. A batch
    /// counts its input records' bytes (keys, values, headers); records a
    /// stage makes are bounded by the stage's `limits.output_mb`.
    /// Example: `max_in_flight_mb = 256`.
    #[serde(default = "default_in_flight_mb")]
    pub max_in_flight_mb: u64,
    /// Record filtering by event patterns, before any stage.
    #[serde(default)]
    pub filter: FilterConfig,
    /// Plugin stages, in order.
    #[serde(default)]
    pub stages: Vec<StageConfig>,
    /// Routing rules, in order. Without routes every output goes to every
    /// sink except the `errors.on_failure` one.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Named sinks.
    pub sinks: BTreeMap<String, ConnectorConfig>,
    /// How the pipeline samples its own series (`[monitor]`): see
    /// [`crate::monitor`].
    #[serde(default)]
    pub monitor: crate::monitor::MonitorSettings,
    /// Alarms over those series (`[[alarms]]`): see [`crate::monitor`].
    #[serde(default)]
    pub alarms: Vec<crate::monitor::AlarmConfig>,
    /// Failure handling.
    #[serde(default)]
    pub errors: ErrorsConfig,
    /// The plugin engine (used by `weir run`; an embedder passes its own).
    #[serde(default)]
    pub engine: EngineSettings,
    /// The directory relative paths are resolved against (the config
    /// file's directory); not read from the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The file the config was read from, for error messages.
    #[serde(skip)]
    pub file: String,
    /// The config text, for locating keys in error messages.
    #[serde(skip)]
    pub text: String,
}

impl PipelineConfig {
    /// Reads and parses a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: None,
            key: String::new(),
            message: format!("cannot read the config file: {e}"),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_str(&text, &path.display().to_string(), &base)
    }

    /// Parses config text; `file` names it in errors and `base_dir` anchors
    /// relative paths.
    pub fn from_str(text: &str, file: &str, base_dir: &Path) -> Result<Self, ConfigError> {
        let mut config: PipelineConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            ConfigError {
                file: file.to_string(),
                line,
                key: String::new(),
                message: e.message().trim().to_string(),
            }
        })?;
        config.base_dir = base_dir.to_path_buf();
        config.file = file.to_string();
        config.text = text.to_string();
        config.check()?;
        Ok(config)
    }

    /// An error about `key`, located in the file when possible.
    pub fn error(&self, key: &str, message: impl ToString) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            line: locate(&self.text, key),
            key: key.to_string(),
            message: message.to_string(),
        }
    }

    /// Resolves a path from the config against its directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }

    /// The data directory (state, checkpoints, default dead letters).
    pub fn data_dir(&self) -> PathBuf {
        match &self.data_dir {
            Some(d) => self.resolve(d),
            None => self.base_dir.join(".weir").join(&self.name),
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
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
        })
        .map_err(|e| self.error(&e.config_key(), e))?;
        self.routes()?;
        Ok(())
    }

    /// The routing rules, their conditions parsed.
    pub fn routes(&self) -> Result<Vec<Route>, ConfigError> {
        self.routes
            .iter()
            .enumerate()
            .map(|(i, r)| match (&r.when, r.otherwise) {
                (Some(_), true) => Err(self.error(
                    &format!("routes[{i}].otherwise"),
                    "a route has either `when` or `otherwise`, not both",
                )),
                (Some(when), false) => Condition::parse(when)
                    .map(|c| Route::when(&r.sink, c))
                    .map_err(|e| self.error(&format!("routes[{i}].when"), e)),
                (None, true) => Ok(Route::otherwise(&r.sink)),
                (None, false) => Ok(Route::all(&r.sink)),
            })
            .collect()
    }

    /// The filter patterns, compiled.
    pub fn patterns(&self) -> Result<Vec<Pattern>, ConfigError> {
        self.filter
            .patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                match p {
                    serde_json::Value::String(text) => Pattern::parse(text),
                    pattern => Pattern::compile(pattern),
                }
                .map_err(|e| self.error(&format!("filter.patterns[{i}]"), e))
            })
            .collect()
    }
}

fn one() -> usize {
    1
}

fn default_in_flight_mb() -> u64 {
    super::admission::DEFAULT_IN_FLIGHT_MB
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |t| t.matches('\n').count() + 1)
}

/// Finds the line of a dotted key such as `sinks.alerts.path` or
/// `stages[1].plugin`: the section header is found first, then the last
/// component after it. Best effort; `None` when not found.
fn locate(text: &str, key: &str) -> Option<usize> {
    let parts: Vec<&str> = key.split('.').collect();
    let (last, sections) = parts.split_last()?;
    let mut from = 0usize;
    let mut section = String::new();
    for part in sections {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (*part, None),
        };
        if section.is_empty() {
            section = name.to_string();
        } else {
            section = format!("{section}.{name}");
        }
        let header = match index {
            Some(_) => format!("[[{section}]]"),
            None => format!("[{section}]"),
        };
        let mut seen = 0usize;
        let mut found = None;
        for (line_no, line) in text.lines().enumerate().skip(from) {
            if line.trim() == header {
                if index.is_none_or(|i| i == seen) {
                    found = Some(line_no);
                    break;
                }
                seen += 1;
            }
        }
        if let Some(f) = found {
            from = f;
        }
    }
    let last = last.split('[').next().unwrap_or(last);
    for (line_no, line) in text.lines().enumerate().skip(from) {
        let t = line.trim_start();
        if (t.starts_with(last) && t[last.len()..].trim_start().starts_with('='))
            || t.starts_with(&format!("[{last}]"))
            || t.contains(&format!("{last} ="))
        {
            return Some(line_no + 1);
        }
    }
    (from > 0).then_some(from + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
name = "p"
[source]
type = "generator"
count = 10

[[stages]]
name = "a"
plugin = "a.wasm"

[[stages]]
name = "b"
plugin = "b.wasm"

[sinks.out]
type = "stdout"
"#;

    #[test]
    fn parses_and_locates_keys() -> Result<(), ConfigError> {
        let c = PipelineConfig::from_str(OK, "p.toml", Path::new("/x"))?;
        assert_eq!(c.stages.len(), 2);
        assert_eq!(locate(OK, "stages[1].plugin"), Some(13));
        assert_eq!(locate(OK, "sinks.out.type"), Some(16));
        assert_eq!(c.resolve(Path::new("a.wasm")), PathBuf::from("/x/a.wasm"));
        Ok(())
    }

    #[test]
    fn engine_settings_default_to_deadlines_on() -> Result<(), ConfigError> {
        let c = PipelineConfig::from_str(OK, "p.toml", Path::new("."))?;
        assert!(c.engine.deadlines && c.engine.engine_config().deadlines);
        let text = format!("{OK}\n[engine]\ndeadlines = false\n");
        let c = PipelineConfig::from_str(&text, "p.toml", Path::new("."))?;
        assert!(!c.engine.engine_config().deadlines);
        Ok(())
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let text = OK.replace("plugin = \"b.wasm\"", "plugin = \"b.wasm\"\nplugn = 3");
        let err = PipelineConfig::from_str(&text, "p.toml", Path::new(".")).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("p.toml:14"), "{msg}");
        assert!(msg.contains("plugn"), "{msg}");
    }

    #[test]
    fn unknown_route_sink_is_an_error() {
        let text = format!("{OK}\n[[routes]]\nsink = \"nope\"\n");
        let msg = PipelineConfig::from_str(&text, "p.toml", Path::new("."))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.contains("routes[0].sink") && msg.contains("unknown sink `nope`"),
            "{msg}"
        );
    }

    #[test]
    fn alarms_and_the_monitor_are_read_and_checked() -> Result<(), ConfigError> {
        let text = format!(
            "{OK}\n[monitor]\nperiod = \"500ms\"\n\n[[alarms]]\nname = \"errors\"\nmetric = \"error_ratio\"\nabove = 0.1\nto = \"out\"\n\n[[alarms]]\nname = \"slow\"\nmetric = \"latency_p99\"\nstage = \"b\"\ndirection = \"above\"\nraise_after = 2\nperiods = 3\n"
        );
        let c = PipelineConfig::from_str(&text, "p.toml", Path::new("."))?;
        assert_eq!(c.monitor.period.0, std::time::Duration::from_millis(500));
        assert_eq!(c.alarms.len(), 2);
        assert_eq!(c.alarms[0].to, ["out"]);
        assert_eq!(c.alarms[1].direction, crate::monitor::Side::Above);
        assert_eq!((c.alarms[1].raise_after, c.alarms[1].periods), (2, 3));
        let fails = |extra: &str| {
            PipelineConfig::from_str(&format!("{OK}\n{extra}"), "p.toml", Path::new("."))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let msg = fails("[[alarms]]\nname = \"x\"\nmetric = \"latency\"\n");
        assert!(
            msg.contains("alarms[0].metric") && msg.contains("unknown metric `latency`"),
            "{msg}"
        );
        let msg = fails("[[alarms]]\nname = \"x\"\nmetric = \"latency_p50\"\nstage = \"z\"\n");
        assert!(
            msg.contains("alarms[0].stage") && msg.contains("no stage `z`"),
            "{msg}"
        );
        let msg = fails("[[alarms]]\nname = \"x\"\nmetric = \"written\"\nto = \"pager\"\n");
        assert!(
            msg.contains("alarms[0].to") && msg.contains("no sink `pager`"),
            "{msg}"
        );
        let msg = fails("[[alarms]]\nname = \"x\"\nmetric = \"written\"\nwarmup = 99\n");
        assert!(msg.contains("alarms[0].warmup"), "{msg}");
        let msg =
            fails("[[alarms]]\nname = \"x\"\nmetric = \"written\"\nraise_after = 4\nperiods = 3\n");
        assert!(msg.contains("alarms[0].raise_after"), "{msg}");
        let msg = fails("[monitor]\nperiod = \"10ms\"\n");
        assert!(msg.contains("monitor.period"), "{msg}");
        let msg =
            fails("[monitor]\nenabled = false\n\n[[alarms]]\nname = \"x\"\nmetric = \"written\"\n");
        assert!(
            msg.contains("alarms[0]") && msg.contains("need the monitor"),
            "{msg}"
        );
        Ok(())
    }
}
