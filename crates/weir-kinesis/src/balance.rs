//! Which leases a process takes: a pure decision over the lease table as
//! last read, kept apart from the I/O so it can be tested on its own.
//!
//! - A lease is *ready* when its shard is neither finished (`SHARD_END`)
//!   nor gone from the stream (past retention), and each of its parents is.
//! - A process alone takes every ready lease.
//! - Processes sharing a table each aim at an even share of the ready
//!   leases (rounded up), counting as workers itself and every owner of a
//!   ready lease that is not expired. A process below its share takes free
//!   and expired leases first; if none is left, it takes one lease from the
//!   busiest other process when that one holds more than the share. One
//!   lease per round, as the KCL does, so the load moves gently.

use std::collections::{HashMap, HashSet};

use crate::leases::{Checkpoint, Lease};

/// What the decision looks at.
pub(crate) struct View<'a> {
    /// The lease table as last read.
    pub(crate) leases: &'a [Lease],
    /// The shards the stream lists.
    pub(crate) listed: &'a HashSet<&'a str>,
    /// The shards this process holds.
    pub(crate) held: &'a HashSet<&'a str>,
    /// Whether the table is shared with other processes.
    pub(crate) shared: bool,
    /// Whether a lease may be taken without asking: free, expired, or ours
    /// from an earlier life.
    pub(crate) expired: &'a dyn Fn(&Lease) -> bool,
}

/// A lease to take.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pick {
    /// Free or expired.
    Free(Lease),
    /// Held by `from`, which has `count` leases where `share` each would be
    /// even.
    Steal {
        lease: Lease,
        from: String,
        count: usize,
        share: usize,
    },
}

/// The leases whose shards may be read now.
pub(crate) fn ready<'a>(leases: &'a [Lease], listed: &HashSet<&str>) -> Vec<&'a Lease> {
    let done: HashSet<&str> = leases
        .iter()
        .filter(|l| l.checkpoint == Checkpoint::ShardEnd || !listed.contains(l.shard.as_str()))
        .map(|l| l.shard.as_str())
        .collect();
    leases
        .iter()
        .filter(|l| {
            !done.contains(l.shard.as_str())
                && l.parents
                    .iter()
                    .all(|p| done.contains(p.as_str()) || !listed.contains(p.as_str()))
        })
        .collect()
}

/// The leases to take this round.
pub(crate) fn choose(view: &View<'_>) -> Vec<Pick> {
    let available = ready(view.leases, view.listed);
    let not_held = |l: &&Lease| !view.held.contains(l.shard.as_str());
    if !view.shared {
        return available
            .into_iter()
            .filter(not_held)
            .map(|l| Pick::Free(l.clone()))
            .collect();
    }
    let mut load: HashMap<&str, usize> = HashMap::new();
    for l in &available {
        if let Some(owner) = &l.owner
            && !view.held.contains(l.shard.as_str())
            && !(view.expired)(l)
        {
            *load.entry(owner.as_str()).or_default() += 1;
        }
    }
    let share = available.len().div_ceil(load.len() + 1);
    let wanted = share.saturating_sub(view.held.len());
    let mut picks: Vec<Pick> = available
        .iter()
        .copied()
        .filter(not_held)
        .filter(|l| (view.expired)(l))
        .take(wanted)
        .map(|l| Pick::Free((*l).clone()))
        .collect();
    if picks.len() < wanted
        && let Some((busiest, count)) = load.iter().max_by_key(|(owner, c)| (**c, *owner))
        && *count > share
        && let Some(l) = available
            .iter()
            .find(|l| l.owner.as_deref() == Some(*busiest))
    {
        picks.push(Pick::Steal {
            lease: (*l).clone(),
            from: busiest.to_string(),
            count: *count,
            share,
        });
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sequence::SeqKey;

    fn lease(shard: &str, owner: Option<&str>, checkpoint: Checkpoint, parents: &[&str]) -> Lease {
        Lease {
            shard: shard.into(),
            owner: owner.map(str::to_string),
            counter: 1,
            checkpoint,
            parents: parents.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn shards(picks: &[Pick]) -> Vec<&str> {
        picks
            .iter()
            .map(|p| match p {
                Pick::Free(l) | Pick::Steal { lease: l, .. } => l.shard.as_str(),
            })
            .collect()
    }

    fn choose_for(
        leases: &[Lease],
        held: &[&str],
        shared: bool,
        expired: &dyn Fn(&Lease) -> bool,
    ) -> Vec<Pick> {
        let listed: HashSet<&str> = leases.iter().map(|l| l.shard.as_str()).collect();
        let held: HashSet<&str> = held.iter().copied().collect();
        choose(&View {
            leases,
            listed: &listed,
            held: &held,
            shared,
            expired,
        })
    }

    #[test]
    fn children_wait_for_every_parent() {
        let at = Checkpoint::At(SeqKey::plain("7"));
        let leases = vec![
            lease("p1", None, Checkpoint::ShardEnd, &[]),
            lease("p2", None, at.clone(), &[]),
            lease("split-child", None, Checkpoint::TrimHorizon, &["p1"]),
            lease("merge-child", None, Checkpoint::TrimHorizon, &["p1", "p2"]),
            // A parent past retention (no lease, not listed) is done.
            lease("orphan", None, Checkpoint::TrimHorizon, &["expired"]),
        ];
        let picks = choose_for(&leases, &[], false, &|_| true);
        assert_eq!(shards(&picks), ["p2", "split-child", "orphan"]);
    }

    #[test]
    fn a_joining_process_takes_one_lease_per_round_up_to_its_share() {
        let leases: Vec<Lease> = (0..4)
            .map(|i| lease(&format!("s{i}"), Some("a"), Checkpoint::TrimHorizon, &[]))
            .collect();
        let alive = |_: &Lease| false;
        let picks = choose_for(&leases, &[], true, &alive);
        assert!(
            matches!(&picks[..], [Pick::Steal { from, count: 4, share: 2, .. }] if from == "a")
        );
        // With two of four, it is even: nothing to take.
        let mut even = leases.clone();
        even[0].owner = Some("b".into());
        even[1].owner = Some("b".into());
        assert!(choose_for(&even, &["s0", "s1"], true, &alive).is_empty());
        // Three shards, two processes: 2 and 1 is as even as it gets.
        let three = &even[1..];
        assert!(choose_for(three, &["s1"], true, &alive).is_empty());
    }

    #[test]
    fn a_process_counts_itself_once() {
        // `me` holds two, `a` two: even, whatever `me`'s leases look like.
        let leases = vec![
            lease("s0", Some("me"), Checkpoint::TrimHorizon, &[]),
            lease("s1", Some("me"), Checkpoint::TrimHorizon, &[]),
            lease("s2", Some("a"), Checkpoint::TrimHorizon, &[]),
            lease("s3", Some("a"), Checkpoint::TrimHorizon, &[]),
            lease("s4", Some("a"), Checkpoint::TrimHorizon, &[]),
        ];
        let alive = |_: &Lease| false;
        assert!(choose_for(&leases[..4], &["s0", "s1"], true, &alive).is_empty());
        // Five: `a` with three is within the share of three.
        assert!(choose_for(&leases, &["s0", "s1"], true, &alive).is_empty());
    }

    #[test]
    fn expired_and_free_leases_are_taken_first() {
        let leases = vec![
            lease("s0", Some("dead"), Checkpoint::TrimHorizon, &[]),
            lease("s1", Some("dead"), Checkpoint::TrimHorizon, &[]),
            lease("s2", None, Checkpoint::TrimHorizon, &[]),
            lease("s3", Some("b"), Checkpoint::TrimHorizon, &[]),
        ];
        let expired = |l: &Lease| l.owner.as_deref() != Some("b");
        // Workers: this one and `b`; share 2 of 4.
        let picks = choose_for(&leases, &[], true, &expired);
        assert_eq!(shards(&picks), ["s0", "s1"]);
        assert!(picks.iter().all(|p| matches!(p, Pick::Free(_))));
    }

    #[test]
    fn finished_and_vanished_shards_are_never_taken() {
        let leases = vec![
            lease("done", None, Checkpoint::ShardEnd, &[]),
            lease("gone", None, Checkpoint::TrimHorizon, &[]),
        ];
        let listed: HashSet<&str> = ["done"].into_iter().collect();
        let held = HashSet::new();
        let picks = choose(&View {
            leases: &leases,
            listed: &listed,
            held: &held,
            shared: true,
            expired: &|_| true,
        });
        assert!(picks.is_empty(), "{picks:?}");
    }
}
