//! Random events and patterns over a few names, with and without dots:
//! every way of matching agrees, and patterns without `$or` or
//! `exists: false` decide as EventBridge's flattened matching does.

use serde_json::{Map, Value, json};

use super::check;
use crate::pattern::Pattern;
use crate::pattern::tests::{Rng, pat};

const EVENT_KEYS: &[&str] = &["a", "b", "a.b", "b.a", "a.a", "a.b.a", "z", "a.z"];
const PATTERN_KEYS: &[&str] = &["a", "b", "a.b"];

fn leaf_value(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => json!(0),
        1 => json!(1),
        2 => json!("x"),
        3 => json!("y"),
        _ => Value::Null,
    }
}

fn event_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 1 } else { 10 }) {
        0..=4 => leaf_value(rng),
        5..=7 => event_object(rng, depth - 1),
        _ => Value::Array(
            (0..rng.below(3))
                .map(|_| event_value(rng, depth - 1))
                .collect(),
        ),
    }
}

fn event_object(rng: &mut Rng, depth: usize) -> Value {
    let mut map = Map::new();
    for _ in 0..=rng.below(3) {
        map.insert(rng.pick(EVENT_KEYS).to_owned(), event_value(rng, depth));
    }
    Value::Object(map)
}

fn condition(rng: &mut Rng, absence: bool) -> Value {
    match rng.below(if absence { 9 } else { 8 }) {
        0 => json!(0),
        1 => json!(1),
        2 => json!("x"),
        3 => Value::Null,
        4 => json!({"exists": true}),
        5 => json!({"anything-but": 1}),
        6 => json!({"numeric": [">", 0]}),
        7 => json!({"prefix": "x"}),
        _ => json!({"exists": false}),
    }
}

/// A pattern object; `full` adds `exists: false` and `$or`.
fn pattern_object(rng: &mut Rng, depth: usize, full: bool) -> Value {
    let mut map = Map::new();
    for _ in 0..=usize::from(rng.below(3) == 0) {
        let value = if depth > 0 && rng.below(5) < 2 {
            pattern_object(rng, depth - 1, full)
        } else {
            Value::Array((0..=rng.below(2)).map(|_| condition(rng, full)).collect())
        };
        map.insert(rng.pick(PATTERN_KEYS).to_owned(), value);
    }
    if full && depth > 0 && rng.below(6) == 0 {
        let branches = (0..2).map(|_| pattern_object(rng, depth - 1, full));
        map.insert("$or".to_owned(), Value::Array(branches.collect()));
    }
    Value::Object(map)
}

#[test]
fn all_ways_of_matching_agree() {
    let mut rng = Rng(0x5eed_d075);
    for _ in 0..20_000 {
        let pattern = pattern_object(&mut rng, 2, true);
        let event = event_object(&mut rng, 3);
        check(pattern, &event.to_string());
    }
}

#[test]
fn matching_is_flattened_matching() {
    let mut rng = Rng(0xf1a7_7e2d);
    let mut matched = 0;
    let mut dotted = 0;
    for _ in 0..20_000 {
        let pattern = pattern_object(&mut rng, 2, false);
        let event = event_object(&mut rng, 3);
        let expected = flattened_match(&pattern, &event);
        assert_eq!(
            check(pattern.clone(), &event.to_string()),
            expected,
            "{pattern} on {event}"
        );
        if expected {
            matched += 1;
            // Matched only when dotted event keys count as paths.
            dotted += usize::from(!check(pattern, &undotted(&event).to_string()));
        }
    }
    assert!(
        matched > 500 && dotted > 200,
        "{matched} matched, {dotted} by dots"
    );
}

/// `value` with the dots of its keys replaced, so that they spell nothing.
fn undotted(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.replace('.', "_"), undotted(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(undotted).collect()),
        leaf => leaf.clone(),
    }
}

/// A leaf value as EventBridge flattens events: the names on its path
/// joined with dots, and the array elements it lies in (array, index).
struct Flat {
    path: String,
    value: Value,
    within: Vec<(usize, usize)>,
}

/// The flattened leaf values of `value`, which lies at `path` in
/// `within`; `arrays` counts the arrays seen.
fn flatten(
    value: &Value,
    path: &mut Vec<String>,
    within: &mut Vec<(usize, usize)>,
    arrays: &mut usize,
    out: &mut Vec<Flat>,
) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                path.push(key.clone());
                flatten(inner, path, within, arrays, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            let id = *arrays;
            *arrays += 1;
            for (i, item) in items.iter().enumerate() {
                // Leaf elements are not told apart by their position.
                let nested = matches!(item, Value::Object(_) | Value::Array(_));
                if nested {
                    within.push((id, i));
                }
                flatten(item, path, within, arrays, out);
                if nested {
                    within.pop();
                }
            }
        }
        leaf => out.push(Flat {
            path: path.join("."),
            value: leaf.clone(),
            within: within.clone(),
        }),
    }
}

/// The leaves of a pattern without `$or`: the path of each (a later one
/// for the same path replacing an earlier one, as compiling does), with a
/// pattern testing a value against its conditions.
fn pattern_leaves(pattern: &Value, path: &mut Vec<String>, out: &mut Vec<(String, Pattern)>) {
    if let Value::Object(map) = pattern {
        for (key, value) in map {
            path.push(key.clone());
            if value.is_array() {
                let joined = path.join(".");
                out.retain(|(p, _)| *p != joined);
                out.push((joined, pat(json!({ "v": value }))));
            } else {
                pattern_leaves(value, path, out);
            }
            path.pop();
        }
    }
}

/// Whether some choice of one flattened value per pattern leaf satisfies
/// every leaf with values that lie in the same element of every array
/// they share.
fn flattened_match(pattern: &Value, event: &Value) -> bool {
    let mut flats = Vec::new();
    flatten(event, &mut Vec::new(), &mut Vec::new(), &mut 0, &mut flats);
    let mut leaves = Vec::new();
    pattern_leaves(pattern, &mut Vec::new(), &mut leaves);
    choose(&leaves, &flats, &mut Vec::new())
}

fn choose<'f>(leaves: &[(String, Pattern)], flats: &'f [Flat], chosen: &mut Vec<&'f Flat>) -> bool {
    let Some(((path, test), rest)) = leaves.split_first() else {
        return true;
    };
    flats.iter().any(|flat| {
        if flat.path != *path
            || !test.matches(&json!({ "v": flat.value }))
            || !chosen.iter().all(|c| consistent(c, flat))
        {
            return false;
        }
        chosen.push(flat);
        let found = choose(rest, flats, chosen);
        chosen.pop();
        found
    })
}

fn consistent(a: &Flat, b: &Flat) -> bool {
    a.within
        .iter()
        .all(|(array, i)| b.within.iter().all(|(other, j)| array != other || i == j))
}
