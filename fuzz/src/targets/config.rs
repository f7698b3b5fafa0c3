//! Target `config`: the pipeline config parser, and what `weir validate`
//! checks of a parsed config without the filesystem or plugins.
//!
//! The input is TOML text (invalid UTF-8 is replaced). It is parsed into a
//! [`PipelineConfig`] (which checks its shape: names, batching, lanes,
//! stage limits and windows, sinks that routes and `on_failure` name, route
//! conditions); a config that parses then has its source and sinks checked
//! by the connectors `weir` registers (built-in, Kafka, Kinesis, webhook)
//! as `weir validate` does, its filter patterns compiled, its routes
//! built, its data directory resolved, errors located for every key it has,
//! and it is written back out. Where `weir validate` loads each stage's
//! plugin, instantiates it with the stage's settings and limits and runs
//! its check, this target instantiates a replay filter (see
//! [`super::columnar::guest`]) with them on an engine made from the
//! config's `[engine]` settings, and runs one call.

use std::cell::RefCell;
use std::path::Path;

use weir::connectors::Registry;
use weir::pipeline::{EngineSettings, PipelineConfig};
use weir::plugin::{Engine, Grants, InstanceOptions, Plugin, PluginKind};
use weir::{Batch, Position, Record};

use crate::mutate::Rng;
use crate::{combine, error_signature, mix};

/// Tokens of TOML and of pipeline configs.
pub const DICTIONARY: &[&[u8]] = &[
    b"\n[source]\n",
    b"\n[[stages]]\n",
    b"\n[[routes]]\n",
    b"\n[sinks.out]\n",
    b"\n[sinks.\"a.b\"]\n",
    b"\n[batch]\n",
    b"\n[errors]\n",
    b"\n[filter]\n",
    b"\n[engine]\n",
    b"name = \"p\"\n",
    b"type = \"generator\"\n",
    b"type = \"file\"\n",
    b"type = \"stdout\"\n",
    b"type = \"kafka\"\n",
    b"type = \"kinesis\"\n",
    b"type = \"webhook\"\n",
    b"plugin = \"a.wasm\"\n",
    b"kind = \"aggregator\"\n",
    b"max_records = ",
    b"max_bytes = ",
    b"max_wait_ms = ",
    b"parallelization_factor = ",
    b"when = \"score >= 0.9\"\n",
    b"when = 'label == \"x\"'\n",
    b"when = 'header.h == \"v\"'\n",
    b"otherwise = true\n",
    b"sink = \"out\"\n",
    b"window = { size = \"60s\", by = \"key\" }\n",
    b"allowed_lateness = ",
    b"limits = { deadline_ms = 0, memory_mb = 0 }\n",
    b"check = { input = \"i\", expect = \"e\", batch_size = 0 }\n",
    b"patterns = ['{\"a\": [1]}']\n",
    b"patterns = [{ a = [{ numeric = [\">\", 1] }] }]\n",
    b"on_failure = \"out\"\n",
    b"max_retries = ",
    b"retry_backoff = ",
    b"max_record_age = ",
    b"bisect_on_error = true\n",
    b"settings = { a = 1, b = [1, 2], c = { d = 1970-01-01 } }\n",
    b"\"500ms\"",
    b"\"18446744073709551615d\"",
    b"\"1h\"",
    b"\"0s\"",
    b"brokers = \"127.0.0.1:9092\"\n",
    b"topics = [\"t\"]\n",
    b"group = \"g\"\n",
    b"stream = \"arn:aws:kinesis:us-east-1:123456789012:stream/s\"\n",
    b"url = \"http://127.0.0.1/x\"\n",
    b"headers = { \"X-A\" = \"b\" }\n",
    b"properties = { \"x\" = \"y\" }\n",
    b"start = ",
    b"rate = ",
    b"partitions = ",
    b"'''",
    b"\"\"\"",
    b"\\u0000",
    b"= [",
    b"= {",
    b"]\n",
    b"}\n",
    b"1979-05-27T07:32:00Z",
    b"inf",
    b"nan",
    b"0x7fffffffffffffff",
];

/// Stages instantiated per input, at most.
const MAX_STAGES: usize = 4;

thread_local! {
    static REGISTRY: RefCell<Option<Registry>> = const { RefCell::new(None) };
    /// The replay filter on an engine of each `[engine]` setting seen.
    static PLUGINS: RefCell<Vec<(EngineSettings, Plugin)>> = const { RefCell::new(Vec::new()) };
}

/// The replay filter loaded on an engine with `settings`.
fn plugin(settings: EngineSettings) -> Plugin {
    if let Some(p) = PLUGINS.with(|p| {
        p.borrow()
            .iter()
            .find(|(s, _)| *s == settings)
            .map(|(_, p)| p.clone())
    }) {
        return p;
    }
    let made = Engine::with_config(&settings.engine_config())
        .map_err(|e| e.to_string())
        .and_then(|engine| {
            let bytes = super::columnar::guest::component(PluginKind::Filter)?;
            engine
                .load("replay-filter", &bytes, Grants::default())
                .map_err(|e| e.to_string())
        });
    match made {
        Ok(p) => {
            PLUGINS.with(|ps| ps.borrow_mut().push((settings, p.clone())));
            p
        }
        Err(e) => panic!("cannot set up the replay filter: {e}"),
    }
}

/// The connectors of the `weir` binary.
fn registry() -> Registry {
    let mut r = Registry::builtin();
    weir_kafka::register(&mut r);
    weir_kinesis::register(&mut r);
    weir_webhook::register(&mut r);
    r
}

/// Runs one input; see the module docs.
pub fn run(data: &[u8]) {
    exec(data);
}

/// Runs one input and returns its signature.
pub fn exec(data: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(data);
    let config = match PipelineConfig::from_str(&text, "fuzz.toml", Path::new("/weir-fuzz")) {
        Ok(config) => config,
        Err(e) => return mix(1, error_signature(&e.to_string())),
    };
    let registry = REGISTRY
        .with(|r| r.borrow_mut().take())
        .unwrap_or_else(registry);
    let sig = validate(&config, &registry);
    REGISTRY.with(|r| *r.borrow_mut() = Some(registry));
    sig
}

/// What `weir validate` checks, but loading plugins and reading check files.
fn validate(config: &PipelineConfig, registry: &Registry) -> u64 {
    let mut sig = mix(2, config.stages.len() as u64);
    let mut keys = vec![
        "name".to_string(),
        "data_dir".to_string(),
        "source".to_string(),
        "source.type".to_string(),
        "batch.max_records".to_string(),
        "errors.on_failure".to_string(),
        "filter.patterns".to_string(),
    ];
    match registry.check_source(&config.source.kind, &config.source.options) {
        Ok(()) => sig = mix(sig, 3),
        Err(e) => sig = mix(sig, error_signature(&e.to_string())),
    }
    for (name, sink) in &config.sinks {
        match registry.check_sink(name, &sink.kind, &sink.options) {
            Ok(()) => sig = mix(sig, 4),
            Err(e) => sig = mix(sig, error_signature(&e.to_string())),
        }
        keys.push(format!("sinks.{name}"));
        keys.push(format!("sinks.{name}.type"));
    }
    match config.patterns() {
        Ok(p) => sig = mix(sig, 5 + p.len() as u64),
        Err(e) => sig = mix(sig, error_signature(&e.to_string())),
    }
    match config.routes() {
        Ok(r) => sig = mix(sig, 6 + r.len() as u64),
        Err(e) => sig = mix(sig, error_signature(&e.to_string())),
    }
    for (i, stage) in config.stages.iter().enumerate() {
        if i < MAX_STAGES {
            sig = combine(sig, instantiate(config, i));
        }
        let _ = config.resolve(&stage.plugin);
        if let Some(check) = &stage.check {
            let _ = config.resolve(&check.input);
            let _ = config.resolve(&check.expect);
        }
        keys.push(format!("stages[{i}].plugin"));
        keys.push(format!("stages[{i}].limits.deadline_ms"));
        keys.push(format!("stages[{i}].window"));
    }
    for i in 0..config.routes.len() {
        keys.push(format!("routes[{i}].when"));
    }
    let _ = config.data_dir();
    for key in &keys {
        let e = config.error(key, "fuzz");
        sig = mix(sig, u64::from(e.line.is_some()));
        let _ = e.to_string();
    }
    // Written back out (nothing in weir does it, but nothing may panic).
    let _ = serde_json::to_string(config);
    sig
}

/// Stage `i`'s settings and limits on a replay filter: instantiated (so
/// `init`ed) and called once, on one record that it keeps.
fn instantiate(config: &PipelineConfig, i: usize) -> u64 {
    let stage = &config.stages[i];
    let options = InstanceOptions::with_settings(stage.settings.clone()).with_limits(stage.limits);
    let mut instance = match plugin(config.engine).instantiate(options) {
        Ok(instance) => instance,
        Err(e) => return mix(9, error_signature(&e.to_string())),
    };
    // The answer: `verdicts` with empty `keep` and `errors` lists.
    let answer = vec![0u8; 16];
    let batch = Batch::new(
        "fuzz",
        "0",
        vec![Record::new(answer, Position::Offset(0), 0)],
    );
    match instance.process(batch) {
        Ok(outcome) => mix(7, outcome.dropped as u64),
        Err(f) => mix(8, error_signature(&f.error.to_string())),
    }
}

const SOURCES: &[&str] = &[
    "type = \"generator\"\nworkload = \"transactions\"\ncount = 10\n",
    "type = \"generator\"\nworkload = \"telemetry\"\nrate = 0.5\npartitions = 4\n",
    "type = \"file\"\npath = \"in.jsonl\"\nkey_field = \"k\"\n",
    "type = \"stdin\"\n",
    "type = \"kafka\"\nbrokers = \"127.0.0.1:9092\"\ntopics = [\"t\"]\ngroup = \"g\"\nstart = \"earliest\"\n",
    "type = \"kinesis\"\nstream = \"s\"\nregion = \"us-east-1\"\nstart = \"trim_horizon\"\n",
    "type = \"nope\"\n",
];
const SINKS: &[&str] = &[
    "type = \"stdout\"\n",
    "type = \"file\"\npath = \"out.jsonl\"\nformat = \"json\"\n",
    "type = \"kafka\"\nbrokers = \"b:1\"\ntopic = \"t\"\n",
    "type = \"kinesis\"\nstream = \"s\"\npartition_key_field = \"k\"\n",
    "type = \"webhook\"\nurl = \"http://127.0.0.1:1/x\"\n",
];
const CONDITIONS: &[&str] = &[
    "score >= 0.9",
    "score < -1e308",
    "label == \\\"velocity\\\"",
    "header.weir-event == \\\"x\\\"",
    "score >=",
    "header. == \\\"\\\"",
];
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "64",
    "65",
    "500",
    "-1",
    "4294967296",
    "9223372036854775807",
    "1e3",
];
const DURATIONS: &[&str] = &["\"0s\"", "\"500ms\"", "\"1h\"", "\"7d\"", "5", "\"1x\""];

/// A config put together from known sections and values.
pub fn generate(rng: &mut Rng) -> Vec<u8> {
    let mut t = String::from("name = \"fuzz\"\n");
    if rng.one_in(2) {
        t += &format!("parallelization_factor = {}\n", rng.pick(NUMBERS));
    }
    t += "[source]\n";
    t += *rng.pick(SOURCES);
    if rng.one_in(2) {
        t += &format!(
            "[batch]\nmax_records = {}\nmax_wait_ms = {}\n",
            rng.pick(NUMBERS),
            rng.pick(NUMBERS)
        );
    }
    let sinks = 1 + rng.below(3);
    for i in 0..rng.below(3) {
        t += &format!("[[stages]]\nname = \"s{i}\"\nplugin = \"p{i}.wasm\"\n");
        if rng.one_in(3) {
            t += &format!(
                "limits = {{ deadline_ms = {}, memory_mb = {} }}\n",
                rng.pick(NUMBERS),
                rng.pick(NUMBERS)
            );
        }
        if rng.one_in(3) {
            t += &format!("window = {{ size = {} }}\n", rng.pick(DURATIONS));
        }
    }
    for _ in 0..rng.below(4) {
        t += &format!("[[routes]]\nsink = \"k{}\"\n", rng.below(sinks + 1));
        match rng.below(3) {
            0 => t += &format!("when = \"{}\"\n", rng.pick(CONDITIONS)),
            1 => t += "otherwise = true\n",
            _ => {}
        }
    }
    if rng.one_in(2) {
        t += &format!(
            "[errors]\nmax_retries = {}\nmax_record_age = {}\non_failure = \"k{}\"\n",
            rng.pick(NUMBERS),
            rng.pick(DURATIONS),
            rng.below(sinks + 1)
        );
    }
    if rng.one_in(3) {
        t += "[filter]\npatterns = ['{\"value\": {\"a\": [{\"numeric\": [\">\", 1]}]}}']\n";
    }
    for i in 0..sinks {
        t += &format!("[sinks.k{i}]\n{}", *rng.pick(SINKS));
    }
    t.into_bytes()
}
