//! Supervision trees with Erlang/OTP's semantics.
//!
//! A [`Supervisor`] starts its children in order from [`ChildSpec`]s and,
//! when one exits, applies its [`Strategy`]:
//!
//! - [`OneForOne`](Strategy::OneForOne) restarts only that child;
//! - [`OneForAll`](Strategy::OneForAll) stops the others in reverse start
//!   order, then starts them all again in order;
//! - [`RestForOne`](Strategy::RestForOne) stops the children started after
//!   it, in reverse order, then starts it and them again.
//!
//! A child's [`Restart`] type decides whether it comes back: permanent
//! always, transient only after an abnormal exit, temporary never (not even
//! when a sibling takes it down). More restarts than the [`Intensity`]
//! allows (3 in 5 seconds by default) and the supervisor stops every child
//! in reverse order and exits with a shutdown reason that says so
//! ([`reached_intensity`]), so its own parent decides: escalation through
//! nested trees. Children are stopped by their [`Shutdown`] spec: ask, wait,
//! then kill. Nothing outlives its supervisor: a supervisor that is killed
//! takes its children down through their links.
//!
//! A [`ChildRef`], from [`SupervisorRef::child_ref`], reaches a child
//! through its restarts: typed, with no round trip to the supervisor, and
//! never to an incarnation the supervisor has seen exit.
//!
//! A [`DynamicSupervisorRef`] runs many children of one [`DynamicSpec`]
//! started at run time; a [`TaskSupervisorRef`] owns one-shot async work
//! ([`spawn`](TaskSupervisorRef::spawn),
//! [`async_nolink`](TaskSupervisorRef::async_nolink),
//! [`async_stream`](TaskSupervisorRef::async_stream)) so none of it is
//! orphaned; a [`Root`] runs a tree with a bounded graceful shutdown.
//!
//! The tracing events (child started, exited with reason, restarted,
//! intensity reached, shutdown) are under the target
//! `foundation::supervisor`.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use foundation::mailbox::{Actor, Context, Reply};
//! use foundation::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
//!
//! #[derive(Debug)]
//! struct Counter(u64);
//!
//! #[derive(Debug)]
//! enum Msg {
//!     /// Counts one more and answers the count.
//!     Next(Reply<u64>),
//! }
//!
//! impl Actor for Counter {
//!     type Args = ();
//!     type Msg = Msg;
//!     type Error = std::convert::Infallible;
//!
//!     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Counter(0)) }
//!     async fn handle(&mut self, Msg::Next(reply): Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
//!         self.0 += 1;
//!         reply.send(self.0).unwrap_or_default();
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let tree = Supervisor::start(
//!     SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Counter>("counter", ())),
//! )
//! .await
//! .unwrap();
//! // A typed reference that follows the child across its restarts.
//! let counter = tree.child_ref::<Counter>("counter").unwrap();
//! assert_eq!(counter.call(Msg::Next, Duration::from_secs(1)).await.unwrap(), 1);
//! tree.shutdown(Duration::from_secs(5)).await.unwrap();
//! assert!(counter.current().is_none());
//! # }
//! ```

#![forbid(unsafe_code)]

mod child;
mod child_ref;
mod directory;
mod dynamic;
mod dynamic_ref;
mod error;
mod flags;
mod intensity;
#[cfg(all(test, foundation_loom))]
mod loom_models;
mod metrics;
#[cfg(feature = "persistence")]
mod persistent;
mod registry;
mod retry;
mod root;
mod spec;
mod start;
mod supervisor;
mod supervisor_ref;
mod sync;
mod task;

pub use crate::task::{
    AsyncStream, AsyncStreamOptions, OnTimeout, SpawnError, TaskError, TaskHandle,
    TaskSupervisorOptions, TaskSupervisorRef, Yielded, start_task_supervisor,
};
pub use crate::{
    child_ref::ChildRef,
    directory::Directory,
    dynamic::{DynamicSpec, DynamicSupervisor, DynamicSupervisorMsg, Shared},
    dynamic_ref::DynamicSupervisorRef,
    error::{ChildCallError, ChildRefError, ChildSendError, StartPanicked, SupervisorError},
    flags::{AutoShutdown, Intensity, Strategy, SupervisorSpec},
    retry::TryAgain,
    root::{Ended, Root},
    spec::{ChildKind, ChildSpec, Restart, Shutdown, StartFuture},
    start::Started,
    supervisor::{INTENSITY_REACHED, Supervisor, reached_intensity},
    supervisor_ref::{ChildCounts, ChildInfo, SupervisorMsg, SupervisorRef},
};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
