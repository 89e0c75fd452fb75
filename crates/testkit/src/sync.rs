//! The locks and atomics the kit is built on, in one place, as the workspace's style asks.
//!
//! The kit's shared state is a mutex around a list of captured events (the
//! manual clock's state lives in the mailbox crate); no user code runs under
//! the lock, so there is no interleaving worth a loom model.

pub(crate) use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicU64, Ordering},
};

/// Locks `mutex`, ignoring poisoning: no user code runs under the kit's
/// locks, so a poisoned lock still guards a consistent list.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
