//! Time sources: the [`Clock`] trait, the default [`MonotonicClock`], the
//! [`TokioClock`] that follows tokio's paused time, and the test [`ManualClock`].

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// A source of monotonic time, as a [`Duration`] since the clock's origin.
///
/// ```
/// use std::time::Duration;
/// use foundation::circuit_breaker::Clock;
///
/// /// A clock frozen at one instant.
/// #[derive(Debug)]
/// struct Frozen(Duration);
///
/// impl Clock for Frozen {
///     fn now(&self) -> Duration {
///         self.0
///     }
/// }
/// assert_eq!(Frozen(Duration::from_secs(1)).now(), Duration::from_secs(1));
/// ```
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Time elapsed since this clock's origin; never goes backwards.
    fn now(&self) -> Duration;

    /// [`now`](Self::now) in whole nanoseconds, saturating at `u64::MAX`
    /// (584 years). A call through a closed breaker reads it twice, so a
    /// clock that counts in nanoseconds should return them directly.
    fn now_nanos(&self) -> u64 {
        u64::try_from(self.now().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// The default clock: the CPU's time-stamp counter through `quanta` where it
/// has one, else the OS monotonic clock, counted from the clock's creation.
///
/// ```
/// use foundation::circuit_breaker::{Clock, MonotonicClock};
///
/// let clock = MonotonicClock::new();
/// let earlier = clock.now();
/// assert!(clock.now() >= earlier);
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
    fn now(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }

    #[inline]
    fn now_nanos(&self) -> u64 {
        self.clock.delta_as_nanos(self.origin, self.clock.raw())
    }
}

/// A breaker's clock: the default one called directly (its reads are a
/// third of a closed call's cost), any other through the trait.
#[derive(Debug, Clone)]
pub(crate) enum BreakerClock {
    Monotonic(MonotonicClock),
    Custom(Arc<dyn Clock>),
}

impl BreakerClock {
    #[inline(always)]
    pub(crate) fn now_nanos(&self) -> u64 {
        match self {
            Self::Monotonic(clock) => clock.now_nanos(),
            Self::Custom(clock) => clock.now_nanos(),
        }
    }
}

/// A clock that reads `tokio::time::Instant`, so tests under tokio's paused
/// time (`start_paused = true`) drive the breaker by `tokio::time::advance`.
///
/// ```
/// use foundation::circuit_breaker::{Clock, TokioClock};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let clock = TokioClock::new();
/// assert!(clock.now() >= std::time::Duration::ZERO);
/// # });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock whose origin is tokio's now. Call it inside a runtime when
    /// time is paused, so the origin is the paused instant.
    pub fn new() -> Self {
        Self {
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
    fn now(&self) -> Duration {
        tokio::time::Instant::now().saturating_duration_since(self.origin)
    }
}

/// A clock moved only by hand, for deterministic tests. Clones share the
/// same time.
///
/// ```
/// use std::time::Duration;
/// use foundation::circuit_breaker::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// clock.advance(Duration::from_millis(5));
/// assert_eq!(clock.now(), Duration::from_millis(5));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by` (saturating at `u64::MAX` nanoseconds).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // fetch_update never fails with a closure that always returns Some.
        let _previous = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(now.saturating_add(by))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.now_nanos())
    }

    fn now_nanos(&self) -> u64 {
        self.nanos.load(Ordering::Acquire)
    }
}
