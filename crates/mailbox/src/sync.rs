//! The concurrency primitives the mailbox is built on, switched to loom's under `--cfg foundation_loom`.
//!
//! The process cell itself is shared through `std::sync::Arc` in both builds:
//! loom's `Arc` cannot be unsized into `Arc<dyn Trait>`, and the reference
//! count is not what the models check. Everything the models do check (the
//! mutex around the lanes and the system-lane flag) comes from here.

#[cfg(foundation_loom)]
pub(crate) use loom::sync::{
    Mutex, MutexGuard,
    atomic::{AtomicBool, Ordering},
};
#[cfg(not(foundation_loom))]
pub(crate) use std::sync::{
    Mutex, MutexGuard,
    atomic::{AtomicBool, Ordering},
};

pub(crate) use self::executor::{
    AbortHandle, RuntimeId, Spawner, current_spawner, runtime_id, spawn,
};

/// Where activations run: tokio, or under loom a model of tokio's task
/// semantics that loom can explore.
#[cfg(not(foundation_loom))]
mod executor {
    use std::future::Future;

    /// The runtime an actor's activations are spawned on.
    pub(crate) type Spawner = tokio::runtime::Handle;
    pub(crate) use tokio::task::AbortHandle;

    /// Tells runtimes apart, so each has its own timer service.
    pub(crate) type RuntimeId = tokio::runtime::Id;

    pub(crate) fn runtime_id(spawner: &Spawner) -> RuntimeId {
        spawner.id()
    }

    /// The runtime of the calling task, if there is one.
    pub(crate) fn current_spawner() -> Option<Spawner> {
        tokio::runtime::Handle::try_current().ok()
    }

    /// Spawns `task` and hands back how to abort it.
    pub(crate) fn spawn<F>(spawner: &Spawner, task: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // audit:allow(FND001) the process core's one spawn: actor activations, the timer service and stream feeders start here, each tied to a process cell's life
        spawner.spawn(task).abort_handle()
    }
}

/// tokio's task semantics, as loom threads: a task runs on a thread of its
/// own; an abort before the first poll drops the future unpolled, an abort
/// during a poll takes effect only if that poll returns `Pending` (a task
/// that completes in that poll ignores it), and an aborted future is
/// dropped on the task's thread.
#[cfg(foundation_loom)]
mod executor {
    use std::{
        future::{Future, poll_fn},
        pin::Pin,
        task::{Poll, Waker},
    };

    use loom::sync::{Arc, Mutex};

    #[derive(Clone, Debug)]
    pub(crate) struct Spawner;

    pub(crate) fn current_spawner() -> Option<Spawner> {
        Some(Spawner)
    }

    /// One model runtime.
    pub(crate) type RuntimeId = ();

    pub(crate) fn runtime_id(_: &Spawner) -> RuntimeId {}

    #[derive(Debug, Default)]
    struct TaskState {
        aborted: bool,
        waker: Option<Waker>,
    }

    #[derive(Debug)]
    pub(crate) struct AbortHandle(Arc<Mutex<TaskState>>);

    impl AbortHandle {
        pub(crate) fn abort(&self) {
            let waker = {
                let mut state = self.0.lock().unwrap();
                state.aborted = true;
                state.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    pub(crate) fn spawn<F>(_: &Spawner, task: F) -> AbortHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let state = Arc::new(Mutex::new(TaskState::default()));
        let shared = Arc::clone(&state);
        loom::thread::spawn(move || {
            let mut task: Option<Pin<Box<F>>> = Some(Box::pin(task));
            // audit:allow(FND005) a loom model's task thread: loom itself reports a task that never finishes as a deadlock
            loom::future::block_on(poll_fn(|cx| {
                {
                    let mut state = shared.lock().unwrap();
                    if state.aborted {
                        return Poll::Ready(());
                    }
                    state.waker = Some(cx.waker().clone());
                }
                match task.as_mut() {
                    Some(running) => running.as_mut().poll(cx),
                    None => Poll::Ready(()),
                }
            }));
            drop(task);
        });
        AbortHandle(state)
    }
}

/// The value behind `mutex`, reached through exclusive access: no locking.
pub(crate) fn get_mut<T>(mutex: &mut Mutex<T>) -> &mut T {
    mutex
        .get_mut()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Locks `mutex`, ignoring poisoning.
///
/// No user code runs while the mailbox lock is held (messages are dropped and
/// dead-lettered after it is released), so a poisoned lock still guards
/// consistent state.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
