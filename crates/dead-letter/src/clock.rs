//! Time for entries and pruning: the [`Clock`] trait, the default [`TokioClock`] and the test [`ManualClock`].

use std::{
    fmt,
    time::{Duration, SystemTime},
};

use crate::sync::{Arc, Mutex, lock};

/// Where the queue reads the time: entries' first-failure and last-attempt
/// times, pruning by age, and the cap on warnings per interval.
///
/// The time is wall-clock (`SystemTime`) because durable entries keep it
/// across restarts; it should not go backwards, and the queue tolerates it
/// if it does (an entry is then simply not old enough yet).
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The default clock: the wall-clock time when the queue was built, moved
/// on by tokio's clock. Under tokio's paused time (`start_paused`,
/// `tokio::time::advance`) it moves only with tokio's, so tests of pruning
/// and periodic redrive never sleep.
///
/// ```
/// use foundation::dead_letter::{Clock, TokioClock};
///
/// let clock = TokioClock::new();
/// assert!(clock.now() >= clock.now() - std::time::Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TokioClock {
    wall: SystemTime,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that reads the wall-clock time now and follows tokio's from here.
    pub fn new() -> Self {
        Self {
            wall: SystemTime::now(),
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> SystemTime {
        self.wall + self.origin.elapsed()
    }
}

/// A clock that moves only when told to, for tests. Clones share the time.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use foundation::dead_letter::{Clock, ManualClock};
///
/// let clock = ManualClock::at(UNIX_EPOCH + Duration::from_secs(100));
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(105));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn at(at: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    /// Moves the clock on by `by`.
    pub fn advance(&self, by: Duration) {
        *lock(&self.0) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *lock(&self.0)
    }
}

/// The queue's clock seen by the rate limiter: nanoseconds since the queue
/// was built, never going backwards.
#[derive(Debug)]
pub(crate) struct LimiterClock {
    clock: Arc<dyn Clock>,
    origin: SystemTime,
}

impl LimiterClock {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        let origin = clock.now();
        Self { clock, origin }
    }
}

impl foundation_rate_limiter::Clock for LimiterClock {
    fn now_nanos(&self) -> u64 {
        self.clock
            .now()
            .duration_since(self.origin)
            .map_or(0, |since| {
                u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
            })
    }
}
