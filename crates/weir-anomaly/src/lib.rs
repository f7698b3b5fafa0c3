//! Anomaly detection over one time series, in the manner of CloudWatch
//! anomaly detection: a [`Detector`] learns a band of normal values from
//! the series' own recent history, robust to the outliers it is looking
//! for, that follows the series when its level shifts for good; a
//! [`Trigger`] turns "outside the band" verdicts into alarms that are
//! raised and cleared ("M of N").
//!
//! The crate has no dependencies and no clock: it runs in the host (alarms
//! on weir's own metrics) and inside WebAssembly plugins alike (the
//! `anomaly` aggregator plugin flags vehicles whose engines run hot for
//! their own history, `plugins/rust/anomaly`).
//!
//! ```
//! use weir_anomaly::{Detector, Direction, Settings, Transition, Trigger};
//!
//! // Latencies, one a minute; only a rise is a problem.
//! let settings = Settings { direction: Direction::Above, ..Settings::default() };
//! let mut detector = Detector::new(settings);
//! let mut alarm = Trigger::new(3, 5)?;
//!
//! // An hour around 120 ms: the band is learnt, nothing is outside.
//! for minute in 0..60 {
//!     let seen = detector.observe(117.0 + f64::from(minute % 7));
//!     assert!(!seen.outside);
//!     assert_eq!(alarm.update(seen.outside), None);
//! }
//! let band = detector.band().ok_or("no band after an hour")?;
//! assert_eq!((band.low, band.center, band.high), (108.0, 120.0, 132.0));
//!
//! // One slow minute is outside, but one of five does not raise the alarm...
//! assert!(detector.observe(400.0).outside);
//! assert_eq!(alarm.update(true), None);
//! // ...three of five do.
//! let raised = [405.0, 398.0].map(|ms| alarm.update(detector.observe(ms).outside));
//! assert_eq!(raised, [None, Some(Transition::Raised)]);
//!
//! // The history survives a restart through its bytes.
//! let bytes = detector.encode();
//! let restored = Detector::decode(&bytes, detector.settings().clone())?;
//! assert_eq!(restored.band(), detector.band());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The model
//!
//! The detector keeps the newest `window` values of the series (its
//! history). From the history it computes a band:
//!
//! - **center**: the median of the history;
//! - **spread**: `1.4826 × MAD`, the median absolute deviation from the
//!   median, scaled so that it estimates the standard deviation of normally
//!   distributed values ([`MAD_SCALE`]);
//! - **half-width**: `max(width × spread, min_spread, relative_spread × |center|)`;
//! - **band**: `low = center − half-width`, `high = center + half-width`.
//!
//! [`Detector::observe`] compares a value with the band of the history
//! *before* it — so the value cannot hide itself — and then adds it to the
//! history. A value strictly above `high` or below `low` is outside (on the
//! side or sides [`Direction`] names); one equal to a bound is inside.
//! Until `warmup` values have been seen there is no band and nothing is
//! outside. A non-finite value (NaN, ±∞) is never outside and never joins
//! the history.
//!
//! Median and MAD ignore a minority of outliers: a spike, or a few, moves
//! neither the center nor the width noticeably, so the band stays where
//! the normal values are. When the level shifts for good, the new values
//! are outside at first; once they fill about half the window the median
//! moves to them and the band follows: they are normal again, after about
//! `window / 2` values. What counts as "normal" is therefore always the
//! recent past — the detector has no notion of daily or weekly seasons.
//!
//! # Defaults, and how to choose settings
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | `window` | 60 | values of history: the past the band is learnt from |
//! | `width` | 3.0 | half-width in robust standard deviations |
//! | `min_spread` | 0.0 | smallest half-width, in the series' unit |
//! | `relative_spread` | 0.1 | smallest half-width, as a share of `|center|` |
//! | `warmup` | 10 | values before the first band |
//! | `direction` | `Both` | which side of the band is outside |
//!
//! - **`window`**: how much past defines normal, and how long a level
//!   shift stays anomalous (about half of it). An hour of one-minute
//!   values (60) follows a new normal after half an hour. Longer windows
//!   cost linear time per value (a median and a MAD of the window, without
//!   sorting); a few hundred values are cheap.
//! - **`width`**: the sensitivity. At 3, about 3 values in 1,000 of a
//!   normally distributed, stationary series are outside by chance; 4 or 5
//!   make false alarms rare, 2 catches smaller deviations.
//! - **`min_spread`**, **`relative_spread`**: floors for series that are
//!   nearly flat. A constant series has a MAD of 0, so without a floor any
//!   change at all is outside. `min_spread` is a deviation too small to
//!   matter in the series' unit (2 °C, 50 ms); `relative_spread` a share of
//!   the level (the default 0.1: within 10% of the median is always
//!   normal). Set both to 0 to rely on the MAD alone.
//! - **`warmup`**: values before the first verdict. Too few and the first
//!   bands come from a handful of values; at least 10 is sensible.
//! - **`direction`**: [`Direction::Above`] for things that hurt when they
//!   rise (latency, errors, temperature), [`Direction::Below`] for things
//!   that hurt when they fall (throughput, free space).
//!
//! [`Settings::check`] rejects out-of-range settings with an error naming
//! the field and its value; [`Detector::new`] clamps them instead of
//! panicking.
//!
//! # Alarms: M of N
//!
//! One value outside the band is a verdict, not yet an alarm: a metric
//! sampled often is outside by chance now and then. A [`Trigger`] raises
//! an alarm when at least `m` of the last `n` verdicts were outside, and
//! clears it when, after that, at least `m` of the last `n` were inside —
//! CloudWatch's "datapoints to alarm". `m = n = 1` alarms on every value
//! outside; `3 of 5` ignores a lone spike and raises on the third value of
//! a real change; larger `n` with the same share tolerates gaps. The
//! verdicts counted are those since the last transition, so a trigger
//! never flaps back on a verdict it has already counted.
//!
//! # State
//!
//! [`Detector::encode`] writes the history (not the settings) as
//! `5 + 8 × len` bytes: a version byte, the number of values (u32,
//! little-endian) and each value (f64, little-endian), oldest first.
//! [`Detector::decode`] reads it back with the settings given, keeping
//! the newest `window` values, and answers any other bytes with a
//! [`DecodeError`], never a panic: a plugin can keep a detector per key in
//! its state.
#![deny(missing_docs)]

mod detector;
mod settings;
mod trigger;

pub use detector::{Band, DecodeError, Detector, MAD_SCALE, Observation};
pub use settings::{Direction, Settings, SettingsError};
pub use trigger::{MAX_N, Transition, Trigger};
