//! The dynamic supervisor (OTP's `simple_one_for_one`, Elixir's
//! `DynamicSupervisor`): many children of one spec, started at run time.
//!
//! A child is started on its caller's task and registered in a registry the
//! supervisor shares, so a start costs no round trip through the
//! supervisor's mailbox. The supervisor process handles the children's
//! exits: it restarts them one-for-one within its intensity, and on
//! shutdown it stops them all concurrently, each within its own shutdown.

use std::{fmt, future::Future, pin::Pin, sync::Arc};

use foundation_mailbox::{Actor, ActorOptions, ErrorCause, start_with};
use futures::FutureExt;

use crate::{
    ChildKind, Intensity, Restart, Shutdown, Started, SupervisorError, start::start_actor,
};

mod children;
mod process;

pub(crate) use self::children::untie;
pub use self::{
    children::Shared,
    process::{DynamicSupervisor, DynamicSupervisorMsg},
};

type DynStart<T> = Arc<
    dyn Fn(T) -> Pin<Box<dyn Future<Output = Result<Started, ErrorCause>> + Send>> + Send + Sync,
>;

#[cfg(all(test, not(foundation_loom)))]
pub(crate) mod tests;

/// The one spec a dynamic supervisor's children share: a start function
/// taking each child's own argument, and the child's restart type, shutdown
/// and kind, plus the supervisor's intensity and `max_children`.
///
/// ```
/// use foundation::supervisor::{DynamicSpec, Restart};
/// # use foundation::mailbox::{Actor, Context};
/// # #[derive(Debug)] struct Connection;
/// # impl Actor for Connection {
/// #     type Args = u16; type Msg = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: u16, _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Connection) }
/// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// let spec = DynamicSpec::actor::<Connection>()
///     .restart(Restart::Transient)
///     .max_children(10_000);
/// assert_eq!(spec.max(), 10_000);
/// ```
pub struct DynamicSpec<T> {
    start: DynStart<T>,
    /// Copies a child's argument for each restart; `None` for a temporary
    /// spec, whose argument is moved into its one start.
    clone_arg: Option<fn(&T) -> T>,
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
            clone_arg: self.clone_arg,
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

impl<T: Clone + Send + 'static> DynamicSpec<T> {
    /// Children started by `start(arg)`, an async function returning the new
    /// process (or a [`Started`]: with info, or ignored). A restarted child
    /// gets a copy of the same argument again.
    pub fn new<F, Fut, S, E>(start: F) -> Self
    where
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, E>> + Send + 'static,
        S: Into<Started>,
        E: std::error::Error + Send + Sync + 'static,
    {
        DynamicSpec {
            clone_arg: Some(T::clone),
            restart: Restart::Permanent,
            ..DynamicSpec::temporary(start)
        }
    }

    /// Sets the children's restart type (default permanent).
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self.clone_arg = Some(T::clone);
        self
    }
}

impl<T: Send + 'static> DynamicSpec<T> {
    /// Temporary children started by `start(arg)`: never restarted, so the
    /// argument is moved into the one start and needs no `Clone` (a
    /// connection actor can take its socket).
    ///
    /// ```
    /// use foundation::supervisor::{DynamicSpec, Restart};
    /// # use foundation::mailbox::{Actor, Context};
    /// # #[derive(Debug)] struct Connection;
    /// # impl Actor for Connection {
    /// #     type Args = std::net::TcpStream; type Msg = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn init(_: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Connection) }
    /// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    ///
    /// // A TcpStream is not Clone: only a temporary spec can take it.
    /// let spec = DynamicSpec::temporary_actor::<Connection>();
    /// assert_eq!(spec.restart_type(), Restart::Temporary);
    /// ```
    pub fn temporary<F, Fut, S, E>(start: F) -> Self
    where
        F: Fn(T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, E>> + Send + 'static,
        S: Into<Started>,
        E: std::error::Error + Send + Sync + 'static,
    {
        Self {
            start: Arc::new(move |arg| {
                // A combinator, not an async block, in a spare box: see
                // `ChildSpec::worker`.
                foundation_mailbox::__private::boxed(|| {
                    start(arg).map(|started| started.map(Into::into).map_err(ErrorCause::new))
                })
            }),
            clone_arg: None,
            restart: Restart::Temporary,
            shutdown: Shutdown::WORKER_DEFAULT,
            kind: ChildKind::Worker,
            intensity: Intensity::default(),
            max_children: usize::MAX,
        }
    }

    /// The children's restart type.
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// The children's kind.
    pub fn kind(&self) -> ChildKind {
        self.kind
    }

    /// Splits a child's argument into the one its start gets and the copy
    /// kept for its restarts (none for a temporary child).
    pub(crate) fn split_arg(&self, arg: T) -> (T, Option<T>) {
        match self.clone_arg {
            Some(clone) if self.restart != Restart::Temporary => (clone(&arg), Some(arg)),
            _ => (arg, None),
        }
    }

    /// A copy of a kept argument, for one restart attempt.
    pub(crate) fn copy_arg(&self, arg: &T) -> Option<T> {
        self.clone_arg.map(|clone| clone(arg))
    }

    pub(crate) fn start_future(
        &self,
        arg: T,
    ) -> Pin<Box<dyn Future<Output = Result<Started, ErrorCause>> + Send>> {
        (self.start)(arg)
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
    /// A spec whose children run actor `A`, each started with its own args
    /// (copied again for each restart).
    pub fn actor<A: Actor>() -> DynamicSpec<A::Args>
    where
        A::Args: Clone,
    {
        Self::actor_with::<A>(ActorOptions::new())
    }

    /// Like [`actor`](Self::actor), with the actors' options.
    pub fn actor_with<A: Actor>(options: ActorOptions) -> DynamicSpec<A::Args>
    where
        A::Args: Clone,
    {
        DynamicSpec::new(move |args: A::Args| start_actor::<A>(args, options.clone()))
    }

    /// A spec whose temporary children run actor `A`, each started once
    /// with args moved in: no `Clone` needed.
    pub fn temporary_actor<A: Actor>() -> DynamicSpec<A::Args> {
        Self::temporary_actor_with::<A>(ActorOptions::new())
    }

    /// Like [`temporary_actor`](Self::temporary_actor), with the actors' options.
    pub fn temporary_actor_with<A: Actor>(options: ActorOptions) -> DynamicSpec<A::Args> {
        DynamicSpec::temporary(move |args: A::Args| start_actor::<A>(args, options.clone()))
    }
}

impl crate::ChildSpec {
    /// A child that is a dynamic supervisor running `spec`: shutdown
    /// [`Infinity`](Shutdown::Infinity), kind [`Supervisor`](ChildKind::Supervisor).
    /// Reach it with [`DynamicSupervisorRef::from_process`](crate::DynamicSupervisorRef::from_process).
    pub fn dynamic_supervisor<T: Send + 'static>(
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
        .starting::<DynamicSupervisor<T>>()
    }
}
