//! The process cell shared by an actor's activations and its references.

use std::{
    collections::VecDeque,
    fmt,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::{Arc, Weak},
    task::{Context, Poll},
    time::Duration,
};

use futures::FutureExt;
use tokio::sync::oneshot;

use crate::{
    Actor, ActorRef, DeadLetter, DeadLetterReason, DeadLetterSink, DefaultDeadLetterSink,
    ExitReason, MessageKind, Overflow, Pid, StopError,
    mailbox::{Activation, Kill, Mailbox, Pushed},
    system::Signal,
    wait::{Budget, Elapsed},
    waiters::WaiterKey,
};

/// A call's reply slot: `Some` carries the reply, `None` says the request
/// was dropped by the mailbox's overflow policy.
pub(crate) type ReplyTo<R> = oneshot::Sender<Option<R>>;

/// A user message as it sits in the mailbox.
pub(crate) enum Envelope<A: Actor> {
    Cast(A::Cast),
    Call(A::Call, ReplyTo<A::Reply>),
}

impl<A: Actor> fmt::Debug for Envelope<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cast(_) => f.write_str("Cast(..)"),
            Self::Call(..) => f.write_str("Call(..)"),
        }
    }
}

impl<A: Actor> Envelope<A> {
    fn into_dead_letter(self, recipient: Pid, reason: DeadLetterReason) -> DeadLetter {
        match self {
            Self::Cast(message) => DeadLetter {
                recipient,
                reason,
                kind: MessageKind::Cast,
                type_name: std::any::type_name::<A::Cast>(),
                message: Box::new(message),
            },
            Self::Call(request, reply) => {
                if reason == DeadLetterReason::Overflow {
                    // The callee lives on: tell the caller its request was
                    // dropped rather than let it wait for an exit.
                    if reply.send(None).is_err() {
                        tracing::trace!(target: "foundation::mailbox", %recipient, "caller of a dropped call already gone");
                    }
                }
                DeadLetter {
                    recipient,
                    reason,
                    kind: MessageKind::Call,
                    type_name: std::any::type_name::<A::Call>(),
                    message: Box::new(request),
                }
            }
        }
    }
}

/// An actor's state while it has no task: what its next activation resumes.
pub(crate) struct Dormant<A: Actor> {
    pub(crate) actor: A,
    pub(crate) trap_exits: bool,
}

impl<A: Actor> fmt::Debug for Dormant<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dormant").finish_non_exhaustive()
    }
}

/// One process: its pid, its mailbox and exit state, its state while
/// dormant, and where its dead letters go. One allocation per actor.
pub(crate) struct Process<A: Actor> {
    pub(crate) pid: Pid,
    pub(crate) mailbox: Mailbox<Envelope<A>, Dormant<A>>,
    dead_letters: Option<Arc<dyn DeadLetterSink>>,
    /// Where activations run.
    runtime: tokio::runtime::Handle,
    /// This cell, for the activations it starts (a weak reference, so a
    /// dormant actor nobody can reach is freed).
    me: Weak<Process<A>>,
}

impl<A: Actor> fmt::Debug for Process<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid)
            .field("actor", &std::any::type_name::<A>())
            .finish_non_exhaustive()
    }
}

impl<A: Actor> Process<A> {
    pub(crate) fn new(
        capacity: usize,
        overflow: Overflow,
        dead_letters: Option<Arc<dyn DeadLetterSink>>,
        runtime: tokio::runtime::Handle,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            pid: Pid::new(),
            mailbox: Mailbox::new(capacity, overflow),
            dead_letters,
            runtime,
            me: me.clone(),
        })
    }

    /// Hands one message to the dead-letter sink.
    pub(crate) fn dead_letter(&self, envelope: Envelope<A>, reason: DeadLetterReason) {
        let letter = envelope.into_dead_letter(self.pid, reason);
        match &self.dead_letters {
            Some(sink) => sink.dead_letter(letter),
            None => DefaultDeadLetterSink.dead_letter(letter),
        }
    }

    /// Deals with what a push produced: messages an overflow policy pushed
    /// out, and an activation to run.
    pub(crate) fn settle(
        &self,
        pushed: Pushed<Envelope<A>>,
        activation: Option<Activation<Dormant<A>>>,
    ) {
        if let Some(activation) = activation {
            self.activate(activation);
        }
        match pushed {
            Pushed::Queued => {}
            Pushed::Evicted(envelope) | Pushed::Discarded(envelope) => {
                self.dead_letter(envelope, DeadLetterReason::Overflow);
            }
        }
    }

    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// Starts a task to run a dormant actor.
    pub(crate) fn activate(&self, activation: Activation<Dormant<A>>) {
        match self.me.upgrade() {
            Some(process) => crate::runtime::launch(process, activation),
            // The cell is being dropped: nobody can send to it any more, so
            // there is no message to run for; the state goes with it.
            None => drop(activation),
        }
    }

    /// Finishes an exit: closes the mailbox, hands `batch` and everything
    /// still queued to dead letters, then publishes the reason. The actor's
    /// state must already be gone.
    pub(crate) fn finish(&self, batch: &mut VecDeque<Envelope<A>>, reason: ExitReason) {
        let mut undelivered = 0;
        if let Some(leftovers) = self.mailbox.close(reason.clone(), batch.is_empty()) {
            undelivered = batch.len() + leftovers.user.len();
            for envelope in batch.drain(..).chain(leftovers.user) {
                self.dead_letter(envelope, DeadLetterReason::Exited(reason.clone()));
            }
            // System notifications (DOWNs, exit signals) for a dead process
            // have no one to act on them; they are dropped with the mailbox.
            drop(leftovers.system);
            self.mailbox.finish_exit();
        }
        tracing::debug!(
            target: "foundation::mailbox",
            pid = %self.pid,
            %reason,
            undelivered,
            "actor exited"
        );
    }

    /// Stops the actor with OTP's shutdown semantics: ask, wait up to
    /// `timeout`, then kill. A dormant actor's `terminate` runs right here,
    /// on the stopper's task, since nothing else can be running it.
    pub(crate) async fn stop(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<ExitReason, StopError> {
        let dormant = match self.mailbox.claim_for_stop() {
            Err(()) => return Err(StopError::NoProcess),
            Ok(dormant) => dormant,
        };
        let Some(dormant) = dormant else {
            return self.stop_running(reason, timeout).await;
        };
        // Whatever happens to this future, the exit is finished. (`me`
        // upgrades: a reference to this cell is alive while `self` is.)
        let me = self.me.upgrade();
        let Some(me) = me else {
            drop(dormant);
            self.finish(&mut VecDeque::new(), ExitReason::Killed);
            return Err(StopError::NoProcess);
        };
        let mut exit = ExitGuard::new(Arc::clone(&me), ExitReason::Killed);
        let mut ctx = crate::Context::new(ActorRef { process: me });
        ctx.trap_exits(dormant.trap_exits);
        let mut actor = dormant.actor;
        let terminate = AssertUnwindSafe(actor.terminate(&reason, &mut ctx)).catch_unwind();
        let outcome = match Budget::new(timeout).wait(terminate).await {
            Ok(Ok(())) => Ok(reason),
            Ok(Err(payload)) => Ok(ExitReason::from_panic(&*payload)),
            Err(Elapsed) => Err(StopError::Timeout(timeout)),
        };
        // The state goes before the exit is published.
        drop(actor);
        drop(ctx);
        exit.reason = Some(match &outcome {
            Ok(reason) => reason.clone(),
            Err(_) => ExitReason::Killed,
        });
        drop(exit);
        outcome
    }

    /// Stops an actor that has a task: a stop signal through the system
    /// lane, then a kill if it has not exited in time.
    async fn stop_running(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<ExitReason, StopError> {
        if self.signal(Signal::Stop(reason)).is_err() {
            return Err(StopError::NoProcess);
        }
        let exited = ExitWait {
            mailbox: &self.mailbox,
            key: WaiterKey::default(),
        };
        match Budget::new(timeout).wait_after_sending(exited).await {
            Ok(reason) => Ok(reason),
            Err(Elapsed) => {
                self.kill();
                Err(StopError::Timeout(timeout))
            }
        }
    }

    /// Queues a signal, activating the actor if it was dormant.
    pub(crate) fn signal(&self, signal: Signal) -> Result<(), Signal> {
        let activation = self.mailbox.push_signal(signal)?;
        if let Some(activation) = activation {
            self.activate(activation);
        }
        Ok(())
    }

    /// Kills the actor. Returns `false` if it was already exiting.
    pub(crate) fn kill(&self) -> bool {
        match self.mailbox.kill() {
            Kill::Aborted | Kill::Pending => true,
            Kill::Dormant(dormant) => {
                drop(dormant);
                self.finish(&mut VecDeque::new(), ExitReason::Killed);
                true
            }
            Kill::AlreadyExiting => false,
        }
    }
}

/// Finishes an exit however the code running an actor ends: a return, a
/// caught panic, an abort (kill), or a stopper cancelled midway. Set
/// `reason` to `None` when the actor went dormant instead of exiting.
pub(crate) struct ExitGuard<A: Actor> {
    pub(crate) process: Arc<Process<A>>,
    /// Messages the actor had taken and not handled; dead letters on exit.
    pub(crate) batch: VecDeque<Envelope<A>>,
    pub(crate) reason: Option<ExitReason>,
}

impl<A: Actor> ExitGuard<A> {
    pub(crate) fn new(process: Arc<Process<A>>, reason: ExitReason) -> Self {
        Self {
            process,
            batch: VecDeque::new(),
            reason: Some(reason),
        }
    }
}

impl<A: Actor> Drop for ExitGuard<A> {
    fn drop(&mut self) {
        if let Some(reason) = self.reason.take() {
            self.process.finish(&mut self.batch, reason);
        }
    }
}

/// Waits for a typed process's exit, without the type-erased reference.
struct ExitWait<'a, T, S> {
    mailbox: &'a Mailbox<T, S>,
    key: WaiterKey,
}

impl<T, S> Future for ExitWait<'_, T, S> {
    type Output = ExitReason;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ExitReason> {
        let this = self.get_mut();
        this.mailbox.poll_exit(cx, &mut this.key)
    }
}

impl<T, S> Drop for ExitWait<'_, T, S> {
    fn drop(&mut self) {
        self.mailbox.cancel_wait(&mut self.key);
    }
}
