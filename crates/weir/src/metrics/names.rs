//! The names of the metrics weir records, as they appear in the exposition.
//!
//! Every series of a pipeline carries the label `pipeline`; stage series add
//! `stage`, sink series add `sink`. Counters end in `_total`; histograms
//! are exposed as `_bucket`, `_count` and `_sum` series.

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
