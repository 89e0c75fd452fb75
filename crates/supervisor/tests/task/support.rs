//! Helpers shared by the task supervisor tests: drop counting and starting.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::ActorHandle;
use foundation_supervisor::{TaskSupervisorOptions, TaskSupervisorRef};
use tokio::sync::Notify;

/// Generous bound for waits that end at once when the code is right; under
/// paused time it costs nothing when the code is wrong either.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

pub(crate) async fn start() -> (TaskSupervisorRef, ActorHandle) {
    TaskSupervisorRef::start(TaskSupervisorOptions::new())
        .await
        .expect("task supervisor starts")
}

/// Counts how many of its guards have been dropped, and wakes whoever waits
/// for a number of them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Drops {
    count: Arc<AtomicUsize>,
    changed: Arc<Notify>,
}

impl Drops {
    pub(crate) fn guard(&self) -> DropGuard {
        DropGuard(self.clone())
    }

    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits, at most [`WAIT`], until `expected` guards have been dropped.
    pub(crate) async fn wait_for(&self, expected: usize) -> usize {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.count() >= expected {
                    return;
                }
                notified.await;
            }
        };
        let _bounded = tokio::time::timeout(WAIT, wait).await;
        self.count()
    }
}

/// Lives inside a task's future; counts its drop.
#[derive(Debug)]
pub(crate) struct DropGuard(Drops);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.count.fetch_add(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

/// A future that never finishes on its own: it waits for a channel whose
/// sender the test keeps and never uses, holding `guard` until dropped.
pub(crate) fn never(
    guard: DropGuard,
) -> (
    tokio::sync::oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (keep, never_fires) = tokio::sync::oneshot::channel::<()>();
    let future = async move {
        let _guard = guard;
        // Ends only when the test drops the sender, after its assertions.
        if never_fires.await.is_ok() {
            unreachable!("the test never sends");
        }
    };
    (keep, future)
}

/// Polls `stream` once, without waiting: starts its items and says whether a
/// result was ready.
pub(crate) async fn poll_once<S: futures::Stream + Unpin>(
    stream: &mut S,
) -> std::task::Poll<Option<S::Item>> {
    use futures::StreamExt;
    std::future::poll_fn(|cx| std::task::Poll::Ready(stream.poll_next_unpin(cx))).await
}
