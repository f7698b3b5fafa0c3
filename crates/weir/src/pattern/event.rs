//! What matching needs to read from an event, whatever holds it.
//!
//! Matching walks an event's objects by key, its arrays element by element,
//! and tests leaf values; keys that hold dots are read member by member.
//! [`Event`] is that view; it is implemented for a
//! parsed `serde_json::Value` and for the [`Doc`](super::doc::Doc) built
//! straight from JSON text, so both match through the same code.

use serde_json::{Number, Value};

/// A leaf value of an event: anything but an array or an object.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Leaf<'v> {
    /// A string.
    Str(&'v str),
    /// A number.
    Num(&'v Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl<'v> Leaf<'v> {
    /// The string, if this is one.
    pub(crate) fn as_str(self) -> Option<&'v str> {
        match self {
            Leaf::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an `f64`, if this is a number.
    pub(crate) fn as_f64(self) -> Option<f64> {
        match self {
            Leaf::Num(n) => n.as_f64(),
            _ => None,
        }
    }
}

/// What an event value is.
pub(crate) enum Shape<'v, I> {
    /// An object: its fields are read with [`Event::field`].
    Object,
    /// An array, and its elements.
    Array(I),
    /// A leaf value.
    Leaf(Leaf<'v>),
}

/// A value of an event, cheap to copy, that matching can read.
pub(crate) trait Event<'v>: Copy {
    /// The elements of an array.
    type Items: Iterator<Item = Self>;

    /// The members of an object.
    type Members: Iterator<Item = (&'v [u8], Self)>;

    /// Whether this is an object, an array (with its elements) or a leaf.
    fn shape(self) -> Shape<'v, Self::Items>;

    /// The value of field `key`, if this is an object that has it (the
    /// last one, if the key is repeated).
    fn field(self, key: &str) -> Option<Self>;

    /// The members of an object as (key in UTF-8, value), each key once
    /// (with its last value, if the key is repeated); none for anything
    /// else.
    fn members(self) -> Self::Members;

    /// Whether this may be an object with a key that holds a dot: `false`
    /// is certain, `true` is not (the keys themselves tell).
    fn dotted(self) -> bool;
}

impl<'v> Event<'v> for &'v Value {
    type Items = std::slice::Iter<'v, Value>;
    type Members = Members<'v>;

    #[inline]
    fn shape(self) -> Shape<'v, Self::Items> {
        match self {
            Value::Object(_) => Shape::Object,
            Value::Array(items) => Shape::Array(items.iter()),
            Value::String(s) => Shape::Leaf(Leaf::Str(s)),
            Value::Number(n) => Shape::Leaf(Leaf::Num(n)),
            Value::Bool(b) => Shape::Leaf(Leaf::Bool(*b)),
            Value::Null => Shape::Leaf(Leaf::Null),
        }
    }

    #[inline]
    fn field(self, key: &str) -> Option<Self> {
        match self {
            Value::Object(map) => map.get(key),
            _ => None,
        }
    }

    fn members(self) -> Members<'v> {
        Members(match self {
            Value::Object(map) => Some(map.iter()),
            _ => None,
        })
    }

    #[inline]
    fn dotted(self) -> bool {
        // Finding out takes a look at every key: callers look at the keys
        // they care about instead.
        matches!(self, Value::Object(map) if !map.is_empty())
    }
}

/// The members of a `Value` object.
pub(crate) struct Members<'v>(Option<serde_json::map::Iter<'v>>);

impl<'v> Iterator for Members<'v> {
    type Item = (&'v [u8], &'v Value);

    fn next(&mut self) -> Option<Self::Item> {
        let (key, value) = self.0.as_mut()?.next()?;
        Some((key.as_bytes(), value))
    }
}
