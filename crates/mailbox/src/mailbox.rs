//! One process's mailbox: the bounded user lane, the system lane and the exit
//! state, all under one lock in one allocation.
//!
//! The receiver takes the whole user lane into a private [`Batch`] in one
//! lock (a swap, no copy) and handles it without touching the lock again. The
//! bound counts the taken messages until the receiver comes back for more,
//! so at most `capacity` messages are ever waiting, wherever they sit; room
//! used by a batch returns to senders when the next batch is taken.
//! Storage is lazy: no message slots are reserved until messages arrive, and
//! buffers grown by a burst are given back when the receiver next finds the
//! mailbox empty.
//!
//! The system lane keeps Erlang's order of signals between two processes: a
//! DOWN or a trapped EXIT records how many user messages were queued ahead
//! of it when it arrived (`after`), and the receiver hands it over only once
//! it has taken every one of those. It still overtakes every user message
//! that arrives later. A stop request is urgent and overtakes everything;
//! kills and untrapped exit signals do not queue at all (see
//! [`Mailbox::kill`]).
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

pub use self::stats::{MailboxStats, Overflow};
use self::{exit_hooks::ExitHooks, marks::Marks};
pub(crate) use self::{
    exit_hooks::{Hook, HookId},
    hand::Offered,
    lifecycle::{Closed, Kill},
    marks::{Departed, Leftovers},
    receive::{Batch, Hibernation, Received},
    reserve::{Refused, Reserved},
};
use crate::{
    ExitReason, Reference, SystemMessage,
    sync::{AbortHandle, AtomicBool, Mutex, Ordering, lock},
    system::Signal,
    waiters::{WaiterKey, Waiters},
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
    Evicted(Departed<T>),
    /// The new message was dropped by the overflow policy.
    Discarded(Departed<T>),
}

/// A dormant actor's state, taken out of the mailbox by the push that woke
/// it: the caller must start a task to run it.
#[derive(Debug)]
pub(crate) struct Activation<S> {
    pub(crate) state: S,
    /// Which activation this is; see [`Mailbox::set_abort`].
    pub(crate) generation: u32,
}

/// Why a push failed; the message is given back unconverted.
#[derive(Debug)]
pub(crate) enum PushError<U> {
    Closed(U),
    Full(U),
}

/// What [`Mailbox::admit`] decided for one more user message.
#[derive(Debug)]
enum Admission<T> {
    Closed,
    Full,
    /// The sender is registered to be woken when there is room.
    Wait,
    Room,
    /// Room was made by evicting this older message.
    Evicted(Departed<T>),
    /// The overflow policy drops the new message.
    Discard,
}

/// What a signal did; see [`Mailbox::push_signal`].
#[derive(Debug)]
pub(crate) enum Signaled<S> {
    /// Queued; the activation is there if it woke a dormant actor.
    Queued(Option<Activation<S>>),
    /// An untrapped exit signal with a `Normal` reason: no effect (OTP).
    Ignored,
    /// An untrapped exit signal killed the process.
    Killed(Kill<S>),
    /// The system lane's bound refused this message.
    Overflowed(SystemMessage),
}

#[derive(Debug)]
enum Status {
    Starting,
    Running,
    /// Killed (or sent an untrapped exit signal): closed to new messages,
    /// waiting for whoever runs the actor to let go of it.
    Killing(ExitReason),
    /// Closed to new messages; queued ones are being handed to dead letters.
    Exiting(ExitReason),
    Exited(ExitReason),
}

impl Status {
    fn is_closed(&self) -> bool {
        matches!(self, Self::Killing(_) | Self::Exiting(_) | Self::Exited(_))
    }
}

/// A system-lane entry and its place in the order of signals.
#[derive(Debug)]
struct Queued {
    /// Handed over only once the receiver has taken every user message with
    /// a lane index below this (the ones queued before it arrived).
    after: u64,
    signal: Signal,
}

#[derive(Debug)]
struct State<T, S> {
    user: VecDeque<T>,
    /// The lane index of `user.front()`: how many user messages ever left
    /// the lane (taken into a batch or evicted).
    lane_head: u64,
    /// Which of `user` were pushed marked (calls).
    marks: Marks,
    system: VecDeque<Queued>,
    /// Messages in the receiver's batch, still counted against the bound.
    taken: usize,
    /// Room promised to senders converting their message outside the lock
    /// (at most the capacity, a `u32`).
    reserved: u32,
    senders: Waiters,
    status: Status,
    /// Exit watchers, and a borrowed runner waiting to hear of a kill.
    status_waiters: Waiters,
    /// The actor's state while it has no task.
    dormant: Option<S>,
    /// Counts activations (wrapping), so a late abort handle of an old task
    /// is refused.
    generation: u32,
    abort: Option<AbortHandle>,
    dropped: u64,
    /// Run once, with the exit reason, after the exit is published.
    exit_hooks: ExitHooks,
}

impl<T, S> State<T, S> {
    fn has_room(&self, capacity: usize) -> bool {
        self.user.len() + self.taken + (self.reserved as usize) < capacity
    }

    /// Takes the dormant state out, if the actor is dormant, to be run.
    fn activate(&mut self) -> Option<Activation<S>> {
        let state = self.dormant.take()?;
        self.generation = self.generation.wrapping_add(1);
        Some(Activation {
            state,
            generation: self.generation,
        })
    }

    fn is_idle(&self) -> bool {
        self.user.is_empty() && self.system.is_empty()
    }

    /// The lane index the next user message pushed will get.
    fn lane_tail(&self) -> u64 {
        self.lane_head + self.user.len() as u64
    }

    /// Gives back buffers a burst grew.
    fn shrink(&mut self) {
        if self.user.capacity() > KEEP_SLOTS {
            self.user = VecDeque::new();
        }
        if self.system.capacity() > KEEP_SLOTS {
            self.system = VecDeque::new();
        }
        self.marks.shrink(KEEP_SLOTS);
    }
}

/// The shared half of a process: its lanes, its exit state, and its actor's
/// state while dormant (`S`).
#[derive(Debug)]
pub(crate) struct Mailbox<T, S = ()> {
    state: Mutex<State<T, S>>,
    /// Set while a stop request waits, so the receiver checks for it between
    /// user messages without taking the lock.
    stop_pending: AtomicBool,
    /// Set by the receiver, under the lock, when a look left both lanes
    /// empty; cleared, under the lock, by every arrival. A receiver whose
    /// batch ran out reads it without the lock to skip a look that would
    /// find nothing. Only a hint, read and written relaxed: a stale value
    /// costs a look or a linger, never a message, since going dormant looks
    /// again under the lock.
    quiet: AtomicBool,
    /// OTP's `trap_exit`, read when an exit signal arrives.
    trap_exits: AtomicBool,
    /// A `u32` (checked when the actor starts): with the overflow policy and
    /// the two flags it packs into one word of the process cell.
    capacity: u32,
    overflow: Overflow,
}

impl<T, S> Mailbox<T, S> {
    pub(crate) fn new(capacity: u32, overflow: Overflow) -> Self {
        Self {
            state: Mutex::new(State {
                user: VecDeque::new(),
                lane_head: 0,
                marks: Marks::default(),
                system: VecDeque::new(),
                taken: 0,
                reserved: 0,
                senders: Waiters::default(),
                status: Status::Starting,
                status_waiters: Waiters::default(),
                dormant: None,
                generation: 0,
                abort: None,
                dropped: 0,
                exit_hooks: ExitHooks::default(),
            }),
            stop_pending: AtomicBool::new(false),
            // A new mailbox has nothing queued: the hint holds from the start.
            quiet: AtomicBool::new(true),
            trap_exits: AtomicBool::new(false),
            capacity,
            overflow,
        }
    }

    /// Offers one user message. With `cx`, a full backpressure mailbox
    /// registers the sender and returns `Pending` with the message put back
    /// into `slot`; without, it fails with `Full`. A push that finds the
    /// actor dormant returns its activation. `into` is the crate's own
    /// envelope constructor: no user code runs under the lock. A `marked`
    /// message (a call) is told apart from the others when it leaves other
    /// than through the receiver ([`Departed`]).
    #[allow(clippy::type_complexity)] // a push's whole outcome, named where it is used
    #[inline(always)]
    pub(crate) fn poll_push<U>(
        &self,
        cx: Option<&mut Context<'_>>,
        slot: &mut Option<U>,
        key: &mut WaiterKey,
        into: impl FnOnce(U) -> T,
        marked: bool,
    ) -> Poll<Result<(Pushed<T>, Option<Activation<S>>), PushError<U>>> {
        let Some(message) = slot.take() else {
            // Polled again after completion: nothing left to send.
            return Poll::Pending;
        };
        match self.offer(message, cx, key, into, marked) {
            Ok(outcome) => Poll::Ready(outcome),
            Err(waiting) => {
                *slot = Some(waiting);
                Poll::Pending
            }
        }
    }

    /// The push itself: the outcome, or (only with a context, for a full
    /// backpressure mailbox) the message back, its sender registered.
    #[allow(clippy::type_complexity)] // a push's whole outcome, named where it is used
    #[inline(always)]
    fn offer<U>(
        &self,
        message: U,
        cx: Option<&mut Context<'_>>,
        key: &mut WaiterKey,
        into: impl FnOnce(U) -> T,
        marked: bool,
    ) -> Result<Result<(Pushed<T>, Option<Activation<S>>), PushError<U>>, U> {
        let mut state = lock(&self.state);
        // The common case first, in line: an open mailbox with room.
        if !state.status.is_closed() && state.has_room(self.capacity()) {
            if key.is_registered() {
                state.senders.remove(key);
            }
            self.queue_user(&mut state, into(message), marked);
            let activation = state.activate();
            return Ok(Ok((Pushed::Queued, activation)));
        }
        Ok(match self.admit(&mut state, cx, key) {
            Admission::Closed => Err(PushError::Closed(message)),
            Admission::Full => Err(PushError::Full(message)),
            Admission::Wait => return Err(message),
            Admission::Room => {
                self.queue_user(&mut state, into(message), marked);
                Ok((Pushed::Queued, state.activate()))
            }
            Admission::Evicted(oldest) => {
                self.queue_user(&mut state, into(message), marked);
                Ok((Pushed::Evicted(oldest), None))
            }
            Admission::Discard => Ok((
                Pushed::Discarded(Departed {
                    item: into(message),
                    marked,
                }),
                None,
            )),
        })
    }

    /// With the lock held: queues a user message at the back of the lane,
    /// marked or not, and tells the receiver something arrived. Every user
    /// message comes in here.
    #[inline(always)]
    fn queue_user(&self, state: &mut State<T, S>, item: T, marked: bool) {
        if marked {
            let index = state.lane_tail();
            state.marks.mark(index);
        }
        state.user.push_back(item);
        self.quiet.store(false, Ordering::Relaxed);
    }

    /// With the lock held: whether one more user message may come in, by the
    /// bound and the overflow policy. `Room` and `Evicted` mean it may (an
    /// evicted message already left the lane); `Wait` registered the sender.
    #[cold]
    fn admit(
        &self,
        state: &mut State<T, S>,
        cx: Option<&mut Context<'_>>,
        key: &mut WaiterKey,
    ) -> Admission<T> {
        if state.status.is_closed() {
            state.senders.remove(key);
            return Admission::Closed;
        }
        if state.has_room(self.capacity()) {
            if key.is_registered() {
                state.senders.remove(key);
            }
            return Admission::Room;
        }
        match self.overflow {
            Overflow::Backpressure => match cx {
                Some(cx) => {
                    state.senders.register(key, cx.waker());
                    Admission::Wait
                }
                None => Admission::Full,
            },
            Overflow::Reject => Admission::Full,
            Overflow::DropOldest => {
                state.dropped += 1;
                match state.user.pop_front() {
                    Some(oldest) => {
                        let marked = state.marks.take(state.lane_head);
                        state.lane_head += 1;
                        Admission::Evicted(Departed {
                            item: oldest,
                            marked,
                        })
                    }
                    None => Admission::Discard,
                }
            }
            Overflow::DropNewest => {
                state.dropped += 1;
                Admission::Discard
            }
        }
    }

    /// Offers one user message without waiting: a full backpressure mailbox
    /// refuses it with `Full`.
    #[allow(clippy::type_complexity)] // a push's whole outcome, named where it is used
    pub(crate) fn try_push<U>(
        &self,
        message: U,
        into: impl FnOnce(U) -> T,
        marked: bool,
    ) -> Result<(Pushed<T>, Option<Activation<S>>), PushError<U>> {
        // Without a context a push never registers to wait: a mailbox that
        // would have made it wait is full.
        self.offer(message, None, &mut WaiterKey::default(), into, marked)
            .unwrap_or_else(|message| Err(PushError::Full(message)))
    }

    /// Forgets a sender that stopped waiting. If it had been woken for room it
    /// will not use, the wakeup passes to the next waiting sender.
    #[inline]
    pub(crate) fn cancel_push(&self, key: &mut WaiterKey) {
        if key.is_registered() {
            self.cancel_registered_push(key);
        }
    }

    #[cold]
    fn cancel_registered_push(&self, key: &mut WaiterKey) {
        let mut state = lock(&self.state);
        let was_woken = !state.senders.remove(key);
        let next = if was_woken && state.has_room(self.capacity()) {
            state.senders.pop()
        } else {
            None
        };
        drop(state);
        if let Some(next) = next {
            next.wake();
        }
    }

    /// Delivers a signal. A stop request goes to the front of the system
    /// lane; a system message goes behind the user messages already queued;
    /// an exit signal becomes a message if the actor traps exits, does
    /// nothing if its reason is `Normal`, and otherwise kills the process
    /// with its reason at once (OTP: exit signals are asynchronous). Fails,
    /// giving the signal back, when the mailbox is closed.
    /// A `bounded` system message (one sent with the public
    /// [`ProcessRef::send_system`](crate::ProcessRef::send_system), not a
    /// DOWN or EXIT of the runtime's own, whose number registrations bound)
    /// that finds `capacity` system messages waiting is refused as
    /// `Overflowed`, counted with the mailbox's drops.
    pub(crate) fn push_signal(&self, signal: Signal, bounded: bool) -> Result<Signaled<S>, Signal> {
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            return Err(signal);
        }
        self.quiet.store(false, Ordering::Relaxed);
        let queued = match signal {
            Signal::Timer(tick) => Signal::Timer(tick),
            Signal::Stop(reason) => {
                if !self.stop_pending.swap(true, Ordering::AcqRel) {
                    state.system.push_front(Queued {
                        after: 0,
                        signal: Signal::Stop(reason),
                    });
                }
                return Ok(Signaled::Queued(state.activate()));
            }
            Signal::Message(message) => {
                if bounded && state.system.len() >= self.capacity() {
                    state.dropped += 1;
                    return Ok(Signaled::Overflowed(message));
                }
                Signal::Message(message)
            }
            Signal::Exit { from, reason } => {
                if self.trap_exits.load(Ordering::Acquire) {
                    Signal::Message(SystemMessage::Exit { from, reason })
                } else if reason == ExitReason::Normal {
                    return Ok(Signaled::Ignored);
                } else {
                    return Ok(Signaled::Killed(self.kill_locked(state, reason)));
                }
            }
        };
        let after = state.lane_tail();
        state.system.push_back(Queued {
            after,
            signal: queued,
        });
        Ok(Signaled::Queued(state.activate()))
    }

    /// Removes the DOWN for `reference` if the actor has not taken it yet
    /// (OTP's `demonitor(Ref, [flush])`). Returns how many went.
    pub(crate) fn flush_down(&self, reference: Reference) -> usize {
        let mut state = lock(&self.state);
        let before = state.system.len();
        state.system.retain(|queued| {
            !matches!(
                &queued.signal,
                Signal::Message(SystemMessage::Down(down)) if down.reference == reference
            )
        });
        before - state.system.len()
    }

    fn capacity(&self) -> usize {
        self.capacity as usize
    }

    /// Sets OTP's `trap_exit` flag: exit signals arriving from now on become
    /// messages instead of exits.
    pub(crate) fn set_trap_exits(&self, trap: bool) {
        self.trap_exits.store(trap, Ordering::Release);
    }

    pub(crate) fn is_trapping_exits(&self) -> bool {
        self.trap_exits.load(Ordering::Acquire)
    }

    /// Whether the receiver's last look left both lanes empty and nothing
    /// arrived since (a hint; see the field).
    #[inline(always)]
    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet.load(Ordering::Relaxed)
    }

    /// Whether the mailbox still accepts messages.
    pub(crate) fn is_open(&self) -> bool {
        !lock(&self.state).status.is_closed()
    }

    /// How many signals wait in the system lane.
    #[cfg(all(test, not(foundation_loom)))]
    pub(crate) fn system_len(&self) -> usize {
        lock(&self.state).system.len()
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
            capacity: self.capacity(),
            dropped: state.dropped,
            reserved_slots,
            reserved_bytes: reserved_slots * std::mem::size_of::<T>(),
        }
    }
}

mod exit_hooks;
mod hand;
mod lifecycle;
mod marks;
mod receive;
mod reserve;
mod stats;
