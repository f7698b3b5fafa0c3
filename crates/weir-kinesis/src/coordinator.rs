//! The coordinator: finds the stream's shards, keeps the lease table in
//! step with them, takes, renews, balances and releases leases, moves
//! checkpoints, and runs one reader per held shard whose parents are done.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::balance::{Pick, View, choose};
use crate::leases::{Checkpoint, Lease, LeaseError, LeaseStore};
use crate::options::Start;
use crate::reader::{Control, ReaderContext, read_shard};
use crate::retry::Throttled;
use crate::sequence::SeqKey;
use crate::shards::{Shard, list_shards};
use crate::{LEASES_HELD, LEASES_HELD_HELP};

/// A lease this process holds.
struct Held {
    lease: Lease,
    renewed: Instant,
    /// The checkpoint last written for it.
    written: Checkpoint,
}

/// Whether leases are shared with other processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sharing {
    /// A lease table other processes use too.
    Shared,
    /// This process alone reads the stream.
    Alone,
}

pub(crate) struct Coordinator {
    store: Box<dyn LeaseStore>,
    sharing: Sharing,
    worker: String,
    start: Start,
    ctx: Arc<ReaderContext>,
    /// Checkpoints from weir's own store, by shard.
    resumed: HashMap<String, SeqKey>,
    held: HashMap<String, Held>,
    running: HashMap<String, JoinHandle<()>>,
    /// Owner and counter of every lease as last seen, and since when.
    seen: HashMap<String, (Option<String>, u64, Instant)>,
    shards: Vec<Shard>,
    listed: Option<Instant>,
    generation: u64,
    warn: Throttled,
}

/// What a cycle failure means.
enum Trouble {
    /// Retry next cycle.
    Transient(String),
    /// Reading cannot go on.
    Fatal(String),
}

impl From<LeaseError> for Trouble {
    fn from(e: LeaseError) -> Self {
        if e.failure.transient() {
            Trouble::Transient(e.to_string())
        } else {
            Trouble::Fatal(e.to_string())
        }
    }
}

impl Coordinator {
    pub(crate) fn new(
        store: Box<dyn LeaseStore>,
        sharing: Sharing,
        worker: String,
        start: Start,
        ctx: Arc<ReaderContext>,
        resumed: HashMap<String, SeqKey>,
    ) -> Self {
        Coordinator {
            store,
            sharing,
            worker,
            start,
            ctx,
            resumed,
            held: HashMap::new(),
            running: HashMap::new(),
            seen: HashMap::new(),
            shards: Vec::new(),
            listed: None,
            generation: 0,
            warn: Throttled::new(Duration::from_secs(10)),
        }
    }

    /// Leases are renewed three times per lease duration.
    fn period(&self) -> Duration {
        self.ctx.settings.lease_duration / 3
    }

    /// Runs until `stop` fires, then releases what it holds.
    pub(crate) async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        tracing::info!(worker = %self.worker, leases = %self.store.describe(), "shard coordinator started");
        loop {
            match self.cycle().await {
                Ok(()) => {}
                Err(Trouble::Fatal(message)) => {
                    let _ = self.ctx.control.send(Control::Fatal(message));
                    break;
                }
                Err(Trouble::Transient(message)) => {
                    if let Some(held) = self.warn.due() {
                        let more = if held > 0 {
                            format!(" ({held} more)")
                        } else {
                            String::new()
                        };
                        tracing::warn!(worker = %self.worker, "{message}; retrying{more}");
                    }
                }
            }
            let wake = self.ctx.wake.clone();
            tokio::select! {
                () = tokio::time::sleep(self.period()) => {}
                () = wake.notified() => {}
                _ = &mut stop => break,
            }
        }
        self.shutdown().await;
    }

    async fn cycle(&mut self) -> Result<(), Trouble> {
        let now = Instant::now();
        let relist = self
            .listed
            .is_none_or(|t| now.duration_since(t) >= self.ctx.settings.shard_sync_interval);
        if relist {
            self.shards = list_shards(&self.ctx.client, &self.ctx.stream)
                .await
                .map_err(|f| {
                    let message = format!("listing the shards of {}: {f}", self.ctx.described);
                    if f.transient() {
                        Trouble::Transient(message)
                    } else {
                        Trouble::Fatal(message)
                    }
                })?;
            self.listed = Some(now);
        }
        let mut leases = self.store.list().await?;
        if self.add_missing(&leases).await? {
            leases = self.store.list().await?;
        }
        self.observe(&leases);
        if self.renew(&leases).await? {
            // Finished or lost leases changed the table: decide on what it
            // holds now.
            leases = self.store.list().await?;
            self.observe(&leases);
        }
        self.acquire(&leases).await?;
        self.start_readers();
        let held = self.held.len() as f64;
        self.ctx
            .metrics
            .gauge(
                LEASES_HELD,
                LEASES_HELD_HELP,
                &[("stream", &self.ctx.stream.name)],
            )
            .set(held);
        Ok(())
    }

    /// Creates leases for shards that have none. Shards that appear after
    /// their parents were seen start at their beginning (their records
    /// follow the parents'); the others at the configured start.
    async fn add_missing(&mut self, leases: &[Lease]) -> Result<bool, Trouble> {
        let known: HashMap<&str, &Lease> = leases.iter().map(|l| (l.shard.as_str(), l)).collect();
        let initial = match self.start {
            Start::TrimHorizon => Checkpoint::TrimHorizon,
            Start::Latest => Checkpoint::Latest,
            Start::AtTimestamp(_) => Checkpoint::AtTimestamp,
        };
        let mut created = Vec::new();
        for shard in &self.shards {
            if known.contains_key(shard.id.as_str()) {
                continue;
            }
            let parent_read = shard.parents.iter().any(|p| {
                known.get(p.as_str()).is_some_and(|l| {
                    matches!(l.checkpoint, Checkpoint::At(_) | Checkpoint::ShardEnd)
                        || self.listed_before(p)
                }) || self.resumed.contains_key(p)
            });
            let checkpoint = match self.resumed.get(&shard.id) {
                Some(k) => Checkpoint::At(k.clone()),
                None if parent_read => Checkpoint::TrimHorizon,
                None => initial.clone(),
            };
            created.push(Lease {
                shard: shard.id.clone(),
                owner: None,
                counter: 0,
                checkpoint,
                parents: shard.parents.clone(),
            });
        }
        for lease in &created {
            tracing::info!(shard = %lease.shard, parents = ?lease.parents, checkpoint = %lease.checkpoint.text(), "new shard lease");
            self.store.create(lease).await?;
        }
        Ok(!created.is_empty())
    }

    /// Whether `shard` had a lease before this cycle (seen earlier).
    fn listed_before(&self, shard: &str) -> bool {
        self.seen.contains_key(shard)
    }

    fn observe(&mut self, leases: &[Lease]) {
        let now = Instant::now();
        for l in leases {
            let entry = self
                .seen
                .entry(l.shard.clone())
                .or_insert_with(|| (l.owner.clone(), l.counter, now));
            if entry.0 != l.owner || entry.1 != l.counter {
                *entry = (l.owner.clone(), l.counter, now);
            }
        }
    }

    fn expired(&self, lease: &Lease) -> bool {
        match &lease.owner {
            None => true,
            Some(o) if *o == self.worker => !self.held.contains_key(&lease.shard),
            Some(_) => self
                .seen
                .get(&lease.shard)
                .is_none_or(|(_, _, since)| since.elapsed() > self.ctx.settings.lease_duration),
        }
    }

    /// Renews held leases, moving their checkpoints; drops lost ones and
    /// finishes shards whose every record is done. Returns whether a lease
    /// was finished or lost.
    async fn renew(&mut self, leases: &[Lease]) -> Result<bool, Trouble> {
        let mut trouble = None;
        let mut changed = false;
        let table: HashMap<&str, &Lease> = leases.iter().map(|l| (l.shard.as_str(), l)).collect();
        let shards: Vec<String> = self.held.keys().cloned().collect();
        for shard in shards {
            let Some(held) = self.held.get(&shard) else {
                continue;
            };
            // Changed by someone else since we wrote it: taken over.
            let stolen = table
                .get(shard.as_str())
                .is_none_or(|l| l.counter != held.lease.counter || l.owner != held.lease.owner);
            if stolen {
                self.lose(&shard, "another process took the lease");
                changed = true;
                continue;
            }
            let status = self.ctx.progress.status(&shard);
            let checkpoint = match &status {
                Some(s) if s.finished => Some(Checkpoint::ShardEnd),
                Some(s) => s
                    .acked
                    .clone()
                    .map(Checkpoint::At)
                    .filter(|c| *c != held.written),
                None => None,
            };
            let finished = checkpoint == Some(Checkpoint::ShardEnd);
            let lease = held.lease.clone();
            let result = if finished {
                self.store
                    .release(&lease, checkpoint.as_ref())
                    .await
                    .map(|()| None)
            } else {
                self.store
                    .renew(&lease, checkpoint.as_ref())
                    .await
                    .map(Some)
            };
            match result {
                Ok(None) => {
                    changed = true;
                    tracing::info!(shard = %shard, "shard finished: every record is done; its children may start");
                    self.held.remove(&shard);
                    self.stop_reader(&shard);
                    self.listed = None; // find the children now
                    self.ctx.wake.notify_one();
                }
                Ok(Some(Some(lease))) => {
                    if let Some(h) = self.held.get_mut(&shard) {
                        if let Some(c) = checkpoint {
                            h.written = c;
                        }
                        h.lease = lease;
                        h.renewed = Instant::now();
                    }
                }
                Ok(Some(None)) => {
                    changed = true;
                    self.lose(&shard, "the lease was taken over");
                }
                Err(e) => {
                    let late = self
                        .held
                        .get(&shard)
                        .is_some_and(|h| h.renewed.elapsed() > self.ctx.settings.lease_duration);
                    if late {
                        changed = true;
                        self.lose(&shard, "the lease could not be renewed in time");
                    }
                    trouble.get_or_insert(e);
                }
            }
        }
        trouble.map_or(Ok(changed), |e| Err(e.into()))
    }

    fn lose(&mut self, shard: &str, why: &str) {
        tracing::warn!(worker = %self.worker, shard, "lease lost: {why}; records not yet acknowledged will be read again by the new owner");
        self.held.remove(shard);
        self.stop_reader(shard);
        let _ = self.ctx.control.send(Control::Lost(shard.to_string()));
    }

    fn stop_reader(&mut self, shard: &str) {
        if let Some(task) = self.running.remove(shard) {
            task.abort();
        }
        self.ctx.progress.stop(shard);
    }

    /// Takes the leases [`choose`] picks (see [`crate::balance`]).
    async fn acquire(&mut self, leases: &[Lease]) -> Result<(), Trouble> {
        let picks = {
            let listed: HashSet<&str> = self.shards.iter().map(|s| s.id.as_str()).collect();
            let held: HashSet<&str> = self.held.keys().map(String::as_str).collect();
            let expired = |l: &Lease| self.expired(l);
            choose(&View {
                leases,
                listed: &listed,
                held: &held,
                shared: self.sharing == Sharing::Shared,
                expired: &expired,
            })
        };
        let mut to_take = Vec::with_capacity(picks.len());
        for pick in picks {
            match pick {
                Pick::Free(lease) => to_take.push(lease),
                Pick::Steal {
                    lease,
                    from,
                    count,
                    share,
                } => {
                    tracing::info!(worker = %self.worker, shard = %lease.shard, from = %from, "taking a lease to balance the load ({count} held there, {share} each)");
                    to_take.push(lease);
                }
            }
        }
        for lease in to_take {
            if let Some(taken) = self.store.take(&lease, &self.worker).await? {
                if lease.owner.as_ref().is_some_and(|o| *o != self.worker) {
                    tracing::info!(worker = %self.worker, shard = %lease.shard, previous = ?lease.owner, checkpoint = %lease.checkpoint.text(), "took over the lease");
                } else {
                    tracing::info!(worker = %self.worker, shard = %lease.shard, checkpoint = %lease.checkpoint.text(), "took the lease");
                }
                self.seen.insert(
                    taken.shard.clone(),
                    (taken.owner.clone(), taken.counter, Instant::now()),
                );
                self.held.insert(
                    taken.shard.clone(),
                    Held {
                        written: taken.checkpoint.clone(),
                        lease: taken,
                        renewed: Instant::now(),
                    },
                );
            }
        }
        Ok(())
    }

    fn start_readers(&mut self) {
        let shards: Vec<String> = self
            .held
            .keys()
            .filter(|s| !self.running.contains_key(*s))
            .cloned()
            .collect();
        for shard in shards {
            let Some(held) = self.held.get(&shard) else {
                continue;
            };
            // weir's own checkpoint may be ahead of the table's (written
            // before a crash could reach the table): records up to it were
            // acknowledged, so they are not read again.
            let from = match (&held.lease.checkpoint, self.resumed.get(&shard)) {
                (Checkpoint::At(table), Some(local)) if local > table => {
                    Checkpoint::At(local.clone())
                }
                (
                    Checkpoint::TrimHorizon | Checkpoint::Latest | Checkpoint::AtTimestamp,
                    Some(local),
                ) => Checkpoint::At(local.clone()),
                (c, _) => c.clone(),
            };
            self.generation += 1;
            let generation = self.generation;
            self.ctx.progress.start(&shard, generation);
            tracing::info!(shard = %shard, from = %from.text(), "reading shard");
            let task = tokio::spawn(read_shard(
                self.ctx.clone(),
                shard.clone(),
                generation,
                from,
            ));
            // A reader that reached the end stays listed until its shard is
            // finished, so it is not started again.
            self.running.insert(shard, task);
        }
    }

    /// Stops every reader and releases every lease, writing the last
    /// checkpoints.
    async fn shutdown(&mut self) {
        for (_, task) in self.running.drain() {
            task.abort();
        }
        let held: Vec<(String, Held)> = self.held.drain().collect();
        for (shard, h) in held {
            let checkpoint = match self.ctx.progress.status(&shard) {
                Some(s) if s.finished => Some(Checkpoint::ShardEnd),
                Some(s) => s.acked.map(Checkpoint::At).filter(|c| *c != h.written),
                None => None,
            };
            match self.store.release(&h.lease, checkpoint.as_ref()).await {
                Ok(()) => {
                    tracing::info!(worker = %self.worker, shard = %shard, checkpoint = %checkpoint.as_ref().unwrap_or(&h.written).text(), "lease released")
                }
                Err(e) => {
                    tracing::warn!(worker = %self.worker, shard = %shard, "releasing the lease: {e}")
                }
            }
            self.ctx.progress.stop(&shard);
        }
        if self.sharing == Sharing::Shared {
            tracing::info!(worker = %self.worker, "shard coordinator stopped; leases released");
        }
    }
}
