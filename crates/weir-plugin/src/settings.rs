//! The plugin's settings, as given to `init`.

use std::fmt::Display;
use std::str::FromStr;

/// The settings of a plugin instance: the `(key, value)` pairs of the
/// plugin's `settings` table in the pipeline config.
///
/// When a key appears more than once, the last value wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pairs: Vec<(String, String)>,
}

impl Settings {
    /// Settings from `(key, value)` pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// The raw value of `key`, if it is set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` parsed as `T`: `Ok(None)` when the key is not set,
    /// `Err` (naming the key and the bad value) when it does not parse.
    pub fn parse<T>(&self, key: &str) -> Result<Option<T>, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(key) {
            None => Ok(None),
            Some(raw) => raw.trim().parse::<T>().map(Some).map_err(|e| {
                format!(
                    "setting `{key}`: cannot parse {raw:?} as {}: {e}",
                    short_type_name::<T>()
                )
            }),
        }
    }

    /// The value of `key` parsed as `T`, or `default` when the key is not set.
    /// A value that does not parse is still an error.
    pub fn parse_or<T>(&self, key: &str, default: T) -> Result<T, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        Ok(self.parse(key)?.unwrap_or(default))
    }

    /// The value of `key` parsed as `T`; an error when it is missing or does
    /// not parse.
    pub fn require<T>(&self, key: &str) -> Result<T, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.parse(key)?
            .ok_or_else(|| format!("setting `{key}` is required but not set"))
    }

    /// All `(key, value)` pairs, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether no settings are given.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

impl From<Vec<(String, String)>> for Settings {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Self::new(pairs)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Settings {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::new(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// The type name without module paths: `f64` rather than `core::f64`,
/// `Vec<String>` rather than `alloc::vec::Vec<alloc::string::String>`.
fn short_type_name<T>() -> String {
    const DELIMITERS: [char; 6] = ['<', ' ', '(', '[', ',', '&'];
    let mut rest = std::any::type_name::<T>();
    let mut out = String::with_capacity(rest.len());
    while let Some(pos) = rest.find("::") {
        out.push_str(&rest[..pos]);
        let keep = out.rfind(DELIMITERS).map_or(0, |i| i + 1);
        out.truncate(keep);
        rest = &rest[pos + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        [("min", "1.5"), ("n", "x"), ("n", " 7 "), ("bad", "abc")]
            .into_iter()
            .collect()
    }

    #[test]
    fn get_and_parse() {
        let s = settings();
        assert_eq!(s.get("min"), Some("1.5"));
        assert_eq!(s.get("n"), Some(" 7 "));
        assert_eq!(s.get("none"), None);
        assert_eq!(s.parse::<f64>("min"), Ok(Some(1.5)));
        assert_eq!(s.parse::<u32>("n"), Ok(Some(7)));
        assert_eq!(s.parse::<u32>("none"), Ok(None));
        assert_eq!(s.parse_or::<u32>("none", 3), Ok(3));
        assert_eq!(s.require::<f64>("min"), Ok(1.5));
    }

    #[test]
    fn errors_name_key_and_value() {
        let s = settings();
        let e = s.parse::<f64>("bad").unwrap_err();
        assert_eq!(
            e,
            "setting `bad`: cannot parse \"abc\" as f64: invalid float literal"
        );
        let e = s.require::<f64>("none").unwrap_err();
        assert_eq!(e, "setting `none` is required but not set");
        assert_eq!(short_type_name::<Vec<String>>(), "Vec<String>");
    }
}
