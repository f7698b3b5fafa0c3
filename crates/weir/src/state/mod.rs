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

#[derive(Debug, Default)]
struct Cache {
    /// Values as the database holds them, for keys read or committed so
    /// far; `None` means absent.
    committed: HashMap<String, Option<Vec<u8>>>,
    /// Writes not yet committed, per key in the order they were made, each
    /// with the tag of the call that made it.
    journal: HashMap<String, Vec<Write>>,
    /// The keys each tag wrote.
    by_tag: HashMap<u64, Vec<String>>,
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
        let mut cache = self.lock();
        if let Some((_, v)) = cache.journal.get(key).and_then(|w| w.last()) {
            return Ok(v.clone());
        }
        if let Some(v) = cache.committed.get(key) {
            return Ok(v.clone());
        }
        let value = self.read_db(key)?;
        cache.committed.insert(key.to_string(), value.clone());
        Ok(value)
    }

    /// Records a write made by the call tagged `tag` (`None`: a delete).
    pub(crate) fn write(&self, tag: u64, key: &str, value: Option<Vec<u8>>) {
        let mut cache = self.lock();
        cache
            .journal
            .entry(key.to_string())
            .or_default()
            .push((tag, value));
        cache.by_tag.entry(tag).or_default().push(key.to_string());
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
            if let Some(writes) = cache.journal.get_mut(&key) {
                writes.retain(|(t, _)| *t != tag);
                if writes.is_empty() {
                    cache.journal.remove(&key);
                }
            }
        }
    }

    /// Takes the writes tagged with any of `tags`: per key, the value of the
    /// last of them, as `(full key, value or None)`.
    fn drain(&self, tags: &[u64]) -> Vec<(String, Option<Vec<u8>>)> {
        let mut cache = self.lock();
        let mut keys: Vec<String> = tags
            .iter()
            .filter_map(|t| cache.by_tag.remove(t))
            .flatten()
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(writes) = cache.journal.get_mut(&key) else {
                continue;
            };
            let mut value = None;
            writes.retain_mut(|(t, v)| {
                if tags.contains(t) {
                    value = Some(v.take());
                    false
                } else {
                    true
                }
            });
            if writes.is_empty() {
                cache.journal.remove(&key);
            }
            if let Some(value) = value {
                cache.committed.insert(key.clone(), value.clone());
                out.push((format!("{}{key}", self.inner.prefix), value));
            }
        }
        out
    }

    /// Persists this handle's writes made with [`set`](Self::set) and
    /// [`delete`](Self::delete) (and by plugin instances used outside a
    /// pipeline).
    pub fn flush(&self) -> Result<(), StateError> {
        self.inner
            .store
            .commit(std::slice::from_ref(self), &[UNTAGGED], &[])
    }
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
        let changes: Vec<(String, Option<Vec<u8>>)> =
            handles.iter().flat_map(|h| h.drain(tags)).collect();
        let Some(db) = &self.db else {
            return Ok(());
        };
        if changes.is_empty() && checkpoints.is_empty() {
            return Ok(());
        }
        let txn = db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = txn.open_table(STATE).map_err(|e| self.err(e))?;
            for (key, value) in &changes {
                match value {
                    Some(v) => table.insert(key.as_str(), v.as_slice()).map(drop),
                    None => table.remove(key.as_str()).map(drop),
                }
                .map_err(|e| self.err(e))?;
            }
            let mut cps = txn.open_table(CHECKPOINTS).map_err(|e| self.err(e))?;
            for c in checkpoints {
                let key = format!("{}\u{0}{}", c.source, c.partition);
                cps.insert(key.as_str(), encode_position(&c.position).as_str())
                    .map_err(|e| self.err(e))?;
            }
        }
        txn.commit().map_err(|e| self.err(e))
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
