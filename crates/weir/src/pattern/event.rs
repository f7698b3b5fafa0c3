//! What matching needs to read from an event, whatever holds it.
//!
//! Matching walks an event's objects by key, its arrays element by element,
//! and tests leaf values. [`Event`] is that view; it is implemented for a
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

    /// Whether this is an object, an array (with its elements) or a leaf.
    fn shape(self) -> Shape<'v, Self::Items>;

    /// The value of field `key`, if this is an object that has it (the
    /// last one, if the key is repeated).
    fn field(self, key: &str) -> Option<Self>;
}

impl<'v> Event<'v> for &'v Value {
    type Items = std::slice::Iter<'v, Value>;

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
}
