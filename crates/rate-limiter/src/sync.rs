//! The concurrency shim: loom's types under `--cfg foundation_loom`, std's otherwise.
//!
//! Every atomic and lock in this crate comes from here, so the loom models in
//! `loom_models` check the same code that ships.

#[cfg(foundation_loom)]
pub(crate) use loom::sync::{
    Arc, RwLock,
    atomic::{AtomicU64, Ordering},
};
#[cfg(not(foundation_loom))]
pub(crate) use std::sync::{
    Arc, RwLock,
    atomic::{AtomicU64, Ordering},
};
