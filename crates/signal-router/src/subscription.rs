//! [`Subscription`], the guard that unsubscribes on drop, and what a subscription is made with.

use std::{
    fmt,
    sync::{
        Arc, Weak,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use foundation_mailbox::Pid;

use crate::Pattern;

/// Identifies one subscription for as long as the program runs; never reused.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(pub(crate) u64);

impl SubscriptionId {
    /// The number inside, for logs.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sub#{}", self.0)
    }
}

impl fmt::Debug for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What [`route`](crate::SignalRouter::route) does when a subscriber's
/// mailbox has no room for a signal. Either way the signal is counted in
/// [`Subscription::dropped`] and handed to the subscriber's dead-letter
/// sink with [`DeadLetterReason::Overflow`](foundation_mailbox::DeadLetterReason::Overflow).
///
/// A mailbox whose own policy drops messages
/// ([`Overflow::DropNewest`](foundation_mailbox::Overflow::DropNewest),
/// [`DropOldest`](foundation_mailbox::Overflow::DropOldest)) never reports
/// itself full: it applies that policy, dead-letters and counts in its own
/// [`MailboxStats::dropped`](foundation_mailbox::MailboxStats::dropped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OverflowPolicy {
    /// Drop this signal for this subscriber; later signals are tried again.
    #[default]
    DropSignal,
    /// Drop the signal and end the subscription: a subscriber that cannot
    /// keep up is cut off (NATS's slow-consumer rule) rather than silently
    /// missing a share of the stream.
    Unsubscribe,
}

/// How to subscribe: an optional queue group and an overflow policy.
///
/// ```
/// use foundation::signal_router::{OverflowPolicy, SubscribeOptions};
///
/// let options = SubscribeOptions::new().queue("billing-workers").on_overflow(OverflowPolicy::Unsubscribe);
/// assert_eq!(options.queue_name(), Some("billing-workers"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SubscribeOptions {
    pub(crate) queue: Option<String>,
    pub(crate) overflow: OverflowPolicy,
}

impl SubscribeOptions {
    /// No queue group, [`OverflowPolicy::DropSignal`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Joins the queue group `name`: a signal matched by members of one
    /// group goes to one member of it, in turn, skipping members that have
    /// exited (NATS queue groups, MQTT's `$share`).
    pub fn queue(mut self, name: impl Into<String>) -> Self {
        self.queue = Some(name.into());
        self
    }

    /// What to do when the subscriber's mailbox is full.
    pub fn on_overflow(mut self, policy: OverflowPolicy) -> Self {
        self.overflow = policy;
        self
    }

    /// The queue group, if any.
    pub fn queue_name(&self) -> Option<&str> {
        self.queue.as_deref()
    }

    /// The overflow policy.
    pub fn overflow_policy(&self) -> OverflowPolicy {
        self.overflow
    }
}

/// A subscription's counters, shared by the router's entry and the guard.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) active: AtomicBool,
}

/// How a guard takes its subscription out of its router, whatever the
/// router's signal type.
pub(crate) trait Unsubscribe: Send + Sync {
    fn unsubscribe(&self, id: SubscriptionId);
}

/// A live subscription: dropping it unsubscribes.
///
/// The router also ends a subscription on its own when the subscriber
/// exits (through a monitor) or, under [`OverflowPolicy::Unsubscribe`],
/// when it cannot keep up; [`is_active`](Self::is_active) then turns false
/// and dropping the guard does nothing more. To keep a subscription for
/// exactly as long as its subscriber lives, [`detach`](Self::detach) it.
/// Made by [`SignalRouter::subscribe`](crate::SignalRouter::subscribe).
///
/// ```
/// use foundation::mailbox::{Actor, Context, start};
/// use foundation::signal_router::{Signal, SignalRouter};
/// # #[derive(Debug)] struct Log;
/// # impl Actor for Log {
/// #     type Args = (); type Msg = Signal<u8>;
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Log) }
/// #     async fn handle(&mut self, _: Signal<u8>, _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let router: SignalRouter<u8> = SignalRouter::new();
/// let (log, _handle) = start::<Log>(()).await.unwrap();
/// let subscription = router.subscribe("jobs.*", log.recipient()).unwrap();
/// assert_eq!(router.route(Signal::parse("jobs.done", 1).unwrap()).delivered, 1);
/// assert_eq!((subscription.delivered(), subscription.dropped()), (1, 0));
///
/// drop(subscription);
/// assert_eq!(router.route(Signal::parse("jobs.done", 2).unwrap()).matched, 0);
///
/// // Detached, it lasts until the subscriber exits or is unsubscribed by id.
/// let id = router.subscribe("jobs.*", log.recipient()).unwrap().detach();
/// assert_eq!(router.stats().subscriptions, 1);
/// assert!(router.unsubscribe(id));
/// # }
/// ```
#[must_use = "dropping a subscription unsubscribes at once"]
pub struct Subscription {
    pub(crate) id: SubscriptionId,
    pub(crate) pattern: Pattern,
    pub(crate) subscriber: Pid,
    pub(crate) counters: Arc<Counters>,
    pub(crate) router: Weak<dyn Unsubscribe>,
    pub(crate) detached: bool,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("pattern", &self.pattern)
            .field("subscriber", &self.subscriber)
            .field("active", &self.is_active())
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// Its id.
    pub fn id(&self) -> SubscriptionId {
        self.id
    }

    /// The pattern it listens to.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// The subscriber's pid.
    pub fn subscriber(&self) -> Pid {
        self.subscriber
    }

    /// Whether the router still routes to it.
    pub fn is_active(&self) -> bool {
        self.counters.active.load(Ordering::Acquire)
    }

    /// Signals the subscriber's mailbox accepted through it.
    pub fn delivered(&self) -> u64 {
        self.counters.delivered.load(Ordering::Relaxed)
    }

    /// Signals dropped for it: its mailbox was full (or refused within a
    /// [`route_sync`](crate::SignalRouter::route_sync) timeout), or
    /// converting or cloning the signal for it panicked.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Ordering::Relaxed)
    }

    /// Unsubscribes now (the same as dropping it).
    pub fn unsubscribe(self) {
        drop(self);
    }

    /// Lets the subscription live on without this guard until its
    /// subscriber exits (the router's monitor then removes it) or the
    /// router cuts it off for overflowing. Returns its id, for
    /// [`SignalRouter::unsubscribe`](crate::SignalRouter::unsubscribe).
    pub fn detach(mut self) -> SubscriptionId {
        self.detached = true;
        self.id
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if self.detached {
            return;
        }
        if let Some(router) = self.router.upgrade() {
            router.unsubscribe(self.id);
        }
    }
}

/// One subscription as [`SignalRouter::subscriptions`](crate::SignalRouter::subscriptions) lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionInfo {
    /// Its id.
    pub id: SubscriptionId,
    /// The pattern it listens to.
    pub pattern: Pattern,
    /// The subscriber's pid.
    pub subscriber: Pid,
    /// Its queue group, if any.
    pub queue: Option<Arc<str>>,
    /// Its overflow policy.
    pub overflow: OverflowPolicy,
    /// Signals its subscriber's mailbox accepted.
    pub delivered: u64,
    /// Signals dropped for it.
    pub dropped: u64,
    /// Whether a live monitor watches its subscriber (false while no
    /// router process runs).
    pub monitored: bool,
}
