//! Running a dormant callee on its caller's task: a call to an actor with
//! nothing to do, from a request handler, a service's task or another
//! actor's handler, costs no task switch.
//!
//! A call waits for its reply anyway. When the request finds the actor
//! dormant, the push hands the request to the actor's activation instead
//! of queueing it (no lane buffer, no call mark, no lock to receive it),
//! and the caller's own poll runs that activation, boxed, until it would
//! wait for something:
//!
//! - the handler replies and the mailbox is empty: the actor goes dormant
//!   again at once (no linger: the caller is the one waiting, and it has
//!   its answer), and the caller reads the reply in the same poll;
//! - the handler awaits something (I/O, a timer, another actor), or more
//!   messages than the caller's arrived meanwhile: the activation moves to a
//!   task of its own, as it would have been without this path, and the
//!   caller waits for its reply as usual.
//!
//! Nothing of the callee stays on the caller's task past that one poll, so
//! the caller's cancellation, abort or shutdown never meets the callee: it
//! finished, or it runs on its own task. A kill that comes while the
//! callee runs here finds no task to abort and is met where the activation
//! next parks its state or registers its task, as for a task not yet
//! registered. A panic in a handler, `terminate` or the state's `Drop` is
//! caught inside the activation, as on its own task.
//!
//! An activation with a span (somebody traces actors) is not run here:
//! its spans would nest inside the caller's. An untraced one runs inside
//! the caller's span, so an event its handler emits belongs to the
//! caller's span, as a function's would.
//!
//! A call from an actor's handler runs its callee inside that actor's
//! poll. The callee's poll opens a handoff slot of its own; what the
//! caller's slot says in its thread-locals is set aside meanwhile and put
//! back after (see [`handoff::SetAside`]). A kill of the calling actor
//! aborts its task only once that poll returns, and by then the callee is
//! dormant again or on a task of its own. Each nested call grows the
//! caller's stack by one activation, so at most [`MAX_DEPTH`] callees run
//! one inside the other; the next gets a task of its own.
//!
//! Calls to an actor that opts out ([`Actor::INLINE_CALLS`]) do not take
//! this path: its handlers' CPU work, fanned out by one caller to several
//! actors, would run one after another on the caller's thread.

use std::{
    cell::Cell,
    sync::Arc,
    task::{Context, Poll},
};

use super::{Begin, Next, foreign, handoff};
use crate::{
    Actor,
    mailbox::Activation,
    process::{Dormant, Process},
};

/// How many calls deep a thread runs callees on their callers' tasks: a
/// chain of actors calling each other grows the caller's stack by one
/// activation per call, so past this depth a callee gets a task of its own.
const MAX_DEPTH: u8 = 8;

#[cfg(not(foundation_loom))]
// audit:allow(FND002) per-thread, per-poll state: raised only while a caller's poll runs a callee's activation, and lowered before that poll returns
std::thread_local! {
    /// How many callees this thread is polling on their callers' tasks,
    /// one inside the other.
    static DEPTH: Cell<u8> = const { Cell::new(0) };
}

#[cfg(foundation_loom)]
// audit:allow(FND002) the same per-poll state, as loom's thread-locals
loom::thread_local! {
    static DEPTH: Cell<u8> = Cell::new(0);
}

/// Whether the activation being polled runs on its caller's task: its
/// message loop then neither lingers nor goes on past the caller's request.
#[inline(always)]
pub(super) fn inline() -> bool {
    DEPTH.with(Cell::get) > 0
}

/// Marks the thread as polling a callee on its caller's task, one level
/// deeper, until dropped; and sets aside, for that long, what the slot of
/// an activation being polled around it holds (see
/// [`handoff::SetAside`]): the callee's poll opens a slot of its own.
struct Marked {
    _outer: handoff::SetAside,
}

impl Marked {
    fn new() -> Self {
        DEPTH.with(|depth| depth.set(depth.get() + 1));
        Self {
            _outer: handoff::set_aside(),
        }
    }
}

impl Drop for Marked {
    fn drop(&mut self) {
        DEPTH.with(|depth| depth.set(depth.get() - 1));
    }
}

/// Whether a call to `process` from this thread runs the actor here if it
/// finds it dormant: the actor allows it ([`Actor::INLINE_CALLS`]), the
/// caller is fewer than [`MAX_DEPTH`] callees deep, nobody traces the
/// actor's activations (their spans would nest inside the caller's), and
/// the caller runs on the actor's runtime. Cheapest first: the runtime's
/// lookup counts a reference up and down.
#[inline]
pub(crate) fn may_run_here<A: Actor>(process: &Process<A>) -> bool {
    A::INLINE_CALLS
        && DEPTH.with(Cell::get) < MAX_DEPTH
        && crate::observe::activation_span::<A>(process.pid).is_disabled()
        && on_runtime_of(process)
}

/// Runs on the caller's task the activation of a dormant actor that a
/// call's `request` woke, the request handed to it unqueued (see
/// [`Mailbox::poll_hand`](crate::mailbox::Mailbox)): the activation begins
/// with it, in this poll, so nothing can hold it back or leave it behind.
/// If the activation would wait, it goes on on a task of its own.
pub(crate) fn run_called<A: Actor>(
    process: Arc<Process<A>>,
    activation: Activation<Dormant<A>>,
    request: A::Msg,
    cx: &mut Context<'_>,
) {
    let generation = activation.generation;
    let begin = Begin::Called(activation.state, request);
    let mut guest = foreign::begun(process, generation, begin);
    let polled = {
        let _marked = Marked::new();
        guest.as_mut().poll(cx)
    };
    match polled {
        // With no task of its own, a dormant activation never takes over
        // another actor: what its handlers woke, its poll launched.
        Poll::Ready(Next(next)) => {
            // Its box is kept for the next call's.
            super::spare::retire(guest);
            if let Some(next) = next {
                next.launch();
            }
        }
        Poll::Pending => guest.launch(),
    }
}

/// Whether the calling thread runs the runtime `process` runs on: only
/// there may its handler run. On every flavour the path pays: with the
/// request handed over it takes about the instructions of the tokio
/// floor's call (1,983 against 1,944 by callgrind, one thread) and no trip
/// through the scheduler, and on several workers nothing crosses cores
/// (see `docs/handoff.md`).
#[cfg(not(foundation_loom))]
fn on_runtime_of<A: Actor>(process: &Process<A>) -> bool {
    tokio::runtime::Handle::try_current().is_ok_and(|here| here.id() == process.runtime().id())
}

/// Loom's model runtime is one runtime whose tasks are threads: the path is
/// always taken, so the models explore it.
#[cfg(foundation_loom)]
fn on_runtime_of<A: Actor>(_: &Process<A>) -> bool {
    true
}
