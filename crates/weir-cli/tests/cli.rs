//! The `weir` command as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn weir(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_weir")).args(args).output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run weir: {e}"),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn plugin(name: &str) -> String {
    weir_test_support::plugin(name).display().to_string()
}

fn example(rel: &str) -> String {
    weir_test_support::repo_root()
        .join("examples")
        .join(rel)
        .display()
        .to_string()
}

fn outcomes(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect()
}

#[test]
fn plugin_test_amount_filter() {
    let out = weir(&[
        "plugin",
        "test",
        &plugin("amount_filter"),
        "--input",
        &example("fraud-detection/sample-transactions.jsonl"),
        "--config",
        "min_amount=50",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = outcomes(&out);
    assert_eq!(o.len(), 13);
    let kept = o.iter().filter(|v| v["outcome"] == "kept").count();
    let dropped = o.iter().filter(|v| v["outcome"] == "dropped").count();
    assert_eq!(kept + dropped, 12);
    assert!(kept > 0 && dropped > 0);
    assert_eq!(o[12]["outcome"], "error", "the non-JSON line fails alone");
    assert!(text(&out.stderr).contains("1 failed"));
}

#[test]
fn plugin_test_fraud_scorer() {
    let out = weir(&[
        "plugin",
        "test",
        &plugin("fraud_scorer"),
        "--input",
        &example("fraud-detection/sample-transactions.jsonl"),
        "--kind",
        "scorer",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = outcomes(&out);
    assert!(
        o[..12]
            .iter()
            .all(|v| v["outcome"] == "scored" && v["score"].is_number())
    );
}

#[test]
fn plugin_test_telemetry_enricher() {
    let out = weir(&[
        "plugin",
        "test",
        &plugin("telemetry_enricher"),
        "--input",
        &example("connected-vehicles/sample-telemetry.jsonl"),
        "--config",
        "zones=mitte:52.50,13.36,52.54,13.42",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = outcomes(&out);
    let last = &o[o.len() - 1];
    assert_eq!(last["outcome"], "emitted");
    let records = last["records"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        records.len(),
        3,
        "reading + harsh braking + over-temperature: {last}"
    );
    assert_eq!(records[0]["value"]["zone"], "mitte");
    assert_eq!(records[1]["headers"]["weir-event"], "harsh-braking");
}

#[test]
fn plugin_test_center_line_reward() {
    let out = weir(&[
        "plugin",
        "test",
        &plugin("center_line_reward"),
        "--input",
        &example("deepracer/sample-steps.jsonl"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let o = outcomes(&out);
    assert_eq!(o.len(), 5);
    for v in o {
        let s = v["score"].as_f64().unwrap_or(-1.0);
        assert!([1.0, 0.5, 0.1, 0.001].contains(&s), "{v}");
    }
}

#[test]
fn plugin_test_reports_a_trap_and_exits_non_zero() -> TestResult {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "ok\ntrap\nok\n")?;
    let out = weir(&[
        "plugin",
        "test",
        &plugin("test_chaos"),
        "--input",
        &input.display().to_string(),
        "--batch-size",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let o = outcomes(&out);
    assert_eq!(o[0]["outcome"], "kept");
    assert_eq!(o[1]["outcome"], "trap");
    assert_eq!(
        o[2]["outcome"], "kept",
        "the next call runs on a fresh instance"
    );
    Ok(())
}

#[test]
fn plugin_inspect_shows_world_and_imports() {
    let out = weir(&["plugin", "inspect", &plugin("fraud_scorer"), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(v["kind"], "scorer");
    assert_eq!(v["version"], "0.2.0");
    let imports = v["imports"].as_array().cloned().unwrap_or_default();
    assert!(
        imports.iter().any(|i| i == "weir:plugin/state@0.2.0"),
        "{imports:?}"
    );
}

#[test]
fn an_aggregator_is_inspected_and_tested_over_windows() -> TestResult {
    let out = weir(&["plugin", "inspect", &plugin("vehicle_window"), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["kind"], "aggregator");
    assert_eq!(v["needs_wasi"], false);
    let out = weir(&["plugin", "inspect", &plugin("vehicle_window")]);
    let shown = text(&out.stdout);
    assert!(shown.contains("weir:plugin/aggregator@0.2.0"), "{shown}");
    assert!(
        shown.contains("needs WASI  no: it starts without WASI"),
        "{shown}"
    );

    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.jsonl");
    let reading = |v: &str, ts: u64, speed: u32| {
        format!(
            r#"{{"vehicle_id":"{v}","ts":{ts},"speed_kmh":{speed},"engine_temp_c":90.0,"accel_mps2":-1.0}}"#
        )
    };
    let lines = [
        reading("v-1", 1_000, 50),
        reading("v-2", 2_000, 100),
        "not json".to_string(),
        reading("v-1", 61_000, 70),
        reading("v-1", 3_000, 30),
    ];
    std::fs::write(&input, lines.join("\n"))?;
    let out = weir(&[
        "plugin",
        "test",
        &plugin("vehicle_window"),
        "--input",
        &input.display().to_string(),
        "--key-field",
        "vehicle_id",
        "--time-field",
        "ts",
        "--batch-size",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got = outcomes(&out);
    let kinds: Vec<&str> = got.iter().filter_map(|v| v["outcome"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "folded", "folded", "error", "folded", "folded", "emitted", "emitted", "emitted",
            "emitted"
        ]
    );
    // The failed record's window (no key) comes first, with nothing in it.
    assert_eq!(got[5]["window"]["key"], "");
    let first = &got[6];
    assert_eq!(first["window"]["key"], "v-1");
    assert_eq!(first["window"]["start"], 0);
    assert_eq!(first["records"][0]["value"]["count"], 2);
    assert_eq!(first["records"][0]["value"]["avg_speed_kmh"], 40.0);
    Ok(())
}

#[test]
fn a_filter_given_as_a_scorer_is_refused() {
    let out = weir(&[
        "plugin",
        "test",
        &plugin("amount_filter"),
        "--input",
        &example("fraud-detection/sample-transactions.jsonl"),
        "--kind",
        "scorer",
        "--config",
        "min_amount=1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains(
            "is a filter plugin (world `weir:plugin/filter`), but it was loaded as a scorer"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn every_example_validates() {
    for rel in [
        "fraud-detection/pipeline.toml",
        "fraud-detection/big-spenders.toml",
        "fraud-detection/kafka.toml",
        "connected-vehicles/pipeline.toml",
        "connected-vehicles/windows.toml",
        "connected-vehicles/anomaly.toml",
        "connected-vehicles/kinesis.toml",
        "connected-vehicles/kinesis-load.toml",
        "deepracer/pipeline.toml",
    ] {
        weir_test_support::plugin("amount_filter");
        let out = weir(&["validate", &example(rel)]);
        assert!(out.status.success(), "{rel}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(": ok"));
    }
}

fn config_with(dir: &Path, body: &str) -> Result<PathBuf, std::io::Error> {
    let path = dir.join("p.toml");
    std::fs::write(&path, body)?;
    Ok(path)
}

fn validate_fails(dir: &Path, body: &str) -> Result<String, Box<dyn std::error::Error>> {
    let path = config_with(dir, body)?;
    let out = weir(&["validate", &path.display().to_string()]);
    assert_eq!(out.status.code(), Some(1), "validate should fail");
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    Ok(err)
}

#[test]
fn config_errors_name_file_line_and_key() -> TestResult {
    let dir = tempfile::tempdir()?;
    let good_plugin = plugin("amount_filter");
    let base = format!(
        "name = \"p\"\n[source]\ntype = \"generator\"\ncount = 5\n\n[[stages]]\nname = \"f\"\nplugin = \"{good_plugin}\"\nsettings = {{ min_amount = 10 }}\n\n[sinks.out]\ntype = \"stdout\"\n"
    );

    // An unknown key.
    let err = validate_fails(
        dir.path(),
        &base.replace("count = 5", "count = 5\ncuont = 6"),
    )?;
    assert!(err.contains("p.toml:5") && err.contains("cuont"), "{err}");

    // A missing plugin file.
    let err = validate_fails(dir.path(), &base.replace(&good_plugin, "missing.wasm"))?;
    assert!(
        err.contains("p.toml:8")
            && err.contains("stages[0].plugin")
            && err.contains("does not exist"),
        "{err}"
    );

    // A core module instead of a component.
    std::fs::write(
        dir.path().join("core.wasm"),
        [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    )?;
    let err = validate_fails(dir.path(), &base.replace(&good_plugin, "core.wasm"))?;
    assert!(
        err.contains("stages[0].plugin") && err.contains("not a component"),
        "{err}"
    );

    // A route to a sink that does not exist.
    let err = validate_fails(
        dir.path(),
        &format!("{base}\n[[routes]]\nsink = \"nowhere\"\n"),
    )?;
    assert!(
        err.contains("routes[0].sink") && err.contains("unknown sink `nowhere`"),
        "{err}"
    );

    // A bad sink option.
    let err = validate_fails(
        dir.path(),
        &base.replace("type = \"stdout\"", "type = \"stdout\"\nformat = \"xml\""),
    )?;
    assert!(err.contains("sinks.out") && err.contains("xml"), "{err}");

    // A setting the plugin rejects in init.
    let err = validate_fails(
        dir.path(),
        &base.replace("min_amount = 10", "min_amount = \"lots\""),
    )?;
    assert!(
        err.contains("stages[0]") && err.contains("min_amount"),
        "{err}"
    );

    // Not TOML at all.
    let err = validate_fails(dir.path(), "name = \n")?;
    assert!(err.contains("p.toml:1"), "{err}");
    Ok(())
}

#[test]
fn semantics_config_errors_are_clear() -> TestResult {
    let dir = tempfile::tempdir()?;
    let window = plugin("vehicle_window");
    let filter = plugin("amount_filter");
    let config = |stage: &str, extra: &str| {
        format!(
            "name = \"p\"\n{extra}\n[source]\ntype = \"generator\"\ncount = 5\n\n[[stages]]\nname = \"s\"\n{stage}\n\n[sinks.out]\ntype = \"stdout\"\n"
        )
    };
    let cases = [
        (
            config(&format!("plugin = \"{window}\""), ""),
            "aggregator plugins need a window",
        ),
        (
            config(
                &format!(
                    "plugin = \"{filter}\"\nwindow = {{ size = \"60s\" }}\nsettings = {{ min_amount = 1 }}"
                ),
                "",
            ),
            "only aggregator plugins take a window",
        ),
        (
            config(
                &format!("plugin = \"{window}\"\nwindow = {{ size = \"60s\" }}"),
                "parallelization_factor = 4",
            ),
            "use parallelization_factor = 1",
        ),
        (
            config(
                &format!("plugin = \"{window}\"\nwindow = {{ size = \"60 parsecs\" }}"),
                "",
            ),
            "unknown unit",
        ),
        (
            config(
                &format!("plugin = \"{filter}\"\nsettings = {{ min_amount = 1 }}"),
                "parallelization_factor = 0",
            ),
            "between 1 and 64",
        ),
        (
            config(
                &format!(
                    "plugin = \"{filter}\"\nsettings = {{ min_amount = 1 }}\n\n[errors]\nmax_record_age = \"soon\""
                ),
                "",
            ),
            "p.toml:13: invalid duration: `soon`",
        ),
    ];
    for (body, want) in cases {
        let err = validate_fails(dir.path(), &body)?;
        assert!(
            err.contains("p.toml") && err.contains(want),
            "want `{want}` in: {err}"
        );
    }
    Ok(())
}

/// Kafka options are checked by `weir validate`, librdkafka properties
/// included, without a broker.
#[test]
fn kafka_config_errors_are_clear() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = |source: &str, sink: &str| {
        format!(
            "name = \"p\"\n[source]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:9\"\n{source}\n\n[sinks.out]\ntype = \"kafka\"\nbrokers = \"127.0.0.1:9\"\n{sink}\n"
        )
    };
    let ok_source = "topics = \"t\"\ngroup = \"g\"";
    let cases = [
        (
            config("topics = \"t\"", "topic = \"o\""),
            "missing field `group`",
        ),
        (
            config("topics = []\ngroup = \"g\"", "topic = \"o\""),
            "at least one topic",
        ),
        (
            config("topics = \"a/b\"\ngroup = \"g\"", "topic = \"o\""),
            "`a/b` is not a valid topic name",
        ),
        (
            config(
                &format!("{ok_source}\nstart = \"yesterday\""),
                "topic = \"o\"",
            ),
            "start `yesterday`",
        ),
        (
            config(
                &format!("{ok_source}\nproperties = {{ \"fetch.max.wait.mz\" = 5 }}"),
                "topic = \"o\"",
            ),
            "fetch.max.wait.mz",
        ),
        (
            config(
                &format!("{ok_source}\nproperties = {{ \"group.id\" = \"x\" }}"),
                "topic = \"o\"",
            ),
            "is set by weir: use `group`",
        ),
        (config(ok_source, ""), "set `topic`, `topic_field` or both"),
        (
            config(ok_source, "topic = \"o\"\nproperties = { \"acks\" = 1 }"),
            "always waits for all in-sync replicas",
        ),
    ];
    for (body, want) in cases {
        let err = validate_fails(dir.path(), &body)?;
        assert!(
            err.contains("p.toml") && err.contains(want),
            "want `{want}` in: {err}"
        );
    }
    let ok = config_with(dir.path(), &config(ok_source, "topic = \"o\""))?;
    let out = weir(&["validate", &ok.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    Ok(())
}

#[test]
fn kinesis_config_errors_are_clear() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = |source: &str, sink: &str| {
        format!(
            "name = \"p\"\n[source]\ntype = \"kinesis\"\n{source}\n\n[sinks.out]\ntype = \"kinesis\"\n{sink}\n"
        )
    };
    let ok = "stream = \"cars\"";
    let cases = [
        (
            config("region = \"eu-west-1\"", ok),
            "missing field `stream`",
        ),
        (config("stream = \"a b\"", ok), "stream `a b`"),
        (
            config("stream = \"arn:aws:s3:::bucket\"", ok),
            "not a Kinesis stream ARN",
        ),
        (
            config(&format!("{ok}\nstart = \"oldest\""), ok),
            "start `oldest`",
        ),
        (
            config(&format!("{ok}\nendpoint = \"localhost:4567\""), ok),
            "`endpoint` `localhost:4567`",
        ),
        (
            config(&format!("{ok}\nworker_id = \"w\""), ok),
            "need `lease_table`",
        ),
        (
            config(&format!("{ok}\nmax_records = 20000"), ok),
            "max_records 20000",
        ),
        (
            config(&format!("{ok}\nlease_table = \"x\""), ok),
            "lease_table `x`",
        ),
        (
            config(&format!("{ok}\nshards = 4"), ok),
            "unknown field `shards`",
        ),
        (
            config(ok, "stream = \"o\"\npartition_key_field = \"\""),
            "`partition_key_field` must not be empty",
        ),
    ];
    for (body, want) in cases {
        let err = validate_fails(dir.path(), &body)?;
        assert!(
            err.contains("p.toml") && err.contains(want),
            "want `{want}` in: {err}"
        );
    }
    let good = config_with(
        dir.path(),
        &config(
            "stream = \"arn:aws:kinesis:eu-west-1:123456789012:stream/cars\"\nlease_table = \"cars-leases\"\nstart = 1767225600000",
            "stream = \"o\"\npartition_key_field = \"vehicle_id\"",
        ),
    )?;
    let out = weir(&["validate", &good.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    Ok(())
}

#[test]
fn a_missing_config_is_a_clear_error() {
    let out = weir(&["run", "/nonexistent/pipeline.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("/nonexistent/pipeline.toml") && err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn run_prints_a_summary_and_logs_json() -> TestResult {
    let dir = tempfile::tempdir()?;
    let body = format!(
        "name = \"p\"\n[source]\ntype = \"generator\"\ncount = 1000\n\n[[stages]]\nname = \"score\"\nplugin = \"{}\"\n\n[[routes]]\nsink = \"alerts\"\nwhen = \"score >= 0.7\"\n\n[sinks.alerts]\ntype = \"file\"\npath = \"alerts.jsonl\"\nformat = \"json\"\n",
        plugin("fraud_scorer")
    );
    let path = config_with(dir.path(), &body)?;
    let out = weir(&["--log-format", "json", "run", &path.display().to_string()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("records in     1000"), "{stdout}");
    let alerts = std::fs::read_to_string(dir.path().join("alerts.jsonl"))?;
    assert!(
        stdout.contains(&format!(
            "written to alerts       {}",
            alerts.lines().count()
        )),
        "{stdout}"
    );
    for line in text(&out.stderr).lines() {
        let v: Value = serde_json::from_str(line)?;
        assert!(v.get("level").is_some(), "{line}");
    }
    Ok(())
}

/// The value of field `name` of a JSON log line: the event's own, or of
/// a span it is in.
fn log_field(line: &Value, name: &str) -> Option<String> {
    let spans = line["spans"].as_array().into_iter().flatten();
    std::iter::once(&line["fields"])
        .chain(std::iter::once(&line["span"]))
        .chain(spans)
        .find_map(|v| v.get(name))
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
}

#[test]
fn every_log_line_of_a_run_names_its_pipeline_stage_plugin_and_version() -> TestResult {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"a\":\"print\"}\n{\"a\":\"fail\"}\n{\"a\":1}\n")?;
    let body = format!(
        "name = \"logged\"\n[source]\ntype = \"file\"\npath = \"in.jsonl\"\n\n[[stages]]\nname = \"chaos\"\nplugin = \"{}\"\ngrants = {{ wasi = true }}\n\n[sinks.out]\ntype = \"file\"\npath = \"out.jsonl\"\n",
        plugin("test_chaos")
    );
    let path = config_with(dir.path(), &body)?.display().to_string();
    let out = weir(&["--log-format", "json", "--log", "debug", "run", &path]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<Value> = stderr
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    // From "pipeline started" to "pipeline finished", every line is the
    // pipeline's.
    let message = |l: &Value| {
        l["fields"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let start = lines
        .iter()
        .position(|l| message(l) == "pipeline started")
        .ok_or("no start line")?;
    let end = lines
        .iter()
        .position(|l| message(l) == "pipeline finished")
        .ok_or("no end line")?;
    let run = lines.get(start..=end).ok_or("lines")?;
    for l in run {
        assert_eq!(log_field(l, "pipeline").as_deref(), Some("logged"), "{l}");
    }
    // The plugin's own lines and the stage's errors name stage, plugin
    // and the version that served the call.
    let staged: Vec<&Value> = run
        .iter()
        .filter(|l| {
            let m = message(l);
            m.contains("printed on") || m.contains("asked to fail")
        })
        .collect();
    assert!(staged.len() >= 3, "{stderr}");
    for l in staged {
        assert_eq!(log_field(l, "stage").as_deref(), Some("chaos"), "{l}");
        assert_eq!(log_field(l, "plugin").as_deref(), Some("test_chaos"), "{l}");
        assert_eq!(log_field(l, "version").as_deref(), Some("1"), "{l}");
    }
    Ok(())
}

#[test]
fn pattern_test_decides_every_conformance_vector() -> TestResult {
    let path =
        weir_test_support::repo_root().join("crates/weir/tests/conformance/event-patterns.jsonl");
    let corpus = std::fs::read_to_string(&path)?;
    let mut failures = Vec::new();
    for line in corpus.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line)?;
        let out = weir(&[
            "pattern",
            "test",
            "--pattern",
            &case["pattern"].to_string(),
            "--event",
            &case["event"].to_string(),
        ]);
        let printed = text(&out.stdout);
        let ok = match case["expect"].as_str() {
            Some("match") => out.status.code() == Some(0) && printed.trim() == "match",
            Some("no-match") => out.status.code() == Some(0) && printed.trim() == "no-match",
            Some("invalid") => out.status.code() == Some(2) && printed.starts_with("error: "),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: {:?} {printed}",
                case["name"],
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    Ok(())
}

#[test]
fn pattern_test_reads_files_and_rejects_bad_json() -> TestResult {
    let dir = tempfile::tempdir()?;
    let p = dir.path().join("p.json");
    let e = dir.path().join("e.json");
    std::fs::write(&p, r#"{"amount": [{"numeric": [">", 100]}]}"#)?;
    std::fs::write(&e, r#"{"amount": 150}"#)?;
    let out = weir(&[
        "pattern",
        "test",
        "--pattern",
        &format!("@{}", p.display()),
        "--event",
        &format!("@{}", e.display()),
    ]);
    assert_eq!(
        (out.status.code(), text(&out.stdout).trim().to_string()),
        (Some(0), "match".to_string())
    );
    let out = weir(&[
        "pattern",
        "test",
        "--pattern",
        r#"{"amount": 5}"#,
        "--event",
        "{}",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("amount"),
        "{}",
        text(&out.stdout)
    );
    Ok(())
}

/// Lines of a JSON log that hold `needle` and name the plugin `plugin`.
fn logged(stderr: &str, plugin: &str, needle: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains(needle) && l.contains(&format!("\"plugin\":\"{plugin}\"")))
        .count()
}

#[test]
fn a_wasi_plugin_that_prints_runs_and_its_lines_are_logged() -> TestResult {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"a\":\"print\"}\n{\"a\":1}\n{\"a\":\"print\"}\n")?;
    let body = format!(
        "name = \"p\"\n[source]\ntype = \"file\"\npath = \"in.jsonl\"\n\n[[stages]]\nname = \"chaos\"\nplugin = \"{}\"\ngrants = {{ wasi = true }}\nsettings = {{ print_init = true }}\n\n[sinks.out]\ntype = \"file\"\npath = \"out.jsonl\"\n",
        plugin("test_chaos")
    );
    let path = config_with(dir.path(), &body)?.display().to_string();

    let out = weir(&["--log-format", "json", "run", &path]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(text(&out.stdout).contains("records in     3"));
    assert!(
        logged(&stderr, "test_chaos", "hello from init on stdout") >= 1,
        "{stderr}"
    );
    assert!(
        logged(&stderr, "test_chaos", "hello from init on stderr") >= 1,
        "{stderr}"
    );
    assert_eq!(
        logged(&stderr, "test_chaos", "printed on stdout"),
        2,
        "{stderr}"
    );
    assert_eq!(
        logged(&stderr, "test_chaos", "printed on stderr"),
        2,
        "{stderr}"
    );

    let out = weir(&["--log-format", "json", "validate", &path]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        logged(&stderr, "test_chaos", "hello from init on stdout") >= 1,
        "{stderr}"
    );

    let out = weir(&[
        "--log-format",
        "json",
        "plugin",
        "test",
        &plugin("test_chaos"),
        "--wasi",
        "--config",
        "print_init=true",
        "--input",
        &input.display().to_string(),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(outcomes(&out).len(), 3);
    assert!(
        logged(&stderr, "test_chaos", "hello from init on stdout") >= 1,
        "{stderr}"
    );
    assert_eq!(
        logged(&stderr, "test_chaos", "printed on stdout"),
        2,
        "{stderr}"
    );
    Ok(())
}

#[test]
fn a_finished_pipeline_run_again_keeps_its_output() -> TestResult {
    let dir = tempfile::tempdir()?;
    let body = format!(
        "name = \"p\"\n[source]\ntype = \"generator\"\ncount = 2000\n\n[[stages]]\nname = \"score\"\nplugin = \"{}\"\n\n[sinks.all]\ntype = \"file\"\npath = \"all.jsonl\"\nappend = false\n",
        plugin("fraud_scorer")
    );
    let path = config_with(dir.path(), &body)?.display().to_string();
    let output = dir.path().join("all.jsonl");

    let out = weir(&["run", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first = std::fs::read_to_string(&output)?;
    assert_eq!(first.lines().count(), 2000);

    // Resuming after the checkpoint: nothing new, and nothing erased.
    let out = weir(&["run", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("records in     0"), "{stdout}");
    assert!(
        stdout.contains("`weir run --reset` starts over"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&output)?, first);

    // Starting over writes the file anew.
    let out = weir(&["run", "--reset", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&output)?, first);
    Ok(())
}

/// The second command to load a plugin maps the code the first compiled;
/// `WEIR_CACHE_DIR=off` compiles every time.
#[test]
fn a_plugin_compiled_once_is_mapped_from_the_cache_next_time() -> TestResult {
    let dir = tempfile::tempdir()?;
    let inspect = |cache: &Path| -> Result<String, Box<dyn std::error::Error>> {
        let out = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(["plugin", "inspect", &plugin("amount_filter")])
            .env("WEIR_CACHE_DIR", cache)
            .output()?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        Ok(text(&out.stdout))
    };
    let cache = dir.path().join("cache");
    assert!(inspect(&cache)?.contains("compiled now"));
    let entries = std::fs::read_dir(&cache)?.count();
    assert_eq!(entries, 1, "one entry in {}", cache.display());
    assert!(inspect(&cache)?.contains("mapped from the compiled-code cache"));
    assert!(inspect(Path::new("off"))?.contains("compiled now"));
    assert!(inspect(Path::new("off"))?.contains("compiled now"));
    Ok(())
}

/// A Python plugin under `weir plugin test`: its `print` is a log line of
/// the plugin, a record's exception is that record's error with the
/// traceback, and an exception in `init` is the command's error, with the
/// author's message and traceback.
#[test]
fn python_prints_and_exceptions_reach_the_author() -> TestResult {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"a\":1}\n{\"a\":\"raise\"}\n")?;
    let raiser = weir_test_support::plugin_in("python", "test_raise")
        .display()
        .to_string();
    let input = input.display().to_string();
    let run = |raise_in: &str| {
        let setting = format!("raise_in={raise_in}");
        weir(&[
            "--log-format",
            "json",
            "plugin",
            "test",
            &raiser,
            "--wasi",
            "--config",
            &setting,
            "--input",
            &input,
        ])
    };

    let out = run("record");
    let stderr = text(&out.stderr);
    assert!(
        logged(&stderr, "test_raise", "hello from init") >= 1,
        "{stderr}"
    );
    let o = outcomes(&out);
    assert_eq!(o.len(), 2, "{}", text(&out.stdout));
    assert_eq!(o[0]["outcome"], "kept");
    let error = o[1]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("RuntimeError: raised in record as configured")
            && error.contains("Traceback")
            && error.contains("in explode"),
        "{error}"
    );

    let out = run("init");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for part in [
        "RuntimeError: raised in init as configured",
        "Traceback",
        "in init",
    ] {
        assert!(stderr.contains(part), "`{part}` in: {stderr}");
    }
    Ok(())
}
