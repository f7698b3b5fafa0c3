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

use crate::pattern::{Fields, Pattern, PatternSet};
use crate::record::{Header, Position, Record};

/// The compiled `[filter]` of a pipeline.
#[derive(Debug)]
pub(crate) struct RecordFilter {
    set: PatternSet,
    /// The fields the patterns read below `value` and `data` together,
    /// if they read either: the record value is parsed only that far.
    value_fields: Option<Fields>,
    /// Which fields of the view the patterns read; the others are left out.
    reads: Reads,
}

/// Which top-level fields of the record view some pattern reads.
#[derive(Debug, Clone, Copy)]
struct Reads {
    value: bool,
    data: bool,
    key: bool,
    headers: bool,
    origin: bool,
    partition: bool,
    offset: bool,
    sequence: bool,
    timestamp: bool,
}

impl Reads {
    fn of(fields: &Fields) -> Reads {
        let reads = |name| fields.get(name).is_some();
        Reads {
            value: reads("value"),
            data: reads("data"),
            key: reads("key"),
            headers: reads("headers"),
            origin: reads("origin"),
            partition: reads("partition"),
            offset: reads("offset"),
            sequence: reads("sequence"),
            timestamp: reads("timestamp"),
        }
    }
}

impl RecordFilter {
    /// A filter of `patterns`; `None` when there are none.
    pub(crate) fn new(patterns: Vec<Pattern>) -> Option<Self> {
        if patterns.is_empty() {
            return None;
        }
        let set = PatternSet::new(patterns);
        let fields = set.fields();
        let reads = Reads::of(fields);
        let value_fields = (reads.value || reads.data).then(|| {
            let mut merged = Fields::default();
            for name in ["value", "data"] {
                if let Some(below) = fields.get(name) {
                    merged.merge(below);
                }
            }
            merged
        });
        Some(RecordFilter {
            set,
            value_fields,
            reads,
        })
    }

    /// Whether any pattern matches `record` from `origin`/`partition`.
    pub(crate) fn keeps(&self, record: &Record, origin: &str, partition: &str) -> bool {
        self.set.matches(&self.view(record, origin, partition))
    }

    /// The record as the patterns see it, holding only the fields they read
    /// (which matches as the full view would). The value is parsed once,
    /// keeping only what the patterns read below `value` and `data`.
    fn view(&self, r: &Record, origin: &str, partition: &str) -> Value {
        let reads = self.reads;
        let mut m = Map::new();
        if let Some(Ok(v)) = self.value_fields.as_ref().map(|f| f.parse(&r.value)) {
            match (reads.value, reads.data) {
                (true, true) => {
                    m.insert("data".into(), v.clone());
                    m.insert("value".into(), v);
                }
                (true, false) => {
                    m.insert("value".into(), v);
                }
                (false, _) => {
                    m.insert("data".into(), v);
                }
            }
        }
        if reads.key
            && let Some(k) = r.key.as_deref().and_then(|k| std::str::from_utf8(k).ok())
        {
            m.insert("key".into(), Value::String(k.to_string()));
        }
        if reads.headers && !r.headers.is_empty() {
            m.insert("headers".into(), headers_object(&r.headers));
        }
        if reads.origin {
            m.insert("origin".into(), Value::String(origin.to_string()));
        }
        if reads.partition {
            m.insert("partition".into(), Value::String(partition.to_string()));
        }
        match &r.position {
            Position::Offset(o) if reads.offset => {
                m.insert("offset".into(), Value::from(*o));
            }
            Position::Sequence(s) if reads.sequence => {
                m.insert("sequence".into(), Value::String(s.to_string()));
            }
            _ => {}
        }
        if reads.timestamp {
            m.insert("timestamp".into(), Value::from(r.timestamp_ms));
        }
        Value::Object(m)
    }
}

/// A record's headers as patterns see them: an object of the UTF-8 ones.
pub(crate) fn headers_object(headers: &[Header]) -> Value {
    let h: Map<String, Value> = headers
        .iter()
        .filter_map(|h| {
            Some((
                h.name.to_string(),
                Value::String(std::str::from_utf8(&h.value).ok()?.to_string()),
            ))
        })
        .collect();
    Value::Object(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzzing::full_view;
    use crate::pipeline::{ConfigError, PipelineConfig};

    fn filter(patterns: &str) -> Result<Option<RecordFilter>, ConfigError> {
        let text = format!(
            "name = \"p\"\n[source]\ntype = \"generator\"\n[filter]\npatterns = {patterns}\n[sinks.out]\ntype = \"stdout\"\n"
        );
        let config = PipelineConfig::from_str(&text, "p.toml", std::path::Path::new("."))?;
        Ok(RecordFilter::new(config.patterns()?))
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
    fn selective_parsing_keeps_what_the_full_view_keeps() -> Result<(), ConfigError> {
        let pattern_sets = [
            r#"['{"value": {"a": [1]}}']"#,
            r#"['{"data": {"b": {"c": ["x"]}}}', '{"value": {"a": [{"exists": false}]}}']"#,
            r#"['{"value": [{"exists": true}]}', '{"data": ["text"]}']"#,
            r#"['{"value": {"a": [{"anything-but": 1}]}, "partition": ["0"]}']"#,
            r#"['{"key": [{"prefix": "k"}], "headers": {"h": ["v"]}}', '{"sequence": ["9"]}']"#,
            r#"['{"offset": [{"numeric": [">", 1]}], "timestamp": [{"exists": true}]}']"#,
            r#"['{"origin": ["t"], "value": {"b": {"c": [{"exists": false}]}}}']"#,
            r#"['{"$or": [{"value": {"a": [2]}}, {"data": {"b": {"c": [null]}}}]}']"#,
        ];
        let values: [&[u8]; 14] = [
            br#"{"a": 1, "b": {"c": "x"}}"#,
            br#"{"a": 2, "b": {"c": null}, "z": [1, {"deep": true}]}"#,
            br#"{"a": [0, 1], "b": [{"c": "y"}, {"c": "x"}]}"#,
            br#"{"b": {"d": 1}}"#,
            br#""text""#,
            b"5",
            b"[]",
            b"not json",
            b"",
            br#"{"a": 1, "skipped": "\ud800"}"#,
            b"{\"a\": 1, \"skipped\": \"\xff\"}",
            br#"{"a": 1, "skipped": 1e400}"#,
            br#"{"a": 1, "a": 2}"#,
            br#"{"a": 1} trailing"#,
        ];
        for patterns in pattern_sets {
            let Some(f) = filter(patterns)? else {
                panic!("no filter for {patterns}");
            };
            for (i, value) in values.iter().enumerate() {
                let position = if i % 2 == 0 {
                    Position::Offset(i as u64)
                } else {
                    Position::Sequence("9".into())
                };
                let mut record = Record::new(value.to_vec(), position, 7);
                if i % 3 == 0 {
                    record = record
                        .with_key(b"key".to_vec())
                        .with_header("h", b"v".to_vec());
                }
                for partition in ["0", "1"] {
                    assert_eq!(
                        f.keeps(&record, "t", partition),
                        f.set.matches(&full_view(&record, "t", partition)),
                        "{patterns} on {:?}",
                        String::from_utf8_lossy(value)
                    );
                }
            }
        }
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
