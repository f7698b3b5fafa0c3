//! Events parsed into a `Value` holding only the fields patterns look at.
//!
//! [`Fields::parse`] builds a `Value` holding only the fields in a
//! [`Fields`] tree, walking the JSON text with the [`Scanner`]: every other
//! value is checked and skipped without being built. It accepts and rejects
//! exactly the text `serde_json` does; the errors are `serde_json`'s own.

use serde_json::{Map, Value};

use super::fields::Fields;
use super::scan::{Invalid, Scan, Scanner};

impl Fields {
    /// Parses the JSON text `bytes`, keeping only the fields in this tree
    /// (an object kept as a leaf keeps no fields).
    ///
    /// Matching the result gives the same outcome as matching the whole
    /// parsed text, for patterns whose fields are all in the tree.
    ///
    /// # Errors
    ///
    /// If `bytes` is not JSON text that `serde_json` accepts (with the error
    /// `serde_json` gives for it).
    pub(crate) fn parse(&self, bytes: &[u8]) -> Result<Value, serde_json::Error> {
        match select(bytes, self) {
            Ok(value) => Ok(value),
            // The scanner rejects only what serde_json rejects, which then
            // describes the error. Were they ever to disagree, serde_json's
            // reading (of the whole text) would win.
            Err(Invalid) => serde_json::from_slice(bytes),
        }
    }
}

/// Scans the whole text, building the value of the fields in `fields`.
pub(super) fn select(bytes: &[u8], fields: &Fields) -> Scan<Value> {
    let mut scanner = Scanner::new(bytes);
    let value = build(&mut scanner, fields, 0)?;
    scanner.finish()?;
    Ok(value)
}

/// Builds the value at the scanner's position, inside `depth` open arrays
/// and objects, keeping only `fields` of objects (recursion is bounded by
/// the scanner's depth limit).
fn build(scanner: &mut Scanner<'_>, fields: &Fields, depth: usize) -> Scan<Value> {
    match scanner.peek() {
        Some(b'{') => {
            let depth = scanner.open(depth)?;
            let mut map = Map::new();
            let mut first = true;
            while let Some((key, inner)) =
                scanner.next_kept(first, depth, |key| fields.member(key, &mut false))?
            {
                first = false;
                let value = build(scanner, inner, depth)?;
                // A repeated key replaces the earlier value, as in serde_json.
                map.insert(key.decode()?.into_owned(), value);
            }
            Ok(Value::Object(map))
        }
        Some(b'[') => {
            let depth = scanner.open(depth)?;
            let mut items = Vec::new();
            let mut first = true;
            while scanner.next_element(first)? {
                first = false;
                items.push(build(scanner, fields, depth)?);
            }
            Ok(Value::Array(items))
        }
        Some(b'"') => Ok(Value::String(scanner.string()?.decode()?.into_owned())),
        Some(b't') => scanner.literal(b"true").map(|()| Value::Bool(true)),
        Some(b'f') => scanner.literal(b"false").map(|()| Value::Bool(false)),
        Some(b'n') => scanner.literal(b"null").map(|()| Value::Null),
        Some(b'-' | b'0'..=b'9') => Ok(Value::Number(scanner.number()?)),
        _ => Err(Invalid),
    }
}
