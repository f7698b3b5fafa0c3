//! `PatternSet`: results must equal matching every pattern one by one.

use serde_json::{Value, json};

use super::pat;
use crate::pattern::{Pattern, PatternSet};

/// The indices of the patterns that match, found one by one.
fn brute(patterns: &[Pattern], event: &Value) -> Vec<usize> {
    (0..patterns.len())
        .filter(|&i| patterns.get(i).is_some_and(|p| p.matches(event)))
        .collect()
}

#[test]
fn empty_set_matches_nothing() {
    let set = PatternSet::new(Vec::new());
    assert!(set.is_empty());
    assert_eq!(set.len(), 0);
    assert!(!set.matches(&json!({"a": 1})));
    assert!(set.matching(&json!({"a": 1})).is_empty());
}

#[test]
fn matching_reports_every_match_in_order() {
    let patterns = vec![
        pat(json!({"source": ["a"]})),
        pat(json!({"source": [{"prefix": "a"}]})),
        pat(json!({"detail": {"n": [{"numeric": [">", 1]}]}})),
        pat(json!({"source": ["b", "a"], "detail": {"n": [2]}})),
        pat(json!({"$or": [{"source": ["z"]}, {"detail": {"n": [2.0]}}]})),
        pat(json!({"source": [{"anything-but": "a"}]})),
    ];
    let set: PatternSet = patterns.clone().into_iter().collect();
    assert_eq!(set.len(), 6);
    let event = json!({"source": "a", "detail": {"n": 2}});
    assert_eq!(set.matching(&event), vec![0, 1, 2, 3, 4]);
    assert_eq!(set.matching(&event), brute(&patterns, &event));
    assert!(set.matches(&event));
    let event = json!({"source": "b"});
    assert_eq!(set.matching(&event), vec![5]);
    assert!(set.pattern(5).is_some() && set.pattern(6).is_none());
}

use super::Rng;

const WORDS: &[&str] = &[
    "",
    "a",
    "ab",
    "abc",
    "B",
    "Ab",
    "10.0.0.1",
    "010.0.0.1",
    "x.y",
    "é",
];
const FIELDS: &[&str] = &["s", "t", "d"];

fn random_condition(rng: &mut Rng) -> Value {
    let w = rng.pick(WORDS);
    match rng.below(16) {
        0 => json!(w),
        1 => json!(rng.below(4)),
        2 => json!(rng.below(4) as f64),
        3 => json!(null),
        4 => json!(rng.below(2) == 0),
        5 => json!({"prefix": w}),
        6 => json!({"suffix": w}),
        7 => json!({"equals-ignore-case": w}),
        8 => json!({"prefix": {"equals-ignore-case": w}}),
        9 => json!({"suffix": {"equals-ignore-case": w}}),
        10 => json!({"wildcard": format!("{w}*{}", rng.pick(WORDS))}),
        11 => json!({"wildcard": format!("*{w}")}),
        12 => json!({"numeric": ["=", rng.below(4)]}),
        13 => json!({"numeric": [">", rng.below(4)]}),
        14 => json!({"exists": rng.below(2) == 0}),
        _ => json!({"anything-but": w}),
    }
}

fn random_pattern(rng: &mut Rng) -> Value {
    let mut fields = serde_json::Map::new();
    for _ in 0..=rng.below(2) {
        let conds: Vec<Value> = (0..=rng.below(2)).map(|_| random_condition(rng)).collect();
        let key = rng.pick(FIELDS);
        if rng.below(3) == 0 {
            fields.insert("d".to_owned(), json!({ key: conds }));
        } else {
            fields.insert(key.to_owned(), Value::Array(conds));
        }
    }
    if rng.below(4) == 0 {
        let a = rng.pick(FIELDS);
        let b = rng.pick(FIELDS);
        fields.insert(
            "$or".to_owned(),
            json!([{ a: [random_condition(rng)] }, { b: [random_condition(rng)] }]),
        );
    }
    Value::Object(fields)
}

fn random_value(rng: &mut Rng) -> Value {
    match rng.below(7) {
        0 => json!(rng.below(4)),
        1 => json!(null),
        2 => json!([rng.pick(WORDS), rng.pick(WORDS)]),
        3 => json!({"s": rng.pick(WORDS), "t": rng.below(3)}),
        4 => json!([{"s": rng.pick(WORDS)}, {"t": rng.pick(WORDS)}]),
        _ => json!(rng.pick(WORDS)),
    }
}

fn random_event(rng: &mut Rng) -> Value {
    let mut fields = serde_json::Map::new();
    for key in FIELDS {
        if rng.below(4) != 0 {
            fields.insert((*key).to_owned(), random_value(rng));
        }
    }
    Value::Object(fields)
}

#[test]
fn set_agrees_with_one_by_one_matching() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut patterns = Vec::new();
    while patterns.len() < 300 {
        if let Ok(p) = Pattern::compile(&random_pattern(&mut rng)) {
            patterns.push(p);
        }
    }
    let set = PatternSet::new(patterns.clone());
    let mut total = 0;
    for _ in 0..3000 {
        let event = random_event(&mut rng);
        let expected = brute(&patterns, &event);
        total += expected.len();
        assert_eq!(set.matching(&event), expected, "event {event}");
        assert_eq!(set.matches(&event), !expected.is_empty(), "event {event}");
        let text = event.to_string();
        assert_eq!(
            set.matching_json(text.as_bytes()).ok(),
            Some(expected.clone()),
            "{text}"
        );
        assert_eq!(
            set.matches_json(text.as_bytes()).ok(),
            Some(!expected.is_empty()),
            "{text}"
        );
    }
    assert!(
        total > 1000,
        "the generator should produce matches ({total})"
    );
}

#[test]
fn many_exact_and_prefix_patterns() {
    let mut patterns: Vec<Pattern> = (0..2000)
        .map(|i| pat(json!({"detail": {"id": [format!("id-{i}")]}})))
        .collect();
    patterns.extend((0..2000).map(|i| pat(json!({"path": [{"prefix": format!("/p{i}/")}]}))));
    patterns.push(pat(json!({"detail": {"n": [{"numeric": ["<", 0]}]}})));
    let set = PatternSet::new(patterns);
    assert_eq!(
        set.matching(&json!({"detail": {"id": "id-1234"}})),
        vec![1234]
    );
    assert_eq!(
        set.matching(&json!({"detail": {"id": ["id-7", "id-8"]}})),
        vec![7, 8]
    );
    assert_eq!(set.matching(&json!({"path": "/p12/x"})), vec![2012]);
    assert_eq!(set.matching(&json!({"path": "/p1/p12/"})), vec![2001]);
    assert_eq!(set.matching(&json!({"detail": {"n": -1}})), vec![4000]);
    assert!(!set.matches(&json!({"detail": {"id": "id-x"}, "path": "/q"})));
}

#[test]
fn json_text_events() {
    let set = PatternSet::new(vec![
        pat(json!({"detail": {"state": ["on"], "n": [{"numeric": [">", 1]}]}})),
        pat(json!({"$or": [{"a.b": [{"exists": false}]}, {"c": [null]}], "z": ["y"]})),
    ]);
    let event = br#"{"skip": {"deep": [1, {"x": "\u00e9"}]}, "detail": {"state": "on", "n": 1.5e0,
        "other": [true, null]}, "z": ["q", "y"], "a": {"c": 1}}"#;
    assert_eq!(set.matching_json(event).ok(), Some(vec![0, 1]));
    assert_eq!(
        set.matches_json(br#"{"detail": {"state": "off"}}"#).ok(),
        Some(false)
    );
    assert_eq!(
        set.matches_json(br#"{"z": "y", "a": {"b": 1}, "c": null}"#)
            .ok(),
        Some(true)
    );
    assert_eq!(
        set.matches_json(br#"{"z": "y", "a": {"b": 1}, "c": 0}"#)
            .ok(),
        Some(false)
    );
    assert!(set.matches_json(b"{\"z\": ").is_err());
    assert!(set.matches_json(b"{} x").is_err());
    assert!(set.matches_json(b"not json").is_err());
    assert_eq!(set.matches_json(b" [1, 2] ").ok(), Some(false));
}

#[test]
fn index_prefers_selective_fields() {
    // Every pattern requires the same `source`; filing them under it would
    // make all of them candidates for every event.
    let patterns: Vec<Pattern> = (0..1000)
        .map(|i| {
            pat(json!({
                "source": ["aws.ec2"],
                "detail": {"id": [format!("id-{i}")], "kind": [{"prefix": ""}]}
            }))
        })
        .collect();
    let set = PatternSet::new(patterns);
    let event = json!({"source": "aws.ec2", "detail": {"id": "id-42", "kind": "x"}});
    assert_eq!(set.index.candidates(&event), vec![42]);
    assert_eq!(set.matching(&event), vec![42]);
    // Patterns with nothing to index are candidates for every event.
    let set = PatternSet::new(vec![
        pat(json!({"n": [{"numeric": [">", 0]}]})),
        pat(json!({"s": [{"anything-but": "x"}], "t": [{"exists": true}]})),
        pat(json!({"w": [{"wildcard": "*a*"}]})),
        pat(json!({"$or": [{"a": ["x"]}, {"b": [{"cidr": "10.0.0.0/8"}]}]})),
        pat(json!({"$or": [{"a": ["x"]}, {"b": ["y"]}]})),
    ]);
    assert_eq!(set.index.candidates(&json!({})), vec![0, 1, 2, 3]);
    assert_eq!(
        set.index.candidates(&json!({"b": "y"})),
        vec![0, 1, 2, 3, 4]
    );
}
