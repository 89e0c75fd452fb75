//! The one lock the breaker is built on, reached through this shim (STYLE.md).
//!
//! The breaker's state sits behind a single mutex; no code runs under it but
//! the state machine's own arithmetic. There is no lock-free protocol of our
//! own here, so there is no loom model: the state-machine test checks the
//! transitions instead.

pub(crate) use std::sync::{Mutex, MutexGuard, PoisonError};
