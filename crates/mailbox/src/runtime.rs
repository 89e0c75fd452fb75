//! Starting actors and running their message loop.
//!
//! An actor runs in *activations*: a task that handles messages until the
//! mailbox is empty, lingers for one scheduler turn in case more arrive,
//! then hands the actor's state back to its mailbox and ends. The push that
//! next finds the actor dormant starts the next activation through
//! [`launch`], the one place in Foundation that creates an actor's task; the
//! supervisor builds on it. An idle actor therefore costs its process cell
//! and no task. Each activation runs [`message_loop`] inside a panic
//! boundary, and an [`ExitGuard`] finishes the exit on every way out that is
//! not dormancy: a return, a caught panic, or the task being aborted (killed).

use std::{collections::VecDeque, panic::AssertUnwindSafe, sync::Arc};

use futures::FutureExt;

use crate::{
    Actor, ActorHandle, ActorOptions, ActorRef, Context, ExitReason, Operation, ProcessRef,
    StartError, SystemMessage, TimeoutConfig,
    mailbox::{Activation, Hibernation, Received},
    process::{Dormant, Envelope, ExitGuard, Process},
    system::Signal,
    wait::{Budget, Elapsed, YieldOnce},
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
    let process = prepare::<A>(options)?;
    let mut ctx = Context::new(ActorRef {
        process: Arc::clone(&process),
    });
    let init = AssertUnwindSafe(A::init(args, &mut ctx)).catch_unwind();
    let failed = match Budget::new(timeout).wait(init).await {
        Ok(Ok(Ok(actor))) => {
            let dormant = Dormant {
                actor,
                trap_exits: ctx.is_trapping_exits(),
            };
            match process.mailbox.start_dormant(dormant) {
                Ok(activation) => {
                    if let Some(activation) = activation {
                        process.activate(activation);
                    }
                    return Ok(references(process));
                }
                // Killed while `init` ran.
                Err(dormant) => {
                    drop(dormant);
                    StartError::Init(ExitReason::Killed)
                }
            }
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
    drop(ctx);
    process.finish(&mut VecDeque::new(), reason);
    Err(failed)
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
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
    Ok(Process::<A>::new(
        options.capacity,
        options.overflow,
        options.dead_letters,
        runtime,
    ))
}

fn references<A: Actor>(process: Arc<Process<A>>) -> (ActorRef<A>, ActorHandle) {
    let handle = ActorHandle {
        process: ProcessRef(Arc::clone(&process) as _),
    };
    (ActorRef { process }, handle)
}

/// Runs a dormant actor: starts the task of one activation.
pub(crate) fn launch<A: Actor>(process: Arc<Process<A>>, activation: Activation<Dormant<A>>) {
    spawn_task(
        process,
        Begin::Resume(activation.state),
        activation.generation,
    );
}

/// The one place in Foundation an actor's task is spawned.
fn spawn_task<A: Actor>(process: Arc<Process<A>>, begin: Begin<A>, generation: u64) {
    // audit:allow(FND001) the process core's one spawn: every actor activation starts here and its exit is supervised through the process cell
    let task = process
        .runtime()
        .spawn(run::<A>(Arc::clone(&process), begin));
    process.mailbox.set_abort(generation, task.abort_handle());
}

/// How an activation begins: from the actor's arguments (its `init` runs
/// here), or with the state the last activation or the starter left.
enum Begin<A: Actor> {
    Init(A::Args),
    Resume(Dormant<A>),
}

/// How an activation ended.
enum End {
    Exit(ExitReason),
    Dormant,
}

/// One activation of an actor.
async fn run<A: Actor>(process: Arc<Process<A>>, begin: Begin<A>) {
    // Declared first so it is dropped last: on abort the loop future, which
    // owns the actor's state, is dropped before the exit is published.
    let mut guard = ExitGuard::new(process, ExitReason::Killed);
    let process = Arc::clone(&guard.process);
    let outcome = AssertUnwindSafe(message_loop::<A>(&process, &mut guard.batch, begin))
        .catch_unwind()
        .await;
    guard.reason = match outcome {
        Ok(End::Exit(reason)) => Some(reason),
        Ok(End::Dormant) => None,
        Err(payload) => {
            let reason = ExitReason::from_panic(&*payload);
            tracing::error!(target: "foundation::mailbox", pid = %process.pid, %reason, "actor panicked");
            Some(reason)
        }
    };
}

/// `init` (for a spawned actor), then one message at a time until the
/// mailbox stays empty (dormant) or something ends the actor.
async fn message_loop<A: Actor>(
    process: &Arc<Process<A>>,
    batch: &mut VecDeque<Envelope<A>>,
    begin: Begin<A>,
) -> End {
    let mut ctx = Context::new(ActorRef {
        process: Arc::clone(process),
    });
    let mut actor = match begin {
        Begin::Resume(dormant) => {
            ctx.trap_exits(dormant.trap_exits);
            dormant.actor
        }
        Begin::Init(args) => match A::init(args, &mut ctx).await {
            Ok(actor) => {
                process.mailbox.set_running();
                actor
            }
            Err(error) => return End::Exit(ExitReason::error(error)),
        },
    };
    let mut handled_in_a_row = 0_u32;
    loop {
        if let Some(reason) = ctx.take_stop() {
            actor.terminate(&reason, &mut ctx).await;
            return End::Exit(reason);
        }
        let received = match process.mailbox.try_recv(batch) {
            Some(received) => received,
            None => {
                // Linger for one turn: a sender on this thread may have more.
                YieldOnce::new().await;
                handled_in_a_row = 0;
                let dormant = Dormant {
                    actor,
                    trap_exits: ctx.is_trapping_exits(),
                };
                match process.mailbox.hibernate(batch, dormant) {
                    Hibernation::Dormant => return End::Dormant,
                    Hibernation::Refused(dormant, received) => {
                        actor = dormant.actor;
                        received
                    }
                    Hibernation::Killed(dormant) => {
                        drop(dormant);
                        return End::Exit(ExitReason::Killed);
                    }
                }
            }
        };
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
                return End::Exit(reason);
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
                    return End::Exit(reason);
                }
            }
            Received::System(Signal::Message(message)) => {
                actor.handle_system(message, &mut ctx).await
            }
        };
        if let Err(error) = outcome {
            let reason = ExitReason::error(error);
            actor.terminate(&reason, &mut ctx).await;
            return End::Exit(reason);
        }
        handled_in_a_row += 1;
        if handled_in_a_row == YIELD_EVERY {
            handled_in_a_row = 0;
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests;
