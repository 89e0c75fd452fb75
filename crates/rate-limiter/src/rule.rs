//! The admission rule shared by every limiter: one compare-and-swap loop on
//! one `AtomicU64` per key, for fixed windows and for GCRA.
//!
//! # Why it is exact
//!
//! The whole state of a key is one `u64`, and a request is admitted only by
//! the compare-and-swap that writes the state counting it. A check that loses
//! the race re-reads the state and decides again; there is never a
//! check-then-undo. Each state is also monotone in time (a fixed window's
//! index and GCRA's theoretical arrival time only ever grow), so a thread
//! whose clock reading is slightly behind another's is counted in the later
//! window rather than reopening an earlier one.

use std::time::Duration;

use crate::{
    config::{Algorithm, Config},
    decision::Decision,
    error::ConfigError,
    sync::{AtomicU64, Ordering},
};

/// The tracing target of this crate's events.
pub(crate) const TARGET: &str = "foundation::rate_limiter";

/// A validated configuration, with everything the hot path needs precomputed.
#[derive(Debug)]
pub(crate) struct Rule {
    config: Config,
    limit: u32,
    /// The window, in nanoseconds.
    window: u64,
    /// Fixed window: the state is `window index << count_bits | count`.
    count_bits: u32,
    count_mask: u64,
    /// Fixed window: the bits of the window index kept in the state.
    index_mask: u64,
    /// GCRA: nanoseconds between two requests at the sustained rate,
    /// `⌈window / limit⌉`.
    interval: u64,
    /// GCRA: how far the theoretical arrival time may run ahead of now,
    /// `limit × interval`: room for a burst of exactly `limit`.
    burst_span: u64,
    name: Box<str>,
    denied: DeniedCounter,
    /// `foundation_rate_limiter_{admitted,denied}_total{limiter}`, resolved
    /// once here so a decision pays one atomic add, not a recorder lookup.
    #[cfg(feature = "metrics")]
    metrics: Metrics,
}

#[cfg(feature = "metrics")]
struct Metrics {
    admitted: metrics::Counter,
    denied: metrics::Counter,
}

#[cfg(feature = "metrics")]
impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

#[cfg(feature = "metrics")]
impl Metrics {
    fn new(name: &str) -> Self {
        Self {
            admitted: metrics::counter!("foundation_rate_limiter_admitted_total", "limiter" => name.to_owned()),
            denied: metrics::counter!("foundation_rate_limiter_denied_total", "limiter" => name.to_owned()),
        }
    }
}

/// The denial counter, on its own cache line so that denials do not slow the
/// admitted path's reads of the rule.
#[derive(Debug)]
#[repr(align(128))]
struct DeniedCounter(AtomicU64);

impl Rule {
    pub(crate) fn new(config: Config, name: &str) -> Result<Self, ConfigError> {
        let (limit, window) = config.validate()?;
        let count_bits = u32::BITS - limit.leading_zeros();
        // `window <= i64::MAX` (checked by `validate`), so `interval <=
        // window` and `burst_span <= window + limit - 1 < 2^63 + 2^32`: both
        // exact, no saturation.
        let interval = window.div_ceil(u64::from(limit));
        Ok(Self {
            config,
            limit,
            window,
            count_bits,
            count_mask: (1u64 << count_bits) - 1,
            index_mask: u64::MAX >> count_bits,
            interval,
            burst_span: interval * u64::from(limit),
            name: name.into(),
            denied: DeniedCounter(AtomicU64::new(0)),
            #[cfg(feature = "metrics")]
            metrics: Metrics::new(name),
        })
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn denied(&self) -> u64 {
        self.denied.0.load(Ordering::Relaxed)
    }

    /// The state of a key first seen at `now`: as if it had been idle forever.
    ///
    /// Starting at `now` rather than zero keeps states monotone when a
    /// reclaimed key comes back (see `keyed`).
    pub(crate) fn fresh_state(&self, now: u64) -> u64 {
        match self.config.algorithm() {
            Algorithm::FixedWindow => self.pack(now / self.window, 0),
            Algorithm::Gcra => now,
        }
    }

    /// Whether a key in `state` behaves exactly like a fresh key at `now` and
    /// at every later time, so that dropping it cannot change any decision.
    pub(crate) fn is_idle(&self, state: u64, now: u64) -> bool {
        match self.config.algorithm() {
            Algorithm::FixedWindow => {
                state & self.count_mask == 0
                    || self.ahead_of(state >> self.count_bits, now / self.window) >= self.half()
            }
            Algorithm::Gcra => state <= now,
        }
    }

    /// The denial of `n` requests if `n` is more than the limit: such a
    /// request can never succeed, and is refused before any state is touched.
    #[inline]
    pub(crate) fn refuse_oversized(&self, n: u32) -> Option<Decision> {
        (n > self.limit).then(|| self.deny(n, u64::MAX))
    }

    /// Decides whether `n` requests are admitted at `now`, and counts them if
    /// so, in one compare-and-swap on `state`.
    #[inline]
    pub(crate) fn decide(&self, state: &AtomicU64, now: u64, n: u32) -> Decision {
        if n > self.limit {
            return self.deny(n, u64::MAX);
        }
        match self.config.algorithm() {
            Algorithm::FixedWindow => self.fixed_window(state, now, n),
            Algorithm::Gcra => self.gcra(state, now, n),
        }
    }

    #[inline]
    fn fixed_window(&self, state: &AtomicU64, now: u64, n: u32) -> Decision {
        let mine = now / self.window;
        let mut current = state.load(Ordering::Relaxed);
        loop {
            let ahead = self.ahead_of(current >> self.count_bits, mine);
            // A stored window ahead of ours means another thread read a later
            // clock; we count in its window rather than reopen an older one.
            let (index, count) = if ahead < self.half() {
                (
                    mine.saturating_add(ahead),
                    (current & self.count_mask) as u32,
                )
            } else {
                (mine, 0)
            };
            let Some(remaining) = (self.limit - count).checked_sub(n) else {
                return self.deny(n, self.window_end(index).saturating_sub(now));
            };
            // Only the compare-and-swap sits between the load and the store;
            // the decision's durations are worked out once it has succeeded,
            // which keeps the race window short under contention.
            if n == 0 {
                return self.fixed_allowed(remaining, index, now);
            }
            let next = self.pack(index, count + n);
            match state.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return self.fixed_allowed(remaining, index, now),
                Err(actual) => current = actual,
            }
        }
    }

    /// The admission of a fixed-window request counted in window `index`.
    #[inline]
    fn fixed_allowed(&self, remaining: u32, index: u64, now: u64) -> Decision {
        self.admitted();
        Decision::Allowed {
            remaining,
            reset_after: Duration::from_nanos(self.window_end(index).saturating_sub(now)),
        }
    }

    #[inline]
    fn gcra(&self, state: &AtomicU64, now: u64, n: u32) -> Decision {
        // `n <= limit` (checked by `decide`), so `cost <= burst_span` and
        // neither line below can overflow. `room` is how far the TAT may be
        // ahead of now for `n` more to pass.
        let cost = u64::from(n) * self.interval;
        let room = self.burst_span - cost;
        let mut current = state.load(Ordering::Relaxed);
        loop {
            // Compared piecewise rather than as `max(TAT, now) + cost`: that
            // sum can pass `u64::MAX` (a TAT nearly a window ahead plus a
            // cost of nearly a window), and saturating it admitted every
            // request uncounted.
            let ahead = current.saturating_sub(now);
            if ahead > room {
                return self.deny(n, ahead - room);
            }
            let span = ahead + cost;
            if n == 0 {
                return self.gcra_allowed(span);
            }
            // `span <= burst_span`, so this overflows only for a clock read
            // past about 292 years (see `Config::MAX_WINDOW`). Such a TAT
            // cannot be recorded, so the request is denied, for good.
            let Some(arrival) = now.checked_add(span) else {
                return self.deny(n, u64::MAX);
            };
            match state.compare_exchange_weak(current, arrival, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return self.gcra_allowed(span),
                Err(actual) => current = actual,
            }
        }
    }

    /// The admission of a GCRA request that left the TAT `span` ahead of now.
    #[inline]
    fn gcra_allowed(&self, span: u64) -> Decision {
        self.admitted();
        Decision::Allowed {
            remaining: ((self.burst_span - span) / self.interval) as u32,
            reset_after: Duration::from_nanos(span),
        }
    }

    /// Counts a denial, reports it to tracing, and returns it.
    #[cold]
    #[inline(never)]
    fn deny(&self, n: u32, retry_after: u64) -> Decision {
        self.denied.0.fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        self.metrics.denied.increment(1);
        let retry_after = if retry_after == u64::MAX {
            Duration::MAX
        } else {
            Duration::from_nanos(retry_after)
        };
        tracing::debug!(
            target: TARGET,
            limiter = %self.name,
            requested = n,
            ?retry_after,
            "rate limit denied",
        );
        Decision::Denied { retry_after }
    }

    /// Tells the recorder of an admission (nothing without `metrics`).
    #[inline(always)]
    fn admitted(&self) {
        #[cfg(feature = "metrics")]
        self.metrics.admitted.increment(1);
    }

    /// The clock reading at which window `index` ends.
    fn window_end(&self, index: u64) -> u64 {
        index.saturating_add(1).saturating_mul(self.window)
    }

    fn pack(&self, index: u64, count: u32) -> u64 {
        ((index & self.index_mask) << self.count_bits) | u64::from(count)
    }

    /// How many windows the stored index is ahead of `mine`, modulo the
    /// stored width: at least `half()` means it is behind.
    fn ahead_of(&self, stored: u64, mine: u64) -> u64 {
        stored.wrapping_sub(mine & self.index_mask) & self.index_mask
    }

    fn half(&self) -> u64 {
        (self.index_mask >> 1) + 1
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests;
