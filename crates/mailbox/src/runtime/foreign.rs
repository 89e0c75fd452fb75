//! Handing an activation's task to a woken actor of *another* type: no
//! task spawn per hop along a pipeline whose stages are different actors.
//!
//! A task's future is typed by the actor it began with, so it cannot turn
//! into another type's message loop the way it takes over an actor of its
//! own type (see [`handoff`](super::handoff)). Instead, a push that wakes a
//! dormant actor of another type while an activation task is being polled
//! boxes that actor's activation ([`boxed`]) and leaves it beside the open
//! slot. If the polling task's actor then goes dormant, the task adopts the
//! boxed activation and runs it next ([`Runner`](super::Runner)), one at a
//! time: the same task and no trip through the scheduler, for one
//! allocation instead of a task's. Anything else launches it on a task of
//! its own, under the same rules as the slot: the woken actor waits at most
//! until the handler that woke it returns.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use pin_project_lite::pin_project;

use super::{ActivationTask, Begin, End, Next, handoff::Deferred};
use crate::{
    Actor,
    process::Process,
    sync::{AbortHandle, RuntimeId, runtime_id},
};

/// A woken actor's activation, boxed so that a task begun by an actor of
/// another type can run it.
pub(super) type Guest = Pin<Box<dyn Foreign>>;

/// What a task needs of a boxed activation besides polling it.
pub(super) trait Foreign: Future<Output = Next> + Send {
    /// The runtime the woken actor runs on: only a task of that runtime may
    /// run it.
    fn runtime_id(&self) -> RuntimeId;

    /// Registers `abort`, the adopting task's handle, as the woken actor's,
    /// so that a kill of it aborts the task now running it. A kill that
    /// came first refuses, and `abort` comes back (see
    /// [`Mailbox::adopt`](crate::mailbox::Mailbox)).
    fn adopt(self: Pin<&mut Self>, abort: AbortHandle) -> Result<(), AbortHandle>;

    /// Runs the activation on a task of its own.
    fn launch(self: Pin<Box<Self>>);
}

pin_project! {
    /// The boxed activation of a woken actor of type `A`.
    struct Woken<A: Actor, F> {
        generation: u32,
        #[pin]
        task: ActivationTask<A, F>,
    }
}

impl<A: Actor, F: Future<Output = End>> Future for Woken<A, F> {
    type Output = Next;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Next> {
        self.project().task.poll(cx)
    }
}

impl<A: Actor, F: Future<Output = End> + Send + 'static> Foreign for Woken<A, F> {
    fn runtime_id(&self) -> RuntimeId {
        runtime_id(self.task.process.runtime())
    }

    fn adopt(self: Pin<&mut Self>, abort: AbortHandle) -> Result<(), AbortHandle> {
        // With no batch, nothing is received here: the loop's first look
        // takes the message.
        self.task
            .process
            .mailbox
            .adopt(self.generation, abort, None)
            .map(|_| ())
    }

    fn launch(self: Pin<Box<Self>>) {
        let process = Arc::clone(&self.task.process);
        let generation = self.generation;
        let guest: Guest = self;
        super::run_on_own_task(&process, generation, guest);
    }
}

/// Boxes a woken actor's activation, to be adopted by the task being polled
/// or launched on its own. Like a spawned activation, it finishes the
/// actor's exit if it is dropped unpolled.
pub(super) fn boxed<A: Actor>(deferred: Deferred<A>) -> Guest {
    let Deferred {
        process,
        activation,
    } = deferred;
    begun(
        process,
        activation.generation,
        Begin::Resume(activation.state),
    )
}

/// Boxes the activation of a generation that begins as `begin` says.
pub(super) fn begun<A: Actor>(process: Arc<Process<A>>, generation: u32, begin: Begin<A>) -> Guest {
    super::spare::boxed(|| Woken {
        generation,
        task: ActivationTask::new(process, begin),
    })
}

/// For a task whose actor, on `runtime`, just went dormant with `abort` its
/// task's handle: the woken actor of another type its last handler left
/// beside the slot, adopted to run next on this task, if there is one on
/// the same runtime and no kill came first. Otherwise it is launched on a
/// task of its own.
pub(super) fn take_over(runtime: RuntimeId, abort: AbortHandle) -> Option<Guest> {
    let mut guest = super::handoff::take_foreign()?;
    if guest.runtime_id() == runtime && guest.as_mut().adopt(abort).is_ok() {
        return Some(guest);
    }
    guest.launch();
    None
}
