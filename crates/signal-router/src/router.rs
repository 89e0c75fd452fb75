//! [`SignalRouter`]: subscribing, routing best effort, and what the router can tell about itself.

use std::{
    fmt,
    sync::{Arc, Weak, atomic::Ordering},
};

use foundation_mailbox::{ActorOptions, Pid, Recipient};
use foundation_monitor_manager::MonitorManager;
use foundation_supervisor::ChildSpec;

use crate::{
    Pattern, Signal, SubscribeError, SubscribeOptions, Subscription, SubscriptionId,
    SubscriptionInfo,
    delivery::{self, Attempt, GroupAttempt, Target},
    janitor::DroppedDowns,
    janitor::Janitor,
    shared::Shared,
    subscription::Unsubscribe,
};

/// How a router is made.
///
/// ```
/// use foundation::monitor_manager::MonitorManager;
/// use foundation::signal_router::{RouterOptions, SignalRouter};
///
/// let monitors = MonitorManager::new();
/// let router: SignalRouter<u32> = SignalRouter::with_options(RouterOptions::new().monitors(monitors.clone()));
/// assert_eq!(router.stats().subscriptions, 0);
/// ```
#[derive(Clone, Debug)]
pub struct RouterOptions {
    monitors: MonitorManager,
    mailbox_capacity: usize,
}

/// The router process's mailbox capacity unless set with
/// [`RouterOptions::mailbox_capacity`]: how many DOWNs a burst of
/// subscriber exits can queue before the process falls back to a sweep.
///
/// Not larger: dropping a monitor whose DOWN was delivered flushes the
/// watcher's system lane, which costs the lane's length, so a long queue of
/// DOWNs makes each removal dearer; past this many, one sweep of the table
/// is cheaper.
pub const DEFAULT_ROUTER_CAPACITY: usize = foundation_mailbox::DEFAULT_CAPACITY;

impl Default for RouterOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl RouterOptions {
    /// Monitors in the [global](MonitorManager::global) registry.
    pub fn new() -> Self {
        Self {
            monitors: MonitorManager::global().clone(),
            mailbox_capacity: DEFAULT_ROUTER_CAPACITY,
        }
    }

    /// The router process's mailbox capacity. Its DOWNs queue there; one
    /// beyond it is dropped by the mailbox, and the process then sweeps the
    /// table for exited subscribers instead, so none stays. An idle mailbox
    /// reserves no storage, whatever its capacity.
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = capacity;
        self
    }

    /// The registry the router's monitors of its subscribers live in (tag
    /// `signal-router`).
    pub fn monitors(mut self, monitors: MonitorManager) -> Self {
        self.monitors = monitors;
        self
    }
}

/// What one [`route`](SignalRouter::route) did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Routed {
    /// Subscriptions whose pattern matched (a queue group counts once per member).
    pub matched: usize,
    /// Mailboxes that accepted the signal.
    pub delivered: usize,
    /// Deliveries dropped: a full mailbox, or a panic converting or cloning.
    pub dropped: usize,
    /// Targets whose subscriber had exited (a queue group counts when all
    /// its members had); their subscriptions are being removed.
    pub no_process: usize,
}

/// The router's counters, for observability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouterStats {
    /// Live subscriptions.
    pub subscriptions: usize,
    /// Subscriptions a live monitor watches (all of them while the router
    /// process runs).
    pub monitored: usize,
    /// The router process, while one runs.
    pub janitor: Option<Pid>,
    /// Signals routed (`route` and `route_sync`).
    pub routed: u64,
    /// Deliveries into subscribers' mailboxes.
    pub delivered: u64,
    /// Deliveries dropped (full mailboxes, timeouts, panics).
    pub dropped: u64,
    /// Subscriptions removed because their subscriber exited.
    pub removed_dead: u64,
}

/// Wildcard publish/subscribe for signals of payload `M`.
///
/// Subscribers are [`Recipient`]s of [`Signal<M>`]; a subscription is a
/// [`Subscription`] guard. [`route`](Self::route) delivers best effort and
/// never waits; [`route_sync`](Self::route_sync) waits up to a timeout and
/// says how many mailboxes accepted the signal.
///
/// The subscriptions live in this value, shared by its clones, not in a
/// process: routing never round-trips through one, and a crash loses none
/// of them. The router *process* (start it under a supervisor with
/// [`child_spec`](Self::child_spec)) holds the monitors that remove
/// subscribers that exit; when it restarts, it monitors every subscription
/// again. Without it, routing works the same, but exited subscribers stay
/// (skipped, reported as [`Routed::no_process`]) until one starts.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::{Actor, Context, start};
/// use foundation::signal_router::{Signal, SignalRouter};
/// use foundation::supervisor::{Strategy, Supervisor, SupervisorSpec};
/// use tokio::sync::mpsc;
///
/// #[derive(Debug)]
/// struct Thermostat(mpsc::Sender<String>);
///
/// impl Actor for Thermostat {
///     type Args = mpsc::Sender<String>;
///     type Msg = Signal<f32>;
///     type Error = std::convert::Infallible;
///
///     async fn init(seen: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
///         Ok(Thermostat(seen))
///     }
///     async fn handle(&mut self, signal: Signal<f32>, _: &mut Context<Self>) -> Result<(), Self::Error> {
///         let _ = self.0.send(format!("{} = {}", signal.topic(), signal.payload())).await;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let router: SignalRouter<f32> = SignalRouter::new();
/// let tree = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(router.child_spec("router")))
///     .await
///     .unwrap();
///
/// let (seen, mut readings) = mpsc::channel(8);
/// let (thermostat, _handle) = start::<Thermostat>(seen).await.unwrap();
/// let _subscription = router.subscribe("sensors.*.temperature", thermostat.recipient()).unwrap();
///
/// let routed = router.route(Signal::parse("sensors.kitchen.temperature", 21.5).unwrap());
/// assert_eq!(routed.delivered, 1);
/// assert_eq!(readings.recv().await.unwrap(), "sensors.kitchen.temperature = 21.5");
///
/// // Waits for room up to the timeout; says how many mailboxes took it.
/// let count = router.route_sync(Signal::parse("sensors.hall.temperature", 19.0).unwrap(), Duration::from_secs(1)).await;
/// assert_eq!(count, 1);
/// assert_eq!(router.route(Signal::parse("sensors.hall.humidity", 40.0).unwrap()).matched, 0);
/// tree.shutdown(Duration::from_secs(5)).await.unwrap();
/// # }
/// ```
pub struct SignalRouter<M> {
    pub(crate) shared: Arc<Shared<M>>,
    mailbox_capacity: usize,
}

impl<M> Clone for SignalRouter<M> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            mailbox_capacity: self.mailbox_capacity,
        }
    }
}

impl<M: Send + 'static> fmt::Debug for SignalRouter<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalRouter")
            .field("stats", &self.stats())
            .finish()
    }
}

impl<M: Send + 'static> Default for SignalRouter<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Send + 'static> SignalRouter<M> {
    /// A router with no subscriptions, monitoring in the global registry.
    pub fn new() -> Self {
        Self::with_options(RouterOptions::new())
    }

    /// A router made with `options`.
    pub fn with_options(options: RouterOptions) -> Self {
        Self {
            shared: Arc::new(Shared::new(options.monitors)),
            mailbox_capacity: options.mailbox_capacity,
        }
    }

    /// The router process's child spec, to start it under a supervisor
    /// (any restart type; permanent is the default). It watches the
    /// subscribers and removes those that exit; each time it starts it
    /// monitors every live subscription again, so a restart loses none.
    pub fn child_spec(&self, id: impl Into<Arc<str>>) -> ChildSpec {
        let options = ActorOptions::new()
            .capacity(self.mailbox_capacity)
            .dead_letters(Arc::new(DroppedDowns));
        ChildSpec::actor_with::<Janitor<M>>(id, Arc::clone(&self.shared), options)
    }

    /// Subscribes `recipient` to `pattern` (see [`Pattern`]) with the
    /// default options: no queue group, [`OverflowPolicy::DropSignal`](crate::OverflowPolicy::DropSignal).
    #[track_caller]
    pub fn subscribe(
        &self,
        pattern: &str,
        recipient: Recipient<Signal<M>>,
    ) -> Result<Subscription, SubscribeError> {
        self.subscribe_with(pattern, recipient, SubscribeOptions::new())
    }

    /// Subscribes `recipient` to `pattern` with `options`. Fails if the
    /// pattern or the queue name is invalid, or the subscriber has exited.
    /// Subscribing twice makes two subscriptions: a signal both match is
    /// delivered twice.
    #[track_caller]
    pub fn subscribe_with(
        &self,
        pattern: &str,
        recipient: Recipient<Signal<M>>,
        options: SubscribeOptions,
    ) -> Result<Subscription, SubscribeError> {
        let pattern = Pattern::new(pattern)?;
        if let Some(name) = &options.queue
            && (name.is_empty()
                || name
                    .chars()
                    .any(|character| character.is_whitespace() || character.is_control()))
        {
            return Err(SubscribeError::QueueName { name: name.clone() });
        }
        let process = recipient.process_ref();
        if !process.is_alive() {
            return Err(SubscribeError::NoProcess(process.pid()));
        }
        let id = self.shared.next_id();
        let subscriber = process.pid();
        let counters = self.shared.insert(
            id,
            pattern.clone(),
            recipient,
            options.queue.as_deref(),
            options.overflow,
            &process,
        );
        let router: Weak<dyn Unsubscribe> = Arc::downgrade(&self.shared) as Weak<dyn Unsubscribe>;
        tracing::debug!(target: "foundation::signal_router", subscription = %id, %subscriber, %pattern, queue = options.queue.as_deref(), "subscribed");
        Ok(Subscription {
            id,
            pattern,
            subscriber,
            counters,
            router,
            detached: false,
        })
    }

    /// Ends the subscription `id` (one that was [detached](Subscription::detach),
    /// say). Returns `false` if it had already ended.
    pub fn unsubscribe(&self, id: SubscriptionId) -> bool {
        self.shared.remove(id).is_some()
    }

    /// Every live subscription, oldest first.
    pub fn subscriptions(&self) -> Vec<SubscriptionInfo> {
        self.shared.list()
    }

    /// The router's counters.
    pub fn stats(&self) -> RouterStats {
        let totals = &self.shared.totals;
        let (monitored, janitor) = self.shared.watch_state();
        RouterStats {
            subscriptions: self.shared.len(),
            monitored,
            janitor,
            routed: totals.routed.load(Ordering::Relaxed),
            delivered: totals.delivered.load(Ordering::Relaxed),
            dropped: totals.dropped.load(Ordering::Relaxed),
            removed_dead: totals.removed_dead.load(Ordering::Relaxed),
        }
    }
}

impl<M: Clone + Send + 'static> SignalRouter<M> {
    /// Delivers `signal` to every subscription whose pattern matches its
    /// topic (one member per queue group), without waiting: best effort.
    ///
    /// A subscriber whose mailbox is full does not slow the publisher or
    /// the other subscribers: the signal is dropped for it, counted
    /// ([`Subscription::dropped`], [`RouterStats::dropped`]), handed to its
    /// dead-letter sink, and its [`OverflowPolicy`](crate::OverflowPolicy)
    /// applied. A subscriber that has exited is skipped. Matching walks the
    /// topic's segments once, whatever the number of subscriptions.
    pub fn route(&self, signal: Signal<M>) -> Routed {
        let mut matches = Vec::new();
        self.shared.matches(signal.topic().as_str(), &mut matches);
        let mut routed = Routed {
            matched: matches.len(),
            ..Routed::default()
        };
        if matches.iter().all(|sub| sub.group.is_none()) {
            // Every target plain: no plan to build.
            let mut signal = Some(signal);
            let last = matches.len().saturating_sub(1);
            for (index, sub) in matches.iter().enumerate() {
                let copy = if index == last {
                    signal.take()
                } else {
                    signal
                        .as_ref()
                        .and_then(|signal| delivery::copy(sub, signal))
                };
                match copy {
                    Some(copy) => self.offer(sub, copy, &mut routed),
                    None => routed.dropped += 1,
                }
            }
        } else {
            let targets = delivery::plan(&matches);
            let mut signal = Some(signal);
            let count = targets.len();
            for (index, target) in targets.iter().enumerate() {
                let copy = target.signal(index, count, &mut signal);
                let Some(copy) = copy else {
                    routed.dropped += 1;
                    continue;
                };
                match target {
                    Target::One(sub) => self.offer(sub, copy, &mut routed),
                    Target::Group { members, start } => {
                        match delivery::attempt_group(members, *start, copy) {
                            GroupAttempt::Delivered(_) => routed.delivered += 1,
                            GroupAttempt::Full(member, copy) => {
                                delivery::overflow(&self.shared, member, copy);
                                routed.dropped += 1;
                            }
                            GroupAttempt::NoProcess => routed.no_process += 1,
                            GroupAttempt::Panicked(_) => routed.dropped += 1,
                        }
                    }
                }
            }
        }
        self.count(&routed);
        routed
    }

    fn offer(&self, sub: &crate::shared::Sub<M>, signal: Signal<M>, routed: &mut Routed) {
        match delivery::attempt(sub, signal) {
            Attempt::Delivered => routed.delivered += 1,
            Attempt::Full(signal) => {
                delivery::overflow(&self.shared, sub, signal);
                routed.dropped += 1;
            }
            Attempt::NoProcess(_) => routed.no_process += 1,
            Attempt::Panicked => routed.dropped += 1,
        }
    }

    pub(crate) fn count(&self, routed: &Routed) {
        let totals = &self.shared.totals;
        totals.routed.fetch_add(1, Ordering::Relaxed);
        if routed.delivered > 0 {
            totals
                .delivered
                .fetch_add(routed.delivered as u64, Ordering::Relaxed);
        }
        if routed.dropped > 0 {
            totals
                .dropped
                .fetch_add(routed.dropped as u64, Ordering::Relaxed);
        }
    }
}
