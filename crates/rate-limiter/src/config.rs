//! [`Config`] and [`Algorithm`]: what a limiter admits, and how.

use std::time::Duration;

use crate::error::ConfigError;

/// How a limiter spreads its limit over time. See the crate docs for a
/// diagram of the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// At most `limit` per window, windows aligned to the clock's origin; the
    /// count resets at each window boundary. Up to `2 × limit` can pass in a
    /// short time around a boundary (the end of one window and the start of
    /// the next).
    FixedWindow,
    /// The generic cell rate algorithm: a burst of up to `limit`, then one
    /// request every `window / limit`. In any interval of length `t`, at most
    /// `limit + ⌊t / (window / limit)⌋` requests pass, so there is no 2× burst
    /// at a boundary.
    Gcra,
}

/// A limiter's configuration: an algorithm, a limit and a window.
///
/// Validated when the limiter is built; an invalid one is a [`ConfigError`].
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Algorithm, Config};
///
/// let config = Config::gcra(100, Duration::from_secs(1));
/// assert_eq!(config.algorithm(), Algorithm::Gcra);
/// assert_eq!(config.limit(), 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    algorithm: Algorithm,
    limit: u32,
    window: Duration,
}

impl Config {
    /// The longest window a limiter accepts: `i64::MAX` nanoseconds, about
    /// 292 years. A longer one is a [`ConfigError::WindowTooLong`].
    ///
    /// A key's state is one `u64` of nanoseconds, and GCRA stores a
    /// theoretical arrival time up to a window (rounded up to whole
    /// intervals) ahead of now. Keeping the window within 63 bits keeps that
    /// time exact for every clock reading below `2^63 - 2^32` nanoseconds
    /// (about 292 years after the clock's origin); past that, a check whose
    /// arrival time would not fit is denied, never admitted uncounted.
    ///
    /// ```
    /// use foundation::rate_limiter::{Config, ConfigError, DirectLimiter};
    ///
    /// assert!(DirectLimiter::new(Config::gcra(1, Config::MAX_WINDOW)).is_ok());
    /// let longer = Config::MAX_WINDOW + std::time::Duration::from_nanos(1);
    /// assert_eq!(DirectLimiter::new(Config::gcra(1, longer)).unwrap_err(), ConfigError::WindowTooLong);
    /// ```
    pub const MAX_WINDOW: Duration = Duration::from_nanos(i64::MAX as u64);

    /// At most `limit` requests per fixed `window`.
    pub fn fixed_window(limit: u32, window: Duration) -> Self {
        Self::new(Algorithm::FixedWindow, limit, window)
    }

    /// `limit` requests per `window`, smoothed by GCRA: bursts of at most
    /// `limit`, never 2× across a boundary.
    pub fn gcra(limit: u32, window: Duration) -> Self {
        Self::new(Algorithm::Gcra, limit, window)
    }

    /// A configuration with the given algorithm.
    pub fn new(algorithm: Algorithm, limit: u32, window: Duration) -> Self {
        Self {
            algorithm,
            limit,
            window,
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The number of requests admitted per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The window.
    pub fn window(&self) -> Duration {
        self.window
    }

    pub(crate) fn validate(&self) -> Result<(u32, u64), ConfigError> {
        if self.limit == 0 {
            return Err(ConfigError::ZeroLimit);
        }
        if self.window > Self::MAX_WINDOW {
            return Err(ConfigError::WindowTooLong);
        }
        // At most `i64::MAX` after the check above, so it fits.
        let window = self.window.as_nanos() as u64;
        if window == 0 {
            return Err(ConfigError::ZeroWindow);
        }
        Ok((self.limit, window))
    }
}
