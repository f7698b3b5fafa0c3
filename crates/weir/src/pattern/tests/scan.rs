//! The JSON scanner and selective parsing: both must accept exactly what
//! serde_json accepts, and keep exactly the values it reads.

use serde_json::{Map, Value, json};

use super::pat;
use crate::pattern::PatternSet;
use crate::pattern::fields::Fields;
use crate::pattern::pruned::select;
use crate::pattern::scan::{MAX_DEPTH, Scanner};

/// Whether the scanner accepts `bytes`, skipping the whole value.
fn skips(bytes: &[u8]) -> bool {
    let mut s = Scanner::new(bytes);
    s.skip_value(0).and_then(|()| s.finish()).is_ok()
}

/// Whether serde_json parses `bytes` into a `Value`.
fn serde_accepts(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes).is_ok()
}

/// The fields read by a few patterns over the keys `a`, `b`, `s`, `n`.
fn some_fields() -> Fields {
    PatternSet::new(vec![
        pat(json!({"a": {"b": [1], "s": ["x"]}, "n": [{"exists": true}]})),
        pat(json!({"s": [{"prefix": "p"}], "a": {"n": {"b": [null]}}})),
    ])
    .fields()
    .clone()
}

/// `value` with only `fields` kept in objects, as selective parsing keeps.
fn prune(value: &Value, fields: &Fields) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter_map(|(k, v)| fields.get(k).map(|inner| (k.clone(), prune(v, inner))))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| prune(v, fields)).collect()),
        leaf => leaf.clone(),
    }
}

/// Checks that the scanner (skipping, and selecting `fields`) agrees with
/// serde_json on `bytes`, and that the selected value is serde_json's value
/// pruned to `fields`.
#[track_caller]
fn agrees(bytes: &[u8], fields: &Fields) {
    let shown = String::from_utf8_lossy(bytes);
    let expected = serde_json::from_slice::<Value>(bytes).ok();
    assert_eq!(skips(bytes), expected.is_some(), "skipping {shown:?}");
    let selected = select(bytes, fields).ok();
    assert_eq!(
        selected,
        expected.as_ref().map(|v| prune(v, fields)),
        "selecting from {shown:?}"
    );
    let read = fields.doc(bytes).ok().map(|doc| doc.to_value());
    assert_eq!(
        read,
        expected.as_ref().map(|v| prune(v, fields)),
        "reading {shown:?}"
    );
    let parsed = fields.parse(bytes).ok().map(|v| prune(&v, fields));
    assert_eq!(parsed, expected.map(|v| prune(&v, fields)), "{shown:?}");
}

const VALID: &[&str] = &[
    "{}",
    "[]",
    " \t\r\n{ \"a\" : { \"b\" : 1 , \"s\" : \"x\" } }\n ",
    r#"{"a": [{"b": 1}, {"b": [2, [3, {"b": 4}]]}, 5, "6", null]}"#,
    r#"{"a": {"b": true, "n": {"b": null, "c": false}}, "z": {"deep": [[[{}]]]}}"#,
    r#""top-level string""#,
    "123",
    "-0",
    "true",
    "null",
    r#"{"s": "\"\\\/\b\f\n\r\t\u0000\u001f\u00e9\u20ac\ud83d\ude00", "t": "\ud83d\ude00"}"#,
    r#"{"\u0073": "escaped key", "\u0061": {"\u0062": 1}}"#,
    "{\"s\": \"caf\u{e9} \u{1f600} \u{7f}\", \"x\": \"\u{10ffff}\"}",
    r#"{"n": [0, -0, 1, -1, 1.5, -1.5e3, 2E+2, 3e-2, 0.0, 1e308, 1e-400, 0e99999999999]}"#,
    r#"{"n": [18446744073709551615, 18446744073709551616, -9223372036854775808, -9223372036854775809]}"#,
    r#"{"n": 123456789012345678901234567890.123456789e-10, "z": 9.999e299}"#,
    r#"{"a": 1, "a": {"b": 1}, "s": "first", "s": "second"}"#,
    r#"{"a": {"b": 1, "b": 2}, "a": {"s": "x"}}"#,
];

const INVALID: &[&str] = &[
    "",
    " ",
    "{",
    "}",
    "[",
    "[1,]",
    "[,1]",
    "[1 2]",
    "{\"a\" 1}",
    "{\"a\":}",
    "{\"a\":1,}",
    "{,\"a\":1}",
    "{\"a\":1 \"b\":2}",
    "{a: 1}",
    "{1: 1}",
    "{} x",
    "{}}",
    "[]]",
    "[}",
    "{]",
    "not json",
    "tru",
    "nul",
    "True",
    "nulll",
    "\"unterminated",
    "\"bad escape \\x\"",
    "\"short \\u12\"",
    "\"bad hex \\u12G4\"",
    "\"lone high \\ud800\"",
    "\"lone high \\ud800x\"",
    "\"high then non-low \\ud800\\u0041\"",
    "\"high then escape \\ud800\\n\"",
    "\"lone low \\udc00\"",
    "\"tab\tinside\"",
    "\"newline\ninside\"",
    "01",
    "-",
    "--1",
    "+1",
    ".5",
    "1.",
    "1.e3",
    "1e",
    "1e+",
    "0x10",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e309",
    "-1e400",
    "{\"x\": 1e309}",
    "[123456789012345678901234567890e300]",
    "{\"a\": [1, 2}",
    "{\"a\": {\"b\": 1]}",
    "\u{feff}{}",
    r#"{"x": 1e400000000000000000000000, "s": "y"}"#,
];

#[test]
fn accepts_and_rejects_what_serde_json_does() {
    let fields = some_fields();
    for text in VALID {
        assert!(serde_accepts(text.as_bytes()), "{text:?} should be valid");
        agrees(text.as_bytes(), &fields);
        agrees(text.as_bytes(), &Fields::default());
    }
    for text in INVALID {
        assert!(
            !serde_accepts(text.as_bytes()),
            "{text:?} should be invalid"
        );
        agrees(text.as_bytes(), &fields);
    }
}

#[test]
fn big_numbers_are_checked_for_range() {
    let digits = "9".repeat(308);
    let fields = some_fields();
    for text in [
        format!("{{\"n\": {digits}}}"),
        format!("{{\"x\": {digits}}}"),
        format!("{{\"x\": {digits}9}}"),
        format!("{{\"n\": {digits}9}}"),
        format!("{{\"x\": 0.{digits}e309}}"),
        format!("{{\"x\": 0.{digits}e310}}"),
        "[1.7976931348623157e308, 1.7976931348623159e308]".to_owned(),
    ] {
        agrees(text.as_bytes(), &fields);
    }
}

#[test]
fn invalid_utf8_is_rejected_anywhere() {
    let fields = some_fields();
    for bytes in [
        &b"{\"s\": \"\xff\"}"[..],
        b"{\"skipped\": \"ok \xc3\x28\"}",
        b"{\"\xe2\x82\": 1}",
        b"[\"\xed\xa0\x80\"]",
        b"\xff",
        b"{} \xff",
    ] {
        assert!(!serde_accepts(bytes));
        agrees(bytes, &fields);
    }
}

#[test]
fn nesting_is_limited_like_serde_json() {
    let fields = some_fields();
    for depth in [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let skipped = format!("{}{}", "{\"x\":[".repeat(depth / 2), "]}".repeat(depth / 2));
        for text in [arrays, objects, skipped] {
            agrees(text.as_bytes(), &fields);
        }
    }
    assert!(skips(
        format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH)).as_bytes()
    ));
}

#[test]
fn hostile_nesting_does_not_overflow_the_stack() {
    let fields = some_fields();
    for text in [
        "[".repeat(1_000_000),
        "{\"a\":".repeat(500_000),
        format!("{{\"x\": {}", "[{\"y\":".repeat(300_000)),
        format!("{}{}", "[".repeat(200_000), "]".repeat(200_000)),
    ] {
        assert!(!skips(text.as_bytes()));
        assert!(select(text.as_bytes(), &fields).is_err());
        assert!(fields.parse(text.as_bytes()).is_err());
    }
}

#[test]
fn escapes_decode_like_serde_json() {
    let set = PatternSet::new(vec![
        pat(json!({"s": ["a\"b\\c/d\u{8}\u{c}\n\r\t\u{0}é😀"]})),
        pat(json!({"a": {"b": ["x"]}})),
    ]);
    let text = r#"{"s": "a\"b\\c\/d\b\f\n\r\t\u0000\u00E9\uD83D\uDE00"}"#;
    assert_eq!(set.matching_json(text.as_bytes()).ok(), Some(vec![0]));
    let text = r#"{"\u0061": {"\u0062": "\u0078"}}"#;
    assert_eq!(set.matching_json(text.as_bytes()).ok(), Some(vec![1]));
    // Strings with escapes of every kind, long enough to be scanned in words.
    for text in [
        r#"{"s": "0123456789abcdef\"0123456789abcdef\\0123456789\u00e9abcdef"}"#,
        r#"{"x": "0123456789abcdef\"0123456789abcdef\\0123456789\u00e9abcdef", "s": "p"}"#,
        r#"{"s": "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\"", "a": {"s": "xxxxxxxxxxxxxxxxxxxxxxx\"x"}}"#,
    ] {
        agrees(text.as_bytes(), set.fields());
    }
}

#[test]
fn repeated_keys_keep_the_last_value() {
    let set = PatternSet::new(vec![pat(json!({"a": {"b": [1]}}))]);
    assert_eq!(
        set.matches_json(br#"{"a": {"b": 1}, "a": {"c": 1}}"#).ok(),
        Some(false)
    );
    assert_eq!(
        set.matches_json(br#"{"a": {"c": 1}, "a": {"b": 1}}"#).ok(),
        Some(true)
    );
    assert_eq!(
        set.matches_json(br#"{"a": {"b": 1, "b": 2}}"#).ok(),
        Some(false)
    );
    assert_eq!(
        set.matches_json(br#"{"a": {"b": 2, "b": 1}}"#).ok(),
        Some(true)
    );
}

#[test]
fn numbers_match_in_every_form() {
    let set = PatternSet::new(vec![
        pat(json!({"n": [300]})),
        pat(json!({"n": [{"numeric": ["<", 0]}]})),
        pat(json!({"n": [{"numeric": [">", 1e300]}]})),
        pat(json!({"n": [0]})),
    ]);
    for (text, expected) in [
        ("300", vec![0]),
        ("300.0", vec![0]),
        ("3e2", vec![0]),
        ("3.00E+2", vec![0]),
        ("30000e-2", vec![0]),
        ("-1", vec![1]),
        ("-1.5e-7", vec![1]),
        ("-9223372036854775809", vec![1]),
        ("18446744073709551616", vec![]),
        ("1e301", vec![2]),
        ("0", vec![3]),
        ("-0", vec![3]),
        ("0e5", vec![3]),
        ("1e-400", vec![3]),
    ] {
        let event = format!(r#"{{"skip": [1e5, -0.5, 12345678901234567890], "n": {text}}}"#);
        assert_eq!(
            set.matching_json(event.as_bytes()).ok(),
            Some(expected),
            "{event}"
        );
    }
    assert!(set.matches_json(br#"{"n": 1e400}"#).is_err());
    assert!(set.matches_json(br#"{"skip": 1e400, "n": 300}"#).is_err());
}

#[test]
fn string_ends_are_found_at_every_offset() {
    let fields = some_fields();
    for len in 0..20 {
        let pad = "x".repeat(len);
        for tail in [
            "", r#"\""#, r"\\", r"\u00e9", "\u{1}", "\u{1f}", "\u{7f}", "é", " ", "\u{ffff}",
        ] {
            for text in [
                format!("{{\"s\": \"{pad}{tail}\", \"x\": \"{pad}{tail}{pad}\"}}"),
                format!("[\"{tail}{pad}\"]"),
            ] {
                agrees(text.as_bytes(), &fields);
            }
        }
    }
}

use super::Rng;

#[test]
fn mutated_documents_agree_with_serde_json() {
    const SEEDS: &[&str] = &[
        r#"{"a": {"b": [1, 2.5e-3, {"s": "x\"y", "b": null}], "s": "p\u00e9"}, "n": [true, false]}"#,
        r#"[{"z": {"deep": [[], {}, "", -0.0]}}, {"a": {"n": {"b": null}}}, "\ud83d\ude00"]"#,
        r#"{"s": "prefix and a longer string, with escapes \\ \/ \t", "x": 18446744073709551616}"#,
    ];
    const ALPHABET: &[u8] = b"{}[]:,\"\\ 0123456789-+.eEtrufalsnxu\t\n\x01\xc3\xa9\xff";
    let fields = some_fields();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut valid = 0;
    for round in 0..20_000 {
        let seed = SEEDS.get(round % SEEDS.len()).copied().unwrap_or("{}");
        let mut bytes = seed.as_bytes().to_vec();
        for _ in 0..=rng.below(3) {
            let at = rng.below(bytes.len() + 1);
            let b = ALPHABET
                .get(rng.below(ALPHABET.len()))
                .copied()
                .unwrap_or(b' ');
            match rng.below(3) {
                0 => bytes.insert(at, b),
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ if at < bytes.len() => {
                    if let Some(slot) = bytes.get_mut(at) {
                        *slot = b;
                    }
                }
                _ => bytes.push(b),
            }
        }
        valid += usize::from(serde_accepts(&bytes));
        agrees(&bytes, &fields);
    }
    assert!(
        valid > 1000,
        "mutations should keep some documents valid ({valid})"
    );
}

#[test]
fn many_members_and_repeated_keys() {
    let mut patterns = Vec::new();
    for i in 0..20 {
        patterns.push(pat(json!({ format!("k{i}"): [i] })));
        patterns.push(pat(
            json!({ format!("k{i}"): [{"exists": false}], "z": [true] }),
        ));
    }
    let set = PatternSet::new(patterns.clone());
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..300 {
        let mut members = Vec::new();
        for _ in 0..rng.below(40) {
            let key = format!("k{}", rng.below(24));
            members.push(format!("\"{key}\": {}", rng.below(22)));
        }
        if rng.below(2) == 0 {
            members.push("\"z\": true".to_owned());
        }
        let text = format!("{{{}}}", members.join(", "));
        let event: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => panic!("{text}: {e}"),
        };
        let expected: Vec<usize> = (0..patterns.len())
            .filter(|&i| patterns.get(i).is_some_and(|p| p.matches(&event)))
            .collect();
        assert_eq!(
            set.matching_json(text.as_bytes()).ok(),
            Some(expected),
            "{text}"
        );
        agrees(text.as_bytes(), set.fields());
    }
}

#[test]
fn repeated_keys_keep_lookups_fast() {
    // Patterns no index can narrow down are all tried on every event; each
    // looks `a` up among 100,000 repeats of it.
    let set = PatternSet::new(
        (0..2000)
            .map(|i| pat(json!({"a": [{"numeric": [">=", i]}]})))
            .collect(),
    );
    let text = format!("{{{}\"a\": 1500}}", "\"a\": 0, ".repeat(100_000));
    assert_eq!(
        set.matching_json(text.as_bytes()).ok().map(|m| m.len()),
        Some(1501)
    );
}
