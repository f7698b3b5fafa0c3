//! `weir run` and `weir validate`.

use std::path::Path;

use std::sync::Arc;

use anyhow::Context as _;
use weir::admin::Admin;
use weir::connectors::Registry;
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig, RunSummary};

/// Every connector the `weir` binary knows: the built-in ones and, as
/// compiled in (features `kafka`, `kinesis`, `webhook`), Kafka, Kinesis
/// and webhooks.
pub(crate) fn registry() -> Registry {
    #[allow(unused_mut)]
    let mut r = Registry::builtin();
    #[cfg(feature = "kafka")]
    weir_kafka::register(&mut r);
    #[cfg(feature = "kinesis")]
    weir_kinesis::register(&mut r);
    #[cfg(feature = "webhook")]
    weir_webhook::register(&mut r);
    r
}

pub(crate) async fn run(
    path: &Path,
    json: bool,
    reset: bool,
    metrics_addr: Option<std::net::SocketAddr>,
    admin_token: Option<String>,
) -> anyhow::Result<()> {
    let config = PipelineConfig::from_file(path)?;
    let data_dir = config.data_dir();
    if reset && data_dir.exists() {
        std::fs::remove_dir_all(&data_dir).with_context(|| {
            format!("cannot delete the data directory `{}`", data_dir.display())
        })?;
        tracing::info!(data_dir = %data_dir.display(), "reset: checkpoints and plugin state deleted");
    }
    let engine = crate::engine::engine(config.engine.engine_config())?;
    let metrics = Metrics::new();
    let pipeline = Pipeline::build(&config, &engine, &registry(), metrics.clone())?;
    if let Some(addr) = metrics_addr {
        let mut admin = Admin::new().with_metrics(metrics);
        if let Some(token) = admin_token {
            admin = admin.with_token(token);
        }
        admin.add(pipeline.control());
        weir::admin::serve(addr, Arc::new(admin)).await?;
    }
    let summary = pipeline
        .run(crate::shutdown_signal())
        .await
        .with_context(|| format!("pipeline `{}` failed", config.name))?;
    let text = if json {
        serde_json::to_string(&summary)?
    } else {
        summary_text(&config.name, &summary)
    };
    // Keep stdout clean when a sink writes records there.
    if config.sinks.values().any(|s| s.kind == "stdout") {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
    Ok(())
}

fn summary_text(name: &str, s: &RunSummary) -> String {
    let secs = s.elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        s.records_in as f64 / secs
    } else {
        0.0
    };
    let mut lines = vec![
        format!("pipeline {name}: done in {secs:.2} s ({rate:.0} records/s)"),
        format!("  records in     {}", s.records_in),
        format!(
            "  filtered out   {} (patterns) + {} (filter stages)",
            s.filtered, s.dropped
        ),
        format!("  scored         {}", s.scored),
        format!("  records out    {}", s.records_out),
        format!("  failed         {}", s.failed),
    ];
    for (sink, n) in &s.written {
        lines.push(format!("  written to {sink:<12} {n}"));
    }
    if s.resumed && s.records_in == 0 {
        lines.push(
            "  nothing new since the last checkpoint; `weir run --reset` starts over".to_string(),
        );
    }
    lines.join("\n")
}

pub(crate) fn validate(path: &Path) -> anyhow::Result<()> {
    let config = PipelineConfig::from_file(path)?;
    let engine = crate::engine::engine(config.engine.engine_config())?;
    Pipeline::validate(&config, &engine, &registry())?;
    println!(
        "{}: ok ({} stages, {} sinks)",
        path.display(),
        config.stages.len(),
        config.sinks.len()
    );
    Ok(())
}
