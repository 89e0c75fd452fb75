//! The process cell shared by an actor's task and its references, and the
//! type-erased [`ProcessRef`] that monitors, links and supervisors hold.

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
    ExitReason, MailboxStats, MessageKind, Overflow, Pid, StopError, SystemMessage, WaitTimeout,
    mailbox::{Activation, ExitHook, Kill, Mailbox, Pushed},
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
        let Some(me) = self.me.upgrade() else {
            return Err(StopError::NoProcess);
        };
        // Whatever happens to this future, the exit is finished.
        let mut exit = InlineExit {
            process: self,
            reason: Some(ExitReason::Killed),
        };
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

/// Finishes an exit when dropped: a stop run on the stopper's task ends the
/// actor even if the stopper is cancelled midway.
struct InlineExit<'a, A: Actor> {
    process: &'a Process<A>,
    reason: Option<ExitReason>,
}

impl<A: Actor> Drop for InlineExit<'_, A> {
    fn drop(&mut self) {
        if let Some(reason) = self.reason.take() {
            self.process.finish(&mut VecDeque::new(), reason);
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

/// The type-erased operations every process supports.
pub(crate) trait ErasedProcess: Send + Sync + fmt::Debug {
    fn pid(&self) -> Pid;
    fn is_alive(&self) -> bool;
    fn push_signal(&self, signal: Signal) -> Result<(), Signal>;
    fn poll_exit(&self, cx: &mut Context<'_>, key: &mut WaiterKey) -> Poll<ExitReason>;
    fn cancel_wait(&self, key: &mut WaiterKey);
    fn exit_reason(&self) -> Option<ExitReason>;
    fn kill(&self) -> bool;
    fn stats(&self) -> MailboxStats;
    fn stop(&self, reason: ExitReason, timeout: Duration) -> StopFuture<'_>;
    fn add_exit_hook(&self, hook: ExitHook) -> Result<u64, ExitReason>;
    fn flush_system(&self, matches: &mut dyn FnMut(&SystemMessage) -> bool) -> usize;
    fn remove_exit_hook(&self, id: u64) -> bool;
}

/// A type-erased stop in progress.
pub(crate) type StopFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ExitReason, StopError>> + Send + 'a>>;

impl<A: Actor> ErasedProcess for Process<A> {
    fn pid(&self) -> Pid {
        self.pid
    }

    fn is_alive(&self) -> bool {
        self.mailbox.is_open()
    }

    fn push_signal(&self, signal: Signal) -> Result<(), Signal> {
        self.signal(signal)
    }

    fn poll_exit(&self, cx: &mut Context<'_>, key: &mut WaiterKey) -> Poll<ExitReason> {
        self.mailbox.poll_exit(cx, key)
    }

    fn cancel_wait(&self, key: &mut WaiterKey) {
        self.mailbox.cancel_wait(key);
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        self.mailbox.exit_reason()
    }

    fn kill(&self) -> bool {
        Process::kill(self)
    }

    fn stats(&self) -> MailboxStats {
        self.mailbox.stats()
    }

    fn stop(&self, reason: ExitReason, timeout: Duration) -> StopFuture<'_> {
        Box::pin(Process::stop(self, reason, timeout))
    }

    fn add_exit_hook(&self, hook: ExitHook) -> Result<u64, ExitReason> {
        self.mailbox
            .add_exit_hook(hook)
            .map_err(|(_, reason)| reason)
    }

    fn remove_exit_hook(&self, id: u64) -> bool {
        self.mailbox.remove_exit_hook(id)
    }

    fn flush_system(&self, matches: &mut dyn FnMut(&SystemMessage) -> bool) -> usize {
        self.mailbox.flush_system(matches)
    }
}

/// Identifies a hook registered with [`ProcessRef::on_exit`], to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExitHookId(u64);

/// A reference to any process, whatever its actor type: what monitors,
/// links and supervisors hold.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Actor, Context, ExitReason, start};
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
/// let (idle, _handle) = start::<Idle>(()).await.unwrap();
/// let process = idle.process_ref();
/// assert!(process.is_alive());
/// process.stop(ExitReason::shutdown(), Duration::from_secs(1)).await.unwrap();
/// assert_eq!(process.exit_reason(), Some(ExitReason::shutdown()));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct ProcessRef(pub(crate) Arc<dyn ErasedProcess>);

impl PartialEq for ProcessRef {
    /// Two references are equal when they name the same process.
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl Eq for ProcessRef {}

impl std::hash::Hash for ProcessRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.pid().hash(state);
    }
}

impl ProcessRef {
    /// The process's pid.
    pub fn pid(&self) -> Pid {
        self.0.pid()
    }

    /// Whether the process still accepts messages.
    pub fn is_alive(&self) -> bool {
        self.0.is_alive()
    }

    /// The exit reason, once the process has exited.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.0.exit_reason()
    }

    /// A snapshot of the process's mailbox.
    pub fn mailbox_stats(&self) -> MailboxStats {
        self.0.stats()
    }

    /// Delivers a system message (a monitor's DOWN, say) through the system
    /// lane, ahead of queued user messages. Gives it back if the process has
    /// exited.
    pub fn send_system(&self, message: SystemMessage) -> Result<(), SystemMessage> {
        self.0
            .push_signal(Signal::Message(message))
            .map_err(|signal| match signal {
                Signal::Message(message) => message,
                // Only `Message` was pushed, so only `Message` comes back.
                Signal::Stop(reason) | Signal::Exit { reason, .. } => SystemMessage::Exit {
                    from: self.pid(),
                    reason,
                },
            })
    }

    /// Removes queued system messages for which `matches` is true, before
    /// the actor sees them; returns how many. A monitor that is dropped
    /// flushes its pending DOWN this way (OTP's `demonitor(Ref, [flush])`).
    /// Messages the actor has already taken are not affected.
    pub fn flush_system(&self, mut matches: impl FnMut(&SystemMessage) -> bool) -> usize {
        self.0.flush_system(&mut matches)
    }

    /// Sends an exit signal from `from`, as a link does when `from` exits.
    /// With OTP's semantics: an actor that traps exits receives
    /// [`SystemMessage::Exit`]; otherwise a `Normal` reason is ignored and any
    /// other reason ends the actor with that reason (without `terminate`).
    /// Returns `false` if the process has already exited.
    pub fn exit_signal(&self, from: Pid, reason: ExitReason) -> bool {
        self.0.push_signal(Signal::Exit { from, reason }).is_ok()
    }

    /// Kills the process at its next await point: no `terminate`, exit reason
    /// [`ExitReason::Killed`]. Returns `false` if it was already exiting.
    pub fn kill(&self) -> bool {
        self.0.kill()
    }

    /// Stops the process with OTP's shutdown semantics: asks it to stop with
    /// `reason` (it finishes the message it is handling and runs
    /// `terminate`), waits up to `timeout`, and kills it if it has not exited
    /// by then, returning [`StopError::Timeout`]. Either way the process is
    /// gone, or going at its next await point, when this returns.
    pub async fn stop(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<ExitReason, StopError> {
        self.0.stop(reason, timeout).await
    }

    /// Waits up to `timeout` for the process to exit and returns why it did.
    pub async fn wait_for_exit(&self, timeout: Duration) -> Result<ExitReason, WaitTimeout> {
        Budget::new(timeout)
            .wait(self.exited())
            .await
            .map_err(|Elapsed| WaitTimeout(timeout))
    }

    /// Runs `hook` once, with the exit reason, right after the process's exit
    /// is published: the building block of monitors and links, at the cost
    /// of one small entry in the process's own cell (no task, no global
    /// lock). The hook runs on whichever task finishes the exit, outside
    /// every lock, so it must be quick and must not block: deliver a system
    /// message, wake a future. If the process has already exited, the hook
    /// is dropped unrun and its exit reason returned, so the caller can act
    /// on it at once (a monitor delivers its DOWN).
    ///
    /// ```
    /// use std::{sync::{Arc, Mutex}, time::Duration};
    /// use foundation_mailbox::{ExitReason, start};
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
    /// let (idle, _handle) = start::<Idle>(()).await.unwrap();
    /// let seen = Arc::new(Mutex::new(None));
    /// let record = seen.clone();
    /// idle.process_ref()
    ///     .on_exit(move |reason| *record.lock().unwrap() = Some(reason.clone()))
    ///     .unwrap();
    /// idle.stop(ExitReason::Normal, Duration::from_secs(1)).await.unwrap();
    /// assert_eq!(*seen.lock().unwrap(), Some(ExitReason::Normal));
    /// // Too late now: the reason comes back instead.
    /// assert_eq!(idle.process_ref().on_exit(|_| {}), Err(ExitReason::Normal));
    /// # }
    /// ```
    pub fn on_exit(
        &self,
        hook: impl FnOnce(&ExitReason) + Send + 'static,
    ) -> Result<ExitHookId, ExitReason> {
        self.0.add_exit_hook(Box::new(hook)).map(ExitHookId)
    }

    /// Cancels a hook from [`on_exit`](Self::on_exit). Returns `false` if
    /// it already ran or is running.
    pub fn cancel_exit_hook(&self, hook: ExitHookId) -> bool {
        self.0.remove_exit_hook(hook.0)
    }

    /// A future that resolves when the process exits. It does not time out
    /// by itself: use it inside `select!` or a timeout, or use
    /// [`wait_for_exit`](Self::wait_for_exit).
    pub fn exited(&self) -> Exited {
        Exited {
            process: self.clone(),
            key: WaiterKey::default(),
        }
    }
}

/// Resolves with a process's exit reason. Made by [`ProcessRef::exited`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Exited {
    process: ProcessRef,
    key: WaiterKey,
}

impl Future for Exited {
    type Output = ExitReason;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ExitReason> {
        let this = self.get_mut();
        this.process.0.poll_exit(cx, &mut this.key)
    }
}

impl Drop for Exited {
    fn drop(&mut self) {
        self.process.0.cancel_wait(&mut self.key);
    }
}
