//! The dynamic supervisor (OTP's `simple_one_for_one`, Elixir's
//! `DynamicSupervisor`): many children of one spec, started at run time.
//!
//! A child is started on its caller's task and registered in a registry the
//! supervisor shares, so a start costs no round trip through the
//! supervisor's mailbox. The supervisor process handles the children's
//! exits: it restarts them one-for-one within its intensity, and on
//! shutdown it stops them all concurrently, each within its own shutdown.

use std::{convert::Infallible, fmt, future::Future, pin::Pin, sync::Arc};

use foundation_mailbox::{
    Actor, ActorOptions, Context, Down, ErrorCause, ExitHookId, ExitReason, ProcessRef,
    SystemMessage, start_with,
};

use crate::{
    ChildKind, Intensity, Restart, Shutdown, SupervisorError,
    child::stop,
    intensity::RestartLog,
    registry::{Registry, Slot},
};

type DynStart<T> = Arc<
    dyn Fn(T) -> Pin<Box<dyn Future<Output = Result<ProcessRef, ErrorCause>> + Send>> + Send + Sync,
>;

#[cfg(all(test, not(foundation_loom)))]
mod tests;

/// The one spec a dynamic supervisor's children share: a start function
/// taking each child's own argument, and the child's restart type, shutdown
/// and kind, plus the supervisor's intensity and `max_children`.
///
/// ```
/// use foundation_supervisor::{DynamicSpec, Restart};
/// # use foundation_mailbox::{Actor, Context};
/// # #[derive(Debug)] struct Connection;
/// # impl Actor for Connection {
/// #     type Args = u16; type Cast = (); type Call = (); type Reply = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: u16, _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Connection) }
/// #     async fn handle_cast(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// #     async fn handle_call(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// let spec = DynamicSpec::actor::<Connection>()
///     .restart(Restart::Transient)
///     .max_children(10_000);
/// assert_eq!(spec.max(), 10_000);
/// ```
pub struct DynamicSpec<T> {
    start: DynStart<T>,
    restart: Restart,
    pub(crate) shutdown: Shutdown,
    kind: ChildKind,
    intensity: Intensity,
    max_children: usize,
}

impl<T> Clone for DynamicSpec<T> {
    fn clone(&self) -> Self {
        Self {
            start: Arc::clone(&self.start),
            restart: self.restart,
            shutdown: self.shutdown,
            kind: self.kind,
            intensity: self.intensity,
            max_children: self.max_children,
        }
    }
}

impl<T> fmt::Debug for DynamicSpec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSpec")
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("kind", &self.kind)
            .field("intensity", &self.intensity)
            .field("max_children", &self.max_children)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + Sync + 'static> DynamicSpec<T> {
    /// Children started by `start(arg)`, an async function returning the new
    /// process. A restarted child gets the same argument again.
    pub fn new<F, Fut, E>(start: F) -> Self
    where
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ProcessRef, E>> + Send + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        Self {
            start: Arc::new(move |arg| {
                let started = start(arg);
                Box::pin(async move { started.await.map_err(ErrorCause::new) })
            }),
            restart: Restart::Permanent,
            shutdown: Shutdown::WORKER_DEFAULT,
            kind: ChildKind::Worker,
            intensity: Intensity::default(),
            max_children: usize::MAX,
        }
    }

    /// Sets the children's restart type (default permanent).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how each child is stopped (default five seconds, then a kill).
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Sets the children's kind (default worker).
    pub fn kind_of(mut self, kind: ChildKind) -> Self {
        self.kind = kind;
        self
    }

    /// Sets the restart intensity (default 3 in 5 seconds).
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// Sets the most children running or starting at once (default no limit).
    pub fn max_children(mut self, max_children: usize) -> Self {
        self.max_children = max_children;
        self
    }

    /// Checks OTP's rules before the supervisor starts: the intensity's
    /// period is not zero ([`SupervisorError::InvalidPeriod`]).
    pub fn validate(&self) -> Result<(), SupervisorError> {
        self.intensity.validate()
    }

    /// The `max_children` limit.
    pub fn max(&self) -> usize {
        self.max_children
    }
}

impl DynamicSpec<()> {
    /// A spec whose children run actor `A`, each started with its own args.
    pub fn actor<A: Actor>() -> DynamicSpec<A::Args>
    where
        A::Args: Clone + Sync,
    {
        Self::actor_with::<A>(ActorOptions::new())
    }

    /// Like [`actor`](Self::actor), with the actors' options.
    pub fn actor_with<A: Actor>(options: ActorOptions) -> DynamicSpec<A::Args>
    where
        A::Args: Clone + Sync,
    {
        DynamicSpec::new(move |args: A::Args| {
            let started = start_with::<A>(args, options.clone());
            async move { started.await.map(|(actor, _handle)| actor.process_ref()) }
        })
    }
}

impl crate::ChildSpec {
    /// A child that is a dynamic supervisor running `spec`: shutdown
    /// [`Infinity`](Shutdown::Infinity), kind [`Supervisor`](ChildKind::Supervisor).
    /// Reach it with [`DynamicSupervisorRef::from_process`](crate::DynamicSupervisorRef::from_process).
    pub fn dynamic_supervisor<T: Clone + Send + Sync + 'static>(
        id: impl Into<Arc<str>>,
        spec: DynamicSpec<T>,
    ) -> Self {
        Self::worker(id, move || {
            let spec = spec.clone();
            async move {
                start_with::<DynamicSupervisor<T>>(spec, ActorOptions::new())
                    .await
                    .map(|(actor, _handle)| actor.process_ref())
            }
        })
        .supervising()
    }
}

/// One registered child.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub(crate) process: ProcessRef,
    arg: T,
    hook: Option<ExitHookId>,
}

/// A dynamic supervisor's request for the state its handles share; made by
/// [`DynamicSupervisorRef`](crate::DynamicSupervisorRef), not by hand.
#[derive(Debug)]
pub struct HandleRequest(pub(crate) ());

/// What a dynamic supervisor's process and its handles share: its spec and
/// its children. Opaque; reached through [`DynamicSupervisorRef`](crate::DynamicSupervisorRef).
pub struct Shared<T> {
    pub(crate) spec: DynamicSpec<T>,
    pub(crate) registry: Registry<Entry<T>>,
}

impl<T> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl<T: Clone + Send + Sync + 'static> Shared<T> {
    /// Starts one child for `arg` in a reserved `slot` and registers it
    /// with `supervisor`.
    pub(crate) async fn start_child(
        &self,
        slot: Slot,
        arg: T,
        supervisor: &ProcessRef,
    ) -> Result<ProcessRef, SupervisorError> {
        // Dropped with this future (a cancelled start, a killed
        // supervisor) or on a failed start, the slot goes back.
        let reserved = self.registry.guard(slot);
        let process = crate::start::contained(|| (self.spec.start)(arg.clone()))
            .await
            .map_err(|cause| SupervisorError::ChildStart {
                id: "dynamic child".into(),
                cause,
            })?;
        let slot = reserved.take();
        let entry = Entry {
            process: process.clone(),
            arg,
            hook: None,
        };
        let inserted = self
            .registry
            .insert(slot, process.pid(), entry, |entry| tie(entry, supervisor));
        if let Err(entry) = inserted {
            // The supervisor shut down while the child started: it is ours to stop.
            stop(&entry.process, self.spec.shutdown).await;
            return Err(SupervisorError::Exited(
                supervisor
                    .exit_reason()
                    .unwrap_or_else(ExitReason::shutdown),
            ));
        }
        Ok(process)
    }

    /// Stops every child concurrently, each within its own shutdown.
    pub(crate) async fn stop_all(&self) {
        let children = self.registry.close();
        let shutdown = self.spec.shutdown;
        futures::future::join_all(children.into_iter().map(|entry| async move {
            untie(&entry);
            stop(&entry.process, shutdown).await
        }))
        .await;
    }
}

/// Reports the child's exit to the supervisor as a DOWN. Runs under the
/// registry lock, so the DOWN cannot be handled before the child is in.
fn tie<T>(entry: &mut Entry<T>, supervisor: &ProcessRef) {
    // A child that exited already is reported the same way, at once.
    entry.hook = entry
        .process
        .notify_on_exit(supervisor, foundation_mailbox::Reference::new());
}

pub(crate) fn untie<T>(entry: &Entry<T>) {
    if let Some(hook) = entry.hook {
        entry.process.cancel_exit_hook(hook);
    }
}

/// The dynamic supervisor's process. Start one with
/// [`DynamicSupervisor::start`](crate::DynamicSupervisor::start).
pub struct DynamicSupervisor<T: Clone + Send + Sync + 'static> {
    pub(crate) shared: Arc<Shared<T>>,
    restarts: RestartLog,
    me: ProcessRef,
}

impl<T: Clone + Send + Sync + 'static> fmt::Debug for DynamicSupervisor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSupervisor")
            .field("pid", &self.me.pid())
            .field("children", &self.shared.registry.len())
            .finish()
    }
}

impl<T: Clone + Send + Sync + 'static> DynamicSupervisor<T> {
    async fn child_exited(&mut self, down: Down, ctx: &mut Context<Self>) {
        // Not registered: stopped on purpose, or already shut down.
        let Some(entry) = self.shared.registry.remove(down.pid) else {
            return;
        };
        let restart = self.shared.spec.restart.restarts_after(&down.reason);
        tracing::debug!(target: "foundation::supervisor", supervisor = %self.me.pid(), child = %down.pid, reason = %down.reason, restart, "dynamic child exited");
        if !restart {
            return;
        }
        loop {
            if let Err(give_up) = self.restarts.add(self.me.pid()) {
                ctx.stop(give_up);
                return;
            }
            let slot = self.shared.registry.reclaim();
            match self
                .shared
                .start_child(slot, entry.arg.clone(), &self.me)
                .await
            {
                Ok(process) => {
                    tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), old = %down.pid, new = %process.pid(), "dynamic child restarted");
                    return;
                }
                // Shut down meanwhile: the new child was stopped again.
                Err(SupervisorError::Exited(_)) => return,
                Err(cause) => {
                    tracing::error!(target: "foundation::supervisor", supervisor = %self.me.pid(), %cause, "dynamic child failed to restart; trying again");
                }
            }
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Actor for DynamicSupervisor<T> {
    type Args = DynamicSpec<T>;
    type Cast = Infallible;
    type Call = HandleRequest;
    type Reply = Arc<Shared<T>>;
    type Error = SupervisorError;

    async fn init(spec: DynamicSpec<T>, ctx: &mut Context<Self>) -> Result<Self, SupervisorError> {
        spec.validate()?;
        ctx.trap_exits(true);
        let restarts = RestartLog::new(spec.intensity);
        let shared = Arc::new(Shared {
            registry: Registry::new(spec.max_children),
            spec,
        });
        let me = ctx.myself().process_ref();
        // However this process ends, even killed, no child outlives it: the
        // ones still registered get its exit signal.
        let link = Arc::clone(&shared);
        let pid = me.pid();
        let _ = me.on_exit(move |reason| {
            for entry in link.registry.close() {
                untie(&entry);
                entry.process.exit_signal(pid, reason.clone());
            }
        });
        Ok(Self {
            shared,
            restarts,
            me,
        })
    }

    async fn handle_cast(
        &mut self,
        never: Infallible,
        _: &mut Context<Self>,
    ) -> Result<(), SupervisorError> {
        match never {}
    }

    async fn handle_call(
        &mut self,
        _: HandleRequest,
        _: &mut Context<Self>,
    ) -> Result<Arc<Shared<T>>, SupervisorError> {
        Ok(Arc::clone(&self.shared))
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        ctx: &mut Context<Self>,
    ) -> Result<(), SupervisorError> {
        match message {
            SystemMessage::Down(down) => self.child_exited(down, ctx).await,
            SystemMessage::Exit { reason, .. } => {
                if !reason.is_normal() {
                    ctx.stop(reason);
                }
            }
        }
        Ok(())
    }

    async fn terminate(&mut self, reason: &ExitReason, _: &mut Context<Self>) {
        tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), %reason, children = self.shared.registry.len(), "dynamic supervisor shutting down");
        self.shared.stop_all().await;
    }
}
