//! The concurrency shim: loom's types under `--cfg foundation_loom`, std's otherwise.
//!
//! Every atomic and lock in this crate comes from here, so the loom models in
//! `loom_models` check the same code that ships.

#[cfg(foundation_loom)]
pub(crate) use loom::sync::{
    Arc, RwLock, RwLockReadGuard, RwLockWriteGuard,
    atomic::{AtomicU64, Ordering},
};
#[cfg(not(foundation_loom))]
pub(crate) use std::sync::{
    Arc, RwLock, RwLockReadGuard, RwLockWriteGuard,
    atomic::{AtomicU64, Ordering},
};

// The locks below ignore poisoning: no user code runs under them (a key's
// `Hash` and `Eq` aside, which cannot leave a map half-changed), so a
// poisoned lock still guards consistent state.

/// Read-locks `lock`, ignoring poisoning.
#[inline]
pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Write-locks `lock`, ignoring poisoning.
#[inline]
pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
