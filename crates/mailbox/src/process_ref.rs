//! [`ProcessRef`]: any process, whatever its actor type, as monitors,
//! links and supervisors hold it; and the type-erased operations behind it.

use std::{
    any::Any,
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use crate::{
    Actor, ActorRef, Down, ExitReason, MailboxStats, Pid, Reference, StopError, SystemMessage,
    WaitTimeout,
    mailbox::{Hook, HookId},
    process::Process,
    system::Signal,
    wait::{Budget, Elapsed},
    waiters::WaiterKey,
};

/// The type-erased operations every process supports.
pub(crate) trait ErasedProcess: Send + Sync + fmt::Debug {
    fn pid(&self) -> Pid;
    fn is_alive(&self) -> bool;
    fn push_signal(&self, signal: Signal, bounded: bool) -> Result<(), Signal>;
    fn poll_exit(&self, cx: &mut Context<'_>, key: &mut WaiterKey) -> Poll<ExitReason>;
    fn cancel_wait(&self, key: &mut WaiterKey);
    fn exit_reason(&self) -> Option<ExitReason>;
    fn kill(&self) -> bool;
    fn stats(&self) -> MailboxStats;
    fn stop(&self, reason: ExitReason, timeout: Duration) -> StopFuture<'_>;
    fn add_exit_hook(&self, hook: Hook) -> Result<HookId, (Hook, ExitReason)>;
    fn flush_down(&self, reference: Reference) -> usize;
    fn remove_exit_hook(&self, id: HookId) -> bool;
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
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

    fn push_signal(&self, signal: Signal, bounded: bool) -> Result<(), Signal> {
        self.signal(signal, bounded)
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
        Process::kill(self, ExitReason::Killed)
    }

    fn stats(&self) -> MailboxStats {
        self.mailbox.stats()
    }

    fn stop(&self, reason: ExitReason, timeout: Duration) -> StopFuture<'_> {
        Box::pin(Process::stop(self, reason, timeout))
    }

    fn add_exit_hook(&self, hook: Hook) -> Result<HookId, (Hook, ExitReason)> {
        self.mailbox.add_exit_hook(hook)
    }

    fn remove_exit_hook(&self, id: HookId) -> bool {
        self.mailbox.remove_exit_hook(id)
    }

    fn flush_down(&self, reference: Reference) -> usize {
        self.mailbox.flush_down(reference)
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// Identifies a hook registered with [`ProcessRef::on_exit`], to cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExitHookId(HookId);

/// A reference to any process, whatever its actor type: what monitors,
/// links and supervisors hold.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Actor, Context, ExitReason, start};
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
    /// lane, in Erlang's order: the actor sees it after the user messages
    /// already queued when it arrived, and before any that arrive later.
    /// Gives it back if the process has exited.
    ///
    /// The lane holds at most the mailbox's capacity of messages sent this
    /// way: one more is handed to dead letters ([`MessageKind::System`](crate::MessageKind::System),
    /// [`DeadLetterReason::Overflow`](crate::DeadLetterReason::Overflow)) and counted in
    /// [`MailboxStats::dropped`](crate::MailboxStats::dropped). The DOWNs
    /// of [`notify_on_exit`](Self::notify_on_exit) and exit signals from
    /// links are not bounded this way: each registration sends one.
    pub fn send_system(&self, message: SystemMessage) -> Result<(), SystemMessage> {
        self.0
            .push_signal(Signal::Message(message), true)
            .map_err(|signal| match signal {
                Signal::Message(message) => message,
                // Only `Message` was pushed, so only `Message` comes back.
                Signal::Stop(reason) | Signal::Exit { reason, .. } => SystemMessage::Exit {
                    from: self.pid(),
                    reason,
                },
                Signal::Timer(_) => SystemMessage::Exit {
                    from: self.pid(),
                    reason: crate::ExitReason::NoProcess,
                },
            })
    }

    /// Delivers a monitor's one DOWN through the system lane, in Erlang's
    /// order, like [`send_system`](Self::send_system) but not bounded by the
    /// lane's capacity: a monitor sends at most one DOWN, so the lane holds
    /// at most one per monitor the process has, and OTP never drops a DOWN.
    /// For monitor implementations (`foundation-monitor-manager` uses it);
    /// anything else goes through the bounded `send_system`. Returns
    /// `false` if the process has exited: nobody is left to tell.
    pub fn send_down(&self, down: Down) -> bool {
        self.0
            .push_signal(Signal::Message(SystemMessage::Down(down)), false)
            .is_ok()
    }

    /// Removes the DOWN of the monitor `reference` from the process's
    /// mailbox if the actor has not taken it yet; returns how many went. A
    /// monitor that is dropped flushes its pending DOWN this way (OTP's
    /// `demonitor(Ref, [flush])`). A DOWN the actor has already taken is not
    /// affected.
    pub fn flush_down(&self, reference: Reference) -> usize {
        self.0.flush_down(reference)
    }

    /// Sends an exit signal from `from`, as a link does when `from` exits.
    /// With OTP's semantics: an actor that traps exits receives
    /// [`SystemMessage::Exit`]; otherwise a `Normal` reason is ignored and any
    /// other reason ends the actor with that reason (without `terminate`).
    /// Returns `false` if the process has already exited.
    pub fn exit_signal(&self, from: Pid, reason: ExitReason) -> bool {
        self.0
            .push_signal(Signal::Exit { from, reason }, false)
            .is_ok()
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
    /// #     type Args = (); type Msg = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Idle) }
    /// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
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
        self.0
            .add_exit_hook(Hook::Run(Box::new(hook)))
            .map(ExitHookId)
            .map_err(|(_, reason)| reason)
    }

    /// Delivers a [`SystemMessage::Down`] with `reference` into `watcher`'s
    /// system lane when this process exits: OTP's monitor, at the cost of
    /// one allocation and no closure. What supervisors and monitors build
    /// on. If the process has already exited, the DOWN is delivered at once
    /// with its exit reason and `None` comes back: as with an OTP monitor,
    /// the watcher learns of the exit either way.
    ///
    /// `watcher` is a `ProcessRef` or an `ActorRef`, borrowed (its count
    /// goes up once, for the hook) or given away (moved into the hook).
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation_mailbox::{ExitReason, Reference, start};
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
    /// let (watcher, _w) = start::<Idle>(()).await.unwrap();
    /// let (target, _t) = start::<Idle>(()).await.unwrap();
    /// let reference = Reference::new();
    /// assert!(target.process_ref().notify_on_exit(&watcher, reference).is_some());
    /// target.stop(ExitReason::Normal, Duration::from_secs(1)).await.unwrap();
    /// // `watcher`'s `handle_system` now receives the DOWN; watching the
    /// // exited target again delivers another DOWN at once.
    /// assert!(target.process_ref().notify_on_exit(&watcher, Reference::new()).is_none());
    /// # }
    /// ```
    pub fn notify_on_exit(
        &self,
        watcher: impl Into<ProcessRef>,
        reference: Reference,
    ) -> Option<ExitHookId> {
        let hook = Hook::Down {
            watcher: watcher.into(),
            pid: self.pid(),
            reference,
        };
        match self.0.add_exit_hook(hook) {
            Ok(id) => Some(ExitHookId(id)),
            Err((hook, reason)) => {
                hook.run(&reason);
                None
            }
        }
    }

    /// Cancels a hook from [`on_exit`](Self::on_exit). Returns `false` if
    /// it already ran or is running.
    pub fn cancel_exit_hook(&self, hook: ExitHookId) -> bool {
        self.0.remove_exit_hook(hook.0)
    }

    /// The typed reference back, if the process runs actor `A`: how code
    /// that holds processes by [`ProcessRef`] (a supervisor's children)
    /// talks to one with its own messages.
    ///
    /// ```
    /// use foundation_mailbox::{ActorRef, start};
    /// # use foundation_mailbox::{Actor, Context};
    /// # #[derive(Debug)] struct Idle;
    /// # impl Actor for Idle {
    /// #     type Args = (); type Msg = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Idle) }
    /// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    /// # #[derive(Debug)] struct Other;
    /// # impl Actor for Other {
    /// #     type Args = (); type Msg = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Other) }
    /// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (idle, _handle) = start::<Idle>(()).await.unwrap();
    /// let process = idle.process_ref();
    /// assert_eq!(process.downcast::<Idle>(), Some(idle));
    /// assert!(process.downcast::<Other>().is_none());
    /// # }
    /// ```
    pub fn downcast<A: Actor>(&self) -> Option<ActorRef<A>> {
        Arc::clone(&self.0)
            .into_any()
            .downcast::<Process<A>>()
            .ok()
            .map(|process| ActorRef { process })
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
