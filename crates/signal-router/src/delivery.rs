//! One signal to one subscription: the attempt, the overflow policy, and a queue group's turn.
//!
//! Sending runs user code (the conversion into the subscriber's message
//! type, the payload's `Clone`): a panic in it is caught here, counted as a
//! drop for that subscription, and never reaches the publisher.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, atomic::Ordering},
};

use foundation_mailbox::{DeadLetterReason, SendError};

use crate::{
    OverflowPolicy, Signal,
    shared::{Shared, Sub},
};

/// What one try at a subscriber's mailbox gave.
pub(crate) enum Attempt<M> {
    Delivered,
    Full(Signal<M>),
    /// The subscriber has exited; the signal comes back for the next member of a group.
    NoProcess(Signal<M>),
    Panicked,
}

/// Tries `signal` on `sub`'s mailbox without waiting; counts a delivery.
pub(crate) fn attempt<M: Send + 'static>(sub: &Sub<M>, signal: Signal<M>) -> Attempt<M> {
    match catch_unwind(AssertUnwindSafe(|| sub.recipient.try_send(signal))) {
        Ok(Ok(())) => {
            sub.counters.delivered.fetch_add(1, Ordering::Relaxed);
            Attempt::Delivered
        }
        Ok(Err(SendError::Full(signal))) => Attempt::Full(signal),
        Ok(Err(SendError::NoProcess(signal))) => Attempt::NoProcess(signal),
        Err(payload) => {
            panicked(sub, "converting the signal", &*payload);
            Attempt::Panicked
        }
    }
}

/// A copy of `signal` for one more subscriber; `None` if its `Clone` panicked
/// (counted as a drop for `sub`).
pub(crate) fn copy<M: Clone + Send + 'static>(
    sub: &Sub<M>,
    signal: &Signal<M>,
) -> Option<Signal<M>> {
    match catch_unwind(AssertUnwindSafe(|| signal.clone())) {
        Ok(copy) => Some(copy),
        Err(payload) => {
            panicked(sub, "cloning the signal", &*payload);
            None
        }
    }
}

fn panicked<M: Send + 'static>(sub: &Sub<M>, doing: &str, payload: &(dyn std::any::Any + Send)) {
    sub.counters.dropped.fetch_add(1, Ordering::Relaxed);
    let panic = panic_message(payload);
    tracing::error!(target: "foundation::signal_router", subscription = %sub.id, subscriber = %sub.recipient.pid(), %panic, "{doing} panicked; the signal is dropped for this subscriber");
}

/// A panic's message, for the log.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

/// `sub`'s mailbox had no room for `signal`: count it, dead-letter it, and
/// apply the subscription's overflow policy.
pub(crate) fn overflow<M: Send + 'static>(shared: &Shared<M>, sub: &Sub<M>, signal: Signal<M>) {
    let dropped = sub.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
    let topic = signal.topic().clone();
    let letter = catch_unwind(AssertUnwindSafe(|| {
        sub.recipient
            .dead_letter(signal, DeadLetterReason::Overflow);
    }));
    if let Err(payload) = letter {
        let panic = panic_message(&*payload);
        tracing::error!(target: "foundation::signal_router", subscription = %sub.id, %panic, "converting a dropped signal for the dead-letter sink panicked");
    }
    match sub.overflow {
        OverflowPolicy::DropSignal if dropped == 1 => {
            tracing::warn!(target: "foundation::signal_router", subscription = %sub.id, subscriber = %sub.recipient.pid(), pattern = %sub.pattern, %topic, "slow subscriber: mailbox full, signal dropped (further drops are counted, logged at trace)");
        }
        OverflowPolicy::DropSignal => {
            tracing::trace!(target: "foundation::signal_router", subscription = %sub.id, %topic, dropped, "signal dropped: mailbox full");
        }
        OverflowPolicy::Unsubscribe => {
            if shared.remove(sub.id).is_some() {
                tracing::warn!(target: "foundation::signal_router", subscription = %sub.id, subscriber = %sub.recipient.pid(), pattern = %sub.pattern, %topic, "slow subscriber: mailbox full, signal dropped and subscription ended");
            }
        }
    }
}

/// Where one signal goes: a plain subscription, or one member of a queue
/// group (members in the trie's order, the first to try at `start`).
pub(crate) enum Target<'a, M> {
    One(&'a Arc<Sub<M>>),
    Group {
        members: Vec<&'a Arc<Sub<M>>>,
        start: usize,
    },
}

impl<M: Clone + Send + 'static> Target<'_, M> {
    /// The signal for this target, the `index`-th of `count`: the last one
    /// takes the signal itself, every other one a copy made for its first
    /// subscriber (`None` if the payload's `Clone` panicked).
    pub(crate) fn signal(
        &self,
        index: usize,
        count: usize,
        signal: &mut Option<Signal<M>>,
    ) -> Option<Signal<M>> {
        if index + 1 >= count {
            return signal.take();
        }
        signal
            .as_ref()
            .and_then(|signal| copy(self.first(), signal))
    }

    /// The subscription tried first: the one, or the group member whose turn it is.
    pub(crate) fn first(&self) -> &Sub<M> {
        match self {
            Target::One(sub) => sub,
            Target::Group { members, start } => members[*start],
        }
    }
}

/// Splits matches into targets: each plain subscription, and each queue
/// group (by name, across patterns) once, taking the group's next turn.
pub(crate) fn plan<M>(matches: &[Arc<Sub<M>>]) -> Vec<Target<'_, M>> {
    let mut targets: Vec<Target<'_, M>> = Vec::with_capacity(matches.len());
    for sub in matches {
        let Some(group) = &sub.group else {
            targets.push(Target::One(sub));
            continue;
        };
        let joined = targets.iter_mut().find_map(|target| match target {
            Target::Group { members, .. }
                if members[0]
                    .group
                    .as_ref()
                    .is_some_and(|first| Arc::ptr_eq(first, group)) =>
            {
                Some(members)
            }
            _ => None,
        });
        match joined {
            Some(members) => members.push(sub),
            None => targets.push(Target::Group {
                members: vec![sub],
                start: 0,
            }),
        }
    }
    for target in &mut targets {
        if let Target::Group { members, start } = target
            && let Some(group) = &members[0].group
        {
            *start = group.turn.fetch_add(1, Ordering::Relaxed) % members.len();
        }
    }
    targets
}

/// What offering a signal to a queue group gave.
pub(crate) enum GroupAttempt<'a, M> {
    Delivered(&'a Arc<Sub<M>>),
    /// No live member had room: the first full member in turn, and the signal.
    Full(&'a Arc<Sub<M>>, Signal<M>),
    /// Every member has exited.
    NoProcess,
    Panicked(&'a Arc<Sub<M>>),
}

/// Offers `signal` to the members in turn from `start`: the first with room
/// takes it; exited members are skipped.
pub(crate) fn attempt_group<'a, M: Send + 'static>(
    members: &[&'a Arc<Sub<M>>],
    start: usize,
    mut signal: Signal<M>,
) -> GroupAttempt<'a, M> {
    let mut first_full = None;
    for offset in 0..members.len() {
        let member = members[(start + offset) % members.len()];
        match attempt(member, signal) {
            Attempt::Delivered => return GroupAttempt::Delivered(member),
            Attempt::Panicked => return GroupAttempt::Panicked(member),
            Attempt::Full(back) => {
                first_full.get_or_insert(member);
                signal = back;
            }
            Attempt::NoProcess(back) => signal = back,
        }
    }
    match first_full {
        Some(member) => GroupAttempt::Full(member, signal),
        None => GroupAttempt::NoProcess,
    }
}
