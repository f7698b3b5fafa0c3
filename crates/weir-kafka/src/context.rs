//! The librdkafka client context shared by the source and the sink:
//! librdkafka's logs and errors in weir's log (naming the bootstrap
//! servers when they cannot be reached), and consumer lag from the client
//! statistics as a metric.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::statistics::Statistics;
use weir::metrics::Metrics;

use crate::assign::Assignments;
use crate::delivery::Writes;

/// Consumer lag per partition: the partition's high watermark minus the
/// group's committed offset (`topic`, `partition` labels).
pub const CONSUMER_LAG: &str = weir::metrics::names::KAFKA_CONSUMER_LAG;
const CONSUMER_LAG_HELP: &str = "Messages between the committed offset and the partition's end.";

/// How often the same kind of connection warning is repeated.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// What every weir Kafka client carries.
pub(crate) struct WeirContext {
    /// `kafka source …` or `kafka sink …`, for log lines.
    pub(crate) role: String,
    /// The bootstrap servers, named in connection errors.
    pub(crate) brokers: String,
    pub(crate) metrics: Metrics,
    last_warning: Mutex<Option<Instant>>,
    /// The consumer's partitions (sources only).
    pub(crate) assignments: Option<Assignments>,
    /// The writes in flight (sinks only).
    pub(crate) writes: Writes,
}

impl WeirContext {
    /// A context for a client described by `role`.
    pub(crate) fn new(
        role: String,
        brokers: String,
        metrics: Metrics,
        assignments: Option<Assignments>,
    ) -> Self {
        WeirContext {
            role,
            brokers,
            metrics,
            last_warning: Mutex::new(None),
            assignments,
            writes: Writes::default(),
        }
    }

    /// Whether a repeated warning is due (at most one per [`WARN_EVERY`]).
    pub(crate) fn warning_due(&self) -> bool {
        let Ok(mut last) = self.last_warning.lock() else {
            return true;
        };
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < WARN_EVERY) {
            return false;
        }
        *last = Some(now);
        true
    }
}

/// Errors that mean the brokers cannot be reached (yet); librdkafka keeps
/// reconnecting on its own.
fn is_connection_error(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::Resolve
                | RDKafkaErrorCode::OperationTimedOut
        )
    )
}

impl ClientContext for WeirContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(client = %self.role, facility, "librdkafka: {message}");
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(client = %self.role, facility, "librdkafka: {message}");
            }
            _ => tracing::debug!(client = %self.role, facility, "librdkafka: {message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if is_connection_error(&error) {
            if self.warning_due() {
                tracing::warn!(client = %self.role, brokers = %self.brokers, "cannot reach the Kafka bootstrap servers {}: {reason}; retrying", self.brokers);
            }
        } else {
            tracing::error!(client = %self.role, brokers = %self.brokers, "Kafka client error: {error}: {reason}");
        }
    }

    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                // -1 is librdkafka's internal "unassigned" partition; a
                // negative lag means unknown.
                if *partition < 0 || !p.desired || p.consumer_lag < 0 {
                    continue;
                }
                let partition = partition.to_string();
                self.metrics
                    .gauge(
                        CONSUMER_LAG,
                        CONSUMER_LAG_HELP,
                        &[("topic", topic), ("partition", &partition)],
                    )
                    .set(p.consumer_lag as f64);
            }
        }
    }
}
