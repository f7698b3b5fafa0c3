//! Which batches are done, per partition, and how far a partition's
//! checkpoint may move: only over the contiguous prefix of batches whose
//! every lane finished.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::admission::Admission;
use crate::record::Position;

/// A batch in flight: how many lanes still work on it.
struct Ticket {
    last: Position,
    remaining: usize,
    tags: Vec<u64>,
    /// Released when the ticket is retired, letting the reader read ahead.
    _permit: Option<Admission>,
}

#[derive(Default)]
struct PartitionTickets {
    next: u64,
    open: BTreeMap<u64, Ticket>,
}

/// What a partition's checkpoint may move to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Advance {
    pub(crate) partition: Arc<str>,
    pub(crate) position: Position,
    /// State-write tags of every retired batch.
    pub(crate) tags: Vec<u64>,
}

/// Open batches of every partition.
#[derive(Default)]
pub(crate) struct Tickets {
    partitions: HashMap<Arc<str>, PartitionTickets>,
    pending: usize,
}

impl Tickets {
    /// Opens a ticket for a batch of `partition` ending at `last`, worked on
    /// by `lanes` lanes (0 when nothing is left to do). Returns its number.
    pub(crate) fn open(
        &mut self,
        partition: &Arc<str>,
        last: Position,
        lanes: usize,
        permit: Option<Admission>,
    ) -> u64 {
        let p = self.partitions.entry(partition.clone()).or_default();
        let seq = p.next;
        p.next += 1;
        p.open.insert(
            seq,
            Ticket {
                last,
                remaining: lanes,
                tags: Vec::new(),
                _permit: permit,
            },
        );
        self.pending += 1;
        seq
    }

    /// One lane finished ticket `seq` of `partition`. Returns how far the
    /// partition's checkpoint may move, if at all.
    pub(crate) fn finish(
        &mut self,
        partition: &Arc<str>,
        seq: u64,
        tags: Vec<u64>,
    ) -> Option<Advance> {
        let p = self.partitions.get_mut(partition)?;
        if let Some(t) = p.open.get_mut(&seq) {
            t.remaining = t.remaining.saturating_sub(1);
            t.tags.extend(tags);
        }
        self.retire(partition)
    }

    /// Retires the done prefix of `partition`'s tickets.
    pub(crate) fn retire(&mut self, partition: &Arc<str>) -> Option<Advance> {
        let p = self.partitions.get_mut(partition)?;
        let mut advance: Option<Advance> = None;
        while let Some(entry) = p.open.first_entry() {
            if entry.get().remaining > 0 {
                break;
            }
            let t = entry.remove();
            self.pending -= 1;
            match &mut advance {
                Some(a) => {
                    a.position = t.last;
                    a.tags.extend(t.tags);
                }
                None => {
                    advance = Some(Advance {
                        partition: partition.clone(),
                        position: t.last,
                        tags: t.tags,
                    });
                }
            }
        }
        advance
    }

    /// Tickets not yet retired.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_moves_over_the_contiguous_done_prefix_only() {
        let mut t = Tickets::default();
        let p: Arc<str> = Arc::from("0");
        let a = t.open(&p, Position::Offset(9), 2, None);
        let b = t.open(&p, Position::Offset(19), 1, None);
        let c = t.open(&p, Position::Offset(29), 0, None);
        // Later batches finishing first move nothing.
        assert_eq!(t.finish(&p, b, vec![2]), None);
        assert_eq!(t.finish(&p, a, vec![1]), None);
        assert_eq!(t.pending(), 3);
        let adv = t.finish(&p, a, vec![3]);
        assert_eq!(
            adv,
            Some(Advance {
                partition: p.clone(),
                position: Position::Offset(29),
                tags: vec![1, 3, 2]
            })
        );
        assert_eq!((c, t.pending()), (2, 0));
    }

    #[test]
    fn partitions_are_independent() {
        let mut t = Tickets::default();
        let (p0, p1): (Arc<str>, Arc<str>) = (Arc::from("0"), Arc::from("1"));
        let a = t.open(&p0, Position::Offset(5), 1, None);
        let b = t.open(&p1, Position::Offset(7), 1, None);
        assert_eq!(
            t.finish(&p1, b, vec![]).map(|a| a.position),
            Some(Position::Offset(7))
        );
        assert_eq!(
            t.finish(&p0, a, vec![]).map(|a| a.position),
            Some(Position::Offset(5))
        );
    }
}
