//! Creating topics (for `weir produce --partitions` and for tests).

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;

/// An error of a topic administration call.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The admin client could not be created (bad broker list or property).
    #[error("creating a Kafka admin client for {brokers}: {source}")]
    Client {
        /// The bootstrap servers.
        brokers: String,
        /// librdkafka's error.
        source: rdkafka::error::KafkaError,
    },
    /// The request failed or timed out (e.g. no broker reachable).
    #[error("creating topic `{topic}` at {brokers}: {message}")]
    Create {
        /// The topic.
        topic: String,
        /// The bootstrap servers.
        brokers: String,
        /// What went wrong.
        message: String,
    },
}

/// Creates `topic` with `partitions` partitions (replication factor 1 when
/// `replication` is `None`, else that factor) unless it exists. Returns
/// whether it was created.
pub async fn ensure_topic(
    brokers: &str,
    topic: &str,
    partitions: i32,
    replication: Option<i32>,
) -> Result<bool, AdminError> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .map_err(|source| AdminError::Client {
            brokers: brokers.to_string(),
            source,
        })?;
    let fail = |message: String| AdminError::Create {
        topic: topic.to_string(),
        brokers: brokers.to_string(),
        message,
    };
    let new = NewTopic::new(
        topic,
        partitions,
        TopicReplication::Fixed(replication.unwrap_or(1)),
    );
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics([&new], &options)
        .await
        .map_err(|e| fail(e.to_string()))?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(true),
        Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(false),
        Some(Err((_, code))) => Err(fail(code.to_string())),
        None => Err(fail("no result from the broker".into())),
    }
}
