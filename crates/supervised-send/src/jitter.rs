//! The backoff's random jitter: a small seeded generator, so a test that
//! fixes the seed sees the same delays every run.

use crate::sync::{AtomicU64, Ordering};

/// SplitMix64: tiny, fast, and good enough to spread retries apart; not
/// for anything that needs unpredictability.
#[derive(Debug, Clone)]
pub(crate) struct Jitter(u64);

impl Jitter {
    pub(crate) fn seeded(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator for a send whose options fix no seed: each send gets the
    /// next seed of a process-wide sequence, so concurrent sends retrying
    /// after the same failure spread apart.
    pub(crate) fn unseeded() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0x005E_ED0F_F00D);
        Self(NEXT.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        // The top 53 bits make an exact f64 fraction.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
