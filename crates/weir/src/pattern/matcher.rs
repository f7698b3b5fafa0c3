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
//! Objects with keys that spell paths with dots are matched by
//! [`dotted`](super::dotted), in the same terms.

use super::compile::{Child, Leaf, Node};
use super::dotted;
use super::event::{self, Event, Shape};

/// How deeply nested arrays in an event are followed; deeper arrays are
/// treated as holding nothing, which keeps recursion bounded for any input.
pub(crate) const MAX_EVENT_DEPTH: usize = 256;

/// The outcome of matching a subtree, ordered from worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Outcome {
    /// The subtree does not match.
    No,
    /// It matches through absence only.
    Absent,
    /// It matches with at least one condition bound to a present value.
    Present,
}

/// Whether `event` matches the pattern rooted at `root`.
pub(crate) fn matches<'v>(root: &Node, event: impl Event<'v>) -> bool {
    node_value(root, event, 0) != Outcome::No
}

/// Matches a pattern object against an event value of any type.
fn node_value<'v, E: Event<'v>>(node: &Node, value: E, depth: usize) -> Outcome {
    match value.shape() {
        Shape::Object => node_object(node, Some(value), depth),
        Shape::Array(items) if depth < MAX_EVENT_DEPTH => {
            let mut empty = true;
            let mut all_absent = true;
            for item in items {
                empty = false;
                match node_value(node, item, depth + 1) {
                    Outcome::Present => return Outcome::Present,
                    Outcome::Absent => {}
                    Outcome::No => all_absent = false,
                }
            }
            if empty {
                // An empty array holds no fields.
                node_object::<E>(node, None, depth)
            } else if all_absent {
                Outcome::Absent
            } else {
                Outcome::No
            }
        }
        // A leaf value or an over-deep array holds no fields.
        _ => node_object::<E>(node, None, depth),
    }
}

/// Matches a pattern object against an event object (`None`: no fields).
fn node_object<'v, E: Event<'v>>(node: &Node, map: Option<E>, depth: usize) -> Outcome {
    match map {
        // Keys holding dots spell paths the pattern reads: match the paths.
        Some(object) if dotted::spells_here(node, object) => {
            dotted::node_object(node, object, depth)
        }
        _ => node_fields(node, map, depth),
    }
}

/// [`node_object`] for an object none of whose keys holds a dot that
/// matters to `node`.
fn node_fields<'v, E: Event<'v>>(node: &Node, map: Option<E>, depth: usize) -> Outcome {
    let mut out = Outcome::Absent;
    for child in &node.children {
        let value = map.and_then(|m| m.field(&child.key));
        match child_value(child, value, depth) {
            Outcome::No => return Outcome::No,
            r => out = out.max(r),
        }
    }
    or_groups(&node.ors, out, |branch| node_fields(branch, map, depth))
}

/// Folds the `$or` groups of a node into `out`, the outcome of its other
/// fields: each group needs one branch that matches (`branch` tells how
/// well one does), and the node's outcome is the best of them all.
pub(crate) fn or_groups(
    groups: &[Vec<Node>],
    mut out: Outcome,
    mut branch: impl FnMut(&Node) -> Outcome,
) -> Outcome {
    for group in groups {
        let mut best = Outcome::No;
        for b in group {
            best = best.max(branch(b));
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

fn child_value<'v, E: Event<'v>>(child: &Child, value: Option<E>, depth: usize) -> Outcome {
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
            None => node_object::<E>(node, None, depth + 1),
        };
        match r {
            Outcome::No => return Outcome::No,
            r => out = out.max(r),
        }
    }
    out
}

/// Matches a leaf condition array against the value of its field.
fn leaf_value<'v, E: Event<'v>>(leaf: &Leaf, value: Option<E>, depth: usize) -> Outcome {
    let mut present = false;
    let mut hit = false;
    if let Some(value) = value {
        leaf_test(leaf, value, depth, &mut present, &mut hit);
    }
    leaf_outcome(leaf, present, hit)
}

/// Tests the leaf values of `value` against `leaf` until one matches,
/// noting in `present` whether there are any and in `hit` whether one
/// matched.
pub(crate) fn leaf_test<'v, E: Event<'v>>(
    leaf: &Leaf,
    value: E,
    depth: usize,
    present: &mut bool,
    hit: &mut bool,
) {
    for_each_leaf_value(value, depth, &mut |v| {
        *present = true;
        *hit = leaf.conds.iter().any(|c| c.test(v));
        *hit
    });
}

/// The outcome of a leaf condition array on a field whose leaf values
/// were `present` (some of them) and `hit` (one matched a condition).
pub(crate) fn leaf_outcome(leaf: &Leaf, present: bool, hit: bool) -> Outcome {
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
pub(crate) fn for_each_leaf_value<'v, E: Event<'v>>(
    value: E,
    depth: usize,
    f: &mut impl FnMut(event::Leaf<'v>) -> bool,
) -> bool {
    match value.shape() {
        Shape::Object => false,
        Shape::Array(mut items) => {
            depth < MAX_EVENT_DEPTH && items.any(|item| for_each_leaf_value(item, depth + 1, f))
        }
        Shape::Leaf(leaf) => f(leaf),
    }
}
