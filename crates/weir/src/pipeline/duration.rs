//! Durations in config files: `"500ms"`, `"30s"`, `"10m"`, `"1h"`, `"7d"`,
//! or a bare integer number of seconds.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration read from a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConfigDuration(pub Duration);

impl ConfigDuration {
    /// Parses `"500ms"`, `"30s"`, `"10m"`, `"1h"` or `"7d"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("`{text}` has no unit (use ms, s, m, h or d)"))?;
        let (number, unit) = t.split_at(split);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` does not start with a whole number"))?;
        let ms_per = match unit.trim() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            other => {
                return Err(format!(
                    "unknown unit `{other}` in `{text}` (use ms, s, m, h or d)"
                ));
            }
        };
        n.checked_mul(ms_per)
            .map(|ms| ConfigDuration(Duration::from_millis(ms)))
            .ok_or_else(|| format!("`{text}` is too long"))
    }

    /// The duration in whole milliseconds.
    pub fn as_millis(self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }
}

impl fmt::Display for ConfigDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.as_millis();
        match ms {
            0 => f.write_str("0s"),
            _ if ms.is_multiple_of(86_400_000) => write!(f, "{}d", ms / 86_400_000),
            _ if ms.is_multiple_of(3_600_000) => write!(f, "{}h", ms / 3_600_000),
            _ if ms.is_multiple_of(60_000) => write!(f, "{}m", ms / 60_000),
            _ if ms.is_multiple_of(1_000) => write!(f, "{}s", ms / 1_000),
            _ => write!(f, "{ms}ms"),
        }
    }
}

impl Serialize for ConfigDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ConfigDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Seconds(s) => Ok(ConfigDuration(Duration::from_secs(s))),
            Raw::Text(t) => ConfigDuration::parse(&t)
                .map_err(|e| serde::de::Error::custom(format!("invalid duration: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_garbage() {
        let ms = |t: &str| ConfigDuration::parse(t).map(ConfigDuration::as_millis);
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("30s"), Ok(30_000));
        assert_eq!(ms("10m"), Ok(600_000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        assert_eq!(ms("7d"), Ok(604_800_000));
        assert!(ms("10").is_err());
        assert!(ms("s").is_err());
        assert!(ms("5 weeks").is_err());
        assert_eq!(
            ConfigDuration::parse("90s").map(|d| d.to_string()),
            Ok("90s".into())
        );
    }
}
