//! The receiver's side of the mailbox: its private batch, the order in which
//! it is handed system and user messages, and going dormant.

use std::collections::VecDeque;

use super::{KEEP_SLOTS, Mailbox, State, Status, marks::Marks};
use crate::{
    ExitReason, SystemMessage,
    sync::{AbortHandle, Ordering, lock},
    system::Signal,
    timer::TimerTick,
    waiters::wake_all,
};

/// What the receiver gets.
#[derive(Debug)]
pub(crate) enum Received<T> {
    /// Stop after this: run `terminate` and exit with the reason.
    Stop(ExitReason),
    /// A DOWN or a trapped exit, for the actor's `handle_system`.
    System(SystemMessage),
    /// One of the actor's timers came due; the actor's timer table decides
    /// whether it still counts (a cancelled or replaced timer's tick does not).
    Timer(TimerTick),
    User(T),
}

/// The answer to [`Mailbox::hibernate`].
#[derive(Debug)]
pub(crate) enum Hibernation<S, T> {
    /// The state is stored; the receiver's task may end, or run another
    /// dormant actor's activation with the abort handle it gets back (the
    /// handle of the task that was running this actor, if one was registered).
    Dormant(Option<AbortHandle>),
    /// A message arrived after all: the state comes back with it.
    Refused(S, Received<T>),
    /// The actor was killed while running: exit with this reason instead.
    Killed(S, ExitReason),
}

/// The receiver's private run of user messages, taken from the lane in one
/// swap and handled without the lock.
#[derive(Debug)]
pub(crate) struct Batch<T> {
    items: VecDeque<T>,
    /// Which of `items` were pushed marked; marks of messages already
    /// handed out stay until the next refill, unread.
    marks: Marks,
    /// The lane index just past `items.back()`: the batch holds the lane
    /// indexes `end - items.len()` up to `end`.
    end: u64,
    /// How many items may be left when a queued system message becomes
    /// due: the receiver takes messages without the lock while it holds
    /// more than this, then comes back to the lock.
    floor: usize,
    /// How many messages the last refill took, until the receiver reads it.
    #[cfg(feature = "metrics")]
    refilled: usize,
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Self {
            items: VecDeque::new(),
            marks: Marks::default(),
            end: 0,
            floor: 0,
            #[cfg(feature = "metrics")]
            refilled: 0,
        }
    }
}

impl<T> Batch<T> {
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many messages the last refill took from the lane; zero once read.
    #[cfg(feature = "metrics")]
    pub(crate) fn take_refilled(&mut self) -> usize {
        std::mem::take(&mut self.refilled)
    }

    /// The lane index of the next message in the batch.
    fn head(&self) -> u64 {
        self.end - self.items.len() as u64
    }

    /// Where the lock must be taken again for the system message `next`
    /// (the system lane's front), if any.
    fn set_floor(&mut self, next: Option<u64>) {
        self.floor = next.map_or(0, |after| {
            usize::try_from(self.end.saturating_sub(after)).unwrap_or(usize::MAX)
        });
    }
}

impl<T, S> Mailbox<T, S> {
    /// The receiver's next message, if there is one: a stop request first,
    /// then system messages once the user messages queued before them are
    /// taken, then the user lane in order.
    ///
    /// The batch's next message is taken in line, without the lock; the
    /// rest is [`recv_locked`](Self::recv_locked).
    #[inline(always)]
    pub(crate) fn try_recv(&self, batch: &mut Batch<T>) -> Option<Received<T>> {
        if batch.items.len() > batch.floor
            && !self.stop_pending.load(Ordering::Acquire)
            && let Some(message) = batch.items.pop_front()
        {
            return Some(Received::User(message));
        }
        self.recv_locked(batch)
    }

    /// [`try_recv`](Self::try_recv) when the batch has nothing it may hand
    /// out without the lock: it ran out, or a system message may be due.
    fn recv_locked(&self, batch: &mut Batch<T>) -> Option<Received<T>> {
        let mut state = lock(&self.state);
        let (received, senders) = self.next_locked(&mut state, batch);
        drop(state);
        wake_all(senders);
        if received.is_none() && batch.items.capacity() > KEEP_SLOTS {
            batch.items = VecDeque::new();
        }
        received
    }

    /// With the lock held: a due system message, else the batch's next
    /// message, else a new batch from the user lane.
    fn take_next(&self, state: &mut State<T, S>, batch: &mut Batch<T>) -> Option<Received<T>> {
        // Where the receiver stands in the user lane.
        let position = if batch.is_empty() {
            state.lane_head
        } else {
            batch.head()
        };
        if let Some(front) = state.system.front()
            && front.after <= position
        {
            let queued = state.system.pop_front()?;
            batch.set_floor(state.system.front().map(|next| next.after));
            return Some(match queued.signal {
                Signal::Stop(reason) => {
                    self.stop_pending.store(false, Ordering::Release);
                    Received::Stop(reason)
                }
                Signal::Message(message) => Received::System(message),
                Signal::Timer(tick) => Received::Timer(tick),
                // Exit signals never queue: they become messages or kills.
                Signal::Exit { from, reason } => {
                    Received::System(SystemMessage::Exit { from, reason })
                }
            });
        }
        let next_due = state.system.front().map(|next| next.after);
        if let Some(message) = batch.items.pop_front() {
            batch.set_floor(next_due);
            return Some(Received::User(message));
        }
        if state.user.is_empty() {
            // Both lanes are empty: with the batch run out, every system
            // message was due.
            self.quiet.store(true, Ordering::Relaxed);
            state.taken = 0;
            state.shrink();
            return None;
        }
        std::mem::swap(&mut state.user, &mut batch.items);
        // The batch's old marks are all of messages handed out; its buffer
        // goes back to the lane for the next calls.
        batch.marks.clear();
        std::mem::swap(&mut state.marks, &mut batch.marks);
        state.lane_head += batch.items.len() as u64;
        self.quiet.store(state.system.is_empty(), Ordering::Relaxed);
        batch.end = state.lane_head;
        batch.set_floor(next_due);
        #[cfg(feature = "metrics")]
        {
            batch.refilled = batch.items.len();
        }
        // The first message goes straight to the handler; the rest wait in
        // the batch and keep their room until the next refill.
        let first = batch.items.pop_front();
        state.taken = batch.items.len();
        first.map(Received::User)
    }

    /// With the lock held: the next message, and the senders to wake for the
    /// room taking it freed.
    pub(super) fn next_locked(
        &self,
        state: &mut State<T, S>,
        batch: &mut Batch<T>,
    ) -> (Option<Received<T>>, Vec<std::task::Waker>) {
        let waiting_before = state.user.len() + state.taken;
        let received = self.take_next(state, batch);
        let freed = waiting_before.saturating_sub(state.user.len() + state.taken);
        let senders = if freed > 0 && !state.senders.is_empty() {
            state.senders.pop_many(freed)
        } else {
            Vec::new()
        };
        (received, senders)
    }

    /// Stores the actor's state and makes the actor dormant, if the lanes
    /// are still empty; otherwise gives the state back with the next message.
    pub(crate) fn hibernate(&self, batch: &mut Batch<T>, dormant: S) -> Hibernation<S, T> {
        let mut state = lock(&self.state);
        if let Status::Killing(reason) = &state.status {
            let reason = reason.clone();
            return Hibernation::Killed(dormant, reason);
        }
        let (received, senders) = self.next_locked(&mut state, batch);
        if let Some(received) = received {
            drop(state);
            wake_all(senders);
            return Hibernation::Refused(dormant, received);
        }
        state.dormant = Some(dormant);
        let abort = state.abort.take();
        drop(state);
        wake_all(senders);
        Hibernation::Dormant(abort)
    }

    /// Puts messages the receiver took but will never handle back at the
    /// front of the lane, in order, so the exit hands them to dead letters
    /// with everything else.
    pub(crate) fn unreceive(&self, batch: &mut Batch<T>) {
        if batch.is_empty() {
            return;
        }
        let mut state = lock(&self.state);
        let head = batch.head();
        state.lane_head = head;
        state.taken = 0;
        batch.marks.give_back(head, &mut state.marks);
        self.quiet.store(false, Ordering::Relaxed);
        while let Some(item) = batch.items.pop_back() {
            state.user.push_front(item);
        }
    }
}
