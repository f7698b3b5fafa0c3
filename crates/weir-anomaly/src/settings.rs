//! The detector's settings and the error that names a bad one.

use std::fmt;

/// Which side of the band counts as outside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Direction {
    /// Above `high` or below `low` (the default).
    #[default]
    Both,
    /// Above `high` only: a drop is never an anomaly (temperatures, latencies, error rates).
    Above,
    /// Below `low` only: a rise is never an anomaly (throughput, free space).
    Below,
}

/// How a [`Detector`](crate::Detector) learns its band. The defaults suit a
/// metric sampled once a minute, with an hour of history.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Values of history kept: the newest `window`. The band follows a level
    /// shift once the new level fills half of it. Default 60; at least 3.
    pub window: usize,
    /// Band half-width in robust standard deviations (`1.4826 * MAD`).
    /// Default 3.0; a positive finite number.
    pub width: f64,
    /// Smallest band half-width, in the series' unit: a flat series (MAD 0)
    /// still gets a band this wide. Default 0.0; finite, at least 0.
    pub min_spread: f64,
    /// Smallest band half-width as a share of `|center|`: 0.1 keeps values
    /// within 10% of the median inside whatever the MAD. Default 0.1;
    /// finite, at least 0.
    pub relative_spread: f64,
    /// Values seen before there is a band (none is outside before).
    /// Default 10; between 3 and `window`.
    pub warmup: usize,
    /// Which side of the band counts as outside. Default [`Direction::Both`].
    pub direction: Direction,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            window: 60,
            width: 3.0,
            min_spread: 0.0,
            relative_spread: 0.1,
            warmup: 10,
            direction: Direction::Both,
        }
    }
}

/// The smallest `window` and `warmup`: a median and a MAD of fewer values
/// say nothing.
pub(crate) const MIN_WINDOW: usize = 3;

impl Settings {
    /// Checks every field: `window >= 3`, `3 <= warmup <= window`, `width`
    /// positive and finite, both spreads finite and at least 0. The error
    /// names the first bad field and its value.
    pub fn check(&self) -> Result<(), SettingsError> {
        if self.window < MIN_WINDOW {
            return Err(SettingsError::new(
                "window",
                "must be at least 3",
                self.window,
            ));
        }
        if !(MIN_WINDOW..=self.window).contains(&self.warmup) {
            return Err(SettingsError::new(
                "warmup",
                format!("must be between 3 and `window` ({})", self.window),
                self.warmup,
            ));
        }
        if !(self.width.is_finite() && self.width > 0.0) {
            return Err(SettingsError::new(
                "width",
                "must be a positive finite number",
                self.width,
            ));
        }
        for (field, value) in [
            ("min_spread", self.min_spread),
            ("relative_spread", self.relative_spread),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(SettingsError::new(
                    field,
                    "must be a finite number of at least 0",
                    value,
                ));
            }
        }
        Ok(())
    }

    /// The nearest settings [`check`](Self::check) accepts: `window` at
    /// least 3, `warmup` within `3..=window`, a `width` that is not a
    /// positive finite number replaced by the default 3.0, a spread that is
    /// not a finite number of at least 0 replaced by 0.
    pub(crate) fn clamped(mut self) -> Self {
        self.window = self.window.max(MIN_WINDOW);
        self.warmup = self.warmup.clamp(MIN_WINDOW, self.window);
        if !(self.width.is_finite() && self.width > 0.0) {
            self.width = Settings::default().width;
        }
        for spread in [&mut self.min_spread, &mut self.relative_spread] {
            if !(spread.is_finite() && *spread >= 0.0) {
                *spread = 0.0;
            }
        }
        self
    }
}

/// A setting out of its range: which one, what it must be, and the value
/// given. Displays as "`warmup` must be between 3 and `window` (60), got 80".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    field: &'static str,
    requirement: String,
    value: String,
}

impl SettingsError {
    pub(crate) fn new(
        field: &'static str,
        requirement: impl Into<String>,
        value: impl fmt::Display,
    ) -> Self {
        Self {
            field,
            requirement: requirement.into(),
            value: value.to_string(),
        }
    }

    /// The field's name, as in [`Settings`] (or `m` and `n` of a
    /// [`Trigger`](crate::Trigger)).
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What the value must be, e.g. "must be at least 3".
    pub fn requirement(&self) -> &str {
        &self.requirement
    }

    /// The value given, as text.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` {}, got {}",
            self.field, self.requirement, self.value
        )
    }
}

impl std::error::Error for SettingsError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(s: Settings) -> String {
        s.check().err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn defaults_pass_and_each_bad_field_is_named_with_its_value() {
        assert_eq!(Settings::default().check(), Ok(()));
        let d = Settings::default;
        assert_eq!(
            error(Settings { window: 2, ..d() }),
            "`window` must be at least 3, got 2"
        );
        assert_eq!(
            error(Settings { warmup: 61, ..d() }),
            "`warmup` must be between 3 and `window` (60), got 61"
        );
        assert_eq!(
            error(Settings { warmup: 2, ..d() }),
            "`warmup` must be between 3 and `window` (60), got 2"
        );
        assert_eq!(
            error(Settings { width: 0.0, ..d() }),
            "`width` must be a positive finite number, got 0"
        );
        assert_eq!(
            error(Settings {
                width: f64::NAN,
                ..d()
            }),
            "`width` must be a positive finite number, got NaN"
        );
        assert_eq!(
            error(Settings {
                min_spread: -1.5,
                ..d()
            }),
            "`min_spread` must be a finite number of at least 0, got -1.5"
        );
        assert_eq!(
            error(Settings {
                relative_spread: f64::INFINITY,
                ..d()
            }),
            "`relative_spread` must be a finite number of at least 0, got inf"
        );
        let e = Settings { window: 0, ..d() }.check().err();
        assert_eq!(e.as_ref().map(SettingsError::field), Some("window"));
        assert_eq!(e.as_ref().map(SettingsError::value), Some("0"));
        assert_eq!(
            e.as_ref().map(SettingsError::requirement),
            Some("must be at least 3")
        );
        // The smallest valid settings.
        let small = Settings {
            window: 3,
            warmup: 3,
            width: f64::MIN_POSITIVE,
            min_spread: 0.0,
            relative_spread: 0.0,
            direction: Direction::Below,
        };
        assert_eq!(small.check(), Ok(()));
    }

    #[test]
    fn clamping_yields_valid_settings() {
        let wild = Settings {
            window: 0,
            warmup: usize::MAX,
            width: -1.0,
            min_spread: f64::NAN,
            relative_spread: f64::NEG_INFINITY,
            direction: Direction::Above,
        }
        .clamped();
        assert_eq!(wild.check(), Ok(()));
        assert_eq!((wild.window, wild.warmup, wild.width), (3, 3, 3.0));
        assert_eq!((wild.min_spread, wild.relative_spread), (0.0, 0.0));
        assert_eq!(Settings::default().clamped(), Settings::default());
    }
}
