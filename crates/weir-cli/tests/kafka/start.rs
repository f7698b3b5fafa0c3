//! Where a new consumer group starts: a timestamp picks the first record at
//! or after it in each partition.

use std::time::Duration;

use rdkafka::producer::BaseRecord;

use crate::common::*;

#[test]
fn a_new_group_can_start_at_a_timestamp() -> TestResult {
    let _serial = serial();
    let (input, output) = (unique("events"), unique("out"));
    create_topic(&input, 2)?;
    create_topic(&output, 1)?;
    let t0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let values: Vec<String> = (0..100).map(|i| format!("{{\"n\":{i}}}")).collect();
    let producer = producer()?;
    send_all(
        &producer,
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                BaseRecord::to(&input)
                    .key(v.as_bytes())
                    .payload(v.as_bytes())
                    .timestamp(t0 + i as i64 * 1000)
            })
            .collect(),
    )?;
    let dir = tempfile::tempdir()?;
    let source = source(&input, &unique("from-time"))
        .replace("start = \"earliest\"", &format!("start = {}", t0 + 60_000));
    let config = write_config(
        dir.path(),
        &format!("name = \"from-time\"\n{source}\n{}", sink("out", &output)),
    )?;
    let mut weir = Weir::start(&config, "weir")?;
    wait_for_count(&output, 40, Duration::from_secs(60), &mut [&mut weir])?;
    std::thread::sleep(Duration::from_millis(500));
    weir.stop()?;
    let mut got: Vec<u64> = read_all(&output)?
        .iter()
        .filter_map(|m| m.json()["n"].as_u64())
        .collect();
    got.sort_unstable();
    assert_eq!(
        got,
        (60..100).collect::<Vec<u64>>(),
        "only records from the start time on"
    );
    Ok(())
}
