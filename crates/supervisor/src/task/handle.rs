//! [`TaskHandle`]: the caller's side of a task started with
//! [`TaskSupervisorRef::async_nolink`](crate::TaskSupervisorRef::async_nolink).

use std::{fmt, future::Future, panic::AssertUnwindSafe, sync::Arc, time::Duration};

use futures::FutureExt;
use tokio::{
    sync::oneshot::{self, error::RecvError},
    task::AbortHandle,
};

use crate::task::{
    SpawnError, TaskError,
    registry::{Member, Registry, panic_message},
};

/// What a task sends back: its value, or its panic's message.
type Outcome<T> = Result<T, Arc<str>>;

/// The result of a task started with
/// [`async_nolink`](crate::TaskSupervisorRef::async_nolink), awaited with a
/// timeout; there is no untimed wait.
///
/// The task belongs to the task supervisor, not to the handle (Elixir's
/// `Task.Supervisor.async_nolink`): dropping the handle does not end the
/// task, it runs to its end and its value is discarded. Stopping the task
/// supervisor ends it, and the handle then reports
/// [`TaskError::Shutdown`]. A panic in the task comes back as
/// [`TaskError::Panicked`]; it never reaches the caller.
///
/// ```
/// use std::time::Duration;
/// use foundation::supervisor::{TaskError, TaskSupervisorOptions, TaskSupervisorRef};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (tasks, _handle) = TaskSupervisorRef::start(TaskSupervisorOptions::new()).await.unwrap();
/// let answer = tasks.async_nolink(async { 6 * 7 }).unwrap();
/// assert_eq!(answer.await_timeout(Duration::from_secs(1)).await, Ok(42));
///
/// let crash = tasks.async_nolink(async { panic!("boom") }).unwrap();
/// let error: Result<(), _> = crash.await_timeout(Duration::from_secs(1)).await;
/// assert_eq!(error, Err(TaskError::Panicked("boom".into())));
/// # }
/// ```
pub struct TaskHandle<T> {
    reply: oneshot::Receiver<Outcome<T>>,
    abort: AbortHandle,
    registry: Arc<Registry>,
    aborted: bool,
}

impl<T> fmt::Debug for TaskHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("id", &self.abort.id())
            .field("finished", &self.abort.is_finished())
            .field("aborted", &self.aborted)
            .finish()
    }
}

/// What [`TaskHandle::yield_timeout`] found.
#[derive(Debug)]
pub enum Yielded<T> {
    /// The task ended within the time, with this result.
    Done(Result<T, TaskError>),
    /// The task is still running; here is its handle back, to wait again,
    /// [`shutdown`](TaskHandle::shutdown) or drop.
    Running(TaskHandle<T>),
}

impl<T> TaskHandle<T> {
    /// Waits up to `timeout` for the task's result (Elixir's `Task.await`).
    /// If the task has not finished by then it is aborted, at its next await
    /// point, and the result is [`TaskError::Timeout`]. Use
    /// [`yield_timeout`](Self::yield_timeout) to leave it running instead.
    pub async fn await_timeout(mut self, timeout: Duration) -> Result<T, TaskError> {
        match tokio::time::timeout(timeout, &mut self.reply).await {
            Ok(received) => self.outcome(received),
            Err(_elapsed) => {
                self.abort.abort();
                Err(TaskError::Timeout(timeout))
            }
        }
    }

    /// Waits up to `timeout` for the task's result (Elixir's `Task.yield`),
    /// leaving the task running if it has not finished:
    /// [`Yielded::Running`] gives the handle back.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::supervisor::{TaskError, TaskSupervisorOptions, TaskSupervisorRef, Yielded};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (tasks, _handle) = TaskSupervisorRef::start(TaskSupervisorOptions::new()).await.unwrap();
    /// let (release, released) = tokio::sync::oneshot::channel::<u32>();
    /// let task = tasks.async_nolink(async move { released.await.unwrap_or(0) }).unwrap();
    /// let Yielded::Running(task) = task.yield_timeout(Duration::from_millis(1)).await else {
    ///     panic!("the task cannot have finished yet");
    /// };
    /// release.send(7).unwrap();
    /// assert!(matches!(task.yield_timeout(Duration::from_secs(1)).await, Yielded::Done(Ok(7))));
    /// # }
    /// ```
    pub async fn yield_timeout(mut self, timeout: Duration) -> Yielded<T> {
        match tokio::time::timeout(timeout, &mut self.reply).await {
            Ok(received) => Yielded::Done(self.outcome(received)),
            Err(_elapsed) => Yielded::Running(self),
        }
    }

    /// Aborts the task at its next await point, without waiting. A later
    /// wait returns its value if it had already finished, otherwise
    /// [`TaskError::Killed`].
    pub fn abort(&mut self) {
        self.aborted = true;
        self.abort.abort();
    }

    /// Ends the task (Elixir's `Task.shutdown`): aborts it and waits up to
    /// `timeout` for it to end. Returns its value or panic if it finished
    /// first, [`TaskError::Killed`] if the abort ended it, and
    /// [`TaskError::Timeout`] if it is still running after `timeout` (it
    /// blocks without reaching an await point; it will end at its next one).
    /// A tokio task cannot be asked to stop gracefully, so there is no
    /// polite phase before the abort.
    pub async fn shutdown(mut self, timeout: Duration) -> Result<T, TaskError> {
        self.abort();
        // The reply channel closes when the task's future is dropped, so
        // waiting on it is waiting for the task's end.
        match tokio::time::timeout(timeout, &mut self.reply).await {
            Ok(received) => self.outcome(received),
            Err(_elapsed) => {
                tracing::warn!(target: "foundation::supervisor", task = %self.abort.id(), ?timeout, "aborted task did not end in time");
                Err(TaskError::Timeout(timeout))
            }
        }
    }

    /// Whether the task has ended (finished, panicked or been aborted).
    pub fn is_finished(&self) -> bool {
        self.abort.is_finished()
    }

    fn outcome(&self, received: Result<Outcome<T>, RecvError>) -> Result<T, TaskError> {
        match received {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(message)) => Err(TaskError::Panicked(message)),
            // The task's future was dropped before it finished.
            Err(_closed) if self.aborted => Err(TaskError::Killed),
            Err(_closed) => Err(self
                .registry
                .closed()
                .map_or(TaskError::Killed, TaskError::Shutdown)),
        }
    }
}

/// The task's side of the reply. The member is declared first so it is
/// dropped first: the task leaves the registry before its result is sent or
/// its channel closes, so a caller that has the result also sees the task
/// gone.
pub(crate) struct Reply<T> {
    member: Member,
    sender: oneshot::Sender<Outcome<T>>,
}

/// Starts `future` as an `async_nolink` task of `registry`.
pub(crate) fn start<F>(
    registry: &Arc<Registry>,
    future: F,
) -> Result<TaskHandle<F::Output>, SpawnError<F>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (sender, reply) = oneshot::channel();
    let abort = registry.spawn(future, move |future, member| {
        run(future, Reply { member, sender })
    })?;
    Ok(TaskHandle {
        reply,
        abort,
        registry: Arc::clone(registry),
        aborted: false,
    })
}

/// The body of a task started with `async_nolink`. `future` comes first so
/// it is dropped first, whether the task is aborted before or after its
/// first poll.
async fn run<F: Future>(future: F, reply: Reply<F::Output>) {
    let outcome = AssertUnwindSafe(future).catch_unwind().await;
    let outcome = outcome.map_err(|payload| panic_message(&*payload));
    if let Err(message) = &outcome {
        tracing::debug!(target: "foundation::supervisor", panic = %message, "async_nolink task panicked; the error goes to its handle");
    }
    let Reply { sender, member } = reply;
    drop(member);
    if sender.send(outcome).is_err() {
        tracing::trace!(target: "foundation::supervisor", "task handle dropped; result discarded");
    }
}
