#![forbid(unsafe_code)]
//! Exact rate limiting under any concurrency.
//!
//! A rate limiter admits at most `limit` requests per `window`, per key (a
//! user id, an API key, an address). This crate's limiters are *exact*: the
//! decision to admit is a single compare-and-swap on one `u64` per key, so no
//! number of threads can get `limit + 1` requests through, which the loom
//! models in the source check over every interleaving. It needs no async
//! runtime: checks are plain, non-blocking sync calls, usable from anywhere.
//!
//! ```
//! use std::time::Duration;
//! use foundation::rate_limiter::{Config, Decision, Registry};
//!
//! let limiters = Registry::<String>::new();
//! let login = limiters
//!     .register("login", Config::fixed_window(3, Duration::from_secs(60)))
//!     .unwrap();
//!
//! for _ in 0..3 {
//!     assert!(login.check("alice").is_allowed());
//! }
//! match login.check("alice") {
//!     Decision::Denied { retry_after } => assert!(retry_after <= Duration::from_secs(60)),
//!     Decision::Allowed { .. } => unreachable!("the fourth login in a minute is denied"),
//! }
//! assert_eq!(login.denied(), 1);
//! ```
//!
//! # Limiters
//!
//! - [`RateLimiter<K>`](RateLimiter): one [`Config`] applied to each key of
//!   any `Hash + Eq` type. Idle keys are reclaimed, so memory follows the
//!   keys in use, not every key ever seen.
//! - [`DirectLimiter`]: a single key, no map: the fast path for limiting one
//!   thing.
//! - [`Registry<K>`](Registry): limiters by name; an unknown name is an
//!   [`UnknownLimiter`] error.
//!
//! Each check returns a [`Decision`]: `Allowed { remaining, reset_after }` or
//! `Denied { retry_after }`. `check_n(key, n)` admits `n` at once or none;
//! `n` above the limit is denied without consuming anything.
//!
//! # Algorithms
//!
//! [`Algorithm::FixedWindow`] counts requests in windows aligned to the
//! clock's origin and resets at each boundary, like the origin system. A
//! client can use the end of one window and the start of the next, so up to
//! `2 × limit` pass within a moment:
//!
//! ```text
//! limit 4 per window        boundary
//!                              |
//! fixed window   ....      xxxx|xxxx      ....   8 requests within a moment
//! GCRA           ....      xxxx|  x  x  x  x     4 at once, then 1 per window/4
//!                -----------------+-----------------> time
//!                     window n    |    window n + 1
//! ```
//!
//! [`Algorithm::Gcra`] (the generic cell rate algorithm) keeps one
//! *theoretical arrival time* per key: each admitted request pushes it
//! `window / limit` further, and a request is admitted while it stays at
//! most `window` ahead of now. A burst is at most `limit`, and in any
//! interval of length `t` at most `limit + ⌊t / (window / limit)⌋` requests
//! pass, wherever the interval starts. The interval between requests is
//! rounded up to whole nanoseconds, so the sustained rate is never above the
//! configured one.
//!
//! A window is at most [`Config::MAX_WINDOW`] (about 292 years), which keeps
//! every GCRA time exact in one `u64`; a longer one is a
//! [`ConfigError::WindowTooLong`].
//!
//! # Time
//!
//! Limiters read a [`Clock`]: [`MonotonicClock`] by default (the CPU's
//! time-stamp counter, a few nanoseconds a read), [`InstantClock`] for
//! `std::time::Instant`, and a [`ManualClock`] in tests, which moves only
//! when told to, so tests never sleep.
//!
//! # Observability
//!
//! Every limiter counts its denials (`denied()`), and each denial emits a
//! `tracing` event at `DEBUG` under the target `foundation::rate_limiter`,
//! with the limiter's name. Admitted checks emit nothing.

mod clock;
mod config;
mod decision;
mod direct;
mod error;
mod keyed;
#[cfg(all(test, foundation_loom))]
mod loom_models;
mod registry;
mod rule;
mod sync;

pub use clock::{Clock, InstantClock, ManualClock, MonotonicClock};
pub use config::{Algorithm, Config};
pub use decision::Decision;
pub use direct::DirectLimiter;
pub use error::{ConfigError, RegisterError, UnknownLimiter};
pub use keyed::{RateLimiter, Stats};
pub use registry::Registry;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
