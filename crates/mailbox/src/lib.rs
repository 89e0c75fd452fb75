//! Foundation's process core: what a process is.
//!
//! Every other Foundation crate stands on this one. It owns:
//!
//! - [`Pid`] and [`Reference`]: identities that are never reused;
//! - [`ExitReason`]: why a process ended, with OTP's idea of "normal";
//! - the mailbox: bounded (default [`DEFAULT_CAPACITY`]) with backpressure,
//!   an explicit [`Overflow`] policy, and a system lane that bypasses the
//!   bound and keeps Erlang's order of signals: a DOWN comes after the dead
//!   process's last messages and before later ones. It reserves no message
//!   storage while idle and gives bulk storage back after a burst drains;
//! - kills and exit signals that land exactly once, wherever the actor is
//!   (dormant, mid-handler, between tasks, or on a runtime that has shut
//!   down), and a panic in user code (a handler, `init`, `terminate`, the
//!   state's `Drop`) that ends only that actor;
//! - dormant actors: an actor with nothing to do has no task. Its state
//!   waits in its process cell, and the next message starts a task for it,
//!   so an idle actor costs one small allocation. A message passed along a
//!   pipeline of actors, of one type or several, wakes each next actor on
//!   the sender's own task once the sender goes dormant: no task spawn per
//!   hop (`docs/handoff.md`, "Chains of actors");
//! - the [`Actor`] trait, shaped like a GenServer, and its message loop: one
//!   message at a time, a panic caught at the loop and turned into
//!   [`ExitReason::Panic`];
//! - [`ActorRef`]: [`call`](ActorRef::call) (always with a timeout, its
//!   reply typed by the request's [`Reply`] port, answered at once or
//!   deferred; a dormant callee runs on the calling task, see
//!   [`Actor::INLINE_CALLS`]),
//!   [`cast`](ActorRef::cast), [`try_cast`](ActorRef::try_cast),
//!   [`stop`](ActorRef::stop), and the type-erased [`Recipient`] and
//!   [`ProcessRef`];
//! - dead letters: nothing accepted is lost silently. Messages still queued
//!   when a process exits go to a [`DeadLetterSink`] with the exit reason;
//! - timers owned by the actor ([`Context::send_after`],
//!   [`Context::interval`]; a cancel is final, even for a tick already
//!   queued) and streams attached with backpressure
//!   ([`ActorRef::attach_stream`]);
//! - names ([`Registry`]) and process groups ([`ProcessGroups`]), read
//!   without a round trip and cleaned when a process exits;
//! - [`TimeoutConfig`]: the one place default timeouts come from;
//! - [`time`]: the clock a runtime's timers and timeouts read, tokio's or a
//!   [manual time](time::ManualTime) a test installed, which a crate built
//!   on the mailbox reads too ([`time::now`], [`time::sleep_until`]).
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use foundation::mailbox::{Actor, CallError, Context, ExitReason, Reply, start};
//!
//! #[derive(Debug)]
//! struct Greeter;
//!
//! #[derive(Debug)]
//! enum Msg {
//!     /// A request: its port says the reply is a `String`.
//!     Greet(String, Reply<String>),
//! }
//!
//! impl Actor for Greeter {
//!     type Args = ();
//!     type Msg = Msg;
//!     type Error = std::convert::Infallible;
//!
//!     async fn init(_: (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
//!         Ok(Greeter)
//!     }
//!
//!     async fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) -> Result<(), Self::Error> {
//!         let Msg::Greet(name, reply) = msg;
//!         if name.is_empty() {
//!             panic!("no name");
//!         }
//!         reply.send(format!("hello, {name}")).unwrap_or_default();
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (greeter, _handle) = start::<Greeter>(()).await.unwrap();
//! let timeout = Duration::from_secs(1);
//! assert_eq!(greeter.call(|r| Msg::Greet("ada".into(), r), timeout).await.unwrap(), "hello, ada");
//!
//! // A panic ends the actor; the caller gets the reason, not a timeout.
//! let crashed = greeter.call(|r| Msg::Greet(String::new(), r), timeout).await;
//! assert!(matches!(crashed, Err(CallError::Exited(ExitReason::Panic(_)))));
//!
//! // Calls to an exited actor fail at once.
//! assert!(matches!(greeter.call(|r| Msg::Greet("bob".into(), r), timeout).await, Err(CallError::NoProcess(_))));
//! # }
//! ```
//!
//! # Runtime
//!
//! Actors run on the tokio runtime they are started from, which must have
//! its time driver enabled (`#[tokio::main]` and `Builder::enable_all` do).
//!
//! # Tracing
//!
//! Each activation and each handler runs in a span under target
//! [`ACTOR_TARGET`] (`foundation::actor`): `activation` with the actor's
//! `pid` and type, `message` with its [`HandlerKind`]. Nothing is made for
//! an activation no subscriber is interested in. [`install_panic_hook`]
//! reports an actor's panic once, with the same fields. See
//! `docs/observability.md`.
//!
//! # Loom
//!
//! The mailbox's lanes, exit state and waker registration go through a
//! private `sync` shim and are model-checked with loom under
//! `--cfg foundation_loom` (`cargo xtask loom`).

// Audited `unsafe` code, allowed item by item where it is: the handoff
// slot's pointer (`runtime::handoff`) and the spare boxes
// (`runtime::spare`).
#![deny(unsafe_code)]

mod actor;
mod actor_ref;
mod dead_letter;
mod error;
mod exit;
mod groups;
mod handle;
mod host;
mod mailbox;
mod metrics;
mod names;
mod observe;
mod options;
mod pid;
mod process;
mod process_ref;
mod recipient;
mod reply;
mod runtime;
mod stream;
mod sync;
mod system;
pub mod time;
mod timeout;
mod timer;
mod traced;
mod wait;
mod waiters;

#[cfg(all(test, foundation_loom))]
mod loom_models;

pub use crate::{
    actor::{Actor, Context},
    actor_ref::{ActorRef, Cast},
    dead_letter::{
        DeadLetter, DeadLetterReason, DeadLetterSink, DefaultDeadLetterSink, MessageKind,
    },
    error::{CallError, SendError, StartError, StopError, TimerError, WaitTimeout},
    exit::{ErrorCause, ExitReason},
    groups::{BroadcastReport, Delivery, ProcessGroups},
    handle::ActorHandle,
    mailbox::{DEFAULT_CAPACITY, MailboxStats, Overflow},
    names::{
        JoinError, KeyRef, LookupError, NamedCallError, NamedSendError, RegisterError, Registry,
    },
    observe::{ACTOR_TARGET, HandlerKind, install_panic_hook},
    options::ActorOptions,
    pid::{Pid, Reference},
    process_ref::{ExitHookId, Exited, ProcessRef},
    recipient::{Recipient, RecipientSend},
    reply::{Reply, ReplyError, ReplyReceiver},
    runtime::{spawn, spawn_with, start, start_with},
    system::{Down, SystemMessage},
    timeout::{Operation, TimeoutConfig},
    traced::Traced,
};

/// Not public API: what Foundation's other crates share with this one.
#[doc(hidden)]
pub mod __private {
    /// One spare box per layout per thread, for the futures a supervisor
    /// boxes on every start (see `runtime/spare.rs`).
    pub use crate::runtime::spare::{boxed, retire};
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
