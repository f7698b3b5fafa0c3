//! `weir replay`: dead letters through the current version of the stage
//! that failed them, and recorded input through a candidate plugin.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use weir::DeadLetter;
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig};

use crate::plugin::RunArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum ReplayCommand {
    /// Re-drive dead letters through the current version of the stage that
    /// failed each, to the pipeline's sinks, and report how many now pass.
    /// They are read from the pipeline's failure destination (its file, its
    /// Kafka topic up to its current end, or the default dead-letter file),
    /// or from `--from FILE`. Run it while the pipeline is stopped.
    DeadLetters {
        /// The pipeline config (TOML).
        config: PathBuf,
        /// Dead letters as JSON lines, instead of the failure destination.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run recorded input through a candidate plugin and diff its outcomes
    /// against recorded outcomes (as `weir plugin test` prints them, e.g.
    /// recorded from the serving version); exits 1 when any differ.
    Diff {
        #[command(flatten)]
        run: RunArgs,
        /// The recorded outcomes (JSON lines).
        #[arg(long, value_name = "FILE")]
        expect: PathBuf,
        /// Records per call.
        #[arg(long, default_value_t = 100)]
        batch_size: usize,
    },
}

pub(crate) async fn run(cmd: ReplayCommand) -> anyhow::Result<()> {
    match cmd {
        ReplayCommand::DeadLetters { config, from, json } => {
            dead_letters(&config, from.as_deref(), json).await
        }
        ReplayCommand::Diff {
            run,
            expect,
            batch_size,
        } => crate::plugin::test_against(run, &expect, batch_size),
    }
}

/// Reads dead letters, one JSON object per non-blank line.
fn read_letters(path: &Path) -> anyhow::Result<Vec<DeadLetter>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open `{}`", path.display()))?;
    let mut letters = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading `{}`", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{}:{}", path.display(), i + 1);
        let v: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("{}: not JSON", at()))?;
        letters.push(DeadLetter::from_json(&v).with_context(at)?);
    }
    Ok(letters)
}

/// The dead letters in the pipeline's failure destination.
fn failure_destination(config: &PipelineConfig) -> anyhow::Result<Vec<DeadLetter>> {
    let Some(name) = &config.errors.on_failure else {
        return read_letters(&config.data_dir().join("dead-letters.jsonl"));
    };
    let sink = config
        .sinks
        .get(name)
        .with_context(|| format!("the failure destination `{name}` is not a sink"))?;
    match sink.kind.as_str() {
        "file" => {
            let path: PathBuf = sink
                .options
                .parse::<weir::connectors::file::SinkOptions>()
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("sinks.{name}"))?
                .path;
            read_letters(&config.resolve(&path))
        }
        #[cfg(feature = "kafka")]
        "kafka" => {
            let options: weir_kafka::SinkOptions = sink
                .options
                .parse()
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("sinks.{name}"))?;
            let records = weir_kafka::read_topic(&options, std::time::Duration::from_secs(60))
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("reading the dead letters of sinks.{name}"))?;
            records
                .iter()
                .map(|r| {
                    DeadLetter::from_original(r).or_else(|_| {
                        let v: serde_json::Value =
                            serde_json::from_slice(&r.value).with_context(|| {
                                format!("{name}: a record at {} is no dead letter", r.position)
                            })?;
                        Ok::<_, anyhow::Error>(DeadLetter::from_json(&v)?)
                    })
                })
                .collect()
        }
        other => anyhow::bail!(
            "dead letters cannot be read back from a `{other}` sink (sinks.{name}): give --from FILE"
        ),
    }
}

async fn dead_letters(config: &Path, from: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let config = PipelineConfig::from_file(config)?;
    let letters = match from {
        Some(f) => read_letters(f)?,
        None => failure_destination(&config)?,
    };
    let engine = crate::engine::engine(config.engine.engine_config())?;
    let summary = Pipeline::replay(
        &config,
        &engine,
        &crate::run_cmd::registry(),
        Metrics::new(),
        letters,
    )
    .await
    .with_context(|| format!("replaying into pipeline `{}`", config.name))?;
    if json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!(
            "replayed {} of {} dead letters: {} now pass, {} failed again{}",
            summary.replayed,
            summary.letters,
            summary.passed,
            summary.failed_again,
            if summary.not_replayable > 0 {
                format!(
                    ", {} not replayable (sink or source failures)",
                    summary.not_replayable
                )
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
