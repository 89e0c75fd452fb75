//! What supervisors report to a [`metrics`](https://docs.rs/metrics)
//! recorder, behind the `metrics` feature; without it these functions are
//! empty and inlined away.
//!
//! | metric | kind | labels | when |
//! | --- | --- | --- | --- |
//! | `foundation_supervisor_restarts_total` | counter | `child` (the child's id; `dynamic` for a dynamic supervisor's children) | a child was restarted |
//! | `foundation_supervisor_intensity_reached_total` | counter | none | a supervisor gave up: more restarts than its intensity allows |

#[cfg(feature = "metrics")]
pub(crate) fn restarted(child: &str) {
    metrics::counter!("foundation_supervisor_restarts_total", "child" => child.to_owned())
        .increment(1);
}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn restarted(_: &str) {}

#[cfg(feature = "metrics")]
pub(crate) fn intensity_reached() {
    metrics::counter!("foundation_supervisor_intensity_reached_total").increment(1);
}

#[cfg(not(feature = "metrics"))]
#[inline(always)]
pub(crate) fn intensity_reached() {}
