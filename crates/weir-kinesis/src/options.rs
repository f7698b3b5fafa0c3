//! The `[source]` and `[sinks.<name>]` options of `type = "kinesis"`.

use std::time::Duration;

use serde::Deserialize;
use weir::pipeline::ConfigDuration;

/// Where reading starts in a shard that has no checkpoint.
///
/// Applies to the shards the stream has when the pipeline first sees it.
/// Shards created later by resharding are children of shards already read,
/// so they are always read from their beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Start {
    /// The oldest record in the shard (`start = "trim_horizon"`).
    #[default]
    TrimHorizon,
    /// Only records added after the pipeline started (`start = "latest"`).
    Latest,
    /// The first record at or after this time, in milliseconds since the
    /// Unix epoch (`start = 1767225600000`, Kinesis' `AT_TIMESTAMP`).
    AtTimestamp(i64),
}

impl<'de> Deserialize<'de> for Start {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Name(String),
            Millis(i64),
        }
        match Raw::deserialize(d)? {
            Raw::Name(n) => match n.to_ascii_lowercase().as_str() {
                "trim_horizon" | "earliest" => Ok(Start::TrimHorizon),
                "latest" => Ok(Start::Latest),
                _ => Err(serde::de::Error::custom(format!(
                    "start `{n}`: expected \"trim_horizon\", \"latest\" or a time in milliseconds since the Unix epoch (AT_TIMESTAMP)"
                ))),
            },
            Raw::Millis(ms) if ms >= 0 => Ok(Start::AtTimestamp(ms)),
            Raw::Millis(ms) => Err(serde::de::Error::custom(format!(
                "start {ms}: a timestamp must not be negative"
            ))),
        }
    }
}

/// How to reach a stream: the `stream`, `region` and `endpoint` options,
/// the same for the source and the sink (see [`split_options`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// The stream's name, or its ARN (`arn:aws:kinesis:<region>:<account>:stream/<name>`).
    pub stream: String,
    /// The AWS region. Default: the region in the ARN, else the usual AWS
    /// settings (`AWS_REGION`, the profile).
    #[serde(default)]
    pub region: Option<String>,
    /// Another endpoint than AWS's, e.g. `http://127.0.0.1:4567` for a
    /// local emulator or a VPC endpoint.
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// The keys of a connector table that make its [`Connection`].
const CONNECTION_KEYS: [&str; 3] = ["stream", "region", "endpoint"];

/// Reads a `type = "kinesis"` table: the [`Connection`] keys, and the rest
/// as `T` ([`SourceOptions`] or [`SinkOptions`]), whose unknown keys are
/// errors.
pub fn split_options<T: serde::de::DeserializeOwned>(
    table: &toml::Table,
) -> Result<(Connection, T), String> {
    let (mut connection, mut rest) = (toml::Table::new(), toml::Table::new());
    for (key, value) in table {
        let side = if CONNECTION_KEYS.contains(&key.as_str()) {
            &mut connection
        } else {
            &mut rest
        };
        side.insert(key.clone(), value.clone());
    }
    Ok((parse_table(connection)?, parse_table(rest)?))
}

/// A `type = "kinesis"` table read as its [`Connection`] and the rest as
/// `T`: the options type of the Kinesis connector (see [`split_options`]).
#[derive(Debug, Clone)]
pub struct Split<T>(pub Connection, pub T);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Split<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        split_options(&table)
            .map(|(c, t)| Split(c, t))
            .map_err(serde::de::Error::custom)
    }
}

fn parse_table<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, String> {
    table
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())
}

/// Options of a Kinesis source, besides its [`Connection`].
///
/// ```toml
/// [source]
/// type = "kinesis"
/// stream = "vehicle-telemetry"      # name or ARN
/// region = "eu-west-1"
/// start = "trim_horizon"            # or "latest", or epoch milliseconds
/// lease_table = "vehicle-enricher"  # share shards between processes
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceOptions {
    /// Where a shard with no checkpoint is read from.
    #[serde(default)]
    pub start: Start,
    /// A DynamoDB table (created if missing) holding one lease per shard:
    /// owner, counter, checkpoint and parents, as the KCL keeps them.
    /// Processes with the same stream and table share the shards. Without
    /// it, one process reads every shard and checkpoints go to weir's own
    /// store.
    #[serde(default)]
    pub lease_table: Option<String>,
    /// The DynamoDB endpoint, if not AWS's (e.g. a local emulator).
    #[serde(default)]
    pub dynamodb_endpoint: Option<String>,
    /// This process's name in the lease table. Default: host name, process
    /// id and a random suffix. Must differ between processes.
    #[serde(default)]
    pub worker_id: Option<String>,
    /// How long a lease stays with a process that stops renewing it before
    /// another takes it over (default 10s). Leases are renewed three times
    /// per period.
    #[serde(default)]
    pub lease_duration: Option<ConfigDuration>,
    /// How often the shard list is read again to find new shards (default
    /// 10s; also at once when a shard ends).
    #[serde(default)]
    pub shard_sync_interval: Option<ConfigDuration>,
    /// Least time between two GetRecords calls on one shard (default 200ms:
    /// Kinesis allows five per second per shard, shared by all consumers).
    #[serde(default)]
    pub poll_interval: Option<ConfigDuration>,
    /// Wait after a GetRecords call that returned nothing (default 1s).
    #[serde(default)]
    pub idle_interval: Option<ConfigDuration>,
    /// Most records per GetRecords call, 1 to 10000 (default 10000).
    #[serde(default)]
    pub max_records: Option<i32>,
}

/// Options of a Kinesis sink, besides its [`Connection`].
///
/// ```toml
/// [sinks.enriched]
/// type = "kinesis"
/// stream = "vehicle-telemetry-enriched"
/// partition_key_field = "vehicle_id"   # else the record's key
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkOptions {
    /// A top-level field of each record's JSON value to use as partition
    /// key. Default: the record's key. Records with neither get a key made
    /// from a hash of their value.
    #[serde(default)]
    pub partition_key_field: Option<String>,
    /// How long records refused for throughput (or a failed call) are
    /// retried, with backoff, before the write reports them failed to the
    /// pipeline's error policy (default 30s).
    #[serde(default)]
    pub max_retry_time: Option<ConfigDuration>,
}

/// Checked, defaulted source settings.
#[derive(Debug, Clone)]
pub(crate) struct SourceSettings {
    pub(crate) lease_duration: Duration,
    pub(crate) shard_sync_interval: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) idle_interval: Duration,
    pub(crate) max_records: i32,
}

fn or(d: Option<ConfigDuration>, default_ms: u64) -> Duration {
    d.map_or(Duration::from_millis(default_ms), |d| d.0)
}

impl Connection {
    /// Checks the stream name or ARN and the endpoint URL.
    pub fn check(&self) -> Result<(), String> {
        let s = self.stream.trim();
        if s.is_empty() {
            return Err("`stream` must not be empty".into());
        }
        if let Some(rest) = s.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let ok = parts.len() == 5
                && parts[1] == "kinesis"
                && !parts[2].is_empty()
                && parts[4]
                    .strip_prefix("stream/")
                    .is_some_and(|n| !n.is_empty());
            if !ok {
                return Err(format!(
                    "stream `{s}`: not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)"
                ));
            }
        } else if s.len() > 128
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(format!(
                "stream `{s}`: a stream name is 1 to 128 letters, digits, `_`, `.` or `-`"
            ));
        }
        if let Some(e) = &self.endpoint {
            check_endpoint("endpoint", e)?;
        }
        Ok(())
    }

    /// Whether `stream` is an ARN.
    pub fn is_arn(&self) -> bool {
        self.stream.starts_with("arn:")
    }

    /// The stream's name (the last part of an ARN).
    pub fn stream_name(&self) -> &str {
        self.stream
            .rsplit_once(":stream/")
            .map_or(self.stream.as_str(), |(_, n)| n)
    }

    /// The region: configured, else the ARN's.
    pub fn region(&self) -> Option<String> {
        self.region.clone().or_else(|| {
            self.is_arn()
                .then(|| self.stream.split(':').nth(3).map(str::to_string))
                .flatten()
        })
    }

    /// `stream X at ENDPOINT` (or `in region R`) for messages.
    pub fn describe(&self) -> String {
        match (&self.endpoint, self.region()) {
            (Some(e), _) => format!("kinesis stream {} at {e}", self.stream_name()),
            (None, Some(r)) => format!("kinesis stream {} in {r}", self.stream_name()),
            (None, None) => format!("kinesis stream {}", self.stream_name()),
        }
    }
}

fn check_endpoint(what: &str, url: &str) -> Result<(), String> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url
            .split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{what}` `{url}`: expected a URL such as http://127.0.0.1:4567 or https://kinesis.eu-west-1.amazonaws.com"
        ))
    }
}

impl SourceOptions {
    /// Checks every option and fills in the defaults.
    pub(crate) fn settings(&self) -> Result<SourceSettings, String> {
        if let Some(t) = &self.lease_table {
            let ok = (3..=255).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            if !ok {
                return Err(format!(
                    "lease_table `{t}`: a DynamoDB table name is 3 to 255 letters, digits, `_`, `.` or `-`"
                ));
            }
        } else if self.dynamodb_endpoint.is_some() || self.worker_id.is_some() {
            return Err(
                "`dynamodb_endpoint` and `worker_id` need `lease_table` (leases are only kept in DynamoDB)"
                    .into(),
            );
        }
        if let Some(e) = &self.dynamodb_endpoint {
            check_endpoint("dynamodb_endpoint", e)?;
        }
        if let Some(w) = &self.worker_id
            && w.trim().is_empty()
        {
            return Err("`worker_id` must not be empty".into());
        }
        let max_records = self.max_records.unwrap_or(10_000);
        if !(1..=10_000).contains(&max_records) {
            return Err(format!(
                "max_records {max_records}: GetRecords takes 1 to 10000 records"
            ));
        }
        let settings = SourceSettings {
            lease_duration: or(self.lease_duration, 10_000),
            shard_sync_interval: or(self.shard_sync_interval, 10_000),
            poll_interval: or(self.poll_interval, 200),
            idle_interval: or(self.idle_interval, 1_000),
            max_records,
        };
        if settings.lease_duration < Duration::from_millis(300) {
            return Err("lease_duration must be at least 300ms".into());
        }
        if settings.shard_sync_interval < Duration::from_millis(100) {
            return Err("shard_sync_interval must be at least 100ms".into());
        }
        Ok(settings)
    }
}

impl SinkOptions {
    /// Checks every option.
    pub fn check(&self) -> Result<(), String> {
        if let Some(f) = &self.partition_key_field
            && f.is_empty()
        {
            return Err("`partition_key_field` must not be empty".into());
        }
        Ok(())
    }

    /// How long failed records are retried inside the sink.
    pub(crate) fn retry_time(&self) -> Duration {
        or(self.max_retry_time, 30_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(extra: &str) -> Result<SourceOptions, String> {
        let table: toml::Table = toml::from_str(&format!("stream = \"s\"\n{extra}"))
            .map_err(|e| e.message().to_string())?;
        let (connection, options) = split_options::<SourceOptions>(&table)?;
        connection.check()?;
        Ok(options)
    }

    #[test]
    fn starts_parse() -> Result<(), String> {
        assert_eq!(source("")?.start, Start::TrimHorizon);
        assert_eq!(source("start = \"LATEST\"")?.start, Start::Latest);
        assert_eq!(source("start = 1000")?.start, Start::AtTimestamp(1000));
        assert!(source("start = \"oldest\"").is_err_and(|e| e.contains("trim_horizon")));
        assert!(source("start = -1").is_err());
        Ok(())
    }

    #[test]
    fn arns_give_name_and_region() {
        let c = Connection {
            stream: "arn:aws:kinesis:eu-west-1:123456789012:stream/cars".into(),
            ..Connection::default()
        };
        assert!(c.check().is_ok());
        assert_eq!(c.stream_name(), "cars");
        assert_eq!(c.region().as_deref(), Some("eu-west-1"));
        let bad = Connection {
            stream: "arn:aws:s3:::bucket".into(),
            ..Connection::default()
        };
        assert!(bad.check().is_err_and(|e| e.contains("ARN")));
    }

    #[test]
    fn bad_options_are_named() -> Result<(), String> {
        let e = |extra: &str| source(extra).and_then(|o| o.settings().map(drop)).err();
        assert!(e("stream2 = 1").is_some_and(|m| m.contains("stream2")));
        assert!(e("max_records = 0").is_some_and(|m| m.contains("max_records")));
        assert!(e("worker_id = \"w\"").is_some_and(|m| m.contains("lease_table")));
        assert!(e("lease_table = \"x\"").is_some_and(|m| m.contains("lease_table `x`")));
        assert!(e("endpoint = \"localhost:1\"").is_some_and(|m| m.contains("endpoint")));
        assert!(e("lease_duration = \"1ms\"").is_some_and(|m| m.contains("lease_duration")));
        let bad_name = Connection {
            stream: "a b".into(),
            ..Connection::default()
        };
        assert!(bad_name.check().is_err_and(|m| m.contains("`a b`")));
        Ok(())
    }
}
