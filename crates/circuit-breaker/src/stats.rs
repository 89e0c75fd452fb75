//! Counters a breaker keeps from its creation.

/// What a breaker has seen, from
/// [`CircuitBreaker::stats`](crate::CircuitBreaker::stats).
///
/// ```
/// use foundation::circuit_breaker::{CircuitBreaker, Config};
///
/// let breaker = CircuitBreaker::<()>::new(Config::default()).unwrap();
/// assert_eq!(breaker.stats().trips, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Admitted calls that reported an outcome.
    pub calls: u64,
    /// Of those, failures by the user's predicate.
    pub failures: u64,
    /// Of those, slow calls.
    pub slow: u64,
    /// Calls refused while open, half-open with no probe slot, or forced open.
    pub rejected: u64,
    /// Admitted calls cancelled or panicked before an outcome.
    pub abandoned: u64,
    /// Times the breaker opened.
    pub trips: u64,
    /// Messages put in the buffer.
    pub buffered: u64,
    /// Messages dropped oldest-first to make room.
    pub dropped: u64,
    /// Messages given back because the buffer was full.
    pub refused: u64,
    /// Messages drained after closing.
    pub drained: u64,
}
