//! Starting actors and running their message loop.
//!
//! An actor runs in *activations*: a task that handles messages until the
//! mailbox is empty, lingers for one scheduler turn in case more arrive,
//! then hands the actor's state back to its mailbox and ends. The push that
//! next finds the actor dormant starts the next activation through
//! [`launch`], the one place in Foundation that creates an actor's task; the
//! supervisor builds on it. An idle actor therefore costs its process cell
//! and no task.
//!
//! Each activation is an [`ActivationTask`]: the message loop inside a panic
//! boundary, owned by a future that finishes the exit on every way out that
//! is not dormancy. That future exists before the task is spawned, so a task
//! aborted before its first poll, or dropped by a runtime that has shut
//! down, still publishes its exit and dead-letters what was queued.

use std::{
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    sync::Arc,
    task::{Context as TaskContext, Poll},
};

use futures::FutureExt;
use pin_project_lite::pin_project;

use crate::{
    Actor, ActorHandle, ActorOptions, ActorRef, Context, ExitReason, Operation, ProcessRef,
    StartError, TimeoutConfig,
    host::Host,
    mailbox::Activation,
    observe::{Borrowed, Entered, HandlerKind, Scope, kept_activation_span, take_reported},
    process::{Dormant, ExitGuard, Process, drop_caught},
    reply::{Carried, DropCause, dropping_with},
    sync::{AbortHandle, runtime_id},
    wait::{Budget, Elapsed},
};

/// After this many messages in a row the loop yields to the scheduler, so a
/// busy actor cannot starve others on its worker thread.
const YIELD_EVERY: u32 = 128;

/// Starts an actor with default options and waits for its `init`.
///
/// Returns the actor's reference and the owner's handle, or the reason `init`
/// failed. See [`start_with`].
pub async fn start<A: Actor>(args: A::Args) -> Result<(ActorRef<A>, ActorHandle), StartError> {
    start_with::<A>(args, ActorOptions::new()).await
}

/// Starts an actor and waits until its `init` has returned, at most the
/// start timeout (by default [`TimeoutConfig`]'s `Start`). If `init` fails
/// or panics, the error names why; if it runs out of time, it is abandoned
/// (as a kill would) and the error says so. As with OTP's `start_link`, the
/// caller waits for `init`, and `init` runs on the caller's task, which
/// spares two task switches per start. The actor then starts dormant: it
/// has no task until its first message arrives. Messages sent to it while
/// `init` runs are queued, and become dead letters if `init` fails.
///
/// ```
/// use foundation_mailbox::{ActorOptions, StartError, start_with};
/// # use foundation_mailbox::{Actor, Context};
/// # #[derive(Debug)] struct Idle;
/// # impl Actor for Idle {
/// #     type Args = (); type Msg = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Idle) }
/// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let refused = start_with::<Idle>((), ActorOptions::new().capacity(0)).await;
/// assert!(matches!(refused, Err(StartError::InvalidOptions(_))));
/// # }
/// ```
pub async fn start_with<A: Actor>(
    args: A::Args,
    options: ActorOptions,
) -> Result<(ActorRef<A>, ActorHandle), StartError> {
    let timeout = options
        .start_timeout
        .unwrap_or_else(|| TimeoutConfig::current().timeout(Operation::Start));
    let process = prepare::<A>(options)?;
    // Declared first, dropped last: if this future is dropped while `init`
    // runs, `init` and what it built go first, then the exit is published.
    let mut exit = ExitGuard::new(&process);
    let mut ctx = Context::new(ActorRef {
        process: Arc::clone(&process),
    });
    let mut budget = Budget::new(timeout);
    // `init` runs on the caller's task, in the actor's span and scope.
    let init = Borrowed::new::<A>(A::init(args, &mut ctx), process.pid, HandlerKind::Init);
    let init = AssertUnwindSafe(init).catch_unwind();
    let outcome = process.run_borrowed(&mut budget, init).await;
    let (failure, reason, overrides_kill) = match outcome {
        Ok(Ok(Ok(Ok(actor)))) => match ctx.take_stop() {
            None => match process.mailbox.start_dormant(Dormant {
                actor,
                timers: std::mem::take(&mut ctx.timers),
            }) {
                Ok(activation) => {
                    exit.disarm();
                    drop(exit);
                    if let Some(activation) = activation {
                        process.activate(activation);
                    }
                    return Ok(references(process));
                }
                // Killed as `init` returned: the kill's reason is published.
                Err(dormant) => {
                    let panic = drop_caught(dormant);
                    let reason = panic.clone().unwrap_or(ExitReason::Killed);
                    (None, reason, panic.is_some())
                }
            },
            // `init` asked to stop: as for a running actor, `terminate`
            // runs with the reason and the actor exits with it.
            Some(reason) => {
                let mut actor = actor;
                let terminate = AssertUnwindSafe(actor.terminate(&reason, &mut ctx)).catch_unwind();
                let (reason, overrides) = match process.run_borrowed(&mut budget, terminate).await {
                    Ok(Ok(Ok(()))) => (reason, false),
                    Ok(Ok(Err(payload))) => (ExitReason::from_panic(&*payload), true),
                    Ok(Err(killed)) => (killed, false),
                    Err(Elapsed) => (ExitReason::Killed, false),
                };
                match drop_caught(actor) {
                    Some(panic) => (None, panic, true),
                    None => (None, reason, overrides),
                }
            }
        },
        Ok(Ok(Ok(Err(error)))) => (None, ExitReason::error(error), false),
        Ok(Ok(Err(payload))) => (None, ExitReason::from_panic(&*payload), true),
        Ok(Err(killed)) => (None, killed, false),
        Err(Elapsed) => (
            Some(StartError::Timeout(timeout)),
            ExitReason::Killed,
            false,
        ),
    };
    // No task ever ran: finish the exit here, so whatever was queued while
    // `init` ran becomes a dead letter and watchers see the reason.
    drop(ctx);
    exit.disarm();
    let published = process.finish(reason, overrides_kill);
    Err(failure.unwrap_or(StartError::Init(published)))
}

/// Starts an actor with default options without waiting for `init`.
pub fn spawn<A: Actor>(args: A::Args) -> Result<(ActorRef<A>, ActorHandle), StartError> {
    spawn_with::<A>(args, ActorOptions::new())
}

/// Starts an actor without waiting for `init`: `init` runs on a task of its
/// own, messages sent meanwhile queue up and are handled once it returns. If
/// `init` fails, the actor exits with the error as its reason and queued
/// messages become dead letters.
pub fn spawn_with<A: Actor>(
    args: A::Args,
    options: ActorOptions,
) -> Result<(ActorRef<A>, ActorHandle), StartError> {
    let process = prepare::<A>(options)?;
    spawn_task(Arc::clone(&process), Begin::Init(args), 0);
    Ok(references(process))
}

/// Checks the options and the runtime, and makes the process cell.
fn prepare<A: Actor>(options: ActorOptions) -> Result<Arc<Process<A>>, StartError> {
    if options.capacity == 0 {
        return Err(StartError::InvalidOptions(
            "mailbox capacity must be at least 1",
        ));
    }
    let Ok(capacity) = u32::try_from(options.capacity) else {
        return Err(StartError::InvalidOptions(
            "mailbox capacity must be at most 4,294,967,295",
        ));
    };
    let host = Host::current().ok_or(StartError::NoRuntime)?;
    Process::<A>::new(capacity, options.overflow, options.dead_letters, host)
        .ok_or(StartError::NoRuntime)
}

fn references<A: Actor>(process: Arc<Process<A>>) -> (ActorRef<A>, ActorHandle) {
    let handle = ActorHandle {
        process: ProcessRef(Arc::clone(&process) as _),
    };
    (ActorRef { process }, handle)
}

/// Runs a dormant actor: starts the task of one activation, or, woken from
/// a handler, defers the activation to the task polling that handler (see
/// [`handoff`], and [`foreign`] for a handler of another actor type).
pub(crate) fn launch<A: Actor>(process: Arc<Process<A>>, activation: Activation<Dormant<A>>) {
    if let Err(deferred) = handoff::offer(Deferred {
        process,
        activation,
    }) {
        spawn_deferred(deferred);
    }
}

/// Starts a deferred activation on a task of its own.
fn spawn_deferred<A: Actor>(deferred: Deferred<A>) {
    let Deferred {
        process,
        activation,
    } = deferred;
    spawn_task(
        process,
        Begin::Resume(activation.state),
        activation.generation,
    );
}

/// The one place in Foundation an actor's task is spawned.
fn spawn_task<A: Actor>(process: Arc<Process<A>>, begin: Begin<A>, generation: u32) {
    // The activation, and with it the guard that finishes the exit, exists
    // before the task does: a runtime that drops the task unpolled (it was
    // aborted first, or the runtime has shut down) still finishes the exit.
    let activation = ActivationTask::new(Arc::clone(&process), begin);
    run_on_own_task(&process, generation, activation);
}

/// Spawns a task running `first` (an activation of `process`, of the given
/// generation, inline or boxed) and registers the task's abort handle for
/// that activation; a kill that came first aborts it there.
fn run_on_own_task<A: Actor, T>(process: &Process<A>, generation: u32, first: T)
where
    T: Future<Output = Next> + Send + 'static,
{
    let abort = crate::sync::spawn(process.runtime(), Runner::new(first));
    process.mailbox.set_abort(generation, abort);
}

/// How an activation begins: from the actor's arguments (its `init` runs
/// here), or with the state the last activation or the starter left, and
/// perhaps a call's request handed to it.
enum Begin<A: Actor> {
    Init(A::Args),
    Resume(Dormant<A>),
    /// Resumed for a call whose request was handed over, not queued (see
    /// [`inline`]): the loop handles it first.
    Called(Dormant<A>, A::Msg),
}

/// How an activation ended.
enum End {
    Exit(ExitReason),
    /// The actor is dormant; the task's abort handle comes back, if it was
    /// registered, so the task can run another activation.
    Dormant(Option<AbortHandle>),
}

/// The message loop's constructor, kept by its task to start the loop of
/// an activation it takes over.
type MakeLoop<A, F> = fn(Arc<Process<A>>, Begin<A>, bool) -> F;

/// How many activations one poll of a task runs back to back before it
/// yields to the scheduler, so a chain of actors cannot starve other tasks.
const HANDOFFS_PER_POLL: u32 = 64;

pin_project! {
    /// One activation of an actor: its message loop, and the duty to finish
    /// the actor's exit if the loop ends any way but dormant, including
    /// being dropped before it was ever polled.
    #[project = ActivationTaskProj]
    struct ActivationTask<A: Actor, F> {
        #[pin]
        body: Option<F>,
        // Makes `body` again for an activation this task takes over.
        make: MakeLoop<A, F>,
        process: Arc<Process<A>>,
        // Reply ports its handlers dropped, between polls; dropped with the
        // activation, they tell their callers the actor is exiting.
        carried: Carried,
        // The activation's span, entered on every poll; none when nobody
        // traces it. Boxed: one word to build and move (`kept_activation_span`).
        span: Option<Box<tracing::Span>>,
        // What its loop was handling when the last poll returned: `user`
        // unless a handler of another kind was awaiting.
        kind: Option<HandlerKind>,
    }

    impl<A: Actor, F> PinnedDrop for ActivationTask<A, F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if this.body.is_none() {
                return;
            }
            // Aborted (a kill), or dropped unpolled: the loop, and the
            // actor's state in it, go first, then the exit is published.
            let body = &mut this.body;
            let dropped = dropping_with(DropCause::Exiting, || {
                catch_unwind(AssertUnwindSafe(|| body.set(None)))
            });
            match dropped {
                Ok(()) => {
                    this.process.finish(ExitReason::Killed, false);
                }
                Err(payload) => {
                    let reason = ExitReason::from_panic(&*payload);
                    tracing::error!(target: "foundation::mailbox", pid = %this.process.pid, %reason, "actor state panicked while dropped");
                    this.process.finish(reason, true);
                }
            }
        }
    }
}

impl<A: Actor> ActivationTask<A, ()> {
    // Inlined, so that a boxed activation is built in its box (see
    // `spare::boxed`) rather than on the stack and copied in.
    #[inline(always)]
    fn new(
        process: Arc<Process<A>>,
        begin: Begin<A>,
    ) -> ActivationTask<A, impl Future<Output = End> + Send + 'static> {
        // Asked once per activation: an untraced one makes no message spans.
        let span = kept_activation_span::<A, _>(process.pid, Box::new);
        let traced = span.is_some();
        ActivationTask {
            body: Some(message_loop::<A>(Arc::clone(&process), begin, traced)),
            make: message_loop::<A>,
            process,
            carried: Carried::default(),
            span,
            kind: Some(HandlerKind::User),
        }
    }
}

impl<A: Actor, F: Future<Output = End>> Future for ActivationTask<A, F> {
    type Output = Next;

    // Inlined into the task's `Runner`, its caller on every poll.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Next> {
        let mut this = self.project();
        // Dropped at the end of the poll, it launches anything still in it.
        let mut slot = Slot::<A>::new();
        let mut handoffs = 0;
        loop {
            let Some(body) = this.body.as_mut().as_pin_mut() else {
                return Poll::Ready(Next(None));
            };
            // Reply ports dropped during the poll wait for a handler's verdict.
            let polled = {
                let _scope = this.carried.enter();
                let actor = Entered::new(Scope::of::<A>(this.process.pid), *this.kind);
                let _span = this.span.as_deref().map(tracing::Span::enter);
                let polled = slot.open(|| catch_unwind(AssertUnwindSafe(|| body.poll(cx))));
                *this.kind = actor.kind();
                polled
            };
            // The loop took over another actor during the poll: the exit
            // duty follows it.
            if let Some(process) = slot.switched() {
                *this.process = process;
            }
            let (reason, overrides_kill) = match polled {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(End::Dormant(abort))) => {
                    this.body.set(None);
                    // Every handler had its verdict; anything the loop itself
                    // dropped since belongs to an actor that goes on.
                    this.carried.settle(true);
                    match take_next(&mut this, &mut slot, abort, &mut handoffs, cx) {
                        Some(ended) => return ended,
                        None => continue,
                    }
                }
                Ok(Poll::Ready(End::Exit(reason))) => (reason, false),
                Err(payload) => {
                    let reason = ExitReason::from_panic(&*payload);
                    // The panic hook, if installed, has told it already.
                    if !take_reported() {
                        tracing::error!(target: "foundation::mailbox", pid = %this.process.pid, actor = std::any::type_name::<A>(), %reason, "actor panicked");
                    }
                    (reason, true)
                }
            };
            // The loop has ended (or unwound): nothing of the actor is left in it.
            // Held ports go unanswered: their callers get the exit reason.
            dropping_with(DropCause::Exiting, || this.body.set(None));
            this.carried.settle(false);
            // With the slot open, a watcher the exit wakes (a supervisor
            // taking the DOWN, a monitor) waits in it rather than getting a
            // task spawned: this task is free from now on and runs it next.
            let (_, abort) = slot.open(|| this.process.finish_on_task(reason, overrides_kill));
            match take_next(&mut this, &mut slot, abort, &mut handoffs, cx) {
                Some(ended) => return ended,
                None => continue,
            }
        }
    }
}

/// For an activation task whose actor just went dormant or exited, `abort`
/// being its task's handle if it was registered: makes the task run what
/// the actor's handlers (or its exit) woke, under the same rules as the
/// message loop's own takeover. An actor of its type becomes the task's
/// loop (`None`: poll it); one of another type, boxed beside the slot, is
/// handed back to run next. What is not taken over, the slot's drop
/// launches.
#[inline(always)]
fn take_next<A: Actor, F: Future<Output = End>>(
    this: &mut ActivationTaskProj<'_, A, F>,
    slot: &mut Slot<A>,
    abort: Option<AbortHandle>,
    handoffs: &mut u32,
    cx: &mut TaskContext<'_>,
) -> Option<Poll<Next>> {
    // Without its abort handle (not registered yet when the actor went
    // dormant or exited, or the activation runs on a caller's task) the
    // task cannot be killed as another actor: the slot's drop launches the
    // next one instead.
    let Some(abort) = abort else {
        return Some(Poll::Ready(Next(None)));
    };
    let current = Arc::clone(this.process);
    // The new loop's inbox is not made yet: its first look takes the
    // message.
    let next = match slot.open(|| handoff::take_over::<A>(&current, abort, None)) {
        Ok(TakenOver { next, .. }) => next,
        // None of its type: one of another type woken beside the slot runs
        // next on this task, boxed.
        Err(abort) => {
            let runtime = runtime_id(current.runtime());
            return Some(Poll::Ready(Next(foreign::take_over(runtime, abort))));
        }
    };
    let _named = slot.switched();
    // This task now runs the next actor: its exit duty, its span and its
    // loop.
    let Deferred {
        process,
        activation,
    } = next;
    *this.span = kept_activation_span::<A, _>(process.pid, Box::new);
    let traced = this.span.is_some();
    *this.kind = Some(HandlerKind::User);
    this.body.set(Some((this.make)(
        Arc::clone(&process),
        Begin::Resume(activation.state),
        traced,
    )));
    *this.process = process;
    *handoffs += 1;
    if *handoffs == HANDOFFS_PER_POLL {
        cx.waker().wake_by_ref();
        return Some(Poll::Pending);
    }
    None
}

/// What an activation's poll ends with: the activation of another actor
/// type its task runs next, if its actor went dormant having woken one.
struct Next(Option<Guest>);

pin_project! {
    /// A task's future: its first activation, then, one at a time, each
    /// boxed activation of another actor type it was handed (see
    /// [`foreign`]). Only one of them runs an actor at any moment, so the
    /// task's abort handle stands for that actor alone.
    struct Runner<T> {
        #[pin]
        first: Option<T>,
        guest: Option<Guest>,
    }
}

impl<T: Future<Output = Next>> Runner<T> {
    fn new(first: T) -> Self {
        Self {
            first: Some(first),
            guest: None,
        }
    }
}

impl<T: Future<Output = Next>> Future for Runner<T> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let mut this = self.project();
        if let Some(first) = this.first.as_mut().as_pin_mut() {
            let Poll::Ready(Next(next)) = first.poll(cx) else {
                return Poll::Pending;
            };
            // Its actor is dormant or gone: nothing of it stays on the task.
            this.first.set(None);
            *this.guest = next;
        }
        let mut handoffs = 0;
        while let Some(guest) = this.guest.as_mut() {
            let Poll::Ready(Next(next)) = guest.as_mut().poll(cx) else {
                return Poll::Pending;
            };
            // Its box is kept for the next one's.
            if let Some(done) = std::mem::replace(this.guest, next) {
                spare::retire(done);
            }
            handoffs += 1;
            // A pipeline yields to the scheduler as a chain of one type does.
            if handoffs == HANDOFFS_PER_POLL && this.guest.is_some() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    }
}

mod foreign;
mod handoff;
mod inline;
mod message_loop;
pub(crate) mod spare;

use foreign::Guest;
pub(crate) use inline::{may_run_here, run_called};
use message_loop::message_loop;

use handoff::{Deferred, Slot, TakenOver};

#[cfg(all(test, not(foundation_loom)))]
mod tests;
