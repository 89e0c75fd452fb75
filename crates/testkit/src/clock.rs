//! [`ManualClock`]: one time source, moved only by the test, that drives the mailbox's timers and timeouts and plugs into every Foundation crate with a clock.

use std::{
    fmt,
    time::{Duration, SystemTime},
};

use foundation_mailbox::time::{InstallError, ManualTime};

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
/// and it is also the clock of the mailbox's timers and timeouts on every
/// runtime it is [installed](Self::install) on, so one test moves all of
/// them together with one [`advance`](Self::advance). Clones share the
/// same time.
///
/// Installed on a runtime (before any actor starts there), it drives:
/// - timers: [`Context::send_after`](foundation_mailbox::Context::send_after)
///   and [`Context::interval`](foundation_mailbox::Context::interval) fire
///   when `advance` moves the time to their deadline or past it, and never
///   otherwise;
/// - the mailbox's bounded waits: call timeouts, stop and shutdown
///   timeouts, waits for room in a full mailbox, measured on this clock
///   when the waiting task runs on that runtime;
/// - whatever reads [`foundation_mailbox::time::now`] or sleeps with
///   [`foundation_mailbox::time::sleep_until`] on that runtime.
///
/// It works on a multi-thread runtime. `advance` does its work before it
/// returns: every timer now due has been handed to its actor (the tick is
/// queued, behind messages sent before), and every expired wait has been
/// woken, so the test can wait for the effect at once. A probe's own
/// `within` bounds stay on tokio's clock: they guard the test, they are
/// not the behaviour under test. See `docs/testkit.md`.
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
    time: ManualTime,
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
            time: ManualTime::new(),
            wall_start,
        }
    }

    /// Makes this clock the time of `runtime`'s timers and timeouts. Call it
    /// before any actor starts on `runtime`; one clock may be installed on
    /// several runtimes, and a runtime it is not installed on keeps tokio's
    /// clock.
    ///
    /// # Errors
    ///
    /// [`InstallError::AlreadyStarted`] if an actor already started on
    /// `runtime`, [`InstallError::AlreadyInstalled`] if `runtime` already
    /// has a manual clock, [`InstallError::ShutDown`] if it has shut down.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::testkit::{InstallError, ManualClock};
    ///
    /// // In a `#[tokio::test(flavor = "multi_thread")]`, pass
    /// // `&tokio::runtime::Handle::current()` before starting any actor.
    /// let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// let clock = ManualClock::new();
    /// clock.install(runtime.handle()).unwrap();
    /// assert_eq!(clock.install(runtime.handle()), Err(InstallError::AlreadyInstalled));
    /// ```
    pub fn install(&self, runtime: &tokio::runtime::Handle) -> Result<(), InstallError> {
        self.time.install(runtime)
    }

    /// Moves the clock forward by `by`, saturating at `u64::MAX`
    /// nanoseconds (about 584 years). Before it returns, every mailbox
    /// timer now due on the runtimes the clock is installed on is queued to
    /// its actor, and every expired timeout has been woken.
    pub fn advance(&self, by: Duration) {
        self.time.advance(by);
    }

    /// Sets the time since the clock's start to `elapsed`, then does what
    /// [`advance`](Self::advance) does. The clock never goes backwards: an
    /// earlier time is ignored.
    pub fn set_elapsed(&self, elapsed: Duration) {
        self.time.set_elapsed(elapsed);
    }

    /// Time since the clock's start.
    pub fn elapsed(&self) -> Duration {
        self.time.elapsed()
    }

    /// The wall-clock time the clock started at.
    pub fn wall_start(&self) -> SystemTime {
        self.wall_start
    }

    /// The wall-clock time now: [`wall_start`](Self::wall_start) plus
    /// [`elapsed`](Self::elapsed).
    pub fn wall_now(&self) -> SystemTime {
        self.wall_start + self.elapsed()
    }

    /// The mailbox's manual time behind this clock.
    pub fn manual_time(&self) -> &ManualTime {
        &self.time
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
        u64::try_from(self.elapsed().as_nanos()).unwrap_or(u64::MAX)
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
