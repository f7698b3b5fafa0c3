//! "M of N" alarm evaluation over a stream of outside / inside verdicts.

use crate::settings::SettingsError;

/// The largest `n` of a [`Trigger`]: its verdicts are the bits of a `u64`.
pub const MAX_N: usize = 64;

/// A change of a [`Trigger`]'s state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// At least `m` of the last `n` verdicts were outside: the alarm is raised.
    Raised,
    /// Raised, and then at least `m` of the last `n` verdicts were inside:
    /// the alarm is cleared.
    Cleared,
}

/// "M of N" evaluation, as CloudWatch alarms do it: raised when at least
/// `m` of the last `n` verdicts were outside, cleared when at least `m` of
/// the last `n` were inside.
///
/// The verdicts counted are those since the last transition (at most the
/// last `n`): a raise starts the count of inside verdicts afresh, and a
/// clear that of outside ones, so one verdict never counts towards both
/// raising and clearing and the trigger does not flap when `2m <= n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    m: usize,
    n: usize,
    /// The last `seen` verdicts, newest in bit 0, 1 for outside.
    bits: u64,
    /// Verdicts since the last transition, at most `n`.
    seen: usize,
    raised: bool,
}

impl Trigger {
    /// A trigger that is not raised; `1 <= m <= n <= 64`, else an error
    /// naming `m` or `n` and its value.
    pub fn new(m: usize, n: usize) -> Result<Trigger, SettingsError> {
        if !(1..=MAX_N).contains(&n) {
            return Err(SettingsError::new("n", "must be between 1 and 64", n));
        }
        if !(1..=n).contains(&m) {
            return Err(SettingsError::new(
                "m",
                format!("must be between 1 and `n` ({n})"),
                m,
            ));
        }
        Ok(Trigger {
            m,
            n,
            bits: 0,
            seen: 0,
            raised: false,
        })
    }

    /// Counts one verdict (`outside` or not); returns the transition it
    /// causes, if any.
    pub fn update(&mut self, outside: bool) -> Option<Transition> {
        let mask = if self.n == MAX_N {
            u64::MAX
        } else {
            (1 << self.n) - 1
        };
        self.bits = ((self.bits << 1) | u64::from(outside)) & mask;
        self.seen = (self.seen + 1).min(self.n);
        let outsides = self.bits.count_ones() as usize;
        let insides = self.seen - outsides;
        let transition = if !self.raised && outsides >= self.m {
            Transition::Raised
        } else if self.raised && insides >= self.m {
            Transition::Cleared
        } else {
            return None;
        };
        self.raised = transition == Transition::Raised;
        self.bits = 0;
        self.seen = 0;
        Some(transition)
    }

    /// Whether the alarm is raised.
    pub fn raised(&self) -> bool {
        self.raised
    }

    /// The verdicts out of `n` that raise or clear.
    pub fn m(&self) -> usize {
        self.m
    }

    /// How many of the latest verdicts are counted.
    pub fn n(&self) -> usize {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &mut Trigger, verdicts: &str) -> Vec<Option<Transition>> {
        verdicts.bytes().map(|b| t.update(b == b'o')).collect()
    }

    #[test]
    fn m_and_n_are_checked() {
        let e = |m, n| Trigger::new(m, n).err().map(|e| e.to_string());
        assert_eq!(
            e(0, 5).as_deref(),
            Some("`m` must be between 1 and `n` (5), got 0")
        );
        assert_eq!(
            e(6, 5).as_deref(),
            Some("`m` must be between 1 and `n` (5), got 6")
        );
        assert_eq!(
            e(1, 0).as_deref(),
            Some("`n` must be between 1 and 64, got 0")
        );
        assert_eq!(
            e(1, 65).as_deref(),
            Some("`n` must be between 1 and 64, got 65")
        );
        assert_eq!(e(1, 1), None);
        assert_eq!(e(64, 64), None);
    }

    #[test]
    fn three_of_five_raises_and_clears() -> Result<(), SettingsError> {
        use Transition::{Cleared, Raised};
        let mut t = Trigger::new(3, 5)?;
        // Spikes that are never 3 in 5 do not raise.
        assert!(run(&mut t, "iioiioiioiiio").iter().all(Option::is_none));
        assert!(!t.raised());
        // Scattered: 3 of the last 5.
        assert_eq!(run(&mut t, "oio"), [None, None, Some(Raised)]);
        assert!(t.raised());
        // Clearing counts from the raise: 3 insides of 5 after it.
        assert_eq!(
            run(&mut t, "ioioi"),
            [None, None, None, None, Some(Cleared)]
        );
        assert!(!t.raised());
        assert_eq!(run(&mut t, "ooo"), [None, None, Some(Raised)]);
        assert_eq!(run(&mut t, "iii"), [None, None, Some(Cleared)]);
        Ok(())
    }

    #[test]
    fn one_of_n_does_not_flap() -> Result<(), SettingsError> {
        use Transition::{Cleared, Raised};
        let mut t = Trigger::new(1, 5)?;
        assert_eq!(run(&mut t, "oii"), [Some(Raised), Some(Cleared), None]);
        let mut t = Trigger::new(2, 4)?;
        assert_eq!(
            run(&mut t, "ooiioo"),
            [None, Some(Raised), None, Some(Cleared), None, Some(Raised)]
        );
        Ok(())
    }

    #[test]
    fn sixty_four_verdicts() -> Result<(), SettingsError> {
        let mut t = Trigger::new(64, 64)?;
        for i in 0..63 {
            assert_eq!(t.update(true), None, "{i}");
        }
        assert_eq!(t.update(true), Some(Transition::Raised));
        for _ in 0..63 {
            assert_eq!(t.update(false), None);
        }
        assert_eq!(t.update(false), Some(Transition::Cleared));
        assert_eq!((t.m(), t.n()), (64, 64));
        Ok(())
    }
}
