//! Child specifications: what a supervisor starts, and how it treats the
//! child when it exits (OTP's `child_spec()`).

use std::{error::Error, fmt, future::Future, pin::Pin, sync::Arc, time::Duration};

use foundation_mailbox::{Actor, ActorOptions, ErrorCause, ExitReason};
use futures::FutureExt;

use crate::{Started, SupervisorSpec, directory::ActorType, start::start_actor};

/// The future a child's start function returns.
pub type StartFuture = Pin<Box<dyn Future<Output = Result<Started, ErrorCause>> + Send>>;

/// A child's start function, called again on every restart.
type StartFn = Arc<dyn Fn() -> StartFuture + Send + Sync>;

/// When a child is restarted after it exits (OTP's `restart`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted.
    #[default]
    Permanent,
    /// Restarted only after an abnormal exit: not after
    /// [`ExitReason::Normal`](foundation_mailbox::ExitReason::Normal) or
    /// [`ExitReason::Shutdown`](foundation_mailbox::ExitReason::Shutdown).
    Transient,
    /// Never restarted, not even when a sibling's failure takes it down
    /// under one-for-all or rest-for-one; its spec is forgotten when it exits.
    Temporary,
}

impl Restart {
    /// Whether a child of this restart type is restarted after it exited
    /// with `reason`.
    ///
    /// ```
    /// use foundation::mailbox::ExitReason;
    /// use foundation::supervisor::Restart;
    ///
    /// assert!(Restart::Permanent.restarts_after(&ExitReason::Normal));
    /// assert!(!Restart::Transient.restarts_after(&ExitReason::shutdown()));
    /// assert!(Restart::Transient.restarts_after(&ExitReason::panic("boom")));
    /// assert!(!Restart::Temporary.restarts_after(&ExitReason::panic("boom")));
    /// ```
    pub fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_normal(),
            Restart::Temporary => false,
        }
    }
}

/// How a supervisor stops a child (OTP's `shutdown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Kill at once: no `terminate`.
    BrutalKill,
    /// Ask the child to stop, wait this long for it to exit, then kill it.
    Timeout(Duration),
    /// Ask the child to stop and wait as long as it takes: the default for
    /// supervisors, whose own children's shutdowns bound the wait.
    Infinity,
}

impl Shutdown {
    /// The default for workers: ask, wait five seconds, then kill.
    pub const WORKER_DEFAULT: Shutdown = Shutdown::Timeout(Duration::from_secs(5));
}

/// Whether a child is a worker or a supervisor (OTP's `type`). It decides the
/// default shutdown and shows in
/// [`count_children`](crate::SupervisorRef::count_children).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChildKind {
    /// Does the work.
    Worker,
    /// Supervises its own children.
    Supervisor,
}

/// How to start one child and how to treat it when it exits.
///
/// ```
/// use std::time::Duration;
/// use foundation::supervisor::{ChildKind, ChildSpec, Restart, Shutdown};
/// # use foundation::mailbox::{Actor, Context};
/// # #[derive(Debug)] struct Worker;
/// # impl Actor for Worker {
/// #     type Args = u32; type Msg = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: u32, _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Worker) }
/// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// let spec = ChildSpec::actor::<Worker>("cache", 42)
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(1)));
/// assert_eq!(spec.id(), "cache");
/// assert_eq!(spec.kind(), ChildKind::Worker);
/// assert_eq!(spec.restart_type(), Restart::Transient);
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    id: Arc<str>,
    start: StartFn,
    restart: Restart,
    shutdown: Shutdown,
    kind: ChildKind,
    significant: bool,
    /// The actor type the start function starts, when it is known.
    actor_type: Option<ActorType>,
}

impl ChildSpec {
    /// A worker started by `start`, an async function that returns the new
    /// process or a typed error. It is called again on every restart. To
    /// say "not now" or hand back a value beside the process, it returns a
    /// [`Started`] instead of the process.
    ///
    /// ```
    /// use foundation::mailbox::start;
    /// use foundation::supervisor::ChildSpec;
    /// # use foundation::mailbox::{Actor, Context};
    /// # #[derive(Debug)] struct Worker;
    /// # impl Actor for Worker {
    /// #     type Args = (); type Msg = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Worker) }
    /// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    ///
    /// let spec = ChildSpec::worker("worker", || async {
    ///     let (worker, _handle) = start::<Worker>(()).await?;
    ///     Ok::<_, foundation::mailbox::StartError>(worker.process_ref())
    /// });
    /// assert_eq!(spec.id(), "worker");
    /// ```
    pub fn worker<F, Fut, S, E>(id: impl Into<Arc<str>>, start: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, E>> + Send + 'static,
        S: Into<Started>,
        E: Error + Send + Sync + 'static,
    {
        let start: StartFn = Arc::new(move || {
            // A combinator, not an async block: an async block that awaits
            // the future it captured lays it out twice (as the capture and
            // as the awaited value), doubling the box. Built in a spare box
            // of this thread's, if a start left one (see `contained`).
            foundation_mailbox::__private::boxed(|| {
                start().map(|started| started.map(Into::into).map_err(ErrorCause::new))
            })
        });
        Self {
            id: id.into(),
            start,
            restart: Restart::Permanent,
            shutdown: Shutdown::WORKER_DEFAULT,
            kind: ChildKind::Worker,
            significant: false,
            actor_type: None,
        }
    }

    /// A worker that runs actor `A`, started with a clone of `args` each
    /// time, with default [`ActorOptions`].
    pub fn actor<A: Actor>(id: impl Into<Arc<str>>, args: A::Args) -> Self
    where
        A::Args: Clone + Sync,
    {
        Self::actor_with::<A>(id, args, ActorOptions::new())
    }

    /// Like [`actor`](Self::actor), with the actor's options.
    pub fn actor_with<A: Actor>(
        id: impl Into<Arc<str>>,
        args: A::Args,
        options: ActorOptions,
    ) -> Self
    where
        A::Args: Clone + Sync,
    {
        Self::worker(id, move || start_actor::<A>(args.clone(), options.clone())).starting::<A>()
    }

    /// A child that is itself a supervisor running `spec`: shutdown
    /// [`Infinity`](Shutdown::Infinity), kind [`Supervisor`](ChildKind::Supervisor).
    pub fn supervisor(id: impl Into<Arc<str>>, spec: SupervisorSpec) -> Self {
        let child = Self::worker(id, move || {
            let spec = spec.clone();
            async move {
                crate::Supervisor::start(spec)
                    .await
                    .map(|sup| sup.process_ref())
            }
        });
        child.supervising().starting::<crate::Supervisor>()
    }

    /// Records that the start function starts actor `A`, so
    /// [`SupervisorRef::child_ref`](crate::SupervisorRef::child_ref) checks
    /// the type without the child running.
    pub(crate) fn starting<A: 'static>(mut self) -> Self {
        self.actor_type = Some(ActorType::of::<A>());
        self
    }

    /// The actor type the start function starts, when it is known.
    pub(crate) fn actor_type(&self) -> Option<ActorType> {
        self.actor_type
    }

    /// A supervisor child's defaults: kind supervisor, and shutdown
    /// infinity, since its own children's shutdowns bound its stop.
    pub(crate) fn supervising(self) -> Self {
        self.kind_of(ChildKind::Supervisor)
            .shutdown(Shutdown::Infinity)
    }

    /// Sets the restart type (default [`Restart::Permanent`]).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how the child is stopped (default five seconds for workers,
    /// [`Shutdown::Infinity`] for supervisors).
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Sets the kind. [`ChildSpec::supervisor`] sets it already; use this
    /// for a supervisor started by a custom function.
    pub fn kind_of(mut self, kind: ChildKind) -> Self {
        self.kind = kind;
        self
    }

    /// Marks the child significant for the supervisor's
    /// [`AutoShutdown`](crate::AutoShutdown): its own exit (without a
    /// restart) can end the supervisor. Only transient and temporary
    /// children may be significant.
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// The child's id, unique within its supervisor.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// How the child is stopped.
    pub fn shutdown_mode(&self) -> Shutdown {
        self.shutdown
    }

    /// Worker or supervisor.
    pub fn kind(&self) -> ChildKind {
        self.kind
    }

    /// Whether the child is significant.
    pub fn is_significant(&self) -> bool {
        self.significant
    }

    pub(crate) fn shared_id(&self) -> Arc<str> {
        Arc::clone(&self.id)
    }

    /// Runs the start function; a panic in it is a start error.
    pub(crate) async fn run_start(&self) -> Result<Started, ErrorCause> {
        crate::start::contained(|| self.start_future()).await
    }

    /// The start function's future, not yet polled.
    pub(crate) fn start_future(&self) -> StartFuture {
        (self.start)()
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("kind", &self.kind)
            .field("significant", &self.significant)
            .finish_non_exhaustive()
    }
}
