//! Kafka end to end, against the real broker the test command starts
//! (`WEIR_KAFKA_BROKERS`): `weir produce` loads topics, `weir run`
//! processes them, and the tests read the output topics back.

mod common;

mod dead_letters;
mod flow;
mod group;
mod metrics;
mod start;
mod unreachable;
