//! Pattern structure: nesting, paths, arrays, `$or`, and validation.

use serde_json::{Value, json};

use super::{invalid, m, pat};
use crate::pattern::Pattern;

#[test]
fn fields_are_anded_and_values_ored() {
    let p = json!({"source": ["a", "b"], "detail": {"state": ["on"]}});
    assert!(m(
        p.clone(),
        json!({"source": "b", "detail": {"state": "on"}})
    ));
    assert!(!m(
        p.clone(),
        json!({"source": "c", "detail": {"state": "on"}})
    ));
    assert!(!m(
        p.clone(),
        json!({"source": "a", "detail": {"state": "off"}})
    ));
    assert!(!m(p, json!({"source": "a"})));
}

#[test]
fn keys_are_case_sensitive() {
    assert!(!m(json!({"MY_KEY": ["v"]}), json!({"my_key": "v"})));
    assert!(m(json!({"my_key": ["v"]}), json!({"my_key": "v"})));
}

#[test]
fn dotted_pattern_keys_are_paths() {
    let event = json!({"detail": {"state": {"status": "running"}}});
    assert!(m(
        json!({"detail": {"state.status": ["running"]}}),
        event.clone()
    ));
    assert!(m(
        json!({"detail.state.status": ["running"]}),
        event.clone()
    ));
    assert!(!m(
        json!({"detail": {"state.status": {"status": ["running"]}}}),
        event
    ));
    // A dotted path and the nested form of it combine into one object.
    let p = json!({"a.b": [1], "a": {"c": [2]}});
    assert!(m(p.clone(), json!({"a": {"b": 1, "c": 2}})));
    assert!(!m(p, json!({"a": {"b": 1}})));
    // Event keys with dots are paths too (more in `dotted`).
    assert!(m(
        json!({"detail": {"state": {"status": ["running"]}}}),
        json!({"detail": {"state.status": "running"}})
    ));
    assert!(!m(
        json!({"detail": {"state": {"status": ["running"]}}}),
        json!({"detail": {"state.status": {"status": "running"}}})
    ));
}

#[test]
fn repeated_keys_the_last_one_wins() {
    // JSON text with a key twice: EventBridge uses the last occurrence.
    let p = match Pattern::parse(
        r#"{"detail": {"location": [{"prefix": "us-"}], "location": [{"anything-but": "us-east"}]}}"#,
    ) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert!(p.matches(&json!({"detail": {"location": "eu-west"}})));
    assert!(!p.matches(&json!({"detail": {"location": "us-east"}})));
}

#[test]
fn missing_null_and_empty() {
    assert!(m(
        json!({"d": {"r": [null]}}),
        json!({"d": {"r": null, "v": ""}})
    ));
    assert!(!m(json!({"d": {"r": [null]}}), json!({"d": {"r": "null"}})));
    assert!(m(
        json!({"d": {"v": [""]}}),
        json!({"d": {"r": null, "v": ""}})
    ));
    assert!(!m(json!({"resources": [null]}), json!({"resources": []})));
    assert!(!m(
        json!({"resources": [{"exists": true}]}),
        json!({"resources": []})
    ));
    // A string holding JSON is just a string.
    assert!(!m(
        json!({"detail": {"k": ["v"]}}),
        json!({"detail": "{\"k\": \"v\"}"})
    ));
    // A leaf matched against an object-valued field never matches.
    assert!(!m(json!({"d": ["x"]}), json!({"d": {"x": "x"}})));
    assert!(!m(
        json!({"d": [{"anything-but": "x"}]}),
        json!({"d": {"y": 1}})
    ));
    assert!(!m(json!({"d": [{"prefix": ""}]}), json!({"d": {"y": "z"}})));
    // A nested pattern matched against a leaf value sees no fields.
    assert!(!m(json!({"d": {"k": ["v"]}}), json!({"d": "v"})));
    assert!(m(
        json!({"d": {"k": [{"exists": false}]}}),
        json!({"d": "v"})
    ));
}

#[test]
fn event_arrays() {
    let p = json!({"resources": ["r1", "r2"]});
    assert!(m(p.clone(), json!({"resources": ["r0", "r2"]})));
    assert!(!m(p.clone(), json!({"resources": ["r0", "r3"]})));
    assert!(m(p, json!({"resources": [["r0"], ["r1"]]})));
    // Arrays of objects are crossed by nested patterns.
    let p = json!({"detail": {"automations": {"id": [{"exists": true}]}}});
    assert!(m(
        p.clone(),
        json!({"detail": {"automations": [{"k": 1}, {"id": "x"}]}})
    ));
    assert!(!m(
        p,
        json!({"detail": {"automations": [{"k": 1}, {"k": 2}]}})
    ));
}

#[test]
fn arrays_of_objects_are_matched_element_by_element() {
    let event = json!({"employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"}
    ]});
    assert!(m(
        json!({"employees": {"firstName": ["Anna"]}}),
        event.clone()
    ));
    assert!(m(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}),
        event.clone()
    ));
    assert!(!m(
        json!({"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}),
        event.clone()
    ));
    // Separate fields may come from separate arrays.
    assert!(m(
        json!({"employees": {"firstName": ["Anna"]}, "x": [1]}),
        json!({"employees": [{"firstName": "Anna"}], "x": [0, 1]})
    ));
    // Absence inside an element binds to the element the other fields use…
    let p = json!({"a": {"b": [1], "c": [{"exists": false}]}});
    assert!(m(p.clone(), json!({"a": [{"b": 1}, {"b": 2, "c": 3}]})));
    assert!(!m(p, json!({"a": [{"b": 1, "c": 0}, {"c": 3}]})));
    // …and on its own it needs the field absent from every element.
    let p = json!({"a": {"c": [{"exists": false}]}});
    assert!(!m(p.clone(), json!({"a": [{"b": 1}, {"c": 3}]})));
    assert!(m(p.clone(), json!({"a": [{"b": 1}, {"b": 2}]})));
    assert!(m(p, json!({"a": []})));
    // A positive condition under an empty array fails.
    assert!(!m(
        json!({"a": {"b": [{"anything-but": 1}]}}),
        json!({"a": []})
    ));
}

#[test]
fn or_alternatives() {
    let p = json!({
        "source": ["cw"],
        "$or": [{"metric": ["cpu"]}, {"ns": ["ec2"], "type": ["t"]}]
    });
    assert!(m(p.clone(), json!({"source": "cw", "metric": "cpu"})));
    assert!(m(
        p.clone(),
        json!({"source": "cw", "ns": "ec2", "type": "t"})
    ));
    assert!(!m(p.clone(), json!({"source": "cw", "ns": "ec2"})));
    assert!(!m(p, json!({"source": "x", "metric": "cpu"})));
    // Nested inside a field, nested in each other, and side by side.
    let p = json!({"detail": {"$or": [
        {"c": [{"numeric": [">", 0, "<=", 5]}]},
        {"d": [{"numeric": ["<", 10]}]},
        {"$or": [{"e": ["x"]}, {"f": ["y"]}]}
    ]}});
    assert!(m(p.clone(), json!({"detail": {"c": 3}})));
    assert!(m(p.clone(), json!({"detail": {"f": "y"}})));
    assert!(!m(p, json!({"detail": {"c": 0, "d": 10, "e": "y"}})));
    let p = json!({
        "$or": [{"a": [1]}, {"b": [1]}],
        "d": {"$or": [{"c": [1]}, {"e": [1]}]}
    });
    assert!(m(p.clone(), json!({"b": 1, "d": {"e": 1}})));
    assert!(!m(p, json!({"b": 1, "d": {"f": 1}})));
    // Alternatives with absence.
    let p = json!({"$or": [{"a": [{"exists": false}]}, {"b": ["x"]}]});
    assert!(m(p.clone(), json!({"c": 1})));
    assert!(m(p.clone(), json!({"a": 1, "b": "x"})));
    assert!(!m(p, json!({"a": 1, "b": "y"})));
}

#[test]
fn or_validation() {
    for (bad, path) in [
        (json!({"$or": []}), "$or"),
        (json!({"$or": [{"a": [1]}]}), "$or"),
        (json!({"$or": [{"a": [1]}, "x"]}), "$or[1]"),
        (json!({"$or": [{"a": [1]}, {}]}), "$or[1]"),
        (
            json!({"$or": [{"a": [1]}, {"prefix": ["x"]}]}),
            "$or[1].prefix",
        ),
        (
            json!({"$or": [{"a": [1]}, {"b": {"numeric": [1]}}]}),
            "$or[1].b.numeric",
        ),
        (json!({"x": {"$or": [{"a": [1]}, {"b": []}]}}), "x.$or[1].b"),
    ] {
        assert_eq!(invalid(bad.clone()).path, path, "{bad}");
    }
    // Operator names are fine as field names outside `$or`.
    assert!(m(json!({"prefix": ["x"]}), json!({"prefix": "x"})));
}

#[test]
fn or_that_is_not_the_operator_is_a_field_name() {
    // As in EventBridge: when `$or` cannot be the operator, the pattern is
    // read again with `$or` as an ordinary key.
    let p = json!({"$or": {"a": ["x"]}});
    assert!(m(p.clone(), json!({"$or": {"a": "x"}})));
    assert!(!m(p, json!({"a": "x"})));
    assert!(m(json!({"$or": ["x", "y"]}), json!({"$or": "y"})));
    let p = json!({"$or": [{"prefix": "a"}, {"suffix": "b"}]});
    assert!(m(p.clone(), json!({"$or": "xb"})));
    assert!(!m(p, json!({"prefix": "a"})));
}

#[test]
fn or_combinations_are_limited() {
    let alternatives = |n: usize| {
        let list: Vec<Value> = (0..n).map(|i| json!({ format!("f{i}"): [i] })).collect();
        json!({ "$or": list })
    };
    assert!(m(
        json!({"a": alternatives(10), "b": alternatives(10), "c": alternatives(10)}),
        json!({"a": {"f3": 3}, "b": {"f0": 0}, "c": {"f9": 9}})
    ));
    let e = invalid(json!({"a": alternatives(10), "b": alternatives(10), "c": alternatives(11)}));
    assert!(e.message.contains("1000"), "{e}");
}

#[test]
fn structural_validation() {
    for (bad, path) in [
        (json!("x"), ""),
        (json!(null), ""),
        (json!({}), ""),
        (json!({"a": {}}), "a"),
        (json!({"a": "x"}), "a"),
        (json!({"a": 5}), "a"),
        (json!({"a": null}), "a"),
        (json!({"a": []}), "a"),
        (json!({"a": [["x"]]}), "a[0]"),
        (json!({"a": [{}]}), "a[0]"),
        (json!({"a": ["x", {"prefix": "a", "suffix": "b"}]}), "a[1]"),
        (json!({"a": [{"Prefix": "a"}]}), "a[0].Prefix"),
        (json!({"a": [{"regex": "a"}]}), "a[0].regex"),
    ] {
        assert_eq!(invalid(bad.clone()).path, path, "{bad}");
    }
    assert!(Pattern::parse("{\"a\": [1]").is_err());
    assert!(Pattern::parse("not json").is_err());
    assert!("{\"a\": [1]}".parse::<Pattern>().is_ok());
}

#[test]
fn deep_inputs_do_not_overflow() {
    // A pattern nested beyond the limit is rejected, not recursed into.
    let mut deep = json!(["x"]);
    for _ in 0..200 {
        deep = json!({ "a": deep });
    }
    assert!(invalid(deep).message.contains("levels deep"));
    // A pattern at the limit works.
    let mut ok = json!(["x"]);
    let mut event = json!("x");
    for _ in 0..90 {
        ok = json!({ "a": ok });
        event = json!({ "a": event });
    }
    assert!(m(ok.clone(), event));
    // Events nested far deeper than any parser allows are handled.
    let mut arrays = json!("x");
    for _ in 0..100_000 {
        arrays = Value::Array(vec![arrays]);
    }
    let mut map = serde_json::Map::new();
    map.insert("a".to_owned(), arrays);
    let event = Value::Object(map);
    let p = pat(json!({"a": ["x"]}));
    assert!(!p.matches(&event));
    let p = pat(json!({"a": {"b": [{"exists": false}]}}));
    let _ = p.matches(&event);
    let set = crate::pattern::PatternSet::new(vec![pat(json!({"a": ["x"]}))]);
    assert!(!set.matches(&event));
    // serde_json's own recursive drop would overflow the stack here.
    std::mem::forget(event);
}

#[test]
fn non_object_events() {
    let p = json!({"a": [{"exists": false}]});
    assert!(m(p.clone(), json!(null)));
    assert!(m(p, json!("text")));
    assert!(!m(json!({"a": [1]}), json!([{"b": 1}])));
    assert!(m(json!({"a": [1]}), json!([{"a": 1}])));
}

/// Cases from the EventBridge-validated corpus that are not among the
/// conformance vectors.
#[test]
fn corpus_cases() {
    let base = json!({"id": "1", "source": "test-source", "detail-type": "t"});
    let with = |extra: Value| {
        let mut e = base.clone();
        if let (Some(e), Value::Object(x)) = (e.as_object_mut(), extra) {
            e.extend(x);
        }
        e
    };
    // or-exists-parent
    assert!(m(
        json!({"dynamodb": {"NewImage": {"homemade": {"S": [{"anything-but": ["roses"]}, {"exists": false}]}}}}),
        with(json!({"dynamodb": {"NewImage": {"purchased": {"N": "789"}}}}))
    ));
    // exists_dynamodb
    assert!(m(
        json!({"dynamodb": {"presentKey": {"S": [{"exists": true}]}}}),
        with(json!({"dynamodb": {"id": {"S": "t"}, "presentKey": {"S": "t"}}}))
    ));
    // or-numeric-anything-but
    assert!(m(
        json!({"dynamodb": {"NewImage": {"numericFilter": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}}}}),
        with(json!({"dynamodb": {"NewImage": {"numericFilter": {"N": "42"}}}}))
    ));
    // operator_multiple_list
    assert!(m(
        json!({"my_key": [{"exists": true}, {"prefix": "IGNORED"}, {"suffix": "IGNORED"}]}),
        with(json!({"my_key": "my-value"}))
    ));
    // content_exists_false_NEG
    assert!(!m(
        json!({"detail": {"l1": {"l2": {"l3": {"l4": [{"exists": false}]}}}}}),
        with(json!({"detail": {"l1": {"l2": {"l3": {"l4": "v"}}}}}))
    ));
    // content_anything_but_ignorecase_null, content_anything_prefix_list_int
    assert!(m(
        json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}}),
        with(json!({"detail": {"state": null}}))
    ));
    assert!(m(
        json!({"detail": {"state": [{"anything-but": {"prefix": ["init", "test"]}}]}}),
        with(json!({"detail": {"state": 12}}))
    ));
    // content_wildcard_int_EXC, int_nolist_EXC, string_nolist_EXC
    invalid(json!({"EventBusArn": [{"wildcard": 123}]}));
    invalid(json!({"a": 1}));
    invalid(json!({"a": "x"}));
}
