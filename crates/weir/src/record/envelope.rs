//! The JSON envelope used by sinks that write a record with its metadata.
//!
//! `{"key":…,"value":…,"headers":{…},"timestamp_ms":…,"position":…,"score":…,"labels":[…]}`
//! — a value (or key, or header value) that is JSON is embedded verbatim,
//! byte for byte; other UTF-8 text becomes a JSON string; other bytes become
//! `{"base16":"…"}`. `headers`, `score` and `labels` appear only when set.

use serde_json::{Value, json};

use super::{Position, Record};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A byte string as a JSON value: parsed JSON if it is JSON, else a string
/// if it is UTF-8, else `{"base16": "…"}`.
pub fn bytes_json(bytes: &[u8]) -> Value {
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return v;
    }
    text_json(bytes)
}

fn text_json(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_string()),
        Err(_) => json!({ "base16": hex(bytes) }),
    }
}

/// Appends `bytes` as one JSON value: verbatim (without surrounding
/// whitespace) when it is valid JSON, else a JSON string when it is UTF-8,
/// else `{"base16": "…"}`. Used for the `value` of the envelope, and by sinks
/// that send record values inside a JSON document.
pub fn write_embedded(out: &mut Vec<u8>, bytes: &[u8]) {
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
        out.extend_from_slice(bytes.trim_ascii());
    } else {
        write_value(out, &text_json(bytes));
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    // Writing a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
}

/// Appends the envelope of `r` (one JSON object, no newline) to `out`.
pub fn write_envelope(out: &mut Vec<u8>, r: &Record) {
    out.extend_from_slice(b"{\"key\":");
    match &r.key {
        Some(k) => write_value(out, &text_json(k)),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"value\":");
    write_embedded(out, &r.value);
    if !r.headers.is_empty() {
        out.extend_from_slice(b",\"headers\":{");
        for (i, h) in r.headers.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_value(out, &Value::String(h.name.to_string()));
            out.push(b':');
            write_value(out, &text_json(&h.value));
        }
        out.push(b'}');
    }
    out.extend_from_slice(format!(",\"timestamp_ms\":{}", r.timestamp_ms).as_bytes());
    out.extend_from_slice(b",\"position\":");
    match &r.position {
        Position::Offset(o) => out.extend_from_slice(o.to_string().as_bytes()),
        Position::Sequence(s) => write_value(out, &Value::String(s.to_string())),
    }
    if let Some(s) = r.score {
        // The shortest decimal that round-trips the f64 (`0.85`, `1e-300`);
        // JSON has no NaN or infinity.
        out.extend_from_slice(b",\"score\":");
        write_value(out, &json!(s));
    }
    if !r.labels.is_empty() {
        out.extend_from_slice(b",\"labels\":");
        write_value(out, &json!(r.labels));
    }
    out.push(b'}');
}

/// The envelope of `r` as a JSON value.
pub fn envelope(r: &Record) -> Value {
    let mut buf = Vec::new();
    write_envelope(&mut buf, r);
    serde_json::from_slice(&buf).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeds_json_verbatim_and_escapes_the_rest() {
        let mut r = Record::new(br#"{"b":1,"a":2}"#.to_vec(), Position::Offset(3), 9)
            .with_key(b"k".to_vec());
        r.score = Some(0.85);
        r.labels = vec!["velocity".into()];
        let mut out = Vec::new();
        write_envelope(&mut out, &r);
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"key":"k","value":{"b":1,"a":2},"timestamp_ms":9,"position":3,"score":0.85,"labels":["velocity"]}"#
        );
        let r = Record::new(b"not \"json\"".to_vec(), Position::Offset(0), 0)
            .with_header("h", vec![0xff]);
        let v = envelope(&r);
        assert_eq!(v["value"], "not \"json\"");
        assert_eq!(v["headers"]["h"]["base16"], "ff");
    }
}
