//! The index behind [`PatternSet`](super::PatternSet).
//!
//! Each pattern is filed under an *anchor*: one or more leaves that any
//! matching event must satisfy positively, chosen among the leaves every
//! match needs (fields outside `$or`, or one leaf per alternative of an
//! `$or`) whose conditions are all indexable — literals, `prefix`, `suffix`,
//! `equals-ignore-case` and their ignore-case forms, wildcards with a fixed
//! start or end, and `numeric` equality. For every anchored field path the
//! index keeps hash tables from values, prefixes and suffixes to patterns.
//! Matching an event visits each anchored path once, looks its values up,
//! and yields the patterns found (the *candidates*), which are then matched
//! in full. Patterns without an anchor are candidates for every event.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

use super::Pattern;
use super::compile::{Leaf, Node};
use super::event::{self, Event, Shape};
use super::hash::FastHasher;
use super::matcher::{MAX_EVENT_DEPTH, for_each_leaf_value};
use super::ops::{Cond, Literal, ip_text, parse_ip};

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Candidate patterns for events, by indexed field path.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// One table per anchored field path.
    paths: Vec<PathIndex>,
    /// Patterns without an anchor: candidates for every event.
    always: Vec<usize>,
}

/// The tables for one field path.
#[derive(Debug, Clone, Default)]
struct PathIndex {
    path: Path,
    strings: FastMap<Box<str>, Vec<usize>>,
    numbers: FastMap<u64, Vec<usize>>,
    trues: Vec<usize>,
    falses: Vec<usize>,
    nulls: Vec<usize>,
    prefixes: Affixes,
    suffixes: Affixes,
    /// Ignore-case conditions on ASCII text, by lower-cased text.
    folded: FastMap<Box<str>, Vec<usize>>,
    folded_prefixes: Affixes,
    folded_suffixes: Affixes,
    /// Some string literal here is an IP address (matching its other
    /// spellings too), so event strings are also looked up in canonical form.
    ip_literals: bool,
    /// Some ignore-case condition is filed here.
    ignore_case: bool,
}

/// Prefixes (or suffixes) and the distinct lengths they come in.
#[derive(Debug, Clone, Default)]
struct Affixes {
    map: FastMap<Box<str>, Vec<usize>>,
    /// Distinct key lengths in bytes, ascending.
    lens: Vec<usize>,
}

/// A leaf that a match needs to satisfy positively: its path, and the keys
/// its conditions are filed under.
struct Anchor<'a> {
    path: Vec<&'a str>,
    keys: Vec<Key>,
}

/// What one condition is filed under in a [`PathIndex`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Str(Box<str>),
    /// The canonical text of an IP address literal.
    Ip(Box<str>),
    Num(u64),
    True,
    False,
    Null,
    Prefix(Box<str>),
    Suffix(Box<str>),
    Folded(Box<str>),
    FoldedPrefix(Box<str>),
    FoldedSuffix(Box<str>),
}

impl Index {
    pub(crate) fn build(patterns: &[Pattern]) -> Index {
        // Every way each pattern could be anchored: a list of anchor sets.
        let options: Vec<Vec<Vec<Anchor<'_>>>> = patterns
            .iter()
            .map(|p| {
                let mut out = Vec::new();
                anchor_options(&p.root, &mut Vec::new(), &mut out);
                out
            })
            .collect();
        // How many patterns could be filed under each key. A pattern filed
        // under a key is a candidate for every event holding that value, so
        // each pattern picks the anchor set whose keys are least shared.
        let mut load: HashMap<(&[&str], &Key), usize> = HashMap::new();
        for pattern_options in &options {
            let mut seen = HashSet::new();
            for anchor in pattern_options.iter().flatten() {
                for key in &anchor.keys {
                    if seen.insert((anchor.path.as_slice(), key)) {
                        *load.entry((anchor.path.as_slice(), key)).or_default() += 1;
                    }
                }
            }
        }
        let cost = |set: &Vec<Anchor<'_>>| {
            set.iter()
                .flat_map(|a| a.keys.iter().map(move |k| (a.path.as_slice(), k)))
                .map(|(path, key)| {
                    let shared = load.get(&(path, key)).copied().unwrap_or(0);
                    match key {
                        // An empty affix catches every string.
                        Key::Prefix(p)
                        | Key::Suffix(p)
                        | Key::FoldedPrefix(p)
                        | Key::FoldedSuffix(p)
                            if p.is_empty() =>
                        {
                            patterns.len()
                        }
                        // An affix catches more values than an exact key.
                        Key::Prefix(_)
                        | Key::Suffix(_)
                        | Key::FoldedPrefix(_)
                        | Key::FoldedSuffix(_) => shared.saturating_add(1),
                        _ => shared,
                    }
                })
                .fold(0usize, usize::saturating_add)
        };
        let mut index = Index::default();
        let mut by_path: HashMap<&[&str], usize> = HashMap::new();
        for (id, pattern_options) in options.iter().enumerate() {
            let Some(best) = pattern_options.iter().min_by_key(|set| cost(set)) else {
                index.always.push(id);
                continue;
            };
            for anchor in best {
                let slot = *by_path.entry(anchor.path.as_slice()).or_insert_with(|| {
                    index.paths.push(PathIndex {
                        path: Path::new(&anchor.path),
                        ..PathIndex::default()
                    });
                    index.paths.len() - 1
                });
                if let Some(table) = index.paths.get_mut(slot) {
                    for key in &anchor.keys {
                        table.insert(key, id);
                    }
                }
            }
        }
        for table in &mut index.paths {
            table.prefixes.finish();
            table.suffixes.finish();
            table.folded_prefixes.finish();
            table.folded_suffixes.finish();
        }
        index
    }

    /// The candidate patterns for `event`, ascending and without repeats.
    pub(crate) fn candidates<'v>(&self, event: impl Event<'v>) -> Vec<usize> {
        let mut out = self.always.clone();
        for table in &self.paths {
            table.lookup(event, &mut |ids| {
                out.extend_from_slice(ids);
                false
            });
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether `test` holds for some candidate pattern of `event`.
    pub(crate) fn any_candidate<'v>(
        &self,
        event: impl Event<'v>,
        mut test: impl FnMut(usize) -> bool,
    ) -> bool {
        self.always.iter().any(|&id| test(id))
            || self
                .paths
                .iter()
                .any(|table| table.lookup(event, &mut |ids| ids.iter().any(|&id| test(id))))
    }
}

/// Collects into `out` the anchor sets of `node` (relative to `prefix`).
fn anchor_options<'a>(node: &'a Node, prefix: &mut Vec<&'a str>, out: &mut Vec<Vec<Anchor<'a>>>) {
    for child in &node.children {
        prefix.push(&child.key);
        if let Some(keys) = child.leaf.as_ref().and_then(keys) {
            out.push(vec![Anchor {
                path: prefix.clone(),
                keys,
            }]);
        }
        if let Some(inner) = &child.node {
            anchor_options(inner, prefix, out);
        }
        prefix.pop();
    }
    'groups: for group in &node.ors {
        // One anchor set per alternative; together they cover the group.
        let mut union = Vec::new();
        for branch in group {
            let mut branch_options = Vec::new();
            anchor_options(branch, prefix, &mut branch_options);
            match branch_options.into_iter().min_by_key(Vec::len) {
                Some(set) => union.extend(set),
                None => continue 'groups,
            }
        }
        out.push(union);
    }
}

/// The keys to file `leaf` under, if every way to satisfy it is a value the
/// tables can look up.
fn keys(leaf: &Leaf) -> Option<Vec<Key>> {
    if leaf.exists_true || leaf.exists_false || leaf.conds.is_empty() {
        return None;
    }
    let mut keys = Vec::with_capacity(leaf.conds.len());
    for cond in &leaf.conds {
        match cond {
            Cond::Exact(Literal::Str { text, ip }) => {
                keys.push(Key::Str(text.clone()));
                if let Some(ip) = ip {
                    keys.push(Key::Ip(ip_text(*ip).into()));
                }
            }
            Cond::Exact(Literal::Num(n)) => keys.push(Key::Num(number_key(n.as_f64()?))),
            Cond::Exact(Literal::Bool(true)) => keys.push(Key::True),
            Cond::Exact(Literal::Bool(false)) => keys.push(Key::False),
            Cond::Exact(Literal::Null) => keys.push(Key::Null),
            Cond::Prefix(p) => keys.push(Key::Prefix(p.clone())),
            Cond::Suffix(p) => keys.push(Key::Suffix(p.clone())),
            Cond::EqIc(ic) => keys.push(Key::Folded(ic.ascii_key()?.into())),
            Cond::PrefixIc(ic) => keys.push(Key::FoldedPrefix(ic.ascii_key()?.into())),
            Cond::SuffixIc(ic) => keys.push(Key::FoldedSuffix(ic.ascii_key()?.into())),
            Cond::Wildcard(w) => match w.parts.as_slice() {
                [only] => keys.push(Key::Str(only.clone())),
                [first, ..] if !first.is_empty() => keys.push(Key::Prefix(first.clone())),
                [.., last] if !last.is_empty() => keys.push(Key::Suffix(last.clone())),
                _ => return None,
            },
            Cond::Numeric(r) => keys.push(Key::Num(number_key(numeric_equality(r)?))),
            Cond::AnythingBut(_) | Cond::Cidr(_) => return None,
        }
    }
    Some(keys)
}

/// The value of a `numeric` condition that is an equality, if it is one.
fn numeric_equality(r: &super::ops::Range) -> Option<f64> {
    match (r.low, r.high) {
        (Some(lo), Some(hi)) if lo.inclusive && hi.inclusive && lo.value == hi.value => {
            Some(lo.value)
        }
        _ => None,
    }
}

/// The key numbers are filed under; equal numbers share it.
fn number_key(x: f64) -> u64 {
    if x == 0.0 {
        0.0f64.to_bits()
    } else {
        x.to_bits()
    }
}

fn file<K: std::hash::Hash + Eq>(map: &mut FastMap<K, Vec<usize>>, key: K, id: usize) {
    let ids = map.entry(key).or_default();
    if ids.last() != Some(&id) {
        ids.push(id);
    }
}

fn file_id(ids: &mut Vec<usize>, id: usize) {
    if ids.last() != Some(&id) {
        ids.push(id);
    }
}

impl PathIndex {
    fn insert(&mut self, key: &Key, id: usize) {
        match key {
            Key::Str(text) => file(&mut self.strings, text.clone(), id),
            Key::Ip(text) => {
                self.ip_literals = true;
                file(&mut self.strings, text.clone(), id);
            }
            Key::Num(bits) => file(&mut self.numbers, *bits, id),
            Key::True => file_id(&mut self.trues, id),
            Key::False => file_id(&mut self.falses, id),
            Key::Null => file_id(&mut self.nulls, id),
            Key::Prefix(p) => file(&mut self.prefixes.map, p.clone(), id),
            Key::Suffix(p) => file(&mut self.suffixes.map, p.clone(), id),
            Key::Folded(p) => {
                self.ignore_case = true;
                file(&mut self.folded, p.clone(), id);
            }
            Key::FoldedPrefix(p) => {
                self.ignore_case = true;
                file(&mut self.folded_prefixes.map, p.clone(), id);
            }
            Key::FoldedSuffix(p) => {
                self.ignore_case = true;
                file(&mut self.folded_suffixes.map, p.clone(), id);
            }
        }
    }

    /// Calls `found` with the patterns filed under each value of this path
    /// in `event`, until it returns true; returns whether it did.
    fn lookup<'v>(&self, event: impl Event<'v>, found: &mut impl FnMut(&[usize]) -> bool) -> bool {
        walk(event, &self.path, 0, 0, &mut |v| self.probe(v, found))
    }

    #[inline]
    fn probe(&self, v: event::Leaf<'_>, found: &mut impl FnMut(&[usize]) -> bool) -> bool {
        let mut hit = |ids: Option<&Vec<usize>>| ids.is_some_and(|ids| found(ids));
        match v {
            event::Leaf::Str(s) => {
                hit(self.strings.get(s))
                    || (self.ip_literals
                        && parse_ip(s)
                            .is_some_and(|ip| hit(self.strings.get(ip_text(ip).as_str()))))
                    || self.prefixes.probe(s, false, &mut hit)
                    || self.suffixes.probe(s, true, &mut hit)
                    || (self.ignore_case && {
                        let folded = s.to_ascii_lowercase();
                        hit(self.folded.get(folded.as_str()))
                            || self.folded_prefixes.probe(&folded, false, &mut hit)
                            || self.folded_suffixes.probe(&folded, true, &mut hit)
                    })
            }
            event::Leaf::Num(n) => n
                .as_f64()
                .is_some_and(|x| hit(self.numbers.get(&number_key(x)))),
            event::Leaf::Bool(true) => !self.trues.is_empty() && found(&self.trues),
            event::Leaf::Bool(false) => !self.falses.is_empty() && found(&self.falses),
            event::Leaf::Null => !self.nulls.is_empty() && found(&self.nulls),
        }
    }
}

impl Affixes {
    fn finish(&mut self) {
        self.lens = self.map.keys().map(|k| k.len()).collect();
        self.lens.sort_unstable();
        self.lens.dedup();
    }

    /// Looks up every prefix (or, with `suffix`, every suffix) of `s` that
    /// has the length of some key.
    fn probe(
        &self,
        s: &str,
        suffix: bool,
        hit: &mut impl FnMut(Option<&Vec<usize>>) -> bool,
    ) -> bool {
        for &len in &self.lens {
            let Some(start) = s.len().checked_sub(len) else {
                break;
            };
            let part = if suffix { s.get(start..) } else { s.get(..len) };
            if part.is_some_and(|part| hit(self.map.get(part))) {
                return true;
            }
        }
        false
    }
}

/// An indexed field path: its names, and their spelling with dots.
#[derive(Debug, Clone, Default)]
struct Path {
    names: Vec<Box<str>>,
    /// The names joined with dots.
    joined: Box<str>,
    /// Where each name starts and ends in `joined`.
    bounds: Vec<(usize, usize)>,
}

impl Path {
    fn new(names: &[&str]) -> Path {
        let joined = names.join(".");
        let mut bounds = Vec::with_capacity(names.len());
        let mut at = 0;
        for name in names {
            bounds.push((at, at + name.len()));
            at += name.len() + 1;
        }
        Path {
            names: names.iter().map(|&name| name.into()).collect(),
            joined: joined.into(),
            bounds,
        }
    }

    /// Names `from..to` joined with dots.
    fn spelled(&self, from: usize, to: usize) -> Option<&str> {
        let (start, _) = *self.bounds.get(from)?;
        let (_, end) = *self.bounds.get(to.checked_sub(1)?)?;
        self.joined.get(start..end)
    }
}

/// Calls `f` on the leaf values at names `step..` of `path` below `value`,
/// through arrays and keys that spell several of the names with dots, until
/// it returns true; returns whether it did.
fn walk<'v, E: Event<'v>>(
    value: E,
    path: &Path,
    step: usize,
    depth: usize,
    f: &mut impl FnMut(event::Leaf<'v>) -> bool,
) -> bool {
    let Some(name) = path.names.get(step) else {
        return for_each_leaf_value(value, depth, f);
    };
    match value.shape() {
        Shape::Object => {
            value
                .field(name)
                .is_some_and(|v| walk(v, path, step + 1, depth + 1, f))
                || (step + 2 <= path.names.len()
                    && value.dotted()
                    && walk_spelled(value, path, step, depth, f))
        }
        Shape::Array(mut items) => {
            depth < MAX_EVENT_DEPTH && items.any(|item| walk(item, path, step, depth + 1, f))
        }
        Shape::Leaf(_) => false,
    }
}

/// [`walk`] through the keys of the object `value` that spell names
/// `step..` and more of `path` with dots.
#[inline(never)]
fn walk_spelled<'v, E: Event<'v>>(
    value: E,
    path: &Path,
    step: usize,
    depth: usize,
    f: &mut impl FnMut(event::Leaf<'v>) -> bool,
) -> bool {
    (step + 2..=path.names.len()).any(|to| {
        path.spelled(step, to)
            .and_then(|key| value.field(key))
            .is_some_and(|v| walk(v, path, to, depth + 1, f))
    })
}
