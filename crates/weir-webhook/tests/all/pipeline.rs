//! Whole pipelines (built from TOML text) writing to a webhook.

use std::path::Path;

use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig, RunSummary};
use weir::plugin::Engine;

use super::server::{Reply, Server};
use super::{TestResult, bounded};

const INPUT: &str = "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n";

/// Runs a pipeline reading `INPUT` from a file into webhook sink `hook`
/// (options `hook`), with failures going to the file `failed.jsonl`.
async fn run(dir: &Path, hook: &str) -> Result<RunSummary, Box<dyn std::error::Error>> {
    std::fs::write(dir.join("in.jsonl"), INPUT)?;
    let text = format!(
        r#"
name = "webhook"
data_dir = "data"
[source]
type = "file"
path = "in.jsonl"
[batch]
max_records = 3
[errors]
on_failure = "failed"
max_retries = 1
retry_backoff = "10ms"
[sinks.hook]
type = "webhook"
{hook}
[sinks.failed]
type = "file"
path = "failed.jsonl"
"#
    );
    let config = PipelineConfig::from_str(&text, "webhook.toml", dir)?;
    let pipeline = Pipeline::build(
        &config,
        &Engine::new()?,
        &weir_webhook::registry(),
        Metrics::new(),
    )?;
    Ok(pipeline.run(std::future::pending()).await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pipeline_delivers_every_record_to_the_webhook() -> TestResult {
    bounded(async {
        let dir = tempfile::tempdir()?;
        let server = Server::start(|_, _| Reply::ok()).await?;
        let summary = run(dir.path(), &format!("url = \"{}\"", server.url("/in"))).await?;
        assert_eq!(summary.records_in, 4);
        assert_eq!(summary.failed, 0);
        assert_eq!(summary.written.get("hook").copied(), Some(4));
        let bodies: Vec<String> = server
            .seen()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        assert_eq!(bodies, INPUT.lines().collect::<Vec<_>>());
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn records_a_silent_webhook_never_takes_go_to_the_failure_destination() -> TestResult {
    bounded(async {
        let dir = tempfile::tempdir()?;
        let server = Server::start(|_, _| Reply::Hold).await?;
        let hook = format!(
            "url = \"{}\"\ntimeout = \"100ms\"\nretries = 1\nretry_backoff = \"10ms\"",
            server.url("/silent")
        );
        let summary = run(dir.path(), &hook).await?;
        assert_eq!(summary.records_in, 4);
        assert_eq!(summary.failed, 4, "{summary:?}");
        assert_eq!(summary.written.get("hook").copied().unwrap_or(0), 0);

        let failed: Vec<serde_json::Value> =
            std::fs::read_to_string(dir.path().join("failed.jsonl"))?
                .lines()
                .map(serde_json::from_str)
                .collect::<Result<_, _>>()?;
        assert_eq!(failed.len(), 4);
        let mut values: Vec<i64> = failed
            .iter()
            .filter_map(|f| f["value"]["n"].as_i64())
            .collect();
        values.sort_unstable();
        assert_eq!(values, [0, 1, 2, 3]);
        for f in &failed {
            let error = f["error"].as_str().unwrap_or_default();
            assert!(
                error.contains("sink `hook`")
                    && error.contains(&server.url("/silent"))
                    && error.contains("timed out: no complete answer within 100ms"),
                "{error}"
            );
            assert_eq!(f["stage"], "sink:hook");
            // Tried once and retried once by the pipeline.
            assert_eq!(f["attempts"], 2);
        }
        Ok(())
    })
    .await
}
