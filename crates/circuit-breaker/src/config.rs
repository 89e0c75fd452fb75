//! What a breaker is told: its [`Config`], the sliding [`Window`] it judges
//! calls over, and how it checks them.

use std::time::Duration;

use crate::error::ConfigError;

/// The sliding window a closed breaker computes its rates over
/// (resilience4j's two kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The last `n` calls.
    Count(u32),
    /// The calls that ended in the last `span`, kept in ten buckets, so a
    /// call leaves the window within a tenth of `span` of its due time.
    Time(Duration),
}

/// A breaker's settings. Start from [`Config::default`] and change fields;
/// [`CircuitBreaker::new`](crate::CircuitBreaker::new) checks them.
///
/// ```
/// use std::time::Duration;
/// use foundation::circuit_breaker::{Config, Window};
///
/// let config = Config {
///     window: Window::Time(Duration::from_secs(10)),
///     failure_rate: 0.25,
///     ..Config::default()
/// };
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The window rates are computed over. Default: the last 100 calls.
    pub window: Window,
    /// Rates are not judged before the window holds this many calls.
    /// Default 10.
    pub minimum_calls: u32,
    /// Trip when this fraction of the window's calls failed (0 < r ≤ 1).
    /// Default 0.5.
    pub failure_rate: f64,
    /// Trip when this fraction of the window's calls were slow (0 < r ≤ 1).
    /// Default 1.0.
    pub slow_call_rate: f64,
    /// A call that takes at least this long is slow. Default 60 s.
    pub slow_call_threshold: Duration,
    /// How many probe calls half-open admits; their rates decide whether
    /// the breaker closes or opens again. Default 3.
    pub half_open_probes: u32,
    /// How long the first trip keeps the breaker open. Default 1 s.
    pub open_base: Duration,
    /// Each consecutive trip multiplies the open period by this (≥ 1).
    /// Default 2.
    pub open_multiplier: u32,
    /// The open period never exceeds this (before jitter). Default 60 s.
    pub open_max: Duration,
    /// The open period is scaled by a random factor in `[1 - jitter, 1 + jitter]`
    /// (0 ≤ jitter < 1), so breakers that tripped together do not probe
    /// together. Default 0.2.
    pub jitter: f64,
    /// Seeds the jitter, so a run can be replayed. Default 0x9e37_79b9.
    pub jitter_seed: u64,
    /// How many messages [`offer`](crate::CircuitBreaker::offer) keeps while
    /// the breaker is not closed (≥ 1). Default 1024.
    pub buffer_capacity: usize,
    /// After closing, buffered messages come out of
    /// [`poll_drain`](crate::CircuitBreaker::poll_drain) at most one per
    /// this interval. Default 1 ms.
    pub drain_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            window: Window::Count(100),
            minimum_calls: 10,
            failure_rate: 0.5,
            slow_call_rate: 1.0,
            slow_call_threshold: Duration::from_secs(60),
            half_open_probes: 3,
            open_base: Duration::from_secs(1),
            open_multiplier: 2,
            open_max: Duration::from_secs(60),
            jitter: 0.2,
            jitter_seed: 0x9e37_79b9,
            buffer_capacity: 1024,
            drain_interval: Duration::from_millis(1),
        }
    }
}

impl Config {
    /// The slow-call threshold in nanoseconds, saturating at `u64::MAX`:
    /// what a call's duration on the breaker's clock is compared with.
    pub(crate) fn slow_call_nanos(&self) -> u64 {
        u64::try_from(self.slow_call_threshold.as_nanos()).unwrap_or(u64::MAX)
    }

    /// Checks every field, naming the first one out of range.
    ///
    /// ```
    /// use foundation::circuit_breaker::{Config, ConfigError};
    ///
    /// let config = Config { half_open_probes: 0, ..Config::default() };
    /// assert!(matches!(config.validate(), Err(ConfigError::NoProbes)));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.window {
            Window::Count(0) => return Err(ConfigError::EmptyWindow),
            Window::Time(span) if span < Duration::from_micros(10) => {
                return Err(ConfigError::EmptyWindow);
            }
            _ => {}
        }
        for (name, rate) in [
            ("failure_rate", self.failure_rate),
            ("slow_call_rate", self.slow_call_rate),
        ] {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(ConfigError::Rate { name, rate });
            }
        }
        if self.minimum_calls == 0 {
            return Err(ConfigError::NoMinimumCalls);
        }
        if self.half_open_probes == 0 {
            return Err(ConfigError::NoProbes);
        }
        if self.open_multiplier == 0 {
            return Err(ConfigError::Multiplier);
        }
        if self.open_base.is_zero() || self.open_max < self.open_base {
            return Err(ConfigError::OpenPeriod {
                base: self.open_base,
                max: self.open_max,
            });
        }
        if !(0.0..1.0).contains(&self.jitter) {
            return Err(ConfigError::Jitter(self.jitter));
        }
        if self.buffer_capacity == 0 {
            return Err(ConfigError::NoBuffer);
        }
        Ok(())
    }
}
