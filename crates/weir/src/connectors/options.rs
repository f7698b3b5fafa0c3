//! The options of one connector in a pipeline config.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The options of one source or sink: the keys of its config table other
/// than `type`, deserialized by the connector into its own options type
/// ([`SourceConnector::Options`](super::SourceConnector::Options)).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectorOptions(toml::Table);

impl ConnectorOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// The options a value serializes to (a struct or a map), e.g. a
    /// connector's own options type.
    pub fn from_value(value: &impl Serialize) -> Result<Self, String> {
        toml::Table::try_from(value)
            .map(ConnectorOptions)
            .map_err(|e| format!("options must be a table of values: {e}"))
    }

    /// Deserializes the options into a connector's typed options. The
    /// message of an error names the offending key when serde does.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        toml::Value::Table(self.0.clone())
            .try_into()
            .map_err(|e: toml::de::Error| e.message().trim().to_string())
    }

    /// Sets option `key` to `value` (a string, number, boolean, list or
    /// table).
    pub fn set(&mut self, key: impl Into<String>, value: &impl Serialize) -> Result<(), String> {
        let value = toml::Value::try_from(value)
            .map_err(|e| format!("option values must be TOML values: {e}"))?;
        self.0.insert(key.into(), value);
        Ok(())
    }

    /// Whether the options have `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The option keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct O {
        path: String,
        #[serde(default)]
        n: u32,
    }

    #[test]
    fn round_trips_typed_options_and_names_unknown_keys() -> Result<(), String> {
        let o = O {
            path: "x".into(),
            n: 3,
        };
        let options = ConnectorOptions::from_value(&o)?;
        assert_eq!(options.parse::<O>()?, o);
        assert!(options.contains("path"));
        let bad: ConnectorOptions =
            toml::from_str("path = \"x\"\nnope = 1").map_err(|e| e.to_string())?;
        let err = bad.parse::<O>().err().unwrap_or_default();
        assert!(err.contains("unknown field `nope`"), "{err}");
        Ok(())
    }
}
