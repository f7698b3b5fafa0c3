//! Reading JSON-lines input into records for `weir plugin test|bench`.

use std::io::BufRead as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;
use weir::{Position, Record};

/// How input lines become records: which top-level JSON fields carry the
/// key and the event time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields<'a> {
    pub(crate) key: Option<&'a str>,
    pub(crate) time: Option<&'a str>,
}

/// The non-blank lines of `input` (`-`: stdin) as records whose position is
/// the line number (from 1).
pub(crate) fn read(input: &Path, fields: &Fields<'_>) -> anyhow::Result<Vec<Record>> {
    let reader: Box<dyn std::io::BufRead> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(input)
            .with_context(|| format!("cannot open input `{}`", input.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut records = Vec::new();
    for (i, line) in reader.split(b'\n').enumerate() {
        let mut line = line.with_context(|| format!("reading `{}`", input.display()))?;
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
        record.key = key.map(weir::Bytes::from);
        records.push(record);
    }
    Ok(records)
}

/// The line number a record was read from.
pub(crate) fn line(record: &Record) -> u64 {
    match record.position {
        Position::Offset(o) => o,
        Position::Sequence(_) => 0,
    }
}
