//! Tests: the conformance vectors, then each operator and edge case.

use serde_json::{Value, json};

use super::{Pattern, PatternError, PatternSet};

mod conformance;
mod dotted;
mod operators;
mod scan;
mod set;
mod strings;
mod structure;

/// A small deterministic generator (xorshift) for the randomised tests.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

/// Compiles `pattern`, panicking with the error if it is invalid.
#[track_caller]
fn pat(pattern: Value) -> Pattern {
    match Pattern::compile(&pattern) {
        Ok(p) => p,
        Err(e) => panic!("pattern {pattern} should compile: {e}"),
    }
}

/// Whether `pattern` matches `event`, checked through both `Pattern` and a
/// one-pattern `PatternSet` (which must agree).
#[track_caller]
fn m(pattern: Value, event: Value) -> bool {
    let p = pat(pattern.clone());
    let direct = p.matches(&event);
    let set = PatternSet::new(vec![p]);
    assert_eq!(
        set.matches(&event),
        direct,
        "PatternSet disagrees with Pattern for {pattern} on {event}"
    );
    assert_eq!(set.matching(&event).is_empty(), !direct);
    direct
}

/// The error compiling `pattern`, panicking if it compiles.
#[track_caller]
fn invalid(pattern: Value) -> PatternError {
    match Pattern::compile(&pattern) {
        Ok(_) => panic!("pattern {pattern} should be rejected"),
        Err(e) => e,
    }
}

#[test]
fn patterns_can_be_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Pattern>();
    shared::<PatternSet>();
    shared::<PatternError>();
}

#[test]
fn display_names_the_position() {
    let e = invalid(json!({"detail": {"amount": [5, {"numeric": [">", "x"]}]}}));
    assert_eq!(e.path, "detail.amount[1].numeric[1]");
    assert_eq!(
        e.to_string(),
        "invalid event pattern at `detail.amount[1].numeric[1]`: the operand of `>` must be a \
         number, found \"x\""
    );
    let e = invalid(json!([1]));
    assert_eq!(e.path, "");
    assert_eq!(
        e.to_string(),
        "invalid event pattern: a pattern must be a JSON object"
    );
    let e = invalid(json!({"a.b": {"c d": "x"}}));
    assert_eq!(e.path, r#"["a.b"]["c d"]"#);
}
