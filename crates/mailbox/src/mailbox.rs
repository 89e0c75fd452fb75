//! One process's mailbox: the bounded user lane, the system lane and the exit
//! state, all under one lock in one allocation.
//!
//! The receiver takes the whole user lane into a private batch in one lock
//! (a swap, no copy) and handles it without touching the lock again. The
//! bound counts the taken messages until the receiver comes back for more,
//! so at most `capacity` messages are ever waiting, wherever they sit; room
//! used by a batch returns to senders when the next batch is taken.
//! Storage is lazy: no message slots are reserved until messages arrive, and
//! buffers grown by a burst are given back when the receiver next finds the
//! mailbox empty.
//!
//! An idle actor has no task. When its receiver finds nothing to do, it
//! hands its state to the mailbox ([`Mailbox::hibernate`]) under the same
//! lock that saw the lanes empty, and its task ends. The push that next finds
//! the actor dormant takes the state back out, under that lock, and returns
//! it as an [`Activation`] for the caller to spawn. No message can arrive
//! between "empty" and "dormant" unseen, so none is ever stranded.

use std::{
    collections::VecDeque,
    task::{Context, Poll},
};

use tokio::task::AbortHandle;

use self::exit_hooks::ExitHooks;
pub(crate) use self::exit_hooks::Hook;
pub use self::stats::{MailboxStats, Overflow};
use crate::{
    ExitReason, SystemMessage,
    sync::{AtomicBool, Mutex, MutexGuard, Ordering, lock},
    system::Signal,
    waiters::{WaiterKey, Waiters, wake_all},
};

/// The default capacity of a mailbox's user lane.
pub const DEFAULT_CAPACITY: usize = 1024;

/// Buffers holding more slots than this are freed when the mailbox empties.
/// Small buffers stay, so steady light traffic does not reallocate.
const KEEP_SLOTS: usize = 8;

/// The outcome of a successful push.
#[derive(Debug)]
pub(crate) enum Pushed<T> {
    Queued,
    /// Room was made by evicting this older message.
    Evicted(T),
    /// The new message was dropped by the overflow policy.
    Discarded(T),
}

/// A dormant actor's state, taken out of the mailbox by the push that woke
/// it: the caller must start a task to run it.
#[derive(Debug)]
pub(crate) struct Activation<S> {
    pub(crate) state: S,
    /// Which activation this is; see [`Mailbox::set_abort`].
    pub(crate) generation: u64,
}

/// Why a push failed; the message is given back unconverted.
#[derive(Debug)]
pub(crate) enum PushError<U> {
    Closed(U),
    Full(U),
}

/// What the receiver gets.
#[derive(Debug)]
pub(crate) enum Received<T> {
    System(Signal),
    User(T),
}

/// The answer to [`Mailbox::hibernate`].
#[derive(Debug)]
pub(crate) enum Hibernation<S, T> {
    /// The state is stored; the receiver's task may end.
    Dormant,
    /// A message arrived after all: the state comes back with it.
    Refused(S, Received<T>),
    /// The actor was killed while running: exit instead.
    Killed(S),
}

/// The answer to [`Mailbox::kill`].
#[derive(Debug)]
pub(crate) enum Kill<S> {
    /// The running task was aborted; it finishes the exit as it unwinds.
    Aborted,
    /// The actor was dormant: here is its state, the caller finishes the exit.
    Dormant(S),
    /// The actor is between tasks; the kill takes effect when one starts.
    Pending,
    /// The actor was already exiting.
    AlreadyExiting,
}

#[derive(Debug)]
enum Status {
    Starting,
    Running,
    /// Closed to new messages; queued ones are being handed to dead letters.
    Exiting(ExitReason),
    Exited(ExitReason),
}

impl Status {
    fn is_closed(&self) -> bool {
        matches!(self, Self::Exiting(_) | Self::Exited(_))
    }
}

/// What was still queued when the mailbox closed.
#[derive(Debug)]
pub(crate) struct Leftovers<T> {
    pub(crate) user: VecDeque<T>,
    pub(crate) system: VecDeque<Signal>,
}

#[derive(Debug)]
struct State<T, S> {
    user: VecDeque<T>,
    system: VecDeque<Signal>,
    /// Messages in the receiver's batch, still counted against the bound.
    taken: usize,
    senders: Waiters,
    status: Status,
    status_waiters: Waiters,
    /// The actor's state while it has no task.
    dormant: Option<S>,
    /// Counts activations, so a late abort handle of an old task is refused.
    generation: u64,
    abort: Option<AbortHandle>,
    kill_pending: bool,
    dropped: u64,
    /// Run once, with the exit reason, after the exit is published.
    exit_hooks: ExitHooks,
}

impl<T, S> State<T, S> {
    fn has_room(&self, capacity: usize) -> bool {
        self.user.len() + self.taken < capacity
    }

    /// Takes the dormant state out, if the actor is dormant, to be run.
    fn activate(&mut self) -> Option<Activation<S>> {
        let state = self.dormant.take()?;
        self.generation += 1;
        Some(Activation {
            state,
            generation: self.generation,
        })
    }

    fn is_idle(&self) -> bool {
        self.user.is_empty() && self.system.is_empty()
    }

    /// Gives back buffers a burst grew.
    fn shrink(&mut self) {
        if self.user.capacity() > KEEP_SLOTS {
            self.user = VecDeque::new();
        }
        if self.system.capacity() > KEEP_SLOTS {
            self.system = VecDeque::new();
        }
    }
}

/// The shared half of a process: its lanes, its exit state, and its actor's
/// state while dormant (`S`).
#[derive(Debug)]
pub(crate) struct Mailbox<T, S = ()> {
    state: Mutex<State<T, S>>,
    /// Set while the system lane is not empty, so the receiver can check for
    /// system messages between user messages without taking the lock.
    system_pending: AtomicBool,
    capacity: usize,
    overflow: Overflow,
}

impl<T, S> Mailbox<T, S> {
    pub(crate) fn new(capacity: usize, overflow: Overflow) -> Self {
        Self {
            state: Mutex::new(State {
                user: VecDeque::new(),
                system: VecDeque::new(),
                taken: 0,
                senders: Waiters::default(),
                status: Status::Starting,
                status_waiters: Waiters::default(),
                dormant: None,
                generation: 0,
                abort: None,
                kill_pending: false,
                dropped: 0,
                exit_hooks: ExitHooks::default(),
            }),
            system_pending: AtomicBool::new(false),
            capacity,
            overflow,
        }
    }

    /// Offers one user message. With `cx`, a full backpressure mailbox
    /// registers the sender and returns `Pending` with the message put back
    /// into `slot`; without, it fails with `Full`. A push that finds the
    /// actor dormant returns its activation.
    #[allow(clippy::type_complexity)] // a push's whole outcome, named where it is used
    pub(crate) fn poll_push<U>(
        &self,
        cx: Option<&mut Context<'_>>,
        slot: &mut Option<U>,
        key: &mut WaiterKey,
        into: impl FnOnce(U) -> T,
    ) -> Poll<Result<(Pushed<T>, Option<Activation<S>>), PushError<U>>> {
        let Some(message) = slot.take() else {
            // Polled again after completion: nothing left to send.
            return Poll::Pending;
        };
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            state.senders.remove(key);
            return Poll::Ready(Err(PushError::Closed(message)));
        }
        if state.has_room(self.capacity) {
            if key.is_registered() {
                state.senders.remove(key);
            }
            state.user.push_back(into(message));
            let activation = state.activate();
            return Poll::Ready(Ok((Pushed::Queued, activation)));
        }
        let outcome = match self.overflow {
            Overflow::Backpressure => match cx {
                Some(cx) => {
                    state.senders.register(key, cx.waker());
                    *slot = Some(message);
                    return Poll::Pending;
                }
                None => Err(PushError::Full(message)),
            },
            Overflow::Reject => Err(PushError::Full(message)),
            Overflow::DropOldest => {
                state.dropped += 1;
                match state.user.pop_front() {
                    Some(oldest) => {
                        state.user.push_back(into(message));
                        Ok((Pushed::Evicted(oldest), None))
                    }
                    None => Ok((Pushed::Discarded(into(message)), None)),
                }
            }
            Overflow::DropNewest => {
                state.dropped += 1;
                Ok((Pushed::Discarded(into(message)), None))
            }
        };
        Poll::Ready(outcome)
    }

    /// Offers one user message without waiting: a full backpressure mailbox
    /// refuses it with `Full`.
    #[allow(clippy::type_complexity)] // a push's whole outcome, named where it is used
    pub(crate) fn try_push<U>(
        &self,
        message: U,
        into: impl FnOnce(U) -> T,
    ) -> Result<(Pushed<T>, Option<Activation<S>>), PushError<U>> {
        let mut slot = Some(message);
        match self.poll_push(None, &mut slot, &mut WaiterKey::default(), into) {
            Poll::Ready(outcome) => outcome,
            // Without a context a push never registers to wait, so it is
            // always ready; the one shared path for senders that cannot wait.
            Poll::Pending => unreachable!("a push without a context never waits"),
        }
    }

    /// Forgets a sender that stopped waiting. If it had been woken for room it
    /// will not use, the wakeup passes to the next waiting sender.
    pub(crate) fn cancel_push(&self, key: &mut WaiterKey) {
        if !key.is_registered() {
            return;
        }
        let mut state = lock(&self.state);
        let was_woken = !state.senders.remove(key);
        let next = if was_woken && state.has_room(self.capacity) {
            state.senders.pop()
        } else {
            None
        };
        drop(state);
        if let Some(next) = next {
            next.wake();
        }
    }

    /// Queues a system message; it bypasses the bound. Fails when closed.
    pub(crate) fn push_signal(&self, signal: Signal) -> Result<Option<Activation<S>>, Signal> {
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            return Err(signal);
        }
        state.system.push_back(signal);
        self.system_pending.store(true, Ordering::Release);
        Ok(state.activate())
    }

    /// Removes queued system messages the actor would see (not stop or exit
    /// signals) for which `matches` is true. Returns how many went.
    pub(crate) fn flush_system(&self, mut matches: impl FnMut(&SystemMessage) -> bool) -> usize {
        let mut state = lock(&self.state);
        let before = state.system.len();
        state
            .system
            .retain(|signal| !matches!(signal, Signal::Message(message) if matches(message)));
        if state.system.is_empty() {
            self.system_pending.store(false, Ordering::Relaxed);
        }
        before - state.system.len()
    }

    /// The receiver's next message, if there is one: system messages first,
    /// then the user lane in order. `batch` is the receiver's private buffer.
    pub(crate) fn try_recv(&self, batch: &mut VecDeque<T>) -> Option<Received<T>> {
        if !self.system_pending.load(Ordering::Acquire)
            && let Some(message) = batch.pop_front()
        {
            return Some(Received::User(message));
        }
        let mut state = lock(&self.state);
        let (received, senders) = self.next_locked(&mut state, batch);
        drop(state);
        wake_all(senders);
        if received.is_none() && batch.capacity() > KEEP_SLOTS {
            *batch = VecDeque::new();
        }
        received
    }

    /// With the lock held: a system message, else the batch's next message,
    /// else a new batch from the user lane.
    fn take_next(&self, state: &mut State<T, S>, batch: &mut VecDeque<T>) -> Option<Received<T>> {
        if let Some(signal) = state.system.pop_front() {
            if state.system.is_empty() {
                self.system_pending.store(false, Ordering::Relaxed);
            }
            return Some(Received::System(signal));
        }
        if let Some(message) = batch.pop_front() {
            return Some(Received::User(message));
        }
        if state.user.is_empty() {
            state.taken = 0;
            state.shrink();
            return None;
        }
        std::mem::swap(&mut state.user, batch);
        // The first message goes straight to the handler; the rest wait in
        // the batch and keep their room until the next refill.
        let first = batch.pop_front();
        state.taken = batch.len();
        first.map(Received::User)
    }

    /// With the lock held: the next message, and the senders to wake for the
    /// room taking it freed.
    fn next_locked(
        &self,
        state: &mut State<T, S>,
        batch: &mut VecDeque<T>,
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
    pub(crate) fn hibernate(&self, batch: &mut VecDeque<T>, dormant: S) -> Hibernation<S, T> {
        let mut state = lock(&self.state);
        if state.kill_pending {
            return Hibernation::Killed(dormant);
        }
        let (received, senders) = self.next_locked(&mut state, batch);
        if let Some(received) = received {
            drop(state);
            wake_all(senders);
            return Hibernation::Refused(dormant, received);
        }
        state.dormant = Some(dormant);
        state.abort = None;
        drop(state);
        wake_all(senders);
        Hibernation::Dormant
    }

    /// Marks the process running after `init` and makes it dormant, unless
    /// messages arrived meanwhile (then it must be activated at once) or it
    /// was killed (then the state comes back as `Err`).
    pub(crate) fn start_dormant(&self, dormant: S) -> Result<Option<Activation<S>>, S> {
        let mut state = lock(&self.state);
        if state.kill_pending || state.status.is_closed() {
            return Err(dormant);
        }
        state.status = Status::Running;
        state.dormant = Some(dormant);
        if state.is_idle() {
            return Ok(None);
        }
        Ok(state.activate())
    }

    /// Marks the process running, for an actor whose `init` ran on its own task.
    pub(crate) fn set_running(&self) {
        let mut state = lock(&self.state);
        if matches!(state.status, Status::Starting) {
            state.status = Status::Running;
        }
    }

    /// Records how to abort the task of activation `generation`. A handle
    /// from an activation that already went dormant again is ignored.
    pub(crate) fn set_abort(&self, generation: u64, abort: AbortHandle) {
        let mut state = lock(&self.state);
        if state.status.is_closed() || state.generation != generation || state.dormant.is_some() {
            return;
        }
        if state.kill_pending {
            drop(state);
            abort.abort();
            return;
        }
        state.abort = Some(abort);
    }

    /// For a stop: hands back the dormant state, so the stopper can run
    /// `terminate` itself; `Ok(None)` when the actor is running (or between
    /// tasks) and must be sent a stop signal instead.
    pub(crate) fn claim_for_stop(&self) -> Result<Option<S>, ()> {
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            return Err(());
        }
        Ok(state.dormant.take())
    }

    /// Kills the actor: aborts its task, or hands back its dormant state.
    pub(crate) fn kill(&self) -> Kill<S> {
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            return Kill::AlreadyExiting;
        }
        if let Some(abort) = state.abort.take() {
            drop(state);
            abort.abort();
            return Kill::Aborted;
        }
        if let Some(dormant) = state.dormant.take() {
            return Kill::Dormant(dormant);
        }
        state.kill_pending = true;
        Kill::Pending
    }

    /// Closes the mailbox to new messages and hands back what was queued.
    /// The exit is not observable until [`finish_exit`](Self::finish_exit),
    /// unless `publish_if_empty` is set and nothing was queued: then it is
    /// published at once, and `None` says there is nothing left to do.
    pub(crate) fn close(&self, reason: ExitReason, publish_if_empty: bool) -> Option<Leftovers<T>> {
        let mut state = lock(&self.state);
        if publish_if_empty && state.is_idle() && state.senders.is_empty() {
            state.taken = 0;
            state.abort = None;
            publish(state, reason);
            return None;
        }
        state.status = Status::Exiting(reason);
        state.taken = 0;
        state.abort = None;
        self.system_pending.store(false, Ordering::Relaxed);
        let leftovers = Leftovers {
            user: std::mem::take(&mut state.user),
            system: std::mem::take(&mut state.system),
        };
        let senders = state.senders.take_all();
        drop(state);
        // Blocked senders wake to find the mailbox closed and get their
        // messages back.
        senders.wake();
        Some(leftovers)
    }

    /// Publishes the exit: waiters see the reason from now on.
    pub(crate) fn finish_exit(&self) {
        let mut state = lock(&self.state);
        let status = std::mem::replace(&mut state.status, Status::Starting);
        let reason = match status {
            Status::Exiting(reason) | Status::Exited(reason) => reason,
            Status::Starting | Status::Running => ExitReason::Killed,
        };
        publish(state, reason);
    }

    /// Registers `hook` to run once after the exit is published. Gives the
    /// hook back, with the reason, if the exit already was.
    pub(crate) fn add_exit_hook(&self, hook: Hook) -> Result<u64, (Hook, ExitReason)> {
        let mut state = lock(&self.state);
        if let Status::Exited(reason) = &state.status {
            let reason = reason.clone();
            return Err((hook, reason));
        }
        Ok(state.exit_hooks.add(hook))
    }

    /// Removes a hook that has not run. Returns `false` if it ran (or is
    /// running) already.
    pub(crate) fn remove_exit_hook(&self, id: u64) -> bool {
        lock(&self.state).exit_hooks.remove(id)
    }

    /// Ready with the exit reason once the exit is published.
    pub(crate) fn poll_exit(&self, cx: &mut Context<'_>, key: &mut WaiterKey) -> Poll<ExitReason> {
        let mut state = lock(&self.state);
        if let Status::Exited(reason) = &state.status {
            let reason = reason.clone();
            state.status_waiters.remove(key);
            return Poll::Ready(reason);
        }
        state.status_waiters.register(key, cx.waker());
        Poll::Pending
    }

    /// Forgets an exit watcher that stopped waiting.
    pub(crate) fn cancel_wait(&self, key: &mut WaiterKey) {
        if key.is_registered() {
            lock(&self.state).status_waiters.remove(key);
        }
    }

    /// The exit reason, once the exit is published.
    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        match &lock(&self.state).status {
            Status::Exited(reason) => Some(reason.clone()),
            _ => None,
        }
    }

    /// Whether the mailbox still accepts messages.
    pub(crate) fn is_open(&self) -> bool {
        !lock(&self.state).status.is_closed()
    }

    /// Whether the actor is dormant: no task, its state in the mailbox.
    pub(crate) fn is_dormant(&self) -> bool {
        lock(&self.state).dormant.is_some()
    }

    pub(crate) fn stats(&self) -> MailboxStats {
        let state = lock(&self.state);
        // The receiver's batch is private to it; after a burst it is freed
        // together with the user lane when the receiver next finds nothing.
        let reserved_slots = state.user.capacity() + state.taken;
        MailboxStats {
            queued: state.user.len() + state.taken,
            capacity: self.capacity,
            dropped: state.dropped,
            reserved_slots,
            reserved_bytes: reserved_slots * std::mem::size_of::<T>(),
        }
    }
}

/// Publishes the exit under the held lock, then, with the lock released,
/// wakes the exit watchers and runs the exit hooks.
fn publish<T, S>(mut state: MutexGuard<'_, State<T, S>>, reason: ExitReason) {
    state.status = Status::Exited(reason.clone());
    let waiters = state.status_waiters.take_all();
    let hooks = std::mem::take(&mut state.exit_hooks);
    drop(state);
    waiters.wake();
    hooks.run(&reason);
}

mod exit_hooks;
mod stats;
