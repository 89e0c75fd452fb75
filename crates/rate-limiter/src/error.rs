//! The errors of this crate: one type per operation that can fail.

/// A limiter's configuration was rejected.
///
/// Returned by [`RateLimiter::new`](crate::RateLimiter::new),
/// [`DirectLimiter::new`](crate::DirectLimiter::new) and their `with_clock`
/// forms, and inside [`RegisterError`] by [`Registry::register`](crate::Registry::register).
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Config, ConfigError, DirectLimiter};
///
/// let error = DirectLimiter::new(Config::fixed_window(0, Duration::from_secs(1))).unwrap_err();
/// assert_eq!(error, ConfigError::ZeroLimit);
/// assert_eq!(error.to_string(), "limit must be at least 1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The limit was zero: such a limiter could never admit anything.
    #[error("limit must be at least 1")]
    ZeroLimit,
    /// The window was zero (or shorter than a nanosecond).
    #[error("window must be at least 1 nanosecond")]
    ZeroWindow,
    /// The window is longer than [`Config::MAX_WINDOW`](crate::Config::MAX_WINDOW)
    /// (`i64::MAX` nanoseconds, about 292 years), beyond which GCRA's
    /// arithmetic on a key's `u64` state would no longer be exact.
    #[error("window is too long: at most i64::MAX nanoseconds (about 292 years)")]
    WindowTooLong,
}

/// A limiter could not be added to a [`Registry`](crate::Registry).
///
/// Returned by [`Registry::register`](crate::Registry::register).
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Config, RegisterError, Registry};
///
/// let limiters = Registry::<u64>::new();
/// limiters.register("login", Config::gcra(5, Duration::from_secs(60))).unwrap();
/// let again = limiters.register("login", Config::gcra(5, Duration::from_secs(60)));
/// assert!(matches!(again, Err(RegisterError::AlreadyRegistered { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// The configuration was invalid.
    #[error("invalid configuration")]
    Config(#[from] ConfigError),
    /// A limiter with this name already exists; the existing one is unchanged.
    #[error("a limiter named {name:?} is already registered")]
    AlreadyRegistered {
        /// The name that was taken.
        name: String,
    },
}

/// No limiter with this name is registered.
///
/// Returned by [`Registry::get`](crate::Registry::get),
/// [`Registry::check`](crate::Registry::check) and
/// [`Registry::check_n`](crate::Registry::check_n).
///
/// ```
/// use foundation::rate_limiter::Registry;
///
/// let limiters = Registry::<u64>::new();
/// let error = limiters.check("nope", &7u64).unwrap_err();
/// assert_eq!(error.name, "nope");
/// assert_eq!(error.to_string(), "no rate limiter named \"nope\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no rate limiter named {name:?}")]
pub struct UnknownLimiter {
    /// The name that was looked up.
    pub name: String,
}
