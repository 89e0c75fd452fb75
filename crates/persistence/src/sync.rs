//! The concurrency primitives the in-memory store is built on, switched to loom's under `--cfg foundation_loom`.

#[cfg(foundation_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(not(foundation_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning.
///
/// No user code runs under the store's lock (only map operations on owned
/// bytes), so a poisoned lock still guards a consistent map.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
