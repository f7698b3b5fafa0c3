//! Matching events whose keys hold dots.
//!
//! EventBridge joins the names of an event's nested fields with dots before
//! matching, so an event key that holds dots names the path it spells:
//! `{"a.b": 1}` is read as `{"a": {"b": 1}}`, and `{"a.bc": 1}` as
//! `{"a": {"bc": 1}}`. An event can spell one path in several ways at once
//! (`{"a.b": 1, "a": {"b": 2}}`); each way gives a *part* of the value at
//! that path, and matching sees all of them:
//!
//! * objects among the parts merge: their fields together are the fields at
//!   the path (`{"a": {"b": 1}, "a.c": 2}` has both `a.b` and `a.c`);
//! * a leaf condition sees the leaf values of every part, as if they were
//!   the elements of one array (so `anything-but` needs one value it does
//!   not exclude, and `exists: false` needs none at all);
//! * arrays among the parts keep their meaning: a nested pattern object is
//!   matched against the merged objects together with one element of each
//!   array, and matches if some choice of elements matches — the values
//!   of one array element combine with the values outside the array, never
//!   with those of another element of it, as EventBridge's array-consistent
//!   matching requires.
//!
//! Trying every choice can multiply with each level of nesting, so the
//! choices tried along one path are capped ([`MAX_SPREAD`]); past the cap,
//! the merged objects and each element are matched as separate
//! alternatives. Parts are only made for keys that spell a path the
//! pattern reads, so an event matches the same whether it was parsed whole
//! or only down to the fields patterns read.

use super::compile::{Child, Leaf, Node};
use super::event::{Event, Shape};
use super::matcher::{MAX_EVENT_DEPTH, Outcome, leaf_outcome, leaf_test, or_groups};

/// How many combinations of array elements with the values beside them may
/// be tried along one path of the event before arrays become alternatives.
const MAX_SPREAD: usize = 256;

/// One of the ways the event spells the value at a path.
#[derive(Debug, Clone, Copy)]
enum Part<'v, E> {
    /// A value held under the path's last name.
    Value(E),
    /// The members of an object whose keys start with a prefix that ends
    /// with a dot, read as if the prefix were not there.
    Under(E, &'v [u8]),
}

/// An element chosen from an array: the object it is (`None` for a value
/// without fields), and its depth.
type Element<E> = (Option<E>, usize);

/// How many spellings with dots of the paths below a pattern object are
/// kept to look up; past that, an event object's keys are looked at instead.
const MAX_SPELLINGS: usize = 8;

/// The paths of two names or more that `node` reads, joined with dots, if
/// there are at most [`MAX_SPELLINGS`] of them.
pub(crate) fn spellings(node: &Node) -> Option<Box<[Box<str>]>> {
    /// Adds the paths below `node`, which lies `names` names below the
    /// start, to `out`, each after `prefix`; false if there are too many.
    fn collect(node: &Node, names: usize, prefix: &mut String, out: &mut Vec<Box<str>>) -> bool {
        for child in &node.children {
            let len = prefix.len();
            if names > 0 {
                prefix.push('.');
            }
            prefix.push_str(&child.key);
            if names > 0 && !out.iter().any(|s| **s == **prefix) {
                out.push(prefix.as_str().into());
            }
            let fits = out.len() <= MAX_SPELLINGS
                && child
                    .node
                    .as_ref()
                    .is_none_or(|inner| collect(inner, names + 1, prefix, out));
            prefix.truncate(len);
            if !fits {
                return false;
            }
        }
        node.ors
            .iter()
            .flatten()
            .all(|branch| collect(branch, names, prefix, out))
    }
    let mut out = Vec::new();
    collect(node, 0, &mut String::new(), &mut out).then(|| out.into_boxed_slice())
}

/// Whether some key of `object` holds a dot and spells a path that `node`
/// reads.
#[inline]
pub(crate) fn spells_here<'v, E: Event<'v>>(node: &Node, object: E) -> bool {
    node.spellings.as_ref().is_none_or(|s| !s.is_empty())
        && object.dotted()
        && has_spelling(node, object)
}

/// [`spells_here`] for an object that may have keys with dots.
#[inline(never)]
fn has_spelling<'v, E: Event<'v>>(node: &Node, object: E) -> bool {
    match &node.spellings {
        Some(spellings) => spellings.iter().any(|key| object.field(key).is_some()),
        None => object
            .members()
            .any(|(key, _)| key.contains(&b'.') && reads(node, key)),
    }
}

/// Whether `node` reads the path that `path` spells with its dots.
fn reads(node: &Node, path: &[u8]) -> bool {
    let (name, rest) = match path.iter().position(|&b| b == b'.') {
        Some(dot) => (path.get(..dot).unwrap_or(path), path.get(dot + 1..)),
        None => (path, None),
    };
    let child = node
        .children
        .binary_search_by(|c| c.key.as_bytes().cmp(name))
        .ok()
        .and_then(|i| node.children.get(i));
    let here = child.is_some_and(|c| match rest {
        None => true,
        Some(rest) => c.node.as_ref().is_some_and(|inner| reads(inner, rest)),
    });
    here || node.ors.iter().flatten().any(|branch| reads(branch, path))
}

/// The rest of `key` after `prefix`, `name` and a dot, if it starts so.
fn below<'k>(key: &'k [u8], prefix: &[u8], name: &[u8]) -> Option<&'k [u8]> {
    key.strip_prefix(prefix)?
        .strip_prefix(name)?
        .strip_prefix(b".")
}

/// Matches `node` against `object`, some of whose keys spell paths with
/// dots.
pub(crate) fn node_object<'v, E: Event<'v>>(node: &Node, object: E, depth: usize) -> Outcome {
    node_merged(node, &[Part::Value(object)], depth, 1)
}

/// Adds to `out` the parts of field `name` of the merged objects `objects`;
/// `node` is the pattern object that reads below the field, if any (only
/// it can see what keys spelling longer paths hold).
fn field<'v, E: Event<'v>>(
    objects: &[Part<'v, E>],
    name: &str,
    node: Option<&Node>,
    out: &mut Vec<Part<'v, E>>,
) {
    let name_bytes = name.as_bytes();
    for part in objects {
        let (object, prefix) = match *part {
            Part::Value(object) => {
                out.extend(object.field(name).map(Part::Value));
                (object, &[][..])
            }
            Part::Under(object, prefix) => {
                let exact = object.members().filter(|(key, _)| {
                    key.strip_prefix(prefix)
                        .is_some_and(|rest| rest == name_bytes)
                });
                out.extend(exact.map(|(_, value)| Part::Value(value)).last());
                (object, prefix)
            }
        };
        let Some(node) = node else { continue };
        if !object.dotted() {
            continue;
        }
        let under = object.members().find_map(|(key, _)| {
            let rest = below(key, prefix, name_bytes)?;
            if reads(node, rest) {
                key.get(..key.len() - rest.len())
            } else {
                None
            }
        });
        out.extend(under.map(|prefix| Part::Under(object, prefix)));
    }
}

/// Matches `node` against the merged objects `objects`, inside `depth`
/// levels of the event, `spread` combinations having been tried along the
/// path.
fn node_merged<'v, E: Event<'v>>(
    node: &Node,
    objects: &[Part<'v, E>],
    depth: usize,
    spread: usize,
) -> Outcome {
    let mut out = Outcome::Absent;
    let mut parts = Vec::new();
    for child in &node.children {
        parts.clear();
        field(objects, &child.key, child.node.as_ref(), &mut parts);
        match child_parts(child, &parts, depth, spread) {
            Outcome::No => return Outcome::No,
            r => out = out.max(r),
        }
    }
    or_groups(&node.ors, out, |branch| {
        node_merged(branch, objects, depth, spread)
    })
}

/// Matches one field of a pattern object against the parts of its value.
fn child_parts<'v, E: Event<'v>>(
    child: &Child,
    parts: &[Part<'v, E>],
    depth: usize,
    spread: usize,
) -> Outcome {
    let mut out = Outcome::Absent;
    if let Some(leaf) = &child.leaf {
        match leaf_parts(leaf, parts, depth) {
            Outcome::No => return Outcome::No,
            r => out = out.max(r),
        }
    }
    if let Some(node) = &child.node {
        match node_parts(node, parts, depth + 1, spread) {
            Outcome::No => return Outcome::No,
            r => out = out.max(r),
        }
    }
    out
}

/// Matches a leaf condition array against the leaf values of all parts.
fn leaf_parts<'v, E: Event<'v>>(leaf: &Leaf, parts: &[Part<'v, E>], depth: usize) -> Outcome {
    let mut present = false;
    let mut hit = false;
    for part in parts {
        if let Part::Value(value) = *part {
            leaf_test(leaf, value, depth, &mut present, &mut hit);
            if hit {
                break;
            }
        }
    }
    leaf_outcome(leaf, present, hit)
}

/// Matches a pattern object against the parts of a value: the objects
/// among them merged, with one element of each array among them.
fn node_parts<'v, E: Event<'v>>(
    node: &Node,
    parts: &[Part<'v, E>],
    depth: usize,
    spread: usize,
) -> Outcome {
    let mut objects = Vec::with_capacity(parts.len());
    let mut arrays: Vec<Vec<Element<E>>> = Vec::new();
    for part in parts {
        match *part {
            Part::Under(..) => objects.push(*part),
            Part::Value(value) => match value.shape() {
                Shape::Object => objects.push(*part),
                Shape::Array(items) if depth < MAX_EVENT_DEPTH => {
                    let mut elements = Vec::new();
                    flatten(items, depth, &mut elements);
                    if !elements.is_empty() {
                        arrays.push(elements);
                    }
                }
                // A leaf value or an over-deep array holds no fields.
                _ => {}
            },
        }
    }
    let combinations = arrays
        .iter()
        .map(Vec::len)
        .fold(1usize, usize::saturating_mul);
    match arrays.as_slice() {
        [] => node_merged(node, &objects, depth, spread),
        // Elements that nothing else shares: each on its own.
        [elements] if objects.is_empty() => any_element(
            elements
                .iter()
                .map(|&(element, depth)| alone(node, element, depth, spread)),
        ),
        _ if spread.saturating_mul(combinations) <= MAX_SPREAD => {
            let spread = spread.saturating_mul(combinations);
            any_element((0..combinations).map(|n| {
                let mut merged = objects.clone();
                let mut deepest = depth;
                let mut n = n;
                for elements in &arrays {
                    let len = elements.len().max(1);
                    if let Some(&(element, depth)) = elements.get(n % len) {
                        merged.extend(element.map(Part::Value));
                        deepest = deepest.max(depth);
                    }
                    n /= len;
                }
                node_merged(node, &merged, deepest, spread)
            }))
        }
        // Too many combinations: the merged objects and the elements are
        // alternatives.
        _ => {
            let beside = (!objects.is_empty()).then(|| node_merged(node, &objects, depth, spread));
            let each = arrays
                .iter()
                .flatten()
                .map(|&(element, depth)| alone(node, element, depth, spread));
            any_element(beside.into_iter().chain(each))
        }
    }
}

/// Matches `node` against an array element on its own.
fn alone<'v, E: Event<'v>>(
    node: &Node,
    element: Option<E>,
    depth: usize,
    spread: usize,
) -> Outcome {
    match element {
        Some(element) => node_merged(node, &[Part::Value(element)], depth, spread),
        None => node_merged::<E>(node, &[], depth, spread),
    }
}

/// Adds to `out` the elements of the array with `items`, inside `depth`
/// levels, the elements of nested arrays in their place: each as the
/// object it is, or `None` for a value without fields (a leaf, or an empty
/// or over-deep array).
fn flatten<'v, E: Event<'v>>(items: E::Items, depth: usize, out: &mut Vec<Element<E>>) {
    for item in items {
        match item.shape() {
            Shape::Object => out.push((Some(item), depth + 1)),
            Shape::Array(inner) if depth + 1 < MAX_EVENT_DEPTH => {
                let before = out.len();
                flatten(inner, depth + 1, out);
                if out.len() == before {
                    out.push((None, depth + 1));
                }
            }
            _ => out.push((None, depth + 1)),
        }
    }
}

/// Combines the outcomes of matching the elements of an array (at least
/// one): it matches positively if one element does, and through absence if
/// every element does.
fn any_element(outcomes: impl Iterator<Item = Outcome>) -> Outcome {
    let mut all_absent = true;
    for outcome in outcomes {
        match outcome {
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
