//! The concurrency shim: loom's types under `--cfg foundation_loom`, std's otherwise.
//!
//! The monitor state machine and the registry shards take every atomic,
//! lock and thread-local from here, so the loom models in `loom_models` check the code that
//! ships. Process references stay on std types: the mailbox is not modelled
//! through this crate.

#[cfg(foundation_loom)]
pub(crate) use loom::{
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicU8, Ordering},
    },
    thread::yield_now,
    thread_local,
};
#[cfg(not(foundation_loom))]
pub(crate) use std::{
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicU8, Ordering},
    },
    thread::yield_now,
    thread_local,
};

/// Locks `mutex`, ignoring poisoning: no user code runs under these locks
/// (tags are plain data), so a poisoned lock still guards consistent state.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
