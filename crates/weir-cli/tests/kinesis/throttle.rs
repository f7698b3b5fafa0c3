//! Half of the GetRecords and PutRecords calls fail for throughput (whole
//! calls, or half the records of a PutRecords call), and some shard
//! iterators expire: the pipeline backs off, says so, sends only the refused
//! records again, and loses or repeats nothing.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use weir_test_support::process::{metric_value, scrape_metrics};

use crate::common::*;
use crate::proxy::{self, Fault};

const RECORDS: u64 = 3_000;

#[test]
fn throttling_on_half_the_calls_retries_exactly_the_refused_records() -> TestResult {
    let _serial = serial();
    let aws = Aws::new()?;
    let input = unique("throttled-in");
    let output = unique("throttled-out");
    aws.create_stream(&input, 2)?;
    aws.create_stream(&output, 2)?;
    let records: Vec<(String, Vec<u8>)> = (0..RECORDS).map(|n| reading(n, 16)).collect();
    aws.put(&input, &records)?;

    let proxy = proxy::start(&kinesis_endpoint(), Fault::ThrottleHalf)?;
    let dir = tempfile::tempdir()?;
    let config = format!(
        r#"name = "kinesis-throttled"
{}
[sinks.out]
type = "kinesis"
stream = "arn:aws:kinesis:us-east-1:000000000000:stream/{output}"
region = "us-east-1"
endpoint = "{}"
"#,
        source(&input, "").replace(&kinesis_endpoint(), &proxy.endpoint),
        proxy.endpoint
    );
    let cfg = write_config(dir.path(), &config)?;
    let addr = format!("127.0.0.1:{}", closed_port()?);
    let mut weir = Weir::start_env(&cfg, "throttled", &["--metrics", &addr], &aws_env())?;

    let deadline = Instant::now() + Duration::from_secs(180);
    let written = loop {
        let written = aws.read_stream(&output)?;
        if written.len() as u64 >= RECORDS {
            break written;
        }
        weir.check_running()?;
        if Instant::now() > deadline {
            return Err(format!(
                "{} of {RECORDS} records written after 180 s; log:\n{}",
                written.len(),
                weir.log_tail()
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    // Caught up: each shard's iterator age (MillisBehindLatest) is 0, and
    // the throttled calls are counted.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape_metrics(&addr)?;
        let ages: Vec<Option<f64>> = aws
            .shards(&input)?
            .iter()
            .map(|s| {
                metric_value(
                    &text,
                    "weir_kinesis_iterator_age_ms",
                    &[("stream", &input), ("shard", &s.id)],
                )
            })
            .collect();
        let throttled =
            |op| metric_value(&text, "weir_kinesis_throttled_total", &[("operation", op)]);
        if ages.iter().all(|a| *a == Some(0.0)) {
            assert!(throttled("GetRecords").is_some_and(|n| n > 0.0), "{text}");
            assert!(throttled("PutRecords").is_some_and(|n| n > 0.0), "{text}");
            assert_eq!(
                metric_value(&text, "weir_kinesis_leases_held", &[("stream", &input)]),
                Some(2.0),
                "{text}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "iterator ages {ages:?} in:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    weir.stop()?;

    let mut counts: HashMap<Vec<u8>, u32> = HashMap::new();
    for (_, _, data) in aws.read_stream(&output)? {
        *counts.entry(data).or_default() += 1;
    }
    for (_, data) in &records {
        assert_eq!(
            counts.get(data),
            Some(&1),
            "{}",
            String::from_utf8_lossy(data)
        );
    }
    assert_eq!(written.len() as u64, RECORDS);
    let (gets, puts, refused, expired) = (
        proxy.throttled_get.load(Ordering::SeqCst),
        proxy.throttled_put.load(Ordering::SeqCst),
        proxy.refused_records.load(Ordering::SeqCst),
        proxy.expired_get.load(Ordering::SeqCst),
    );
    assert!(
        gets > 0 && puts > 0 && refused > 0 && expired > 0,
        "throttled {gets} GetRecords, {puts} PutRecords, {refused} records; {expired} iterators expired"
    );
    assert!(
        proxy.forwarded.load(Ordering::SeqCst) > gets,
        "the other half went through"
    );
    let log = std::fs::read_to_string(dir.path().join("throttled.log"))?;
    assert!(log.contains("GetRecords throttled"), "{log}");
    assert!(log.contains("PutRecords throttled"), "{log}");
    assert!(
        log.contains("ProvisionedThroughputExceededException"),
        "{log}"
    );
    assert!(log.contains("shard iterator expired"), "{log}");
    Ok(())
}
