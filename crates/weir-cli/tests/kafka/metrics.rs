//! Consumer lag per partition, served with the other metrics by
//! `weir run --metrics`.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use weir_test_support::process::{metric_value, scrape_metrics};

use crate::common::*;

/// The value of the lag gauge of `topic`/`partition`, if reported.
fn lag(text: &str, topic: &str, partition: i32) -> Option<f64> {
    let partition = partition.to_string();
    metric_value(
        text,
        "weir_kafka_consumer_lag",
        &[("topic", topic), ("partition", &partition)],
    )
}

#[test]
fn consumer_lag_per_partition_is_a_metric() -> TestResult {
    let _serial = serial();
    let (input, output) = (unique("events"), unique("out"));
    create_topic(&input, 3)?;
    create_topic(&output, 3)?;
    produce_transactions(&input, 3_000, 9)?;
    let addr = format!(
        "127.0.0.1:{}",
        TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()
    );
    let dir = tempfile::tempdir()?;
    let source = source(&input, &unique("lag")).replace(
        "\"heartbeat.interval.ms\" = 500",
        "\"heartbeat.interval.ms\" = 500, \"statistics.interval.ms\" = 300",
    );
    let config = write_config(
        dir.path(),
        &format!("name = \"lag\"\n{source}\n{}", sink("out", &output)),
    )?;
    let mut weir = Weir::start_with(&config, "weir", &["--metrics", &addr])?;
    wait_for_count(&output, 3_000, Duration::from_secs(60), &mut [&mut weir])?;
    // Once everything is committed, each partition reports a lag of 0.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape_metrics(&addr)?;
        let lags: Vec<Option<f64>> = (0..3).map(|p| lag(&text, &input, p)).collect();
        if lags.iter().all(|l| *l == Some(0.0)) {
            let written = metric_value(
                &text,
                "weir_sink_records_total",
                &[("pipeline", "lag"), ("sink", "out")],
            );
            assert_eq!(written, Some(3000.0), "{text}");
            break;
        }
        weir.check_running()?;
        assert!(Instant::now() < deadline, "lags {lags:?} in:\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    }
    weir.stop()?;
    Ok(())
}
