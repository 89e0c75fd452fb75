//! One place for the default timeouts every waiting API uses.
//!
//! Every wait in Foundation is bounded. APIs take an explicit timeout; when a
//! caller has none in mind it asks [`TimeoutConfig`] for the default of the
//! operation, so one setting (or the `FOUNDATION_TIMEOUT_FACTOR` environment
//! variable on a slow CI machine) moves them all.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// The operations that have a default timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// [`ActorRef::call`](crate::ActorRef::call).
    Call,
    /// [`ActorRef::stop`](crate::ActorRef::stop): waiting for the actor to exit.
    Stop,
    /// [`start`](crate::start): waiting for `init`.
    Start,
    /// A supervisor's shutdown of a worker.
    Shutdown,
    /// Delivery with confirmation (supervised sends, broadcasts).
    Delivery,
}

const OPERATIONS: usize = 5;

impl Operation {
    fn index(self) -> usize {
        match self {
            Self::Call => 0,
            Self::Stop => 1,
            Self::Start => 2,
            Self::Shutdown => 3,
            Self::Delivery => 4,
        }
    }
}

/// Default timeouts: `default` (5 s) for ordinary waits, `long` (30 s) for
/// slow ones, per-operation overrides, and a factor that scales them all.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::{Operation, TimeoutConfig};
///
/// let config = TimeoutConfig::new()
///     .with_override(Operation::Start, Duration::from_secs(10))
///     .with_factor(2.0);
/// assert_eq!(config.timeout(Operation::Call), Duration::from_secs(10));
/// assert_eq!(config.timeout(Operation::Start), Duration::from_secs(20));
/// assert_eq!(config.long(), Duration::from_secs(60));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeoutConfig {
    default: Duration,
    long: Duration,
    factor: f64,
    overrides: [Option<Duration>; OPERATIONS],
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl TimeoutConfig {
    /// 5 s by default, 30 s long, factor 1, no overrides.
    pub const fn new() -> Self {
        Self {
            default: Duration::from_secs(5),
            long: Duration::from_secs(30),
            factor: 1.0,
            overrides: [None; OPERATIONS],
        }
    }

    /// Sets the ordinary default.
    pub fn with_default(mut self, timeout: Duration) -> Self {
        self.default = timeout;
        self
    }

    /// Sets the long default.
    pub fn with_long(mut self, timeout: Duration) -> Self {
        self.long = timeout;
        self
    }

    /// Scales every timeout; for slow machines. Values that are not finite
    /// and positive are ignored. A scaled timeout beyond `Duration`'s range
    /// becomes [`Duration::MAX`] (no limit); one below half a nanosecond
    /// becomes zero.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::mailbox::{Operation, TimeoutConfig};
    ///
    /// let config = TimeoutConfig::new().with_factor(1e20);
    /// assert_eq!(config.timeout(Operation::Call), Duration::MAX);
    /// ```
    pub fn with_factor(mut self, factor: f64) -> Self {
        if factor.is_finite() && factor > 0.0 {
            self.factor = factor;
        }
        self
    }

    /// Sets the timeout of one operation.
    pub fn with_override(mut self, operation: Operation, timeout: Duration) -> Self {
        self.overrides[operation.index()] = Some(timeout);
        self
    }

    /// The scaled timeout for `operation`.
    pub fn timeout(&self, operation: Operation) -> Duration {
        self.scale(self.overrides[operation.index()].unwrap_or(self.default))
    }

    /// The scaled ordinary default.
    pub fn default_timeout(&self) -> Duration {
        self.scale(self.default)
    }

    /// The scaled long default.
    pub fn long(&self) -> Duration {
        self.scale(self.long)
    }

    fn scale(&self, timeout: Duration) -> Duration {
        if self.factor == 1.0 {
            return timeout;
        }
        // `Duration::mul_f64` panics when the product is beyond `Duration`'s
        // range (`Duration::MAX` times 2, or 5 s times 1e20). Such a timeout
        // saturates at `Duration::MAX`, which every wait already reads as
        // "no limit". The factor is finite and positive, so the product is
        // never negative or NaN; a tiny one rounds to whole nanoseconds.
        Duration::try_from_secs_f64(timeout.as_secs_f64() * self.factor).unwrap_or(Duration::MAX)
    }

    /// The configuration in force for this program: the last one
    /// [`install`](Self::install)ed, or the defaults scaled by
    /// `FOUNDATION_TIMEOUT_FACTOR` when that is set.
    pub fn current() -> Self {
        let generation = INSTALLED.generation.load(Ordering::Acquire);
        if generation == 0 {
            return Self::new().with_factor(env_factor());
        }
        let mut config = Self::new();
        config.default = Duration::from_nanos(INSTALLED.default.load(Ordering::Relaxed));
        config.long = Duration::from_nanos(INSTALLED.long.load(Ordering::Relaxed));
        config.factor = f64::from_bits(INSTALLED.factor.load(Ordering::Relaxed));
        for (slot, stored) in config.overrides.iter_mut().zip(&INSTALLED.overrides) {
            let nanos = stored.load(Ordering::Relaxed);
            *slot = (nanos != u64::MAX).then(|| Duration::from_nanos(nanos));
        }
        config
    }

    /// Makes this the configuration every API without an explicit timeout
    /// uses. Meant to be called once at startup.
    pub fn install(self) {
        INSTALLED
            .default
            .store(nanos(self.default), Ordering::Relaxed);
        INSTALLED.long.store(nanos(self.long), Ordering::Relaxed);
        INSTALLED
            .factor
            .store(self.factor.to_bits(), Ordering::Relaxed);
        for (stored, value) in INSTALLED.overrides.iter().zip(self.overrides) {
            stored.store(value.map_or(u64::MAX, nanos), Ordering::Relaxed);
        }
        INSTALLED.generation.fetch_add(1, Ordering::Release);
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX - 1)
}

/// `FOUNDATION_TIMEOUT_FACTOR`, read once: reading the environment takes a
/// lock and allocates, too much for every start and call.
fn env_factor() -> f64 {
    const UNREAD: u64 = 0;
    let cached = ENV_FACTOR.load(Ordering::Relaxed);
    if cached != UNREAD {
        return f64::from_bits(cached);
    }
    let factor = parse_factor(std::env::var("FOUNDATION_TIMEOUT_FACTOR").ok().as_deref());
    ENV_FACTOR.store(factor.to_bits(), Ordering::Relaxed);
    factor
}

/// The factor a `FOUNDATION_TIMEOUT_FACTOR` value asks for: 1 when it is
/// unset, unparsable, or not finite and positive.
fn parse_factor(text: Option<&str>) -> f64 {
    text.and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|factor| factor.is_finite() && *factor > 0.0)
        .unwrap_or(1.0)
}

// The environment's factor as f64 bits; 0 until read (0.0 is never a valid factor).
static ENV_FACTOR: AtomicU64 = AtomicU64::new(0);

/// The installed configuration, as atomics so reading it takes no lock.
struct Installed {
    generation: AtomicU64,
    default: AtomicU64,
    long: AtomicU64,
    factor: AtomicU64,
    overrides: [AtomicU64; OPERATIONS],
}

// Process-wide configuration, written once at startup by `install`; atomics
// only, no lock. It mirrors the origin system's single timeout config.
static INSTALLED: Installed = Installed {
    generation: AtomicU64::new(0),
    default: AtomicU64::new(0),
    long: AtomicU64::new(0),
    factor: AtomicU64::new(0),
    overrides: [const { AtomicU64::new(u64::MAX) }; OPERATIONS],
};

#[cfg(all(test, not(foundation_loom)))]
mod tests;
