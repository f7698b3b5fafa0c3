//! Parsing only the parts of an event that patterns look at.
//!
//! Matching reads an event only along the field paths its patterns name, so
//! an event parsed with every other field left out matches exactly as the
//! full event does. [`Fields`] is the tree of those paths; [`parse`] builds a
//! `Value` holding only them, skipping the rest of the text without
//! allocating for it.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::compile::Node;

/// The field names patterns use below one position of the event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields {
    /// Sorted by name.
    children: Vec<(Box<str>, Fields)>,
}

impl Fields {
    /// Adds the paths used by the pattern rooted at `node`.
    pub(crate) fn add(&mut self, node: &Node) {
        for child in &node.children {
            let at = match self
                .children
                .binary_search_by(|(name, _)| (**name).cmp(&*child.key))
            {
                Ok(at) => at,
                Err(at) => {
                    self.children
                        .insert(at, (child.key.clone(), Fields::default()));
                    at
                }
            };
            if let (Some(inner), Some((_, fields))) = (&child.node, self.children.get_mut(at)) {
                fields.add(inner);
            }
        }
        for branch in node.ors.iter().flatten() {
            self.add(branch);
        }
    }

    fn get(&self, name: &str) -> Option<&Fields> {
        self.children
            .binary_search_by(|(n, _)| (**n).cmp(name))
            .ok()
            .and_then(|at| self.children.get(at))
            .map(|(_, fields)| fields)
    }
}

/// Parses the JSON text `bytes`, keeping only the fields in `fields`.
pub(crate) fn parse(bytes: &[u8], fields: &Fields) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Pruned(fields).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Deserializes a value, keeping below it only the fields in `.0`.
#[derive(Clone, Copy)]
struct Pruned<'f>(&'f Fields);

impl<'de> DeserializeSeed<'de> for Pruned<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pruned<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Key(self.0))? {
            match key {
                Some((name, fields)) => {
                    let value = map.next_value_seed(Pruned(fields))?;
                    out.insert(name, value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// Deserializes an object key: the key and its fields if patterns use it.
struct Key<'f>(&'f Fields);

impl<'de, 'f> DeserializeSeed<'de> for Key<'f> {
    type Value = Option<(String, &'f Fields)>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'f> Visitor<'de> for Key<'f> {
    type Value = Option<(String, &'f Fields)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.get(v).map(|fields| (v.to_owned(), fields)))
    }
}
