//! A strict JSON scanner that walks text without building values.
//!
//! [`Scanner`] accepts exactly the JSON text that `serde_json` parses into a
//! `Value`: UTF-8 text (checked string by string, as only ASCII is valid
//! elsewhere), the four whitespace bytes, strings without raw control
//! characters and with valid escapes (surrogates paired), numbers in the
//! JSON grammar whose value fits an `f64`, and at most [`MAX_DEPTH`] levels
//! of nested arrays and objects. It never allocates while scanning: strings
//! come back as [`RawStr`] slices of the text, decoded only when asked, and
//! skipped values are checked without being converted. Nesting is bounded,
//! and skipping is iterative, so no input exhausts the stack.

mod lex;

use std::borrow::Cow;

use lex::{byte, head, literal_end, number_end, skip_whitespace, string_end, unescape};

use serde_json::Number;

use super::fields::Name;

/// The text is not JSON (or not JSON that `serde_json` accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;

/// The result of a scanning step.
pub(crate) type Scan<T> = Result<T, Invalid>;

/// How many arrays and objects may be open at once: `serde_json`'s limit.
pub(crate) const MAX_DEPTH: usize = 127;

/// A string as written in the text, between its quotes (checked to be
/// UTF-8 with valid escapes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawStr<'a> {
    text: &'a [u8],
    /// Whether `text` holds escapes.
    escaped: bool,
    /// The [`head`](super::fields::head) of `text`.
    head: u64,
}

impl<'a> RawStr<'a> {
    /// The string's value: borrowed from the text unless it has escapes.
    pub(crate) fn decode(self) -> Scan<Cow<'a, str>> {
        if self.escaped {
            unescape(self.text).map(Cow::Owned)
        } else {
            std::str::from_utf8(self.text)
                .map(Cow::Borrowed)
                .map_err(|_| Invalid)
        }
    }

    /// The string's value as UTF-8 bytes: borrowed from the text unless it
    /// has escapes.
    pub(crate) fn decode_bytes(self) -> Scan<Cow<'a, [u8]>> {
        if self.escaped {
            unescape(self.text).map(|s| Cow::Owned(s.into_bytes()))
        } else {
            Ok(Cow::Borrowed(self.text))
        }
    }

    /// The string as a field name to look up, if it has no escapes to
    /// decode.
    pub(crate) fn name(self) -> Option<Name<'a>> {
        (!self.escaped).then_some(Name::with_head(self.text, self.head))
    }
}

/// A position in JSON text.
pub(crate) struct Scanner<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text`.
    pub(crate) fn new(text: &'a [u8]) -> Scanner<'a> {
        Scanner { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text
    }

    /// Skips whitespace and returns the next byte, which starts a value
    /// when one is expected.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.pos = skip_whitespace(self.bytes(), self.pos);
        self.bytes().get(self.pos).copied()
    }

    /// Checks that only whitespace is left.
    pub(crate) fn finish(&mut self) -> Scan<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Invalid),
        }
    }

    /// Consumes the `[` or `{` at the position, opening a container inside
    /// `depth` open ones; returns the new depth.
    pub(crate) fn open(&mut self, depth: usize) -> Scan<usize> {
        if depth >= MAX_DEPTH {
            return Err(Invalid);
        }
        self.pos += 1;
        Ok(depth + 1)
    }

    /// Moves to the next member of an object opened with [`open`](Self::open)
    /// (inside `depth` open arrays and objects, this one included) whose
    /// key `keep` accepts, checking and skipping the members before it.
    /// Returns the key and what `keep` made of it, with the position at the
    /// member's value; `None` past the closing `}`. `first` says whether no
    /// member has been read yet.
    #[inline]
    pub(crate) fn next_kept<T>(
        &mut self,
        first: bool,
        depth: usize,
        mut keep: impl FnMut(RawStr<'a>) -> Scan<Option<T>>,
    ) -> Scan<Option<(RawStr<'a>, T)>> {
        let bytes = self.text;
        let mut at = self.pos;
        let mut first = first;
        loop {
            at = skip_whitespace(bytes, at);
            match byte(bytes, at) {
                b'}' => {
                    self.pos = at + 1;
                    return Ok(None);
                }
                b',' if !first => at = skip_whitespace(bytes, at + 1),
                b'"' if first => {}
                _ => return Err(Invalid),
            }
            first = false;
            if byte(bytes, at) != b'"' {
                return Err(Invalid);
            }
            let (end, escaped) = string_end(bytes, at + 1)?;
            let key = RawStr {
                text: bytes.get(at + 1..end - 1).ok_or(Invalid)?,
                escaped,
                head: head(bytes, at + 1, end - 1),
            };
            at = skip_whitespace(bytes, end);
            if byte(bytes, at) != b':' {
                return Err(Invalid);
            }
            at += 1;
            if let Some(kept) = keep(key)? {
                self.pos = at;
                return Ok(Some((key, kept)));
            }
            // The value is skipped: a string here, anything else by `skip`.
            at = skip_whitespace(bytes, at);
            at = if byte(bytes, at) == b'"' {
                string_end(bytes, at + 1)?.0
            } else {
                skip(bytes, at, depth)?
            };
        }
    }

    /// Moves to the next element of an array opened with
    /// [`open`](Self::open): whether there is one (`false` past the `]`).
    pub(crate) fn next_element(&mut self, first: bool) -> Scan<bool> {
        let bytes = self.bytes();
        let at = skip_whitespace(bytes, self.pos);
        match byte(bytes, at) {
            b']' => {
                self.pos = at + 1;
                Ok(false)
            }
            b',' if !first => {
                self.pos = at + 1;
                Ok(true)
            }
            _ if first => {
                self.pos = at;
                Ok(true)
            }
            _ => Err(Invalid),
        }
    }

    /// Reads the string at the position (its opening quote next).
    pub(crate) fn string(&mut self) -> Scan<RawStr<'a>> {
        let bytes = self.bytes();
        let at = skip_whitespace(bytes, self.pos);
        if byte(bytes, at) != b'"' {
            return Err(Invalid);
        }
        let (end, escaped) = string_end(bytes, at + 1)?;
        let text = bytes.get(at + 1..end - 1).ok_or(Invalid)?;
        self.pos = end;
        Ok(RawStr {
            text,
            escaped,
            head: head(bytes, at + 1, end - 1),
        })
    }

    /// Reads the literal `word` (`true`, `false` or `null`) at the position.
    pub(crate) fn literal<const N: usize>(&mut self, word: &[u8; N]) -> Scan<()> {
        self.pos = literal_end(self.bytes(), self.pos, word)?;
        Ok(())
    }

    /// Reads the number at the position, as `serde_json` reads it.
    pub(crate) fn number(&mut self) -> Scan<Number> {
        let start = self.pos;
        let end = number_end(self.bytes(), start)?;
        self.pos = end;
        let text = self.text.get(start..end).ok_or(Invalid)?;
        // Up to 19 digits always fit a u64, which serde_json uses for them
        // too (and cannot overflow the sum below).
        if text.len() <= 19 && text.iter().all(u8::is_ascii_digit) {
            let n = text
                .iter()
                .fold(0u64, |n, d| n * 10 + u64::from(d.wrapping_sub(b'0')));
            return Ok(Number::from(n));
        }
        serde_json::from_slice(text).map_err(|_| Invalid)
    }

    /// Checks and skips the value at the position, inside `depth` open
    /// arrays and objects.
    #[cfg(test)]
    pub(crate) fn skip_value(&mut self, depth: usize) -> Scan<()> {
        self.pos = skip(self.bytes(), self.pos, depth)?;
        Ok(())
    }
}

/// Checks the value at `at`, inside `depth` open arrays and objects, and
/// returns the position after it. Iterative: containers are tracked in a
/// bit stack, one bit per open container (set for an object), which
/// [`MAX_DEPTH`] keeps within 128 bits.
fn skip(bytes: &[u8], mut at: usize, depth: usize) -> Scan<usize> {
    let mut objects: u128 = 0;
    let mut open = 0usize;
    'value: loop {
        at = skip_whitespace(bytes, at);
        match byte(bytes, at) {
            b'"' => at = string_end(bytes, at + 1)?.0,
            c @ (b'{' | b'[') => {
                if depth + open >= MAX_DEPTH {
                    return Err(Invalid);
                }
                let object = c == b'{';
                objects = (objects << 1) | u128::from(object);
                open += 1;
                at = skip_whitespace(bytes, at + 1);
                match (object, byte(bytes, at)) {
                    (true, b'}') | (false, b']') => {
                        at += 1;
                        objects >>= 1;
                        open -= 1;
                    }
                    (true, b'"') => {
                        at = key_end(bytes, at + 1)?;
                        continue 'value;
                    }
                    (true, _) => return Err(Invalid),
                    (false, _) => continue 'value,
                }
            }
            b't' => at = literal_end(bytes, at, b"true")?,
            b'f' => at = literal_end(bytes, at, b"false")?,
            b'n' => at = literal_end(bytes, at, b"null")?,
            b'-' | b'0'..=b'9' => at = number_end(bytes, at)?,
            _ => return Err(Invalid),
        }
        // After a value: close the containers it ends, until one goes on.
        while open > 0 {
            at = skip_whitespace(bytes, at);
            let object = objects & 1 == 1;
            match byte(bytes, at) {
                b',' if object => {
                    at = skip_whitespace(bytes, at + 1);
                    if byte(bytes, at) != b'"' {
                        return Err(Invalid);
                    }
                    at = key_end(bytes, at + 1)?;
                    continue 'value;
                }
                b',' => {
                    at += 1;
                    continue 'value;
                }
                b'}' if object => {}
                b']' if !object => {}
                _ => return Err(Invalid),
            }
            at += 1;
            objects >>= 1;
            open -= 1;
        }
        return Ok(at);
    }
}

/// The position after the `:` that follows the key whose text starts at
/// `at`.
#[inline(always)]
fn key_end(bytes: &[u8], at: usize) -> Scan<usize> {
    let (end, _) = string_end(bytes, at)?;
    let colon = skip_whitespace(bytes, end);
    if byte(bytes, colon) == b':' {
        Ok(colon + 1)
    } else {
        Err(Invalid)
    }
}
