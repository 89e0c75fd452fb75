//! The sliding windows a closed breaker counts calls over: the last N calls,
//! or the calls of the last span of time in ten buckets.

use crate::config::Window;

/// Calls, failures and slow calls in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) calls: u32,
    pub(crate) failures: u32,
    pub(crate) slow: u32,
}

impl Totals {
    fn add(&mut self, failure: bool, slow: bool) {
        self.calls += 1;
        self.failures += u32::from(failure);
        self.slow += u32::from(slow);
    }

    fn sub(&mut self, other: Totals) {
        self.calls -= other.calls;
        self.failures -= other.failures;
        self.slow -= other.slow;
    }
}

const BUCKETS: usize = 10;

#[derive(Debug)]
pub(crate) enum Sliding {
    /// A ring of the last `outcomes.len()` calls, two bits each; until it
    /// is full, `totals.calls` counts the slots written.
    Count {
        outcomes: Box<[u8]>,
        next: usize,
        totals: Totals,
    },
    /// Ten buckets of `span / 10`; `epochs[i]` is the bucket number that
    /// `buckets[i]` counts.
    Time {
        bucket_nanos: u128,
        buckets: Box<[Totals; BUCKETS]>,
        epochs: Box<[u128; BUCKETS]>,
        totals: Totals,
    },
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

impl Sliding {
    pub(crate) fn new(window: Window) -> Self {
        match window {
            Window::Count(n) => Self::Count {
                outcomes: vec![0; n as usize].into_boxed_slice(),
                next: 0,
                totals: Totals::default(),
            },
            Window::Time(span) => Self::Time {
                bucket_nanos: (span.as_nanos() / BUCKETS as u128).max(1),
                buckets: Box::new([Totals::default(); BUCKETS]),
                epochs: Box::new([0; BUCKETS]),
                totals: Totals::default(),
            },
        }
    }

    /// Counts one call that ended at `now_nanos` (the breaker's clock) and
    /// returns the window's totals.
    #[inline]
    pub(crate) fn record(&mut self, now_nanos: u64, failure: bool, slow: bool) -> Totals {
        match self {
            Self::Count {
                outcomes,
                next,
                totals,
            } => {
                // A slot not yet written holds 0 (no failure, not slow), so
                // replacing it takes nothing off; only `calls` must know
                // whether the ring is full.
                let outcome = (u8::from(failure) * FAILED) | (u8::from(slow) * SLOW);
                let old = std::mem::replace(&mut outcomes[*next], outcome);
                totals.failures = totals.failures + u32::from(failure) - u32::from(old & FAILED);
                totals.slow = totals.slow + u32::from(slow) - u32::from(old >> 1);
                totals.calls += u32::from((totals.calls as usize) < outcomes.len());
                // A branch, not `%`: a division costs more than the rest of the update.
                *next += 1;
                if *next == outcomes.len() {
                    *next = 0;
                }
                *totals
            }
            Self::Time { .. } => {
                let now = u128::from(now_nanos);
                self.expire(now);
                let Self::Time {
                    bucket_nanos,
                    buckets,
                    totals,
                    ..
                } = self
                else {
                    return Totals::default();
                };
                let slot = (now / *bucket_nanos) as usize % BUCKETS;
                buckets[slot].add(failure, slow);
                totals.add(failure, slow);
                *totals
            }
        }
    }

    /// Drops the time window's buckets older than the span ending at `now`
    /// (nanoseconds).
    fn expire(&mut self, now: u128) {
        if let Self::Time {
            bucket_nanos,
            buckets,
            epochs,
            totals,
        } = self
        {
            let epoch = now / *bucket_nanos;
            let slot = epoch as usize % BUCKETS;
            if epochs[slot] != epoch {
                // The slot is reused for a new bucket: everything in it is
                // at least a span old. Older slots that were skipped are
                // cleared too, so a long silence empties the window.
                for (i, bucket) in buckets.iter_mut().enumerate() {
                    if epoch.saturating_sub(epochs[i]) >= BUCKETS as u128 || i == slot {
                        totals.sub(*bucket);
                        *bucket = Totals::default();
                        epochs[i] = if i == slot { epoch } else { epochs[i] };
                    }
                }
            }
        }
    }

    /// A full count window with no failure and no slow call: a success
    /// that is not slow would replace a success with a success.
    pub(crate) fn is_quiet(&self) -> bool {
        match self {
            Self::Count {
                outcomes, totals, ..
            } => {
                totals.calls as usize == outcomes.len() && totals.failures == 0 && totals.slow == 0
            }
            Self::Time { .. } => false,
        }
    }

    pub(crate) fn reset(&mut self) {
        match self {
            Self::Count {
                outcomes,
                next,
                totals,
            } => {
                outcomes.fill(0);
                *next = 0;
                *totals = Totals::default();
            }
            Self::Time {
                buckets,
                epochs,
                totals,
                ..
            } => {
                **buckets = [Totals::default(); BUCKETS];
                **epochs = [0; BUCKETS];
                *totals = Totals::default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_count_window_forgets_the_oldest_call() {
        let mut window = Sliding::new(Window::Count(3));
        let now = 0;
        window.record(now, true, false);
        window.record(now, false, true);
        window.record(now, false, false);
        let totals = window.record(now, false, false);
        assert_eq!(
            totals,
            Totals {
                calls: 3,
                failures: 0,
                slow: 1
            }
        );
    }

    #[test]
    fn a_time_window_forgets_calls_older_than_its_span() {
        let mut window = Sliding::new(Window::Time(Duration::from_secs(10)));
        window.record(500_000_000, true, false);
        let totals = window.record(5_000_000_000, true, false);
        assert_eq!(totals.calls, 2);
        let totals = window.record(10_600_000_000, false, false);
        assert_eq!(
            totals,
            Totals {
                calls: 2,
                failures: 1,
                slow: 0
            }
        );
        let totals = window.record(60_000_000_000, false, false);
        assert_eq!(totals.calls, 1);
    }

    /// The ring keeps no fill count of its own: it relies on unwritten
    /// slots reading as "no failure, not slow". Against a plain list of the
    /// last N outcomes, over every window size up to 6, through wrap-arounds
    /// and resets, it must give the same totals after every call.
    #[test]
    fn a_count_window_counts_exactly_the_last_n_outcomes() {
        let mut rng: u64 = 0x2545_f491_4f6c_dd1d;
        for n in 1..=6u32 {
            let mut window = Sliding::new(Window::Count(n));
            let mut model = std::collections::VecDeque::new();
            for step in 0..500 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                if step % 97 == 96 {
                    window.reset();
                    model.clear();
                    continue;
                }
                let (failure, slow) = (rng & 1 == 1, rng & 2 == 2);
                model.push_back((failure, slow));
                if model.len() > n as usize {
                    model.pop_front();
                }
                let expected = Totals {
                    calls: model.len() as u32,
                    failures: model.iter().filter(|(f, _)| *f).count() as u32,
                    slow: model.iter().filter(|(_, s)| *s).count() as u32,
                };
                assert_eq!(
                    window.record(0, failure, slow),
                    expected,
                    "n = {n}, step {step}"
                );
            }
        }
    }
}
