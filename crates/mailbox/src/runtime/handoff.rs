//! Handing an activation's task to the next actor: no task spawn per hop
//! along a chain of actors.
//!
//! An actor whose handler casts to a dormant actor of its own type, and
//! then finds its own mailbox empty, would end its task while the cast
//! spawns a new one. Instead, the push *defers* the woken actor's
//! activation into a slot of the task being polled, and when that task's
//! actor goes dormant, the task runs the deferred activation itself: the
//! same task, the same allocation, no trip through the scheduler.
//!
//! The slot is open only while an activation task polls its message loop,
//! holds at most one activation of the task's own actor type, and is
//! emptied before the poll returns, whatever happens:
//!
//! - the task's actor goes dormant, or exits (a panic included): the task
//!   takes the deferred activation over, if it is on the same runtime and
//!   the task's abort handle could be registered for it (a kill that came
//!   first is met on a task of its own). An exit takes the handle as it
//!   closes the mailbox, so no kill of the dead actor can reach the task
//!   after, and publishes itself with the slot open: the watcher its DOWN
//!   wakes (a supervisor, a monitor) runs next on the same task;
//! - the message loop goes on with more messages, or awaits something
//!   (`Pending`): the deferred activation is launched on a task of its own,
//!   as it would have been without the slot.
//!
//! So a deferred actor waits at most until the handler that woke it
//! returns, never for other messages of the task's actor.
//!
//! A woken actor of another type waits beside the slot, boxed, under the
//! same rules (see [`foreign`](super::foreign)); when both wait and the
//! task takes over the one of its own type, the other is launched.

use std::{any::Any, cell::Cell, ptr::NonNull, sync::Arc};

use super::foreign::{self, Guest};
use crate::{
    Actor,
    mailbox::{Activation, Batch, Received},
    process::{Dormant, Process},
    sync::{AbortHandle, runtime_id},
};

/// An activation the push deferred: the process and its state.
pub(crate) struct Deferred<A: Actor> {
    pub(crate) process: Arc<Process<A>>,
    pub(crate) activation: Activation<Dormant<A>>,
}

/// An actor a task took over, with its first message when the lock that
/// adopted it handed one over.
pub(super) struct TakenOver<A: Actor> {
    pub(super) next: Deferred<A>,
    pub(super) first: Option<Received<A::Msg>>,
}

/// The slot an activation task's poll offers, on its stack. Dropping it
/// launches what it still holds, so nothing deferred is ever lost, even if
/// the poll unwinds.
pub(super) struct Slot<A: Actor>(Inner<A>);

/// What the open slot holds, reached through [`with_open`].
struct Inner<A: Actor> {
    deferred: Option<Deferred<A>>,
    /// The actor the message loop took over during the poll, if it did: the
    /// task's exit duty moves to it.
    switched: Option<Arc<Process<A>>>,
}

impl<A: Actor> Slot<A> {
    pub(super) fn new() -> Self {
        Self(Inner {
            deferred: None,
            switched: None,
        })
    }

    /// The actor the message loop took over during the last poll, if any.
    pub(super) fn switched(&mut self) -> Option<Arc<Process<A>>> {
        self.0.switched.take()
    }

    /// Polls with the slot open: a push that wakes a dormant actor of type
    /// `A` during `poll` may defer its activation here.
    pub(super) fn open<R>(&mut self, poll: impl FnOnce() -> R) -> R {
        let slot: &mut dyn Any = &mut self.0;
        let previous = set_open_slot(Some(NonNull::from(slot)));
        let _close = Close(previous);
        poll()
    }
}

impl<A: Actor> Drop for Slot<A> {
    fn drop(&mut self) {
        if let Some(deferred) = self.0.deferred.take() {
            super::spawn_deferred(deferred);
        }
        if let Some(guest) = take_foreign() {
            guest.launch();
        }
    }
}

/// Restores the slot that was open before (none, but for an activation
/// polled inside another's poll, which nothing does today).
struct Close(Option<NonNull<dyn Any>>);

impl Drop for Close {
    fn drop(&mut self) {
        set_open_slot(self.0);
        set_pending(false);
    }
}

#[cfg(not(foundation_loom))]
// audit:allow(FND002) per-thread, per-poll state: the slot is open only while an activation task polls, and emptied before the poll returns
std::thread_local! {
    /// The slot of the activation task this thread is polling, if any.
    static OPEN: Cell<Option<NonNull<dyn Any>>> = const { Cell::new(None) };
    /// Whether the open slot holds a deferred activation: a cheap check for
    /// the message loop, which asks after every message.
    static PENDING: Cell<bool> = const { Cell::new(false) };
    /// A woken actor of another type than the slot's, boxed: set only while
    /// a slot is open, and taken before the poll that opened it returns.
    static FOREIGN: Cell<Option<Guest>> = const { Cell::new(None) };
    /// Whether `FOREIGN` holds one: a plain flag, cheaper to read than a
    /// thread-local with a destructor, for the paths that ask every time
    /// (a takeover, the end of every poll): 12 instructions per ring hop.
    static FOREIGN_WAITS: Cell<bool> = const { Cell::new(false) };
}

// Under loom, model threads share an OS thread, so they get loom's own
// thread-locals.
#[cfg(foundation_loom)]
// audit:allow(FND002) the same per-poll state, as loom's thread-locals
loom::thread_local! {
    static OPEN: Cell<Option<NonNull<dyn Any>>> = Cell::new(None);
    static PENDING: Cell<bool> = Cell::new(false);
    static FOREIGN: Cell<Option<Guest>> = Cell::new(None);
    static FOREIGN_WAITS: Cell<bool> = Cell::new(false);
}

fn open_slot() -> Option<NonNull<dyn Any>> {
    OPEN.with(Cell::get)
}

fn set_open_slot(slot: Option<NonNull<dyn Any>>) -> Option<NonNull<dyn Any>> {
    OPEN.with(|open| open.replace(slot))
}

fn set_pending(pending: bool) {
    PENDING.with(|flag| flag.set(pending));
}

/// What the thread-locals of an open slot say (whether it holds a deferred
/// activation, and the boxed one of another type beside it), set aside
/// while an activation is polled inside that slot's poll (a call running
/// its callee on the caller's task, from a handler) and put back when
/// dropped. The inner poll's slot is emptied before that poll returns, so
/// nothing of it is left to overwrite.
pub(super) struct SetAside {
    pending: bool,
    foreign: Option<Guest>,
}

/// Sets aside what an open slot's thread-locals hold (see [`SetAside`]).
pub(super) fn set_aside() -> SetAside {
    SetAside {
        foreign: take_foreign(),
        pending: PENDING.with(|flag| flag.replace(false)),
    }
}

impl Drop for SetAside {
    fn drop(&mut self) {
        if let Some(guest) = self.foreign.take() {
            // Left there by the inner poll, which never leaves one: launch
            // it rather than lose it.
            if let Some(left) = FOREIGN.with(|waiting| waiting.replace(Some(guest))) {
                left.launch();
            }
            FOREIGN_WAITS.with(|waits| waits.set(true));
        }
        set_pending(self.pending);
    }
}

/// Takes the boxed activation of another type waiting beside the slot.
#[inline(always)]
pub(super) fn take_foreign() -> Option<Guest> {
    if !foreign_waits() {
        return None;
    }
    FOREIGN_WAITS.with(|waits| waits.set(false));
    FOREIGN.with(Cell::take)
}

/// Whether a boxed activation of another type waits beside the slot.
#[inline(always)]
fn foreign_waits() -> bool {
    FOREIGN_WAITS.with(Cell::get)
}

/// Runs `f` on the open slot, if one is open on this thread and holds
/// activations of type `A`.
#[allow(unsafe_code)] // the slot is typed per actor, and a thread-local cannot be generic
fn with_open<A: Actor, R>(f: impl FnOnce(&mut Inner<A>) -> R) -> Option<R> {
    let pointer = open_slot()?;
    // SAFETY: `OPEN` holds a pointer only while `Slot::open` runs on this
    // thread, and `Close` takes it out before `open` returns or unwinds, so
    // the slot it points at is alive. `open` derived it from a unique
    // borrow of the slot and does not touch the slot until it returns, and
    // this function is the only one that dereferences it: `f` only moves
    // values in or out (no user code runs, nothing re-enters here), so no
    // other reference to the slot exists while this one lives.
    let slot = unsafe { &mut *pointer.as_ptr() };
    slot.downcast_mut::<Inner<A>>().map(f)
}

/// Defers `deferred` into the open slot, if the thread is polling an
/// activation task of type `A` whose slot is free, or boxed beside it, if
/// the task is of another type and nothing waits there yet; otherwise hands
/// it back.
#[inline]
pub(crate) fn offer<A: Actor>(deferred: Deferred<A>) -> Result<(), Deferred<A>> {
    let mut deferred = Some(deferred);
    let own_type = with_open::<A, _>(|slot| {
        if slot.deferred.is_none() {
            slot.deferred = deferred.take();
        }
    });
    match deferred {
        None => {
            debug_assert!(own_type.is_some());
            set_pending(true);
            Ok(())
        }
        Some(deferred) if own_type.is_none() => offer_foreign(deferred),
        Some(deferred) => Err(deferred),
    }
}

/// Boxes `deferred` beside the open slot of a task of another actor type,
/// if a slot is open and nothing waits there yet. A second woken actor of
/// another type gets a task of its own, as it would have without the slot.
#[inline(never)]
fn offer_foreign<A: Actor>(deferred: Deferred<A>) -> Result<(), Deferred<A>> {
    if open_slot().is_none() || foreign_waits() {
        return Err(deferred);
    }
    let guest = foreign::boxed(deferred);
    FOREIGN.with(|waiting| waiting.set(Some(guest)));
    FOREIGN_WAITS.with(|waits| waits.set(true));
    set_pending(true);
    Ok(())
}

/// Whether the open slot holds a deferred activation.
#[inline(always)]
pub(super) fn pending() -> bool {
    PENDING.with(Cell::get)
}

/// [`flush`]es the open slot if it holds a deferred activation: for the
/// message loop, about to handle another message.
#[inline(always)]
pub(super) fn flush_if_pending<A: Actor>() {
    if pending() {
        flush::<A>();
    }
}

/// Launches what the open slot of type `A` holds on a task of its own: the
/// message loop goes on, so the deferred actor must not wait for it.
#[cold]
pub(super) fn flush<A: Actor>() {
    set_pending(false);
    if let Some(Some(deferred)) = with_open::<A, _>(|slot| slot.deferred.take()) {
        super::spawn_deferred(deferred);
    }
    if let Some(guest) = take_foreign() {
        guest.launch();
    }
}

/// For a task (its message loop, or its poll between loops) whose actor
/// `current` just went dormant, `abort`
/// being its task's handle: the deferred activation, to run in the same
/// loop, if there is one on the same runtime and `abort` could be
/// registered for it. The slot then names it as the task's new actor.
/// Otherwise `abort` comes back, and what the slot holds stays for the
/// task's poll to launch. With `batch` (the loop's own, empty), the next
/// actor's first message comes with it, taken in the same lock (see
/// [`Mailbox::adopt`](crate::mailbox::Mailbox)).
pub(super) fn take_over<A: Actor>(
    current: &Process<A>,
    abort: AbortHandle,
    batch: Option<&mut Batch<A::Msg>>,
) -> Result<TakenOver<A>, AbortHandle> {
    set_pending(false);
    let Some(Some(next)) = with_open::<A, _>(|slot| slot.deferred.take()) else {
        return Err(abort);
    };
    if !same_runtime(&next.process, current) {
        put_back(next);
        return Err(abort);
    }
    match next
        .process
        .mailbox
        .adopt(next.activation.generation, abort, batch)
    {
        Ok(received) => {
            let process = Arc::clone(&next.process);
            with_open::<A, _>(|slot| slot.switched = Some(process));
            // The task runs an actor of its own type next: one of another
            // type woken beside it must not wait for that actor's messages.
            if let Some(guest) = take_foreign() {
                guest.launch();
            }
            Ok(TakenOver {
                next,
                first: received,
            })
        }
        Err(abort) => {
            put_back(next);
            Err(abort)
        }
    }
}

/// Whether two processes run on the same runtime: only then may one's task
/// run the other.
fn same_runtime<A: Actor>(one: &Process<A>, other: &Process<A>) -> bool {
    runtime_id(one.runtime()) == runtime_id(other.runtime())
}

/// Returns a deferred activation to the open slot it came from, for the
/// task's poll to launch; launches it now if the slot is somehow gone.
fn put_back<A: Actor>(next: Deferred<A>) {
    let mut next = Some(next);
    with_open::<A, _>(|slot| slot.deferred = next.take());
    if let Some(next) = next {
        super::spawn_deferred(next);
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests {
    use super::*;
    use std::convert::Infallible as Never;

    use crate::Context;

    struct Echo;
    struct Other;

    impl Actor for Echo {
        type Args = ();
        type Msg = ();
        type Error = Never;
        async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Never> {
            Ok(Echo)
        }
        async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Never> {
            Ok(())
        }
    }

    impl Actor for Other {
        type Args = ();
        type Msg = ();
        type Error = Never;
        async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Never> {
            Ok(Other)
        }
        async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Never> {
            Ok(())
        }
    }

    // The slot's bookkeeping without a runtime (what Miri checks): open
    // only while polled, and only to activations of its own actor type.
    #[test]
    fn the_slot_is_open_only_while_polled_and_only_to_its_own_type() {
        assert!(open_slot().is_none());
        let mut slot = Slot::<Echo>::new();
        slot.open(|| {
            assert_eq!(
                with_open::<Echo, _>(|slot| slot.deferred.is_none()),
                Some(true)
            );
            assert_eq!(with_open::<Other, _>(|_| ()), None);
            let mut inner = Slot::<Other>::new();
            inner.open(|| assert_eq!(with_open::<Other, _>(|_| ()), Some(())));
            assert_eq!(with_open::<Echo, _>(|_| ()), Some(()));
        });
        assert!(open_slot().is_none());
        assert_eq!(with_open::<Echo, _>(|_| ()), None);
        assert!(!pending());
    }
}
