//! Time sources: the [`Clock`] trait, the default [`MonotonicClock`] and the
//! test [`ManualClock`].

use std::{fmt, time::Duration};

use crate::sync::{Arc, AtomicU64, Ordering};

/// A source of monotonic time, in nanoseconds since the clock's own origin.
///
/// Limiters read the clock once per check. The value must never go backwards
/// for a given clock; different threads may observe it slightly apart, which
/// the limiters tolerate without ever admitting more than their limit.
///
/// ```
/// use foundation::rate_limiter::Clock;
///
/// /// A clock frozen at one instant.
/// #[derive(Debug, Clone)]
/// struct Frozen(u64);
///
/// impl Clock for Frozen {
///     fn now_nanos(&self) -> u64 {
///         self.0
///     }
/// }
/// assert_eq!(Frozen(5).now_nanos(), 5);
/// ```
pub trait Clock: Send + Sync {
    /// Nanoseconds elapsed since this clock's origin.
    fn now_nanos(&self) -> u64;
}

/// The default clock: the CPU's invariant time-stamp counter where it has
/// one (through the `quanta` crate), else the OS monotonic clock, counted from
/// the clock's creation.
///
/// Reading it costs a few nanoseconds, where [`std::time::Instant::now`] can
/// cost 20–40 ns on a virtual machine: more than the rest of a check. Use
/// [`InstantClock`] to read `std::time::Instant` instead.
///
/// ```
/// use foundation::rate_limiter::{Clock, MonotonicClock};
///
/// let clock = MonotonicClock::new();
/// let earlier = clock.now_nanos();
/// assert!(clock.now_nanos() >= earlier);
/// ```
#[derive(Debug, Clone)]
pub struct MonotonicClock {
    clock: quanta::Clock,
    origin: u64,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        let origin = clock.raw();
        Self { clock, origin }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        self.clock.delta_as_nanos(self.origin, self.clock.raw())
    }
}

/// A clock reading [`std::time::Instant`], counted from the clock's creation.
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Config, DirectLimiter, InstantClock};
///
/// let limiter = DirectLimiter::with_clock(Config::gcra(1, Duration::from_secs(1)), InstantClock::new()).unwrap();
/// assert!(limiter.check().is_allowed());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct InstantClock {
    origin: std::time::Instant,
}

impl InstantClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: std::time::Instant::now(),
        }
    }
}

impl Default for InstantClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for InstantClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        // Saturates after 584 years of uptime rather than wrapping.
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// A clock that moves only when told to, for tests that never sleep.
///
/// Clones share the same time, so a test keeps one clone and hands another to
/// the limiter.
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let limiter_side = clock.clone();
/// clock.advance(Duration::from_millis(3));
/// assert_eq!(limiter_side.now_nanos(), 3_000_000);
/// ```
#[derive(Clone)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self {
            nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Moves the clock forward by `by` (saturating at `u64::MAX` nanoseconds).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let mut current = self.nanos.load(Ordering::Acquire);
        loop {
            let next = current.saturating_add(by);
            match self.nanos.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// Sets the clock to `nanos` since its origin; it never moves backwards,
    /// so an earlier time is ignored.
    pub fn set_nanos(&self, nanos: u64) {
        self.nanos.fetch_max(nanos, Ordering::AcqRel);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::Acquire)
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("nanos", &self.now_nanos())
            .finish()
    }
}
