//! Consumer lag per partition, served with the other metrics by
//! `weir run --metrics`; the monitor's lag series, and an alarm on it
//! written to a Kafka topic.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use weir_test_support::process::{http_get, metric_value, scrape_metrics};

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

/// A loopback address with a free port, for `weir run --metrics`.
fn free_addr() -> Result<String, std::io::Error> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    Ok(format!("127.0.0.1:{port}"))
}

/// The source table of `topic` for a new group named after `group`, with
/// client statistics (and so lag) every `ms` milliseconds.
fn source_with_statistics(topic: &str, group: &str, ms: u32) -> String {
    source(topic, &unique(group)).replace(
        "\"heartbeat.interval.ms\" = 500",
        &format!("\"heartbeat.interval.ms\" = 500, \"statistics.interval.ms\" = {ms}"),
    )
}

#[test]
fn consumer_lag_per_partition_is_a_metric() -> TestResult {
    let _serial = serial();
    let (input, output) = (unique("events"), unique("out"));
    create_topic(&input, 3)?;
    create_topic(&output, 3)?;
    produce_transactions(&input, 3_000, 9)?;
    let addr = free_addr()?;
    let dir = tempfile::tempdir()?;
    let source = source_with_statistics(&input, "lag", 300);
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

/// The lag reported by the client statistics reaches the monitor's `lag`
/// series (the admin API charts it), and an alarm on it is written, as
/// JSON, to a Kafka topic named as its sink.
#[test]
fn an_alarm_on_lag_is_written_to_a_kafka_topic() -> TestResult {
    let _serial = serial();
    let (input, output, alarms) = (unique("events"), unique("out"), unique("alarms"));
    create_topic(&input, 2)?;
    create_topic(&output, 2)?;
    create_topic(&alarms, 1)?;
    produce_transactions(&input, 2_000, 4)?;
    let addr = free_addr()?;
    let dir = tempfile::tempdir()?;
    let source = source_with_statistics(&input, "lag-alarm", 200);
    let body = format!(
        "name = \"lagging\"\n{source}\n{}\n{}\n[monitor]\nperiod = \"200ms\"\n\n[[alarms]]\nname = \"lag-seen\"\nmetric = \"lag\"\nabove = -1\nraise_after = 1\nperiods = 1\nto = \"alarms\"\n",
        sink("out", &output),
        sink("alarms", &alarms)
    );
    let config = write_config(dir.path(), &body)?;
    let mut weir = Weir::start_with(&config, "weir", &["--metrics", &addr])?;
    wait_for_count(&output, 2_000, Duration::from_secs(60), &mut [&mut weir])?;
    wait_for_count(&alarms, 1, Duration::from_secs(30), &mut [&mut weir])?;
    let alarm = read_all(&alarms)?
        .first()
        .map(Msg::json)
        .ok_or("no alarm record")?;
    assert_eq!(alarm["alarm"], "lag-seen", "{alarm}");
    assert_eq!(alarm["pipeline"], "lagging", "{alarm}");
    assert_eq!(alarm["metric"], "lag", "{alarm}");
    assert_eq!(alarm["state"], "raised", "{alarm}");
    assert!(alarm["value"].as_f64().is_some_and(|v| v >= 0.0), "{alarm}");
    // No record went to the alarm topic: it is the alarm's sink only.
    assert_eq!(count(&alarms)?, 1);
    // The series the dashboard charts has the lag.
    let answer = http_get(&addr, "/api/pipelines/lagging/series")?;
    let body = answer.split("\r\n\r\n").nth(1).ok_or("no body")?;
    let series: serde_json::Value = serde_json::from_str(body)?;
    let lag = series["series"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == "lag")
        .ok_or("no lag series")?;
    assert!(
        lag["values"]
            .as_array()
            .is_some_and(|v| v.iter().any(serde_json::Value::is_number)),
        "{lag}"
    );
    weir.stop()?;
    Ok(())
}
