//! The tokens of JSON text: whitespace, strings, numbers and literals.
//!
//! Each function takes the text and a position and returns the position
//! after the token, checking it as `serde_json` does. The text need not be
//! UTF-8: strings are checked to be, and any other byte above 0x7F is a
//! syntax error, so text that scans is UTF-8.

use super::{Invalid, Scan};

/// The byte at `at`, or 0 past the end. A 0 byte is never valid outside a
/// string and ends string scanning as any control character does, so the
/// end of the text needs no other check.
#[inline(always)]
pub(super) fn byte(bytes: &[u8], at: usize) -> u8 {
    bytes.get(at).copied().unwrap_or(0)
}

/// The position of the first byte at or after `at` that is not whitespace.
#[inline(always)]
pub(super) fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    if byte(bytes, at) > b' ' {
        return at;
    }
    while let b' ' | b'\n' | b'\r' | b'\t' = byte(bytes, at) {
        at += 1;
    }
    at
}

/// The position after `word` (`true`, `false` or `null`) at `at`.
#[inline(always)]
pub(super) fn literal_end<const N: usize>(bytes: &[u8], at: usize, word: &[u8; N]) -> Scan<usize> {
    let end = at + N;
    let found = bytes.get(at..end).map(<&[u8; N]>::try_from);
    if let Some(Ok(found)) = found
        && found == word
    {
        Ok(end)
    } else {
        Err(Invalid)
    }
}

/// The position after the closing quote of the string whose text starts at
/// `at`, and whether the string holds escapes; checks that the string is
/// UTF-8 without raw control characters, and that its escapes are valid.
#[inline(always)]
pub(super) fn string_end(bytes: &[u8], at: usize) -> Scan<(usize, bool)> {
    // Most strings are ASCII without escapes: the first byte that is not
    // plain ASCII text is their closing quote.
    let stop = find_special(bytes, at, true);
    if byte(bytes, stop) == b'"' {
        return Ok((stop + 1, false));
    }
    string_end_slow(bytes, at, stop)
}

/// [`string_end`] for strings with escapes or non-ASCII text, or invalid
/// ones; `stop` is the first byte from `start` that is not plain ASCII text.
#[cold]
#[inline(never)]
fn string_end_slow(bytes: &[u8], start: usize, stop: usize) -> Scan<(usize, bool)> {
    let mut at = stop;
    let mut escaped = false;
    // Until a non-ASCII byte shows up; from then on the string is checked
    // as a whole, once its end is found.
    let mut ascii = true;
    loop {
        match byte(bytes, at) {
            b'"' => {
                if !ascii {
                    let text = bytes.get(start..at).ok_or(Invalid)?;
                    std::str::from_utf8(text).map_err(|_| Invalid)?;
                }
                return Ok((at + 1, escaped));
            }
            b'\\' => {
                escaped = true;
                at = escape_end(bytes, at + 1)?;
            }
            0x80.. => {
                ascii = false;
                at += 1;
            }
            // `find_special` only stops at the bytes above; kept total.
            0x20.. => at += 1,
            // A raw control character, or the end of the text.
            _ => return Err(Invalid),
        }
        at = find_special(bytes, at, ascii);
    }
}

/// The first position at or after `at` holding a quote, a backslash, a
/// control character (below 0x20) or, if `ascii`, a byte above 0x7F; the
/// length of `bytes` if none does.
#[inline(always)]
fn find_special(bytes: &[u8], mut at: usize, ascii: bool) -> usize {
    // Most strings end within their first eight bytes.
    if let Some(chunk) = bytes.get(at..at + 8) {
        let found = special(chunk, ascii);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let Some(rest) = bytes.get(at..) else {
        return bytes.len();
    };
    let mut chunks = rest.chunks_exact(8);
    for chunk in &mut chunks {
        let found = special(chunk, ascii);
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    for &b in chunks.remainder() {
        if b == b'"' || b == b'\\' || b < 0x20 || (ascii && b > 0x7F) {
            break;
        }
        at += 1;
    }
    at
}

/// The high bit of each of the eight bytes of `chunk` that is a quote, a
/// backslash, a control character or, if `ascii`, above 0x7F. Only the
/// lowest is exact: bits above it may be set for other bytes.
#[inline(always)]
fn special(chunk: &[u8], ascii: bool) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
    // `x - k & !x` sets the high bit of the bytes of `x` below `k`; borrows
    // only spread above the lowest such byte. Xor with 0x02 maps the quote
    // to 0x20 and the control characters among themselves, so the bytes of
    // `quote_or_control` below 0x21 are the quotes and the control
    // characters; the zero bytes of `backslash` are the backslashes. Their
    // `!x` agree with `!word` on the high bits. Bytes above 0x7F are
    // flagged by their own high bit (and cause no borrows).
    let quote_or_control = word ^ (ONES * 0x02);
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let below = (quote_or_control.wrapping_sub(ONES * 0x21) | backslash.wrapping_sub(ONES)) & !word;
    let high = if ascii { word } else { 0 };
    (below | high) & HIGH
}

/// The [`head`](crate::pattern::fields::head) of the text from `start` to
/// `end`, read as one word when the text goes on far enough.
#[inline(always)]
pub(super) fn head(bytes: &[u8], start: usize, end: usize) -> u64 {
    let len = end.saturating_sub(start);
    match bytes.get(start..start + 8) {
        Some(chunk) => {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            if len >= 8 {
                word
            } else {
                word & ((1u64 << (8 * len)) - 1)
            }
        }
        None => crate::pattern::fields::head(bytes.get(start..end).unwrap_or_default()),
    }
}

/// Checks the escape whose backslash precedes `at`; returns its end.
fn escape_end(bytes: &[u8], at: usize) -> Scan<usize> {
    match byte(bytes, at) {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(at + 1),
        b'u' => match hex4(bytes, at + 1)? {
            // A trailing surrogate with no leading one before it.
            0xDC00..=0xDFFF => Err(Invalid),
            // A leading surrogate must be followed by a trailing one.
            0xD800..=0xDBFF => {
                if bytes.get(at + 5..at + 7) != Some(b"\\u") {
                    return Err(Invalid);
                }
                match hex4(bytes, at + 7)? {
                    0xDC00..=0xDFFF => Ok(at + 11),
                    _ => Err(Invalid),
                }
            }
            _ => Ok(at + 5),
        },
        _ => Err(Invalid),
    }
}

/// The value of the four hex digits at `at`.
fn hex4(bytes: &[u8], at: usize) -> Scan<u32> {
    let digits = bytes.get(at..at + 4).ok_or(Invalid)?;
    digits.iter().try_fold(0u32, |n, &d| {
        let v = char::from(d).to_digit(16).ok_or(Invalid)?;
        Ok((n << 4) | v)
    })
}

/// Decodes the escapes of string text already checked by [`string_end`].
pub(super) fn unescape(text: &[u8]) -> Scan<String> {
    let text = std::str::from_utf8(text).map_err(|_| Invalid)?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(rest.get(..at).ok_or(Invalid)?);
        let bytes = rest.as_bytes();
        let (c, len) = match byte(bytes, at + 1) {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => {
                let high = hex4(bytes, at + 2)?;
                if (0xD800..=0xDBFF).contains(&high) {
                    let low = hex4(bytes, at + 8)?.wrapping_sub(0xDC00) & 0x3FF;
                    let code = 0x10000 + ((high - 0xD800) << 10) + low;
                    (char::from_u32(code).ok_or(Invalid)?, 12)
                } else {
                    (char::from_u32(high).ok_or(Invalid)?, 6)
                }
            }
            _ => return Err(Invalid),
        };
        out.push(c);
        rest = rest.get(at + len..).ok_or(Invalid)?;
    }
    out.push_str(rest);
    Ok(out)
}

/// The position after the number at `at`. Its value must fit an `f64`, as
/// `serde_json` requires.
#[inline]
pub(super) fn number_end(bytes: &[u8], start: usize) -> Scan<usize> {
    let mut at = start;
    if byte(bytes, at) == b'-' {
        at += 1;
    }
    let int_start = at;
    match byte(bytes, at) {
        b'0' => at += 1,
        b'1'..=b'9' => at = digits_end(bytes, at + 1),
        _ => return Err(Invalid),
    }
    let int_digits = at - int_start;
    if byte(bytes, at) == b'.' {
        at = some_digits_end(bytes, at + 1)?;
    }
    // The exponent if positive (saturating): enough to tell the numbers
    // that surely fit an f64.
    let mut exponent: usize = 0;
    if let b'e' | b'E' = byte(bytes, at) {
        at += 1;
        let negative = byte(bytes, at) == b'-';
        if let b'-' | b'+' = byte(bytes, at) {
            at += 1;
        }
        let digits_start = at;
        at = some_digits_end(bytes, at)?;
        if !negative {
            let digits = bytes.get(digits_start..at).unwrap_or_default();
            exponent = digits.iter().fold(0, |e: usize, d| {
                e.saturating_mul(10)
                    .saturating_add(usize::from(d.wrapping_sub(b'0')))
            });
        }
    }
    // Below 10^300 a number surely fits an f64; above, let serde_json
    // decide whether it is out of range (an error) or not.
    if int_digits.saturating_add(exponent) > 300 {
        let text = bytes.get(start..at).ok_or(Invalid)?;
        serde_json::from_slice::<serde_json::Value>(text).map_err(|_| Invalid)?;
    }
    Ok(at)
}

/// The position after the digits starting at `at` (maybe none).
#[inline]
fn digits_end(bytes: &[u8], mut at: usize) -> usize {
    while byte(bytes, at).is_ascii_digit() {
        at += 1;
    }
    at
}

/// Like [`digits_end`], but there must be at least one digit.
#[inline]
fn some_digits_end(bytes: &[u8], at: usize) -> Scan<usize> {
    match digits_end(bytes, at) {
        end if end > at => Ok(end),
        _ => Err(Invalid),
    }
}
