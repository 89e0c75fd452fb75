//! Wildcard publish/subscribe for actors, with real delivery results.
//!
//! Signals are named by dot-separated [`Topic`]s; subscriptions listen to
//! [`Pattern`]s where `*` matches one segment and a final `>` the rest
//! (NATS's syntax). Topics in the `$` namespace are never matched by a
//! leading wildcard. Patterns and topics are validated with typed errors.
//!
//! - **Matching scales with topics, not subscriptions**: subscriptions sit
//!   in a segment trie (as in NATS, RabbitMQ and EMQX), so routing walks the
//!   topic's segments once, whether there is one pattern or ten thousand.
//! - [`SignalRouter::subscribe`] takes a [`Recipient`](foundation_mailbox::Recipient)
//!   and returns a [`Subscription`] guard: dropping it unsubscribes. A
//!   subscriber that exits is removed through a monitor
//!   (`foundation-monitor-manager`), and the monitor goes with it.
//! - [`SignalRouter::route`] is best effort and never waits: a full
//!   mailbox costs that subscriber the signal, counted, dead-lettered and
//!   handled by its [`OverflowPolicy`]; the publisher and the others are
//!   not slowed.
//! - [`SignalRouter::route_sync`] waits up to a timeout and returns how
//!   many mailboxes accepted the signal, with each subscriber's [`Outcome`]
//!   from [`route_sync_report`](SignalRouter::route_sync_report). Tracing
//!   only observes (target `foundation::signal_router`); no result is read
//!   from it.
//! - **Queue groups** ([`SubscribeOptions::queue`]): each signal goes to
//!   one member of a group, in turn, skipping members that exited.
//! - **Supervised**: the router process ([`SignalRouter::child_spec`]) only
//!   holds the monitors. The subscriptions live outside it, so its crash
//!   loses none; when it restarts it monitors them all again.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use foundation::mailbox::{Actor, Context, Reply, start};
//! use foundation::signal_router::{Signal, SignalRouter, SubscribeOptions};
//! use foundation::supervisor::{Strategy, Supervisor, SupervisorSpec};
//!
//! #[derive(Debug, Default)]
//! struct Worker(u32);
//!
//! /// A routed order, or a question: how many orders so far?
//! #[derive(Debug)]
//! enum Work {
//!     Order(Signal<String>),
//!     Count(Reply<u32>),
//! }
//!
//! impl From<Signal<String>> for Work {
//!     fn from(order: Signal<String>) -> Self {
//!         Work::Order(order)
//!     }
//! }
//!
//! impl Actor for Worker {
//!     type Args = ();
//!     type Msg = Work;
//!     type Error = std::convert::Infallible;
//!
//!     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Worker(0)) }
//!     async fn handle(&mut self, work: Work, _: &mut Context<Self>) -> Result<(), Self::Error> {
//!         match work {
//!             Work::Order(_) => self.0 += 1,
//!             Work::Count(reply) => reply.send(self.0).unwrap_or_default(),
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let router: SignalRouter<String> = SignalRouter::new();
//! let tree = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(router.child_spec("router")))
//!     .await
//!     .unwrap();
//!
//! // Two workers share `orders.>` as a queue group: each order goes to one of them.
//! let (a, _a) = start::<Worker>(()).await.unwrap();
//! let (b, _b) = start::<Worker>(()).await.unwrap();
//! let shared = SubscribeOptions::new().queue("order-workers");
//! let _sa = router.subscribe_with("orders.>", a.recipient(), shared.clone()).unwrap();
//! let _sb = router.subscribe_with("orders.>", b.recipient(), shared).unwrap();
//!
//! for id in 0..10 {
//!     let signal = Signal::parse("orders.created.eu", format!("order {id}")).unwrap();
//!     assert_eq!(router.route_sync(signal, Duration::from_secs(1)).await, 1);
//! }
//! let timeout = Duration::from_secs(1);
//! assert_eq!(a.call(Work::Count, timeout).await.unwrap() + b.call(Work::Count, timeout).await.unwrap(), 10);
//! assert_eq!(a.call(Work::Count, timeout).await.unwrap(), 5);
//! tree.shutdown(Duration::from_secs(5)).await.unwrap();
//! # }
//! ```
//!
//! # Where the state lives
//!
//! The subscription table is held outside the restartable process, in the
//! [`SignalRouter`] value its clones share. Routing reads it directly
//! (a publisher never waits on a process) and a crash of the router
//! process cannot lose it. What the process owns is only what must die with
//! it: the monitors, whose DOWNs arrive in its mailbox. On every start it
//! monitors each subscription again, so subscribers that exited while it
//! was down are removed at once. See `docs/signal-router.md`.

#![forbid(unsafe_code)]

mod delivery;
mod error;
mod janitor;
mod route_sync;
mod router;
mod shared;
mod signal;
mod subscription;
mod topic;
mod trie;

pub use crate::{
    error::{PatternError, SubscribeError, TopicError},
    route_sync::{Outcome, RouteReport, SubscriberOutcome},
    router::{DEFAULT_ROUTER_CAPACITY, Routed, RouterOptions, RouterStats, SignalRouter},
    signal::Signal,
    subscription::{
        OverflowPolicy, SubscribeOptions, Subscription, SubscriptionId, SubscriptionInfo,
    },
    topic::{Pattern, Topic},
};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
