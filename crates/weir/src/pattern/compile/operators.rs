//! The operands of match operators (`prefix`, `numeric`, `cidr`, …).

use serde_json::Value;

use super::{Ctx, Matched, Seg};
use crate::pattern::PatternError;
use crate::pattern::case::IgnoreCase;
use crate::pattern::ops::{
    AnythingBut, Bound, Cond, Ip, IpRange, Literal, Range, Wildcard, comparable, parse_ip,
};

/// The most `*` one wildcard may hold (EventBridge rejects "complex"
/// wildcards; this bound approximates its rule).
const MAX_WILDCARDS: usize = 5;

impl Ctx {
    pub(super) fn operator(&mut self, op: &str, arg: &Value) -> Result<Matched, PatternError> {
        let cond = match op {
            "exactly" => Cond::Exact(Literal::Str {
                text: self.string(arg, "`exactly` takes a string")?.into(),
                ip: None,
            }),
            "prefix" | "suffix" => {
                let (text, ignore_case) = self.affix(op, arg)?;
                match (op, ignore_case) {
                    ("prefix", false) => Cond::Prefix(text.into()),
                    ("prefix", true) => Cond::PrefixIc(IgnoreCase::new(&text)),
                    (_, false) => Cond::Suffix(text.into()),
                    (_, true) => Cond::SuffixIc(IgnoreCase::new(&text)),
                }
            }
            "equals-ignore-case" => Cond::EqIc(IgnoreCase::new(
                self.string(arg, "`equals-ignore-case` takes a string")?,
            )),
            "wildcard" => {
                let text = self.string(arg, "`wildcard` takes a string")?;
                Cond::Wildcard(parse_wildcard(text).map_err(|m| self.err(m))?)
            }
            "anything-but" => Cond::AnythingBut(self.anything_but(arg)?),
            "numeric" => Cond::Numeric(self.numeric(arg)?),
            "cidr" => Cond::Cidr(self.cidr(arg)?),
            "exists" => {
                return match arg {
                    Value::Bool(b) => Ok(Matched::Exists(*b)),
                    _ => Err(self.err("`exists` takes true or false")),
                };
            }
            _ => {
                return Err(self.err(format!(
                    "unknown operator `{op}` (operators are lower-case: prefix, suffix, \
                     equals-ignore-case, wildcard, anything-but, numeric, exists, cidr, exactly)"
                )));
            }
        };
        Ok(Matched::Cond(cond))
    }

    fn string<'v>(&self, arg: &'v Value, message: &str) -> Result<&'v str, PatternError> {
        arg.as_str().ok_or_else(|| self.err(message))
    }

    /// The operand of `prefix`/`suffix`: a string, or
    /// `{"equals-ignore-case": string}`. Returns the text and whether case is
    /// ignored.
    fn affix(&mut self, op: &str, arg: &Value) -> Result<(String, bool), PatternError> {
        match arg {
            Value::String(s) => Ok((s.clone(), false)),
            Value::Object(map) => {
                let mut entries = map.iter();
                match (entries.next(), entries.next()) {
                    (Some((inner, value)), None) if inner == "equals-ignore-case" => {
                        self.at(Seg::Key(inner.clone()), |ctx| {
                            ctx.string(value, "`equals-ignore-case` takes a string")
                                .map(|s| (s.to_owned(), true))
                        })
                    }
                    _ => Err(self.err(format!(
                        "`{op}` takes a string or {{\"equals-ignore-case\": string}}"
                    ))),
                }
            }
            _ => Err(self.err(format!(
                "`{op}` takes a string or {{\"equals-ignore-case\": string}}"
            ))),
        }
    }

    fn anything_but(&mut self, arg: &Value) -> Result<AnythingBut, PatternError> {
        match arg {
            Value::String(s) => Ok(AnythingBut::Strings(vec![s.as_str().into()])),
            Value::Number(n) => match comparable(n) {
                Some(_) => Ok(AnythingBut::Numbers(vec![n.clone()])),
                None => Err(self.err(not_comparable(n))),
            },
            Value::Array(items) => {
                if items.iter().all(Value::is_string) && !items.is_empty() {
                    Ok(AnythingBut::Strings(
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .map(Box::from)
                            .collect(),
                    ))
                } else if items.iter().all(Value::is_number) && !items.is_empty() {
                    let mut numbers = Vec::with_capacity(items.len());
                    for (i, n) in items.iter().filter_map(Value::as_number).enumerate() {
                        if comparable(n).is_none() {
                            return self.at(Seg::Index(i), |ctx| Err(ctx.err(not_comparable(n))));
                        }
                        numbers.push(n.clone());
                    }
                    Ok(AnythingBut::Numbers(numbers))
                } else {
                    Err(self
                        .err("`anything-but` takes a non-empty list of all strings or all numbers"))
                }
            }
            Value::Object(map) => {
                let mut entries = map.iter();
                let (Some((inner, value)), None) = (entries.next(), entries.next()) else {
                    return Err(self.err(
                        "an `anything-but` object holds exactly one of prefix, suffix, \
                         equals-ignore-case, wildcard",
                    ));
                };
                self.at(Seg::Key(inner.clone()), |ctx| {
                    ctx.anything_but_op(inner, value)
                })
            }
            Value::Null | Value::Bool(_) => Err(self.err(
                "`anything-but` takes a string, a number, a list of them, or an object with \
                 prefix, suffix, equals-ignore-case or wildcard",
            )),
        }
    }

    fn anything_but_op(&mut self, op: &str, arg: &Value) -> Result<AnythingBut, PatternError> {
        if !matches!(op, "prefix" | "suffix" | "equals-ignore-case" | "wildcard") {
            return Err(self.err(format!(
                "`anything-but` does not support `{op}`: use prefix, suffix, equals-ignore-case \
                 or wildcard"
            )));
        }
        let texts: Vec<&str> = match arg {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
                items.iter().filter_map(Value::as_str).collect()
            }
            _ => {
                return Err(self.err(format!(
                    "`anything-but`/`{op}` takes a string or a non-empty list of strings"
                )));
            }
        };
        match op {
            "prefix" | "suffix" => {
                if texts.iter().any(|t| t.is_empty()) {
                    return Err(self.err(format!(
                        "`anything-but`/`{op}` does not allow an empty string"
                    )));
                }
                let list = texts.into_iter().map(Box::from).collect();
                Ok(if op == "prefix" {
                    AnythingBut::Prefixes(list)
                } else {
                    AnythingBut::Suffixes(list)
                })
            }
            "equals-ignore-case" => Ok(AnythingBut::EqIc(
                texts.into_iter().map(IgnoreCase::new).collect(),
            )),
            _ => texts
                .into_iter()
                .map(|t| parse_wildcard(t).map_err(|m| self.err(m)))
                .collect::<Result<_, _>>()
                .map(AnythingBut::Wildcards),
        }
    }

    fn numeric(&mut self, arg: &Value) -> Result<Range, PatternError> {
        let Value::Array(items) = arg else {
            return Err(self.err("`numeric` takes an array such as [\">\", 0, \"<=\", 5]"));
        };
        let mut items = items.iter().enumerate();
        let Some((i, first)) = items.next() else {
            return Err(self.err("`numeric` needs an operator and a number, e.g. [\">\", 0]"));
        };
        let op = self.at(Seg::Index(i), |ctx| ctx.numeric_operator(first))?;
        let value = self.numeric_operand(items.next(), op)?;
        let bound = |inclusive| Some(Bound { value, inclusive });
        let range = match op {
            "=" => Range {
                low: bound(true),
                high: bound(true),
            },
            "<" | "<=" => Range {
                low: None,
                high: bound(op == "<="),
            },
            _ => {
                let low = bound(op == ">=");
                match items.next() {
                    None => return Ok(Range { low, high: None }),
                    Some((i, second)) => {
                        let top_op = self.at(Seg::Index(i), |ctx| {
                            let top_op = ctx.numeric_operator(second)?;
                            if matches!(top_op, "<" | "<=") {
                                Ok(top_op)
                            } else {
                                Err(ctx.err(format!(
                                    "a range's second operator must be `<` or `<=`, not \
                                     `{top_op}`"
                                )))
                            }
                        })?;
                        let top = self.numeric_operand(items.next(), top_op)?;
                        if top <= value {
                            return Err(self.err(format!(
                                "the range's lower bound {value} must be below its upper \
                                 bound {top}"
                            )));
                        }
                        Range {
                            low,
                            high: Some(Bound {
                                value: top,
                                inclusive: top_op == "<=",
                            }),
                        }
                    }
                }
            }
        };
        match items.next() {
            None => Ok(range),
            Some((i, _)) => self.at(Seg::Index(i), |ctx| {
                Err(ctx.err(
                    "too many elements: expected one comparison or a lower and an upper bound",
                ))
            }),
        }
    }

    fn numeric_operator<'v>(&self, v: &'v Value) -> Result<&'v str, PatternError> {
        match v.as_str() {
            Some(op @ ("=" | "<" | "<=" | ">" | ">=")) => Ok(op),
            Some(op) => Err(self.err(format!(
                "unknown numeric operator `{op}`: use =, <, <=, > or >="
            ))),
            None => Err(self.err(format!("expected an operator (=, <, <=, >, >=), found {v}"))),
        }
    }

    fn numeric_operand(
        &mut self,
        item: Option<(usize, &Value)>,
        op: &str,
    ) -> Result<f64, PatternError> {
        let Some((i, v)) = item else {
            return Err(self.err(format!("operator `{op}` needs a number after it")));
        };
        self.at(Seg::Index(i), |ctx| match v.as_number() {
            Some(n) => comparable(n).ok_or_else(|| ctx.err(not_comparable(n))),
            None => Err(ctx.err(format!("the operand of `{op}` must be a number, found {v}"))),
        })
    }

    fn cidr(&mut self, arg: &Value) -> Result<IpRange, PatternError> {
        let text = self.string(arg, "`cidr` takes a string such as \"10.0.0.0/24\"")?;
        let Some((ip, mask)) = text.split_once('/').filter(|(_, m)| !m.contains('/')) else {
            return Err(self.err(format!("malformed CIDR block `{text}`: one `/` required")));
        };
        let Ok(mask) = mask.parse::<i32>() else {
            return Err(self.err(format!(
                "malformed CIDR block `{text}`: mask must be an integer"
            )));
        };
        let (v6, base, width) = match parse_ip(ip) {
            Some(Ip::V4(x)) => (false, u128::from(x), 32),
            Some(Ip::V6(x)) => (true, x, 128),
            None => return Err(self.err(format!("`{ip}` is not an IPv4 or IPv6 address"))),
        };
        // EventBridge (event-ruler) accepts masks from 0 to width-1.
        if !(0..width).contains(&mask) {
            return Err(self.err(format!(
                "malformed CIDR block `{text}`: the mask must be between 0 and {}",
                width - 1
            )));
        }
        let host_bits = width.abs_diff(mask);
        let host_mask = 1u128.checked_shl(host_bits).map_or(u128::MAX, |x| x - 1);
        Ok(IpRange {
            v6,
            // Host bits are cleared, as EventBridge does: 10.0.0.5/24 is
            // 10.0.0.0-10.0.0.255.
            low: base & !host_mask,
            high: base | host_mask,
        })
    }
}

/// Parses a wildcard: `*` is any run of characters, `\*` a literal `*`, `\\`
/// a literal `\`. Rejects consecutive `*`, other escapes and too many `*`.
fn parse_wildcard(text: &str) -> Result<Wildcard, String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '*' => {
                if chars.peek().is_some_and(|&(_, next)| next == '*') {
                    return Err(format!("consecutive wildcard characters at position {at}"));
                }
                parts.push(std::mem::take(&mut current).into_boxed_str());
            }
            '\\' => match chars.next() {
                Some((_, escaped @ ('*' | '\\'))) => current.push(escaped),
                _ => {
                    return Err(format!(
                        "invalid escape at position {at}: only `\\*` and `\\\\` are allowed"
                    ));
                }
            },
            c => current.push(c),
        }
    }
    parts.push(current.into_boxed_str());
    if parts.len() > MAX_WILDCARDS + 1 {
        return Err(format!(
            "wildcard is too complex: use at most {MAX_WILDCARDS} `*` characters"
        ));
    }
    Ok(Wildcard { parts })
}

fn not_comparable(n: &serde_json::Number) -> String {
    format!("cannot compare number {n}: it has no exact 64-bit floating-point value")
}
