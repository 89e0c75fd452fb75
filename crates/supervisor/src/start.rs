//! What a start function returns ([`Started`]: OTP's `{ok, Pid}`,
//! `{ok, Pid, Info}` and `ignore`), and running one so that a panic in it
//! becomes a typed start error instead of taking the supervisor (or the
//! caller) down, as OTP turns a crashing start into an error return.

use std::{
    any::Any,
    fmt,
    future::Future,
    panic::{AssertUnwindSafe, catch_unwind},
    pin::Pin,
    sync::Arc,
};

use foundation_mailbox::{
    Actor, ActorOptions, ActorRef, ErrorCause, ProcessRef, StartError, start_with,
};
use futures::FutureExt;

use crate::error::StartPanicked;

/// What a child's start function produced, and what
/// [`SupervisorRef::start_child`](crate::SupervisorRef::start_child),
/// [`SupervisorRef::restart_child`](crate::SupervisorRef::restart_child) and
/// [`DynamicSupervisorRef::start_child`](crate::DynamicSupervisorRef::start_child)
/// answer.
///
/// A start function returns a `ProcessRef` in the common case (it converts
/// into [`Started::Running`] without info); it returns a `Started` to say
/// more:
/// - [`Started::with_info`]: running, with a value for the caller of
///   `start_child` beside it (OTP's `{ok, Pid, Info}`);
/// - [`Started::Ignored`]: "not now", no process runs (OTP's `ignore`). A
///   static child stays listed as not running (a temporary one is not
///   kept); a dynamic child is not added, and a dynamic child whose restart
///   answers `Ignored` is removed.
///
/// ```
/// use foundation::mailbox::{StartError, start};
/// use foundation::supervisor::{ChildSpec, Started, Strategy, Supervisor, SupervisorSpec};
/// # use foundation::mailbox::{Actor, Context};
/// # #[derive(Debug)] struct Listener;
/// # impl Actor for Listener {
/// #     type Args = (); type Msg = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Listener) }
/// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// // Runs only when enabled, and says where it listens.
/// fn listener(id: &'static str, enabled: bool) -> ChildSpec {
///     ChildSpec::worker(id, move || async move {
///         if !enabled {
///             return Ok(Started::Ignored);
///         }
///         let (listener, _) = start::<Listener>(()).await?;
///         Ok::<_, StartError>(Started::with_info(listener.process_ref(), 8080_u16))
///     })
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let tree = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(listener("off", false)))
///     .await
///     .unwrap();
/// assert!(tree.whereis("off").is_none(), "listed, not running");
/// assert!(tree.start_child(listener("later", false)).await.unwrap().is_ignored());
/// let started = tree.start_child(listener("on", true)).await.unwrap();
/// assert_eq!(started.info::<u16>(), Some(&8080));
/// # }
/// ```
#[derive(Clone)]
pub enum Started {
    /// The child runs as `process`.
    Running {
        /// The child's process.
        process: ProcessRef,
        /// What the start function handed back beside it, if anything.
        info: Option<Arc<dyn Any + Send + Sync>>,
    },
    /// The start function said "not now": no process runs.
    Ignored,
}

impl Started {
    /// Running as `process`, with `info` for the caller of `start_child`
    /// (read it back with [`info`](Self::info)).
    pub fn with_info(process: ProcessRef, info: impl Any + Send + Sync) -> Self {
        Self::Running {
            process,
            info: Some(Arc::new(info)),
        }
    }

    /// The child's process, unless the start was ignored.
    pub fn process(&self) -> Option<&ProcessRef> {
        match self {
            Self::Running { process, .. } => Some(process),
            Self::Ignored => None,
        }
    }

    /// The child's process, unless the start was ignored.
    pub fn into_process(self) -> Option<ProcessRef> {
        match self {
            Self::Running { process, .. } => Some(process),
            Self::Ignored => None,
        }
    }

    /// The child as actor `A`, unless the start was ignored or the child
    /// runs another type.
    pub fn downcast<A: Actor>(&self) -> Option<ActorRef<A>> {
        self.process()?.downcast::<A>()
    }

    /// The info the start function handed back, if it is a `T`.
    pub fn info<T: Any>(&self) -> Option<&T> {
        match self {
            Self::Running {
                info: Some(info), ..
            } => info.downcast_ref::<T>(),
            _ => None,
        }
    }

    /// Whether the start function said "not now".
    pub fn is_ignored(&self) -> bool {
        matches!(self, Self::Ignored)
    }
}

impl From<ProcessRef> for Started {
    fn from(process: ProcessRef) -> Self {
        Self::Running {
            process,
            info: None,
        }
    }
}

impl fmt::Debug for Started {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Running { process, info } => f
                .debug_struct("Running")
                .field("process", process)
                .field("info", &info.as_ref().map(|_| ".."))
                .finish(),
            Self::Ignored => f.write_str("Ignored"),
        }
    }
}

/// Starts actor `A` and gives back its process: the start function of
/// every spec built from an actor type. A combinator over `start_with`'s
/// future, not an async fn: an async fn would hold `args` and `options`
/// beside the start's own state, and a spec boxes this future for every
/// start.
pub(crate) fn start_actor<A: Actor>(
    args: A::Args,
    options: ActorOptions,
) -> impl Future<Output = Result<ProcessRef, StartError>> + Send + 'static {
    start_with::<A>(args, options)
        .map(|started| started.map(|(actor, _handle)| ProcessRef::from(actor)))
}

/// Calls `start` and awaits the future it returns; a panic in either comes
/// back as an [`ErrorCause`] holding [`StartPanicked`]. The future's box
/// is kept, once it is done, for the next start on this thread.
pub(crate) async fn contained<T>(
    start: impl FnOnce() -> Pin<Box<dyn Future<Output = Result<T, ErrorCause>> + Send>>,
) -> Result<T, ErrorCause> {
    // The start function's state is dropped with the panic; nothing of it is
    // observed afterwards, so unwind safety holds.
    let mut future = catch_unwind(AssertUnwindSafe(start)).map_err(panicked)?;
    let outcome = AssertUnwindSafe(future.as_mut()).catch_unwind().await;
    foundation_mailbox::__private::retire(future);
    outcome.map_err(panicked)?
}

fn panicked(payload: Box<dyn Any + Send>) -> ErrorCause {
    let message: Arc<str> = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).into()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.as_str().into()
    } else {
        "a panic with a non-string payload".into()
    };
    tracing::error!(target: "foundation::supervisor", %message, "start function panicked");
    ErrorCause::new(StartPanicked { message })
}
