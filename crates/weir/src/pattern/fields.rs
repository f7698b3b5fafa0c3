//! The tree of event field paths that a set of patterns reads.
//!
//! Matching reads an event only along the field paths its patterns name, so
//! an event with every other field left out matches exactly as the full
//! event does. [`Fields`] holds those paths, for parsing events selectively.

use super::compile::Node;
use super::scan::{RawStr, Scan};

/// The field names patterns use below one position of the event.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    /// Sorted by [`order`] of their names, without repeats.
    children: Vec<Child>,
    /// Bit `n % 64` is set for each length `n` of a name in `children`, so
    /// that most names not among them are told apart at once.
    lengths: u64,
    /// The top bit of byte `n` is set for each length `n` below 8 of a name
    /// in `children`: a key can only spell a path below this position if it
    /// has a dot right after one of the names (see [`Fields::member`]).
    dots: u64,
    /// The lengths of 8 and more of names in `children`, ascending, without
    /// repeats.
    long: Vec<usize>,
    /// The length of the shortest name in `children` (`usize::MAX` if
    /// there is none), and of the shortest in `long`.
    shortest: usize,
    shortest_long: usize,
}

impl Default for Fields {
    fn default() -> Fields {
        Fields {
            children: Vec::new(),
            lengths: 0,
            dots: 0,
            long: Vec::new(),
            shortest: usize::MAX,
            shortest_long: usize::MAX,
        }
    }
}

/// The bit of [`Fields::lengths`] for names of length `len`.
fn length_bit(len: usize) -> u64 {
    1 << (len % 64)
}

#[derive(Debug, Clone)]
struct Child {
    name: Box<str>,
    /// The [`head`] of `name`.
    head: u64,
    fields: Fields,
}

/// A field name to look up, with its [`head`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Name<'n> {
    bytes: &'n [u8],
    head: u64,
}

impl<'n> Name<'n> {
    /// The name `bytes` (UTF-8).
    pub(crate) fn new(bytes: &'n [u8]) -> Name<'n> {
        Name {
            bytes,
            head: head(bytes),
        }
    }

    /// The name `bytes` whose [`head`] is known to be `head`.
    pub(crate) fn with_head(bytes: &'n [u8], head: u64) -> Name<'n> {
        Name { bytes, head }
    }
}

/// The first eight bytes of `name` (fewer if it is shorter, padded with
/// zeros) as a little-endian number: with the length, this tells most
/// names apart without comparing their bytes.
pub(crate) fn head(name: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    for (to, from) in word.iter_mut().zip(name) {
        *to = *from;
    }
    u64::from_le_bytes(word)
}

/// The order of [`Fields::children`]: by length first, so that most
/// comparisons while looking up an event's keys need no byte comparison.
fn order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        // Field names are short: a plain loop beats calling `memcmp`.
        a.iter()
            .zip(b)
            .find(|(x, y)| x != y)
            .map_or(std::cmp::Ordering::Equal, |(x, y)| x.cmp(y))
    })
}

impl Fields {
    /// Adds the paths used by the pattern rooted at `node`.
    pub(crate) fn add(&mut self, node: &Node) {
        for child in &node.children {
            let fields = self.entry(&child.key);
            if let (Some(fields), Some(inner)) = (fields, &child.node) {
                fields.add(inner);
            }
        }
        for branch in node.ors.iter().flatten() {
            self.add(branch);
        }
    }

    /// Adds every path of `other` (relative to this position).
    pub(crate) fn merge(&mut self, other: &Fields) {
        for child in &other.children {
            if let Some(fields) = self.entry(&child.name) {
                fields.merge(&child.fields);
            }
        }
    }

    /// The fields used below the field `name`, if patterns use `name`; a
    /// name holding dots is the path it spells (see [`member`](Self::member)).
    pub(crate) fn get(&self, name: &str) -> Option<&Fields> {
        let name = name.as_bytes();
        self.find(Name::new(name)).or_else(|| self.spelled(name))
    }

    /// The fields used below the object member with key `key`, if
    /// patterns use it; sets `dotted` if the key holds dots.
    ///
    /// Event keys are paths, as pattern keys are: a key holding dots is
    /// used if the names between its dots spell a path that patterns use
    /// (`a.b` for a pattern reading `{"a": {"b": …}}`).
    #[inline(always)]
    pub(crate) fn member(&self, key: RawStr<'_>, dotted: &mut bool) -> Scan<Option<&Fields>> {
        let found = match key.name() {
            Some(name) => match self.find(name) {
                None if self.may_spell(name) => self.spelled(name.bytes),
                found => return Ok(found),
            },
            None => {
                let decoded = key.decode()?;
                match self.find(Name::new(decoded.as_bytes())) {
                    None => self.spelled(decoded.as_bytes()),
                    found => return Ok(found),
                }
            }
        };
        *dotted |= found.is_some();
        Ok(found)
    }

    /// Whether `name` has a dot right after the length of one of the names
    /// here (or, rarely, seems to: [`spelled`](Self::spelled) tells). Names
    /// hold no dots, so a key can only spell a path below this position if
    /// its first dot follows one of them.
    #[inline(always)]
    fn may_spell(&self, name: Name<'_>) -> bool {
        const DOTS: u64 = u64::from_le_bytes([b'.'; 8]);
        const ONES: u64 = u64::from_le_bytes([1; 8]);
        // The top bit of each byte of the head that is a dot (and perhaps of
        // some bytes after one) is set in `x - 1 & !x`, where those bytes of
        // `x` are zero: no need to look at the bytes one by one.
        if name.bytes.len() <= self.shortest {
            return false;
        }
        let zero = name.head ^ DOTS;
        zero.wrapping_sub(ONES) & !zero & self.dots != 0
            || (name.bytes.len() > self.shortest_long
                && self
                    .long
                    .iter()
                    .any(|&len| name.bytes.get(len) == Some(&b'.')))
    }

    /// The fields below the path that `name` spells with its dots, if it
    /// holds any and patterns use that path.
    fn spelled(&self, name: &[u8]) -> Option<&Fields> {
        // Names hold no dots: only the one before the first dot can match.
        let dot = name.iter().position(|&b| b == b'.')?;
        let fields = self.find(Name::new(name.get(..dot)?))?;
        let tail = name.get(dot + 1..)?;
        match fields.find(Name::new(tail)) {
            Some(inner) => Some(inner),
            None => fields.spelled(tail),
        }
    }

    /// [`get`](Self::get) for a [`Name`].
    #[inline(always)]
    pub(crate) fn find(&self, name: Name<'_>) -> Option<&Fields> {
        if self.lengths & length_bit(name.bytes.len()) == 0 {
            return None;
        }
        if self.children.len() <= 8 {
            // Few names (the usual case): most differ in length or head.
            return self
                .children
                .iter()
                .find(|c| {
                    c.name.len() == name.bytes.len()
                        && c.head == name.head
                        && c.name.as_bytes().get(8..) == name.bytes.get(8..)
                })
                .map(|c| &c.fields);
        }
        self.children
            .binary_search_by(|c| order(c.name.as_bytes(), name.bytes))
            .ok()
            .and_then(|at| self.children.get(at))
            .map(|c| &c.fields)
    }

    /// The fields below `name`, added if missing (`None` cannot happen).
    fn entry(&mut self, name: &str) -> Option<&mut Fields> {
        let at = match self
            .children
            .binary_search_by(|c| order(c.name.as_bytes(), name.as_bytes()))
        {
            Ok(at) => at,
            Err(at) => {
                let child = Child {
                    name: name.into(),
                    head: head(name.as_bytes()),
                    fields: Fields::default(),
                };
                self.children.insert(at, child);
                self.lengths |= length_bit(name.len());
                self.shortest = self.shortest.min(name.len());
                match name.len() {
                    len @ 0..8 => self.dots |= 0x80 << (8 * len),
                    len => {
                        if let Err(i) = self.long.binary_search(&len) {
                            self.long.insert(i, len);
                        }
                        self.shortest_long = self.long.first().copied().unwrap_or(usize::MAX);
                    }
                }
                at
            }
        };
        self.children.get_mut(at).map(|c| &mut c.fields)
    }
}
