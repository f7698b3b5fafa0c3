//! Matching a compiled pattern against an event.
//!
//! Matching walks the pattern tree and the event side by side and yields one
//! of three outcomes for every subtree: it fails, it holds *positively*
//! (some condition bound to a value that is present in the event), or it
//! holds *negatively* (only through absence: `exists: false`, or fields
//! missing under it). The distinction decides arrays of objects: a pattern
//! object matches an array if one element matches it positively, or if every
//! element (or the empty array) matches it negatively — so
//! `{"a": {"c": [{"exists": false}]}}` fails when any element of `a` has a
//! `c`, while `{"a": {"b": [1], "c": [{"exists": false}]}}` needs one element
//! with `b` equal to 1 and no `c` — EventBridge's array-consistent semantics.

use serde_json::{Map, Value};

use super::compile::{Child, Leaf, Node};

/// How deeply nested arrays in an event are followed; deeper arrays are
/// treated as holding nothing, which keeps recursion bounded for any input.
pub(crate) const MAX_EVENT_DEPTH: usize = 256;

/// The outcome of matching a subtree, ordered from worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// The subtree does not match.
    No,
    /// It matches through absence only.
    Absent,
    /// It matches with at least one condition bound to a present value.
    Present,
}

/// Whether `event` matches the pattern rooted at `root`.
pub(crate) fn matches(root: &Node, event: &Value) -> bool {
    node_value(root, event, 0) != Outcome::No
}

/// Matches a pattern object against an event value of any type.
fn node_value(node: &Node, value: &Value, depth: usize) -> Outcome {
    match value {
        Value::Object(map) => node_object(node, Some(map), depth),
        Value::Array(items) if !items.is_empty() && depth < MAX_EVENT_DEPTH => {
            let mut all_absent = true;
            for item in items {
                match node_value(node, item, depth + 1) {
                    Outcome::Present => return Outcome::Present,
                    Outcome::Absent => {}
                    Outcome::No => all_absent = false,
                }
            }
            if all_absent {
                Outcome::Absent
            } else {
                Outcome::No
            }
        }
        // A leaf value, an empty array or an over-deep array holds no fields.
        _ => node_object(node, None, depth),
    }
}

/// Matches a pattern object against an event object (`None`: no fields).
fn node_object(node: &Node, map: Option<&Map<String, Value>>, depth: usize) -> Outcome {
    let mut out = Outcome::Absent;
    for child in &node.children {
        let value = map.and_then(|m| m.get(&*child.key));
        match child_value(child, value, depth) {
            Outcome::No => return Outcome::No,
            r => out = out.max(r),
        }
    }
    for group in &node.ors {
        let mut best = Outcome::No;
        for branch in group {
            best = best.max(node_object(branch, map, depth));
            if best == Outcome::Present {
                break;
            }
        }
        match best {
            Outcome::No => return Outcome::No,
            r => out = out.max(r),
        }
    }
    out
}

fn child_value(child: &Child, value: Option<&Value>, depth: usize) -> Outcome {
    let mut out = Outcome::Absent;
    if let Some(leaf) = &child.leaf {
        match leaf_value(leaf, value, depth) {
            Outcome::No => return Outcome::No,
            r => out = out.max(r),
        }
    }
    if let Some(node) = &child.node {
        let r = match value {
            Some(v) => node_value(node, v, depth + 1),
            None => node_object(node, None, depth + 1),
        };
        match r {
            Outcome::No => return Outcome::No,
            r => out = out.max(r),
        }
    }
    out
}

/// Matches a leaf condition array against the value of its field.
fn leaf_value(leaf: &Leaf, value: Option<&Value>, depth: usize) -> Outcome {
    let mut present = false;
    let mut hit = false;
    if let Some(value) = value {
        for_each_leaf_value(value, depth, &mut |v| {
            present = true;
            hit = leaf.conds.iter().any(|c| c.test(v));
            hit
        });
    }
    if hit || (present && leaf.exists_true) {
        Outcome::Present
    } else if !present && leaf.exists_false {
        Outcome::Absent
    } else {
        Outcome::No
    }
}

/// Calls `f` on each leaf value (string, number, boolean, null) of `value`,
/// flattening arrays and skipping objects, until `f` returns true.
/// Returns whether `f` returned true.
pub(crate) fn for_each_leaf_value(
    value: &Value,
    depth: usize,
    f: &mut impl FnMut(&Value) -> bool,
) -> bool {
    match value {
        Value::Object(_) => false,
        Value::Array(items) => {
            depth < MAX_EVENT_DEPTH
                && items
                    .iter()
                    .any(|item| for_each_leaf_value(item, depth + 1, f))
        }
        leaf => f(leaf),
    }
}
