//! Integration tests of the weir library against real plugin components
//! built from source (plugins/).

mod acks;
mod admin;
mod alarms;
mod cache;
mod cases;
mod deepracer;
mod in_flight;
mod languages;
mod metrics;
mod operations;
mod pipelines;
mod plugins;
mod reload;
mod state;

use weir::plugin::{Engine, Grants, InstanceOptions, Plugin, PluginInstance};
use weir::{Batch, Position, Record};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn engine() -> Engine {
    match Engine::new() {
        Ok(e) => e,
        Err(e) => panic!("engine: {e}"),
    }
}

fn load(engine: &Engine, name: &str) -> Plugin {
    match engine.load_file(&weir_test_support::plugin(name), Grants::default()) {
        Ok(p) => p,
        Err(e) => panic!("loading {name}: {e}"),
    }
}

fn instance(name: &str, settings: &[(&str, &str)]) -> PluginInstance {
    let plugin = load(&engine(), name);
    match plugin.instantiate(InstanceOptions::with_settings(settings.iter().copied())) {
        Ok(i) => i,
        Err(e) => panic!("instantiating {name}: {e}"),
    }
}

fn batch(values: &[&str]) -> Batch {
    let records = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record::new(v.as_bytes().to_vec(), Position::Offset(i as u64), 0))
        .collect();
    Batch::new("test", "0", records)
}
