//! The `[source]` and `[sinks.<name>]` options of `type = "kafka"`, and the
//! librdkafka client configuration made from them.

use std::collections::BTreeMap;

use rdkafka::ClientConfig;
use serde::Deserialize;
use weir::pipeline::ConfigDuration;

/// One name or a list of names: `topics = "a"` or `topics = ["a", "b"]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single name.
    One(String),
    /// Several names.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The names, in order.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Where a consumer group with no committed offset for a partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Start {
    /// The oldest record still in the partition (`start = "earliest"`).
    #[default]
    Earliest,
    /// Only records produced after the group joined (`start = "latest"`).
    Latest,
    /// The first record at or after this time, in milliseconds since the
    /// Unix epoch (`start = 1767225600000`).
    Timestamp(i64),
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
            Raw::Name(n) if n == "earliest" => Ok(Start::Earliest),
            Raw::Name(n) if n == "latest" => Ok(Start::Latest),
            Raw::Name(n) => Err(serde::de::Error::custom(format!(
                "start `{n}`: expected \"earliest\", \"latest\" or a time in milliseconds since the Unix epoch"
            ))),
            Raw::Millis(ms) if ms >= 0 => Ok(Start::Timestamp(ms)),
            Raw::Millis(ms) => Err(serde::de::Error::custom(format!(
                "start {ms}: a timestamp must not be negative"
            ))),
        }
    }
}

/// Options of a Kafka source.
///
/// ```toml
/// [source]
/// type = "kafka"
/// brokers = "127.0.0.1:9092"
/// topics = ["transactions"]
/// group = "fraud-detection"
/// start = "earliest"            # or "latest", or milliseconds since the epoch
/// [source.properties]           # any librdkafka consumer property
/// "security.protocol" = "SASL_SSL"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceOptions {
    /// Bootstrap servers, `host:port` separated by commas.
    pub brokers: String,
    /// The topics to read.
    pub topics: OneOrMany,
    /// The consumer group id. Required and meant to stay the same: a
    /// pipeline started again with the same group resumes at its committed
    /// offsets, and processes with the same group share the partitions.
    pub group: String,
    /// Where the group starts in a partition it has no offset for.
    #[serde(default)]
    pub start: Start,
    /// How often acknowledged offsets are committed to the group
    /// (default 1s). Offsets are also committed when partitions are revoked
    /// and when the pipeline stops.
    #[serde(default)]
    pub commit_interval: Option<ConfigDuration>,
    /// librdkafka consumer properties, passed through as they are.
    #[serde(default)]
    pub properties: BTreeMap<String, toml::Value>,
}

/// Options of a Kafka sink.
///
/// ```toml
/// [sinks.alerts]
/// type = "kafka"
/// brokers = "127.0.0.1:9092"
/// topic = "fraud-alerts"        # and/or topic_field = "category"
/// [sinks.alerts.properties]     # any librdkafka producer property
/// "linger.ms" = 10
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkOptions {
    /// Bootstrap servers, `host:port` separated by commas.
    pub brokers: String,
    /// The topic to write to; with `topic_field`, the topic for records
    /// that lack that field.
    #[serde(default)]
    pub topic: Option<String>,
    /// A top-level string field of each record's JSON value naming its
    /// topic.
    #[serde(default)]
    pub topic_field: Option<String>,
    /// librdkafka producer properties, passed through as they are.
    #[serde(default)]
    pub properties: BTreeMap<String, toml::Value>,
}

/// The source's default `fetch.queue.backoff.ms` (librdkafka's is 1000);
/// a `properties` entry overrides it.
pub const FETCH_QUEUE_BACKOFF_MS: &str = "10";

/// Properties weir sets itself; a `properties` table may not change them.
const SOURCE_OWNED: &[(&str, &str)] = &[
    ("bootstrap.servers", "use `brokers`"),
    ("group.id", "use `group`"),
    (
        "enable.auto.offset.store",
        "weir stores only acknowledged offsets",
    ),
    ("auto.offset.reset", "use `start`"),
];
const SINK_OWNED: &[(&str, &str)] = &[
    ("bootstrap.servers", "use `brokers`"),
    ("enable.idempotence", "weir's producer is always idempotent"),
    (
        "acks",
        "weir's producer always waits for all in-sync replicas",
    ),
    (
        "request.required.acks",
        "weir's producer always waits for all in-sync replicas",
    ),
];

fn property_text(name: &str, v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        _ => Err(format!(
            "properties.\"{name}\": expected a string, number or boolean"
        )),
    }
}

/// Fills `config` from `properties`, refusing the ones weir owns.
fn apply_properties(
    config: &mut ClientConfig,
    properties: &BTreeMap<String, toml::Value>,
    owned: &[(&str, &str)],
) -> Result<(), String> {
    for (name, value) in properties {
        if let Some((_, why)) = owned.iter().find(|(n, _)| n == name) {
            return Err(format!("properties.\"{name}\" is set by weir: {why}"));
        }
        config.set(name, property_text(name, value)?);
    }
    Ok(())
}

/// Asks librdkafka to check every property (names and values), without
/// connecting to anything.
fn checked(config: ClientConfig) -> Result<ClientConfig, String> {
    config
        .create_native_config()
        .map_err(|e| format!("librdkafka refused the configuration: {e}"))?;
    Ok(config)
}

fn non_empty(what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("`{what}` must not be empty"));
    }
    Ok(())
}

impl SourceOptions {
    /// The topics, checked to be valid Kafka topic names.
    pub fn topic_list(&self) -> Result<Vec<String>, String> {
        let topics = self.topics.to_vec();
        if topics.is_empty() {
            return Err("`topics` must name at least one topic".into());
        }
        for t in &topics {
            check_topic_name(t)?;
        }
        Ok(topics)
    }

    /// The consumer's librdkafka configuration.
    pub fn client_config(&self) -> Result<ClientConfig, String> {
        non_empty("brokers", &self.brokers)?;
        non_empty("group", &self.group)?;
        self.topic_list()?;
        let interval = self.commit_interval.map_or(1000, |d| d.as_millis().max(1));
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            .set("group.id", &self.group)
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", interval.to_string())
            .set("enable.auto.offset.store", "false")
            .set("statistics.interval.ms", "5000")
            // librdkafka stops fetching a partition whose local queue holds
            // more than `queued.min.messages` and looks again only after
            // this long (1 s by default): a reader faster than one fetch
            // then idles most of each second (a 6-partition topic was read
            // at 160k records/s with 1 s, 650k with 10 ms). weir bounds
            // what it holds itself (`max_in_flight_mb`).
            .set("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS)
            .set(
                "auto.offset.reset",
                match self.start {
                    Start::Earliest => "earliest",
                    // A timestamp start positions partitions explicitly;
                    // past the newest record it means "latest".
                    Start::Latest | Start::Timestamp(_) => "latest",
                },
            );
        apply_properties(&mut c, &self.properties, SOURCE_OWNED)?;
        checked(c)
    }
}

impl SinkOptions {
    /// The producer's librdkafka configuration.
    pub fn client_config(&self) -> Result<ClientConfig, String> {
        non_empty("brokers", &self.brokers)?;
        match (&self.topic, &self.topic_field) {
            (None, None) => return Err("set `topic`, `topic_field` or both".into()),
            (Some(t), _) => check_topic_name(t)?,
            (None, Some(f)) => non_empty("topic_field", f)?,
        }
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // The partitioner of the Java client, so keys land where other
            // producers put them.
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "5")
            .set("statistics.interval.ms", "0");
        apply_properties(&mut c, &self.properties, SINK_OWNED)?;
        checked(c)
    }
}

/// Kafka's rule for topic names: 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn check_topic_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid topic name (1 to 249 of letters, digits, `.`, `_`, `-`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(extra: &str) -> Result<SourceOptions, String> {
        let text = format!("brokers = \"127.0.0.1:9092\"\ntopics = \"t\"\ngroup = \"g\"\n{extra}");
        toml::from_str(&text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn start_accepts_names_and_millis() {
        assert_eq!(source("").map(|s| s.start), Ok(Start::Earliest));
        assert_eq!(
            source("start = \"latest\"").map(|s| s.start),
            Ok(Start::Latest)
        );
        assert_eq!(
            source("start = 1700000000000").map(|s| s.start),
            Ok(Start::Timestamp(1_700_000_000_000))
        );
        let bad = source("start = \"oldest\"").map(|s| s.start);
        assert!(bad.is_err_and(|e| e.contains("start `oldest`")));
    }

    #[test]
    fn properties_pass_through_and_are_checked() {
        let ok = source("[properties]\n\"fetch.min.bytes\" = 1000\n\"check.crcs\" = true");
        assert!(ok.and_then(|s| s.client_config()).is_ok());
        let unknown = source("[properties]\n\"no.such.property\" = 1");
        let e = unknown
            .and_then(|s| s.client_config())
            .err()
            .unwrap_or_default();
        assert!(e.contains("no.such.property"), "{e}");
        let owned = source("[properties]\n\"group.id\" = \"x\"");
        let e = owned
            .and_then(|s| s.client_config())
            .err()
            .unwrap_or_default();
        assert!(e.contains("use `group`"), "{e}");
    }

    #[test]
    fn the_fetch_queue_backoff_is_short_unless_set() -> Result<(), String> {
        let default = source("")?.client_config()?;
        assert_eq!(
            default.get("fetch.queue.backoff.ms"),
            Some(FETCH_QUEUE_BACKOFF_MS)
        );
        let set = source("[properties]\n\"fetch.queue.backoff.ms\" = 500")?.client_config()?;
        assert_eq!(set.get("fetch.queue.backoff.ms"), Some("500"));
        Ok(())
    }

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(check_topic_name("fraud-alerts.v1_2").is_ok());
        for bad in ["", ".", "..", "a/b", "a b", &"x".repeat(250)] {
            assert!(check_topic_name(bad).is_err(), "{bad}");
        }
    }
}
