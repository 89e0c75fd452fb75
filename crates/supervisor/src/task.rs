//! The task supervisor: supervised one-shot async work, Elixir's
//! `Task.Supervisor`.
//!
//! A [`TaskSupervisorRef`] starts tasks three ways:
//!
//! - [`spawn`](TaskSupervisorRef::spawn): owned fire-and-forget. A panic is
//!   caught and reported through tracing; it harms nothing else.
//! - [`async_nolink`](TaskSupervisorRef::async_nolink): a [`TaskHandle`]
//!   awaited with a timeout; a panic comes back as [`TaskError::Panicked`].
//! - [`async_stream`](TaskSupervisorRef::async_stream): one task per item of
//!   an iterator, with `max_concurrency`, ordered or unordered results, a
//!   per-item timeout and an [`OnTimeout`] policy.
//!
//! The task supervisor is a process (an [`Actor`]), so a supervision tree can
//! own it: [`start_task_supervisor`] gives the tree its [`ProcessRef`]. When
//! the process exits for any reason (stopped, killed, or dropped with every
//! reference to it), every task it owns is aborted: no task outlives it.
//! Stopping it (its `terminate`) also waits, within its shutdown timeout,
//! until every task's future has been dropped.
//!
//! Starting a task does not go through the process's mailbox: the reference
//! shares a registry with the process, and a spawn is a tokio spawn plus two
//! short critical sections on that registry's lock.
//!
//! ```
//! use std::time::Duration;
//! use foundation::supervisor::{TaskSupervisorOptions, TaskSupervisorRef};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (tasks, handle) = TaskSupervisorRef::start(TaskSupervisorOptions::new()).await.unwrap();
//! let (done, finished) = tokio::sync::oneshot::channel();
//! tasks.spawn(async move { done.send("done").unwrap() }).unwrap();
//! assert_eq!(tokio::time::timeout(Duration::from_secs(1), finished).await, Ok(Ok("done")));
//!
//! // Stopping the task supervisor ends every task it owns.
//! tasks.spawn(std::future::pending()).unwrap();
//! tasks.stop(Duration::from_secs(1)).await.unwrap();
//! assert_eq!(tasks.active_tasks(), 0);
//! assert!(handle.is_finished());
//! # }
//! ```

mod error;
mod handle;
mod registry;
mod stream;

use std::{
    convert::Infallible, future::Future, panic::AssertUnwindSafe, sync::Arc, time::Duration,
};

use foundation_mailbox::{
    Actor, ActorHandle, ActorOptions, ActorRef, Context, ExitReason, Operation, Pid, ProcessRef,
    Reply, StartError, StopError, TimeoutConfig, start_with,
};
use futures::FutureExt;

use self::registry::{Member, Registry, panic_message};
pub use self::{
    error::{SpawnError, TaskError},
    handle::{TaskHandle, Yielded},
    stream::{AsyncStream, AsyncStreamOptions, OnTimeout},
};

/// How a task supervisor starts and stops.
///
/// ```
/// use std::time::Duration;
/// use foundation::supervisor::TaskSupervisorOptions;
///
/// let options = TaskSupervisorOptions::new().shutdown_timeout(Duration::from_secs(1));
/// # let _ = options;
/// ```
#[derive(Clone, Debug, Default)]
pub struct TaskSupervisorOptions {
    shutdown_timeout: Option<Duration>,
    process: ActorOptions,
}

impl TaskSupervisorOptions {
    /// The defaults: the shutdown timeout of [`TimeoutConfig`]
    /// ([`Operation::Shutdown`], 5 s) and default process options.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long stopping the task supervisor waits for its aborted tasks to
    /// end. Tasks that block without reaching an await point cannot be
    /// aborted; after this long the process exits anyway and says how many
    /// were left.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Options of the task supervisor's process (its start timeout, say).
    /// Its mailbox carries system messages, and the request for its
    /// registry that [`TaskSupervisorRef::from_process`] makes.
    pub fn process(mut self, options: ActorOptions) -> Self {
        self.process = options;
        self
    }
}

/// The task supervisor's process. Besides the one request for its registry,
/// it handles no messages: it exists so that a supervision tree can own,
/// stop and kill it, and so that its exit ends its tasks.
#[derive(Debug)]
pub(crate) struct TaskSupervisor {
    registry: Arc<Registry>,
    shutdown_timeout: Duration,
}

impl Actor for TaskSupervisor {
    type Args = (Arc<Registry>, Duration);
    /// The only message: a request for the registry, for a handle made from
    /// the process.
    type Msg = Reply<Arc<Registry>>;
    type Error = Infallible;

    async fn init(
        (registry, shutdown_timeout): Self::Args,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Infallible> {
        // Runs on every exit, a kill included, where `terminate` does not.
        let on_exit = Arc::clone(&registry);
        let hooked = ctx.myself().process_ref().on_exit(move |reason| {
            on_exit.close(reason.clone());
        });
        if let Err(reason) = hooked {
            registry.close(reason);
        }
        Ok(Self {
            registry,
            shutdown_timeout,
        })
    }

    async fn handle(
        &mut self,
        reply: Reply<Arc<Registry>>,
        _: &mut Context<Self>,
    ) -> Result<(), Infallible> {
        crate::error::answer(reply, Arc::clone(&self.registry));
        Ok(())
    }

    async fn terminate(&mut self, reason: &ExitReason, ctx: &mut Context<Self>) {
        let aborted = self.registry.close(reason.clone());
        tracing::debug!(target: "foundation::supervisor", pid = %ctx.pid(), %reason, aborted, "task supervisor stopping; tasks aborted");
        if let Err(alive) = self.registry.drained(self.shutdown_timeout).await {
            tracing::warn!(target: "foundation::supervisor", pid = %ctx.pid(), alive, timeout = ?self.shutdown_timeout, "tasks still running after the shutdown timeout: they block without reaching an await point");
        }
    }
}

impl Drop for TaskSupervisor {
    /// The state is dropped when the process ends without `terminate` (a
    /// kill), or when every reference to it is gone: end the tasks then too.
    fn drop(&mut self) {
        self.registry.close(ExitReason::Killed);
    }
}

/// A cheap, clonable reference to a task supervisor: starts tasks on it,
/// counts them, stops it.
///
/// Holding a reference keeps the task supervisor's process reachable; when
/// the process exits, or every reference and handle to it is dropped, its
/// tasks are aborted.
#[derive(Clone, Debug)]
pub struct TaskSupervisorRef {
    registry: Arc<Registry>,
    process: ActorRef<TaskSupervisor>,
}

impl TaskSupervisorRef {
    /// Starts a task supervisor on the current tokio runtime; its tasks run
    /// there too. Returns the reference to start tasks with and the owner's
    /// handle to its process.
    ///
    /// ```
    /// use foundation::supervisor::{TaskSupervisorOptions, TaskSupervisorRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (tasks, handle) = TaskSupervisorRef::start(TaskSupervisorOptions::new()).await.unwrap();
    /// assert_eq!(tasks.pid(), handle.pid());
    /// assert_eq!(tasks.active_tasks(), 0);
    /// # }
    /// ```
    pub async fn start(options: TaskSupervisorOptions) -> Result<(Self, ActorHandle), StartError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        let registry = Registry::new(runtime);
        let shutdown_timeout = options
            .shutdown_timeout
            .unwrap_or_else(|| TimeoutConfig::current().timeout(Operation::Shutdown));
        let args = (Arc::clone(&registry), shutdown_timeout);
        let (process, handle) = start_with::<TaskSupervisor>(args, options.process).await?;
        Ok((Self { registry, process }, handle))
    }

    /// Starts a fire-and-forget task owned by the task supervisor (Elixir's
    /// `Task.Supervisor.start_child`). The future returns `()`: a task whose
    /// result matters is an [`async_nolink`](Self::async_nolink) task, and an
    /// error nobody reads is a swallowed failure. A panic is caught and
    /// reported as an error event under `foundation::supervisor`.
    ///
    /// Fails with the future given back, unpolled, when the task supervisor
    /// has exited.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::supervisor::{TaskSupervisorOptions, TaskSupervisorRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (tasks, _handle) = TaskSupervisorRef::start(TaskSupervisorOptions::new()).await.unwrap();
    /// tasks.spawn(async { panic!("only this task ends") }).unwrap();
    /// tasks.stop(Duration::from_secs(1)).await.unwrap();
    /// let refused = tasks.spawn(async {}).unwrap_err();
    /// let _unrun = refused.into_inner();
    /// # }
    /// ```
    pub fn spawn<F>(&self, future: F) -> Result<(), SpawnError<F>>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let pid = self.pid();
        self.registry
            .spawn(future, move |future, member| supervise(future, member, pid))
            .map(drop)
    }

    /// Starts a task owned by the task supervisor whose result the caller
    /// awaits through a [`TaskHandle`], with a timeout (Elixir's
    /// `Task.Supervisor.async_nolink`). The task's panic comes back as
    /// [`TaskError::Panicked`]; it never reaches the caller. Dropping the
    /// handle leaves the task running to its end.
    ///
    /// Fails with the future given back, unpolled, when the task supervisor
    /// has exited. See [`TaskHandle`] for an example.
    pub fn async_nolink<F>(&self, future: F) -> Result<TaskHandle<F::Output>, SpawnError<F>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle::start(&self.registry, future)
    }

    /// Runs `make(item)` as a task of this supervisor for each item of
    /// `items`, and streams the results (Elixir's
    /// `Task.Supervisor.async_stream_nolink`). See [`AsyncStreamOptions`] for
    /// concurrency, order and timeouts, and [`AsyncStream`] for what happens
    /// when things go wrong. Each item's panic is that item's
    /// [`TaskError::Panicked`].
    ///
    /// ```
    /// use std::{num::NonZeroUsize, time::Duration};
    /// use futures::StreamExt;
    /// use foundation::supervisor::{AsyncStreamOptions, TaskError, TaskSupervisorOptions, TaskSupervisorRef};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (tasks, _handle) = TaskSupervisorRef::start(TaskSupervisorOptions::new()).await.unwrap();
    /// let options = AsyncStreamOptions::new().max_concurrency(NonZeroUsize::new(2).unwrap());
    /// let results: Vec<_> = tasks
    ///     .async_stream(1..=4, |n: u32| async move {
    ///         assert_ne!(n, 3, "three is not allowed");
    ///         n * 10
    ///     }, options)
    ///     .collect()
    ///     .await;
    /// assert_eq!(results[0], Ok(10));
    /// assert!(matches!(&results[2], Err(TaskError::Panicked(_))));
    /// assert_eq!(results[3], Ok(40));
    /// # }
    /// ```
    pub fn async_stream<I, F, Fut>(
        &self,
        items: I,
        make: F,
        options: AsyncStreamOptions,
    ) -> AsyncStream<I::IntoIter, F, Fut::Output>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        AsyncStream::new(Arc::clone(&self.registry), items.into_iter(), make, options)
    }

    /// How many tasks it owns whose futures have not been dropped yet:
    /// running, or aborted and not yet ended.
    pub fn active_tasks(&self) -> usize {
        self.registry.live()
    }

    /// The task supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.process.pid()
    }

    /// The task supervisor as a process, for a supervision tree or a monitor.
    pub fn process_ref(&self) -> ProcessRef {
        self.process.process_ref()
    }

    /// Whether the task supervisor still accepts tasks.
    pub fn is_alive(&self) -> bool {
        self.registry.closed().is_none()
    }

    /// Stops the task supervisor with [`ExitReason::Shutdown`]: its tasks
    /// are aborted and it waits for them to end, all within `timeout`, after
    /// which it is killed (and its tasks aborted all the same).
    pub async fn stop(&self, timeout: Duration) -> Result<ExitReason, StopError> {
        self.process.stop(ExitReason::shutdown(), timeout).await
    }
}

/// Starts a task supervisor, for a supervision tree: the reference to start
/// tasks with, and the process for the tree to own.
///
/// ```
/// use foundation::supervisor::{TaskSupervisorOptions, start_task_supervisor};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (tasks, process) = start_task_supervisor(TaskSupervisorOptions::new()).await.unwrap();
/// assert_eq!(tasks.pid(), process.pid());
/// # }
/// ```
pub async fn start_task_supervisor(
    options: TaskSupervisorOptions,
) -> Result<(TaskSupervisorRef, ProcessRef), StartError> {
    let (tasks, handle) = TaskSupervisorRef::start(options).await?;
    Ok((tasks, handle.process().clone()))
}

impl TaskSupervisorRef {
    /// The task supervisor behind `process` (a child found with
    /// [`SupervisorRef::whereis`](crate::SupervisorRef::whereis)), if it is one.
    pub async fn from_process(
        process: &ProcessRef,
    ) -> Result<Option<Self>, crate::SupervisorError> {
        let Some(actor) = process.downcast::<TaskSupervisor>() else {
            return Ok(None);
        };
        let registry = crate::error::call(&actor, |reply| reply).await?;
        Ok(Some(Self {
            registry,
            process: actor,
        }))
    }
}

impl crate::ChildSpec {
    /// A child that is a task supervisor: kind
    /// [`Supervisor`](crate::ChildKind::Supervisor), shutdown
    /// [`Infinity`](crate::Shutdown::Infinity) (its own shutdown timeout
    /// bounds how long its tasks get). Reach it with
    /// [`TaskSupervisorRef::from_process`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::supervisor::{
    ///     ChildSpec, Strategy, Supervisor, SupervisorSpec, TaskSupervisorOptions, TaskSupervisorRef,
    /// };
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let tree = Supervisor::start(
    ///     SupervisorSpec::new(Strategy::OneForOne)
    ///         .child(ChildSpec::task_supervisor("jobs", TaskSupervisorOptions::new())),
    /// )
    /// .await
    /// .unwrap();
    /// let jobs = TaskSupervisorRef::from_process(&tree.whereis("jobs").unwrap())
    ///     .await
    ///     .unwrap()
    ///     .unwrap();
    /// let answer = jobs.async_nolink(async { 6 * 7 }).unwrap();
    /// assert_eq!(answer.await_timeout(Duration::from_secs(1)).await.unwrap(), 42);
    /// tree.shutdown(Duration::from_secs(5)).await.unwrap();
    /// # }
    /// ```
    pub fn task_supervisor(id: impl Into<Arc<str>>, options: TaskSupervisorOptions) -> Self {
        Self::worker(id, move || {
            let options = options.clone();
            async move {
                start_task_supervisor(options)
                    .await
                    .map(|(_, process)| process)
            }
        })
        .supervising()
    }
}

/// The body of a task started with `spawn`. `future` comes first so it is
/// dropped before the member, whether the task is aborted before or after
/// its first poll.
async fn supervise<F: Future<Output = ()>>(future: F, member: Member, supervisor: Pid) {
    let outcome = AssertUnwindSafe(future).catch_unwind().await;
    if let Err(payload) = outcome {
        let panic = panic_message(&*payload);
        tracing::error!(target: "foundation::supervisor", %supervisor, %panic, "supervised task panicked");
    }
    drop(member);
}
