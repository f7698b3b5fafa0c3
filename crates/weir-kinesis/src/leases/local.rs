//! Leases for a single process: every shard is its own, and checkpoints go
//! to weir's embedded store (through the runtime), not to a table.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{Checkpoint, Lease, LeaseError, LeaseStore};

/// In-memory leases.
#[derive(Debug, Default)]
pub(crate) struct LocalLeases {
    leases: BTreeMap<String, Lease>,
}

impl LocalLeases {
    fn apply(
        &mut self,
        lease: &Lease,
        owner: Option<&str>,
        checkpoint: Option<&Checkpoint>,
    ) -> Lease {
        let mut next = lease.clone();
        next.owner = owner.map(str::to_string);
        next.counter += 1;
        if let Some(c) = checkpoint {
            next.checkpoint = c.clone();
        }
        self.leases.insert(next.shard.clone(), next.clone());
        next
    }
}

#[async_trait]
impl LeaseStore for LocalLeases {
    async fn prepare(&mut self) -> Result<(), LeaseError> {
        Ok(())
    }

    async fn list(&mut self) -> Result<Vec<Lease>, LeaseError> {
        Ok(self.leases.values().cloned().collect())
    }

    async fn create(&mut self, lease: &Lease) -> Result<(), LeaseError> {
        self.leases
            .entry(lease.shard.clone())
            .or_insert_with(|| lease.clone());
        Ok(())
    }

    async fn take(&mut self, lease: &Lease, owner: &str) -> Result<Option<Lease>, LeaseError> {
        Ok(Some(self.apply(lease, Some(owner), None)))
    }

    async fn renew(
        &mut self,
        lease: &Lease,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Option<Lease>, LeaseError> {
        let owner = lease.owner.clone();
        Ok(Some(self.apply(lease, owner.as_deref(), checkpoint)))
    }

    async fn release(
        &mut self,
        lease: &Lease,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(), LeaseError> {
        self.apply(lease, None, checkpoint);
        Ok(())
    }

    fn describe(&self) -> String {
        "in memory (checkpoints in weir's store)".into()
    }
}
