//! Entry points for the fuzz targets (`fuzz/` in the repository) into code
//! that is not public. Not part of the API: hidden from the docs, and may
//! change at any time.

use serde_json::{Map, Value};

use crate::pattern::Pattern;
use crate::pipeline::filter::{RecordFilter, headers_object};
use crate::record::{Position, Record};

/// Whether a pipeline's `[filter]` of `patterns` keeps each of `records`
/// from `origin`/`partition` (it parses record values only as far as the
/// patterns read); `None` without patterns.
pub fn filter_keeps(
    patterns: &[Pattern],
    records: &[Record],
    origin: &str,
    partition: &str,
) -> Option<Vec<bool>> {
    let filter = RecordFilter::new(patterns.to_vec())?;
    Some(
        records
            .iter()
            .map(|r| filter.keeps(r, origin, partition))
            .collect(),
    )
}

/// A record as filter patterns see it, every field there and the whole
/// value parsed: the view selective parsing must agree with.
pub fn full_view(r: &Record, origin: &str, partition: &str) -> Value {
    let mut m = Map::new();
    if let Ok(v) = serde_json::from_slice::<Value>(&r.value) {
        m.insert("data".into(), v.clone());
        m.insert("value".into(), v);
    }
    if let Some(k) = r.key.as_deref().and_then(|k| std::str::from_utf8(k).ok()) {
        m.insert("key".into(), Value::String(k.to_string()));
    }
    if !r.headers.is_empty() {
        m.insert("headers".into(), headers_object(&r.headers));
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
