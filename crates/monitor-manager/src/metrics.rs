//! What the monitor registry reports to a [`metrics`](https://docs.rs/metrics)
//! recorder, behind the `metrics` feature; without it these functions are
//! empty and inlined away.
//!
//! | metric | kind | when |
//! | --- | --- | --- |
//! | `foundation_monitors_created_total` | counter | a monitor was made |
//! | `foundation_monitors_cleaned_total` | counter | a monitor was cleaned (DOWN delivered, guard dropped, watcher exited); created minus cleaned is the number active |
//! | `foundation_monitors_suspected_leaks` | gauge | set by each [`stats`](crate::MonitorManager::stats) and [`find_leaks`](crate::MonitorManager::find_leaks) |

#[cfg(feature = "metrics")]
pub(crate) fn created() {
    metrics::counter!("foundation_monitors_created_total").increment(1);
}

#[cfg(feature = "metrics")]
pub(crate) fn cleaned() {
    metrics::counter!("foundation_monitors_cleaned_total").increment(1);
}

#[cfg(feature = "metrics")]
pub(crate) fn suspected_leaks(count: u64) {
    #[expect(clippy::cast_precision_loss, reason = "a count far below 2^52")]
    metrics::gauge!("foundation_monitors_suspected_leaks").set(count as f64);
}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn created() {}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn cleaned() {}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn suspected_leaks(_: u64) {}
