//! Target `pattern`: the event-pattern parser and matcher.
//!
//! The input is lines of text. Every line is parsed as a pattern (the ones
//! that parse, up to [`MAX_PATTERNS`], form a [`PatternSet`]), and every
//! line is an event matched against them three ways: each [`Pattern`]
//! alone on the parsed event, the set on the parsed event, and the set
//! straight from the JSON text ([`PatternSet::matching_json`]). The three
//! must agree, and the text matcher must refuse exactly the text that
//! `serde_json` refuses. Then the patterns, as they are and put below
//! `value` or `data`, are a pipeline's `[filter]`, and each line the value
//! of a record: the filter (which parses a value only as far as its
//! patterns read) must keep exactly the records whose whole view the
//! patterns match. And the dotted-path rules must hold: a pattern with
//! its dotted keys nested (`{"a.b": [1]}` as `{"a": {"b": [1]}}`) matches
//! the same events, and an event without arrays matches the same patterns
//! with its objects flattened into dotted keys. A disagreement is a
//! finding like a panic.

use serde_json::{Map, Value, json};
use weir::pattern::{Pattern, PatternSet};
use weir::{Position, Record};

use crate::mutate::Rng;
use crate::{combine, error_signature, mix};

/// Most patterns in one set.
pub const MAX_PATTERNS: usize = 8;
/// Most events (lines) matched per input.
const MAX_EVENTS: usize = 16;

/// Tokens of the pattern language and of JSON.
pub const DICTIONARY: &[&[u8]] = &[
    b"\"prefix\"",
    b"\"suffix\"",
    b"\"equals-ignore-case\"",
    b"\"wildcard\"",
    b"\"anything-but\"",
    b"\"numeric\"",
    b"\"exists\"",
    b"\"cidr\"",
    b"\"exactly\"",
    b"\"$or\"",
    b"\">\"",
    b"\">=\"",
    b"\"<\"",
    b"\"<=\"",
    b"\"=\"",
    b"true",
    b"false",
    b"null",
    b"[",
    b"]",
    b"{",
    b"}",
    b":",
    b",",
    b"\"",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\n",
    b"\"*\"",
    b"\"a*b*c\"",
    b"\"\\\\*\"",
    b"\"10.0.0.0/8\"",
    b"\"10.0.0.5/32\"",
    b"\"::1/128\"",
    b"\"::ffff:10.0.0.1\"",
    b"\"2001:db8::/32\"",
    b"\"a.b\"",
    b"\"a.b.c\"",
    b"\"\xc3\x9f\"",
    b"\"\xc4\xb0\"",
    b"\"\xe1\xba\x9e\"",
    b"1e400",
    b"-0.0",
    b"5e-324",
    b"[[[[[[[[",
    b"{\"a\":{\"a\":{\"a\":",
];

/// Runs one input; see the module docs.
pub fn run(data: &[u8]) {
    exec(data);
}

/// Runs one input and returns its signature.
pub fn exec(data: &[u8]) -> u64 {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').take(MAX_EVENTS).collect();
    let mut sig = 0;
    let mut patterns = Vec::new();
    let mut values = Vec::new();
    for line in &lines {
        let Ok(text) = std::str::from_utf8(line) else {
            sig = mix(sig, 1);
            continue;
        };
        match Pattern::parse(text) {
            Ok(p) => {
                sig = mix(sig, 2);
                if patterns.len() < MAX_PATTERNS {
                    patterns.push(p);
                    if let Ok(v) = serde_json::from_str::<Value>(text) {
                        values.push(v);
                    }
                }
            }
            Err(e) => sig = mix(sig, error_signature(&e.to_string())),
        }
    }
    if patterns.is_empty() {
        return sig;
    }
    let set = PatternSet::new(patterns.clone());
    let mut events = Vec::new();
    for line in &lines {
        let parsed = serde_json::from_slice::<Value>(line);
        if let Ok(event) = &parsed {
            events.push(event.clone());
        }
        let from_text = set.matching_json(line);
        match (&parsed, &from_text) {
            (Ok(event), Ok(found)) => {
                let expected: Vec<usize> = patterns
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.matches(event))
                    .map(|(i, _)| i)
                    .collect();
                let in_set = set.matching(event);
                assert_eq!(
                    in_set, expected,
                    "the set and the patterns alone disagree on {event}"
                );
                assert_eq!(
                    *found, expected,
                    "matching the text and the parsed event disagree on {event}"
                );
                assert_eq!(set.matches(event), !expected.is_empty());
                assert_eq!(set.matches_json(line).ok(), Some(!expected.is_empty()));
                sig = mix(sig, 16 + expected.len() as u64);
            }
            (Err(e), Err(_)) => sig = mix(sig, error_signature(&e.to_string())),
            (Ok(event), Err(e)) => {
                panic!("serde_json parses the event {event} but the text matcher refuses it: {e}")
            }
            (Err(e), Ok(found)) => {
                panic!("serde_json refuses the event ({e}) but the text matcher matched {found:?}")
            }
        }
    }
    sig = combine(sig, dotted(&patterns, &values, &events));
    combine(sig, record_filter(patterns, &values, &lines))
}

/// A key that spells a path of non-empty names.
fn clean(key: &str) -> bool {
    !key.is_empty() && key != "$or" && !key.split('.').any(str::is_empty)
}

/// Inserts `value` at `key` of `m`, merging objects; `None` on a clash.
fn merge_into(m: &mut Map<String, Value>, key: String, value: Value) -> Option<()> {
    match (m.get_mut(&key), value) {
        (None, value) => {
            m.insert(key, value);
            Some(())
        }
        (Some(Value::Object(here)), Value::Object(there)) => {
            for (k, v) in there {
                merge_into(here, k, v)?;
            }
            Some(())
        }
        _ => None,
    }
}

/// `pattern` with every dotted key written as nested objects; `None` when
/// that is not the same pattern by the documented rule (a key with empty
/// names, a leaf and an object at one path).
fn nested(pattern: &Value) -> Option<Value> {
    let Value::Object(m) = pattern else {
        return Some(pattern.clone());
    };
    let mut out = Map::new();
    for (key, value) in m {
        let value = match (key.as_str(), value) {
            ("$or", Value::Array(branches)) => {
                let branches: Option<Vec<Value>> = branches.iter().map(nested).collect();
                merge_into(&mut out, key.clone(), Value::Array(branches?))?;
                continue;
            }
            (_, Value::Object(_)) => nested(value)?,
            _ => value.clone(),
        };
        if key.contains('.') {
            if !clean(key) {
                return None;
            }
            let mut names = key.split('.').rev();
            let mut v = value;
            let first = names.next_back()?;
            for name in names {
                v = json!({ name: v });
            }
            merge_into(&mut out, first.to_string(), v)?;
        } else {
            merge_into(&mut out, key.clone(), value)?;
        }
    }
    Some(Value::Object(out))
}

/// `event` with its objects flattened into dotted keys; `None` if it holds
/// an array, an empty object, a name that is not clean, or two spellings of
/// one path.
fn flattened(event: &Value) -> Option<Value> {
    fn walk(prefix: &str, v: &Value, out: &mut Map<String, Value>) -> Option<()> {
        match v {
            Value::Array(_) => None,
            Value::Object(m) if m.is_empty() => None,
            Value::Object(m) => {
                for (k, v) in m {
                    if !clean(k) {
                        return None;
                    }
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out)?;
                }
                Some(())
            }
            leaf => out
                .insert(prefix.to_string(), leaf.clone())
                .is_none()
                .then_some(()),
        }
    }
    let Value::Object(_) = event else {
        return None;
    };
    let mut out = Map::new();
    walk("", event, &mut out)?;
    Some(Value::Object(out))
}

/// The dotted-path equivalences of the module docs.
fn dotted(patterns: &[Pattern], values: &[Value], events: &[Value]) -> u64 {
    let mut sig = 0;
    let nested: Vec<(Pattern, &Value)> = values
        .iter()
        .filter_map(|v| {
            let n = nested(v)?;
            (n != *v).then(|| Pattern::compile(&n).ok().map(|p| (p, v)))?
        })
        .collect();
    sig = mix(sig, 48 + nested.len() as u64);
    for event in events {
        for (p, original) in &nested {
            let Ok(q) = Pattern::compile(original) else {
                continue;
            };
            assert_eq!(
                p.matches(event),
                q.matches(event),
                "{original} and its nested form disagree on {event}"
            );
        }
        if let Some(flat) = flattened(event)
            && flat != *event
        {
            sig = mix(sig, 64);
            for (p, v) in patterns.iter().zip(values) {
                assert_eq!(
                    p.matches(event),
                    p.matches(&flat),
                    "{v} matches {event} and its flattened form {flat} differently"
                );
            }
        }
    }
    sig
}

/// The pipeline's record filter on each line as a record value, against
/// the whole record view.
fn record_filter(mut patterns: Vec<Pattern>, values: &[Value], lines: &[&[u8]]) -> u64 {
    for (i, v) in values.iter().enumerate() {
        let field = if i % 2 == 0 { "value" } else { "data" };
        if let Ok(p) = Pattern::compile(&json!({ field: v })) {
            patterns.push(p);
        }
    }
    let records: Vec<Record> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let position = if i % 2 == 0 {
                Position::Offset(i as u64)
            } else {
                Position::Sequence(format!("4960{i}").into())
            };
            Record::new(line.to_vec(), position, 1_000 + i as i64)
                .with_key(b"k".to_vec())
                .with_header("h", b"v".to_vec())
        })
        .collect();
    let kept = weir::fuzzing::filter_keeps(&patterns, &records, "o", "0").unwrap_or_default();
    assert_eq!(
        kept.len(),
        records.len(),
        "a filter of patterns decides every record"
    );
    let mut sig = 0;
    for (record, kept) in records.iter().zip(kept) {
        let view = weir::fuzzing::full_view(record, "o", "0");
        let expected = patterns.iter().any(|p| p.matches(&view));
        assert_eq!(
            kept, expected,
            "the record filter and the whole record view {view} disagree"
        );
        sig = mix(sig, 32 + u64::from(expected));
    }
    sig
}

const NAMES: &[&str] = &[
    "a", "b", "c", "a.b", "b.c", "detail", "source", "x.y.z", "prefix", "numeric", "$or", "",
];
const TEXTS: &[&str] = &[
    "x",
    "ab",
    "AB",
    "abc",
    "",
    "10.0.0.1",
    "10.0.0.0/24",
    "::1",
    "straße",
    "STRASSE",
    "İ",
    "a*b",
    "*",
    "\\*",
];

fn text(rng: &mut Rng) -> Value {
    Value::String((*rng.pick(TEXTS)).to_string())
}

fn number(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => json!(0),
        1 => json!(rng.below(400)),
        2 => json!(-1.5),
        3 => json!(1e308),
        4 => json!(300.0),
        _ => json!(9_007_199_254_740_993u64),
    }
}

fn leaf_value(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 | 1 => text(rng),
        2 | 3 => number(rng),
        4 => json!(rng.one_in(2)),
        _ => Value::Null,
    }
}

fn condition(rng: &mut Rng) -> Value {
    match rng.below(16) {
        0..=3 => leaf_value(rng),
        4 => json!({"prefix": text(rng)}),
        5 => json!({"suffix": text(rng)}),
        6 => json!({"prefix": {"equals-ignore-case": text(rng)}}),
        7 => json!({"equals-ignore-case": text(rng)}),
        8 => json!({"wildcard": text(rng)}),
        9 => match rng.below(4) {
            0 => json!({"anything-but": text(rng)}),
            1 => json!({"anything-but": [text(rng), text(rng)]}),
            2 => json!({"anything-but": {"prefix": text(rng)}}),
            _ => json!({"anything-but": number(rng)}),
        },
        10 => match rng.below(3) {
            0 => json!({"numeric": [">", number(rng)]}),
            1 => json!({"numeric": [">=", number(rng), "<", number(rng)]}),
            _ => json!({"numeric": ["=", number(rng)]}),
        },
        11 => json!({"exists": rng.one_in(2)}),
        12 => json!({"cidr": text(rng)}),
        13 => json!({"exactly": text(rng)}),
        14 => json!({"suffix": {"equals-ignore-case": text(rng)}}),
        _ => json!({"wildcard": "*b*"}),
    }
}

fn pattern_object(rng: &mut Rng, depth: usize) -> Value {
    let mut m = Map::new();
    for _ in 0..1 + rng.below(3) {
        let name = (*rng.pick(NAMES)).to_string();
        let v = if depth < 3 && rng.one_in(3) {
            if rng.one_in(4) {
                let branches = (0..2 + rng.below(2))
                    .map(|_| pattern_object(rng, depth + 1))
                    .collect();
                m.insert("$or".into(), Value::Array(branches));
                continue;
            }
            pattern_object(rng, depth + 1)
        } else {
            Value::Array((0..1 + rng.below(3)).map(|_| condition(rng)).collect())
        };
        m.insert(name, v);
    }
    Value::Object(m)
}

fn event_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth < 3 { 10 } else { 6 }) {
        0..=5 => leaf_value(rng),
        6 | 7 => event_object(rng, depth + 1),
        _ => Value::Array(
            (0..rng.below(4))
                .map(|_| event_value(rng, depth + 1))
                .collect(),
        ),
    }
}

fn event_object(rng: &mut Rng, depth: usize) -> Value {
    let mut m = Map::new();
    for _ in 0..rng.below(4) {
        m.insert((*rng.pick(NAMES)).to_string(), event_value(rng, depth + 1));
    }
    Value::Object(m)
}

/// A pattern or two and a few events over the same field names and values.
pub fn generate(rng: &mut Rng) -> Vec<u8> {
    let mut lines = vec![if rng.one_in(10) {
        // Nesting around the 100-level limit of patterns.
        let depth = 95 + rng.below(10);
        let name = *rng.pick(NAMES);
        format!(
            "{}[{}]{}",
            format!("{{\"{name}\":").repeat(depth),
            condition(rng),
            "}".repeat(depth)
        )
    } else {
        pattern_object(rng, 0).to_string()
    }];
    if rng.one_in(3) {
        lines.push(pattern_object(rng, 0).to_string());
    }
    for _ in 0..1 + rng.below(4) {
        let mut event = event_object(rng, 0).to_string();
        if rng.one_in(3) {
            event = text_trick(rng, event);
        }
        lines.push(event);
    }
    lines.join("\n").into_bytes()
}

/// JSON text no [`Value`] writes: repeated keys, numbers spelled oddly or
/// out of range, escapes, nesting at the parsers' depth limits.
fn text_trick(rng: &mut Rng, event: String) -> String {
    const NUMBERS: &[&str] = &[
        "1e400",
        "-0",
        "1E5",
        "1.0e+2",
        "0.0000",
        "123456789012345678901234567890",
        "-9223372036854775809",
        "18446744073709551616",
        "01",
        "1.",
        "-",
        "2e-400",
    ];
    const STRINGS: &[&str] = &[
        "\"\\ud800\"",
        "\"\\udc00\\ud800\"",
        "\"\\ud83d\\ude00\"",
        "\"\\u0000\"",
        "\"\\/\"",
        "\"\u{7f}\"",
        "\"\t\"",
    ];
    let name = *rng.pick(NAMES);
    match rng.below(4) {
        0 => {
            let body = event.trim_start_matches('{');
            let value = leaf_value(rng);
            if body == "}" {
                format!("{{\"{name}\":{value},\"{name}\":{}}}", leaf_value(rng))
            } else {
                format!("{{\"{name}\":{value},{body}")
            }
        }
        1 => format!("{{\"{name}\":{}}}", rng.pick(NUMBERS)),
        2 => format!("{{\"{name}\":{}}}", rng.pick(STRINGS)),
        _ => {
            let depth = 120 + rng.below(12);
            let (open, close) = if rng.one_in(2) {
                ("[".repeat(depth), "]".repeat(depth))
            } else {
                (format!("{{\"{name}\":").repeat(depth), "}".repeat(depth))
            };
            format!("{{\"{name}\":{open}{}{close}}}", leaf_value(rng))
        }
    }
}
