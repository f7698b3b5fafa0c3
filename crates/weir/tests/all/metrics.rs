//! Metrics: the run summary read from the pipeline's counters, and the
//! metrics plugins report.

use weir::connectors::Registry;
use weir::metrics::{Metrics, names};
use weir::pipeline::{Pipeline, PipelineConfig};

use super::pipelines::example;
use super::{TestResult, engine};

/// The run summary and the metrics are one set of counters: the summary is
/// what they went up by during the run, so a second run into the same
/// metrics reports its own counts while the metrics keep the totals.
#[tokio::test(flavor = "multi_thread")]
async fn the_summary_is_read_from_the_metrics() -> TestResult {
    let metrics = Metrics::new();
    let mut summaries = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir()?;
        let config = example("fraud-detection/big-spenders.toml", dir.path())?;
        let pipeline = Pipeline::build(&config, &engine(), &Registry::builtin(), metrics.clone())?;
        summaries.push(pipeline.run(std::future::pending()).await?);
    }
    let (first, second) = (&summaries[0], &summaries[1]);
    assert_eq!(first.records_in, 20_000);
    assert_eq!(
        (
            second.records_in,
            second.dropped,
            second.batches,
            &second.written
        ),
        (
            first.records_in,
            first.dropped,
            first.batches,
            &first.written
        )
    );
    let pl = ("pipeline", "big-spenders");
    let count = |name, extra: &[(&str, &str)]| {
        let labels: Vec<(&str, &str)> = std::iter::once(pl).chain(extra.iter().copied()).collect();
        metrics.counter_value(name, &labels)
    };
    assert_eq!(count(names::RECORDS_IN, &[]), 2 * first.records_in);
    assert_eq!(count(names::BATCHES, &[]), 2 * first.batches);
    assert_eq!(count(names::RECORDS_OUT, &[]), 2 * first.records_out);
    assert_eq!(count(names::RECORDS_SCORED, &[]), 2 * first.scored);
    assert_eq!(
        count(names::RECORDS_DROPPED, &[("stage", "big-amounts")]),
        2 * first.dropped
    );
    for (sink, n) in &first.written {
        assert_eq!(
            count(names::SINK_RECORDS, &[("sink", sink)]),
            2 * n,
            "{sink}"
        );
    }
    let text = metrics.render();
    let line = format!(
        "weir_records_in_total{{pipeline=\"big-spenders\"}} {}",
        2 * first.records_in
    );
    assert!(text.contains(&line), "{text}");
    assert!(text.contains("weir_stage_call_seconds_bucket{"), "{text}");
    Ok(())
}

/// A plugin's counter, gauge and histogram reach the pipeline's metrics,
/// prefixed `weir_plugin_` and labelled with the plugin's name.
#[tokio::test(flavor = "multi_thread")]
async fn plugin_metrics_are_exported_with_the_plugin_label() -> TestResult {
    let dir = tempfile::tempdir()?;
    let values = ["{\"do\":\"metric\"}", "{}", "{\"do\":\"metric!\"}"];
    std::fs::write(dir.path().join("in.jsonl"), values.join("\n") + "\n")?;
    let chaos = weir_test_support::plugin("test_chaos");
    let toml = format!(
        "name = \"counted\"\n[source]\ntype = \"file\"\npath = \"in.jsonl\"\n\
         [[stages]]\nname = \"chaos\"\nplugin = \"{}\"\n\
         [sinks.out]\ntype = \"file\"\npath = \"out.jsonl\"\n",
        chaos.display()
    );
    let config = PipelineConfig::from_str(&toml, "counted.toml", dir.path())?;
    let metrics = Metrics::new();
    let pipeline = Pipeline::build(&config, &engine(), &Registry::builtin(), metrics.clone())?;
    let summary = pipeline.run(std::future::pending()).await?;
    assert_eq!(summary.records_out, 3);
    let plugin = [("plugin", "test_chaos")];
    assert_eq!(
        metrics.counter_value("weir_plugin_chaos_metric_total", &plugin),
        2
    );
    // The gauge holds the last value set: the length of the third record.
    let last = values[2].len() as f64;
    assert_eq!(
        metrics.gauge_value("weir_plugin_chaos_len", &plugin),
        Some(last)
    );
    let text = metrics.render();
    assert!(
        text.contains("weir_plugin_chaos_len_seen_count{plugin=\"test_chaos\"} 2"),
        "{text}"
    );
    Ok(())
}
