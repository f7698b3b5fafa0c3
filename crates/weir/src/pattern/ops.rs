//! Match conditions and how each one tests a single leaf value of an event.

use std::net::Ipv6Addr;

use serde_json::Number;

use super::case::IgnoreCase;
use super::event::Leaf;

/// One condition of a leaf array. `exists` is not here: a leaf keeps it as
/// flags, since it tests the presence of values rather than a value.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    /// A literal string, number, boolean or `null`.
    Exact(Literal),
    /// `{"prefix": p}`.
    Prefix(Box<str>),
    /// `{"prefix": {"equals-ignore-case": p}}`.
    PrefixIc(IgnoreCase),
    /// `{"suffix": s}`.
    Suffix(Box<str>),
    /// `{"suffix": {"equals-ignore-case": s}}`.
    SuffixIc(IgnoreCase),
    /// `{"equals-ignore-case": t}`.
    EqIc(IgnoreCase),
    /// `{"wildcard": w}`.
    Wildcard(Wildcard),
    /// `{"anything-but": …}`.
    AnythingBut(AnythingBut),
    /// `{"numeric": […]}`.
    Numeric(Range),
    /// `{"cidr": block}`.
    Cidr(IpRange),
}

/// A literal condition.
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    /// A string; `ip` is set when the string is an IP address, which then
    /// also matches other spellings of the same address.
    Str { text: Box<str>, ip: Option<Ip> },
    /// A number, compared numerically.
    Num(Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// The values excluded by an `anything-but`.
#[derive(Debug, Clone)]
pub(crate) enum AnythingBut {
    /// Exact strings.
    Strings(Vec<Box<str>>),
    /// Numbers, compared numerically.
    Numbers(Vec<Number>),
    /// String prefixes.
    Prefixes(Vec<Box<str>>),
    /// String suffixes.
    Suffixes(Vec<Box<str>>),
    /// Strings, ignoring case.
    EqIc(Vec<IgnoreCase>),
    /// Wildcard patterns.
    Wildcards(Vec<Wildcard>),
}

/// A numeric interval; a missing bound is unbounded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    pub(crate) low: Option<Bound>,
    pub(crate) high: Option<Bound>,
}

/// One end of a [`Range`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bound {
    pub(crate) value: f64,
    pub(crate) inclusive: bool,
}

/// An IP address, IPv4-mapped IPv6 addresses counting as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ip {
    V4(u32),
    V6(u128),
}

/// An inclusive range of addresses of one family, from a CIDR block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpRange {
    pub(crate) v6: bool,
    pub(crate) low: u128,
    pub(crate) high: u128,
}

/// A parsed wildcard: the literal text between the `*`s (so there is one
/// more part than there are `*`s), escapes resolved.
#[derive(Debug, Clone)]
pub(crate) struct Wildcard {
    pub(crate) parts: Vec<Box<str>>,
}

impl Cond {
    /// Whether the leaf value `v` satisfies this condition.
    pub(crate) fn test(&self, v: Leaf<'_>) -> bool {
        match self {
            Cond::Exact(lit) => lit.test(v),
            Cond::Prefix(p) => v.as_str().is_some_and(|s| s.starts_with(&**p)),
            Cond::PrefixIc(p) => v.as_str().is_some_and(|s| p.is_prefix_of(s)),
            Cond::Suffix(p) => v.as_str().is_some_and(|s| s.ends_with(&**p)),
            Cond::SuffixIc(p) => v.as_str().is_some_and(|s| p.is_suffix_of(s)),
            Cond::EqIc(p) => v.as_str().is_some_and(|s| p.equals(s)),
            Cond::Wildcard(w) => v.as_str().is_some_and(|s| w.matches(s)),
            Cond::AnythingBut(ab) => !ab.excludes(v),
            Cond::Numeric(r) => v.as_f64().is_some_and(|x| r.contains(x)),
            Cond::Cidr(range) => v
                .as_str()
                .and_then(parse_ip)
                .is_some_and(|ip| range.contains(ip)),
        }
    }
}

impl Literal {
    fn test(&self, v: Leaf<'_>) -> bool {
        match (self, v) {
            (Literal::Str { text, ip }, Leaf::Str(s)) => {
                **text == *s || ip.is_some_and(|ip| parse_ip(s) == Some(ip))
            }
            (Literal::Num(n), Leaf::Num(m)) => numbers_equal(n, m),
            (Literal::Bool(b), Leaf::Bool(c)) => *b == c,
            (Literal::Null, Leaf::Null) => true,
            _ => false,
        }
    }
}

impl AnythingBut {
    /// Whether `v` is one of the excluded values.
    fn excludes(&self, v: Leaf<'_>) -> bool {
        match (self, v) {
            (AnythingBut::Strings(list), Leaf::Str(s)) => list.iter().any(|x| **x == *s),
            (AnythingBut::Numbers(list), Leaf::Num(n)) => list.iter().any(|x| numbers_equal(x, n)),
            (AnythingBut::Prefixes(list), Leaf::Str(s)) => list.iter().any(|x| s.starts_with(&**x)),
            (AnythingBut::Suffixes(list), Leaf::Str(s)) => list.iter().any(|x| s.ends_with(&**x)),
            (AnythingBut::EqIc(list), Leaf::Str(s)) => list.iter().any(|x| x.equals(s)),
            (AnythingBut::Wildcards(list), Leaf::Str(s)) => list.iter().any(|w| w.matches(s)),
            _ => false,
        }
    }
}

impl Range {
    /// Whether `x` lies in the range.
    pub(crate) fn contains(&self, x: f64) -> bool {
        let above = self.low.is_none_or(|b| {
            if b.inclusive {
                x >= b.value
            } else {
                x > b.value
            }
        });
        let below = self.high.is_none_or(|b| {
            if b.inclusive {
                x <= b.value
            } else {
                x < b.value
            }
        });
        above && below
    }
}

impl IpRange {
    fn contains(&self, ip: Ip) -> bool {
        let (v6, x) = match ip {
            Ip::V4(x) => (false, u128::from(x)),
            Ip::V6(x) => (true, x),
        };
        v6 == self.v6 && self.low <= x && x <= self.high
    }
}

impl Wildcard {
    /// Whether `s` matches: the first part is a prefix, the last a suffix,
    /// and the parts between occur in order, without overlapping.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let Some((first, rest)) = self.parts.split_first() else {
            return false;
        };
        let Some((last, middle)) = rest.split_last() else {
            // No `*`: the whole string.
            return s == &**first;
        };
        if s.len() < first.len() + last.len() || !s.starts_with(&**first) || !s.ends_with(&**last) {
            return false;
        }
        // Leftmost matching of each middle part is optimal for `*`-only globs.
        let Some(mut window) = s.get(first.len()..s.len() - last.len()) else {
            return false;
        };
        for part in middle {
            match window.find(&**part) {
                Some(at) => match window.get(at + part.len()..) {
                    Some(tail) => window = tail,
                    None => return false,
                },
                None => return false,
            }
        }
        true
    }
}

/// The value of a number used as a `numeric` or `anything-but` operand, or
/// `None` when it cannot be compared exactly: an integer that has no exact
/// `f64` form (EventBridge compares numbers as 64-bit floats).
pub(crate) fn comparable(n: &Number) -> Option<f64> {
    let x = n.as_f64()?;
    let exact = match (n.as_i64(), n.as_u64()) {
        (Some(i), _) => x as i128 == i128::from(i),
        (None, Some(u)) => x as i128 == i128::from(u),
        (None, None) => x.is_finite(),
    };
    exact.then_some(x)
}

/// Numeric equality of two JSON numbers: exact for integers, `f64` otherwise.
pub(crate) fn numbers_equal(a: &Number, b: &Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Parses an IP address literal as EventBridge recognises one: four dotted
/// decimal numbers up to 255, or IPv6 written with hex digits and colons
/// (IPv4-mapped IPv6 addresses count as IPv4). Anything else is not an IP.
pub(crate) fn parse_ip(s: &str) -> Option<Ip> {
    if let Some(v4) = parse_ipv4(s) {
        return Some(Ip::V4(v4));
    }
    if s.len() < 2
        || s.len() > 64
        || !s.contains(':')
        || !s.bytes().all(|b| b == b':' || b.is_ascii_hexdigit())
    {
        return None;
    }
    let addr: Ipv6Addr = s.parse().ok()?;
    Some(match addr.to_ipv4_mapped() {
        Some(v4) => Ip::V4(u32::from(v4)),
        None => Ip::V6(u128::from(addr)),
    })
}

fn parse_ipv4(s: &str) -> Option<u32> {
    let mut out: u32 = 0;
    let mut parts = 0;
    for part in s.split('.') {
        parts += 1;
        if parts > 4 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits = part.trim_start_matches('0');
        if digits.len() > 3 {
            return None;
        }
        let octet: u32 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        if octet > 255 {
            return None;
        }
        out = (out << 8) | octet;
    }
    (parts == 4).then_some(out)
}

/// The canonical text of an address, used to index IP literals.
pub(crate) fn ip_text(ip: Ip) -> String {
    match ip {
        Ip::V4(x) => std::net::Ipv4Addr::from(x).to_string(),
        Ip::V6(x) => Ipv6Addr::from(x).to_string(),
    }
}
