//! [`ManualClock`]: one time source, moved only by the test, that plugs into every Foundation crate with a clock.

use std::{
    fmt,
    time::{Duration, SystemTime},
};

use crate::sync::{Arc, AtomicU64, Ordering};

/// A clock that moves only when the test says so, usable from any thread
/// and any runtime flavour (tokio's paused time works only on a
/// current-thread runtime).
///
/// One `ManualClock` implements the `Clock` trait of each Foundation crate
/// that reads time through one:
///
/// | crate | trait | reads |
/// | --- | --- | --- |
/// | rate limiter | `foundation_rate_limiter::Clock` | nanoseconds since the clock's start |
/// | circuit breaker | `foundation_circuit_breaker::Clock` | the `Duration` since the clock's start |
/// | dead-letter queue | `foundation_dead_letter::Clock` | the wall-clock [`SystemTime`]: [`wall_start`](Self::wall_start) plus the elapsed time |
///
/// so one test moves all of them together with one
/// [`advance`](Self::advance). Clones share the same time.
///
/// The mailbox's timers ([`Context::send_after`](foundation_mailbox::Context::send_after),
/// intervals) and call timeouts run on tokio's clock, not on this one: for
/// them, use tokio's paused time (`#[tokio::test(start_paused = true)]` and
/// `tokio::time::advance`). See `docs/testkit.md`.
///
/// ```
/// use std::time::Duration;
/// use foundation::testkit::ManualClock;
/// use foundation::rate_limiter::{Config, Decision, DirectLimiter};
///
/// let clock = ManualClock::new();
/// let limiter = DirectLimiter::with_clock(Config::fixed_window(1, Duration::from_secs(1)), clock.clone()).unwrap();
/// assert!(limiter.check().is_allowed());
/// assert!(!limiter.check().is_allowed());
/// clock.advance(Duration::from_secs(1));
/// assert!(limiter.check().is_allowed());
/// ```
#[derive(Clone)]
pub struct ManualClock {
    shared: Arc<Shared>,
}

struct Shared {
    nanos: AtomicU64,
    wall_start: SystemTime,
}

impl ManualClock {
    /// A clock at zero whose wall-clock time starts at a fixed instant
    /// (2026-01-01T00:00:00Z), so timestamps in a test are the same on
    /// every run.
    pub fn new() -> Self {
        Self::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600))
    }

    /// A clock at zero whose wall-clock time starts at `wall_start`.
    pub fn starting_at(wall_start: SystemTime) -> Self {
        Self {
            shared: Arc::new(Shared {
                nanos: AtomicU64::new(0),
                wall_start,
            }),
        }
    }

    /// Moves the clock forward by `by`, saturating at `u64::MAX`
    /// nanoseconds (about 584 years).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // A closure that always returns `Some` makes `fetch_update` infallible.
        let _previous =
            self.shared
                .nanos
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                    Some(now.saturating_add(by))
                });
    }

    /// Sets the time since the clock's start to `elapsed`. The clock never
    /// goes backwards: an earlier time is ignored.
    pub fn set_elapsed(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.shared.nanos.fetch_max(nanos, Ordering::AcqRel);
    }

    /// Time since the clock's start.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.nanos())
    }

    /// The wall-clock time the clock started at.
    pub fn wall_start(&self) -> SystemTime {
        self.shared.wall_start
    }

    /// The wall-clock time now: [`wall_start`](Self::wall_start) plus
    /// [`elapsed`](Self::elapsed).
    pub fn wall_now(&self) -> SystemTime {
        self.shared.wall_start + self.elapsed()
    }

    fn nanos(&self) -> u64 {
        self.shared.nanos.load(Ordering::Acquire)
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("elapsed", &self.elapsed())
            .finish()
    }
}

#[cfg(feature = "rate-limiter")]
impl foundation_rate_limiter::Clock for ManualClock {
    fn now_nanos(&self) -> u64 {
        self.nanos()
    }
}

#[cfg(feature = "circuit-breaker")]
impl foundation_circuit_breaker::Clock for ManualClock {
    fn now(&self) -> Duration {
        self.elapsed()
    }
}

#[cfg(feature = "dead-letter")]
impl foundation_dead_letter::Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.wall_now()
    }
}

/// The scheduler's clock: the wall-clock time, and sleeps that end once
/// the test has moved the clock past their deadline. The manual clock has
/// no list of sleepers to wake, so a sleep looks at it again every
/// millisecond of tokio's time (free under paused time, where tokio jumps
/// from one look to the next).
#[cfg(feature = "scheduler")]
impl foundation_scheduler::Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.wall_now()
    }

    fn sleep_until(&self, deadline: SystemTime) -> foundation_scheduler::Sleep {
        let clock = self.clone();
        Box::pin(async move {
            let mut looks = tokio::time::interval(Duration::from_millis(1));
            looks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while clock.wall_now() < deadline {
                looks.tick().await;
            }
        })
    }
}
