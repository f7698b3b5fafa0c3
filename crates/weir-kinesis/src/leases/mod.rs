//! Shard leases: which process reads which shard, and how far each shard
//! is checkpointed.
//!
//! A lease is a row per shard, as the KCL keeps them: owner, a counter
//! bumped by every change, the checkpoint and the parent shards. Every
//! change is conditional on the counter the writer last saw, so of two
//! processes racing for a lease exactly one wins, and a process that lost
//! its lease can no longer move its checkpoint.

mod dynamo;
mod local;

pub(crate) use dynamo::DynamoLeases;
pub(crate) use local::LocalLeases;

use async_trait::async_trait;

use crate::aws::Failure;
use crate::sequence::SeqKey;

/// Where a shard's reading continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Checkpoint {
    /// Nothing read yet: from the oldest record.
    TrimHorizon,
    /// Nothing read yet: from records added after the start.
    Latest,
    /// Nothing read yet: from the configured time.
    AtTimestamp,
    /// Every record up to and including this one is done.
    At(SeqKey),
    /// The shard is closed and every record of it is done.
    ShardEnd,
}

impl Checkpoint {
    /// The KCL's text for it (sequence numbers as they are).
    pub(crate) fn text(&self) -> String {
        match self {
            Checkpoint::TrimHorizon => "TRIM_HORIZON".into(),
            Checkpoint::Latest => "LATEST".into(),
            Checkpoint::AtTimestamp => "AT_TIMESTAMP".into(),
            Checkpoint::At(k) => k.seq.to_string(),
            Checkpoint::ShardEnd => "SHARD_END".into(),
        }
    }

    /// Reads the KCL's text and sub-sequence number back.
    pub(crate) fn from_text(text: &str, sub: u64) -> Option<Self> {
        Some(match text {
            "TRIM_HORIZON" => Checkpoint::TrimHorizon,
            "LATEST" => Checkpoint::Latest,
            "AT_TIMESTAMP" => Checkpoint::AtTimestamp,
            "SHARD_END" => Checkpoint::ShardEnd,
            seq => {
                let key = SeqKey::parse(seq)?;
                Checkpoint::At(SeqKey::sub(&key.seq, sub))
            }
        })
    }
}

/// One shard's lease as last read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lease {
    pub(crate) shard: String,
    /// The worker holding it, if any.
    pub(crate) owner: Option<String>,
    /// Bumped by every change.
    pub(crate) counter: u64,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) parents: Vec<String>,
}

/// A lease store failed.
#[derive(Debug, thiserror::Error)]
#[error("lease table {table}: {failure}")]
pub(crate) struct LeaseError {
    pub(crate) table: String,
    pub(crate) failure: Failure,
}

/// Where leases live: a DynamoDB table shared by processes, or memory for
/// a single process whose checkpoints go to weir's own store.
#[async_trait]
pub(crate) trait LeaseStore: Send {
    /// Creates the table if need be and waits until it can be used.
    async fn prepare(&mut self) -> Result<(), LeaseError>;

    /// Every lease.
    async fn list(&mut self) -> Result<Vec<Lease>, LeaseError>;

    /// Adds `lease` unless the shard has one already (another process may
    /// have added it first).
    async fn create(&mut self, lease: &Lease) -> Result<(), LeaseError>;

    /// Takes `lease` for `owner` if nobody changed it since it was read.
    /// `None`: someone did.
    async fn take(&mut self, lease: &Lease, owner: &str) -> Result<Option<Lease>, LeaseError>;

    /// Renews a held lease, moving its checkpoint if one is given. `None`:
    /// the lease is no longer ours.
    async fn renew(
        &mut self,
        lease: &Lease,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<Option<Lease>, LeaseError>;

    /// Gives up a held lease after moving its checkpoint, so another
    /// process may take it at once.
    async fn release(
        &mut self,
        lease: &Lease,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(), LeaseError>;

    /// Names the store in logs.
    fn describe(&self) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip_as_the_kcl_writes_them() {
        for c in [
            Checkpoint::TrimHorizon,
            Checkpoint::Latest,
            Checkpoint::AtTimestamp,
            Checkpoint::ShardEnd,
            Checkpoint::At(SeqKey::plain("4959033827149025660855969253836157")),
            Checkpoint::At(SeqKey::sub("12", 3)),
        ] {
            let sub = match &c {
                Checkpoint::At(k) => k.sub_or_zero(),
                _ => 0,
            };
            assert_eq!(Checkpoint::from_text(&c.text(), sub), Some(c));
        }
        assert_eq!(Checkpoint::from_text("junk", 0), None);
    }
}
