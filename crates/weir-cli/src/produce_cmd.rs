//! `weir produce`: load a Kafka topic with generated records or JSON lines.
//!
//! It runs a pipeline with no stages: the generator (or a file, or stdin)
//! as source and a Kafka sink, so records are keyed and partitioned exactly
//! as `weir run` would write them.

use std::path::PathBuf;

use anyhow::Context as _;
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig};
use weir::plugin::EngineConfig;

/// Options of `weir produce`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProduceArgs {
    /// Bootstrap servers, `host:port` separated by commas.
    #[arg(long, env = "WEIR_KAFKA_BROKERS")]
    brokers: String,
    /// The topic to write.
    #[arg(long)]
    topic: String,
    /// Create the topic with this many partitions if it does not exist.
    #[arg(long)]
    partitions: Option<i32>,
    /// Generate records of this workload: transactions, telemetry or race.
    #[arg(long, conflicts_with = "input")]
    workload: Option<String>,
    /// How many records to generate.
    #[arg(long, default_value_t = 10_000)]
    count: u64,
    /// The generator's seed (the same seed gives the same records).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// JSON lines to send, one record per line (`-` for stdin), when no
    /// workload is given.
    #[arg(long)]
    input: Option<PathBuf>,
    /// With `--input`: the field of each line that becomes the record key.
    #[arg(long)]
    key_field: Option<String>,
}

fn source_table(args: &ProduceArgs) -> anyhow::Result<toml::Table> {
    let mut t = toml::Table::new();
    match (&args.workload, &args.input) {
        (Some(w), _) => {
            t.insert("type".into(), "generator".into());
            t.insert("workload".into(), w.as_str().into());
            t.insert("count".into(), i64::try_from(args.count)?.into());
            t.insert("seed".into(), i64::try_from(args.seed)?.into());
        }
        (None, Some(p)) if p.as_os_str() == "-" => {
            t.insert("type".into(), "stdin".into());
        }
        (None, Some(p)) => {
            let path = std::path::absolute(p)?;
            t.insert("type".into(), "file".into());
            t.insert("path".into(), path.display().to_string().into());
        }
        (None, None) => anyhow::bail!("give --workload or --input (`-` for stdin)"),
    }
    if let Some(k) = &args.key_field {
        anyhow::ensure!(args.input.is_some(), "--key-field goes with --input");
        t.insert("key_field".into(), k.as_str().into());
    }
    Ok(t)
}

pub(crate) async fn run(args: &ProduceArgs) -> anyhow::Result<()> {
    if let Some(n) = args.partitions {
        let created = weir_kafka::ensure_topic(&args.brokers, &args.topic, n, None).await?;
        if created {
            eprintln!("created topic {} with {n} partitions", args.topic);
        }
    }
    let data_dir = std::env::temp_dir().join(format!(
        "weir-produce-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let mut sink = toml::Table::new();
    sink.insert("type".into(), "kafka".into());
    sink.insert("brokers".into(), args.brokers.as_str().into());
    sink.insert("topic".into(), args.topic.as_str().into());
    let mut sinks = toml::Table::new();
    sinks.insert("kafka".into(), sink.into());
    let mut batch = toml::Table::new();
    batch.insert("max_records".into(), 2000.into());
    batch.insert("max_wait_ms".into(), 20.into());
    let mut config = toml::Table::new();
    config.insert("name".into(), "produce".into());
    config.insert("data_dir".into(), data_dir.display().to_string().into());
    config.insert("source".into(), source_table(args)?.into());
    config.insert("batch".into(), batch.into());
    config.insert("sinks".into(), sinks.into());
    let text = toml::to_string(&config)?;
    let config = PipelineConfig::from_str(&text, "weir produce", &std::env::current_dir()?)?;
    let engine = crate::engine::engine(EngineConfig::default())?;
    let pipeline = Pipeline::build(
        &config,
        &engine,
        &crate::run_cmd::registry(),
        Metrics::new(),
    )?;
    let summary = pipeline
        .run(crate::shutdown_signal())
        .await
        .context("producing failed")?;
    let written = summary.written.get("kafka").copied().unwrap_or(0);
    println!(
        "produced {written} records to {} in {:.2} s",
        args.topic,
        summary.elapsed.as_secs_f64()
    );
    anyhow::ensure!(
        summary.failed == 0,
        "{} records could not be delivered: they are in {}",
        summary.failed,
        data_dir.join("dead-letters.jsonl").display()
    );
    let _ = std::fs::remove_dir_all(&data_dir);
    Ok(())
}
