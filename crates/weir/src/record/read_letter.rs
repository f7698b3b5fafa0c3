//! Reading dead letters back from what the failure destination got, to
//! replay them.

use serde_json::Value;

use super::{Bytes, DeadLetter, Header, Position, Record};

/// Why something read from a failure destination is not a dead letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a dead letter: {0}")]
pub struct NotADeadLetter(pub String);

/// The bytes a JSON value of [`crate::envelope::bytes_json`] stands for:
/// a string's text, `{"base16": …}` decoded, other JSON as compact text.
/// (A value that was itself a JSON string comes back without its quotes.)
fn bytes_of(v: &Value) -> Result<Bytes, NotADeadLetter> {
    match v {
        Value::String(s) => Ok(Bytes::from(s.clone().into_bytes())),
        Value::Object(m) if m.len() == 1 && m.contains_key("base16") => {
            let hex = m.get("base16").and_then(Value::as_str).unwrap_or_default();
            let digits: Option<Vec<u8>> = (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|d| u8::from_str_radix(d, 16).ok())
                })
                .collect();
            digits
                .map(Bytes::from)
                .ok_or_else(|| NotADeadLetter(format!("bad base16 `{hex}`")))
        }
        other => Ok(Bytes::from(other.to_string().into_bytes())),
    }
}

fn text(v: &Value, field: &str) -> Result<String, NotADeadLetter> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| NotADeadLetter(format!("no `{field}` text")))
}

impl DeadLetter {
    /// A dead letter from the JSON a file or stdout failure destination
    /// writes ([`DeadLetter::to_record`]'s value), or from an envelope
    /// whose `value` is that JSON.
    pub fn from_json(v: &Value) -> Result<DeadLetter, NotADeadLetter> {
        let v = match v.get("value") {
            Some(inner) if inner.get("error").is_some() && inner.get("stage").is_some() => inner,
            _ => v,
        };
        let position = match v.get("position") {
            Some(Value::Number(n)) => Position::Offset(
                n.as_u64()
                    .ok_or_else(|| NotADeadLetter(format!("bad position {n}")))?,
            ),
            Some(Value::String(s)) => Position::Sequence(s.as_str().into()),
            _ => return Err(NotADeadLetter("no `position`".into())),
        };
        let mut record = Record::new(
            bytes_of(v.get("value").unwrap_or(&Value::Null))?,
            position,
            v.get("timestamp_ms").and_then(Value::as_i64).unwrap_or(0),
        );
        record.key = match v.get("key") {
            None | Some(Value::Null) => None,
            Some(k) => Some(bytes_of(k)?),
        };
        Ok(DeadLetter {
            record,
            error: text(v, "error")?,
            stage: text(v, "stage")?,
            plugin: v.get("plugin").and_then(Value::as_str).map(str::to_string),
            plugin_version: v
                .get("plugin_version")
                .and_then(Value::as_str)
                .map(str::to_string),
            origin: text(v, "origin").unwrap_or_default(),
            partition: text(v, "partition").unwrap_or_default(),
            attempts: v
                .get("attempts")
                .and_then(Value::as_u64)
                .and_then(|a| u32::try_from(a).ok())
                .unwrap_or(1),
        })
    }

    /// A dead letter from a record a failure destination with headers
    /// (Kafka, Kinesis) got: the original record with
    /// [`DeadLetter::context_headers`]; those headers are taken off again.
    pub fn from_original(record: &Record) -> Result<DeadLetter, NotADeadLetter> {
        let get = |name: &str| {
            record
                .headers
                .iter()
                .rev()
                .find(|h| &*h.name == name)
                .map(|h| String::from_utf8_lossy(&h.value).into_owned())
        };
        let error =
            get("weir.error").ok_or_else(|| NotADeadLetter("no `weir.error` header".into()))?;
        let stage =
            get("weir.stage").ok_or_else(|| NotADeadLetter("no `weir.stage` header".into()))?;
        let mut original = record.clone();
        original
            .headers
            .retain(|h: &Header| !h.name.starts_with("weir."));
        let origin = get("weir.origin").unwrap_or_default();
        let partition = get("weir.partition").unwrap_or_default();
        Ok(DeadLetter {
            error,
            stage,
            plugin: get("weir.plugin"),
            plugin_version: get("weir.plugin.version"),
            partition: if origin.is_empty() {
                partition
            } else {
                format!("{origin}/{partition}")
            },
            origin,
            attempts: get("weir.attempts")
                .and_then(|a| a.parse().ok())
                .unwrap_or(1),
            record: original,
        })
    }
}
