//! Pattern JSON → compiled tree, with validation.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::PatternError;
use super::dotted;
use super::ops::{Cond, Literal, parse_ip};

mod operators;

/// How deeply pattern objects may nest (`$or` alternatives count as a level).
const MAX_DEPTH: usize = 100;

/// EventBridge's limit on the alternatives `$or` may multiply out to.
const MAX_OR_COMBINATIONS: usize = 1000;

/// Names that may not be field names inside `$or` alternatives (event-ruler's
/// reserved words).
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

/// One level of a compiled pattern: all children and every `$or` group must
/// match.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    /// Fields at this level, sorted by key.
    pub(crate) children: Vec<Child>,
    /// `$or` groups: at least one alternative of each group must match.
    pub(crate) ors: Vec<Vec<Node>>,
    /// The event keys with dots that spell paths this node reads (paths of
    /// two names or more), or `None` if there are too many to try each.
    pub(crate) spellings: Option<Box<[Box<str>]>>,
}

/// One field of a [`Node`]: a leaf condition array, a nested pattern object,
/// or (when the pattern spells both `a: [...]` and `a.b: [...]`) both.
#[derive(Debug, Clone)]
pub(crate) struct Child {
    pub(crate) key: Box<str>,
    pub(crate) leaf: Option<Leaf>,
    pub(crate) node: Option<Node>,
}

/// A leaf condition array: any condition may match.
#[derive(Debug, Clone, Default)]
pub(crate) struct Leaf {
    /// Value conditions.
    pub(crate) conds: Vec<Cond>,
    /// `{"exists": true}` is among the conditions.
    pub(crate) exists_true: bool,
    /// `{"exists": false}` is among the conditions.
    pub(crate) exists_false: bool,
}

/// Compiles and validates a pattern.
///
/// Like EventBridge, a pattern that is invalid when `$or` is read as the
/// OR operator is compiled again with `$or` as an ordinary field name (so
/// `{"$or": ["x"]}` matches a field called `$or`); if that fails too, the
/// first error is reported.
pub(crate) fn compile(pattern: &Value) -> Result<Node, PatternError> {
    let mut ctx = Ctx {
        path: Vec::new(),
        or_operator: true,
    };
    let Value::Object(map) = pattern else {
        return Err(ctx.err("a pattern must be a JSON object"));
    };
    if or_combinations(pattern, 0) > MAX_OR_COMBINATIONS {
        return Err(ctx.err(format!(
            "the pattern expands to more than {MAX_OR_COMBINATIONS} combinations of `$or` \
             alternatives"
        )));
    }
    let mut root = Builder::default();
    match ctx.object(&mut root, map, false, 0) {
        Ok(()) => Ok(root.finish()),
        Err(error) => {
            let mut plain = Ctx {
                path: Vec::new(),
                or_operator: false,
            };
            let mut root = Builder::default();
            match plain.object(&mut root, map, false, 0) {
                Ok(()) => Ok(root.finish()),
                _ => Err(error),
            }
        }
    }
}

/// The number of alternatives `$or` arrays can multiply out to, counted as
/// EventBridge counts it (the product of their lengths, nested ones
/// included), saturating.
fn or_combinations(value: &Value, depth: usize) -> usize {
    let Value::Object(map) = value else {
        return 1;
    };
    if depth > MAX_DEPTH {
        return 1;
    }
    let mut product: usize = 1;
    for (key, value) in map {
        match value {
            Value::Array(members) if key == "$or" => {
                product = product.saturating_mul(members.len().max(1));
                for member in members {
                    product = product.saturating_mul(or_combinations(member, depth + 1));
                }
            }
            Value::Object(_) => {
                product = product.saturating_mul(or_combinations(value, depth + 1));
            }
            _ => {}
        }
        if product > MAX_OR_COMBINATIONS {
            break;
        }
    }
    product
}

/// A node under construction; dotted keys and repeated paths merge here.
#[derive(Default)]
struct Builder {
    children: BTreeMap<String, ChildBuilder>,
    ors: Vec<Vec<Builder>>,
}

#[derive(Default)]
struct ChildBuilder {
    leaf: Option<Leaf>,
    node: Option<Builder>,
}

impl Builder {
    /// The nested node for the dotted path `key`, created as needed.
    fn descend(&mut self, key: &str) -> &mut Builder {
        let mut node = self;
        for seg in key.split('.') {
            node = node
                .children
                .entry(seg.to_owned())
                .or_default()
                .node
                .get_or_insert_with(Builder::default);
        }
        node
    }

    /// Sets the leaf at the dotted path `key`; a later leaf for the same
    /// path replaces an earlier one, as in EventBridge.
    fn set_leaf(&mut self, key: &str, leaf: Leaf) {
        let (node, last) = match key.rsplit_once('.') {
            Some((parent, last)) => (self.descend(parent), last),
            None => (self, key),
        };
        node.children.entry(last.to_owned()).or_default().leaf = Some(leaf);
    }

    fn finish(self) -> Node {
        let children: Vec<Child> = self
            .children
            .into_iter()
            .map(|(key, c)| Child {
                key: key.into_boxed_str(),
                leaf: c.leaf,
                node: c.node.map(Builder::finish),
            })
            .collect();
        let ors: Vec<Vec<Node>> = self
            .ors
            .into_iter()
            .map(|group| group.into_iter().map(Builder::finish).collect())
            .collect();
        let mut node = Node {
            children,
            ors,
            spellings: None,
        };
        node.spellings = dotted::spellings(&node);
        node
    }
}

/// A step of the path reported in errors.
enum Seg {
    Key(String),
    Index(usize),
}

/// Compilation state: the current position in the pattern, for errors.
struct Ctx {
    path: Vec<Seg>,
    /// Whether `$or` is the OR operator (or an ordinary field name).
    or_operator: bool,
}

impl Ctx {
    fn err(&self, message: impl Into<String>) -> PatternError {
        let mut path = String::new();
        for seg in &self.path {
            match seg {
                Seg::Key(key) if is_plain_key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Seg::Key(key) => {
                    path.push('[');
                    path.push_str(&Value::from(key.as_str()).to_string());
                    path.push(']');
                }
                Seg::Index(i) => {
                    path.push('[');
                    path.push_str(&i.to_string());
                    path.push(']');
                }
            }
        }
        PatternError {
            path,
            message: message.into(),
        }
    }

    /// Runs `f` with `seg` appended to the path.
    fn at<T>(
        &mut self,
        seg: Seg,
        f: impl FnOnce(&mut Ctx) -> Result<T, PatternError>,
    ) -> Result<T, PatternError> {
        self.path.push(seg);
        let out = f(self);
        self.path.pop();
        out
    }

    fn object(
        &mut self,
        node: &mut Builder,
        map: &Map<String, Value>,
        in_or: bool,
        depth: usize,
    ) -> Result<(), PatternError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("pattern nests more than {MAX_DEPTH} levels deep")));
        }
        if map.is_empty() {
            return Err(self.err("empty objects are not allowed"));
        }
        for (key, value) in map {
            self.at(Seg::Key(key.clone()), |ctx| {
                if key == "$or" && ctx.or_operator {
                    let group = ctx.or_group(value, depth)?;
                    node.ors.push(group);
                    return Ok(());
                }
                if in_or && RESERVED_IN_OR.contains(&key.as_str()) {
                    return Err(ctx.err(format!(
                        "`{key}` is an operator name and cannot be a field name inside `$or`"
                    )));
                }
                match value {
                    Value::Object(inner) => ctx.object(node.descend(key), inner, in_or, depth + 1),
                    Value::Array(items) => {
                        let leaf = ctx.leaf(items)?;
                        node.set_leaf(key, leaf);
                        Ok(())
                    }
                    _ => Err(ctx.err(
                        "a field must hold an array of conditions (e.g. [\"value\"]) or a nested \
                         pattern object",
                    )),
                }
            })?;
        }
        Ok(())
    }

    fn or_group(&mut self, value: &Value, depth: usize) -> Result<Vec<Builder>, PatternError> {
        const SHAPE: &str = "`$or` must be an array of at least two pattern objects";
        let Value::Array(items) = value else {
            return Err(self.err(SHAPE));
        };
        if items.len() < 2 {
            return Err(self.err(SHAPE));
        }
        let mut group = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.at(Seg::Index(i), |ctx| {
                let Value::Object(map) = item else {
                    return Err(ctx.err("each `$or` alternative must be a pattern object"));
                };
                let mut branch = Builder::default();
                ctx.object(&mut branch, map, true, depth + 1)?;
                group.push(branch);
                Ok(())
            })?;
        }
        Ok(group)
    }

    fn leaf(&mut self, items: &[Value]) -> Result<Leaf, PatternError> {
        if items.is_empty() {
            return Err(self.err("empty arrays are not allowed: list at least one condition"));
        }
        let mut leaf = Leaf::default();
        for (i, item) in items.iter().enumerate() {
            self.at(Seg::Index(i), |ctx| {
                match item {
                    Value::String(s) => leaf.conds.push(Cond::Exact(Literal::Str {
                        text: s.as_str().into(),
                        ip: parse_ip(s),
                    })),
                    Value::Number(n) => leaf.conds.push(Cond::Exact(Literal::Num(n.clone()))),
                    Value::Bool(b) => leaf.conds.push(Cond::Exact(Literal::Bool(*b))),
                    Value::Null => leaf.conds.push(Cond::Exact(Literal::Null)),
                    Value::Array(_) => {
                        return Err(ctx.err(
                            "a condition must be a string, number, boolean, null or a match \
                             object, not an array",
                        ));
                    }
                    Value::Object(map) => match ctx.match_object(map)? {
                        Matched::Cond(cond) => leaf.conds.push(cond),
                        Matched::Exists(true) => leaf.exists_true = true,
                        Matched::Exists(false) => leaf.exists_false = true,
                    },
                }
                Ok(())
            })?;
        }
        Ok(leaf)
    }

    fn match_object(&mut self, map: &Map<String, Value>) -> Result<Matched, PatternError> {
        let mut entries = map.iter();
        let Some((op, arg)) = entries.next() else {
            return Err(
                self.err("empty match object: expected one operator such as `prefix` or `numeric`")
            );
        };
        if entries.next().is_some() {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            return Err(self.err(format!(
                "a match object holds exactly one operator, found {}: {}",
                keys.len(),
                keys.join(", ")
            )));
        }
        self.at(Seg::Key(op.clone()), |ctx| ctx.operator(op, arg))
    }
}

/// What a match object compiled to.
enum Matched {
    Cond(Cond),
    Exists(bool),
}

/// Whether a key can be shown bare in an error path.
fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && !key
            .chars()
            .any(|c| matches!(c, '.' | '[' | ']' | '`' | '"') || c.is_whitespace())
}
