//! Reading JSON-lines input into records.

use std::io::BufRead;

use serde_json::Value;

use crate::{Position, Record};

/// How input lines become records: which top-level JSON fields carry the
/// key and the event time.
#[derive(Debug, Clone, Default)]
pub struct Fields<'a> {
    /// The field whose value is the record's key (a string as it is, any
    /// other value as JSON text).
    pub key: Option<&'a str>,
    /// The field whose integer value is the record's event time in
    /// milliseconds.
    pub time: Option<&'a str>,
}

/// The non-blank lines of `input` as records whose position is the line
/// number (from 1); with `fields`, a JSON line's fields give the key and the
/// event time (milliseconds).
pub fn read_records(input: impl BufRead, fields: &Fields<'_>) -> std::io::Result<Vec<Record>> {
    let mut records = Vec::new();
    for (i, line) in input.split(b'\n').enumerate() {
        let mut line = line?;
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed: Option<Value> = match (fields.key, fields.time) {
            (None, None) => None,
            _ => serde_json::from_slice(&line).ok(),
        };
        let field = |name: Option<&str>| parsed.as_ref().zip(name).and_then(|(v, f)| v.get(f));
        let key = field(fields.key).map(|k| match k {
            Value::String(s) => s.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        });
        let time = field(fields.time).and_then(Value::as_i64).unwrap_or(0);
        let mut record = Record::new(line, Position::Offset(i as u64 + 1), time);
        record.key = key.map(crate::Bytes::from);
        records.push(record);
    }
    Ok(records)
}

/// The line number a record was read from.
pub fn line(record: &Record) -> u64 {
    match record.position {
        Position::Offset(o) => o,
        Position::Sequence(_) => 0,
    }
}
