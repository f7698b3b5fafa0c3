//! Case-insensitive comparison the way EventBridge does it.
//!
//! EventBridge does not case-fold both sides: each character of the pattern
//! text may appear in the value as that character's lower-case or upper-case
//! form (full Unicode mappings, so `ß` also matches `SS`). For ASCII text this
//! is plain ASCII case-insensitive equality.

/// An `equals-ignore-case` operand (also used by `prefix`, `suffix` and
/// `anything-but` in their ignore-case forms).
#[derive(Debug, Clone)]
pub(crate) struct IgnoreCase {
    /// The operand lower-cased, when it is ASCII.
    ascii: Option<Box<str>>,
    /// For non-ASCII operands: per character, its lower and upper forms.
    forms: Vec<(Box<str>, Box<str>)>,
}

impl IgnoreCase {
    pub(crate) fn new(text: &str) -> IgnoreCase {
        if text.is_ascii() {
            return IgnoreCase {
                ascii: Some(text.to_ascii_lowercase().into_boxed_str()),
                forms: Vec::new(),
            };
        }
        let forms = text
            .chars()
            .map(|c| {
                let lower: String = c.to_lowercase().collect();
                let upper: String = c.to_uppercase().collect();
                (lower.into_boxed_str(), upper.into_boxed_str())
            })
            .collect();
        IgnoreCase { ascii: None, forms }
    }

    /// The lower-cased operand if it is ASCII: a value matches only if its
    /// ASCII lower-casing equals (starts, ends with) this key.
    pub(crate) fn ascii_key(&self) -> Option<&str> {
        self.ascii.as_deref()
    }

    /// Whether `s` equals the operand, ignoring case.
    pub(crate) fn equals(&self, s: &str) -> bool {
        match &self.ascii {
            Some(op) => s.len() == op.len() && s.as_bytes().eq_ignore_ascii_case(op.as_bytes()),
            None => self.walk(s, false).contains(&s.len()),
        }
    }

    /// Whether `s` starts with the operand, ignoring case.
    pub(crate) fn is_prefix_of(&self, s: &str) -> bool {
        match &self.ascii {
            Some(op) => s
                .as_bytes()
                .get(..op.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(op.as_bytes())),
            None => !self.walk(s, false).is_empty(),
        }
    }

    /// Whether `s` ends with the operand, ignoring case.
    pub(crate) fn is_suffix_of(&self, s: &str) -> bool {
        match &self.ascii {
            Some(op) => s
                .len()
                .checked_sub(op.len())
                .and_then(|start| s.as_bytes().get(start..))
                .is_some_and(|tail| tail.eq_ignore_ascii_case(op.as_bytes())),
            None => !self.walk(s, true).is_empty(),
        }
    }

    /// The byte offsets of `s` that consuming the operand can reach: from
    /// the start forwards, or (`backwards`) from the end backwards. The forms
    /// of a character may differ in length, so every reachable offset is
    /// carried, which keeps this linear.
    fn walk(&self, s: &str, backwards: bool) -> Vec<usize> {
        let bytes = s.as_bytes();
        let mut reach = vec![if backwards { bytes.len() } else { 0 }];
        let mut next = Vec::new();
        let mut step = |lower: &str, upper: &str, reach: &mut Vec<usize>| {
            next.clear();
            for &at in reach.iter() {
                for form in [lower, upper] {
                    let form = form.as_bytes();
                    let to = if backwards {
                        at.checked_sub(form.len())
                            .filter(|&from| bytes.get(from..at) == Some(form))
                    } else {
                        let end = at.saturating_add(form.len());
                        bytes.get(at..end).filter(|b| *b == form).map(|_| end)
                    };
                    if let Some(to) = to.filter(|to| !next.contains(to)) {
                        next.push(to);
                    }
                }
            }
            std::mem::swap(reach, &mut next);
            !reach.is_empty()
        };
        let ok = if backwards {
            self.forms.iter().rev().all(|(l, u)| step(l, u, &mut reach))
        } else {
            self.forms.iter().all(|(l, u)| step(l, u, &mut reach))
        };
        if ok { reach } else { Vec::new() }
    }
}
