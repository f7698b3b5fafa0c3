//! The names of the metrics weir records, as they appear in the exposition.
//!
//! Every series of a pipeline carries the label `pipeline`; stage series add
//! `stage`, sink series add `sink`. Counters end in `_total`; histograms
//! are exposed as `_bucket`, `_count` and `_sum` series. Every family has
//! its `# HELP` and `# TYPE` lines.
//!
//! | Name | Type | Labels | What |
//! |---|---|---|---|
//! | `weir_records_in_total` | counter | pipeline | records read from the source |
//! | `weir_records_filtered_total` | counter | pipeline | records the filter patterns skipped |
//! | `weir_records_out_total` | counter | pipeline | records that reached the end of the stages |
//! | `weir_records_scored_total` | counter | pipeline | of those, records with a score |
//! | `weir_records_expired_total` | counter | pipeline | records older than `max_record_age`, sent to the failure destination |
//! | `weir_dead_letter_records_total` | counter | pipeline | records written to the failure destination |
//! | `weir_batches_total` | counter | pipeline | batches read from the source |
//! | `weir_batch_records` | histogram | pipeline | batch size in records |
//! | `weir_in_flight_bytes` | gauge | pipeline | record bytes read and not yet written (bounded by `max_in_flight_mb`) |
//! | `weir_stage_records_out_total` | counter | pipeline, stage | records a stage emitted |
//! | `weir_stage_records_dropped_total` | counter | pipeline, stage | records a filter stage dropped |
//! | `weir_stage_records_failed_total` | counter | pipeline, stage | records that failed in a stage |
//! | `weir_stage_traps_total` | counter | pipeline, stage | plugin calls that failed (trap, deadline, error) |
//! | `weir_stage_retries_total` | counter | pipeline, stage | retries of failed plugin calls |
//! | `weir_stage_splits_total` | counter | pipeline, stage | failed batches split to isolate failing records |
//! | `weir_stage_call_seconds` | histogram | pipeline, stage | plugin call latency |
//! | `weir_stage_plugin_info` | gauge | pipeline, stage, plugin, version, digest | the plugin version a stage serves (always 1) |
//! | `weir_stage_reloads_total` | counter | pipeline, stage | plugin versions swapped in (reloads, rollbacks) |
//! | `weir_stage_reloads_refused_total` | counter | pipeline, stage | reloads refused; the serving version kept serving |
//! | `weir_stage_shadow_records_total` | counter | pipeline, stage | records a shadow candidate ran on |
//! | `weir_stage_shadow_differing_total` | counter | pipeline, stage | records on which the candidate's outcome differed |
//! | `weir_windows_closed_total` | counter | pipeline, stage | windows an aggregator stage closed |
//! | `weir_sink_records_total` | counter | pipeline, sink | records a sink acknowledged |
//! | `weir_sink_retries_total` | counter | pipeline, sink | retries of failed sink writes |
//! | `weir_sink_write_seconds` | histogram | pipeline, sink | sink write latency (one batch, retries included) |
//! | `weir_alarm_raised` | gauge | pipeline, alarm | 1 while an alarm is raised, else 0 |
//! | `weir_alarm_raised_total` | counter | pipeline, alarm | times an alarm was raised |
//! | `weir_alarm_notifications_failed_total` | counter | pipeline, alarm | alarm notifications not written to their sinks |
//! | `weir_kafka_consumer_lag` | gauge | pipeline, topic, partition | Kafka consumer lag, from the client statistics |
//! | `weir_kinesis_iterator_age_ms` | gauge | pipeline, stream, shard | how far a shard's reader is behind its tip |
//! | `weir_kinesis_throttled_total` | counter | pipeline, stream, operation | Kinesis calls refused for throughput |
//! | `weir_kinesis_leases_held` | gauge | pipeline, stream | shard leases this process holds |
//! | `weir_plugin_metric_series_dropped_total` | counter | plugin | plugin metric updates past `limits.metric_series` |
//! | `weir_plugin_*` | any | plugin | the metrics plugins report |
//! | `weir_process_cpu_seconds_total` | counter | | CPU time of the process (Linux) |
//! | `weir_process_resident_memory_bytes` | gauge | | resident memory of the process (Linux) |
//!
//! The Kafka and Kinesis names are reported by `weir-kafka` and
//! `weir-kinesis` (which re-export them) when their connectors run.

/// Records read from the source (counter).
pub const RECORDS_IN: &str = "weir_records_in_total";
/// Records skipped by the filter patterns (counter).
pub const RECORDS_FILTERED: &str = "weir_records_filtered_total";
/// Records that reached the end of the stage chain (counter).
pub const RECORDS_OUT: &str = "weir_records_out_total";
/// Of the records out, those with a score (counter).
pub const RECORDS_SCORED: &str = "weir_records_scored_total";
/// Records older than `max_record_age`, sent to the failure destination
/// unprocessed (counter).
pub const RECORDS_EXPIRED: &str = "weir_records_expired_total";
/// Batches read from the source (counter).
pub const BATCHES: &str = "weir_batches_total";
/// Record bytes read and not yet written by every sink, bounded by
/// `max_in_flight_mb` (gauge).
pub const IN_FLIGHT_BYTES: &str = "weir_in_flight_bytes";
/// Batches read, by size in records (histogram).
pub const BATCH_RECORDS: &str = "weir_batch_records";
/// Records dropped by a filter stage (counter; label `stage`).
pub const RECORDS_DROPPED: &str = "weir_stage_records_dropped_total";
/// Records a stage emitted (counter; label `stage`).
pub const STAGE_RECORDS_OUT: &str = "weir_stage_records_out_total";
/// Records that failed in a stage (counter; label `stage`).
pub const STAGE_RECORDS_FAILED: &str = "weir_stage_records_failed_total";
/// Plugin calls that failed: traps, deadlines, errors (counter; label `stage`).
pub const STAGE_TRAPS: &str = "weir_stage_traps_total";
/// Retries of failed plugin calls (counter; label `stage`).
pub const STAGE_RETRIES: &str = "weir_stage_retries_total";
/// Failed batches split in two to isolate failing records (counter; label
/// `stage`).
pub const STAGE_SPLITS: &str = "weir_stage_splits_total";
/// Plugin call latency in seconds (histogram; label `stage`).
pub const STAGE_CALL_SECONDS: &str = "weir_stage_call_seconds";
/// Plugin versions swapped into a stage by a reload or a rollback
/// (counter; label `stage`).
pub const STAGE_RELOADS: &str = "weir_stage_reloads_total";
/// Reloads a stage refused (wrong kind, failed `init`): the serving version
/// kept serving (counter; label `stage`).
pub const STAGE_RELOADS_REFUSED: &str = "weir_stage_reloads_refused_total";
/// Records a shadow candidate ran on beside the serving version (counter;
/// label `stage`).
pub const STAGE_SHADOW_RECORDS: &str = "weir_stage_shadow_records_total";
/// Records on which a shadow candidate's outcome differed from the serving
/// version's (counter; label `stage`).
pub const STAGE_SHADOW_DIFFERING: &str = "weir_stage_shadow_differing_total";
/// Windows closed by an aggregator stage (counter; label `stage`).
pub const WINDOWS_CLOSED: &str = "weir_windows_closed_total";
/// Sink write latency in seconds: one write of a batch's records to one
/// sink, from the call to its acknowledgement, retries included (histogram;
/// label `sink`).
pub const SINK_WRITE_SECONDS: &str = "weir_sink_write_seconds";
/// The plugin version a stage serves: always 1, with labels `stage`,
/// `plugin`, `version` (counting from 1 for the first version loaded) and
/// `digest` (gauge; a swap replaces the series).
pub const STAGE_PLUGIN_INFO: &str = "weir_stage_plugin_info";
/// Whether an alarm is raised: 1 raised, 0 not (gauge; label `alarm`).
pub const ALARM_RAISED: &str = "weir_alarm_raised";
/// Times an alarm was raised (counter; label `alarm`).
pub const ALARMS_RAISED: &str = "weir_alarm_raised_total";
/// Alarm notifications that could not be written to the alarm's sinks
/// (counter; label `alarm`).
pub const ALARM_NOTIFICATIONS_FAILED: &str = "weir_alarm_notifications_failed_total";
/// Kafka consumer lag per partition: the partition's end offset minus the
/// group's committed offset (gauge; labels `topic`, `partition`; reported
/// by weir-kafka from the client statistics).
pub const KAFKA_CONSUMER_LAG: &str = "weir_kafka_consumer_lag";
/// How far a Kinesis shard's reader is behind the tip of its shard, in
/// milliseconds (gauge; labels `stream`, `shard`; reported by
/// weir-kinesis).
pub const KINESIS_ITERATOR_AGE: &str = "weir_kinesis_iterator_age_ms";
/// Kinesis calls refused for throughput (counter; labels `stream`,
/// `operation`; reported by weir-kinesis).
pub const KINESIS_THROTTLED: &str = "weir_kinesis_throttled_total";
/// Shard leases this process holds (gauge; label `stream`; reported by
/// weir-kinesis).
pub const KINESIS_LEASES_HELD: &str = "weir_kinesis_leases_held";
/// CPU time (user and system) of the process, in seconds (counter; no
/// labels; Linux only).
pub const PROCESS_CPU_SECONDS: &str = "weir_process_cpu_seconds_total";
/// Resident memory of the process, in bytes (gauge; no labels; Linux only).
pub const PROCESS_RESIDENT_BYTES: &str = "weir_process_resident_memory_bytes";
/// Records a sink acknowledged (counter; label `sink`).
pub const SINK_RECORDS: &str = "weir_sink_records_total";
/// Retries of failed sink writes (counter; label `sink`).
pub const SINK_RETRIES: &str = "weir_sink_retries_total";
/// Records written to the failure destination (counter).
pub const DEAD_LETTERS: &str = "weir_dead_letter_records_total";
/// The prefix of the metrics plugins report; their series carry the label
/// `plugin`.
pub const PLUGIN_PREFIX: &str = "weir_plugin_";
/// Plugin metric updates dropped: a new name past the plugin's
/// `limits.metric_series`, or a name longer than
/// [`MAX_PLUGIN_METRIC_NAME`] (counter; label `plugin`).
pub const PLUGIN_SERIES_DROPPED: &str = "weir_plugin_metric_series_dropped_total";
/// The longest metric name a plugin may use, in bytes.
pub const MAX_PLUGIN_METRIC_NAME: usize = 128;

/// Every family name weir itself may export (plugin metrics aside; the
/// connectors' names included), as in the table above.
pub const ALL: &[&str] = &[
    RECORDS_IN,
    RECORDS_FILTERED,
    RECORDS_OUT,
    RECORDS_SCORED,
    RECORDS_EXPIRED,
    DEAD_LETTERS,
    BATCHES,
    BATCH_RECORDS,
    IN_FLIGHT_BYTES,
    STAGE_RECORDS_OUT,
    RECORDS_DROPPED,
    STAGE_RECORDS_FAILED,
    STAGE_TRAPS,
    STAGE_RETRIES,
    STAGE_SPLITS,
    STAGE_CALL_SECONDS,
    STAGE_PLUGIN_INFO,
    STAGE_RELOADS,
    STAGE_RELOADS_REFUSED,
    STAGE_SHADOW_RECORDS,
    STAGE_SHADOW_DIFFERING,
    WINDOWS_CLOSED,
    SINK_RECORDS,
    SINK_RETRIES,
    SINK_WRITE_SECONDS,
    ALARM_RAISED,
    ALARMS_RAISED,
    ALARM_NOTIFICATIONS_FAILED,
    KAFKA_CONSUMER_LAG,
    KINESIS_ITERATOR_AGE,
    KINESIS_THROTTLED,
    KINESIS_LEASES_HELD,
    PLUGIN_SERIES_DROPPED,
    PROCESS_CPU_SECONDS,
    PROCESS_RESIDENT_BYTES,
];
