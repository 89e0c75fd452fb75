//! [`DirectLimiter`]: one limit for one thing, no key, no map.

use std::fmt;

use crate::{
    clock::{Clock, MonotonicClock},
    config::Config,
    decision::Decision,
    error::ConfigError,
    rule::Rule,
    sync::{AtomicU64, Ordering},
};

/// A rate limiter for a single key: the fast path when there is only one
/// thing to limit (a whole service, one outbound API).
///
/// It holds one atomic state, so a check is a clock read and one
/// compare-and-swap.
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Config, DirectLimiter};
///
/// let limiter = DirectLimiter::new(Config::gcra(100, Duration::from_secs(1))).unwrap();
/// let admitted = (0..150).filter(|_| limiter.check().is_allowed()).count();
/// assert_eq!(admitted, 100);
/// assert_eq!(limiter.denied(), 50);
/// ```
pub struct DirectLimiter<C = MonotonicClock> {
    state: State,
    rule: Rule,
    clock: C,
}

/// The state on its own cache line, away from the read-only rule.
#[repr(align(128))]
struct State(AtomicU64);

impl DirectLimiter {
    /// A limiter on the default monotonic clock.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] if the limit or the window is zero, or the window is
    /// too long.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Self::with_clock(config, MonotonicClock::new())
    }
}

impl<C: Clock> DirectLimiter<C> {
    /// A limiter reading time from `clock`.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] if the limit or the window is zero, or the window is
    /// too long.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::rate_limiter::{Config, Decision, DirectLimiter, ManualClock};
    ///
    /// let clock = ManualClock::new();
    /// let limiter = DirectLimiter::with_clock(Config::fixed_window(1, Duration::from_secs(1)), clock.clone()).unwrap();
    /// assert!(limiter.check().is_allowed());
    /// clock.advance(Duration::from_millis(400));
    /// assert_eq!(limiter.check(), Decision::Denied { retry_after: Duration::from_millis(600) });
    /// ```
    pub fn with_clock(config: Config, clock: C) -> Result<Self, ConfigError> {
        let rule = Rule::new(config, "direct")?;
        let state = State(AtomicU64::new(rule.fresh_state(clock.now_nanos())));
        Ok(Self { state, rule, clock })
    }

    /// Checks one request: admitted and counted, or denied.
    #[inline]
    pub fn check(&self) -> Decision {
        self.check_n(1)
    }

    /// Checks `n` requests at once: all admitted, or none. `n` larger than
    /// the limit is denied with [`Duration::MAX`](std::time::Duration::MAX)
    /// without consuming anything; `n == 0` only reports what remains.
    #[inline]
    pub fn check_n(&self, n: u32) -> Decision {
        self.rule.decide(&self.state.0, self.clock.now_nanos(), n)
    }
}

impl<C> DirectLimiter<C> {
    /// The limiter's configuration.
    pub fn config(&self) -> &Config {
        self.rule.config()
    }

    /// How many checks were denied so far.
    pub fn denied(&self) -> u64 {
        self.rule.denied()
    }
}

impl<C> fmt::Debug for DirectLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectLimiter")
            .field("config", self.rule.config())
            .field("state", &self.state.0.load(Ordering::Relaxed))
            .field("denied", &self.rule.denied())
            .finish()
    }
}
