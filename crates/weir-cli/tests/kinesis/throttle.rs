//! Half of the GetRecords and PutRecords calls answered
//! `ProvisionedThroughputExceededException` by the proxy: the pipeline backs
//! off, says so, and loses nothing.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::common::*;
use crate::proxy::{self, Fault};

const RECORDS: u64 = 3_000;

#[test]
fn throttling_on_half_the_calls_slows_the_pipeline_and_loses_nothing() -> TestResult {
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
stream = "{output}"
region = "us-east-1"
endpoint = "{}"
"#,
        source(&input, "").replace(&kinesis_endpoint(), &proxy.endpoint),
        proxy.endpoint
    );
    let cfg = write_config(dir.path(), &config)?;
    let mut weir = start_weir(&cfg, "throttled")?;

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
    std::thread::sleep(Duration::from_secs(1));
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
    let (gets, puts) = (
        proxy.throttled_get.load(Ordering::SeqCst),
        proxy.throttled_put.load(Ordering::SeqCst),
    );
    assert!(
        gets > 0 && puts > 0,
        "throttled {gets} GetRecords, {puts} PutRecords"
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
    Ok(())
}
