//! Embedding weir in your own Rust program.
//!
//! Run with: bash plugins/build.sh && cargo run --release -p weir-embed-example
//!
//! Part 1 loads the fraud scorer and calls it directly on a batch.
//! Part 2 builds a pipeline from a config written in code and runs it.

use std::path::PathBuf;

use anyhow::Context as _;
use weir::connectors::Registry;
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig};
use weir::plugin::{Engine, Grants, InstanceOptions};
use weir::{Batch, Position, Record};

fn plugin_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/target/wasm32-wasip2/release")
        .join(format!("{name}.wasm"))
}

/// Part 1: one plugin, called on batches from our own code.
fn call_a_plugin(engine: &Engine) -> anyhow::Result<()> {
    let path = plugin_path("fraud_scorer");
    let plugin = engine
        .load_file(&path, Grants::default())
        .with_context(|| {
            format!(
                "loading {} (run `bash plugins/build.sh` first)",
                path.display()
            )
        })?;
    let mut scorer = plugin.instantiate(InstanceOptions::default())?;

    // Six card payments within a minute, then one from another country.
    let mut records = Vec::new();
    for i in 0..7u64 {
        let country = if i == 6 { "BR" } else { "DE" };
        let value = format!(
            r#"{{"txn_id":"t-{i}","card_id":"c-1","amount":25.0,"country":"{country}","ts":{}}}"#,
            1_767_225_600_000 + i * 5_000
        );
        records.push(Record::new(value.into_bytes(), Position::Offset(i), 0));
    }
    let outcome = scorer
        .process(Batch::new("payments", "0", records))
        .map_err(|failure| failure.error)?;
    for r in &outcome.records {
        println!(
            "embed: txn at offset {} scored {:.2} {:?}",
            r.position,
            r.score.unwrap_or_default(),
            r.labels
        );
    }
    Ok(())
}

/// Part 2: a whole pipeline, configured in code.
async fn run_a_pipeline(engine: &Engine) -> anyhow::Result<()> {
    let out = std::env::temp_dir().join("weir-embed-example");
    // Start fresh every time: the data directory holds the checkpoint, and a
    // pipeline that finds one resumes after it (here: nothing left to read).
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("cleaning {}", out.display()))?;
    }
    let text = format!(
        r#"
name = "embedded"
data_dir = "{data}"

[source]
type = "generator"
workload = "transactions"
count = 5000

[[stages]]
name = "score"
plugin = "{plugin}"

[[routes]]
sink = "alerts"
when = "score >= 0.7"

[sinks.alerts]
type = "file"
path = "{alerts}"
format = "json"
"#,
        data = out.join("data").display(),
        plugin = plugin_path("fraud_scorer").display(),
        alerts = out.join("alerts.jsonl").display(),
    );
    let config = PipelineConfig::from_str(&text, "embedded pipeline", &out)?;
    let pipeline = Pipeline::build(&config, engine, &Registry::builtin(), Metrics::new())?;
    let summary = pipeline.run(std::future::pending()).await?;
    println!(
        "embed: pipeline read {} records and wrote {} alerts to {}",
        summary.records_in,
        summary.written.get("alerts").copied().unwrap_or(0),
        out.join("alerts.jsonl").display()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let engine = Engine::new()?;
    call_a_plugin(&engine)?;
    run_a_pipeline(&engine).await
}
