//! The registry of a task supervisor's tasks: who is running, how to end
//! them all, and how to know when they have ended.
//!
//! Every task starts through [`Registry::spawn`], which reserves a slot,
//! spawns the task with a [`Member`] inside it and records the task's
//! [`AbortHandle`] in the slot. The member leaves the registry when the task's
//! future is dropped: when it finishes, or when it is aborted. That makes
//! `live` the number of task futures that still exist, which is what "no
//! orphans" counts. [`Registry::close`] refuses new tasks and aborts the
//! recorded ones; [`Registry::drained`] waits for `live` to reach zero.
//!
//! The lock is never held while a task is spawned or aborted: tokio drops a
//! future inline when it is spawned on a runtime that is shutting down, and
//! the member's drop takes the lock. Spawning therefore takes the lock
//! twice, and a slot carries a generation so that recording the handle after
//! the task has already finished (and its slot been reused) is detected.
//!
//! This is a plain mutex around plain state, with tokio's `Notify` to wake
//! the waiter: no atomics or lock-free steps of our own, so nothing here
//! needs a loom model (and `std::sync` is used directly).

use std::{
    future::Future,
    pin::pin,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use foundation_mailbox::ExitReason;
use tokio::{runtime::Handle, sync::Notify, task::AbortHandle};

use crate::task::SpawnError;

/// The shared state behind a task supervisor and every reference to it.
#[derive(Debug)]
pub(crate) struct Registry {
    state: Mutex<State>,
    /// Woken when `live` drops to zero.
    drained: Notify,
    /// The runtime the task supervisor was started on; tasks run there, so
    /// they can be spawned from any thread.
    runtime: Handle,
}

#[derive(Debug, Default)]
struct State {
    /// Set once, by `close`: why no task is accepted any more.
    closed: Option<ExitReason>,
    /// Task futures not yet dropped.
    live: usize,
    slots: Vec<Slot>,
    free: Vec<usize>,
}

#[derive(Debug, Default)]
struct Slot {
    /// Bumped each time the slot's task leaves, so a late handle is noticed.
    generation: u64,
    handle: Option<AbortHandle>,
}

/// A task's membership: leaves the registry when dropped. It must be the last
/// thing the task drops, after the user's future.
#[derive(Debug)]
pub(crate) struct Member {
    registry: Arc<Registry>,
    slot: usize,
    generation: u64,
}

impl Registry {
    pub(crate) fn new(runtime: Handle) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            drained: Notify::new(),
            runtime,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No user code runs under this lock (futures are spawned, aborted
        // and dropped outside it), so a poisoned lock still guards
        // consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts `task`, built from its membership, on the supervisor's runtime.
    /// `task` must hold the member until its end and drop it last. If the
    /// registry is closed, the future is given back unpolled with the reason.
    pub(crate) fn spawn<F, T>(
        self: &Arc<Self>,
        future: F,
        task: impl FnOnce(F, Member) -> T,
    ) -> Result<AbortHandle, SpawnError<F>>
    where
        T: Future<Output = ()> + Send + 'static,
    {
        let (slot, generation) = {
            let mut state = self.lock();
            if let Some(reason) = &state.closed {
                let reason = reason.clone();
                drop(state);
                return Err(SpawnError { future, reason });
            }
            state.live += 1;
            let slot = match state.free.pop() {
                Some(slot) => slot,
                None => {
                    state.slots.push(Slot::default());
                    state.slots.len() - 1
                }
            };
            (slot, state.slots[slot].generation)
        };
        let member = Member {
            registry: Arc::clone(self),
            slot,
            generation,
        };
        // audit:allow(FND001) the task supervisor's one spawn: the task is recorded in its registry and aborted when the supervisor exits
        let handle = self.runtime.spawn(task(future, member)).abort_handle();
        let mut state = self.lock();
        if state.closed.is_some() {
            // Closed while the task was being spawned: `close` did not see
            // it, so end it here.
            drop(state);
            handle.abort();
        } else if state.slots[slot].generation == generation {
            state.slots[slot].handle = Some(handle.clone());
        }
        // Otherwise the task has already finished and left its slot.
        Ok(handle)
    }

    /// Task futures that still exist.
    pub(crate) fn live(&self) -> usize {
        self.lock().live
    }

    /// Why the registry was closed, once it has been.
    pub(crate) fn closed(&self) -> Option<ExitReason> {
        self.lock().closed.clone()
    }

    /// Refuses new tasks from now on and aborts every running one; returns
    /// how many it aborted. Only the first call's reason is kept. Quick and
    /// non-blocking, so it can run in an exit hook.
    pub(crate) fn close(&self, reason: ExitReason) -> usize {
        let handles: Vec<AbortHandle> = {
            let mut state = self.lock();
            if state.closed.is_some() {
                return 0;
            }
            state.closed = Some(reason);
            state.free.clear();
            state
                .slots
                .iter_mut()
                .filter_map(|slot| slot.handle.take())
                .collect()
        };
        for handle in &handles {
            handle.abort();
        }
        handles.len()
    }

    /// Waits up to `timeout` for every task future to be dropped. On timeout
    /// returns how many are still alive: a task that blocks without reaching
    /// an await point cannot be aborted.
    pub(crate) async fn drained(&self, timeout: Duration) -> Result<(), usize> {
        let wait = async {
            loop {
                let mut notified = pin!(self.drained.notified());
                notified.as_mut().enable();
                if self.live() == 0 {
                    return;
                }
                notified.await;
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(()) => Ok(()),
            Err(_elapsed) => Err(self.live()),
        }
    }
}

impl Member {
    /// The registry this task belongs to.
    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let drained = {
            let mut state = self.registry.lock();
            let open = state.closed.is_none();
            let slot = &mut state.slots[self.slot];
            if slot.generation == self.generation {
                slot.handle = None;
                slot.generation += 1;
                if open {
                    state.free.push(self.slot);
                }
            }
            state.live -= 1;
            state.live == 0
        };
        if drained {
            self.registry.drained.notify_waiters();
        }
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> Arc<str> {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).into()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.as_str().into()
    } else {
        "non-string panic payload".into()
    }
}
