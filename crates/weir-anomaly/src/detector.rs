//! The detector: a history of values, the band it implies, and its
//! encoding.

use std::collections::VecDeque;
use std::fmt;

use crate::settings::{Direction, Settings};

/// Scales a median absolute deviation (MAD) to the standard deviation of
/// normally distributed values: `1 / Φ⁻¹(3/4)`.
pub const MAD_SCALE: f64 = 1.4826;

/// The version byte [`Detector::encode`] writes and [`Detector::decode`]
/// reads.
const FORMAT: u8 = 1;
/// Version byte and value count (u32, little-endian).
const HEADER: usize = 5;
/// History capacity reserved up front at most; a larger window grows as
/// values arrive.
const PREALLOCATE: usize = 1024;

/// The range of normal values, from the history before a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// `center` minus the half-width.
    pub low: f64,
    /// The median of the history.
    pub center: f64,
    /// `center` plus the half-width.
    pub high: f64,
}

impl Band {
    /// Whether `value` is outside the band on the side(s) `direction`
    /// names. A value equal to `low` or `high` is inside; a non-finite
    /// value is never outside.
    pub fn is_outside(&self, value: f64, direction: Direction) -> bool {
        if !value.is_finite() {
            return false;
        }
        match direction {
            Direction::Both => value < self.low || value > self.high,
            Direction::Above => value > self.high,
            Direction::Below => value < self.low,
        }
    }
}

/// What [`Detector::observe`] made of one value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The value observed.
    pub value: f64,
    /// The band it was compared with: that of the history before it;
    /// `None` during the warm-up.
    pub band: Option<Band>,
    /// Whether the value is outside `band` on the configured side.
    pub outside: bool,
}

/// An anomaly detector over one time series: see the [crate docs](crate).
#[derive(Debug, Clone)]
pub struct Detector {
    settings: Settings,
    /// The newest `settings.window` finite values, oldest first.
    history: VecDeque<f64>,
    /// The band of `history` (kept up to date by every change).
    band: Option<Band>,
    /// Reused by every band computation.
    scratch: Vec<f64>,
}

impl Detector {
    /// A detector with no history. `settings` should have passed
    /// [`Settings::check`]; values it would reject are clamped to the
    /// nearest valid ones (a `window` under 3 becomes 3, `warmup` is kept
    /// within `3..=window`, a `width` that is not a positive finite number
    /// becomes 3.0, a spread that is not a finite number of at least 0
    /// becomes 0), never a panic. [`settings`](Self::settings) shows what
    /// is in use.
    pub fn new(settings: Settings) -> Detector {
        let settings = settings.clamped();
        let capacity = settings.window.min(PREALLOCATE);
        Detector {
            history: VecDeque::with_capacity(capacity),
            scratch: Vec::with_capacity(capacity),
            band: None,
            settings,
        }
    }

    /// The settings in use (after clamping).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The band the next value will be compared with; `None` while the
    /// history holds fewer than `warmup` values.
    pub fn band(&self) -> Option<Band> {
        self.band
    }

    /// Compares `value` with the band of the history before it, then adds
    /// it to the history (dropping the oldest value once there are
    /// `window`), so the next band includes it. A non-finite value (NaN,
    /// ±∞) is not added and is never outside.
    pub fn observe(&mut self, value: f64) -> Observation {
        let band = self.band;
        if !value.is_finite() {
            return Observation {
                value,
                band,
                outside: false,
            };
        }
        let outside = band.is_some_and(|b| b.is_outside(value, self.settings.direction));
        self.push(value);
        self.band = self.compute_band();
        Observation {
            value,
            band,
            outside,
        }
    }

    /// Values in the history: at most `window`.
    pub fn len(&self) -> usize {
        self.history.len()
    }

    /// Whether the history is empty.
    pub fn is_empty(&self) -> bool {
        self.history.is_empty()
    }

    /// The history, oldest first.
    pub fn history(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.history.iter().copied()
    }

    /// The history as compact, versioned bytes, for a plugin's state or a
    /// checkpoint: a version byte (1), the number of values (u32,
    /// little-endian), then each value oldest first (f64, little-endian):
    /// `5 + 8 * len()` bytes. The settings are not included.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + 8 * self.history.len());
        out.push(FORMAT);
        let n = u32::try_from(self.history.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&n.to_le_bytes());
        for v in self.history.iter().take(n as usize) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// A detector with `settings` (clamped as in [`new`](Self::new)) and
    /// the history [`encode`](Self::encode) wrote, of which it keeps the
    /// newest `window` values: the window may differ from the one the
    /// bytes were written with. Any other input is an error, never a panic.
    pub fn decode(bytes: &[u8], settings: Settings) -> Result<Detector, DecodeError> {
        let (head, body) = bytes
            .split_first_chunk::<HEADER>()
            .ok_or(DecodeError::Short { len: bytes.len() })?;
        let [version, count @ ..] = *head;
        if version != FORMAT {
            return Err(DecodeError::Version { version });
        }
        let count = u32::from_le_bytes(count);
        let expected = usize::try_from(count)
            .ok()
            .and_then(|n| n.checked_mul(8))
            .and_then(|n| n.checked_add(HEADER));
        if expected != Some(bytes.len()) {
            return Err(DecodeError::Length {
                count,
                len: bytes.len(),
            });
        }
        let mut detector = Detector::new(settings);
        let values = body.chunks_exact(8);
        let skip = values.len().saturating_sub(detector.settings.window);
        for (i, chunk) in values.enumerate() {
            let mut le = [0; 8];
            le.copy_from_slice(chunk);
            let v = f64::from_le_bytes(le);
            if !v.is_finite() {
                return Err(DecodeError::NotFinite { index: i });
            }
            if i >= skip {
                detector.push(v);
            }
        }
        detector.band = detector.compute_band();
        Ok(detector)
    }

    /// Adds a finite value, dropping the oldest beyond `window`.
    fn push(&mut self, value: f64) {
        if self.history.len() >= self.settings.window {
            self.history.pop_front();
        }
        self.history.push_back(value);
    }

    /// The band of the current history: center = median, half-width =
    /// max(width × 1.4826 × MAD, min_spread, relative_spread × |center|).
    fn compute_band(&mut self) -> Option<Band> {
        let s = &self.settings;
        if self.history.len() < s.warmup {
            return None;
        }
        self.scratch.clear();
        self.scratch.extend(self.history.iter().copied());
        let center = median(&mut self.scratch)?;
        for v in &mut self.scratch {
            *v = (*v - center).abs();
        }
        let mad = median(&mut self.scratch)?;
        let half = (s.width * MAD_SCALE * mad)
            .max(s.min_spread)
            .max(s.relative_spread * center.abs());
        Some(Band {
            low: center - half,
            center,
            high: center + half,
        })
    }
}

/// The median of `values` (reordered in place, in linear time); `None`
/// when empty. Of an even count, the midpoint of the two middle values.
fn median(values: &mut [f64]) -> Option<f64> {
    let len = values.len();
    if len == 0 {
        return None;
    }
    let mid = len / 2;
    let (lower, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if len.is_multiple_of(2) {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(below.midpoint(upper))
    } else {
        Some(upper)
    }
}

/// Bytes [`Detector::decode`] cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the 5-byte header.
    Short {
        /// Bytes given.
        len: usize,
    },
    /// A version this build does not read.
    Version {
        /// The version byte found.
        version: u8,
    },
    /// The length does not match the number of values the header announces
    /// (truncated, or trailing bytes).
    Length {
        /// Values announced.
        count: u32,
        /// Bytes given.
        len: usize,
    },
    /// A value is NaN or infinite, which a history never holds.
    NotFinite {
        /// Its index, oldest first.
        index: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot decode a detector's history: ")?;
        match self {
            DecodeError::Short { len } => {
                write!(f, "{len} bytes, fewer than its {HEADER}-byte header")
            }
            DecodeError::Version { version } => write!(
                f,
                "format version {version}, but this build reads version {FORMAT}"
            ),
            DecodeError::Length { count, len } => write!(
                f,
                "{len} bytes, but the header announces {count} values ({HEADER} + 8 × {count} bytes)"
            ),
            DecodeError::NotFinite { index } => {
                write!(f, "value {index} is not a finite number")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SettingsError, Transition, Trigger};

    /// xorshift64*: a small deterministic PRNG for noisy series.
    struct Noise(u64);

    impl Noise {
        /// Uniform in `[-1, 1)`.
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
            bits as f64 / (1u64 << 52) as f64 - 1.0
        }

        /// `level` with uniform noise of ±`share` of it.
        fn around(&mut self, level: f64, share: f64) -> f64 {
            level * (1.0 + share * self.next())
        }
    }

    fn detector(settings: Settings) -> Detector {
        assert_eq!(settings.check(), Ok(()));
        Detector::new(settings)
    }

    /// A detector fed `n` values of 100 ± 5%.
    fn steady(noise: &mut Noise, n: usize, settings: Settings) -> Detector {
        let mut d = detector(settings);
        for _ in 0..n {
            let o = d.observe(noise.around(100.0, 0.05));
            assert!(!o.outside, "{o:?}");
        }
        d
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [4.0]), Some(4.0));
        assert_eq!(median(&mut [9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&mut [9.0, 1.0, 5.0, 2.0]), Some(3.5));
        assert_eq!(median(&mut [f64::MAX, f64::MAX]), Some(f64::MAX));
        assert_eq!(median(&mut [-f64::MAX, f64::MAX]), Some(0.0));
    }

    #[test]
    fn band_is_median_and_scaled_mad_with_floors() {
        // Median 10, deviations 0 1 1 2 5 -> MAD 1.
        let values = [9.0, 10.0, 8.0, 11.0, 15.0];
        let mut d = detector(Settings {
            warmup: 5,
            relative_spread: 0.0,
            ..Settings::default()
        });
        for v in values {
            d.observe(v);
        }
        let half = 3.0 * MAD_SCALE;
        assert_eq!(
            d.band(),
            Some(Band {
                low: 10.0 - half,
                center: 10.0,
                high: 10.0 + half
            })
        );
        // The floors: an absolute one, then a relative one.
        let mut d = detector(Settings {
            warmup: 5,
            relative_spread: 0.0,
            min_spread: 6.0,
            ..Settings::default()
        });
        for v in values {
            d.observe(v);
        }
        assert_eq!(d.band().map(|b| (b.low, b.high)), Some((4.0, 16.0)));
        let mut d = detector(Settings {
            warmup: 5,
            relative_spread: 0.9,
            min_spread: 6.0,
            ..Settings::default()
        });
        for v in values {
            d.observe(v);
        }
        assert_eq!(d.band().map(|b| (b.low, b.high)), Some((1.0, 19.0)));
        // A flat series has a band of zero width without floors: equal is inside.
        let mut d = detector(Settings {
            warmup: 3,
            relative_spread: 0.0,
            ..Settings::default()
        });
        for _ in 0..3 {
            assert!(!d.observe(7.0).outside);
        }
        assert!(!d.observe(7.0).outside);
        assert!(d.observe(7.000_001).outside);
    }

    #[test]
    fn warmup_gives_no_band_and_nothing_outside() {
        let mut d = detector(Settings {
            warmup: 5,
            ..Settings::default()
        });
        assert!(d.is_empty());
        for i in 0..5 {
            assert_eq!(d.band(), None, "after {i} values");
            let o = d.observe(if i == 3 { 1e9 } else { 1.0 });
            assert_eq!((o.band, o.outside), (None, false));
        }
        assert_eq!(d.len(), 5);
        assert!(d.band().is_some());
        assert!(d.observe(1e9).outside);
    }

    #[test]
    fn a_steady_noisy_series_never_goes_outside() {
        let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
        let d = steady(&mut noise, 5_000, Settings::default());
        assert_eq!(d.len(), 60);
        // The same with no relative floor: the MAD alone keeps it inside.
        steady(
            &mut noise,
            5_000,
            Settings {
                relative_spread: 0.0,
                width: 4.0,
                ..Settings::default()
            },
        );
    }

    #[test]
    fn a_single_outlier_barely_moves_the_band_and_does_not_raise() -> Result<(), SettingsError> {
        let mut noise = Noise(7);
        let mut d = steady(&mut noise, 100, Settings::default());
        let mut alarm = Trigger::new(3, 5)?;
        let before = d.band();
        let o = d.observe(1_000.0);
        assert!(o.outside);
        assert_eq!(alarm.update(o.outside), None);
        let (Some(before), Some(after)) = (before, d.band()) else {
            panic!("no band");
        };
        assert!(
            (after.center - before.center).abs() < 1.0,
            "{before:?} {after:?}"
        );
        assert!(
            (after.high - before.high).abs() < 1.5,
            "{before:?} {after:?}"
        );
        assert_eq!(d.len(), 60);
        // Back to normal at once, and the alarm never raised.
        for _ in 0..10 {
            let o = d.observe(noise.around(100.0, 0.05));
            assert!(!o.outside);
            assert_eq!(alarm.update(o.outside), None);
        }
        assert!(!alarm.raised());
        Ok(())
    }

    #[test]
    fn a_level_shift_raises_at_once_then_the_band_follows_and_clears() -> Result<(), SettingsError>
    {
        let mut noise = Noise(42);
        let mut d = steady(&mut noise, 60, Settings::default());
        let mut alarm = Trigger::new(3, 5)?;
        let mut outside = Vec::new();
        let mut transitions = Vec::new();
        for i in 0..60 {
            let o = d.observe(noise.around(1_000.0, 0.05));
            outside.push(o.outside);
            if let Some(t) = alarm.update(o.outside) {
                transitions.push((i, t));
            }
        }
        assert!(outside[0], "the 10x step is outside at once");
        // Outside until the new level fills about half the window, inside after.
        let first_inside = outside.iter().position(|o| !o).unwrap_or(60);
        assert!((28..=32).contains(&first_inside), "{outside:?}");
        assert!(outside[first_inside..].iter().all(|o| !o), "{outside:?}");
        let center = d.band().map_or(0.0, |b| b.center);
        assert!((950.0..1050.0).contains(&center), "{center}");
        // Raised on the third value of the new level, cleared on the third inside.
        assert_eq!(
            transitions,
            [
                (2, Transition::Raised),
                (first_inside + 2, Transition::Cleared)
            ]
        );
        assert!(!alarm.raised());
        Ok(())
    }

    #[test]
    fn direction_above_ignores_drops_and_below_ignores_rises() {
        let mut noise = Noise(3);
        for (direction, drop, rise) in [
            (Direction::Both, true, true),
            (Direction::Above, false, true),
            (Direction::Below, true, false),
        ] {
            let settings = Settings {
                direction,
                ..Settings::default()
            };
            let mut d = steady(&mut noise, 60, settings);
            assert_eq!(d.observe(10.0).outside, drop, "{direction:?}");
            assert_eq!(d.observe(1_000.0).outside, rise, "{direction:?}");
        }
    }

    #[test]
    fn non_finite_values_are_not_added() {
        let mut noise = Noise(5);
        let mut d = steady(&mut noise, 20, Settings::default());
        let band = d.band();
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let o = d.observe(v);
            assert!(!o.outside);
            assert_eq!(o.band, band);
        }
        assert_eq!((d.len(), d.band()), (20, band));
    }

    #[test]
    fn huge_values_make_no_nan() {
        let mut d = detector(Settings {
            warmup: 3,
            ..Settings::default()
        });
        for v in [f64::MAX, -f64::MAX, f64::MAX, -f64::MAX, 0.0] {
            let o = d.observe(v);
            assert!(!o.value.is_nan());
            if let Some(b) = o.band {
                assert!(
                    !b.low.is_nan() && !b.center.is_nan() && !b.high.is_nan(),
                    "{b:?}"
                );
            }
        }
    }

    #[test]
    fn any_settings_are_clamped_never_a_panic() {
        let mut d = Detector::new(Settings {
            window: 0,
            warmup: 0,
            width: f64::NAN,
            min_spread: -1.0,
            relative_spread: f64::INFINITY,
            direction: Direction::Both,
        });
        assert_eq!(d.settings().check(), Ok(()));
        for v in [1.0, 2.0, 3.0, 4.0] {
            d.observe(v);
        }
        assert_eq!(d.len(), 3);
        assert_eq!(d.history().collect::<Vec<_>>(), [2.0, 3.0, 4.0]);
        let mut huge = Detector::new(Settings {
            window: usize::MAX,
            warmup: usize::MAX,
            ..Settings::default()
        });
        assert_eq!(huge.observe(1.0).band, None);
    }

    #[test]
    fn encoding_round_trips_and_keeps_the_newest_window() -> Result<(), DecodeError> {
        let mut noise = Noise(11);
        let mut d = steady(&mut noise, 75, Settings::default());
        let bytes = d.encode();
        assert_eq!(bytes.len(), 5 + 8 * 60);
        assert_eq!(bytes[..5], [1, 60, 0, 0, 0]);
        let history: Vec<f64> = d.history().collect();
        let mut back = Detector::decode(&bytes, Settings::default())?;
        assert_eq!(back.history().collect::<Vec<_>>(), history);
        assert_eq!(back.band(), d.band());
        assert_eq!(back.observe(140.0), d.observe(140.0));
        // A smaller window keeps the newest values.
        let small = Settings {
            window: 10,
            ..Settings::default()
        };
        let cut = Detector::decode(&bytes, small)?;
        assert_eq!(cut.history().collect::<Vec<_>>(), history[50..]);
        // An empty history.
        let empty = Detector::new(Settings::default()).encode();
        assert_eq!(empty, [1, 0, 0, 0, 0]);
        assert!(Detector::decode(&empty, Settings::default())?.is_empty());
        Ok(())
    }

    #[test]
    fn decoding_other_bytes_is_an_error_never_a_panic() {
        let mut noise = Noise(13);
        let good = steady(&mut noise, 12, Settings::default()).encode();
        let decode = |b: &[u8]| Detector::decode(b, Settings::default()).err();
        for n in 0..good.len() {
            assert!(decode(&good[..n]).is_some(), "truncated to {n}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(
            decode(&longer),
            Some(DecodeError::Length {
                count: 12,
                len: 102
            })
        );
        let mut v2 = good.clone();
        v2[0] = 2;
        assert_eq!(decode(&v2), Some(DecodeError::Version { version: 2 }));
        let mut nan = good.clone();
        nan[5 + 8 * 3..5 + 8 * 4].copy_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(decode(&nan), Some(DecodeError::NotFinite { index: 3 }));
        assert_eq!(
            decode(&[1, 0xff, 0xff, 0xff, 0xff]),
            Some(DecodeError::Length {
                count: u32::MAX,
                len: 5
            })
        );
        assert_eq!(
            decode(&[1, 2]).map(|e| e.to_string()).unwrap_or_default(),
            "cannot decode a detector's history: 2 bytes, fewer than its 5-byte header"
        );
        // Garbage of every length from a PRNG: an answer, never a panic.
        let mut state = 0x1234_5678_9abc_def1_u64;
        for len in 0..600 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let _ = Detector::decode(&bytes, Settings::default());
            let mut framed = bytes;
            if framed.len() >= 5 {
                framed[0] = 1;
                let n = u32::try_from((framed.len() - 5) / 8).unwrap_or(0);
                framed[1..5].copy_from_slice(&n.to_le_bytes());
                framed.truncate(5 + 8 * n as usize);
                if let Ok(d) = Detector::decode(&framed, Settings::default()) {
                    assert!(d.history().all(f64::is_finite));
                }
            }
        }
    }
}
