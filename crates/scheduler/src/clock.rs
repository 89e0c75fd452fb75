//! Time for the scheduler: the [`Clock`] trait (wall-clock time and a way
//! to sleep until a wall-clock deadline), the default [`SystemClock`], and
//! the [`TokioClock`] that follows tokio's paused time in tests.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    time::{Duration, SystemTime},
};

/// A sleep returned by [`Clock::sleep_until`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the scheduler reads the time and how it waits for the next job.
///
/// Scheduler time is wall-clock time ([`SystemTime`]): a job's due time is
/// saved in the store and must mean the same instant after the program
/// restarts, and cron expressions name wall-clock minutes. A clock may be
/// moved by hand (tests) or jump (NTP): the scheduler reads [`now`](Self::now)
/// again whenever a sleep ends, fires what is due by that reading, and
/// sleeps again, so a sleep that ends early or late only delays a tick, it
/// never fires one before its time.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use foundation::scheduler::{Clock, Sleep};
///
/// /// A clock stopped at one instant whose sleeps never end.
/// #[derive(Debug)]
/// struct Stopped(SystemTime);
///
/// impl Clock for Stopped {
///     fn now(&self) -> SystemTime {
///         self.0
///     }
///     fn sleep_until(&self, _deadline: SystemTime) -> Sleep {
///         Box::pin(std::future::pending())
///     }
/// }
/// let clock = Stopped(SystemTime::UNIX_EPOCH + Duration::from_secs(60));
/// assert_eq!(clock.now(), SystemTime::UNIX_EPOCH + Duration::from_secs(60));
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The wall-clock time now.
    fn now(&self) -> SystemTime;

    /// A future that ends at `deadline` by this clock, or soon after. It
    /// may end early (the scheduler checks [`now`](Self::now) again); it
    /// must end eventually once the clock has passed `deadline`.
    fn sleep_until(&self, deadline: SystemTime) -> Sleep;
}

/// The longest a [`SystemClock`] sleeps in one go, so a wall clock that
/// jumps forward (NTP, a suspended laptop) is noticed within a minute.
const LONGEST_SLEEP: Duration = Duration::from_secs(60);

/// The default clock: the operating system's wall clock, waiting on
/// tokio's timer (at most a minute at a time, then it reads the wall clock
/// again).
///
/// ```
/// use foundation::scheduler::{Clock, SystemClock};
///
/// let clock = SystemClock;
/// assert!(clock.now() > std::time::SystemTime::UNIX_EPOCH);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        let wait = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .min(LONGEST_SLEEP);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A wall clock that advances with `tokio::time::Instant`, so a test under
/// tokio's paused time (`#[tokio::test(start_paused = true)]`) drives the
/// scheduler with `tokio::time::advance`, or lets tokio jump straight to
/// the next due job when every task is idle. Clones share their origin.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use foundation::scheduler::{Clock, TokioClock};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
/// let clock = TokioClock::starting_at(start);
/// tokio::time::advance(Duration::from_secs(5)).await;
/// assert_eq!(clock.now(), start + Duration::from_secs(5));
/// # });
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TokioClock {
    wall: SystemTime,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that reads `wall` at tokio's now. Create it inside the
    /// runtime whose time it follows.
    pub fn starting_at(wall: SystemTime) -> Self {
        Self {
            wall,
            origin: tokio::time::Instant::now(),
        }
    }

    /// A clock that reads the system's wall-clock time at tokio's now.
    pub fn new() -> Self {
        Self::starting_at(SystemTime::now())
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> SystemTime {
        self.wall + tokio::time::Instant::now().saturating_duration_since(self.origin)
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        let after = deadline.duration_since(self.wall).unwrap_or_default();
        let at = self
            .origin
            .checked_add(after)
            .unwrap_or_else(|| tokio::time::Instant::now() + LONGEST_SLEEP);
        Box::pin(tokio::time::sleep_until(at))
    }
}

/// Nanoseconds since the Unix epoch: the scheduler's time inside, as saved.
pub(crate) fn to_nanos(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

/// The [`SystemTime`] of nanoseconds since the Unix epoch.
pub(crate) fn from_nanos(nanos: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos)
}

/// Nanoseconds in a duration, saturating.
pub(crate) fn duration_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
