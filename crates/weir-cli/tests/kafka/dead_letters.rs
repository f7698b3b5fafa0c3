//! Records that fail go to a dead-letter topic with their original bytes,
//! key and headers and the error context; the records around them flow on.

use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::BaseRecord;

use crate::common::*;

fn errors_table(retries: u32) -> String {
    format!(
        "[errors]\non_failure = \"dlq\"\nmax_retries = {retries}\nretry_backoff = \"10ms\"\nbisect_on_error = true\n"
    )
}

#[test]
fn a_trapping_record_goes_to_the_dead_letter_topic_and_the_rest_flow() -> TestResult {
    let _serial = serial();
    let (input, output, dlq) = (unique("events"), unique("out"), unique("dlq"));
    create_topic(&input, 2)?;
    create_topic(&output, 2)?;
    create_topic(&dlq, 1)?;
    let values: Vec<(String, Vec<u8>)> = (0..1000)
        .map(|i| {
            let v = if i == 500 {
                format!("{{\"n\":{i},\"note\":\"trap\"}}")
            } else {
                format!("{{\"n\":{i}}}")
            };
            (format!("k-{}", i % 7), v.into_bytes())
        })
        .collect();
    let producer = producer()?;
    let records = values
        .iter()
        .map(|(k, v)| {
            BaseRecord::to(&input)
                .key(k.as_bytes())
                .payload(v.as_slice())
                .headers(OwnedHeaders::new().insert(Header {
                    key: "trace-id",
                    value: Some(k.as_bytes()),
                }))
        })
        .collect();
    send_all(&producer, records)?;
    let poison = read_all(&input)?
        .into_iter()
        .find(|m| m.value.windows(4).any(|w| w == b"trap"))
        .ok_or("poison record not found")?;

    let dir = tempfile::tempdir()?;
    let config = write_config(
        dir.path(),
        &format!(
            "name = \"poison\"\n{}\n[batch]\nmax_records = 100\nmax_wait_ms = 20\n\n\
             [[stages]]\nname = \"chaos\"\nplugin = \"{}\"\n\n\
             [[routes]]\nsink = \"out\"\n\n{}\n{}\n{}",
            source(&input, &unique("poison")),
            plugin("test_chaos"),
            errors_table(1),
            sink("out", &output),
            sink("dlq", &dlq),
        ),
    )?;
    let mut weir = Weir::start(&config, "weir")?;
    wait_for_count(&output, 999, Duration::from_secs(120), &mut [&mut weir])?;
    wait_for_count(&dlq, 1, Duration::from_secs(30), &mut [&mut weir])?;
    weir.stop()?;

    let out = read_all(&output)?;
    assert_eq!(out.len(), 999, "every other record flows, once");
    assert!(
        out.iter().all(|m| m.header("trace-id").is_some()),
        "headers kept"
    );
    let dead = read_all(&dlq)?;
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(d.value, poison.value, "original bytes");
    assert_eq!(d.key, poison.key, "original key");
    assert_eq!(
        d.header("trace-id"),
        poison.header("trace-id"),
        "original headers"
    );
    let error = d.header("weir.error").unwrap_or_default();
    assert!(error.contains("trap"), "error context: {error}");
    assert_eq!(d.header("weir.stage").as_deref(), Some("chaos"));
    assert_eq!(d.header("weir.plugin").as_deref(), Some("test_chaos"));
    assert!(
        d.header("weir.plugin.version")
            .is_some_and(|v| !v.is_empty())
    );
    assert_eq!(d.header("weir.origin").as_deref(), Some(input.as_str()));
    assert_eq!(
        d.header("weir.partition"),
        Some(poison.partition.to_string())
    );
    assert_eq!(d.header("weir.position"), Some(poison.offset.to_string()));
    assert_eq!(d.header("weir.attempts").as_deref(), Some("2"));
    Ok(())
}

#[test]
fn undeliverable_records_go_to_the_dead_letter_topic_after_retries() -> TestResult {
    let _serial = serial();
    let (input, output, dlq) = (unique("events"), unique("out"), unique("dlq"));
    let missing = unique("no-such-topic");
    create_topic(&input, 1)?;
    create_topic(&output, 1)?;
    create_topic(&dlq, 1)?;
    let producer = producer()?;
    let values: Vec<String> = (0..100)
        .map(|i| {
            let dest = if i % 10 == 3 {
                missing.as_str()
            } else {
                output.as_str()
            };
            format!("{{\"n\":{i},\"dest\":\"{dest}\"}}")
        })
        .collect();
    send_all(
        &producer,
        values
            .iter()
            .map(|v| {
                BaseRecord::to(&input)
                    .key(b"k".as_slice())
                    .payload(v.as_bytes())
            })
            .collect(),
    )?;

    let dir = tempfile::tempdir()?;
    let config = write_config(
        dir.path(),
        &format!(
            "name = \"undeliverable\"\n{}\n\
             [[routes]]\nsink = \"out\"\n\n{}\n\
             [sinks.out]\ntype = \"kafka\"\nbrokers = \"{}\"\ntopic_field = \"dest\"\n\
             properties = {{ \"message.timeout.ms\" = 2000 }}\n\n{}",
            source(&input, &unique("undeliverable")),
            errors_table(1),
            brokers(),
            sink("dlq", &dlq),
        ),
    )?;
    let mut weir = Weir::start(&config, "weir")?;
    wait_for_count(&output, 90, Duration::from_secs(60), &mut [&mut weir])?;
    wait_for_count(&dlq, 10, Duration::from_secs(60), &mut [&mut weir])?;
    weir.stop()?;
    assert_eq!(
        read_all(&output)?.len(),
        90,
        "the deliverable records, once each"
    );
    let dead = read_all(&dlq)?;
    assert_eq!(dead.len(), 10);
    for d in &dead {
        assert_eq!(d.header("weir.stage").as_deref(), Some("sink:out"));
        assert!(
            d.json()["dest"].as_str() == Some(missing.as_str()),
            "original value kept"
        );
        assert_eq!(d.header("weir.attempts").as_deref(), Some("2"));
    }
    Ok(())
}

#[test]
fn dead_letters_in_the_topic_pass_once_replayed_with_the_fixed_version() -> TestResult {
    let _serial = serial();
    let (input, output, dlq) = (unique("events"), unique("out"), unique("dlq"));
    create_topic(&input, 2)?;
    create_topic(&output, 2)?;
    create_topic(&dlq, 1)?;
    // Every 10th record makes the buggy version fail it.
    let values: Vec<Vec<u8>> = (0..200)
        .map(|i| {
            if i % 10 == 0 {
                format!("{{\"n\":{i},\"note\":\"fail\"}}")
            } else {
                format!("{{\"n\":{i}}}")
            }
            .into_bytes()
        })
        .collect();
    let producer = producer()?;
    send_all(
        &producer,
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                BaseRecord::to(&input)
                    .key(if i % 2 == 0 { &b"a"[..] } else { &b"b"[..] })
                    .payload(v.as_slice())
            })
            .collect(),
    )?;
    let dir = tempfile::tempdir()?;
    let filter = dir.path().join("filter.wasm");
    std::fs::copy(weir_test_support::plugin("test_chaos"), &filter)?;
    let config = write_config(
        dir.path(),
        &format!(
            "name = \"redrive\"\n{}\n[batch]\nmax_records = 50\nmax_wait_ms = 20\n\n\
             [[stages]]\nname = \"filter\"\nplugin = \"filter.wasm\"\nwatch = false\n\n\
             [[routes]]\nsink = \"out\"\n\n{}\n{}\n{}",
            source(&input, &unique("redrive")),
            errors_table(0),
            sink("out", &output),
            sink("dlq", &dlq),
        ),
    )?;
    let mut weir = Weir::start(&config, "weir")?;
    wait_for_count(&output, 180, Duration::from_secs(120), &mut [&mut weir])?;
    wait_for_count(&dlq, 20, Duration::from_secs(30), &mut [&mut weir])?;
    weir.stop()?;

    // The fixed version (keeps every record) replaces the buggy one; the
    // letters are read back from the dead-letter topic.
    std::fs::copy(weir_test_support::plugin("test_bare"), &filter)?;
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["replay", "dead-letters", "--json"])
        .arg(&config)
        .output()?;
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&replay.stdout)?;
    assert_eq!(
        (&summary["letters"], &summary["passed"]),
        (&serde_json::json!(20), &serde_json::json!(20)),
        "{summary}"
    );
    let mut ns: Vec<u64> = read_all(&output)?
        .iter()
        .filter_map(|m| serde_json::from_slice::<serde_json::Value>(&m.value).ok()?["n"].as_u64())
        .collect();
    ns.sort_unstable();
    assert_eq!(ns, (0..200).collect::<Vec<u64>>(), "every record once");
    Ok(())
}
