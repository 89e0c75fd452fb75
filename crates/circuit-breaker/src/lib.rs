//! A circuit breaker for Foundation: stop calling a dependency that keeps
//! failing or answering slowly, probe it after a pause that grows with each
//! trip, and keep the messages meant for it in a bounded buffer that drains,
//! in order and at a bounded rate, once it recovers.
//!
//! The model is resilience4j's: a closed breaker counts calls in a sliding
//! window (the last N calls, or the last span of time) and trips when, with
//! at least `minimum_calls` in the window, the failure rate or the slow-call
//! rate reaches its threshold. Which errors count is the caller's predicate.
//! Open refuses calls for a period that grows exponentially with jitter up
//! to a cap; half-open admits a few probes whose rates decide closed or open
//! again. Operators can force it open or disable it.
//!
//! The buffer is the part no peer has: while the breaker is not closed,
//! [`CircuitBreaker::offer`] keeps messages up to a capacity, then rejects
//! (giving the message back) or drops the oldest into a sink (a mailbox
//! [`DeadLetterSink`](foundation_mailbox::DeadLetterSink) fits). A closed
//! breaker with a non-empty buffer always has a drain due within one
//! interval, and new messages queue behind the buffer until it is empty.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use foundation::circuit_breaker::{CallError, CircuitBreaker, Config, ManualClock, State, Window};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let clock = ManualClock::new();
//! let config = Config { window: Window::Count(4), minimum_calls: 4, ..Config::default() };
//! let breaker = CircuitBreaker::<()>::new(config).unwrap().with_clock(clock.clone());
//!
//! for _ in 0..4 {
//!     let _ = breaker.call(|| async { Err::<(), _>("down") }).await;
//! }
//! assert_eq!(breaker.state(), State::Open);
//! let refused = breaker.call(|| async { Ok::<_, &str>(1) }).await;
//! assert!(matches!(refused, Err(CallError::Rejected(_))));
//!
//! clock.advance(Duration::from_secs(2)); // past the first open period
//! assert_eq!(breaker.state(), State::HalfOpen);
//! # });
//! ```
//!
//! Design and numbers: `docs/circuit-breaker.md`.

#![forbid(unsafe_code)]

mod breaker;
mod clock;
mod config;
mod core;
mod error;
#[cfg(all(test, foundation_loom))]
mod loom_models;
mod stats;
mod sync;
mod window;

pub use crate::{
    breaker::{CircuitBreaker, Permit},
    clock::{Clock, ManualClock, MonotonicClock, TokioClock},
    config::{Config, Window},
    core::{Drain, State},
    error::{BufferFull, CallError, ConfigError, Rejected},
    stats::Stats,
};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
