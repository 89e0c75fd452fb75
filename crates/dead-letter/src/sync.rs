//! The locks the queue is built on, in one place, as the workspace's style asks.
//!
//! The queue is one mutex around plain collections, and no user code runs
//! under it (resolvers and codecs run outside), so there is no interleaving
//! worth a loom model yet; a model would switch these under
//! `--cfg foundation_loom` as the other crates do.

pub(crate) use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicU64, Ordering},
};

/// Locks `mutex`, ignoring poisoning: no user code runs under the queue's
/// lock, so a poisoned lock still guards consistent collections.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
