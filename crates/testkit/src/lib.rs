//! Deterministic tests for Foundation actors: a dev-dependency.
//!
//! Tests that sleep to let things happen are slow when the sleep is long
//! and flaky when it is short. This kit gives a test something to wait *on*
//! instead, always with a bound, and time it moves by hand:
//!
//! - [`Probe`]: a real process handed to the code under test as a
//!   [`Recipient`](foundation_mailbox::Recipient), an actor reference, a
//!   monitor's watcher or a link, with bounded expectations
//!   ([`expect`](Probe::expect), [`expect_no_message`](Probe::expect_no_message),
//!   [`expect_down`](Probe::expect_down), [`expect_exit`](Probe::expect_exit),
//!   [`expect_map`](Probe::expect_map)) whose failures say what came instead;
//! - [`ManualClock`]: one clock, moved by the test, that the rate limiter,
//!   the circuit breaker and the dead-letter queue all accept and that,
//!   [installed](ManualClock::install) on a runtime, also drives the
//!   mailbox's timers and timeouts there, on any runtime flavour;
//! - [`wait_for`] and [`wait_for_notified`]: wait until a condition holds,
//!   bounded, with no sleep in the test;
//! - [`EventCapture`]: assert that a tracing event was emitted. Observation
//!   only: a test never waits for an event;
//! - [`start_tree`]: start the production supervision spec, with no test
//!   supervisor, and tear it down with a bounded shutdown.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use foundation::mailbox::{Actor, Context, ExitReason, Recipient};
//! use foundation::testkit::Probe;
//!
//! /// The actor under test: reports every order to whoever it was given.
//! #[derive(Debug)]
//! struct Orders { report: Recipient<u32> }
//!
//! impl Actor for Orders {
//!     type Args = Recipient<u32>;
//!     type Msg = u32;
//!     type Error = std::convert::Infallible;
//!     async fn init(report: Recipient<u32>, _: &mut Context<Self>) -> Result<Self, Self::Error> {
//!         Ok(Orders { report })
//!     }
//!     async fn handle(&mut self, order: u32, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
//!         if self.report.send(order).await.is_err() {
//!             ctx.stop(ExitReason::shutdown_because("nobody to report to"));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let mut probe = Probe::<u32>::start().await.unwrap();
//! let (orders, _handle) = foundation::mailbox::start::<Orders>(probe.recipient()).await.unwrap();
//! probe.watch(&orders.process_ref());
//!
//! orders.cast(7).await.unwrap();
//! assert_eq!(probe.receive(Duration::from_secs(1)).await.unwrap(), 7);
//!
//! orders.stop(ExitReason::Normal, Duration::from_secs(1)).await.unwrap();
//! let reason = probe.expect_down(orders.pid(), Duration::from_secs(1)).await.unwrap();
//! assert_eq!(reason, ExitReason::Normal);
//! # }
//! ```
//!
//! # Time
//!
//! | what reads time | how a test moves it |
//! | --- | --- |
//! | rate limiter, circuit breaker, dead-letter queue | hand them a [`ManualClock`], call [`ManualClock::advance`] |
//! | mailbox timers (`send_after`, `interval`), call, stop and shutdown timeouts, [`foundation_mailbox::time`] readers | [`ManualClock::install`] on the runtime before any actor starts, then [`ManualClock::advance`]; or tokio's paused time on a current-thread runtime |
//! | probe bounds, [`wait_for`] | tokio's clock: `#[tokio::test(start_paused = true)]` jumps to the next timer when every task is idle |
//!
//! Paused time needs a current-thread runtime; a manual clock works on
//! any. On a multi-thread runtime, probe bounds are real time, so keep them
//! generous: a bound is how long a failing test takes, not how long a
//! passing one does.
//!
//! See `docs/testkit.md` for a guide.

#![forbid(unsafe_code)]

mod capture;
mod clock;
mod error;
mod probe;
mod sync;
mod tree;
mod wait;

/// The error of [`ManualClock::install`], re-exported from the mailbox.
pub use foundation_mailbox::time::InstallError;

pub use crate::{
    capture::{CAPTURE_LIMIT, CapturedEvent, EventCapture, EventMatcher},
    clock::ManualClock,
    error::{GlobalCaptureError, NotEmitted, ProbeError, TreeShutdownError, WaitError},
    probe::{DEFAULT_PROBE_CAPACITY, Observed, Probe, ProbeActor},
    tree::{DEFAULT_SHUTDOWN_BUDGET, RunningTree, start_tree},
    wait::{wait_for, wait_for_notified},
};

/// Waits for the first message matching a pattern (with an optional `if`
/// guard) on a [`Probe`], within a bound, and returns it; a failure names
/// the pattern (ExUnit's `assert_receive`). Expands to
/// [`Probe::expect_described`], a future to await.
///
/// ```
/// use std::time::Duration;
/// use foundation::testkit::{Probe, expect_match};
///
/// #[derive(Debug, PartialEq)]
/// enum Event { Started(u32), Done }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut probe = Probe::<Event>::start().await.unwrap();
/// probe.recipient::<Event>().send(Event::Started(3)).await.unwrap();
/// let started = expect_match!(probe, Event::Started(n) if *n > 1, Duration::from_secs(1)).await.unwrap();
/// assert_eq!(started, Event::Started(3));
///
/// let missing = expect_match!(probe, Event::Done, Duration::from_millis(10)).await.unwrap_err();
/// assert!(missing.to_string().contains("message matching `Event::Done`"));
/// # }
/// ```
#[macro_export]
macro_rules! expect_match {
    ($probe:expr, $pattern:pat $(if $guard:expr)?, $within:expr $(,)?) => {
        $probe.expect_described(
            concat!("message matching `", stringify!($pattern) $(, " if ", stringify!($guard))?, "`"),
            |message| matches!(message, $pattern $(if $guard)?),
            $within,
        )
    };
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The guide's examples (`docs/testkit.md`), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/testkit.md")]
struct GuideDoctests;
