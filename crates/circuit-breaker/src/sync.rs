//! The breaker's lock and its one atomic, reached through this shim
//! (STYLE.md): loom's types under `--cfg foundation_loom`, std's otherwise.
//!
//! The state machine sits behind a single mutex; no code runs under it but
//! the state machine's own arithmetic. The two protocols of our own are the
//! admission word a closed breaker admits calls from without the lock, and
//! the quiet flag a success reports through without it; `loom_models`
//! checks both against transitions and failures racing them.

#[cfg(foundation_loom)]
pub(crate) use loom::sync::{
    Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicU64, Ordering},
};
#[cfg(not(foundation_loom))]
pub(crate) use std::sync::{
    Mutex, MutexGuard,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

pub(crate) use std::sync::PoisonError;
