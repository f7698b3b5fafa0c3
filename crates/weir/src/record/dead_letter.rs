//! Failed records with their error context, for the failure destination.

use serde_json::json;

use super::{Header, Position, Record};

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
    /// A record that failed in `stage`, a plugin stage: the plugin's name
    /// and version (the digest of its component) go with it.
    #[must_use]
    pub fn in_plugin(mut self, name: &str, version: &str) -> Self {
        self.plugin = Some(name.to_string());
        self.plugin_version = Some(version.to_string());
        self
    }

    /// A record that failed at `stage`: a stage name, `sink:<name>`, or
    /// `source` (see [`DeadLetter::stage`]); add the plugin with
    /// [`DeadLetter::in_plugin`].
    pub fn new(
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

    /// The error context as record headers, for sinks that keep the
    /// original bytes as the value: `weir.error`, `weir.stage`,
    /// `weir.plugin` and `weir.plugin.version` (when a plugin failed it),
    /// `weir.origin` (source topic, stream or file), `weir.partition` (without
    /// the origin), `weir.position` (offset or sequence number) and
    /// `weir.attempts`.
    pub fn context_headers(&self) -> Vec<Header> {
        let mut h = vec![
            header("weir.error", &self.error),
            header("weir.stage", &self.stage),
        ];
        if let Some(p) = &self.plugin {
            h.push(header("weir.plugin", p));
        }
        if let Some(v) = &self.plugin_version {
            h.push(header("weir.plugin.version", v));
        }
        // Sources reading several origins qualify partition names with
        // their origin (`topic/3`); the header holds the partition alone.
        let partition = self
            .partition
            .strip_prefix(self.origin.as_str())
            .and_then(|p| p.strip_prefix('/'))
            .unwrap_or(&self.partition);
        h.push(header("weir.origin", &self.origin));
        h.push(header("weir.partition", partition));
        h.push(header("weir.position", &self.record.position.to_string()));
        h.push(header("weir.attempts", &self.attempts.to_string()));
        h
    }

    /// The original record (key, value, headers, timestamp) with
    /// [`DeadLetter::context_headers`] appended.
    pub fn to_original(&self) -> Record {
        let mut out = self.record.clone();
        out.score = None;
        out.labels.clear();
        out.headers.extend(self.context_headers());
        out
    }

    /// The record written to the failure destination by sinks without
    /// headers of their own (files, stdout): the original key and headers,
    /// a JSON value with the error context and the original value (as JSON
    /// when it is JSON, else as a string, else base16), plus
    /// `weir.error`/`weir.stage` headers.
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
        let mut headers = r.headers.clone();
        headers.push(header("weir.error", &self.error));
        headers.push(header("weir.stage", &self.stage));
        Record {
            key: r.key.clone(),
            value: value.to_string().into(),
            headers,
            timestamp_ms: r.timestamp_ms,
            position: r.position.clone(),
            score: None,
            labels: Vec::new(),
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::new(name, value.to_string())
}
