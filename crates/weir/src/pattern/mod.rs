//! Event patterns: the filter language of Amazon EventBridge rules, Lambda
//! event-source filtering and EventBridge Pipes.
//!
//! A [`Pattern`] is compiled once from its JSON form and then decides, for any
//! JSON event, whether the event matches. A [`PatternSet`] holds many patterns
//! and finds the ones that match an event without trying every pattern: it
//! indexes the patterns by the values they require, so its cost grows with the
//! number of *matching candidates*, not with the number of patterns.
//!
//! ```
//! use weir::pattern::{Pattern, PatternSet};
//! use serde_json::json;
//!
//! let pattern = Pattern::parse(r#"{
//!     "source": ["orders"],
//!     "detail": { "amount": [{ "numeric": [">", 100] }] }
//! }"#)?;
//! assert!(pattern.matches(&json!({ "source": "orders", "detail": { "amount": 250 } })));
//! assert!(!pattern.matches(&json!({ "source": "orders", "detail": { "amount": 50 } })));
//!
//! let set = PatternSet::new(vec![pattern, Pattern::parse(r#"{"source": [{"prefix": "ord"}]}"#)?]);
//! assert_eq!(set.matching(&json!({ "source": "ordinal" })), vec![1]);
//! # Ok::<(), weir::pattern::PatternError>(())
//! ```
//!
//! # The language
//!
//! A pattern is a JSON object with the shape of the events it matches.
//!
//! * **Fields.** Each key names a field of the event. A nested object descends
//!   into the event's nested object; every key of a pattern object must match
//!   (AND). A key containing dots is a path: `{"a.b": [1]}` is the same pattern
//!   as `{"a": {"b": [1]}}`. Keys are case-sensitive.
//! * **Dotted event keys.** As in EventBridge, which joins nested names with
//!   dots before matching, an event key containing dots is the path it
//!   spells: `{"a": {"b": [1]}}` and `{"a.b": [1]}` both match `{"a.b": 1}`
//!   as they match `{"a": {"b": 1}}`, while `{"a.bc": 1}` is the path
//!   `a.bc`, not `a.b.c`. An event that spells one path in several ways
//!   (`{"a.b": 1, "a": {"b": 2}}`) holds every value so spelled, as an array
//!   would: a leaf condition matches if one of them matches (`anything-but`
//!   needs one value it does not exclude; `exists: false`, none at all), and
//!   objects spelled at one path merge, their fields together being the
//!   fields there (`{"a": {"b": 1}, "a.c": 2}` matches
//!   `{"a": {"b": [1], "c": [2]}}`). An array among them keeps its elements
//!   apart: a nested pattern object takes one element of each array with the
//!   values beside the arrays (see the deviations for a limit).
//! * **Leaves.** The value of a field that is not a nested object must be a
//!   non-empty **array** of conditions; the field matches if **any** condition
//!   matches (OR). A leaf condition only ever sees *leaf values* of the event:
//!   strings, numbers, booleans and `null`. If the event's value is an array,
//!   each of its elements (arrays flattened) is a candidate and one match is
//!   enough; an object in the event is not a leaf value, so an object-valued
//!   field matches no leaf condition (not even `exists: true`), and an empty
//!   array holds no values at all.
//! * **Arrays of objects.** A nested pattern object matched against an array of
//!   objects must be satisfied *within one element*: the fields of one
//!   pattern object never combine values from different elements of the same
//!   event array (EventBridge's "array-consistent" matching).
//! * **Missing fields.** A condition other than `exists: false` never matches
//!   a missing field. `null` is a value like any other: `[null]` matches
//!   `null` but not a missing field, and `[""]` matches only the empty string.
//!   A nested pattern object matched against a field that is missing, or not
//!   an object, sees no fields below it.
//! * **Repeated keys.** If a JSON pattern names the same key twice, the last
//!   one counts, as in EventBridge.
//!
//! Conditions:
//!
//! | condition | matches |
//! |---|---|
//! | `"text"` | the string `text` (if `text` is an IP address, also any other spelling of that address) |
//! | `5`, `2.5e3` | a number numerically equal (`300` matches `300.0`) |
//! | `true`, `false`, `null` | that literal |
//! | `{"exactly": "text"}` | the string `text`, literally |
//! | `{"prefix": "p"}` | strings starting with `p` (`""`: any string) |
//! | `{"prefix": {"equals-ignore-case": "p"}}` | strings starting with `p`, ignoring case |
//! | `{"suffix": "s"}`, `{"suffix": {"equals-ignore-case": "s"}}` | strings ending with `s` |
//! | `{"equals-ignore-case": "t"}` | strings equal to `t`, ignoring case |
//! | `{"wildcard": "a*b"}` | strings where each `*` stands for any run of characters (possibly empty); `\*` is a literal `*`, `\\` a literal `\` |
//! | `{"anything-but": …}` | any present leaf value (of any type, `null` included) except those described; see below |
//! | `{"numeric": [">", 0, "<=", 5]}` | numbers in the range |
//! | `{"exists": true}` / `{"exists": false}` | the field has at least one leaf value / has none |
//! | `{"cidr": "10.0.0.0/24"}` | strings holding an IPv4 or IPv6 address inside the block |
//!
//! Ignoring case follows EventBridge: each character of the pattern text may
//! appear in the value in its lower-case or its upper-case form (so
//! `"straße"` matches `"STRASSE"`); for ASCII this is ordinary
//! case-insensitive comparison.
//!
//! `anything-but` takes a string, a number, a non-empty list of strings or a
//! non-empty list of numbers (not mixed), or an object with one of
//! `prefix`, `suffix` (non-empty string or list of them), `equals-ignore-case`
//! or `wildcard` (string or list). Like every condition except
//! `exists: false`, it needs the field to be present; the exclusions of a
//! string kind only exclude strings, so a number or `null` passes them.
//!
//! `numeric` takes one comparison (`"="`, `"<"`, `"<="`, `">"`, `">="` and a
//! number) or a range: a lower bound (`">"` or `">="`) followed by an upper
//! bound (`"<"` or `"<="`) above it. Numbers compare as 64-bit floats, over
//! their whole range; an integer operand with no exact `f64` form is
//! rejected. `cidr` blocks ignore host bits (`10.0.0.5/24` is
//! `10.0.0.0/24`), and address octets are decimal even with leading zeros.
//!
//! `$or` combines alternatives: `{"$or": [{…}, {…}]}` at any level of the
//! pattern holds two or more sub-patterns for the same level, at least one of
//! which must match, in addition to the other keys beside `$or`. Field names
//! that are operator names (`prefix`, `numeric`, `=`, …) are not allowed
//! inside `$or` branches, and all `$or` arrays together may multiply out to
//! at most 1000 combinations. As in EventBridge, a pattern that is invalid
//! with `$or` read as the operator is read again with `$or` as an ordinary
//! field name, so `{"$or": ["x"]}` matches an event field named `$or`.
//!
//! Within an array of objects, `exists: false` binds like the conditions
//! beside it: `{"a": {"b": [1], "c": [{"exists": false}]}}` needs one element
//! with `b` equal to 1 and no `c`, while `{"a": {"c": [{"exists": false}]}}`
//! alone needs `c` absent from every element.
//!
//! # Validation
//!
//! [`Pattern::compile`] rejects, with a [`PatternError`] naming the position in
//! the pattern, everything EventBridge rejects: a pattern that is not an
//! object, empty objects, leaves that are not arrays, empty arrays, nested
//! arrays, unknown or mis-cased operators, match objects with more than one
//! key, operands of the wrong type, malformed numeric expressions (operators
//! out of order, missing or extra operands, a lower bound not below the upper
//! one), malformed CIDR blocks (IPv4 masks must be below 32 and IPv6 masks
//! below 128, as in EventBridge), wildcards with consecutive `*`, bad escapes
//! or more than five `*`, empty `prefix`/`suffix` inside `anything-but`,
//! `anything-but` on `null` or booleans, `$or` with fewer than two objects,
//! and patterns nested more than 100 levels deep.
//!
//! # Deviations
//!
//! Where an event spells one path both with an array and in another way,
//! each element of the array is tried with the values beside it, as
//! EventBridge's array-consistent matching does; so that crafted events
//! cannot make this take exponential time, once 256 such combinations have
//! been tried along one path, deeper ones are tried as alternatives instead
//! (the values beside the arrays alone, or one element alone). EventBridge
//! documents its flattening of dotted names as something that "should not
//! be relied upon". A field constrained both inside and outside `$or` must
//! satisfy both (EventBridge keeps the one written last, which JSON object
//! order cannot tell here).
//! EventBridge's wildcard "complexity" limit is approximated by the number of
//! `*` (at most five).
//!
//! # Parsing events
//!
//! [`PatternSet::matches_json`] matches JSON text directly: it scans the
//! text once, keeps only the values at the field paths the set's patterns
//! name (borrowing strings from the text), and checks and skips the rest
//! without building it, which is several times faster than parsing the
//! whole event into a [`Value`]. It accepts and rejects exactly the text
//! `serde_json` does (nesting included: at most 127 levels of arrays and
//! objects), so its result is always the one of parsing into a [`Value`]
//! and calling [`PatternSet::matches`].

mod case;
mod compile;
mod doc;
mod dotted;
mod event;
mod fields;
pub(crate) mod hash;
mod index;
mod matcher;
mod ops;
mod pruned;
mod scan;
#[cfg(test)]
mod tests;

use serde_json::Value;

pub(crate) use fields::Fields;

/// A compiled event pattern. It is `Send` and `Sync`, and matching never
/// allocates unless the pattern ignores case on non-ASCII text.
#[derive(Debug, Clone)]
pub struct Pattern {
    root: compile::Node,
}

impl Pattern {
    /// Compiles a pattern from its JSON value, validating it.
    ///
    /// # Errors
    ///
    /// If the pattern is not valid; the error names the offending position.
    pub fn compile(pattern: &Value) -> Result<Pattern, PatternError> {
        Ok(Pattern {
            root: compile::compile(pattern)?,
        })
    }

    /// Parses and compiles a pattern from JSON text.
    ///
    /// # Errors
    ///
    /// If the text is not JSON or the pattern is not valid.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let value: Value = serde_json::from_str(text).map_err(|e| PatternError {
            path: String::new(),
            message: format!("pattern is not valid JSON: {e}"),
        })?;
        Pattern::compile(&value)
    }

    /// Returns whether `event` matches this pattern.
    pub fn matches(&self, event: &Value) -> bool {
        matcher::matches(&self.root, event)
    }
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Pattern, PatternError> {
        Pattern::parse(text)
    }
}

/// Many patterns, matched together: an event matches the set if it matches
/// any of its patterns.
///
/// Patterns are indexed by the values they require (exact values, prefixes,
/// suffixes, case-insensitive values) at one field each (one per alternative
/// for an `$or`), chosen to be the most selective. Matching looks the event's
/// values up in those indexes and evaluates only the patterns found there,
/// plus the patterns that could not be indexed: those whose every required
/// field uses `anything-but`, a `numeric` range, `exists`, `cidr`, a wildcard
/// with no fixed start or end, or non-ASCII ignore-case text.
#[derive(Debug, Clone)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
    index: index::Index,
    /// The event fields the patterns look at, for [`PatternSet::matches_json`].
    fields: Fields,
}

impl PatternSet {
    /// Builds a set from `patterns`; pattern `i` is reported as index `i`.
    #[must_use]
    pub fn new(patterns: Vec<Pattern>) -> PatternSet {
        let index = index::Index::build(&patterns);
        let mut fields = Fields::default();
        for pattern in &patterns {
            fields.add(&pattern.root);
        }
        PatternSet {
            patterns,
            index,
            fields,
        }
    }

    /// Returns whether `event` matches any pattern of the set.
    pub fn matches(&self, event: &Value) -> bool {
        self.matches_event(event)
    }

    /// Returns the indices, ascending, of the patterns that `event` matches.
    pub fn matching(&self, event: &Value) -> Vec<usize> {
        self.matching_event(event)
    }

    /// Parses the event in `json` and returns whether it matches any pattern.
    ///
    /// Same result as parsing `json` into a [`Value`] and calling
    /// [`matches`](PatternSet::matches), but much faster: the text is
    /// scanned once, only the fields that some pattern names are kept
    /// (borrowed from the text where possible), and the rest is checked
    /// and skipped without being built into values.
    ///
    /// # Errors
    ///
    /// If `json` is not valid JSON text: exactly when, and with the error
    /// with which, `serde_json` fails to parse it into a [`Value`].
    pub fn matches_json(&self, json: &[u8]) -> Result<bool, serde_json::Error> {
        match self.fields.doc(json) {
            Ok(doc) => Ok(self.matches_event(doc.root())),
            // serde_json describes the error (and, should it accept the
            // text after all, its reading of the text is matched).
            Err(_) => serde_json::from_slice::<Value>(json).map(|event| self.matches(&event)),
        }
    }

    /// Parses the event in `json` and returns the indices, ascending, of the
    /// patterns it matches; see [`matches_json`](PatternSet::matches_json).
    ///
    /// # Errors
    ///
    /// If `json` is not valid JSON text, as for
    /// [`matches_json`](PatternSet::matches_json).
    pub fn matching_json(&self, json: &[u8]) -> Result<Vec<usize>, serde_json::Error> {
        match self.fields.doc(json) {
            Ok(doc) => Ok(self.matching_event(doc.root())),
            Err(_) => serde_json::from_slice::<Value>(json).map(|event| self.matching(&event)),
        }
    }

    /// [`matches`](PatternSet::matches) for any [`Event`](event::Event).
    fn matches_event<'v>(&self, event: impl event::Event<'v>) -> bool {
        self.index.any_candidate(event, |i| {
            self.pattern(i)
                .is_some_and(|p| matcher::matches(&p.root, event))
        })
    }

    /// [`matching`](PatternSet::matching) for any [`Event`](event::Event).
    fn matching_event<'v>(&self, event: impl event::Event<'v>) -> Vec<usize> {
        let mut candidates = self.index.candidates(event);
        candidates.retain(|&i| {
            self.pattern(i)
                .is_some_and(|p| matcher::matches(&p.root, event))
        });
        candidates
    }

    /// The event fields the patterns look at: parsing an event with
    /// [`Fields::parse`] keeps what matching it needs.
    pub(crate) fn fields(&self) -> &Fields {
        &self.fields
    }

    /// The number of patterns in the set.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Whether the set has no patterns (and so matches nothing).
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The pattern with index `i`, if there is one.
    pub fn pattern(&self, i: usize) -> Option<&Pattern> {
        self.patterns.get(i)
    }
}

impl FromIterator<Pattern> for PatternSet {
    fn from_iter<I: IntoIterator<Item = Pattern>>(iter: I) -> PatternSet {
        PatternSet::new(iter.into_iter().collect())
    }
}

/// Why a pattern was rejected, and where in the pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event pattern{}: {message}", at(.path))]
pub struct PatternError {
    /// Position in the pattern: keys joined by `.`, array positions as `[i]`,
    /// e.g. `detail.amount[1].numeric`; empty for the pattern as a whole.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// Renders the position part of a [`PatternError`] message.
fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at `{path}`")
    }
}
