//! Warm-up calls: a new instance's first call runs code and touches memory
//! no later call does (a Python plugin's first `process` costs about a
//! millisecond more than the next), so a reload pays it before the swap,
//! off the serving path, instead of the first batch after it.

use super::{PluginInstance, PluginKind};
use crate::record::{Batch, Record};
use crate::state::StateStore;

impl PluginInstance {
    /// Runs `sample` through the instance once and forgets the outcome.
    ///
    /// The call has no effects outside the guest: its state reads and
    /// writes go to a throwaway in-memory store, its metrics and log lines
    /// (stdout and stderr included) are dropped. A trap discards the
    /// instance as any trap does, and a fresh one is started in its place.
    /// Aggregators, whose calls go through their windows, are not warmed.
    pub(crate) fn warm(&mut self, sample: &[Record]) {
        if sample.is_empty() || self.plugin().kind() == PluginKind::Aggregator {
            return;
        }
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let host = live.store.data_mut();
        let throwaway = StateStore::in_memory().namespace(&host.plugin);
        let state = std::mem::replace(&mut host.state, throwaway);
        let metrics = host.metrics.take();
        host.set_quiet(true);
        let _ = self.process(Batch::new("warm-up", "0", sample.to_vec()));
        match self.live.as_mut() {
            Some(live) => {
                let host = live.store.data_mut();
                host.state = state;
                host.metrics = metrics;
                host.set_quiet(false);
            }
            // Trapped: started again with the instance's own state.
            None => {
                let _ = self.ensure_live();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::plugin::{Engine, Grants, InstanceOptions};
    use crate::record::Position;

    fn record(value: &str) -> Record {
        Record::new(value.as_bytes().to_vec(), Position::Offset(0), 0)
    }

    #[test]
    fn a_warm_up_leaves_no_state_and_no_metrics() -> Result<(), Box<dyn std::error::Error>> {
        let engine = Engine::new()?;
        let scorer = engine.load_file(
            &weir_test_support::plugin("fraud_scorer"),
            Grants::default(),
        )?;
        let store = StateStore::in_memory();
        let state = store.namespace("score");
        let mut instance = scorer.instantiate(InstanceOptions {
            state: Some(state.clone()),
            ..InstanceOptions::default()
        })?;
        let txn = r#"{"txn_id":"t-1","card_id":"c-1","amount":12.5,"country":"DE","ts":0}"#;
        instance.warm(&[record(txn)]);
        assert_eq!(state.get("card:c-1")?, None);
        // Still serving, with its own state.
        let out = instance.process(Batch::new("tx", "0", vec![record(txn)]));
        assert!(out.is_ok());
        assert!(state.get("card:c-1")?.is_some());

        let chaos =
            engine.load_file(&weir_test_support::plugin("test_chaos"), Grants::default())?;
        let metrics = Metrics::new();
        let mut instance = chaos.instantiate(InstanceOptions {
            metrics: Some(metrics.clone()),
            ..InstanceOptions::default()
        })?;
        instance.warm(&[record("metric")]);
        assert!(!metrics.render().contains("chaos_metric"));
        let out = instance.process(Batch::new("tx", "0", vec![record("metric")]));
        assert!(out.is_ok());
        assert!(metrics.render().contains("chaos_metric"));
        Ok(())
    }

    #[test]
    fn a_warm_up_that_traps_leaves_a_live_instance() -> Result<(), Box<dyn std::error::Error>> {
        let engine = Engine::new()?;
        let chaos =
            engine.load_file(&weir_test_support::plugin("test_chaos"), Grants::default())?;
        let mut instance = chaos.instantiate(InstanceOptions::default())?;
        instance.warm(&[record("trap")]);
        assert!(instance.live.is_some());
        let out = instance.process(Batch::new("tx", "0", vec![record("keep")]));
        assert_eq!(out.map(|o| o.records.len()).ok(), Some(1));
        Ok(())
    }
}
