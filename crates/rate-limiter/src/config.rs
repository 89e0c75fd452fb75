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
/// use foundation_rate_limiter::{Algorithm, Config};
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
        let window =
            u64::try_from(self.window.as_nanos()).map_err(|_| ConfigError::WindowTooLong)?;
        if window == 0 {
            return Err(ConfigError::ZeroWindow);
        }
        Ok((self.limit, window))
    }
}
