//! [`broadcast_supervised`]: one message to many targets, with a strategy
//! that says what counts as success, and an outcome per recipient.

use futures::future::join_all;

use crate::{
    Delivered, Failure, SendFailure, SendOptions, Target,
    send::{Deliver, run},
    stats::Counters,
};

/// What a broadcast counts as success.
///
/// No actor system offers an atomic broadcast, and this is not one either:
/// a mailbox that accepted a message cannot be made to give it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// A liveness pre-check, then a bounded wait. Every target is resolved
    /// first; if any is gone or unresolvable, **nothing is sent** and
    /// every outcome is [`Outcome::NotSent`] (the failing ones say why).
    /// Otherwise each gets the message under the options' retries and
    /// deadline, waiting for room rather than dropping. It is not a
    /// two-phase commit: a recipient that dies between the check and its
    /// send fails on its own while the others keep their copies; the
    /// report's `succeeded` is then `false` and its outcomes say who got
    /// what.
    AllOrNothing,
    /// Every target gets its own supervised send; success is all of them
    /// delivered, and each outcome is reported either way.
    BestEffort,
    /// As `BestEffort`, and success is at least one delivered.
    AtLeastOne,
}

/// What happened at one recipient of a broadcast.
#[derive(Debug)]
pub enum Outcome<M> {
    /// Delivered.
    Delivered(Delivered),
    /// Its send failed for good; the on-error policy applied.
    Failed(SendFailure<M>),
    /// Not sent: an all-or-nothing pre-check failed, here (with why) or at
    /// another recipient (`None`).
    NotSent(Option<Failure>),
}

impl<M> Outcome<M> {
    /// Whether the message was delivered here.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered(_))
    }
}

/// A broadcast's result: one outcome per target, in the targets' order.
#[derive(Debug)]
pub struct BroadcastReport<M> {
    /// The strategy it ran under.
    pub strategy: Strategy,
    /// Whether it succeeded under its strategy.
    pub succeeded: bool,
    /// One outcome per target, in order.
    pub outcomes: Vec<Outcome<M>>,
}

impl<M> BroadcastReport<M> {
    /// How many recipients got the message.
    pub fn delivered(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|outcome| outcome.is_delivered())
            .count()
    }
}

/// Sends a clone of `message` to every target under `strategy`, each with
/// the options' deadline, retries and on-error policy (the sends run
/// concurrently, so the whole broadcast also ends by the deadline). A
/// fixed reference with room is sent to at once, without a future of its
/// own; only the rest wait.
///
/// Cancel-safe as [`send_supervised`](crate::send_supervised) is: dropped
/// midway, copies already queued stay queued, the rest are dropped and
/// counted cancelled.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Actor, Context, ExitReason, start};
/// use foundation_supervised_send::{SendOptions, Strategy, Target, broadcast_supervised};
/// # #[derive(Debug)] struct Log;
/// # impl Actor for Log {
/// #     type Args = (); type Msg = u32;
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Log) }
/// #     async fn handle(&mut self, _: u32, _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (a, _) = start::<Log>(()).await.unwrap();
/// let (b, _) = start::<Log>(()).await.unwrap();
/// b.stop(ExitReason::Normal, Duration::from_secs(1)).await.unwrap();
/// let targets: [Target<u32>; 2] = [Target::actor(&a), Target::actor(&b)];
/// let options = SendOptions::new().timeout(Duration::from_secs(1));
///
/// let all = broadcast_supervised(&targets, 7, Strategy::AllOrNothing, &options).await;
/// assert!(!all.succeeded);
/// assert_eq!(all.delivered(), 0, "b failed the pre-check: nobody got it");
///
/// let one = broadcast_supervised(&targets, 7, Strategy::AtLeastOne, &options).await;
/// assert!(one.succeeded);
/// assert_eq!(one.delivered(), 1);
/// # }
/// ```
pub async fn broadcast_supervised<M: Clone + Send + 'static>(
    targets: &[Target<M>],
    message: M,
    strategy: Strategy,
    options: &SendOptions,
) -> BroadcastReport<M> {
    if strategy == Strategy::AllOrNothing
        && let Some(outcomes) = precheck(targets)
    {
        return BroadcastReport {
            strategy,
            succeeded: false,
            outcomes,
        };
    }
    let outcomes = send_all(targets, message, options).await;
    let delivered = outcomes
        .iter()
        .filter(|outcome| outcome.is_delivered())
        .count();
    let succeeded = match strategy {
        Strategy::AllOrNothing | Strategy::BestEffort => delivered == targets.len(),
        Strategy::AtLeastOne => delivered > 0,
    };
    BroadcastReport {
        strategy,
        succeeded,
        outcomes,
    }
}

/// Resolves every target; `None` if all are live, else the outcomes of a
/// broadcast that sends nothing.
fn precheck<M: Send + 'static>(targets: &[Target<M>]) -> Option<Vec<Outcome<M>>> {
    let checks: Vec<Option<Failure>> = targets
        .iter()
        .map(|target| target.resolve().err())
        .collect();
    if checks.iter().all(Option::is_none) {
        return None;
    }
    Some(checks.into_iter().map(Outcome::NotSent).collect())
}

/// Sends to every target: first without waiting to the fixed references
/// with room, then a supervised send each for the rest, concurrently.
async fn send_all<M: Clone + Send + 'static>(
    targets: &[Target<M>],
    message: M,
    options: &SendOptions,
) -> Vec<Outcome<M>> {
    let counters = &*options.tag.counters;
    let mut outcomes: Vec<Option<Outcome<M>>> = Vec::with_capacity(targets.len());
    let mut rest = Vec::new();
    if let Err(error) = options.validate() {
        let failure = Failure::InvalidOptions(error);
        return targets
            .iter()
            .map(|_| Outcome::NotSent(Some(failure.clone())))
            .collect();
    }
    for (index, target) in targets.iter().enumerate() {
        Counters::add(&counters.sent);
        let copy = message.clone();
        match target.try_fixed(copy) {
            None => {
                Counters::add(&counters.delivered);
                outcomes.push(Some(Outcome::Delivered(Delivered {
                    attempts: 1,
                    receipt: None,
                })));
            }
            Some(copy) => {
                outcomes.push(None);
                rest.push((index, copy));
            }
        }
    }
    drop(message);
    let sends = rest.into_iter().map(|(index, copy)| async move {
        (index, run(&targets[index], copy, options, Deliver).await)
    });
    for (index, result) in join_all(sends).await {
        outcomes[index] = Some(match result {
            Ok(delivered) => Outcome::Delivered(delivered),
            Err(failure) => Outcome::Failed(failure),
        });
    }
    outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or(Outcome::NotSent(None)))
        .collect()
}
