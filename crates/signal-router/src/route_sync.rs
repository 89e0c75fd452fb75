//! [`SignalRouter::route_sync`]: routing that waits for room up to a timeout and says who got the signal.

use std::{fmt, panic::AssertUnwindSafe, sync::Arc, time::Duration};

use foundation_mailbox::{Pid, SendError};
use futures::{FutureExt, future::join_all};
use tokio::time::{Instant, timeout_at};

use crate::{
    Routed, Signal, SignalRouter, SubscriptionId,
    delivery::{self, Attempt, GroupAttempt, Target},
    shared::Sub,
};

/// What happened to a signal at one subscriber, in a [`RouteReport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The subscriber's mailbox accepted it.
    Delivered,
    /// The mailbox had no room within the timeout; the signal was dropped
    /// for this subscriber (counted, dead-lettered, overflow policy applied).
    TimedOut,
    /// The mailbox refuses when full instead of waiting
    /// ([`Overflow::Reject`](foundation_mailbox::Overflow::Reject)); the
    /// signal was dropped as for [`TimedOut`](Self::TimedOut).
    Refused,
    /// The subscriber had exited (for a queue group: every member had).
    NoProcess,
    /// Converting or cloning the signal for it panicked; dropped.
    Panicked,
}

/// One subscription's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriberOutcome {
    /// The subscription (for a queue group, the member that took the
    /// signal, or the member it was dropped for).
    pub subscription: SubscriptionId,
    /// Its subscriber.
    pub subscriber: Pid,
    /// Its queue group, if any.
    pub queue: Option<Arc<str>>,
    /// What happened.
    pub outcome: Outcome,
}

/// What [`SignalRouter::route_sync_report`] did, subscriber by subscriber,
/// in the order the router matched them.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::{Actor, Context, start};
/// use foundation::signal_router::{Outcome, Signal, SignalRouter};
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
/// let (live, _live) = start::<Log>(()).await.unwrap();
/// let (gone, _gone) = start::<Log>(()).await.unwrap();
/// let _a = router.subscribe("alerts.>", live.recipient()).unwrap();
/// let _b = router.subscribe("alerts.>", gone.recipient()).unwrap();
/// gone.kill();
///
/// let signal = Signal::parse("alerts.disk.full", 1).unwrap();
/// let report = router.route_sync_report(signal, Duration::from_secs(1)).await;
/// assert_eq!(report.delivered(), 1);
/// assert_eq!(report.outcome_for(live.pid()), Some(Outcome::Delivered));
/// assert_eq!(report.outcome_for(gone.pid()), Some(Outcome::NoProcess));
/// # }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RouteReport {
    outcomes: Vec<SubscriberOutcome>,
}

impl fmt::Debug for RouteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.outcomes).finish()
    }
}

impl RouteReport {
    /// How many mailboxes accepted the signal.
    pub fn delivered(&self) -> usize {
        self.count(Outcome::Delivered)
    }

    /// How many targets got `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.outcomes
            .iter()
            .filter(|entry| entry.outcome == outcome)
            .count()
    }

    /// Whether every target accepted it (true when nothing matched).
    pub fn all_delivered(&self) -> bool {
        self.outcomes
            .iter()
            .all(|entry| entry.outcome == Outcome::Delivered)
    }

    /// Each target's outcome.
    pub fn outcomes(&self) -> &[SubscriberOutcome] {
        &self.outcomes
    }

    /// The outcome for subscriber `pid`, if it was a target.
    pub fn outcome_for(&self, pid: Pid) -> Option<Outcome> {
        self.outcomes
            .iter()
            .find(|entry| entry.subscriber == pid)
            .map(|entry| entry.outcome)
    }
}

impl<M: Clone + Send + 'static> SignalRouter<M> {
    /// Delivers `signal` like [`route`](Self::route), but waits up to
    /// `timeout` for room in full mailboxes (all of them at once, so one
    /// slow subscriber does not eat the others' time), and returns how many
    /// mailboxes accepted it: Redis's `PUBLISH` count. The count is of
    /// mailboxes that took the signal, not of handlers that ran.
    ///
    /// Needs tokio's time driver. Not cancel-safe: dropping the future part
    /// way leaves the signal delivered to some subscribers and withdrawn
    /// from the rest (nothing is dead-lettered then).
    pub async fn route_sync(&self, signal: Signal<M>, timeout: Duration) -> usize {
        self.route_sync_report(signal, timeout).await.delivered()
    }

    /// [`route_sync`](Self::route_sync) with each target's [`Outcome`].
    pub async fn route_sync_report(&self, signal: Signal<M>, timeout: Duration) -> RouteReport {
        let deadline = Instant::now() + timeout;
        let mut matches = Vec::new();
        self.shared.matches(signal.topic().as_str(), &mut matches);
        let targets = delivery::plan(&matches);
        let mut deliveries = Vec::with_capacity(targets.len());
        let mut panicked = Vec::new();
        let mut signal = Some(signal);
        let count = targets.len();
        for (index, target) in targets.into_iter().enumerate() {
            let copy = target.signal(index, count, &mut signal);
            match copy {
                Some(copy) => deliveries.push(self.deliver_within(target, copy, deadline)),
                None => panicked.push(outcome(target.first(), Outcome::Panicked)),
            }
        }
        let mut outcomes = join_all(deliveries).await;
        outcomes.extend(panicked);
        let mut routed = Routed {
            matched: matches.len(),
            ..Routed::default()
        };
        for entry in &outcomes {
            match entry.outcome {
                Outcome::Delivered => routed.delivered += 1,
                Outcome::NoProcess => routed.no_process += 1,
                Outcome::TimedOut | Outcome::Refused | Outcome::Panicked => routed.dropped += 1,
            }
        }
        self.count(&routed);
        RouteReport { outcomes }
    }

    async fn deliver_within(
        &self,
        target: Target<'_, M>,
        signal: Signal<M>,
        deadline: Instant,
    ) -> SubscriberOutcome {
        let (sub, signal) = match target {
            Target::One(sub) => match delivery::attempt(sub, signal) {
                Attempt::Delivered => return outcome(sub, Outcome::Delivered),
                Attempt::NoProcess(_) => return outcome(sub, Outcome::NoProcess),
                Attempt::Panicked => return outcome(sub, Outcome::Panicked),
                Attempt::Full(signal) => (sub, signal),
            },
            Target::Group { members, start } => {
                match delivery::attempt_group(&members, start, signal) {
                    GroupAttempt::Delivered(member) => return outcome(member, Outcome::Delivered),
                    GroupAttempt::Panicked(member) => return outcome(member, Outcome::Panicked),
                    GroupAttempt::NoProcess => {
                        return outcome(members[start], Outcome::NoProcess);
                    }
                    GroupAttempt::Full(member, signal) => (member, signal),
                }
            }
        };
        // Full now: wait for room with a copy, keeping the original to
        // dead-letter if the wait fails.
        let Some(copy) = delivery::copy(sub, &signal) else {
            return outcome(sub, Outcome::Panicked);
        };
        let send = AssertUnwindSafe(sub.recipient.send(copy)).catch_unwind();
        let result = match timeout_at(deadline, send).await {
            Ok(Ok(Ok(()))) => {
                sub.counters
                    .delivered
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Outcome::Delivered
            }
            Ok(Ok(Err(SendError::NoProcess(_)))) => Outcome::NoProcess,
            Ok(Ok(Err(SendError::Full(_)))) => Outcome::Refused,
            Ok(Err(_panic)) => {
                sub.counters
                    .dropped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Outcome::Panicked
            }
            Err(_elapsed) => Outcome::TimedOut,
        };
        if matches!(result, Outcome::Refused | Outcome::TimedOut) {
            delivery::overflow(&self.shared, sub, signal);
        }
        outcome(sub, result)
    }
}

fn outcome<M: Send + 'static>(sub: &Sub<M>, outcome: Outcome) -> SubscriberOutcome {
    SubscriberOutcome {
        subscription: sub.id,
        subscriber: sub.recipient.pid(),
        queue: sub.group.as_ref().map(|group| Arc::clone(&group.name)),
        outcome,
    }
}
