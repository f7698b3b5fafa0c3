//! What the source, the coordinator and the shard readers share about each
//! shard being read: how far it was read, how far it is acknowledged,
//! whether its end was reached.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::sequence::SeqKey;

#[derive(Debug)]
struct ShardProgress {
    /// Which reader: records of an older one (a lease lost and taken
    /// again) are dropped.
    generation: u64,
    last_read: Option<SeqKey>,
    acked: Option<SeqKey>,
    ended: bool,
}

impl ShardProgress {
    fn finished(&self) -> bool {
        self.ended
            && match (&self.last_read, &self.acked) {
                (None, _) => true,
                (Some(read), Some(acked)) => acked >= read,
                (Some(_), None) => false,
            }
    }
}

/// How far a shard is acknowledged, and whether it is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    pub(crate) acked: Option<SeqKey>,
    /// Read to its end and every record acknowledged.
    pub(crate) finished: bool,
}

/// Progress of every shard this process reads.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    shards: Mutex<HashMap<String, ShardProgress>>,
}

impl Progress {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, ShardProgress>> {
        // A panic elsewhere cannot leave this map half-changed.
        self.shards
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A reader `generation` starts on `shard`.
    pub(crate) fn start(&self, shard: &str, generation: u64) {
        self.lock().insert(
            shard.to_string(),
            ShardProgress {
                generation,
                last_read: None,
                acked: None,
                ended: false,
            },
        );
    }

    /// The shard is no longer read here.
    pub(crate) fn stop(&self, shard: &str) {
        self.lock().remove(shard);
    }

    /// Whether records of reader `generation` on `shard` are still wanted.
    pub(crate) fn is_current(&self, shard: &str, generation: u64) -> bool {
        self.lock()
            .get(shard)
            .is_some_and(|p| p.generation == generation)
    }

    /// Reader `generation` handed over records up to `last`. `false` if the
    /// reader is no longer current.
    pub(crate) fn read(&self, shard: &str, generation: u64, last: &SeqKey) -> bool {
        match self.lock().get_mut(shard) {
            Some(p) if p.generation == generation => {
                p.last_read = Some(last.clone());
                true
            }
            _ => false,
        }
    }

    /// Reader `generation` reached the end of the closed shard.
    pub(crate) fn end(&self, shard: &str, generation: u64) {
        if let Some(p) = self.lock().get_mut(shard)
            && p.generation == generation
        {
            p.ended = true;
        }
    }

    /// Every record of `shard` up to `key` is acknowledged. Returns whether
    /// the shard is now finished.
    pub(crate) fn ack(&self, shard: &str, key: SeqKey) -> bool {
        let mut shards = self.lock();
        let Some(p) = shards.get_mut(shard) else {
            return false;
        };
        if p.acked.as_ref().is_none_or(|a| *a < key) {
            p.acked = Some(key);
        }
        p.finished()
    }

    /// The shard's status, if it is read here.
    pub(crate) fn status(&self, shard: &str) -> Option<Status> {
        self.lock().get(shard).map(|p| Status {
            acked: p.acked.clone(),
            finished: p.finished(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_finishes_when_its_end_is_read_and_acknowledged() {
        let p = Progress::default();
        p.start("s", 1);
        assert!(p.read("s", 1, &SeqKey::plain("10")));
        assert!(!p.ack("s", SeqKey::plain("5")));
        p.end("s", 1);
        assert_eq!(p.status("s").map(|s| s.finished), Some(false));
        assert!(p.ack("s", SeqKey::plain("10")));
        // An older acknowledgement never moves it back.
        p.ack("s", SeqKey::plain("7"));
        assert_eq!(
            p.status("s").and_then(|s| s.acked),
            Some(SeqKey::plain("10"))
        );
    }

    #[test]
    fn records_of_an_old_reader_are_not_current() {
        let p = Progress::default();
        p.start("s", 1);
        p.start("s", 2);
        assert!(!p.read("s", 1, &SeqKey::plain("1")));
        assert!(!p.is_current("s", 1));
        assert!(p.is_current("s", 2));
        p.end("s", 2);
        assert_eq!(p.status("s").map(|s| s.finished), Some(true));
        p.stop("s");
        assert!(p.status("s").is_none());
    }
}
