//! Event-pattern filtering of records before any stage runs.
//!
//! Each record is seen by the patterns as one JSON object:
//!
//! | field | what |
//! |---|---|
//! | `value` | the record value parsed as JSON; absent when the value is not JSON |
//! | `data` | the same as `value` (the name Kinesis event filters use) |
//! | `key` | the key as a string, if the record has a UTF-8 key |
//! | `headers` | an object of header name → value (UTF-8 values only) |
//! | `origin` | the topic, stream or file |
//! | `partition` | the partition or shard, as a string |
//! | `offset` | the position, as a number (Kafka offsets, lines, generator counters) |
//! | `sequence` | the position, as a string (Kinesis sequence numbers) |
//! | `timestamp` | milliseconds since the Unix epoch |
//!
//! So `{"value": {"amount": [{"numeric": [">", 100]}]}}` keeps transactions
//! above 100, and `{"partition": ["0"]}` works whatever the value holds. As
//! with Lambda, a record whose value is not JSON never matches a pattern on
//! `value` or `data` fields.

use serde_json::{Map, Value};

use crate::pattern::{Pattern, PatternSet};
use crate::record::{Position, Record};

use super::ConfigError;
use super::config::PipelineConfig;

/// The compiled `[filter]` of a pipeline.
#[derive(Debug)]
pub(crate) struct RecordFilter {
    set: PatternSet,
}

impl RecordFilter {
    /// Compiles `filter.patterns`; `None` when there are none.
    pub(crate) fn new(config: &PipelineConfig) -> Result<Option<Self>, ConfigError> {
        if config.filter.patterns.is_empty() {
            return Ok(None);
        }
        let mut patterns = Vec::with_capacity(config.filter.patterns.len());
        for (i, p) in config.filter.patterns.iter().enumerate() {
            let key = format!("filter.patterns[{i}]");
            let json = match p {
                toml::Value::String(text) => Pattern::parse(text),
                table => {
                    let v = serde_json::to_value(table).map_err(|e| config.error(&key, e))?;
                    Pattern::compile(&v)
                }
            };
            patterns.push(json.map_err(|e| config.error(&key, e))?);
        }
        Ok(Some(RecordFilter {
            set: PatternSet::new(patterns),
        }))
    }

    /// Whether any pattern matches `record` from `origin`/`partition`.
    pub(crate) fn keeps(&self, record: &Record, origin: &str, partition: &str) -> bool {
        self.set.matches(&view(record, origin, partition))
    }
}

fn view(r: &Record, origin: &str, partition: &str) -> Value {
    let mut m = Map::new();
    if let Ok(v) = serde_json::from_slice::<Value>(&r.value) {
        m.insert("data".into(), v.clone());
        m.insert("value".into(), v);
    }
    if let Some(k) = r.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()) {
        m.insert("key".into(), Value::String(k.to_string()));
    }
    if !r.headers.is_empty() {
        let h: Map<String, Value> = r
            .headers
            .iter()
            .filter_map(|h| {
                Some((
                    h.name.clone(),
                    Value::String(std::str::from_utf8(&h.value).ok()?.to_string()),
                ))
            })
            .collect();
        m.insert("headers".into(), Value::Object(h));
    }
    m.insert("origin".into(), Value::String(origin.to_string()));
    m.insert("partition".into(), Value::String(partition.to_string()));
    match &r.position {
        Position::Offset(o) => m.insert("offset".into(), Value::from(*o)),
        Position::Sequence(s) => m.insert("sequence".into(), Value::String(s.to_string())),
    };
    m.insert("timestamp".into(), Value::from(r.timestamp_ms));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(patterns: &str) -> Result<Option<RecordFilter>, ConfigError> {
        let text = format!(
            "name = \"p\"\n[source]\ntype = \"generator\"\n[filter]\npatterns = {patterns}\n[sinks.out]\ntype = \"stdout\"\n"
        );
        let config = PipelineConfig::from_str(&text, "p.toml", std::path::Path::new("."))?;
        RecordFilter::new(&config)
    }

    #[test]
    fn matches_the_record_view() -> Result<(), ConfigError> {
        let f =
            filter(r#"['{"value": {"amount": [{"numeric": [">", 100]}]}}', { key = ["vip"] }]"#)?
                .ok_or_else(|| ConfigError {
                file: String::new(),
                line: None,
                key: String::new(),
                message: "no filter".into(),
            })?;
        let big = Record::new(br#"{"amount": 150}"#.to_vec(), Position::Offset(0), 0);
        let small = Record::new(br#"{"amount": 50}"#.to_vec(), Position::Offset(1), 0);
        let vip =
            Record::new(b"not json".to_vec(), Position::Offset(2), 0).with_key(b"vip".to_vec());
        let text = Record::new(b"not json".to_vec(), Position::Offset(3), 0);
        assert!(f.keeps(&big, "t", "0"));
        assert!(!f.keeps(&small, "t", "0"));
        assert!(
            f.keeps(&vip, "t", "0"),
            "metadata patterns match non-JSON records"
        );
        assert!(!f.keeps(&text, "t", "0"));
        Ok(())
    }

    #[test]
    fn invalid_patterns_name_their_position() {
        let err = filter(r#"['{"value": {"amount": [{"numeric": [">", "x"]}]}}']"#).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("filter.patterns[0]") && msg.contains("value.amount"),
            "{msg}"
        );
        assert!(matches!(filter("[]"), Ok(None)));
    }
}
