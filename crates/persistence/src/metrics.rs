//! What persistent actors report to a [`metrics`](https://docs.rs/metrics)
//! recorder, behind the `metrics` feature; without it this is empty and
//! inlined away.
//!
//! | metric | kind | when |
//! | --- | --- | --- |
//! | `foundation_persistence_save_seconds` | histogram (seconds) | each durable-state save, from the write's start to the store's answer |
//! | `foundation_persistence_save_failures_total` | counter | a save the store refused or failed |
//!
//! No label names the actor: keys are per process, and a label per key
//! would grow without bound.

use std::time::Duration;

#[cfg(feature = "metrics")]
pub(crate) fn saved(took: Duration, ok: bool) {
    metrics::histogram!("foundation_persistence_save_seconds").record(took.as_secs_f64());
    if !ok {
        metrics::counter!("foundation_persistence_save_failures_total").increment(1);
    }
}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn saved(_: Duration, _: bool) {}
