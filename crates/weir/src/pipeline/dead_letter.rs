//! Failed records with their error context, for the failure destination.

use serde_json::json;

use crate::plugin::Plugin;
use crate::record::{Position, Record};

use super::stages::Stage;

/// A record that failed, with everything needed to understand and replay it.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The input record as the failing stage received it.
    pub record: Record,
    /// The error.
    pub error: String,
    /// Where it failed: a stage name, `sink:<name>` for a sink that did not
    /// take it, or `source` for a record too old to process.
    pub stage: String,
    /// The plugin name, when a plugin failed it.
    pub plugin: Option<String>,
    /// The plugin version (digest of its component), when a plugin failed it.
    pub plugin_version: Option<String>,
    /// Source topic/stream/file.
    pub origin: String,
    /// Source partition/shard.
    pub partition: String,
    /// How many times the record was tried.
    pub attempts: u32,
}

impl DeadLetter {
    /// A record that `stage`'s `plugin` failed.
    pub(crate) fn new(
        record: Record,
        origin: &str,
        partition: &str,
        stage: &Stage,
        plugin: &Plugin,
        error: String,
        attempts: u32,
    ) -> Self {
        DeadLetter {
            plugin: Some(plugin.name().to_string()),
            plugin_version: Some(plugin.info().digest.clone()),
            ..DeadLetter::outside(record, origin, partition, &stage.name, error, attempts)
        }
    }

    /// A record that failed outside any plugin: in a sink, or before any
    /// stage.
    pub(crate) fn outside(
        record: Record,
        origin: &str,
        partition: &str,
        stage: &str,
        error: String,
        attempts: u32,
    ) -> Self {
        DeadLetter {
            record,
            error,
            stage: stage.to_string(),
            plugin: None,
            plugin_version: None,
            origin: origin.to_string(),
            partition: partition.to_string(),
            attempts,
        }
    }

    /// The record written to the failure destination: the original key and
    /// headers, a JSON value with the error context and the original value
    /// (as JSON when it is JSON, else as a string, else base16), plus
    /// `weir-error`/`weir-stage` headers.
    pub fn to_record(&self) -> Record {
        let r = &self.record;
        let position = match &r.position {
            Position::Offset(o) => json!(o),
            Position::Sequence(s) => json!(s.as_ref()),
        };
        let value = json!({
            "error": self.error,
            "stage": self.stage,
            "plugin": self.plugin,
            "plugin_version": self.plugin_version,
            "origin": self.origin,
            "partition": self.partition,
            "position": position,
            "attempts": self.attempts,
            "timestamp_ms": r.timestamp_ms,
            "key": r.key.as_deref().map(super::envelope::bytes_json),
            "value": super::envelope::bytes_json(&r.value),
        });
        let mut out = Record {
            key: r.key.clone(),
            value: value.to_string().into_bytes(),
            headers: r.headers.clone(),
            timestamp_ms: r.timestamp_ms,
            position: r.position.clone(),
            score: None,
            labels: Vec::new(),
        };
        out = out.with_header("weir-error", self.error.as_bytes().to_vec());
        out.with_header("weir-stage", self.stage.as_bytes().to_vec())
    }
}
