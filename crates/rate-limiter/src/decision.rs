//! [`Decision`]: what a check answers.

use std::time::Duration;

/// The answer to a check: admitted or not, and what follows for the caller.
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Config, Decision, DirectLimiter};
///
/// let limiter = DirectLimiter::new(Config::fixed_window(1, Duration::from_secs(1))).unwrap();
/// assert!(matches!(limiter.check(), Decision::Allowed { remaining: 0, .. }));
/// match limiter.check() {
///     Decision::Denied { retry_after } => assert!(retry_after <= Duration::from_secs(1)),
///     allowed => panic!("expected a denial, got {allowed:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The request was admitted and counted.
    Allowed {
        /// How many more single requests would be admitted right now.
        remaining: u32,
        /// When the limiter is back to its full limit if nothing else is
        /// admitted: the end of the current window (fixed window), or the
        /// time for every admitted request to drain (GCRA).
        reset_after: Duration,
    },
    /// The request was refused and nothing was counted.
    Denied {
        /// The earliest time after which the same request can succeed.
        /// [`Duration::MAX`] when it never can: a `check_n` for more than the
        /// limit.
        retry_after: Duration,
    },
}

impl Decision {
    /// Whether the request was admitted.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::rate_limiter::Decision;
    ///
    /// assert!(!Decision::Denied { retry_after: Duration::ZERO }.is_allowed());
    /// ```
    #[inline]
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }
}
