//! The atomics and locks the scheduler uses, in one place (STYLE.md).
//!
//! The scheduler's state belongs to its actor and is touched by one
//! handler at a time; the only state shared with other tasks is each
//! running job's [`Gate`](crate::deliver::Gate): an atomic flag, tokio's
//! `RwLock` and `Notify`. Its one protocol (a close marks the flag, wakes
//! the runs and waits for the write side) rests on tokio's own
//! model-checked primitives, so there is no lock-free code of ours for a
//! loom model to check; the cancel tests drive it from both sides instead.

pub(crate) use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
