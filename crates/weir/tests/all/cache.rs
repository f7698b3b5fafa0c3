//! The compiled-code cache: a component compiled once is mapped from disk
//! by the next engine with the same settings, an unusable entry is compiled
//! again, and the directory stays within its bound.

use std::path::Path;

use weir::plugin::{CacheConfig, Engine, EngineConfig, Grants, InstanceOptions, Plugin};

use super::{TestResult, batch};

fn load(config: &EngineConfig, name: &str) -> Result<Plugin, Box<dyn std::error::Error>> {
    let engine = Engine::with_config(config)?;
    Ok(engine.load_file(&weir_test_support::plugin(name), Grants::default())?)
}

fn entries(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

/// The amount filter's outcome on three records, to compare loads.
fn kept(plugin: &Plugin) -> Result<usize, Box<dyn std::error::Error>> {
    let options = InstanceOptions::with_settings([("min_amount", "50")]);
    let mut instance = plugin.instantiate(options)?;
    let outcome = instance
        .process(batch(&[
            r#"{"amount":10}"#,
            r#"{"amount":60}"#,
            r#"{"amount":70}"#,
        ]))
        .map_err(|f| f.error)?;
    Ok(outcome.records.len())
}

#[test]
fn a_second_engine_maps_what_the_first_compiled() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = EngineConfig::default().with_cache(CacheConfig::new(dir.path()));
    let first = load(&config, "amount_filter")?;
    assert!(!first.info().from_cache);
    assert_eq!(entries(dir.path()).len(), 1);
    let second = load(&config, "amount_filter")?;
    assert!(second.info().from_cache);
    assert_eq!(kept(&first)?, 2);
    assert_eq!(kept(&second)?, 2);

    // Other engine settings make other code: their own entry.
    let no_deadlines = config.clone().with_deadlines(false);
    assert!(!load(&no_deadlines, "amount_filter")?.info().from_cache);
    assert!(load(&no_deadlines, "amount_filter")?.info().from_cache);
    assert_eq!(entries(dir.path()).len(), 2);
    Ok(())
}

#[test]
fn an_unusable_entry_is_compiled_again_and_replaced() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = EngineConfig::default().with_cache(CacheConfig::new(dir.path()));
    load(&config, "amount_filter")?;
    let [entry] = &entries(dir.path())[..] else {
        return Err("expected one entry".into());
    };
    for garbage in [&b""[..], b"\x7fELF garbage", &[0xA5; 4096]] {
        std::fs::write(entry, garbage)?;
        let plugin = load(&config, "amount_filter")?;
        assert!(!plugin.info().from_cache);
        assert_eq!(kept(&plugin)?, 2);
        assert!(load(&config, "amount_filter")?.info().from_cache);
    }
    Ok(())
}

#[test]
fn the_cache_stays_within_its_bound() -> TestResult {
    let dir = tempfile::tempdir()?;
    let config = EngineConfig::default().with_cache(CacheConfig::new(dir.path()).with_max_mb(0));
    for name in ["amount_filter", "fraud_scorer"] {
        let plugin = load(&config, name)?;
        assert!(!plugin.info().from_cache);
    }
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    Ok(())
}

#[test]
fn a_cache_that_cannot_be_written_only_costs_the_compile() -> TestResult {
    let dir = tempfile::tempdir()?;
    // A file where the directory should be.
    let blocked = dir.path().join("not-a-dir");
    std::fs::write(&blocked, "")?;
    let config = EngineConfig::default().with_cache(CacheConfig::new(&blocked));
    let plugin = load(&config, "amount_filter")?;
    assert!(!plugin.info().from_cache);
    assert_eq!(kept(&plugin)?, 2);
    Ok(())
}
