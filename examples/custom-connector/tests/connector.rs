//! A TOML pipeline names the connectors this crate registers.

use std::path::Path;

use weir::connectors::Registry;
use weir::metrics::Metrics;
use weir::pipeline::{Pipeline, PipelineConfig};
use weir::plugin::Engine;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn registry() -> Registry {
    let mut r = Registry::builtin();
    weir_custom_connector::register(&mut r);
    r
}

const CONFIG: &str = r#"
name = "counted"

[source]
type = "counter"
count = 1000

[filter]
patterns = ['{"value": {"n": [{"numeric": ["<", 10]}]}}']

[sinks.out]
type = "csv"
path = "out.csv"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_config_runs_on_connectors_from_another_crate() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = PipelineConfig::from_str(CONFIG, "counted.toml", dir.path())?;
    let engine = Engine::new()?;
    Pipeline::validate(&config, &engine, &registry())?;
    let pipeline = Pipeline::build(&config, &engine, &registry(), Metrics::new())?;
    let summary = pipeline.run(std::future::pending()).await?;
    assert_eq!((summary.records_in, summary.filtered), (1000, 990));
    let csv = std::fs::read_to_string(dir.path().join("out.csv"))?;
    let expected: String = (0..10).map(|i| format!("{i},{{\"n\":{i}}}\n")).collect();
    assert_eq!(csv, expected);

    // Run again: the source resumes after its checkpoint, and the sink,
    // told the run resumes, keeps what it wrote.
    let pipeline = Pipeline::build(&config, &engine, &registry(), Metrics::new())?;
    let summary = pipeline.run(std::future::pending()).await?;
    assert!(summary.resumed && summary.records_in == 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.csv"))?,
        expected
    );
    Ok(())
}

#[test]
fn its_option_errors_name_the_file_line_and_key() -> TestResult {
    let engine = Engine::new()?;
    let check = |text: &str| -> Result<String, Box<dyn std::error::Error>> {
        let config = PipelineConfig::from_str(text, "counted.toml", Path::new("."))?;
        match Pipeline::validate(&config, &engine, &registry()) {
            Ok(()) => Err("validation passed".into()),
            Err(e) => Ok(e.to_string()),
        }
    };
    let msg = check(&CONFIG.replace("count = 1000", "cuont = 1000"))?;
    assert!(
        msg.starts_with("counted.toml:6: `source.cuont`") && msg.contains("unknown field"),
        "{msg}"
    );
    let msg = check(&CONFIG.replace("count = 1000", "count = 0"))?;
    assert!(
        msg.contains("`source`: `count` must be at least 1"),
        "{msg}"
    );
    let msg = check(&CONFIG.replace("type = \"csv\"", "type = \"tsv\""))?;
    assert!(
        msg.contains("`sinks.out.type`: unknown sink type `tsv`") && msg.contains("csv"),
        "{msg}"
    );
    Ok(())
}
