//! The embedded store behind the plugin `state` import.
//!
//! One [redb] file under the pipeline's data directory holds every plugin's
//! keys, namespaced by plugin. Writes made during a batch are kept in memory
//! and committed in one transaction when the runtime calls
//! [`StateHandle::flush`] after the batch's records were acknowledged, so
//! state and source positions move forward together.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use redb::{ReadableDatabase as _, TableDefinition};

const STATE: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("plugin_state");

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
        StateError {
            location: self.inner.store.location.clone(),
            message: message.to_string(),
        }
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

    /// Writes every change since the last flush in one transaction.
    pub fn flush(&self) -> Result<(), StateError> {
        let mut cache = self
            .inner
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.dirty.is_empty() {
            return Ok(());
        }
        let Some(db) = &self.inner.store.db else {
            cache.dirty.clear();
            return Ok(());
        };
        let txn = db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut table = txn.open_table(STATE).map_err(|e| self.err(e))?;
            let mut dirty = std::mem::take(&mut cache.dirty);
            dirty.sort_unstable();
            dirty.dedup();
            for key in dirty {
                let full = format!("{}{key}", self.inner.prefix);
                match cache.values.get(&key) {
                    Some(Some(v)) => {
                        table
                            .insert(full.as_str(), v.as_slice())
                            .map_err(|e| self.err(e))?;
                    }
                    _ => {
                        table.remove(full.as_str()).map_err(|e| self.err(e))?;
                    }
                }
            }
        }
        txn.commit().map_err(|e| self.err(e))
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
