//! Events read straight from JSON text, down to the fields patterns read.
//!
//! [`Fields::doc`] scans JSON text once and records only the values at the
//! paths of a [`Fields`] tree in a [`Doc`]: a flat list of slots in document
//! order, where an array or object slot is followed by the slots of its
//! contents. Strings are borrowed from the text unless they hold escapes,
//! so reading an event usually costs one allocation. A [`Doc`] is read for
//! matching through the [`Event`](super::event::Event) view. Objects with
//! more than a few kept members (however many times the text repeats their
//! keys) also get a sorted table of their keys, so looking a field up never
//! takes more than logarithmic time. Keys that hold dots are kept if they
//! spell a path of the tree (see [`Fields::member`]).

use std::borrow::Cow;

use serde_json::Number;

use super::fields::Fields;
use super::scan::{Invalid, Scan, Scanner};

mod at;

pub(crate) use at::At;

/// The parts of a JSON event that some patterns read.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    slots: Vec<Slot<'a>>,
    /// For objects with many members: the slots of their keys, sorted by
    /// key, each key once (its last member).
    tables: Vec<Vec<usize>>,
    /// The slots of the objects with kept keys that hold dots.
    dotted: Vec<usize>,
}

/// How many members an object may have before it gets a key table.
const LINEAR_MEMBERS: usize = 8;

/// One value, or one object key, of a [`Doc`].
#[derive(Debug)]
enum Slot<'a> {
    Str(Cow<'a, str>),
    Num(Number),
    Bool(bool),
    Null,
    /// An array: its elements' slots follow, up to the slot `end`.
    Array {
        end: usize,
    },
    /// An object: its kept members follow, up to the slot `end`, each a
    /// `Key` slot and then the slots of the member's value; `table` is the
    /// index of its key table in [`Doc::tables`], if it has one.
    Object {
        end: usize,
        table: Option<usize>,
    },
    /// A key, as UTF-8 bytes.
    Key(Cow<'a, [u8]>),
}

impl Fields {
    /// Reads the JSON text `bytes`, keeping the values at the paths of this
    /// tree (an object kept as a leaf keeps no members).
    ///
    /// Fails exactly when `serde_json` would fail to parse `bytes`.
    pub(crate) fn doc<'a>(&self, bytes: &'a [u8]) -> Scan<Doc<'a>> {
        let mut scanner = Scanner::new(bytes);
        let mut doc = Doc {
            slots: Vec::with_capacity(8),
            tables: Vec::new(),
            dotted: Vec::new(),
        };
        build(&mut scanner, self, 0, &mut doc)?;
        scanner.finish()?;
        Ok(doc)
    }
}

impl<'a> Doc<'a> {
    /// The event's top-level value.
    pub(crate) fn root(&self) -> At<'_, 'a> {
        At::new(self, 0)
    }

    /// The key at slot `at` (empty if there is none).
    fn key(&self, at: usize) -> &[u8] {
        match self.slots.get(at) {
            Some(Slot::Key(name)) => name,
            _ => &[],
        }
    }

    /// Gives the object whose slot is at `start`, which has `members`
    /// members and ends at the last slot, its end (and a key table if it
    /// has many members).
    fn close_object(&mut self, start: usize, members: usize) -> Scan<()> {
        let len = self.slots.len();
        let table = if members > LINEAR_MEMBERS {
            let mut keys = Vec::with_capacity(members);
            let mut at = start + 1;
            while at < len {
                keys.push(at);
                at = after(&self.slots, at + 1);
            }
            // Latest first, so that the stable sort puts the last member of
            // each key first among its equals, which `dedup` keeps.
            keys.reverse();
            keys.sort_by(|&a, &b| self.key(a).cmp(self.key(b)));
            keys.dedup_by(|a, b| self.key(*a) == self.key(*b));
            self.tables.push(keys);
            Some(self.tables.len() - 1)
        } else {
            None
        };
        match self.slots.get_mut(start) {
            Some(Slot::Object { end, table: t }) => {
                *end = len;
                *t = table;
                Ok(())
            }
            _ => Err(Invalid),
        }
    }

    /// The kept values as a `Value` (a repeated key keeping its last value).
    #[cfg(test)]
    pub(crate) fn to_value(&self) -> serde_json::Value {
        use super::event::Event;
        use serde_json::Value;
        fn value(doc: &Doc<'_>, at: usize) -> Value {
            let slots = &doc.slots;
            match slots.get(at) {
                Some(Slot::Str(s)) => Value::String(s.to_string()),
                Some(Slot::Num(n)) => Value::Number(n.clone()),
                Some(Slot::Bool(b)) => Value::Bool(*b),
                Some(Slot::Null) | None => Value::Null,
                Some(Slot::Array { end }) => {
                    let mut items = Vec::new();
                    let mut i = at + 1;
                    while i < *end {
                        items.push(value(doc, i));
                        i = after(slots, i);
                    }
                    Value::Array(items)
                }
                Some(Slot::Object { end, .. }) => {
                    // Through `field`, which reads the key table if any.
                    let mut map = serde_json::Map::new();
                    let mut i = at + 1;
                    while i < *end {
                        if let Some(Slot::Key(k)) = slots.get(i) {
                            let name = String::from_utf8_lossy(k).into_owned();
                            let found = At::new(doc, at).field(&name).map(|v| value(doc, v.at()));
                            map.insert(name, found.unwrap_or(Value::Null));
                        }
                        i = after(slots, i + 1);
                    }
                    Value::Object(map)
                }
                Some(Slot::Key(k)) => Value::String(String::from_utf8_lossy(k).into_owned()),
            }
        }
        value(self, 0)
    }
}

/// Records the value at the scanner's position, inside `depth` open arrays
/// and objects, keeping only `fields` of objects (recursion is bounded by
/// the scanner's depth limit).
fn build<'a>(
    scanner: &mut Scanner<'a>,
    fields: &Fields,
    depth: usize,
    doc: &mut Doc<'a>,
) -> Scan<()> {
    let slot = match scanner.peek() {
        Some(b'{') => {
            let depth = scanner.open(depth)?;
            let start = doc.slots.len();
            doc.slots.push(Slot::Object {
                end: start + 1,
                table: None,
            });
            let mut members = 0;
            let mut dotted = false;
            while let Some((key, inner)) =
                scanner.next_kept(members == 0, depth, |key| fields.member(key, &mut dotted))?
            {
                members += 1;
                doc.slots.push(Slot::Key(key.decode_bytes()?));
                build(scanner, inner, depth, doc)?;
            }
            if dotted {
                doc.dotted.push(start);
            }
            return doc.close_object(start, members);
        }
        Some(b'[') => {
            let depth = scanner.open(depth)?;
            let start = doc.slots.len();
            doc.slots.push(Slot::Array { end: start + 1 });
            let mut first = true;
            while scanner.next_element(first)? {
                first = false;
                build(scanner, fields, depth, doc)?;
            }
            let len = doc.slots.len();
            return match doc.slots.get_mut(start) {
                Some(Slot::Array { end }) => {
                    *end = len;
                    Ok(())
                }
                _ => Err(Invalid),
            };
        }
        Some(b'"') => Slot::Str(scanner.string()?.decode()?),
        Some(b't') => scanner.literal(b"true").map(|()| Slot::Bool(true))?,
        Some(b'f') => scanner.literal(b"false").map(|()| Slot::Bool(false))?,
        Some(b'n') => scanner.literal(b"null").map(|()| Slot::Null)?,
        Some(b'-' | b'0'..=b'9') => Slot::Num(scanner.number()?),
        _ => return Err(Invalid),
    };
    doc.slots.push(slot);
    Ok(())
}

/// The slot after the value whose slot is at `at` (always past `at`).
fn after(slots: &[Slot<'_>], at: usize) -> usize {
    match slots.get(at) {
        Some(Slot::Array { end } | Slot::Object { end, .. }) => (*end).max(at + 1),
        _ => at + 1,
    }
}
