//! The atomics and locks the crate uses, in one place, as the workspace's style asks.
//!
//! The only shared state is counters (relaxed atomics that are only ever
//! added to and read) and the stats registry's list of tags (one mutex,
//! taken when a call site registers its tag and when a snapshot is read,
//! never on a send). There is no interleaving worth a loom model; a model
//! would switch these under `--cfg foundation_loom` as the mailbox does.

pub(crate) use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicU64, Ordering},
};

/// Locks `mutex`, ignoring poisoning: no user code runs under the crate's
/// locks, so a poisoned lock still guards a consistent list.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
