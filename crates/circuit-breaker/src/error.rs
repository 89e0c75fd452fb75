//! The breaker's errors: one type per operation.

use std::{fmt, time::Duration};

use crate::State;

/// A [`Config`](crate::Config) field out of range, from
/// [`Config::validate`](crate::Config::validate) and
/// [`CircuitBreaker::new`](crate::CircuitBreaker::new).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A count window of 0 calls or a time window under 10 µs.
    #[error("the sliding window is empty: give it at least 1 call or 10 µs")]
    EmptyWindow,
    /// A rate outside `(0, 1]`.
    #[error("{name} is {rate}; it must be in (0, 1]")]
    Rate {
        /// The field.
        name: &'static str,
        /// Its value.
        rate: f64,
    },
    /// `minimum_calls` is 0.
    #[error("minimum_calls is 0; it must be at least 1")]
    NoMinimumCalls,
    /// `half_open_probes` is 0: half-open could never close.
    #[error("half_open_probes is 0; half-open needs at least one probe to close")]
    NoProbes,
    /// `open_multiplier` is 0.
    #[error("open_multiplier is 0; use 1 for a constant open period")]
    Multiplier,
    /// `open_base` is zero or above `open_max`.
    #[error("open period base {base:?} must be non-zero and at most max {max:?}")]
    OpenPeriod {
        /// `open_base`.
        base: Duration,
        /// `open_max`.
        max: Duration,
    },
    /// `jitter` outside `[0, 1)`.
    #[error("jitter is {0}; it must be in [0, 1)")]
    Jitter(f64),
    /// `buffer_capacity` is 0.
    #[error("buffer_capacity is 0; it must be at least 1")]
    NoBuffer,
}

/// Why the breaker refused a call, from
/// [`CircuitBreaker::try_acquire`](crate::CircuitBreaker::try_acquire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("circuit breaker is {state}{}", RetryHint(*retry_after))]
pub struct Rejected {
    /// The state that refused it.
    pub state: State,
    /// When the breaker may admit again; `None` while forced open.
    pub retry_after: Option<Duration>,
}

/// What [`CircuitBreaker::call`](crate::CircuitBreaker::call) returns when
/// it gives no value.
#[derive(thiserror::Error)]
pub enum CallError<E> {
    /// The breaker did not run the call.
    #[error(transparent)]
    Rejected(#[from] Rejected),
    /// The call ran and returned this error.
    #[error("the call failed: {0}")]
    Failed(E),
}

impl<E: fmt::Debug> fmt::Debug for CallError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(rejected) => f.debug_tuple("Rejected").field(rejected).finish(),
            Self::Failed(error) => f.debug_tuple("Failed").field(error).finish(),
        }
    }
}

/// A message [`CircuitBreaker::offer`](crate::CircuitBreaker::offer) could
/// not keep: the buffer was full and its policy is to reject. The message is
/// given back.
#[derive(thiserror::Error)]
#[error("circuit breaker buffer is full")]
pub struct BufferFull<M>(pub M);

impl<M> BufferFull<M> {
    /// The message given back.
    pub fn into_inner(self) -> M {
        self.0
    }
}

impl<M> fmt::Debug for BufferFull<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BufferFull(..)")
    }
}

/// ", retry in 2s", or nothing when forced open.
struct RetryHint(Option<Duration>);

impl fmt::Display for RetryHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(after) => write!(f, "; retry in {after:?}"),
            None => f.write_str("; an operator holds it open"),
        }
    }
}
