//! The embedded store behind the plugin `state` import.
//!
//! One [redb] file under the pipeline's data directory holds every plugin's
//! keys, namespaced by plugin, and the pipeline's source checkpoints. Writes
//! made during a batch are kept in memory; after the batch's records were
//! acknowledged by every sink, the runtime calls [`StateStore::commit`],
//! which writes the plugins' changes and the new source position in ONE
//! transaction. After a crash, state and position therefore always agree:
//! the replayed records were never counted in the state.

use std::collections::HashMap;
use std::path::Path;
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
        })
    }

    /// A store that keeps everything in memory and forgets it on exit.
    pub fn in_memory() -> Self {
        StateStore {
            db: None,
            location: "memory".to_string(),
        }
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

#[derive(Debug, Default)]
struct Cache {
    /// Every key read or written so far; `None` means absent.
    values: HashMap<String, Option<Vec<u8>>>,
    /// Keys written since the last flush.
    dirty: Vec<String>,
}

#[derive(Debug)]
struct Inner {
    store: StateStore,
    prefix: String,
    cache: Mutex<Cache>,
}

/// One plugin's view of the state store. Clones share the same state.
#[derive(Debug, Clone)]
pub struct StateHandle {
    inner: Arc<Inner>,
}

impl StateHandle {
    fn err(&self, message: impl ToString) -> StateError {
        self.inner.store.err(message)
    }

    fn read_db(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
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

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        let mut cache = self
            .inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = cache.values.get(key) {
            return Ok(v.clone());
        }
        let value = self.read_db(key)?;
        cache.values.insert(key.to_string(), value.clone());
        Ok(value)
    }

    /// Sets `key` (visible at once, durable at the next flush).
    pub fn set(&self, key: &str, value: Vec<u8>) {
        let mut cache = self
            .inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        cache.values.insert(key.to_string(), Some(value));
        cache.dirty.push(key.to_string());
    }

    /// Removes `key` (durable at the next flush).
    pub fn delete(&self, key: &str) {
        let mut cache = self
            .inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        cache.values.insert(key.to_string(), None);
        cache.dirty.push(key.to_string());
    }

    /// Takes the changes since the last commit: `(full key, value or None)`.
    fn drain(&self) -> Vec<(String, Option<Vec<u8>>)> {
        let mut cache = self
            .inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut dirty = std::mem::take(&mut cache.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        dirty
            .into_iter()
            .map(|key| {
                let value = cache.values.get(&key).cloned().flatten();
                (format!("{}{key}", self.inner.prefix), value)
            })
            .collect()
    }

    /// Persists this handle's changes since the last commit.
    pub fn flush(&self) -> Result<(), StateError> {
        self.inner.store.commit(std::slice::from_ref(self), None)
    }
}

impl StateStore {
    fn err(&self, message: impl ToString) -> StateError {
        StateError {
            location: self.location.clone(),
            message: message.to_string(),
        }
    }

    /// Writes the changes of `handles` and, if given, a source checkpoint,
    /// in one transaction: either all of it is durable or none of it.
    pub fn commit(
        &self,
        handles: &[StateHandle],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(), StateError> {
        let changes: Vec<(String, Option<Vec<u8>>)> =
            handles.iter().flat_map(StateHandle::drain).collect();
        let Some(db) = &self.db else {
            return Ok(());
        };
        if changes.is_empty() && checkpoint.is_none() {
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
            if let Some(c) = checkpoint {
                let mut cps = txn.open_table(CHECKPOINTS).map_err(|e| self.err(e))?;
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
            store.commit(&[a], Some(&cp))?;
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
}
