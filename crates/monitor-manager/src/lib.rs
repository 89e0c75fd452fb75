//! Monitors and links that cannot leak.
//!
//! A monitor is an RAII guard, [`Monitor`]: while it lives, the exit of the
//! process it watches is reported exactly once with a DOWN carrying the
//! target's pid, the monitor's [`Reference`] and the [`ExitReason`].
//! Dropping it demonitors *and* flushes a DOWN not yet handled, so after the
//! drop no DOWN arrives (OTP's `demonitor(Ref, [flush])`). Forgetting to
//! demonitor is impossible by construction; keeping a guard too long is
//! what the registry finds.
//!
//! - [`MonitorManager::monitor`] sends the DOWN into a watcher actor's
//!   system lane as [`SystemMessage::Down`](foundation_mailbox::SystemMessage::Down);
//!   [`MonitorManager::watch`] keeps it in the guard for
//!   [`Monitor::down`], for code that is not an actor;
//!   [`MonitorManager::scoped`] monitors for the length of an async block.
//! - Monitoring a process that has already exited gives a DOWN at once with
//!   [`ExitReason::NoProcess`], never a hang.
//! - Every monitor records its tag, creation time and the caller's source
//!   location (`#[track_caller]`).
//! - [`link`] ties two processes' fates together, OTP style.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use foundation::mailbox::{Actor, Context, ExitReason, start};
//! use foundation::monitor_manager::MonitorManager;
//! # #[derive(Debug)] struct Worker;
//! # impl Actor for Worker {
//! #     type Args = (); type Msg = ();
//! #     type Error = std::convert::Infallible;
//! #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Worker) }
//! #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
//! # }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let monitors = MonitorManager::new();
//! let (worker, _handle) = start::<Worker>(()).await.unwrap();
//! let worker = worker.process_ref();
//!
//! let mut monitor = monitors.watch(&worker, "worker");
//! assert_eq!(monitors.stats().active, 1);
//!
//! worker.stop(ExitReason::shutdown(), Duration::from_secs(1)).await.unwrap();
//! let down = monitor.down(Duration::from_secs(1)).await.unwrap();
//! assert_eq!((down.pid, down.reason), (worker.pid(), ExitReason::shutdown()));
//!
//! // The DOWN cleaned the registry; the guard is now inert.
//! assert_eq!(monitors.stats().active, 0);
//! # }
//! ```
//!
//! # The registry
//!
//! [`MonitorManager::list`], [`stats`](MonitorManager::stats) and
//! [`find_leaks`](MonitorManager::find_leaks) show the live monitors, the
//! counters (created, cleaned, active, suspected leaks) and the monitors
//! held past an age while both their target and watcher still live, grouped
//! by tag and source location. Entries go when the DOWN is delivered, when
//! the guard is dropped, or when the watcher exits, so `active` returns to
//! its baseline after any churn. The registry is sharded (64 shards, ahash,
//! a slab in each), so making and dropping a monitor takes no lock that all
//! monitors share.
//!
//! # Exactly once, and never after the drop
//!
//! Each monitor has a small atomic state machine (`Active`, `Delivering`,
//! `Delivered`, `Cancelled`, `Released`): the target's exit, the guard's
//! drop and the watcher's exit race to move it out of `Active`, and the
//! winner alone delivers or cleans. A drop that loses to a delivery on
//! another thread waits out the push and flushes the DOWN from the
//! watcher's mailbox; a drop that runs inside a push (a DOWN that ends a
//! watcher whose runtime is gone drops the watcher's state right there)
//! never waits, and the delivery does its flush when the push returns.
//!
//! A DOWN arrives after every message the dead process sent the watcher
//! before it exited, and before later messages (Erlang's pairwise signal
//! order). A process's exit is published only after its DOWNs went out.
//!
//! # Loom
//!
//! The state machine and the registry shards go through a private `sync`
//! shim and are model-checked with loom under `--cfg foundation_loom`
//! (`cargo xtask loom`): a drop racing the target's exit, the watcher and
//! target exiting together, a guard dropped inside a push, a monitor
//! created while its target or watcher exits, and the link protocol.

#![forbid(unsafe_code)]

mod delivery;
mod error;
mod exits;
mod link;
mod manager;
mod metrics;
mod monitor;
mod registry;
mod report;
mod sync;

#[cfg(all(test, foundation_loom))]
mod loom_models;

pub use foundation_mailbox::{Down, ExitReason, Reference};

pub use crate::{
    error::{DownError, LinkError},
    link::{Link, link},
    manager::{DEFAULT_LEAK_AGE, MonitorManager},
    monitor::Monitor,
    report::{LeakGroup, LeakReport, MonitorInfo, Stats},
};

/// Monitors `target` on behalf of the actor `watcher`, in the
/// [global](MonitorManager::global) registry; see [`MonitorManager::monitor`].
#[track_caller]
pub fn monitor(
    watcher: &foundation_mailbox::ProcessRef,
    target: &foundation_mailbox::ProcessRef,
    tag: &'static str,
) -> Monitor {
    MonitorManager::global().monitor(watcher, target, tag)
}

/// Monitors `target` for non-actor code, in the [global](MonitorManager::global)
/// registry; see [`MonitorManager::watch`].
#[track_caller]
pub fn watch(target: &foundation_mailbox::ProcessRef, tag: &'static str) -> Monitor {
    MonitorManager::global().watch(target, tag)
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
