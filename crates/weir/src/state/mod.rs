//! The embedded store behind the plugin `state` import.
//!
//! One [redb] file under the pipeline's data directory holds every plugin's
//! keys, namespaced by plugin, and the pipeline's source checkpoints. Writes
//! made during a batch are kept in memory; after the batch's records were
//! acknowledged by every sink, the runtime writes the plugins' changes and
//! the new source position in ONE transaction. After a crash, state and position therefore always agree:
//! the replayed records were never counted in the state.
//!
//! Every write carries the tag of the plugin call that made it (the tag
//! travels in the call's host state), so the writes of a call that failed
//! are rolled back before it is retried, and with several batches of a
//! partition in flight only the writes of the batches being checkpointed
//! are committed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use redb::{ReadableDatabase as _, ReadableTable as _, TableDefinition};

const STATE: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("plugin_state");
const CHECKPOINTS: TableDefinition<'_, &str, &str> = TableDefinition::new("checkpoints");

use crate::plugin::{Limits, QuotaExceeded};
use crate::record::Position;

fn encode_position(p: &Position) -> String {
    match p {
        Position::Offset(o) => format!("o:{o}"),
        Position::Sequence(s) => format!("s:{s}"),
    }
}

fn decode_position(s: &str) -> Option<Position> {
    match s.split_at_checked(2)? {
        ("o:", o) => o.parse().ok().map(Position::Offset),
        ("s:", seq) => Some(Position::Sequence(seq.into())),
        _ => None,
    }
}

/// One source partition's committed position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The source, as [`Source::describe`](crate::Source::describe) names it.
    pub source: String,
    /// The partition or shard.
    pub partition: String,
    /// The last position whose records are all acknowledged.
    pub position: Position,
}

/// An error of the state store.
#[derive(Debug, thiserror::Error)]
#[error("state store `{location}`: {message}")]
pub struct StateError {
    location: String,
    message: String,
}

/// A store of plugin state: a file, or memory only.
#[derive(Debug, Clone)]
pub struct StateStore {
    db: Option<Arc<redb::Database>>,
    location: String,
    /// Test fault injection: how many of the next reads fail.
    #[cfg(test)]
    failing_reads: Arc<std::sync::atomic::AtomicU32>,
}

impl StateStore {
    /// Opens (or creates) the store file `state.redb` in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StateError> {
        let location = dir.join("state.redb").display().to_string();
        let err = |message: String| StateError {
            location: location.clone(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(format!("cannot create directory: {e}")))?;
        let db = redb::Database::create(dir.join("state.redb")).map_err(|e| err(e.to_string()))?;
        Ok(StateStore {
            db: Some(Arc::new(db)),
            location,
            #[cfg(test)]
            failing_reads: Arc::default(),
        })
    }

    /// A store that keeps everything in memory and forgets it on exit.
    pub fn in_memory() -> Self {
        StateStore {
            db: None,
            location: "memory".to_string(),
            #[cfg(test)]
            failing_reads: Arc::default(),
        }
    }

    /// Makes the next `n` reads of keys not yet cached fail.
    #[cfg(test)]
    pub(crate) fn fail_next_reads(&self, n: u32) {
        self.failing_reads.store(n, Ordering::SeqCst);
    }

    /// The state of one plugin (its keys only).
    pub fn namespace(&self, namespace: &str) -> StateHandle {
        StateHandle {
            inner: Arc::new(Inner {
                store: self.clone(),
                prefix: format!("{namespace}\u{0}"),
                cache: Mutex::new(Cache::default()),
            }),
        }
    }
}

/// One uncommitted write: its tag and the value (`None`: deleted).
type Write = (u64, Option<Vec<u8>>);

/// The uncommitted writes of one key.
#[derive(Debug, Default)]
struct Pending {
    /// In the order they were made, each with the tag of the call.
    writes: Vec<Write>,
    /// Whether the key was not known to exist when it entered the journal
    /// (it counts as a new key until committed).
    new_key: bool,
}

/// What the committed state of a namespace holds.
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    /// Bytes of keys plus values.
    bytes: u64,
    keys: u64,
}

/// Most keys the read cache of a store file keeps; past it, it starts
/// afresh (it is only a cache: the file has every value).
const CACHE_MAX_KEYS: usize = 65_536;

#[derive(Debug, Default)]
struct Cache {
    /// Values as the database holds them, for keys read or committed so
    /// far; `None` means absent. For a store in memory, this is the store.
    committed: HashMap<String, Option<Vec<u8>>>,
    /// Writes not yet committed, per key.
    journal: HashMap<String, Pending>,
    /// The keys each tag wrote.
    by_tag: HashMap<u64, Vec<String>>,
    /// What the committed state holds; counted on the first write.
    usage: Option<Usage>,
    /// Bytes (key plus value) of the journal's writes.
    pending_bytes: u64,
    /// Keys in the journal counted as new.
    pending_new_keys: u64,
}

/// What an entry of a key and a value of these lengths takes in the store,
/// as the state quota counts it: the bytes plus 16 for the entry, and an
/// entry larger than a page (4 KiB) as the next power of two, which is how
/// the store file allocates large values.
pub(crate) fn stored_size(key_len: usize, value_len: usize) -> u64 {
    let n = (key_len + value_len + 16) as u64;
    if n > 4096 { n.next_power_of_two() } else { n }
}

/// The bytes of entries `limits.state_mb` allows: half of it, so that the
/// store file, which grows by doubling and copies the pages a commit
/// changes, stays within the limit on disk.
fn entry_budget(limits: &Limits) -> u64 {
    limits.state_bytes() as u64 / 2
}

fn write_size(key: &str, value: Option<&Vec<u8>>) -> u64 {
    stored_size(key.len(), value.map_or(0, Vec::len))
}

impl Cache {
    /// Remembers `key`'s committed value, starting the cache afresh when a
    /// file-backed store's cache is full.
    fn remember(&mut self, key: String, value: Option<Vec<u8>>, file_backed: bool) {
        if file_backed && self.committed.len() >= CACHE_MAX_KEYS {
            self.committed.clear();
        }
        self.committed.insert(key, value);
    }

    /// Removes the writes of `key` for which `gone` says so, keeping the
    /// pending counts; returns the last value removed, if any.
    fn take_writes(
        &mut self,
        key: &str,
        mut gone: impl FnMut(u64) -> bool,
    ) -> Option<Option<Vec<u8>>> {
        let pending = self.journal.get_mut(key)?;
        let mut last = None;
        let mut freed = 0;
        pending.writes.retain_mut(|(t, v)| {
            if gone(*t) {
                freed += write_size(key, v.as_ref());
                last = Some(v.take());
                false
            } else {
                true
            }
        });
        self.pending_bytes = self.pending_bytes.saturating_sub(freed);
        if pending.writes.is_empty() {
            if pending.new_key {
                self.pending_new_keys = self.pending_new_keys.saturating_sub(1);
            }
            self.journal.remove(key);
        }
        last
    }
}

/// Why a plugin's state write was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteRefused {
    /// Past `limits.state_mb` or `limits.state_keys`.
    #[error(transparent)]
    Quota(#[from] QuotaExceeded),
    /// The store could not count what it holds.
    #[error("state write of key `{key}` failed: {error}")]
    Store {
        /// What the store said.
        error: StateError,
        /// The key written (its first 64 characters).
        key: String,
    },
}

#[derive(Debug)]
struct Inner {
    store: StateStore,
    prefix: String,
    cache: Mutex<Cache>,
}

/// One plugin's view of the state store. Clones share the same state.
///
/// Reads see every write made so far, committed or not. Writes stay in
/// memory until they are made durable: those made here with
/// [`set`](Self::set) and [`delete`](Self::delete) by [`flush`](Self::flush);
/// those a plugin makes during a pipeline's call together with the
/// checkpoint of the batch the call processed, and not at all when the
/// call failed.
#[derive(Debug, Clone)]
pub struct StateHandle {
    inner: Arc<Inner>,
}

/// The tag of writes made outside any plugin call.
pub(crate) const UNTAGGED: u64 = 0;

static NEXT_TAG: AtomicU64 = AtomicU64::new(1);

/// A fresh write tag, never returned before in this process.
pub(crate) fn next_tag() -> u64 {
    NEXT_TAG.fetch_add(1, Ordering::Relaxed)
}

impl StateHandle {
    fn err(&self, message: impl ToString) -> StateError {
        self.inner.store.err(message)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn read_db(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        #[cfg(test)]
        if self
            .inner
            .store
            .failing_reads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(self.err("injected read failure"));
        }
        let Some(db) = &self.inner.store.db else {
            return Ok(None);
        };
        let txn = db.begin_read().map_err(|e| self.err(e))?;
        let table = match txn.open_table(STATE) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.err(e)),
        };
        let full = format!("{}{key}", self.inner.prefix);
        let value = table.get(full.as_str()).map_err(|e| self.err(e))?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    /// The value of `key`: the latest write, committed or not.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.with_value(key, |v| v.map(<[u8]>::to_vec))
    }

    /// `f` of the value of `key` (as [`get`](Self::get) finds it), without
    /// copying the value out.
    pub(crate) fn with_value<R>(
        &self,
        key: &str,
        f: impl FnOnce(Option<&[u8]>) -> R,
    ) -> Result<R, StateError> {
        let mut cache = self.lock();
        if let Some((_, v)) = cache.journal.get(key).and_then(|p| p.writes.last()) {
            return Ok(f(v.as_deref()));
        }
        if let Some(v) = cache.committed.get(key) {
            return Ok(f(v.as_deref()));
        }
        let value = self.read_db(key)?;
        let answer = f(value.as_deref());
        if self.file_backed() {
            cache.remember(key.to_string(), value, true);
        }
        Ok(answer)
    }

    fn file_backed(&self) -> bool {
        self.inner.store.db.is_some()
    }

    /// Counts what the committed state holds: the namespace's keys in the
    /// file, or the store in memory.
    fn count_usage(&self, cache: &Cache) -> Result<Usage, StateError> {
        let mut usage = Usage::default();
        let Some(db) = &self.inner.store.db else {
            for (k, v) in &cache.committed {
                if let Some(v) = v {
                    usage.bytes += stored_size(k.len(), v.len());
                    usage.keys += 1;
                }
            }
            return Ok(usage);
        };
        let txn = db.begin_read().map_err(|e| self.err(e))?;
        let table = match txn.open_table(STATE) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(usage),
            Err(e) => return Err(self.err(e)),
        };
        let prefix = self.inner.prefix.as_str();
        for entry in table.range(prefix..).map_err(|e| self.err(e))? {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            let Some(key) = k.value().strip_prefix(prefix) else {
                break;
            };
            usage.bytes += stored_size(key.len(), v.value().len());
            usage.keys += 1;
        }
        Ok(usage)
    }

    /// Records a write made by the call tagged `tag` (`None`: a delete).
    pub(crate) fn write(&self, tag: u64, key: &str, value: Option<Vec<u8>>) {
        let mut cache = self.lock();
        Self::journal(&mut cache, tag, key.to_string(), value);
    }

    fn journal(cache: &mut Cache, tag: u64, key: String, value: Option<Vec<u8>>) {
        cache.pending_bytes += write_size(&key, value.as_ref());
        cache.by_tag.entry(tag).or_default().push(key.clone());
        // A key written before in this call (or an uncommitted one) is
        // looked up, not copied again.
        if let Some(pending) = cache.journal.get_mut(&key) {
            pending.writes.push((tag, value));
            return;
        }
        let new_key = !matches!(cache.committed.get(&key), Some(Some(_)));
        if new_key {
            cache.pending_new_keys += 1;
        }
        cache.journal.insert(
            key,
            Pending {
                writes: vec![(tag, value)],
                new_key,
            },
        );
    }

    /// As [`write`](Self::write), refused past the state limits of
    /// `limits` (`state_mb`, `state_keys`). Uncommitted writes count in
    /// full (an overwrite as if it added its bytes) until committed; a
    /// delete is never refused.
    pub(crate) fn write_within(
        &self,
        tag: u64,
        key: String,
        value: Option<Vec<u8>>,
        limits: &Limits,
    ) -> Result<(), WriteRefused> {
        let mut cache = self.lock();
        if value.is_some() {
            let usage = match cache.usage {
                Some(u) => u,
                None => {
                    let u = self
                        .count_usage(&cache)
                        .map_err(|error| WriteRefused::Store {
                            error,
                            key: key.chars().take(64).collect(),
                        })?;
                    cache.usage = Some(u);
                    u
                }
            };
            let size = write_size(&key, value.as_ref());
            let bytes = usage.bytes + cache.pending_bytes + size;
            if bytes > entry_budget(limits) {
                return Err(QuotaExceeded::new(
                    "state_mb",
                    limits.state_mb,
                    " MiB",
                    format!(
                        "a state write of {size} bytes would make the plugin's state {bytes} bytes \
                         (its entries may fill half of the limit: the store file grows by doubling)"
                    ),
                )
                .into());
            }
            let known = cache.journal.contains_key(&key)
                || matches!(cache.committed.get(&key), Some(Some(_)));
            let keys = usage.keys + cache.pending_new_keys + u64::from(!known);
            if keys > limits.state_keys {
                return Err(QuotaExceeded::new(
                    "state_keys",
                    limits.state_keys,
                    "",
                    format!(
                        "writing key `{}` would make the plugin's state {keys} keys",
                        key.chars().take(64).collect::<String>()
                    ),
                )
                .into());
            }
        }
        Self::journal(&mut cache, tag, key, value);
        Ok(())
    }

    /// Sets `key`: visible at once, durable after [`flush`](Self::flush).
    pub fn set(&self, key: &str, value: Vec<u8>) {
        self.write(UNTAGGED, key, Some(value));
    }

    /// Removes `key`: visible at once, durable after [`flush`](Self::flush).
    pub fn delete(&self, key: &str) {
        self.write(UNTAGGED, key, None);
    }

    /// Discards the writes tagged `tag`.
    pub(crate) fn rollback(&self, tag: u64) {
        let mut cache = self.lock();
        let Some(keys) = cache.by_tag.remove(&tag) else {
            return;
        };
        for key in keys {
            cache.take_writes(&key, |t| t == tag);
        }
    }

    /// Takes the writes tagged with any of `tags`: per key, the value of the
    /// last of them, with the key's size before (if known) and after. A
    /// store file's changes also carry the full key and the value; a store
    /// in memory needs only the sizes (its cache is the store).
    fn drain(&self, tags: &[u64]) -> Vec<Change> {
        let mut cache = self.lock();
        let keys: Vec<String> = tags
            .iter()
            .filter_map(|t| cache.by_tag.remove(t))
            .flatten()
            .collect();
        let file_backed = self.file_backed();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            // A key written more than once is taken at its first mention;
            // later ones find nothing left to take.
            let Some(value) = cache.take_writes(&key, |t| tags.contains(&t)) else {
                continue;
            };
            let before = cache
                .committed
                .get(&key)
                .map(|v| v.as_ref().map(|v| stored_size(key.len(), v.len())));
            let after = value.as_ref().map(|v| stored_size(key.len(), v.len()));
            let entry = file_backed.then(|| (format!("{}{key}", self.inner.prefix), value.clone()));
            cache.remember(key, value, file_backed);
            out.push(Change {
                entry,
                before,
                after,
            });
        }
        out
    }

    /// Counts committed changes in the usage, if it was counted.
    fn settle(&self, delta_bytes: i64, delta_keys: i64) {
        let mut cache = self.lock();
        if let Some(u) = &mut cache.usage {
            u.bytes = u.bytes.saturating_add_signed(delta_bytes);
            u.keys = u.keys.saturating_add_signed(delta_keys);
        }
    }

    /// Forgets the counted usage (it is counted again on the next write).
    fn recount(&self) {
        self.lock().usage = None;
    }

    /// Persists this handle's writes made with [`set`](Self::set) and
    /// [`delete`](Self::delete) (and by plugin instances used outside a
    /// pipeline).
    pub fn flush(&self) -> Result<(), StateError> {
        self.commit_tag(UNTAGGED)
    }

    /// Persists this handle's writes tagged `tag`.
    fn commit_tag(&self, tag: u64) -> Result<(), StateError> {
        self.inner
            .store
            .commit(std::slice::from_ref(self), &[tag], &[])
    }

    /// Settles the writes tagged `tag` of a call nobody else commits for:
    /// persists them when the call succeeded (`ok`), drops them when it
    /// failed. A commit that fails is logged; its writes stay pending.
    pub(crate) fn settle_call(&self, tag: u64, ok: bool) {
        if !ok {
            self.rollback(tag);
        } else if let Err(e) = self.commit_tag(tag) {
            tracing::warn!("committing a call's state writes: {e}");
        }
    }
}

/// One key's committed change: for a store file, the full key and its new
/// value; its size (key plus value) before, when the cache knew it, and
/// after.
struct Change {
    entry: Option<(String, Option<Vec<u8>>)>,
    before: Option<Option<u64>>,
    after: Option<u64>,
}

/// The change in bytes and keys from a key of size `before` to `after`.
fn delta(before: Option<u64>, after: Option<u64>) -> (i64, i64) {
    let size = |s: Option<u64>| s.map_or(0, |s| s as i64);
    let count = |s: Option<u64>| i64::from(s.is_some());
    (size(after) - size(before), count(after) - count(before))
}

impl StateStore {
    fn err(&self, message: impl ToString) -> StateError {
        StateError {
            location: self.location.clone(),
            message: message.to_string(),
        }
    }

    /// Writes the changes tagged with `tags` of every handle and the source
    /// `checkpoints` in one transaction: either all of it is durable or none
    /// of it.
    pub(crate) fn commit(
        &self,
        handles: &[StateHandle],
        tags: &[u64],
        checkpoints: &[Checkpoint],
    ) -> Result<(), StateError> {
        let changes: Vec<Vec<Change>> = handles.iter().map(|h| h.drain(tags)).collect();
        let Some(db) = &self.db else {
            // In memory, the cache is the store: it knew every size.
            for (h, changes) in handles.iter().zip(&changes) {
                let (mut bytes, mut keys) = (0, 0);
                for c in changes {
                    let (b, k) = delta(c.before.flatten(), c.after);
                    bytes += b;
                    keys += k;
                }
                h.settle(bytes, keys);
            }
            return Ok(());
        };
        if changes.iter().all(Vec::is_empty) && checkpoints.is_empty() {
            return Ok(());
        }
        let mut deltas = vec![(0i64, 0i64); handles.len()];
        let result = (|| {
            let txn = db.begin_write().map_err(|e| self.err(e))?;
            {
                let mut table = txn.open_table(STATE).map_err(|e| self.err(e))?;
                for (i, changes) in changes.iter().enumerate() {
                    for c in changes {
                        let Some((key, value)) = &c.entry else {
                            continue;
                        };
                        let key = key.as_str();
                        let old = match value {
                            Some(v) => table.insert(key, v.as_slice()),
                            None => table.remove(key),
                        }
                        .map_err(|e| self.err(e))?
                        .map(|old| {
                            // Sizes count the key without the namespace prefix.
                            let prefix = handles[i].inner.prefix.len();
                            stored_size(key.len() - prefix, old.value().len())
                        });
                        let (b, k) = delta(old, c.after);
                        deltas[i].0 += b;
                        deltas[i].1 += k;
                    }
                }
                let mut cps = txn.open_table(CHECKPOINTS).map_err(|e| self.err(e))?;
                for c in checkpoints {
                    let key = format!("{}\u{0}{}", c.source, c.partition);
                    cps.insert(key.as_str(), encode_position(&c.position).as_str())
                        .map_err(|e| self.err(e))?;
                }
            }
            txn.commit().map_err(|e| self.err(e))
        })();
        match &result {
            Ok(()) => {
                for (h, (b, k)) in handles.iter().zip(deltas) {
                    h.settle(b, k);
                }
            }
            Err(_) => handles.iter().for_each(StateHandle::recount),
        }
        result
    }

    /// The committed checkpoints of `source`.
    pub fn checkpoints(&self, source: &str) -> Result<Vec<Checkpoint>, StateError> {
        let Some(db) = &self.db else {
            return Ok(Vec::new());
        };
        let txn = db.begin_read().map_err(|e| self.err(e))?;
        let table = match txn.open_table(CHECKPOINTS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(self.err(e)),
        };
        let prefix = format!("{source}\u{0}");
        let mut out = Vec::new();
        for entry in table.iter().map_err(|e| self.err(e))? {
            let (k, v) = entry.map_err(|e| self.err(e))?;
            if let Some(partition) = k.value().strip_prefix(&prefix) {
                let position = decode_position(v.value())
                    .ok_or_else(|| self.err(format!("corrupt checkpoint `{}`", v.value())))?;
                out.push(Checkpoint {
                    source: source.to_string(),
                    partition: partition.to_string(),
                    position,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_reopen_after_flush() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        {
            let store = StateStore::open(dir.path())?;
            let a = store.namespace("a");
            a.set("k", b"v1".to_vec());
            store.namespace("b").set("k", b"other".to_vec());
            a.flush()?;
        }
        let store = StateStore::open(dir.path())?;
        assert_eq!(store.namespace("a").get("k")?, Some(b"v1".to_vec()));
        // b was never flushed
        assert_eq!(store.namespace("b").get("k")?, None);
        Ok(())
    }

    #[test]
    fn state_and_checkpoint_commit_together() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        {
            let store = StateStore::open(dir.path())?;
            let a = store.namespace("a");
            a.set("k", b"v".to_vec());
            let cp = Checkpoint {
                source: "gen".into(),
                partition: "0".into(),
                position: Position::Offset(41),
            };
            store.commit(&[a], &[0], &[cp])?;
        }
        let store = StateStore::open(dir.path())?;
        assert_eq!(store.namespace("a").get("k")?, Some(b"v".to_vec()));
        let cps = store.checkpoints("gen")?;
        assert_eq!(cps.len(), 1);
        assert_eq!(cps[0].position, Position::Offset(41));
        assert!(store.checkpoints("other")?.is_empty());
        Ok(())
    }

    #[test]
    fn delete_is_persisted() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = StateStore::open(dir.path())?;
        let a = store.namespace("a");
        a.set("k", b"v".to_vec());
        a.flush()?;
        a.delete("k");
        a.flush()?;
        drop((a, store));
        let store = StateStore::open(dir.path())?;
        assert_eq!(store.namespace("a").get("k")?, None);
        Ok(())
    }

    #[test]
    fn tagged_writes_commit_or_roll_back_by_tag() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        {
            let store = StateStore::open(dir.path())?;
            let a = store.namespace("a");
            let (t1, t2, t3) = (next_tag(), next_tag(), next_tag());
            a.write(t1, "k", Some(b"1".to_vec()));
            a.write(t2, "k", Some(b"2".to_vec()));
            a.write(t3, "j", Some(b"x".to_vec()));
            assert_eq!(a.get("k")?, Some(b"2".to_vec()));
            a.rollback(t2);
            assert_eq!(a.get("k")?, Some(b"1".to_vec()));
            a.write(t2, "k", Some(b"2b".to_vec()));
            // Commit t1 only: t2's and t3's writes stay pending.
            store.commit(std::slice::from_ref(&a), &[t1], &[])?;
            assert_eq!(a.get("k")?, Some(b"2b".to_vec()));
        }
        let store = StateStore::open(dir.path())?;
        let a = store.namespace("a");
        assert_eq!(a.get("k")?, Some(b"1".to_vec()));
        assert_eq!(a.get("j")?, None);
        Ok(())
    }
}

#[cfg(test)]
mod quota_tests {
    use super::*;

    fn limits(state_mb: u64, state_keys: u64) -> Limits {
        Limits::default().with_state_quota(state_mb, state_keys)
    }

    #[test]
    fn writes_past_the_quota_are_refused_and_deletes_are_not()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = StateStore::open(dir.path())?;
        let a = store.namespace("a");
        // 2 MiB of entries allowed (half of 4 MiB); a 1 MiB value takes 2 MiB.
        let l = limits(4, 1_000);
        let tag = next_tag();
        a.write_within(tag, "one".into(), Some(vec![0; 1 << 20]), &l)?;
        let refused = a.write_within(tag, "two".into(), Some(vec![0; 1 << 20]), &l);
        let Err(WriteRefused::Quota(q)) = refused else {
            panic!("expected a quota error, got {refused:?}");
        };
        assert_eq!(q.field, "state_mb");
        assert!(q.to_string().contains("limits.state_mb"), "{q}");
        store.commit(std::slice::from_ref(&a), &[tag], &[])?;
        // Still full once committed; a delete frees it.
        assert!(
            a.write_within(tag, "two".into(), Some(vec![0; 1 << 20]), &l)
                .is_err()
        );
        let tag = next_tag();
        a.write_within(tag, "one".into(), None, &l)?;
        store.commit(std::slice::from_ref(&a), &[tag], &[])?;
        a.write_within(next_tag(), "two".into(), Some(vec![0; 1 << 20]), &l)?;
        Ok(())
    }

    #[test]
    fn usage_is_counted_again_after_a_reopen() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let l = limits(64, 3);
        {
            let store = StateStore::open(dir.path())?;
            let a = store.namespace("a");
            let tag = next_tag();
            for k in ["k1", "k2", "k3"] {
                a.write_within(tag, k.into(), Some(b"v".to_vec()), &l)?;
            }
            assert!(
                a.write_within(tag, "k4".into(), Some(b"v".to_vec()), &l)
                    .is_err()
            );
            // An existing key may be overwritten.
            a.write_within(tag, "k1".into(), Some(b"w".to_vec()), &l)?;
            store.commit(std::slice::from_ref(&a), &[tag], &[])?;
            // Another namespace has its own keys.
            store
                .namespace("b")
                .write_within(next_tag(), "k4".into(), Some(b"v".to_vec()), &l)?;
        }
        let store = StateStore::open(dir.path())?;
        let a = store.namespace("a");
        let refused = a.write_within(next_tag(), "k4".into(), Some(b"v".to_vec()), &l);
        assert!(
            matches!(&refused, Err(WriteRefused::Quota(q)) if q.field == "state_keys"),
            "{refused:?}"
        );
        Ok(())
    }

    #[test]
    fn rolled_back_writes_free_their_share() -> Result<(), Box<dyn std::error::Error>> {
        let store = StateStore::in_memory();
        let a = store.namespace("a");
        let l = limits(4, 1_000);
        let tag = next_tag();
        a.write_within(tag, "big".into(), Some(vec![0; 1 << 20]), &l)?;
        assert!(
            a.write_within(next_tag(), "more".into(), Some(vec![0; 1 << 20]), &l)
                .is_err()
        );
        a.rollback(tag);
        a.write_within(next_tag(), "more".into(), Some(vec![0; 1 << 20]), &l)?;
        Ok(())
    }
}
