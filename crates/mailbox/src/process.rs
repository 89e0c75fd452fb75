//! The process cell shared by an actor's activations and its references.

use std::{
    fmt,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    sync::{Arc, Weak},
    task::{Context, Poll},
    time::Duration,
};

use futures::FutureExt;

use crate::{
    Actor, ActorRef, DeadLetter, DeadLetterReason, DeadLetterSink, DefaultDeadLetterSink,
    ExitReason, MessageKind, Overflow, Pid, StopError, SystemMessage,
    host::{Host, Place},
    mailbox::{Activation, Closed, Departed, Kill, Mailbox, Pushed, Signaled},
    observe::{Borrowed, HandlerKind},
    reply::{DropCause, dropping_with},
    sync::{AbortHandle, Spawner},
    system::Signal,
    timer::Timers,
    wait::{Budget, Elapsed, poll_once},
    waiters::WaiterKey,
};

/// Calls are pushed *marked*, casts not: the lane holds the actor's bare
/// messages and the mailbox remembers beside it which were calls (a tag in
/// every slot would make each message a word larger). A call's request
/// holds its caller's [`Reply`](crate::Reply) port, which is why the mark
/// matters: its dead letter drops the request so the port tells the caller
/// at once.
pub(crate) const CALL: bool = true;
/// See [`CALL`].
pub(crate) const CAST: bool = false;

/// A user message that leaves the mailbox other than through the receiver,
/// as the dead letter a sink gets.
fn into_dead_letter<A: Actor>(
    departed: Departed<A::Msg>,
    recipient: Pid,
    reason: DeadLetterReason,
) -> DeadLetter {
    let Departed {
        item: message,
        marked: call,
    } = departed;
    if !call {
        return DeadLetter {
            recipient,
            reason,
            kind: MessageKind::Cast,
            // The boxed message's own type, so a sink can downcast it.
            type_name: std::any::type_name::<A::Msg>(),
            message: Box::new(message),
        };
    }
    // The request goes here, and with it the port: its caller learns now
    // that the request was dropped (overflow) or that the callee is exiting,
    // instead of waiting out its timeout while a sink keeps the port.
    let cause = match reason {
        DeadLetterReason::Overflow => DropCause::Overflow,
        DeadLetterReason::Exited(_) => DropCause::Exiting,
    };
    if let Some(panic) = dropping_with(cause, || drop_catching(message)) {
        tracing::error!(target: "foundation::mailbox", %recipient, %panic, "dropping a dead call's request panicked");
    }
    DeadLetter {
        recipient,
        reason,
        kind: MessageKind::Call,
        type_name: A::message_type_name(),
        message: Box::new(()),
    }
}

/// An actor's state while it has no task: what its next activation resumes.
pub(crate) struct Dormant<A: Actor> {
    pub(crate) actor: A,
    /// Its timers: they keep running while it sleeps.
    pub(crate) timers: Timers<A>,
}

impl<A: Actor> fmt::Debug for Dormant<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dormant").finish_non_exhaustive()
    }
}

/// Drops `value` (an actor's state, a future holding it), catching a panic
/// in its `Drop`: user code must not unwind into whoever lets go of an
/// actor. Returns the panic as an exit reason.
///
/// The actor is exiting, so a reply port in `value` tells its caller to wait
/// for the exit reason.
pub(crate) fn drop_caught<T>(value: T) -> Option<ExitReason> {
    dropping_with(DropCause::Exiting, || drop_catching(value))
}

fn drop_catching<T>(value: T) -> Option<ExitReason> {
    catch_unwind(AssertUnwindSafe(move || drop(value)))
        .err()
        .map(|payload| ExitReason::from_panic(&*payload))
}

/// One process: its pid, its mailbox and exit state, its state while
/// dormant, and where its dead letters go. One allocation per actor.
pub(crate) struct Process<A: Actor> {
    pub(crate) pid: Pid,
    pub(crate) mailbox: Mailbox<A::Msg, Dormant<A>>,
    dead_letters: Option<Arc<dyn DeadLetterSink>>,
    /// Where activations run, and the register that ends this process if
    /// that runtime shuts down while it has no task.
    host: Arc<Host>,
    place: Place,
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
        capacity: u32,
        overflow: Overflow,
        dead_letters: Option<Arc<dyn DeadLetterSink>>,
        host: Arc<Host>,
    ) -> Option<Arc<Self>> {
        let process = Arc::new_cyclic(|me| Self {
            pid: Pid::new(),
            mailbox: Mailbox::new(capacity, overflow),
            dead_letters,
            place: host.enter(me.clone()),
            host,
            me: me.clone(),
        });
        // The runtime shut down as the process was made: it never starts.
        (process.place != Place::NOWHERE).then_some(process)
    }

    /// Hands one message to the dead-letter sink.
    pub(crate) fn dead_letter(&self, departed: Departed<A::Msg>, reason: DeadLetterReason) {
        self.deliver_dead_letter(into_dead_letter::<A>(departed, self.pid, reason));
    }

    fn deliver_dead_letter(&self, letter: DeadLetter) {
        crate::metrics::dead_letter(&letter.reason, letter.kind);
        // A sink is user code: its panic must not reach the sender or the
        // task finishing an exit.
        let delivered = catch_unwind(AssertUnwindSafe(|| match &self.dead_letters {
            Some(sink) => sink.dead_letter(letter),
            None => DefaultDeadLetterSink.dead_letter(letter),
        }));
        if let Err(payload) = delivered {
            let panic = ExitReason::from_panic(&*payload);
            tracing::error!(target: "foundation::mailbox", pid = %self.pid, %panic, "the dead-letter sink panicked");
        }
    }

    /// Deals with what a push produced: messages an overflow policy pushed
    /// out, and an activation to run.
    #[inline]
    pub(crate) fn settle(
        &self,
        pushed: Pushed<A::Msg>,
        activation: Option<Activation<Dormant<A>>>,
    ) {
        if let Some(activation) = activation {
            self.activate(activation);
        }
        match pushed {
            Pushed::Queued => {}
            Pushed::Evicted(departed) | Pushed::Discarded(departed) => {
                crate::metrics::dropped::<A>();
                self.dead_letter(departed, DeadLetterReason::Overflow);
            }
        }
    }

    pub(crate) fn runtime(&self) -> &Spawner {
        self.host.spawner()
    }

    pub(crate) fn host(&self) -> &Host {
        &self.host
    }

    /// Starts a task to run a dormant actor.
    pub(crate) fn activate(&self, activation: Activation<Dormant<A>>) {
        match self.me.upgrade() {
            Some(process) => crate::runtime::launch(process, activation),
            // The cell is being dropped: nobody can send to it any more, so
            // there is no message to run for; the state goes with it.
            None => {
                if let Some(panic) = drop_caught(activation) {
                    tracing::error!(target: "foundation::mailbox", pid = %self.pid, %panic, "dropping an unreachable actor panicked");
                }
            }
        }
    }

    /// Finishes an exit: closes the mailbox, hands everything still queued
    /// to dead letters, then publishes the reason (a kill's reason wins,
    /// unless `overrides_kill`). The actor's state must already be gone.
    pub(crate) fn finish(&self, reason: ExitReason, overrides_kill: bool) -> ExitReason {
        self.finish_on_task(reason, overrides_kill).0
    }

    /// [`finish`](Self::finish) for the task that ran the actor: its abort
    /// handle comes back too, if it was registered. Taken as the mailbox
    /// closes, it no longer stands for this actor (a kill from then on finds
    /// it exiting), so the task may run another actor with it.
    pub(crate) fn finish_on_task(
        &self,
        reason: ExitReason,
        overrides_kill: bool,
    ) -> (ExitReason, Option<AbortHandle>) {
        let Closed {
            reason,
            leftovers,
            closed_here,
            task,
        } = self.mailbox.close(reason, overrides_kill, true);
        if closed_here {
            crate::metrics::exit::<A>(&reason);
        }
        let mut undelivered = 0;
        if let Some(leftovers) = leftovers {
            undelivered = leftovers.len();
            for departed in leftovers {
                self.dead_letter(departed, DeadLetterReason::Exited(reason.clone()));
            }
            self.mailbox.finish_exit();
        }
        tracing::debug!(
            target: "foundation::mailbox",
            pid = %self.pid,
            %reason,
            undelivered,
            "actor exited"
        );
        (reason, task)
    }

    /// Runs `future`, which borrowed the actor's state on the caller's task
    /// (`init`, a stopper's `terminate`), until it ends, the budget runs
    /// out, or the process is killed; a kill gives back its reason and
    /// drops the future. Most such futures finish in their first poll, which
    /// costs no timer and no kill watch.
    pub(crate) async fn run_borrowed<F: Future>(
        &self,
        budget: &mut Budget,
        future: F,
    ) -> Result<Result<F::Output, ExitReason>, Elapsed> {
        let mut future = std::pin::pin!(future);
        if let Poll::Ready(output) = poll_once(future.as_mut()).await {
            return Ok(Ok(output));
        }
        let mut key = WaiterKey::default();
        let unless_killed = std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(Ok(output));
            }
            self.mailbox.poll_killed(cx, &mut key).map(Err)
        });
        let outcome = budget.wait(unless_killed).await;
        self.mailbox.cancel_wait(&mut key);
        outcome
    }

    /// Stops the actor with OTP's shutdown semantics: ask, wait up to
    /// `timeout`, then kill. A dormant actor's `terminate` runs right here,
    /// on the stopper's task, since nothing else can be running it; a kill
    /// meanwhile ends it at once.
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
        let Some(me) = self.me.upgrade() else {
            let panic = drop_caught(dormant);
            self.finish(panic.clone().unwrap_or(ExitReason::Killed), panic.is_some());
            return Err(StopError::NoProcess);
        };
        let mut exit = ExitGuard::new(self);
        let mut ctx = crate::Context::new(ActorRef { process: me });
        ctx.timers = dormant.timers;
        let mut actor = dormant.actor;
        // In the actor's scope and spans, for the panic hook and for logs.
        let terminate = Borrowed::new::<A>(
            actor.terminate(&reason, &mut ctx),
            self.pid,
            HandlerKind::Stop,
        );
        let terminate = AssertUnwindSafe(terminate).catch_unwind();
        let outcome = self
            .run_borrowed(&mut Budget::new(timeout), terminate)
            .await;
        let (result, mut exit_reason, mut overrides) = match outcome {
            Ok(Ok(Ok(()))) => (Ok(reason.clone()), reason, false),
            Ok(Ok(Err(payload))) => {
                let panic = ExitReason::from_panic(&*payload);
                (Ok(panic.clone()), panic, true)
            }
            Ok(Err(killed)) => (Ok(killed.clone()), killed, false),
            Err(Elapsed) => (Err(StopError::Timeout(timeout)), ExitReason::Killed, false),
        };
        // The state goes before the exit is published.
        drop(ctx);
        if let Some(panic) = drop_caught(actor) {
            exit_reason = panic;
            overrides = true;
        }
        exit.disarm();
        let published = self.finish(exit_reason, overrides);
        result.map(|_| published)
    }

    /// Stops an actor that has a task: a stop signal through the system
    /// lane, then a kill if it has not exited in time.
    async fn stop_running(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<ExitReason, StopError> {
        if self.signal(Signal::Stop(reason), false).is_err() {
            return Err(StopError::NoProcess);
        }
        let exited = ExitWait {
            mailbox: &self.mailbox,
            key: WaiterKey::default(),
        };
        match Budget::new(timeout).wait_after_sending(exited, false).await {
            Ok(reason) => Ok(reason),
            Err(Elapsed) => {
                self.kill(ExitReason::Killed);
                Err(StopError::Timeout(timeout))
            }
        }
    }

    /// Delivers a signal, activating the actor if it was dormant, or
    /// killing it if it is an untrapped exit signal.
    pub(crate) fn signal(&self, signal: Signal, bounded: bool) -> Result<(), Signal> {
        match self.mailbox.push_signal(signal, bounded)? {
            Signaled::Queued(Some(activation)) => self.activate(activation),
            Signaled::Queued(None) | Signaled::Ignored => {}
            Signaled::Killed(kill) => {
                self.killed(kill);
            }
            Signaled::Overflowed(message) => {
                let letter = DeadLetter {
                    recipient: self.pid,
                    reason: DeadLetterReason::Overflow,
                    kind: MessageKind::System,
                    type_name: std::any::type_name::<SystemMessage>(),
                    message: Box::new(message),
                };
                self.deliver_dead_letter(letter);
            }
        }
        Ok(())
    }

    /// Kills the actor with `reason`. Returns `false` if it was already
    /// exiting.
    pub(crate) fn kill(&self, reason: ExitReason) -> bool {
        let kill = self.mailbox.kill(reason);
        self.killed(kill)
    }

    /// Finishes what a kill started: a dormant actor's state is dropped here
    /// (a panic in its `Drop` becomes the exit reason), any other runner
    /// finishes the exit itself.
    fn killed(&self, kill: Kill<Dormant<A>>) -> bool {
        match kill {
            Kill::Aborted | Kill::Pending => true,
            Kill::Dormant(dormant, reason) => {
                match drop_caught(dormant) {
                    Some(panic) => self.finish(panic, true),
                    None => self.finish(reason, false),
                };
                true
            }
            Kill::AlreadyExiting => false,
        }
    }
}

impl<A: Actor> Drop for Process<A> {
    /// A process nobody can reach any more (no reference, no task) can never
    /// receive another message. If it never exited, its dormant state is
    /// dropped here, with a panic contained, and its exit is published with
    /// a clear reason, so exit hooks (monitors' DOWNs) still run.
    fn drop(&mut self) {
        self.host.leave(self.place);
        let (dormant, unpublished) = self.mailbox.abandon();
        let panic = dormant.and_then(drop_caught);
        if unpublished {
            match panic {
                Some(panic) => self.finish(panic, true),
                None => self.finish(ExitReason::shutdown_because(NO_REFERENCES), false),
            };
        }
    }
}

/// The exit reason of a process freed because nothing referred to it.
pub(crate) const NO_REFERENCES: &str = "no references left";

/// Finishes an exit if the code that borrowed an actor's state on another
/// task (`start`'s `init`, a stopper's `terminate`) is dropped midway: a
/// cancelled caller never leaves a process that can neither run nor exit.
pub(crate) struct ExitGuard<'a, A: Actor> {
    process: Option<&'a Process<A>>,
}

impl<'a, A: Actor> ExitGuard<'a, A> {
    pub(crate) fn new(process: &'a Process<A>) -> Self {
        Self {
            process: Some(process),
        }
    }

    /// The exit is finished by the caller.
    pub(crate) fn disarm(&mut self) {
        self.process = None;
    }
}

impl<A: Actor> Drop for ExitGuard<'_, A> {
    fn drop(&mut self) {
        if let Some(process) = self.process.take() {
            process.finish(ExitReason::Killed, false);
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
