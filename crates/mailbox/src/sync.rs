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

/// How to abort an activation's task. (The activation layer itself runs on
/// tokio in every build; loom models drive the mailbox beneath it.)
pub(crate) use tokio::task::AbortHandle;

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
