//! Foundation: Erlang/OTP-grade fault tolerance for Rust.
//!
//! This facade re-exports Foundation's micro-crates, one feature per crate,
//! so a service can depend on one crate or on all of them:
//!
//! | module | crate | what it is for |
//! | --- | --- | --- |
//! | [`mailbox`] | `foundation-mailbox` | what a process is: bounded mailboxes with a system lane, the `Actor` trait, calls that always time out, dead letters on exit |
//! | [`rate_limiter`] | `foundation-rate-limiter` | exact rate limiting under any concurrency |
//! | [`monitor_manager`] | `foundation-monitor-manager` | monitors as RAII guards (DOWN exactly once, flushed on drop), OTP links, a sharded registry that finds leaks |
//! | [`supervisor`] | `foundation-supervisor` | supervision trees with OTP's semantics: supervisors, dynamic supervisors, task supervisors |
//! | [`persistence`] | `foundation-persistence` | actors that keep their state across crashes: a versioned store with compare-and-set, explicit save policies |
//! | [`dead_letter`] | `foundation-dead-letter` | where undeliverable messages land: a bounded queue to list, purge and redrive, durable when given a store |
//! | [`circuit_breaker`] | `foundation-circuit-breaker` | a circuit breaker on failure and slow-call rates, with growing open periods and a bounded buffer that always drains, in order |
//! | [`coordinator`] | `foundation-coordinator` | one supervised, durable process per workflow: steps with timeouts and retries, each result saved before the next step, resumed after any crash |
//! | [`supervised_send`] | `foundation-supervised-send` | sends you can count on: one deadline across jittered retries, names and child references that follow restarts, an on-error policy that can dead-letter, ack mode with deduplication, broadcast strategies |
//! | [`scheduler`] | `foundation-scheduler` | delayed, fixed-rate, fixed-delay and cron sends through supervised send, saved in a store so they survive a restart, with misfire and overlap policies and a final cancel |
//! | [`signal_router`] | `foundation-signal-router` | wildcard pub/sub over a segment trie: RAII subscriptions cleaned by monitors, counted drops, delivery counts, queue groups |
//! | `testkit` | `foundation-testkit` | for tests, not a default feature: probes, a manual clock, `wait_for` without sleeps, tracing assertions, supervision trees with a bounded teardown |
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "mailbox")]
//! # {
//! use std::time::Duration;
//! use foundation::mailbox::{Actor, Context, Reply, start};
//!
//! #[derive(Debug)]
//! struct Echo;
//!
//! /// A number to send back; the port says the answer is a `u32`.
//! #[derive(Debug)]
//! struct Say(u32, Reply<u32>);
//!
//! impl Actor for Echo {
//!     type Args = ();
//!     type Msg = Say;
//!     type Error = std::convert::Infallible;
//!
//!     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Echo) }
//!     async fn handle(&mut self, Say(n, reply): Say, _: &mut Context<Self>) -> Result<(), Self::Error> {
//!         reply.send(n).unwrap_or_default();
//!         Ok(())
//!     }
//! }
//!
//! # tokio_test_runtime(async {
//! let (echo, _handle) = start::<Echo>(()).await.unwrap();
//! assert_eq!(echo.call(|reply| Say(7, reply), Duration::from_secs(1)).await.unwrap(), 7);
//! # });
//! # fn tokio_test_runtime(future: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
//! # }
//! # }
//! ```
//!
//! # Where to start
//!
//! - `docs/getting-started.md`: from `cargo add` to a supervised TCP
//!   service with a persisted actor, a rate limit and monitors, each step
//!   an example (`cargo run --example getting_started_1_actor`, …);
//! - `docs/migration.md`: from `tokio::spawn` + `mpsc`, ractor or kameo,
//!   pattern by pattern, with the audit rule that finds each old pattern;
//! - `docs/testkit.md`: testing actors without sleeps (the `testkit`
//!   feature, for dev-dependencies);
//! - `cargo run --example tour`: a walk through every crate.

#![forbid(unsafe_code)]

#[cfg(feature = "circuit-breaker")]
#[doc(inline)]
pub use foundation_circuit_breaker as circuit_breaker;
#[cfg(feature = "coordinator")]
#[doc(inline)]
pub use foundation_coordinator as coordinator;
#[cfg(feature = "dead-letter")]
#[doc(inline)]
pub use foundation_dead_letter as dead_letter;
#[cfg(feature = "mailbox")]
#[doc(inline)]
pub use foundation_mailbox as mailbox;
#[cfg(feature = "monitor-manager")]
#[doc(inline)]
pub use foundation_monitor_manager as monitor_manager;
#[cfg(feature = "persistence")]
#[doc(inline)]
pub use foundation_persistence as persistence;
#[cfg(feature = "rate-limiter")]
#[doc(inline)]
pub use foundation_rate_limiter as rate_limiter;
#[cfg(feature = "scheduler")]
#[doc(inline)]
pub use foundation_scheduler as scheduler;
#[cfg(feature = "signal-router")]
#[doc(inline)]
pub use foundation_signal_router as signal_router;
#[cfg(feature = "supervised-send")]
#[doc(inline)]
pub use foundation_supervised_send as supervised_send;
#[cfg(feature = "supervisor")]
#[doc(inline)]
pub use foundation_supervisor as supervisor;
#[cfg(feature = "testkit")]
#[doc(inline)]
pub use foundation_testkit as testkit;

/// The README's example, compiled and run through the facade.
#[cfg(all(doctest, feature = "mailbox", feature = "supervisor"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The guides' examples, compiled and run through the facade so they use
/// the paths a user writes (`docs/getting-started.md`'s steps are the
/// `getting_started_*` examples instead).
#[cfg(all(
    doctest,
    feature = "mailbox",
    feature = "supervisor",
    feature = "monitor-manager"
))]
#[doc = include_str!("../../../docs/migration.md")]
struct MigrationGuideDoctests;
