//! Reading a [`Doc`] for matching: the [`Event`] view of its slots.

use super::{Doc, Slot, after};
use crate::pattern::event::{Event, Leaf, Shape};

/// A value of a [`Doc`]: the slot at `at`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'d, 'a> {
    doc: &'d Doc<'a>,
    at: usize,
}

impl<'d, 'a> At<'d, 'a> {
    /// The value whose slot is at `at`.
    pub(super) fn new(doc: &'d Doc<'a>, at: usize) -> At<'d, 'a> {
        At { doc, at }
    }

    /// The slot of this value.
    #[cfg(test)]
    pub(super) fn at(self) -> usize {
        self.at
    }

    /// The slot of the value of member `key`, if this is an object that
    /// has it (the last one, if the key is repeated).
    fn find(self, key: &[u8]) -> Option<usize> {
        let doc = self.doc;
        let Some(Slot::Object { end, table, .. }) = doc.slots.get(self.at) else {
            return None;
        };
        if let Some(table) = table.and_then(|t| doc.tables.get(t)) {
            let found = table
                .binary_search_by(|&at| doc.key(at).cmp(key))
                .ok()
                .and_then(|i| table.get(i))?;
            return Some(found + 1);
        }
        let mut found = None;
        let mut at = self.at + 1;
        while at < *end {
            let value = at + 1;
            if doc.key(at) == key {
                // Keep looking: a repeated key counts last.
                found = Some(value);
            }
            at = after(&doc.slots, value);
        }
        found
    }
}

impl<'d, 'a> Event<'d> for At<'d, 'a> {
    type Items = Items<'d, 'a>;
    type Members = Members<'d, 'a>;

    fn shape(self) -> Shape<'d, Self::Items> {
        match self.doc.slots.get(self.at) {
            Some(Slot::Str(s)) => Shape::Leaf(Leaf::Str(s)),
            Some(Slot::Num(n)) => Shape::Leaf(Leaf::Num(n)),
            Some(Slot::Bool(b)) => Shape::Leaf(Leaf::Bool(*b)),
            Some(Slot::Null) => Shape::Leaf(Leaf::Null),
            Some(Slot::Array { end }) => Shape::Array(Items {
                doc: self.doc,
                next: self.at + 1,
                end: *end,
            }),
            // An object; a key or a missing slot (which a built `Doc` never
            // points at) reads as an object without fields.
            Some(Slot::Object { .. } | Slot::Key(_)) | None => Shape::Object,
        }
    }

    fn field(self, key: &str) -> Option<Self> {
        self.find(key.as_bytes()).map(|at| At { doc: self.doc, at })
    }

    fn members(self) -> Members<'d, 'a> {
        let end = match self.doc.slots.get(self.at) {
            Some(Slot::Object { end, .. }) => *end,
            _ => 0,
        };
        Members {
            object: self,
            next: self.at + 1,
            end,
        }
    }

    #[inline]
    fn dotted(self) -> bool {
        let dotted = &self.doc.dotted;
        !dotted.is_empty() && dotted.contains(&self.at)
    }
}

/// The elements of an array of a [`Doc`].
#[derive(Debug)]
pub(crate) struct Items<'d, 'a> {
    doc: &'d Doc<'a>,
    next: usize,
    end: usize,
}

impl<'d, 'a> Iterator for Items<'d, 'a> {
    type Item = At<'d, 'a>;

    fn next(&mut self) -> Option<At<'d, 'a>> {
        if self.next >= self.end {
            return None;
        }
        let at = self.next;
        self.next = after(&self.doc.slots, at);
        Some(At { doc: self.doc, at })
    }
}

/// The kept members of an object of a [`Doc`], each key once.
#[derive(Debug)]
pub(crate) struct Members<'d, 'a> {
    object: At<'d, 'a>,
    /// The slot of the next member's key.
    next: usize,
    end: usize,
}

impl<'d, 'a> Iterator for Members<'d, 'a> {
    type Item = (&'d [u8], At<'d, 'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let doc = self.object.doc;
        while self.next < self.end {
            let value = self.next + 1;
            let key = doc.key(self.next);
            self.next = after(&doc.slots, value);
            // A repeated key counts last: earlier members of it are passed.
            if self.object.find(key) == Some(value) {
                return Some((key, At { doc, at: value }));
            }
        }
        None
    }
}
