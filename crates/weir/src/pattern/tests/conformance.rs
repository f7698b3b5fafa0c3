//! Runs every vector of `tests/conformance/event-patterns.jsonl`.

use serde_json::Value;

use crate::pattern::{Pattern, PatternSet};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/conformance/event-patterns.jsonl"
);

#[test]
fn conformance_vectors() {
    let text = match std::fs::read_to_string(VECTORS) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {VECTORS}: {e}"),
    };
    let mut failures = Vec::new();
    let mut count = 0;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        count += 1;
        let vector: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("line {}: not JSON: {e}", n + 1));
                continue;
            }
        };
        let name = vector["name"].as_str().unwrap_or("?");
        let expect = vector["expect"].as_str().unwrap_or("?");
        let outcome = match Pattern::compile(&vector["pattern"]) {
            Err(e) if expect == "invalid" => {
                assert!(!e.message.is_empty());
                continue;
            }
            Err(e) => format!("rejected: {e}"),
            Ok(p) => {
                let event = &vector["event"];
                let matched = p.matches(event);
                // Every way of matching must agree with matching the parsed
                // event: through a set's index, on the event's JSON text
                // (compact and pretty), and on the event parsed only as far
                // as the set's patterns read (as the pipeline filter does).
                let set = PatternSet::new(vec![p]);
                if set.matches(event) != matched {
                    failures.push(format!("{name}: the set disagrees on the parsed event"));
                }
                let pretty = serde_json::to_string_pretty(event).unwrap_or_default();
                for text in [event.to_string(), pretty] {
                    if set.matches_json(text.as_bytes()).ok() != Some(matched) {
                        failures.push(format!("{name}: matching the text {text} disagrees"));
                    }
                    let pruned = set.fields().parse(text.as_bytes());
                    if pruned.map(|v| set.matches(&v)).ok() != Some(matched) {
                        failures.push(format!("{name}: the pruned event of {text} disagrees"));
                    }
                }
                let got = if matched { "match" } else { "no-match" };
                if got == expect {
                    continue;
                }
                got.to_owned()
            }
        };
        failures.push(format!("{name}: expected {expect}, got {outcome}"));
    }
    assert!(count >= 90, "only {count} vectors in {VECTORS}");
    assert!(
        failures.is_empty(),
        "{} of {count} conformance vectors failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
