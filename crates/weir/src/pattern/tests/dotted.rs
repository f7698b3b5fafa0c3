//! Event keys holding dots: they spell the paths EventBridge flattens them
//! to, however the event and the pattern split those paths.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::pat;
use crate::pattern::PatternSet;

mod random;

/// Whether `pattern` matches the event in the JSON `text`, checked to be the
/// same on the parsed event (directly and through a set), on the text, and
/// on the event parsed only as far as the set's patterns read.
#[track_caller]
fn check(pattern: Value, text: &str) -> bool {
    let Ok(event) = serde_json::from_str::<Value>(text) else {
        panic!("{text} is not JSON");
    };
    let p = pat(pattern.clone());
    let direct = p.matches(&event);
    let set = PatternSet::new(vec![p]);
    assert_eq!(set.matches(&event), direct, "set, {pattern} on {text}");
    assert_eq!(
        set.matches_json(text.as_bytes()).ok(),
        Some(direct),
        "text, {pattern} on {text}"
    );
    let pruned = set.fields().parse(text.as_bytes());
    assert_eq!(
        pruned.map(|v| set.matches(&v)).ok(),
        Some(direct),
        "pruned, {pattern} on {text}"
    );
    direct
}

#[test]
fn event_keys_spell_paths() {
    let p = json!({"a": {"b": [1]}});
    assert!(check(p.clone(), r#"{"a.b": 1}"#));
    assert!(check(p.clone(), r#"{"a": {"b": 1}}"#));
    assert!(!check(p.clone(), r#"{"a.b": 2}"#));
    assert!(!check(p.clone(), r#"{"a.bb": 1}"#));
    assert!(!check(p.clone(), r#"{"aa.b": 1}"#));
    assert!(!check(p.clone(), r#"{"a.b.c": 1}"#));
    assert!(!check(p, r#"{"b.a": 1}"#));
    // However each side splits the path, it is the same path.
    let event = r#"{"x": {"a.b": {"c": {"d.e": 5}}}}"#;
    for p in [
        json!({"x": {"a": {"b": {"c": {"d": {"e": [5]}}}}}}),
        json!({"x.a.b.c.d.e": [5]}),
        json!({"x.a": {"b.c": {"d": {"e": [5]}}}}),
        json!({"x": {"a.b.c.d": {"e": [5]}}}),
    ] {
        assert!(check(p, event));
    }
    // `a.bc` and `a.b.c` are different paths.
    assert!(!check(json!({"a": {"b": {"c": [1]}}}), r#"{"a.bc": 1}"#));
    assert!(!check(json!({"a": {"bc": [1]}}), r#"{"a.b.c": 1}"#));
    assert!(check(json!({"a": {"bc": [1]}}), r#"{"a.bc": 1}"#));
}

#[test]
fn empty_names_and_edge_dots() {
    assert!(check(json!({"a": {"": {"b": [1]}}}), r#"{"a..b": 1}"#));
    assert!(check(json!({"a": {"": [1]}}), r#"{"a.": 1}"#));
    assert!(check(json!({"": {"a": [1]}}), r#"{".a": 1}"#));
    assert!(check(json!({"a..b": [1]}), r#"{"a": {"": {"b": 1}}}"#));
    assert!(!check(json!({"a": {"b": [1]}}), r#"{"a..b": 1}"#));
    assert!(!check(json!({"a": [1]}), r#"{"a.": 1}"#));
}

#[test]
fn escaped_and_repeated_keys() {
    let p = json!({"a": {"b": [1]}});
    assert!(check(p.clone(), r#"{"a\u002eb": 1}"#));
    assert!(check(p.clone(), r#"{"\u0061.b": 1}"#));
    // A repeated key counts last, dotted or not.
    assert!(!check(p.clone(), r#"{"a.b": 1, "a.b": 2}"#));
    assert!(check(p.clone(), r#"{"a.b": 2, "a.b": 1}"#));
    assert!(check(p, r#"{"a.b": 2, "a\u002eb": 1}"#));
}

#[test]
fn long_names_with_dots() {
    // Names of 63, 64 and more bytes: lengths are tracked modulo 64.
    for len in [62, 63, 64, 65, 127, 128, 129] {
        let name = "n".repeat(len);
        let p = json!({ name.clone(): {"b": [1]} });
        assert!(check(p.clone(), &format!(r#"{{"{name}.b": 1}}"#)), "{len}");
        assert!(
            !check(p.clone(), &format!(r#"{{"{name}n.b": 1}}"#)),
            "{len}"
        );
        assert!(
            !check(p, &format!(r#"{{"{name}": {{"b.x": 1}}}}"#)),
            "{len}"
        );
        let both = json!({"x": {"b": [1]}, name.clone(): [{"exists": false}]});
        assert!(check(both, r#"{"x.b": 1, "x": 0}"#), "{len}");
        let p = json!({"x": {name.clone(): [1]}});
        assert!(check(p, &format!(r#"{{"x.{name}": 1}}"#)), "{len}");
    }
}

#[test]
fn many_paths_are_found_by_looking_at_every_key() {
    // More paths below a pattern object than are kept to look up.
    let names: Vec<String> = (0..12).map(|i| format!("b{i}")).collect();
    let inner: serde_json::Map<String, Value> = names
        .iter()
        .map(|name| (name.clone(), json!({"c": [1]})))
        .collect();
    let p = json!({"a": Value::Object(inner.clone())});
    let mut event: serde_json::Map<String, Value> = names
        .iter()
        .map(|name| (format!("a.{name}.c"), json!(1)))
        .collect();
    assert!(check(p.clone(), &Value::Object(event.clone()).to_string()));
    event.insert("a.b11.c".into(), json!(2));
    assert!(!check(p.clone(), &Value::Object(event.clone()).to_string()));
    event.insert("a".into(), json!({"b11": {"c": 1}}));
    assert!(check(p.clone(), &Value::Object(event.clone()).to_string()));
    let p = json!({"$or": [{"x": [1]}, Value::Object(inner)]});
    let mut event: serde_json::Map<String, Value> = names
        .iter()
        .map(|name| (format!("{name}.c"), json!(1)))
        .collect();
    assert!(check(p.clone(), &Value::Object(event.clone()).to_string()));
    event.remove("b3.c");
    assert!(!check(p.clone(), &Value::Object(event.clone()).to_string()));
    event.insert("b3".into(), json!({"c": 1}));
    assert!(check(p, &Value::Object(event).to_string()));
}

#[test]
fn both_forms_hold_every_value() {
    let event = r#"{"a.b": 1, "a": {"b": 2, "c": 3}}"#;
    assert!(check(json!({"a": {"b": [1]}}), event));
    assert!(check(json!({"a": {"b": [2]}}), event));
    assert!(!check(json!({"a": {"b": [3]}}), event));
    assert!(check(json!({"a": {"b": [1], "c": [3]}}), event));
    assert!(check(json!({"a": {"b": [{"numeric": [">", 1]}]}}), event));
    assert!(check(json!({"a": {"b": [{"anything-but": 1}]}}), event));
    assert!(!check(
        json!({"a": {"b": [{"anything-but": [1, 2]}]}}),
        event
    ));
    assert!(!check(json!({"a": {"b": [{"exists": false}]}}), event));
    // Objects spelled both ways merge, at any depth.
    let event = r#"{"a": {"b": {"c": 1}}, "a.b": {"d": 2}, "a.b.e": 3}"#;
    assert!(check(
        json!({"a": {"b": {"c": [1], "d": [2], "e": [3]}}}),
        event
    ));
    assert!(!check(json!({"a": {"b": {"c": [1], "d": [3]}}}), event));
    // A leaf value beside an object spelled with dots hides nothing.
    assert!(check(
        json!({"a": [5], "a.b": [1]}),
        r#"{"a": 5, "a.b": 1}"#
    ));
}

#[test]
fn exists_sees_every_form() {
    let p = json!({"a": {"b": [{"exists": false}]}});
    assert!(check(p.clone(), r#"{"a.bc": 1, "a": {"c": 1}, "ab": 1}"#));
    assert!(!check(p.clone(), r#"{"a.b": 1}"#));
    assert!(!check(p.clone(), r#"{"a.b": null}"#));
    assert!(!check(p.clone(), r#"{"a": {"c": 1}, "a.b": [1]}"#));
    // An object is not a value: a path only below `a.b` leaves it absent.
    assert!(check(p, r#"{"a.b.c": 1}"#));
    let p = json!({"a": {"b": [{"exists": true}]}});
    assert!(check(p.clone(), r#"{"a.b": false}"#));
    assert!(!check(p.clone(), r#"{"a.b": []}"#));
    assert!(!check(p, r#"{"a.b": {"c": 1}}"#));
}

#[test]
fn arrays_keep_their_elements_apart() {
    let p = json!({"a": {"b": {"c": [1], "d": [2]}}});
    assert!(check(
        p.clone(),
        r#"{"a.b": [{"c": 1, "d": 3}, {"c": 1, "d": 2}]}"#
    ));
    assert!(!check(
        p.clone(),
        r#"{"a.b": [{"c": 1, "d": 3}, {"c": 2, "d": 2}]}"#
    ));
    assert!(check(p.clone(), r#"{"a": [{"b.c": 1, "b": {"d": 2}}]}"#));
    assert!(!check(p.clone(), r#"{"a": [{"b.c": 1}, {"b": {"d": 2}}]}"#));
    // A value outside an array combines with any one element of it.
    let p = json!({"a": {"b": [1], "c": [2]}});
    assert!(check(p.clone(), r#"{"a": [{"b": 0}, {"b": 1}], "a.c": 2}"#));
    assert!(!check(
        p.clone(),
        r#"{"a": [{"b": 0}, {"b": 1}], "a.c": 1}"#
    ));
    assert!(check(p.clone(), r#"{"a.c": [2], "a": [[{"b": 1}]]}"#));
    assert!(check(p.clone(), r#"{"a": [{"b": 1}], "a.c": [[0], [2]]}"#));
    assert!(check(p.clone(), r#"{"a": {"b": [[0], [1]]}, "a.c": 2}"#));
    // Elements of two arrays at one path combine with each other.
    assert!(check(
        json!({"a": {"b": {"c": [1], "d": [2]}}}),
        r#"{"a": {"b": [{"c": 1}]}, "a.b": [{"d": 2}, {"d": 3}]}"#
    ));
    // An absence is decided within the element, the shared values included.
    let p = json!({"a": {"b": [1], "c": [{"exists": false}]}});
    assert!(!check(p.clone(), r#"{"a": [{"b": 1}], "a.c": 2}"#));
    assert!(check(p.clone(), r#"{"a": [{"b": 1}, {"c": 2}], "a.d": 2}"#));
    let p = json!({"a": {"c": [{"exists": false}]}});
    assert!(!check(p.clone(), r#"{"a": [{"b": 1}], "a.c": 2}"#));
    assert!(check(p.clone(), r#"{"a": [{"b": 1}, {}], "a.b": 2}"#));
    assert!(check(p, r#"{"a": [], "a.b": 2}"#));
}

#[test]
fn or_alternatives_read_dotted_keys() {
    let p = json!({"$or": [{"a": {"b": [1]}}, {"c": {"d": [2]}}]});
    assert!(check(p.clone(), r#"{"a.b": 1}"#));
    assert!(check(p.clone(), r#"{"c.d": 2}"#));
    assert!(!check(p.clone(), r#"{"a.b": 2, "c.d": 1}"#));
    let p = json!({"a": {"x": [0], "$or": [{"b": [1]}, {"c": {"d": [2]}}]}});
    assert!(check(p.clone(), r#"{"a.x": 0, "a.c.d": 2}"#));
    assert!(check(p.clone(), r#"{"a": {"x": 0}, "a.b": 1}"#));
    assert!(!check(p, r#"{"a.x": 1, "a.b": 1}"#));
}

#[test]
fn sets_find_patterns_through_dotted_keys() {
    let set = PatternSet::new(vec![
        pat(json!({"detail": {"user": ["u1"]}})),
        pat(json!({"detail.user": ["u2"]})),
        pat(json!({"detail": {"tier": [{"prefix": "gold"}]}})),
        pat(json!({"detail": {"user": [{"anything-but": "u1"}]}})),
    ]);
    for (text, expected) in [
        (r#"{"detail.user": "u1"}"#, vec![0]),
        (r#"{"detail.user": "u2"}"#, vec![1, 3]),
        (
            r#"{"detail": {"user": "u1"}, "detail.user": "u2"}"#,
            vec![0, 1, 3],
        ),
        (
            r#"{"detail.tier": "gold-1", "detail": {"user": "u1"}}"#,
            vec![0, 2],
        ),
        (r#"{"detail": [{"tier.x": "gold"}]}"#, vec![]),
    ] {
        let Ok(event) = serde_json::from_str::<Value>(text) else {
            panic!("{text}");
        };
        assert_eq!(set.matching(&event), expected, "{text}");
        assert_eq!(
            set.matching_json(text.as_bytes()).ok(),
            Some(expected),
            "{text}"
        );
    }
}

#[test]
fn choices_are_capped_on_crafted_events() {
    // Every level of `c.c.…` is spelled both as a dotted key holding an
    // array and below the dotted keys beside it: trying each element with
    // every element of the levels above would take 4^40 steps.
    let depth = 40;
    let mut event = serde_json::Map::new();
    for level in 1..=depth {
        let key = vec!["c"; level].join(".");
        let elements: Vec<Value> = (0..4).map(|i| json!({"v": i})).collect();
        event.insert(key, Value::Array(elements));
    }
    let text = Value::Object(event).to_string();
    let mut pattern = json!({"v": [9]});
    for _ in 0..depth {
        pattern = json!({"c": pattern});
    }
    let start = Instant::now();
    assert!(!check(pattern, &text));
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}
