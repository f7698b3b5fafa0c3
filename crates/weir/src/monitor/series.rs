//! The series a pipeline's monitor samples: what each measures, its unit,
//! and what it belongs to (the pipeline, a stage or a sink).

use std::fmt;

/// A measure the monitor samples once per period. Rates are per second
/// over the period; latencies are percentiles of what completed in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Measure {
    /// Records read from the source per second.
    RecordsIn,
    /// Records that reached the end of the stages per second.
    RecordsOut,
    /// Records the sinks acknowledged per second (all sinks but the
    /// failure destination).
    Written,
    /// Records skipped by the filter patterns or dropped by filter stages
    /// per second.
    Filtered,
    /// Records that failed in a stage per second.
    Failed,
    /// Records written to the failure destination per second.
    DeadLetters,
    /// Failed records over records read in the period (0 to 1).
    ErrorRatio,
    /// Record bytes read and not yet written.
    InFlightBytes,
    /// Kafka consumer lag summed over the pipeline's partitions, in
    /// records.
    Lag,
    /// The largest Kinesis iterator age of the pipeline's shards, in ms.
    IteratorAge,
    /// Median plugin call latency of a stage, in seconds.
    LatencyP50,
    /// 99th percentile plugin call latency of a stage, in seconds.
    LatencyP99,
    /// 99th percentile write latency of a sink, in seconds.
    WriteP99,
}

/// What a measure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole pipeline.
    Pipeline,
    /// One stage (name it with `stage`).
    Stage,
    /// One sink (name it with `sink`).
    Sink,
}

impl Measure {
    /// Every measure.
    pub const ALL: [Measure; 13] = [
        Measure::RecordsIn,
        Measure::RecordsOut,
        Measure::Written,
        Measure::Filtered,
        Measure::Failed,
        Measure::DeadLetters,
        Measure::ErrorRatio,
        Measure::InFlightBytes,
        Measure::Lag,
        Measure::IteratorAge,
        Measure::LatencyP50,
        Measure::LatencyP99,
        Measure::WriteP99,
    ];

    /// Its name, as in `[[alarms]] metric = "…"` and the admin API.
    pub fn name(self) -> &'static str {
        match self {
            Measure::RecordsIn => "records_in",
            Measure::RecordsOut => "records_out",
            Measure::Written => "written",
            Measure::Filtered => "filtered",
            Measure::Failed => "failed",
            Measure::DeadLetters => "dead_letters",
            Measure::ErrorRatio => "error_ratio",
            Measure::InFlightBytes => "in_flight_bytes",
            Measure::Lag => "lag",
            Measure::IteratorAge => "iterator_age",
            Measure::LatencyP50 => "latency_p50",
            Measure::LatencyP99 => "latency_p99",
            Measure::WriteP99 => "write_p99",
        }
    }

    /// The measure called `name`.
    pub fn from_name(name: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Its unit.
    pub fn unit(self) -> &'static str {
        match self {
            Measure::RecordsIn
            | Measure::RecordsOut
            | Measure::Written
            | Measure::Filtered
            | Measure::Failed
            | Measure::DeadLetters => "records/s",
            Measure::ErrorRatio => "ratio",
            Measure::InFlightBytes => "bytes",
            Measure::Lag => "records",
            Measure::IteratorAge => "ms",
            Measure::LatencyP50 | Measure::LatencyP99 | Measure::WriteP99 => "s",
        }
    }

    /// What it belongs to.
    pub fn scope(self) -> Scope {
        match self {
            Measure::LatencyP50 | Measure::LatencyP99 => Scope::Stage,
            Measure::WriteP99 => Scope::Sink,
            _ => Scope::Pipeline,
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One sampled series: a measure of the pipeline, of a stage or of a sink.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// What is measured.
    pub measure: Measure,
    /// The stage, for stage measures.
    pub stage: Option<String>,
    /// The sink, for sink measures.
    pub sink: Option<String>,
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.measure)?;
        if let Some(s) = &self.stage {
            write!(f, " of stage `{s}`")?;
        }
        if let Some(s) = &self.sink {
            write!(f, " of sink `{s}`")?;
        }
        Ok(())
    }
}
