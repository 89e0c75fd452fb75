//! [`AsyncStream`]: Elixir's `Task.Supervisor.async_stream`, one supervised
//! task per item of an iterator, at most `max_concurrency` at a time.

use std::{
    collections::{HashMap, VecDeque},
    fmt,
    future::Future,
    num::NonZeroUsize,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use foundation_mailbox::TimeoutConfig;
use futures::{FutureExt, Stream, stream::FusedStream};
use tokio::{
    sync::{Semaphore, mpsc},
    task::AbortHandle,
    time::Instant,
};

use crate::task::{
    TaskError,
    registry::{Member, Registry, panic_message},
};

/// What an [`AsyncStream`] does when an item runs past its timeout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OnTimeout {
    /// Fail the stream (Elixir's `:exit`, the default): every item still
    /// running is aborted, results not yet yielded are discarded, the stream
    /// yields [`TaskError::Timeout`] and ends.
    #[default]
    Exit,
    /// End only that item (Elixir's `:kill_task`): it yields
    /// [`TaskError::Timeout`] in its place and the stream goes on.
    KillTask,
}

/// Options of [`TaskSupervisorRef::async_stream`](crate::TaskSupervisorRef::async_stream),
/// with Elixir's defaults.
///
/// ```
/// use std::{num::NonZeroUsize, time::Duration};
/// use foundation::supervisor::{AsyncStreamOptions, OnTimeout};
///
/// let options = AsyncStreamOptions::new()
///     .max_concurrency(NonZeroUsize::new(8).unwrap())
///     .ordered(false)
///     .timeout(Duration::from_secs(1))
///     .on_timeout(OnTimeout::KillTask);
/// assert_eq!(options.max_concurrency_value().get(), 8);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AsyncStreamOptions {
    max_concurrency: NonZeroUsize,
    ordered: bool,
    timeout: Duration,
    on_timeout: OnTimeout,
}

impl Default for AsyncStreamOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl AsyncStreamOptions {
    /// As many items at a time as the machine has cores (Elixir's
    /// `System.schedulers_online`), results in input order, each item
    /// allowed the default timeout of [`TimeoutConfig`] (5 s, Elixir's
    /// default), and a timeout fails the stream.
    pub fn new() -> Self {
        Self {
            max_concurrency: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
            ordered: true,
            timeout: TimeoutConfig::current().default_timeout(),
            on_timeout: OnTimeout::Exit,
        }
    }

    /// How many items may be running, or finished but not yet yielded, at
    /// once. This bounds the stream's memory as well as its concurrency.
    pub fn max_concurrency(mut self, max: NonZeroUsize) -> Self {
        self.max_concurrency = max;
        self
    }

    /// Whether results come in input order (the default) or as they finish.
    /// In order, a slow item holds back the results behind it, and they
    /// count against `max_concurrency` until it is done.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// How long each item may run, from the moment it is started.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What an item past its timeout does to the stream.
    pub fn on_timeout(mut self, on_timeout: OnTimeout) -> Self {
        self.on_timeout = on_timeout;
        self
    }

    /// The concurrency limit in force.
    pub fn max_concurrency_value(&self) -> NonZeroUsize {
        self.max_concurrency
    }
}

/// What an item's task sends back: its position and its result.
type Report<T> = (u64, Result<T, TaskError>);

/// The results of running one supervised task per item, made by
/// [`TaskSupervisorRef::async_stream`](crate::TaskSupervisorRef::async_stream).
///
/// Lazy: nothing starts until the stream is polled, and the iterator is
/// pulled only as far as `max_concurrency` allows. Every item pulled yields
/// exactly one result, unless the stream fails first
/// ([`OnTimeout::Exit`]). Items are tasks of the task supervisor: when it
/// stops, the ones running yield [`TaskError::Shutdown`], no further item
/// is pulled, and the stream ends. Dropping the stream aborts the items
/// still running.
pub struct AsyncStream<I, F, T> {
    registry: Arc<Registry>,
    /// `None` once exhausted, or once no more items may be started.
    items: Option<I>,
    make: F,
    options: AsyncStreamOptions,
    next_index: u64,
    /// Ordered mode: results from `next_emit` on, by position.
    slots: VecDeque<Option<Result<T, TaskError>>>,
    next_emit: u64,
    /// Unordered mode: results in the order they came.
    ready: VecDeque<Result<T, TaskError>>,
    /// Items started and not yet reported.
    running: HashMap<u64, AbortHandle>,
    sender: mpsc::Sender<Report<T>>,
    receiver: mpsc::Receiver<Report<T>>,
    failure: Option<TaskError>,
    done: bool,
}

// No field is ever pinned (`poll_next` works through `&mut Self`), so the
// stream can move freely whatever the iterator and closure are.
impl<I, F, T> Unpin for AsyncStream<I, F, T> {}

impl<I, F, T> fmt::Debug for AsyncStream<I, F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncStream")
            .field("options", &self.options)
            .field("started", &self.next_index)
            .field("running", &self.running.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<I, F, Fut> AsyncStream<I, F, Fut::Output>
where
    I: Iterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    pub(crate) fn new(
        registry: Arc<Registry>,
        items: I,
        make: F,
        options: AsyncStreamOptions,
    ) -> Self {
        // At most `max_concurrency` reports are ever in the channel, so it
        // never refuses one; tokio's own limit caps absurd settings.
        let capacity = options.max_concurrency.get().min(Semaphore::MAX_PERMITS);
        let (sender, receiver) = mpsc::channel(capacity);
        Self {
            registry,
            items: Some(items),
            make,
            options,
            next_index: 0,
            slots: VecDeque::new(),
            next_emit: 0,
            ready: VecDeque::new(),
            running: HashMap::new(),
            sender,
            receiver,
            failure: None,
            done: false,
        }
    }

    /// Results started and not yet yielded.
    fn outstanding(&self) -> usize {
        if self.options.ordered {
            self.slots.len()
        } else {
            self.running.len() + self.ready.len()
        }
    }

    /// Starts items until the limit or the end of the iterator.
    fn fill(&mut self) {
        let limit = self
            .options
            .max_concurrency
            .get()
            .min(Semaphore::MAX_PERMITS);
        if self.items.is_some() && self.registry.closed().is_some() {
            // The task supervisor has exited: pull nothing more.
            self.items = None;
        }
        while self.outstanding() < limit {
            let Some(item) = self.items.as_mut().and_then(Iterator::next) else {
                self.items = None;
                return;
            };
            let index = self.next_index;
            self.next_index += 1;
            let future = (self.make)(item);
            let deadline = Instant::now() + self.options.timeout;
            let timeout = self.options.timeout;
            let sender = self.sender.clone();
            let started = self.registry.spawn(future, move |future, member| {
                run(
                    future,
                    Reporter {
                        member: Some(member),
                        sender: Some(sender),
                        index,
                    },
                    deadline,
                    timeout,
                )
            });
            if self.options.ordered {
                self.slots.push_back(None);
            }
            match started {
                Ok(handle) => {
                    self.running.insert(index, handle);
                }
                Err(refused) => {
                    // The task supervisor exited since the check above:
                    // this item never ran, and no further item is pulled.
                    let reason = refused.reason().clone();
                    drop(refused.into_inner());
                    self.items = None;
                    self.settle(index, Err(TaskError::Shutdown(reason)));
                }
            }
        }
    }

    fn take_ready(&mut self) -> Option<Result<Fut::Output, TaskError>> {
        if self.options.ordered {
            if matches!(self.slots.front(), Some(Some(_))) {
                self.next_emit += 1;
                return self.slots.pop_front().flatten();
            }
            None
        } else {
            self.ready.pop_front()
        }
    }

    fn settle(&mut self, index: u64, result: Result<Fut::Output, TaskError>) {
        self.running.remove(&index);
        if result.as_ref().is_err_and(TaskError::is_timeout)
            && self.options.on_timeout == OnTimeout::Exit
        {
            self.fail(result.err());
            return;
        }
        if self.options.ordered {
            let position = usize::try_from(index - self.next_emit).unwrap_or(usize::MAX);
            if let Some(slot) = self.slots.get_mut(position) {
                *slot = Some(result);
            }
        } else {
            self.ready.push_back(result);
        }
    }

    fn fail(&mut self, error: Option<TaskError>) {
        self.abort_running();
        self.items = None;
        self.slots.clear();
        self.ready.clear();
        self.failure = error;
        self.done = true;
    }

    fn abort_running(&mut self) {
        for (_, handle) in self.running.drain() {
            handle.abort();
        }
    }
}

impl<I, F, Fut> Stream for AsyncStream<I, F, Fut::Output>
where
    I: Iterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    type Item = Result<Fut::Output, TaskError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(error) = this.failure.take() {
                return Poll::Ready(Some(Err(error)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(result) = this.take_ready() {
                return Poll::Ready(Some(result));
            }
            this.fill();
            if this.running.is_empty() {
                if let Some(result) = this.take_ready() {
                    return Poll::Ready(Some(result));
                }
                if this.items.is_none() {
                    this.done = true;
                    return Poll::Ready(None);
                }
            }
            match this.receiver.poll_recv(cx) {
                Poll::Ready(Some((index, result))) => this.settle(index, result),
                // The stream holds a sender, so the channel never closes.
                Poll::Ready(None) => this.done = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<I, F, Fut> FusedStream for AsyncStream<I, F, Fut::Output>
where
    I: Iterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    fn is_terminated(&self) -> bool {
        self.done && self.failure.is_none()
    }
}

impl<I, F, T> Drop for AsyncStream<I, F, T> {
    fn drop(&mut self) {
        for (_, handle) in self.running.drain() {
            handle.abort();
        }
    }
}

/// An item's side of the report: once its task has started, sends exactly
/// one, when the item finishes or, if it is dropped first (aborted), from
/// `Drop`. Its task leaves the registry before the report is sent. A
/// reporter whose task was refused never got a member and sends nothing:
/// the stream records that item itself.
struct Reporter<T> {
    member: Option<Member>,
    sender: Option<mpsc::Sender<Report<T>>>,
    index: u64,
}

impl<T> Reporter<T> {
    fn send(&mut self, result: Result<T, TaskError>) {
        drop(self.member.take());
        let Some(sender) = self.sender.take() else {
            return;
        };
        if let Err(error) = sender.try_send((self.index, result)) {
            // Closed: the stream is gone. Full cannot happen (see `new`).
            tracing::trace!(target: "foundation::supervisor", index = self.index, %error, "async_stream result discarded");
        }
    }
}

impl<T> Drop for Reporter<T> {
    fn drop(&mut self) {
        let Some(member) = &self.member else {
            return;
        };
        let closed = member.registry().closed();
        self.send(Err(closed.map_or(TaskError::Killed, TaskError::Shutdown)));
    }
}

/// The body of an item's task. `future` comes first so it is dropped first,
/// whether the task is aborted before or after its first poll.
async fn run<Fut: Future>(
    future: Fut,
    mut reporter: Reporter<Fut::Output>,
    deadline: Instant,
    timeout: Duration,
) {
    let outcome = tokio::time::timeout_at(deadline, AssertUnwindSafe(future).catch_unwind()).await;
    let result = match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(payload)) => Err(TaskError::Panicked(panic_message(&*payload))),
        Err(_elapsed) => Err(TaskError::Timeout(timeout)),
    };
    reporter.send(result);
}
