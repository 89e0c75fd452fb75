//! Starting actors and running their message loop.
//!
//! [`spawn_with`] is the one place in Foundation that creates an actor's task;
//! the supervisor builds on it. The task runs [`message_loop`] inside a panic
//! boundary, and an [`ExitGuard`] finishes the exit on every way out: a
//! return, a caught panic, or the task being aborted (killed).

use std::{
    collections::VecDeque,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::Arc,
    task::{Context as TaskContext, Poll},
};

use futures::FutureExt;

use crate::{
    Actor, ActorHandle, ActorOptions, ActorRef, Context, DeadLetterReason, ExitReason, Operation,
    ProcessRef, StartError, SystemMessage, TimeoutConfig,
    mailbox::{Mailbox, Received},
    process::{Envelope, Process},
    system::Signal,
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
/// spares two task switches per start; the actor's own task then starts
/// with its state ready. Messages sent to the actor while `init` runs are
/// queued, and become dead letters if `init` fails.
///
/// ```
/// use foundation_mailbox::{ActorOptions, StartError, start_with};
/// # use foundation_mailbox::{Actor, Context};
/// # #[derive(Debug)] struct Idle;
/// # impl Actor for Idle {
/// #     type Args = (); type Cast = (); type Call = (); type Reply = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Idle) }
/// #     async fn handle_cast(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// #     async fn handle_call(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
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
    let (runtime, process) = prepare::<A>(options)?;
    let mut ctx = Context::new(ActorRef {
        process: Arc::clone(&process),
    });
    let init = AssertUnwindSafe(A::init(args, &mut ctx)).catch_unwind();
    let failed = match Budget::new(timeout).wait(init).await {
        Ok(Ok(Ok(actor))) => {
            process.mailbox.set_running();
            return Ok(launch(&runtime, process, Begin::Ready(actor, ctx)));
        }
        Ok(Ok(Err(error))) => StartError::Init(ExitReason::error(error)),
        Ok(Err(payload)) => StartError::Init(ExitReason::from_panic(&*payload)),
        Err(Elapsed) => StartError::Timeout(timeout),
    };
    let reason = match &failed {
        StartError::Init(reason) => reason.clone(),
        _ => ExitReason::Killed,
    };
    // No task ever ran: finish the exit here, so whatever was queued while
    // `init` ran becomes a dead letter and watchers see the reason.
    drop(ExitGuard {
        process,
        batch: VecDeque::new(),
        reason,
    });
    Err(failed)
}

/// Starts an actor with default options without waiting for `init`.
pub fn spawn<A: Actor>(args: A::Args) -> Result<(ActorRef<A>, ActorHandle), StartError> {
    spawn_with::<A>(args, ActorOptions::new())
}

/// Starts an actor without waiting for `init`: `init` runs on the actor's
/// own task, messages sent meanwhile queue up and are handled once it
/// returns. If `init` fails, the actor exits with the error as its reason
/// and queued messages become dead letters.
pub fn spawn_with<A: Actor>(
    args: A::Args,
    options: ActorOptions,
) -> Result<(ActorRef<A>, ActorHandle), StartError> {
    let (runtime, process) = prepare::<A>(options)?;
    Ok(launch(&runtime, process, Begin::Init(args)))
}

/// Checks the options and the runtime, and makes the process cell.
fn prepare<A: Actor>(
    options: ActorOptions,
) -> Result<(tokio::runtime::Handle, Arc<Process<A>>), StartError> {
    if options.capacity == 0 {
        return Err(StartError::InvalidOptions(
            "mailbox capacity must be at least 1",
        ));
    }
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
    let process = Arc::new(Process::<A>::new(
        options.capacity,
        options.overflow,
        options.dead_letters,
    ));
    Ok((runtime, process))
}

/// Spawns the actor's task: the one place in Foundation an actor task starts.
fn launch<A: Actor>(
    runtime: &tokio::runtime::Handle,
    process: Arc<Process<A>>,
    begin: Begin<A>,
) -> (ActorRef<A>, ActorHandle) {
    let actor = ActorRef {
        process: Arc::clone(&process),
    };
    // audit:allow(FND001) the process core's one spawn: every actor task starts here, owned by its ActorHandle
    let task = runtime.spawn(run::<A>(Arc::clone(&process), begin));
    process.mailbox.set_abort(task.abort_handle());
    let handle = ActorHandle {
        process: ProcessRef(process),
        task,
    };
    (actor, handle)
}

/// How an actor's task begins: from its arguments, or with the state an
/// `init` on the starter's task already built.
enum Begin<A: Actor> {
    Init(A::Args),
    Ready(A, Context<A>),
}

/// The whole life of an actor's task.
async fn run<A: Actor>(process: Arc<Process<A>>, begin: Begin<A>) {
    // Declared first so it is dropped last: on abort the loop future, which
    // owns the actor's state, is dropped before the exit is published.
    let mut guard = ExitGuard {
        process,
        batch: VecDeque::new(),
        reason: ExitReason::Killed,
    };
    let process = Arc::clone(&guard.process);
    let outcome = AssertUnwindSafe(message_loop::<A>(&process, &mut guard.batch, begin))
        .catch_unwind()
        .await;
    guard.reason = match outcome {
        Ok(reason) => reason,
        Err(payload) => {
            let reason = ExitReason::from_panic(&*payload);
            tracing::error!(target: "foundation::mailbox", pid = %process.pid, %reason, "actor panicked");
            reason
        }
    };
}

/// Finishes an exit however the task ends: closes the mailbox, hands queued
/// messages to dead letters, then publishes the exit reason.
struct ExitGuard<A: Actor> {
    process: Arc<Process<A>>,
    batch: VecDeque<Envelope<A>>,
    reason: ExitReason,
}

impl<A: Actor> Drop for ExitGuard<A> {
    fn drop(&mut self) {
        let reason = self.reason.clone();
        let leftovers = self.process.mailbox.close(reason.clone());
        let undelivered = self.batch.len() + leftovers.user.len();
        for envelope in self.batch.drain(..).chain(leftovers.user) {
            self.process
                .dead_letter(envelope, DeadLetterReason::Exited(reason.clone()));
        }
        // System notifications (DOWNs, exit signals) for a dead process have
        // no one to act on them; they are dropped with the mailbox.
        drop(leftovers.system);
        self.process.mailbox.finish_exit();
        tracing::debug!(
            target: "foundation::mailbox",
            pid = %self.process.pid,
            %reason,
            undelivered,
            "actor exited"
        );
    }
}

/// `init` (unless the starter ran it), then one message at a time until
/// something ends the actor.
async fn message_loop<A: Actor>(
    process: &Arc<Process<A>>,
    batch: &mut VecDeque<Envelope<A>>,
    begin: Begin<A>,
) -> ExitReason {
    let (mut actor, mut ctx) = match begin {
        Begin::Ready(actor, ctx) => (actor, ctx),
        Begin::Init(args) => {
            let mut ctx = Context::new(ActorRef {
                process: Arc::clone(process),
            });
            match A::init(args, &mut ctx).await {
                Ok(actor) => {
                    process.mailbox.set_running();
                    (actor, ctx)
                }
                Err(error) => return ExitReason::error(error),
            }
        }
    };
    let mut handled_in_a_row = 0_u32;
    loop {
        if let Some(reason) = ctx.take_stop() {
            actor.terminate(&reason, &mut ctx).await;
            return reason;
        }
        let received = Recv {
            mailbox: &process.mailbox,
            batch: &mut *batch,
        }
        .await;
        let outcome = match received {
            Received::User(Envelope::Cast(message)) => actor.handle_cast(message, &mut ctx).await,
            Received::User(Envelope::Call(request, reply_to)) => {
                match actor.handle_call(request, &mut ctx).await {
                    Ok(reply) => {
                        if reply_to.send(Some(reply)).is_err() {
                            tracing::trace!(target: "foundation::mailbox", pid = %process.pid, "caller gave up; late reply dropped");
                        }
                        Ok(())
                    }
                    // The reply slot is dropped here; the caller then waits
                    // for the exit reason this error becomes.
                    Err(error) => Err(error),
                }
            }
            Received::System(Signal::Stop(reason)) => {
                actor.terminate(&reason, &mut ctx).await;
                return reason;
            }
            Received::System(Signal::Exit { from, reason }) => {
                if ctx.is_trapping_exits() {
                    actor
                        .handle_system(SystemMessage::Exit { from, reason }, &mut ctx)
                        .await
                } else if reason == ExitReason::Normal {
                    Ok(())
                } else {
                    // OTP: an untrapped exit signal ends the process with the
                    // same reason, without terminate.
                    return reason;
                }
            }
            Received::System(Signal::Message(message)) => {
                actor.handle_system(message, &mut ctx).await
            }
        };
        if let Err(error) = outcome {
            let reason = ExitReason::error(error);
            actor.terminate(&reason, &mut ctx).await;
            return reason;
        }
        handled_in_a_row += 1;
        if handled_in_a_row == YIELD_EVERY {
            handled_in_a_row = 0;
            tokio::task::yield_now().await;
        }
    }
}

/// The receiver's next message.
struct Recv<'a, T> {
    mailbox: &'a Mailbox<T>,
    batch: &'a mut VecDeque<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Received<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Received<T>> {
        let this = self.get_mut();
        this.mailbox.poll_recv(cx, this.batch)
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests;
