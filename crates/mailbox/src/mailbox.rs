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

use std::{
    collections::VecDeque,
    task::{Context, Poll, Waker},
};

use tokio::task::AbortHandle;

use crate::{
    ExitReason,
    sync::{AtomicBool, Mutex, Ordering, lock},
    system::Signal,
    waiters::{WaiterKey, Waiters, wake_all},
};

/// The default capacity of a mailbox's user lane.
pub const DEFAULT_CAPACITY: usize = 1024;

/// Buffers holding more slots than this are freed when the mailbox empties.
/// Small buffers stay, so steady light traffic does not reallocate.
const KEEP_SLOTS: usize = 8;

/// What a full mailbox does with one more message.
///
/// ```
/// use foundation_mailbox::{ActorOptions, Overflow};
///
/// // A telemetry sink that would rather lose old samples than slow producers.
/// let options = ActorOptions::new().capacity(256).overflow(Overflow::DropOldest);
/// # let _ = options;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overflow {
    /// `cast(..).await` waits for room; `try_cast` gives the message back.
    #[default]
    Backpressure,
    /// Every send fails at once with the message given back.
    Reject,
    /// The oldest message still queued is dropped to make room (handed to the
    /// dead-letter sink and counted). When every queued message has already
    /// been taken by the actor for handling, the new message is dropped instead.
    DropOldest,
    /// The new message is dropped (handed to the dead-letter sink and
    /// counted); the send reports success.
    DropNewest,
}

/// A snapshot of a mailbox, for observability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailboxStats {
    /// User messages waiting, including those the actor has taken but not
    /// yet handled.
    pub queued: usize,
    /// The bound on `queued`.
    pub capacity: usize,
    /// Messages the overflow policy dropped since the actor started.
    pub dropped: u64,
    /// Message slots currently allocated in the shared user lane, plus the
    /// messages the actor has taken into its own batch and not yet handled.
    pub reserved_slots: usize,
    /// Bytes those slots take: `reserved_slots` times the size of one queued message.
    pub reserved_bytes: usize,
}

/// The outcome of a successful push.
#[derive(Debug)]
pub(crate) enum Pushed<T> {
    Queued,
    /// Room was made by evicting this older message.
    Evicted(T),
    /// The new message was dropped by the overflow policy.
    Discarded(T),
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
struct State<T> {
    user: VecDeque<T>,
    system: VecDeque<Signal>,
    /// Messages in the receiver's batch, still counted against the bound.
    taken: usize,
    receiver: Option<Waker>,
    senders: Waiters,
    status: Status,
    status_waiters: Waiters,
    abort: Option<AbortHandle>,
    dropped: u64,
}

/// The shared half of a process: its lanes and its exit state.
#[derive(Debug)]
pub(crate) struct Mailbox<T> {
    state: Mutex<State<T>>,
    /// Set while the system lane is not empty, so the receiver can check for
    /// system messages between user messages without taking the lock.
    system_pending: AtomicBool,
    capacity: usize,
    overflow: Overflow,
}

impl<T> Mailbox<T> {
    pub(crate) fn new(capacity: usize, overflow: Overflow) -> Self {
        Self {
            state: Mutex::new(State {
                user: VecDeque::new(),
                system: VecDeque::new(),
                taken: 0,
                receiver: None,
                senders: Waiters::default(),
                status: Status::Starting,
                status_waiters: Waiters::default(),
                abort: None,
                dropped: 0,
            }),
            system_pending: AtomicBool::new(false),
            capacity,
            overflow,
        }
    }

    /// Offers one user message. With `cx`, a full backpressure mailbox
    /// registers the sender and returns `Pending` with the message put back
    /// into `slot`; without, it fails with `Full`.
    pub(crate) fn poll_push<U>(
        &self,
        cx: Option<&mut Context<'_>>,
        slot: &mut Option<U>,
        key: &mut WaiterKey,
        into: impl FnOnce(U) -> T,
    ) -> Poll<Result<Pushed<T>, PushError<U>>> {
        let Some(message) = slot.take() else {
            // Polled again after completion: nothing left to send.
            return Poll::Pending;
        };
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            state.senders.remove(key);
            return Poll::Ready(Err(PushError::Closed(message)));
        }
        if state.user.len() + state.taken < self.capacity {
            if key.is_registered() {
                state.senders.remove(key);
            }
            state.user.push_back(into(message));
            let receiver = state.receiver.take();
            drop(state);
            if let Some(receiver) = receiver {
                receiver.wake();
            }
            return Poll::Ready(Ok(Pushed::Queued));
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
                        Ok(Pushed::Evicted(oldest))
                    }
                    None => Ok(Pushed::Discarded(into(message))),
                }
            }
            Overflow::DropNewest => {
                state.dropped += 1;
                Ok(Pushed::Discarded(into(message)))
            }
        };
        Poll::Ready(outcome)
    }

    /// Forgets a sender that stopped waiting. If it had been woken for room it
    /// will not use, the wakeup passes to the next waiting sender.
    pub(crate) fn cancel_push(&self, key: &mut WaiterKey) {
        if !key.is_registered() {
            return;
        }
        let mut state = lock(&self.state);
        let was_woken = !state.senders.remove(key);
        let next = if was_woken && state.user.len() + state.taken < self.capacity {
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
    pub(crate) fn push_signal(&self, signal: Signal) -> Result<(), Signal> {
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            return Err(signal);
        }
        state.system.push_back(signal);
        self.system_pending.store(true, Ordering::Release);
        let receiver = state.receiver.take();
        drop(state);
        if let Some(receiver) = receiver {
            receiver.wake();
        }
        Ok(())
    }

    /// The receiver's next message: system messages first, then the user
    /// lane in order. `batch` is the receiver's private buffer.
    pub(crate) fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        batch: &mut VecDeque<T>,
    ) -> Poll<Received<T>> {
        if !self.system_pending.load(Ordering::Acquire)
            && let Some(message) = batch.pop_front()
        {
            return Poll::Ready(Received::User(message));
        }
        let mut state = lock(&self.state);
        if let Some(signal) = state.system.pop_front() {
            if state.system.is_empty() {
                self.system_pending.store(false, Ordering::Relaxed);
            }
            return Poll::Ready(Received::System(signal));
        }
        if let Some(message) = batch.pop_front() {
            return Poll::Ready(Received::User(message));
        }
        // The batch is spent: everything taken before has been handled, so
        // its room goes back to the senders, with the room the new batch's
        // first message frees by going straight to the handler.
        let waiting_before = state.user.len() + state.taken;
        state.taken = 0;
        let received = if state.user.is_empty() {
            if batch.capacity() > KEEP_SLOTS {
                *batch = VecDeque::new();
            }
            if state.user.capacity() > KEEP_SLOTS {
                state.user = VecDeque::new();
            }
            if state.system.capacity() > KEEP_SLOTS {
                state.system = VecDeque::new();
            }
            match &state.receiver {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => state.receiver = Some(cx.waker().clone()),
            }
            None
        } else {
            std::mem::swap(&mut state.user, batch);
            // The first message goes straight to the handler; the rest wait
            // in the batch and keep their room until the next refill.
            let first = batch.pop_front();
            state.taken = batch.len();
            first
        };
        let freed = waiting_before - (state.user.len() + state.taken);
        let senders = if freed > 0 && !state.senders.is_empty() {
            state.senders.pop_many(freed)
        } else {
            Vec::new()
        };
        drop(state);
        wake_all(senders);
        match received {
            Some(message) => Poll::Ready(Received::User(message)),
            None => Poll::Pending,
        }
    }

    /// Marks the process running. Returns `false` if it already exited.
    pub(crate) fn set_running(&self) -> bool {
        let mut state = lock(&self.state);
        if !matches!(state.status, Status::Starting) {
            return false;
        }
        state.status = Status::Running;
        let waiters = state.status_waiters.take_all();
        drop(state);
        waiters.wake();
        true
    }

    /// Records how to kill the task running this process.
    pub(crate) fn set_abort(&self, abort: AbortHandle) {
        let mut state = lock(&self.state);
        if !state.status.is_closed() {
            state.abort = Some(abort);
        }
    }

    /// Aborts the task running this process. Returns `false` if it was
    /// already exiting.
    pub(crate) fn abort(&self) -> bool {
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            return false;
        }
        let abort = state.abort.take();
        drop(state);
        match abort {
            Some(abort) => {
                abort.abort();
                true
            }
            None => false,
        }
    }

    /// Closes the mailbox to new messages and hands back what was queued.
    /// The exit is not observable until [`finish_exit`](Self::finish_exit).
    pub(crate) fn close(&self, reason: ExitReason) -> Leftovers<T> {
        let mut state = lock(&self.state);
        state.status = Status::Exiting(reason);
        state.taken = 0;
        state.receiver = None;
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
        leftovers
    }

    /// Publishes the exit: waiters see the reason from now on.
    pub(crate) fn finish_exit(&self) {
        let mut state = lock(&self.state);
        let status = std::mem::replace(&mut state.status, Status::Starting);
        state.status = match status {
            Status::Exiting(reason) | Status::Exited(reason) => Status::Exited(reason),
            Status::Starting | Status::Running => Status::Exited(ExitReason::Killed),
        };
        let waiters = state.status_waiters.take_all();
        drop(state);
        waiters.wake();
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

    /// Forgets an exit or start watcher that stopped waiting.
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
